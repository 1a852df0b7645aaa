/*
 * controller/service.c - the service a signal is under, and the commands that start, keep
 * and end it, each sent once.
 *
 * A service (ctl__svc_t) remembers the last call or hold the controller sent to a signal
 * and for whom. Before sending again, the SPaT is compared with what that command should
 * have done: the stage green and held, or under way (the stage is the next one, or a change
 * is running and the call waits behind it). A command is repeated only when the SPaT
 * contradicts it (a green of the stage without hold, or the signal no longer under external
 * control, as after the simulator lost and took back the controller). The release returns
 * the signal to its local plan with the configured transition and forgets the service.
 *
 * The simulator re-anchors the plan on the current green when it releases a signal (the
 * green ends at its minimum, or now, in a shifted plan, and the transition absorbs the
 * shift). After a hold the plan is out of step anyway; after a call without hold (a bus's
 * early green) it is not, so that release waits for the next change interval or the planned
 * end of the green, where re-anchoring shifts nothing.
 */
#include "controller/ctl_internal.h"

#include <stdio.h>
#include <string.h>

static void set_svc(ctl__svc_t *svc, ctl__svc_kind_t kind, const char *vehicle, int32_t k, int hold,
                    int preempt, int64_t now) {
    int32_t early = svc->early_stage;
    uint64_t call = svc->call;
    memset(svc, 0, sizeof *svc);
    svc->kind = kind;
    snprintf(svc->vehicle, sizeof svc->vehicle, "%s", vehicle != NULL ? vehicle : "");
    svc->active = 1;
    svc->stage = k;
    svc->hold = hold;
    svc->preempt = preempt;
    svc->since = now;
    svc->early_stage = early;
    svc->call = call;
}

static int same_owner(const ctl__svc_t *svc, ctl__svc_kind_t kind, const char *vehicle) {
    /* Ids longer than the buffer compare on the stored prefix. */
    return svc->active && svc->kind == kind &&
           strncmp(svc->vehicle, vehicle != NULL ? vehicle : "", sizeof svc->vehicle - 1) == 0;
}

int ctl__svc_hold(ctl__session_t *s, int32_t sig, ctl__svc_kind_t kind, const char *vehicle,
                  int32_t k, int preempt, const char *why) {
    ctl__svc_t *svc = &s->svc[sig];
    const ctl__sigview_t *v = &s->views[sig];
    if (!v->seen)
        return 0; /* no state to check against: wait for the next SPaT */
    int green_k = !v->in_change && v->stage == k;
    if (green_k && v->held && v->external && svc->active && svc->stage == k && svc->hold &&
        svc->preempt == preempt) {
        /* Already green and held, by this service or one we take over. */
        if (!same_owner(svc, kind, vehicle))
            set_svc(svc, kind, vehicle, k, 1, preempt, svc->since);
        return 0;
    }
    if (same_owner(svc, kind, vehicle) && svc->stage == k && svc->hold && v->external &&
        !(green_k && !v->held) && !(svc->seen_green && !green_k))
        return 0; /* under way: the call waits for a minimum green or a change */
    if (!ctl__emit(s, sig, PROTO_CMD_CALL, k, 1, preempt, why))
        return 0;
    set_svc(svc, kind, vehicle, k, 1, preempt, s->now);
    svc->seen_green = green_k;
    return 1;
}

int ctl__svc_call(ctl__session_t *s, int32_t sig, ctl__svc_kind_t kind, const char *vehicle,
                  int32_t k, int preempt, const char *why) {
    ctl__svc_t *svc = &s->svc[sig];
    const ctl__sigview_t *v = &s->views[sig];
    if (!v->seen)
        return 0;
    if (same_owner(svc, kind, vehicle) && svc->stage == k && !svc->hold && v->external)
        return 0; /* called once */
    if (!v->in_change && v->stage == k && !svc->active)
        return 0; /* already green under the local plan */
    if (!ctl__emit(s, sig, PROTO_CMD_CALL, k, 0, preempt, why))
        return 0;
    set_svc(svc, kind, vehicle, k, 0, preempt, s->now);
    svc->seen_green = !v->in_change && v->stage == k;
    return 1;
}

int ctl__svc_release(ctl__session_t *s, int32_t sig, const char *why) {
    ctl__svc_t *svc = &s->svc[sig];
    if (!svc->active)
        return 0;
    if (!ctl__emit(s, sig, PROTO_CMD_RELEASE, -1, 0, 0, why))
        return 0;
    int32_t early = svc->early_stage;
    memset(svc, 0, sizeof *svc);
    svc->stage = -1;
    svc->early_stage = early;
    return 1;
}

/* Whether the vehicle of the service at sig still has a request there. */
static int still_requesting(const ctl__session_t *s, int32_t sig) {
    const ctl__svc_t *svc = &s->svc[sig];
    for (int32_t i = 0; i < s->n_reqs; i++) {
        const ctl__req_t *r = &s->reqs[i];
        if (r->sig == sig && !r->cancel &&
            strncmp(r->vehicle, svc->vehicle, sizeof svc->vehicle - 1) == 0)
            return 1;
    }
    return 0;
}

int ctl__svc_end(ctl__session_t *s, int32_t sig) {
    const ctl__svc_t *svc = &s->svc[sig];
    const ctl__sigview_t *v = &s->views[sig];
    if (!svc->active || s->commanded[sig])
        return 0;
    /* After a call without hold the signal follows its plan's clock again; a release now
     * would re-anchor the plan on the current green (a needless transition), one in the next
     * change interval or at the planned end of this green changes nothing. */
    if (svc->kind == CTL__SVC_BUS && !svc->hold && v->seen && !v->in_change &&
        (v->green_end < 0 || v->green_end - s->now > s->tick_ms))
        return 0;
    /* An escort's call without hold (corridor's metering) gives the cut time to the called
     * stage: keep it until that stage has been green and its planned end is near. */
    if (svc->kind == CTL__SVC_ESCORT && !svc->hold && v->seen &&
        (!svc->seen_green || (!v->in_change && v->stage == svc->stage &&
                              (v->green_end < 0 || v->green_end - s->now > s->tick_ms))))
        return 0;
    char why[CTL__LOG_LINE_MAX];
    const char *what = svc->kind == CTL__SVC_BUS      ? "TSP ends"
                       : svc->kind == CTL__SVC_ESCORT ? "preemption exit"
                                                      : "service ends";
    if (still_requesting(s, sig))
        snprintf(why, sizeof why, "%s: %s no longer engages this intersection", what, svc->vehicle);
    else
        snprintf(why, sizeof why, "%s: %s has passed", what, svc->vehicle);
    return ctl__svc_release(s, sig, why);
}

void ctl__svc_observe(ctl__session_t *s) {
    for (int32_t i = 0; i < s->map.scn->n_signals; i++) {
        ctl__svc_t *svc = &s->svc[i];
        const ctl__sigview_t *v = &s->views[i];
        if (!svc->active || !v->seen)
            continue;
        if (!v->external && svc->kind != CTL__SVC_ACT) {
            ctl__log(s,
                     "%s: the signal is back on its local plan without a release from us "
                     "(controller lost?): service of %s forgotten",
                     ctl__sig_name(s, i), svc->vehicle[0] ? svc->vehicle : "-");
            int32_t early = svc->early_stage;
            memset(svc, 0, sizeof *svc);
            svc->stage = -1;
            svc->early_stage = early;
            continue;
        }
        if (!v->in_change && v->stage == svc->stage)
            svc->seen_green = 1;
    }
}
