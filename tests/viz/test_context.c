/*
 * tests/viz/test_context.c - suite viz_context: the context without SDL: maps and frames in,
 * history (decisions, time in state), the panel and popup text, layout, and what each input
 * does.
 */
#include "tests/viz/fixture.h"
#include "viz/viz.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static viz_t *viz;

static void setup(void) {
    viz = viz_new(VIZ_MODE_REPLAY, 1000, 700, NULL);
    ck_assert_ptr_nonnull(viz);
    ck_assert_int_eq(viz_on_map(viz, VIZ_TEST_MAP), 1);
}

static void teardown(void) {
    viz_destroy(&viz);
}

static void feed(int64_t ms, uint8_t a_ew, const char *decision, int show) {
    uint8_t st[N_GROUPS] = {a_ew, a_ew == 3 ? 1 : 3, 3};
    proto_frame_t f;
    fx_frame(&f, ms / 1000, ms, st, 1);
    f.vehicles[0] = (proto_vehicle_t){99, L_A_B, 100.0f, 0, 3, PROTO_VEH_ESCORT, 0};
    f.prio[0] = PROTO_PRIO_SERVING;
    if (decision != NULL) {
        f.n_decisions = 1;
        f.decisions = calloc(1, sizeof *f.decisions);
        f.decisions[0] = strdup(decision);
    }
    ck_assert_int_eq(viz_on_frame(viz, &f, show), 0);
    proto_frame_fini(&f);
}

static int lines_have(const viz_line_t *l, int n, const char *s) {
    for (int i = 0; i < n; i++)
        if (strstr(l[i].text, s) != NULL)
            return 1;
    return 0;
}

START_TEST(test_map_and_frames) {
    ck_assert_int_eq(viz_on_map(viz, VIZ_TEST_MAP), 0); /* the same map: nothing to do */
    ck_assert_str_eq(viz->tsd_corridor, "main");
    ck_assert(viz->route_link[L_A_B] && !viz->route_link[4]);
    ck_assert(viz->route_signal[0] && viz->route_signal[1]);
    ck_assert_int_eq(viz_on_map(viz, "{not json"), BASE_EPARSE);
    ck_assert_ptr_nonnull(viz->map); /* the old map stays */
    viz_t *empty = viz_new(VIZ_MODE_LIVE, 100, 100, NULL);
    proto_frame_t f;
    uint8_t st[N_GROUPS] = {0};
    fx_frame(&f, 0, 0, st, 0);
    ck_assert_int_eq(viz_on_frame(empty, &f, 1), BASE_ESTATE);
    proto_frame_fini(&f);
    viz_destroy(&empty);
    for (int s = 0; s < 10; s++)
        feed(s * 1000, s < 4 ? 3 : 1, s == 2 ? "A: extend A.EW" : NULL, s == 9);
    ck_assert(viz->has_frame);
    ck_assert_int_eq(viz->frame.time_ms, 9000);
    ck_assert_int_eq(viz->n_decisions, 1);
    ck_assert_int_eq(viz->group_since_ms[G_A_EW], 4000);
    ck_assert_int_eq(viz->group_since_ms[G_B_EW], INT64_MIN); /* unchanged since first seen */
    for (int s = 10; s < 20; s++)
        feed(s * 1000, 1, "x", 0);
    ck_assert_int_eq(viz->n_decisions, VIZ_N_DECISIONS);
    viz_on_event(viz, 5000, "escort e1 departed");
    viz_line_t l[24];
    int n = viz_panel_lines(viz, l, 24);
    ck_assert(lines_have(l, n, "test 八一七路"));
    ck_assert(lines_have(l, n, "17:30:09"));
    ck_assert(lines_have(l, n, "escort e1: 4 s elapsed / 43 s free flow, ETA 17:31:05 (in 56 s)"));
    ck_assert(lines_have(l, n, "controller decisions:"));
    ck_assert(lines_have(l, n, "[17:30:05] escort e1 departed"));
    ck_assert_int_eq(viz_panel_lines(viz, l, 2), 2);
}
END_TEST

START_TEST(test_popup) {
    viz_line_t l[24];
    ck_assert_int_eq(viz_popup_lines(viz, l, 24), 0);
    for (int s = 0; s < 3; s++)
        feed(s * 1000, 3, NULL, 1);
    /* Click the junction A. */
    const viz_node_t *a = &viz->map->nodes[1];
    viz_point_t p = viz_project_to_screen(&viz->view, a->x, a->y);
    viz_input_t in = {VIZ_IN_BUTTON_DOWN, 0, 1, p.x + 2, p.y, 0, 0, 0};
    ck_assert_int_eq(viz_handle_input(viz, &in), VIZ_ACT_NONE);
    ck_assert_int_eq(viz->selected_signal, 0);
    int n = viz_popup_lines(viz, l, 24);
    ck_assert(lines_have(l, n, "鼓楼前 (test) (A)"));
    ck_assert(lines_have(l, n, "priority: serving"));
    ck_assert(lines_have(l, n, "> A.S1: A.EW"));
    ck_assert(lines_have(l, n, "A.NS"));
    ck_assert(lines_have(l, n, "plan A.P (cycle 60 s)"));
    in.button = 3;
    viz_handle_input(viz, &in);
    ck_assert_int_eq(viz->selected_signal, -1);
}
END_TEST

START_TEST(test_keys_and_mouse) {
    viz_input_t k = {VIZ_IN_KEY, 'q', 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(viz_handle_input(viz, &k), VIZ_ACT_QUIT);
    k.key = ' ';
    viz->playing = 1;
    ck_assert_int_eq(viz_handle_input(viz, &k), VIZ_ACT_PAUSE);
    ck_assert_int_eq(viz->playing, 0);
    k.key = '+';
    ck_assert_int_eq(viz_handle_input(viz, &k), VIZ_ACT_FASTER);
    ck_assert_double_eq(viz->play_speed, 2);
    k.key = '-';
    viz_handle_input(viz, &k);
    viz_handle_input(viz, &k);
    ck_assert_double_eq(viz->play_speed, 0.5);
    k.key = '.';
    ck_assert_int_eq(viz_handle_input(viz, &k), VIZ_ACT_STEP);
    /* t shows the diagram: the map viewport shrinks, and the view refits. */
    viz_layout_t before = viz_layout(viz);
    k.key = 't';
    ck_assert_int_eq(viz_handle_input(viz, &k), VIZ_ACT_TSD);
    viz_layout_t after = viz_layout(viz);
    ck_assert(after.has_tsd && after.map.w < before.map.w);
    ck_assert_int_eq(viz->view.w, after.map.w);
    /* Wheel zooms about the cursor; drag pans and stops the auto fit; f fits again. */
    double s0 = viz->view.scale;
    viz_input_t w = {VIZ_IN_WHEEL, 0, 0, 100, 100, 1, 0, 0};
    viz_handle_input(viz, &w);
    ck_assert_double_eq_tol(viz->view.scale, s0 * 1.25, 1e-9);
    ck_assert_int_eq(viz->auto_fit, 0);
    viz_input_t d = {VIZ_IN_BUTTON_DOWN, 0, 1, 50, 600, 0, 0, 0};
    viz_handle_input(viz, &d);
    double cx = viz->view.cx;
    viz_input_t mv = {VIZ_IN_MOTION, 0, 0, 70, 600, 0, 0, 0};
    viz_handle_input(viz, &mv);
    ck_assert_double_eq_tol(viz->view.cx, cx - 20 / viz->view.scale, 1e-9);
    viz_input_t up = {VIZ_IN_BUTTON_UP, 0, 1, 70, 600, 0, 0, 0};
    viz_handle_input(viz, &up);
    k.key = 'f';
    viz_handle_input(viz, &k);
    ck_assert_double_eq_tol(viz->view.scale, s0, 1e-9);
    /* The seek bar: a click maps x to time. */
    viz->t_begin_ms = 0;
    viz->t_end_ms = 100000;
    viz_layout_t l = viz_layout(viz);
    viz_rect_t tr = viz_seek_track(&l);
    viz_input_t s = {VIZ_IN_BUTTON_DOWN, 0, 1, tr.x + tr.w / 4.0, l.seek.y + 5, 0, 0, 0};
    ck_assert_int_eq(viz_handle_input(viz, &s), VIZ_ACT_SEEK);
    ck_assert_int_eq(viz->seek_ms, 25000);
    viz_handle_input(viz, &up);
    /* e jumps 10 s before the escort's start. */
    viz->escort_start_ms = 40000;
    k.key = 'e';
    ck_assert_int_eq(viz_handle_input(viz, &k), VIZ_ACT_SEEK);
    ck_assert_int_eq(viz->seek_ms, 30000);
    viz_input_t rs = {VIZ_IN_RESIZE, 0, 0, 0, 0, 0, 640, 480};
    viz_handle_input(viz, &rs);
    ck_assert_int_eq(viz->win_w, 640);
    viz_input_t quit = {VIZ_IN_QUIT, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(viz_handle_input(viz, &quit), VIZ_ACT_QUIT);
}
END_TEST

START_TEST(test_follow_escort) {
    feed(0, 3, NULL, 1);
    viz_input_t k = {VIZ_IN_KEY, 'g', 0, 0, 0, 0, 0, 0};
    viz_handle_input(viz, &k);
    ck_assert(viz->follow);
    ck_assert(viz->view.scale >= 1.0);
    double x, y, ux, uy;
    viz_map_link_point(viz->map, L_A_B, 100, 0, &x, &y, &ux, &uy);
    ck_assert_double_eq_tol(viz->view.cx, x, 1e-9);
    ck_assert_double_eq_tol(viz->view.cy, y, 1e-9);
}
END_TEST

Suite *suite_viz_context(void);

Suite *suite_viz_context(void) {
    Suite *s = suite_create("viz_context");
    TCase *tc = tcase_create("context");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_map_and_frames);
    tcase_add_test(tc, test_popup);
    tcase_add_test(tc, test_keys_and_mouse);
    tcase_add_test(tc, test_follow_escort);
    suite_add_tcase(s, tc);
    return s;
}
