#!/usr/bin/env python3
"""Helper of bench/grid-vs-sumo: trip conversion, network check, result records and the table.

Standard library only (xml.etree, json, statistics). Subcommands:

  check-net NET.xml SCENARIO.json
      Checks that the greenwave grid matches SUMO's: same junction ids and positions, fringe
      nodes are boundary nodes, same edge ids with the same ends, and the same turning
      movements (SUMO connections with dir s/l/r against our through/left/right).
  set-trips ROUTES.xml SCENARIO.json OUT.json [--exact-routes]
      Copies SCENARIO.json to OUT.json with demand = {"trips": [...]}: one trip per SUMO vehicle
      (duarouter output, <vehicle><route edges=.../>) or trip (randomTrips output, <trip from to>):
      id, depart_s, origin = first edge, destination = last edge, class car.
  record --model M --run R --time FILE (--sumo-stats FILE | --gw-out DIR)
      Prints one JSON line: wall time and peak RSS from /usr/bin/time -f '%e %M', and the
      model's vehicles completed, vehicle-seconds, mean delay.
  table RESULTS.jsonl [--out PREFIX]
      Medians per model over the runs, printed as a Markdown table (and PREFIX.md/.json).
  combine LABEL=TABLE.json... [--out PREFIX]
      One Markdown table of wall time and peak RSS over several tables (bench/memory: one
      per grid), with each model's ratios to SUMO meso with junction control of its grid.
"""

import argparse
import csv
import json
import os
import statistics
import sys
import xml.etree.ElementTree as ET

TURNS = {"through": "s", "left": "l", "right": "r"}
MODEL_ORDER = ["sumo-micro", "sumo-meso", "sumo-meso-jc", "greenwave", "greenwave-load",
               "greenwave-baseline", "greenwave-baseline-load"]
MODEL_LABEL = {
    "sumo-micro": "SUMO micro",
    "sumo-meso": "SUMO meso (default)",
    "sumo-meso-jc": "SUMO meso --meso-junction-control",
    "greenwave": "greenwave",
    "greenwave-load": "greenwave, loading only (--until 0.001)",
    "greenwave-baseline": "greenwave baseline build",
    "greenwave-baseline-load": "greenwave baseline build, loading only",
}


def fail(msg):
    print("grid_vs_sumo.py: " + msg, file=sys.stderr)
    sys.exit(1)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_net(args):
    net = ET.parse(args.net).getroot()
    scen = load_json(args.scenario)
    junctions = {
        j.get("id"): j for j in net.iter("junction") if j.get("type") != "internal"
    }
    edges = {e.get("id"): e for e in net.iter("edge") if e.get("function") != "internal"}
    conns = {
        (c.get("from"), c.get("to"), c.get("dir"))
        for c in net.iter("connection")
        if not c.get("from").startswith(":")
    }
    nodes = {n["id"]: n for n in scen["nodes"]}
    links = {l["id"]: l for l in scen["links"]}
    moves = {(m["from"], m["to"], TURNS[m["turn"]]) for m in scen.get("movements", [])}
    errors = []
    if set(junctions) != set(nodes):
        errors.append("node ids differ: %s" % sorted(set(junctions) ^ set(nodes))[:10])
    for jid, j in junctions.items():
        n = nodes.get(jid)
        if n is None:
            continue
        if abs(n["x_m"] - float(j.get("x"))) > 0.01 or abs(n["y_m"] - float(j.get("y"))) > 0.01:
            errors.append("node %s at (%g, %g), SUMO at (%s, %s)"
                          % (jid, n["x_m"], n["y_m"], j.get("x"), j.get("y")))
        if (j.get("type") == "dead_end") != (n["kind"] == "boundary"):
            errors.append("node %s is %s, SUMO %s" % (jid, n["kind"], j.get("type")))
    if set(edges) != set(links):
        errors.append("link ids differ: %s" % sorted(set(edges) ^ set(links))[:10])
    for eid, e in edges.items():
        l = links.get(eid)
        if l is not None and (l["from"], l["to"]) != (e.get("from"), e.get("to")):
            errors.append("link %s ends differ" % eid)
    if conns != moves:
        errors.append("movements differ: %s" % sorted(conns ^ moves)[:10])
    if errors:
        fail("%s and %s do not match:\n  %s" % (args.net, args.scenario, "\n  ".join(errors)))
    print("check-net: %d nodes, %d links, %d movements match SUMO"
          % (len(nodes), len(links), len(moves)))


def read_sumo_trips(path):
    """Yields (id, depart_s, from_edge, to_edge, edges or None) from a route or trip file,
    in file order."""
    for _, el in ET.iterparse(path, events=("end",)):
        if el.tag == "vehicle":
            route = el.find("route")
            if route is None:
                fail("%s: vehicle %s has no inline <route>" % (path, el.get("id")))
            route_edges = route.get("edges").split()
            yield (el.get("id"), float(el.get("depart")), route_edges[0], route_edges[-1],
                   route_edges)
            el.clear()
        elif el.tag == "trip":
            yield el.get("id"), float(el.get("depart")), el.get("from"), el.get("to"), None
            el.clear()


def set_trips(args):
    scen = load_json(args.scenario)
    link_ids = {l["id"] for l in scen["links"]}
    trips = []
    for vid, depart, origin, dest, edges in read_sumo_trips(args.routes):
        for edge in edges or (origin, dest):
            if edge not in link_ids:
                fail("%s: vehicle %s: edge %s is not a link of %s"
                     % (args.routes, vid, edge, args.scenario))
        trip = {"id": vid, "depart_s": depart, "origin": origin, "destination": dest,
                "class": "car"}
        if edges and args.exact_routes:
            trip["route"] = edges  # duarouter's route, so both simulators drive the same paths
        trips.append(trip)
    if not trips:
        fail("%s: no vehicle or trip" % args.routes)
    scen["demand"] = {"trips": trips}
    scen["description"] = (scen.get("description", "") + " Demand replaced by the %d trips of "
                           "SUMO's %s%s."
                           % (len(trips), os.path.basename(args.routes),
                              ", with duarouter's routes" if args.exact_routes else
                              " (origin = first edge, destination = last edge)"))
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(scen, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("set-trips: %d trips, departures %.2f..%.2f s"
          % (len(trips), trips[0]["depart_s"], trips[-1]["depart_s"]))


def read_time(path):
    """Wall seconds and peak RSS MB from a `/usr/bin/time -f '%e %M' -o FILE` file."""
    with open(path) as f:
        lines = [ln for ln in f.read().splitlines() if ln.strip()]
    # GNU time prepends "Command exited with non-zero status N" when the command fails.
    wall, rss_kb = lines[-1].split()
    return float(wall), int(rss_kb) / 1024.0


def sumo_record(stats_path):
    root = ET.parse(stats_path).getroot()
    trip = root.find("vehicleTripStatistics")
    veh = root.find("vehicles")
    tele = root.find("teleports")
    if trip is None or veh is None:
        fail("%s: no vehicleTripStatistics (did the run finish?)" % stats_path)
    return {
        "vehicles_loaded": int(veh.get("loaded")),
        "vehicles_completed": int(trip.get("count")),
        "vehicle_seconds": float(trip.get("totalTravelTime")),
        "mean_delay_s": float(trip.get("timeLoss")),
        "mean_depart_delay_s": float(trip.get("departDelay")),
        "mean_travel_time_s": float(trip.get("duration")),
        "teleports": int(tele.get("total")) if tele is not None else None,
    }


def gw_record(out_dir):
    summary = load_json(os.path.join(out_dir, "summary.json"))
    sim = summary.get("sim", {})
    traffic = summary.get("traffic", {})
    rec = {
        "vehicles_completed": traffic.get("vehicles_completed"),
        "mean_delay_s": traffic.get("mean_delay_s"),
        "p95_delay_s": traffic.get("p95_delay_s"),
        "events": sim.get("events"),
        "sim_wall_s": sim.get("wall_s"),
        "vehicle_seconds": traffic.get("vehicle_seconds"),
    }
    if rec["vehicle_seconds"] is None:
        total, n = 0.0, 0
        with open(os.path.join(out_dir, "trips.csv"), newline="") as f:
            for row in csv.DictReader(f):
                if row.get("travel_time_s"):
                    total += float(row["travel_time_s"])
                    n += 1
        rec["vehicle_seconds"] = total
        rec["vehicle_seconds_from"] = "trips.csv (%d trips)" % n
    if rec["vehicles_completed"] and rec["vehicle_seconds"]:
        rec["mean_travel_time_s"] = rec["vehicle_seconds"] / rec["vehicles_completed"]
    return rec


def record(args):
    wall, rss = read_time(args.time)
    rec = {"model": args.model, "run": args.run, "wall_s": wall, "rss_mb": rss}
    if args.sumo_stats:
        rec.update(sumo_record(args.sumo_stats))
    else:
        rec.update(gw_record(args.gw_out))
    print(json.dumps(rec, sort_keys=True))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def table(args):
    runs = {}
    with open(args.results) as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                runs.setdefault(rec["model"], []).append(rec)
    rows = {}
    for model, recs in runs.items():
        row = {"model": model, "runs": len(recs)}
        for key in ("wall_s", "rss_mb", "vehicles_completed", "vehicle_seconds", "mean_delay_s",
                    "mean_depart_delay_s", "p95_delay_s", "teleports", "events", "sim_wall_s",
                    "mean_travel_time_s"):
            row[key] = median([r.get(key) for r in recs])
        row["wall_s_all"] = [r["wall_s"] for r in recs]
        if row["vehicle_seconds"] and row["wall_s"]:
            row["veh_s_per_wall_s"] = row["vehicle_seconds"] / row["wall_s"]
        rows[model] = row

    def ratio(model, ref, key="wall_s"):
        if model in rows and ref in rows and rows[ref][key]:
            return rows[model][key] / rows[ref][key]
        return None

    head = ("| model | vehicles completed | wall s | peak RSS MB | vehicle-s per wall s | "
            "mean delay (time loss) s | wall / meso-jc | wall / meso default | RSS / meso-jc |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    ordered = [m for m in MODEL_ORDER if m in rows] + sorted(set(rows) - set(MODEL_ORDER))
    for m in ordered:
        r = rows[m]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            MODEL_LABEL.get(m, m), fmt(r["vehicles_completed"], ",.0f"), fmt(r["wall_s"], ".2f"),
            fmt(r["rss_mb"], ".0f"), fmt(r.get("veh_s_per_wall_s"), ",.0f"),
            fmt(r["mean_delay_s"], ".1f"), fmt(ratio(m, "sumo-meso-jc"), ".2f"),
            fmt(ratio(m, "sumo-meso"), ".2f"), fmt(ratio(m, "sumo-meso-jc", "rss_mb"), ".2f")))
    notes = ["", "Medians of %s run(s) per model; wall s and peak RSS from /usr/bin/time "
             "(loading included)." % ", ".join("%s %d" % (m, rows[m]["runs"]) for m in ordered)]
    for m in ordered:
        r = rows[m]
        extra = ["wall s of each run: %s" % ", ".join("%.2f" % w for w in r["wall_s_all"])]
        if r.get("mean_depart_delay_s") is not None:
            extra.append("mean depart delay %.2f s (not in time loss)" % r["mean_depart_delay_s"])
        if r.get("teleports") is not None:
            extra.append("teleports %d" % r["teleports"])
        if r.get("mean_travel_time_s") is not None:
            extra.append("mean travel time %.1f s" % r["mean_travel_time_s"])
        if r.get("p95_delay_s") is not None:
            extra.append("p95 delay %.1f s" % r["p95_delay_s"])
        if r.get("events") is not None:
            extra.append("%d events" % r["events"])
        if r.get("sim_wall_s") is not None:
            extra.append("sim.wall_s %.2f" % r["sim_wall_s"])
        notes.append("- %s: %s." % (MODEL_LABEL.get(m, m), "; ".join(extra)))
    text = "\n".join(lines + notes) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out + ".md", "w", encoding="utf-8") as f:
            f.write(text)
        with open(args.out + ".json", "w", encoding="utf-8") as f:
            json.dump([rows[m] for m in ordered], f, indent=1, sort_keys=True)
            f.write("\n")


def combine(args):
    lines = ["| grid | model | runs | wall s | peak RSS MB | wall / meso-jc | RSS / meso-jc |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for spec in args.tables:
        label, _, path = spec.partition("=")
        if not path:
            fail("combine: expected LABEL=TABLE.json, got %r" % spec)
        rows = {r["model"]: r for r in load_json(path)}
        ref = rows.get("sumo-meso-jc")
        ordered = [m for m in MODEL_ORDER if m in rows] + sorted(set(rows) - set(MODEL_ORDER))
        for m in ordered:
            r = rows[m]

            def ratio(key):
                if ref and ref.get(key) and r.get(key) is not None:
                    return r[key] / ref[key]
                return None
            lines.append("| %s | %s | %d | %s | %s | %s | %s |" % (
                label, MODEL_LABEL.get(m, m), r["runs"], fmt(r["wall_s"], ".2f"),
                fmt(r["rss_mb"], ".0f"), fmt(ratio("wall_s"), ".2f"),
                fmt(ratio("rss_mb"), ".2f")))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out + ".md", "w", encoding="utf-8") as f:
            f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check-net")
    c.add_argument("net")
    c.add_argument("scenario")
    c.set_defaults(func=check_net)
    c = sub.add_parser("set-trips")
    c.add_argument("routes")
    c.add_argument("scenario")
    c.add_argument("out")
    c.add_argument("--exact-routes", action="store_true",
                   help="give each trip duarouter's route (bigger file: more load time and "
                        "memory; by default greenwave routes origin to destination itself)")
    c.set_defaults(func=set_trips)
    c = sub.add_parser("record")
    c.add_argument("--model", required=True)
    c.add_argument("--run", type=int, required=True)
    c.add_argument("--time", required=True)
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--sumo-stats")
    g.add_argument("--gw-out")
    c.set_defaults(func=record)
    c = sub.add_parser("table")
    c.add_argument("results")
    c.add_argument("--out")
    c.set_defaults(func=table)
    c = sub.add_parser("combine")
    c.add_argument("tables", nargs="+")
    c.add_argument("--out")
    c.set_defaults(func=combine)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
