/*
 * tests/sim/test_traffic.c - suite sim_traffic: queue discharge against the saturation-flow
 * formula, start-up lost time, spillback, conservation, free flow on an empty network,
 * escorts (red signals, yielding traffic), boundaries (a 1 m link, zero demand).
 */
#include "sim/sim.h"
#include "tests/sim/fixture.h"
#include "tests/support/support.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* n trips in_w -> dest departing at t = 0. */
static char *trips_to(int n, const char *cls, const char *dest) {
    size_t cap = (size_t)n * 96 + 64;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t used = (size_t)snprintf(s, cap, "{\"trips\":[");
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(s + used, cap - used,
                                 "%s{\"depart_s\":0,\"origin\":\"in_w\",\"destination\":\"%s\","
                                 "\"class\":\"%s\"}",
                                 i ? "," : "", dest, cls);
    snprintf(s + used, cap - used, "]}");
    return s;
}

static char *trips_json(int n, const char *cls) {
    return trips_to(n, cls, "out_e");
}

static void assert_conservation(const sim_t *sim) {
    sim_stats_t st = sim_stats(sim, 0);
    ck_assert_int_eq(st.vehicles_created,
                     st.vehicles_completed + st.vehicles_in_network + st.vehicles_waiting);
    ck_assert_int_eq(st.vehicles_entered, st.vehicles_completed + st.vehicles_in_network);
}

START_TEST(test_discharge_matches_saturation_flow) {
    /* 30 cars queue during red; G1 turns green at t = 50 s (offset 50). Two lanes at 1800
     * vphpl: h = 1 s, start-up lost time 2 s: the i-th car crosses at 52 + i s. */
    char *demand = trips_json(30, "car");
    fixture_opts_t o = {.offset_s = 50, .demand = demand};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, NULL, NULL);
    ck_assert_ptr_nonnull(sim);
    int32_t d = fixture_detector(scn, "d_w");
    int32_t m = fixture_movement(scn, "m_we");
    ck_assert_int_eq(sim_run_until(sim, 49999), 0);
    ck_assert_int_eq(sim_movement_queue(sim, m), 30);
    ck_assert_int_eq((int)sim_detector_count(sim, d), 0);
    ck_assert_int_eq(sim_movement_state(sim, m), SIM_SIGNAL_RED);
    ck_assert(sim_detector_occupied(sim, d));
    double s_vps = 2 * 1800 / 3600.0, lost = 2.0;
    double gs[] = {1.5, 2.0, 3.0, 10.0, 20.5, 29.0};
    for (size_t i = 0; i < sizeof gs / sizeof gs[0]; i++) {
        ck_assert_int_eq(sim_run_until(sim, 50000 + sim_time_from_s(gs[i])), 0);
        int64_t got = sim_detector_count(sim, d);
        int64_t exact = gs[i] < lost ? 0 : (int64_t)floor((gs[i] - lost) * s_vps) + 1;
        ck_assert_int_eq((int)got, (int)exact);
        /* The textbook capacity of g seconds of green: s (g - l), within one vehicle. */
        ck_assert(fabs((double)got - fmax(0, (gs[i] - lost) * s_vps)) <= 1.0);
    }
    ck_assert_int_eq(sim_run_until(sim, 90000), 0);
    ck_assert_int_eq((int)sim_detector_count(sim, d), 30);
    ck_assert_int_eq(sim_movement_queue(sim, m), 0);
    assert_conservation(sim);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    free(demand);
}
END_TEST

START_TEST(test_bus_takes_two_headways) {
    /* pce 2: a bus discharges in two saturation headways. 1 lane, 1800 vphpl: h = 2 s/pce. */
    char *demand = trips_json(3, "bus");
    fixture_opts_t o = {.offset_s = 50, .lanes = 1, .demand = demand};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, NULL, NULL);
    int32_t d = fixture_detector(scn, "d_w");
    ck_assert_int_eq(sim_run_until(sim, 52000), 0); /* first at 50 + 2 (lost time) */
    ck_assert_int_eq((int)sim_detector_count(sim, d), 1);
    ck_assert_int_eq(sim_run_until(sim, 55999), 0); /* next at 52 + 2 x 2 = 56 */
    ck_assert_int_eq((int)sim_detector_count(sim, d), 1);
    ck_assert_int_eq(sim_run_until(sim, 56000), 0);
    ck_assert_int_eq((int)sim_detector_count(sim, d), 2);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    free(demand);
}
END_TEST

START_TEST(test_spillback) {
    /* A 30 m one-lane link (storage 4 pce) after X drains at 360 vph: the queue spills back
     * and X's movement, though green, discharges only as fast as the bottleneck. */
    char *demand = trips_to(40, "car", "out_e2");
    fixture_opts_t o = {.offset_s = 50, .demand = demand, .bottleneck_vphpl = 360};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, NULL, NULL);
    int32_t out_e = fixture_link(scn, "out_e");
    int32_t d = fixture_detector(scn, "d_w");
    ck_assert(fabs(sim_link_storage_pce(sim, out_e) - 4.0) < 1e-9);
    for (sim_time_t t = 0; t <= 95000; t += 250) {
        ck_assert_int_eq(sim_run_until(sim, t), 0);
        ck_assert(sim_link_occupancy_pce(sim, out_e) <= sim_link_storage_pce(sim, out_e) + 1e-9);
        assert_conservation(sim);
    }
    /* 45 s of green would pass 43 cars unobstructed; the bottleneck lets through about
     * 4 (storage) + 45/10, never more than 10. */
    int64_t passed = sim_detector_count(sim, d);
    ck_assert_int_ge((int)passed, 5);
    ck_assert_int_le((int)passed, 10);
    ck_assert_int_gt((int)sim_stats(sim, 0).spillback_events, 0);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    free(demand);
}
END_TEST

START_TEST(test_free_flow_on_empty_network) {
    /* One car; G1 green for the whole trip (split1 90 s of 100, offset 0): no delay, no stop. */
    fixture_rec_t rec;
    sim_observer_t obs = fixture_recorder(&rec);
    char *demand = trips_json(1, "car");
    fixture_opts_t o = {.split1_s = 90, .demand = demand};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, &obs, NULL);
    ck_assert_int_eq(sim_run_until(sim, 200000), 0);
    ck_assert_int_eq(rec.n_trips, 1);
    ck_assert_int_eq(rec.trips[0].arrive - rec.trips[0].depart, rec.trips[0].free_time);
    ck_assert_int_eq(rec.trips[0].free_time, 2 * sim_time_from_s(500 / (50 / 3.6)));
    ck_assert_int_eq(rec.trips[0].stops, 0);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    free(demand);
    fixture_rec_free(&rec);
}
END_TEST

START_TEST(test_density_slows_traffic) {
    /* 100 cars enter in_w at once: the last sees 99 moving ahead and drives slower. */
    fixture_rec_t rec;
    sim_observer_t obs = fixture_recorder(&rec);
    char *demand = trips_json(100, "car");
    fixture_opts_t o = {.split1_s = 90, .demand = demand};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, &obs, NULL);
    ck_assert_int_eq(sim_run_until(sim, 600000), 0);
    ck_assert_int_eq(rec.n_trips, 100);
    sim_time_t first = rec.trips[0].arrive, last = rec.trips[0].arrive;
    for (int i = 1; i < rec.n_trips; i++) {
        if (rec.trips[i].arrive < first)
            first = rec.trips[i].arrive;
        if (rec.trips[i].arrive > last)
            last = rec.trips[i].arrive;
    }
    ck_assert_int_eq(first, rec.trips[0].free_time); /* the first car is unhindered */
    ck_assert_int_gt(last - first, 40000);           /* the crowd spreads out */
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    free(demand);
    fixture_rec_free(&rec);
}
END_TEST

/* 20 cars queue at red; the escort departs at 10 s and arrives at the stop line during red. */
static sim_escort_record_t run_escort(double yield, sim_time_t *travel) {
    char escorts[512];
    snprintf(escorts, sizeof escorts,
             "[{\"id\":\"e1\",\"route\":[\"in_w\",\"out_e\"],\"depart_s\":10,"
             "\"desired_speed_kmh\":60,\"yield_factor\":%g}]",
             yield);
    char *demand = trips_json(20, "car");
    fixture_opts_t o = {.offset_s = 50, .demand = demand, .escorts = escorts};
    sim_scenario_t *scn = fixture_cross(&o);
    fixture_rec_t rec;
    sim_observer_t obs = fixture_recorder(&rec);
    sim_t *sim = sim_new(scn, 1, &obs, NULL);
    ck_assert_int_eq(sim_run_until(sim, 300000), 0);
    ck_assert_int_eq(rec.n_esc, 1);
    sim_escort_record_t r = rec.esc[0];
    sim_escort_status_t es = sim_escort_status(sim, 0);
    ck_assert_int_eq(es.state, 2);
    *travel = es.arrive - es.depart;
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    free(demand);
    fixture_rec_free(&rec);
    return r;
}

START_TEST(test_escort_waits_for_green_and_yield) {
    sim_time_t t0, t5, t1;
    sim_escort_record_t r0 = run_escort(0.0, &t0);
    sim_escort_record_t r5 = run_escort(0.5, &t5);
    sim_escort_record_t r1 = run_escort(1.0, &t1);
    /* Arrives during red (before 50 s), never crosses before green + lost time. */
    ck_assert_int_lt(r0.arrive, 50000);
    ck_assert_int_eq(r0.on_arrival, SIM_SIGNAL_RED);
    ck_assert_int_eq(r0.queue_ahead, 20);
    ck_assert_int_eq(r5.queue_ahead, 10);
    ck_assert_int_eq(r1.queue_ahead, 0);
    ck_assert_int_eq(r1.depart, 52000);             /* first away at green + lost time */
    ck_assert_int_eq(r5.depart, 52000 + 10 * 1000); /* behind 10 cars at 1 s headway */
    ck_assert_int_eq(r0.depart, 52000 + 20 * 1000);
    ck_assert_int_lt(t1, t5);
    ck_assert_int_lt(t5, t0);
}
END_TEST

START_TEST(test_escort_free_flow_at_desired_speed) {
    const char *escorts = "[{\"id\":\"e1\",\"route\":[\"in_w\",\"out_e\"],\"depart_s\":0,"
                          "\"desired_speed_kmh\":72}]";
    fixture_opts_t o = {.split1_s = 90, .escorts = escorts};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, NULL, NULL);
    ck_assert_int_eq(sim_run_until(sim, 100000), 0);
    sim_escort_status_t es = sim_escort_status(sim, 0);
    ck_assert_int_eq(es.state, 2);
    ck_assert_int_eq(es.arrive - es.depart, 2 * 25000); /* 500 m at 20 m/s, twice */
    ck_assert_int_eq(es.stops, 0);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_tiny_link_and_zero_demand) {
    /* A 1 m link holds less than one car: it still takes one at a time, and the run ends. */
    char *demand = trips_json(5, "car");
    fixture_opts_t o = {.in_len_m = 1, .demand = demand};
    sim_scenario_t *scn = fixture_cross(&o);
    sim_t *sim = sim_new(scn, 1, NULL, NULL);
    ck_assert_int_eq(sim_run_until(sim, 3600000), 0);
    ck_assert_int_eq((int)sim_stats(sim, 0).vehicles_completed, 5);
    assert_conservation(sim);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    free(demand);

    fixture_opts_t z = {0};
    scn = fixture_cross(&z);
    sim = sim_new(scn, 1, NULL, NULL);
    ck_assert_int_eq(sim_run_until(sim, 3600000), 0);
    ck_assert_int_eq((int)sim_stats(sim, 0).vehicles_created, 0);
    ck_assert_int_gt((int)sim_stats(sim, 0).events, 100); /* the signals still run */
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
}
END_TEST

Suite *suite_sim_traffic(void);
Suite *suite_sim_traffic(void) {
    Suite *s = suite_create("sim_traffic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_discharge_matches_saturation_flow);
    tcase_add_test(tc, test_bus_takes_two_headways);
    tcase_add_test(tc, test_spillback);
    tcase_add_test(tc, test_free_flow_on_empty_network);
    tcase_add_test(tc, test_density_slows_traffic);
    tcase_add_test(tc, test_escort_waits_for_green_and_yield);
    tcase_add_test(tc, test_escort_free_flow_at_desired_speed);
    tcase_add_test(tc, test_tiny_link_and_zero_demand);
    suite_add_tcase(s, tc);
    return s;
}
