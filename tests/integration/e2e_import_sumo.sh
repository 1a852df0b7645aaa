#!/usr/bin/env bash
# greenwave-import-sumo end to end: the fixtures of DATA_DIR (tests/data/sumo, made with
# netgenerate/netconvert) are imported and run by greenwave-sim; the arterial with its routes,
# programs and detectors must finish every vehicle it created, and importing twice must give
# the same bytes. Then every refusal of the real program: malformed XML, an edge in a route that
# is not in the net, a connection to a missing lane, a traffic light without a program, a
# missing file, bad options: exit status 2, "file:line: reason" on stderr, no output file.
# usage: e2e_import_sumo.sh GREENWAVE_IMPORT_SUMO GREENWAVE_SIM DATA_DIR WORK_DIR
set -euo pipefail
if [[ $# -ne 4 ]]; then
  echo "usage: $0 GREENWAVE_IMPORT_SUMO GREENWAVE_SIM DATA_DIR WORK_DIR" >&2
  exit 2
fi
imp=$(realpath "$1") sim=$(realpath "$2") data=$(realpath "$3")
rm -rf "$4" && mkdir -p "$4"
work=$(realpath "$4")
cd "$work"
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# --- conversions that must work ----------------------------------------------------------
"$imp" --help >"$work/help.txt" || fail "--help: exit status"
grep -q -- "--routes" "$work/help.txt" || fail "--help does not list --routes"
"$imp" "$data/arterial.net.xml" --routes "$data/arterial.rou.xml" --tls "$data/arterial.add.xml" \
  -o arterial.json 2>arterial.err || fail "arterial import: exit $?"
grep -q "3 signals, 2 detectors, 96 trips, 1 flows, 1 escorts" arterial.err ||
  fail "arterial summary: $(head -1 arterial.err)"
grep -q "not mapped exactly" arterial.err || fail "arterial: no list of what was not mapped"
"$imp" "$data/arterial.net.xml" --routes "$data/arterial.rou.xml" --tls "$data/arterial.add.xml" \
  --quiet >arterial2.json
cmp -s arterial.json arterial2.json || fail "importing twice gives different scenarios"
"$sim" arterial.json --seed 3 --out out-arterial >sim.log 2>&1 || fail "greenwave-sim on the import: exit $?"
python3 - out-arterial <<'PY' || fail "arterial run: see above"
import json, sys, csv
s = json.load(open(sys.argv[1] + "/summary.json"))
t = s["traffic"]
rows = list(csv.DictReader(open(sys.argv[1] + "/trips.csv")))
ok = True
if t["vehicles_completed"] != len(rows) or len(rows) < 97:  # 96 trips + Poisson flow + escort
    print("completed %d, trips.csv %d" % (t["vehicles_completed"], len(rows))); ok = False
if not s["escort"]["arrived"]:
    print("escort did not arrive"); ok = False
ids = {r["source"] for r in rows}
for want in ("v0", "v1", "t0", "east.59", "west.29", "buses.2", "amb0"):
    if want not in ids:
        print("vehicle %s missing from trips.csv" % want); ok = False
sys.exit(0 if ok else 1)
PY
for n in grid roundabout; do
  "$imp" "$data/$n.net.xml" --duration 600 -o $n.json 2>$n.err || fail "$n import: exit $?"
  "$sim" $n.json --out out-$n >>sim.log 2>&1 || fail "greenwave-sim on $n: exit $?"
done
grep -q "roundabouts are rings of unsignalized nodes" roundabout.err || fail "roundabout: not noted"

# --- refusals ----------------------------------------------------------------------------
# refuse NAME WANT_TEXT ARGS...: exit 2, stderr contains WANT_TEXT, no output file written.
refuse() {
  local name=$1 want=$2 status=0
  shift 2
  "$imp" "$@" -o "$name.json" >"$name.out" 2>"$name.err" || status=$?
  [[ $status -eq 2 ]] || fail "$name: exit status $status, want 2 ($(head -c 300 "$name.err"))"
  grep -qF -- "$want" "$name.err" || fail "$name: stderr lacks '$want': $(head -c 300 "$name.err")"
  [[ ! -e $name.json ]] || fail "$name: wrote an output file"
}
net=$data/arterial.net.xml
# Malformed XML: a tag cut short on line 3.
printf '<?xml version="1.0"?>\n<net version="1.9">\n    <edge id="x" from="a" to="b" <lane/>\n</net>\n' \
  >bad-xml.net.xml
refuse bad-xml "bad-xml.net.xml:3: XML error" bad-xml.net.xml
# A route through an edge the net does not have.
sed 's/edges="left0A0 A0B0 B0C0 C0right0"/edges="left0A0 A0B0 NOPE C0right0"/' \
  "$data/arterial.rou.xml" >bad-edge.rou.xml
line=$(grep -n NOPE bad-edge.rou.xml | head -1 | cut -d: -f1)
refuse bad-edge "bad-edge.rou.xml:$line: route \"eastbound\": route edge \"NOPE\" is not in the network" \
  "$net" --routes bad-edge.rou.xml
# A connection to lane 7 of a 2-lane edge.
line=$(grep -n '<connection from="A0B0" to="B0C0" fromLane="0"' "$net" | head -1 | cut -d: -f1)
sed "${line}s/toLane=\"0\"/toLane=\"7\"/" "$net" >bad-lane.net.xml
refuse bad-lane "bad-lane.net.xml:$line: connection to lane 7 of edge \"B0C0\"" bad-lane.net.xml
# The program of traffic light B0 removed.
awk '/<tlLogic id="B0"/ {skip=1} !skip {print} /<\/tlLogic>/ {skip=0}' "$net" >no-tl.net.xml
refuse no-tl "traffic light \"B0\" has no program" no-tl.net.xml
grep -qE 'no-tl.net.xml:[0-9]+: junction "B0"' no-tl.err || fail "no-tl: no file:line"
line=$(grep -n 'lane id=":B0_0_0"' "$net" | head -1 | cut -d: -f1)
sed "${line}s/speed=\"[0-9.]*\"/speed=\"0\"/" "$net" >bad-internal.net.xml
refuse bad-internal "bad-internal.net.xml:$line: internal lane \":B0_0_0\": length must be >= 0 and speed > 0" \
  bad-internal.net.xml
refuse no-file "missing.net.xml: cannot open" missing.net.xml
refuse bad-option "unknown option" "$net" --frobnicate
refuse bad-duration "--duration must be" "$net" --duration -5
refuse no-net "missing NET.net.xml"

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "e2e_import_sumo: ok"
