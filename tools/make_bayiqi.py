#!/usr/bin/env python3
"""Generate scenarios/bayiqi.json: 八一七路 (Bayiqi Road), Fuzhou, evening peak, with a
police-motorbike escort from the 象山隧道 side to 福州儿童医院.

Usage:
    python3 tools/make_bayiqi.py > scenarios/bayiqi.json
    python3 tools/make_bayiqi.py -o scenarios/bayiqi.json
    python3 tools/make_bayiqi.py --check      # also print flows and v/c per movement to stderr
    python3 tools/make_bayiqi.py --two-escorts -o scenarios/bayiqi-two-escorts.json
                                              # the same road with a second, crossing escort

Python 3 standard library only. The output is deterministic: no randomness, no clock, no
machine paths; the same generator always writes the same bytes. docs/bayiqi.md explains every
number below and says which ones are verified and which are assumed.

Geometry: the corridor runs along x = 0 with y = -chainage (y north, so the road heads south);
chainage 0 is 鼓楼前. The 鼓屏路 approach from the assumed tunnel side lies at negative
chainage (north of 鼓楼前). Cross streets leave east (+x) and west (-x) to boundary nodes.
"""

import argparse
import json
import math
import sys

# ---------------------------------------------------------------------------------------------
# Global parameters (see docs/bayiqi.md for the reasoning)

START_TIME = "17:30:00"
DURATION_S = 3600
INTERVAL_S = 900
# Demand profile over the four 15-minute intervals 17:30-18:30: rising to the peak, then easing.
PROFILE = [0.85, 1.00, 0.95, 0.80]
CLASS_MIX = {"car": 0.82, "bus": 0.03, "motorbike": 0.15}
PCE_PER_VEH = sum(share * {"car": 1.0, "bus": 2.0, "motorbike": 0.5}[c]
                  for c, share in CLASS_MIX.items())  # default class pce
MIN_FLOW_VPH = 2.0  # OD flows whose peak is below this are dropped (noted in docs)

FREE_SPEED_KMH = 50.0
SAT_FLOW = 1800.0  # a link's saturation flow applies at its downstream stop line; a junction's
# "sat" entry below overrides it for every approach to that junction (dense CBD, pedestrians)
JAM_SPACING_M = 7.5

CYCLE_S = 150  # one common cycle for the whole coordinated corridor (PM peak)
PROGRESSION_KMH = 40.0  # southbound progression speed for the offsets

ADVANCE_MAIN_M = 70.0
ADVANCE_CROSS_M = 60.0

# Stage-based timing per junction control type.
# 4stage: main through+right, main lefts, cross through+right, cross lefts.
# 2stage: main (through, right, permitted left), cross (all movements).
TIMING = {
    "4stage": {
        "yellow_s": 3,
        "red_clearance_s": 3,
        # group kind -> (min_green_s, max_green_s)
        "green": {"main_T": (15, 90), "main_L": (7, 30), "cross_T": (10, 60), "cross_L": (7, 30)},
    },
    "2stage": {
        "yellow_s": 3,
        "red_clearance_s": 2,
        "green": {"main": (15, 90), "cross": (8, 70)},
    },
}

# Share of the cycle given to the main street's stages (evening peak), by control type.
MAIN_SHARE = {"4stage": 0.52, "2stage": 0.58}
# Pedestrians crossing the main road during the cross-street stage: walk + width / speed.
PED_WALK_S = 7.0
PED_SPEED_MPS = 1.2
LANE_WIDTH_M = 3.5
KERB_EXTRA_M = 8.0  # non-motorized lanes and median, both sides together

SAT_FACTOR_RIGHT = 0.9
SAT_FACTOR_LEFT_PROTECTED = 0.95
SAT_FACTOR_LEFT_PERMITTED = 0.5

# ---------------------------------------------------------------------------------------------
# Network description, north to south.
#
# Each junction: id, name, chainage (m from 鼓楼前, negative = north of it), control
# ("4stage", "2stage", None for unsignalized, "boundary"), optional "sat" (saturation flow of
# every approach, vphpl), "conf" (what is verified, for docs/bayiqi.md) and arms.
# Arm: side "E"/"W" -> (street name, length_m, lanes, production_vph, attraction_vph), the
# productions and attractions being evening-peak hourly flows out of and into the arm.

JUNCTIONS = [
    {"id": "N_TUNNEL", "name": "象山隧道 side (approx.; tunnel location unknown)",
     "ch": -2500, "control": "boundary"},
    {"id": "A1", "name": "鼓屏路 approach junction 1 (assumed)", "ch": -1700, "control": "4stage",
     "conf": "assumed (tunnel location unknown)",
     "arms": {"E": ("approach junction 1 cross street E (assumed)", 300, 2, 510, 510),
              "W": ("approach junction 1 cross street W (assumed)", 300, 2, 510, 510)}},
    {"id": "A2", "name": "鼓屏路 approach junction 2 (assumed)", "ch": -800, "control": "2stage",
     "conf": "assumed (tunnel location unknown)",
     "arms": {"E": ("approach junction 2 cross street E (assumed)", 250, 1, 250, 250),
              "W": ("approach junction 2 cross street W (assumed)", 250, 1, 250, 250)}},
    {"id": "GLQ", "name": "鼓楼前", "ch": 0, "control": "4stage", "sat": 1700.0,
     "conf": "junction [V]; chainage 0 by definition",
     "arms": {"E": ("鼓东路", 400, 2, 660, 570), "W": ("鼓西路", 400, 2, 660, 570)}},
    {"id": "DJK", "name": "东街口", "ch": 900, "control": "4stage", "sat": 1550.0,
     "conf": "junction and cross streets [V]; chainage ~0.9 km [?]",
     "arms": {"E": ("东街", 400, 2, 780, 570), "W": ("杨桥东路", 400, 2, 820, 620)}},
    {"id": "AMR", "name": "澳门路 (unverified)", "ch": 1150, "control": "2stage", "sat": 1700.0,
     "conf": "[?] unverified: existence, side, signal; chainage ~1.1-1.2 km [?]",
     "arms": {"E": ("澳门路 (side assumed)", 250, 1, 250, 250)}},
    {"id": "JBL", "name": "吉庇路 (unverified)", "ch": 1450, "control": "2stage",
     "conf": "[?] unverified: existence, side, signal; chainage ~1.4-1.5 km [?]",
     "arms": {"W": ("吉庇路 (side assumed)", 300, 2, 300, 300)}},
    {"id": "DSL", "name": "道山路", "ch": 1700, "control": "2stage",
     "conf": "junction and west side [V] (metro exit); chainage ~1.7 km [?]",
     "arms": {"W": ("道山路", 250, 1, 210, 210)}},
    {"id": "NMD", "name": "南门兜", "ch": 1850, "control": "4stage", "sat": 1500.0,
     "conf": "junction and cross streets [V]; chainage ~1.8-1.9 km [?]",
     "arms": {"E": ("古田路", 400, 2, 780, 620), "W": ("乌山路", 400, 2, 660, 570)}},
    {"id": "HOSP", "name": "福州儿童医院 frontage (approx.)", "ch": 2250, "control": None,
     "conf": "[?] believed on 八一七中路 just south of 南门兜; chainage ~2.1-2.4 km [?]"},
    {"id": "QZL", "name": "群众路 (茶亭)", "ch": 2700, "control": "2stage",
     "conf": "junction [V] (metro 茶亭); side of 群众路 and chainage ~2.7 km [?]",
     "arms": {"E": ("群众路 (side assumed)", 300, 2, 410, 410)}},
    {"id": "JTL", "name": "津泰路 (unverified)", "ch": 3050, "control": "2stage",
     "conf": "[?] unverified: existence, side, signal; placed between 群众路 and 洋头口",
     "arms": {"E": ("津泰路 (side assumed)", 250, 1, 210, 210)}},
    {"id": "YTK", "name": "洋头口", "ch": 3400, "control": "4stage",
     "conf": "junction and cross streets [V]; which side is which and chainage ~3.4 km [?]",
     "arms": {"E": ("国货路 (side assumed)", 400, 2, 620, 660),
              "W": ("工业路 (side assumed)", 400, 2, 620, 660)}},
    {"id": "XQ", "name": "小桥", "ch": 3950, "control": "4stage",
     "conf": "junction and cross streets [V]; chainage ~3.9-4.0 km [?]",
     "arms": {"E": ("达道路", 400, 2, 570, 620), "W": ("下杭路", 250, 1, 250, 250)}},
    {"id": "DQT", "name": "大桥头", "ch": 4950, "control": "4stage",
     "conf": "junction [V]; cross streets not verified; chainage ~4.8-5.1 km [?]",
     "arms": {"E": ("大桥头 east arm (riverside road, name unverified)", 300, 2, 510, 510),
              "W": ("大桥头 west arm (riverside road, name unverified)", 300, 2, 510, 510)}},
    {"id": "S_BRIDGE", "name": "解放大桥 (south end, boundary)", "ch": 5350, "control": "boundary"},
]

# Main-road ends at the peak: (production, attraction) in vehicles per hour. Evening peak:
# more traffic leaves the centre southward over 解放大桥 than comes in from it.
NORTH_END = (1650, 1310)  # 鼓屏路 from / to the tunnel side
SOUTH_END = (1370, 1430)  # 解放大桥
# A vehicle entering from a cross street at a four-arm junction goes straight across with
# this share; all other trips are distributed by the gravity model with this distance decay.
CROSS_THROUGH_SHARE = 0.45
DECAY_M = 3000.0
FURNESS_ITERATIONS = 30


def section(ch_from, ch_to):
    """(street name, lanes) of the main-road link between two chainages."""
    mid = (ch_from + ch_to) / 2
    if mid < 0:
        return "鼓屏路 (approach, geometry assumed)", 3
    if mid < 1850:
        return "八一七北路", 3
    if mid < 3950:
        return "八一七中路", 3
    if mid < 5115:
        return "八一七南路", 2
    return "解放大桥 (length approx.)", 2


# The escort: from the tunnel-side boundary to the hospital frontage node (end of its route).
ESCORT_START, ESCORT_END = "N_TUNNEL", "HOSP"
ESCORT_DEPART_S = 1200  # 17:50, after 20 minutes of warm-up
ESCORT_SPEED_KMH = 50  # police motorbikes in the Fujian cases: 30-64 km/h on average
ESCORT_YIELD = 0.5

# ---------------------------------------------------------------------------------------------


def arm_node(j, side):
    return "%s_%s" % (j["id"], side)


def link_id(a, b):
    return "%s_%s" % (a, b)


OPPOSITE = {"E": "W", "W": "E"}


class Builder:
    def __init__(self):
        self.nodes = []
        self.links = []
        self.link_by_id = {}
        self.movements = []
        self.signals = []
        self.detectors = []
        self.mov_index = {}  # (node, approach, turn) -> movement dict
        self.capacity = {}  # movement id -> capacity vph at the PM plan

    # -- network -------------------------------------------------------------------------------
    def add_node(self, nid, name, kind, x, y):
        self.nodes.append({"id": nid, "name": name, "kind": kind, "x_m": x, "y_m": y})

    def add_link(self, a, b, name, length, lanes, sat):
        lid = link_id(a, b)
        link = {"id": lid, "name": name, "from": a, "to": b, "length_m": length, "lanes": lanes,
                "free_speed_kmh": FREE_SPEED_KMH, "sat_flow_vphpl": sat,
                "jam_spacing_m": JAM_SPACING_M}
        self.links.append(link)
        self.link_by_id[lid] = link
        return lid

    def build(self):
        js = JUNCTIONS
        for j in js:
            kind = {"boundary": "boundary", None: "unsignalized"}.get(j["control"], "signalized")
            self.add_node(j["id"], j["name"], kind, 0, -j["ch"])
            for side, (sname, length, lanes, _p, _a) in sorted(j.get("arms", {}).items()):
                x = length if side == "E" else -length
                self.add_node(arm_node(j, side), "%s (boundary)" % sname,
                              "boundary", x, -j["ch"])
        # main road links, both directions
        for up, dn in zip(js, js[1:]):
            name, lanes = section(up["ch"], dn["ch"])
            length = dn["ch"] - up["ch"]
            self.add_link(up["id"], dn["id"], name, length, lanes, dn.get("sat", SAT_FLOW))
            self.add_link(dn["id"], up["id"], name, length, lanes, up.get("sat", SAT_FLOW))
        # cross-street arms: in and out
        for j in js:
            for side, (sname, length, lanes, _p, _a) in sorted(j.get("arms", {}).items()):
                self.add_link(arm_node(j, side), j["id"], sname, length, lanes,
                              j.get("sat", SAT_FLOW))
                self.add_link(j["id"], arm_node(j, side), sname, length, lanes, SAT_FLOW)
        for i, j in enumerate(js):
            if j["control"] != "boundary":
                self.add_movements(i, j)

    def build_control(self, mov_flow):
        """Signals (splits from the peak movement flows) and detectors."""
        for j in JUNCTIONS:
            if j["control"] in TIMING:
                self.add_signal(j, mov_flow)
                self.add_detectors(j)

    def approaches(self, i, j):
        """Incoming approaches at junction j: approach code -> (in link, {turn: out link})."""
        js = JUNCTIONS
        north, south = js[i - 1]["id"], js[i + 1]["id"]
        arms = j.get("arms", {})
        me = j["id"]
        out = {"N": link_id(me, north), "S": link_id(me, south)}
        inn = {"N": link_id(north, me), "S": link_id(south, me)}
        for side in arms:
            out[side] = link_id(me, arm_node(j, side))
            inn[side] = link_id(arm_node(j, side), me)
        # heading south, left is east; heading north, left is west; heading east (from W),
        # left is north; heading west (from E), left is south.
        table = {
            "SB": ("N", {"T": "S", "L": "E", "R": "W"}),
            "NB": ("S", {"T": "N", "L": "W", "R": "E"}),
            "EB": ("W", {"T": "E", "L": "N", "R": "S"}),
            "WB": ("E", {"T": "W", "L": "S", "R": "N"}),
        }
        res = {}
        for appr, (src, turns) in table.items():
            if src not in inn:
                continue
            res[appr] = (inn[src], {t: out[d] for t, d in turns.items() if d in out})
        return res

    def add_movements(self, i, j):
        ctl = j["control"]
        appr = self.approaches(i, j)
        turn_word = {"T": "through", "L": "left", "R": "right"}
        opposing = {"SB": "NB", "NB": "SB", "EB": "WB", "WB": "EB"}
        for a in ("SB", "NB", "EB", "WB"):
            if a not in appr:
                continue
            inl, turns = appr[a]
            in_lanes = self.link_by_id[inl]["lanes"]
            for t in ("T", "L", "R"):
                if t not in turns:
                    continue
                mid = "%s.%s.%s" % (j["id"], a, t)
                m = {"id": mid, "from": inl, "to": turns[t], "turn": turn_word[t]}
                if t == "T":
                    lanes = in_lanes
                    if ctl == "4stage" and in_lanes >= 3:
                        lanes -= 1  # one of the approach lanes is the dedicated left lane
                    m["lanes"] = lanes
                    m["sat_factor"] = 1.0
                elif t == "R":
                    m["lanes"] = 1
                    m["sat_factor"] = SAT_FACTOR_RIGHT
                else:
                    m["lanes"] = 1
                    opp = opposing[a]
                    opposed = ctl == "2stage" and opp in appr and "T" in appr[opp][1]
                    m["sat_factor"] = (SAT_FACTOR_LEFT_PERMITTED if opposed
                                       else SAT_FACTOR_LEFT_PROTECTED)
                self.movements.append(m)
                self.mov_index[(j["id"], a, t)] = m

    def add_signal(self, j, mov_flow):
        me = j["id"]
        ctl = j["control"]
        tm = TIMING[ctl]
        movs = {(a, t): m["id"] for (n, a, t), m in self.mov_index.items() if n == me}
        groups, stages, conflicts = [], [], []

        def group(gid, kind, members):
            members = [movs[k] for k in members if k in movs]
            if not members:
                return None
            mn, mx = tm["green"][kind]
            full = "%s.%s" % (me, gid)
            groups.append({"id": full, "movements": members, "min_green_s": mn,
                           "max_green_s": mx, "yellow_s": tm["yellow_s"],
                           "red_clearance_s": tm["red_clearance_s"]})
            return full

        if ctl == "4stage":
            g = {}
            for a, side in (("SB", "main"), ("NB", "main"), ("EB", "cross"), ("WB", "cross")):
                g[a + "T"] = group(a + "T", side + "_T", [(a, "T"), (a, "R")])
            for a, side in (("SB", "main"), ("NB", "main"), ("EB", "cross"), ("WB", "cross")):
                g[a + "L"] = group(a + "L", side + "_L", [(a, "L")])
            stage_sets = [["SBT", "NBT"], ["SBL", "NBL"], ["EBT", "WBT"], ["EBL", "WBL"]]
            main = ["SBT", "NBT", "SBL", "NBL"]
            cross = ["EBT", "WBT", "EBL", "WBL"]
            pairs = [(a, b) for a in main for b in cross]
            pairs += [("SBL", "NBT"), ("NBL", "SBT"), ("EBL", "WBT"), ("WBL", "EBT")]
        else:
            g = {}
            for a, kind in (("SB", "main"), ("NB", "main"), ("EB", "cross"), ("WB", "cross")):
                g[a] = group(a, kind, [(a, "T"), (a, "L"), (a, "R")])
            stage_sets = [["SB", "NB"], ["EB", "WB"]]
            pairs = [(a, b) for a in ("SB", "NB") for b in ("EB", "WB")]
        for a, b in pairs:
            if g.get(a) and g.get(b):
                conflicts.append([g[a], g[b]])
        for k, ss in enumerate(stage_sets):
            members = [g[x] for x in ss if g.get(x)]
            if members:
                stages.append({"id": "%s.S%d" % (me, k + 1), "groups": members})
        if len(stages) != len(stage_sets):
            raise SystemExit("junction %s: empty stage" % me)
        offset = self.offset(j)
        splits = self.splits(j, tm, stages, groups, mov_flow)
        plan = {"id": "%s.PM" % me, "cycle_s": CYCLE_S, "offset_s": offset, "splits_s": splits}
        self.signals.append({"node": me, "groups": groups, "conflicts": conflicts,
                             "stages": stages, "plans": [plan],
                             "schedule": [{"from": "00:00", "plan": plan["id"]}]})
        # capacities at the PM plan: green of the stage a movement's group is in
        inter = tm["yellow_s"] + tm["red_clearance_s"]
        for k, st in enumerate(stages):
            green = splits[k] - inter
            for gid in st["groups"]:
                grp = next(x for x in groups if x["id"] == gid)
                for mid in grp["movements"]:
                    m = next(x for x in self.movements if x["id"] == mid)
                    sat = self.link_by_id[m["from"]]["sat_flow_vphpl"]
                    self.capacity[mid] = sat * m["lanes"] * m["sat_factor"] * green / CYCLE_S

    def flow_ratio(self, mid, mov_flow):
        """Peak flow ratio v/s (pce) of one movement."""
        m = next(x for x in self.movements if x["id"] == mid)
        sat = self.link_by_id[m["from"]]["sat_flow_vphpl"] * m["lanes"] * m["sat_factor"]
        return mov_flow.get(mid, 0.0) * PCE_PER_VEH / sat

    def splits(self, j, tm, stages, groups, mov_flow):
        """Rule-based evening-peak splits: the main street gets MAIN_SHARE of the cycle (its
        stages), the cross street the rest. Within each half, the green left after the
        intergreens is shared in proportion to each stage's critical flow ratio, within the
        groups' min and max greens; the cross-street through stage also gives pedestrians time
        to cross the main road. Integer seconds adding up to the cycle."""
        inter = tm["yellow_s"] + tm["red_clearance_s"]
        gmin, gmax, y = [], [], []
        for st in stages:
            grp = [x for x in groups if x["id"] in st["groups"]]
            gmin.append(max(x["min_green_s"] for x in grp))
            gmax.append(min(x["max_green_s"] for x in grp))
            y.append(max(self.flow_ratio(mid, mov_flow) for x in grp for mid in x["movements"]))
        n_main = len(stages) // 2  # stages: main ones first, then cross ones
        gmin[n_main] = max(gmin[n_main], self.ped_green(j))
        main_total = int(round(CYCLE_S * MAIN_SHARE[j["control"]]))
        n_cross = len(stages) - n_main
        halves = [(range(0, n_main), main_total - inter * n_main),
                  (range(n_main, len(stages)), CYCLE_S - main_total - inter * n_cross)]
        green = [0.0] * len(stages)
        for ks, avail in halves:
            free = list(ks)
            left = float(avail)
            while free:  # proportional share; clamp to [min, max] and redistribute
                ysum = sum(y[k] for k in free) or 1.0
                trial = {k: left * y[k] / ysum for k in free}
                # clamp the stages below their minimum first, then those above their maximum
                clamp = [k for k in free if trial[k] < gmin[k]] or \
                    [k for k in free if trial[k] > gmax[k]]
                if not clamp:
                    for k in free:
                        green[k] = trial[k]
                    break
                for k in clamp:
                    green[k] = min(max(trial[k], gmin[k]), gmax[k])
                    left -= green[k]
                    free.remove(k)
            ints = [int(green[k]) for k in ks]
            rest = avail - sum(ints)
            for i in sorted(range(len(ints)), key=lambda i: (ints[i] - green[ks[i]], i))[:rest]:
                ints[i] += 1
            for i, k in enumerate(ks):
                green[k] = ints[i]
        for k in range(len(stages)):
            if not gmin[k] <= green[k] <= gmax[k]:
                raise SystemExit("%s stage %d: green %s outside [%s, %s]"
                                 % (j["id"], k + 1, green[k], gmin[k], gmax[k]))
        return [int(g) + inter for g in green]

    def ped_green(self, j):
        """Walk plus clearance for pedestrians crossing the main road at junction j."""
        arm = j["id"] + "_"
        lanes = max(lk["lanes"] for lk in self.links
                    if j["id"] in (lk["from"], lk["to"])
                    and not (lk["from"].startswith(arm) or lk["to"].startswith(arm)))
        width = 2 * lanes * LANE_WIDTH_M + KERB_EXTRA_M
        return int(math.ceil(PED_WALK_S + width / PED_SPEED_MPS))

    @staticmethod
    def offset(j):
        """Start of the main-street stage, for southbound progression at PROGRESSION_KMH,
        referenced to the first approach junction."""
        ref = next(x["ch"] for x in JUNCTIONS if x["control"] in TIMING)
        t = (j["ch"] - ref) / (PROGRESSION_KMH / 3.6)
        return int(round(t)) % CYCLE_S

    def add_detectors(self, j):
        me = j["id"]
        for link in self.links:
            if link["to"] != me:
                continue
            main = not link["from"].startswith(me + "_")
            adv = ADVANCE_MAIN_M if main else ADVANCE_CROSS_M
            self.detectors.append({"id": "D.%s.stop" % link["id"], "link": link["id"],
                                   "kind": "stop_line", "distance_m": 0})
            self.detectors.append({"id": "D.%s.adv" % link["id"], "link": link["id"],
                                   "kind": "advance", "distance_m": adv})

    # -- corridors and the escort -----------------------------------------------------------
    def main_links(self, start_id, end_id):
        ids = [j["id"] for j in JUNCTIONS]
        a, b = ids.index(start_id), ids.index(end_id)
        seq = ids[a:b + 1] if a <= b else ids[b:a + 1][::-1]
        return [link_id(x, y) for x, y in zip(seq, seq[1:])]

    # -- demand ------------------------------------------------------------------------------
    def zones(self):
        """Traffic zones: (origin link, destination link, chainage, production, attraction,
        junction id, side) for both main-road ends and every cross-street arm."""
        js = JUNCTIONS
        zs = [(link_id(js[0]["id"], js[1]["id"]), link_id(js[1]["id"], js[0]["id"]),
               js[0]["ch"], NORTH_END[0], NORTH_END[1], js[0]["id"], None),
              (link_id(js[-1]["id"], js[-2]["id"]), link_id(js[-2]["id"], js[-1]["id"]),
               js[-1]["ch"], SOUTH_END[0], SOUTH_END[1], js[-1]["id"], None)]
        for j in js:
            for side, (_n, _l, _lanes, prod, attr) in sorted(j.get("arms", {}).items()):
                zs.append((link_id(arm_node(j, side), j["id"]), link_id(j["id"], arm_node(j, side)),
                           j["ch"], prod, attr, j["id"], side))
        return zs

    def od_matrix(self):
        """Peak-hour OD flows (vph): {(origin link, destination link): vph}. A cross-street
        vehicle at a four-arm junction goes straight across with CROSS_THROUGH_SHARE (of the
        smaller of its production and the opposite arm's attraction). Every
        other trip goes to a zone at another junction or a main-road end: a doubly-constrained
        gravity model, deterrence exp(-distance / DECAY_M), balanced to the productions and
        attractions by Furness iterations (attractions scaled to the same total first)."""
        zs = self.zones()
        od = {}
        prod, attr = {}, {}
        for z in zs:
            prod[z[0]] = float(z[3])
            attr[z[1]] = float(z[4])
        by_junction = {}
        for z in zs:
            by_junction.setdefault(z[5], []).append(z)
        for o in zs:  # straight across the junction: fixed share, outside the gravity model
            if o[6] is None:
                continue
            opp = [z for z in by_junction[o[5]] if z[6] == OPPOSITE[o[6]]]
            if opp:
                v = CROSS_THROUGH_SHARE * min(o[3], opp[0][4])
                od[(o[0], opp[0][1])] = v
                prod[o[0]] -= v
                attr[opp[0][1]] -= v
        scale = sum(prod.values()) / sum(attr.values())
        attr = {k: v * scale for k, v in attr.items()}
        cells = {(o[0], d[1]): math.exp(-abs(d[2] - o[2]) / DECAY_M)
                 for o in zs for d in zs if d[5] != o[5]}
        for _ in range(FURNESS_ITERATIONS):
            row = {}
            for (o, d), v in cells.items():
                row[o] = row.get(o, 0.0) + v
            cells = {(o, d): v * prod[o] / row[o] for (o, d), v in cells.items()}
            col = {}
            for (o, d), v in cells.items():
                col[d] = col.get(d, 0.0) + v
            cells = {(o, d): v * attr[d] / col[d] for (o, d), v in cells.items()}
        for k, v in cells.items():
            od[k] = od.get(k, 0.0) + v
        return od

    def path_movements(self, origin, dest):
        """Movements on the unique path from origin link to destination link."""
        # breadth-first search over links (the network is a comb: paths are unique)
        by_from = {}
        for m in self.movements:
            by_from.setdefault(m["from"], []).append(m)
        prev = {origin: None}
        queue = [origin]
        while queue:
            cur = queue.pop(0)
            if cur == dest:
                break
            for m in by_from.get(cur, []):
                if m["to"] not in prev:
                    prev[m["to"]] = m
                    queue.append(m["to"])
        if dest not in prev:
            raise SystemExit("no path %s -> %s" % (origin, dest))
        path = []
        cur = dest
        while prev[cur] is not None:
            path.append(prev[cur])
            cur = prev[cur]["from"]
        return list(reversed(path))

    def demand(self):
        od = self.od_matrix()
        flows = []
        dropped = 0.0
        mov_flow = {}
        order = {l["id"]: i for i, l in enumerate(self.links)}
        for (o, d) in sorted(od, key=lambda k: (order[k[0]], order[k[1]])):
            v = od[(o, d)]
            if v < MIN_FLOW_VPH:
                dropped += v
                continue
            vph = [round(v * f, 1) for f in PROFILE]
            flows.append({"id": "F%03d" % (len(flows) + 1), "origin": o, "destination": d,
                          "class_mix": dict(CLASS_MIX), "vph": vph})
            for m in self.path_movements(o, d):
                mov_flow[m["id"]] = mov_flow.get(m["id"], 0.0) + v
        self.od_stats = (len(od), len(flows), dropped, sum(od.values()))
        return {"interval_s": INTERVAL_S, "flows": flows}, mov_flow

    def report(self, mov_flow):
        pce = PCE_PER_VEH
        err = sys.stderr
        print("OD pairs %d, flows kept %d, dropped %.1f vph of %.1f" % self.od_stats, file=err)
        print("junction: main-road approach flows (vph) and through share, southbound | northbound",
              file=err)
        for j in JUNCTIONS:
            if j["control"] == "boundary":
                continue
            parts = []
            for a in ("SB", "NB"):
                v = {t: mov_flow.get("%s.%s.%s" % (j["id"], a, t), 0.0) for t in "TLR"}
                tot = sum(v.values())
                parts.append("%5.0f (%2.0f%% through)" % (tot, 100 * v["T"] / tot if tot else 0))
            print("  %-5s %s | %s" % (j["id"], parts[0], parts[1]), file=err)
        print("%-12s %7s %7s %5s" % ("movement", "vph", "cap", "v/c"), file=err)
        for m in self.movements:
            v = mov_flow.get(m["id"], 0.0)
            cap = self.capacity.get(m["id"])
            if cap:
                print("%-12s %7.0f %7.0f %5.2f" % (m["id"], v, cap, v * pce / cap), file=err)
            else:
                print("%-12s %7.0f" % (m["id"], v), file=err)


def markdown_table(sc):
    """The junction table of docs/bayiqi.md, from the generated scenario."""
    sig = {s["node"]: s for s in sc["signals"]}
    rows = ["| # | junction (id) | chainage m | cross streets W / E | stages | splits s "
            "(cycle %d) | offset s | confidence |" % CYCLE_S,
            "|---|---|---|---|---|---|---|---|"]
    k = 0
    for j in JUNCTIONS:
        if j["control"] == "boundary":
            continue
        k += 1
        arms = j.get("arms", {})
        cross = "%s / %s" % (arms["W"][0] if "W" in arms else "—",
                             arms["E"][0] if "E" in arms else "—")
        if j["id"] in sig:
            plan = sig[j["id"]]["plans"][0]
            stages = "4 (main T+R, main L, cross T+R, cross L)" if j["control"] == "4stage" \
                else "2 (main, cross; permitted lefts)"
            splits = "/".join(str(x) for x in plan["splits_s"])
            offset = str(plan["offset_s"])
        else:
            cross, stages, splits, offset = "—", "unsignalized", "—", "—"
        rows.append("| %d | %s (`%s`) | %d | %s | %s | %s | %s | %s |"
                    % (k, j["name"], j["id"], j["ch"], cross, stages, splits, offset, j["conf"]))
    return "\n".join(rows) + "\n"


def description():
    return (
        "八一七路 (Bayiqi Road), Fuzhou: the 5.1 km corridor 鼓楼前 (chainage 0) - 解放大桥, both "
        "directions, evening peak 17:30-18:30, with an assumed 2.5 km 鼓屏路 approach from the "
        "象山隧道 side and a police-motorbike escort (depart 17:50) to the 福州儿童医院 frontage "
        "south of 南门兜. Verified (research doc [V]): the road, its length and sections, the "
        "junctions 鼓楼前, 东街口, 道山路, 南门兜, 群众路, 洋头口, 小桥, 大桥头 and their named "
        "cross streets. Approximate: every chainage (+-150 m; mid values of the research "
        "table), lane counts, cross-street lengths, signal plans (common 150 s cycle, rule-based "
        "splits, southbound progression at 40 km/h), saturation flows (lower at 东街口 and "
        "南门兜), and the whole demand (synthetic gravity OD, not counts). Unverified: the "
        "junctions 澳门路, 吉庇路 and 津泰路 (existence, side, signal), the side of 群众路, "
        "国货路/工业路, 澳门路, 吉庇路 and 津泰路, the 大桥头 cross streets, the hospital "
        "position; the tunnel location is unknown, so N_TUNNEL and the 鼓屏路 junctions A1/A2 "
        "are assumptions. See docs/bayiqi.md.")


def scenario(report=False):
    b = Builder()
    b.build()
    sb = b.main_links("GLQ", "S_BRIDGE")
    nb = b.main_links("S_BRIDGE", "GLQ")
    escort_route = b.main_links(ESCORT_START, ESCORT_END)
    demand, mov_flow = b.demand()
    b.build_control(mov_flow)
    if report:
        b.report(mov_flow)
        length = sum(b.link_by_id[x]["length_m"] for x in escort_route)
        print("escort route %d m, free flow at %d km/h %.0f s"
              % (length, ESCORT_SPEED_KMH, length / (ESCORT_SPEED_KMH / 3.6)), file=sys.stderr)
        for s in b.signals:
            p = s["plans"][0]
            print("plan %-4s offset %3d splits %s" % (s["node"], p["offset_s"], p["splits_s"]),
                  file=sys.stderr)
    return {
        "format": "greenwave-scenario",
        "version": 1,
        "name": "bayiqi",
        "description": description(),
        "start_time": START_TIME,
        "duration_s": DURATION_S,
        "model": {"startup_lost_time_s": 2.0, "min_speed_fraction": 0.1, "stop_wait_s": 1.0},
        "nodes": b.nodes,
        "links": b.links,
        "movements": b.movements,
        "signals": b.signals,
        "corridors": [
            {"id": "bayiqi_sb", "name": "八一七路 southbound (鼓楼前 → 解放大桥)", "links": sb},
            {"id": "bayiqi_nb", "name": "八一七路 northbound (解放大桥 → 鼓楼前)", "links": nb},
            {"id": "escort_route", "name": "escort: 象山隧道 side → 福州儿童医院 (approx.)",
             "links": escort_route},
        ],
        "detectors": b.detectors,
        "demand": demand,
        "escorts": [
            {"id": "escort1", "class": "escort", "route": escort_route,
             "depart_s": ESCORT_DEPART_S, "desired_speed_kmh": ESCORT_SPEED_KMH,
             "yield_factor": ESCORT_YIELD},
        ],
    }


# ---------------------------------------------------------------------------------------------
# Output: compact where it fits on a line, expanded otherwise (stable, diff-friendly).

WIDTH = 160


def dump(value, indent=0):
    flat = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    scalars = isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value)
    if len(flat) + indent <= WIDTH or scalars or not isinstance(value, (dict, list)) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = ["%s%s: %s" % (pad, json.dumps(k, ensure_ascii=False), dump(v, indent + 2))
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + dump(v, indent + 2) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def add_crossing_escort(sc):
    """scenarios/bayiqi-two-escorts.json: escort1 (priority level 14, J2735
    RequestImportanceLevel) as in bayiqi.json, and fire2 (level 12), a fire engine crossing
    八一七路 at 东街口 (DJK) from east to west, timed to reach DJK some 10 s before escort1 would
    under the corridor strategy. Their movements conflict there: the controller serves escort1
    first (higher level, although it arrives later) and tells fire2 so in its SSM."""
    sc["name"] = "bayiqi-two-escorts"
    sc["description"] += " Two escorts: escort1 (level 14) and fire2 (level 12) crossing it at DJK."
    sc["escorts"][0]["priority"] = 14
    sc["escorts"].append({"id": "fire2", "class": "escort", "route": ["DJK_E_DJK", "DJK_DJK_W"],
                          "depart_s": ESCORT_DEPART_S + 222, "desired_speed_kmh": 50,
                          "yield_factor": ESCORT_YIELD, "priority": 12})
    return sc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", help="write here instead of standard output")
    ap.add_argument("--check", action="store_true",
                    help="print OD totals, movement v/c and offsets to standard error")
    ap.add_argument("--markdown", action="store_true",
                    help="write the junction table of docs/bayiqi.md instead of the scenario")
    ap.add_argument("--two-escorts", action="store_true",
                    help="add a second escort that crosses the first one's route at DJK")
    args = ap.parse_args()
    sc = scenario(args.check)
    if args.two_escorts:
        sc = add_crossing_escort(sc)
    text = markdown_table(sc) if args.markdown else dump(sc) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    else:
        sys.stdout.reconfigure(encoding="utf-8", newline="\n")
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
