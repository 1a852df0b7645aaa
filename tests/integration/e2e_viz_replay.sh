#!/usr/bin/env bash
# Recordings end to end: greenwave-sim records the Bayiqi run through the escort's trip; then
# greenwave-viz, headless, draws a still at a given time and the escort route's time-space
# diagram, whose signal bars must be green (red) at the middle of every interval signals.csv
# says the corridor's groups were green (red); bad recordings (truncated, another version, not
# a recording) are refused with exit status 2 and a clear message.
# usage: e2e_viz_replay.sh GREENWAVE_SIM GREENWAVE_VIZ SCENARIO WORK_DIR
set -euo pipefail
sim=$1 viz=$2 scenario=$3 work=$4
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work" && mkdir -p "$work"
rec=$work/bayiqi.gwrec
"$sim" "$scenario" --record "$rec" --frame-ms 500 --until 1900 --out "$work/out" --quiet

"$viz" --replay "$rec" --at 1500 --png "$work/still.png"
python3 "$here/viz/pngcheck.py" notblank "$work/still.png"
"$viz" --replay "$rec" --tsd escort_route --png "$work/tsd.png" --tsd-meta "$work/tsd.json"
python3 "$here/viz/pngcheck.py" notblank "$work/tsd.png"
python3 "$here/viz/pngcheck.py" tsd "$work/tsd.png" "$work/tsd.json" "$work/out/signals.csv"

expect_refusal() { # FILE PATTERN
  local rc=0
  "$viz" --replay "$1" --at 10 --png "$work/bad.png" 2>"$work/err.txt" || rc=$?
  [ "$rc" -eq 2 ] || { echo "$1: exit status $rc, expected 2"; cat "$work/err.txt"; exit 1; }
  grep -q -- "$2" "$work/err.txt" || { echo "$1: message lacks '$2':"; cat "$work/err.txt"; exit 1; }
  echo "refused as expected: $(cat "$work/err.txt")"
}
head -c 100000 "$rec" >"$work/truncated.gwrec"
expect_refusal "$work/truncated.gwrec" "truncated"
{ printf 'GWREC\007\n'; dd if="$rec" bs=1 skip=7 count=1000 2>/dev/null; } >"$work/v7.gwrec"
expect_refusal "$work/v7.gwrec" "recording version 7, this build reads version 1"
printf 'time_s,node\n' >"$work/not.gwrec"
expect_refusal "$work/not.gwrec" "not a greenwave recording"
rc=0; "$viz" --replay "$rec" --at 99999 --png "$work/bad.png" 2>"$work/err.txt" || rc=$?
[ "$rc" -eq 2 ] && grep -q "the recording covers" "$work/err.txt" \
  || { echo "--at outside the recording: status $rc"; cat "$work/err.txt"; exit 1; }
echo "ok: still, diagram against signals.csv, bad recordings refused"
