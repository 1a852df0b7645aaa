/*
 * sim/sim.c - the event loop and the mesoscopic traffic model.
 *
 * Events (sim/event_queue.h) carry a type and two integers:
 *   EV_FLOW     a = flow       the next Poisson arrival of an OD flow
 *   EV_TRIP     a = trip       the next listed trip(s) depart (trips are sorted by time)
 *   EV_ESCORT   a = escort     an escort departs
 *   EV_LINK_END a = vehicle    a vehicle reaches the stop line (or the end) of its link
 *   EV_DISCHARGE a = movement  the front vehicle of a movement's queue may cross
 *   EV_SIGNAL   a = signal, b = generation   a signal's next timed transition
 *
 * Model invariants:
 *   - link occupancy (pce) = vehicles travelling on it + vehicles queued at its stop line;
 *     a vehicle enters a link only if occupancy + its pce <= storage, or the link is empty;
 *   - a movement discharges only while its signal group is green (or it has no signal), one
 *     vehicle per saturation headway x pce, the first of a standing queue start-up lost time
 *     after the green starts; at most one EV_DISCHARGE per movement is pending;
 *   - no passing on a lane: each link keeps, per lane, when its last vehicle reaches the end;
 *     an entering vehicle takes the lane where that is earliest and arrives no earlier (an
 *     escort loses only 1 - yield_factor of that hold); a vehicle leaving a stop pays the
 *     stop's acceleration loss (and any braking loss its wait did not absorb) on the next link;
 *   - a movement whose next link is full is 'blocked' and is woken when that link frees room
 *     (spillback); vehicles waiting to enter the network wait outside it, behind the
 *     movements feeding the same link;
 *   - signal transitions never cut yellow or red clearance: a stage's new groups turn green
 *     only when every ending group has shown yellow and red clearance (sim/signal_control.c).
 */
#include "sim/sim.h"

#include "sim/sim_internal.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- vehicles ---------------------------------------------------------------------- */

static int32_t vehicle_alloc(sim_t *sim) {
    if (sim->free_vehicle < 0) {
        int32_t cap = sim->vehicle_cap ? sim->vehicle_cap * 2 : 1024;
        sim__vehicle_t *nv = realloc(sim->vehicles, (size_t)cap * sizeof *nv);
        if (nv == NULL)
            return -1;
        sim->vehicles = nv;
        for (int32_t i = cap - 1; i >= sim->vehicle_cap; i--) {
            sim->vehicles[i].alive = 0;
            sim->vehicles[i].next = sim->free_vehicle;
            sim->free_vehicle = i;
        }
        sim->vehicle_cap = cap;
    }
    int32_t v = sim->free_vehicle;
    sim->free_vehicle = sim->vehicles[v].next;
    memset(&sim->vehicles[v], 0, sizeof sim->vehicles[v]);
    sim->vehicles[v].alive = 1;
    sim->vehicles[v].next = -1;
    return v;
}

static void vehicle_free(sim_t *sim, int32_t v) {
    sim->vehicles[v].alive = 0;
    sim->vehicles[v].next = sim->free_vehicle;
    sim->free_vehicle = v;
}

static inline int32_t pce_milli(double pce) {
    return (int32_t)lround(pce * 1000.0);
}

/* ---- links ------------------------------------------------------------------------- */

static inline int link_has_room(const sim_t *sim, int32_t l, int32_t pce) {
    const sim__link_state_t *ls = &sim->links[l];
    return ls->occ_milli == 0 || ls->occ_milli + pce <= ls->cap_milli;
}

/* Speed (m/s) a vehicle entering link l now drives at, from the density of the traffic moving
 * on it (Greenshields over the part of the link not taken by the standing queue). */
static double link_speed(const sim_t *sim, int32_t l, const sim__vehicle_t *v) {
    const sim_scenario_t *scn = sim->scn;
    const sim_link_t *lk = &scn->links[l];
    const sim__link_state_t *ls = &sim->links[l];
    double queued_m = (double)ls->queued_milli / 1000.0 * lk->jam_spacing_m / lk->lanes;
    double free_len = lk->length_m - queued_m;
    if (free_len < lk->jam_spacing_m)
        free_len = lk->jam_spacing_m;
    double others = (double)ls->moving_milli / 1000.0;
    double ratio = others * lk->jam_spacing_m / (free_len * lk->lanes);
    if (ratio > 1.0)
        ratio = 1.0;
    double floor_frac = scn->model.min_speed_fraction;
    if (v->escort >= 0) {
        const sim_escort_t *e = &scn->escorts[v->escort];
        double f = 1.0 - (1.0 - e->yield_factor) * ratio;
        return e->desired_speed_mps * (f > floor_frac ? f : floor_frac);
    }
    double vf = lk->free_speed_mps;
    if (v->max_speed_mps > 0 && v->max_speed_mps < vf)
        vf = v->max_speed_mps;
    double f = 1.0 - ratio;
    return vf * (f > floor_frac ? f : floor_frac);
}

static int schedule(sim_t *sim, sim_time_t t, int32_t type, int32_t a, int64_t b) {
    int rc = sim_event_queue_push(&sim->queue, t, type, a, b);
    if (rc < 0 && sim->err.code == BASE_OK)
        base_err_set(&sim->err, rc, "out of memory growing the event queue");
    return rc;
}

/* Time (ms) vehicle vh takes to pass over a point at its speed on link l (its length in jam
 * spacings), at least 100 ms: how long it holds a loop detector on. */
static sim_time_t occupancy(const sim_t *sim, const sim__vehicle_t *vh, int32_t l) {
    double len = (double)vh->pce_milli / 1000.0 * sim->scn->links[l].jam_spacing_m;
    double v = vh->speed_mps > 1.0 ? vh->speed_mps : 1.0;
    sim_time_t t = sim_time_from_s(len / v);
    return t > 100 ? t : 100;
}

/* Time (ms) vehicle vh takes from the stop line of its link across movement m's junction and
 * along link l (the movement's to-link), cruising there at speed, beyond driving l at speed:
 * the crossing (its crossing_length_m at min(crossing speed, speed)) and the speed changes it
 * forces (docs/model.md, "Stops and platoons" and "Crossing the junction"). stopped_wait >= 0:
 * it has just left a stop at which it waited that long (ms); it accelerates from rest to the
 * crossing speed, then to speed, and pays the part of its braking loss that the wait did not
 * absorb (braking to the back of a queue ends later than the point queue's arrival, but the
 * vehicle was held until the queue ahead cleared anyway). Else it brakes from its cruise on
 * its link to the crossing speed, if that is lower, and accelerates back to speed after. A
 * movement without a crossing speed costs what it did before crossings were modelled. */
static sim_time_t crossing_cost(const sim_t *sim, const sim__vehicle_t *vh, int32_t m, int32_t l,
                                double speed, sim_time_t stopped_wait) {
    const sim_movement_t *mv = &sim->scn->movements[m];
    const sim_vclass_t *c = &sim->scn->classes[vh->vclass];
    double len = sim->scn->links[l].length_m;
    double vc = mv->crossing_speed_mps > 0 ? mv->crossing_speed_mps : speed;
    double vx = vc < speed ? vc : speed; /* the speed it crosses at */
    double loss = 0.0;
    if (stopped_wait >= 0) {
        loss = sim_scenario_speedup_loss_s(mv->crossing_length_m + len, 0.0, vx, c->accel_mps2);
        double brake =
            sim_scenario_decel_loss_s(vh->cruise_mps, c->decel_mps2) - sim_time_to_s(stopped_wait);
        if (brake > 0)
            loss += brake;
    } else if (mv->crossing_speed_mps > 0 && vc < vh->cruise_mps) {
        loss = sim_scenario_slowdown_loss_s(vh->cruise_mps, vx, c->decel_mps2);
    }
    loss += sim_scenario_speedup_loss_s(len, vx, speed, c->accel_mps2);
    return sim_scenario_crossing_time(sim->scn, m, speed) + sim_time_from_s(loss);
}

/* Enters vehicle v on link l now, across movement m (-1: entering the network, at the
 * upstream end of l, from rest when model.depart_from_rest: it pays v/(2a)); stopped_wait >= 0:
 * it has just left a stop at which it waited that long (ms). It pays the crossing and its
 * speed changes (crossing_cost). It cannot pass the vehicles
 * ahead of it on its lane: it takes the lane whose last vehicle reaches the end of the link first
 * and arrives no earlier than that vehicle (an escort loses only 1 - yield_factor of that hold:
 * traffic pulls aside). */
static void enter_link(sim_t *sim, int32_t v, int32_t l, int32_t m, sim_time_t stopped_wait) {
    sim__vehicle_t *vh = &sim->vehicles[v];
    sim__link_state_t *ls = &sim->links[l];
    const sim_link_t *lk = &sim->scn->links[l];
    double speed = link_speed(sim, l, vh);
    sim_time_t tt = sim_scenario_drive_time(lk->length_m, speed);
    if (m >= 0)
        tt += crossing_cost(sim, vh, m, l, speed, stopped_wait);
    else if (sim->scn->model.depart_from_rest)
        tt += sim_time_from_s(sim_scenario_accel_loss_s(lk->length_m, speed,
                                                        sim->scn->classes[vh->vclass].accel_mps2));
    sim_time_t at = sim->now + tt;
    sim_time_t *lane = &sim->lane_last[ls->lane_first];
    int32_t best = 0;
    for (int32_t i = 1; i < lk->lanes; i++) {
        if (lane[i] < lane[best])
            best = i;
    }
    if (lane[best] > at) {
        sim_time_t hold = lane[best] - at;
        if (vh->escort >= 0)
            hold = (sim_time_t)llround((1.0 - sim->scn->escorts[vh->escort].yield_factor) *
                                       (double)hold);
        at += hold;
    }
    if (lane[best] < at)
        lane[best] = at;
    tt = at - sim->now;
    vh->cruise_mps = speed;
    vh->speed_mps = tt > 0 ? lk->length_m / sim_time_to_s(tt) : speed;
    vh->stopline_at = at;
    vh->queued = 0;
    ls->occ_milli += vh->pce_milli;
    ls->moving_milli += vh->pce_milli;
    ls->n_vehicles++;
    vh->link = l;
    vh->link_enter = sim->now;
    sim__mark_link(sim, l);
    for (int32_t i = sim->det_first[l]; i < sim->det_first[l + 1]; i++) {
        int32_t d = sim->det_by_link[i];
        const sim_detector_t *det = &sim->scn->detectors[d];
        if (det->kind != SIM_DETECTOR_ADVANCE)
            continue;
        sim->det_count[d]++;
        if (sim->obs.detector_actuated != NULL) {
            /* It passes the loop (distance_m before the stop line) on its way along the link. */
            double up = lk->length_m - det->distance_m;
            double f = lk->length_m > 0 && up > 0 ? up / lk->length_m : 0.0;
            sim_time_t on = sim->now + (sim_time_t)llround(f * (double)tt);
            sim->obs.detector_actuated(sim->obs.ud, on, on + occupancy(sim, vh, l), d);
        }
    }
    schedule(sim, at, SIM__EV_LINK_END, v, 0);
}

static void serve(sim_t *sim, int32_t m);

/* Called when link l has lost a vehicle: wake blocked movements into it, then let vehicles
 * waiting outside the network in (only if no movement was waiting: the network goes first). */
static void link_freed(sim_t *sim, int32_t l) {
    const sim_scenario_t *scn = sim->scn;
    const sim_link_t *lk = &scn->links[l];
    int woke = 0;
    for (int32_t i = 0; i < lk->in_count; i++) {
        int32_t m = scn->link_in[lk->in_first + i];
        sim__move_state_t *ms = &sim->moves[m];
        if (ms->blocked) {
            ms->blocked = 0;
            woke = 1;
            serve(sim, m);
        }
    }
    if (woke)
        return;
    sim__link_state_t *ls = &sim->links[l];
    while (ls->wait_head >= 0 && link_has_room(sim, l, sim->vehicles[ls->wait_head].pce_milli)) {
        int32_t v = ls->wait_head;
        ls->wait_head = sim->vehicles[v].next;
        if (ls->wait_head < 0)
            ls->wait_tail = -1;
        sim->vehicles[v].next = -1;
        sim->stats.vehicles_waiting--;
        sim->stats.vehicles_entered++;
        sim->stats.vehicles_in_network++;
        sim->vehicles[v].entered = sim->now;
        sim->vehicles[v].in_network = 1;
        enter_link(sim, v, l, -1, -1);
    }
}

/* ---- escorts ----------------------------------------------------------------------- */

static void escort_record(sim_t *sim, const sim__vehicle_t *vh, sim_time_t depart) {
    sim__escort_state_t *es = &sim->escorts[vh->escort];
    es->pending.depart = depart;
    if (depart - es->pending.arrive > sim->scn->model.stop_wait)
        es->stops++;
    if (sim->obs.escort_passed != NULL)
        sim->obs.escort_passed(sim->obs.ud, &es->pending);
}

/* ---- movements --------------------------------------------------------------------- */

static inline int movement_go(const sim_t *sim, int32_t m) {
    const sim_movement_t *mv = &sim->scn->movements[m];
    if (mv->signal < 0)
        return 1;
    return sim->signals[mv->signal].group_state[mv->group] == SIM_SIGNAL_GREEN;
}

/* Schedules the next discharge of movement m if it can happen: a queue, a green, room. */
static void serve(sim_t *sim, int32_t m) {
    sim__move_state_t *ms = &sim->moves[m];
    if (ms->pending || ms->head < 0 || !movement_go(sim, m))
        return;
    int32_t to = sim->scn->movements[m].to;
    if (!link_has_room(sim, to, sim->vehicles[ms->head].pce_milli)) {
        if (!ms->blocked) {
            ms->blocked = 1;
            sim->stats.spillback_events++;
        }
        return;
    }
    sim_time_t t = ms->next_free > sim->now ? ms->next_free : sim->now;
    ms->pending = 1;
    schedule(sim, t, SIM__EV_DISCHARGE, m, 0);
}

static void on_discharge(sim_t *sim, int32_t m) {
    sim__move_state_t *ms = &sim->moves[m];
    ms->pending = 0;
    if (ms->head < 0 || !movement_go(sim, m))
        return;
    const sim_movement_t *mv = &sim->scn->movements[m];
    int32_t v = ms->head;
    sim__vehicle_t *vh = &sim->vehicles[v];
    if (!link_has_room(sim, mv->to, vh->pce_milli)) {
        if (!ms->blocked) {
            ms->blocked = 1;
            sim->stats.spillback_events++;
        }
        return;
    }
    ms->head = vh->next;
    if (ms->head < 0)
        ms->tail = -1;
    ms->n--;
    vh->next = -1;
    int32_t from = mv->from;
    sim__link_state_t *ls = &sim->links[from];
    ls->occ_milli -= vh->pce_milli;
    ls->queued_milli -= vh->pce_milli;
    ls->n_vehicles--;
    ls->n_queued--;
    sim__mark_link(sim, from);
    for (int32_t i = sim->det_first[from]; i < sim->det_first[from + 1]; i++) {
        int32_t d = sim->det_by_link[i];
        if (sim->scn->detectors[d].kind == SIM_DETECTOR_STOP_LINE) {
            sim->det_count[d]++;
            if (sim->obs.detector_actuated != NULL)
                sim->obs.detector_actuated(sim->obs.ud, sim->now,
                                           sim->now + occupancy(sim, vh, from), d);
        }
    }
    sim_time_t wait = sim->now - vh->stopline_arrive;
    int stopped = wait > sim->scn->model.stop_wait;
    if (vh->escort >= 0)
        escort_record(sim, vh, sim->now);
    else if (stopped)
        vh->stops++;
    ms->next_free = sim->now + (sim_time_t)llround(ms->headway_ms * vh->pce_milli / 1000.0);
    vh->pos++;
    if (vh->escort >= 0)
        sim->escorts[vh->escort].route_pos = vh->pos;
    enter_link(sim, v, mv->to, m, stopped ? wait : -1);
    link_freed(sim, from);
    serve(sim, m);
}

/* Called by the signal controller when group g of signal s changes state. */
void sim__group_changed(sim_t *sim, int32_t s, int32_t g, sim_signal_state_t state) {
    if (sim->obs.signal_changed != NULL)
        sim->obs.signal_changed(sim->obs.ud, sim->now, s, g, state);
    if (state != SIM_SIGNAL_GREEN)
        return;
    const sim_signal_group_t *grp = &sim->scn->signals[s].groups[g];
    for (int32_t i = 0; i < grp->n_movements; i++) {
        int32_t m = grp->movements[i];
        sim__move_state_t *ms = &sim->moves[m];
        if (ms->head >= 0) {
            sim_time_t start = sim->now + sim->scn->model.startup_lost_time;
            if (ms->next_free < start)
                ms->next_free = start;
        }
        serve(sim, m);
    }
}

static void finish(sim_t *sim, int32_t v) {
    sim__vehicle_t *vh = &sim->vehicles[v];
    int32_t l = vh->link;
    sim__link_state_t *ls = &sim->links[l];
    ls->occ_milli -= vh->pce_milli;
    ls->n_vehicles--;
    sim->stats.vehicles_completed++;
    sim->stats.vehicles_in_network--;
    sim->stats.vehicle_seconds += sim_time_to_s(sim->now - vh->entered);
    if (vh->escort >= 0) {
        sim__escort_state_t *es = &sim->escorts[vh->escort];
        es->state = 2;
        es->arrive = sim->now;
        es->slot = -1;
    }
    if (sim->obs.trip_finished != NULL) {
        sim_trip_record_t rec = {
            .vehicle = vh->id,
            .vclass = vh->vclass,
            .source = vh->source,
            .origin = vh->route->links[0],
            .destination = vh->route->links[vh->route->n_links - 1],
            .depart = vh->depart,
            .arrive = sim->now,
            .free_time = vh->free_time,
            .stops = vh->escort >= 0 ? sim->escorts[vh->escort].stops : vh->stops,
            .escort = vh->escort,
            .route = vh->route,
        };
        sim->obs.trip_finished(sim->obs.ud, &rec);
    }
    vehicle_free(sim, v);
    link_freed(sim, l);
}

static void on_link_end(sim_t *sim, int32_t v) {
    sim__vehicle_t *vh = &sim->vehicles[v];
    int32_t l = vh->link;
    sim__link_state_t *ls = &sim->links[l];
    ls->moving_milli -= vh->pce_milli;
    if (vh->pos == vh->route->n_links - 1) {
        finish(sim, v);
        return;
    }
    int32_t m = sim_scenario_find_movement(sim->scn, l, vh->route->links[vh->pos + 1]);
    /* Routes are checked at load: every consecutive pair has a movement. */
    sim__move_state_t *ms = &sim->moves[m];
    ls->queued_milli += vh->pce_milli;
    ls->n_queued++;
    sim__mark_link(sim, l);
    vh->stopline_arrive = sim->now;
    vh->queued = 1;
    int32_t ahead = ms->n;
    if (vh->escort >= 0 && ms->head >= 0) {
        /* Traffic ahead gives way: the escort waits behind only (1 - yield) of the queue. */
        double y = sim->scn->escorts[vh->escort].yield_factor;
        ahead = (int32_t)ceil((1.0 - y) * ms->n - 1e-9);
    }
    if (ahead == 0) {
        vh->next = ms->head;
        ms->head = v;
        if (ms->tail < 0)
            ms->tail = v;
    } else if (ahead >= ms->n) {
        vh->next = -1;
        if (ms->tail >= 0)
            sim->vehicles[ms->tail].next = v;
        else
            ms->head = v;
        ms->tail = v;
    } else {
        int32_t p = ms->head;
        for (int32_t i = 1; i < ahead; i++)
            p = sim->vehicles[p].next;
        vh->next = sim->vehicles[p].next;
        sim->vehicles[p].next = v;
    }
    ms->n++;
    if (vh->escort >= 0) {
        sim__escort_state_t *es = &sim->escorts[vh->escort];
        const sim_movement_t *mv = &sim->scn->movements[m];
        es->pending = (sim_escort_record_t){
            .escort = vh->escort,
            .node = mv->node,
            .link = l,
            .link_enter = vh->link_enter,
            .arrive = sim->now,
            .depart = -1,
            .on_arrival = sim_movement_state(sim, m),
            .queue_ahead = ahead,
        };
    }
    serve(sim, m);
}

/* ---- demand ------------------------------------------------------------------------ */

static int32_t create_vehicle(sim_t *sim, const sim_route_t *route, int32_t vclass, int32_t escort,
                              const char *source) {
    int32_t v = vehicle_alloc(sim);
    if (v < 0) {
        if (sim->err.code == BASE_OK)
            base_err_set(&sim->err, BASE_ENOMEM, "out of memory allocating a vehicle");
        return -1;
    }
    const sim_scenario_t *scn = sim->scn;
    sim__vehicle_t *vh = &sim->vehicles[v];
    vh->id = sim->next_vehicle_id++;
    vh->route = route;
    vh->pos = 0;
    vh->vclass = vclass;
    vh->escort = escort;
    vh->source = source;
    vh->pce_milli = pce_milli(scn->classes[vclass].pce);
    vh->max_speed_mps = scn->classes[vclass].max_speed_mps;
    vh->depart = sim->now;
    vh->free_time =
        escort >= 0
            ? sim_scenario_route_free_time(scn, route, scn->escorts[escort].desired_speed_mps)
            : sim_scenario_route_free_time(scn, route, vh->max_speed_mps);
    if (escort >= 0) {
        /* Escorts drive at their desired speed, above the limit where it is higher. */
        sim_time_t t = 0;
        double speed = scn->escorts[escort].desired_speed_mps;
        for (int32_t i = 0; i < route->n_links; i++) {
            t += sim_scenario_drive_time(scn->links[route->links[i]].length_m, speed);
            int32_t m =
                i > 0 ? sim_scenario_find_movement(scn, route->links[i - 1], route->links[i]) : -1;
            if (m >= 0)
                t += sim_scenario_crossing_time(scn, m, speed);
        }
        vh->free_time = t;
    }
    sim->stats.vehicles_created++;
    int32_t l = route->links[0];
    sim__link_state_t *ls = &sim->links[l];
    if (ls->wait_head < 0 && link_has_room(sim, l, vh->pce_milli)) {
        sim->stats.vehicles_entered++;
        sim->stats.vehicles_in_network++;
        vh->entered = sim->now;
        vh->in_network = 1;
        enter_link(sim, v, l, -1, -1);
        return v;
    }
    sim->stats.vehicles_waiting++;
    if (escort >= 0 || ls->wait_head < 0) {
        /* An escort goes to the front of the vehicles waiting to enter. */
        vh->next = ls->wait_head;
        ls->wait_head = v;
        if (ls->wait_tail < 0)
            ls->wait_tail = v;
    } else {
        sim->vehicles[ls->wait_tail].next = v;
        ls->wait_tail = v;
    }
    vh->link = l;
    return v;
}

/* Time of the next arrival of flow f after now (inversion over piecewise-constant rates), or
 * -1 when its rate is zero from here on. */
static sim_time_t next_arrival(sim_t *sim, int32_t f) {
    const sim_flow_t *fl = &sim->scn->flows[f];
    sim_time_t iv = sim->scn->demand_interval;
    double e = gsl_ran_exponential(sim->flow_rng[f], 1.0);
    sim_time_t t = sim->now;
    for (;;) {
        int64_t i = t / iv;
        double vph = fl->vph[i < fl->n_vph ? i : fl->n_vph - 1];
        double rate = vph / 3600000.0; /* per ms */
        if (i >= fl->n_vph - 1) {
            if (!(rate > 0))
                return -1;
            return t + (sim_time_t)llround(e / rate);
        }
        sim_time_t end = (i + 1) * iv;
        double cap = rate * (double)(end - t);
        if (rate > 0 && cap >= e)
            return t + (sim_time_t)llround(e / rate);
        e -= cap;
        t = end;
    }
}

static int32_t draw_class(sim_t *sim, int32_t f) {
    const sim_flow_t *fl = &sim->scn->flows[f];
    double u = gsl_rng_uniform(sim->flow_rng[f]);
    for (int32_t c = 0; c < sim->scn->n_classes - 1; c++) {
        if (u < fl->class_cdf[c])
            return c;
    }
    return sim->scn->n_classes - 1;
}

static void on_flow(sim_t *sim, int32_t f) {
    const sim_flow_t *fl = &sim->scn->flows[f];
    create_vehicle(sim, &fl->route, draw_class(sim, f), -1, fl->id);
    sim_time_t t = next_arrival(sim, f);
    if (t >= 0)
        schedule(sim, t, SIM__EV_FLOW, f, 0);
}

static void on_trip(sim_t *sim, int32_t i) {
    const sim_scenario_t *scn = sim->scn;
    while (i < scn->n_trips && scn->trips[i].depart <= sim->now) {
        const sim_trip_t *t = &scn->trips[i];
        create_vehicle(sim, &t->route, t->vclass, -1, t->id);
        i++;
    }
    if (i < scn->n_trips)
        schedule(sim, scn->trips[i].depart, SIM__EV_TRIP, i, 0);
}

static void on_escort(sim_t *sim, int32_t e) {
    const sim_escort_t *es = &sim->scn->escorts[e];
    sim->escorts[e].state = 1;
    sim->escorts[e].depart = sim->now;
    sim->escorts[e].slot = create_vehicle(sim, &es->route, es->vclass, e, es->id);
}

/* ---- construction and the loop ----------------------------------------------------- */

static uint64_t splitmix64(uint64_t x) {
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

uint64_t sim__stream_seed(uint64_t run_seed, uint64_t source) {
    return splitmix64(run_seed ^ splitmix64(source + UINT64_C(0x5851f42d4c957f2d)));
}

sim_t *sim_new(const sim_scenario_t *scn, uint64_t seed, const sim_observer_t *observer,
               base_err_t *err) {
    if (!scn->prepared) {
        base_err_set(err, BASE_ESTATE, "scenario not prepared");
        return NULL;
    }
    sim_t *sim = calloc(1, sizeof *sim);
    if (sim == NULL)
        goto oom;
    sim->scn = scn;
    sim->seed = seed;
    sim->free_vehicle = -1;
    sim_event_queue_init(&sim->queue);
    if (observer != NULL)
        sim->obs = *observer;
    size_t nl = (size_t)scn->n_links, nm = (size_t)scn->n_movements;
    sim->links = calloc(nl + 1, sizeof *sim->links);
    size_t n_lanes = 1;
    for (int32_t l = 0; l < scn->n_links; l++)
        n_lanes += (size_t)scn->links[l].lanes;
    sim->lane_last = calloc(n_lanes, sizeof *sim->lane_last);
    sim->moves = calloc(nm + 1, sizeof *sim->moves);
    sim->det_first = calloc(nl + 1, sizeof *sim->det_first);
    sim->det_by_link = calloc((size_t)scn->n_detectors + 1, sizeof *sim->det_by_link);
    sim->det_count = calloc((size_t)scn->n_detectors + 1, sizeof *sim->det_count);
    sim->flow_rng = calloc((size_t)scn->n_flows + 1, sizeof *sim->flow_rng);
    sim->escorts = calloc((size_t)scn->n_escorts + 1, sizeof *sim->escorts);
    if (!sim->links || !sim->lane_last || !sim->moves || !sim->det_first || !sim->det_by_link ||
        !sim->det_count || !sim->flow_rng || !sim->escorts)
        goto oom;
    for (int32_t l = 0; l < scn->n_links; l++) {
        const sim_link_t *lk = &scn->links[l];
        sim__link_state_t *ls = &sim->links[l];
        ls->cap_milli = (int64_t)floor(lk->length_m * lk->lanes / lk->jam_spacing_m * 1000.0);
        ls->wait_head = ls->wait_tail = -1;
        ls->lane_first = l > 0 ? sim->links[l - 1].lane_first + scn->links[l - 1].lanes : 0;
    }
    for (int32_t m = 0; m < scn->n_movements; m++) {
        const sim_movement_t *mv = &scn->movements[m];
        const sim_link_t *lk = &scn->links[mv->from];
        sim__move_state_t *ms = &sim->moves[m];
        ms->head = ms->tail = -1;
        ms->headway_ms = 3600000.0 / (lk->sat_flow_vphpl * mv->lanes * mv->sat_factor);
    }
    /* Detectors grouped by link (CSR), in detector order. */
    for (int32_t d = 0; d < scn->n_detectors; d++)
        sim->det_first[scn->detectors[d].link + 1]++;
    for (int32_t l = 0; l < scn->n_links; l++)
        sim->det_first[l + 1] += sim->det_first[l];
    {
        int32_t *fill = calloc(nl + 1, sizeof *fill);
        if (fill == NULL)
            goto oom;
        for (int32_t d = 0; d < scn->n_detectors; d++) {
            int32_t l = scn->detectors[d].link;
            sim->det_by_link[sim->det_first[l] + fill[l]++] = d;
        }
        free(fill);
    }
    for (int32_t f = 0; f < scn->n_flows; f++) {
        sim->flow_rng[f] = gsl_rng_alloc(gsl_rng_taus2);
        if (sim->flow_rng[f] == NULL)
            goto oom;
        gsl_rng_set(sim->flow_rng[f], (unsigned long)sim__stream_seed(seed, (uint64_t)f));
    }
    for (int32_t e = 0; e < scn->n_escorts; e++) {
        sim->escorts[e].depart = sim->escorts[e].arrive = -1;
        sim->escorts[e].slot = -1;
        sim->escorts[e].pending.depart = -1;
    }
    if (sim__signals_init(sim) < 0)
        goto oom;
    for (int32_t f = 0; f < scn->n_flows; f++) {
        sim_time_t t = next_arrival(sim, f);
        if (t >= 0 && schedule(sim, t, SIM__EV_FLOW, f, 0) < 0)
            goto oom;
    }
    if (scn->n_trips > 0 && schedule(sim, scn->trips[0].depart, SIM__EV_TRIP, 0, 0) < 0)
        goto oom;
    for (int32_t e = 0; e < scn->n_escorts; e++) {
        if (schedule(sim, scn->escorts[e].depart, SIM__EV_ESCORT, e, 0) < 0)
            goto oom;
    }
    return sim;
oom:
    base_err_set(err, BASE_ENOMEM, "out of memory creating the simulation");
    sim_destroy(&sim);
    return NULL;
}

void sim_destroy(sim_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    sim_t *sim = *self_p;
    if (sim->flow_rng != NULL) {
        for (int32_t f = 0; f < sim->scn->n_flows; f++)
            if (sim->flow_rng[f] != NULL)
                gsl_rng_free(sim->flow_rng[f]);
    }
    sim__signals_fini(sim);
    free(sim->flow_rng);
    free(sim->links);
    free(sim->lane_last);
    free(sim->moves);
    free(sim->det_first);
    free(sim->det_by_link);
    free(sim->det_count);
    free(sim->changed_sig);
    free(sim->changed_det);
    free(sim->escorts);
    free(sim->vehicles);
    sim_event_queue_fini(&sim->queue);
    free(sim);
    *self_p = NULL;
}

int sim_run_until(sim_t *sim, sim_time_t until) {
    sim_event_t ev;
    while (sim_event_queue_peek_time(&sim->queue) <= until) {
        sim_event_queue_pop(&sim->queue, &ev);
        sim->now = ev.time;
        sim->stats.events++;
        switch (ev.type) {
        case SIM__EV_LINK_END:
            on_link_end(sim, ev.a);
            break;
        case SIM__EV_DISCHARGE:
            on_discharge(sim, ev.a);
            break;
        case SIM__EV_SIGNAL:
            sim__signal_step(sim, ev.a, ev.b);
            break;
        case SIM__EV_FLOW:
            on_flow(sim, ev.a);
            break;
        case SIM__EV_TRIP:
            on_trip(sim, ev.a);
            break;
        case SIM__EV_ESCORT:
            on_escort(sim, ev.a);
            break;
        default:
            break;
        }
        if (sim->err.code < 0)
            return sim->err.code;
    }
    if (until > sim->now)
        sim->now = until;
    return BASE_OK;
}

int sim__schedule(sim_t *sim, sim_time_t t, int32_t type, int32_t a, int64_t b) {
    return schedule(sim, t, type, a, b);
}

/* ---- queries ----------------------------------------------------------------------- */

sim_time_t sim_now(const sim_t *sim) {
    return sim->now;
}

sim_stats_t sim_stats(const sim_t *sim, int include_open) {
    sim_stats_t st = sim->stats;
    if (include_open) {
        for (int32_t v = 0; v < sim->vehicle_cap; v++) {
            const sim__vehicle_t *vh = &sim->vehicles[v];
            if (vh->alive && vh->in_network)
                st.vehicle_seconds += sim_time_to_s(sim->now - vh->entered);
        }
    }
    return st;
}

sim_signal_state_t sim_movement_state(const sim_t *sim, int32_t m) {
    const sim_movement_t *mv = &sim->scn->movements[m];
    if (mv->signal < 0)
        return SIM_SIGNAL_DARK;
    return (sim_signal_state_t)sim->signals[mv->signal].group_state[mv->group];
}

sim_signal_state_t sim_signal_state(const sim_t *sim, int32_t s, int32_t g) {
    return (sim_signal_state_t)sim->signals[s].group_state[g];
}

int32_t sim_movement_queue(const sim_t *sim, int32_t m) {
    return sim->moves[m].n;
}

int32_t sim_link_vehicles(const sim_t *sim, int32_t l) {
    return sim->links[l].n_vehicles;
}

double sim_link_storage_pce(const sim_t *sim, int32_t l) {
    return (double)sim->links[l].cap_milli / 1000.0;
}

double sim_link_occupancy_pce(const sim_t *sim, int32_t l) {
    return (double)sim->links[l].occ_milli / 1000.0;
}

int sim_track_changes(sim_t *sim) {
    if (sim->changed_sig != NULL)
        return BASE_OK;
    size_t ws = (size_t)sim->scn->n_signals / 64 + 1, wd = (size_t)sim->scn->n_detectors / 64 + 1;
    sim->changed_sig = calloc(ws, sizeof *sim->changed_sig);
    sim->changed_det = calloc(wd, sizeof *sim->changed_det);
    if (sim->changed_sig == NULL || sim->changed_det == NULL) {
        free(sim->changed_sig);
        free(sim->changed_det);
        sim->changed_sig = sim->changed_det = NULL;
        return BASE_ENOMEM;
    }
    /* Everything counts as changed until the first clear. */
    memset(sim->changed_sig, 0xff, ws * sizeof *sim->changed_sig);
    memset(sim->changed_det, 0xff, wd * sizeof *sim->changed_det);
    return BASE_OK;
}

const uint64_t *sim_changed_signals(const sim_t *sim) {
    return sim->changed_sig;
}

const uint64_t *sim_changed_detectors(const sim_t *sim) {
    return sim->changed_det;
}

void sim_changes_clear(sim_t *sim) {
    if (sim->changed_sig == NULL)
        return;
    memset(sim->changed_sig, 0, ((size_t)sim->scn->n_signals / 64 + 1) * sizeof *sim->changed_sig);
    memset(sim->changed_det, 0,
           ((size_t)sim->scn->n_detectors / 64 + 1) * sizeof *sim->changed_det);
}

int64_t sim_detector_count(const sim_t *sim, int32_t d) {
    return sim->det_count[d];
}

int sim_detector_occupied(const sim_t *sim, int32_t d) {
    const sim_detector_t *det = &sim->scn->detectors[d];
    const sim_link_t *lk = &sim->scn->links[det->link];
    const sim__link_state_t *ls = &sim->links[det->link];
    if (det->kind == SIM_DETECTOR_STOP_LINE)
        return ls->n_queued > 0;
    double queue_m = (double)ls->queued_milli / 1000.0 * lk->jam_spacing_m / lk->lanes;
    return ls->n_queued > 0 && queue_m >= det->distance_m;
}

sim_escort_status_t sim_escort_status(const sim_t *sim, int32_t e) {
    const sim__escort_state_t *es = &sim->escorts[e];
    return (sim_escort_status_t){es->state, es->depart, es->arrive, es->stops, es->route_pos};
}

int32_t sim_vehicle_slots(const sim_t *sim) {
    return sim->vehicle_cap;
}

int sim_vehicle_get(const sim_t *sim, int32_t slot, sim_vehicle_info_t *out) {
    if (slot < 0 || slot >= sim->vehicle_cap || !sim->vehicles[slot].alive)
        return 0;
    const sim__vehicle_t *vh = &sim->vehicles[slot];
    const sim_link_t *lk = &sim->scn->links[vh->link];
    out->id = vh->id;
    out->vclass = vh->vclass;
    out->escort = vh->escort;
    out->route = vh->route;
    out->route_pos = vh->pos;
    out->link = vh->link;
    out->in_network = vh->in_network;
    out->queued = vh->queued;
    out->depart = vh->depart;
    out->link_enter = vh->link_enter;
    out->stopline_at = vh->stopline_at;
    if (!vh->in_network) {
        out->speed_mps = 0;
        out->pos_m = 0;
    } else if (vh->queued) {
        out->speed_mps = 0;
        out->pos_m = lk->length_m;
    } else {
        sim_time_t tt = vh->stopline_at - vh->link_enter;
        double f = tt > 0 ? (double)(sim->now - vh->link_enter) / (double)tt : 1.0;
        out->speed_mps = vh->speed_mps;
        out->pos_m = lk->length_m * (f < 1.0 ? f : 1.0);
    }
    return 1;
}

int32_t sim_movement_queue_head(const sim_t *sim, int32_t m) {
    return sim->moves[m].head;
}

int32_t sim_vehicle_queue_next(const sim_t *sim, int32_t slot) {
    return sim->vehicles[slot].next;
}

int32_t sim_escort_slot(const sim_t *sim, int32_t e) {
    return sim->escorts[e].slot;
}

sim_safety_t sim_safety(const sim_t *sim) {
    return sim->safety;
}

const char *sim_errmsg(const sim_t *sim) {
    return sim->err.msg;
}

const sim_scenario_t *sim_scenario(const sim_t *sim) {
    return sim->scn;
}
