/*
 * controller/route_green.c - strategy "route-green": the reference that gives the escort
 * every signal of its route for the whole run, as the crudest "一路绿灯".
 *
 * From the first tick, for every planned escort route of the map (a list of links; its
 * intersections are the nodes between consecutive links), the stage serving the escort's
 * movement at each signal is called with hold and the preempt flag, and never released.
 * Where two routes need conflicting stages at one signal, the first escort of the map keeps
 * it (logged once). The call is repeated only if the SPaT shows it lost. Escort requests are
 * granted when their group is green under this hold, processing while the call is under way,
 * and rejected elsewhere; buses get no priority.
 */
#include "controller/ctl_internal.h"

#include <stdio.h>

/* The first stage, in sequence order, that greens group g of signal sig; -1 if none. */
static int32_t first_stage(const sim_signal_t *sg, int32_t g) {
    for (int32_t k = 0; g >= 0 && k < sg->n_stages; k++)
        if (sg->stages[k].groups & (UINT64_C(1) << g))
            return k;
    return -1;
}

void ctl__route_green_tick(ctl__session_t *s) {
    const sim_scenario_t *scn = s->map.scn;
    int32_t *want = base_arena_calloc(&s->arena, (size_t)scn->n_signals + 1, sizeof *want);
    const char **who = base_arena_calloc(&s->arena, (size_t)scn->n_signals + 1, sizeof *who);
    if (want == NULL || who == NULL) {
        s->oom = 1;
        return;
    }
    for (int32_t i = 0; i < scn->n_signals; i++)
        want[i] = -1;
    for (int32_t e = 0; e < scn->n_escorts; e++) {
        const sim_escort_t *es = &scn->escorts[e];
        for (int32_t i = 0; i + 1 < es->route.n_links; i++) {
            int32_t a = es->route.links[i];
            int32_t sig = scn->nodes[scn->links[a].to].signal;
            int32_t m = ctl__map_movement(&s->map, a, es->route.links[i + 1]);
            if (sig < 0 || m < 0 || scn->movements[m].signal != sig)
                continue;
            int32_t k = first_stage(&scn->signals[sig], scn->movements[m].group);
            if (k < 0)
                continue;
            if (want[sig] < 0) {
                want[sig] = k;
                who[sig] = es->id;
            } else if (want[sig] != k && s->ticks == 0) {
                ctl__log(s, "%s: route-green: %s needs stage %s, held for %s (stage %s) first",
                         ctl__sig_name(s, sig), es->id, ctl__stage_name(s, sig, k), who[sig],
                         ctl__stage_name(s, sig, want[sig]));
            }
        }
    }
    char why[CTL__LOG_LINE_MAX];
    for (int32_t sig = 0; sig < scn->n_signals; sig++) {
        int32_t k = want[sig];
        if (k >= 0) {
            snprintf(why, sizeof why, "route-green: on the route of %s, held for the whole run",
                     who[sig]);
            ctl__svc_hold(s, sig, CTL__SVC_ROUTE, who[sig], k, 1, why);
        }
        for (int32_t i = 0; i < s->n_reqs; i++) {
            ctl__req_t *r = &s->reqs[i];
            if (r->sig != sig || r->cancel)
                continue;
            r->stage = k;
            if (r->cls != CTL__CLASS_ESCORT || !r->valid || k < 0 ||
                !(scn->signals[sig].stages[k].groups & (UINT64_C(1) << r->group)))
                ctl__req_reject(r, "not served by the route-green holds");
            else
                ctl__req_status(r, ctl__view_group_green(s, sig, r->group) ? PROTO_SSM_GRANTED
                                                                           : PROTO_SSM_PROCESSING);
        }
    }
}
