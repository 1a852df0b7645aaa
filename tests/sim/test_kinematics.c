/*
 * tests/sim/test_kinematics.c - suite sim_kinematics: the time a stop costs (braking and
 * accelerating, from the class's decel and accel) and no passing on a lane (a fast vehicle
 * queued behind slow ones leaves no earlier than they allow, unless they yield to it).
 */
#include "sim/sim.h"
#include "tests/sim/fixture.h"
#include "tests/support/support.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define V50 (50.0 / 3.6)

/* The cross of o, recorded, run until until_ms (the caller destroys sim, scenario, record). */
static sim_t *run_cross(const fixture_opts_t *o, sim_time_t until_ms, sim_scenario_t **scn,
                        fixture_rec_t *rec) {
    *scn = fixture_cross(o);
    sim_observer_t obs = fixture_recorder(rec);
    sim_t *sim = sim_new(*scn, 1, &obs, NULL);
    ck_assert_ptr_nonnull(sim);
    ck_assert_int_eq(sim_run_until(sim, until_ms), 0);
    return sim;
}

START_TEST(test_loss_formulas) {
    /* v/(2a) on a link long enough to reach v; SUMO's passenger car at 50 km/h loses 2.67 s
     * accelerating (inside the 1.5-3.6 s per stop the issue measured against SUMO). */
    double a = sim_scenario_accel_loss_s(500, V50, SIM_DEFAULT_ACCEL_MPS2);
    ck_assert_double_eq_tol(a, V50 / (2 * 2.6), 1e-12);
    ck_assert(a > 1.5 && a < 3.6);
    ck_assert_double_eq_tol(sim_scenario_decel_loss_s(V50, SIM_DEFAULT_DECEL_MPS2), V50 / (2 * 4.5),
                            1e-12);
    /* A link shorter than v^2/(2a) = 37.1 m: accelerating all along it. */
    ck_assert_double_eq_tol(sim_scenario_accel_loss_s(10, V50, 2.6), sqrt(20 / 2.6) - 10 / V50,
                            1e-12);
    /* Continuous at the boundary and never negative. */
    double lb = V50 * V50 / (2 * 2.6);
    ck_assert_double_eq_tol(sim_scenario_accel_loss_s(lb, V50, 2.6),
                            sim_scenario_accel_loss_s(lb * (1 - 1e-9), V50, 2.6), 1e-6);
    ck_assert_double_eq(sim_scenario_accel_loss_s(0, V50, 2.6), 0);
    ck_assert_double_eq(sim_scenario_accel_loss_s(100, 0, 2.6), 0);
    ck_assert_double_eq(sim_scenario_decel_loss_s(V50, 0), 0);
}
END_TEST

/* Runs one escort (yield 0) in_w -> out_e alone, departing at depart_s, with crossing (NULL:
 * none) on movement m_we; returns its stop-line record, its arrival time and its free-flow
 * time (free may be NULL). */
static sim_escort_record_t lone_escort_x(double depart_s, const char *model, const char *classes,
                                         double offset_s, const char *crossing, sim_time_t *arrive,
                                         sim_time_t *free) {
    char escorts[256];
    snprintf(escorts, sizeof escorts,
             "[{\"id\":\"e1\",\"route\":[\"in_w\",\"out_e\"],\"depart_s\":%g,"
             "\"desired_speed_kmh\":50,\"yield_factor\":0}]",
             depart_s);
    fixture_opts_t o = {.offset_s = offset_s,
                        .escorts = escorts,
                        .model = model,
                        .classes = classes,
                        .crossing = crossing};
    sim_scenario_t *scn;
    fixture_rec_t rec;
    sim_t *sim = run_cross(&o, 400000, &scn, &rec);
    ck_assert_int_eq(rec.n_esc, 1);
    sim_escort_record_t r = rec.esc[0];
    sim_escort_status_t es = sim_escort_status(sim, 0);
    ck_assert_int_eq(es.state, 2);
    *arrive = es.arrive;
    ck_assert_int_eq(rec.n_trips, 1);
    if (free != NULL)
        *free = rec.trips[0].free_time;
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
    return r;
}

static sim_escort_record_t lone_escort(double depart_s, const char *model, const char *classes,
                                       double offset_s, sim_time_t *arrive) {
    return lone_escort_x(depart_s, model, classes, offset_s, NULL, arrive, NULL);
}

START_TEST(test_stop_costs_derived_loss) {
    /* Red until 50 s: the escort reaches the stop line at 36 s, leaves at 52 s (start-up lost
     * time), and then needs v/(2a) more than the cruise over out_e; the braking loss was spent
     * while it waited. */
    sim_time_t arrive;
    sim_escort_record_t r = lone_escort(0, NULL, NULL, 50, &arrive);
    ck_assert_int_eq(r.on_arrival, SIM_SIGNAL_RED);
    ck_assert_int_eq(r.depart, 52000);
    sim_time_t cruise = sim_scenario_drive_time(500, V50);
    ck_assert_int_eq(arrive - r.depart,
                     cruise + sim_time_from_s(sim_scenario_accel_loss_s(500, V50, 2.6)));
    ck_assert_int_eq(arrive - r.depart - cruise, 2671); /* 13.89 / 5.2 s */
    /* Half the acceleration: twice the loss. */
    sim_time_t slow;
    r = lone_escort(0, NULL, "[{\"id\":\"escort\",\"accel_mps2\":1.3}]", 50, &slow);
    ck_assert_int_eq(slow - r.depart - cruise, 5342);
    /* No stop (green on arrival), no loss. */
    sim_time_t free_arrive;
    r = lone_escort(0, NULL, NULL, 0, &free_arrive);
    ck_assert_int_eq(r.on_arrival, SIM_SIGNAL_GREEN);
    ck_assert_int_eq(free_arrive, 2 * cruise);
}
END_TEST

START_TEST(test_short_stop_pays_rest_of_braking) {
    /* Green at 50 s with no start-up loss, the escort at the line at 49 s: a stop of 1 s, shorter
     * than the v/(2b) = 1.54 s braking takes, so it pays the rest of the braking too. */
    sim_time_t arrive;
    sim_escort_record_t r = lone_escort(
        49.0 - 36.0, "{\"startup_lost_time_s\":0,\"stop_wait_s\":0.5}", NULL, 50, &arrive);
    sim_time_t wait = r.depart - r.arrive;
    double brake = sim_scenario_decel_loss_s(V50, 4.5);
    ck_assert_int_gt(wait, 500);
    ck_assert(sim_time_to_s(wait) < brake);
    double loss = sim_scenario_accel_loss_s(500, V50, 2.6) + brake - sim_time_to_s(wait);
    ck_assert_int_eq(arrive - r.depart, sim_scenario_drive_time(500, V50) + sim_time_from_s(loss));
}
END_TEST

START_TEST(test_speedup_slowdown_formulas) {
    /* From a speed u to w: (w - u)^2 / (2 a w); from rest it is v/(2a) exactly. */
    ck_assert_double_eq(sim_scenario_speedup_loss_s(500, 0, V50, 2.6),
                        sim_scenario_accel_loss_s(500, V50, 2.6));
    ck_assert_double_eq_tol(sim_scenario_speedup_loss_s(500, 5, V50, 2.6),
                            (V50 - 5) * (V50 - 5) / (2 * 2.6 * V50), 1e-12);
    ck_assert_double_eq_tol(sim_scenario_slowdown_loss_s(V50, 5, 4.5),
                            (V50 - 5) * (V50 - 5) / (2 * 4.5 * V50), 1e-12);
    /* A stretch too short to reach w: still accelerating at its end. */
    ck_assert_double_eq_tol(sim_scenario_speedup_loss_s(10, 5, V50, 2.6),
                            (sqrt(25 + 2 * 2.6 * 10) - 5) / 2.6 - 10 / V50, 1e-12);
    /* No loss when not slower, and never negative. */
    ck_assert_double_eq(sim_scenario_speedup_loss_s(500, V50, 5, 2.6), 0);
    ck_assert_double_eq(sim_scenario_slowdown_loss_s(5, V50, 4.5), 0);
    ck_assert_double_eq(sim_scenario_slowdown_loss_s(V50, V50, 4.5), 0);
}
END_TEST

#define TURN ",\"crossing_length_m\":20,\"crossing_speed_kmh\":18"

START_TEST(test_slow_crossing_costs_time) {
    /* Green on arrival: the vehicle brakes from 50 to 18 km/h (5 m/s), crosses 20 m at 5 m/s and
     * accelerates back; the crossing is free-flow time (as a SUMO internal lane at its speed),
     * the two speed changes are delay (as in SUMO's timeLoss). */
    sim_time_t cruise = sim_scenario_drive_time(500, V50);
    sim_time_t arrive, free_t;
    sim_escort_record_t r = lone_escort_x(0, NULL, NULL, 0, TURN, &arrive, &free_t);
    ck_assert_int_eq(r.on_arrival, SIM_SIGNAL_GREEN);
    double change =
        sim_scenario_slowdown_loss_s(V50, 5, 4.5) + sim_scenario_speedup_loss_s(500, 5, V50, 2.6);
    ck_assert_int_eq(arrive, 2 * cruise + 4000 + sim_time_from_s(change));
    ck_assert_int_eq(free_t, 2 * cruise + 4000);
    ck_assert_int_eq(sim_time_from_s(change), 1726); /* 0.63 s braking + 1.09 s accelerating */
    /* Stopped at red: from rest to 5 m/s over the crossing and the link, then to 50 km/h. */
    r = lone_escort_x(0, NULL, NULL, 50, TURN, &arrive, NULL);
    ck_assert_int_eq(r.on_arrival, SIM_SIGNAL_RED);
    ck_assert_int_eq(r.depart, 52000);
    double start =
        sim_scenario_speedup_loss_s(520, 0, 5, 2.6) + sim_scenario_speedup_loss_s(500, 5, V50, 2.6);
    ck_assert_int_eq(arrive - r.depart, cruise + 4000 + sim_time_from_s(start));
    /* Starting into a slow turn loses less than starting straight on (v/(2a) = 2.67 s). */
    ck_assert(start < sim_scenario_accel_loss_s(500, V50, 2.6));
    /* A crossing length without a speed: crossed at the next link's speed, no speed change. */
    r = lone_escort_x(0, NULL, NULL, 0, ",\"crossing_length_m\":20", &arrive, &free_t);
    ck_assert_int_eq(arrive, 2 * cruise + sim_scenario_drive_time(20, V50));
    ck_assert_int_eq(free_t, arrive);
    /* Entering the network from rest (SUMO's departSpeed 0): v/(2a) more, as delay. */
    r = lone_escort_x(0, "{\"depart_from_rest\":true}", NULL, 0, NULL, &arrive, &free_t);
    ck_assert_int_eq(arrive, 2 * cruise + 2671);
    ck_assert_int_eq(free_t, 2 * cruise);
    /* A crossing speed above the road's: nothing but the length. */
    r = lone_escort_x(0, NULL, NULL, 0, ",\"crossing_length_m\":20,\"crossing_speed_kmh\":80",
                      &arrive, NULL);
    ck_assert_int_eq(arrive, 2 * cruise + sim_scenario_drive_time(20, V50));
}
END_TEST

START_TEST(test_queued_vehicles_pay_crossing) {
    /* Three cars queued at red on one lane: with a slow turn each arrives later by the
     * crossing's 4 s plus the start into the turn (0 -> 5 m/s -> 50 km/h) instead of straight
     * on (0 -> 50 km/h): the stop line still discharges one per saturation headway, and the
     * crossing is charged on the way to the next link. */
    const char *demand = "{\"flows\":[],\"trips\":["
                         "{\"depart_s\":0,\"origin\":\"in_w\",\"destination\":\"out_e\"},"
                         "{\"depart_s\":1,\"origin\":\"in_w\",\"destination\":\"out_e\"},"
                         "{\"depart_s\":2,\"origin\":\"in_w\",\"destination\":\"out_e\"}]}";
    sim_time_t arr[2][3];
    for (int k = 0; k < 2; k++) {
        fixture_opts_t o = {
            .offset_s = 50, .lanes = 1, .demand = demand, .crossing = k ? TURN : NULL};
        sim_scenario_t *scn;
        fixture_rec_t rec;
        sim_t *sim = run_cross(&o, 400000, &scn, &rec);
        ck_assert_int_eq(rec.n_trips, 3);
        for (int i = 0; i < 3; i++)
            arr[k][i] = rec.trips[i].arrive;
        sim_destroy(&sim);
        sim_scenario_destroy(&scn);
        fixture_rec_free(&rec);
    }
    sim_time_t extra = 4000 +
                       sim_time_from_s(sim_scenario_speedup_loss_s(520, 0, 5, 2.6) +
                                       sim_scenario_speedup_loss_s(500, 5, V50, 2.6)) -
                       sim_time_from_s(sim_scenario_accel_loss_s(500, V50, 2.6));
    ck_assert_int_eq(arr[1][0], arr[0][0] + extra);
    /* The followers too, within the few ms by which the leaders' longer stay on out_e changes
     * the density they drive at. */
    for (int i = 1; i < 3; i++) {
        ck_assert_int_ge(arr[1][i], arr[0][i] + extra - 50);
        ck_assert_int_le(arr[1][i], arr[0][i] + extra + 50);
    }
}
END_TEST

/* Five vehicles of a class capped at 18 km/h queue at red on one lane; an escort desiring
 * 72 km/h queues behind them with the given yield. Returns the escort's arrival at the end of
 * out_e and the last slow vehicle's. */
static void platoon(double yield, int lanes, sim_time_t *escort_arrive, sim_time_t *last_slow,
                    sim_time_t *first_slow) {
    char escorts[256];
    snprintf(escorts, sizeof escorts,
             "[{\"id\":\"e1\",\"route\":[\"in_w\",\"out_e\"],\"depart_s\":110,"
             "\"desired_speed_kmh\":72,\"yield_factor\":%g}]",
             yield);
    const char *demand =
        "{\"trips\":[{\"depart_s\":0,\"origin\":\"in_w\",\"destination\":\"out_e\",\"class\":\"s\"}"
        ","
        "{\"depart_s\":0,\"origin\":\"in_w\",\"destination\":\"out_e\",\"class\":\"s\"},"
        "{\"depart_s\":0,\"origin\":\"in_w\",\"destination\":\"out_e\",\"class\":\"s\"},"
        "{\"depart_s\":0,\"origin\":\"in_w\",\"destination\":\"out_e\",\"class\":\"s\"},"
        "{\"depart_s\":0,\"origin\":\"in_w\",\"destination\":\"out_e\",\"class\":\"s\"}]}";
    fixture_opts_t o = {.offset_s = 200,
                        .cycle_s = 300,
                        .lanes = lanes,
                        .demand = demand,
                        .escorts = escorts,
                        .classes = "[{\"id\":\"s\",\"max_speed_kmh\":18},{\"id\":\"escort\"}]"};
    sim_scenario_t *scn;
    fixture_rec_t rec;
    sim_t *sim = run_cross(&o, 600000, &scn, &rec);
    ck_assert_int_eq(rec.n_trips, 6);
    ck_assert_int_eq(rec.n_esc, 1);
    ck_assert_int_eq(rec.esc[0].on_arrival, SIM_SIGNAL_RED);
    *last_slow = 0;
    *first_slow = INT64_MAX;
    for (int i = 0; i < rec.n_trips; i++) {
        if (rec.trips[i].escort >= 0) {
            *escort_arrive = rec.trips[i].arrive;
        } else {
            if (rec.trips[i].arrive > *last_slow)
                *last_slow = rec.trips[i].arrive;
            if (rec.trips[i].arrive < *first_slow)
                *first_slow = rec.trips[i].arrive;
        }
    }
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}

START_TEST(test_no_passing_on_a_lane) {
    sim_time_t e0, last0, first0, e5, last5, first5, e1, last1, first1;
    /* Nobody yields: it stays behind the platoon to the end of the link. */
    platoon(0.0, 1, &e0, &last0, &first0);
    ck_assert_int_ge(e0, last0);
    ck_assert_int_lt(e0 - last0, 1000);
    /* Everybody yields: it passes them all (500 m at 20 m/s vs 100 s at 5 m/s). */
    platoon(1.0, 1, &e1, &last1, &first1);
    ck_assert_int_lt(e1, first1);
    /* Half: it loses half the hold, so it ends between the two. */
    platoon(0.5, 1, &e5, &last5, &first5);
    ck_assert_int_lt(e1, e5);
    ck_assert_int_lt(e5, e0);
    /* An escort that went ahead of them at the stop line only delays them (one headway). */
    ck_assert_int_ge(first1, first0);
    ck_assert_int_ge(last1, last0);
}
END_TEST

START_TEST(test_free_lane_is_taken) {
    /* Two lanes, five slow vehicles ahead on them both: the escort with no yield cannot pass
     * the ones ahead of it on the lane it takes. */
    sim_time_t e2, last2, first2;
    platoon(0.0, 2, &e2, &last2, &first2);
    ck_assert_int_gt(e2, first2); /* behind the 4th, which it queued behind on its lane */
    ck_assert_int_lt(e2, last2);  /* beside the 5th, on the other lane */
    /* One slow vehicle on two lanes: the escort takes the other lane and passes it. */
    char escorts[] = "[{\"id\":\"e1\",\"route\":[\"in_w\",\"out_e\"],\"depart_s\":110,"
                     "\"desired_speed_kmh\":72,\"yield_factor\":0}]";
    const char *demand = "{\"trips\":[{\"depart_s\":0,\"origin\":\"in_w\",\"destination\":"
                         "\"out_e\",\"class\":\"s\"}]}";
    fixture_opts_t o = {.offset_s = 200,
                        .cycle_s = 300,
                        .lanes = 2,
                        .demand = demand,
                        .escorts = escorts,
                        .classes = "[{\"id\":\"s\",\"max_speed_kmh\":18},{\"id\":\"escort\"}]"};
    sim_scenario_t *scn;
    fixture_rec_t rec;
    sim_t *sim = run_cross(&o, 600000, &scn, &rec);
    ck_assert_int_eq(rec.n_trips, 2);
    ck_assert_int_ge(rec.trips[0].escort, 0); /* the escort finishes first */
    sim_destroy(&sim);
    sim_scenario_destroy(&scn);
    fixture_rec_free(&rec);
}
END_TEST

Suite *suite_sim_kinematics(void);
Suite *suite_sim_kinematics(void) {
    Suite *s = suite_create("sim_kinematics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_loss_formulas);
    tcase_add_test(tc, test_stop_costs_derived_loss);
    tcase_add_test(tc, test_short_stop_pays_rest_of_braking);
    tcase_add_test(tc, test_speedup_slowdown_formulas);
    tcase_add_test(tc, test_slow_crossing_costs_time);
    tcase_add_test(tc, test_queued_vehicles_pay_crossing);
    tcase_add_test(tc, test_no_passing_on_a_lane);
    tcase_add_test(tc, test_free_lane_is_taken);
    suite_add_tcase(s, tc);
    return s;
}
