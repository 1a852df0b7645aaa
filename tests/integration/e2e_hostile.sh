#!/usr/bin/env bash
# A controller under a hostile simulator still serves a well-behaved one (issue 11): the
# hostile peer (gw-hostile-peer) sends a tick with 10,000 priority requests, a tick over the
# work budget, a hello whose map is over the signal limit, a map of absurd numbers, garbage,
# and then floods the controller while greenwave-sim runs through it. The simulator's outputs
# must be byte-identical to a run without the hostile peer, every tick answered, and the
# controller's log must name each drop and refusal. No timing: every step waits on a
# handshake or a process, and the simulator's timeouts are far beyond any run.
# usage: e2e_hostile.sh BIN_DIR HOSTILE_PEER GEN_GRID SCENARIO WORK_DIR
set -euo pipefail
bin=$1 hostile=$2 gen=$3 scenario=$4 work=$5
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
sock=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$sock"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
json() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }

# Limits low enough for the attacks, far above what the Bayiqi run needs (13 signals, a few
# hundred work units per tick).
limits=(--limit signals=20 --limit work=100000 --limit requests=1024)
"$gen" --rows 6 --cols 6 --vph 500 --pairs 10 --seed 1 -o "$work/big.json"   # 36 signals

start_controller() { # NAME: binds ipc://$sock/NAME.ipc, waits for its 'listening' line
  "$bin/greenwave-controller" --bind "ipc://$sock/$1.ipc" "${limits[@]}" --log "$work/$1.log" \
    > "$work/$1.out" 2>&1 &
  ctl=$!
  pids+=($ctl)
  # A handshake without a deadline (tests/README.md): as long as the controller lives.
  until grep -q listening "$work/$1.out" 2>/dev/null; do
    kill -0 "$ctl" 2>/dev/null || { cat "$work/$1.out"; fail "controller died"; }
    sleep 0.01
  done
}
stop_controller() { # stops the last one started and waits for its summary
  kill -TERM "$ctl"; wait "$ctl" || fail "controller exit status $?"
}
run_sim() { # ENDPOINT OUT
  "$bin/greenwave-sim" "$scenario" --seed 2 --until 900 --controller "$1" --strategy corridor \
    --timeout-ms 600000 --connect-timeout-ms 600000 --out "$2" --quiet
}

start_controller alone
run_sim "ipc://$sock/alone.ipc" "$work/alone"
stop_controller

start_controller attacked
ep="ipc://$sock/attacked.ipc"
"$hostile" "$ep" "$scenario" "$work/big.json" attacks > "$work/attacks.out" 2>&1 \
  || { cat "$work/attacks.out"; fail "the controller stopped answering the hostile peer"; }
"$hostile" "$ep" "$scenario" "$work/big.json" flood "$work/stop" > "$work/flood.out" 2>&1 &
flood=$!
pids+=($flood)
run_sim "$ep" "$work/attacked"
touch "$work/stop"
wait "$flood" || { cat "$work/flood.out"; fail "the flood lost its handshake"; }
stop_controller

for f in trips.csv signals.csv escort.csv; do
  cmp "$work/alone/$f" "$work/attacked/$f" || fail "$f differs under the hostile peer"
done
[ "$(json "$work/attacked/summary.json" 'd["controller"]["ticks"] == d["controller"]["ticks_sent"] == 899')" = True ] \
  || fail "unanswered ticks under the hostile peer"
[ "$(json "$work/attacked/summary.json" 'd["controller"]["lost_events"]')" = 0 ] || fail "controller lost"
log="$work/attacked.log"
grep -q "dropped: a tick with 10000 priority requests (limit 1024)" "$log" || fail "no drop for 10,000 requests"
grep -q "dropped: a tick of [0-9]* work units (limit 100000)" "$log" || fail "no drop over the work budget"
grep -q "hello: the map has 36 signals (limit 20)" "$log" || fail "big map not refused"
grep -q "refused a malformed message" "$log" || fail "garbage not refused"
grep -q "refused a message of 4 frames" "$log" || fail "four frames not refused"
grep -q "tick from a peer without a session" "$log" || fail "sessionless tick not refused"
dropped=$(sed -n 's/.* \([0-9]*\) dropped over a limit.*/\1/p' "$work/attacked.out")
[ "${dropped:-0}" -ge 3 ] || fail "controller counted ${dropped:-0} dropped sessions"
echo "ok: identical outputs beside a hostile peer; $dropped sessions dropped; $(grep -c refused "$log") refusals logged"
