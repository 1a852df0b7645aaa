/*
 * tests/viz/test_tsd.c - suite viz_tsd: stops of a corridor, signal spans, trajectories,
 * pruning and axis maths of the time-space diagram, without SDL.
 */
#include "tests/viz/fixture.h"
#include "viz/tsd.h"

#include <check.h>
#include <string.h>

static viz_map_t *map;

static void setup(void) {
    map = viz_map_new(VIZ_TEST_MAP, NULL);
    ck_assert_ptr_nonnull(map);
}

static void teardown(void) {
    viz_map_destroy(&map);
}

static void add(viz_tsd_t *t, int64_t ms, uint8_t a_ew, int n, const proto_vehicle_t *veh) {
    uint8_t st[N_GROUPS] = {a_ew, 1, 3};
    proto_frame_t f;
    fx_frame(&f, ms / 1000, ms, st, n);
    if (n > 0)
        memcpy(f.vehicles, veh, (size_t)n * sizeof *veh);
    ck_assert_int_eq(viz_tsd_add_frame(t, &f), 0);
    proto_frame_fini(&f);
}

START_TEST(test_stops) {
    base_err_t err = {0};
    viz_tsd_t *t = viz_tsd_new(map, "main", 1000, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_double_eq_tol(t->length_m, 600, 1e-9);
    ck_assert_int_eq(t->n_stops, 2); /* A and B; E is a boundary at the corridor's end */
    ck_assert_double_eq_tol(t->stops[0].dist_m, 200, 1e-9);
    ck_assert_int_eq(t->stops[0].n_groups, 1);
    ck_assert_int_eq(t->stops[0].groups[0], G_A_EW); /* the through movement's group */
    ck_assert_int_eq(t->stops[1].groups[0], G_B_EW);
    ck_assert_double_eq_tol(t->link_start_m[L_B_E], 400, 1e-9);
    ck_assert_double_eq_tol(t->link_start_m[4], -1, 1e-9); /* B_A: not on the corridor */
    viz_tsd_destroy(&t);
    ck_assert_ptr_null(viz_tsd_new(map, "nope", 1000, &err));
    ck_assert_int_eq(err.code, BASE_EINVAL);
    ck_assert_msg(strstr(err.msg, "no corridor 'nope' in the map (it has: main)") != NULL, "%s",
                  err.msg);
}
END_TEST

START_TEST(test_signal_spans) {
    viz_tsd_t *t = viz_tsd_new(map, "main", 1000, NULL);
    for (int s = 0; s <= 20; s++)
        add(t, s * 1000, s < 8 ? 3 : s < 11 ? 2 : 1, 0, NULL);
    ck_assert_int_eq(t->stops[0].n_spans, 3);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 0), 3);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 7999), 3);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 8000), 2);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 12500), 1);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 20000), 1);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 20001), VIZ_SIG_DARK); /* after the last frame */
    ck_assert_int_eq(viz_tsd_state_at(t, 0, -1), VIZ_SIG_DARK);
    ck_assert_int_eq(viz_tsd_state_at(t, 9, 0), VIZ_SIG_DARK);
    ck_assert_int_eq(t->stops[1].n_spans, 1); /* B green throughout */
    /* Frames skipped at a high pace: no dark band. The same state on both sides of the
     * silence fills it; a change across it is put at its middle. */
    size_t spans = t->stops[0].n_spans;
    add(t, 40000, 1, 0, NULL);
    ck_assert_int_eq(t->stops[0].n_spans, spans);
    for (int64_t ms = 20000; ms <= 40000; ms += 500)
        ck_assert_int_eq(viz_tsd_state_at(t, 0, ms), 1);
    add(t, 70000, 3, 0, NULL);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 54999), 1);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 55000), 3);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 70000), 3);
    for (int64_t ms = 0; ms <= 70000; ms += 250)
        ck_assert_int_ne(viz_tsd_state_at(t, 0, ms), VIZ_SIG_DARK);
    /* A silence longer than VIZ_TSD_BRIDGE_MS (a jump) is not bridged. */
    add(t, 70000 + VIZ_TSD_BRIDGE_MS + 1000, 3, 0, NULL);
    ck_assert_int_eq(viz_tsd_state_at(t, 0, 71000), VIZ_SIG_DARK);
    /* Time going backwards (a seek) starts afresh. */
    add(t, 1000, 3, 0, NULL);
    ck_assert_int_eq(t->stops[0].n_spans, 1);
    ck_assert_int_eq(t->t_first_ms, 1000);
    viz_tsd_destroy(&t);
}
END_TEST

START_TEST(test_trajectories) {
    viz_tsd_t *t = viz_tsd_new(map, "main", 2000, NULL);
    for (int s = 0; s <= 10; s++) {
        proto_vehicle_t v[4] = {
            {1, L_A_B, (float)(10 * s), 0, 0, 0, 0},                /* on the corridor */
            {2, 4, 50.0f, 0, 0, 0, 0},                              /* B_A: not on it */
            {3, L_W_A, 0.0f, 0, 0, PROTO_VEH_WAITING, 0},           /* waiting outside */
            {9, L_W_A, (float)(15 * s), 0, 3, PROTO_VEH_ESCORT, 0}, /* the escort */
        };
        add(t, s * 1000, 3, 4, v);
    }
    ck_assert_int_eq(t->n_tracks, 2);
    const viz_tsd_track_t *car = &t->tracks[0], *esc = &t->tracks[1];
    ck_assert_int_eq(car->vehicle, 1);
    ck_assert_int_eq(car->n, 6); /* every 2 s */
    ck_assert_float_eq_tol(car->pts[1].dist_m, 200 + 20, 1e-4);
    ck_assert_int_eq(car->pts[0].brk, 1);
    ck_assert_int_eq(car->pts[1].brk, 0);
    ck_assert_int_eq(esc->escort, 1);
    ck_assert_int_eq(esc->n, 11); /* every frame */
    /* Prune keeps live tracks from the last point before the cut. */
    viz_tsd_prune(t, 7000);
    ck_assert_int_eq(t->n_tracks, 2);
    ck_assert_int_eq(t->tracks[0].pts[0].t_ms, 6000);
    ck_assert_int_eq(t->tracks[1].pts[0].t_ms, 6000);
    viz_tsd_prune(t, 11000);
    ck_assert_int_eq(t->n_tracks, 0);
    /* The hash still finds and creates tracks after a prune. */
    proto_vehicle_t v = {1, L_A_B, 5.0f, 0, 0, 0, 0};
    add(t, 12000, 3, 1, &v);
    add(t, 14000, 3, 1, &v);
    ck_assert_int_eq(t->n_tracks, 1);
    ck_assert_int_eq(t->tracks[0].n, 2);
    viz_tsd_destroy(&t);
}
END_TEST

START_TEST(test_many_vehicles) {
    viz_tsd_t *t = viz_tsd_new(map, "main", 0, NULL);
    enum { N = 5000 };
    static proto_vehicle_t v[N];
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < N; i++)
            v[i] = (proto_vehicle_t){
                (uint32_t)(i * 7919), L_W_A + i % 3, (float)(i % 200), 0, 0, 0, 0};
        add(t, s * 1000, 3, N, v);
    }
    ck_assert_int_eq(t->n_tracks, N);
    for (size_t i = 0; i < t->n_tracks; i++)
        ck_assert_int_eq(t->tracks[i].n, 3);
    viz_tsd_destroy(&t);
}
END_TEST

START_TEST(test_axes) {
    viz_tsd_axes_t ax = {100, 50, 600, 300, 10000, 70000, 0, 600};
    ck_assert_double_eq_tol(viz_tsd_x(&ax, 10000), 100, 1e-9);
    ck_assert_double_eq_tol(viz_tsd_x(&ax, 40000), 400, 1e-9);
    ck_assert_double_eq_tol(viz_tsd_y(&ax, 0), 350, 1e-9); /* distance grows upwards */
    ck_assert_double_eq_tol(viz_tsd_y(&ax, 600), 50, 1e-9);
    ck_assert_int_eq(viz_tsd_time_at(&ax, 400), 40000);
    ck_assert_double_eq(viz_tsd_tick_step(600, 6), 100);
    ck_assert_double_eq(viz_tsd_tick_step(590, 4), 200);
    ck_assert_double_eq(viz_tsd_tick_step(0.7, 7), 0.1);
    ck_assert_double_eq(viz_tsd_tick_step(-1, 7), 1);
}
END_TEST

Suite *suite_viz_tsd(void);

Suite *suite_viz_tsd(void) {
    Suite *s = suite_create("viz_tsd");
    TCase *tc = tcase_create("tsd");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_stops);
    tcase_add_test(tc, test_signal_spans);
    tcase_add_test(tc, test_trajectories);
    tcase_add_test(tc, test_many_vehicles);
    tcase_add_test(tc, test_axes);
    suite_add_tcase(s, tc);
    return s;
}
