#!/usr/bin/env bash
# The main job's launcher, `greenwave run` (tools/run-bayiqi): it starts the controller and the
# simulator as processes, runs none and corridor, and prints them side by side. By default they
# talk with event sync and MessagePack; the former protocol (--sync lockstep --encoding json)
# must give the same files, and the green wave must shorten the escort's trip.
# usage: e2e_run.sh GREENWAVE SCENARIO WORK_DIR
set -euo pipefail
gw=$1 scenario=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
"$gw" run "$scenario" --until 2400 --out "$work/event" > "$work/event.out"
"$gw" run "$scenario" --until 2400 --out "$work/lockstep" --sync lockstep --encoding json \
  > "$work/lockstep.out"
for s in none corridor; do
  for f in trips.csv signals.csv escort.csv; do
    cmp "$work/event/$s/$f" "$work/lockstep/$s/$f" || fail "$s: $f differs between event/msgpack and lockstep/json"
  done
  grep -q "link: msgpack, event sync" "$work/event/$s.sim.out" || fail "$s: not event/msgpack by default"
  grep -q "link: json, lockstep sync" "$work/lockstep/$s.sim.out" || fail "$s: --sync lockstep --encoding json not used"
done
row() { grep "^$2" "$1" | awk '{print $(NF-1), $NF}'; }
read -r none corridor < <(row "$work/event.out" "escort travel time")
awk -v a="$none" -v b="$corridor" 'BEGIN { exit !(b < a) }' || fail "escort travel time: corridor $corridor s, none $none s"
read -r tn tc < <(row "$work/event.out" "controller ticks")
read -r ln lc < <(row "$work/lockstep.out" "controller ticks")
[ "$tn" -lt "$ln" ] && [ "$tc" -lt "$lc" ] || fail "event sync ticked as often as lockstep ($tn/$tc vs $ln/$lc)"
set +e
"$gw" run "$scenario" --sync sideways > "$work/bad.out" 2>&1; rc=$?
set -e
[ $rc = 2 ] && grep -q "expected lockstep or event, got 'sideways'" "$work/bad.out" || fail "--sync sideways: exit $rc"
echo "ok: event/msgpack and lockstep/json identical; escort $none -> $corridor s; ticks $tn/$tc vs $ln/$lc"
