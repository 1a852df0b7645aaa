/*
 * tests/viz/test_project.c - suite viz_project: the view transform, zoom about the cursor, pan,
 * vehicle boxes, without SDL.
 */
#include "viz/project.h"

#include <check.h>
#include <math.h>

START_TEST(test_fit_and_round_trip) {
    viz_view_t v;
    viz_project_fit(&v, 0, 0, 1000, 500, 0, 0, 400, 100, 50);
    /* 900 x 400 px available: x limits (900 / 400 = 2.25 < 400 / 100). */
    ck_assert_double_eq_tol(v.scale, 2.25, 1e-12);
    viz_point_t c = viz_project_to_screen(&v, 200, 50);
    ck_assert_float_eq_tol(c.x, 500, 1e-3);
    ck_assert_float_eq_tol(c.y, 250, 1e-3);
    viz_point_t ne = viz_project_to_screen(&v, 400, 100);
    ck_assert_float_eq_tol(ne.x, 950, 1e-3);
    ck_assert(ne.y < c.y); /* north is up */
    double wx, wy;
    viz_project_to_world(&v, 123.5, 77.25, &wx, &wy);
    viz_point_t back = viz_project_to_screen(&v, wx, wy);
    ck_assert_float_eq_tol(back.x, 123.5, 1e-3);
    ck_assert_float_eq_tol(back.y, 77.25, 1e-3);
    /* A viewport offset moves everything. */
    viz_project_fit(&v, 100, 20, 1000, 500, 0, 0, 400, 100, 50);
    c = viz_project_to_screen(&v, 200, 50);
    ck_assert_float_eq_tol(c.x, 600, 1e-3);
    ck_assert_float_eq_tol(c.y, 270, 1e-3);
    /* A point network gets a 100 m window; scales stay within their limits. */
    viz_project_fit(&v, 0, 0, 100, 100, 5, 5, 5, 5, 0);
    ck_assert_double_eq_tol(v.scale, 1.0, 1e-12);
    viz_project_fit(&v, 0, 0, 100, 100, 0, 0, 1e-7, 0, 0);
    ck_assert(v.scale <= VIZ_SCALE_MAX);
    viz_project_fit(&v, 0, 0, 0, 0, 0, 0, 1e9, 1e9, 0);
    ck_assert(v.scale >= VIZ_SCALE_MIN && v.w == 1);
}
END_TEST

START_TEST(test_zoom_keeps_the_cursor_point) {
    viz_view_t v;
    viz_project_fit(&v, 0, 0, 800, 600, -100, -100, 100, 100, 0);
    double wx0, wy0, wx1, wy1;
    viz_project_to_world(&v, 650, 120, &wx0, &wy0);
    viz_project_zoom_at(&v, 1.25, 650, 120);
    viz_project_to_world(&v, 650, 120, &wx1, &wy1);
    ck_assert_double_eq_tol(wx0, wx1, 1e-9);
    ck_assert_double_eq_tol(wy0, wy1, 1e-9);
    ck_assert_double_eq_tol(v.scale, 3.0 * 1.25, 1e-9);
    for (int i = 0; i < 200; i++)
        viz_project_zoom_at(&v, 10, 0, 0);
    ck_assert_double_eq(v.scale, VIZ_SCALE_MAX);
    for (int i = 0; i < 200; i++)
        viz_project_zoom_at(&v, 0.1, 0, 0);
    ck_assert_double_eq(v.scale, VIZ_SCALE_MIN);
}
END_TEST

START_TEST(test_pan_follows_the_mouse) {
    viz_view_t v;
    viz_project_fit(&v, 0, 0, 800, 600, -100, -100, 100, 100, 0);
    viz_point_t a = viz_project_to_screen(&v, 10, 20);
    viz_project_pan(&v, 30, -12);
    viz_point_t b = viz_project_to_screen(&v, 10, 20);
    ck_assert_float_eq_tol(b.x - a.x, 30, 1e-3);
    ck_assert_float_eq_tol(b.y - a.y, -12, 1e-3);
}
END_TEST

START_TEST(test_vehicle_box) {
    viz_view_t v = {0, 0, 2.0, 200, 200, 0, 0};
    viz_point_t p[4];
    /* Heading east, 4 m x 2 m at 2 px/m: 8 px along x, 4 px across. */
    viz_project_box(&v, 0, 0, 1, 0, 4, 2, 1, p);
    ck_assert_float_eq_tol(p[1].x - p[0].x, 8, 1e-4);
    ck_assert_float_eq_tol(p[0].y - p[3].y, 4, 1e-4);
    ck_assert_float_eq_tol(p[0].y, 102, 1e-4); /* rear right is south of the centre */
    /* Heading north: the long side is vertical, front up. */
    viz_project_box(&v, 0, 0, 0, 1, 4, 2, 1, p);
    ck_assert_float_eq_tol(p[0].y - p[1].y, 8, 1e-4);
    /* Tiny at a low zoom: at least min_px long. */
    v.scale = 0.01;
    viz_project_box(&v, 0, 0, 1, 0, 4, 2, 3, p);
    ck_assert_float_eq_tol(p[1].x - p[0].x, 3, 1e-4);
    ck_assert(viz_project_visible(&v, (viz_point_t){100, 100}, 0));
    ck_assert(!viz_project_visible(&v, (viz_point_t){-5, 100}, 0));
    ck_assert(viz_project_visible(&v, (viz_point_t){-5, 100}, 8));
}
END_TEST

Suite *suite_viz_project(void);

Suite *suite_viz_project(void) {
    Suite *s = suite_create("viz_project");
    TCase *tc = tcase_create("project");
    tcase_add_test(tc, test_fit_and_round_trip);
    tcase_add_test(tc, test_zoom_keeps_the_cursor_point);
    tcase_add_test(tc, test_pan_follows_the_mouse);
    tcase_add_test(tc, test_vehicle_box);
    suite_add_tcase(s, tc);
    return s;
}
