/*
 * tests/controller/test_corridor.c - suite ctl_corridor: the green wave.
 *
 * On the cross (escort on N_in, stage S2; S1 green 0-25, S2 30-55, S1 60-85 s...; minimum
 * green 10 s, intergreen 5 s, margin 3 s, startup lost time 2 s, one vehicle per second):
 * with 10 vehicles estimated on N_in and an ETA of 90 s, S2 must be green by
 * 90 - (2 + 10) - 3 = 75 s; S1 starts at 60 and may end at 70, so the call goes out at 70 s
 * exactly (at 69 s, calling a tick later still makes 75 s). On the arterial, three signals
 * with their own queues and offsets are each called at their own last moment. These cases
 * run corridor-v1 (today's strategy, whose timing they pin); the last ones run corridor:
 * two crossing escorts ranked by priority level, then ETA; metering; the approach's turns
 * served during a long hold; gating while the exit link is full; the transition chosen per
 * signal.
 */
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void esc_cross(fx_srm_t *m, int64_t eta, const char *on) {
    const char *nodes[] = {"C"}, *in[] = {"N_in"}, *out[] = {"S_out"};
    fx_srm(m, "ESC", 1, PROTO_ROLE_POLICE, on, 1, nodes, in, out, &eta);
}

/* Runs the cross from 0 to `until` with the escort's ETA given by eta_at(t); expects exactly
 * one call of S2 (with hold) at `call_at`, no other command before the ETA. */
static void run_cross(fx_t *fx, int64_t (*eta_at)(int64_t), int64_t call_at, const char *on) {
    fx_srm_t m;
    for (int64_t t = 0; t <= 100000; t += 1000) {
        int64_t eta = eta_at(t);
        esc_cross(&m, eta, on);
        ck_assert_int_eq(fx_tick(fx, t, t <= eta ? &m.srm : NULL, t <= eta), 1);
        if (t == call_at) {
            ck_assert_msg(fx_n_cmds(fx) == 1 && fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1),
                          "no call of S2 at %lld ms", (long long)t);
            ck_assert_int_eq(fx_control(fx)->commands[0].preempt, 1);
        } else if (t <= eta) {
            ck_assert_msg(fx_n_cmds(fx) == 0, "unexpected command at %lld ms", (long long)t);
        }
        if (t > call_at && t < call_at + 5000 && t <= eta)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_PROCESSING);
        if (t >= call_at + 5000 && t <= eta)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_GRANTED);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
}

static int64_t eta_90(int64_t t) {
    (void)t;
    return 90000;
}

START_TEST(test_call_time_from_queue) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "corridor-v1", NULL);
    fx_det(fx, "dN_a", 10, 0); /* 10 entered N_in, none left: 10 vehicles on the approach */
    fx_det(fx, "dN_s", 0, 0);
    ck_assert_int_eq(fx_tick(fx, 0, NULL, 0), 1);
    run_cross(fx, eta_90, 70000, "N_up");
    /* S2 turned green at 75 s = ETA - 12 s - 3 s. */
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_plan_logged_first_and_when_moved) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "corridor-v1", NULL);
    fx_det(fx, "dN_a", 10, 0);
    fx_srm_t m;
    esc_cross(&m, 90000, "N_up");
    ck_assert_int_eq(fx_tick(fx, 0, &m.srm, 1), 1);
    ck_assert(fx_logged(fx, "C: plan for ESC: ETA 90.0 s, queue 10 veh x 1.0 s, clear 12.0 s, "
                            "green by 75.0 s (first plan)"));
    esc_cross(&m, 91500, "N_up"); /* moved 1.5 s: not logged again */
    ck_assert_int_eq(fx_tick(fx, 1000, &m.srm, 1), 1);
    ck_assert(!fx_logged(fx, "plan for ESC"));
    esc_cross(&m, 92500, "N_up"); /* 2.5 s from the plan last logged */
    ck_assert_int_eq(fx_tick(fx, 2000, &m.srm, 1), 1);
    ck_assert(fx_logged(fx, "green by 77.5 s (re-plan: green moved +2.5 s, ETA moved +2.5 s)"));
    fx_det(fx, "dN_s", 4, 0); /* 4 vehicles left: 6 remain, the plan moves 4 s later */
    ck_assert_int_eq(fx_tick(fx, 3000, &m.srm, 1), 1);
    ck_assert(fx_logged(fx, "queue 6 veh"));
    fx_free(&fx);
    free(json);
}
END_TEST

static int64_t eta_slips(int64_t t) {
    return t < 65000 ? 90000 : 95000; /* the escort is slowed at 65 s */
}

START_TEST(test_replan_when_eta_slips) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "corridor-v1", NULL);
    fx_det(fx, "dN_a", 10, 0);
    ck_assert_int_eq(fx_tick(fx, 0, NULL, 0), 1);
    /* Green needed by 80 s now: the call moves from 70 s to 75 s. */
    run_cross(fx, eta_slips, 75000, "N_up");
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_escort_on_approach_not_counted) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "corridor-v1", NULL);
    /* 11 counted in, 1 out, and the escort is one of the 10 on N_in: 9 ahead of it, green by
     * 90 - 11 - 3 = 76 s, call at 71 s. */
    fx_det(fx, "dN_a", 11, 0);
    fx_det(fx, "dN_s", 1, 0);
    ck_assert_int_eq(fx_tick(fx, 0, NULL, 0), 1);
    run_cross(fx, eta_90, 71000, "N_in");
    fx_free(&fx);
    free(json);
}
END_TEST

static int64_t eta_jumps(int64_t t) {
    return t < 20000 ? 40000 : 100000;
}

START_TEST(test_gives_up_an_early_green_and_comes_back) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "corridor-v1", NULL);
    fx_det(fx, "dN_a", 20, 0); /* clear 22 s: green by 40 - 25 = 15 s */
    fx_srm_t m;
    for (int64_t t = 0; t <= 102000; t += 1000) {
        int64_t eta = eta_jumps(t);
        esc_cross(&m, eta, "N_up");
        ck_assert_int_eq(fx_tick(fx, t, t <= eta ? &m.srm : NULL, t <= eta), 1);
        switch (t) {
        case 10000: /* S1 may end at once: 10 + 5 = 15 s */
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1));
            break;
        case 25000: /* ETA now 100 s: green needed by 75 s; S2's minimum has run: serve S1 */
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S1", 0));
            ck_assert(fx_logged(fx, "re-plan"));
            break;
        case 70000: /* S1 (green from 30 s) ends at 70, S2 green at 75 s */
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1));
            break;
        case 101000:
            ck_assert(fx_has(fx, "C", PROTO_CMD_RELEASE, NULL, -1));
            break;
        default:
            ck_assert_msg(fx_n_cmds(fx) == 0, "unexpected command at %lld ms", (long long)t);
        }
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

typedef struct expect {
    int64_t t;
    const char *node;
    proto_cmd_action_t action;
} expect_t;

START_TEST(test_arterial_green_wave) {
    char *json = fx_arterial_json(NULL);
    fx_t *fx = fx_new(json, "corridor-v1", NULL);
    fx_det(fx, "dB_a", 5, 0);  /* 5 vehicles on L1: B clear 7 s */
    fx_det(fx, "dC_a", 10, 0); /* 10 on L2: C clear 12 s */
    /* Vehicles ahead of the escort: at A none; at B the 5 on L1; at C the 5 on L1 and the 10
     * on L2 (all cross C before it). Green by: A 40 - 2 - 3 = 35 s; B 60 - 7 - 3 = 50 s;
     * C 80 - 17 - 3 = 60 s.
     * A: S1 green 0-25 would end before 35 s and could not come back (45 s): held at 24 s.
     * B: S1 may end at 25 (back by 45 s <= 50); S2 green 30 s, minimum to 40: call at 45 s.
     * C (offset 20): S1 green 20-45 would end, and could not come back before 65 s: held
     * at 44 s. */
    const expect_t want[] = {
        {24000, "A", PROTO_CMD_CALL},    {41000, "A", PROTO_CMD_RELEASE},
        {44000, "C", PROTO_CMD_CALL},    {45000, "B", PROTO_CMD_CALL},
        {61000, "B", PROTO_CMD_RELEASE}, {81000, "C", PROTO_CMD_RELEASE},
    };
    const char *nodes[] = {"A", "B", "C"}, *in[] = {"L0", "L1", "L2"}, *out[] = {"L1", "L2", "L3"};
    const int64_t etas[] = {40000, 60000, 80000};
    for (int64_t t = 0; t <= 100000; t += 1000) {
        int first = t <= 40000 ? 0 : t <= 60000 ? 1 : 2;
        /* The escort's own entry into L1 / L2 is counted by the advance loop there. */
        fx_det(fx, "dB_a", first >= 1 ? 6 : 5, 0);
        fx_det(fx, "dC_a", first >= 2 ? 11 : 10, 0);
        const char *on[] = {"L0", "L1", "L2"};
        fx_srm_t m;
        fx_srm(&m, "ESC", 1, PROTO_ROLE_POLICE, on[first], 3 - first, nodes + first, in + first,
               out + first, etas + first);
        ck_assert_int_eq(fx_tick(fx, t, t <= 80000 ? &m.srm : NULL, t <= 80000), 1);
        int n = 0;
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            if (want[i].t != t)
                continue;
            n++;
            ck_assert_msg(fx_has(fx, want[i].node, want[i].action,
                                 want[i].action == PROTO_CMD_CALL ? "S1" : NULL,
                                 want[i].action == PROTO_CMD_CALL ? 1 : -1),
                          "missing command at %s, %lld ms", want[i].node, (long long)t);
        }
        ck_assert_msg(fx_n_cmds(fx) == n, "%d commands at %lld ms, want %d", fx_n_cmds(fx),
                      (long long)t, n);
        if (t == 50000)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "B"), PROTO_SSM_GRANTED);
        if (t == 65000)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_GRANTED);
        if (t == 30000)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "C"), PROTO_SSM_REQUESTED);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_planned_before_departure) {
    fx_map_opts_t o = {.escorts = "[{\"id\":\"ESC\",\"route\":[\"L0\",\"L1\",\"L2\",\"L3\"],"
                                  "\"depart_s\":30,\"desired_speed_kmh\":50}]"};
    char *json = fx_arterial_json(&o);
    fx_t *fx = fx_new(json, "corridor-v1", NULL);
    /* No SRM yet: A's ETA is 30 + 200 m at 50 km/h = 44.4 s, green by 39.4 s; S1 (0-25 s)
     * could not come back by then (45 s): held at 24 s, from the map's plan alone. */
    for (int64_t t = 0; t <= 24000; t += 1000) {
        ck_assert_int_eq(fx_tick(fx, t, NULL, 0), 1);
        if (t == 0)
            ck_assert(fx_logged(fx, "A: plan for ESC: ETA 44.4 s"));
        ck_assert_int_eq(fx_control(fx)->n_ssm, 0);
        ck_assert_int_eq(fx_n_cmds(fx), t == 24000 ? 1 : 0);
    }
    ck_assert(fx_has(fx, "A", PROTO_CMD_CALL, "S1", 1));
    /* After the departure time without an SRM, the map's plan no longer stands in: released. */
    ck_assert_int_eq(fx_tick(fx, 31000, NULL, 0), 1);
    ck_assert(fx_has(fx, "A", PROTO_CMD_RELEASE, NULL, -1));
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_three_stages_redirect_and_continuing_groups) {
    fx_map_opts_t o = {.three_stage = 1};
    char *json = fx_arterial_json(&o);
    fx_t *fx = fx_new(json, "corridor-v1", NULL);
    /* B: S1 {EW,R} 0-25, S2 {R,NS} 30-55, S3 {NS} 60-85 (cycle 90). The escort's S1 is
     * needed by 70 - 2 - 3 = 65 s at B. */
    const char *nodes[] = {"B"}, *in[] = {"L1"}, *out[] = {"L2"};
    const int64_t eta = 70000;
    for (int64_t t = 0; t <= 71000; t += 1000) {
        fx_srm_t m;
        fx_srm(&m, "ESC", 1, PROTO_ROLE_POLICE, "L0", 1, nodes, in, out, &eta);
        ck_assert_int_eq(fx_tick(fx, t, t <= eta ? &m.srm : NULL, t <= eta), 1);
        /* S2 ends at 55 s into S3 (R ends, NS goes on: no redirect to S1); S3 starts no group,
         * so it may end at once: the call at 60 s gives S1 at 65 s. */
        if (t == 60000)
            ck_assert(fx_n_cmds(fx) == 1 && fx_has(fx, "B", PROTO_CMD_CALL, "S1", 1));
        else if (t <= eta)
            ck_assert_int_eq(fx_n_cmds(fx), 0);
        if (t >= 65000 && t <= eta)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "B"), PROTO_SSM_GRANTED);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    ck_assert_int_eq((int)fx->sigs[1].conflicts, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

/* ---- corridor (the new strategy): ranking of several escorts, metering, transition ---- */

#define TWO_ESCORTS                                                                                \
    "[{\"id\":\"ESC\",\"route\":[\"L0\",\"L1\",\"L2\",\"L3\"],\"depart_s\":3000,"                  \
    "\"desired_speed_kmh\":50,\"priority\":%d},"                                                   \
    "{\"id\":\"AMB\",\"route\":[\"NA_in\",\"SA_out\"],\"depart_s\":3000,"                          \
    "\"desired_speed_kmh\":50,\"priority\":14}]"

/* ESC (stage S1 at A, ETA 40 s, later while it waits) and AMB (crossing: S2 at A, ETA 50 s,
 * passed after 50 s) both ask for A. Returns the first tick at which ESC is granted at A. */
static int64_t two_escorts(fx_t *fx, int esc_level) {
    int64_t esc_granted = -1;
    int told = 0;
    for (int64_t t = 0; t <= 90000; t += 1000) {
        fx_srm_t m[2];
        int n = 0;
        int64_t e1 = t + 5000 > 40000 ? t + 5000 : 40000, e2 = 50000;
        const char *a[] = {"A"}, *in1[] = {"L0"}, *out1[] = {"L1"};
        const char *in2[] = {"NA_in"}, *out2[] = {"SA_out"};
        if (esc_granted < 0 || t <= esc_granted + 3000)
            fx_srm(&m[n++], "ESC", 1, PROTO_ROLE_POLICE, "L0", 1, a, in1, out1, &e1);
        if (t <= e2)
            fx_srm(&m[n++], "AMB", 2, PROTO_ROLE_AMBULANCE, "NA_in", 1, a, in2, out2, &e2);
        proto_srm_t srms[2] = {m[0].srm, n > 1 ? m[1].srm : m[0].srm};
        ck_assert_int_eq(fx_tick(fx, t, srms, n), 1);
        told |=
            fx_logged(fx, esc_level < 14 ? "AMB has a higher priority level (14 > 12)"
                                         : "queued: ESC, same priority level 14, arrives first");
        if (t == 20000 && esc_level < 14) {
            /* AMB outranks ESC although it arrives later: ESC is told so. */
            ck_assert_int_eq(fx_ssm(fx, "ESC", "A"), PROTO_SSM_REJECTED);
            ck_assert(told);
        }
        if (t == 20000 && esc_level == 14) {
            /* Same level: the earlier arrival (ESC) is served, AMB queued behind it. */
            ck_assert_int_eq(fx_ssm(fx, "AMB", "A"), PROTO_SSM_PROCESSING);
            ck_assert(told);
        }
        if (esc_granted < 0 && fx_ssm(fx, "ESC", "A") == PROTO_SSM_GRANTED)
            esc_granted = t;
        /* Never both granted: their movements conflict. */
        ck_assert(!(fx_ssm(fx, "ESC", "A") == PROTO_SSM_GRANTED &&
                    fx_ssm(fx, "AMB", "A") == PROTO_SSM_GRANTED));
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    ck_assert_int_eq((int)fx->sigs[0].conflicts, 0);
    return esc_granted;
}

START_TEST(test_two_escorts_ranked_by_level_then_eta) {
    char esc[512];
    snprintf(esc, sizeof esc, TWO_ESCORTS, 12);
    fx_map_opts_t o = {.escorts = esc};
    char *json = fx_arterial_json(&o);
    fx_t *fx = fx_new(json, "corridor", NULL);
    int64_t g = two_escorts(fx, 12);
    ck_assert_msg(g > 50000, "ESC granted at %lld ms, before AMB passed", (long long)g);
    fx_free(&fx);
    free(json);
    snprintf(esc, sizeof esc, TWO_ESCORTS, 14);
    json = fx_arterial_json(&o);
    fx = fx_new(json, "corridor", NULL);
    g = two_escorts(fx, 14);
    ck_assert_msg(g >= 0 && g <= 40000, "ESC granted at %lld ms", (long long)g);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_metering_before_the_call) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "corridor", NULL);
    fx_det(fx, "dN_a", 10, 0); /* green by 90 - 12 - 12 (lead) = 66 s */
    fx_srm_t m;
    int metered = 0, called = 0;
    for (int64_t t = 0; t <= 90000; t += 1000) {
        esc_cross(&m, 90000, "N_up");
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, 1), 1);
        if (t == 17000) {
            /* S1 (0-25 s) ends 8 s early, its time going to S2: metering. */
            ck_assert(fx_has(fx, "C", PROTO_CMD_CALL, "S2", 0));
            ck_assert(fx_logged(fx, "metering for ESC: S1 ends 8.0 s early"));
            metered = 1;
        } else if (t < 17000) {
            ck_assert_int_eq(fx_n_cmds(fx), 0);
        }
        if (fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1))
            called = 1;
    }
    ck_assert(metered && called);
    ck_assert_int_eq((int)fx->refusals, 0);
    ck_assert_int_eq((int)fx->sigs[0].conflicts, 0);
    fx_free(&fx);
    free(json);
}
END_TEST

/* The cross with a left turn from the escort's approach (N_in -> E_out, group NL) served in S1
 * with EW: holding S2 for the escort long before it arrives would starve that turn. */
static char *cross_with_turn_json(void) {
    char *json = fx_cross_json();
    const char *edits[][2] = {
        {"\"movements\":[", "\"movements\":[{\"id\":\"N_L\",\"from\":\"N_in\",\"to\":\"E_out\","
                            "\"turn\":\"left\"},"},
        {"\"groups\":[{\"id\":\"EW\"", "\"groups\":[{\"id\":\"NL\",\"movements\":[\"N_L\"],"
                                       "\"min_green_s\":10,\"max_green_s\":40,\"yellow_s\":3,"
                                       "\"red_clearance_s\":2},{\"id\":\"EW\""},
        {"[[\"EW\",\"NS\"]]", "[[\"EW\",\"NS\"],[\"NL\",\"NS\"]]"},
        {"{\"id\":\"S1\",\"groups\":[\"EW\"]}", "{\"id\":\"S1\",\"groups\":[\"EW\",\"NL\"]}"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *at = strstr(json, edits[i][0]);
        ck_assert_ptr_nonnull(at);
        size_t pre = (size_t)(at - json), old = strlen(edits[i][0]), add = strlen(edits[i][1]);
        char *out = malloc(strlen(json) - old + add + 1);
        ck_assert_ptr_nonnull(out);
        memcpy(out, json, pre);
        memcpy(out + pre, edits[i][1], add);
        strcpy(out + pre + add, at + old);
        free(json);
        json = out;
    }
    return json;
}

START_TEST(test_turns_of_the_approach_served_during_a_long_hold) {
    char *json = cross_with_turn_json();
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    cfg.strategy = "corridor";
    cfg.turn_gap_s = 30.0;
    cfg.gate_s = 0.0; /* the escort is within the gating horizon all along */
    fx_t *fx = fx_new(json, "corridor", &cfg);
    /* 100 vehicles on N_in: clear 102 s, S2 needed by 200 - 102 - 12 (lead) = 86 s and held
     * from then. */
    fx_det(fx, "dN_a", 100, 0);
    fx_srm_t m;
    int64_t turn_at = -1, back_at = -1, held_at = -1;
    for (int64_t t = 0; t <= 200000; t += 1000) {
        esc_cross(&m, 200000, "N_up");
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, 1), 1);
        if (held_at < 0 && fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1))
            held_at = t;
        if (fx_has(fx, "C", PROTO_CMD_CALL, "S1", 1) && fx_logged(fx, "approach's turns")) {
            ck_assert_int_eq(turn_at, -1); /* once: the next would not be back in time */
            ck_assert(fx_logged(fx, "S1 gets 25 s for the approach's turns"));
            turn_at = t;
        }
        if (turn_at >= 0 && back_at < 0 && fx_has(fx, "C", PROTO_CMD_CALL, "S2", 1))
            back_at = t;
    }
    /* S2 green from 86 s; 30 s later S1 (the turn) gets its planned 25 s (30 s split less the
     * 5 s intergreen) after the intergreen, and S2 is called back when it ends. */
    ck_assert_int_ge(held_at, 0);
    ck_assert_int_ge(turn_at, held_at + 30000);
    ck_assert_int_eq(back_at, turn_at + 5000 + 25000);
    ck_assert_int_eq((int)fx->refusals, 0);
    ck_assert_int_eq((int)fx->sigs[0].conflicts, 0);
    fx_free(&fx);
    free(json);

    /* corridor-v1 holds S2 through: no turn served. */
    json = cross_with_turn_json();
    fx = fx_new(json, "corridor-v1", &cfg);
    fx_det(fx, "dN_a", 100, 0);
    for (int64_t t = 0; t <= 200000; t += 1000) {
        esc_cross(&m, 200000, "N_up");
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, 1), 1);
        ck_assert(!fx_has(fx, "C", PROTO_CMD_CALL, "S1", -1));
    }
    fx_free(&fx);
    free(json);
}
END_TEST

/* The arterial: the escort's exit at A is L1 (200 m x 2 lanes: storage 53.3 vehicles, the mark
 * at half of it). A's S1 (the escort's) is green under the plan, past its minimum; the escort
 * is due at A at 100 s. With 40 vehicles on L1, A holds S2 at once (the escort is told
 * processing from then on). In the
 * first run L1 drains to 15 vehicles at 50 s (below three quarters of the mark): the gate
 * ends. In the second it stays full: the final call of S1 goes out at 81 s, S1 green by 86 s
 * (100 - 2 s lost - 12 s lead). */
static void run_gate(int drains) {
    char *json = fx_arterial_json(NULL);
    fx_t *fx = fx_new(json, "corridor", NULL);
    const char *nodes[] = {"A"}, *in[] = {"L0"}, *out[] = {"L1"};
    const int64_t eta = 100000;
    fx_det(fx, "dB_a", 40, 0);
    fx_det(fx, "dB_s", 0, 0);
    int gated = 0, ended = 0, final = 0;
    for (int64_t t = 0; t <= eta; t += 1000) {
        if (drains && t == 50000)
            fx_det(fx, "dB_s", 25, 0);
        fx_srm_t m;
        fx_srm(&m, "ESC", 1, PROTO_ROLE_POLICE, "L0", 1, nodes, in, out, &eta);
        ck_assert_int_eq(fx_tick(fx, t, &m.srm, 1), 1);
        if (t == 0) {
            ck_assert(fx_n_cmds(fx) == 1 && fx_has(fx, "A", PROTO_CMD_CALL, "S2", 1));
            ck_assert(fx_logged(fx, "gate for ESC: its exit L1 holds 40 veh (75 % of 53)"));
            gated = 1;
        } else if (drains && t == 50000) {
            ck_assert(fx_n_cmds(fx) == 1 && fx_has(fx, "A", PROTO_CMD_CALL, "S1", 0));
            ck_assert(fx_logged(fx, "gate for ESC ends: L1 down to 15 veh"));
            ended = 1;
        } else if (!drains && t == 81000) {
            ck_assert(fx_n_cmds(fx) == 1 && fx_has(fx, "A", PROTO_CMD_CALL, "S1", 1));
            final = 1;
        } else if (!drains || t < 50000) {
            ck_assert_msg(fx_n_cmds(fx) == 0, "unexpected command at %lld ms", (long long)t);
        }
        if (!drains && t >= 86000)
            ck_assert_int_eq(fx_ssm(fx, "ESC", "A"), PROTO_SSM_GRANTED);
        if (t == 0) /* not engaged yet (green needed by 95 s, engaged 60 s before)... */
            ck_assert_int_eq(fx_ssm(fx, "ESC", "A"), PROTO_SSM_REQUESTED);
        else if (t < (drains ? 50000 : 86000)) /* ... but served from the gate on */
            ck_assert_int_eq(fx_ssm(fx, "ESC", "A"), PROTO_SSM_PROCESSING);
    }
    ck_assert(gated && (drains ? ended : final));
    ck_assert_int_eq((int)fx->refusals, 0);
    ck_assert_int_eq((int)fx->sigs[0].conflicts, 0);
    fx_free(&fx);
    free(json);
}

START_TEST(test_gate_while_the_exit_is_full) {
    run_gate(1);
    run_gate(0);
}
END_TEST

START_TEST(test_transition_chosen_per_signal) {
    char *json = fx_cross_json();
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    cfg.transition_auto = 1;
    cfg.meter_s = 0;
    fx_t *fx = fx_new(json, "corridor", &cfg);
    fx_srm_t m;
    int released = 0;
    for (int64_t t = 0; t <= 100000 && !released; t += 1000) {
        esc_cross(&m, 90000, "N_up");
        ck_assert_int_eq(fx_tick(fx, t, t <= 90000 ? &m.srm : NULL, t <= 90000), 1);
        if (fx_has(fx, "C", PROTO_CMD_RELEASE, NULL, -1)) {
            released = 1;
            ck_assert(fx_logged(fx, "C: return to coordination: "));
            const proto_command_t *c = &fx_control(fx)->commands[0];
            const char *word = c->transition == PROTO_TRANSITION_DWELL     ? ": dwell"
                               : c->transition == PROTO_TRANSITION_LONGWAY ? ": longway"
                                                                           : ": shortway";
            ck_assert(fx_logged(fx, word));
        }
    }
    ck_assert(released);
    fx_free(&fx);
    free(json);
}
END_TEST

Suite *suite_ctl_corridor(void);

Suite *suite_ctl_corridor(void) {
    Suite *s = suite_create("ctl_corridor");
    TCase *tc = tcase_create("corridor");
    tcase_add_test(tc, test_call_time_from_queue);
    tcase_add_test(tc, test_plan_logged_first_and_when_moved);
    tcase_add_test(tc, test_replan_when_eta_slips);
    tcase_add_test(tc, test_escort_on_approach_not_counted);
    tcase_add_test(tc, test_gives_up_an_early_green_and_comes_back);
    tcase_add_test(tc, test_arterial_green_wave);
    tcase_add_test(tc, test_planned_before_departure);
    tcase_add_test(tc, test_three_stages_redirect_and_continuing_groups);
    tcase_add_test(tc, test_two_escorts_ranked_by_level_then_eta);
    tcase_add_test(tc, test_metering_before_the_call);
    tcase_add_test(tc, test_transition_chosen_per_signal);
    tcase_add_test(tc, test_turns_of_the_approach_served_during_a_long_hold);
    tcase_add_test(tc, test_gate_while_the_exit_is_full);
    suite_add_tcase(s, tc);
    return s;
}
