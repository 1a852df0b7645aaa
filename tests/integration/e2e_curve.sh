#!/usr/bin/env bash
# CURVE authentication over real tcp://127.0.0.1 sockets (issue 11):
#   keygen      greenwave-keygen writes NAME.key (0600) and NAME.pub, refuses to overwrite
#   refusals    --allow-remote without keys, a secret key readable by others, a bad
#               allowlist: exit 2 with a message naming the cause
#   controller  an allowed simulator runs end to end through a CURVE controller, with outputs
#               byte-identical to a plain ipc:// run; a simulator with an unknown key, one
#               without CURVE and one with a wrong server key are refused (logged, counted),
#               get no tick answered, and never open a session in the controller
#   viewer      greenwave-sim's --publish/--listen under CURVE: a listed viewer steps and
#               resumes the run and receives frames; an unknown key and plain peers are
#               refused and none of their requests reaches the simulation (summary.json
#               auth.control_requests counts only the listed viewer's, outputs unchanged)
# No timing: every wait is on a process, a reply or a log line, under a generous deadline.
# usage: e2e_curve.sh BIN_DIR SCENARIO WORK_DIR TEST
set -euo pipefail
bin=$1 scenario=$2 work=$3 test=$4
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
# A rare leak inside libzmq's CURVE engine at exit (the file says which): ASan builds only.
export LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/libzmq-lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
json() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, {'d': d}))" "$@"; }
wait_for() { # [-F] FILE PATTERN: waits (up to 10 minutes) until FILE has a line matching
  local fixed=()  # PATTERN (a regular expression, or with -F a fixed string: keys hold * ? .)
  [ "$1" = -F ] && { fixed=(-F); shift; }
  for _ in $(seq 1 60000); do
    grep -q "${fixed[@]}" -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.01
  done
  fail "$1 never showed '$2'"
}
keygen() { "$bin/greenwave-keygen" "$work/$1" > /dev/null; }
pub() { sed -n 's/^public-key = //p' "$work/$1.pub"; }

case $test in
keygen)
  "$bin/greenwave-keygen" --help >"$work/help.txt" || fail "--help: exit status"
  grep -q "usage: greenwave-keygen" "$work/help.txt" || fail "no --help"
  k=$("$bin/greenwave-keygen" --comment "test key" "$work/a")
  [ "${#k}" = 40 ] || fail "printed key '$k' is not 40 characters"
  [ "$(stat -c %a "$work/a.key")" = 600 ] || fail "secret key mode $(stat -c %a "$work/a.key")"
  [ "$(pub a)" = "$k" ] || fail "a.pub does not hold the printed key"
  grep -q "^secret-key = " "$work/a.key" || fail "no secret key in a.key"
  ! grep -q "secret" <(sed 1d "$work/a.pub") || fail "a.pub holds a secret"
  set +e
  "$bin/greenwave-keygen" "$work/a" 2> "$work/again.err"; rc=$?
  set -e
  [ $rc = 1 ] && grep -q "use --force" "$work/again.err" || fail "overwrite not refused (exit $rc)"
  "$bin/greenwave-keygen" --force "$work/a" > /dev/null || fail "--force refused"
  [ "$(pub a)" != "$k" ] || fail "--force did not make a new key"
  set +e
  "$bin/greenwave-keygen" 2> /dev/null; rc=$?
  set -e
  [ $rc = 2 ] || fail "no NAME: exit $rc"
  echo "ok: keygen"
  ;;
refusals)
  keygen ctl; keygen sim
  pub sim > "$work/allow"
  expect2() { # PATTERN CMD...: CMD must exit 2 with PATTERN on stderr
    local pat=$1; shift
    set +e
    "$@" > "$work/out" 2> "$work/err"; local rc=$?
    set -e
    [ $rc = 2 ] || { cat "$work/err"; fail "$* exited $rc, expected 2"; }
    grep -q -- "$pat" "$work/err" || { cat "$work/err"; fail "$*: no '$pat'"; }
  }
  expect2 "without authentication" "$bin/greenwave-controller" --bind "tcp://0.0.0.0:*" --allow-remote
  expect2 "refusing to listen beyond" "$bin/greenwave-controller" --bind "tcp://0.0.0.0:*"
  expect2 "go together" "$bin/greenwave-controller" --bind "tcp://0.0.0.0:*" --allow-remote --curve-keys "$work/ctl.key"
  expect2 "without authentication is refused" "$bin/greenwave-sim" "$scenario" --publish "tcp://0.0.0.0:*" --allow-remote
  expect2 "refusing to listen beyond" "$bin/greenwave-sim" "$scenario" --listen "tcp://0.0.0.0:*"
  expect2 "needs --curve-keys" "$bin/greenwave-sim" "$scenario" --controller "tcp://192.0.2.1:5555"
  chmod 644 "$work/ctl.key"
  expect2 "too open" "$bin/greenwave-controller" --bind "tcp://127.0.0.1:*" --curve-keys "$work/ctl.key" --curve-allow "$work/allow"
  chmod 600 "$work/ctl.key"
  printf 'public-key = %s\nnot-a-key\n' "$(pub sim)" > "$work/bad-allow"
  expect2 "bad-allow:2: not a 40-character Z85 public key" "$bin/greenwave-controller" --bind "tcp://127.0.0.1:*" --curve-keys "$work/ctl.key" --curve-allow "$work/bad-allow"
  : > "$work/empty-allow"
  expect2 "empty allowlist" "$bin/greenwave-controller" --bind "tcp://127.0.0.1:*" --curve-keys "$work/ctl.key" --curve-allow "$work/empty-allow"
  cp "$work/ctl.pub" "$work/pub-as-key"; chmod 600 "$work/pub-as-key"
  expect2 "a .pub file where a .key is needed" "$bin/greenwave-controller" --bind "tcp://127.0.0.1:*" --curve-keys "$work/pub-as-key" --curve-allow "$work/allow"
  sed 's/^secret-key = ./secret-key = 0/' "$work/sim.key" > "$work/mixed.key"; chmod 600 "$work/mixed.key"
  expect2 "not the one of the secret key" "$bin/greenwave-viz" --connect "tcp://127.0.0.1:1" --curve-keys "$work/mixed.key" --curve-server-key "$work/ctl.pub"
  echo "ok: refusals exit 2 with their cause"
  ;;
controller)
  keygen ctl; keygen sim; keygen stranger; keygen other
  pub sim > "$work/allow"
  "$bin/greenwave-controller" --bind "tcp://127.0.0.1:*" --curve-keys "$work/ctl.key" \
    --curve-allow "$work/allow" --log "$work/ctl.log" > "$work/ctl.out" 2>&1 &
  ctl=$!; pids+=($ctl)
  wait_for "$work/ctl.out" "listening on tcp://127.0.0.1:[0-9]"
  ep=$(sed -n 's/.*listening on \(tcp:[^ ]*\) .*/\1/p' "$work/ctl.out")
  run() { # OUT ARGS...: a 600 s Bayiqi run with the corridor strategy
    local out=$1; shift
    "$bin/greenwave-sim" "$scenario" --seed 4 --until 600 --strategy corridor --out "$work/$out" \
      --log "$work/$out.log" --quiet "$@"
  }
  # The allowed simulator: every tick answered, outputs as over plain ipc://.
  run allowed --controller "$ep" --curve-keys "$work/sim.key" --curve-server-key "$work/ctl.pub" \
    --timeout-ms 600000 --connect-timeout-ms 600000
  [ "$(json "$work/allowed/summary.json" 'd["controller"]["ticks"] == d["controller"]["ticks_sent"] == 599 and d["controller"]["lost_events"] == 0')" = True ] \
    || fail "the allowed simulator was not served"
  # Refused peers: an unknown key, no CURVE at all, the allowed key with a wrong server key.
  # Each waits for its welcome until the handshake is refused (seen on its own socket), then
  # runs on local plans; nothing of theirs is answered.
  run stranger --controller "$ep" --curve-keys "$work/stranger.key" --curve-server-key "$work/ctl.pub" \
    --timeout-ms 100 --connect-timeout-ms 600000
  run plain --controller "$ep" --timeout-ms 100 --connect-timeout-ms 600000
  wait_for "$work/ctl.log" "auth: controller at tcp://127.0.0.1:[0-9]*: refused a"   # the plain peer
  run wrongserver --controller "$ep" --curve-keys "$work/sim.key" --curve-server-key "$work/other.pub" \
    --timeout-ms 100 --connect-timeout-ms 600000
  for r in stranger plain wrongserver; do
    [ "$(json "$work/$r/summary.json" 'd["controller"]["ticks"] == 0 and d["controller"]["handshakes_refused"] >= 1')" = True ] \
      || fail "$r: ticks answered or refusal not counted: $(json "$work/$r/summary.json" 'd["controller"]')"
  done
  grep -q "refused the connection: our key is not allowed there" "$work/stranger.log" || fail "stranger: no reason"
  # Which side sees the mechanism mismatch first is a race; each side logs a refusal.
  grep -q "refused the connection" "$work/plain.log" || fail "plain: no refusal logged"
  wait_for -F "$work/ctl.log" "auth: refused key $(pub stranger) from 127.0.0.1: not in the allowlist"
  wait_for "$work/ctl.log" "auth: controller at tcp://127.0.0.1:[0-9]*: refused a"
  wait_for "$work/ctl.log" "does not decrypt"
  kill -TERM $ctl; wait $ctl || fail "controller exit status $?"
  grep -q "sessions: 1 opened" "$work/ctl.out" || { cat "$work/ctl.out"; fail "a refused peer opened a session"; }
  grep -Eq "CURVE: 1 peers allowed, [1-9][0-9]* refused keys, [1-9][0-9]* refused handshakes" "$work/ctl.out" \
    || { cat "$work/ctl.out"; fail "refusals not counted"; }
  # The same run over plain ipc:// (no CURVE): identical outputs.
  sock=$(mktemp -d)
  "$bin/greenwave-controller" --bind "ipc://$sock/c.ipc" > "$work/plainctl.out" 2>&1 &
  ctl=$!; pids+=($ctl)
  wait_for "$work/plainctl.out" "listening"
  run ipc --controller "ipc://$sock/c.ipc" --timeout-ms 600000 --connect-timeout-ms 600000
  kill -TERM $ctl; wait $ctl || true; rm -rf "$sock"
  for f in trips.csv signals.csv escort.csv; do
    cmp "$work/allowed/$f" "$work/ipc/$f" || fail "$f differs between CURVE tcp and plain ipc"
  done
  echo "ok: allowed peer served (identical to ipc), unknown key / plain / wrong server key refused and counted"
  ;;
viewer)
  keygen sim; keygen viewer; keygen stranger
  pub viewer > "$work/viewers"
  "$bin/greenwave-sim" "$scenario" --seed 5 --until 300 --quiet --out "$work/alone"
  "$bin/greenwave-sim" "$scenario" --seed 5 --until 300 --quiet --out "$work/watched" \
    --publish "tcp://127.0.0.1:*" --listen "tcp://127.0.0.1:*" --start-paused \
    --curve-keys "$work/sim.key" --curve-allow "$work/viewers" --log "$work/sim.log" &
  sim=$!; pids+=($sim)
  wait_for "$work/sim.log" "^listening on tcp"
  pubep=$(sed -n 's/^publishing on //p' "$work/sim.log")
  lisep=$(sed -n 's/^listening on //p' "$work/sim.log")
  "$py" - "$pubep" "$lisep" "$work" "$(pub sim)" > "$work/viewer.out" <<'PY' || { cat "$work/viewer.out"; fail "viewer script"; }
import json, os, sys, time, zmq
pubep, lisep, work, server = sys.argv[1:5]
def keys(name):
    kv = dict(l.strip().split(" = ") for l in open(os.path.join(work, name + ".key")) if " = " in l)
    return kv["public-key"].encode(), kv["secret-key"].encode()
def curve(sock, name):
    sock.curve_publickey, sock.curve_secretkey = keys(name)
    sock.curve_serverkey = server.encode()
ctx = zmq.Context()
req = lambda cmd: json.dumps({"type": "viz-control", "cmd": cmd}).encode()
# Refused peers: an unknown key and plain sockets, each trying to run the paused simulation.
stranger = ctx.socket(zmq.DEALER); curve(stranger, "stranger"); stranger.connect(lisep)
plain = ctx.socket(zmq.DEALER); plain.connect(lisep)
plainsub = ctx.socket(zmq.SUB); plainsub.setsockopt(zmq.SUBSCRIBE, b""); plainsub.connect(pubep)
for s in (stranger, plain):
    for _ in range(3):
        s.send(req("resume"), zmq.NOBLOCK)
log = os.path.join(work, "sim.log")
deadline = time.time() + 600
def logged(pat):
    return pat in open(log).read()
import re
def refused_plain(what):  # either side may see the mechanism mismatch first: any refusal
    return re.search(r"^auth: %s at tcp://[^ ]*: refused a" % what, open(log).read(), re.M)
while not (logged("refused key " + keys("stranger")[0].decode()) and refused_plain("listen")
           and refused_plain("publish")):
    assert time.time() < deadline, "refusals never logged"
    time.sleep(0.01)
# The listed viewer: steps until a frame arrives, then resumes.
sub = ctx.socket(zmq.SUB); curve(sub, "viewer"); sub.setsockopt(zmq.SUBSCRIBE, b""); sub.connect(pubep)
dealer = ctx.socket(zmq.DEALER); curve(dealer, "viewer"); dealer.connect(lisep)
sent = 0
frames = 0
while frames == 0:
    assert sent < 100000, "no frame after many steps"
    dealer.send(req("step")); sent += 1
    assert dealer.poll(600000), "no answer to step"
    ack = json.loads(dealer.recv())
    assert ack["ok"] and ack["paused"], ack
    while sub.poll(0):
        sub.recv_multipart(); frames += 1
dealer.send(req("resume")); sent += 1
assert dealer.poll(600000)
ack = json.loads(dealer.recv())
assert ack["ok"] and not ack["paused"], ack
assert not plainsub.poll(0), "a plain subscriber got a frame"
assert not stranger.poll(0) and not plain.poll(0), "a refused peer got an answer"
print(sent)
PY
  wait $sim || fail "simulation exit status $?"
  sent=$(tail -1 "$work/viewer.out")
  s="$work/watched/summary.json"
  [ "$(json "$s" 'd["auth"]["control_requests"]')" = "$sent" ] \
    || fail "control requests $(json "$s" 'd["auth"]') != the viewer's $sent: a refused peer got through"
  [ "$(json "$s" 'd["auth"]["refused_keys"] >= 1 and d["auth"]["refused_handshakes"] >= 2 and d["auth"]["allowed"] >= 2')" = True ] \
    || fail "refusals not counted: $(json "$s" 'd["auth"]')"
  for f in trips.csv signals.csv escort.csv; do
    cmp "$work/alone/$f" "$work/watched/$f" || fail "$f differs with viewers"
  done
  echo "ok: listed viewer served ($sent requests), unknown key and plain peers refused and counted"
  ;;
*) fail "unknown test $test" ;;
esac
