#!/usr/bin/env bash
# Runs one fuzz harness for the test suite (tests/fuzz/CMakeLists.txt, docs/fuzzing.md).
#   regress  every file of HARNESS_DIR/seeds and HARNESS_DIR/crashes through the harness once
#            (a libFuzzer binary or the driver.c build: both take the files as arguments)
#   run      a libFuzzer run of RUNS executions with a fixed seed, starting from the seeds and
#            crashes, new inputs going to WORK_DIR (never into the source tree); fails on any
#            crash, sanitizer report, leak or out-of-memory, and keeps the crashing input in
#            WORK_DIR/artifacts/ (copy it to HARNESS_DIR/crashes/ once fixed)
# usage: run-fuzzer.sh regress|run FUZZER HARNESS_DIR WORK_DIR RUNS
set -euo pipefail
mode=$1 fuzzer=$2 dir=$3 work=$4 runs=$5
inputs=()
for d in "$dir/seeds" "$dir/crashes"; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do [ -f "$f" ] && inputs+=("$f"); done
done
[ ${#inputs[@]} -gt 0 ] || { echo "no inputs under $dir"; exit 1; }
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
case $mode in
regress)
  # libFuzzer binaries run each file given and exit; the driver does the same.
  "$fuzzer" "${inputs[@]}" >"$work.regress.log" 2>&1 || { tail -50 "$work.regress.log"; exit 1; }
  echo "ok: ${#inputs[@]} inputs of $dir through $(basename "$fuzzer")"
  ;;
run)
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
  cp "${inputs[@]}" "$work/corpus/"
  status=0
  "$fuzzer" -runs="$runs" -seed=1 -max_len=8192 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work.log" 2>&1 || status=$?
  tail -25 "$work.log"
  [ $status -eq 0 ] || { echo "FAIL: $(basename "$fuzzer") exit status $status (input in $work/artifacts/)"; exit 1; }
  ! grep -qE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:" "$work.log" ||
    { echo "FAIL: sanitizer report"; exit 1; }
  echo "ok: $runs runs of $(basename "$fuzzer"), corpus $(ls "$work/corpus" | wc -l) inputs"
  ;;
*) echo "usage: $0 regress|run FUZZER HARNESS_DIR WORK_DIR RUNS" >&2; exit 2 ;;
esac
