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
