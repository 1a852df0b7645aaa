/*
 * tests/viz/test_map.c - suite viz_map: reading the map message and its geometry; every
 * malformed map is refused with a message naming the place, never a crash.
 */
#include "tests/viz/fixture.h"
#include "viz/map.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_reads_the_network) {
    base_err_t err = {0};
    viz_map_t *m = viz_map_new(VIZ_TEST_MAP, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ck_assert_str_eq(m->name, "test 八一七路");
    ck_assert_int_eq(m->start_tod_ms, 17 * 3600000 + 30 * 60000);
    ck_assert_int_eq(m->n_nodes, 6);
    ck_assert_int_eq(m->n_links, 8);
    ck_assert_int_eq(m->n_signals, 2);
    ck_assert_int_eq(m->n_groups, N_GROUPS);
    ck_assert_str_eq(m->groups[G_A_NS].id, "A.NS");
    ck_assert_int_eq(m->groups[G_B_EW].signal, 1);
    ck_assert_int_eq(m->n_classes, 4); /* the defaults */
    ck_assert_int_eq(viz_map_class_index(m, "escort"), 3);
    ck_assert_int_eq(viz_map_group_index(m, "B.EW"), G_B_EW);
    ck_assert_int_eq(m->nodes[1].signal, 0);
    ck_assert_str_eq(m->nodes[1].name, "鼓楼前 (test)");
    ck_assert_str_eq(m->nodes[2].name, "B"); /* name defaults to the id */
    ck_assert_int_eq(m->movements[0].group, G_A_EW);
    ck_assert_int_eq(viz_map_movement_between(m, L_W_A, L_A_B), 0);
    ck_assert_int_eq(viz_map_movement_between(m, L_A_B, L_W_A), -1);
    ck_assert_int_eq(m->signals[0].n_stages, 2);
    ck_assert_int_eq(m->signals[0].stages[1].groups[0], G_A_NS);
    /* One head per (group, approach): A.EW from W_A (through and right share it) and from
     * B_A, A.NS from N_A, B.EW from A_B and E_B. */
    ck_assert_int_eq(m->n_heads, 5);
    const int32_t *route;
    ck_assert_int_eq(viz_map_escort_route(m, &route), 3);
    ck_assert_int_eq(route[2], L_B_E);
    viz_map_destroy(&m);
    ck_assert_ptr_null(m);
    viz_map_destroy(&m); /* NULL-safe */
}
END_TEST

START_TEST(test_geometry) {
    viz_map_t *m = viz_map_new(VIZ_TEST_MAP, NULL);
    ck_assert_ptr_nonnull(m);
    const viz_node_t *a = &m->nodes[1];
    /* Setback: the widest road through A has 2 lanes: 2 * 3.5 + 0.5 + 2. */
    ck_assert_double_eq_tol(a->setback_m, 9.5, 1e-9);
    ck_assert_double_eq_tol(m->nodes[0].setback_m, 0, 1e-9); /* boundary */
    const viz_link_t *l = &m->links[L_A_B];
    ck_assert_double_eq_tol(l->ux, 1, 1e-12);
    ck_assert_double_eq_tol(l->ny, -1, 1e-12); /* right of eastbound is south */
    ck_assert_double_eq_tol(l->ax, 200 + 9.5, 1e-9);
    ck_assert_double_eq_tol(l->bx, 400 - 9.5, 1e-9);
    ck_assert_double_eq_tol(l->draw_len, 200 - 19, 1e-9);
    double x, y, ux, uy;
    /* Lane 0 is the rightmost: farthest from the axis. Positions map proportionally. */
    ck_assert_int_eq(viz_map_link_point(m, L_A_B, 100, 0, &x, &y, &ux, &uy), 0);
    ck_assert_double_eq_tol(x, 300, 1e-9);
    ck_assert_double_eq_tol(y, -(0.25 + 1.5 * VIZ_LANE_W_M), 1e-9);
    ck_assert_int_eq(viz_map_link_point(m, L_A_B, 1e9, 7, &x, &y, &ux, &uy), 0); /* clamped */
    ck_assert_double_eq_tol(x, l->bx, 1e-9);
    ck_assert_double_eq_tol(y, -(0.25 + 0.5 * VIZ_LANE_W_M), 1e-9);
    ck_assert_int_eq(viz_map_link_point(m, 99, 0, 0, &x, &y, &ux, &uy), BASE_ERANGE);
    /* A one-way street (no reverse link) is centred on its axis. */
    const viz_link_t *ns = &m->links[6];
    ck_assert_double_eq_tol(ns->off0, -0.5 * VIZ_LANE_W_M, 1e-9);
    ck_assert(m->min_x <= 0 && m->max_x >= 600 && m->min_y <= -200 && m->max_y >= 200);
    viz_map_destroy(&m);
}
END_TEST

START_TEST(test_plan_at) {
    viz_map_t *m = viz_map_new(VIZ_TEST_MAP, NULL);
    const viz_plan_t *p = viz_map_plan_at(m, 0, 17 * 3600.0);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->id, "A.P");
    ck_assert_ptr_null(viz_map_plan_at(m, 5, 0));
    viz_map_destroy(&m);
}
END_TEST

/* Replaces the first occurrence of from by to in the sample map; returns a malloc'd copy. */
static char *edit(const char *from, const char *to) {
    const char *at = strstr(VIZ_TEST_MAP, from);
    ck_assert_msg(at != NULL, "sample has no %s", from);
    size_t n = strlen(VIZ_TEST_MAP) - strlen(from) + strlen(to) + 1;
    char *s = malloc(n);
    size_t head = (size_t)(at - VIZ_TEST_MAP);
    memcpy(s, VIZ_TEST_MAP, head);
    strcpy(s + head, to);
    strcat(s, at + strlen(from));
    return s;
}

static const struct {
    const char *from, *to;
    int code;
    const char *msg;
} BAD[] = {
    {"{\"format\"", "[{\"format\"", BASE_EPARSE, "map:1:"},
    {"\"to\":\"A\",\"length_m\":200,\"lanes\":2", "\"to\":\"Q\",\"length_m\":200,\"lanes\":2",
     BASE_EINVAL, "$.links[0].to: unknown node \"Q\""},
    {"\"nodes\":[", "\"nodez\":[", BASE_EINVAL, "$.nodes: must be an array"},
    {"\"x_m\":0,\"y_m\":0}", "\"x_m\":\"0\",\"y_m\":0}", BASE_EINVAL, "$.nodes[0].x_m"},
    {"\"length_m\":200,\"lanes\":2", "\"length_m\":-1,\"lanes\":2", BASE_EINVAL, "$.links[0]"},
    {"\"length_m\":200,\"lanes\":2", "\"length_m\":200,\"lanes\":0", BASE_EINVAL, "$.links[0]"},
    {"\"from\":\"W_A\",\"to\":\"A_B\"", "\"from\":\"W_A\",\"to\":\"ZZ\"", BASE_EINVAL,
     "$.movements[0].to: unknown link \"ZZ\""},
    {"[\"m1\",\"m5\",\"m6\"]", "[\"m1\",\"m9\"]", BASE_EINVAL, "movements[1]: unknown movement"},
    {"{\"id\":\"A.S2\",\"groups\":[\"A.NS\"]}", "{\"id\":\"A.S2\",\"groups\":[\"B.EW\"]}",
     BASE_EINVAL, "stages[1].groups[0]: unknown group"},
    {"\"links\":[\"W_A\",\"A_B\"", "\"links\":[\"W_A\",7", BASE_EINVAL,
     "$.corridors[0].links[1]: unknown link"},
    {"\"route\":[\"W_A\"", "\"route\":[\"nope\"", BASE_EINVAL, "$.escorts[0].route[0]"},
    {"\"start_time\":\"17:30:00\"", "\"start_time\":\"late\"", BASE_EINVAL, "start_time"},
    {"{\"node\":\"A\",", "{\"node\":\"X\",", BASE_EINVAL, "$.signals[0].node: unknown node"},
    {"{\"from\":\"00:00\",\"plan\":\"A.P\"}", "{\"from\":\"noon\",\"plan\":\"A.P\"}", BASE_EINVAL,
     "schedule[0]"},
};

START_TEST(test_malformed) {
    char *s = edit(BAD[_i].from, BAD[_i].to);
    base_err_t err = {0};
    viz_map_t *m = viz_map_new(s, &err);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(err.code, BAD[_i].code);
    ck_assert_msg(strstr(err.msg, BAD[_i].msg) != NULL, "case %d: '%s' lacks '%s'", _i, err.msg,
                  BAD[_i].msg);
    free(s);
}
END_TEST

START_TEST(test_degenerate_input) {
    base_err_t err = {0};
    ck_assert_ptr_null(viz_map_new("", &err));
    ck_assert_int_eq(err.code, BASE_EPARSE);
    ck_assert_ptr_null(viz_map_new("[42]", &err));
    ck_assert_int_eq(err.code, BASE_EINVAL);
    ck_assert_ptr_null(viz_map_new("{\"nodes\":[],\"links\":[]}", &err));
    ck_assert_msg(strstr(err.msg, "at least one node") != NULL, "%s", err.msg);
    ck_assert_ptr_null(viz_map_new(NULL, &err));
    /* Every truncation of the sample fails cleanly. */
    size_t n = strlen(VIZ_TEST_MAP);
    char *s = malloc(n + 1);
    for (size_t k = 0; k < n; k += 7) {
        memcpy(s, VIZ_TEST_MAP, k);
        s[k] = '\0';
        ck_assert_ptr_null(viz_map_new(s, NULL));
    }
    free(s);
}
END_TEST

Suite *suite_viz_map(void);

Suite *suite_viz_map(void) {
    Suite *s = suite_create("viz_map");
    TCase *tc = tcase_create("map");
    tcase_add_test(tc, test_reads_the_network);
    tcase_add_test(tc, test_geometry);
    tcase_add_test(tc, test_plan_at);
    tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, test_degenerate_input);
    suite_add_tcase(s, tc);
    return s;
}
