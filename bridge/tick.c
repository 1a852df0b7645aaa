/*
 * bridge/tick.c - ticks from a simulator, commands into it. See tick.h.
 */
#include "bridge/tick.h"

#include "proto/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESCORT_WINDOW_MS 4000 /* covers the escorted car behind the leader */

typedef struct {
    uint8_t *state; /* per route index: 0 not requested, 1 requested, 2 cancelled */
    int32_t msg_count;
} obu_escort_t;

struct bridge_obu {
    const sim_scenario_t *scn;
    obu_escort_t *escort;
    int32_t bus_class;
};

bridge_obu_t *bridge_obu_new(const sim_scenario_t *scn) {
    bridge_obu_t *o = calloc(1, sizeof *o);
    if (o == NULL)
        return NULL;
    o->scn = scn;
    o->bus_class = sim_scenario_find_class(scn, "bus");
    o->escort = calloc((size_t)scn->n_escorts + 1, sizeof *o->escort);
    if (o->escort == NULL) {
        bridge_obu_destroy(&o);
        return NULL;
    }
    for (int32_t e = 0; e < scn->n_escorts; e++) {
        o->escort[e].state = calloc((size_t)scn->escorts[e].route.n_links + 1, 1);
        if (o->escort[e].state == NULL) {
            bridge_obu_destroy(&o);
            return NULL;
        }
    }
    return o;
}

void bridge_obu_destroy(bridge_obu_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    bridge_obu_t *o = *self_p;
    if (o->escort != NULL) {
        for (int32_t e = 0; e < o->scn->n_escorts; e++)
            free(o->escort[e].state);
        free(o->escort);
    }
    free(o);
    *self_p = NULL;
}

static proto_phase_state_t phase_of(sim_signal_state_t s) {
    switch (s) {
    case SIM_SIGNAL_GREEN:
        return PROTO_PHASE_PROTECTED_ALLOWED;
    case SIM_SIGNAL_YELLOW:
        return PROTO_PHASE_PROTECTED_CLEARANCE;
    case SIM_SIGNAL_RED:
        return PROTO_PHASE_STOP_AND_REMAIN;
    default:
        return PROTO_PHASE_DARK;
    }
}

void bridge_tick_signal(const sim_t *sim, int32_t s, proto_intersection_state_t *is,
                        proto_group_state_t *groups) {
    const sim_scenario_t *scn = sim_scenario(sim);
    const sim_signal_t *sig = &scn->signals[s];
    sim_signal_status_t ss = sim_signal_status(sim, s);
    is->id = scn->nodes[sig->node].id;
    is->stage = sig->stages[ss.stage].id;
    is->next_stage = sig->stages[ss.next_stage].id;
    is->in_change = ss.in_change;
    is->plan = sig->plans[ss.plan].id;
    is->external = ss.external;
    is->preempt_active = ss.external && ss.preempt;
    is->priority_active = ss.external && !ss.preempt;
    is->in_transition = ss.in_transition;
    is->n_groups = sig->n_groups;
    is->groups = groups;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        is->groups[g].id = sig->groups[g].id;
        is->groups[g].state = phase_of(sim_signal_state(sim, s, g));
        is->groups[g].min_end_ms = sim_group_min_end(sim, s, g);
        is->groups[g].max_end_ms = sim_group_max_end(sim, s, g);
    }
}

static int build_spat(const sim_t *sim, base_arena_t *a, proto_tick_t *t) {
    const sim_scenario_t *scn = sim_scenario(sim);
    t->n_spat = scn->n_signals;
    t->spat = base_arena_calloc(a, (size_t)scn->n_signals + 1, sizeof *t->spat);
    if (t->spat == NULL)
        return BASE_ENOMEM;
    for (int32_t s = 0; s < scn->n_signals; s++) {
        proto_group_state_t *g =
            base_arena_calloc(a, (size_t)scn->signals[s].n_groups + 1, sizeof *g);
        if (g == NULL)
            return BASE_ENOMEM;
        bridge_tick_signal(sim, s, &t->spat[s], g);
    }
    return BASE_OK;
}

static int build_detectors(const sim_t *sim, base_arena_t *a, proto_tick_t *t) {
    const sim_scenario_t *scn = sim_scenario(sim);
    t->n_detectors = scn->n_detectors;
    t->detectors = base_arena_calloc(a, (size_t)scn->n_detectors + 1, sizeof *t->detectors);
    if (t->detectors == NULL)
        return BASE_ENOMEM;
    for (int32_t d = 0; d < scn->n_detectors; d++) {
        t->detectors[d].id = scn->detectors[d].id;
        t->detectors[d].count = sim_detector_count(sim, d);
        t->detectors[d].occupied = sim_detector_occupied(sim, d);
    }
    return BASE_OK;
}

static int node_signalized(const sim_scenario_t *scn, int32_t link) {
    return scn->nodes[scn->links[link].to].signal >= 0;
}

/* Time the vehicle reaches the end of its current link. */
static sim_time_t end_of_link(const sim_t *sim, const sim_vehicle_info_t *vi) {
    if (!vi->in_network || vi->queued)
        return sim_now(sim);
    return vi->stopline_at > sim_now(sim) ? vi->stopline_at : sim_now(sim);
}

static int add_escort_srm(const sim_t *sim, bridge_obu_t *o, base_arena_t *a, int32_t e,
                          proto_srm_t *srm) {
    const sim_scenario_t *scn = sim_scenario(sim);
    const sim_escort_t *es = &scn->escorts[e];
    obu_escort_t *obu = &o->escort[e];
    int32_t slot = sim_escort_slot(sim, e);
    sim_vehicle_info_t vi;
    int travelling = slot >= 0 && sim_vehicle_get(sim, slot, &vi);
    int32_t pos = travelling ? vi.route_pos : es->route.n_links;
    int32_t n = 0;
    for (int32_t i = 0; i < es->route.n_links - 1; i++)
        if (node_signalized(scn, es->route.links[i]) && (i >= pos || obu->state[i] == 1))
            n++;
    if (n == 0)
        return 0;
    srm->requests = base_arena_calloc(a, (size_t)n, sizeof *srm->requests);
    if (srm->requests == NULL)
        return BASE_ENOMEM;
    srm->request_id = e + 1;
    srm->msg_count = obu->msg_count;
    obu->msg_count = (obu->msg_count + 1) % 128;
    srm->vehicle_id = es->id;
    srm->role = PROTO_ROLE_POLICE;
    srm->link = scn->links[travelling ? vi.link : es->route.links[es->route.n_links - 1]].id;
    srm->pos_m = travelling ? vi.pos_m : 0;
    srm->speed_mps = travelling ? vi.speed_mps : 0;
    sim_time_t eta = travelling ? end_of_link(sim, &vi) : sim_now(sim);
    int32_t k = 0;
    for (int32_t i = 0; i < es->route.n_links - 1; i++) {
        int32_t l = es->route.links[i];
        if (i > pos)
            eta += sim_scenario_drive_time(scn->links[l].length_m, es->desired_speed_mps);
        if (!node_signalized(scn, l))
            continue;
        if (i < pos) {
            if (obu->state[i] == 1) {
                proto_request_t *r = &srm->requests[k++];
                r->intersection = scn->nodes[scn->links[l].to].id;
                r->request_type = PROTO_REQ_CANCEL;
                r->in_bound_lane = scn->links[l].id;
                r->out_bound_lane = scn->links[es->route.links[i + 1]].id;
                r->eta_ms = sim_now(sim);
                r->duration_ms = 0;
                obu->state[i] = 2;
            }
            continue;
        }
        proto_request_t *r = &srm->requests[k++];
        r->intersection = scn->nodes[scn->links[l].to].id;
        r->request_type = obu->state[i] ? PROTO_REQ_UPDATE : PROTO_REQ_REQUEST;
        r->in_bound_lane = scn->links[l].id;
        r->out_bound_lane = scn->links[es->route.links[i + 1]].id;
        r->eta_ms = eta < PROTO_TIME_MS_MAX ? eta : PROTO_TIME_MS_MAX; /* the wire's range */
        r->duration_ms = ESCORT_WINDOW_MS;
        obu->state[i] = 1;
    }
    srm->n_requests = k;
    return k > 0 ? 1 : 0;
}

static int build_srms(const sim_t *sim, bridge_obu_t *o, base_arena_t *a, proto_tick_t *t,
                      int escorts, int transit) {
    const sim_scenario_t *scn = sim_scenario(sim);
    int32_t buses = 0;
    if (o->bus_class >= 0 && transit) {
        for (int32_t v = 0; v < sim_vehicle_slots(sim); v++) {
            sim_vehicle_info_t vi;
            if (sim_vehicle_get(sim, v, &vi) && vi.vclass == o->bus_class && vi.in_network &&
                vi.route_pos < vi.route->n_links - 1 && node_signalized(scn, vi.link))
                buses++;
        }
    }
    size_t cap = (size_t)scn->n_escorts + (size_t)buses + 1;
    t->srms = base_arena_calloc(a, cap, sizeof *t->srms);
    if (t->srms == NULL)
        return BASE_ENOMEM;
    t->n_srms = 0;
    for (int32_t e = 0; escorts && e < scn->n_escorts; e++) {
        if (sim_escort_status(sim, e).state == 0)
            continue;
        int rc = add_escort_srm(sim, o, a, e, &t->srms[t->n_srms]);
        if (rc < 0)
            return rc;
        t->n_srms += rc;
    }
    for (int32_t v = 0; buses > 0 && v < sim_vehicle_slots(sim); v++) {
        sim_vehicle_info_t vi;
        if (!sim_vehicle_get(sim, v, &vi) || vi.vclass != o->bus_class || !vi.in_network ||
            vi.route_pos >= vi.route->n_links - 1 || !node_signalized(scn, vi.link))
            continue;
        proto_srm_t *srm = &t->srms[t->n_srms++];
        char *id = base_arena_alloc(a, 32);
        proto_request_t *r = base_arena_calloc(a, 1, sizeof *r);
        if (id == NULL || r == NULL)
            return BASE_ENOMEM;
        snprintf(id, 32, "bus-%lld", (long long)vi.id);
        srm->request_id = 128 + (int32_t)(vi.id % 128);
        srm->msg_count = 0;
        srm->vehicle_id = id;
        srm->role = PROTO_ROLE_TRANSIT;
        srm->link = scn->links[vi.link].id;
        srm->pos_m = vi.pos_m;
        srm->speed_mps = vi.speed_mps;
        r->intersection = scn->nodes[scn->links[vi.link].to].id;
        r->request_type = PROTO_REQ_REQUEST;
        r->in_bound_lane = scn->links[vi.link].id;
        r->out_bound_lane = scn->links[vi.route->links[vi.route_pos + 1]].id;
        r->eta_ms = end_of_link(sim, &vi);
        r->duration_ms = 2000;
        srm->requests = r;
        srm->n_requests = 1;
    }
    return BASE_OK;
}

/* ---- applying a control ------------------------------------------------------------ */

static int32_t find_signal(const sim_scenario_t *scn, const char *node) {
    for (int32_t s = 0; s < scn->n_signals; s++)
        if (strcmp(scn->nodes[scn->signals[s].node].id, node) == 0)
            return s;
    return -1;
}

static int32_t find_stage(const sim_signal_t *sig, const char *id) {
    for (int32_t k = 0; id != NULL && k < sig->n_stages; k++)
        if (strcmp(sig->stages[k].id, id) == 0)
            return k;
    return -1;
}


int bridge_tick_build(const sim_t *sim, bridge_obu_t *obu, base_arena_t *arena, proto_tick_t *out) {
    memset(out, 0, sizeof *out);
    out->time_ms = sim_now(sim);
    if (build_spat(sim, arena, out) < 0 || build_detectors(sim, arena, out) < 0 ||
        build_srms(sim, obu, arena, out, 1, 1) < 0)
        return BASE_ENOMEM;
    return BASE_OK;
}

int bridge_tick_build_srms(const sim_t *sim, bridge_obu_t *obu, base_arena_t *arena, int escorts,
                           int transit, proto_tick_t *out) {
    out->time_ms = sim_now(sim);
    out->srms = NULL;
    out->n_srms = 0;
    return build_srms(sim, obu, arena, out, escorts, transit) < 0 ? BASE_ENOMEM : BASE_OK;
}

int bridge_tick_build_state(const sim_t *sim, base_arena_t *arena, proto_tick_t *out) {
    out->time_ms = sim_now(sim);
    if (build_spat(sim, arena, out) < 0 || build_detectors(sim, arena, out) < 0)
        return BASE_ENOMEM;
    return BASE_OK;
}

int bridge_command_apply(sim_t *sim, const proto_command_t *pc, base_err_t *why) {
    return bridge_command_apply_at(sim, pc, find_signal(sim_scenario(sim), pc->intersection), why);
}

int bridge_command_apply_at(sim_t *sim, const proto_command_t *pc, int32_t signal,
                            base_err_t *why) {
    const sim_scenario_t *scn = sim_scenario(sim);
    sim_command_t cmd = {.signal = signal, .stage = -1};
    cmd.hold = pc->hold;
    cmd.preempt = pc->preempt;
    cmd.transition = (sim_transition_t)pc->transition;
    switch (pc->action) {
    case PROTO_CMD_HOLD:
        cmd.action = SIM_CMD_HOLD;
        break;
    case PROTO_CMD_FORCE_OFF:
        cmd.action = SIM_CMD_FORCE_OFF;
        break;
    case PROTO_CMD_CALL:
        cmd.action = SIM_CMD_CALL;
        if (cmd.signal >= 0)
            cmd.stage = find_stage(&scn->signals[cmd.signal], pc->stage);
        break;
    case PROTO_CMD_RELEASE:
        cmd.action = SIM_CMD_RELEASE;
        break;
    default:
        cmd.action = (sim_cmd_action_t)0;
        break;
    }
    return sim_command(sim, &cmd, why);
}
