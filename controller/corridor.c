/*
 * controller/corridor.c - strategies "corridor" and "corridor-v1": the green wave. The
 * controller plans the escort's whole route from its SRM (an ETA per intersection ahead) and
 * the queues it estimates from detectors, and opens each signal just in time. corridor-v1 is
 * the strategy as it first shipped, kept so the two compare; corridor adds metering and the
 * per-signal choice of the transition (both below).
 *
 * Plan, per escort and intersection, re-made every tick:
 *   queue     vehicles between the escort and the stop line, all of which cross it before
 *             the escort: on the approach link, advance count - stop-line count (advance
 *             loops count vehicles entering the link, stop-line loops those leaving); plus the
 *             same on every route link before it (the approaches of the SRM's earlier
 *             requests: a green held upstream pours them onto the approach ahead of the
 *             escort), where on the escort's own link only those counted in before it are
 *             ahead (the advance count when it was first seen there, less itself, less the
 *             stop-line count now). Links without detectors count 0 (no turning shares are
 *             known: vehicles turning off upstream are counted, an early green rather than a
 *             late one);
 *   clear     startup lost time (the map's model, 2 s by default) + queue x the saturation
 *             headway of the escort's movement, 3600 / (sat flow x lanes x sat factor);
 *   green_at  ETA - clear - margin: the escort's stage must be green by then; the margin is
 *             safety_margin_s for corridor-v1 and lead_s for corridor, which clears the queue
 *             well before the escort comes (12 s by default against 3 s): the platoon it
 *             flushes is then further ahead, and the escort less often meets its tail.
 * The plan is logged when first made and whenever green_at moves by more than 2 s.
 *
 * Execution at each signal, for the escort that ranks first among those engaged (its
 * green_at within engage_s, or already served; ranked by priority level, then ETA):
 *   - its stage is red: call it (with hold, preempt flag) at the last tick at which the
 *     call still gets the green by green_at: the call waits for the current stage's minimum
 *     green and then runs the intergreen, so the earliest green after a call at t is
 *     E(t) = max(t, min_end) + intergreen (or what the change interval under way allows);
 *     the call goes out when E(now + tick) > green_at, so the green starts in
 *     (green_at - tick, green_at] when the minimum green does not bind, never much earlier;
 *   - its stage is green under the plan: hold it only when the plan would end it before
 *     the escort has crossed and the signal could not come back to it by green_at;
 *   - held for an escort whose ETA has slipped so far that the signal can serve the next
 *     stage for its minimum green and return by the new green_at, with a tick to spare
 *     either side: serve that stage meanwhile (call without hold), and call back later;
 *   - the escort has crossed (its SRM drops the intersection or cancels it): release with
 *     the configured transition.
 * Before an escort departs, its planned route from the map stands in for its SRM, so the
 * first signals can be opened in time. Buses get TSP where no escort is engaged.
 *
 * corridor only:
 *   - the whole route: a signal whose approach is filling up (spill_fill of its storage) is
 *     opened no later than the one upstream, whose queue could not move otherwise;
 *   - metering: in the cycles before the escort's green (green_at within meter_horizon_s, but
 *     the final call not yet due), a green of a stage that does not serve the escort, followed
 *     in sequence by the escort's stage, is ended up to meter_s early (never before its
 *     minimum): a call of the escort's stage without hold. The local plan's clock still times
 *     the following greens, so the cut time goes to the escort's stage, whose queue is then
 *     shorter when the final flush begins: the cross streets lose a little green in several
 *     cycles instead of a long stretch at once;
 *   - the approach's turns: a stage held for the escort far ahead of it starves the movements
 *     of the same approach link that it does not serve (a left turn in a stage of its own):
 *     they stand still, take the approach's storage, and the link backs up to the signal
 *     upstream, whose green the escort then finds blocked (Bayiqi: 南门兜's left turn from
 *     道山路). After turn_gap_s of such a hold, their stage gets its planned green (split less
 *     its closing intergreen, at least its minimum: a call without hold, the escort's stage
 *     called back at its end) when the escort's stage can be green again, with the start-up
 *     lost time and the margin, before the ETA; the escort must not be on the approach;
 *   - gating: within gate_s of the escort, a signal whose exit link on the escort's route (the
 *     approach of the next signal) is estimated spill_fill full holds its next stage (the
 *     cross street) instead of the escort's, until the link has drained to three quarters of
 *     that mark or the escort's final call is due, by the queue on its own approach alone.
 *     A full link does not just store vehicles: each one entering it drives at the speed of
 *     the density it finds (docs/model.md), so a link kept full by the green upstream crawls,
 *     and the escort behind that traffic crawls with it (Bayiqi: 道山路-南门兜, 150 m, where
 *     the escort lost about 50 s in a third of the seeds). The approach's turns (above) are
 *     served only before that horizon, so that the last signal's green is not cut while the
 *     one upstream releases the escort's platoon into its approach;
 *   - the return to coordination, per signal, at the release, with --transition auto: the
 *     release re-anchors the plan so that the current green ends now; the plan is then
 *     d = (plan's end of this green - plan position now) mod cycle out of step. dwell holds
 *     the green for d (cross streets red: cost dwell_weight x d), shortway moves the plan back
 *     by a fifth of a cycle per cycle the shorter way (ceil(min(d, C - d) / (C / 5)) cycles),
 *     longway by lengthening only (ceil(d / (C / 5)) cycles); each transition cycle costs its
 *     length. The cheapest wins (ties: shortway, longway, dwell). The choice is logged.
 */
#include "controller/ctl_internal.h"

#include <stdio.h>
#include <string.h>

static double secs(int64_t ms) {
    return (double)ms / 1000.0;
}

static int ours(const ctl__session_t *s, int32_t sig, const ctl__req_t *r) {
    const ctl__svc_t *svc = &s->svc[sig];
    return svc->active && svc->kind == CTL__SVC_ESCORT &&
           strncmp(svc->vehicle, r->vehicle, sizeof svc->vehicle - 1) == 0;
}

static int engaged(const ctl__session_t *s, const ctl__req_t *r) {
    return ours(s, r->sig, r) || r->green_at - s->now <= ctl__ms(s->cfg->engage_s);
}

/* Vehicles ahead of the escort on the link it is on: those counted in by the advance loop
 * before it (the count when it was first seen there, less itself) and not yet out over the
 * stop line. Kept per vehicle in the memo (vehicle, -1). -1 when unknown. */
static int64_t ahead_on_own_link(ctl__session_t *s, const ctl__req_t *r) {
    if (r->at_link < 0)
        return -1;
    ctl__memo_t *m = ctl__memo(s, r->vehicle, -1);
    if (m == NULL)
        return -1;
    if (m->link != r->at_link) {
        m->link = r->at_link;
        m->entry = ctl__view_adv_count(s, r->at_link);
    }
    int64_t out = ctl__view_stop_count(s, r->at_link);
    if (m->entry >= 0 && out >= 0)
        return m->entry - 1 > out ? m->entry - 1 - out : 0;
    int64_t n = ctl__view_link_vehicles(s, r->at_link);
    return n > 0 ? n - 1 : n;
}

/* Vehicles between the escort and r's stop line: on each link of its route up to r's
 * approach (the approaches of the SRM's requests before r), counting on its own link only
 * those ahead of it. They all cross r's stop line before the escort. -1 when no detector
 * covers any of them. */
static int64_t vehicles_ahead(ctl__session_t *s, const ctl__req_t *r, int64_t own) {
    int64_t n = -1;
    for (const ctl__req_t *q = &s->reqs[r->first]; q <= r; q++) {
        if (q->cancel || q->in_link < 0 || strcmp(q->vehicle, r->vehicle) != 0)
            continue;
        int64_t v = q->in_link == r->at_link ? own : ctl__view_link_vehicles(s, q->in_link);
        if (v >= 0)
            n = (n < 0 ? 0 : n) + v;
    }
    return n;
}

/* Plans escort request r (queue ahead, clear time, latest green start) and logs the plan. */
static void plan(ctl__session_t *s, ctl__req_t *r, int64_t own, int v2) {
    const sim_scenario_t *scn = s->map.scn;
    int64_t q = vehicles_ahead(s, r, own);
    int64_t on_approach = r->in_link == r->at_link ? own : ctl__view_link_vehicles(s, r->in_link);
    double h = ctl__map_headway_ms(&s->map, r->movement);
    r->queue = q;
    double clear = (double)scn->model.startup_lost_time + (double)(q > 0 ? q : 0) * h + 0.5;
    r->clear = clear < (double)CTL__TIME_MAX ? (int64_t)clear : CTL__TIME_MAX;
    r->green_at = r->eta - r->clear - ctl__ms(v2 ? s->cfg->lead_s : s->cfg->safety_margin_s);
    ctl__memo_t *m = ctl__memo(s, r->vehicle, r->sig);
    if (m == NULL)
        return;
    int64_t moved = r->green_at - m->green_at;
    if (m->green_at != CTL__NEVER && moved <= CTL__PLAN_LOG_MS && moved >= -CTL__PLAN_LOG_MS)
        return;
    char queue[512];
    if (q < 0)
        snprintf(queue, sizeof queue, "queue unknown (no detectors)");
    else if (on_approach != q)
        snprintf(queue, sizeof queue, "queue %lld veh (%lld on the approach) x %.1f s",
                 (long long)q, (long long)(on_approach > 0 ? on_approach : 0), h / 1000.0);
    else
        snprintf(queue, sizeof queue, "queue %lld veh x %.1f s", (long long)q, h / 1000.0);
    char reason[96];
    if (m->green_at == CTL__NEVER)
        snprintf(reason, sizeof reason, "%s", r->planned ? "planned from the map" : "first plan");
    else
        snprintf(reason, sizeof reason, "re-plan: green moved %+.1f s, ETA moved %+.1f s",
                 secs(moved), secs(r->eta - m->eta));
    ctl__log(s, "%s: plan for %s: ETA %.1f s, %s, clear %.1f s, green by %.1f s (%s)",
             ctl__sig_name(s, r->sig), r->vehicle, secs(r->eta), queue, secs(r->clear),
             secs(r->green_at), reason);
    m->green_at = r->green_at;
    m->eta = r->eta;
}

/* The plan of signal sig in force now (time-of-day schedule). */
static const sim_plan_t *plan_now(const ctl__session_t *s, int32_t sig, int64_t *tod);

/* corridor: the first stage after k in sequence that greens a group of a movement from the
 * escort's approach link that k does not green (its turns), or -1. */
static int32_t turn_stage(const ctl__session_t *s, int32_t sig, const ctl__req_t *e, int32_t k) {
    const sim_scenario_t *scn = s->map.scn;
    const sim_signal_t *sg = &scn->signals[sig];
    uint64_t want = 0;
    for (int32_t m = 0; m < scn->n_movements; m++) {
        const sim_movement_t *mv = &scn->movements[m];
        if (mv->from == e->in_link && mv->signal == sig && mv->group >= 0)
            want |= UINT64_C(1) << mv->group;
    }
    want &= ~sg->stages[k].groups;
    for (int32_t i = 1; want != 0 && i < sg->n_stages; i++) {
        int32_t j = (k + i) % sg->n_stages;
        if (sg->stages[j].groups & want)
            return j;
    }
    return -1;
}

/* corridor: the escort's stage k has been held green at sig for turn_gap_s while the escort is
 * still far: the approach's turns (the movements from the same link that k does not serve)
 * stand still meanwhile and take the approach's storage, so the link backs up to the signal
 * upstream and the escort finds its exit full (Bayiqi: 南门兜's left turn from 道山路). Give
 * their stage j its planned green (call without hold; k is called back at the end) when k
 * can still be back, and the approach cleared, before the escort arrives. Returns 1 if a
 * command was sent. */
static int serve_turns(ctl__session_t *s, int32_t sig, ctl__req_t *e, int32_t k) {
    ctl__memo_t *m = ctl__memo(s, e->vehicle, sig);
    if (m == NULL || s->cfg->turn_gap_s <= 0)
        return 0;
    if (m->held_since == CTL__NEVER || m->held_since > s->now)
        m->held_since = s->now;
    if (s->now - m->held_since < ctl__ms(s->cfg->turn_gap_s) || e->on_approach ||
        (s->cfg->gate_s > 0 && e->eta - s->now <= ctl__ms(s->cfg->gate_s)) ||
        e->at_link == e->in_link || !ctl__view_can_force_off(s, sig))
        return 0;
    int32_t j = turn_stage(s, sig, e, k);
    int64_t tod = 0;
    const sim_plan_t *pl = plan_now(s, sig, &tod);
    if (j < 0 || pl == NULL)
        return 0;
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    uint64_t K = sg->stages[k].groups, J = sg->stages[j].groups;
    int64_t in = ctl__map_intergreen(sg, K, J), out = ctl__map_intergreen(sg, J, K);
    int64_t green = pl->splits[j] - out;
    int64_t min = ctl__map_new_min_green(sg, J, K);
    if (green < min)
        green = min;
    int64_t back = s->now + in + green + out;
    if (back + s->map.scn->model.startup_lost_time + ctl__ms(s->cfg->lead_s) > e->eta)
        return 0;
    char why[CTL__LOG_LINE_MAX];
    snprintf(why, sizeof why,
             "green wave for %s: %s held %.0f s, the escort %.1f s away: %s gets %.0f s for the "
             "approach's turns, %s back by %.1f s",
             e->vehicle, ctl__stage_name(s, sig, k), secs(s->now - m->held_since),
             secs(e->eta - s->now), ctl__stage_name(s, sig, j), secs(green),
             ctl__stage_name(s, sig, k), secs(back));
    if (!ctl__svc_hold(s, sig, CTL__SVC_ESCORT, e->vehicle, j, 1, why))
        return 0;
    m->turn_until = s->now + in + green;
    m->held_since = CTL__NEVER;
    return 1;
}

/* The escort's stage k is green now. Returns the request's status. */
static proto_ssm_status_t green_now(ctl__session_t *s, int32_t sig, ctl__req_t *e, int32_t k,
                                    int v2) {
    const ctl__sigview_t *v = &s->views[sig];
    const ctl__svc_t *svc = &s->svc[sig];
    char why[CTL__LOG_LINE_MAX];
    if (ours(s, sig, e) && svc->hold && svc->stage == k) {
        if (v2 && serve_turns(s, sig, e, k))
            return PROTO_SSM_REQUESTED;
        int64_t back = ctl__view_return_green(s, sig, k, s->now);
        if (!e->on_approach && ctl__view_can_force_off(s, sig) &&
            back + 2 * s->tick_ms < e->green_at) {
            const sim_signal_t *sg = &s->map.scn->signals[sig];
            int32_t n = v->next >= 0 && v->next != k ? v->next : (k + 1) % sg->n_stages;
            snprintf(why, sizeof why,
                     "re-plan: %s now needs green only by %.1f s (ETA %.1f s); serving %s "
                     "meanwhile, back by %.1f s",
                     e->vehicle, secs(e->green_at), secs(e->eta), ctl__stage_name(s, sig, n),
                     secs(back));
            if (n != k && ctl__svc_call(s, sig, CTL__SVC_ESCORT, e->vehicle, n, 1, why))
                return PROTO_SSM_REQUESTED;
        }
        snprintf(why, sizeof why, "green wave: keep %s held for %s", ctl__stage_name(s, sig, k),
                 e->vehicle);
        ctl__svc_hold(s, sig, CTL__SVC_ESCORT, e->vehicle, k, 1, why);
        return PROTO_SSM_GRANTED;
    }
    int held_by_other = v->held || v->green_end < 0;
    int64_t plan_end = held_by_other ? s->now : v->green_end;
    if (!held_by_other && plan_end >= e->eta + e->duration)
        return PROTO_SSM_GRANTED; /* the plan's green covers the passage */
    if (plan_end <= s->now + s->tick_ms &&
        ctl__view_return_green(s, sig, k, plan_end) > e->green_at) {
        snprintf(why, sizeof why,
                 "green wave for %s: hold %s (ETA in %.1f s, green needed from %.1f s; the "
                 "plan would end it in %.1f s and could not return in time)",
                 e->vehicle, ctl__stage_name(s, sig, k), secs(e->eta - s->now), secs(e->green_at),
                 secs(plan_end - s->now));
        ctl__svc_hold(s, sig, CTL__SVC_ESCORT, e->vehicle, k, 1, why);
        return PROTO_SSM_GRANTED;
    }
    return PROTO_SSM_REQUESTED;
}

/* The escort's stage k is not green now. Returns the request's status. */
static proto_ssm_status_t red_now(ctl__session_t *s, int32_t sig, ctl__req_t *e, int32_t k,
                                  int v2) {
    const ctl__svc_t *svc = &s->svc[sig];
    char why[CTL__LOG_LINE_MAX];
    if (v2) {
        ctl__memo_t *m = ctl__memo(s, e->vehicle, sig);
        if (m != NULL)
            m->held_since = CTL__NEVER;
        if (m != NULL && s->now < m->turn_until)
            return PROTO_SSM_PROCESSING; /* the approach's turns are being served */
    }
    if (ours(s, sig, e) && svc->hold && svc->stage == k) {
        snprintf(why, sizeof why, "green wave for %s: call %s again (the signal lost the call)",
                 e->vehicle, ctl__stage_name(s, sig, k));
        ctl__svc_hold(s, sig, CTL__SVC_ESCORT, e->vehicle, k, 1, why);
        return PROTO_SSM_PROCESSING;
    }
    int64_t now_e = ctl__view_earliest_green(s, sig, k, s->now);
    int64_t next_e = ctl__view_earliest_green(s, sig, k, s->now + s->tick_ms);
    if (next_e <= e->green_at)
        return PROTO_SSM_REQUESTED; /* calling at the next tick is still in time */
    char late[48] = "";
    if (now_e == INT64_MAX)
        snprintf(late, sizeof late, " (unknown: a minimum end is not reported)");
    else if (now_e > e->green_at)
        snprintf(late, sizeof late, ", late by %.1f s", secs(now_e - e->green_at));
    snprintf(why, sizeof why,
             "green wave for %s: ETA %.1f s, queue %lld veh, green needed by %.1f s, "
             "earliest green %.1f s%s",
             e->vehicle, secs(e->eta), (long long)(e->queue > 0 ? e->queue : 0), secs(e->green_at),
             secs(now_e), late);
    ctl__svc_hold(s, sig, CTL__SVC_ESCORT, e->vehicle, k, 1, why);
    return PROTO_SSM_PROCESSING;
}

/* The plan of signal sig in force now (time-of-day schedule). */
static const sim_plan_t *plan_now(const ctl__session_t *s, int32_t sig, int64_t *tod) {
    const sim_scenario_t *scn = s->map.scn;
    const sim_signal_t *sg = &scn->signals[sig];
    int64_t day = INT64_C(86400000);
    int64_t t = (scn->start_tod + s->now) % day;
    if (t < 0)
        t += day;
    int32_t p = sg->n_schedule > 0 ? sg->schedule[0].plan : 0;
    for (int32_t i = 0; i < sg->n_schedule; i++)
        if (sg->schedule[i].from_tod <= t)
            p = sg->schedule[i].plan;
    *tod = t;
    return p >= 0 && p < sg->n_plans ? &sg->plans[p] : NULL;
}

/* corridor: the transition of a release of sig now, by cost (see the header); logs why. */
static proto_transition_t choose_transition(ctl__session_t *s, int32_t sig) {
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    const ctl__sigview_t *v = &s->views[sig];
    int64_t tod = 0;
    const sim_plan_t *pl = plan_now(s, sig, &tod);
    if (pl == NULL || pl->cycle <= 0 || !v->seen || v->in_change || v->stage < 0 ||
        v->stage >= sg->n_stages)
        return PROTO_TRANSITION_SHORTWAY;
    int64_t c = pl->cycle;
    int64_t end_pos = -sim_scenario_intergreen(sg, v->stage);
    for (int32_t i = 0; i <= v->stage; i++)
        end_pos += pl->splits[i];
    int64_t end = v->min_end > s->now ? v->min_end : s->now;
    int64_t pos = ((tod + (end - s->now) - pl->offset) % c + c) % c;
    int64_t d = ((end_pos - pos) % c + c) % c;
    int64_t step = c / 5 > 0 ? c / 5 : 1;
    int64_t short_mag = d < c - d ? d : c - d;
    double cost_dwell = s->cfg->dwell_weight * (double)d;
    double cost_short = (double)((short_mag + step - 1) / step) * (double)c;
    double cost_long = (double)((d + step - 1) / step) * (double)c;
    proto_transition_t t = PROTO_TRANSITION_SHORTWAY;
    double best = cost_short;
    if (cost_long < best) {
        t = PROTO_TRANSITION_LONGWAY;
        best = cost_long;
    }
    if (cost_dwell < best)
        t = PROTO_TRANSITION_DWELL;
    ctl__log(s,
             "%s: return to coordination: %.1f s out of step in a %.0f s cycle; cost dwell %.0f, "
             "shortway %.0f, longway %.0f: %s",
             ctl__sig_name(s, sig), secs(d), secs(c), cost_dwell / 1000.0, cost_short / 1000.0,
             cost_long / 1000.0,
             t == PROTO_TRANSITION_DWELL     ? "dwell"
             : t == PROTO_TRANSITION_LONGWAY ? "longway"
                                             : "shortway");
    return t;
}

/* corridor: metering at sig for escort e, whose stage k is not green and whose final call is
 * not due yet (see the header). Returns 1 if a command was sent. */
static int meter(ctl__session_t *s, int32_t sig, const ctl__req_t *e, int32_t k) {
    const ctl__sigview_t *v = &s->views[sig];
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    int64_t cut = ctl__ms(s->cfg->meter_s);
    if (cut <= 0 || !v->seen || v->in_change || v->stage < 0 || v->held || v->green_end < 0 ||
        s->svc[sig].active || e->green_at - s->now > ctl__ms(s->cfg->meter_horizon_s) ||
        (v->stage + 1) % sg->n_stages != k || !ctl__view_can_force_off(s, sig) ||
        v->green_end - s->now > cut || v->green_end - s->now <= s->tick_ms)
        return 0;
    char why[CTL__LOG_LINE_MAX];
    snprintf(why, sizeof why,
             "metering for %s: %s ends %.1f s early (green needed by %.1f s, in %.1f s)",
             e->vehicle, ctl__stage_name(s, sig, v->stage), secs(v->green_end - s->now),
             secs(e->green_at), secs(e->green_at - s->now));
    return ctl__svc_call(s, sig, CTL__SVC_ESCORT, e->vehicle, k, 0, why);
}

/* Vehicles link l stores: length x lanes / jam spacing. */
static double storage_of(const sim_link_t *l) {
    return l->length_m * (double)l->lanes / (l->jam_spacing_m > 0 ? l->jam_spacing_m : 7.5);
}

/* corridor: the whole route's plan. The queue ahead at r's upstream signal can only flow if
 * r's approach has room: when that approach is estimated at least spill_fill full (vehicles
 * over its storage, length x lanes / jam spacing), r's green starts no later than the
 * upstream one, so the downstream queue is flushed first. */
static void flush_downstream(ctl__session_t *s, const ctl__req_t *up, ctl__req_t *r) {
    if (up == NULL || r->in_link < 0 || up->green_at >= r->green_at)
        return;
    double storage = storage_of(&s->map.scn->links[r->in_link]);
    int64_t n = ctl__view_link_vehicles(s, r->in_link);
    if (n < 0 || storage <= 0 || (double)n < s->cfg->spill_fill * storage)
        return;
    r->green_at = up->green_at;
}

/* corridor: gating. The escort's exit link at sig (the approach of the next signal of its
 * route) is estimated at least spill_fill full while the escort is within gate_s: a green of
 * its stage k here would only pour more vehicles into a link that must empty before the
 * escort gets there (a full link crawls: every vehicle entering it drives at the speed of its
 * density, and the escort behind them). Instead of k, the next stage (the cross street) is
 * held until the link has drained below the mark or until the escort's final call is due.
 * Returns 1 while the gate keeps the signal (nothing else to do there this tick). */
static int gate(ctl__session_t *s, int32_t sig, ctl__req_t *e, int32_t k) {
    const ctl__sigview_t *v = &s->views[sig];
    const ctl__svc_t *svc = &s->svc[sig];
    const sim_signal_t *sg = &s->map.scn->signals[sig];
    if (s->cfg->gate_s <= 0 || k < 0 || e->out_link < 0 || sg->n_stages < 2 || !v->seen)
        return 0;
    if (ours(s, sig, e) && svc->hold && svc->stage == k)
        return 0; /* the escort's own hold is in force */
    int gating = ours(s, sig, e) && svc->hold && svc->stage != k;
    const sim_link_t *x = &s->map.scn->links[e->out_link];
    double storage = storage_of(x);
    int64_t n = ctl__view_link_vehicles(s, e->out_link);
    /* Once gating, it goes on down to three quarters of the mark (no flapping at the mark). */
    double mark = s->cfg->spill_fill * storage * (gating ? 0.75 : 1.0);
    int full = n >= 0 && storage > 0 && (double)n >= mark;
    /* The final call is due by the queue on the approach alone: the links before it would
     * only pour into the full exit. */
    int64_t q = ctl__view_link_vehicles(s, e->in_link);
    int64_t need = e->eta - s->map.scn->model.startup_lost_time -
                   (int64_t)((double)(q > 0 ? q : 0) * ctl__map_headway_ms(&s->map, e->movement)) -
                   ctl__ms(s->cfg->lead_s);
    int due = e->eta - s->now > ctl__ms(s->cfg->gate_s) ||
              ctl__view_earliest_green(s, sig, k, s->now + s->tick_ms) > need;
    char why[CTL__LOG_LINE_MAX];
    if (!full || due) {
        if (gating && !due) {
            snprintf(why, sizeof why, "gate for %s ends: %s down to %lld veh (%.0f %% of %.0f)",
                     e->vehicle, x->id, (long long)n, 100.0 * (double)n / storage, storage);
            ctl__svc_call(s, sig, CTL__SVC_ESCORT, e->vehicle, k, 1, why);
            return 1;
        }
        return 0;
    }
    if (gating)
        return 1;
    if (v->in_change || v->stage != k || (svc->active && !ours(s, sig, e)) ||
        !ctl__view_can_force_off(s, sig))
        return 0;
    int32_t j = (k + 1) % sg->n_stages;
    snprintf(why, sizeof why,
             "gate for %s: its exit %s holds %lld veh (%.0f %% of %.0f) with the escort %.1f s "
             "away; %s instead of %s until it drains",
             e->vehicle, x->id, (long long)n, 100.0 * (double)n / storage, storage,
             secs(e->eta - s->now), ctl__stage_name(s, sig, j), ctl__stage_name(s, sig, k));
    return ctl__svc_hold(s, sig, CTL__SVC_ESCORT, e->vehicle, j, 1, why);
}

static int gating(const ctl__session_t *s, const ctl__req_t *r) {
    return r->eta - s->now <= ctl__ms(s->cfg->gate_s);
}

static int metering(const ctl__session_t *s, const ctl__req_t *r) {
    return r->green_at - s->now <= ctl__ms(s->cfg->meter_horizon_s);
}

/* corridor: metering at sig for the first-ranked escort whose green there is due within the
 * metering horizon but not yet engaged. Returns 1 if a command was sent. */
static int meter_ahead(ctl__session_t *s, int32_t sig) {
    if (s->commanded[sig] || s->svc[sig].active)
        return 0;
    ctl__req_t *e = ctl__requests_winner(s, sig, CTL__CLASS_ESCORT, metering);
    if (e == NULL)
        return 0;
    int32_t k = ctl__view_stage_for_group(s, sig, e->group);
    const ctl__sigview_t *v = &s->views[sig];
    if (k < 0 || !v->seen || v->in_change || v->stage == k)
        return 0;
    return meter(s, sig, e, k);
}

static void corridor_tick(ctl__session_t *s, int v2) {
    const sim_scenario_t *scn = s->map.scn;
    if (ctl__requests_add_planned(s) < 0) {
        s->oom = 1;
        return;
    }
    int64_t own = -1;
    const ctl__req_t *prev = NULL;
    for (int32_t i = 0; i < s->n_reqs; i++) {
        ctl__req_t *r = &s->reqs[i];
        if (r->cls != CTL__CLASS_ESCORT)
            continue;
        if (i == r->first) {
            own = ahead_on_own_link(s, r); /* once per SRM */
            prev = NULL;
        }
        if (r->valid && !r->cancel) {
            plan(s, r, own, v2);
            if (v2)
                flush_downstream(s, prev, r);
            prev = r;
        }
    }
    for (int32_t sig = 0; sig < scn->n_signals; sig++) {
        ctl__req_t *e = ctl__requests_winner(s, sig, CTL__CLASS_ESCORT, engaged);
        if (e == NULL) {
            ctl__requests_others(s, sig, CTL__CLASS_ESCORT, NULL, -1, engaged, PROTO_SSM_REJECTED,
                                 PROTO_SSM_REJECTED, "unresolved");
            ctl__req_t *g = v2 && s->cfg->gate_s > 0
                                ? ctl__requests_winner(s, sig, CTL__CLASS_ESCORT, gating)
                                : NULL;
            if (g != NULL && gate(s, sig, g, ctl__view_stage_for_group(s, sig, g->group))) {
                ctl__tsp_lose(s, sig, -1);
                continue;
            }
            if (!ctl__tsp_signal(s, sig)) {
                const ctl__svc_t *svc = &s->svc[sig];
                if (v2 && s->cfg->transition_auto && svc->active && svc->kind == CTL__SVC_ESCORT &&
                    !s->commanded[sig])
                    s->release_transition = (int)choose_transition(s, sig);
                ctl__svc_end(s, sig);
                s->release_transition = -1;
            }
            if (v2)
                meter_ahead(s, sig);
            continue;
        }
        const ctl__sigview_t *v = &s->views[sig];
        int32_t k = ctl__view_stage_for_group(s, sig, e->group);
        e->stage = k;
        proto_ssm_status_t st = PROTO_SSM_REQUESTED;
        if (k < 0) {
            st = PROTO_SSM_REJECTED;
            e->why = "no stage serves its movement";
        } else if (v2 && gate(s, sig, e, k))
            st = PROTO_SSM_PROCESSING;
        else if (v->seen && !v->in_change && v->stage == k)
            st = green_now(s, sig, e, k, v2);
        else if (v->seen) {
            st = red_now(s, sig, e, k, v2);
            if (v2 && !s->commanded[sig])
                meter(s, sig, e, k);
        }
        ctl__req_status(e, st);
        /* A service for someone else (a bus, an escort that has passed) gives way. */
        const ctl__svc_t *svc = &s->svc[sig];
        if (svc->active && !ours(s, sig, e) && !s->commanded[sig]) {
            char why[CTL__LOG_LINE_MAX];
            snprintf(why, sizeof why, "%s of %s ends: escort %s engages this intersection",
                     svc->kind == CTL__SVC_BUS ? "TSP" : "service", svc->vehicle, e->vehicle);
            ctl__svc_release(s, sig, why);
        }
        ctl__requests_others(s, sig, CTL__CLASS_ESCORT, e, k, engaged,
                             e->ssm ? e->status : PROTO_SSM_REQUESTED, PROTO_SSM_REJECTED, NULL);
        ctl__tsp_lose(s, sig, k);
    }
}

void ctl__corridor_tick(ctl__session_t *s) {
    corridor_tick(s, 1);
}

void ctl__corridor_v1_tick(ctl__session_t *s) {
    corridor_tick(s, 0);
}
