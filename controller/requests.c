/*
 * controller/requests.c - priority requests: the tick's SRMs resolved against the map, and
 * the arbitration between them.
 *
 * Each SignalRequest of an SRM becomes one ctl__req_t: the intersection (a signal of the
 * map), the approach and exit links (inBoundLane / outBoundLane), the movement between them,
 * its signal group, the ETA window and the class (escort for police, fire and ambulance;
 * bus for transit; other roles are not served). A request that does not resolve (unknown
 * intersection, lane, or a movement that is not at that intersection) is kept as invalid and
 * answered "rejected". Requests of a vehicle whose id is empty or too long for the wire are
 * ignored: the answer could not be encoded.
 *
 * Arbitration at one signal: escort before bus (the class), then the higher priority level
 * (J2735 RequestImportanceLevel; the SRM does not carry it on our wire, so it is the map's
 * escort `priority`, 14 by default, for the escort of that id; 14 for other escorts, 0 for
 * buses), then the earliest ETA, then the vehicle id (deterministic). The strategies choose
 * which requests take part.
 *
 * Planned escorts (corridor only): before an escort departs, the map's escort list gives its
 * route, departure and desired speed; the controller plans with the ETAs it implies (drive
 * time of each link at the desired speed, as the on-board unit computes them) until the
 * escort's own SRM appears. They get no SSM (there is no SRM to answer).
 */
#include "controller/ctl_internal.h"

#include <stdio.h>
#include <string.h>

static ctl__class_t class_of(proto_role_t role) {
    switch (role) {
    case PROTO_ROLE_POLICE:
    case PROTO_ROLE_FIRE:
    case PROTO_ROLE_AMBULANCE:
        return CTL__CLASS_ESCORT;
    case PROTO_ROLE_TRANSIT:
        return CTL__CLASS_BUS;
    default:
        return CTL__CLASS_OTHER;
    }
}

static int id_ok(const char *id) {
    if (id == NULL)
        return 0;
    size_t n = strlen(id);
    return n > 0 && n < PROTO_ID_MAX;
}

/* Resolves the links, movement and group of r at its signal. */
static void resolve(const ctl__session_t *s, ctl__req_t *r) {
    const sim_scenario_t *scn = s->map.scn;
    r->movement = r->group = -1;
    r->valid = 0;
    r->stage = -1;
    r->queue = -1;
    if (r->sig < 0) {
        r->why = "no signal at this intersection in the map";
        return;
    }
    if (r->in_link < 0) {
        r->why = "inBoundLane or outBoundLane not in the map";
        return;
    }
    int32_t node = scn->signals[r->sig].node;
    if (scn->links[r->in_link].to != node) {
        r->why = "inBoundLane does not end at this intersection";
        return;
    }
    int32_t m = ctl__map_movement(&s->map, r->in_link, r->out_link);
    if (m < 0 || scn->movements[m].signal != r->sig || scn->movements[m].group < 0) {
        r->why = "no movement from inBoundLane to outBoundLane here";
        return;
    }
    r->movement = m;
    r->group = scn->movements[m].group;
    r->valid = 1;
}

/* Priority level of a request of class cls from vehicle (see the header). */
static int32_t level_of(const ctl__session_t *s, ctl__class_t cls, const char *vehicle) {
    const sim_scenario_t *scn = s->map.scn;
    if (cls != CTL__CLASS_ESCORT)
        return 0;
    for (int32_t e = 0; e < scn->n_escorts; e++)
        if (strcmp(scn->escorts[e].id, vehicle) == 0)
            return scn->escorts[e].priority;
    return 14;
}

static void mark_escort_seen(ctl__session_t *s, const char *vehicle) {
    const sim_scenario_t *scn = s->map.scn;
    for (int32_t e = 0; e < scn->n_escorts; e++)
        if (strcmp(scn->escorts[e].id, vehicle) == 0)
            s->escort_seen[e] = 1;
}

/* Upper bound of the planned requests (signalized nodes on escort routes). */
static int32_t planned_cap(const ctl__session_t *s) {
    const sim_scenario_t *scn = s->map.scn;
    int32_t n = 0;
    for (int32_t e = 0; e < scn->n_escorts; e++)
        n += scn->escorts[e].route.n_links;
    return n;
}

int ctl__requests_collect(ctl__session_t *s, const proto_tick_t *t) {
    size_t cap = (size_t)planned_cap(s) + 1;
    for (int32_t j = 0; j < t->n_srms && t->srms != NULL; j++)
        if (t->srms[j].requests != NULL && t->srms[j].n_requests > 0)
            cap += (size_t)t->srms[j].n_requests;
    s->reqs = base_arena_calloc(&s->arena, cap, sizeof *s->reqs);
    s->n_reqs = 0;
    if (s->reqs == NULL)
        return BASE_ENOMEM;
    for (int32_t j = 0; j < t->n_srms && t->srms != NULL; j++) {
        const proto_srm_t *srm = &t->srms[j];
        if (!id_ok(srm->vehicle_id) || srm->requests == NULL)
            continue;
        ctl__class_t cls = class_of(srm->role);
        if (cls == CTL__CLASS_ESCORT)
            mark_escort_seen(s, srm->vehicle_id);
        int32_t first = s->n_reqs;
        int32_t at = ctl__map_link(&s->map, srm->link);
        for (int32_t i = 0; i < srm->n_requests; i++) {
            const proto_request_t *q = &srm->requests[i];
            if (!id_ok(q->intersection))
                continue;
            ctl__req_t *r = &s->reqs[s->n_reqs++];
            r->vehicle = srm->vehicle_id;
            r->request_id = srm->request_id;
            r->first = first;
            r->at_link = at;
            r->cls = cls;
            r->level = level_of(s, cls, srm->vehicle_id);
            r->intersection = q->intersection;
            r->sig = ctl__map_signal(&s->map, q->intersection);
            r->in_link = ctl__map_link(&s->map, q->in_bound_lane);
            r->out_link =
                q->out_bound_lane != NULL ? ctl__map_link(&s->map, q->out_bound_lane) : -1;
            if (q->out_bound_lane != NULL && r->out_link < 0)
                r->in_link = -1; /* an exit link the map lacks: unresolvable */
            r->eta = q->eta_ms < 0 ? 0 : q->eta_ms > CTL__TIME_MAX ? CTL__TIME_MAX : q->eta_ms;
            r->duration = q->duration_ms < 0                   ? 0
                          : q->duration_ms > INT64_C(86400000) ? INT64_C(86400000)
                                                               : q->duration_ms;
            r->cancel = q->request_type == PROTO_REQ_CANCEL;
            r->on_approach = srm->link != NULL && r->in_link >= 0 &&
                             strcmp(srm->link, s->map.scn->links[r->in_link].id) == 0;
            resolve(s, r);
            if (cls == CTL__CLASS_OTHER) {
                r->valid = 0;
                r->why = "its role has no priority";
            }
        }
    }
    return BASE_OK;
}

int ctl__requests_add_planned(ctl__session_t *s) {
    const sim_scenario_t *scn = s->map.scn;
    for (int32_t e = 0; e < scn->n_escorts; e++) {
        const sim_escort_t *es = &scn->escorts[e];
        if (s->escort_seen[e] || s->now > es->depart || es->desired_speed_mps <= 0)
            continue;
        int64_t eta = es->depart;
        int32_t first = s->n_reqs;
        for (int32_t i = 0; i + 1 < es->route.n_links; i++) {
            int32_t l = es->route.links[i];
            eta += sim_scenario_drive_time(scn->links[l].length_m, es->desired_speed_mps);
            if (i > 0) { /* the junction crossed onto l (docs/model.md) */
                int32_t m = sim_scenario_find_movement(scn, es->route.links[i - 1], l);
                if (m >= 0)
                    eta += sim_scenario_crossing_time(scn, m, es->desired_speed_mps);
            }
            int32_t sig = scn->nodes[scn->links[l].to].signal;
            if (sig < 0)
                continue;
            ctl__req_t *r = &s->reqs[s->n_reqs++];
            r->vehicle = es->id;
            r->planned = 1;
            r->first = first;
            r->at_link = -1;
            r->cls = CTL__CLASS_ESCORT;
            r->level = es->priority;
            r->intersection = scn->nodes[scn->links[l].to].id;
            r->sig = sig;
            r->in_link = l;
            r->out_link = es->route.links[i + 1];
            r->eta = eta;
            resolve(s, r);
        }
    }
    return BASE_OK;
}

static int before(const ctl__req_t *a, const ctl__req_t *b) {
    if (a->level != b->level)
        return a->level > b->level;
    if (a->eta != b->eta)
        return a->eta < b->eta;
    return strcmp(a->vehicle, b->vehicle) < 0;
}

ctl__req_t *ctl__requests_winner(ctl__session_t *s, int32_t sig, ctl__class_t cls,
                                 int (*engaged)(const ctl__session_t *, const ctl__req_t *)) {
    ctl__req_t *best = NULL;
    for (int32_t i = 0; i < s->n_reqs; i++) {
        ctl__req_t *r = &s->reqs[i];
        if (r->sig != sig || r->cls != cls || !r->valid || r->cancel)
            continue;
        if (engaged != NULL && !engaged(s, r))
            continue;
        if (best == NULL || before(r, best))
            best = r;
    }
    return best;
}

void ctl__req_status(ctl__req_t *r, proto_ssm_status_t st) {
    if (r->planned || r->cancel)
        return;
    r->ssm = 1;
    r->status = st;
}

void ctl__req_reject(ctl__req_t *r, const char *why) {
    ctl__req_status(r, PROTO_SSM_REJECTED);
    if (r->why == NULL)
        r->why = why;
}

/* r loses to w at the same signal: rejected (lower level) or processing (queued behind an
 * earlier ETA of the same level), with the reason, naming w, in the arena. */
static void lose_to(ctl__session_t *s, ctl__req_t *r, const ctl__req_t *w) {
    char why[CTL__LOG_LINE_MAX];
    if (w->level > r->level)
        snprintf(why, sizeof why, "%s has a higher priority level (%d > %d)", w->vehicle,
                 (int)w->level, (int)r->level);
    else
        snprintf(why, sizeof why,
                 "queued: %s, same priority level %d, arrives first (ETA %.1f s before)",
                 w->vehicle, (int)w->level, (double)(r->eta - w->eta) / 1000.0);
    char *copy = base_arena_strdup(&s->arena, why);
    if (copy == NULL)
        s->oom = 1;
    if (w->level > r->level) {
        ctl__req_reject(r, copy != NULL ? copy : "outranked");
    } else {
        ctl__req_status(r, PROTO_SSM_PROCESSING);
        if (r->why == NULL)
            r->why = copy;
    }
}

void ctl__requests_others(ctl__session_t *s, int32_t sig, ctl__class_t cls, const ctl__req_t *w,
                          int32_t k, int (*engaged)(const ctl__session_t *, const ctl__req_t *),
                          proto_ssm_status_t same, proto_ssm_status_t other, const char *why) {
    if (s->n_reqs == 0)
        return;
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    for (int32_t i = 0; i < s->n_reqs; i++) {
        ctl__req_t *r = &s->reqs[i];
        if (r == w || r->sig != sig || r->cls != cls || r->cancel)
            continue;
        if (!r->valid)
            ctl__req_reject(r, "unresolved");
        else if (engaged != NULL && !engaged(s, r))
            ctl__req_status(r, PROTO_SSM_REQUESTED);
        else if (k >= 0 && (sg->stages[k].groups & (UINT64_C(1) << r->group)))
            ctl__req_status(r, same);
        else if (other == PROTO_SSM_REJECTED && why == NULL && w != NULL)
            lose_to(s, r, w);
        else if (other == PROTO_SSM_REJECTED)
            ctl__req_reject(r, why != NULL ? why : "another request is served");
        else
            ctl__req_status(r, other);
    }
}
