#!/usr/bin/env bash
# The grid generator's output loads and runs; same arguments give the same file.
# usage: e2e_grid.sh GEN_GRID GREENWAVE_SIM WORK_DIR
set -euo pipefail
gen=$1 sim=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
"$gen" --rows 4 --cols 5 --vph 2000 --pairs 40 --seed 3 -o "$work/g1.json"
"$gen" --rows 4 --cols 5 --vph 2000 --pairs 40 --seed 3 -o "$work/g2.json"
cmp "$work/g1.json" "$work/g2.json" || { echo "gen-grid is not deterministic"; exit 1; }
"$sim" "$work/g1.json" --seed 1 --until 1800 --quiet --out "$work/out"
python3 - "$work/out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["traffic"]
assert t["vehicles_entered"] == t["vehicles_completed"] + t["vehicles_in_network"], t
assert t["vehicles_completed"] > 500, t
print("ok:", t["vehicles_completed"], "completed on a 4x5 grid")
PY
