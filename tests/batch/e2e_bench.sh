#!/usr/bin/env bash
# End-to-end tests of greenwave-bench with the real greenwave-sim and greenwave-controller
# (ipc:// in a private directory), each a function:
#   sweep      a small sweep (Bayiqi with its escort leaving at 20 s, 600 s runs, 3 strategies x
#              3 seeds, -j 2): runs.csv columns and every summary.json measure in its row, the
#              report's means and paired differences recomputed from runs.csv, the plots; bad
#              command lines refused with status 2
#   resume     the bench killed (SIGKILL) mid-sweep: runs.csv still valid, no child left, and
#              --resume gives the same runs.csv and report as an uninterrupted sweep
#   interrupt  Ctrl-C (SIGINT): status 130, a valid runs.csv and the command that resumes,
#              which then finishes the sweep
#   failing    a broken scenario (exit 2 with the loader's message), a simulation that crashes
#              (SIGSEGV) and one that hangs past --timeout: recorded as failed with reasons and
#              logs, the sweep goes on; --resume --retry-failed redoes only those
#   shard      3 shards run by GNU parallel, then merge: the same runs.csv and report as the
#              unsharded sweep (but wall times); a missing shard is reported as not run
#   docs       the Slurm job-array script of docs/batch.md run locally, its array tasks by
#              hand: merged, the same results as the unsharded sweep
#   inprocess  --in-process (the controller inside each greenwave-sim, parameters as --ctl):
#              the same runs.csv and report as with controller processes, none started;
#              --in-process with --no-controller or --controller-bin refused with status 2
# usage: e2e_bench.sh TEST BIN_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
if [[ $# -ne 4 ]]; then
  echo "usage: $0 TEST BIN_DIR SOURCE_DIR WORK_DIR" >&2
  exit 2
fi
test=$1
bin=$(realpath "$2") src=$(realpath "$3")
rm -rf "$4" && mkdir -p "$4"
work=$(realpath "$4")
cd "$work"
bench=$bin/greenwave-bench
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
# Controllers' ipc sockets go to a short private directory: it names this test's processes.
export TMPDIR
TMPDIR=$(mktemp -d /tmp/gwbt.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$TMPDIR"
}
trap cleanup EXIT
fail() {
  echo "FAIL ($test): $*" >&2
  exit 1
}

# The scenario: Bayiqi with the escort leaving at 20 s, so that a 600 s run holds its trip.
"$py" - "$src/scenarios/bayiqi.json" "$work/bayiqi-early.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["escorts"][0]["depart_s"] = 20
json.dump(d, open(sys.argv[2], "w"), ensure_ascii=False)
EOF
strategies=none,local,corridor two=none,corridor
# A controller slowed by a loaded machine is not lost: only a dead one is (no deadline that a
# slow machine could miss).
ctl=(--sim-timeout-ms 600000)
if [[ ! -x $bin/greenwave-controller ]]; then
  echo "NOTE: greenwave-controller not built: strategy none without a controller only" >&2
  strategies=none,none:tick_ms=500 two=none,none:tick_ms=500
  ctl=(--no-controller)
fi
sweep=(--scenarios bayiqi-early.json --strategies "$strategies" --seeds 1-3 --until 600
  "${ctl[@]}" --progress lines)
n_runs=9

# csv_rows FILE: checks that FILE is a complete CSV whose header starts with the fixed columns
# and whose rows all have the header's length; prints the number of rows.
csv_rows() {
  "$py" - "$1" <<'EOF'
import csv, sys
text = open(sys.argv[1], newline="").read()
assert text.endswith("\n"), "runs.csv does not end with a newline"
rows = list(csv.reader(text.splitlines(True)))
fixed = ["run", "scenario", "strategy", "variant", "params", "seed", "status", "exit_status",
         "reason", "wall_s"]
assert rows[0][:10] == fixed, "header starts %s" % rows[0][:10]
for i, r in enumerate(rows[1:]):
    assert len(r) == len(rows[0]), "row %d: %d fields, header %d" % (i + 2, len(r), len(rows[0]))
print(len(rows) - 1)
EOF
}

# strip_csv FILE: the CSV without its machine-dependent columns (wall times, round trips).
strip_csv() {
  "$py" - "$1" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
keep = [i for i, c in enumerate(rows[0]) if "wall" not in c and "rtt" not in c]
w = csv.writer(sys.stdout, lineterminator="\n")
for r in rows:
    w.writerow([r[i] for i in keep])
EOF
}

# strip_report FILE: report.md without its Runtime section.
strip_report() { sed '/^## Runtime/,$d' "$1"; }

# same_results A B: runs.csv and report.md of two output directories agree but for timings.
same_results() {
  diff <(strip_csv "$1/runs.csv") <(strip_csv "$2/runs.csv") >&2 ||
    fail "runs.csv of $1 and $2 differ"
  diff <(strip_report "$1/report.md") <(strip_report "$2/report.md") >&2 ||
    fail "report.md of $1 and $2 differ"
}

# running PATTERN: is there a process whose command line holds PATTERN? (Bash builtins only,
# so that no helper process of ours carries the pattern; procps need not be installed.)
running() {
  local f a line
  for f in /proc/[0-9]*/cmdline; do
    line=
    while IFS= read -r -d '' a; do line+="$a "; done 2>/dev/null <"$f" || true
    [[ $line == *"$1"* ]] && return 0
  done
  return 1
}

# no_children PATTERN: no process whose command line holds PATTERN (this test's own children,
# named by this test's directories) is left. They die with the bench; we wait for that as long
# as it takes (no deadline that a loaded machine could miss: a child that never dies makes
# CTest's timeout fail the test, with this message printed first).
no_children() {
  local said=0
  while running "$1"; do
    [[ $said -eq 1 ]] || echo "  waiting for processes matching $1 to end" >&2
    said=1
    sleep 0.05
  done
}

# start_fifo OUT ARGS...: starts the bench with stderr into a fifo read on fd 3.
start_fifo() {
  local out=$1
  shift
  rm -f "$work/progress.fifo"
  mkfifo "$work/progress.fifo"
  "$bench" "$@" >"$out.out" 2>"$work/progress.fifo" &
  bench_pid=$!
  pids+=("$bench_pid")
  exec 3<"$work/progress.fifo"
}

# wait_line TEXT: reads progress lines (fd 3) until one contains TEXT (the bench's own
# report that a run has finished: a handshake, not a guess).
wait_line() {
  local line
  while IFS= read -r line <&3; do
    echo "  bench: $line" >&2
    [[ $line == *"$1"* ]] && return 0
  done
  fail "the bench ended before printing '$1'"
}

case $test in
sweep)
  # Into a file first: grep -q leaves at its match, and a --help longer than one stdio buffer
  # would then be written into a closed pipe (SIGPIPE, a failure under pipefail).
  "$bench" --help >help.txt || fail "--help: exit status"
  grep -q -- "--shard I/N" help.txt || fail "--help"
  status=0
  "$bench" "${sweep[@]}" -j 2 --out res --stats >out.txt 2>err.txt || status=$?
  cat err.txt >&2
  [[ $status -eq 0 ]] || fail "exit status $status"
  grep -q "^stats: $n_runs runs in .* runs/min" out.txt || fail "no stats line: $(cat out.txt)"
  [[ $(csv_rows res/runs.csv) -eq $n_runs ]] || fail "runs.csv rows"
  "$py" - res "$strategies" <<'EOF' || fail "runs.csv against summary.json"
import csv, json, math, os, sys
res, strategies = sys.argv[1], sys.argv[2].split(",")
rows = list(csv.DictReader(open(os.path.join(res, "runs.csv"), newline="")))
cols = rows[0].keys()
for c in ["escort.travel_time_s", "escort.arrived", "traffic.mean_delay_s",
          "traffic.during_escort.mean_delay_s", "safety.conflict_rejections", "sim.events"]:
    assert c in cols, "no column " + c
assert [r["run"] for r in rows] == [str(i) for i in range(9)], "rows not in plan order"
labels = list(dict.fromkeys(r["variant"] for r in rows))  # plan order: baseline first
for r in rows:
    assert r["status"] == "ok" and r["exit_status"] == "0" and r["reason"] == "", r
    assert r["scenario"] == "bayiqi-early", r["scenario"]
    slug = r["variant"].replace("[", "_").replace("]", "").replace("=", "-").replace(",", "_")
    d = os.path.join(res, "runs", r["scenario"], slug, r["seed"])
    s = json.load(open(os.path.join(d, "summary.json")))
    assert not os.path.exists(os.path.join(d, "trips.csv")), "trips.csv kept"
    def walk(o, name):
        if isinstance(o, dict):
            for k, v in o.items():
                yield from walk(v, name + "." + k if name else k)
        elif isinstance(o, list):
            for i, v in enumerate(o):
                yield from walk(v, name + "." + str(i))
        elif isinstance(o, bool):
            yield name, 1.0 if o else 0.0
        elif isinstance(o, (int, float)):
            yield name, float(o)
    n = 0
    for name, v in walk(s, ""):
        if name in ("seed",):
            continue
        assert name in r and r[name] != "", "measure %s missing from runs.csv" % name
        assert float(r[name]) == v, "%s: csv %s, summary.json %r" % (name, r[name], v)
        n += 1
    assert n > 40, n
    if "controller" in s and s["controller"]:
        assert s["controller"]["strategy"] == r["strategy"], (s["controller"], r["strategy"])
    assert int(r["escort.arrived"]) == 1, "escort did not arrive in a 600 s run"
print("ok: %d rows match their summary.json" % len(rows))

# The summary table from runs.csv: mean [95 % CI] and the paired difference to the baseline.
T2 = 4.302652729749464  # t(0.975, 2 degrees of freedom)
def stats(x):
    n = len(x); m = sum(x) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in x) / (n - 1))
    return m, m - T2 * sd / math.sqrt(n), m + T2 * sd / math.sqrt(n)
def f(x, ref):
    a = abs(ref)
    s = "%.*f" % (0 if a >= 1000 else 1 if a >= 10 else 2, x + 0.0)
    return s[1:] if s.startswith("-") and set(s[1:]) <= set("0.") else s
report = open(os.path.join(res, "report.md")).read()
tt = {lab: [float(r["escort.travel_time_s"]) for r in rows if r["variant"] == lab] for lab in labels}
base = tt[labels[0]]
m, lo, hi = stats(base)
cell = "| %s | %s [%s, %s] | — |" % (labels[0], f(m, m), f(lo, m), f(hi, m))
assert cell in report, "report lacks " + cell
for lab in labels[1:]:
    m, lo, hi = stats(tt[lab])
    d = [a - b for a, b in zip(tt[lab], base)]
    dm, dlo, dhi = stats(d) if len(set(d)) > 1 else (d[0], d[0], d[0])
    cell = "| %s | %s [%s, %s] | %s%s [%s, %s]%s" % (
        lab, f(m, m), f(lo, m), f(hi, m), "+" if dm > 0 else "", f(dm, dm), f(dlo, dm),
        f(dhi, dm), " *" if dlo > 0 or dhi < 0 else "")
    assert cell in report, "report lacks " + cell
print("ok: summary table matches runs.csv")
EOF
  if command -v gnuplot >/dev/null; then
    for p in escort-time traffic-delay tsd; do
      f=res/plots/bayiqi-early-$p.png
      [[ $(head -c 4 "$f" | od -An -c | tr -d ' ') == '211PNG' ]] || fail "$f is not a PNG"
      grep -q "(plots/bayiqi-early-$p.png)" res/report.md || fail "report.md lacks $f"
    done
    grep -q "^Time-space diagram: corridor, seed [0-9]*: escort" res/report.md ||
      [[ ${#ctl[@]} -gt 0 ]] || fail "no time-space diagram line"
    # The escort's trajectory is in the diagram's data: points after the NaN line.
    awk '/panel 0 escort/ {on = 1; next} on && $1 != "NaN" && NF == 2 {n++} /^$/ {on = 0}
         END {exit n >= 10 ? 0 : 1}' res/plots/bayiqi-early-tsd.dat || fail "no trajectory"
  else
    echo "NOTE: gnuplot not installed (Debian package gnuplot-nox): plots not checked" >&2
    grep -q "^Not drawn: gnuplot was not found on PATH; install it (Debian package gnuplot-nox)" \
      res/report.md || fail "report.md does not say why there are no plots"
  fi
  # Bad command lines: status 2 and a message, nothing run.
  bad() {
    local want=$1 st=0
    shift
    "$bench" "$@" >bad.out 2>bad.err || st=$?
    [[ $st -eq 2 ]] || fail "greenwave-bench $*: status $st, want 2"
    grep -qF -- "$want" bad.err || fail "greenwave-bench $*: stderr lacks '$want': $(cat bad.err)"
  }
  bad "unknown strategy 'warp'" --scenarios bayiqi-early.json --strategies none,warp --seeds 1
  bad "no-such.json" --scenarios no-such.json --strategies none --seeds 1 --out bad1
  bad "--shard" "${sweep[@]}" --shard 4/3 --out bad2
  bad "seeds" --scenarios bayiqi-early.json --strategies none --seeds 3-1
  bad "res/runs.csv exists" "${sweep[@]}" --out res
  bad "unknown option" --frobnicate
  bad "--retry-failed needs --resume" "${sweep[@]}" --retry-failed
  echo "ok: sweep"
  ;;
resume)
  "$bench" "${sweep[@]}" -j 2 --out ref 2>ref.err || fail "reference sweep: $(cat ref.err)"
  start_fifo res "${sweep[@]}" -j 1 --out res
  wait_line "[3/$n_runs]"
  kill -KILL "$bench_pid"
  wait "$bench_pid" 2>/dev/null || true
  exec 3<&-
  no_children "$work/res/"
  no_children "$TMPDIR/"
  rows=$(csv_rows res/runs.csv) || fail "runs.csv invalid after SIGKILL"
  [[ $rows -ge 3 && $rows -lt $n_runs ]] || fail "$rows rows after the kill"
  status=0
  "$bench" "${sweep[@]}" -j 2 --out res --resume >res.out 2>res.err || status=$?
  cat res.err >&2
  [[ $status -eq 0 ]] || fail "resume: exit status $status"
  grep -q "resuming: $rows runs already in runs.csv, $((n_runs - rows)) to run" res.err ||
    fail "resume did not skip the $rows finished runs"
  [[ $(csv_rows res/runs.csv) -eq $n_runs ]] || fail "rows after resume"
  same_results ref res
  # A resumed sweep with nothing left to do only writes the report again.
  "$bench" --resume --out res "${ctl[@]}" --progress lines 2>again.err ||
    fail "resume of a done sweep: $(cat again.err)"
  grep -q "resuming: $n_runs runs already in runs.csv, 0 to run" again.err || fail "again"
  same_results ref res
  echo "ok: resume after SIGKILL at $rows of $n_runs runs"
  ;;
interrupt)
  start_fifo res "${sweep[@]}" -j 2 --out res
  wait_line "[1/$n_runs]"
  # A second bench on the same directory is refused while the first runs.
  status=0
  "$bench" "${sweep[@]}" -j 1 --out res --resume 2>second.err || status=$?
  [[ $status -eq 2 ]] && grep -q "another greenwave-bench is writing to res" second.err ||
    fail "a second bench on res: status $status: $(cat second.err)"
  wait_line "[2/$n_runs]"
  kill -INT "$bench_pid"
  status=0
  cat <&3 >rest.err || true
  wait "$bench_pid" || status=$?
  exec 3<&-
  cat rest.err >&2
  [[ $status -eq 130 ]] || fail "exit status $status after SIGINT, want 130"
  grep -q "^interrupted: " rest.err || fail "no 'interrupted' message"
  cmd=$(sed -n 's/^resume with: //p' rest.err)
  [[ $cmd == *--resume* ]] || fail "no resume command: $cmd"
  no_children "$work/res/"
  no_children "$TMPDIR/"
  rows=$(csv_rows res/runs.csv) || fail "runs.csv invalid after SIGINT"
  [[ $rows -ge 2 && $rows -lt $n_runs ]] || fail "$rows rows after SIGINT"
  status=0
  eval "$cmd" 2>resumed.err || status=$?
  [[ $status -eq 0 ]] || fail "'$cmd': exit status $status: $(cat resumed.err)"
  [[ $(csv_rows res/runs.csv) -eq $n_runs ]] || fail "rows after resume"
  "$py" - res/runs.csv <<'EOF' || fail "duplicate or failed runs"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
keys = [(r["scenario"], r["variant"], r["seed"]) for r in rows]
assert len(set(keys)) == len(keys) == 9 and all(r["status"] == "ok" for r in rows)
EOF
  echo "ok: interrupt at $rows of $n_runs runs, resumed"
  ;;
failing)
  head -c 2000 bayiqi-early.json >broken.json
  status=0
  "$bench" --scenarios bayiqi-early.json,broken.json --strategies "$two" --seeds 1 \
    --until 600 "${ctl[@]}" --progress lines -j 2 --out res 2>res.err || status=$?
  cat res.err >&2
  [[ $status -eq 3 ]] || fail "exit status $status, want 3 (finished, runs failed)"
  "$py" - res <<'EOF' || fail "failed runs not recorded"
import csv, os, sys
rows = list(csv.DictReader(open(os.path.join(sys.argv[1], "runs.csv"), newline="")))
assert len(rows) == 4, len(rows)
for r in rows:
    if r["scenario"] == "broken":
        assert r["status"] == "failed" and r["exit_status"] == "2", r
        assert "broken.json" in r["reason"] and "syntax error" in r["reason"], r["reason"]
        slug = r["variant"].replace("[", "_").replace("]", "").replace("=", "-")
        log = os.path.join(sys.argv[1], "logs", "broken__%s__1.log" % slug)
        assert "syntax error" in open(log).read(), log
    else:
        assert r["status"] == "ok", r
EOF
  grep -q "^### Failed runs" res/report.md || fail "report lists no failed runs"
  grep -q "| none | 1 | 2 | exit status 2: .*broken.json.*syntax error" res/report.md ||
    fail "report lacks the failure's reason"
  # A simulation that crashes (seed 2) and one that hangs (seed 3), through a wrapper. The
  # --timeout must fire on the hang and on nothing else, whatever the machine's speed: the run
  # that succeeds (seed 1) does no simulation work inside the sweep with the timeout. It hands
  # back the outputs of the same run made beforehand without a timeout (a fake process that
  # only copies files), and the hang is a process that never ends by design (it waits on a
  # fifo nobody writes), so the outcome does not depend on how long real work takes.
  "$bench" --scenarios bayiqi-early.json --strategies none --seeds 1 --until 600 "${ctl[@]}" \
    --progress quiet --out good 2>good.err || fail "the good run: $(cat good.err)"
  good=$work/good/runs/bayiqi-early/none/1
  [[ -f $good/summary.json ]] || fail "the good run wrote no summary.json"
  mkfifo "$work/never.fifo"
  cat >flaky-sim <<EOF
#!/bin/sh
for a in "\$@"; do
  [ "\$prev" = --seed ] && seed=\$a
  [ "\$prev" = --out ] && out=\$a
  prev=\$a
done
[ "\$seed" = 2 ] && kill -SEGV \$\$
[ "\$seed" = 3 ] && exec cat "$work/never.fifo"
[ "\$seed" = 1 ] && exec cp -R "$good"/. "\$out"/
exit 1
EOF
  chmod +x flaky-sim
  flaky=(--scenarios bayiqi-early.json --strategies none --seeds 1-3 --until 600 "${ctl[@]}"
    --progress lines -j 3 --out flaky)
  status=0
  "$bench" "${flaky[@]}" --sim ./flaky-sim --timeout 3 2>flaky.err || status=$?
  cat flaky.err >&2
  [[ $status -eq 3 ]] || fail "flaky: exit status $status, want 3"
  "$py" - flaky/runs.csv good/runs.csv <<'EOF' || fail "crash and hang not recorded"
import csv, sys
r = {x["seed"]: x for x in csv.DictReader(open(sys.argv[1], newline=""))}
g = next(csv.DictReader(open(sys.argv[2], newline="")))
assert r["1"]["status"] == "ok", r["1"]
assert r["1"]["escort.travel_time_s"] == g["escort.travel_time_s"], (r["1"], g)
assert r["2"]["status"] == "failed" and r["2"]["exit_status"] == "139", r["2"]
assert r["2"]["reason"].startswith("killed by signal 11"), r["2"]["reason"]
assert r["3"]["status"] == "failed" and r["3"]["reason"] == "timeout after 3 s (killed)", r["3"]
assert float(r["3"]["wall_s"]) >= 3, r["3"]["wall_s"]
EOF
  [[ -f flaky/logs/bayiqi-early__none__2.log && -f flaky/logs/bayiqi-early__none__3.log ]] ||
    fail "logs of failed runs not kept"
  [[ ! -f flaky/logs/bayiqi-early__none__1.log ]] || fail "log of a good run kept"
  status=0
  "$bench" "${flaky[@]}" --resume --retry-failed 2>retry.err || status=$?
  cat retry.err >&2
  [[ $status -eq 0 ]] || fail "retry: exit status $status"
  grep -q "resuming: 1 run already in runs.csv, 2 to run" retry.err || fail "retry redid $(
    grep resuming retry.err)"
  [[ $(csv_rows flaky/runs.csv) -eq 3 ]] || fail "rows after retry"
  echo "ok: failing runs recorded, retried"
  ;;
shard)
  "$bench" "${sweep[@]}" -j 2 --out ref 2>ref.err || fail "reference sweep: $(cat ref.err)"
  if command -v parallel >/dev/null; then
    parallel --will-cite --halt now,fail=1 -j 2 \
      "$bench" "${sweep[@]}" -j 1 --shard {}/3 --out "$work/shard{}" ::: 1 2 3 2>shards.err ||
      fail "parallel: $(cat shards.err)"
  else
    echo "NOTE: GNU parallel not installed (Debian package parallel): shards run one by one" >&2
    for i in 1 2 3; do
      "$bench" "${sweep[@]}" -j 1 --shard $i/3 --out "$work/shard$i" 2>>shards.err ||
        fail "shard $i: $(cat shards.err)"
    done
  fi
  grep -q '"count": 3' shard2/sweep.json || fail "shard2/sweep.json has no shard"
  [[ $(($(csv_rows shard1/runs.csv) + $(csv_rows shard2/runs.csv) + $(csv_rows shard3/runs.csv)))\
    -eq $n_runs ]] || fail "the shards do not add up to the sweep"
  "$bench" merge shard1 shard2 shard3 --out merged --progress lines 2>merge.err ||
    fail "merge: $(cat merge.err)"
  same_results ref merged
  cmp ref/sweep.json merged/sweep.json || fail "merged sweep.json differs"
  [[ -f merged/plots/bayiqi-early-tsd.png ]] || ! command -v gnuplot >/dev/null ||
    fail "merged: no time-space diagram"
  # A shard missing: merged all the same, its runs reported as not run, status 3.
  status=0
  "$bench" merge shard1 shard3 --out partial --progress quiet || status=$?
  [[ $status -eq 3 ]] || fail "partial merge: status $status, want 3"
  grep -q "3 not run" partial/report.md || fail "partial merge: missing runs not reported"
  # Shards of different sweeps are refused.
  "$bench" "${sweep[@]}" --seeds 1-2 -j 2 --shard 1/3 --out other 2>/dev/null || true
  status=0
  "$bench" merge shard1 other --out bad 2>bad.err || status=$?
  [[ $status -eq 2 ]] && grep -q "not the sweep of" bad.err || fail "different sweeps merged"
  # 'report' writes a directory's report again, the same.
  cp merged/report.md merged/report.before
  "$bench" report merged --progress quiet || fail "report"
  diff <(strip_report merged/report.before) <(strip_report merged/report.md) >&2 ||
    fail "report written again differs"
  echo "ok: 3 shards (GNU parallel) merged = unsharded sweep"
  ;;
inprocess)
  [[ -x $bin/greenwave-controller ]] || { echo "greenwave-controller not built: skipped"; exit 77; }
  sw=(--scenarios bayiqi-early.json --strategies none,corridor,corridor:lead_s=30,local:tsp=true
    --seeds 1-2 --until 600 --progress lines -j 2)
  "$bench" "${sw[@]}" "${ctl[@]}" --out procs 2>procs.err || fail "with processes: $(cat procs.err)"
  "$bench" "${sw[@]}" --in-process --out inproc 2>inproc.err || fail "in-process: $(cat inproc.err)"
  same_results procs inproc
  grep -q "listening at" procs.err || fail "with processes: no controller said it listens"
  grep -q "listening at" inproc.err && fail "in-process started a controller: $(cat inproc.err)"
  # the parameters reached the controller: lead 30 changed the corridor runs
  diff -q <(grep ',corridor,corridor,' inproc/runs.csv | cut -d, -f6,11-14) \
    <(grep ',corridor,corridor\[' inproc/runs.csv | cut -d, -f6,11-14) >/dev/null &&
    fail "corridor:lead_s=30 gave the same escort times as corridor"
  for bad in --no-controller "--controller-bin $bin/greenwave-controller"; do
    status=0
    # shellcheck disable=SC2086
    "$bench" "${sw[@]}" --in-process $bad --out bad 2>bad.err || status=$?
    [[ $status -eq 2 ]] && grep -q "in-process runs no controller process" bad.err ||
      fail "--in-process $bad: status $status, $(cat bad.err)"
  done
  echo "ok: in-process sweep = sweep with controller processes"
  ;;
docs)
  # The script is the code block of docs/batch.md from '#!/bin/bash' to its last line.
  awk '/^#!\/bin\/bash$/ {on = 1} on {print} on && /^\[ "\$status" -le 3 \]/ {exit}' \
    "$src/docs/batch.md" >bench.sbatch
  grep -q '^#SBATCH --array=' bench.sbatch && grep -q 'SLURM_ARRAY_TASK_COUNT' bench.sbatch ||
    fail "no Slurm script found in docs/batch.md"
  "$bench" "${sweep[@]}" -j 2 --out ref 2>ref.err || fail "reference sweep: $(cat ref.err)"
  mkdir -p slurm
  for i in 1 2 3; do
    BENCH=$bench SWEEP="${sweep[*]}" OUT=$work/slurm SLURM_ARRAY_TASK_ID=$i \
      SLURM_ARRAY_TASK_COUNT=3 SLURM_CPUS_PER_TASK=1 bash bench.sbatch 2>>slurm.err ||
      fail "array task $i: $(cat slurm.err)"
  done
  # A requeued task (run again) finds its shard done and leaves it as it is.
  BENCH=$bench SWEEP="${sweep[*]}" OUT=$work/slurm SLURM_ARRAY_TASK_ID=2 \
    SLURM_ARRAY_TASK_COUNT=3 SLURM_CPUS_PER_TASK=1 bash bench.sbatch 2>>slurm.err ||
    fail "requeued task: $(cat slurm.err)"
  "$bench" merge slurm/shard-* --out slurm/all --progress quiet || fail "merge"
  same_results ref slurm/all
  echo "ok: the Slurm script of docs/batch.md, 3 array tasks, merged = unsharded sweep"
  ;;
*)
  fail "unknown test $test"
  ;;
esac
