/*
 * tests/import/test_sumo.c - suites import_sumo_tls (SUMO programs to groups, stages and a
 * plan) and import_sumo (the converter).
 *
 * The mapping helpers are checked on hand-made inputs whose answer is worked out in the test.
 * The converter is run on the networks under tests/data/sumo/ (made with netgenerate and
 * netconvert, commands in tests/data/sumo/README.md) and on a tiny hand-written net written to
 * a temporary file, then mutated to get each refusal: malformed XML, an unknown edge in a route,
 * a connection to a missing lane, a traffic light without a program, a depart that is not a
 * number. A refusal must name the file and the line.
 */
#include "import/sumo.h"
#include "import/sumo_tls.h"
#include "scenarios/loader.h"
#include "tests/support/support.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- import_sumo_tls ------------------------------------------------------------------- */

static import_sumo_phase_t ph(double dur, const char *state) {
    return (import_sumo_phase_t){
        .dur_ms = (int64_t)(dur * 1000), .min_ms = -1, .max_ms = -1, .state = state};
}

START_TEST(test_tls_two_stages) {
    /* netgenerate's static program: links 0-1 one approach pair, 2-3 the other. */
    import_sumo_phase_t p[] = {ph(42, "GgGG"), ph(3, "yyrr"), ph(42, "rrGG"), ph(3, "rryy")};
    p[2].state = "rrGg";
    p[0].state = "Ggrr";
    int lm[] = {0, 1, 2, 3};
    import_sumo_tls_t t;
    base_err_t err;
    ck_assert_int_eq(import_sumo_tls_map(p, 4, lm, 4, 4, &t, &err), 0);
    ck_assert_int_eq(t.n_groups, 2);
    ck_assert_int_eq(t.movement_group[0], 0);
    ck_assert_int_eq(t.movement_group[1], 0); /* 'g' and 'G' in the same phases: one group */
    ck_assert_int_eq(t.movement_group[2], 1);
    ck_assert_int_eq(t.n_stages, 2);
    ck_assert_int_eq((int)t.cycle_ms, 90000);
    ck_assert_int_eq((int)t.split_ms[0], 45000);
    ck_assert_int_eq((int)t.split_ms[1], 45000);
    ck_assert_int_eq((int)t.start_ms, 0);
    ck_assert_int_eq((int)t.groups[0].yellow_ms, 3000);
    ck_assert_int_eq((int)t.groups[0].red_ms, 0);
    ck_assert_int_eq((int)t.groups[0].min_ms, IMPORT_TLS_MIN_GREEN_MS);
    ck_assert_int_eq((int)t.groups[0].max_ms, IMPORT_TLS_MAX_GREEN_MS);
    ck_assert(t.conflicts[0] & 2);
    ck_assert(t.groups[0].protected_green);
    ck_assert_int_eq((int)import_sumo_tls_intergreen(&t, 0), 3000);
    import_sumo_tls_fini(&t);
}
END_TEST

START_TEST(test_tls_all_red_and_rotation) {
    /* Starts in a yellow phase: stage 1 is phase 2; yellow 3 s then all-red 2 s. */
    import_sumo_phase_t p[] = {ph(3, "yr"), ph(2, "rr"), ph(30, "rG"),
                               ph(3, "ry"), ph(2, "rr"), ph(40, "Gr")};
    int lm[] = {0, 1};
    import_sumo_tls_t t;
    base_err_t err;
    ck_assert_int_eq(import_sumo_tls_map(p, 6, lm, 2, 2, &t, &err), 0);
    ck_assert_int_eq(t.n_stages, 2);
    ck_assert_int_eq((int)t.start_ms, 5000);
    ck_assert_int_eq((int)t.split_ms[0], 35000); /* 30 green + 3 yellow + 2 red */
    ck_assert_int_eq((int)t.split_ms[1], 45000); /* 40 green + the leading 3 + 2 */
    ck_assert_int_eq(t.movement_group[1], 1);    /* groups in order of their first link */
    ck_assert_int_eq((int)t.groups[t.movement_group[1]].yellow_ms, 3000);
    ck_assert_int_eq((int)t.groups[t.movement_group[1]].red_ms, 2000);
    ck_assert_int_eq((int)import_sumo_tls_intergreen(&t, 0), 5000);
    import_sumo_tls_fini(&t);
}
END_TEST

START_TEST(test_tls_actuated_and_overlap) {
    /* Movement 0 (through) stays green over a leading left (1) ending in yellow. */
    import_sumo_phase_t p[] = {ph(10, "GGr"), ph(3, "Gyr"),  ph(30, "Grr"),
                               ph(3, "yrr"),  ph(20, "rrG"), ph(3, "rry")};
    p[0].min_ms = 5000;
    p[0].max_ms = 15000;
    p[2].min_ms = 10000;
    p[2].max_ms = 40000;
    int lm[] = {0, 1, 2};
    import_sumo_tls_t t;
    base_err_t err;
    ck_assert_int_eq(import_sumo_tls_map(p, 6, lm, 3, 3, &t, &err), 0);
    ck_assert_int_eq(t.n_groups, 3);
    ck_assert_int_eq(t.n_stages, 3);
    ck_assert_int_eq((int)t.split_ms[0], 13000);
    ck_assert_int_eq((int)t.split_ms[1], 33000);
    ck_assert_int_eq((int)t.split_ms[2], 23000);
    int g0 = t.movement_group[0], g1 = t.movement_group[1];
    ck_assert((t.stage_groups[0] >> g0) & 1);
    ck_assert((t.stage_groups[1] >> g0) & 1); /* green through the change */
    ck_assert(!((t.stage_groups[1] >> g1) & 1));
    ck_assert_int_eq((int)t.groups[g1].min_ms, 5000);
    ck_assert_int_eq((int)t.groups[g1].max_ms, 15000);
    ck_assert_int_eq((int)t.groups[g0].max_ms, 40000);
    ck_assert(!(t.conflicts[g0] & (UINT64_C(1) << g1))); /* green together in stage 1 */
    import_sumo_tls_fini(&t);
}
END_TEST

START_TEST(test_tls_refusals) {
    import_sumo_tls_t t;
    base_err_t err;
    import_sumo_phase_t red[] = {ph(10, "rr"), ph(3, "yy")};
    int lm[] = {0, 1};
    ck_assert_int_eq(import_sumo_tls_map(red, 2, lm, 2, 2, &t, &err), BASE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "green"));
    import_sumo_phase_t shortp[] = {ph(10, "G")};
    ck_assert_int_eq(import_sumo_tls_map(shortp, 1, lm, 2, 2, &t, &err), BASE_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "characters"));
    ck_assert_int_eq(import_sumo_tls_map(shortp, 0, lm, 1, 1, &t, &err), BASE_EINVAL);
    /* A movement that is never green is dropped, not a failure. */
    import_sumo_phase_t some[] = {ph(10, "Gr"), ph(3, "yr")};
    ck_assert_int_eq(import_sumo_tls_map(some, 2, lm, 2, 2, &t, &err), 0);
    ck_assert_int_eq(t.dropped, 1);
    ck_assert_int_eq(t.movement_group[1], -1);
    import_sumo_tls_fini(&t);
}
END_TEST

/* ---- helpers of the converter ----------------------------------------------------------- */

START_TEST(test_turn_shape_speed_flow) {
    ck_assert_str_eq(import_sumo_turn("s"), "through");
    ck_assert_str_eq(import_sumo_turn("L"), "left");
    ck_assert_str_eq(import_sumo_turn("r"), "right");
    ck_assert_str_eq(import_sumo_turn("t"), "uturn");
    ck_assert_ptr_null(import_sumo_turn("invalid"));
    double xy[8];
    ck_assert_int_eq(import_sumo_parse_shape("1.5,2 3,4.25", xy, 4), 2);
    ck_assert(xy[1] == 2.0 && xy[3] == 4.25);
    ck_assert_int_eq(import_sumo_parse_shape("1,2,9 3,4,9", xy, 4), 2);
    ck_assert(xy[2] == 3.0);
    ck_assert_int_eq(import_sumo_parse_shape("1,2 x,4", xy, 4), -1);
    ck_assert_int_eq(import_sumo_parse_shape("1,2 3,4 5,6", xy, 2), -1);
    ck_assert_int_eq(import_sumo_parse_shape("1;2", xy, 4), -1);
    double m;
    ck_assert_int_eq(import_sumo_speed_factor("1.1", &m), 0);
    ck_assert(m == 1.1);
    ck_assert_int_eq(import_sumo_speed_factor("normc(0.9,0.1,0.2,2)", &m), 0);
    ck_assert(m == 0.9);
    ck_assert_int_eq(import_sumo_speed_factor("fast", &m), -1);
    double d[8];
    /* 360 veh/h from 0 to 60 s: every 10 s, 6 vehicles. */
    ck_assert_int_eq(import_sumo_flow_departs(0, 60, 10, -1, d, 8), 6);
    ck_assert(d[0] == 0 && d[5] == 50);
    ck_assert_int_eq(import_sumo_flow_departs(100, 1000, 20, 3, d, 8), 3);
    ck_assert(d[2] == 140);
    ck_assert_int_eq(import_sumo_flow_departs(0, 10, 20, -1, NULL, 0), 1);
}
END_TEST

/* ---- the converter on the fixtures ------------------------------------------------------ */

static const char *data(const char *name) {
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s", gw_test_source_path(name));
    return buf[k];
}

static json_t *convert_ok(const import_sumo_opts_t *o, import_sumo_result_t *r) {
    base_err_t err;
    int rc = import_sumo_convert(o, r, &err);
    ck_assert_msg(rc == 0, "import failed: %s", err.msg);
    json_error_t je;
    json_t *doc = json_loads(r->json, 0, &je);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

static json_t *find_id(json_t *arr, const char *id) {
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0)
            return v;
    }
    return NULL;
}

START_TEST(test_arterial) {
    const char *routes[] = {data("tests/data/sumo/arterial.rou.xml")};
    const char *adds[] = {data("tests/data/sumo/arterial.add.xml")};
    import_sumo_opts_t o = {.net = data("tests/data/sumo/arterial.net.xml"),
                            .routes = routes,
                            .n_routes = 1,
                            .additional = adds,
                            .n_additional = 1};
    import_sumo_result_t r;
    json_t *doc = convert_ok(&o, &r);
    ck_assert_int_eq(r.signals, 3);
    ck_assert_int_eq(r.links, 20);
    ck_assert_int_eq(r.escorts, 1);
    ck_assert_int_eq(r.flows, 1);
    /* 1 + 1 + 1 vehicles, 60 (360/h over 600 s) + 30 (every 20 s) + 3 buses. */
    ck_assert_int_eq(r.trips, 96);
    json_t *link = find_id(json_object_get(doc, "links"), "A0B0");
    ck_assert_ptr_nonnull(link);
    ck_assert_int_eq((int)json_integer_value(json_object_get(link, "lanes")), 2);
    /* The lane's length; the junction is in the movements' crossings: its internal lanes'
     * length, and the speed that drives them in their time (:B0_0_0 9.03 m at 6.51 m/s;
     * :B0_3_0 5.01 m + :B0_16_0 14.34 m at 9.26 m/s; :B0_1_* 20.8 m at 13.89 m/s). */
    ck_assert(json_real_value(json_object_get(link, "length_m")) == 279.2);
    static const struct {
        const char *id;
        double len, kmh;
    } crossings[] = {{"A0B0>B0bottom1", 9.03, 23.436},
                     {"A0B0>B0top1", 19.35, 33.336},
                     {"A0B0>B0C0", 20.8, 50.004}};
    for (size_t i = 0; i < sizeof crossings / sizeof crossings[0]; i++) {
        json_t *mv = find_id(json_object_get(doc, "movements"), crossings[i].id);
        ck_assert_msg(mv != NULL, "no movement %s", crossings[i].id);
        ck_assert_double_eq_tol(json_real_value(json_object_get(mv, "crossing_length_m")),
                                crossings[i].len, 1e-9);
        ck_assert_double_eq_tol(json_real_value(json_object_get(mv, "crossing_speed_kmh")),
                                crossings[i].kmh, 1e-9);
    }
    json_t *shape = json_object_get(link, "shape");
    ck_assert_int_eq((int)json_array_size(shape), 2);
    /* No departSpeed in the routes: SUMO's vehicles start from rest, and so do these. */
    ck_assert(json_is_true(json_object_get(json_object_get(doc, "model"), "depart_from_rest")));
    /* The centre of lanes 0 (y 145.2) and 1 (y 148.4). */
    ck_assert(json_real_value(json_array_get(json_array_get(shape, 0), 1)) == 146.8);
    /* B0 runs the additional file's program: offset 20 s, 3 s yellow + 2 s all-red. */
    json_t *b0 = json_array_get(json_object_get(doc, "signals"), 1);
    ck_assert_str_eq(json_string_value(json_object_get(b0, "node")), "B0");
    json_t *plan = json_array_get(json_object_get(b0, "plans"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(plan, "id")), "coord");
    ck_assert(json_real_value(json_object_get(plan, "offset_s")) == 20.0);
    json_t *g1 = json_array_get(json_object_get(b0, "groups"), 0);
    ck_assert(json_real_value(json_object_get(g1, "red_clearance_s")) == 2.0);
    json_t *det = json_object_get(doc, "detectors");
    ck_assert_int_eq((int)json_array_size(det), 2); /* two stop-line loops merged */
    json_t *esc = json_array_get(json_object_get(doc, "escorts"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(esc, "id")), "amb0");
    ck_assert(json_real_value(json_object_get(esc, "yield_factor")) == 0.0);
    json_t *trips = json_object_get(json_object_get(doc, "demand"), "trips");
    json_t *e3 = find_id(trips, "east.3");
    ck_assert_ptr_nonnull(e3);
    ck_assert(json_real_value(json_object_get(e3, "depart_s")) == 30.0);
    ck_assert_ptr_nonnull(strstr(r.notes, "random flows"));
    json_decref(doc);
    import_sumo_result_fini(&r);
}
END_TEST

START_TEST(test_grid_actuated) {
    import_sumo_opts_t o = {.net = data("tests/data/sumo/grid.net.xml"), .duration_s = 600};
    import_sumo_result_t r;
    json_t *doc = convert_ok(&o, &r);
    ck_assert_int_eq(r.signals, 9);
    ck_assert(json_real_value(json_object_get(doc, "duration_s")) == 600.0);
    json_t *g = json_array_get(
        json_object_get(json_array_get(json_object_get(doc, "signals"), 0), "groups"), 0);
    ck_assert(json_real_value(json_object_get(g, "min_green_s")) == 5.0);  /* minDur */
    ck_assert(json_real_value(json_object_get(g, "max_green_s")) == 50.0); /* maxDur */
    ck_assert_ptr_nonnull(strstr(r.notes, "actuated"));
    json_decref(doc);
    import_sumo_result_fini(&r);
}
END_TEST

START_TEST(test_roundabout_unsignalized) {
    import_sumo_opts_t o = {.net = data("tests/data/sumo/roundabout.net.xml")};
    import_sumo_result_t r;
    json_t *doc = convert_ok(&o, &r);
    ck_assert_int_eq(r.signals, 0);
    json_t *nodes = json_object_get(doc, "nodes");
    ck_assert_str_eq(json_string_value(json_object_get(find_id(nodes, "r0"), "kind")),
                     "unsignalized");
    ck_assert_str_eq(json_string_value(json_object_get(find_id(nodes, "pe"), "kind")), "boundary");
    /* Sidewalks are not lanes; the ring edge keeps its curved shape. */
    json_t *ring = find_id(json_object_get(doc, "links"), "r0r1");
    ck_assert_int_eq((int)json_integer_value(json_object_get(ring, "lanes")), 1);
    ck_assert_int_ge((int)json_array_size(json_object_get(ring, "shape")), 3);
    ck_assert_ptr_nonnull(strstr(r.notes, "roundabouts"));
    ck_assert_ptr_nonnull(strstr(r.notes, "pedestrian crossings"));
    ck_assert_ptr_nonnull(strstr(r.notes, "right of way"));
    json_decref(doc);
    import_sumo_result_fini(&r);
}
END_TEST

/* ---- refusals ------------------------------------------------------------------------------ */

static const char *TINY_NET =
    "<net version=\"1.9\">\n"
    "  <edge id=\":J_0\" function=\"internal\">\n"
    "    <lane id=\":J_0_0\" index=\"0\" speed=\"10\" length=\"5\" shape=\"98,-1.6 102,-1.6\"/>\n"
    "  </edge>\n"
    "  <edge id=\"a\" from=\"W\" to=\"J\">\n"
    "    <lane id=\"a_0\" index=\"0\" speed=\"10\" length=\"98\" shape=\"0,-1.6 98,-1.6\"/>\n"
    "  </edge>\n"
    "  <edge id=\"b\" from=\"J\" to=\"E\">\n"
    "    <lane id=\"b_0\" index=\"0\" speed=\"10\" length=\"98\" shape=\"102,-1.6 200,-1.6\"/>\n"
    "  </edge>\n"
    "  <tlLogic id=\"J\" type=\"static\" programID=\"0\" offset=\"0\">\n"
    "    <phase duration=\"30\" state=\"G\"/>\n"
    "    <phase duration=\"3\" state=\"y\"/>\n"
    "    <phase duration=\"27\" state=\"r\"/>\n"
    "  </tlLogic>\n"
    "  <junction id=\"W\" type=\"dead_end\" x=\"0\" y=\"0\"/>\n"
    "  <junction id=\"J\" type=\"traffic_light\" x=\"100\" y=\"0\"/>\n"
    "  <junction id=\"E\" type=\"dead_end\" x=\"200\" y=\"0\"/>\n"
    "  <connection from=\"a\" to=\"b\" fromLane=\"0\" toLane=\"0\" via=\":J_0_0\" tl=\"J\" "
    "linkIndex=\"0\" dir=\"s\" state=\"O\"/>\n"
    "</net>\n";

static const char *TINY_ROUTES = "<routes>\n"
                                 "  <vehicle id=\"v\" depart=\"0\">\n"
                                 "    <route edges=\"a b\"/>\n"
                                 "  </vehicle>\n"
                                 "</routes>\n";

/* Writes text (with `from` replaced by `to` if from is not NULL) to a temporary file named
 * like base; returns its path (static buffer per slot). */
static const char *write_tmp(int slot, const char *base, const char *text, const char *from,
                             const char *to) {
    static char path[2][256];
    snprintf(path[slot], sizeof path[slot], "/tmp/gw-test-sumo-%d-%s", (int)getpid(), base);
    FILE *f = fopen(path[slot], "w");
    ck_assert_ptr_nonnull(f);
    const char *hit = from ? strstr(text, from) : NULL;
    ck_assert_msg(from == NULL || hit != NULL, "test bug: \"%s\" not in the text", from);
    if (hit) {
        fwrite(text, 1, (size_t)(hit - text), f);
        fputs(to, f);
        fputs(hit + strlen(from), f);
    } else {
        fputs(text, f);
    }
    fclose(f);
    return path[slot];
}

/* Converts the tiny net (mutated) with the tiny routes (mutated); returns the error. */
static base_err_t refuse(const char *net_from, const char *net_to, const char *rou_from,
                         const char *rou_to, int *rc) {
    const char *net = write_tmp(0, "net.xml", TINY_NET, net_from, net_to);
    const char *rou = write_tmp(1, "rou.xml", TINY_ROUTES, rou_from, rou_to);
    const char *routes[] = {rou};
    import_sumo_opts_t o = {.net = net, .routes = routes, .n_routes = 1};
    import_sumo_result_t r;
    base_err_t err;
    *rc = import_sumo_convert(&o, &r, &err);
    if (*rc == 0)
        import_sumo_result_fini(&r);
    unlink(net);
    unlink(rou);
    return err;
}

/* The tiny net with its routes (mutated); returns the scenario (caller decrefs). */
static json_t *tiny_doc(const char *rou_from, const char *rou_to) {
    const char *net = write_tmp(0, "net.xml", TINY_NET, NULL, NULL);
    const char *rou = write_tmp(1, "rou.xml", TINY_ROUTES, rou_from, rou_to);
    const char *routes[] = {rou};
    import_sumo_opts_t o = {.net = net, .routes = routes, .n_routes = 1};
    import_sumo_result_t r;
    json_t *doc = convert_ok(&o, &r);
    import_sumo_result_fini(&r);
    unlink(net);
    unlink(rou);
    return doc;
}

START_TEST(test_depart_speed) {
    /* SUMO inserts at departSpeed 0 unless told otherwise: the scenario departs from rest. */
    static const struct {
        const char *to;
        int rest;
    } cases[] = {{"depart=\"0\"", 1},
                 {"depart=\"0\" departSpeed=\"0.00\"", 1},
                 {"depart=\"0\" departSpeed=\"max\"", 0},
                 {"depart=\"0\" departSpeed=\"8.5\"", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = tiny_doc("depart=\"0\"", cases[i].to);
        json_t *rest = json_object_get(json_object_get(doc, "model"), "depart_from_rest");
        ck_assert_msg(cases[i].rest ? json_is_true(rest) : rest == NULL, "case %zu", i);
        json_decref(doc);
    }
}
END_TEST

START_TEST(test_tiny_ok) {
    int rc;
    base_err_t err = refuse(NULL, NULL, NULL, NULL, &rc);
    ck_assert_msg(rc == 0, "%s", err.msg);
}
END_TEST

START_TEST(test_bad_xml) {
    int rc;
    base_err_t err = refuse("<junction id=\"W\"", "<junction id=\"W\" <", NULL, NULL, &rc);
    ck_assert_int_eq(rc, BASE_EPARSE);
    ck_assert_msg(strstr(err.msg, "net.xml:16: XML error") != NULL, "%s", err.msg);
    err = refuse(NULL, NULL, "</routes>", "", &rc);
    ck_assert_int_eq(rc, BASE_EPARSE);
    ck_assert_msg(strstr(err.msg, "rou.xml:") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_unknown_route_edge) {
    int rc;
    base_err_t err = refuse(NULL, NULL, "edges=\"a b\"", "edges=\"a x9\"", &rc);
    ck_assert_int_eq(rc, BASE_EINVAL);
    ck_assert_msg(strstr(err.msg, "rou.xml:3: vehicle \"v\": route edge \"x9\" is not in the "
                                  "network") != NULL,
                  "%s", err.msg);
    err = refuse(NULL, NULL, "edges=\"a b\"", "edges=\"b a\"", &rc);
    ck_assert_msg(strstr(err.msg, "rou.xml:3: vehicle \"v\": no connection from edge \"b\" to "
                                  "edge \"a\"") != NULL,
                  "%s", err.msg);
}
END_TEST

START_TEST(test_connection_missing_lane) {
    int rc;
    base_err_t err = refuse("toLane=\"0\"", "toLane=\"2\"", NULL, NULL, &rc);
    ck_assert_int_eq(rc, BASE_EINVAL);
    ck_assert_msg(strstr(err.msg, "net.xml:19: connection to lane 2 of edge \"b\", which has 1 "
                                  "lane(s)") != NULL,
                  "%s", err.msg);
    err = refuse("to=\"b\" fromLane", "to=\"zz\" fromLane", NULL, NULL, &rc);
    ck_assert_msg(strstr(err.msg, "net.xml:19: connection from \"a\" to unknown edge \"zz\"") !=
                      NULL,
                  "%s", err.msg);
}
END_TEST

START_TEST(test_missing_program) {
    int rc;
    base_err_t err = refuse("<tlLogic id=\"J\"", "<tlLogic id=\"K\"", NULL, NULL, &rc);
    ck_assert_int_eq(rc, BASE_EINVAL);
    ck_assert_msg(strstr(err.msg, "net.xml:19: junction \"J\": traffic light \"J\" has no "
                                  "program") != NULL,
                  "%s", err.msg);
}
END_TEST

START_TEST(test_bad_values) {
    int rc;
    base_err_t err = refuse(NULL, NULL, "depart=\"0\"", "depart=\"soon\"", &rc);
    ck_assert_int_eq(rc, BASE_EINVAL);
    ck_assert_msg(strstr(err.msg, "rou.xml:2: vehicle \"v\": depart=\"soon\"") != NULL, "%s",
                  err.msg);
    err = refuse("length=\"98\" shape=\"0", "length=\"long\" shape=\"0", NULL, NULL, &rc);
    ck_assert_msg(strstr(err.msg, "net.xml:6: <lane>: attribute length=\"long\" is not a number") !=
                      NULL,
                  "%s", err.msg);
    err = refuse(NULL, NULL, "<vehicle id=\"v\"", "<vehicle id=\"v\" type=\"tram\"", &rc);
    ck_assert_msg(strstr(err.msg, "rou.xml:2: vehicle \"v\": unknown vType \"tram\"") != NULL, "%s",
                  err.msg);
    err = refuse("state=\"G\"", "state=\"GG\"", NULL, NULL, &rc);
    ck_assert_msg(strstr(err.msg, "net.xml:11: tlLogic \"J\": phases have states of different "
                                  "lengths") != NULL,
                  "%s", err.msg);
    import_sumo_opts_t o = {.net = "/nonexistent/x.net.xml"};
    import_sumo_result_t r;
    ck_assert_int_eq(import_sumo_convert(&o, &r, &err), BASE_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/x.net.xml: cannot open"));
}
END_TEST

Suite *suite_import_sumo_tls(void);
Suite *suite_import_sumo(void);

Suite *suite_import_sumo_tls(void) {
    Suite *s = suite_create("import_sumo_tls");
    TCase *tc = tcase_create("map");
    tcase_add_test(tc, test_tls_two_stages);
    tcase_add_test(tc, test_tls_all_red_and_rotation);
    tcase_add_test(tc, test_tls_actuated_and_overlap);
    tcase_add_test(tc, test_tls_refusals);
    suite_add_tcase(s, tc);
    return s;
}

Suite *suite_import_sumo(void) {
    Suite *s = suite_create("import_sumo");
    TCase *tc = tcase_create("helpers");
    tcase_add_test(tc, test_turn_shape_speed_flow);
    suite_add_tcase(s, tc);
    tc = tcase_create("fixtures");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_arterial);
    tcase_add_test(tc, test_grid_actuated);
    tcase_add_test(tc, test_roundabout_unsignalized);
    suite_add_tcase(s, tc);
    tc = tcase_create("refusals");
    tcase_add_test(tc, test_tiny_ok);
    tcase_add_test(tc, test_depart_speed);
    tcase_add_test(tc, test_bad_xml);
    tcase_add_test(tc, test_unknown_route_edge);
    tcase_add_test(tc, test_connection_missing_lane);
    tcase_add_test(tc, test_missing_program);
    tcase_add_test(tc, test_bad_values);
    suite_add_tcase(s, tc);
    return s;
}
