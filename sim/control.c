/*
 * sim/control.c - the controller's commands and the conflict monitor that checks them.
 *
 * Every command is checked against the scenario before it touches a signal: the signal and
 * stage must exist; a force-off must come after the current stage's minimum green and not
 * during a change interval (which would cut a yellow or a red clearance); a called stage
 * must not green two groups of the conflict table together (stages are checked at load, so
 * this can only fail for a corrupted scenario, but the monitor does not assume it). A refused
 * command changes nothing and is counted in sim_safety_t. Accepted commands only move the
 * end of a green or choose the next stage: the clearance intervals are run by
 * sim/signal_control.c, which no command can shorten.
 */
#include "sim/sim_internal.h"

#include <stdarg.h>
#include <stdio.h>

static int refuse(sim_t *sim, int64_t *counter, base_err_t *why, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(sim_t *sim, int64_t *counter, base_err_t *why, const char *fmt, ...) {
    char msg[BASE_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sim->safety.refused++;
    (*counter)++;
    return base_err_set(why, BASE_EINVAL, "%s", msg);
}

static int stage_conflicts(const sim_signal_t *sig, int32_t k) {
    uint64_t groups = sig->stages[k].groups;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if ((groups & (UINT64_C(1) << g)) && (sig->conflicts[g] & groups))
            return 1;
    }
    return 0;
}

/* Returns 1 when the conflict monitor will accept cmd for its (valid) signal: the checks of
 * sim_command() below, without counting, so the observer hears only accepted commands. */
static int command_ok(const sim_t *sim, const sim_command_t *cmd) {
    const sim_signal_t *sig = &sim->scn->signals[cmd->signal];
    const sim__signal_state_t *st = &sim->signals[cmd->signal];
    switch (cmd->action) {
    case SIM_CMD_HOLD:
        return 1;
    case SIM_CMD_FORCE_OFF:
        return st->phase == SIM__PHASE_GREEN && sim->now >= sim__stage_min_end(sim, cmd->signal);
    case SIM_CMD_CALL:
        return cmd->stage >= 0 && cmd->stage < sig->n_stages && !stage_conflicts(sig, cmd->stage);
    case SIM_CMD_RELEASE:
        return (cmd->transition == SIM_TRANSITION_DWELL ||
                cmd->transition == SIM_TRANSITION_SHORTWAY ||
                cmd->transition == SIM_TRANSITION_LONGWAY) &&
               st->external;
    default:
        return 0;
    }
}

int sim_command(sim_t *sim, const sim_command_t *cmd, base_err_t *why) {
    const sim_scenario_t *scn = sim->scn;
    sim->safety.commands++;
    if (cmd->signal < 0 || cmd->signal >= scn->n_signals)
        return refuse(sim, &sim->safety.invalid_refusals, why, "no such signal %d",
                      (int)cmd->signal);
    int32_t s = cmd->signal;
    const sim_signal_t *sig = &scn->signals[s];
    sim__signal_state_t *st = &sim->signals[s];
    const char *node = scn->nodes[sig->node].id;
    sim__mark_signal(sim, s);
    if (sim->obs.command_applied != NULL && command_ok(sim, cmd))
        sim->obs.command_applied(sim->obs.ud, sim->now, cmd);
    switch (cmd->action) {
    case SIM_CMD_HOLD:
        st->external = 1;
        st->preempt = (uint8_t)(cmd->preempt != 0);
        if (st->phase == SIM__PHASE_GREEN)
            st->hold = 1;
        else
            st->hold_next = 1;
        sim__signal_replan(sim, s);
        return BASE_OK;
    case SIM_CMD_FORCE_OFF:
        if (st->phase != SIM__PHASE_GREEN)
            return refuse(sim, &sim->safety.clearance_refusals, why,
                          "%s: force-off during a change interval would cut its clearance", node);
        if (sim->now < sim__stage_min_end(sim, s))
            return refuse(sim, &sim->safety.min_green_refusals, why,
                          "%s: force-off before the minimum green of stage \"%s\"", node,
                          sig->stages[st->stage].id);
        st->external = 1;
        st->hold = 0;
        st->green_end = sim->now;
        sim__signal_kick(sim, s);
        return BASE_OK;
    case SIM_CMD_CALL: {
        if (cmd->stage < 0 || cmd->stage >= sig->n_stages)
            return refuse(sim, &sim->safety.invalid_refusals, why, "%s: no such stage %d", node,
                          (int)cmd->stage);
        if (stage_conflicts(sig, cmd->stage))
            return refuse(sim, &sim->safety.conflict_refusals, why,
                          "%s: stage \"%s\" greens conflicting groups", node,
                          sig->stages[cmd->stage].id);
        st->external = 1;
        st->transitioning = 0;
        st->preempt = (uint8_t)(cmd->preempt != 0);
        int32_t k = cmd->stage;
        if (st->phase == SIM__PHASE_GREEN) {
            if (st->stage == k) {
                st->called_stage = -1;
                st->hold = (uint8_t)(cmd->hold != 0);
            } else {
                st->called_stage = k;
                st->hold_next = (uint8_t)(cmd->hold != 0);
                st->hold = 0;
            }
        } else if (st->next_stage == k) {
            st->called_stage = k;
            st->hold_next = (uint8_t)(cmd->hold != 0);
        } else {
            /* Redirect the change if no group that continues would have to end. */
            uint64_t cont = sig->stages[st->stage].groups & sig->stages[st->next_stage].groups;
            if ((cont & ~sig->stages[k].groups) == 0)
                st->next_stage = k;
            st->called_stage = k;
            st->hold_next = (uint8_t)(cmd->hold != 0);
        }
        sim__signal_replan(sim, s);
        return BASE_OK;
    }
    case SIM_CMD_RELEASE:
        if (cmd->transition != SIM_TRANSITION_DWELL && cmd->transition != SIM_TRANSITION_SHORTWAY &&
            cmd->transition != SIM_TRANSITION_LONGWAY)
            return refuse(sim, &sim->safety.invalid_refusals, why, "%s: unknown transition %d",
                          node, (int)cmd->transition);
        if (!st->external)
            return BASE_OK; /* already local: nothing to release */
        sim__signal_release(sim, s, cmd->transition);
        return BASE_OK;
    default:
        return refuse(sim, &sim->safety.invalid_refusals, why, "%s: unknown action %d", node,
                      (int)cmd->action);
    }
}

sim_signal_status_t sim_signal_status(const sim_t *sim, int32_t s) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    const sim__signal_state_t *st = &sim->signals[s];
    sim_signal_status_t out = {
        .plan = st->plan,
        .stage = st->stage,
        .in_change = st->phase == SIM__PHASE_CHANGE,
        .stage_start = st->stage_start,
        .min_end = st->phase == SIM__PHASE_GREEN ? sim__stage_min_end(sim, s) : -1,
        .green_end =
            st->phase == SIM__PHASE_GREEN && st->green_end != SIM_TIME_MAX ? st->green_end : -1,
        .next_stage_start = st->phase == SIM__PHASE_CHANGE ? st->next_stage_start : -1,
        .external = st->external,
        .hold = st->hold,
        .preempt = st->preempt,
        .in_transition = st->transitioning,
        .released_at = st->released_at,
        .recovered_at = st->recovered_at,
        .recovery_max = st->recovery_max,
    };
    if (st->phase == SIM__PHASE_CHANGE)
        out.next_stage = st->next_stage;
    else
        out.next_stage = st->called_stage >= 0 ? st->called_stage : (st->stage + 1) % sig->n_stages;
    return out;
}

sim_time_t sim_group_min_end(const sim_t *sim, int32_t s, int32_t g) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    const sim__signal_state_t *st = &sim->signals[s];
    switch (st->group_state[g]) {
    case SIM_SIGNAL_GREEN: {
        sim_time_t e = st->group_green_since[g] + sig->groups[g].min_green;
        return e > sim->now ? e : sim->now;
    }
    case SIM_SIGNAL_YELLOW:
        return st->group_red_at[g];
    default:
        if (st->phase == SIM__PHASE_CHANGE &&
            (sig->stages[st->next_stage].groups & (UINT64_C(1) << g)))
            return st->next_stage_start;
        if (st->phase == SIM__PHASE_GREEN && st->green_end != SIM_TIME_MAX) {
            sim_time_t e = st->green_end + sim_scenario_intergreen(sig, st->stage);
            return e > sim->now ? e : sim->now;
        }
        return sim->now;
    }
}

/* Folds a time into *at: the earliest time after now at which a reading changes. A clamped
 * reading (max(t, now)) changes when t is reached; an unclamped one also reads differently
 * the moment after it equals now. */
static void ahead(sim_time_t t, sim_time_t now, sim_time_t *at) {
    if (t > now && t < *at)
        *at = t;
}

static void fixed(sim_time_t t, sim_time_t now, sim_time_t *at) {
    if (t >= now)
        ahead(t > now ? t : now + 1, now, at);
}

sim_time_t sim_signal_next_change(const sim_t *sim, int32_t s) {
    const sim_signal_t *sig = &sim->scn->signals[s];
    const sim__signal_state_t *st = &sim->signals[s];
    sim_time_t now = sim->now, at = SIM_TIME_MAX;
    int ends = st->phase == SIM__PHASE_GREEN && st->green_end != SIM_TIME_MAX;
    /* The cases of sim_group_min_end() and sim_group_max_end(), in their order. */
    for (int32_t g = 0; g < sig->n_groups; g++) {
        switch (st->group_state[g]) {
        case SIM_SIGNAL_GREEN:
            ahead(st->group_green_since[g] + sig->groups[g].min_green, now, &at);
            if (ends)
                ahead(st->green_end, now, &at);
            break;
        case SIM_SIGNAL_YELLOW:
            fixed(st->group_red_at[g], now, &at);
            break;
        default:
            if (st->phase == SIM__PHASE_CHANGE &&
                (sig->stages[st->next_stage].groups & (UINT64_C(1) << g)))
                fixed(st->next_stage_start, now, &at);
            else if (ends)
                ahead(st->green_end + sim_scenario_intergreen(sig, st->stage), now, &at);
            break;
        }
    }
    return at;
}

sim_time_t sim_group_max_end(const sim_t *sim, int32_t s, int32_t g) {
    const sim__signal_state_t *st = &sim->signals[s];
    switch (st->group_state[g]) {
    case SIM_SIGNAL_GREEN:
        if (st->phase == SIM__PHASE_GREEN && st->green_end != SIM_TIME_MAX)
            return st->green_end > sim->now ? st->green_end : sim->now;
        return -1;
    case SIM_SIGNAL_YELLOW:
        return st->group_red_at[g];
    default:
        return -1;
    }
}
