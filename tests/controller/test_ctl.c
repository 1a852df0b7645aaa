/*
 * tests/controller/test_ctl.c - suite ctl: configuration, sessions and messages (hello,
 * tick, bye, refusals), the decision log, and the strategy "none".
 */
#include "controller/ctl.h"
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static proto_msg_t hello_msg(const char *strategy, const char *map) {
    proto_msg_t m = {.type = PROTO_HELLO, .version = PROTO_VERSION, .seq = 0};
    m.u.hello.session =
        (proto_session_t){.scenario = "t", .seed = 1, .strategy = strategy, .tick_ms = 1000};
    m.u.hello.map_json = map;
    return m;
}

static proto_msg_t tick_msg(int64_t seq, int64_t t) {
    proto_msg_t m = {.type = PROTO_TICK, .version = PROTO_VERSION, .seq = seq};
    m.u.tick.time_ms = t;
    return m;
}

START_TEST(test_config) {
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    ck_assert_str_eq(cfg.strategy, "none");
    ck_assert_int_eq(cfg.transition, PROTO_TRANSITION_SHORTWAY);
    ck_assert(cfg.detection_range_s == 20.0 && cfg.safety_margin_s == 3.0);
    ck_assert(cfg.tsp == 0 && cfg.log == NULL && cfg.passage_s == 3.0);
    const char *want[] = {"none", "actuated", "local", "corridor", "corridor-v1", "route-green"};
    for (int i = 0; i < 6; i++)
        ck_assert_str_eq(CTL_STRATEGIES[i], want[i]);
    ck_assert_ptr_null(CTL_STRATEGIES[6]);
    ck_assert(cfg.tsp_horizon_s == 10.0 && cfg.tsp_lockout_s == 60.0 && cfg.tsp_max_cut_s == 10.0);
    ck_assert(cfg.engage_s == 60.0 && cfg.meter_s == 8.0 && cfg.dwell_weight == 2.0);
    ck_assert(cfg.turn_gap_s == 75.0 && cfg.gate_s == 150.0 && cfg.lead_s == 12.0);
    ck_assert_int_eq(cfg.transition_auto, 0);
    /* Every numeric parameter is checked against its bounds. */
    for (const ctl_param_t *p = CTL_PARAMS; p->option != NULL; p++) {
        ctl_config_t bad = cfg;
        *(double *)(void *)((char *)&bad + p->offset) = p->max * 2 + 1;
        base_err_t e = {0};
        ctl_t *c = ctl_new(&bad, &e);
        ck_assert_msg(c == NULL, "%s accepted out of range", p->option);
        ck_assert_ptr_nonnull(strstr(e.msg, p->option));
    }

    base_err_t err = {0};
    ctl_t *ctl = ctl_new(NULL, &err); /* NULL: the defaults */
    ck_assert_ptr_nonnull(ctl);
    ck_assert_int_eq(ctl_sessions(ctl), 0);
    ctl_destroy(&ctl);
    ck_assert_ptr_null(ctl);
    ctl_destroy(&ctl); /* NULL-safe */
    ctl_destroy(NULL);

    cfg.strategy = "green-everywhere";
    ck_assert_ptr_null(ctl_new(&cfg, &err));
    ck_assert_int_eq(err.code, BASE_EINVAL);
    ck_assert_str_eq(err.msg, "unknown strategy \"green-everywhere\" (known: none, actuated, "
                              "local, corridor, corridor-v1, route-green)");
    ctl_config_defaults(&cfg);
    cfg.transition = (proto_transition_t)1;
    ck_assert_ptr_null(ctl_new(&cfg, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "transition"));
    ctl_config_defaults(&cfg);
    cfg.safety_margin_s = -1;
    ck_assert_ptr_null(ctl_new(&cfg, &err));
    ctl_config_defaults(&cfg);
    cfg.passage_s = 0;
    ck_assert_ptr_null(ctl_new(&cfg, &err));
    ctl_config_defaults(&cfg);
    cfg.detection_range_s = 0.0 / 0.0;
    ck_assert_ptr_null(ctl_new(&cfg, &err));
}
END_TEST

/* ctl_config_set: the options by their command-line names, each within its bounds; a bad
 * value or name leaves the configuration as it was. */
START_TEST(test_config_set) {
    ctl_config_t cfg, before;
    ctl_config_defaults(&cfg);
    base_err_t err = {0};
    ck_assert_int_eq(ctl_config_set(&cfg, "--lead", "30", &err), 0);
    ck_assert(cfg.lead_s == 30.0);
    ck_assert_int_eq(ctl_config_set(&cfg, "--transition", "longway", &err), 0);
    ck_assert_int_eq(cfg.transition, PROTO_TRANSITION_LONGWAY);
    ck_assert_int_eq(cfg.transition_auto, 0);
    ck_assert_int_eq(ctl_config_set(&cfg, "--transition", "auto", &err), 0);
    ck_assert_int_eq(cfg.transition_auto, 1);
    ck_assert_int_eq(ctl_config_set(&cfg, "--tsp", NULL, &err), 0);
    ck_assert_int_eq(cfg.tsp, 1);
    ck_assert_int_eq(ctl_config_set(&cfg, "--no-tsp", "ignored", &err), 0);
    ck_assert_int_eq(cfg.tsp, 0);
    /* Every numeric parameter: its bounds are accepted, beyond them and junk refused. */
    for (const ctl_param_t *p = CTL_PARAMS; p->option != NULL; p++) {
        char v[64];
        snprintf(v, sizeof v, "%.17g", p->max);
        ck_assert_msg(ctl_config_set(&cfg, p->option, v, &err) == 0, "%s %s", p->option, v);
        ck_assert(*(double *)(void *)((char *)&cfg + p->offset) == p->max);
        memcpy(&before, &cfg, sizeof cfg);
        const char *bad[] = {"", "x", "1e999", "nan", "3s"};
        snprintf(v, sizeof v, "%.17g", p->max * 2 + 1);
        ck_assert_int_eq(ctl_config_set(&cfg, p->option, v, &err), BASE_EINVAL);
        ck_assert_ptr_nonnull(strstr(err.msg, p->option));
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
            ck_assert_int_eq(ctl_config_set(&cfg, p->option, bad[k], &err), BASE_EINVAL);
        ck_assert_int_eq(ctl_config_set(&cfg, p->option, NULL, &err), BASE_EINVAL);
        ck_assert_mem_eq(&cfg, &before, sizeof cfg);
    }
    ck_assert_int_eq(ctl_config_set(&cfg, "--transition", "sideways", &err), BASE_EINVAL);
    ck_assert_str_eq(err.msg,
                     "--transition: expected dwell, shortway, longway or auto, got 'sideways'");
    ck_assert_int_eq(ctl_config_set(&cfg, "--bind", "ipc://x", &err), BASE_EINVAL);
    ck_assert_str_eq(err.msg, "--bind: no such controller option");
    /* --limit NAME=N: each field of ctl_limits_t, within its bounds. */
    ck_assert_int_eq(ctl_config_set(&cfg, "--limit", "signals=5", &err), 0);
    ck_assert_int_eq(cfg.limits.max_signals, 5);
    ck_assert_int_eq(ctl_config_set(&cfg, "--limit", "sessions=7", &err), 0);
    ck_assert_int_eq(cfg.limits.max_sessions, 7);
    ck_assert_int_eq(ctl_config_set(&cfg, "--limit", "work=1125899906842624", &err), 0);
    ck_assert(cfg.limits.max_work == INT64_C(1) << 50);
    ck_assert_int_eq(ctl_config_set(&cfg, "--limit", "reap-after=0", &err), 0);
    ck_assert(cfg.limits.reap_after == 0);
    memcpy(&before, &cfg, sizeof cfg);
    const char *bad_limits[] = {"signals=0",        "work=1125899906842625",
                                "requests=-1",      "links=x",
                                "links=",           "bogus=3",
                                "signals",          "",
                                "message-bytes=100"};
    for (size_t k = 0; k < sizeof bad_limits / sizeof *bad_limits; k++)
        ck_assert_msg(ctl_config_set(&cfg, "--limit", bad_limits[k], &err) == BASE_EINVAL, "%s",
                      bad_limits[k]);
    ck_assert_mem_eq(&cfg, &before, sizeof cfg);
}
END_TEST

START_TEST(test_hello_refusals) {
    char *json = fx_cross_json();
    base_err_t err = {0};
    ctl_t *ctl = ctl_new(NULL, &err);
    proto_msg_t reply;
    proto_msg_t m = hello_msg("bogus", json);
    ck_assert_int_eq(ctl_handle(ctl, "p", 1, &m, &reply, &err), BASE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown strategy \"bogus\""));
    ck_assert_int_eq(ctl_sessions(ctl), 0);

    m = hello_msg("local", "{\"format\":\"greenwave-scenario\",");
    ck_assert_int_lt(ctl_handle(ctl, "p", 1, &m, &reply, &err), 0);
    ck_assert_msg(strncmp(err.msg, "map", 3) == 0, "message: %s", err.msg);
    m = hello_msg("local", "{\"format\":\"greenwave-scenario\",\"version\":1}");
    ck_assert_int_eq(ctl_handle(ctl, "p", 1, &m, &reply, &err), BASE_EINVAL);
    ck_assert_str_eq(err.msg, "map: $: missing required field \"name\"");
    m = hello_msg("local", NULL);
    ck_assert_int_eq(ctl_handle(ctl, "p", 1, &m, &reply, &err), BASE_EINVAL);
    m = hello_msg("local", json);
    m.u.hello.session.tick_ms = 0;
    ck_assert_int_eq(ctl_handle(ctl, "p", 1, &m, &reply, &err), BASE_EINVAL);
    ck_assert_int_eq(ctl_sessions(ctl), 0);

    /* A refused hello ends the peer's earlier session: its next run has no controller. */
    m = hello_msg("local", json);
    ck_assert_int_eq(ctl_handle(ctl, "p", 1, &m, &reply, &err), 1);
    ck_assert_int_eq(ctl_sessions(ctl), 1);
    m = hello_msg("bogus", json);
    ck_assert_int_lt(ctl_handle(ctl, "p", 1, &m, &reply, &err), 0);
    ck_assert_int_eq(ctl_sessions(ctl), 0);

    /* Messages a simulator does not send. */
    proto_msg_t w = {.type = PROTO_WELCOME, .version = PROTO_VERSION};
    ck_assert_int_eq(ctl_handle(ctl, "p", 1, &w, &reply, &err), BASE_EPROTO);
    ck_assert_int_eq(ctl_handle(ctl, NULL, 3, &w, &reply, &err), BASE_EINVAL);
    ctl_destroy(&ctl);
    free(json);
}
END_TEST

START_TEST(test_sessions) {
    char *json = fx_cross_json();
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    cfg.strategy = "local";
    base_err_t err = {0};
    ctl_t *ctl = ctl_new(&cfg, &err);
    proto_msg_t reply;

    /* A tick before any hello. */
    proto_msg_t t = tick_msg(1, 0);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), BASE_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "no hello"));

    /* Two peers, one with the default strategy (local), one with none. */
    proto_msg_t h = hello_msg(NULL, json);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &h, &reply, &err), 1);
    ck_assert_int_eq(reply.type, PROTO_WELCOME);
    ck_assert_str_eq(reply.u.welcome.strategy, "local");
    ck_assert_ptr_nonnull(reply.u.welcome.controller);
    h = hello_msg("none", json);
    ck_assert_int_eq(ctl_handle(ctl, "ab", 2, &h, &reply, &err), 1);
    ck_assert_str_eq(reply.u.welcome.strategy, "none");
    ck_assert_int_eq(ctl_sessions(ctl), 2);

    t = tick_msg(7, 5000);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), 1);
    ck_assert_int_eq(reply.type, PROTO_CONTROL);
    ck_assert_int_eq((int)reply.u.control.ack, 7);
    /* Time may repeat, not go back; each session has its own clock. */
    t = tick_msg(8, 5000);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), 1);
    t = tick_msg(9, 4999);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), BASE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "back in time"));
    ck_assert_int_eq(ctl_handle(ctl, "ab", 2, &t, &reply, &err), 1);
    t = tick_msg(10, 6000);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), 1); /* the session goes on */

    /* Malformed arrays are refused, not read. */
    t = tick_msg(11, 7000);
    t.u.tick.n_spat = 3;
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), BASE_EPROTO);
    t = tick_msg(11, -1);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), BASE_EPROTO);

    /* A hello replaces the session (a new run restarts its clock). */
    h = hello_msg("corridor", json);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &h, &reply, &err), 1);
    ck_assert_int_eq(ctl_sessions(ctl), 2);
    t = tick_msg(1, 0);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), 1);

    /* Bye frees the session; then its ticks are refused. */
    proto_msg_t bye = {.type = PROTO_BYE, .version = PROTO_VERSION};
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &bye, &reply, &err), 0);
    ck_assert_int_eq(ctl_sessions(ctl), 1);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), BASE_ESTATE);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &bye, &reply, &err), BASE_ESTATE);
    t = tick_msg(12, 8000);
    ck_assert_int_eq(ctl_handle(ctl, "ab", 2, &t, &reply, &err), 1);
    /* An empty identity is an identity like any other. */
    h = hello_msg("none", json);
    ck_assert_int_eq(ctl_handle(ctl, NULL, 0, &h, &reply, &err), 1);
    ck_assert_int_eq(ctl_sessions(ctl), 2);
    ctl_destroy(&ctl); /* frees the sessions left */
    free(json);
}
END_TEST

START_TEST(test_none_emits_nothing) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "none", NULL);
    for (int64_t t = 0; t <= 120000; t += 1000) {
        fx_srm_t m[2];
        const char *nodes[] = {"C"}, *in[] = {"N_in"}, *out[] = {"S_out"};
        const int64_t eta = 60000;
        fx_srm(&m[0], "ESC", 1, PROTO_ROLE_POLICE, "N_in", 1, nodes, in, out, &eta);
        const char *bin[] = {"W_in"}, *bout[] = {"E_out"};
        const int64_t beta = t + 5000;
        fx_srm(&m[1], "bus-9", 137, PROTO_ROLE_TRANSIT, "W_in", 1, nodes, bin, bout, &beta);
        proto_srm_t srms[2] = {m[0].srm, m[1].srm};
        fx_det(fx, "dW_a", t / 1000, 0);
        ck_assert_int_eq(fx_tick(fx, t, srms, t <= 60000 ? 2 : 1), 1);
        ck_assert_int_eq(fx_n_cmds(fx), 0);
        ck_assert_int_eq(fx_control(fx)->n_ssm, 0);
        ck_assert_int_eq(fx_control(fx)->n_log, 0);
    }
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_decision_log_file) {
    char *json = fx_cross_json();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    cfg.log = f;
    fx_t *fx = fx_new(json, "local", &cfg);
    fx_srm_t m;
    const char *nodes[] = {"C"}, *in[] = {"N_in"}, *out[] = {"S_out"};
    const int64_t eta = 40000;
    fx_srm(&m, "ESC", 1, PROTO_ROLE_POLICE, "N_in", 1, nodes, in, out, &eta);
    ck_assert_int_eq(fx_tick(fx, 20000, &m.srm, 1), 1);
    ck_assert_int_eq(fx_control(fx)->n_log, 2);
    ck_assert_str_eq(fx_control(fx)->log[0], "C: call S2 hold preempt: preemption entry for ESC: "
                                             "ETA in 20.0 s, within the 20 s range");
    fx_free(&fx);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "20.000 test local: C: call S2 hold preempt: "));
    ck_assert_ptr_nonnull(strstr(text, "20.000 test local: C: SSM ESC: processing"));
    /* One line per decision. */
    int lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 2);
    free(text);
    free(json);
}
END_TEST

/* A simulator that does not read the decision log (hello "log": false) gets the same
 * commands with an empty log; one that reads it gets a line per decision. */
START_TEST(test_no_log_hello) {
    char *json = fx_cross_json();
    ctl_t *ctl = ctl_new(NULL, NULL);
    ck_assert_ptr_nonnull(ctl);
    base_err_t err = {0};
    proto_msg_t reply;
    proto_msg_t h = hello_msg("actuated", json);
    ck_assert_int_eq(ctl_handle(ctl, "reads", 5, &h, &reply, &err), 1);
    h.u.hello.no_log = 1;
    ck_assert_int_eq(ctl_handle(ctl, "quiet", 5, &h, &reply, &err), 1);
    /* S1 green since 0 s, on its plan (not held): actuated holds it. */
    proto_group_state_t g[2] = {{"EW", PROTO_PHASE_PROTECTED_ALLOWED, 10000, 25000},
                                {"NS", PROTO_PHASE_STOP_AND_REMAIN, 30000, -1}};
    proto_intersection_state_t is = {
        .id = "C", .stage = "S1", .next_stage = "S2", .plan = "P1", .groups = g, .n_groups = 2};
    proto_msg_t t = tick_msg(2, 1000);
    t.u.tick.spat = &is;
    t.u.tick.n_spat = 1;
    ck_assert_int_eq(ctl_handle(ctl, "reads", 5, &t, &reply, &err), 1);
    ck_assert_int_eq(reply.u.control.n_commands, 1);
    ck_assert_int_eq(reply.u.control.commands[0].action, PROTO_CMD_HOLD);
    ck_assert_int_eq(reply.u.control.n_log, 1);
    ck_assert_ptr_nonnull(strstr(reply.u.control.log[0], "C: hold S1: actuated: hold S1"));
    ck_assert_int_eq(ctl_handle(ctl, "quiet", 5, &t, &reply, &err), 1);
    ck_assert_int_eq(reply.u.control.n_commands, 1);
    ck_assert_int_eq(reply.u.control.commands[0].action, PROTO_CMD_HOLD);
    ck_assert_str_eq(reply.u.control.commands[0].intersection, "C");
    ck_assert_int_eq(reply.u.control.n_log, 0);
    ctl_destroy(&ctl);
    free(json);
}
END_TEST

START_TEST(test_garbage_in_tick_ignored) {
    char *json = fx_cross_json();
    fx_t *fx = fx_new(json, "local", NULL);
    /* Unknown ids everywhere, NULL strings, roles without priority, an id too long. */
    proto_group_state_t g[2] = {{"nope", PROTO_PHASE_PROTECTED_ALLOWED, 0, -1},
                                {NULL, PROTO_PHASE_DARK, 0, 0}};
    proto_intersection_state_t is[2] = {
        {.id = "Z", .stage = "S1", .groups = g, .n_groups = 2},
        {.id = "C", .stage = "S9", .groups = g, .n_groups = 2},
    };
    proto_detector_state_t d[2] = {{"dX", 5, 1}, {NULL, 1, 0}};
    proto_request_t r[2] = {{"C", PROTO_REQ_REQUEST, "N_in", "S_out", 1000, 0},
                            {NULL, PROTO_REQ_REQUEST, NULL, NULL, 0, 0}};
    char long_id[PROTO_ID_MAX + 8];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    proto_srm_t srm[3] = {
        {.request_id = 3,
         .vehicle_id = "car",
         .role = PROTO_ROLE_BASIC,
         .requests = r,
         .n_requests = 2},
        {.request_id = 4,
         .vehicle_id = long_id,
         .role = PROTO_ROLE_POLICE,
         .requests = r,
         .n_requests = 1},
        {.request_id = 300,
         .vehicle_id = "ESC",
         .role = PROTO_ROLE_POLICE,
         .requests = r,
         .n_requests = 1},
    };
    proto_msg_t m = {.type = PROTO_TICK, .version = PROTO_VERSION, .seq = 5};
    m.u.tick = (proto_tick_t){.time_ms = 1000,
                              .spat = is,
                              .n_spat = 2,
                              .detectors = d,
                              .n_detectors = 2,
                              .srms = srm,
                              .n_srms = 3};
    proto_msg_t reply;
    base_err_t err = {0};
    ck_assert_int_eq(ctl_handle(fx->ctl, fx->peer, strlen(fx->peer), &m, &reply, &err), 1);
    /* No SPaT for C that names a known stage: no command can be checked, none is sent. */
    ck_assert_int_eq(reply.u.control.n_commands, 0);
    /* The basic vehicle is rejected; the too-long id and the out-of-range requestID get no
     * answer (it could not be encoded). */
    ck_assert_int_eq(reply.u.control.n_ssm, 1);
    ck_assert_str_eq(reply.u.control.ssm[0].vehicle_id, "car");
    ck_assert_int_eq(reply.u.control.ssm[0].status, PROTO_SSM_REJECTED);
    char *text = proto_msg_encode(&reply, NULL, &err);
    ck_assert_msg(text != NULL, "%s", err.msg);
    free(text);
    fx_free(&fx);
    free(json);
}
END_TEST

START_TEST(test_extreme_values) {
    /* Values at the ends of their types: nothing overflows (UBSan watches), nothing crashes,
     * and every reply still encodes. */
    fx_map_opts_t o = {.three_stage = 1};
    char *json = fx_arterial_json(&o);
    const int64_t ext[] = {INT64_MIN, -1, 0, 1, INT64_MAX / 2, INT64_MAX};
    for (int st = 0; CTL_STRATEGIES[st] != NULL; st++) {
        fx_t *fx = fx_new(json, CTL_STRATEGIES[st], NULL);
        for (int k = 0; k < 36; k++) {
            int64_t a = ext[k % 6], b = ext[(k / 6) % 6];
            ck_assert_int_eq(fx_tick(fx, 1000 * k, NULL, 0), 1); /* a sane SPaT first */
            for (int32_t s = 0; s < fx->scn->n_signals; s++)
                for (int32_t g = 0; g < fx->spat[s].n_groups; g++) {
                    fx->spat[s].groups[g].min_end_ms = a;
                    fx->spat[s].groups[g].max_end_ms = b;
                }
            for (int32_t d = 0; d < fx->scn->n_detectors; d++)
                fx->dets[d].count = d % 2 ? a : b;
            const char *nodes[] = {"A", "B", "C"}, *in[] = {"L0", "L1", "L2"},
                       *out[] = {"L1", "L2", "L3"};
            const int64_t etas[] = {a, b, a};
            fx_srm_t m[2];
            fx_srm(&m[0], "ESC", 1, PROTO_ROLE_POLICE, "L0", 3, nodes, in, out, etas);
            m[0].req[1].duration_ms = a;
            fx_srm(&m[1], "bus-1", 200, PROTO_ROLE_TRANSIT, "L1", 1, nodes + 1, in + 1, out + 1,
                   etas + 1);
            proto_srm_t srms[2] = {m[0].srm, m[1].srm};
            proto_msg_t msg = {.type = PROTO_TICK, .version = PROTO_VERSION, .seq = 1000 + k};
            msg.u.tick = (proto_tick_t){.time_ms = 1000 * k + 500,
                                        .spat = fx->spat,
                                        .n_spat = fx->scn->n_signals,
                                        .detectors = fx->dets,
                                        .n_detectors = fx->scn->n_detectors,
                                        .srms = srms,
                                        .n_srms = 2};
            proto_msg_t reply;
            base_err_t err = {0};
            ck_assert_int_eq(ctl_handle(fx->ctl, fx->peer, strlen(fx->peer), &msg, &reply, &err),
                             1);
            char *text = proto_msg_encode(&reply, NULL, &err);
            ck_assert_msg(text != NULL, "%s: %s", CTL_STRATEGIES[st], err.msg);
            free(text);
        }
        proto_msg_t msg = {.type = PROTO_TICK, .version = PROTO_VERSION, .seq = 1};
        msg.u.tick.time_ms = INT64_MAX;
        proto_msg_t reply;
        base_err_t err = {0};
        ck_assert_int_eq(ctl_handle(fx->ctl, fx->peer, strlen(fx->peer), &msg, &reply, &err),
                         BASE_EPROTO);
        fx_free(&fx);
    }
    free(json);
}
END_TEST

/* Per-session limits: sessions, map size, requests and work per tick, idle reaping on the
 * controller's message clock. */
START_TEST(test_limits) {
    char *json = fx_cross_json(); /* 1 signal, 2 groups, 8 detectors */
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    ck_assert_int_eq(cfg.limits.max_sessions, 256);
    ck_assert_int_eq(cfg.limits.max_requests, 1024);
    ck_assert(cfg.limits.reap_after == 100000 && cfg.limits.max_work == 50000000);
    base_err_t err = {0};
    cfg.limits.max_sessions = 0;
    ck_assert_ptr_null(ctl_new(&cfg, &err));
    ck_assert_int_eq(err.code, BASE_EINVAL);

    /* The map's detectors over the limit: refused, no session. */
    ctl_config_defaults(&cfg);
    cfg.limits.max_detectors = 7;
    ctl_t *ctl = ctl_new(&cfg, &err);
    proto_msg_t reply, h = hello_msg("none", json);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &h, &reply, &err), BASE_ERANGE);
    ck_assert_str_eq(err.msg, "hello: the map has 8 detectors (limit 7)");
    ck_assert_int_eq(ctl_sessions(ctl), 0);
    ck_assert_int_eq((int)ctl_stats(ctl).refused_hellos, 1);
    ctl_destroy(&ctl);
    ctl_config_defaults(&cfg);
    cfg.limits.max_groups = 1;
    ctl = ctl_new(&cfg, &err);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &h, &reply, &err), BASE_ERANGE);
    ck_assert_str_eq(err.msg, "hello: the map has 2 signal groups (limit 1)");
    ctl_destroy(&ctl);

    ctl_config_defaults(&cfg);
    cfg.limits.max_sessions = 2;
    cfg.limits.max_requests = 5;
    cfg.limits.max_work = 40;
    cfg.limits.reap_after = 4;
    ctl = ctl_new(&cfg, &err);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &h, &reply, &err), 1);
    ck_assert_int_eq(ctl_handle(ctl, "b", 1, &h, &reply, &err), 1);
    /* Full: a third peer is refused; the two sessions go on. */
    ck_assert_int_eq(ctl_handle(ctl, "c", 1, &h, &reply, &err), BASE_ERANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "2 sessions open already (limit 2"));
    ck_assert_int_eq(ctl_sessions(ctl), 2);

    /* Six requests in a tick: b is dropped, a goes on. */
    proto_request_t r[6];
    for (int i = 0; i < 6; i++)
        r[i] = (proto_request_t){"C", PROTO_REQ_REQUEST, "N_in", "S_out", 1000 + i, 0};
    proto_srm_t srm = {.request_id = 1,
                       .vehicle_id = "v",
                       .role = PROTO_ROLE_POLICE,
                       .link = "N_in",
                       .requests = r,
                       .n_requests = 6};
    proto_msg_t t = tick_msg(1, 1000);
    t.u.tick.srms = &srm;
    t.u.tick.n_srms = 1;
    ck_assert_int_eq(ctl_handle(ctl, "b", 1, &t, &reply, &err), BASE_ERANGE);
    ck_assert_str_eq(err.msg, "session b dropped: a tick with 6 priority requests (limit 5)");
    ck_assert_int_eq(ctl_sessions(ctl), 1);
    proto_msg_t plain = tick_msg(2, 1000);
    ck_assert_int_eq(ctl_handle(ctl, "b", 1, &plain, &reply, &err), BASE_ESTATE);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &plain, &reply, &err), 1);

    /* Five requests pass the count but not the work budget: 2 (signals + 1) + 1 + 25 (the
     * SRM squared) + 5 + 2 x 5 (signals x requests) = 43 > 40. */
    srm.n_requests = 5;
    ck_assert_int_eq((int)ctl_tick_work(&t.u.tick, 1), 43);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), BASE_ERANGE);
    ck_assert_str_eq(err.msg, "session a dropped: a tick of 43 work units (limit 40)");
    ck_assert_int_eq(ctl_sessions(ctl), 0);
    srm.n_requests = 2; /* 2 + 1 + 4 + 2 + 4 = 13 */
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &h, &reply, &err), 1);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &t, &reply, &err), 1);

    /* Reaping: b says hello, then a alone sends 4 messages: b is silent for 4 (kept); at the
     * fifth it is reaped. A peer is never reaped by its own message. */
    ck_assert_int_eq(ctl_handle(ctl, "b", 1, &h, &reply, &err), 1);
    for (int i = 0; i < 4; i++) {
        plain = tick_msg(3 + i, 2000 + i);
        ck_assert_int_eq(ctl_handle(ctl, "a", 1, &plain, &reply, &err), 1);
    }
    ck_assert_int_eq(ctl_sessions(ctl), 2);
    plain = tick_msg(9, 9000);
    ck_assert_int_eq(ctl_handle(ctl, "a", 1, &plain, &reply, &err), 1);
    ck_assert_int_eq(ctl_sessions(ctl), 1);
    ck_assert_int_eq(ctl_handle(ctl, "b", 1, &plain, &reply, &err), BASE_ESTATE);
    ctl_stats_t st = ctl_stats(ctl);
    ck_assert_int_eq((int)st.reaped, 1);
    ck_assert_int_eq((int)st.dropped, 2);
    ck_assert_int_eq((int)st.opened, 4);
    ck_assert_int_eq((int)st.refused_hellos, 1);
    ck_assert_int_eq(st.sessions, 1);
    ctl_destroy(&ctl);
    free(json);
}
END_TEST

Suite *suite_ctl(void);

Suite *suite_ctl(void) {
    Suite *s = suite_create("ctl");
    TCase *tc = tcase_create("ctl");
    tcase_add_test(tc, test_config);
    tcase_add_test(tc, test_config_set);
    tcase_add_test(tc, test_hello_refusals);
    tcase_add_test(tc, test_sessions);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_none_emits_nothing);
    tcase_add_test(tc, test_decision_log_file);
    tcase_add_test(tc, test_no_log_hello);
    tcase_add_test(tc, test_garbage_in_tick_ignored);
    tcase_add_test(tc, test_extreme_values);
    suite_add_tcase(s, tc);
    return s;
}
