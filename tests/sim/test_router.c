/*
 * tests/sim/test_router.c - suite sim_router: fastest route by free-flow time, via points,
 * unreachable destinations.
 */
#include "sim/router.h"
#include "tests/support/support.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/* A diamond: A -> B -> D is 2 x 500 m at 50 km/h; A -> C -> D is 2 x 400 m but at 30 km/h
 * (slower); a dead-end link D -> Z with no way back. */
static const char DIAMOND[] =
    "{\"format\":\"greenwave-scenario\",\"version\":1,\"name\":\"diamond\",\"duration_s\":60,"
    "\"nodes\":[{\"id\":\"O\",\"kind\":\"boundary\",\"x_m\":-100,\"y_m\":0},"
    "{\"id\":\"A\",\"kind\":\"unsignalized\",\"x_m\":0,\"y_m\":0},"
    "{\"id\":\"B\",\"kind\":\"unsignalized\",\"x_m\":400,\"y_m\":300},"
    "{\"id\":\"C\",\"kind\":\"unsignalized\",\"x_m\":400,\"y_m\":-100},"
    "{\"id\":\"D\",\"kind\":\"unsignalized\",\"x_m\":800,\"y_m\":0},"
    "{\"id\":\"Z\",\"kind\":\"boundary\",\"x_m\":900,\"y_m\":0}],"
    "\"links\":[{\"id\":\"oa\",\"from\":\"O\",\"to\":\"A\",\"length_m\":100,\"lanes\":1,"
    "\"free_speed_kmh\":50},"
    "{\"id\":\"ab\",\"from\":\"A\",\"to\":\"B\",\"length_m\":500,\"lanes\":1,\"free_speed_kmh\":50}"
    ","
    "{\"id\":\"bd\",\"from\":\"B\",\"to\":\"D\",\"length_m\":500,\"lanes\":1,\"free_speed_kmh\":50}"
    ","
    "{\"id\":\"ac\",\"from\":\"A\",\"to\":\"C\",\"length_m\":400,\"lanes\":1,\"free_speed_kmh\":30}"
    ","
    "{\"id\":\"cd\",\"from\":\"C\",\"to\":\"D\",\"length_m\":400,\"lanes\":1,\"free_speed_kmh\":30}"
    ","
    "{\"id\":\"dz\",\"from\":\"D\",\"to\":\"Z\",\"length_m\":100,\"lanes\":1,\"free_speed_kmh\":50}"
    ","
    "{\"id\":\"zo\",\"from\":\"Z\",\"to\":\"O\",\"length_m\":1000,\"lanes\":1,"
    "\"free_speed_kmh\":50}],"
    "\"movements\":[{\"id\":\"1\",\"from\":\"oa\",\"to\":\"ab\",\"turn\":\"left\"},"
    "{\"id\":\"2\",\"from\":\"oa\",\"to\":\"ac\",\"turn\":\"right\"},"
    "{\"id\":\"3\",\"from\":\"ab\",\"to\":\"bd\",\"turn\":\"through\"},"
    "{\"id\":\"4\",\"from\":\"ac\",\"to\":\"cd\",\"turn\":\"through\"},"
    "{\"id\":\"5\",\"from\":\"bd\",\"to\":\"dz\",\"turn\":\"through\"},"
    "{\"id\":\"6\",\"from\":\"cd\",\"to\":\"dz\",\"turn\":\"through\"}]%s}";

static sim_scenario_t *diamond(const char *demand) {
    char buf[8192];
    snprintf(buf, sizeof buf, DIAMOND, demand);
    return gw_test_load(buf);
}

static int32_t link_id(const sim_scenario_t *scn, const char *id) {
    for (int32_t i = 0; i < scn->n_links; i++)
        if (strcmp(scn->links[i].id, id) == 0)
            return i;
    return -1;
}

START_TEST(test_fastest_and_via) {
    sim_scenario_t *scn =
        diamond(",\"demand\":{\"flows\":[{\"origin\":\"oa\",\"destination\":\"dz\",\"vph\":[1]},"
                "{\"origin\":\"oa\",\"destination\":\"dz\",\"via\":[\"cd\"],\"vph\":[1]}]}");
    const sim_route_t *r = &scn->flows[0].route;
    ck_assert_int_eq(r->n_links, 4);
    ck_assert_str_eq(scn->links[r->links[1]].id, "ab");
    ck_assert_str_eq(scn->links[r->links[2]].id, "bd");
    r = &scn->flows[1].route;
    ck_assert_int_eq(r->n_links, 4);
    ck_assert_str_eq(scn->links[r->links[1]].id, "ac");
    ck_assert_str_eq(scn->links[r->links[3]].id, "dz");
    /* Direct use of the router: the same route, and free-flow time of the route. */
    sim_router_t *rt = sim_router_new(scn);
    sim_route_t out;
    base_err_t err = {0};
    ck_assert_int_eq(sim_router_route(rt, link_id(scn, "oa"), NULL, 0, link_id(scn, "dz"),
                                      &scn->arena, &out, &err),
                     0);
    ck_assert_int_eq(out.n_links, 4);
    ck_assert_int_eq(sim_scenario_route_free_time(scn, &out, 0),
                     sim_time_from_s(100 / (50 / 3.6)) + 2 * sim_time_from_s(500 / (50 / 3.6)) +
                         sim_time_from_s(100 / (50 / 3.6)));
    sim_router_destroy(&rt);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_unreachable) {
    /* zo leads from Z back to O, but no movement leads onto it: it cannot be reached. */
    char buf[8192];
    snprintf(buf, sizeof buf, DIAMOND,
             ",\"demand\":{\"flows\":[{\"origin\":\"oa\",\"destination\":\"dz\",\"vph\":[1]},"
             "{\"origin\":\"oa\",\"destination\":\"zo\",\"vph\":[1]}]}");
    base_err_t err = gw_test_load_error(buf);
    ck_assert_int_eq(err.code, BASE_EINVAL);
    ck_assert_msg(strstr(err.msg, "$.demand.flows[1]") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "no path from link \"oa\" to link \"zo\"") != NULL, "%s",
                  err.msg);
}
END_TEST

Suite *suite_sim_router(void);
Suite *suite_sim_router(void) {
    Suite *s = suite_create("sim_router");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fastest_and_via);
    tcase_add_test(tc, test_unreachable);
    suite_add_tcase(s, tc);
    return s;
}
