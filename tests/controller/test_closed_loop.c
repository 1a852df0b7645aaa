/*
 * tests/controller/test_closed_loop.c - suite ctl_closed_loop: the controller in the loop
 * with the real simulator (sim_t) and its conflict monitor, in process.
 *
 * Ticks are built from the simulator as the bridge builds them (SPaT from the signal status
 * and the groups' minEndTime / maxEndTime, detector counts, the escort's on-board unit
 * listing every signal ahead with its ETA at the desired speed and cancelling each one once
 * crossed, buses listing their next signal), and the replies' commands go through
 * sim_command(). On the arterial with traffic, every strategy must cause zero refusals, and
 * the green wave must bring the escort through faster than no priority at all.
 * FX_STATS=1 prints each run's escort time; FX_TRACE=1 prints the decision log and each
 * escort passage of a stop line.
 */
#include "scenarios/loader.h"
#include "sim/sim.h"
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESCORT_WINDOW_MS 4000

typedef struct loop {
    sim_scenario_t *scn;
    sim_t *sim;
    ctl_t *ctl;
    base_arena_t a;
    uint8_t *obu; /* per escort and route index: 0 not requested, 1 requested, 2 cancelled */
    int32_t bus_class;
    int64_t seq;
    int64_t commands, refused;
} loop_t;

static int signalized_end(const sim_scenario_t *scn, int32_t link) {
    return scn->nodes[scn->links[link].to].signal >= 0;
}

static int64_t end_of_link(const sim_t *sim, const sim_vehicle_info_t *vi) {
    if (!vi->in_network || vi->queued)
        return sim_now(sim);
    return vi->stopline_at > sim_now(sim) ? vi->stopline_at : sim_now(sim);
}

static void escort_srm(loop_t *L, int32_t e, proto_srm_t *srm, int *added) {
    const sim_scenario_t *scn = L->scn;
    const sim_escort_t *es = &scn->escorts[e];
    uint8_t *st = &L->obu[(size_t)e * 64];
    int32_t slot = sim_escort_slot(L->sim, e);
    sim_vehicle_info_t vi;
    int travelling = slot >= 0 && sim_vehicle_get(L->sim, slot, &vi);
    int32_t pos = travelling ? vi.route_pos : es->route.n_links;
    *added = 0;
    srm->requests =
        base_arena_calloc(&L->a, (size_t)es->route.n_links + 1, sizeof(proto_request_t));
    ck_assert_ptr_nonnull(srm->requests);
    srm->request_id = e + 1;
    srm->vehicle_id = es->id;
    srm->role = PROTO_ROLE_POLICE;
    srm->link = scn->links[travelling ? vi.link : es->route.links[es->route.n_links - 1]].id;
    int64_t eta = travelling ? end_of_link(L->sim, &vi) : sim_now(L->sim);
    int32_t k = 0;
    for (int32_t i = 0; i < es->route.n_links - 1; i++) {
        int32_t l = es->route.links[i];
        if (i > pos)
            eta += sim_scenario_drive_time(scn->links[l].length_m, es->desired_speed_mps);
        if (!signalized_end(scn, l))
            continue;
        proto_request_t *r = &srm->requests[k];
        r->intersection = scn->nodes[scn->links[l].to].id;
        r->in_bound_lane = scn->links[l].id;
        r->out_bound_lane = scn->links[es->route.links[i + 1]].id;
        if (i < pos) {
            if (st[i] == 1) {
                r->request_type = PROTO_REQ_CANCEL;
                r->eta_ms = sim_now(L->sim);
                st[i] = 2;
                k++;
            }
            continue;
        }
        r->request_type = st[i] ? PROTO_REQ_UPDATE : PROTO_REQ_REQUEST;
        r->eta_ms = eta;
        r->duration_ms = ESCORT_WINDOW_MS;
        st[i] = 1;
        k++;
    }
    srm->n_requests = k;
    *added = k > 0;
}

static void build_tick(loop_t *L, proto_tick_t *t) {
    const sim_scenario_t *scn = L->scn;
    memset(t, 0, sizeof *t);
    t->time_ms = sim_now(L->sim);
    t->n_spat = scn->n_signals;
    t->spat = base_arena_calloc(&L->a, (size_t)scn->n_signals + 1, sizeof *t->spat);
    ck_assert_ptr_nonnull(t->spat);
    for (int32_t s = 0; s < scn->n_signals; s++) {
        const sim_signal_t *sig = &scn->signals[s];
        sim_signal_status_t ss = sim_signal_status(L->sim, s);
        proto_intersection_state_t *is = &t->spat[s];
        is->id = scn->nodes[sig->node].id;
        is->stage = sig->stages[ss.stage].id;
        is->next_stage = sig->stages[ss.next_stage].id;
        is->in_change = ss.in_change;
        is->plan = sig->plans[ss.plan].id;
        is->external = ss.external;
        is->preempt_active = ss.external && ss.preempt;
        is->priority_active = ss.external && !ss.preempt;
        is->in_transition = ss.in_transition;
        is->n_groups = sig->n_groups;
        is->groups = base_arena_calloc(&L->a, (size_t)sig->n_groups, sizeof *is->groups);
        ck_assert_ptr_nonnull(is->groups);
        for (int32_t g = 0; g < sig->n_groups; g++) {
            sim_signal_state_t x = sim_signal_state(L->sim, s, g);
            is->groups[g].id = sig->groups[g].id;
            is->groups[g].state = x == SIM_SIGNAL_GREEN    ? PROTO_PHASE_PROTECTED_ALLOWED
                                  : x == SIM_SIGNAL_YELLOW ? PROTO_PHASE_PROTECTED_CLEARANCE
                                                           : PROTO_PHASE_STOP_AND_REMAIN;
            is->groups[g].min_end_ms = sim_group_min_end(L->sim, s, g);
            is->groups[g].max_end_ms = sim_group_max_end(L->sim, s, g);
        }
    }
    t->n_detectors = scn->n_detectors;
    t->detectors = base_arena_calloc(&L->a, (size_t)scn->n_detectors + 1, sizeof *t->detectors);
    ck_assert_ptr_nonnull(t->detectors);
    for (int32_t d = 0; d < scn->n_detectors; d++)
        t->detectors[d] = (proto_detector_state_t){
            scn->detectors[d].id, sim_detector_count(L->sim, d), sim_detector_occupied(L->sim, d)};
    int32_t slots = sim_vehicle_slots(L->sim);
    t->srms = base_arena_calloc(&L->a, (size_t)scn->n_escorts + (size_t)slots + 1, sizeof *t->srms);
    ck_assert_ptr_nonnull(t->srms);
    for (int32_t e = 0; e < scn->n_escorts; e++) {
        if (sim_escort_status(L->sim, e).state == 0)
            continue;
        int added;
        escort_srm(L, e, &t->srms[t->n_srms], &added);
        t->n_srms += added;
    }
    for (int32_t v = 0; L->bus_class >= 0 && v < slots; v++) {
        sim_vehicle_info_t vi;
        if (!sim_vehicle_get(L->sim, v, &vi) || vi.vclass != L->bus_class || !vi.in_network ||
            vi.route_pos >= vi.route->n_links - 1 || !signalized_end(scn, vi.link))
            continue;
        proto_srm_t *srm = &t->srms[t->n_srms++];
        char *id = base_arena_alloc(&L->a, 32);
        proto_request_t *r = base_arena_calloc(&L->a, 1, sizeof *r);
        ck_assert(id != NULL && r != NULL);
        snprintf(id, 32, "bus-%lld", (long long)vi.id);
        srm->request_id = 128 + (int32_t)(vi.id % 128);
        srm->vehicle_id = id;
        srm->role = PROTO_ROLE_TRANSIT;
        srm->link = scn->links[vi.link].id;
        r->intersection = scn->nodes[scn->links[vi.link].to].id;
        r->request_type = PROTO_REQ_REQUEST;
        r->in_bound_lane = scn->links[vi.link].id;
        r->out_bound_lane = scn->links[vi.route->links[vi.route_pos + 1]].id;
        r->eta_ms = end_of_link(L->sim, &vi);
        r->duration_ms = 2000;
        srm->requests = r;
        srm->n_requests = 1;
    }
}

static void apply(loop_t *L, const proto_control_t *c) {
    const sim_scenario_t *scn = L->scn;
    for (int32_t i = 0; i < c->n_commands; i++) {
        const proto_command_t *pc = &c->commands[i];
        sim_command_t cmd = {.signal = -1,
                             .stage = -1,
                             .hold = pc->hold,
                             .preempt = pc->preempt,
                             .transition = (sim_transition_t)pc->transition};
        for (int32_t s = 0; s < scn->n_signals; s++)
            if (strcmp(scn->nodes[scn->signals[s].node].id, pc->intersection) == 0)
                cmd.signal = s;
        ck_assert_int_ge(cmd.signal, 0);
        const sim_signal_t *sig = &scn->signals[cmd.signal];
        for (int32_t k = 0; pc->stage != NULL && k < sig->n_stages; k++)
            if (strcmp(sig->stages[k].id, pc->stage) == 0)
                cmd.stage = k;
        cmd.action = pc->action == PROTO_CMD_HOLD        ? SIM_CMD_HOLD
                     : pc->action == PROTO_CMD_FORCE_OFF ? SIM_CMD_FORCE_OFF
                     : pc->action == PROTO_CMD_CALL      ? SIM_CMD_CALL
                                                         : SIM_CMD_RELEASE;
        base_err_t why = {0};
        L->commands++;
        if (sim_command(L->sim, &cmd, &why) < 0) {
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
    L.obu = calloc((size_t)L.scn->n_escorts * 64 + 1, 1);
    L.bus_class = sim_scenario_find_class(L.scn, "bus");
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
        build_tick(&L, &m.u.tick);
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
    free(L.obu);
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
