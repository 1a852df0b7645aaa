/*
 * controller/view.c - what the ticks show: the state of every signal (SPaT) and detector,
 * and the predictions the strategies plan with.
 *
 * Per signal the view keeps the current stage, whether it is in a change interval, the
 * groups green, and four times derived from the groups' J2735 minEndTime / maxEndTime:
 *   - min_end: the earliest legal end of the current green = the largest minEndTime of the
 *     stage's green groups. The simulator counts only the groups that started with the
 *     stage, whose minEndTime is at most this, so a force-off at now >= min_end is never
 *     early (conservative by construction). A group of the stage missing from the SPaT
 *     makes it unknown (no force-off).
 *   - green_end: the planned end of the green (maxEndTime), or -1 when held;
 *   - green_start: when the stage's green began: from a group that started with it
 *     (minEndTime - min_green, exact while its minimum runs), else from the change interval
 *     seen in the previous tick, else the previous tick's time;
 *   - next_start: in a change interval, when the next stage's green starts (the minEndTime
 *     of its red groups).
 * Per detector: its cumulative count, occupancy, and the last tick at which it counted a
 * vehicle or was occupied (an actuation: a call). Separately, the last tick at which it showed
 * traffic near the stop line (an extension): a stop-line loop counting or occupied, an
 * advance loop occupied (the queue reaches back over it). An advance loop's count is not an
 * extension: in the model it counts vehicles entering the link, which may be far upstream;
 * on a link without a stop-line loop it is the only sign of traffic and counts as one.
 * An occupancy that lasts is an actuation and an extension at every tick it lasts; it is read
 * through ctl__det_actuated() / ctl__det_last_act() / ctl__det_last_ext(), so that a tick need
 * look only at the detectors whose state changed.
 *
 * Lockstep (ctl__view_update()): every tick is full, and every signal and detector is read.
 * Event sync (ctl__view_refresh()): only the signals and detectors a tick lists are read; an
 * unchanged signal's times that move with the clock (a minimum reached reads as now) are
 * moved on from what its last reading left (ctl__sigview_t's *_base fields), which gives
 * exactly what reading the same entry again would. bench/controller-loop and
 * e2e_controller_modes check that both give byte-identical runs.
 *
 * A signal missing from a tick's SPaT, listed twice, or with a group listed twice, or naming
 * a stage the map lacks, is "not seen" for that tick: no strategy commands it.
 *
 * Predictions follow the simulator's documented rules: a green ends at its planned end
 * unless held; a call ends the current green at its minimum end, then the intergreen (the
 * longest yellow + red clearance of the ending groups) runs; a call during a change interval
 * redirects it when no continuing group would have to end, else it takes effect after the
 * upcoming stage's minimum green.
 */
#include "controller/ctl_internal.h"

#include <string.h>

static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

/* Times from the wire are clamped, so that sums of a few of them never overflow; a minimum
 * end that is unknown (INT64_MAX) stays unknown through a saturating sum. */
static int64_t clamp_time(int64_t t) {
    return t > CTL__TIME_MAX ? CTL__TIME_MAX : t < -CTL__TIME_MAX ? -CTL__TIME_MAX : t;
}

static int64_t add_sat(int64_t a, int64_t b) {
    return a >= INT64_MAX - b ? INT64_MAX : a + b;
}

void ctl__view_reset(ctl__session_t *s) {
    const sim_scenario_t *scn = s->map.scn;
    for (int32_t i = 0; i < scn->n_signals; i++) {
        s->views[i] = (ctl__sigview_t){.stage = -1,
                                       .next = -1,
                                       .green_end = -1,
                                       .green_start = CTL__NEVER,
                                       .next_start = CTL__NEVER,
                                       .seen_at = CTL__NEVER};
    }
    for (int32_t d = 0; d < scn->n_detectors; d++)
        s->dets[d] =
            (ctl__detview_t){.counted_in = -1, .last_act = CTL__NEVER, .last_ext = CTL__NEVER};
}

static int32_t find_signal(const ctl__session_t *s, int32_t pos, const char *id) {
    const sim_scenario_t *scn = s->map.scn;
    if (id == NULL)
        return -1;
    /* The simulator lists signals in map order: try the position first. */
    if (pos < scn->n_signals && (scn->nodes[scn->signals[pos].node].id == id ||
                                 strcmp(scn->nodes[scn->signals[pos].node].id, id) == 0))
        return pos;
    return ctl__map_signal(&s->map, id);
}

static int32_t find_group(const sim_signal_t *sig, int32_t pos, const char *id) {
    if (id == NULL)
        return -1;
    if (pos < sig->n_groups && (sig->groups[pos].id == id || strcmp(sig->groups[pos].id, id) == 0))
        return pos;
    for (int32_t g = 0; g < sig->n_groups; g++)
        if (strcmp(sig->groups[g].id, id) == 0)
            return g;
    return -1;
}

static void update_signal(ctl__session_t *s, int32_t i, const proto_intersection_state_t *is) {
    const sim_signal_t *sig = &s->map.scn->signals[i];
    ctl__sigview_t *v = &s->views[i];
    ctl__sigview_t prev = *v;
    int64_t now = s->now;
    int32_t k = ctl__map_stage(&s->map, i, is->stage);
    if (k < 0) {
        v->seen = 0;
        return;
    }
    uint64_t green = 0, yellow = 0, reported = 0;
    int64_t min_end_of[SIM_MAX_GROUPS], max_end_of[SIM_MAX_GROUPS];
    for (int32_t j = 0; j < is->n_groups && is->groups != NULL; j++) {
        const proto_group_state_t *gs = &is->groups[j];
        int32_t g = find_group(sig, j, gs->id);
        if (g < 0)
            continue;
        uint64_t bit = UINT64_C(1) << g;
        if (reported & bit) {
            v->seen = 0; /* a group reported twice: contradictory, so not used */
            return;
        }
        reported |= bit;
        min_end_of[g] = clamp_time(gs->min_end_ms);
        max_end_of[g] = gs->max_end_ms < 0 ? -1 : clamp_time(gs->max_end_ms);
        if (gs->state == PROTO_PHASE_PROTECTED_ALLOWED)
            green |= bit;
        else if (gs->state == PROTO_PHASE_PROTECTED_CLEARANCE)
            yellow |= bit;
    }
    uint64_t stage = sig->stages[k].groups;
    v->seen = 1;
    v->seen_at = now;
    v->stage = k;
    v->next = ctl__map_stage(&s->map, i, is->next_stage);
    v->in_change = is->in_change != 0;
    v->external = is->external != 0;
    v->green = green;
    v->held = 0;
    v->min_end = INT64_MAX;
    v->green_end = -1;
    v->next_start = CTL__NEVER;
    if (v->in_change) {
        /* Next stage's start: minEndTime of its red groups, else the end of the clearances. */
        int32_t n = v->next >= 0 ? v->next : (k + 1) % sig->n_stages;
        uint64_t nx = sig->stages[n].groups;
        int64_t start = CTL__NEVER, base = CTL__NEVER, now_off = -1;
        for (int32_t g = 0; g < sig->n_groups; g++) {
            uint64_t bit = UINT64_C(1) << g;
            if (!(reported & bit))
                continue;
            if ((nx & bit) && !(green & bit) && !(yellow & bit)) {
                start = max64(start, min_end_of[g]);
                if (min_end_of[g] != now)
                    base = max64(base, min_end_of[g]);
            }
        }
        if (start == CTL__NEVER) {
            for (int32_t g = 0; g < sig->n_groups; g++) {
                if (!(yellow & (UINT64_C(1) << g)))
                    continue;
                int64_t rc = sig->groups[g].red_clearance;
                start = max64(start, min_end_of[g] + rc);
                if (min_end_of[g] == now)
                    now_off = max64(now_off, rc);
                else
                    base = max64(base, min_end_of[g] + rc);
            }
        }
        v->next_start = max64(start, now);
        v->ns_base = base;
        v->ns_now_off = now_off;
        v->green_start = CTL__NEVER;
        return;
    }
    /* Green: the stage's minimum end, planned end and start. */
    int64_t min_end = CTL__NEVER, green_end = INT64_MAX, start = CTL__NEVER;
    int64_t me_base = CTL__NEVER, ge_base = INT64_MAX;
    int complete = (reported & stage) == stage && (green & stage) != 0;
    v->ge_now = 0;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        uint64_t bit = UINT64_C(1) << g;
        if (!(stage & bit) || !(green & bit))
            continue;
        min_end = max64(min_end, min_end_of[g]);
        if (min_end_of[g] != now)
            me_base = max64(me_base, min_end_of[g]);
        if (max_end_of[g] < 0)
            v->held = 1;
        else if (max_end_of[g] < green_end)
            green_end = max_end_of[g];
        if (max_end_of[g] == now)
            v->ge_now = 1;
        else if (max_end_of[g] >= 0 && max_end_of[g] < ge_base)
            ge_base = max_end_of[g];
        if (min_end_of[g] > now)
            start = max64(start, min_end_of[g] - sig->groups[g].min_green);
    }
    v->min_end = complete ? max64(min_end, now) : INT64_MAX;
    v->green_end = v->held || green_end == INT64_MAX ? -1 : max64(green_end, now);
    v->me_base = complete ? me_base : INT64_MAX;
    v->ge_base = v->green_end < 0 ? -1 : ge_base;
    if (prev.seen_at != CTL__NEVER && prev.stage == k && !prev.in_change &&
        prev.green_start != CTL__NEVER)
        v->green_start = prev.green_start; /* the same green goes on */
    else if (start != CTL__NEVER)
        v->green_start = start;
    else if (prev.seen_at != CTL__NEVER && prev.in_change && prev.next == k &&
             prev.next_start <= now)
        v->green_start = prev.next_start;
    else
        v->green_start = s->last_time >= 0 && prev.seen_at != CTL__NEVER ? s->last_time : now;
    if (v->green_start > now)
        v->green_start = now;
}

/* Moves an unchanged signal's view on to this tick: what update_signal() makes of the same
 * SPaT entry now, its group times that were the earlier tick's own time reading as now (the
 * simulator's and the sync's rule), the others staying. The green's start carries over. */
static void advance_signal(ctl__session_t *s, int32_t i) {
    ctl__sigview_t *v = &s->views[i];
    int64_t now = s->now;
    if (!v->seen)
        return; /* not seen, for a reason that has not changed */
    v->seen_at = now;
    if (v->in_change) {
        int64_t start = v->ns_base;
        if (v->ns_now_off >= 0)
            start = max64(start, now + v->ns_now_off);
        v->next_start = max64(start, now);
        return;
    }
    v->min_end = v->me_base == INT64_MAX ? INT64_MAX : max64(v->me_base, now);
    v->green_end = v->ge_base < 0 ? -1 : v->ge_now ? now : max64(v->ge_base, now);
}

/* Before a detector's presence or occupancy changes: an occupancy that went on through the
 * previous tick made that tick an actuation and an extension. */
static void fold_detector(ctl__session_t *s, int32_t d) {
    ctl__detview_t *v = &s->dets[d];
    if (v->present && v->occupied && s->last_time >= 0) {
        v->last_act = max64(v->last_act, s->last_time);
        v->last_ext = max64(v->last_ext, s->last_time);
    }
}

static void update_detector(ctl__session_t *s, int32_t d, const proto_detector_state_t *ds) {
    ctl__detview_t *v = &s->dets[d];
    fold_detector(s, d);
    int64_t count = ds->count < 0 ? 0 : ds->count > CTL__TIME_MAX ? CTL__TIME_MAX : ds->count;
    int counted = v->seen && count > v->count;
    const sim_detector_t *det = &s->map.scn->detectors[d];
    int stop_line = det->kind == SIM_DETECTOR_STOP_LINE;
    if (counted) {
        v->counted_in = s->view_seq;
        v->last_act = s->now;
        if (stop_line || s->map.link_stop[det->link] < 0)
            v->last_ext = s->now;
    }
    v->count = count;
    v->occupied = ds->occupied != 0;
    v->seen = 1;
    v->present = 1;
}

void ctl__view_update(ctl__session_t *s, const proto_tick_t *t) {
    const sim_scenario_t *scn = s->map.scn;
    s->view_seq++;
    for (int32_t i = 0; i < scn->n_signals; i++)
        s->views[i].seen = 0;
    for (int32_t d = 0; d < scn->n_detectors; d++) {
        fold_detector(s, d);
        s->dets[d].present = 0;
    }
    uint8_t *listed = base_arena_calloc(&s->arena, (size_t)scn->n_signals + 1, 1);
    if (listed == NULL) {
        s->oom = 1;
        return;
    }
    for (int32_t j = 0; j < t->n_spat && t->spat != NULL; j++) {
        int32_t i = find_signal(s, j, t->spat[j].id);
        if (i < 0)
            continue;
        if (listed[i]++) {
            s->views[i].seen = 0; /* listed twice in one tick: contradictory, not used */
            continue;
        }
        update_signal(s, i, &t->spat[j]);
    }
    for (int32_t i = 0; i < scn->n_signals; i++)
        if (listed[i] > 1)
            s->views[i].seen = 0;
    for (int32_t j = 0; j < t->n_detectors && t->detectors != NULL; j++) {
        const char *id = t->detectors[j].id;
        int32_t d = -1;
        if (id != NULL && j < scn->n_detectors &&
            (scn->detectors[j].id == id || strcmp(scn->detectors[j].id, id) == 0))
            d = j;
        else
            d = ctl__map_detector(&s->map, id);
        if (d >= 0)
            update_detector(s, d, &t->detectors[j]);
    }
}

void ctl__view_refresh(ctl__session_t *s) {
    const sim_scenario_t *scn = s->map.scn;
    s->view_seq++;
    memset(s->touched, 0, (size_t)scn->n_signals + 1);
    for (int32_t i = 0; i < scn->n_signals; i++) {
        if (!s->sig_changed[i]) {
            if (s->sig_known[i])
                advance_signal(s, i);
            continue;
        }
        s->touched[i] = 1;
        s->views[i].seen = 0;
        if (!s->sig_known[i])
            continue;
        /* The known entry with its "now" times as this tick's time. */
        proto_intersection_state_t x = s->spat_known[i];
        proto_group_state_t groups[SIM_MAX_GROUPS];
        int32_t n = x.n_groups < SIM_MAX_GROUPS ? x.n_groups : SIM_MAX_GROUPS;
        for (int32_t g = 0; g < n; g++) {
            groups[g] = x.groups[g];
            if (groups[g].min_end_ms == CTL__NOW_MARK)
                groups[g].min_end_ms = s->now;
            if (groups[g].max_end_ms == CTL__NOW_MARK)
                groups[g].max_end_ms = s->now;
        }
        x.groups = groups;
        x.n_groups = n;
        update_signal(s, i, &x);
    }
    if (s->full) {
        for (int32_t d = 0; d < scn->n_detectors; d++) {
            fold_detector(s, d);
            s->dets[d].present = 0;
        }
    }
    for (int32_t k = 0; k < s->n_det_changed; k++)
        update_detector(s, s->det_changed[k], &s->dets_known[s->det_changed[k]]);
}

int ctl__view_can_force_off(const ctl__session_t *s, int32_t sig) {
    const ctl__sigview_t *v = &s->views[sig];
    return v->seen && !v->in_change && v->min_end != INT64_MAX && s->now >= v->min_end;
}

ctl__proj_t ctl__view_project(const ctl__session_t *s, int32_t i, int64_t t) {
    const sim_signal_t *sig = &s->map.scn->signals[i];
    const ctl__sigview_t *v = &s->views[i];
    int32_t next = v->next >= 0 ? v->next : (v->stage + 1) % sig->n_stages;
    ctl__proj_t p = {.in_change = v->in_change, .stage = v->stage, .next = next};
    if (v->in_change) {
        p.start = v->next_start;
        if (v->next_start <= t) {
            /* The next stage is green by then. */
            p.in_change = 0;
            p.stage = next;
            p.next = (next + 1) % sig->n_stages;
            p.min_end = v->next_start + ctl__map_new_min_green(sig, sig->stages[next].groups,
                                                               sig->stages[v->stage].groups);
            p.green_end = -1; /* unknown: treated as not ending before t */
        }
        return p;
    }
    p.start = v->green_start;
    p.min_end = v->min_end;
    p.green_end = v->green_end;
    if (v->green_end < 0 || v->green_end > t)
        return p; /* still green at t */
    /* The plan ends this green before t: a change towards next. */
    uint64_t c = sig->stages[v->stage].groups, n = sig->stages[next].groups;
    int64_t ns = v->green_end + ctl__map_intergreen(sig, c, n);
    p.in_change = 1;
    p.start = ns;
    if (ns <= t) {
        p.in_change = 0;
        p.stage = next;
        p.next = (next + 1) % sig->n_stages;
        p.start = ns;
        p.min_end = ns + ctl__map_new_min_green(sig, n, c);
        p.green_end = -1;
    }
    return p;
}

int64_t ctl__view_earliest_green(const ctl__session_t *s, int32_t i, int32_t k, int64_t t) {
    const sim_signal_t *sig = &s->map.scn->signals[i];
    ctl__proj_t p = ctl__view_project(s, i, t);
    uint64_t K = sig->stages[k].groups, c = sig->stages[p.stage].groups;
    if (!p.in_change) {
        if (p.stage == k)
            return p.start;
        return add_sat(max64(t, p.min_end), ctl__map_intergreen(sig, c, K));
    }
    uint64_t n = sig->stages[p.next].groups;
    if (p.next == k || ((c & n) & ~K) == 0)
        return p.start; /* the change goes to k, or is redirected to it */
    return add_sat(p.start, ctl__map_new_min_green(sig, n, c) + ctl__map_intergreen(sig, n, K));
}

int64_t ctl__view_return_green(const ctl__session_t *s, int32_t i, int32_t k, int64_t end) {
    const sim_signal_t *sig = &s->map.scn->signals[i];
    if (sig->n_stages < 2)
        return end;
    int32_t n = s->views[i].next;
    if (n < 0 || n == k)
        n = (k + 1) % sig->n_stages;
    uint64_t K = sig->stages[k].groups, N = sig->stages[n].groups;
    return end + ctl__map_intergreen(sig, K, N) + ctl__map_new_min_green(sig, N, K) +
           ctl__map_intergreen(sig, N, K);
}

int64_t ctl__view_link_vehicles(const ctl__session_t *s, int32_t l) {
    int32_t a = s->map.link_adv[l], b = s->map.link_stop[l];
    if (a < 0 || b < 0 || !s->dets[a].seen || !s->dets[b].seen)
        return -1;
    int64_t n = s->dets[a].count - s->dets[b].count;
    return n > CTL__VEH_MAX ? CTL__VEH_MAX : n > 0 ? n : 0;
}

int64_t ctl__view_adv_count(const ctl__session_t *s, int32_t l) {
    int32_t a = l >= 0 ? s->map.link_adv[l] : -1;
    return a >= 0 && s->dets[a].seen ? s->dets[a].count : -1;
}

int64_t ctl__view_stop_count(const ctl__session_t *s, int32_t l) {
    int32_t b = l >= 0 ? s->map.link_stop[l] : -1;
    return b >= 0 && s->dets[b].seen ? s->dets[b].count : -1;
}

int32_t ctl__view_stage_for_group(const ctl__session_t *s, int32_t i, int32_t g) {
    const sim_signal_t *sig = &s->map.scn->signals[i];
    const ctl__sigview_t *v = &s->views[i];
    uint64_t bit = UINT64_C(1) << g;
    if (g < 0 || g >= sig->n_groups)
        return -1;
    if (v->seen) {
        if (!v->in_change && (sig->stages[v->stage].groups & bit))
            return v->stage;
        if (v->next >= 0 && (sig->stages[v->next].groups & bit))
            return v->next;
    }
    int32_t from = v->seen ? v->stage + 1 : 0;
    for (int32_t j = 0; j < sig->n_stages; j++) {
        int32_t k = (from + j) % sig->n_stages;
        if (sig->stages[k].groups & bit)
            return k;
    }
    return -1;
}

int ctl__view_group_green(const ctl__session_t *s, int32_t i, int32_t g) {
    const ctl__sigview_t *v = &s->views[i];
    return g >= 0 && v->seen && (v->green & (UINT64_C(1) << g)) != 0;
}
