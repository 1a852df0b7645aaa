/*
 * sim/signal_control.c - local (field) control of every signalized node: fixed-time and
 * coordinated stage plans, with the clearance intervals that make a change safe.
 *
 * Each signal runs a stage chain. In PHASE_GREEN the current stage's groups are green until
 * green_end; then the groups that end with it turn yellow (for their yellow_s), then red, and
 * the next stage's new groups turn green when every ending group has shown its yellow and red
 * clearance (next_stage_start). Groups green in both stages stay green throughout.
 *
 * Fixed-time control is expressed against the plan's clock rather than as durations: a
 * stage's green ends at the next instant, no earlier than the stage's minimum green, at which
 * (time_of_day - offset) mod cycle equals the end of that stage's green in the plan. In steady
 * state this is exactly the plan; after a start mid-cycle or a switch of plan it re-aligns to
 * the plan's offset within a cycle without ever cutting a minimum green or an intergreen. This
 * is the hook the controller will use too: it moves green_end, never the clearances.
 *
 * Safety invariant, checked at every green start: no group turns green while a group that
 * conflicts with it is not red. A breach is a programming error and stops the run.
 */
#include "sim/sim_internal.h"

#include <stdlib.h>

static sim_time_t tod(const sim_t *sim, sim_time_t t) {
    sim_time_t x = (sim->scn->start_tod + t) % SIM_MS_PER_DAY;
    return x < 0 ? x + SIM_MS_PER_DAY : x;
}

static sim_time_t mod(sim_time_t x, sim_time_t m) {
    sim_time_t r = x % m;
    return r < 0 ? r + m : r;
}

static int32_t plan_at(const sim_t *sim, const sim_signal_t *sig, sim_time_t t) {
    sim_time_t now = tod(sim, t);
    int32_t p = sig->schedule[0].plan;
    for (int32_t i = 0; i < sig->n_schedule; i++) {
        if (sig->schedule[i].from_tod <= now)
            p = sig->schedule[i].plan;
    }
    return p;
}

static sim_time_t stage_start_in_cycle(const sim_plan_t *plan, int32_t k) {
    sim_time_t s = 0;
    for (int32_t i = 0; i < k; i++)
        s += plan->splits[i];
    return s;
}

static sim_time_t cycle_pos(const sim_t *sim, const sim_plan_t *plan, sim_time_t t) {
    return mod(tod(sim, t) - plan->offset, plan->cycle);
}

/* The first instant >= t0 at which the plan ends stage k's green. */
static sim_time_t plan_green_end(const sim_t *sim, const sim_signal_t *sig, int32_t p, int32_t k,
                                 sim_time_t t0) {
    const sim_plan_t *plan = &sig->plans[p];
    sim_time_t target =
        stage_start_in_cycle(plan, k) + plan->splits[k] - sim_scenario_intergreen(sig, k);
    return t0 + mod(target - cycle_pos(sim, plan, t0), plan->cycle);
}

static void set_group(sim_t *sim, int32_t s, int32_t g, sim_signal_state_t state) {
    sim__signal_state_t *st = &sim->signals[s];
    st->group_state[g] = (uint8_t)state;
    sim__group_changed(sim, s, g, state);
}

static void start_stage(sim_t *sim, int32_t s, int32_t k) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    st->plan = plan_at(sim, sig, sim->now);
    st->stage = k;
    st->phase = SIM__PHASE_GREEN;
    st->stage_start = sim->now;
    sim_time_t hold = sim->now;
    uint64_t groups = sig->stages[k].groups;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if (!(groups & (UINT64_C(1) << g)) || st->group_state[g] == SIM_SIGNAL_GREEN)
            continue;
        for (int32_t h = 0; h < sig->n_groups; h++) {
            if ((sig->conflicts[g] & (UINT64_C(1) << h)) && st->group_state[h] != SIM_SIGNAL_RED)
                base_err_set(&sim->err, BASE_ESTATE,
                             "internal error: signal at node \"%s\": group \"%s\" would turn "
                             "green while conflicting group \"%s\" is not red",
                             sim->scn->nodes[sig->node].id, sig->groups[g].id, sig->groups[h].id);
        }
        st->group_green_since[g] = sim->now;
        if (sim->now + sig->groups[g].min_green > hold)
            hold = sim->now + sig->groups[g].min_green;
        set_group(sim, s, g, SIM_SIGNAL_GREEN);
    }
    st->green_end = plan_green_end(sim, sig, st->plan, k, hold);
}

static void end_green(sim_t *sim, int32_t s) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    int32_t next = (st->stage + 1) % sig->n_stages;
    uint64_t ending = sig->stages[st->stage].groups & ~sig->stages[next].groups;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if (!(ending & (UINT64_C(1) << g)) || st->group_state[g] != SIM_SIGNAL_GREEN)
            continue;
        st->group_red_at[g] = sim->now + sig->groups[g].yellow;
        set_group(sim, s, g, SIM_SIGNAL_YELLOW);
    }
    st->phase = SIM__PHASE_CHANGE;
    st->next_stage = next;
    st->next_stage_start = sim->now + sim_scenario_intergreen(sig, st->stage);
}

static void reschedule(sim_t *sim, int32_t s) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    sim_time_t next = st->phase == SIM__PHASE_GREEN ? st->green_end : st->next_stage_start;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if (st->group_state[g] == SIM_SIGNAL_YELLOW && st->group_red_at[g] < next)
            next = st->group_red_at[g];
    }
    st->gen++;
    sim__schedule(sim, next, SIM__EV_SIGNAL, s, st->gen);
}

void sim__signal_step(sim_t *sim, int32_t s, int64_t gen) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    if (gen != st->gen)
        return; /* superseded */
    for (int guard = 0; guard < 4 * SIM_MAX_GROUPS; guard++) {
        int acted = 0;
        for (int32_t g = 0; g < sig->n_groups; g++) {
            if (st->group_state[g] == SIM_SIGNAL_YELLOW && st->group_red_at[g] <= sim->now) {
                set_group(sim, s, g, SIM_SIGNAL_RED);
                acted = 1;
            }
        }
        if (st->phase == SIM__PHASE_CHANGE && st->next_stage_start <= sim->now) {
            start_stage(sim, s, st->next_stage);
            acted = 1;
        }
        if (st->phase == SIM__PHASE_GREEN && st->green_end <= sim->now) {
            end_green(sim, s);
            acted = 1;
        }
        if (!acted)
            break;
    }
    reschedule(sim, s);
}

int sim__signals_init(sim_t *sim) {
    const sim_scenario_t *scn = sim->scn;
    sim->signals = calloc((size_t)scn->n_signals + 1, sizeof *sim->signals);
    if (sim->signals == NULL)
        return BASE_ENOMEM;
    for (int32_t s = 0; s < scn->n_signals; s++) {
        const sim_signal_t *sig = &scn->signals[s];
        sim__signal_state_t *st = &sim->signals[s];
        size_t n = (size_t)sig->n_groups + 1;
        st->group_state = calloc(n, sizeof *st->group_state);
        st->group_red_at = calloc(n, sizeof *st->group_red_at);
        st->group_green_since = calloc(n, sizeof *st->group_green_since);
        if (!st->group_state || !st->group_red_at || !st->group_green_since)
            return BASE_ENOMEM;
    }
    /* Place each signal where its plan is at time 0, as if it had been running. */
    for (int32_t s = 0; s < scn->n_signals; s++) {
        const sim_signal_t *sig = &scn->signals[s];
        sim__signal_state_t *st = &sim->signals[s];
        st->plan = plan_at(sim, sig, 0);
        const sim_plan_t *plan = &sig->plans[st->plan];
        sim_time_t c = cycle_pos(sim, plan, 0);
        int32_t k = 0;
        sim_time_t start = 0;
        while (k < sig->n_stages - 1 && c >= start + plan->splits[k]) {
            start += plan->splits[k];
            k++;
        }
        sim_time_t green = plan->splits[k] - sim_scenario_intergreen(sig, k);
        int32_t next = (k + 1) % sig->n_stages;
        uint64_t on;
        st->stage = k;
        if (c < start + green) {
            on = sig->stages[k].groups;
            st->phase = SIM__PHASE_GREEN;
            st->stage_start = -(c - start);
            st->green_end = start + green - c;
        } else {
            /* In the intergreen: keep only the groups that continue; the ending ones are
             * already red (conservative: clearances are never shortened). */
            on = sig->stages[k].groups & sig->stages[next].groups;
            st->phase = SIM__PHASE_CHANGE;
            st->next_stage = next;
            st->next_stage_start = start + plan->splits[k] - c;
        }
        for (int32_t g = 0; g < sig->n_groups; g++) {
            int green_now = (on & (UINT64_C(1) << g)) != 0;
            st->group_state[g] = (uint8_t)(green_now ? SIM_SIGNAL_GREEN : SIM_SIGNAL_RED);
            st->group_green_since[g] = green_now ? st->stage_start : -1;
            if (sim->obs.signal_changed != NULL)
                sim->obs.signal_changed(sim->obs.ud, 0, s, g,
                                        (sim_signal_state_t)st->group_state[g]);
        }
        reschedule(sim, s);
        if (sim->err.code < 0)
            return sim->err.code;
    }
    return BASE_OK;
}

void sim__signals_fini(sim_t *sim) {
    if (sim->signals == NULL)
        return;
    for (int32_t s = 0; s < sim->scn->n_signals; s++) {
        free(sim->signals[s].group_state);
        free(sim->signals[s].group_red_at);
        free(sim->signals[s].group_green_since);
    }
    free(sim->signals);
    sim->signals = NULL;
}
