#!/usr/bin/env bash
# The live path end to end: greenwave-sim publishes the Bayiqi run (real-time pace) on an ipc://
# PUB socket and listens for control requests; greenwave-viz subscribes in a real window under
# Xvfb, asks the simulator to pause, writes a screenshot of its window and leaves: both counted
# from the simulator's answer to the pause (--after-ack), not from the start, so a slow start on
# a loaded machine changes nothing. Checks: the viz exits 0, the simulator acknowledged the
# pause, the screenshot is not blank, and the simulator is still running (a viewer never stops
# it).
# usage: e2e_viz.sh GREENWAVE_SIM GREENWAVE_VIZ SCENARIO WORK_DIR
# Exit 77 (skipped) when Xvfb is not installed (Debian: xvfb).
set -euo pipefail
sim=$1 viz=$2 scenario=$3 work=$4
here=$(cd "$(dirname "$0")/.." && pwd)
command -v Xvfb >/dev/null || { echo "skipped: Xvfb not installed (apt-get install xvfb)"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# A free display number: the first whose lock file does not exist.
disp=
for n in $(seq 90 140); do
  [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] || { disp=$n; break; }
done
[ -n "$disp" ] || { echo "no free X display number"; exit 1; }
Xvfb ":$disp" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
# Ready when its socket exists (no deadline: we wait as long as Xvfb lives).
until [ -e "/tmp/.X11-unix/X$disp" ]; do
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "Xvfb did not start"; cat "$work/xvfb.log"; exit 1; }
  sleep 0.05
done

pub="ipc://$work/pub.sock" ctl="ipc://$work/ctl.sock"
"$sim" "$scenario" --publish "$pub" --listen "$ctl" --realtime 30 --frame-ms 500 \
  --out "$work/out" --quiet >"$work/sim.log" 2>&1 &
simpid=$!
pids+=($simpid)

# ASan builds: X11 and SDL's video driver keep some allocations to the end of the process.
export LSAN_OPTIONS="suppressions=$here/viz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
DISPLAY=":$disp" SDL_VIDEODRIVER=x11 "$viz" --connect "$pub" --control "$ctl" --request pause \
  --after-ack --screenshot-after 0.5 "$work/live.png" --quit-after 1 >"$work/viz.log" 2>&1 \
  || { echo "greenwave-viz failed:"; cat "$work/viz.log"; exit 1; }
cat "$work/viz.log"
grep -q "simulator: paused" "$work/viz.log" \
  || { echo "no acknowledgement of the pause request"; exit 1; }
python3 "$here/viz/pngcheck.py" notblank "$work/live.png"
kill -0 "$simpid" 2>/dev/null || { echo "the simulator stopped"; cat "$work/sim.log"; exit 1; }
echo "ok: live view under Xvfb, screenshot $work/live.png"
