/*
 * tests/controller/test_tsp.c - suite ctl_tsp: transit signal priority at signals on their
 * local plan (strategy local), on the cross (S1 green 0-25 s, S2 30-55 s, S1 60-85 s...).
 *   - green extension: a bus on W_in (S1) due after S1's planned end: S1 held until it has
 *     crossed, up to the maximum green (40 s from the start of the green);
 *   - early green: a bus on N_in (S2) while S1 is green: S2 called without hold, when S2 is
 *     next and S1 is cut by at most 10 s; released at the next planned end of a green;
 *   - reservice lockout: no priority for another bus within 60 s of one;
 *   - an escort outranks a bus: the bus is rejected, or watchOtherTraffic on the escort's
 *     stage.
 */
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdlib.h>

static void bus(fx_srm_t *m, const char *id, const char *in, const char *out, int64_t eta) {
    const char *nodes[] = {"C"}, *ins[] = {in}, *outs[] = {out};
    fx_srm(m, id, 130, PROTO_ROLE_TRANSIT, in, 1, nodes, ins, outs, &eta);
}

START_TEST(test_green_extension) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    fx_srm_t m;
    for (int64_t t = 0; t <= 40000; t += 1000) {
        bus(&m, "bus-1", "W_in", "E_out", 27000);
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, t <= 27000), 1);
        if (t < 17000) {
            ck_assert_int_eq(fx_n_cmds(fx), 0);
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_REQUESTED);
        } else if (t == 17000) {
            /* ETA within 10 s; the plan ends S1 at 25 s, before the bus: hold S1. */
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S1", 1));
            ck_assert_int_eq(fx_control(fx)->commands[0].preempt, 0);
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_GRANTED);
        } else if (t <= 27000) {
            ck_assert_int_eq(fx_n_cmds(fx), 0);
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_GRANTED);
            ck_assert_int_eq(fx->sigs[0].stage, 0);
            ck_assert_int_eq(fx->sigs[0].change, 0);
        } else if (t == 28000) {
            ck_assert(fx_has(fx, "C", PROTO_CMD_RELEASE, NULL, -1));
        } else {
            ck_assert_int_eq(fx_n_cmds(fx), 0);
        }
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_extension_stops_at_max_green) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    fx_srm_t m;
    /* S1 green from 60 s (maximum to 100 s). The bus is due at 93 s; from 93 s it is held up
     * and keeps announcing 105 s. */
    for (int64_t t = 0; t <= 106000; t += 1000) {
        int64_t eta = t < 93000 ? 93000 : 105000;
        bus(&m, "bus-1", "W_in", "E_out", eta);
        ck_assert_int_eq(
            fx_tick(fx, t, t >= 70000 && t <= eta ? &m.srm : NULL, t >= 70000 && t <= eta), 1);
        if (t == 83000) {
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S1", 1));
        } else if (t == 100000) {
            ck_assert(fx_has(fx, "C", PROTO_CMD_RELEASE, NULL, -1));
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_REJECTED);
        } else {
            ck_assert_msg(fx_n_cmds(fx) == 0, "command at %lld ms", (long long)t);
        }
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_early_green) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    fx_srm_t m;
    for (int64_t t = 0; t <= 56000; t += 1000) {
        bus(&m, "bus-2", "N_in", "S_out", 24000);
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, t >= 10000 && t <= 24000), 1);
        if (t == 15000) {
            /* S2 is next; S1 would end at 25 s: cut by 10 s at most, S2 green at 20 s. */
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S2", 0));
            ck_assert_int_eq(fx_ssm(fx, "bus-2", "C"), PROTO_SSM_PROCESSING);
        } else if (t == 54000) {
            /* The bus crossed at 24 s; the signal follows its plan again: released at the
             * planned end of S2 (55 s), where the simulator's re-anchoring shifts nothing. */
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_RELEASE, NULL, -1));
        } else {
            ck_assert_msg(fx_n_cmds(fx) == 0, "command at %lld ms", (long long)t);
        }
        if (t >= 10000 && t < 15000) /* S1 would be cut by more than 10 s */
            ck_assert_int_eq(fx_ssm(fx, "bus-2", "C"), PROTO_SSM_REQUESTED);
        if (t > 15000 && t < 20000)
            ck_assert_int_eq(fx_ssm(fx, "bus-2", "C"), PROTO_SSM_PROCESSING);
        if (t >= 20000 && t <= 24000)
            ck_assert_int_eq(fx_ssm(fx, "bus-2", "C"), PROTO_SSM_GRANTED);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_early_green_never_skips_a_stage) {
    fx_map_opts_t o = {.three_stage = 1};
    char *json = fx_arterial_json(&o);
    fx_t *fx = fx_new(json, "local", NULL);
    /* B: S2 {R,NS} green 30-55 s, then S3 {NS}; a bus for S1 (EW) at 50 s: S1 is not next,
     * calling it would skip S3. */
    const char *nodes[] = {"B"}, *in[] = {"L1"}, *out[] = {"L2"};
    const int64_t eta = 52000;
    for (int64_t t = 40000; t <= 52000; t += 1000) {
        fx_srm_t m;
        fx_srm(&m, "bus-3", 131, PROTO_ROLE_TRANSIT, "L1", 1, nodes, in, out, &eta);
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, 1), 1);
        ck_assert_int_eq(fx_n_cmds(fx), 0);
        ck_assert_int_eq(fx_ssm(fx, "bus-3", "B"), PROTO_SSM_REQUESTED);
    }
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_reservice_lockout) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    /* bus-1 gets an extension of S1 at 17 s; bus-2 on N_in (S2 next) could have an early
     * green at 75 s (S1 60-85), but bus-3 on W_in got one... keep it simple: bus-2 asks at
     * 40 s for S2 while S2 is green and would end before it: an extension is a priority
     * action too, within 60 s of bus-1's: reserviceLocked. */
    for (int64_t t = 0; t <= 50000; t += 1000) {
        fx_srm_t m[2];
        int n = 0;
        if (t <= 27000)
            bus(&m[n++], "bus-1", "W_in", "E_out", 27000);
        if (t >= 46000)
            bus(&m[n++], "bus-2", "N_in", "S_out", 57000);
        proto_srm_t srms[2] = {m[0].srm, m[1].srm};
        ck_assert_int_eq(fx_tick(fx, t, srms, n), 1);
        if (t == 17000)
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S1", 1));
        if (t >= 47000) {
            ck_assert_int_eq(fx_ssm(fx, "bus-2", "C"), PROTO_SSM_RESERVICE_LOCKED);
            ck_assert(!fx_has(fx, "C", PROTO_CMD_CALL, NULL, -1));
        }
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_escort_beats_bus) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    for (int64_t t = 0; t <= 10000; t += 1000) {
        fx_srm_t m[3];
        const char *nodes[] = {"C"}, *in[] = {"N_in"}, *out[] = {"S_out"};
        const int64_t eta = 25000;
        fx_srm(&m[0], "ESC", 1, PROTO_ROLE_POLICE, "N_up", 1, nodes, in, out, &eta);
        bus(&m[1], "bus-1", "W_in", "E_out", t + 6000); /* S1, green now */
        bus(&m[2], "bus-2", "N_in", "S_out", t + 8000); /* S2, the escort's */
        proto_srm_t srms[3] = {m[0].srm, m[1].srm, m[2].srm};
        ck_assert_int_eq(fx_tick(fx, t, srms, 3), 1);
        if (t < 5000) {
            /* No escort in range yet: bus-1 (earlier ETA) wins; the plan serves it. */
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_GRANTED);
            ck_assert_int_eq(fx_ssm(fx, "bus-2", "C"), PROTO_SSM_REJECTED);
            ck_assert_int_eq(fx_n_cmds(fx), 0);
        } else {
            if (t == 5000) {
                ck_assert_int_eq(fx_n_cmds(fx), 1);
                ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1));
            }
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_REJECTED);
            ck_assert_int_eq(fx_ssm(fx, "bus-2", "C"), PROTO_SSM_WATCH_OTHER_TRAFFIC);
        }
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_tsp_off_and_none) {
    char *json = fx_cross_json();
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    cfg.tsp = 0;
    const char *strategies[] = {"local", "corridor", "route-green"};
    for (int i = 0; i < 3; i++) {
        fx_t *fx = fx_new(json, strategies[i], i == 2 ? NULL : &cfg);
        fx_srm_t m;
        bus(&m, "bus-2", "N_in", "S_out", 8000);
        ck_assert_int_eq(fx_tick(fx, 0, &m.srm, 1), 1);
        if (i < 2) /* route-green calls the map escort's stage, whatever the bus */
            ck_assert_int_eq(fx_n_cmds(fx), 0);
        ck_assert(!fx_has(fx, "C", PROTO_CMD_CALL, "S2", 0));
        ck_assert_int_eq(fx_ssm(fx, "bus-2", "C"), PROTO_SSM_REJECTED);
        fx_free(&fx);
    }
    free(json);
}
END_TEST

START_TEST(test_corridor_bus_yields_to_engaged_escort) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "corridor", NULL);
    /* The escort needs S2 by 40 - 2 - 3 = 35 s (engaged from the start); a bus on W_in wants
     * S1 extended past 25 s: rejected, S1 is not held for it. */
    for (int64_t t = 0; t <= 26000; t += 1000) {
        fx_srm_t m[2];
        const char *nodes[] = {"C"}, *in[] = {"N_in"}, *out[] = {"S_out"};
        const int64_t eta = 40000;
        fx_srm(&m[0], "ESC", 1, PROTO_ROLE_POLICE, "N_up", 1, nodes, in, out, &eta);
        bus(&m[1], "bus-1", "W_in", "E_out", 28000);
        proto_srm_t srms[2] = {m[0].srm, m[1].srm};
        ck_assert_int_eq(fx_tick(fx, t, srms, 2), 1);
        ck_assert(!fx_has(fx, "C", PROTO_CMD_CALL, "S1", -1));
        ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_REJECTED);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

Suite *suite_ctl_tsp(void);

Suite *suite_ctl_tsp(void) {
    Suite *s = suite_create("ctl_tsp");
    TCase *tc = tcase_create("tsp");
    tcase_add_test(tc, test_green_extension);
    tcase_add_test(tc, test_extension_stops_at_max_green);
    tcase_add_test(tc, test_early_green);
    tcase_add_test(tc, test_early_green_never_skips_a_stage);
    tcase_add_test(tc, test_reservice_lockout);
    tcase_add_test(tc, test_escort_beats_bus);
    tcase_add_test(tc, test_tsp_off_and_none);
    tcase_add_test(tc, test_corridor_bus_yields_to_engaged_escort);
    suite_add_tcase(s, tc);
    return s;
}
