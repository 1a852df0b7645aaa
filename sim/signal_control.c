/*
 * sim/signal_control.c - control of every signalized node: the local fixed-time and
 * coordinated plans, the controller's commands, and the clearance intervals that make every
 * change safe.
 *
 * Each signal runs a stage chain. In PHASE_GREEN the current stage's groups are green until
 * green_end; then the groups that do not continue into the next stage turn yellow (for their
 * yellow_s), then red, and the next stage's new groups turn green when every ending group has
 * shown its yellow and red clearance (next_stage_start). Groups green in both stages stay
 * green throughout.
 *
 * Local control follows the plan's clock rather than durations: the plan position of time t
 * is (time_of_day(t) - offset + delta) mod cycle, and a stage's green ends at the first
 * instant, no earlier than its minimum green, at which that position reaches the end of the
 * stage's green in the plan. In steady state (delta = 0) this is exactly the plan; after a
 * start mid-cycle or a time-of-day plan switch it re-aligns within a cycle without cutting a
 * minimum green or an intergreen.
 *
 * The controller (sim/control.c) can hold a stage, force it off, call another stage next, and
 * release the signal back to its plan. A release returns to coordination by
 *   - dwell: delta = 0; the current stage is held until the plan reaches its end (<= a cycle);
 *   - shortway: delta is set so the current state is in step with a shifted plan, then moved
 *     back to 0 by at most 20 % of the cycle per cycle, the shorter way round;
 *   - longway: the same, lengthening cycles only (delta in [0, cycle)).
 * The signal is back in coordination when delta is 0 again (recovered_at).
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

static sim_time_t cycle_pos(const sim_t *sim, int32_t s, const sim_plan_t *plan, sim_time_t t) {
    return mod(tod(sim, t) - plan->offset + sim->signals[s].delta, plan->cycle);
}

/* Position in the plan's cycle at which stage k's green ends. */
static sim_time_t green_end_pos(const sim_signal_t *sig, const sim_plan_t *plan, int32_t k) {
    return stage_start_in_cycle(plan, k) + plan->splits[k] - sim_scenario_intergreen(sig, k);
}

/* The first instant >= t0 at which the plan ends stage k's green. */
static sim_time_t plan_green_end(const sim_t *sim, int32_t s, int32_t k, sim_time_t t0) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    const sim_plan_t *plan = &sig->plans[sim->signals[s].plan];
    sim_time_t target = green_end_pos(sig, plan, k);
    return t0 + mod(target - cycle_pos(sim, s, plan, t0), plan->cycle);
}

static sim_time_t intergreen_between(const sim_signal_t *sig, uint64_t from, uint64_t to) {
    uint64_t ending = from & ~to;
    sim_time_t ig = 0;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if (ending & (UINT64_C(1) << g)) {
            sim_time_t t = sig->groups[g].yellow + sig->groups[g].red_clearance;
            if (t > ig)
                ig = t;
        }
    }
    return ig;
}

sim_time_t sim__stage_min_end(const sim_t *sim, int32_t s) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    const sim__signal_state_t *st = &sim->signals[s];
    sim_time_t end = st->stage_start;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if (!(sig->stages[st->stage].groups & (UINT64_C(1) << g)))
            continue;
        sim_time_t e = st->group_green_since[g] + sig->groups[g].min_green;
        if (st->group_green_since[g] >= st->stage_start && e > end)
            end = e;
    }
    return end;
}

static void set_group(sim_t *sim, int32_t s, int32_t g, sim_signal_state_t state) {
    sim__signal_state_t *st = &sim->signals[s];
    st->group_state[g] = (uint8_t)state;
    sim__group_changed(sim, s, g, state);
}

/* Decides when the current green ends (PHASE_GREEN), from hold, call and the plan. */
static void plan_current_green(sim_t *sim, int32_t s) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    sim_time_t hold = sim__stage_min_end(sim, s);
    if (hold < sim->now)
        hold = sim->now;
    if (st->hold) {
        st->green_end = SIM_TIME_MAX;
        return;
    }
    if (st->called_stage >= 0 && st->called_stage != st->stage) {
        st->green_end = hold;
        return;
    }
    if (st->transitioning && st->transition != SIM_TRANSITION_DWELL) {
        /* Follow the shifted plan; if its end of green has already passed, end at the
         * minimum green and absorb the lateness into delta (a longer cycle). */
        const sim_plan_t *plan = &sig->plans[st->plan];
        sim_time_t p = st->stage_start + mod(green_end_pos(sig, plan, st->stage) -
                                                 cycle_pos(sim, s, plan, st->stage_start),
                                             plan->cycle);
        if (p < hold) {
            st->delta -= hold - p;
            st->delta = mod(st->delta + plan->cycle / 2, plan->cycle) - plan->cycle / 2;
            p = hold;
        }
        st->green_end = p;
        return;
    }
    if (sig->n_stages == 1) {
        st->green_end = SIM_TIME_MAX; /* a single stage never changes */
        return;
    }
    st->green_end = plan_green_end(sim, s, st->stage, hold);
    if (st->green_end == st->stage_start)
        st->green_end += sig->plans[st->plan].cycle; /* never a green of zero length */
}

/* A transition step at each cycle boundary (start of stage 0). */
static void transition_step(sim_t *sim, int32_t s) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    if (!st->transitioning || st->external)
        return;
    if (st->transition == SIM_TRANSITION_DWELL || st->delta == 0) {
        st->transitioning = 0;
        st->delta = 0;
        st->recovered_at = sim->now;
    } else {
        sim_time_t cycle = sig->plans[st->plan].cycle;
        sim_time_t step = cycle / 5;
        sim_time_t mag = st->delta < 0 ? -st->delta : st->delta;
        if (mag < step)
            step = mag;
        st->delta += st->delta < 0 ? step : -step;
        if (st->delta == 0) {
            st->transitioning = 0;
            st->recovered_at = sim->now;
        }
    }
    if (!st->transitioning && st->released_at >= 0 &&
        st->recovered_at - st->released_at > st->recovery_max)
        st->recovery_max = st->recovered_at - st->released_at;
}

static void start_stage(sim_t *sim, int32_t s, int32_t k) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    if (!st->transitioning)
        st->plan = plan_at(sim, sig, sim->now);
    st->stage = k;
    st->phase = SIM__PHASE_GREEN;
    st->stage_start = sim->now;
    if (st->called_stage == k) {
        st->called_stage = -1;
        st->hold = st->hold_next;
        st->hold_next = 0;
    }
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
        set_group(sim, s, g, SIM_SIGNAL_GREEN);
    }
    if (k == 0)
        transition_step(sim, s);
    plan_current_green(sim, s);
}

static void end_green(sim_t *sim, int32_t s) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    int32_t next = st->called_stage >= 0 ? st->called_stage : (st->stage + 1) % sig->n_stages;
    uint64_t ending = sig->stages[st->stage].groups & ~sig->stages[next].groups;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if (!(ending & (UINT64_C(1) << g)) || st->group_state[g] != SIM_SIGNAL_GREEN)
            continue;
        st->group_red_at[g] = sim->now + sig->groups[g].yellow;
        set_group(sim, s, g, SIM_SIGNAL_YELLOW);
    }
    st->hold = 0;
    if (st->transitioning && st->transition == SIM_TRANSITION_DWELL && !st->external) {
        /* The dwell is over: the plan has come round to this stage's end. */
        st->transitioning = 0;
        st->recovered_at = sim->now;
        if (st->released_at >= 0 && st->recovered_at - st->released_at > st->recovery_max)
            st->recovery_max = st->recovered_at - st->released_at;
    }
    st->phase = SIM__PHASE_CHANGE;
    st->next_stage = next;
    st->next_stage_start =
        sim->now + intergreen_between(sig, sig->stages[st->stage].groups, sig->stages[next].groups);
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
    if (next != SIM_TIME_MAX)
        sim__schedule(sim, next, SIM__EV_SIGNAL, s, st->gen);
}

static void run_due(sim_t *sim, int32_t s) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
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

void sim__signal_step(sim_t *sim, int32_t s, int64_t gen) {
    if (gen != sim->signals[s].gen)
        return; /* superseded */
    sim__mark_signal(sim, s);
    run_due(sim, s);
}

void sim__signal_kick(sim_t *sim, int32_t s) {
    run_due(sim, s);
}

void sim__signal_replan(sim_t *sim, int32_t s) {
    if (sim->signals[s].phase == SIM__PHASE_GREEN)
        plan_current_green(sim, s);
    run_due(sim, s);
}

void sim__signal_release(sim_t *sim, int32_t s, sim_transition_t mode) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    st->external = 0;
    st->hold = 0;
    st->hold_next = 0;
    st->called_stage = -1;
    st->preempt = 0;
    st->transition = (uint8_t)mode;
    st->transitioning = 1;
    st->released_at = sim->now;
    st->recovered_at = -1;
    st->delta = 0;
    if (mode != SIM_TRANSITION_DWELL) {
        const sim_plan_t *plan = &sig->plans[st->plan];
        sim_time_t cycle = plan->cycle;
        sim_time_t raw;
        if (st->phase == SIM__PHASE_GREEN) {
            /* Anchor: the current stage ends at its min green (or now) in the shifted plan. */
            sim_time_t end = sim__stage_min_end(sim, s);
            if (end < sim->now)
                end = sim->now;
            raw = green_end_pos(sig, plan, st->stage) - mod(tod(sim, end) - plan->offset, cycle);
        } else {
            raw = stage_start_in_cycle(plan, st->next_stage) -
                  mod(tod(sim, st->next_stage_start) - plan->offset, cycle);
        }
        if (mode == SIM_TRANSITION_LONGWAY)
            st->delta = mod(raw, cycle);
        else
            st->delta = mod(raw + cycle / 2, cycle) - cycle / 2;
    }
    sim__signal_replan(sim, s);
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
        st->called_stage = -1;
        st->released_at = st->recovered_at = -1;
    }
    /* Place each signal where its plan is at time 0, as if it had been running. */
    for (int32_t s = 0; s < scn->n_signals; s++) {
        const sim_signal_t *sig = &scn->signals[s];
        sim__signal_state_t *st = &sim->signals[s];
        st->plan = plan_at(sim, sig, 0);
        const sim_plan_t *plan = &sig->plans[st->plan];
        sim_time_t c = cycle_pos(sim, s, plan, 0);
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
            /* Groups already green count as having served their minimum green. */
            st->group_green_since[g] = green_now ? -SIM_MS_PER_DAY : -1;
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
