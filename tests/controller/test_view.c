/*
 * tests/controller/test_view.c - suite ctl_view: the map indexes and the view of a session
 * (controller/map.c, controller/view.c), driven directly through ctl_internal.h with SPaT
 * from the small signal simulator: minimum ends, green start, planned ends, projections, the
 * earliest green after a call, and queue estimates from detector counts.
 */
#include "controller/ctl_internal.h"
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

typedef struct vfx {
    ctl__session_t s;
    ctl_config_t cfg;
    fx_sig_t sig[3];
    proto_intersection_state_t spat[3];
    proto_group_state_t groups[3][SIM_MAX_GROUPS];
    proto_detector_state_t dets[16];
    int32_t n_dets;
} vfx_t;

static vfx_t *vfx_new(const char *json) {
    vfx_t *v = calloc(1, sizeof *v);
    ck_assert_ptr_nonnull(v);
    base_err_t err = {0};
    ck_assert_int_eq(ctl__map_init(&v->s.map, &(proto_hello_t){.map_json = json}, &err), 0);
    const sim_scenario_t *scn = v->s.map.scn;
    ck_assert_int_le(scn->n_signals, 3);
    ctl_config_defaults(&v->cfg);
    v->s.cfg = &v->cfg;
    v->s.tick_ms = 1000;
    v->s.last_time = -1;
    v->s.views = calloc((size_t)scn->n_signals, sizeof *v->s.views);
    v->s.dets = calloc((size_t)scn->n_detectors + 1, sizeof *v->s.dets);
    v->s.svc = calloc((size_t)scn->n_signals, sizeof *v->s.svc);
    base_arena_init(&v->s.arena);
    ctl__view_reset(&v->s);
    for (int32_t i = 0; i < scn->n_signals; i++)
        fx_sig_init(&v->sig[i], &scn->signals[i]);
    return v;
}

static void vfx_free(vfx_t *v) {
    ctl__map_fini(&v->s.map);
    base_arena_fini(&v->s.arena);
    free(v->s.views);
    free(v->s.dets);
    free(v->s.svc);
    free(v);
}

/* Advances the small simulator to t and shows the view its SPaT and the detectors set. */
static void vfx_tick(vfx_t *v, int64_t t) {
    const sim_scenario_t *scn = v->s.map.scn;
    for (int32_t i = 0; i < scn->n_signals; i++) {
        fx_sig_advance(&v->sig[i], t);
        fx_sig_spat(&v->sig[i], scn->nodes[scn->signals[i].node].id, &v->spat[i], v->groups[i]);
    }
    proto_tick_t tick = {.time_ms = t,
                         .spat = v->spat,
                         .n_spat = scn->n_signals,
                         .detectors = v->dets,
                         .n_detectors = v->n_dets};
    v->s.now = t;
    ctl__view_update(&v->s, &tick);
    v->s.last_time = t; /* what handle_tick() does after a tick */
}

START_TEST(test_map_lookups) {
    fx_map_opts_t o = {.three_stage = 1};
    char *json = fx_arterial_json(&o);
    ctl__map_t map;
    base_err_t err = {0};
    ck_assert_int_eq(ctl__map_init(&map, &(proto_hello_t){.map_json = json}, &err), 0);
    const sim_scenario_t *scn = map.scn;
    ck_assert_int_eq(ctl__map_signal(&map, "B"), 1);
    ck_assert_int_eq(ctl__map_signal(&map, "W"), -1); /* a node without a signal */
    ck_assert_int_eq(ctl__map_signal(&map, NULL), -1);
    int32_t l1 = ctl__map_link(&map, "L1"), l2 = ctl__map_link(&map, "L2");
    ck_assert_str_eq(scn->links[l1].id, "L1");
    ck_assert_int_eq(ctl__map_link(&map, "L9"), -1);
    ck_assert_str_eq(scn->detectors[ctl__map_detector(&map, "dNB_a")].id, "dNB_a");
    ck_assert_int_eq(ctl__map_stage(&map, 1, "S3"), 2);
    ck_assert_int_eq(ctl__map_stage(&map, 0, "S3"), -1);
    ck_assert_int_eq(ctl__map_stage(&map, 7, "S1"), -1);
    int32_t m = ctl__map_movement(&map, l1, l2);
    ck_assert_str_eq(scn->movements[m].id, "B_T");
    ck_assert_int_eq(ctl__map_movement(&map, l1, ctl__map_link(&map, "L0")), -1);
    ck_assert_int_ge(ctl__map_movement(&map, l1, -1), 0);
    ck_assert(ctl__map_headway_ms(&map, m) == 1000.0); /* 1800 x 2 lanes */
    const sim_signal_t *b = &scn->signals[1];
    uint64_t s1 = b->stages[0].groups, s2 = b->stages[1].groups, s3 = b->stages[2].groups;
    ck_assert_int_eq((int)ctl__map_intergreen(b, s1, s2), 5000); /* EW ends */
    ck_assert_int_eq((int)ctl__map_intergreen(b, s3, s2), 0);    /* nothing ends */
    ck_assert_int_eq((int)ctl__map_new_min_green(b, s3, s2), 0);
    ck_assert_int_eq((int)ctl__map_new_min_green(b, s2, s1), 10000); /* NS starts */
    ck_assert_int_eq((int)ctl__map_max_green(b, s1), 40000);
    /* Detectors of B's groups: EW and R on L1 (dB_s, dB_a), NS on NB_in. */
    int32_t g_ew = 0, g_r = 1, g_ns = 2;
    ck_assert_int_eq(map.group_first[1][g_ew + 1] - map.group_first[1][g_ew], 2);
    ck_assert_int_eq(map.group_first[1][g_r + 1] - map.group_first[1][g_r], 2);
    ck_assert_str_eq(scn->detectors[map.group_dets[1][map.group_first[1][g_ns]]].id, "dNB_s");
    ctl__map_fini(&map);
    ctl__map_fini(&map); /* idempotent */

    ck_assert_int_eq(ctl__map_init(&map, &(proto_hello_t){.map_json = "["}, &err), BASE_EPARSE);
    ck_assert_ptr_null(map.scn);
    ctl__map_fini(&map);
    free(json);
}
END_TEST

START_TEST(test_minimum_end_and_force_off) {
    char *json = fx_cross_json();
    vfx_t *v = vfx_new(json);
    vfx_tick(v, 0);
    /* S1 has been green since before the run: its minimum is over. */
    ck_assert(ctl__view_can_force_off(&v->s, 0));
    ck_assert_int_eq((int)v->s.views[0].green_end, 25000);
    vfx_tick(v, 26000); /* yellow / red clearance towards S2 */
    ck_assert(v->s.views[0].in_change);
    ck_assert(!ctl__view_can_force_off(&v->s, 0));
    ck_assert_int_eq((int)v->s.views[0].next_start, 30000);
    vfx_tick(v, 33000); /* S2 green since 30 s, first seen at 33 s */
    ck_assert_int_eq((int)v->s.views[0].green_start, 30000);
    ck_assert_int_eq((int)v->s.views[0].min_end, 40000);
    ck_assert(!ctl__view_can_force_off(&v->s, 0));
    vfx_tick(v, 39999);
    ck_assert(!ctl__view_can_force_off(&v->s, 0));
    vfx_tick(v, 40000);
    ck_assert(ctl__view_can_force_off(&v->s, 0));
    /* A stage group missing from the SPaT: the minimum is unknown, no force-off. */
    v->spat[0].n_groups = 1; /* EW only; S2 is NS */
    proto_tick_t t = {.time_ms = 41000, .spat = v->spat, .n_spat = 1};
    v->s.now = 41000;
    ctl__view_update(&v->s, &t);
    ck_assert(!ctl__view_can_force_off(&v->s, 0));
    /* No SPaT at all for the signal this tick. */
    t.n_spat = 0;
    ctl__view_update(&v->s, &t);
    ck_assert(!v->s.views[0].seen);
    ck_assert(!ctl__view_can_force_off(&v->s, 0));
    vfx_free(v);
    free(json);
}
END_TEST

START_TEST(test_projection_and_earliest_green) {
    char *json = fx_cross_json();
    vfx_t *v = vfx_new(json);
    vfx_tick(v, 24000);
    /* S1 (k = 0) ends at 25 s by plan; S2 (k = 1) green at 30 s. */
    ctl__proj_t p = ctl__view_project(&v->s, 0, 24500);
    ck_assert(!p.in_change && p.stage == 0);
    p = ctl__view_project(&v->s, 0, 26000);
    ck_assert(p.in_change && p.stage == 0 && p.next == 1 && p.start == 30000);
    p = ctl__view_project(&v->s, 0, 31000);
    ck_assert(!p.in_change && p.stage == 1 && p.start == 30000 && p.min_end == 40000);
    /* A call of S2 now: S1's minimum is over, green after the 5 s intergreen. */
    ck_assert_int_eq((int)ctl__view_earliest_green(&v->s, 0, 1, 24000), 29000);
    ck_assert_int_eq((int)ctl__view_earliest_green(&v->s, 0, 1, 26000), 30000);
    /* Called during the change, S1 comes back when the clearance ends (a redirect). */
    ck_assert_int_eq((int)ctl__view_earliest_green(&v->s, 0, 0, 26000), 30000);
    /* Called at 31 s, after S2 started: its minimum (40 s) + 5 s. */
    ck_assert_int_eq((int)ctl__view_earliest_green(&v->s, 0, 0, 31000), 45000);
    ck_assert_int_eq((int)ctl__view_earliest_green(&v->s, 0, 0, 24000), 24000); /* green */
    ck_assert_int_eq((int)ctl__view_return_green(&v->s, 0, 0, 25000), 45000);
    vfx_free(v);
    free(json);
}
END_TEST

START_TEST(test_three_stage_change_without_redirect) {
    fx_map_opts_t o = {.three_stage = 1};
    char *json = fx_arterial_json(&o);
    vfx_t *v = vfx_new(json);
    vfx_tick(v, 56000); /* B: S2 {R,NS} -> S3 {NS}: R yellow, NS continues */
    const ctl__sigview_t *b = &v->s.views[1];
    ck_assert(b->in_change && b->stage == 1 && b->next == 2);
    ck_assert_int_eq((int)b->next_start, 60000);
    /* S1 needs NS to end: no redirect; S3 starts nothing (no minimum), then 5 s. */
    ck_assert_int_eq((int)ctl__view_earliest_green(&v->s, 1, 0, 56000), 65000);
    ck_assert_int_eq((int)ctl__view_stage_for_group(&v->s, 1, 0), 0);
    ck_assert_int_eq((int)ctl__view_stage_for_group(&v->s, 1, 2), 2); /* NS: next is S3 */
    ck_assert_int_eq((int)ctl__view_stage_for_group(&v->s, 1, 1), 0); /* R: after S3 */
    vfx_tick(v, 60000);
    ck_assert(!b->in_change && b->stage == 2);
    ck_assert(ctl__view_can_force_off(&v->s, 1)); /* NS has run since 30 s */
    vfx_free(v);
    free(json);
}
END_TEST

START_TEST(test_queue_estimate) {
    char *json = fx_cross_json();
    vfx_t *v = vfx_new(json);
    int32_t w = ctl__map_link(&v->s.map, "W_in"), out = ctl__map_link(&v->s.map, "E_out");
    vfx_tick(v, 0);
    ck_assert_int_eq((int)ctl__view_link_vehicles(&v->s, w), -1); /* nothing reported */
    v->dets[0] = (proto_detector_state_t){"dW_a", 17, 0};
    v->dets[1] = (proto_detector_state_t){"dW_s", 5, 1};
    v->n_dets = 2;
    vfx_tick(v, 1000);
    ck_assert_int_eq((int)ctl__view_link_vehicles(&v->s, w), 12);
    ck_assert_int_eq((int)ctl__view_link_vehicles(&v->s, out), -1); /* no detectors */
    v->dets[1].count = 20; /* miscounting loops never give a negative queue */
    vfx_tick(v, 2000);
    ck_assert_int_eq((int)ctl__view_link_vehicles(&v->s, w), 0);
    /* Actuations: a count that rose, or occupancy. */
    int32_t da = ctl__map_detector(&v->s.map, "dW_a"), ds = ctl__map_detector(&v->s.map, "dW_s");
    ck_assert(!ctl__det_actuated(&v->s, da) && ctl__det_actuated(&v->s, ds));
    ck_assert(ctl__det_last_act(&v->s, da) ==
              CTL__NEVER); /* first report: a baseline, no arrival */
    v->dets[1].occupied = 0;
    v->dets[0].count = 18;
    vfx_tick(v, 3000);
    ck_assert(ctl__det_actuated(&v->s, da) && !ctl__det_actuated(&v->s, ds));
    ck_assert_int_eq((int)ctl__det_last_act(&v->s, da), 3000);
    ck_assert_int_eq((int)ctl__det_last_act(&v->s, ds), 2000);
    vfx_free(v);
    free(json);
}
END_TEST

Suite *suite_ctl_view(void);

Suite *suite_ctl_view(void) {
    Suite *s = suite_create("ctl_view");
    TCase *tc = tcase_create("view");
    tcase_add_test(tc, test_map_lookups);
    tcase_add_test(tc, test_minimum_end_and_force_off);
    tcase_add_test(tc, test_projection_and_earliest_green);
    tcase_add_test(tc, test_three_stage_change_without_redirect);
    tcase_add_test(tc, test_queue_estimate);
    suite_add_tcase(s, tc);
    return s;
}
