/*
 * controller/tsp.c - transit signal priority for buses at signals that run their local plan
 * (strategies local and corridor; actuated control has its own, in actuated.c).
 *
 * A bus's SRM names its next intersection only. At a signal where no escort is engaged, the
 * bus with the earliest ETA is served (or the one already served, until it has passed), when
 * its ETA is within the TSP horizon (--tsp-horizon, 10 s):
 *   - green extension: its stage is green but the plan would end the green before the bus
 *     has crossed (ETA + its window): hold it, up to the maximum green of the stage counted
 *     from the start of its green; at the maximum, release (the bus is then rejected). An
 *     extension that could not reach the ETA within the maximum is not started.
 *   - early green (red truncation): its stage is the next one and the plan would not serve
 *     it by the ETA: call it without hold, which ends the current green early. The call never
 *     cuts a minimum green (the simulator ends the current green at its minimum end at the
 *     earliest), nor a clearance. A stage further on is not called: that would skip the
 *     stages in between, whole greens lost to one bus; nor is a green cut by more than
 *     the TSP cut limit (--tsp-max-cut, 10 s) (unbounded truncation of a main-street green costs
 * the network far more than the bus gains). When the plan already serves the bus, nothing is sent
 * and the request is granted (NTCIP activeAdjustNotNeeded). Reservice lockout: after a priority
 * action for one bus, another bus gets none at that signal for the lockout (--tsp-lockout, 60 s)
 * (it is answered reserviceLocked), so buses on crossing approaches cannot pull the signal from
 * stage to stage. When the bus has passed (its SRM no longer names the signal), the caller ends the
 * service (service.c: after an early green the release waits for the next change of stage). Escorts
 * outrank buses: where one is engaged, buses get watchOtherTraffic (their stage is the escort's) or
 * rejected.
 */
#include "controller/ctl_internal.h"

#include <stdio.h>
#include <string.h>

static double secs(int64_t ms) {
    return (double)ms / 1000.0;
}

/* Serves bus b at sig; returns 1 while a TSP service keeps the signal. */
static int serve(ctl__session_t *s, int32_t sig, ctl__req_t *b) {
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    const ctl__sigview_t *v = &s->views[sig];
    ctl__svc_t *svc = &s->svc[sig];
    int ours = svc->active && svc->kind == CTL__SVC_BUS &&
               strncmp(svc->vehicle, b->vehicle, sizeof svc->vehicle - 1) == 0;
    char why[CTL__LOG_LINE_MAX];
    if (!v->seen) {
        ctl__req_status(b, PROTO_SSM_REQUESTED);
        return ours;
    }
    int32_t k = ctl__view_stage_for_group(s, sig, b->group);
    b->stage = k;
    if (k < 0) {
        ctl__req_reject(b, "no stage serves its movement");
        return 0;
    }
    int64_t to_go = b->eta - s->now;
    if (!v->in_change && v->stage == k) {
        int64_t max_end = v->green_start + ctl__map_max_green(sg, sg->stages[k].groups);
        if (ours && svc->hold && svc->stage == k) {
            if (s->now >= max_end) {
                snprintf(why, sizeof why, "TSP: green extension for %s ends at the maximum green",
                         b->vehicle);
                ctl__svc_release(s, sig, why);
                ctl__req_reject(b, "the maximum green ends the extension");
                return 1;
            }
            ctl__req_status(b, PROTO_SSM_GRANTED);
            return 1;
        }
        if (to_go > ctl__ms(s->cfg->tsp_horizon_s)) {
            ctl__req_status(b, PROTO_SSM_REQUESTED);
            return ours;
        }
        int held_by_other = v->held || v->green_end < 0;
        int64_t plan_end = held_by_other ? s->now : v->green_end;
        if (!held_by_other && plan_end >= b->eta + b->duration) {
            ctl__req_status(b, PROTO_SSM_GRANTED); /* the plan serves it: no adjustment */
            return ours;
        }
        if (max_end <= s->now || max_end < b->eta) {
            ctl__req_reject(b, "an extension to its ETA would exceed the maximum green");
            return ours;
        }
        if (!ctl__tsp_take(s, sig, b))
            return ours;
        snprintf(why, sizeof why,
                 "TSP green extension for %s: ETA in %.1f s, the green would end in %.1f s, "
                 "maximum green in %.1f s",
                 b->vehicle, secs(to_go), secs(plan_end - s->now), secs(max_end - s->now));
        ctl__svc_hold(s, sig, CTL__SVC_BUS, b->vehicle, k, 0, why);
        ctl__req_status(b, PROTO_SSM_GRANTED);
        return 1;
    }
    if (ours && svc->stage == k && !svc->hold) {
        ctl__req_status(b, PROTO_SSM_PROCESSING); /* early green under way */
        return 1;
    }
    if (to_go > ctl__ms(s->cfg->tsp_horizon_s)) {
        ctl__req_status(b, PROTO_SSM_REQUESTED);
        return ours;
    }
    /* Does the plan serve the bus by its ETA anyway? */
    if (v->in_change && v->next == k && v->next_start <= b->eta) {
        ctl__req_status(b, PROTO_SSM_GRANTED);
        return ours;
    }
    if (!v->in_change && v->next == k && v->green_end >= 0 &&
        v->green_end + ctl__map_intergreen(sg, sg->stages[v->stage].groups, sg->stages[k].groups) <=
            b->eta) {
        ctl__req_status(b, PROTO_SSM_GRANTED);
        return ours;
    }
    /* Red truncation: only when the bus's stage comes next; calling a later stage would skip
     * the stages between (whole greens lost to one bus). */
    if (v->in_change || (v->stage + 1) % sg->n_stages != k) {
        ctl__req_status(b, PROTO_SSM_REQUESTED);
        return ours;
    }
    /* ... and by at most tsp_max_cut_s of the current green. */
    int64_t cut_from = s->now > v->min_end ? s->now : v->min_end;
    if (v->green_end < 0 || v->green_end - cut_from > ctl__ms(s->cfg->tsp_max_cut_s)) {
        ctl__req_status(b, PROTO_SSM_REQUESTED);
        return ours;
    }
    if (!ctl__tsp_take(s, sig, b))
        return ours;
    snprintf(why, sizeof why, "TSP early green for %s: ETA in %.1f s, its stage %s is next",
             b->vehicle, secs(to_go), ctl__stage_name(s, sig, k));
    ctl__svc_call(s, sig, CTL__SVC_BUS, b->vehicle, k, 0, why);
    ctl__req_status(b, PROTO_SSM_PROCESSING);
    return 1;
}

int ctl__tsp_signal(ctl__session_t *s, int32_t sig) {
    if (!s->cfg->tsp || !s->strategy->tsp) {
        ctl__requests_others(s, sig, CTL__CLASS_BUS, NULL, -1, NULL, PROTO_SSM_REJECTED,
                             PROTO_SSM_REJECTED, "transit signal priority is off");
        return 0;
    }
    ctl__req_t *b = ctl__tsp_winner(s, sig);
    if (b == NULL) {
        ctl__requests_others(s, sig, CTL__CLASS_BUS, NULL, -1, NULL, PROTO_SSM_REJECTED,
                             PROTO_SSM_REJECTED, "unresolved");
        return 0;
    }
    int keep = serve(s, sig, b);
    /* Other buses: served by the same green, or waiting behind the winner. */
    proto_ssm_status_t same = b->ssm ? b->status : PROTO_SSM_REQUESTED;
    ctl__requests_others(s, sig, CTL__CLASS_BUS, b, b->stage, NULL, same, PROTO_SSM_REJECTED,
                         "a bus with an earlier ETA is served");
    return keep;
}

ctl__req_t *ctl__tsp_winner(ctl__session_t *s, int32_t sig) {
    const ctl__tsp_t *x = &s->tsp[sig];
    for (int32_t i = 0; x->at != CTL__NEVER && i < s->n_reqs; i++) {
        ctl__req_t *r = &s->reqs[i];
        if (r->sig == sig && r->cls == CTL__CLASS_BUS && r->valid && !r->cancel &&
            strncmp(x->vehicle, r->vehicle, sizeof x->vehicle - 1) == 0)
            return r; /* its service goes on until it has passed */
    }
    return ctl__requests_winner(s, sig, CTL__CLASS_BUS, NULL);
}

int ctl__tsp_take(ctl__session_t *s, int32_t sig, ctl__req_t *r) {
    ctl__tsp_t *x = &s->tsp[sig];
    /* The same bus goes on (early green, then an extension of that green), for a while. */
    int same = strncmp(x->vehicle, r->vehicle, sizeof x->vehicle - 1) == 0;
    if (same && s->now - x->at <= 2 * ctl__ms(s->cfg->tsp_horizon_s))
        return 1;
    if (x->at != CTL__NEVER && s->now - x->at < ctl__ms(s->cfg->tsp_lockout_s)) {
        ctl__req_status(r, PROTO_SSM_RESERVICE_LOCKED);
        return 0;
    }
    x->at = s->now;
    snprintf(x->vehicle, sizeof x->vehicle, "%s", r->vehicle);
    return 1;
}

void ctl__tsp_lose(ctl__session_t *s, int32_t sig, int32_t k) {
    ctl__requests_others(s, sig, CTL__CLASS_BUS, NULL, k, NULL, PROTO_SSM_WATCH_OTHER_TRAFFIC,
                         PROTO_SSM_REJECTED, "an escort is served here");
}
