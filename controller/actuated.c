/*
 * controller/actuated.c - strategy "actuated": fully actuated control, gap-out / max-out,
 * on the detectors of each stage's approaches, with transit signal priority for buses.
 *
 * Detectors are tied to stages through the map: a detector on a link that is the from-link
 * of a movement of group g serves g, and a stage is served by the detectors of its groups.
 *   - Calls: a group that is not green latches a call at its first actuation (a count that
 *     rose, or occupancy, on any of its loops) or a bus's priority request, and keeps it
 *     until it turns green ("locking memory"). A group without detectors is always called
 *     (recall): no movement starves.
 *   - The current stage is held green (hold) while it runs: through its minimum green, then
 *     as long as its loops show traffic at the stop line within the passage time (unit
 *     extension: a stop-line loop counting a vehicle across or occupied by a standing one, an
 *     advance loop occupied by the queue), up to the maximum green of its groups counted from
 *     the start of its green. Advance counts only call: the model counts them at the link's
 *     entry, possibly far upstream, and they would extend every busy stage to its maximum.
 *   - It ends, once its minimum green has elapsed (the SPaT's minEndTime) and another stage
 *     has a call, by gap-out (no actuation for passage_s) or max-out: force-off when the
 *     next stage of the sequence has a call, else a call (with hold) of the first stage
 *     after it that has one, skipping the stages nobody waits for.
 *   - Without a call elsewhere it rests in green.
 * TSP: a bus whose stage is green within the TSP horizon (--tsp-horizon, 10 s) of its ETA
 * suppresses the gap-out (green extension; the max-out still applies); a bus whose stage is the
 * next to be served gets an early green when the current stage is within the TSP cut limit
 * (--tsp-max-cut, 10 s) of its max-out: its stage is called without hold at once (the simulator
 * ends the current green at its minimum at the earliest). Both respect the reservice lockout
 * (tsp.c). Escorts get no preemption from this strategy.
 */
#include "controller/ctl_internal.h"

#include <stdio.h>

static double secs(int64_t ms) {
    return (double)ms / 1000.0;
}

/* Latches the calls of the groups not green, from this tick's actuations. */
static void latch_calls(ctl__session_t *s, int32_t sig) {
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    const ctl__sigview_t *v = &s->views[sig];
    ctl__svc_t *svc = &s->svc[sig];
    const int32_t *first = s->map.group_first[sig], *dets = s->map.group_dets[sig];
    for (int32_t g = 0; g < sg->n_groups; g++) {
        uint64_t bit = UINT64_C(1) << g;
        if (v->green & bit) {
            svc->call &= ~bit;
            continue;
        }
        if (first[g] == first[g + 1])
            svc->call |= bit; /* no detector: recall */
        for (int32_t i = first[g]; i < first[g + 1]; i++)
            if (ctl__det_actuated(s, dets[i]))
                svc->call |= bit;
    }
}

/* Last sign of traffic near the stop line on the detectors of the groups in mask. */
static int64_t last_actuation(const ctl__session_t *s, int32_t sig, uint64_t mask) {
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    const int32_t *first = s->map.group_first[sig], *dets = s->map.group_dets[sig];
    int64_t last = CTL__NEVER;
    for (int32_t g = 0; g < sg->n_groups; g++) {
        if (!(mask & (UINT64_C(1) << g)))
            continue;
        for (int32_t i = first[g]; i < first[g + 1]; i++)
            if (ctl__det_last_ext(s, dets[i]) > last)
                last = ctl__det_last_ext(s, dets[i]);
    }
    return last;
}

/* The first stage after k in sequence with a call on a group it would start; -1 if none. */
static int32_t next_called(const ctl__session_t *s, int32_t sig, int32_t k) {
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    uint64_t cur = sg->stages[k].groups;
    for (int32_t j = 1; j < sg->n_stages; j++) {
        int32_t x = (k + j) % sg->n_stages;
        if (sg->stages[x].groups & ~cur & s->svc[sig].call)
            return x;
    }
    return -1;
}

/* TSP at an actuated signal whose stage k is green. Returns 1 when the bus extends the
 * green, 2 when an early-green call is pending (no other command this tick), else 0. */
static int bus_priority(ctl__session_t *s, int32_t sig, int32_t k, ctl__req_t **bus) {
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    ctl__svc_t *svc = &s->svc[sig];
    *bus = s->cfg->tsp ? ctl__tsp_winner(s, sig) : NULL;
    ctl__req_t *b = *bus;
    if (b == NULL) {
        ctl__requests_others(s, sig, CTL__CLASS_BUS, NULL, -1, NULL, PROTO_SSM_REJECTED,
                             PROTO_SSM_REJECTED, "transit signal priority is off");
        return 0;
    }
    int32_t bk = ctl__view_stage_for_group(s, sig, b->group);
    int64_t to_go = b->eta - s->now;
    if (!(s->views[sig].green & (UINT64_C(1) << b->group)))
        svc->call |= UINT64_C(1) << b->group; /* the bus is a call on its group */
    int rc = 0;
    b->stage = bk;
    if (bk < 0) {
        ctl__req_reject(b, "no stage serves its movement");
    } else if (bk == k) {
        rc = to_go <= ctl__ms(s->cfg->tsp_horizon_s) && ctl__tsp_take(s, sig, b);
        if (to_go > ctl__ms(s->cfg->tsp_horizon_s))
            ctl__req_status(b, PROTO_SSM_REQUESTED);
        else if (rc)
            ctl__req_status(b, PROTO_SSM_GRANTED);
    } else if (svc->early_stage == bk) {
        ctl__req_status(b, PROTO_SSM_PROCESSING);
        rc = 2;
    } else if (to_go <= ctl__ms(s->cfg->tsp_horizon_s) && bk == next_called(s, sig, k) &&
               s->views[sig].green_start + ctl__map_max_green(sg, sg->stages[k].groups) - s->now <=
                   ctl__ms(s->cfg->tsp_max_cut_s) &&
               ctl__tsp_take(s, sig, b)) {
        char why[CTL__LOG_LINE_MAX];
        snprintf(why, sizeof why,
                 "TSP early green for %s: ETA in %.1f s, its stage %s is not green", b->vehicle,
                 secs(to_go), ctl__stage_name(s, sig, bk));
        if (ctl__emit(s, sig, PROTO_CMD_CALL, bk, 0, 0, why))
            svc->early_stage = bk;
        ctl__req_status(b, PROTO_SSM_PROCESSING);
        rc = 2;
    } else if (!b->ssm) {
        ctl__req_status(b, PROTO_SSM_REQUESTED);
    }
    ctl__requests_others(s, sig, CTL__CLASS_BUS, b, bk, NULL, b->status, PROTO_SSM_REJECTED,
                         "a bus with an earlier ETA is served");
    return rc;
}

static void actuate(ctl__session_t *s, int32_t sig) {
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    const ctl__sigview_t *v = &s->views[sig];
    ctl__svc_t *svc = &s->svc[sig];
    char why[CTL__LOG_LINE_MAX];
    ctl__requests_others(s, sig, CTL__CLASS_ESCORT, NULL, -1, NULL, PROTO_SSM_REJECTED,
                         PROTO_SSM_REJECTED, "no preemption under actuated control");
    if (!v->seen) {
        ctl__requests_others(s, sig, CTL__CLASS_BUS, NULL, -1, NULL, PROTO_SSM_REQUESTED,
                             PROTO_SSM_REQUESTED, NULL);
        return;
    }
    latch_calls(s, sig);
    if (v->in_change) {
        int32_t n = v->next;
        ctl__requests_others(s, sig, CTL__CLASS_BUS, NULL, n, NULL,
                             svc->early_stage == n ? PROTO_SSM_PROCESSING : PROTO_SSM_REQUESTED,
                             PROTO_SSM_REQUESTED, NULL);
        return;
    }
    int32_t k = v->stage;
    if (svc->early_stage == k)
        svc->early_stage = -1; /* the early green has come */
    ctl__req_t *bus;
    int tsp = bus_priority(s, sig, k, &bus);
    if (tsp == 2)
        return;
    uint64_t cur = sg->stages[k].groups;
    int32_t j = next_called(s, sig, k);
    if (j >= 0 && ctl__view_can_force_off(s, sig)) {
        int64_t elapsed = s->now - v->green_start;
        int64_t max_green = ctl__map_max_green(sg, cur);
        int64_t gap = s->now - last_actuation(s, sig, cur);
        int passage = gap >= (int64_t)(s->cfg->passage_s * 1000.0 + 0.5);
        int max_out = elapsed >= max_green, gap_out = passage && tsp != 1;
        if (!max_out && !gap_out)
            j = -1;
        else if (!ctl__logging(s))
            why[0] = '\0'; /* reasons are formatted only for a reader */
        else if (max_out)
            snprintf(why, sizeof why, "max-out after %.1f s of green (maximum %.1f s), call on %s",
                     secs(elapsed), secs(max_green), ctl__stage_name(s, sig, j));
        else if (gap > INT64_C(86400000))
            snprintf(why, sizeof why,
                     "gap-out after %.1f s of green (no actuation seen), call on %s", secs(elapsed),
                     ctl__stage_name(s, sig, j));
        else
            snprintf(why, sizeof why,
                     "gap-out after %.1f s of green (no actuation for %.1f s), call on %s",
                     secs(elapsed), secs(gap), ctl__stage_name(s, sig, j));
        if (j >= 0) {
            if (tsp == 1 && bus != NULL)
                ctl__req_reject(bus, "the maximum green ends the extension");
            if (j == (k + 1) % sg->n_stages)
                ctl__emit(s, sig, PROTO_CMD_FORCE_OFF, -1, 0, 0, why);
            else
                ctl__emit(s, sig, PROTO_CMD_CALL, j, 1, 0, why);
            return;
        }
    }
    if (!v->held) {
        why[0] = '\0';
        if (ctl__logging(s))
            snprintf(why, sizeof why, "actuated: hold %s (%s)", ctl__stage_name(s, sig, k),
                     s->now < v->min_end          ? "minimum green"
                     : next_called(s, sig, k) < 0 ? "rest in green, no call elsewhere"
                                                  : "vehicles arriving");
        ctl__emit(s, sig, PROTO_CMD_HOLD, -1, 0, 0, why);
    }
}

static int64_t passage_ms(const ctl__session_t *s) {
    return (int64_t)(s->cfg->passage_s * 1000.0 + 0.5);
}

/* The first time after now at which actuate() may decide differently at sig with nothing
 * else changing: the minimum green's end, the max-out, the gap-out, when another stage has a
 * call (without one the green rests, whatever the time). */
static int64_t next_due(const ctl__session_t *s, int32_t sig) {
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    const ctl__sigview_t *v = &s->views[sig];
    if (!v->seen || v->in_change || next_called(s, sig, v->stage) < 0)
        return INT64_MAX; /* only a new SPaT or a new call changes anything */
    uint64_t cur = sg->stages[v->stage].groups;
    int64_t t[3] = {v->min_end, v->green_start + ctl__map_max_green(sg, cur),
                    last_actuation(s, sig, cur) + passage_ms(s)};
    int64_t at = INT64_MAX;
    for (int i = 0; i < 3; i++)
        if (t[i] > s->now && t[i] < at)
            at = t[i];
    return at;
}

/* Whether detector d, listed in this tick, can change what actuate() decides at its signal:
 * its actuation latches a call not latched yet (on a group not green). Extensions need no
 * look: they only move the gap-out later, so the look next_due() set for the earlier one
 * finds nothing to do and sets the next (the last actuation never moves back). */
static int detector_matters(const ctl__session_t *s, int32_t d) {
    int32_t sig = s->det_signal[d];
    uint64_t mask = s->det_groups[d];
    if (sig < 0 || mask == 0 || !s->views[sig].seen)
        return 0;
    return ctl__det_actuated(s, d) && (mask & ~s->views[sig].green & ~s->svc[sig].call) != 0;
}

/* Every signal is looked at in lockstep. Under event sync only those whose decision may
 * differ from the last look: a change of their SPaT (touched) or of a detector that matters
 * there, a command in the previous tick (it may have been refused, and is repeated), a
 * request naming them in this tick or the previous one (its end may release a gap-out it
 * held back), or a time reached (next_due()). The others would decide as before, which is
 * nothing: every command changes the SPaT it answers. */
void ctl__actuated_tick(ctl__session_t *s) {
    int32_t n = s->map.scn->n_signals;
    if (!s->event) {
        for (int32_t sig = 0; sig < n; sig++)
            actuate(s, sig);
        return;
    }
    for (int32_t i = 0; i < s->n_reqs; i++)
        if (s->reqs[i].sig >= 0)
            s->req_at[s->reqs[i].sig] = 1;
    for (int32_t k = 0; k < s->n_det_changed; k++)
        if (detector_matters(s, s->det_changed[k]))
            s->touched[s->det_signal[s->det_changed[k]]] = 1;
    for (int32_t sig = 0; sig < n; sig++) {
        if (!s->touched[sig] && !s->cmd_prev[sig] && !s->req_at[sig] && s->due[sig] > s->now)
            continue;
        actuate(s, sig);
        /* A request may hold back a gap-out already due (a TSP extension) and end unseen. */
        s->due[sig] = s->req_at[sig] ? s->now + 1 : next_due(s, sig);
    }
    for (int32_t i = 0; i < s->n_reqs; i++)
        if (s->reqs[i].sig >= 0)
            s->req_at[s->reqs[i].sig] = 0;
}
