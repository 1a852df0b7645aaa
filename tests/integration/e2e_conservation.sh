#!/usr/bin/env bash
# End to end: the real greenwave-sim on a scenario; every output is written and vehicles are
# conserved (entered = completed + still in the network; created = entered + waiting).
# usage: e2e_conservation.sh GREENWAVE_SIM SCENARIO WORK_DIR
set -euo pipefail
sim=$1 scenario=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
"$sim" "$scenario" --seed 1 --out "$work/out" > "$work/stdout.txt"
for f in trips.csv signals.csv escort.csv summary.json; do
  [ -s "$work/out/$f" ] || { echo "missing or empty output: $f"; exit 1; }
done
grep -q 'escort' "$work/stdout.txt" || { echo "no escort line in the human summary"; cat "$work/stdout.txt"; exit 1; }
python3 - "$work/out" <<'PY'
import csv, json, sys
out = sys.argv[1]
s = json.load(open(f"{out}/summary.json"))
t = s["traffic"]
for key in ("vehicles_completed", "mean_delay_s", "p95_delay_s"):
    assert key in t, key
for key in ("travel_time_s", "free_flow_time_s", "stops"):
    assert key in s["escort"], key
assert "events" in s["sim"] and "wall_s" in s["sim"]
assert t["vehicles_entered"] == t["vehicles_completed"] + t["vehicles_in_network"], t
rows = list(csv.DictReader(open(f"{out}/trips.csv")))
assert len(rows) == t["vehicles_completed"], (len(rows), t["vehicles_completed"])
assert sum(1 for r in rows if r["class"] == "escort") == 1, "the escort's trip is missing"
ids = [int(r["id"]) for r in rows]
assert ids == sorted(ids), "trips.csv not in id order"
assert all(float(r["delay_s"]) >= -0.002 for r in rows), "negative delay"
assert t["vehicles_completed"] > 1000, "suspiciously little traffic"
e = s["escort"]
assert e["arrived"], "escort did not arrive"
assert e["travel_time_s"] >= e["free_flow_time_s"] - 0.002
esc = list(csv.DictReader(open(f"{out}/escort.csv")))
assert len(esc) >= 5, "escort crossed too few stop lines"
for r in esc:
    assert None not in r and None not in r.values(), "escort.csv row and header differ: %r" % r
    assert float(r["delay_s"]) >= float(r["wait_s"]) - 0.002, r
    assert float(r["link_enter_s"]) <= float(r["arrive_s"]) <= float(r["depart_s"]), r
sig = list(csv.DictReader(open(f"{out}/signals.csv")))
assert {r["state"] for r in sig} >= {"green", "yellow", "red"}
print(f"ok: {t['vehicles_completed']} completed, {t['vehicles_in_network']} in network, "
      f"escort {e['travel_time_s']:.1f} s (free flow {e['free_flow_time_s']:.1f} s)")
PY
