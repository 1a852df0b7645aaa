/*
 * tests/controller/test_local.c - suite ctl_local: field-style preemption on the cross.
 *
 * The escort ESC comes down N_in (stage S2, red while S1 is green 0-25 s); the detection
 * range is 20 s. Every tick runs through the small signal simulator, which must refuse
 * nothing.
 */
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdlib.h>

static void esc(fx_srm_t *m, const char *vehicle, int32_t id, const char *in, const char *out,
                int64_t eta) {
    const char *nodes[] = {"C"}, *ins[] = {in}, *outs[] = {out};
    fx_srm(m, vehicle, id, PROTO_ROLE_POLICE, "X_up", 1, nodes, ins, outs, &eta);
}

START_TEST(test_entry_dwell_exit) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    fx_srm_t m;
    for (int64_t t = 0; t <= 60000; t += 1000) {
        esc(&m, "ESC", 1, "N_in", "S_out", 40000);
        if (t == 41000)
            m.req[0].request_type = PROTO_REQ_CANCEL; /* crossed: the OBU cancels once */
        ck_assert_int_eq(fx_tick(fx, t, t <= 41000 ? &m.srm : NULL, t <= 41000), 1);
        if (t < 20000) {
            ck_assert_int_eq(fx_n_cmds(fx), 0);
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_REQUESTED);
        } else if (t == 20000) {
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1));
            ck_assert_int_eq(fx_control(fx)->commands[0].preempt, 1);
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_PROCESSING);
        } else if (t < 25000) {
            ck_assert_int_eq(fx_n_cmds(fx), 0);
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_PROCESSING);
        } else if (t <= 40000) {
            ck_assert_int_eq(fx_n_cmds(fx), 0);
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_GRANTED);
        } else if (t == 41000) {
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_RELEASE, NULL, -1));
            ck_assert_int_eq(fx_control(fx)->commands[0].transition, PROTO_TRANSITION_SHORTWAY);
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), -1); /* nothing after passing */
        } else {
            ck_assert_int_eq(fx_n_cmds(fx), 0);
        }
    }
    /* The small simulator: S1 ended at 20 s (its minimum had run), S2 green from 25 s. */
    ck_assert_int_eq((int)fx->refusals, 0);
    ck_assert_int_eq((int)fx->sigs[0].conflicts, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_entry_waits_for_min_green) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    fx_srm_t m;
    /* S1 starts at 60 s; the escort enters the range at 60 s: S1 keeps its 10 s minimum, then
     * yellow and red clearance, S2 green at 75 s. */
    for (int64_t t = 0; t <= 80000; t += 1000) {
        esc(&m, "ESC", 1, "N_in", "S_out", 80000);
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, 1), 1);
        ck_assert(!fx_has(fx, "C", PROTO_CMD_FORCE_OFF, NULL, -1));
        if (t == 60000)
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1));
        else
            ck_assert_int_eq(fx_n_cmds(fx), 0);
        if (t >= 60000 && t < 75000)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_PROCESSING);
        if (t >= 75000)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_GRANTED);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_stage_already_green_and_slipping_eta) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    fx_srm_t m;
    for (int64_t t = 0; t <= 40000; t += 1000) {
        /* On W_in (S1, green now): in range at once; then the escort is held up upstream and
         * its ETA leaves the range: the dwell goes on until it has crossed (SRM omits C). */
        int64_t eta = t < 5000 ? 15000 : t < 30000 ? t + 30000 : 35000;
        esc(&m, "ESC", 1, "W_in", "E_out", eta);
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, t <= 35000), 1);
        if (t == 0) {
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S1", 1));
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_GRANTED);
        } else if (t == 36000) {
            ck_assert(fx_has(fx, "C", PROTO_CMD_RELEASE, NULL, -1));
        } else {
            ck_assert_int_eq(fx_n_cmds(fx), 0);
            if (t <= 35000)
                ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_GRANTED);
        }
    }
    /* S1 was held through its plan end (25 s). */
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_two_escorts_earlier_eta_first) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    fx_srm_t m[2];
    for (int64_t t = 0; t <= 50000; t += 1000) {
        int n = 0;
        if (t <= 30000)
            esc(&m[n++], "ESC1", 1, "N_in", "S_out", 30000);
        if (t <= 45000)
            esc(&m[n++], "ESC2", 2, "W_in", "E_out", 45000);
        proto_srm_t srms[2] = {m[0].srm, m[1].srm};
        ck_assert_int_eq(fx_tick(fx, t, srms, n), 1);
        if (t == 10000) {
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1));
        }
        if (t >= 25000 && t <= 30000) {
            ck_assert_int_eq(fx_ssm(fx, "ESC1", "C"), PROTO_SSM_GRANTED);
            ck_assert_int_eq(fx_ssm(fx, "ESC2", "C"), PROTO_SSM_REJECTED);
        }
        if (t == 31000) {
            /* ESC1 has passed: ESC2 takes the signal over without a release in between. */
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S1", 1));
            ck_assert_int_eq(fx_ssm(fx, "ESC2", "C"), PROTO_SSM_PROCESSING);
        }
        if (t == 46000)
            ck_assert(fx_has(fx, "C", PROTO_CMD_RELEASE, NULL, -1));
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_unmappable_request_rejected) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    fx_srm_t m;
    esc(&m, "ESC", 1, "nowhere", "S_out", 5000);
    ck_assert_int_eq(fx_tick(fx, 0, &m.srm, 1), 1);
    ck_assert_int_eq(fx_n_cmds(fx), 0);
    ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_REJECTED);
    /* A turn the map has no movement for (N_in -> E_out), and an unknown intersection. */
    esc(&m, "ESC", 1, "N_in", "E_out", 5000);
    ck_assert_int_eq(fx_tick(fx, 1000, &m.srm, 1), 1);
    ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_REJECTED);
    esc(&m, "ESC", 1, "N_in", "S_out", 5000);
    m.req[0].intersection = "Q";
    ck_assert_int_eq(fx_tick(fx, 2000, &m.srm, 1), 1);
    ck_assert_int_eq(fx_ssm(fx, "ESC", "Q"), PROTO_SSM_REJECTED);
    ck_assert_int_eq(fx_n_cmds(fx), 0);
    fx_free(&fx);
    free(json);
}
END_TEST

Suite *suite_ctl_local(void);

Suite *suite_ctl_local(void) {
    Suite *s = suite_create("ctl_local");
    TCase *tc = tcase_create("local");
    tcase_add_test(tc, test_entry_dwell_exit);
    tcase_add_test(tc, test_entry_waits_for_min_green);
    tcase_add_test(tc, test_stage_already_green_and_slipping_eta);
    tcase_add_test(tc, test_two_escorts_earlier_eta_first);
    tcase_add_test(tc, test_unmappable_request_rejected);
    suite_add_tcase(s, tc);
    return s;
}
