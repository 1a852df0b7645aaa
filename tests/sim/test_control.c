/*
 * tests/sim/test_control.c - suite sim_control: the controller's commands through the
 * conflict monitor: refusals (minimum green, clearance, unknown ids) are counted and change
 * nothing; call, hold and force-off keep every yellow and red clearance; release returns to
 * coordination by dwell, shortway and longway within a bounded number of cycles.
 */
#include "sim/sim.h"
#include "tests/sim/fixture.h"
#include "tests/support/support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* The cross with cycle 100 s, splits 50/50, min green 10 s, yellow 3, red clearance 2,
 * offset 0: G1 green 0-45, G2 green 50-95. */
static sim_t *cross(fixture_rec_t *rec, sim_scenario_t **scn) {
    fixture_opts_t o = {.min_green_s = 10};
    *scn = fixture_cross(&o);
    sim_observer_t obs = fixture_recorder(rec);
    sim_t *sim = sim_new(*scn, 1, &obs, NULL);
    ck_assert_ptr_nonnull(sim);
    return sim;
}

static sim_time_t first_change(const fixture_rec_t *rec, int g, sim_signal_state_t state,
                               sim_time_t after) {
    for (int i = 0; i < rec->n_changes; i++)
        if (rec->changes[i].group == g && rec->changes[i].state == state &&
            rec->changes[i].t > after)
            return rec->changes[i].t;
    return -1;
}

START_TEST(test_force_off_refusals) {
    fixture_rec_t rec;
    sim_scenario_t *scn;
    sim_t *sim = cross(&rec, &scn);
    base_err_t why = {0};
    /* G2 turns green at 50 s; force-off at 55 s is before its 10 s minimum green. */
    ck_assert_int_eq(sim_run_until(sim, 55000), 0);
    sim_command_t off = {.signal = 0, .action = SIM_CMD_FORCE_OFF};
    ck_assert_int_eq(sim_command(sim, &off, &why), BASE_EINVAL);
    ck_assert_ptr_nonnull(strstr(why.msg, "minimum green"));
    ck_assert_int_eq(sim_signal_state(sim, 0, 1), SIM_SIGNAL_GREEN);
    /* At 60 s it is legal: G2 yellow now, red at 63, G1 green at 65. */
    ck_assert_int_eq(sim_run_until(sim, 60000), 0);
    ck_assert_int_eq(sim_command(sim, &off, &why), 0);
    ck_assert_int_eq(sim_signal_state(sim, 0, 1), SIM_SIGNAL_YELLOW);
    /* A force-off now would cut the clearance. */
    ck_assert_int_eq(sim_command(sim, &off, &why), BASE_EINVAL);
    ck_assert_int_eq(sim_run_until(sim, 200000), 0);
    ck_assert_int_eq(first_change(&rec, 1, SIM_SIGNAL_RED, 60000), 63000);
    ck_assert_int_eq(first_change(&rec, 0, SIM_SIGNAL_GREEN, 60000), 65000);
    sim_safety_t sf = sim_safety(sim);
    ck_assert_int_eq((int)sf.commands, 3);
    ck_assert_int_eq((int)sf.refused, 2);
    ck_assert_int_eq((int)sf.min_green_refusals, 1);
    ck_assert_int_eq((int)sf.clearance_refusals, 1);
    fixture_assert_safe(&rec);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

START_TEST(test_invalid_commands) {
    fixture_rec_t rec;
    sim_scenario_t *scn;
    sim_t *sim = cross(&rec, &scn);
    base_err_t why = {0};
    sim_command_t bad1 = {.signal = 7, .action = SIM_CMD_HOLD};
    sim_command_t bad2 = {.signal = 0, .action = SIM_CMD_CALL, .stage = 9};
    sim_command_t bad3 = {.signal = 0, .action = (sim_cmd_action_t)99};
    sim_command_t bad4 = {.signal = 0, .action = SIM_CMD_RELEASE, .transition = 0};
    ck_assert_int_eq(sim_command(sim, &bad1, &why), BASE_EINVAL);
    ck_assert_int_eq(sim_command(sim, &bad2, &why), BASE_EINVAL);
    ck_assert_int_eq(sim_command(sim, &bad3, &why), BASE_EINVAL);
    ck_assert_int_eq(sim_command(sim, &bad4, &why), BASE_EINVAL);
    ck_assert_int_eq((int)sim_safety(sim).invalid_refusals, 4);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

START_TEST(test_call_waits_for_min_green_and_clearance) {
    fixture_rec_t rec;
    sim_scenario_t *scn;
    sim_t *sim = cross(&rec, &scn);
    base_err_t why = {0};
    /* At 3 s G1 has been green since 0 (initial state counts as served): call s2. G1 ends
     * now, yellow to 6, red clearance to 8, G2 green at 8 and held. */
    ck_assert_int_eq(sim_run_until(sim, 3000), 0);
    sim_command_t call = {.signal = 0, .action = SIM_CMD_CALL, .stage = 1, .hold = 1, .preempt = 1};
    ck_assert_int_eq(sim_command(sim, &call, &why), 0);
    ck_assert_int_eq(sim_run_until(sim, 300000), 0);
    ck_assert_int_eq(first_change(&rec, 0, SIM_SIGNAL_YELLOW, 0), 3000);
    ck_assert_int_eq(first_change(&rec, 0, SIM_SIGNAL_RED, 0), 6000);
    ck_assert_int_eq(first_change(&rec, 1, SIM_SIGNAL_GREEN, 0), 8000);
    /* Held: still green long after the plan would have ended it. */
    ck_assert_int_eq(sim_signal_state(sim, 0, 1), SIM_SIGNAL_GREEN);
    sim_signal_status_t st = sim_signal_status(sim, 0);
    ck_assert(st.external && st.hold && st.preempt);
    ck_assert_int_eq(st.green_end, -1);
    /* Calling s1 now: G2 has served its minimum: G2 yellow now, G1 green 5 s later. */
    sim_command_t back = {.signal = 0, .action = SIM_CMD_CALL, .stage = 0};
    ck_assert_int_eq(sim_command(sim, &back, &why), 0);
    ck_assert_int_eq(sim_run_until(sim, 400000), 0);
    ck_assert_int_eq(first_change(&rec, 1, SIM_SIGNAL_YELLOW, 0), 300000);
    ck_assert_int_eq(first_change(&rec, 0, SIM_SIGNAL_GREEN, 300000), 305000);
    ck_assert_int_eq((int)sim_safety(sim).refused, 0);
    fixture_assert_safe(&rec);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

START_TEST(test_call_before_min_green_is_deferred) {
    fixture_rec_t rec;
    sim_scenario_t *scn;
    sim_t *sim = cross(&rec, &scn);
    base_err_t why = {0};
    /* G2 green at 50; a call of s1 at 52 is accepted but G2 keeps its 10 s minimum. */
    ck_assert_int_eq(sim_run_until(sim, 52000), 0);
    sim_command_t call = {.signal = 0, .action = SIM_CMD_CALL, .stage = 0};
    ck_assert_int_eq(sim_command(sim, &call, &why), 0);
    ck_assert_int_eq(sim_run_until(sim, 100000), 0);
    ck_assert_int_eq(first_change(&rec, 1, SIM_SIGNAL_YELLOW, 50000), 60000);
    ck_assert_int_eq(first_change(&rec, 0, SIM_SIGNAL_GREEN, 50000), 65000);
    ck_assert_int_eq((int)sim_safety(sim).refused, 0);
    fixture_assert_safe(&rec);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

/* Holds s2 from 50 s to 140 s (the plan would be 40 s into s1), releases by mode, and returns the
 * recovery time; asserts the signal is back in step with its plan (G1 green at multiples of the
 * cycle) afterwards. */
static sim_time_t hold_and_release(sim_transition_t mode) {
    fixture_rec_t rec;
    sim_scenario_t *scn;
    sim_t *sim = cross(&rec, &scn);
    base_err_t why = {0};
    ck_assert_int_eq(sim_run_until(sim, 50000), 0);
    sim_command_t hold = {.signal = 0, .action = SIM_CMD_HOLD, .preempt = 1};
    ck_assert_int_eq(sim_command(sim, &hold, &why), 0);
    ck_assert_int_eq(sim_run_until(sim, 140000), 0);
    ck_assert_int_eq(sim_signal_state(sim, 0, 1), SIM_SIGNAL_GREEN);
    sim_command_t rel = {.signal = 0, .action = SIM_CMD_RELEASE, .transition = mode};
    ck_assert_int_eq(sim_command(sim, &rel, &why), 0);
    ck_assert_int_eq(sim_run_until(sim, 1500000), 0);
    sim_signal_status_t st = sim_signal_status(sim, 0);
    ck_assert(!st.external && !st.in_transition);
    ck_assert_int_ge(st.recovered_at, 140000);
    /* In coordination again: the last G1 greens start at multiples of 100 s. */
    int seen = 0;
    for (int i = rec.n_changes - 1; i >= 0 && seen < 3; i--) {
        if (rec.changes[i].group == 0 && rec.changes[i].state == SIM_SIGNAL_GREEN) {
            ck_assert_int_eq(rec.changes[i].t % 100000, 0);
            seen++;
        }
    }
    ck_assert_int_eq(seen, 3);
    /* No green shorter than the minimum and no cut clearance anywhere. */
    fixture_assert_safe(&rec);
    sim_time_t green_at[2] = {-1, -1};
    for (int i = 0; i < rec.n_changes; i++) {
        const fixture_change_t *c = &rec.changes[i];
        if (c->state == SIM_SIGNAL_GREEN)
            green_at[c->group] = c->t;
        if (c->state == SIM_SIGNAL_YELLOW && c->t > 0 && green_at[c->group] > 0)
            ck_assert_int_ge(c->t - green_at[c->group], 10000);
    }
    ck_assert_int_eq((int)sim_safety(sim).refused, 0);
    sim_time_t rec_time = st.recovery_max;
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
    return rec_time;
}

START_TEST(test_release_transitions) {
    sim_time_t dwell = hold_and_release(SIM_TRANSITION_DWELL);
    sim_time_t shortway = hold_and_release(SIM_TRANSITION_SHORTWAY);
    sim_time_t longway = hold_and_release(SIM_TRANSITION_LONGWAY);
    /* Dwell holds s2 until the plan ends it (195 s): 55 s. Shortway corrects -45 s by 20 s a
     * cycle, longway +55 s by 20 s a cycle: both within three cycles, shortway sooner. */
    ck_assert_int_eq(dwell, 55000);
    ck_assert_int_le(shortway, 300000);
    ck_assert_int_le(longway, 300000);
    ck_assert_int_lt(shortway, longway);
}
END_TEST

Suite *suite_sim_control(void);
Suite *suite_sim_control(void) {
    Suite *s = suite_create("sim_control");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_force_off_refusals);
    tcase_add_test(tc, test_invalid_commands);
    tcase_add_test(tc, test_call_waits_for_min_green_and_clearance);
    tcase_add_test(tc, test_call_before_min_green_is_deferred);
    tcase_add_test(tc, test_release_transitions);
    suite_add_tcase(s, tc);
    return s;
}
