/*
 * tests/sim/test_demand.c - suite sim_demand: Poisson arrivals against their expectation
 * within a statistical bound, piecewise rates by interval, class shares, independent streams
 * per source, same seed same arrivals.
 */
#include "sim/sim.h"
#include "tests/sim/fixture.h"
#include "tests/support/support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static sim_scenario_t *with_demand(const char *demand) {
    fixture_opts_t o = {.split1_s = 90, .demand = demand};
    return fixture_cross(&o);
}

START_TEST(test_arrival_rate) {
    /* 600 vph for an hour, 30 seeds: the total over seeds is Poisson(18000); accept within
     * 4 standard deviations (false alarm ~ 6e-5). Each seed within 5 sd of 600. */
    sim_scenario_t *scn =
        with_demand("{\"flows\":[{\"origin\":\"in_n\",\"destination\":\"out_s\",\"vph\":[600]}]}");
    int64_t total = 0;
    for (uint64_t seed = 1; seed <= 30; seed++) {
        sim_t *sim = sim_new(scn, seed, NULL, NULL);
        ck_assert_int_eq(sim_run_until(sim, 3600000), 0);
        int64_t n = sim_stats(sim, 0).vehicles_created;
        ck_assert(fabs((double)n - 600) < 5 * sqrt(600));
        total += n;
        sim_destroy(&sim);
    }
    ck_assert_msg(fabs((double)total - 18000) < 4 * sqrt(18000), "total %lld", (long long)total);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_piecewise_rates) {
    /* interval 600 s: 0 vph, then 3600 vph, then 0 (held after the end). */
    sim_scenario_t *scn =
        with_demand("{\"interval_s\":600,\"flows\":[{\"origin\":\"in_n\",\"destination\":\"out_s\","
                    "\"vph\":[0,3600,0]}]}");
    sim_t *sim = sim_new(scn, 7, NULL, NULL);
    ck_assert_int_eq(sim_run_until(sim, 600000), 0);
    ck_assert_int_eq((int)sim_stats(sim, 0).vehicles_created, 0);
    ck_assert_int_eq(sim_run_until(sim, 1200000), 0);
    int64_t n = sim_stats(sim, 0).vehicles_created;
    ck_assert(fabs((double)n - 600) < 5 * sqrt(600));
    ck_assert_int_eq(sim_run_until(sim, 3600000), 0);
    ck_assert_int_eq((int)sim_stats(sim, 0).vehicles_created, (int)n);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_class_mix) {
    sim_scenario_t *scn =
        with_demand("{\"flows\":[{\"origin\":\"in_n\",\"destination\":\"out_s\",\"vph\":[2000],"
                    "\"class_mix\":{\"car\":3,\"bus\":1}}]}");
    fixture_rec_t rec;
    sim_observer_t obs = fixture_recorder(&rec);
    sim_t *sim = sim_new(scn, 3, &obs, NULL);
    ck_assert_int_eq(sim_run_until(sim, 3600000), 0);
    int32_t bus = sim_scenario_find_class(scn, "bus");
    int n = rec.n_trips, buses = 0;
    for (int i = 0; i < n; i++)
        buses += rec.trips[i].vclass == bus;
    double p = 0.25, sd = sqrt(n * p * (1 - p));
    ck_assert_msg(fabs(buses - n * p) < 4 * sd, "%d buses of %d", buses, n);
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

/* Departure times of the vehicles made by flow "f0". */
static int departures(const sim_scenario_t *scn, uint64_t seed, sim_time_t *out, int max) {
    fixture_rec_t rec;
    sim_observer_t obs = fixture_recorder(&rec);
    sim_t *sim = sim_new(scn, seed, &obs, NULL);
    ck_assert_int_eq(sim_run_until(sim, 1800000), 0);
    int n = 0;
    for (int i = 0; i < rec.n_trips && n < max; i++)
        if (strcmp(rec.trips[i].source, "f0") == 0)
            out[n++] = rec.trips[i].depart;
    sim_destroy(&sim);
    fixture_rec_free(&rec);
    return n;
}

static int cmp_time(const void *a, const void *b) {
    sim_time_t x = *(const sim_time_t *)a, y = *(const sim_time_t *)b;
    return (x > y) - (x < y);
}

START_TEST(test_streams_are_independent) {
    /* Adding a second flow does not move the first flow's arrivals; another seed does. */
    sim_scenario_t *one =
        with_demand("{\"flows\":[{\"id\":\"f0\",\"origin\":\"in_n\",\"destination\":\"out_s\","
                    "\"vph\":[300]}]}");
    sim_scenario_t *two =
        with_demand("{\"flows\":[{\"id\":\"f0\",\"origin\":\"in_n\",\"destination\":\"out_s\","
                    "\"vph\":[300]},{\"id\":\"f1\",\"origin\":\"in_w\",\"destination\":\"out_e\","
                    "\"vph\":[500]}]}");
    sim_time_t a[400], b[400], c[400];
    int na = departures(one, 11, a, 400);
    int nb = departures(two, 11, b, 400);
    int nc = departures(one, 12, c, 400);
    qsort(a, (size_t)na, sizeof a[0], cmp_time);
    qsort(b, (size_t)nb, sizeof b[0], cmp_time);
    qsort(c, (size_t)nc, sizeof c[0], cmp_time);
    ck_assert_int_gt(na, 50);
    ck_assert_int_eq(na, nb);
    ck_assert_mem_eq(a, b, (size_t)na * sizeof a[0]);
    ck_assert(nc != na || memcmp(a, c, (size_t)na * sizeof a[0]) != 0);
    sim_scenario_destroy(&one);
    sim_scenario_destroy(&two);
}
END_TEST

Suite *suite_sim_demand(void);
Suite *suite_sim_demand(void) {
    Suite *s = suite_create("sim_demand");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_arrival_rate);
    tcase_add_test(tc, test_piecewise_rates);
    tcase_add_test(tc, test_class_mix);
    tcase_add_test(tc, test_streams_are_independent);
    suite_add_tcase(s, tc);
    return s;
}
