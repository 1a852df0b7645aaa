#!/usr/bin/env bash
# The ATSPM hi-res event log end to end: greenwave-sim --atspm on Bayiqi, on a generated grid
# and on a SUMO network imported with greenwave-import-sumo; each log, read back by
# greenwave-atspm-plots --check-signals, must give exactly the green intervals of the run's
# signals.csv (round trip); the same run twice gives the same bytes; the charts are PNGs; and
# every bad input is refused with exit 2 and the file (and line) named.
# usage: e2e_atspm.sh GEN_GRID GREENWAVE_SIM GREENWAVE_ATSPM_PLOTS GREENWAVE_IMPORT_SUMO
#                     BAYIQI_JSON SUMO_DATA_DIR WORK_DIR
set -euo pipefail
if [[ $# -ne 7 ]]; then
  echo "usage: $0 GEN_GRID GREENWAVE_SIM GREENWAVE_ATSPM_PLOTS GREENWAVE_IMPORT_SUMO BAYIQI SUMO_DIR WORK" >&2
  exit 2
fi
gen=$(realpath "$1") sim=$(realpath "$2") plots=$(realpath "$3") imp=$(realpath "$4")
bayiqi=$(realpath "$5") data=$(realpath "$6")
rm -rf "$7" && mkdir -p "$7"
cd "$7"
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
png() { [[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]]; }

roundtrip() { # NAME SCENARIO UNTIL
  local name=$1 scn=$2 until=$3
  "$sim" "$scn" --seed 2 --until "$until" --quiet --out "$name" --atspm "$name/atspm.csv" ||
    { fail "$name: greenwave-sim --atspm: exit $?"; return; }
  [[ -s "$name/atspm.config.csv" ]] || fail "$name: no atspm.config.csv beside the log"
  head -1 "$name/atspm.csv" | grep -qx 'SignalID,Timestamp,EventCode,EventParam' ||
    fail "$name: header is $(head -1 "$name/atspm.csv")"
  local out
  out=$("$plots" "$name" --check-signals "$name/signals.csv") ||
    { fail "$name: round trip: $out"; return; }
  echo "$name: $out"
  [[ "$out" =~ ^([0-9]+)\ green ]] && ((BASH_REMATCH[1] > 10)) || fail "$name: too few greens: $out"
}

# --- round trips ----------------------------------------------------------------------------
roundtrip bayiqi "$bayiqi" 1800
"$gen" --rows 3 --cols 4 --vph 1500 --pairs 30 --seed 5 -o grid.json
roundtrip grid grid.json 1800
"$imp" "$data/arterial.net.xml" --routes "$data/arterial.rou.xml" --tls "$data/arterial.add.xml" \
  --quiet -o arterial.json 2>/dev/null || fail "import of the SUMO arterial: exit $?"
roundtrip sumo-arterial arterial.json 1800

# Determinism: the same run gives the same log and config, byte for byte.
"$sim" "$bayiqi" --seed 2 --until 1800 --quiet --out bayiqi2 --atspm bayiqi2/atspm.csv
cmp -s bayiqi/atspm.csv bayiqi2/atspm.csv || fail "the same run gave two different logs"
cmp -s bayiqi/atspm.config.csv bayiqi2/atspm.config.csv || fail "two different configs"
# A log's events: green, yellow, clearance, detectors.
for code in 1 8 9 10 11 81 82; do
  grep -q ",$code,[0-9]*$" bayiqi/atspm.csv || fail "bayiqi log has no event code $code"
done

# --- charts ---------------------------------------------------------------------------------
"$plots" --help >help.txt || fail "--help: exit status"
grep -q -- "--check-signals" help.txt || fail "--help does not list --check-signals"
if command -v gnuplot >/dev/null; then
  "$plots" bayiqi --signal A1 --out charts >charts.log 2>&1 || fail "plots: $(cat charts.log)"
  for f in charts/pcd-A1.png charts/split-A1.png; do
    [[ -f $f ]] && png "$f" || fail "$f is not a PNG"
  done
  grep -q '^A1,2,' charts/atspm-summary.csv || fail "no summary row of A1 phase 2"
  "$plots" bayiqi/atspm.csv --signal A1 --out charts2 >/dev/null 2>&1 || fail "plots of LOG.csv"
  cmp -s charts/pcd-A1.dat charts2/pcd-A1.dat || fail "the PCD data differ between two draws"
  # greenwave-bench --atspm: the median run's charts, linked from report.md.
  bench=$(dirname "$sim")/greenwave-bench
  if [[ -x $bench ]]; then
    "$bench" --scenarios grid.json --strategies none --seeds 1-3 --until 600 --no-controller \
      --atspm -j 2 --out bench --progress quiet >bench.log 2>&1 || fail "bench --atspm: $(tail -3 bench.log)"
    grep -q 'ATSPM charts of the same run' bench/report.md || fail "report.md lacks the ATSPM charts"
    ls bench/plots/grid-atspm/split-*.png >/dev/null 2>&1 || fail "no split monitor of the median run"
  fi
else
  echo "gnuplot not installed: charts not drawn"
fi

# --- bad input ------------------------------------------------------------------------------
refused() { # WHAT NEEDLE CMD...
  local what=$1 needle=$2 rc=0
  shift 2
  "$@" >bad.out 2>bad.err || rc=$?
  [[ $rc -eq 2 ]] || { fail "$what: exit $rc, want 2"; return; }
  grep -qF -- "$needle" bad.err || fail "$what: stderr lacks '$needle': $(cat bad.err)"
}
refused "no input" "no run directory" "$plots"
refused "unknown option" "unknown option" "$plots" bayiqi --frobnicate
refused "missing log" "nope.csv" "$plots" nope.csv
printf 'Signal,Time,Code,Param\nA1,2024-01-01T00:00:00.0,1,2\n' >bad-header.csv
refused "bad header" "bad-header.csv:1:" "$plots" bad-header.csv
printf 'SignalID,Timestamp,EventCode,EventParam\nA1,2024-01-01T00:00:00.0,1,2\nA1,yesterday,1,2\n' \
  >bad-time.csv
refused "bad timestamp" "bad-time.csv:3: Timestamp" "$plots" bad-time.csv
printf 'SignalID,Timestamp,EventCode,EventParam\nA1,2024-01-01T00:00:00.0,999,2\n' >bad-code.csv
refused "bad event code" "bad-code.csv:2: EventCode" "$plots" bad-code.csv
printf 'SignalID,Timestamp,EventCode,EventParam\nA1,2024-01-01T00:00:00.0,1\n' >bad-fields.csv
refused "missing field" "bad-fields.csv:2:" "$plots" bad-fields.csv
refused "missing config" "none.config.csv" "$plots" bayiqi/atspm.csv --config none.config.csv
refused "unknown signal" 'no signal "NOPE"' "$plots" bayiqi --signal NOPE --out charts3
rc=0
"$sim" "$bayiqi" --until 60 --quiet --out o --atspm no/such/dir/atspm.csv 2>bad.err || rc=$?
[[ $rc -eq 1 ]] && grep -q "no/such/dir/atspm.csv" bad.err ||
  fail "greenwave-sim --atspm into a missing directory: exit $rc, $(cat bad.err)"
# A log that disagrees with signals.csv is caught.
sed '0,/,1,[0-9]*$/s//,1,99/' grid/atspm.csv >grid/tampered.csv
rc=0
"$plots" grid/tampered.csv --config grid/atspm.config.csv --check-signals grid/signals.csv \
  >/dev/null 2>bad.err || rc=$?
[[ $rc -eq 1 ]] || fail "a tampered log passed the round trip (exit $rc)"

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok: ATSPM log round trips, charts and refusals"
