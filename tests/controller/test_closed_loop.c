/*
 * tests/controller/test_closed_loop.c - suite ctl_closed_loop: the controller in the loop
 * with the real simulator (sim_t) and its conflict monitor, in process.
 *
 * Ticks are built by the bridge's own code (bridge/tick.h: SPaT, detector counts, the
 * escort's and buses' SRMs), and the replies' commands go through bridge_command_apply() and
 * the simulator's conflict monitor, exactly as in greenwave-sim, only without sockets. On the
 * arterial with traffic, every strategy must cause zero refusals, and the green wave must bring the
 * escort through faster than no priority at all. FX_STATS=1 prints each run's escort time;
 * FX_TRACE=1 prints the decision log and each escort passage of a stop line.
 */
#include "bridge/tick.h"
#include "scenarios/loader.h"
#include "sim/sim.h"
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct loop {
    sim_scenario_t *scn;
    sim_t *sim;
    ctl_t *ctl;
    base_arena_t a;
    bridge_obu_t *obu;
    int64_t seq;
    int64_t commands, refused;
} loop_t;

static void apply(loop_t *L, const proto_control_t *c) {
    for (int32_t i = 0; i < c->n_commands; i++) {
        base_err_t why = {0};
        L->commands++;
        if (bridge_command_apply(L->sim, &c->commands[i], &why) < 0) {
            L->refused++;
            fprintf(stderr, "refused at %lld ms: %s\n", (long long)sim_now(L->sim), why.msg);
        }
    }
}

static void trace_escort(void *ud, const sim_escort_record_t *r) {
    (void)ud;
    fprintf(stderr, "TRACE escort node %d: enter %.1f arrive %.1f depart %.1f state %d queue %d\n",
            r->node, r->link_enter / 1000.0, r->arrive / 1000.0, r->depart / 1000.0,
            (int)r->on_arrival, r->queue_ahead);
}

typedef struct result {
    int64_t escort_time; /* ms, -1 if it did not arrive */
    int64_t commands, refused;
    sim_safety_t safety;
    double vehicle_s; /* time in the network of all vehicles so far, s */
} result_t;

static result_t run(const char *strategy, const char *json, uint64_t seed, int64_t until) {
    loop_t L = {0};
    base_err_t err = {0};
    L.scn = scn_loader_load_string(json, "loop", &err);
    ck_assert_msg(L.scn != NULL, "%s", err.msg);
    sim_observer_t obs = {.escort_passed = trace_escort};
    L.sim = sim_new(L.scn, seed, getenv("FX_TRACE") ? &obs : NULL, &err);
    ck_assert_msg(L.sim != NULL, "%s", err.msg);
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    cfg.tsp = 1; /* written with TSP on */
    if (getenv("FX_TRACE"))
        cfg.log = stderr;
    L.ctl = ctl_new(&cfg, &err);
    ck_assert_ptr_nonnull(L.ctl);
    L.obu = bridge_obu_new(L.scn);
    ck_assert_ptr_nonnull(L.obu);
    base_arena_init(&L.a);
    proto_msg_t hello = {.type = PROTO_HELLO, .version = PROTO_VERSION, .seq = L.seq++};
    hello.u.hello.session =
        (proto_session_t){.scenario = "loop", .seed = seed, .strategy = strategy, .tick_ms = 1000};
    hello.u.hello.map_json = json;
    proto_msg_t reply;
    ck_assert_int_eq(ctl_handle(L.ctl, "sim", 3, &hello, &reply, &err), 1);
    for (int64_t t = 0; t <= until; t += 1000) {
        ck_assert_msg(sim_run_until(L.sim, t) == 0, "sim: %s", sim_errmsg(L.sim));
        base_arena_fini(&L.a);
        base_arena_init(&L.a);
        proto_msg_t m = {.type = PROTO_TICK, .version = PROTO_VERSION, .seq = L.seq++};
        ck_assert_int_eq(bridge_tick_build(L.sim, L.obu, &L.a, &m.u.tick), 0);
        ck_assert_msg(ctl_handle(L.ctl, "sim", 3, &m, &reply, &err) == 1, "%s", err.msg);
        char *text = proto_msg_encode(&reply, NULL, &err);
        ck_assert_msg(text != NULL, "reply does not encode: %s", err.msg);
        free(text);
        apply(&L, &reply.u.control);
    }
    result_t res = {.escort_time = -1, .commands = L.commands, .refused = L.refused};
    sim_escort_status_t es = sim_escort_status(L.sim, 0);
    if (es.state == 2)
        res.escort_time = es.arrive - es.depart;
    res.safety = sim_safety(L.sim);
    res.vehicle_s = sim_stats(L.sim, 1).vehicle_seconds;
    proto_msg_t bye = {.type = PROTO_BYE, .version = PROTO_VERSION, .seq = L.seq++};
    ck_assert_int_eq(ctl_handle(L.ctl, "sim", 3, &bye, &reply, &err), 0);
    ck_assert_int_eq(ctl_sessions(L.ctl), 0);
    base_arena_fini(&L.a);
    bridge_obu_destroy(&L.obu);
    ctl_destroy(&L.ctl);
    sim_destroy(&L.sim);
    sim_scenario_destroy(&L.scn);
    return res;
}

static char *busy_arterial(int three_stage) {
    fx_map_opts_t o = {
        .three_stage = three_stage,
        .escorts = "[{\"id\":\"ESC\",\"route\":[\"L0\",\"L1\",\"L2\",\"L3\"],\"depart_s\":300,"
                   "\"desired_speed_kmh\":60}]",
        .demand = "{\"flows\":["
                  "{\"origin\":\"L0\",\"destination\":\"L3\",\"vph\":[1100],"
                  "\"class_mix\":{\"car\":0.9,\"bus\":0.1}},"
                  "{\"origin\":\"NA_in\",\"destination\":\"SA_out\",\"vph\":[500]},"
                  "{\"origin\":\"NB_in\",\"destination\":\"SB_out\",\"vph\":[500]},"
                  "{\"origin\":\"NC_in\",\"destination\":\"SC_out\",\"vph\":[500]}]}"};
    return fx_arterial_json(&o);
}

START_TEST(test_zero_refusals_real_simulator) {
    const char *strategy = CTL_STRATEGIES[_i % 5];
    for (int three = 0; three <= 1; three++) {
        char *json = busy_arterial(three);
        for (uint64_t seed = 1; seed <= 3; seed++) {
            result_t r = run(strategy, json, seed, 900000);
            ck_assert_msg(r.refused == 0 && r.safety.refused == 0,
                          "%s seed %llu: %lld refused (min green %lld, clearance %lld)", strategy,
                          (unsigned long long)seed, (long long)r.safety.refused,
                          (long long)r.safety.min_green_refusals,
                          (long long)r.safety.clearance_refusals);
            ck_assert_int_eq((int)r.safety.commands, (int)r.commands);
            if (strcmp(strategy, "none") == 0)
                ck_assert_int_eq((int)r.commands, 0);
            else
                ck_assert_int_gt((int)r.commands, 0);
            ck_assert_int_ge(r.escort_time, 0);
            if (getenv("FX_STATS") != NULL)
                fprintf(stderr, "%s three=%d seed %llu: escort %.1f s, %lld commands\n", strategy,
                        three, (unsigned long long)seed, r.escort_time / 1000.0,
                        (long long)r.commands);
        }
        free(json);
    }
}
END_TEST

START_TEST(test_green_wave_speeds_the_escort) {
    char *json = busy_arterial(0);
    double none = 0, local = 0, corridor = 0;
    for (uint64_t seed = 1; seed <= 5; seed++) {
        none += (double)run("none", json, seed, 600000).escort_time;
        local += (double)run("local", json, seed, 600000).escort_time;
        corridor += (double)run("corridor", json, seed, 600000).escort_time;
    }
    /* Free-flow: 800 m at 60 km/h = 48 s. */
    ck_assert_msg(corridor < none && local < none,
                  "escort: none %.1f s, local %.1f s, "
                  "corridor %.1f s (sums over 5 seeds)",
                  none / 1000, local / 1000, corridor / 1000);
    ck_assert_msg(corridor <= local, "corridor %.1f s, local %.1f s", corridor / 1000,
                  local / 1000);
    /* Deterministic: the same seed gives the same run. */
    ck_assert_int_eq(run("corridor", json, 3, 600000).escort_time,
                     run("corridor", json, 3, 600000).escort_time);
    free(json);
}
END_TEST

Suite *suite_ctl_closed_loop(void);

Suite *suite_ctl_closed_loop(void) {
    Suite *s = suite_create("ctl_closed_loop");
    TCase *tc = tcase_create("closed_loop");
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, test_zero_refusals_real_simulator, 0, 5);
    tcase_add_test(tc, test_green_wave_speeds_the_escort);
    suite_add_tcase(s, tc);
    return s;
}
