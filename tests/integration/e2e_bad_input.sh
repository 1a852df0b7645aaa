#!/usr/bin/env bash
# The real greenwave-sim on bad input: each broken scenario of DATA_DIR (bad-*.json) and each
# bad command line is refused with exit status 2 (an unreadable file: 1 or 2), a message on
# stderr naming the file and the place (JSON path or line:col), nothing on stdout, and no output
# directory created. --help exits 0. A control run of DATA_DIR/minimal.json must succeed, so a
# refusal is known to come from the input and not from a broken build.
# usage: e2e_bad_input.sh GREENWAVE_SIM DATA_DIR WORK_DIR
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: $0 GREENWAVE_SIM DATA_DIR WORK_DIR" >&2
  exit 2
fi
rm -rf "$3" && mkdir -p "$3"
sim=$(realpath "$1") data=$(realpath "$2") work=$(realpath "$3")
cd "$work" # the default --out (out) would land here too

failures=0 checks=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run NAME WANT ARGS...: runs the sim with ARGS, keeping NAME.out and NAME.err; WANT is an exit
# status, or "failure" for 1 or 2 (a refusal, not a crash or a missing program).
run() {
  local name=$1 want=$2 status=0
  shift 2
  checks=$((checks + 1))
  "$sim" "$@" >"$work/$name.out" 2>"$work/$name.err" || status=$?
  if [[ $want == failure && $status -ne 1 && $status -ne 2 ]] ||
    [[ $want != failure && $status -ne $want ]]; then
    fail "$name: greenwave-sim $*: exit status $status, want $want"
    sed 's/^/  stderr: /' "$work/$name.err" >&2
  fi
}

# expect NAME STREAM TEXT...: NAME.STREAM (out or err) contains every TEXT, literally.
expect() {
  local name=$1 stream=$2 text
  shift 2
  for text in "$@"; do
    checks=$((checks + 1))
    if ! grep -qF -- "$text" "$work/$name.$stream"; then
      fail "$name: std$stream lacks '$text'"
      sed "s/^/  std$stream: /" "$work/$name.$stream" >&2
    fi
  done
}

# refused NAME: nothing on stdout, no output directory.
refused() {
  local name=$1 dir
  checks=$((checks + 1))
  [[ ! -s $work/$name.out ]] || fail "$name: wrote to stdout: $(head -c 200 "$work/$name.out")"
  for dir in out-bad out; do
    checks=$((checks + 1))
    [[ ! -e $work/$dir ]] || fail "$name: $dir/ exists after a refused run"
  done
}

# bad_file FILE TEXT...: the scenario DATA_DIR/FILE is refused with status 2 and a message
# naming the file and containing every TEXT.
bad_file() {
  local file=$1 name=${1%.json}
  shift
  run "$name" 2 "$data/$file" --out "$work/out-bad"
  expect "$name" err "greenwave-sim: " "$data/$file" "$@"
  refused "$name"
}

# ---- broken scenarios (expectations kept here; test_loader.c checks the same files) ----
bad_file bad-syntax.json "bad-syntax.json:8:5: syntax error"
bad_file bad-dangling.json '$.links[1].from: unknown node "X9"'
bad_file bad-conflict.json '$.signals[0].stages[0]: ' 'conflicting groups "A" and "B"'
bad_file bad-negative-length.json '$.links[0]' 'length_m' 'got -10'

# ---- absurd but well-formed numbers (issue 11): each refused with the JSON path and the
# range, exit 2, never a sanitizer report (under the asan preset, UBSan aborts on overflow) ----
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
# absurd NAME PATH VALUE TEXT...: minimal.json with the number at PATH (a.b[0].c) set to VALUE.
absurd() {
  local name=$1 path=$2 value=$3
  shift 3
  "$py" - "$data/minimal.json" "$work/$name.json" "$path" "$value" <<'EOF'
import json, re, sys
d = json.load(open(sys.argv[1]))
keys = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+", sys.argv[3])]
o = d
for k in keys[:-1]:
    o = o[k]
o[keys[-1]] = json.loads(sys.argv[4])
json.dump(d, open(sys.argv[2], "w"))
EOF
  run "$name" 2 "$work/$name.json" --out "$work/out-bad"
  expect "$name" err "greenwave-sim: " "$work/$name.json: \$.$path: " "$@"
  checks=$((checks + 1))
  ! grep -qE "runtime error|Sanitizer" "$work/$name.err" || fail "$name: sanitizer report"
  refused "$name"
}
absurd speed-tiny 'links[0].free_speed_kmh' 1e-300 "must be in [1, 300], got 1e-300"
absurd link-huge 'links[0].length_m' 1e300 "must be in [0.1, 100000], got 1e+300"
absurd length-5e15 'links[1].length_m' 5e15 "must be in [0.1, 100000], got 5e+15"
absurd split-2p63 'signals[0].plans[0].splits_s[0]' 9.3e15 "must be in (0, 3600], got 9.3e+15"
absurd cycle-huge 'signals[0].plans[0].cycle_s' 1e300 "must be in (0, 3600], got 1e+300"
absurd escort-speed 'escorts[0].desired_speed_kmh' 1e-300 "must be in [1, 300], got 1e-300"
absurd depart-huge 'escorts[0].depart_s' 1e18 "must be in [0, 864000], got 1e+18"
absurd duration-huge 'duration_s' 9.3e15 "must be in (0, 864000], got 9.3e+15"
absurd sat-flow-tiny 'links[0].sat_flow_vphpl' 1e-300 "must be in [100, 4000], got 1e-300"
absurd lanes-huge 'links[0].lanes' 2147483647 "must be an integer in [1, 16], got 2147483647"
absurd yellow-huge 'signals[0].groups[0].yellow_s' 9e15 "must be in (0, 60], got 9e+15"
absurd min-speed-tiny 'model.min_speed_fraction' 1e-300 "must be in [0.01, 1], got 1e-300"
absurd crossing-speed-tiny 'movements[1].crossing_speed_kmh' 1e-300 "must be in [1, 300], got 1e-300"
absurd crossing-long 'movements[1].crossing_length_m' 5e15 "must be in [0, 1000], got 5e+15"

# ---- bad command lines ----
ok="$data/minimal.json"
run no-scenario 2
expect no-scenario err "no scenario"
refused no-scenario

run unknown-option 2 "$ok" --frobnicate --out "$work/out-bad"
expect unknown-option err "unknown option" "--frobnicate"
refused unknown-option

run seed-abc 2 "$ok" --seed abc --out "$work/out-bad"
expect seed-abc err "--seed" "abc"
refused seed-abc

run seed-missing 2 "$ok" --seed
expect seed-missing err "--seed"
refused seed-missing

run until-negative 2 "$ok" --until -5 --out "$work/out-bad"
expect until-negative err "--until" "-5"
refused until-negative

run until-huge 2 "$ok" --until 1e300 --out "$work/out-bad"
expect until-huge err "--until" "(0, 864000]" "1e300"
refused until-huge

run realtime-tiny 2 "$ok" --realtime 1e-300 --out "$work/out-bad"
expect realtime-tiny err "--realtime" "[0.01, 10000]" "1e-300"
refused realtime-tiny

run tick-huge 2 "$ok" --tick-ms 99999999999999999999 --out "$work/out-bad"
expect tick-huge err "--tick-ms"
refused tick-huge

run two-scenarios 2 "$ok" "$ok" --out "$work/out-bad"
expect two-scenarios err "more than one scenario"
refused two-scenarios

missing="$work/no-such-scenario.json"
run missing-file failure "$missing" --out "$work/out-bad"
expect missing-file err "$missing"
refused missing-file

run directory failure "$data" --out "$work/out-bad"
expect directory err "$data"
refused directory

run help 0 --help
expect help out "--seed" "--until" "--out"

# ---- control: the valid fixture runs and writes its outputs ----
run control 0 "$ok" --quiet --out "$work/out-ok"
for f in trips.csv signals.csv escort.csv summary.json; do
  checks=$((checks + 1))
  [[ -f $work/out-ok/$f ]] || fail "control: out-ok/$f missing"
done

if ((failures > 0)); then
  echo "e2e_bad_input: $failures of $checks checks failed" >&2
  exit 1
fi
echo "ok: e2e_bad_input: $checks checks"
