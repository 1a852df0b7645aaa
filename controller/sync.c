/*
 * controller/sync.c - event synchronisation on the controller's side: what a session
 * subscribes to, how delta ticks fold into the picture the view reads, and when the
 * controller next needs to hear from the simulator.
 *
 * Deltas: the session keeps the last state each subscribed signal and detector showed
 * (signal, stage, plan and group ids resolved to the map's own strings; an id the map lacks
 * is kept as unknown, which the view treats as it would in a full tick). A tick lists only
 * what changed; ctl__sync_apply() folds it in and notes what it listed, and the view reads
 * those entries again and moves the others on (controller/view.c), which is what a full tick
 * of every known entry would have given: the view, the strategies and therefore the commands
 * are the same whether the simulator sends deltas or not. An entry listed twice in one tick
 * is contradictory and forgotten until it is listed again. A full tick (delta false) replaces
 * everything known. A group time equal to its tick's time means "now" (the simulator does not
 * list a signal whose only change is such a time moving on with the clock): it is kept as
 * "now" and reads as the time of the tick being handled.
 *
 * Wakes: a tick is asked for at the next control interval while the controller has anything
 * under way (a command this tick, a service in force, a request, TSP), and always under
 * actuated control (it extends greens second by second). Otherwise the controller waits for
 * the SRMs of the subscribed roles and, for the corridor, for a time well ahead of the next
 * planned escort's departure (three engagement horizons, or metering's horizon and one
 * engagement horizon if longer), when it starts planning again.
 * Strategy none subscribes to nothing and asks for no tick at all.
 */
#include "controller/ctl_internal.h"

#include <stdlib.h>
#include <string.h>

static int is_strategy(const ctl__session_t *s, const char *name) {
    return strcmp(s->strategy->name, name) == 0;
}

int ctl__sync_init(ctl__session_t *s) {
    const sim_scenario_t *scn = s->map.scn;
    size_t ns = (size_t)scn->n_signals + 1, nd = (size_t)scn->n_detectors + 1;
    int32_t n_groups = 0;
    for (int32_t i = 0; i < scn->n_signals; i++)
        n_groups += scn->signals[i].n_groups;
    s->spat_known = calloc(ns, sizeof *s->spat_known);
    s->groups_known = calloc((size_t)n_groups + 1, sizeof *s->groups_known);
    s->sig_known = calloc(ns, 1);
    s->dets_known = calloc(nd, sizeof *s->dets_known);
    s->det_known = calloc(nd, 1);
    s->sig_changed = calloc(ns, 1);
    s->det_listed = calloc(nd, 1);
    s->det_changed = calloc(nd, sizeof *s->det_changed);
    s->det_signal = calloc(nd, sizeof *s->det_signal);
    s->det_groups = calloc(nd, sizeof *s->det_groups);
    s->touched = calloc(ns, 1);
    s->cmd_prev = calloc(ns, 1);
    s->due = calloc(ns, sizeof *s->due);
    s->req_at = calloc(ns, 1);
    if (s->sig_changed == NULL || s->det_listed == NULL || s->det_changed == NULL ||
        s->det_signal == NULL || s->det_groups == NULL || s->touched == NULL ||
        s->cmd_prev == NULL || s->due == NULL || s->req_at == NULL || s->spat_known == NULL ||
        s->groups_known == NULL || s->sig_known == NULL || s->dets_known == NULL ||
        s->det_known == NULL)
        return BASE_ENOMEM;
    n_groups = 0;
    for (int32_t i = 0; i < scn->n_signals; i++) {
        s->spat_known[i].groups = &s->groups_known[n_groups];
        n_groups += scn->signals[i].n_groups;
    }
    for (int32_t d = 0; d < scn->n_detectors; d++)
        s->det_signal[d] = scn->nodes[scn->links[scn->detectors[d].link].to].signal;
    for (int32_t i = 0; i < scn->n_signals; i++) {
        const int32_t *first = s->map.group_first[i], *dets = s->map.group_dets[i];
        for (int32_t g = 0; g < scn->signals[i].n_groups; g++)
            for (int32_t k = first[g]; k < first[g + 1]; k++)
                s->det_groups[dets[k]] |= UINT64_C(1) << g;
    }
    s->event = 1;
    proto_subscribe_t *sub = &s->sub;
    memset(sub, 0, sizeof *sub);
    if (is_strategy(s, "none"))
        return BASE_OK; /* nothing: empty lists, no roles */
    sub->all_signals = 1;
    sub->all_detectors =
        is_strategy(s, "actuated") || is_strategy(s, "corridor") || is_strategy(s, "corridor-v1");
    sub->roles = PROTO_ROLE_BIT(PROTO_ROLE_POLICE) | PROTO_ROLE_BIT(PROTO_ROLE_FIRE) |
                 PROTO_ROLE_BIT(PROTO_ROLE_AMBULANCE);
    if (s->cfg->tsp && s->strategy->tsp)
        sub->roles |= PROTO_ROLE_BIT(PROTO_ROLE_TRANSIT);
    return BASE_OK;
}

void ctl__sync_fini(ctl__session_t *s) {
    free(s->spat_known);
    free(s->groups_known);
    free(s->sig_known);
    free(s->dets_known);
    free(s->det_known);
    free(s->sig_changed);
    free(s->det_listed);
    free(s->det_changed);
    free(s->det_signal);
    free(s->det_groups);
    free(s->touched);
    free(s->cmd_prev);
    free(s->due);
    free(s->req_at);
}

static const char *stage_id(const ctl__map_t *map, int32_t i, const char *id) {
    int32_t k = ctl__map_stage(map, i, id);
    return k >= 0 ? map->scn->signals[i].stages[k].id : NULL;
}

/* Stores entry x of signal i as the map's strings; a stage the map lacks becomes NULL, which
 * the view treats as it treats an unknown stage (the signal is not seen). */
static void keep_signal(ctl__session_t *s, int32_t i, const proto_intersection_state_t *x,
                        int64_t now) {
    const sim_signal_t *sig = &s->map.scn->signals[i];
    proto_intersection_state_t *k = &s->spat_known[i];
    proto_group_state_t *groups = k->groups;
    *k = *x;
    k->groups = groups;
    k->id = s->map.scn->nodes[sig->node].id;
    k->stage = stage_id(&s->map, i, x->stage);
    k->next_stage = stage_id(&s->map, i, x->next_stage);
    k->plan = NULL;
    for (int32_t p = 0; x->plan != NULL && p < sig->n_plans; p++)
        if (sig->plans[p].id == x->plan || strcmp(sig->plans[p].id, x->plan) == 0)
            k->plan = sig->plans[p].id;
    /* Groups the map knows, each once (the view skips unknown ones and distrusts repeats). */
    int32_t n = 0;
    uint64_t seen = 0;
    for (int32_t j = 0; j < x->n_groups && x->groups != NULL; j++) {
        for (int32_t h = 0; h < sig->n_groups; h++) {
            /* The simulator lists groups in map order: position j first. */
            int32_t g = (j + h) % sig->n_groups;
            if (sig->groups[g].id != x->groups[j].id &&
                strcmp(sig->groups[g].id, x->groups[j].id) != 0)
                continue;
            if (seen & (UINT64_C(1) << g)) {
                s->sig_known[i] = 0; /* a group twice: contradictory */
                return;
            }
            seen |= UINT64_C(1) << g;
            groups[n] = x->groups[j];
            groups[n].id = sig->groups[g].id;
            if (groups[n].min_end_ms == now)
                groups[n].min_end_ms = CTL__NOW_MARK;
            if (groups[n].max_end_ms == now)
                groups[n].max_end_ms = CTL__NOW_MARK;
            n++;
            break;
        }
    }
    k->n_groups = n;
    s->sig_known[i] = 1;
}

/* The map index of entry j of a tick: where the tick's hint (in-process) or, in a full
 * tick, the entry's position says, if the id there is the entry's; else by id. */
static int32_t signal_of(const ctl__session_t *s, const proto_tick_t *t, int32_t j,
                         const char *id) {
    const sim_scenario_t *scn = s->map.scn;
    int32_t pos = t->spat_at != NULL ? t->spat_at[j] : j;
    if (id != NULL && pos >= 0 && pos < scn->n_signals) {
        const char *at = scn->nodes[scn->signals[pos].node].id;
        if (at == id || strcmp(at, id) == 0)
            return pos;
    }
    return ctl__map_signal(&s->map, id);
}

static int32_t detector_of(const ctl__session_t *s, const proto_tick_t *t, int32_t j,
                           const char *id) {
    const sim_scenario_t *scn = s->map.scn;
    int32_t pos = t->detectors_at != NULL ? t->detectors_at[j] : j;
    if (id != NULL && pos >= 0 && pos < scn->n_detectors &&
        (scn->detectors[pos].id == id || strcmp(scn->detectors[pos].id, id) == 0))
        return pos;
    return ctl__map_detector(&s->map, id);
}

void ctl__sync_apply(ctl__session_t *s, const proto_tick_t *t) {
    const sim_scenario_t *scn = s->map.scn;
    s->full = !t->delta;
    if (s->full) {
        memset(s->sig_known, 0, (size_t)scn->n_signals + 1);
        memset(s->det_known, 0, (size_t)scn->n_detectors + 1);
    }
    /* sig_changed counts the listings first: twice in one tick is contradictory. */
    memset(s->sig_changed, 0, (size_t)scn->n_signals + 1);
    for (int32_t j = 0; j < t->n_spat && t->spat != NULL; j++) {
        int32_t i = signal_of(s, t, j, t->spat[j].id);
        if (i < 0)
            continue;
        if (s->sig_changed[i] < 2)
            s->sig_changed[i]++;
        if (s->sig_changed[i] > 1) {
            s->sig_known[i] = 0; /* listed twice in one tick: forgotten until listed again */
            continue;
        }
        keep_signal(s, i, &t->spat[j], t->time_ms);
    }
    if (s->full)
        memset(s->sig_changed, 1, (size_t)scn->n_signals + 1);
    s->n_det_changed = 0;
    for (int32_t j = 0; j < t->n_detectors && t->detectors != NULL; j++) {
        int32_t d = detector_of(s, t, j, t->detectors[j].id);
        if (d < 0)
            continue;
        s->dets_known[d] = t->detectors[j];
        s->dets_known[d].id = scn->detectors[d].id;
        s->det_known[d] = 1;
        if (!s->det_listed[d]) {
            s->det_listed[d] = 1;
            s->det_changed[s->n_det_changed++] = d;
        }
    }
    for (int32_t k = 0; k < s->n_det_changed; k++)
        s->det_listed[s->det_changed[k]] = 0;
}

static int busy(const ctl__session_t *s) {
    const sim_scenario_t *scn = s->map.scn;
    if (s->n_cmds > 0)
        return 1;
    for (int32_t i = 0; i < s->n_reqs; i++)
        if (!s->reqs[i].planned)
            return 1;
    for (int32_t i = 0; i < scn->n_signals; i++)
        if (s->svc[i].kind != CTL__SVC_NONE || s->svc[i].active || s->views[i].external)
            return 1;
    return 0;
}

proto_wake_t ctl__sync_wake(const ctl__session_t *s) {
    proto_wake_t w = {.at_ms = -1, .on = 0};
    if (is_strategy(s, "none"))
        return w;
    int64_t next = s->now + s->tick_ms;
    if (is_strategy(s, "actuated") || busy(s)) {
        w.at_ms = next;
        return w;
    }
    w.on = PROTO_WAKE_SRM;
    if (is_strategy(s, "corridor") || is_strategy(s, "corridor-v1")) {
        const sim_scenario_t *scn = s->map.scn;
        /* Three engagement horizons, or metering's horizon and one more if longer. */
        int64_t before = 3 * ctl__ms(s->cfg->engage_s);
        int64_t meter = ctl__ms(s->cfg->engage_s) + ctl__ms(s->cfg->meter_horizon_s);
        if (is_strategy(s, "corridor") && s->cfg->meter_s > 0 && meter > before)
            before = meter;
        for (int32_t e = 0; e < scn->n_escorts; e++) {
            if (s->escort_seen[e] || scn->escorts[e].depart < s->now)
                continue;
            int64_t at = scn->escorts[e].depart - before;
            at = at < next ? next : at;
            if (w.at_ms < 0 || at < w.at_ms)
                w.at_ms = at;
        }
    }
    return w;
}
