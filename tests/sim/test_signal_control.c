/*
 * tests/sim/test_signal_control.c - suite sim_signal_control: fixed-time intervals (green,
 * yellow, red clearance), coordination offsets, a start in the middle of an intergreen, a
 * time-of-day plan switch that keeps minimum green, and the conflict invariant throughout.
 */
#include "sim/sim.h"
#include "tests/sim/fixture.h"
#include "tests/support/support.h"

#include <check.h>
#include <stdlib.h>

/* Times at which group g turned to state, in order. */
static int times_of(const fixture_rec_t *rec, int g, sim_signal_state_t state, sim_time_t *out,
                    int max) {
    int n = 0;
    for (int i = 0; i < rec->n_changes && n < max; i++) {
        if (rec->changes[i].group == g && rec->changes[i].state == state && rec->changes[i].t > 0)
            out[n++] = rec->changes[i].t;
    }
    return n;
}

START_TEST(test_fixed_time_intervals) {
    /* cycle 100, split1 60 / split2 40, yellow 3, red clearance 2, offset 0: G1 green 0-55,
     * yellow 55-58, red from 58; G2 green 60-95, yellow 95-98; G1 green again at 100. */
    fixture_rec_t rec;
    sim_observer_t obs = fixture_recorder(&rec);
    fixture_opts_t o = {.split1_s = 60};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, &obs, NULL);
    ck_assert_int_eq(sim_run_until(sim, 1000000), 0);
    /* Initial states at t = 0. */
    ck_assert_int_eq(rec.changes[0].t, 0);
    ck_assert_int_eq(rec.changes[0].state, SIM_SIGNAL_GREEN);
    ck_assert_int_eq(rec.changes[1].state, SIM_SIGNAL_RED);
    sim_time_t y1[20], r1[20], g1[20], g2[20], y2[20];
    int ny1 = times_of(&rec, 0, SIM_SIGNAL_YELLOW, y1, 20);
    int nr1 = times_of(&rec, 0, SIM_SIGNAL_RED, r1, 20);
    int ng1 = times_of(&rec, 0, SIM_SIGNAL_GREEN, g1, 20);
    int ng2 = times_of(&rec, 1, SIM_SIGNAL_GREEN, g2, 20);
    int ny2 = times_of(&rec, 1, SIM_SIGNAL_YELLOW, y2, 20);
    ck_assert_int_ge(ny1, 9);
    ck_assert_int_ge(ng2, 9);
    for (int k = 0; k < 9; k++) {
        sim_time_t c = (sim_time_t)k * 100000;
        ck_assert_int_eq(y1[k], c + 55000);
        ck_assert_int_eq(r1[k], c + 58000);
        ck_assert_int_eq(g2[k], c + 60000);
        ck_assert_int_eq(y2[k], c + 95000);
        ck_assert_int_eq(g1[k], c + 100000);
    }
    (void)nr1;
    (void)ng1;
    (void)ny2;
    fixture_assert_safe(&rec);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

START_TEST(test_offset_and_time_of_day) {
    /* start 17:30:00 = 63000 s; offset 37 s: G1's green starts when (tod - 37) mod 100 = 0,
     * i.e. at tod 63037 -> t = 37 s, then every 100 s. */
    fixture_rec_t rec;
    sim_observer_t obs = fixture_recorder(&rec);
    fixture_opts_t o = {.offset_s = 37, .start_time = "17:30:00"};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, &obs, NULL);
    ck_assert_int_eq(sim_run_until(sim, 500000), 0);
    sim_time_t g1[10];
    int n = times_of(&rec, 0, SIM_SIGNAL_GREEN, g1, 10);
    ck_assert_int_ge(n, 4);
    for (int k = 0; k < n; k++)
        ck_assert_int_eq(g1[k], 37000 + (sim_time_t)k * 100000);
    fixture_assert_safe(&rec);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

START_TEST(test_start_in_intergreen) {
    /* offset 2: at t = 0 the plan is 98 s into its cycle, inside G2's intergreen (G2 ended
     * at 95): both red at t = 0, G1 green at t = 2 s. */
    fixture_rec_t rec;
    sim_observer_t obs = fixture_recorder(&rec);
    fixture_opts_t o = {.offset_s = 2};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, &obs, NULL);
    ck_assert_int_eq(sim_run_until(sim, 300000), 0);
    ck_assert_int_eq(rec.changes[0].state, SIM_SIGNAL_RED);
    ck_assert_int_eq(rec.changes[1].state, SIM_SIGNAL_RED);
    sim_time_t g1[4];
    ck_assert_int_ge(times_of(&rec, 0, SIM_SIGNAL_GREEN, g1, 4), 2);
    ck_assert_int_eq(g1[0], 2000);
    ck_assert_int_eq(g1[1], 102000);
    fixture_assert_safe(&rec);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

START_TEST(test_plan_switch_keeps_min_green) {
    /* p1 (cycle 100, offset 0) until 00:05, then p2 (cycle 80, offset 30, splits 40/40). The
     * switch re-aligns to p2 without a green shorter than the minimum (20 s here) and without
     * cutting a yellow or a red clearance. */
    fixture_rec_t rec;
    sim_observer_t obs = fixture_recorder(&rec);
    fixture_opts_t o = {
        .min_green_s = 20,
        .extra_plans = ",{\"id\":\"p2\",\"cycle_s\":80,\"offset_s\":30,\"splits_s\":[40,40]}",
        .schedule = "[{\"from\":\"00:00\",\"plan\":\"p1\"},{\"from\":\"00:05\",\"plan\":\"p2\"}]",
    };
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, &obs, NULL);
    ck_assert_int_eq(sim_run_until(sim, 1200000), 0);
    fixture_assert_safe(&rec);
    sim_time_t last_green[2] = {-1, -1}, last_yellow[2] = {-1, -1};
    for (int i = 0; i < rec.n_changes; i++) {
        const fixture_change_t *c = &rec.changes[i];
        if (c->t == 0)
            continue;
        if (c->state == SIM_SIGNAL_GREEN)
            last_green[c->group] = c->t;
        if (c->state == SIM_SIGNAL_YELLOW) {
            ck_assert_int_ge(c->t - last_green[c->group], 20000);
            last_yellow[c->group] = c->t;
        }
        if (c->state == SIM_SIGNAL_RED)
            ck_assert_int_eq(c->t - last_yellow[c->group], 3000);
    }
    /* After the switch has settled, G1 starts green at (t - 30) mod 80 == 0. */
    sim_time_t g1[40];
    int n = times_of(&rec, 0, SIM_SIGNAL_GREEN, g1, 40);
    ck_assert_int_gt(n, 8);
    for (int k = n - 5; k < n; k++)
        ck_assert_int_eq((g1[k] - 30000) % 80000, 0);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

Suite *suite_sim_signal_control(void);
Suite *suite_sim_signal_control(void) {
    Suite *s = suite_create("sim_signal_control");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fixed_time_intervals);
    tcase_add_test(tc, test_offset_and_time_of_day);
    tcase_add_test(tc, test_start_in_intergreen);
    tcase_add_test(tc, test_plan_switch_keeps_min_green);
    suite_add_tcase(s, tc);
    return s;
}
