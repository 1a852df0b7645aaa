/*
 * sim/scenario.c - construction and preparation of the immutable scenario.
 *
 * prepare() builds two CSR tables (movements by from-link and by to-link) with a counting
 * sort, so the order inside each range is the movements' file order: deterministic. It then
 * maps each movement to its node's signal group. It re-checks what the loader checks with
 * names and JSON paths, because scenarios can also be built in code (tests, generators).
 */
#include "sim/scenario.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Accelerations and decelerations: SUMO's vClass defaults (passenger 2.6 / 4.5, bus 1.2 / 4.0,
 * motorcycle 6.0 / 10.0, emergency 2.6 / 4.5 m/s^2), docs/model.md. */
static const sim_vclass_t DEFAULT_CLASSES[] = {
    {"car", 1.0, 0.0, SIM_DEFAULT_ACCEL_MPS2, SIM_DEFAULT_DECEL_MPS2},
    {"bus", 2.0, 60.0 / 3.6, 1.2, 4.0},
    {"motorbike", 0.5, 0.0, 6.0, 10.0},
    {"escort", 1.0, 0.0, SIM_DEFAULT_ACCEL_MPS2, SIM_DEFAULT_DECEL_MPS2},
};

sim_scenario_t *sim_scenario_new(void) {
    sim_scenario_t *scn = calloc(1, sizeof *scn);
    if (scn == NULL)
        return NULL;
    base_arena_init(&scn->arena);
    scn->name = "";
    scn->description = "";
    scn->duration = 3600 * SIM_MS_PER_S;
    scn->model.startup_lost_time = 2000;
    scn->model.min_speed_fraction = 0.1;
    scn->model.stop_wait = 1000;
    scn->demand_interval = 900 * SIM_MS_PER_S;
    int32_t n = (int32_t)(sizeof DEFAULT_CLASSES / sizeof DEFAULT_CLASSES[0]);
    scn->classes = base_arena_calloc(&scn->arena, (size_t)n, sizeof *scn->classes);
    if (scn->classes == NULL) {
        sim_scenario_destroy(&scn);
        return NULL;
    }
    memcpy(scn->classes, DEFAULT_CLASSES, sizeof DEFAULT_CLASSES);
    scn->n_classes = n;
    return scn;
}

double sim_scenario_accel_loss_s(double length_m, double speed_mps, double accel_mps2) {
    return sim_scenario_speedup_loss_s(length_m, 0.0, speed_mps, accel_mps2);
}

double sim_scenario_speedup_loss_s(double length_m, double from_mps, double to_mps,
                                   double accel_mps2) {
    double u = from_mps > 0 ? from_mps : 0.0, w = to_mps;
    if (!(length_m > 0) || !(w > u) || !(accel_mps2 > 0))
        return 0.0;
    if (u == 0.0) { /* from rest: v/(2a), the same expression as before crossings existed */
        if (w * w / (2.0 * accel_mps2) <= length_m)
            return w / (2.0 * accel_mps2);
        return sqrt(2.0 * length_m / accel_mps2) - length_m / w;
    }
    if ((w * w - u * u) / (2.0 * accel_mps2) <= length_m)
        return (w - u) * (w - u) / (2.0 * accel_mps2 * w);
    /* Still accelerating at the end of the stretch: t = (sqrt(u^2 + 2aL) - u) / a. */
    return (sqrt(u * u + 2.0 * accel_mps2 * length_m) - u) / accel_mps2 - length_m / w;
}

double sim_scenario_slowdown_loss_s(double from_mps, double to_mps, double decel_mps2) {
    double u = to_mps > 0 ? to_mps : 0.0, v = from_mps;
    if (!(v > u) || !(decel_mps2 > 0))
        return 0.0;
    return (v - u) * (v - u) / (2.0 * decel_mps2 * v);
}

double sim_scenario_decel_loss_s(double speed_mps, double decel_mps2) {
    if (!(speed_mps > 0) || !(decel_mps2 > 0))
        return 0.0;
    return speed_mps / (2.0 * decel_mps2);
}

void sim_scenario_destroy(sim_scenario_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    base_arena_fini(&(*self_p)->arena);
    free(*self_p);
    *self_p = NULL;
}

int32_t sim_scenario_find_class(const sim_scenario_t *scn, const char *id) {
    for (int32_t i = 0; i < scn->n_classes; i++) {
        if (strcmp(scn->classes[i].id, id) == 0)
            return i;
    }
    return -1;
}

sim_time_t sim_scenario_drive_time(double length_m, double speed_mps) {
    return sim_time_from_s(length_m / speed_mps);
}

int32_t sim_scenario_find_movement(const sim_scenario_t *scn, int32_t from, int32_t to) {
    const sim_link_t *lk = &scn->links[from];
    for (int32_t i = 0; i < lk->out_count; i++) {
        int32_t m = scn->link_out[lk->out_first + i];
        if (scn->movements[m].to == to)
            return m;
    }
    return -1;
}

sim_time_t sim_scenario_crossing_time(const sim_scenario_t *scn, int32_t m, double speed_mps) {
    const sim_movement_t *mv = &scn->movements[m];
    if (!(mv->crossing_length_m > 0))
        return 0;
    double v = speed_mps;
    if (mv->crossing_speed_mps > 0 && mv->crossing_speed_mps < v)
        v = mv->crossing_speed_mps;
    return sim_scenario_drive_time(mv->crossing_length_m, v);
}

sim_time_t sim_scenario_route_free_time(const sim_scenario_t *scn, const sim_route_t *route,
                                        double max_speed_mps) {
    sim_time_t t = 0;
    for (int32_t i = 0; i < route->n_links; i++) {
        const sim_link_t *l = &scn->links[route->links[i]];
        double v = l->free_speed_mps;
        if (max_speed_mps > 0 && max_speed_mps < v)
            v = max_speed_mps;
        t += sim_scenario_drive_time(l->length_m, v);
        if (i > 0) {
            int32_t m = sim_scenario_find_movement(scn, route->links[i - 1], route->links[i]);
            if (m >= 0)
                t += sim_scenario_crossing_time(scn, m, v);
        }
    }
    return t;
}

sim_time_t sim_scenario_intergreen(const sim_signal_t *sig, int32_t k) {
    uint64_t now = sig->stages[k].groups;
    uint64_t next = sig->stages[(k + 1) % sig->n_stages].groups;
    uint64_t ending = now & ~next;
    sim_time_t ig = 0;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if (ending & (UINT64_C(1) << g)) {
            sim_time_t t = sig->groups[g].yellow + sig->groups[g].red_clearance;
            if (t > ig)
                ig = t;
        }
    }
    return ig;
}

static int build_csr(sim_scenario_t *scn, int by_to, int32_t **table, base_err_t *err) {
    int32_t *t = base_arena_calloc(&scn->arena, (size_t)scn->n_movements + 1, sizeof *t);
    if (t == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory building adjacency");
    for (int32_t l = 0; l < scn->n_links; l++) {
        if (by_to)
            scn->links[l].in_count = 0;
        else
            scn->links[l].out_count = 0;
    }
    for (int32_t m = 0; m < scn->n_movements; m++) {
        sim_link_t *l = &scn->links[by_to ? scn->movements[m].to : scn->movements[m].from];
        if (by_to)
            l->in_count++;
        else
            l->out_count++;
    }
    int32_t pos = 0;
    for (int32_t l = 0; l < scn->n_links; l++) {
        sim_link_t *lk = &scn->links[l];
        if (by_to) {
            lk->in_first = pos;
            pos += lk->in_count;
            lk->in_count = 0;
        } else {
            lk->out_first = pos;
            pos += lk->out_count;
            lk->out_count = 0;
        }
    }
    for (int32_t m = 0; m < scn->n_movements; m++) {
        sim_link_t *l = &scn->links[by_to ? scn->movements[m].to : scn->movements[m].from];
        if (by_to)
            t[l->in_first + l->in_count++] = m;
        else
            t[l->out_first + l->out_count++] = m;
    }
    *table = t;
    return BASE_OK;
}

static int check_route(const sim_scenario_t *scn, const sim_route_t *r, const char *what,
                       const char *id, base_err_t *err) {
    for (int32_t i = 0; i < r->n_links; i++) {
        if (r->links[i] < 0 || r->links[i] >= scn->n_links)
            return base_err_set(err, BASE_EINVAL, "%s \"%s\": route link %d out of range", what, id,
                                (int)i);
        if (i > 0 && scn->links[r->links[i - 1]].to != scn->links[r->links[i]].from)
            return base_err_set(err, BASE_EINVAL,
                                "%s \"%s\": route links \"%s\" and \"%s\" do not meet", what, id,
                                scn->links[r->links[i - 1]].id, scn->links[r->links[i]].id);
    }
    return BASE_OK;
}

static int cmp_trip(const void *a, const void *b) {
    const sim_trip_t *x = a;
    const sim_trip_t *y = b;
    if (x->depart != y->depart)
        return x->depart < y->depart ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

int sim_scenario_prepare(sim_scenario_t *scn, base_err_t *err) {
    for (int32_t t = 0; t < scn->n_trips; t++) {
        if (scn->trips[t].route.n_links > 0) {
            int rc = check_route(scn, &scn->trips[t].route, "trip", scn->trips[t].id, err);
            if (rc < 0)
                return rc;
        }
    }
    for (int32_t l = 0; l < scn->n_links; l++) {
        const sim_link_t *lk = &scn->links[l];
        if (lk->from < 0 || lk->from >= scn->n_nodes || lk->to < 0 || lk->to >= scn->n_nodes)
            return base_err_set(err, BASE_EINVAL, "link \"%s\": node index out of range", lk->id);
        if (!(lk->length_m > 0) || lk->lanes < 1 || !(lk->free_speed_mps > 0) ||
            !(lk->sat_flow_vphpl > 0) || !(lk->jam_spacing_m > 0))
            return base_err_set(err, BASE_EINVAL, "link \"%s\": non-positive attribute", lk->id);
    }
    for (int32_t m = 0; m < scn->n_movements; m++) {
        sim_movement_t *mv = &scn->movements[m];
        if (mv->from < 0 || mv->from >= scn->n_links || mv->to < 0 || mv->to >= scn->n_links)
            return base_err_set(err, BASE_EINVAL, "movement \"%s\": link index out of range",
                                mv->id);
        if (scn->links[mv->from].to != scn->links[mv->to].from)
            return base_err_set(err, BASE_EINVAL,
                                "movement \"%s\": links \"%s\" and \"%s\" do not meet", mv->id,
                                scn->links[mv->from].id, scn->links[mv->to].id);
        if (mv->lanes < 1 || !(mv->sat_factor > 0) || !(mv->crossing_length_m >= 0) ||
            !(mv->crossing_speed_mps >= 0))
            return base_err_set(err, BASE_EINVAL, "movement \"%s\": non-positive attribute",
                                mv->id);
        mv->node = scn->links[mv->from].to;
        mv->signal = scn->nodes[mv->node].signal;
        mv->group = -1;
    }
    for (int32_t s = 0; s < scn->n_signals; s++) {
        const sim_signal_t *sig = &scn->signals[s];
        if (sig->n_groups > SIM_MAX_GROUPS || sig->n_stages < 1 || sig->n_plans < 1 ||
            sig->n_schedule < 1)
            return base_err_set(err, BASE_EINVAL, "signal at node \"%s\": incomplete",
                                scn->nodes[sig->node].id);
        for (int32_t g = 0; g < sig->n_groups; g++) {
            for (int32_t i = 0; i < sig->groups[g].n_movements; i++) {
                int32_t m = sig->groups[g].movements[i];
                if (m < 0 || m >= scn->n_movements || scn->movements[m].signal != s)
                    return base_err_set(err, BASE_EINVAL,
                                        "signal group \"%s\": movement not at its node",
                                        sig->groups[g].id);
                if (scn->movements[m].group != -1)
                    return base_err_set(err, BASE_EINVAL, "movement \"%s\" is in two groups",
                                        scn->movements[m].id);
                scn->movements[m].group = g;
            }
        }
    }
    for (int32_t m = 0; m < scn->n_movements; m++) {
        if (scn->movements[m].signal >= 0 && scn->movements[m].group < 0)
            return base_err_set(err, BASE_EINVAL, "movement \"%s\" is in no signal group",
                                scn->movements[m].id);
    }
    for (int32_t e = 0; e < scn->n_escorts; e++) {
        int rc = check_route(scn, &scn->escorts[e].route, "escort", scn->escorts[e].id, err);
        if (rc < 0)
            return rc;
        if (scn->escorts[e].route.n_links < 1)
            return base_err_set(err, BASE_EINVAL, "escort \"%s\": empty route", scn->escorts[e].id);
    }
    for (int32_t c = 0; c < scn->n_corridors; c++) {
        sim_route_t r = {scn->corridors[c].links, scn->corridors[c].n_links};
        int rc = check_route(scn, &r, "corridor", scn->corridors[c].id, err);
        if (rc < 0)
            return rc;
    }
    int rc = build_csr(scn, 0, &scn->link_out, err);
    if (rc < 0)
        return rc;
    rc = build_csr(scn, 1, &scn->link_in, err);
    if (rc < 0)
        return rc;
    if (scn->n_trips > 1)
        qsort(scn->trips, (size_t)scn->n_trips, sizeof *scn->trips, cmp_trip);
    scn->prepared = 1;
    return BASE_OK;
}
