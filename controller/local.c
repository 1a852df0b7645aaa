/*
 * controller/local.c - strategy "local": field-style emergency vehicle preemption, each
 * intersection on its own (the NTCIP 1202 preemption sequence over stages).
 *
 *   not active      the escort's ETA to the intersection is beyond detection_range_s:
 *                   the request is "requested", the signal runs its plan (TSP may act);
 *   entry           the ETA enters the range: call the stage serving the escort's movement
 *                   (inBoundLane -> outBoundLane -> group -> stage) with hold and the
 *                   preempt flag. The simulator ends the current green no earlier than its
 *                   minimum and runs the full yellow and red clearance ("processing");
 *   dwell           the stage is green and held ("granted") while the SRM names the
 *                   intersection, even if the ETA moves out of range meanwhile;
 *   exit            the SRM no longer names it, or cancels it (the escort has crossed):
 *                   release with the configured transition back to coordination.
 * Several escorts at one intersection: the earliest ETA is served; another one served by the
 * same stage shares its status, a conflicting one is rejected until the first has passed.
 */
#include "controller/ctl_internal.h"

#include <stdio.h>
#include <string.h>

/* Engaged: within the detection range, or already preempted for it (the dwell lasts until
 * the escort has passed, even if its ETA moves out of range meanwhile). */
static int in_range(const ctl__session_t *s, const ctl__req_t *r) {
    const ctl__svc_t *svc = &s->svc[r->sig];
    if (svc->active && svc->kind == CTL__SVC_ESCORT &&
        strncmp(svc->vehicle, r->vehicle, sizeof svc->vehicle - 1) == 0)
        return 1;
    return r->eta - s->now <= (int64_t)(s->cfg->detection_range_s * 1000.0 + 0.5);
}

void ctl__local_tick(ctl__session_t *s) {
    const sim_scenario_t *scn = s->map.scn;
    char why[CTL__LOG_LINE_MAX];
    for (int32_t sig = 0; sig < scn->n_signals; sig++) {
        ctl__req_t *e = ctl__requests_winner(s, sig, CTL__CLASS_ESCORT, in_range);
        if (e == NULL) {
            ctl__requests_others(s, sig, CTL__CLASS_ESCORT, NULL, -1, in_range, PROTO_SSM_REJECTED,
                                 PROTO_SSM_REJECTED, "unresolved");
            if (!ctl__tsp_signal(s, sig))
                ctl__svc_end(s, sig);
            continue;
        }
        int32_t k = ctl__view_stage_for_group(s, sig, e->group);
        e->stage = k;
        if (k < 0) {
            ctl__req_reject(e, "no stage serves its movement");
        } else if (!s->views[sig].seen) {
            ctl__req_status(e, PROTO_SSM_REQUESTED);
        } else {
            snprintf(why, sizeof why,
                     "preemption entry for %s: ETA in %.1f s, within the %.0f s range", e->vehicle,
                     (double)(e->eta - s->now) / 1000.0, s->cfg->detection_range_s);
            ctl__svc_hold(s, sig, CTL__SVC_ESCORT, e->vehicle, k, 1, why);
            ctl__req_status(e, ctl__view_group_green(s, sig, e->group) ? PROTO_SSM_GRANTED
                                                                       : PROTO_SSM_PROCESSING);
        }
        ctl__requests_others(s, sig, CTL__CLASS_ESCORT, e, k, in_range,
                             e->ssm ? e->status : PROTO_SSM_REQUESTED, PROTO_SSM_REJECTED,
                             "an escort with an earlier ETA is served");
        ctl__tsp_lose(s, sig, k);
    }
}
