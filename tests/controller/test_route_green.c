/*
 * tests/controller/test_route_green.c - suite ctl_route_green: the reference strategy calls
 * the escort's stage at every signal of every planned route on the first tick, holds it and
 * never releases it.
 */
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdlib.h>

START_TEST(test_calls_every_route_signal_on_first_tick) {
    char *json = fx_arterial_json(NULL);
    fx_t *fx = fx_new(json, "route-green", NULL);
    const char *nodes[] = {"A", "B", "C"}, *in[] = {"L0", "L1", "L2"}, *out[] = {"L1", "L2", "L3"};
    const int64_t etas[] = {40000, 60000, 80000};
    for (int64_t t = 0; t <= 300000; t += 1000) {
        fx_srm_t m;
        fx_srm(&m, "ESC", 1, PROTO_ROLE_POLICE, "L0", 3, nodes, in, out, etas);
        ck_assert_int_eq(fx_tick(fx, t, t < 40000 ? &m.srm : NULL, t < 40000), 1);
        if (t == 0) {
            ck_assert_int_eq(fx_n_cmds(fx), 3);
            for (int i = 0; i < 3; i++) {
                ck_assert(fx_has(fx, nodes[i], PROTO_CMD_CALL, "S1", 1));
                ck_assert_int_eq(fx_control(fx)->commands[i].preempt, 1);
            }
            ck_assert_int_eq(fx_ssm(fx, "ESC", "A"), PROTO_SSM_GRANTED);
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_PROCESSING); /* C was on S2 */
        } else {
            ck_assert_msg(fx_n_cmds(fx) == 0, "command at %lld ms", (long long)t);
        }
        if (t == 5000)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_GRANTED);
    }
    /* Still held: S1 green at all three after 300 s. */
    for (int s = 0; s < 3; s++) {
        ck_assert_int_eq(fx->sigs[s].stage, 0);
        ck_assert_int_eq(fx->sigs[s].change, 0);
        ck_assert_int_eq(fx->sigs[s].hold, 1);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_conflicting_routes_first_escort_keeps_the_signal) {
    fx_map_opts_t o = {.escorts = "[{\"id\":\"ESC\",\"route\":[\"L0\",\"L1\",\"L2\",\"L3\"],"
                                  "\"depart_s\":0,\"desired_speed_kmh\":50},"
                                  "{\"id\":\"ESC2\",\"route\":[\"NB_in\",\"SB_out\"],"
                                  "\"depart_s\":0,\"desired_speed_kmh\":50}]"};
    char *json = fx_arterial_json(&o);
    fx_t *fx = fx_new(json, "route-green", NULL);
    const char *nodes[] = {"B"}, *in[] = {"NB_in"}, *out[] = {"SB_out"};
    const int64_t eta = 20000;
    fx_srm_t m;
    fx_srm(&m, "ESC2", 2, PROTO_ROLE_AMBULANCE, "NB_in", 1, nodes, in, out, &eta);
    ck_assert_int_eq(fx_tick(fx, 0, &m.srm, 1), 1);
    ck_assert_int_eq(fx_n_cmds(fx), 3);
    ck_assert(fx_has(fx, "B", PROTO_CMD_CALL, "S1", 1));
    ck_assert(fx_logged(fx, "B: route-green: ESC2 needs stage S2, held for ESC (stage S1) first"));
    ck_assert_int_eq(fx_ssm(fx, "ESC2", "B"), PROTO_SSM_REJECTED);
    ck_assert_int_eq(fx_tick(fx, 1000, &m.srm, 1), 1);
    ck_assert(!fx_logged(fx, "route-green: ESC2")); /* logged once */
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_call_repeated_when_lost) {
    char *json = fx_arterial_json(NULL);
    fx_t *fx = fx_new(json, "route-green", NULL);
    ck_assert_int_eq(fx_tick(fx, 0, NULL, 0), 1);
    ck_assert_int_eq(fx_n_cmds(fx), 3);
    ck_assert_int_eq(fx_tick(fx, 1000, NULL, 0), 1);
    ck_assert_int_eq(fx_n_cmds(fx), 0);
    /* The simulator lost the controller and released B to its plan. */
    ck_assert_int_eq(fx_sig_command(&fx->sigs[1], PROTO_CMD_RELEASE, -1, 0, 3), 0);
    ck_assert_int_eq(fx_tick(fx, 2000, NULL, 0), 1);
    ck_assert_int_eq(fx_n_cmds(fx), 1);
    ck_assert(fx_has(fx, "B", PROTO_CMD_CALL, "S1", 1));
    ck_assert(fx_logged(fx, "B: the signal is back on its local plan"));
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

Suite *suite_ctl_route_green(void);

Suite *suite_ctl_route_green(void) {
    Suite *s = suite_create("ctl_route_green");
    TCase *tc = tcase_create("route_green");
    tcase_add_test(tc, test_calls_every_route_signal_on_first_tick);
    tcase_add_test(tc, test_conflicting_routes_first_escort_keeps_the_signal);
    tcase_add_test(tc, test_call_repeated_when_lost);
    suite_add_tcase(s, tc);
    return s;
}
