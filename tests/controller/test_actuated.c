/*
 * tests/controller/test_actuated.c - suite ctl_actuated: gap-out, max-out, rest in green,
 * the minimum green, skipping stages without a call, TSP under actuated control, and the
 * same decisions under event sync (deltas, signals looked at only on a change) as in lockstep.
 *
 * The cross starts with S1 (EW) green at 0 s; passage time 3 s, minimum green 10 s, maximum
 * 40 s, intergreen 5 s. Vehicles crossing W_in's stop line (dW_s counting) extend S1; a
 * vehicle entering N_in (dN_a counting) calls S2.
 */
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Vehicles over W_in's stop line at every tick in [from, to], a call on N_in at `call_n`
 * (-1: none). */
typedef struct plan {
    int64_t w_from, w_to, n_call;
} plan_t;

static void detectors_at(fx_t *fx, const plan_t *p, int64_t t) {
    int64_t w = 0;
    for (int64_t x = p->w_from; x <= p->w_to && x <= t; x += 1000)
        w++;
    fx_det(fx, "dW_s", w, 0);
    fx_det(fx, "dN_a", p->n_call >= 0 && t >= p->n_call ? 1 : 0, 0);
}

START_TEST(test_gap_out_then_minimum_green) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "actuated", NULL);
    plan_t p = {1000, 20000, 5000};
    for (int64_t t = 0; t <= 60000; t += 1000) {
        detectors_at(fx, &p, t);
        if (t == 29000)
            fx_det(fx, "dE_a", 1, 0); /* a call for S1 while S2 is green */
        if (t == 21000)
            fx_det(fx, "dW_a", 9, 0); /* entries far upstream: no extension (gap-out at 23) */
        ck_assert_int_eq(fx_tick(fx, t, NULL, 0), 1);
        switch (t) {
        case 0:     /* S1 taken over and held */
        case 28000: /* S2 green at 23 + 5 s, held for its minimum */
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_HOLD, NULL, -1));
            break;
        case 23000: /* last arrival at 20 s: gap of 3 s, a call waits on N_in */
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_FORCE_OFF, NULL, -1));
            ck_assert(fx_logged(fx, "gap-out after 23.0 s of green"));
            break;
        case 38000: /* S2 has no arrivals, but keeps its 10 s minimum (28 -> 38 s) */
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_FORCE_OFF, NULL, -1));
            break;
        case 43000:
            ck_assert(fx_has(fx, "C", PROTO_CMD_HOLD, NULL, -1));
            break;
        default:
            ck_assert_msg(fx_n_cmds(fx) == 0, "command at %lld ms", (long long)t);
        }
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_max_out) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "actuated", NULL);
    plan_t p = {1000, 100000, 5000};
    for (int64_t t = 0; t <= 41000; t += 1000) {
        detectors_at(fx, &p, t);
        ck_assert_int_eq(fx_tick(fx, t, NULL, 0), 1);
        if (t == 0) {
            ck_assert(fx_has(fx, "C", PROTO_CMD_HOLD, NULL, -1));
        } else if (t == 40000) {
            ck_assert(fx_has(fx, "C", PROTO_CMD_FORCE_OFF, NULL, -1));
            ck_assert(fx_logged(fx, "max-out after 40.0 s of green (maximum 40.0 s)"));
        } else {
            ck_assert_msg(fx_n_cmds(fx) == 0, "command at %lld ms", (long long)t);
        }
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_rest_in_green) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "actuated", NULL);
    plan_t p = {1000, 5000, -1}; /* a few arrivals on S1's approach, nobody elsewhere */
    for (int64_t t = 0; t <= 180000; t += 1000) {
        detectors_at(fx, &p, t);
        ck_assert_int_eq(fx_tick(fx, t, NULL, 0), 1);
        ck_assert_int_eq(fx_n_cmds(fx), t == 0 ? 1 : 0);
    }
    ck_assert(fx->sigs[0].stage == 0 && !fx->sigs[0].change);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_occupied_detector_extends) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "actuated", NULL);
    /* A standing queue over the stop-line loop: no count change, but occupied until 30 s. */
    for (int64_t t = 0; t <= 34000; t += 1000) {
        fx_det(fx, "dW_s", 0, t <= 30000);
        fx_det(fx, "dN_a", t >= 2000 ? 1 : 0, 0);
        ck_assert_int_eq(fx_tick(fx, t, NULL, 0), 1);
        if (t == 33000)
            ck_assert(fx_has(fx, "C", PROTO_CMD_FORCE_OFF, NULL, -1));
        else if (t > 0)
            ck_assert_int_eq(fx_n_cmds(fx), 0);
    }
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_skips_stage_without_call) {
    fx_map_opts_t o = {.three_stage = 1};
    char *json = fx_arterial_json(&o);
    fx_t *fx = fx_new(json, "actuated", NULL);
    /* B: S1 {EW,R}, S2 {R,NS}, S3 {NS}. A call on NB_in at 1 s: S1 (no arrivals) gaps out
     * at once, S2 green at 6 s. A vehicle on L1 at 7 s calls EW (R is green, it extends S2's
     * R only until 10 s). At S2's minimum (16 s) S3 has nothing new to serve: skip it, call S1. */
    for (int64_t t = 0; t <= 22000; t += 1000) {
        fx_det(fx, "dNB_a", t >= 1000 ? 1 : 0, 0);
        fx_det(fx, "dB_a", t >= 7000 ? 1 : 0, 0);
        ck_assert_int_eq(fx_tick(fx, t, NULL, 0), 1);
        if (t == 1000) {
            ck_assert(fx_has(fx, "B", PROTO_CMD_FORCE_OFF, NULL, -1));
        } else if (t == 16000) {
            ck_assert(fx_has(fx, "B", PROTO_CMD_CALL, "S1", 1));
        } else if (t == 6000 || t == 21000) {
            ck_assert(fx_has(fx, "B", PROTO_CMD_HOLD, NULL, -1) || t == 21000);
        } else if (t > 0) {
            ck_assert_msg(!fx_has(fx, "B", PROTO_CMD_FORCE_OFF, NULL, -1) &&
                              !fx_has(fx, "B", PROTO_CMD_CALL, NULL, -1),
                          "command at B at %lld ms", (long long)t);
        }
    }
    ck_assert_int_eq(fx->sigs[1].stage, 0); /* back to S1, S3 skipped */
    ck_assert_int_eq((int)fx->refusals, 0);
    ck_assert_int_eq((int)fx->sigs[1].conflicts, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

static void bus(fx_srm_t *m, const char *in, const char *out, int64_t eta) {
    const char *nodes[] = {"C"}, *ins[] = {in}, *outs[] = {out};
    fx_srm(m, "bus-1", 129, PROTO_ROLE_TRANSIT, in, 1, nodes, ins, outs, &eta);
}

START_TEST(test_tsp_extension_suppresses_gap_out) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "actuated", NULL);
    plan_t p = {1000, 20000, 5000};
    fx_srm_t m;
    for (int64_t t = 0; t <= 32000; t += 1000) {
        detectors_at(fx, &p, t);
        bus(&m, "W_in", "E_out", 30000);
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, t >= 20000 && t <= 30000), 1);
        if (t == 31000) /* the bus has crossed; no arrival since 20 s: gap-out */
            ck_assert(fx_has(fx, "C", PROTO_CMD_FORCE_OFF, NULL, -1));
        else if (t > 0)
            ck_assert_msg(fx_n_cmds(fx) == 0, "command at %lld ms", (long long)t);
        if (t >= 20000 && t <= 30000)
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_GRANTED);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_tsp_early_green) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "actuated", NULL);
    plan_t p = {1000, 100000, -1}; /* S1 busy all along: it would max out at 40 s */
    fx_srm_t m;
    for (int64_t t = 0; t <= 50000; t += 1000) {
        detectors_at(fx, &p, t);
        bus(&m, "N_in", "S_out", 38000);
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, t >= 26000 && t <= 38000), 1);
        switch (t) {
        case 0:     /* S1 held */
        case 35000: /* S2 green at 30 + 5 s, held for its minimum */
        case 50000: /* S1 again */
            ck_assert(fx_n_cmds(fx) == 1 && fx_has(fx, "C", PROTO_CMD_HOLD, NULL, -1));
            break;
        case 30000:
            /* Within 10 s of S1's max-out, S2 next: call it, S1 ends now. */
            ck_assert_int_eq(fx_n_cmds(fx), 1);
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S2", 0));
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_PROCESSING);
            break;
        case 45000: /* S2's minimum over, nothing on it, calls on S1: gap-out */
            ck_assert(fx_has(fx, "C", PROTO_CMD_FORCE_OFF, NULL, -1));
            break;
        default:
            ck_assert_msg(fx_n_cmds(fx) == 0, "command at %lld ms", (long long)t);
        }
        if (t >= 26000 && t < 30000) /* S1 would be cut by more than 10 s */
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_REQUESTED);
        if (t >= 35000 && t <= 38000)
            ck_assert_int_eq(fx_ssm(fx, "bus-1", "C"), PROTO_SSM_GRANTED);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

/* xorshift64: a pseudo-random number in [0, n). */
static unsigned rnd(uint64_t *x, unsigned n) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return (unsigned)(*x % n);
}

static int same_str(const char *a, const char *b) {
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The two sessions' last replies hold the same commands, SSMs and decision log. */
static void same_reply(const fx_t *a, const fx_t *b, uint64_t seed, int64_t t) {
    const proto_control_t *x = fx_control(a), *y = fx_control(b);
    ck_assert_msg(x->n_commands == y->n_commands,
                  "seed %d, %lld ms: %d commands in lockstep, %d under event sync", (int)seed,
                  (long long)t, (int)x->n_commands, (int)y->n_commands);
    for (int32_t i = 0; i < x->n_commands; i++) {
        const proto_command_t *p = &x->commands[i], *q = &y->commands[i];
        ck_assert_msg(same_str(p->intersection, q->intersection) && p->action == q->action &&
                          same_str(p->stage, q->stage) && p->hold == q->hold &&
                          p->preempt == q->preempt && p->transition == q->transition,
                      "seed %d, %lld ms: command %d differs", (int)seed, (long long)t, (int)i);
    }
    ck_assert_int_eq(x->n_ssm, y->n_ssm);
    for (int32_t i = 0; i < x->n_ssm; i++)
        ck_assert(x->ssm[i].request_id == y->ssm[i].request_id &&
                  x->ssm[i].status == y->ssm[i].status &&
                  same_str(x->ssm[i].vehicle_id, y->ssm[i].vehicle_id) &&
                  same_str(x->ssm[i].intersection, y->ssm[i].intersection));
    ck_assert_int_eq(x->n_log, y->n_log);
    for (int32_t i = 0; i < x->n_log; i++)
        ck_assert_str_eq(x->log[i], y->log[i]);
}

/* Lockstep shows actuated every signal every second, and it looks at each; under event sync
 * it gets deltas and looks only at the signals where something changed or a time it set has
 * come. Both must decide alike: one session fed full ticks, one the deltas of the same ticks,
 * each closing the loop on its own small simulator, with the same random traffic on every
 * loop (counts, occupancies that come and go) and buses asking for priority now and then. */
START_TEST(test_event_sync_decides_as_lockstep) {
    char *json = fx_cross_json();
    const char *arms[4] = {"W", "E", "N", "S"}, *outs[4] = {"E_out", "W_out", "S_out", "N_out"};
    for (uint64_t seed = 1; seed <= 6; seed++) {
        fx_t *a = fx_new(json, "actuated", NULL), *b = fx_new_event(json, "actuated", NULL);
        uint64_t x = seed * UINT64_C(0x9E3779B97F4A7C15);
        int64_t count[8] = {0};
        int occ[8] = {0};
        unsigned busy = seed % 2 ? 30 : 6; /* % of seconds a vehicle crosses a loop */
        int64_t bus_eta = -1;
        int bus_arm = 0, granted = 0;
        for (int64_t t = 0; t <= 1800000; t += 1000) {
            for (int i = 0; i < 8; i++) {
                char id[8];
                snprintf(id, sizeof id, "d%s_%c", arms[i / 2], i % 2 ? 'a' : 's');
                count[i] += rnd(&x, 100) < busy;
                if (rnd(&x, 100) < 8)
                    occ[i] = !occ[i];
                fx_det(a, id, count[i], occ[i]);
                fx_det(b, id, count[i], occ[i]);
            }
            if (t > bus_eta && rnd(&x, 40) == 0) {
                bus_arm = (int)rnd(&x, 4);
                bus_eta = t + 1000 * (int64_t)(2 + rnd(&x, 16));
            }
            fx_srm_t m;
            char in[8]; /* the SRM points to it */
            int n = t <= bus_eta;
            if (n) {
                snprintf(in, sizeof in, "%s_in", arms[bus_arm]);
                const char *nodes[] = {"C"}, *ins[] = {in}, *os[] = {outs[bus_arm]};
                fx_srm(&m, "bus-1", 129, PROTO_ROLE_TRANSIT, in, 1, nodes, ins, os, &bus_eta);
            }
            ck_assert_int_eq(fx_tick(a, t, n ? &m.srm : NULL, n), 1);
            ck_assert_int_eq(fx_tick(b, t, n ? &m.srm : NULL, n), 1);
            same_reply(a, b, seed, t);
            for (int32_t i = 0; i < fx_control(a)->n_ssm; i++)
                granted += fx_control(a)->ssm[i].status == PROTO_SSM_GRANTED;
        }
        ck_assert(a->commands > 40 && granted > 0); /* the loop did act, TSP too */
        ck_assert_int_eq((int)a->refusals, 0);
        fx_free(&a);
        fx_free(&b);
    }
    free(json);
}
END_TEST

START_TEST(test_escorts_rejected) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "actuated", NULL);
    const char *nodes[] = {"C"}, *in[] = {"N_in"}, *out[] = {"S_out"};
    const int64_t eta = 5000;
    fx_srm_t m;
    fx_srm(&m, "ESC", 1, PROTO_ROLE_POLICE, "N_in", 1, nodes, in, out, &eta);
    ck_assert_int_eq(fx_tick(fx, 0, &m.srm, 1), 1);
    ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_REJECTED);
    ck_assert(!fx_has(fx, "C", PROTO_CMD_CALL, NULL, -1));
    fx_free(&fx);
    free(json);
}
END_TEST

Suite *suite_ctl_actuated(void);

Suite *suite_ctl_actuated(void) {
    Suite *s = suite_create("ctl_actuated");
    TCase *tc = tcase_create("actuated");
    tcase_add_test(tc, test_gap_out_then_minimum_green);
    tcase_add_test(tc, test_max_out);
    tcase_add_test(tc, test_rest_in_green);
    tcase_add_test(tc, test_occupied_detector_extends);
    tcase_add_test(tc, test_skips_stage_without_call);
    tcase_add_test(tc, test_tsp_extension_suppresses_gap_out);
    tcase_add_test(tc, test_tsp_early_green);
    tcase_add_test(tc, test_escorts_rejected);
    tcase_add_test(tc, test_event_sync_decides_as_lockstep);
    suite_add_tcase(s, tc);
    return s;
}
