/*
 * tests/viz/test_render.c - suite viz_render: draws offscreen with SDL's software renderer (no
 * display) and checks pixels: the escort's colour at its projected position, a red head red
 * and a green one green at their stop lines, the time-space diagram's bar green over the
 * interval the frames said was green and red after it; PNG files round-trip. A link with a
 * shape (an imported SUMO edge) is drawn along its polyline, not along the chord between its
 * nodes, and a vehicle on it is drawn on the curve.
 */
#include "tests/viz/fixture.h"
#include "viz/app.h"
#include "viz/png.h"
#include "viz/render.h"
#include "viz/viz.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static viz_render_t *ren;
static viz_t *viz;

static void setup(void) {
    base_err_t err = {0};
    ck_assert_msg(viz_render_sys_init(0, &err) == 0, "%s", err.msg);
    ren = viz_render_new_offscreen(800, 500, &err);
    ck_assert_msg(ren != NULL, "%s", err.msg);
    viz = viz_new(VIZ_MODE_STILL, 800, 500, NULL);
    ck_assert_int_eq(viz_on_map(viz, VIZ_TEST_MAP), 1);
}

static void teardown(void) {
    viz_destroy(&viz);
    viz_render_destroy(&ren);
    viz_render_sys_quit();
}

static uint32_t pixel_at(float x, float y) {
    int w, h;
    uint32_t *px = viz_render_pixels(ren, &w, &h, NULL);
    ck_assert_ptr_nonnull(px);
    int ix = (int)floorf(x), iy = (int)floorf(y);
    ck_assert(ix >= 0 && ix < w && iy >= 0 && iy < h);
    uint32_t c = px[(size_t)iy * (size_t)w + (size_t)ix];
    free(px);
    return c;
}

static void show(uint8_t a_ew, int with_escort) {
    uint8_t st[N_GROUPS] = {a_ew, 1, 3};
    proto_frame_t f;
    fx_frame(&f, 1, 1000, st, 3);
    f.vehicles[0] = (proto_vehicle_t){1, L_W_A, 150.0f, 0, 0, 0, 0};
    f.vehicles[1] = (proto_vehicle_t){2, L_W_A, 190.0f, 1, 1, PROTO_VEH_QUEUED, 0};
    f.vehicles[2] = (proto_vehicle_t){99, L_A_B, 100.0f, 0, 3, PROTO_VEH_ESCORT, 0};
    if (!with_escort)
        f.n_vehicles = 2;
    ck_assert_int_eq(viz_on_frame(viz, &f, 1), 0);
}

START_TEST(test_escort_at_its_position) {
    show(3, 1);
    ck_assert_int_eq(viz_render_draw(ren, viz), 0);
    ck_assert_int_eq(viz_render_vehicles_drawn(ren), 3);
    /* Zoomed in, away from the fit, so the test holds at any scale. */
    viz_project_zoom_at(&viz->view, 3, 400, 250);
    ck_assert_int_eq(viz_render_draw(ren, viz), 0);
    viz_render_present(ren);
    double x, y, ux, uy;
    viz_map_link_point(viz->map, L_A_B, 100, 0, &x, &y, &ux, &uy);
    viz_point_t p = viz_project_to_screen(&viz->view, x, y);
    ck_assert_uint_eq(pixel_at(p.x, p.y), VIZ_RGB_ESCORT);
    /* Without the escort that spot is road, not escort. */
    show(3, 0);
    viz_render_draw(ren, viz);
    ck_assert_uint_ne(pixel_at(p.x, p.y), VIZ_RGB_ESCORT);
}
END_TEST

static const viz_head_t *head_of(int32_t group, int32_t link) {
    for (int32_t h = 0; h < viz->map->n_heads; h++)
        if (viz->map->heads[h].group == group && viz->map->heads[h].link == link)
            return &viz->map->heads[h];
    ck_abort_msg("no head");
    return NULL;
}

START_TEST(test_signal_heads) {
    show(1, 0); /* A.EW red, A.NS red, B.EW green */
    viz_render_draw(ren, viz);
    const viz_head_t *a = head_of(G_A_EW, L_W_A), *b = head_of(G_B_EW, L_A_B);
    viz_point_t pa = viz_project_to_screen(&viz->view, a->x, a->y);
    viz_point_t pb = viz_project_to_screen(&viz->view, b->x, b->y);
    ck_assert_uint_eq(pixel_at(pa.x, pa.y), VIZ_RGB_RED);
    ck_assert_uint_eq(pixel_at(pb.x, pb.y), VIZ_RGB_GREEN);
    show(2, 0);
    viz_render_draw(ren, viz);
    ck_assert_uint_eq(pixel_at(pa.x, pa.y), VIZ_RGB_YELLOW);
}
END_TEST

START_TEST(test_tsd_green_bar) {
    viz_tsd_t *t = viz_tsd_new(viz->map, "main", 1000, NULL);
    for (int s = 0; s <= 60; s++) { /* A.EW green over [10 s, 40 s), red otherwise */
        uint8_t st[N_GROUPS] = {s >= 10 && s < 40 ? 3 : 1, 1, 3};
        proto_frame_t f;
        fx_frame(&f, s, s * 1000, st, 1);
        f.vehicles[0] = (proto_vehicle_t){5, L_W_A + s / 20, (float)(s * 10 % 200), 0, 0, 0, 0};
        ck_assert_int_eq(viz_tsd_add_frame(t, &f), 0);
        proto_frame_fini(&f);
    }
    viz_tsd_axes_t ax;
    ck_assert_int_eq(viz_render_draw_tsd_page(ren, viz, t, 0, 60000, &ax), 0);
    viz_render_present(ren);
    double y = viz_tsd_y(&ax, 200); /* A's stop line */
    ck_assert_uint_eq(pixel_at((float)viz_tsd_x(&ax, 12000), (float)y), VIZ_RGB_GREEN);
    ck_assert_uint_eq(pixel_at((float)viz_tsd_x(&ax, 38000), (float)y), VIZ_RGB_GREEN);
    ck_assert_uint_eq(pixel_at((float)viz_tsd_x(&ax, 5000), (float)y), VIZ_RGB_RED);
    ck_assert_uint_eq(pixel_at((float)viz_tsd_x(&ax, 45000), (float)y), VIZ_RGB_RED);
    double yb = viz_tsd_y(&ax, 400); /* B green all along */
    ck_assert_uint_eq(pixel_at((float)viz_tsd_x(&ax, 30000), (float)yb), VIZ_RGB_GREEN);
    viz_tsd_destroy(&t);
}
END_TEST

START_TEST(test_png_round_trip) {
    show(1, 1);
    viz->show_tsd = 1;
    viz_fit(viz);
    viz_render_draw(ren, viz);
    const char *path = fx_tmp("shot.png");
    base_err_t err = {0};
    ck_assert_int_eq(viz_render_save_png(ren, path, &err), 0);
    int w, h, w2, h2;
    uint32_t *a = viz_render_pixels(ren, &w, &h, NULL);
    uint32_t *b = viz_png_read(path, &w2, &h2, &err);
    ck_assert_msg(b != NULL, "%s", err.msg);
    ck_assert_int_eq(w, w2);
    ck_assert_int_eq(h, h2);
    ck_assert(memcmp(a, b, (size_t)w * (size_t)h * 4) == 0);
    /* Not blank: many colours. */
    int distinct = 0;
    for (size_t i = 1; i < (size_t)w * (size_t)h && distinct < 50; i += 97)
        distinct += a[i] != a[i - 1];
    ck_assert_int_ge(distinct, 50);
    free(a);
    free(b);
    ck_assert_int_eq(viz_render_save_png(ren, "/nonexistent/dir/x.png", &err), BASE_EIO);
    FILE *f = fopen(path, "w");
    fputs("not a png", f);
    fclose(f);
    ck_assert_ptr_null(viz_png_read(path, &w, &h, &err));
    ck_assert_int_eq(err.code, BASE_EPROTO);
    unlink(path);
}
END_TEST

START_TEST(test_replay_still_and_diagram) {
    const char *rec = fx_tmp("still.gwrec"), *png = fx_tmp("still.png"),
               *meta = fx_tmp("still.json");
    fx_write_recording(rec, 50);
    base_err_t err = {0};
    viz_replay_t *rp = viz_replay_open(rec, &err);
    ck_assert_msg(rp != NULL, "%s", err.msg);
    viz_app_opts_t o = {.show_tsd = 1};
    ck_assert_int_eq(viz_app_png_at(viz, ren, rp, 20, png, &o, &err), 0);
    ck_assert_int_eq(viz->frame.time_ms, 20000);
    ck_assert_int_eq(viz->n_decisions, 1); /* from the frames before it */
    ck_assert_int_eq(viz_app_png_at(viz, ren, rp, 500, png, &o, &err), BASE_ERANGE);
    int rc = viz_app_tsd_png(viz, ren, rp, "main", 0, 49, png, meta, &err);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_int_eq(access(meta, R_OK), 0);
    ck_assert_int_eq(viz_app_tsd_png(viz, ren, rp, "nope", -1, -1, png, NULL, &err), BASE_EINVAL);
    viz_replay_destroy(&rp);
    unlink(rec);
    unlink(png);
    unlink(meta);
}
END_TEST

START_TEST(test_bench_runs) {
    FILE *out = tmpfile();
    base_err_t err = {0};
    ck_assert_int_eq(viz_app_bench(viz, ren, 2000, 0.2, NULL, NULL, out, &err), 0);
    rewind(out);
    char line[512] = "";
    ck_assert_ptr_nonnull(fgets(line, sizeof line, out));
    ck_assert_msg(strstr(line, "2000 vehicles") && strstr(line, "frames/s"), "%s", line);
    fclose(out);
}
END_TEST

/* One link W -> E whose shape bends 100 m north of the chord between its nodes. */
static const char CURVED_MAP[] =
    "{\"name\": \"curved\", \"nodes\": ["
    "{\"id\": \"W\", \"kind\": \"boundary\", \"x_m\": 0, \"y_m\": 0},"
    "{\"id\": \"E\", \"kind\": \"boundary\", \"x_m\": 200, \"y_m\": 0}],"
    "\"links\": [{\"id\": \"arc\", \"from\": \"W\", \"to\": \"E\", \"length_m\": 282.8,"
    " \"lanes\": 1, \"free_speed_kmh\": 50,"
    " \"shape\": [[0, 0], [100, 100], [200, 0]]}]}";

START_TEST(test_curved_link) {
    viz_t *cv = viz_new(VIZ_MODE_STILL, 800, 500, NULL);
    ck_assert_int_eq(viz_on_map(cv, CURVED_MAP), 1);
    proto_frame_t f;
    memset(&f, 0, sizeof f);
    f.seq = 1;
    f.time_ms = 1000;
    f.prio = calloc(1, 1);
    f.group_states = calloc(1, 1);
    f.vehicles = calloc(1, sizeof *f.vehicles);
    f.n_vehicles = 1;
    f.vehicles[0] = (proto_vehicle_t){1, 0, 70.7f, 0, 0, 0, 0}; /* a car halfway up */
    ck_assert_int_eq(viz_on_frame(cv, &f, 1), 0);
    ck_assert_int_eq(viz_render_draw(ren, cv), 0);
    /* A point of the first piece, (25, 25), is road; the chord's middle, (100, 0), is not. */
    viz_point_t on = viz_project_to_screen(&cv->view, 25, 25);
    viz_point_t chord = viz_project_to_screen(&cv->view, 100, 0);
    ck_assert_uint_eq(pixel_at(on.x, on.y), 0x3a3f4a);
    ck_assert_uint_eq(pixel_at(chord.x, chord.y), VIZ_RGB_BACKGROUND);
    /* The car is where the polyline puts it, heading north-east. */
    double x, y, ux, uy;
    ck_assert_int_eq(viz_map_link_point(cv->map, 0, 70.7, 0, &x, &y, &ux, &uy), 0);
    ck_assert(fabs(x - 50) < 0.5 && fabs(y - 50) < 0.5);
    ck_assert(fabs(ux - sqrt(0.5)) < 1e-6 && fabs(uy - sqrt(0.5)) < 1e-6);
    viz_point_t car = viz_project_to_screen(&cv->view, x, y);
    ck_assert_uint_eq(pixel_at(car.x, car.y), 0x7dd3fc);
    /* Past the bend it heads south-east. */
    viz_map_link_point(cv->map, 0, 212.1, 0, &x, &y, &ux, &uy);
    ck_assert(fabs(x - 150) < 0.5 && fabs(y - 50) < 0.5 && uy < 0);
    viz_destroy(&cv);
}
END_TEST

Suite *suite_viz_render(void);

Suite *suite_viz_render(void) {
    Suite *s = suite_create("viz_render");
    TCase *tc = tcase_create("render");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_escort_at_its_position);
    tcase_add_test(tc, test_signal_heads);
    tcase_add_test(tc, test_tsd_green_bar);
    tcase_add_test(tc, test_png_round_trip);
    tcase_add_test(tc, test_replay_still_and_diagram);
    tcase_add_test(tc, test_bench_runs);
    tcase_add_test(tc, test_curved_link);
    suite_add_tcase(s, tc);
    return s;
}
