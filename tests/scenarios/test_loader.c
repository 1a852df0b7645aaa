/*
 * tests/scenarios/test_loader.c - suite scenarios_loader: the scenario loader against
 * docs/scenario-format.md.
 *
 * tests/data/minimal.json (one signalized 4-arm junction) is loaded and checked value by value:
 * counts, units (km/h to m/s, s to ms), defaults. Every refusal the format promises is then
 * built by mutating that document with jansson (parse, json_object_set_new / json_object_del /
 * json_array_append_new, json_dumps back to text), and checked for its code and for a message
 * that names the place: "test.json: $.links[0]..." with the key words. Last come inputs that
 * must fail cleanly whatever they are: every truncation of the file, random byte flips, and
 * every member of every object replaced by values of every JSON type.
 *
 * Tcase "contract_gaps" pins places where the loader departs from the format document; its
 * tests fail until the loader is fixed.
 */
#include "scenarios/loader.h"
#include "tests/support/support.h"

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MINIMAL "tests/data/minimal.json"
#define NAME    "test.json"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------------------ */

/* Returns the text of the file at the source-relative path rel (caller frees), length in *len. */
static char *read_text(const char *rel, size_t *len) {
    FILE *f = fopen(gw_test_source_path(rel), "rb");
    ck_assert_msg(f != NULL, "cannot open %s", rel);
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            buf = realloc(buf, cap);
            ck_assert(buf != NULL);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Returns minimal.json parsed (caller owns it). */
static json_t *fixture(void) {
    json_error_t je;
    json_t *doc = json_load_file(gw_test_source_path(MINIMAL), JSON_REJECT_DUPLICATES, &je);
    ck_assert_msg(doc != NULL, "%s:%d:%d: %s", MINIMAL, je.line, je.column, je.text);
    return doc;
}

/* Parses a JSON snippet (any value). */
static json_t *js(const char *text) {
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    ck_assert_msg(v != NULL, "bad snippet %s: %s", text, je.text);
    return v;
}

/* Returns the value at path in doc: "" is the root, else keys and indices as in
 * "signals[0].groups[1]". Fails the test when there is none. */
static json_t *at(json_t *doc, const char *path) {
    json_t *v = doc;
    const char *s = path;
    while (*s != '\0' && v != NULL) {
        if (*s == '.')
            s++;
        if (*s == '[') {
            char *end;
            long i = strtol(s + 1, &end, 10);
            ck_assert_msg(*end == ']', "bad path %s", path);
            v = json_array_get(v, (size_t)i);
            s = end + 1;
        } else {
            char key[64];
            size_t n = strcspn(s, ".[");
            ck_assert(n < sizeof key);
            memcpy(key, s, n);
            key[n] = '\0';
            v = json_object_get(v, key);
            s += n;
        }
    }
    ck_assert_msg(v != NULL, "no %s in %s", path, MINIMAL);
    return v;
}

/* obj.key = value, given as JSON text. */
static void set(json_t *doc, const char *obj, const char *key, const char *value) {
    ck_assert_int_eq(json_object_set_new(at(doc, obj), key, js(value)), 0);
}

static void del(json_t *doc, const char *obj, const char *key) {
    ck_assert_msg(json_object_del(at(doc, obj), key) == 0, "no %s.%s", obj, key);
}

static void append(json_t *doc, const char *arr, const char *value) {
    ck_assert_int_eq(json_array_append_new(at(doc, arr), js(value)), 0);
}

/* Loads doc (consumed) as "test.json". Returns the scenario, or NULL with err filled. */
static sim_scenario_t *load_doc(json_t *doc, base_err_t *err) {
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    ck_assert(text != NULL);
    sim_scenario_t *scn = scn_loader_load_string(text, NAME, err);
    free(text);
    return scn;
}

static sim_scenario_t *load_ok(json_t *doc) {
    base_err_t err = {0};
    sim_scenario_t *scn = load_doc(doc, &err);
    ck_assert_msg(scn != NULL, "load failed: %s", err.msg);
    return scn;
}

static void must_contain(const base_err_t *err, const char *needle) {
    ck_assert_msg(strstr(err->msg, needle) != NULL, "message \"%s\" lacks \"%s\"", err->msg,
                  needle);
}

/* Loads doc (consumed) expecting a refusal with code; returns the error. */
static base_err_t refused(json_t *doc, int code) {
    base_err_t err = {0};
    sim_scenario_t *scn = load_doc(doc, &err);
    int loaded = scn != NULL;
    sim_scenario_destroy(&scn);
    ck_assert_msg(!loaded, "expected the loader to refuse the scenario");
    ck_assert_msg(err.code == code, "code %d, want %d; message: %s", err.code, code, err.msg);
    ck_assert_msg(strncmp(err.msg, NAME ":", strlen(NAME ":")) == 0,
                  "message \"%s\" does not start with the file name", err.msg);
    return err;
}

static void expect_error_(json_t *doc, int code, const char *const *needles) {
    base_err_t err = refused(doc, code);
    for (; *needles != NULL; needles++)
        must_contain(&err, *needles);
}

/* Expects a refusal with code whose message contains every one of the strings given. */
#define EXPECT_ERROR(doc, code, ...)                                                               \
    expect_error_((doc), (code), (const char *const[]){__VA_ARGS__, NULL})

/* The JSON path of a member, "$" or "$.links[0]" for obj "" or "links[0]". */
static void json_path(char *buf, size_t size, const char *obj, const char *key) {
    snprintf(buf, size, "$%s%s%s%s", *obj ? "." : "", obj, key ? "." : "", key ? key : "");
}

/* Expects EINVAL naming the member obj.key: "$.links[0].lanes: ..." as the format document
 * writes it, or "$.links[0]: field \"lanes\" ..." as the loader words it (see
 * test_field_error_path_as_documented), with want in the message. */
static void expect_field_error(json_t *doc, const char *obj, const char *key, const char *want) {
    base_err_t err = refused(doc, BASE_EINVAL);
    char documented[256], worded[256];
    json_path(documented, sizeof documented, obj, key);
    strcat(documented, ": ");
    json_path(worded, sizeof worded, obj, NULL);
    snprintf(worded + strlen(worded), sizeof worded - strlen(worded), ": field \"%s\"", key);
    ck_assert_msg(strstr(err.msg, documented) != NULL || strstr(err.msg, worded) != NULL,
                  "message \"%s\" names neither \"%s\" nor \"%s\"", err.msg, documented, worded);
    must_contain(&err, want);
}

static int32_t find_link(const sim_scenario_t *scn, const char *id) {
    for (int32_t i = 0; i < scn->n_links; i++)
        if (strcmp(scn->links[i].id, id) == 0)
            return i;
    ck_abort_msg("no link %s", id);
    return -1;
}

static int32_t find_movement(const sim_scenario_t *scn, const char *id) {
    for (int32_t i = 0; i < scn->n_movements; i++)
        if (strcmp(scn->movements[i].id, id) == 0)
            return i;
    ck_abort_msg("no movement %s", id);
    return -1;
}

#define TOL 1e-9

/* ---- the valid fixture ---------------------------------------------------------------- */

START_TEST(test_minimal_counts) {
    sim_scenario_t *scn = load_ok(fixture());
    ck_assert_str_eq(scn->name, "minimal");
    ck_assert_int_eq(scn->n_nodes, 5);
    ck_assert_int_eq(scn->n_links, 8);
    ck_assert_int_eq(scn->n_movements, 12);
    ck_assert_int_eq(scn->n_signals, 1);
    ck_assert_int_eq(scn->signals[0].n_groups, 2);
    ck_assert_int_eq(scn->signals[0].n_stages, 2);
    ck_assert_int_eq(scn->signals[0].n_plans, 1);
    ck_assert_int_eq(scn->signals[0].n_schedule, 1);
    ck_assert_int_eq(scn->n_corridors, 1);
    ck_assert_int_eq(scn->n_detectors, 2);
    ck_assert_int_eq(scn->n_flows, 1);
    ck_assert_int_eq(scn->n_trips, 1);
    ck_assert_int_eq(scn->n_escorts, 1);
    ck_assert_int_eq(scn->n_classes, 4); /* the four default classes */
    ck_assert(scn->prepared);
    sim_scenario_destroy(&scn);
    ck_assert_ptr_null(scn);
}
END_TEST

START_TEST(test_minimal_units) {
    sim_scenario_t *scn = load_ok(fixture());
    ck_assert_int_eq(scn->start_tod, (7 * 3600 + 30 * 60) * 1000);
    ck_assert_int_eq(scn->duration, 600000);
    ck_assert_int_eq(scn->model.startup_lost_time, 2500);
    const sim_link_t *w = &scn->links[find_link(scn, "W_in")];
    ck_assert_double_eq_tol(w->free_speed_mps, 20.0, TOL); /* 72 km/h */
    ck_assert_double_eq_tol(w->length_m, 200.0, TOL);
    ck_assert_double_eq_tol(scn->links[find_link(scn, "N_in")].free_speed_mps, 50 / 3.6, TOL);
    const sim_signal_t *sig = &scn->signals[0];
    ck_assert_int_eq(sig->groups[0].min_green, 10000);
    ck_assert_int_eq(sig->groups[0].max_green, 40000);
    ck_assert_int_eq(sig->groups[0].yellow, 3000);
    ck_assert_int_eq(sig->groups[0].red_clearance, 2000);
    ck_assert_int_eq(sig->groups[1].yellow, 3500);
    ck_assert_int_eq(sig->groups[1].red_clearance, 1500);
    ck_assert_int_eq(sig->plans[0].cycle, 60000);
    ck_assert_int_eq(sig->plans[0].offset, 10000);
    ck_assert_int_eq(sig->plans[0].splits[0], 30000);
    ck_assert_int_eq(sig->plans[0].splits[1], 30000);
    ck_assert_int_eq(sig->schedule[0].from_tod, 0);
    ck_assert_int_eq(sig->schedule[0].plan, 0);
    ck_assert_int_eq(scn->trips[0].depart, 5000);
    ck_assert_int_eq(scn->escorts[0].depart, 30000);
    ck_assert_double_eq_tol(scn->escorts[0].desired_speed_mps, 20.0, TOL);
    ck_assert_double_eq_tol(scn->detectors[1].distance_m, 60.0, TOL);
    ck_assert_int_eq(scn->flows[0].n_vph, 2);
    ck_assert_double_eq_tol(scn->flows[0].vph[0], 300.0, TOL);
    ck_assert_double_eq_tol(scn->flows[0].vph[1], 400.0, TOL);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_movement_crossing) {
    json_t *doc = fixture();
    set(doc, "movements[1]", "crossing_length_m", "12.5");
    set(doc, "movements[1]", "crossing_speed_kmh", "36");
    sim_scenario_t *scn = load_ok(doc);
    const sim_movement_t *mv = &scn->movements[find_movement(scn, "N_L")];
    ck_assert_double_eq_tol(mv->crossing_length_m, 12.5, TOL);
    ck_assert_double_eq_tol(mv->crossing_speed_mps, 10.0, TOL);
    /* 12.5 m at min(10 m/s, the speed on the next link) */
    ck_assert_int_eq(sim_scenario_crossing_time(scn, 1, 20.0), 1250);
    ck_assert_int_eq(sim_scenario_crossing_time(scn, 1, 5.0), 2500);
    ck_assert_int_eq(sim_scenario_crossing_time(scn, 0, 5.0), 0);
    sim_scenario_destroy(&scn);
    doc = fixture();
    set(doc, "model", "depart_from_rest", "true");
    scn = load_ok(doc);
    ck_assert_int_eq(scn->model.depart_from_rest, 1);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_minimal_defaults) {
    sim_scenario_t *scn = load_ok(fixture());
    const sim_link_t *w = &scn->links[find_link(scn, "W_in")];
    const sim_link_t *n = &scn->links[find_link(scn, "N_in")];
    ck_assert_double_eq_tol(w->sat_flow_vphpl, 1900.0, TOL); /* given */
    ck_assert_double_eq_tol(w->jam_spacing_m, 7.0, TOL);
    ck_assert_double_eq_tol(n->sat_flow_vphpl, 1800.0, TOL); /* defaults */
    ck_assert_double_eq_tol(n->jam_spacing_m, 7.5, TOL);
    ck_assert_str_eq(n->name, "N_in");
    /* Movement lanes: the from link's lanes for through, else 1, unless given. */
    ck_assert_int_eq(scn->movements[find_movement(scn, "N_T")].lanes, 2);
    ck_assert_int_eq(scn->movements[find_movement(scn, "N_L")].lanes, 1);
    ck_assert_int_eq(scn->movements[find_movement(scn, "N_R")].lanes, 1);
    ck_assert_int_eq(scn->movements[find_movement(scn, "E_T")].lanes, 1);
    ck_assert_int_eq(scn->movements[find_movement(scn, "E_L")].lanes, 2);
    ck_assert_double_eq_tol(scn->movements[find_movement(scn, "N_L")].sat_factor, 0.8, TOL);
    ck_assert_double_eq_tol(scn->movements[find_movement(scn, "N_T")].sat_factor, 1.0, TOL);
    /* No crossing unless given: the junction is in the links' lengths. */
    ck_assert_double_eq(scn->movements[find_movement(scn, "N_L")].crossing_length_m, 0);
    ck_assert_double_eq(scn->movements[find_movement(scn, "N_L")].crossing_speed_mps, 0);
    /* Model, demand interval. */
    ck_assert_double_eq_tol(scn->model.min_speed_fraction, 0.1, TOL);
    ck_assert_int_eq(scn->model.stop_wait, 1000);
    ck_assert_int_eq(scn->model.depart_from_rest, 0);
    ck_assert_int_eq(scn->demand_interval, 900000);
    /* Classes: car, bus, motorbike, escort. */
    int32_t car = sim_scenario_find_class(scn, "car");
    int32_t bus = sim_scenario_find_class(scn, "bus");
    int32_t esc = sim_scenario_find_class(scn, "escort");
    ck_assert_int_ge(car, 0);
    ck_assert_int_ge(sim_scenario_find_class(scn, "motorbike"), 0);
    ck_assert_double_eq_tol(scn->classes[bus].pce, 2.0, TOL);
    ck_assert_double_eq_tol(scn->classes[bus].max_speed_mps, 60 / 3.6, TOL);
    /* class_mix defaults to car: the cdf jumps to 1 at car. */
    for (int32_t c = 0; c < scn->n_classes; c++)
        ck_assert_double_eq_tol(scn->flows[0].class_cdf[c], c >= car ? 1.0 : 0.0, TOL);
    ck_assert_int_eq(scn->trips[0].vclass, car);
    ck_assert_int_eq(scn->escorts[0].vclass, esc);
    ck_assert_double_eq_tol(scn->escorts[0].yield_factor, 0.5, TOL);
    ck_assert_double_eq_tol(scn->detectors[0].distance_m, 0.0, TOL); /* stop line */
    ck_assert_str_eq(scn->nodes[1].name, "N");
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_minimal_references) {
    sim_scenario_t *scn = load_ok(fixture());
    int32_t w_in = find_link(scn, "W_in"), e_out = find_link(scn, "E_out");
    ck_assert_int_eq(scn->links[w_in].from, 4);
    ck_assert_int_eq(scn->links[w_in].to, 0);
    ck_assert_int_eq(scn->nodes[0].kind, SIM_NODE_SIGNALIZED);
    ck_assert_int_eq(scn->nodes[1].kind, SIM_NODE_BOUNDARY);
    ck_assert_int_eq(scn->nodes[0].signal, 0);
    for (int32_t i = 1; i < scn->n_nodes; i++)
        ck_assert_int_eq(scn->nodes[i].signal, -1);
    const sim_movement_t *wt = &scn->movements[find_movement(scn, "W_T")];
    ck_assert_int_eq(wt->from, w_in);
    ck_assert_int_eq(wt->to, e_out);
    ck_assert_int_eq(wt->turn, SIM_TURN_THROUGH);
    ck_assert_int_eq(scn->movements[find_movement(scn, "W_L")].turn, SIM_TURN_LEFT);
    ck_assert_int_eq(scn->movements[find_movement(scn, "W_R")].turn, SIM_TURN_RIGHT);
    ck_assert_int_eq(wt->signal, 0);
    ck_assert_int_eq(wt->group, 1);
    ck_assert_int_eq(wt->node, 0);
    ck_assert_int_eq(scn->movements[find_movement(scn, "S_R")].group, 0);
    const sim_signal_t *sig = &scn->signals[0];
    ck_assert_int_eq(sig->node, 0);
    ck_assert_str_eq(sig->groups[0].id, "NS");
    ck_assert_int_eq(sig->groups[0].n_movements, 6);
    ck_assert_uint_eq(sig->conflicts[0], UINT64_C(1) << 1);
    ck_assert_uint_eq(sig->conflicts[1], UINT64_C(1) << 0);
    ck_assert_uint_eq(sig->stages[0].groups, UINT64_C(1) << 0);
    ck_assert_uint_eq(sig->stages[1].groups, UINT64_C(1) << 1);
    ck_assert_str_eq(sig->stages[1].id, "S2");
    ck_assert_str_eq(sig->plans[0].id, "P1");
    const sim_corridor_t *c = &scn->corridors[0];
    ck_assert_int_eq(c->n_links, 2);
    ck_assert_int_eq(c->links[0], w_in);
    ck_assert_int_eq(c->links[1], e_out);
    ck_assert_int_eq(scn->detectors[0].link, w_in);
    ck_assert_int_eq(scn->detectors[0].kind, SIM_DETECTOR_STOP_LINE);
    ck_assert_int_eq(scn->detectors[1].kind, SIM_DETECTOR_ADVANCE);
    /* Routes. */
    const sim_flow_t *f = &scn->flows[0];
    ck_assert_int_eq(f->origin, w_in);
    ck_assert_int_eq(f->destination, e_out);
    ck_assert_int_eq(f->route.n_links, 2);
    ck_assert_int_eq(f->route.links[0], w_in);
    ck_assert_int_eq(f->route.links[1], e_out);
    ck_assert_int_eq(scn->trips[0].route.n_links, 2);
    ck_assert_int_eq(scn->trips[0].route.links[1], find_link(scn, "S_out"));
    const sim_escort_t *e = &scn->escorts[0];
    ck_assert_int_eq(e->route.n_links, 2);
    ck_assert_int_eq(e->route.links[0], find_link(scn, "S_in"));
    ck_assert_int_eq(e->route.links[1], find_link(scn, "N_out"));
    sim_scenario_destroy(&scn);
}
END_TEST

/* Names are free UTF-8 text, kept byte for byte. */
START_TEST(test_minimal_utf8_names) {
    sim_scenario_t *scn = load_ok(fixture());
    ck_assert_str_eq(scn->nodes[0].name, "八一七路 x 五四路");
    ck_assert_str_eq(scn->links[find_link(scn, "W_in")].name, "八一七路");
    ck_assert_str_eq(scn->corridors[0].name, "八一七路 eastbound");
    ck_assert_ptr_nonnull(strstr(scn->description, "fixture"));
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_start_time_default) {
    json_t *doc = fixture();
    del(doc, "", "start_time");
    del(doc, "", "description");
    del(doc, "", "model");
    sim_scenario_t *scn = load_ok(doc);
    ck_assert_int_eq(scn->start_tod, 0);
    ck_assert_str_eq(scn->description, "");
    ck_assert_int_eq(scn->model.startup_lost_time, 2000);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_start_time_last_second) {
    json_t *doc = fixture();
    set(doc, "", "start_time", "\"23:59:59\"");
    sim_scenario_t *scn = load_ok(doc);
    ck_assert_int_eq(scn->start_tod, 86399000);
    sim_scenario_destroy(&scn);
}
END_TEST

/* Signals switching plans by time of day; HH:MM and HH:MM:SS are both accepted there. */
START_TEST(test_schedule_two_plans) {
    json_t *doc = fixture();
    append(doc, "signals[0].plans", "{\"id\":\"P2\",\"cycle_s\":80,\"splits_s\":[40,40]}");
    append(doc, "signals[0].schedule", "{\"from\":\"06:30\",\"plan\":\"P2\"}");
    append(doc, "signals[0].schedule", "{\"from\":\"19:00:30\",\"plan\":\"P1\"}");
    sim_scenario_t *scn = load_ok(doc);
    const sim_signal_t *sig = &scn->signals[0];
    ck_assert_int_eq(sig->n_schedule, 3);
    ck_assert_int_eq(sig->schedule[1].from_tod, (6 * 3600 + 30 * 60) * 1000);
    ck_assert_int_eq(sig->schedule[1].plan, 1);
    ck_assert_int_eq(sig->schedule[2].from_tod, (19 * 3600 + 30) * 1000);
    ck_assert_int_eq(sig->plans[1].offset, 0); /* default */
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_custom_classes_and_mix) {
    json_t *doc = fixture();
    set(doc, "", "vehicle_classes",
        "[{\"id\":\"car\"},{\"id\":\"truck\",\"pce\":2.5,\"max_speed_kmh\":72},"
        "{\"id\":\"escort\"}]");
    set(doc, "demand.flows[0]", "class_mix", "{\"car\":3,\"truck\":1}");
    set(doc, "demand.trips[0]", "class", "\"truck\"");
    sim_scenario_t *scn = load_ok(doc);
    ck_assert_int_eq(scn->n_classes, 3);
    ck_assert_double_eq_tol(scn->classes[0].pce, 1.0, TOL);
    ck_assert_double_eq_tol(scn->classes[0].max_speed_mps, 0.0, TOL); /* no cap */
    ck_assert_double_eq_tol(scn->classes[1].pce, 2.5, TOL);
    ck_assert_double_eq_tol(scn->classes[1].max_speed_mps, 20.0, TOL);
    ck_assert_double_eq_tol(scn->flows[0].class_cdf[0], 0.75, TOL);
    ck_assert_double_eq_tol(scn->flows[0].class_cdf[1], 1.0, TOL);
    ck_assert_double_eq_tol(scn->flows[0].class_cdf[2], 1.0, TOL);
    ck_assert_int_eq(scn->trips[0].vclass, 1);
    ck_assert_int_eq(scn->escorts[0].vclass, 2);
    /* Accelerations: the built-in class's of the same id, else SUMO's passenger car. */
    ck_assert_double_eq_tol(scn->classes[0].accel_mps2, 2.6, TOL);
    ck_assert_double_eq_tol(scn->classes[0].decel_mps2, 4.5, TOL);
    ck_assert_double_eq_tol(scn->classes[1].accel_mps2, 2.6, TOL);
    sim_scenario_destroy(&scn);
    doc = fixture();
    set(doc, "", "vehicle_classes",
        "[{\"id\":\"bus\",\"pce\":2},{\"id\":\"car\",\"accel_mps2\":1.5,\"decel_mps2\":3},"
        "{\"id\":\"escort\"}]");
    set(doc, "demand.flows[0]", "class_mix", "{\"car\":1}");
    set(doc, "demand.trips[0]", "class", "\"car\"");
    scn = load_ok(doc);
    ck_assert_double_eq_tol(scn->classes[0].accel_mps2, 1.2, TOL); /* the built-in bus's */
    ck_assert_double_eq_tol(scn->classes[0].decel_mps2, 4.0, TOL);
    ck_assert_double_eq_tol(scn->classes[1].accel_mps2, 1.5, TOL);
    ck_assert_double_eq_tol(scn->classes[1].decel_mps2, 3.0, TOL);
    sim_scenario_destroy(&scn);
}
END_TEST

/* Only the required sections: an empty network with no demand is valid. */
START_TEST(test_optional_sections_absent) {
    json_t *doc = fixture();
    static const char *const optional[] = {"movements", "signals",     "corridors",
                                           "detectors", "demand",      "escorts",
                                           "model",     "description", "start_time"};
    for (size_t i = 0; i < N_ELEMS(optional); i++)
        del(doc, "", optional[i]);
    set(doc, "nodes[0]", "kind", "\"unsignalized\"");
    sim_scenario_t *scn = load_ok(doc);
    ck_assert_int_eq(scn->n_movements, 0);
    ck_assert_int_eq(scn->n_signals, 0);
    ck_assert_int_eq(scn->n_flows, 0);
    ck_assert_int_eq(scn->n_trips, 0);
    ck_assert_int_eq(scn->n_escorts, 0);
    ck_assert_int_eq(scn->n_corridors, 0);
    ck_assert_int_eq(scn->n_detectors, 0);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_load_file_minimal) {
    base_err_t err = {0};
    sim_scenario_t *scn = scn_loader_load_file(gw_test_source_path(MINIMAL), &err);
    ck_assert_msg(scn != NULL, "load failed: %s", err.msg);
    ck_assert_int_eq(scn->n_links, 8);
    sim_scenario_destroy(&scn);
}
END_TEST

/* ---- syntax and top level ----------------------------------------------------------- */

START_TEST(test_syntax_error_line_col) {
    /* Line 5 lacks the comma after "x". */
    static const char text[] = "{\n"
                               "  \"format\": \"greenwave-scenario\",\n"
                               "  \"version\": 1,\n"
                               "  \"name\": \"x\"\n"
                               "  \"duration_s\": 10\n"
                               "}\n";
    base_err_t err = {0};
    sim_scenario_t *scn = scn_loader_load_string(text, NAME, &err);
    ck_assert_ptr_null(scn);
    ck_assert_int_eq(err.code, BASE_EPARSE);
    must_contain(&err, NAME ":5:");
    must_contain(&err, "syntax error");
}
END_TEST

START_TEST(test_top_level_array) {
    base_err_t err = {0};
    ck_assert_ptr_null(scn_loader_load_string("[1, 2]", NAME, &err));
    ck_assert_int_eq(err.code, BASE_EINVAL);
    must_contain(&err, NAME ": $: ");
    must_contain(&err, "must be an object");
}
END_TEST

START_TEST(test_top_level_scalar) {
    base_err_t err = {0};
    ck_assert_ptr_null(scn_loader_load_string("42", NAME, &err));
    ck_assert_int_eq(err.code, BASE_EPARSE);
    must_contain(&err, NAME ":1:");
    must_contain(&err, "syntax error");
}
END_TEST

START_TEST(test_empty_text) {
    static const char *const texts[] = {"", "   \n\t ", "\n\n"};
    for (size_t i = 0; i < N_ELEMS(texts); i++) {
        base_err_t err = {0};
        ck_assert_ptr_null(scn_loader_load_string(texts[i], NAME, &err));
        ck_assert_int_eq(err.code, BASE_EPARSE);
        must_contain(&err, NAME ":");
        must_contain(&err, "syntax error");
    }
}
END_TEST

START_TEST(test_trailing_garbage) {
    json_t *doc = fixture();
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    size_t n = strlen(text);
    text = realloc(text, n + 4);
    ck_assert_ptr_nonnull(text);
    memcpy(text + n, " {}", 4);
    base_err_t err = {0};
    ck_assert_ptr_null(scn_loader_load_string(text, NAME, &err));
    free(text);
    ck_assert_int_eq(err.code, BASE_EPARSE);
    must_contain(&err, "syntax error");
}
END_TEST

START_TEST(test_duplicate_json_keys) {
    json_t *doc = fixture();
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    /* "{" + "\"name\":\"dup\"," + the rest: the top level now has "name" twice. */
    static const char dup[] = "\"name\":\"dup\",";
    size_t n = strlen(text);
    char *twice = malloc(n + sizeof dup);
    ck_assert_ptr_nonnull(twice);
    twice[0] = '{';
    memcpy(twice + 1, dup, sizeof dup - 1);
    memcpy(twice + sizeof dup, text + 1, n); /* with the NUL */
    free(text);
    base_err_t err = {0};
    ck_assert_ptr_null(scn_loader_load_string(twice, NAME, &err));
    free(twice);
    ck_assert_int_eq(err.code, BASE_EPARSE);
    must_contain(&err, NAME ":1:");
    must_contain(&err, "duplicate");
}
END_TEST

START_TEST(test_wrong_format) {
    json_t *doc = fixture();
    set(doc, "", "format", "\"greenwave\"");
    EXPECT_ERROR(doc, BASE_EINVAL, NAME ": $.format: ", "greenwave-scenario", "\"greenwave\"");
}
END_TEST

START_TEST(test_format_not_string) {
    json_t *doc = fixture();
    set(doc, "", "format", "1");
    expect_field_error(doc, "", "format", "string");
}
END_TEST

START_TEST(test_wrong_version) {
    json_t *doc = fixture();
    set(doc, "", "version", "2");
    EXPECT_ERROR(doc, BASE_EINVAL, NAME ": $.version: ", "version 2");
}
END_TEST

START_TEST(test_version_not_integer) {
    static const char *const values[] = {"\"1\"", "1.5", "null"};
    for (size_t i = 0; i < N_ELEMS(values); i++) {
        json_t *doc = fixture();
        set(doc, "", "version", values[i]);
        expect_field_error(doc, "", "version", "integer");
    }
}
END_TEST

/* ---- missing, unknown, wrongly typed, out-of-range fields ---------------------------------- */

static const struct {
    const char *obj, *key;
} MISSING[] = {
    {"", "format"},
    {"", "version"},
    {"", "name"},
    {"", "duration_s"},
    {"", "nodes"},
    {"", "links"},
    {"nodes[1]", "id"},
    {"nodes[1]", "kind"},
    {"nodes[1]", "x_m"},
    {"nodes[1]", "y_m"},
    {"links[0]", "from"},
    {"links[0]", "to"},
    {"links[0]", "length_m"},
    {"links[0]", "lanes"},
    {"links[0]", "free_speed_kmh"},
    {"movements[0]", "id"},
    {"movements[0]", "from"},
    {"movements[0]", "to"},
    {"movements[0]", "turn"},
    {"signals[0]", "node"},
    {"signals[0]", "groups"},
    {"signals[0]", "stages"},
    {"signals[0]", "plans"},
    {"signals[0]", "schedule"},
    {"signals[0].groups[0]", "movements"},
    {"signals[0].groups[0]", "min_green_s"},
    {"signals[0].groups[0]", "max_green_s"},
    {"signals[0].groups[0]", "yellow_s"},
    {"signals[0].groups[0]", "red_clearance_s"},
    {"signals[0].stages[0]", "groups"},
    {"signals[0].plans[0]", "cycle_s"},
    {"signals[0].plans[0]", "splits_s"},
    {"signals[0].schedule[0]", "from"},
    {"signals[0].schedule[0]", "plan"},
    {"corridors[0]", "id"},
    {"corridors[0]", "links"},
    {"detectors[0]", "link"},
    {"detectors[0]", "kind"},
    {"detectors[1]", "distance_m"}, /* required for an advance detector */
    {"demand.flows[0]", "origin"},
    {"demand.flows[0]", "destination"},
    {"demand.flows[0]", "vph"},
    {"demand.trips[0]", "depart_s"},
    {"demand.trips[0]", "origin"},
    {"demand.trips[0]", "destination"},
    {"escorts[0]", "id"},
    {"escorts[0]", "route"},
    {"escorts[0]", "depart_s"},
    {"escorts[0]", "desired_speed_kmh"},
};

START_TEST(test_missing_required_field) {
    json_t *doc = fixture();
    del(doc, MISSING[_i].obj, MISSING[_i].key);
    char path[128], what[128];
    json_path(path, sizeof path, MISSING[_i].obj, NULL);
    strcat(path, ": ");
    snprintf(what, sizeof what, "missing required field \"%s\"", MISSING[_i].key);
    EXPECT_ERROR(doc, BASE_EINVAL, path, what);
}
END_TEST

/* Every kind of object refuses a member it does not know. */
static const char *const OBJECTS[] = {
    "",
    "model",
    "nodes[0]",
    "links[0]",
    "movements[0]",
    "signals[0]",
    "signals[0].groups[0]",
    "signals[0].stages[0]",
    "signals[0].plans[0]",
    "signals[0].schedule[0]",
    "corridors[0]",
    "detectors[0]",
    "demand",
    "demand.flows[0]",
    "demand.trips[0]",
    "escorts[0]",
};

START_TEST(test_unknown_field) {
    json_t *doc = fixture();
    set(doc, OBJECTS[_i], "bogus", "1");
    char path[128];
    json_path(path, sizeof path, OBJECTS[_i], NULL);
    strcat(path, ": ");
    EXPECT_ERROR(doc, BASE_EINVAL, path, "unknown field \"bogus\"");
}
END_TEST

START_TEST(test_unknown_field_in_vehicle_class) {
    json_t *doc = fixture();
    set(doc, "", "vehicle_classes", "[{\"id\":\"car\",\"pcu\":1},{\"id\":\"escort\"}]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.vehicle_classes[0]: ", "unknown field \"pcu\"");
}
END_TEST

/* The format's own example: a misspelt yelow_s must not silently become a default. */
START_TEST(test_misspelt_yellow) {
    json_t *doc = fixture();
    del(doc, "signals[0].groups[1]", "yellow_s");
    set(doc, "signals[0].groups[1]", "yelow_s", "4");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].groups[1]: ", "unknown field \"yelow_s\"",
                 "yellow_s");
}
END_TEST

START_TEST(test_unknown_top_level_field) {
    json_t *doc = fixture();
    set(doc, "", "duration", "600");
    EXPECT_ERROR(doc, BASE_EINVAL, NAME ": $: ", "unknown field \"duration\"");
}
END_TEST

static const struct {
    const char *obj, *key, *value, *want;
} WRONG_TYPE[] = {
    {"links[0]", "length_m", "\"200\"", "must be a number, got a string"},
    {"", "duration_s", "true", "must be a number, got a boolean"},
    {"detectors[1]", "distance_m", "null", "must be a number, got null"},
    {"nodes[1]", "kind", "3", "must be a string, got a number"},
    {"nodes[1]", "name", "5", "must be a string, got a number"},
    {"", "description", "[]", "must be a string, got an array"},
    {"links[0]", "lanes", "2.5", "integer"},
    {"links[0]", "lanes", "\"2\"", "integer"},
    {"", "nodes", "{}", "must be an array, got an object"},
    {"signals[0]", "groups", "{}", "must be an array, got an object"},
    {"escorts[0]", "route", "{\"0\":\"S_in\"}", "must be an array, got an object"},
    {"demand.flows[0]", "vph", "300", "must be an array, got a number"},
    {"", "model", "[]", "must be an object, got an array"},
    {"model", "depart_from_rest", "1", "must be true or false, got a number"},
    {"", "demand", "3", "must be an object, got a number"},
    {"demand.flows[0]", "class_mix", "[\"car\"]", "must be an object, got an array"},
    {"", "start_time", "27000", "time of day"},
    {"movements[0]", "from", "5", "link id"},
    {"links[0]", "to", "{}", "node id"},
    {"signals[0].schedule[0]", "plan", "1", "plan id"},
    {"nodes[1]", "id", "7", "non-empty string"},
    {"nodes[1]", "id", "\"\"", "non-empty string"},
    {"links[0]", "name", "\"\"", "must not be empty"},
};

START_TEST(test_wrong_type) {
    json_t *doc = fixture();
    set(doc, WRONG_TYPE[_i].obj, WRONG_TYPE[_i].key, WRONG_TYPE[_i].value);
    if (strcmp(WRONG_TYPE[_i].key, "id") == 0) { /* an id is checked by its entry */
        char path[128];
        json_path(path, sizeof path, WRONG_TYPE[_i].obj, NULL);
        strncat(path, ".id: ", sizeof path - strlen(path) - 1);
        EXPECT_ERROR(doc, BASE_EINVAL, path, WRONG_TYPE[_i].want);
    } else {
        expect_field_error(doc, WRONG_TYPE[_i].obj, WRONG_TYPE[_i].key, WRONG_TYPE[_i].want);
    }
}
END_TEST

static const struct {
    const char *obj, *key, *value, *want;
} OUT_OF_RANGE[] = {
    {"links[0]", "length_m", "-5", "must be in [0.1, 100000], got -5"},
    {"links[0]", "length_m", "0", "must be in [0.1, 100000], got 0"},
    {"links[0]", "lanes", "0", "must be an integer in [1, 16], got 0"},
    {"links[0]", "lanes", "-2", "must be an integer in [1, 16], got -2"},
    {"links[0]", "free_speed_kmh", "0", "[1, 300], got 0"},
    {"links[0]", "sat_flow_vphpl", "-1800", "[100, 4000], got -1800"},
    {"links[0]", "jam_spacing_m", "0", "[1, 50], got 0"},
    {"movements[1]", "sat_factor", "1.5", "must be in [0.05, 1], got 1.5"},
    {"movements[1]", "sat_factor", "0", "must be in [0.05, 1], got 0"},
    {"movements[1]", "crossing_length_m", "-1", "must be in [0, 1000], got -1"},
    {"movements[1]", "crossing_length_m", "1001", "must be in [0, 1000], got 1001"},
    {"movements[1]", "crossing_speed_kmh", "0", "must be in [1, 300], got 0"},
    {"movements[1]", "crossing_speed_kmh", "\"fast\"", "must be a number, got a string"},
    {"movements[0]", "lanes", "0", "[1, 16]"},
    {"movements[6]", "lanes", "3", "has only 2"},
    {"escorts[0]", "yield_factor", "1.5", "must be in [0, 1], got 1.5"},
    {"escorts[0]", "yield_factor", "-0.1", "must be in [0, 1], got -0.1"},
    {"escorts[0]", "depart_s", "-1", "[0, 864000], got -1"},
    {"escorts[0]", "desired_speed_kmh", "0", "[1, 300], got 0"},
    {"", "duration_s", "0", "(0, 864000], got 0"},
    {"", "duration_s", "-600", "(0, 864000]"},
    {"model", "startup_lost_time_s", "-1", "[0, 60], got -1"},
    {"model", "min_speed_fraction", "0", "[0.01, 1]"},
    {"model", "min_speed_fraction", "1.01", "[0.01, 1]"},
    {"model", "stop_wait_s", "-0.5", "[0, 600]"},
    {"signals[0].groups[0]", "min_green_s", "0", "(0, 3600]"},
    {"signals[0].groups[0]", "max_green_s", "5", "[10, 3600]"},
    {"signals[0].groups[0]", "yellow_s", "0", "(0, 60]"},
    {"signals[0].groups[0]", "red_clearance_s", "-1", "[0, 60]"},
    {"signals[0].plans[0]", "cycle_s", "0", "(0, 3600]"},
    {"signals[0].plans[0]", "offset_s", "-1", "[0, 3600]"},
    {"detectors[1]", "distance_m", "250", "[0, 200], got 250"},
    {"detectors[1]", "distance_m", "-1", "[0, 200], got -1"},
    {"demand", "interval_s", "0", "[1, 86400], got 0"},
    {"demand.trips[0]", "depart_s", "-5", "[0, 864000]"},
    {"", "vehicle_classes", "[{\"id\":\"car\",\"pce\":0},{\"id\":\"escort\"}]", "pce"},
    /* Issue 11: absurd but well-formed numbers that overflowed 64-bit time arithmetic. */
    {"links[0]", "free_speed_kmh", "1e-300", "[1, 300], got 1e-300"},
    {"links[0]", "length_m", "1e300", "[0.1, 100000], got 1e+300"},
    {"links[0]", "length_m", "5e15", "[0.1, 100000], got 5e+15"},
    {"links[0]", "sat_flow_vphpl", "1e-300", "[100, 4000], got 1e-300"},
    {"links[0]", "jam_spacing_m", "1e300", "[1, 50], got 1e+300"},
    {"links[0]", "lanes", "2147483647", "[1, 16], got 2147483647"},
    {"links[0]", "lanes", "9223372036854775807", "[1, 16], got 9223372036854775807"},
    {"movements[1]", "sat_factor", "1e-300", "[0.05, 1], got 1e-300"},
    {"movements[1]", "crossing_speed_kmh", "1e-300", "[1, 300], got 1e-300"},
    {"movements[1]", "crossing_length_m", "1e300", "[0, 1000], got 1e+300"},
    {"escorts[0]", "desired_speed_kmh", "1e-300", "[1, 300], got 1e-300"},
    {"escorts[0]", "desired_speed_kmh", "1e300", "[1, 300], got 1e+300"},
    {"escorts[0]", "depart_s", "1e18", "[0, 864000], got 1e+18"},
    {"", "duration_s", "9.3e15", "(0, 864000], got 9.3e+15"},
    {"model", "min_speed_fraction", "1e-300", "[0.01, 1], got 1e-300"},
    {"model", "startup_lost_time_s", "1e300", "[0, 60], got 1e+300"},
    {"signals[0].groups[0]", "min_green_s", "1e300", "(0, 3600], got 1e+300"},
    {"signals[0].groups[0]", "yellow_s", "9e15", "(0, 60], got 9e+15"},
    {"signals[0].plans[0]", "cycle_s", "9.3e15", "(0, 3600], got 9.3e+15"},
    {"demand", "interval_s", "1e-300", "[1, 86400], got 1e-300"},
    {"demand.trips[0]", "depart_s", "1e300", "[0, 864000], got 1e+300"},
    {"nodes[0]", "x_m", "1e300", "[-1e+07, 1e+07], got 1e+300"},
    {"nodes[0]", "y_m", "-1e300", "[-1e+07, 1e+07], got -1e+300"},
};
START_TEST(test_out_of_range) {
    json_t *doc = fixture();
    set(doc, OUT_OF_RANGE[_i].obj, OUT_OF_RANGE[_i].key, OUT_OF_RANGE[_i].value);
    if (strcmp(OUT_OF_RANGE[_i].key, "vehicle_classes") == 0)
        expect_field_error(doc, "vehicle_classes[0]", "pce", "[0.1, 20], got 0");
    else
        expect_field_error(doc, OUT_OF_RANGE[_i].obj, OUT_OF_RANGE[_i].key, OUT_OF_RANGE[_i].want);
}
END_TEST

START_TEST(test_offset_not_below_cycle) {
    static const char *const offsets[] = {"60", "75.5"};
    for (size_t i = 0; i < N_ELEMS(offsets); i++) {
        json_t *doc = fixture();
        set(doc, "signals[0].plans[0]", "offset_s", offsets[i]);
        EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].plans[0]", "offset_s", "less than cycle_s");
    }
}
END_TEST

START_TEST(test_bad_enum) {
    json_t *doc = fixture();
    set(doc, "nodes[1]", "kind", "\"roundabout\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.nodes[1].kind: ", "\"roundabout\"");
    doc = fixture();
    set(doc, "movements[0]", "turn", "\"straight\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.movements[0].turn: ", "\"straight\"");
    doc = fixture();
    set(doc, "detectors[0]", "kind", "\"loop\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.detectors[0].kind: ", "\"loop\"");
}
END_TEST

START_TEST(test_empty_arrays) {
    static const struct {
        const char *obj, *key, *path, *want;
    } cases[] = {
        {"", "nodes", "$.nodes", "must not be empty"},
        {"", "links", "$.links", "must not be empty"},
        {"", "vehicle_classes", "$.vehicle_classes", "must not be empty"},
        {"signals[0]", "groups", "$.signals[0]", "must not be empty"},
        {"signals[0]", "plans", "$.signals[0]", "must not be empty"},
        {"signals[0].stages[0]", "groups", "$.signals[0].stages[0]", "at least one group"},
        {"corridors[0]", "links", "$.corridors[0]", "must not be empty"},
        {"escorts[0]", "route", "$.escorts[0]", "must not be empty"},
        {"demand.flows[0]", "vph", "$.demand.flows[0]", "must not be empty"},
    };
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        json_t *doc = fixture();
        set(doc, cases[i].obj, cases[i].key, "[]");
        EXPECT_ERROR(doc, BASE_EINVAL, cases[i].path, cases[i].want);
    }
}
END_TEST

/* An array of objects holding something else. */
static const char *const OBJECT_ARRAYS[] = {
    "nodes",
    "links",
    "movements",
    "signals",
    "corridors",
    "detectors",
    "demand.flows",
    "demand.trips",
    "escorts",
    "signals[0].groups",
    "signals[0].stages",
    "signals[0].plans",
    "signals[0].schedule",
};

START_TEST(test_entry_not_object) {
    json_t *doc = fixture();
    ck_assert_int_eq(json_array_set_new(at(doc, OBJECT_ARRAYS[_i]), 0, json_integer(5)), 0);
    char path[128];
    json_path(path, sizeof path, OBJECT_ARRAYS[_i], NULL);
    strcat(path, "[0]: ");
    EXPECT_ERROR(doc, BASE_EINVAL, path, "must be an object, got a number");
}
END_TEST

START_TEST(test_bad_flow_values) {
    json_t *doc = fixture();
    set(doc, "demand.flows[0]", "vph", "[300, -1]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[0]", "vph[1]", "[0, 20000]");
    doc = fixture();
    set(doc, "demand.flows[0]", "vph", "[300, 1e300]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[0]", "vph[1]", "[0, 20000]");
    doc = fixture();
    set(doc, "demand.flows[0]", "class_mix", "{\"car\": 1e308, \"escort\": 1e308}");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[0].class_mix", "(0, 1e6]");
    doc = fixture();
    set(doc, "demand.flows[0]", "vph", "[300, \"400\"]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[0]", "vph[1]", "number");
    doc = fixture();
    set(doc, "demand.flows[0]", "class_mix", "{\"car\": 0}");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[0].class_mix", "\"car\"", "(0, 1e6]");
    doc = fixture();
    set(doc, "demand.flows[0]", "class_mix", "{}");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[0].class_mix", "at least one class");
    doc = fixture();
    set(doc, "demand", "interval_s", "0.0001");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand", "interval_s");
}
END_TEST

/* ---- identifiers and references ------------------------------------------------------- */

static const struct {
    const char *arr, *what, *id;
} DUPLICATE[] = {
    {"nodes", "node", "C"},
    {"links", "link", "N_in"},
    {"movements", "movement", "N_T"},
    {"signals[0].groups", "signal group", "NS"},
    {"signals[0].stages", "stage", "S1"},
    {"signals[0].plans", "plan", "P1"},
    {"corridors", "corridor", "EB"},
    {"detectors", "detector", "D_stop"},
    {"escorts", "escort", "ESC1"},
};

/* Appends a copy of the first entry: the same id twice. */
START_TEST(test_duplicate_id) {
    json_t *doc = fixture();
    json_t *arr = at(doc, DUPLICATE[_i].arr);
    size_t n = json_array_size(arr);
    ck_assert_int_eq(json_array_append_new(arr, json_deep_copy(json_array_get(arr, 0))), 0);
    char path[128], what[128];
    snprintf(path, sizeof path, "$.%s[%zu]: ", DUPLICATE[_i].arr, n);
    snprintf(what, sizeof what, "duplicate %s id \"%s\"", DUPLICATE[_i].what, DUPLICATE[_i].id);
    EXPECT_ERROR(doc, BASE_EINVAL, path, what);
}
END_TEST

START_TEST(test_duplicate_class_id) {
    json_t *doc = fixture();
    set(doc, "", "vehicle_classes", "[{\"id\":\"car\"},{\"id\":\"escort\"},{\"id\":\"car\"}]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.vehicle_classes[2]: ", "duplicate class id \"car\"");
}
END_TEST

static const struct {
    const char *obj, *key, *value, *path, *want;
} DANGLING[] = {
    {"links[0]", "from", "\"X9\"", "$.links[0].from: ", "unknown node \"X9\""},
    {"links[7]", "to", "\"X9\"", "$.links[7].to: ", "unknown node \"X9\""},
    {"movements[0]", "from", "\"L99\"", "$.movements[0].from: ", "unknown link \"L99\""},
    {"movements[9]", "to", "\"L99\"", "$.movements[9].to: ", "unknown link \"L99\""},
    {"signals[0]", "node", "\"X9\"", "$.signals[0].node: ", "unknown node \"X9\""},
    {"signals[0].groups[0]", "movements", "[\"N_T\",\"M99\"]",
     "$.signals[0].groups[0].movements[1]: ", "unknown movement \"M99\""},
    {"signals[0]", "conflicts", "[[\"NS\",\"G9\"]]",
     "$.signals[0].conflicts[0][1]: ", "unknown signal group \"G9\""},
    {"signals[0].stages[1]", "groups", "[\"EW\",\"G9\"]",
     "$.signals[0].stages[1].groups[1]: ", "unknown signal group \"G9\""},
    {"signals[0].schedule[0]", "plan", "\"P9\"",
     "$.signals[0].schedule[0].plan: ", "unknown plan \"P9\""},
    {"corridors[0]", "links", "[\"W_in\",\"L99\"]",
     "$.corridors[0].links[1]: ", "unknown link \"L99\""},
    {"detectors[1]", "link", "\"L99\"", "$.detectors[1].link: ", "unknown link \"L99\""},
    {"demand.flows[0]", "origin", "\"L99\"", "$.demand.flows[0].origin: ", "unknown link \"L99\""},
    {"demand.flows[0]", "destination", "\"L99\"",
     "$.demand.flows[0].destination: ", "unknown link \"L99\""},
    {"demand.flows[0]", "via", "[\"L99\"]", "$.demand.flows[0].via[0]: ", "unknown link \"L99\""},
    {"demand.trips[0]", "origin", "\"L99\"", "$.demand.trips[0].origin: ", "unknown link \"L99\""},
    {"escorts[0]", "route", "[\"S_in\",\"L99\"]",
     "$.escorts[0].route[1]: ", "unknown link \"L99\""},
    {"demand.flows[0]", "class_mix", "{\"car\":1,\"tank\":1}",
     "$.demand.flows[0].class_mix: ", "unknown vehicle class \"tank\""},
    {"demand.trips[0]", "class", "\"tank\"", "$.demand.trips[0]", "unknown vehicle class \"tank\""},
    {"escorts[0]", "class", "\"tank\"", "$.escorts[0]", "unknown vehicle class \"tank\""},
};

START_TEST(test_dangling_reference) {
    json_t *doc = fixture();
    set(doc, DANGLING[_i].obj, DANGLING[_i].key, DANGLING[_i].value);
    EXPECT_ERROR(doc, BASE_EINVAL, DANGLING[_i].path, DANGLING[_i].want);
}
END_TEST

/* A flow without class_mix defaults to "car", which a custom class list may lack. */
START_TEST(test_default_class_missing) {
    json_t *doc = fixture();
    set(doc, "", "vehicle_classes", "[{\"id\":\"truck\"},{\"id\":\"escort\"}]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[0]", "\"car\"");
    doc = fixture();
    set(doc, "", "vehicle_classes", "[{\"id\":\"truck\"},{\"id\":\"car\"}]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.escorts[0]", "unknown vehicle class \"escort\"");
}
END_TEST

/* ---- topology ------------------------------------------------------------------------ */

START_TEST(test_link_loops_on_node) {
    json_t *doc = fixture();
    set(doc, "links[0]", "to", "\"N\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.links[0]", "same node \"N\"");
}
END_TEST

/* N_out ends at N; S_out starts at C. */
START_TEST(test_movement_links_do_not_meet) {
    json_t *doc = fixture();
    set(doc, "movements[0]", "from", "\"N_out\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.movements[0]: ", "\"N_out\" and \"S_out\" do not meet");
}
END_TEST

START_TEST(test_corridor_not_consecutive) {
    json_t *doc = fixture();
    set(doc, "corridors[0]", "links", "[\"W_in\",\"N_in\"]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.corridors[0]", "links[1] \"N_in\" does not start where",
                 "\"W_in\" ends");
}
END_TEST

/* W_in and W_out meet at C, but no movement turns back. */
START_TEST(test_corridor_without_movement) {
    json_t *doc = fixture();
    set(doc, "corridors[0]", "links", "[\"W_in\",\"W_out\"]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.corridors[0]",
                 "no movement from link \"W_in\" to link "
                 "\"W_out\"");
}
END_TEST

START_TEST(test_escort_route_not_consecutive) {
    json_t *doc = fixture();
    set(doc, "escorts[0]", "route", "[\"S_in\",\"N_out\",\"E_out\"]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.escorts[0]", "route[2] \"E_out\" does not start where");
    doc = fixture();
    set(doc, "escorts[0]", "route", "[\"S_in\",\"S_out\"]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.escorts[0]", "no movement from link \"S_in\"");
}
END_TEST

START_TEST(test_unreachable_destination) {
    json_t *doc = fixture();
    set(doc, "demand.flows[0]", "destination", "\"W_out\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[0]: ", "no path", "\"W_out\"");
    doc = fixture();
    set(doc, "demand.trips[0]", "destination", "\"N_out\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.trips[0]: ", "no path", "\"N_out\"");
    /* Via a dead end: N_out leads nowhere. */
    doc = fixture();
    set(doc, "demand.flows[0]", "via", "[\"N_out\"]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[0]: ", "no path");
}
END_TEST

/* ---- signals --------------------------------------------------------------------------- */

START_TEST(test_stage_greens_conflicting_groups) {
    json_t *doc = fixture();
    set(doc, "signals[0].stages[0]", "groups", "[\"NS\",\"EW\"]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].stages[0]: ", "conflicting groups", "\"NS\"",
                 "\"EW\"");
}
END_TEST

START_TEST(test_group_green_in_no_stage) {
    json_t *doc = fixture();
    set(doc, "signals[0].stages[1]", "groups", "[\"NS\"]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0]", "group \"EW\" is green in no stage");
}
END_TEST

START_TEST(test_bad_conflict_pair) {
    json_t *doc = fixture();
    set(doc, "signals[0]", "conflicts", "[[\"NS\"]]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].conflicts[0]", "pair");
    doc = fixture();
    set(doc, "signals[0]", "conflicts", "[[\"NS\",\"NS\"]]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].conflicts[0]", "itself");
}
END_TEST

START_TEST(test_splits_do_not_add_up) {
    json_t *doc = fixture();
    set(doc, "signals[0].plans[0]", "splits_s", "[30, 20]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].plans[0]: ", "add up to 50", "cycle_s is 60");
}
END_TEST

START_TEST(test_splits_count) {
    json_t *doc = fixture();
    set(doc, "signals[0].plans[0]", "splits_s", "[60]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].plans[0].splits_s: ", "one entry per stage");
    doc = fixture();
    set(doc, "signals[0].plans[0]", "splits_s", "[0, 60]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].plans[0].splits_s[0]: ", "(0, 3600], got 0");
    /* Issue 11: splits whose sum passes 2^63 ms overflowed the sum (UB) before the check. */
    doc = fixture();
    set(doc, "signals[0].plans[0]", "splits_s", "[30, 4.7e15]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].plans[0].splits_s[1]: ", "(0, 3600], got 4.7e+15");
    doc = fixture();
    set(doc, "signals[0].plans[0]", "splits_s", "[30, 1e300]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].plans[0].splits_s[1]: ", "got 1e+300");
    doc = fixture();
    set(doc, "signals[0].plans[0]", "splits_s", "[30, \"30\"]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].plans[0].splits_s[1]: ", "got a string");
}
END_TEST

/* 12 s minus an intergreen of 3 + 2 s leaves 7 s, less than NS's min_green_s of 10. */
START_TEST(test_split_below_min_green) {
    json_t *doc = fixture();
    set(doc, "signals[0].plans[0]", "splits_s", "[12, 48]");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].plans[0]: ", "stage \"S1\"", "7 s of green",
                 "min_green_s", "\"NS\"");
}
END_TEST

/* 15 s minus 5 s is exactly the minimum: accepted. */
START_TEST(test_split_at_min_green) {
    json_t *doc = fixture();
    set(doc, "signals[0].plans[0]", "splits_s", "[15, 45]");
    sim_scenario_t *scn = load_ok(doc);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_signalized_node_without_signals) {
    json_t *doc = fixture();
    set(doc, "nodes[1]", "kind", "\"signalized\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.nodes[1]: ", "signalized node \"N\"", "\"signals\"");
    doc = fixture();
    del(doc, "", "signals");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.nodes[0]: ", "signalized node \"C\"");
}
END_TEST

START_TEST(test_signals_for_unsignalized_node) {
    json_t *doc = fixture();
    set(doc, "nodes[0]", "kind", "\"unsignalized\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0]: ", "node \"C\"", "\"signalized\"");
    doc = fixture();
    set(doc, "signals[0]", "node", "\"N\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0]: ", "node \"N\"", "\"signalized\"");
}
END_TEST

START_TEST(test_two_signals_for_one_node) {
    json_t *doc = fixture();
    json_t *sigs = at(doc, "signals");
    json_array_append_new(sigs, json_deep_copy(json_array_get(sigs, 0)));
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[1]: ", "node \"C\" already has signals");
}
END_TEST

/* S_R ($.movements[5]) taken out of group NS. */
START_TEST(test_movement_in_no_group) {
    json_t *doc = fixture();
    ck_assert_int_eq(json_array_remove(at(doc, "signals[0].groups[0].movements"), 5), 0);
    EXPECT_ERROR(doc, BASE_EINVAL, "$.movements[5]: ", "\"S_R\"", "no signal group");
}
END_TEST

START_TEST(test_movement_in_two_groups) {
    json_t *doc = fixture();
    append(doc, "signals[0].groups[1].movements", "\"N_T\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].groups[1]: ", "\"N_T\"",
                 "already in group \"NS\"");
}
END_TEST

/* A group of the signal at N listing a movement that crosses C. */
START_TEST(test_group_movement_at_other_node) {
    json_t *doc = fixture();
    set(doc, "nodes[1]", "kind", "\"signalized\"");
    append(doc, "signals",
           "{\"node\":\"N\",\"groups\":[{\"id\":\"G\",\"movements\":[\"N_T\"],"
           "\"min_green_s\":5,\"max_green_s\":5,\"yellow_s\":3,\"red_clearance_s\":0}],"
           "\"stages\":[{\"id\":\"s\",\"groups\":[\"G\"]}],"
           "\"plans\":[{\"id\":\"p\",\"cycle_s\":60,\"splits_s\":[60]}],"
           "\"schedule\":[{\"from\":\"00:00\",\"plan\":\"p\"}]}");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[1].groups[0]: ", "\"N_T\"",
                 "does not cross node \"N\"");
}
END_TEST

START_TEST(test_schedule_errors) {
    json_t *doc = fixture();
    set(doc, "signals[0].schedule[0]", "from", "\"06:00\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].schedule[0]: ", "\"00:00\"");
    doc = fixture();
    append(doc, "signals[0].schedule", "{\"from\":\"06:00\",\"plan\":\"P1\"}");
    append(doc, "signals[0].schedule", "{\"from\":\"05:00\",\"plan\":\"P1\"}");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].schedule[2]: ", "increasing order");
    doc = fixture();
    set(doc, "signals[0].schedule[0]", "from", "\"24:00\"");
    EXPECT_ERROR(doc, BASE_EINVAL, "$.signals[0].schedule[0].from: ", "time of day", "\"24:00\"");
}
END_TEST

static const char *const BAD_START_TIME[] = {
    "\"7:30\"", "\"07:30\"", "\"25:00:00\"", "\"07:60:00\"", "\"07:30:60\"", "\"07:30:00Z\"",
    "\"\"",     "\"noon\"",  "\"07-30-00\"", "\"-1:30:00\"", "\"07:30:\"",
};

START_TEST(test_bad_start_time) {
    json_t *doc = fixture();
    set(doc, "", "start_time", BAD_START_TIME[_i]);
    expect_field_error(doc, "", "start_time", "HH:MM:SS");
}
END_TEST

/* ---- files ----------------------------------------------------------------------------- */

START_TEST(test_file_not_found) {
    char path[4096];
    snprintf(path, sizeof path, "%s", gw_test_source_path("tests/data/no-such-file.json"));
    base_err_t err = {0};
    ck_assert_ptr_null(scn_loader_load_file(path, &err));
    ck_assert_int_eq(err.code, BASE_EIO);
    must_contain(&err, path);
    must_contain(&err, "cannot open");
}
END_TEST

START_TEST(test_file_is_directory) {
    char path[4096];
    snprintf(path, sizeof path, "%s", gw_test_source_path("tests/data"));
    base_err_t err = {0};
    ck_assert_ptr_null(scn_loader_load_file(path, &err));
    ck_assert_int_eq(err.code, BASE_EIO);
    must_contain(&err, path);
}
END_TEST

START_TEST(test_file_empty) {
    char path[4096];
    snprintf(path, sizeof path, "%s/loader-empty-XXXXXX", GW_BINARY_DIR);
    int fd = mkstemp(path);
    ck_assert_msg(fd >= 0, "mkstemp %s", path);
    close(fd);
    base_err_t err = {0};
    sim_scenario_t *scn = scn_loader_load_file(path, &err);
    unlink(path);
    ck_assert_ptr_null(scn);
    ck_assert_int_eq(err.code, BASE_EPARSE);
    must_contain(&err, path);
    must_contain(&err, "syntax error");
}
END_TEST

/* The broken files of tests/data (also run through greenwave-sim by e2e_bad_input.sh). */
static const struct {
    const char *file;
    int code;
    const char *want[3];
} BAD_FILES[] = {
    {"bad-syntax.json", BASE_EPARSE, {"bad-syntax.json:8:5: syntax error", NULL}},
    {"bad-dangling.json", BASE_EINVAL, {"$.links[1].from: ", "unknown node \"X9\"", NULL}},
    {"bad-conflict.json", BASE_EINVAL, {"$.signals[0].stages[0]: ", "conflicting groups", NULL}},
    {"bad-negative-length.json", BASE_EINVAL, {"$.links[0]", "length_m", "got -10"}},
};

START_TEST(test_bad_fixture_files) {
    char rel[256], path[4096];
    snprintf(rel, sizeof rel, "tests/data/%s", BAD_FILES[_i].file);
    snprintf(path, sizeof path, "%s", gw_test_source_path(rel));
    base_err_t err = {0};
    ck_assert_ptr_null(scn_loader_load_file(path, &err));
    ck_assert_int_eq(err.code, BAD_FILES[_i].code);
    must_contain(&err, path);
    for (size_t k = 0; k < N_ELEMS(BAD_FILES[_i].want) && BAD_FILES[_i].want[k]; k++)
        must_contain(&err, BAD_FILES[_i].want[k]);
}
END_TEST

/* ---- inputs that must fail cleanly ----------------------------------------------------- */

/* Every proper prefix of the file (up to its closing brace) is a syntax error. */
START_TEST(test_truncated) {
    size_t len;
    char *text = read_text(MINIMAL, &len);
    char *end = strrchr(text, '}');
    ck_assert_ptr_nonnull(end);
    size_t last = (size_t)(end - text);
    char *buf = malloc(len + 1);
    ck_assert_ptr_nonnull(buf);
    for (size_t n = 0; n <= last; n++) {
        memcpy(buf, text, n);
        buf[n] = '\0';
        base_err_t err = {0};
        sim_scenario_t *scn = scn_loader_load_string(buf, NAME, &err);
        ck_assert_msg(scn == NULL, "prefix of %zu bytes loaded", n);
        ck_assert_msg(err.code == BASE_EPARSE, "prefix of %zu bytes: code %d: %s", n, err.code,
                      err.msg);
        ck_assert_msg(strstr(err.msg, NAME ":") == err.msg && strstr(err.msg, "syntax error"),
                      "prefix of %zu bytes: %s", n, err.msg);
    }
    free(buf);
    free(text);
}
END_TEST

static uint64_t xorshift64(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A load either succeeds or fails with a parse or content error naming the file. */
static void check_clean(const char *text, const char *what) {
    base_err_t err = {0};
    sim_scenario_t *scn = scn_loader_load_string(text, NAME, &err);
    if (scn != NULL) {
        sim_scenario_destroy(&scn);
        return;
    }
    ck_assert_msg(err.code == BASE_EPARSE || err.code == BASE_EINVAL, "%s: code %d: %s", what,
                  err.code, err.msg);
    ck_assert_msg(strncmp(err.msg, NAME, strlen(NAME)) == 0 && strlen(err.msg) > strlen(NAME) + 2,
                  "%s: message \"%s\"", what, err.msg);
    /* A content error names a JSON path. */
    if (err.code == BASE_EINVAL)
        ck_assert_msg(strncmp(err.msg, NAME ": $", strlen(NAME ": $")) == 0,
                      "%s: message without a JSON path: \"%s\"", what, err.msg);
}

START_TEST(test_byte_flips) {
    size_t len;
    char *text = read_text(MINIMAL, &len);
    char *buf = malloc(len + 1);
    ck_assert_ptr_nonnull(buf);
    uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
    for (int iter = 0; iter < 500; iter++) {
        memcpy(buf, text, len + 1);
        int flips = 1 + (int)(xorshift64(&seed) % 3);
        char what[64];
        snprintf(what, sizeof what, "iteration %d", iter);
        for (int k = 0; k < flips; k++) {
            size_t pos = (size_t)(xorshift64(&seed) % len);
            uint64_t r = xorshift64(&seed);
            /* Half the time a JSON-significant character, else any byte but NUL. */
            static const char special[] = "{}[]:,\"\\-.0123456789eE tfn";
            buf[pos] =
                (r & 1) ? special[(r >> 8) % (sizeof special - 1)] : (char)(1 + (r >> 8) % 255);
        }
        check_clean(buf, what);
    }
    free(buf);
    free(text);
}
END_TEST

/* Every member and array entry of the fixture replaced, in turn, by values of every JSON type
 * (and every member deleted): each load succeeds or fails cleanly with a JSON path. */
static const char *const REPLACEMENTS[] = {
    "null", "true", "0", "-1", "0.5", "1e300", "-1e300", "\"\"", "\"x\"", "[]", "{}", "[{}]",
};

static int sweep_count;

static void sweep_check(json_t *doc, const char *where) {
    char *text = json_dumps(doc, JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    check_clean(text, where);
    free(text);
    sweep_count++;
}

static void sweep(json_t *doc, json_t *v, const char *path) {
    char sub[512], where[640];
    if (json_is_object(v)) {
        /* Keys first, so that deleting and re-adding members does not disturb the walk. */
        size_t n = json_object_size(v), k = 0;
        char **keys = calloc(n + 1, sizeof *keys);
        ck_assert_ptr_nonnull(keys);
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) {
            (void)val;
            keys[k] = strdup(key); /* a deleted member's key dies with it */
            ck_assert_ptr_nonnull(keys[k]);
            k++;
        }
        for (k = 0; k < n; k++) {
            json_t *old = json_incref(json_object_get(v, keys[k]));
            snprintf(sub, sizeof sub, "%s.%s", path, keys[k]);
            for (size_t r = 0; r < N_ELEMS(REPLACEMENTS); r++) {
                json_object_set_new(v, keys[k], js(REPLACEMENTS[r]));
                snprintf(where, sizeof where, "%s = %s", sub, REPLACEMENTS[r]);
                sweep_check(doc, where);
            }
            json_object_del(v, keys[k]);
            snprintf(where, sizeof where, "%s deleted", sub);
            sweep_check(doc, where);
            json_object_set(v, keys[k], old);
            sweep(doc, old, sub);
            json_decref(old);
            free(keys[k]);
        }
        free(keys);
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *old = json_incref(json_array_get(v, i));
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            for (size_t r = 0; r < N_ELEMS(REPLACEMENTS); r++) {
                json_array_set_new(v, i, js(REPLACEMENTS[r]));
                snprintf(where, sizeof where, "%s = %s", sub, REPLACEMENTS[r]);
                sweep_check(doc, where);
            }
            json_array_set(v, i, old);
            sweep(doc, old, sub);
            json_decref(old);
        }
    }
}

START_TEST(test_type_sweep) {
    json_t *doc = fixture();
    sweep_count = 0;
    sweep(doc, doc, "$");
    ck_assert_int_gt(sweep_count, 1000);
    /* The walk restored everything. */
    sim_scenario_t *scn = load_ok(doc);
    sim_scenario_destroy(&scn);
}
END_TEST

/* ---- places where the loader departs from docs/scenario-format.md -------------------- */

/* The format's example: "bayiqi.json: $.links[3].lanes: must be an integer >= 1, got 0". */
START_TEST(test_field_error_path_as_documented) {
    json_t *doc = fixture();
    set(doc, "links[0]", "lanes", "0");
    EXPECT_ERROR(doc, BASE_EINVAL, NAME ": $.links[0].lanes: ", "integer in [1, 16], got 0");
}
END_TEST

/* "Identifiers (id) are strings, unique within their array": flows and trips too. */
START_TEST(test_duplicate_flow_and_trip_ids) {
    json_t *doc = fixture();
    json_t *flows = at(doc, "demand.flows");
    json_array_append_new(flows, json_deep_copy(json_array_get(flows, 0)));
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.flows[1]", "duplicate", "\"F1\"");
    doc = fixture();
    json_t *trips = at(doc, "demand.trips");
    json_array_append_new(trips, json_deep_copy(json_array_get(trips, 0)));
    EXPECT_ERROR(doc, BASE_EINVAL, "$.demand.trips[1]", "duplicate", "\"T1\"");
}
END_TEST

/* demand.trips is read entry by entry from the text (scenarios/json_split.h); spelt so that it
 * cannot be located ("tr\u0069ps"), it is read from the tree. Both give the same trips. */
START_TEST(test_trips_from_text_as_from_tree) {
    json_t *doc = fixture();
    json_t *trips = at(doc, "demand.trips");
    json_array_append_new(trips,
                          js("{\"id\": \"T2\", \"depart_s\": 7.5, \"origin\": \"S_in\", "
                             "\"destination\": \"N_out\", \"route\": [\"S_in\", \"N_out\"]}"));
    json_array_append_new(trips, js("{\"depart_s\": 1, \"origin\": \"N_in\", "
                                    "\"destination\": \"S_out\"}"));
    char *text = json_dumps(doc, JSON_INDENT(2));
    ck_assert_ptr_nonnull(text);
    char *hidden = strdup(text);
    ck_assert_ptr_nonnull(hidden);
    char *key = strstr(hidden, "\"trips\"");
    ck_assert_ptr_nonnull(key);
    size_t n = strlen(hidden);
    hidden = realloc(hidden, n + 6);
    ck_assert_ptr_nonnull(hidden);
    key = strstr(hidden, "\"trips\"");
    memmove(key + 8, key + 3, strlen(key + 3) + 1); /* "tr" + "\u0069" + "ps\"..." */
    memcpy(key + 3, "\\u0069", 6);
    base_err_t err = {0};
    sim_scenario_t *a = scn_loader_load_string(text, NAME, &err);
    ck_assert_msg(a != NULL, "%s", err.msg);
    sim_scenario_t *b = scn_loader_load_string(hidden, NAME, &err);
    ck_assert_msg(b != NULL, "%s", err.msg);
    ck_assert_int_eq(a->n_trips, 3);
    ck_assert_int_eq(b->n_trips, 3);
    for (int32_t i = 0; i < 3; i++) {
        const sim_trip_t *x = &a->trips[i], *y = &b->trips[i];
        ck_assert_str_eq(x->id, y->id);
        ck_assert_int_eq(x->seq, y->seq);
        ck_assert_int_eq(x->depart, y->depart);
        ck_assert_int_eq(x->origin, y->origin);
        ck_assert_int_eq(x->destination, y->destination);
        ck_assert_int_eq(x->vclass, y->vclass);
        ck_assert_int_eq(x->route.n_links, y->route.n_links);
        for (int32_t k = 0; k < x->route.n_links; k++)
            ck_assert_int_eq(x->route.links[k], y->route.links[k]);
    }
    ck_assert_str_eq(a->trips[0].id, "trip2"); /* sorted by departure, default id by position */
    sim_scenario_destroy(&a);
    sim_scenario_destroy(&b);
    /* A syntax error in a trip: the line and column jansson gives for the whole text. */
    char *bad = strstr(text, "7.5");
    ck_assert_ptr_nonnull(bad);
    memcpy(bad, "7.x", 3);
    json_error_t je;
    ck_assert_ptr_null(json_loads(text, JSON_REJECT_DUPLICATES, &je));
    char want[64];
    snprintf(want, sizeof want, NAME ":%d:%d: syntax error", je.line, je.column);
    ck_assert_ptr_null(scn_loader_load_string(text, NAME, &err));
    ck_assert_int_eq(err.code, BASE_EPARSE);
    must_contain(&err, want);
    free(text);
    free(hidden);
    json_decref(doc);
}
END_TEST

/* A time too large for int64 milliseconds must be refused, not wrapped to a negative time. */
static const struct {
    const char *obj, *key;
} HUGE_TIMES[] = {
    {"", "duration_s"},
    {"demand.trips[0]", "depart_s"},
    {"escorts[0]", "depart_s"},
    {"model", "startup_lost_time_s"},
    {"signals[0].groups[0]", "max_green_s"},
    {"signals[0].groups[0]", "yellow_s"}, /* else its intergreen escapes the split check */
    {"signals[0].groups[0]", "red_clearance_s"},
};

START_TEST(test_huge_time_refused) {
    json_t *doc = fixture();
    set(doc, HUGE_TIMES[_i].obj, HUGE_TIMES[_i].key, "1e300");
    expect_field_error(doc, HUGE_TIMES[_i].obj, HUGE_TIMES[_i].key, "");
}
END_TEST

/* max_speed_kmh is documented "number > 0". */
START_TEST(test_class_max_speed_zero) {
    json_t *doc = fixture();
    set(doc, "", "vehicle_classes", "[{\"id\":\"car\",\"max_speed_kmh\":0},{\"id\":\"escort\"}]");
    expect_field_error(doc, "vehicle_classes[0]", "max_speed_kmh", "[1, 300], got 0");
}
END_TEST

/* accel_mps2 and decel_mps2 are documented "number > 0". */
START_TEST(test_class_accel_zero) {
    json_t *doc = fixture();
    set(doc, "", "vehicle_classes", "[{\"id\":\"car\",\"accel_mps2\":0},{\"id\":\"escort\"}]");
    expect_field_error(doc, "vehicle_classes[0]", "accel_mps2", "[0.1, 20], got 0");
    doc = fixture();
    set(doc, "", "vehicle_classes", "[{\"id\":\"car\",\"decel_mps2\":-4.5},{\"id\":\"escort\"}]");
    expect_field_error(doc, "vehicle_classes[0]", "decel_mps2", "[0.1, 20], got -4.5");
    doc = fixture();
    set(doc, "", "vehicle_classes", "[{\"id\":\"car\",\"accel_mps2\":1e-300},{\"id\":\"escort\"}]");
    expect_field_error(doc, "vehicle_classes[0]", "accel_mps2", "[0.1, 20], got 1e-300");
}
END_TEST

START_TEST(test_id_too_long) {
    json_t *doc = fixture();
    char id[80];
    memset(id, 'x', 64);
    snprintf(id + 64, sizeof id - 64, "\"");
    char value[90];
    snprintf(value, sizeof value, "\"%s", id);
    set(doc, "links[0]", "id", value);
    EXPECT_ERROR(doc, BASE_EINVAL, "$.links[0].id: ", "at most 63 bytes long, got 64");
}
END_TEST

/* ---- suite ----------------------------------------------------------------------------- */

Suite *suite_scenarios_loader(void);
Suite *suite_scenarios_loader(void) {
    Suite *s = suite_create("scenarios_loader");

    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_minimal_counts);
    tcase_add_test(tc, test_minimal_units);
    tcase_add_test(tc, test_minimal_defaults);
    tcase_add_test(tc, test_movement_crossing);
    tcase_add_test(tc, test_minimal_references);
    tcase_add_test(tc, test_minimal_utf8_names);
    tcase_add_test(tc, test_start_time_default);
    tcase_add_test(tc, test_start_time_last_second);
    tcase_add_test(tc, test_schedule_two_plans);
    tcase_add_test(tc, test_custom_classes_and_mix);
    tcase_add_test(tc, test_optional_sections_absent);
    tcase_add_test(tc, test_load_file_minimal);
    tcase_add_test(tc, test_split_at_min_green);
    suite_add_tcase(s, tc);

    tc = tcase_create("syntax");
    tcase_add_test(tc, test_syntax_error_line_col);
    tcase_add_test(tc, test_top_level_array);
    tcase_add_test(tc, test_top_level_scalar);
    tcase_add_test(tc, test_empty_text);
    tcase_add_test(tc, test_trailing_garbage);
    tcase_add_test(tc, test_duplicate_json_keys);
    tcase_add_test(tc, test_wrong_format);
    tcase_add_test(tc, test_format_not_string);
    tcase_add_test(tc, test_wrong_version);
    tcase_add_test(tc, test_version_not_integer);
    suite_add_tcase(s, tc);

    tc = tcase_create("fields");
    tcase_add_loop_test(tc, test_missing_required_field, 0, (int)N_ELEMS(MISSING));
    tcase_add_loop_test(tc, test_unknown_field, 0, (int)N_ELEMS(OBJECTS));
    tcase_add_test(tc, test_unknown_field_in_vehicle_class);
    tcase_add_test(tc, test_misspelt_yellow);
    tcase_add_test(tc, test_unknown_top_level_field);
    tcase_add_loop_test(tc, test_wrong_type, 0, (int)N_ELEMS(WRONG_TYPE));
    tcase_add_loop_test(tc, test_out_of_range, 0, (int)N_ELEMS(OUT_OF_RANGE));
    tcase_add_test(tc, test_offset_not_below_cycle);
    tcase_add_test(tc, test_bad_enum);
    tcase_add_test(tc, test_empty_arrays);
    tcase_add_loop_test(tc, test_entry_not_object, 0, (int)N_ELEMS(OBJECT_ARRAYS));
    tcase_add_test(tc, test_bad_flow_values);
    tcase_add_loop_test(tc, test_bad_start_time, 0, (int)N_ELEMS(BAD_START_TIME));
    suite_add_tcase(s, tc);

    tc = tcase_create("references");
    tcase_add_loop_test(tc, test_duplicate_id, 0, (int)N_ELEMS(DUPLICATE));
    tcase_add_test(tc, test_duplicate_class_id);
    tcase_add_loop_test(tc, test_dangling_reference, 0, (int)N_ELEMS(DANGLING));
    tcase_add_test(tc, test_default_class_missing);
    suite_add_tcase(s, tc);

    tc = tcase_create("topology");
    tcase_add_test(tc, test_link_loops_on_node);
    tcase_add_test(tc, test_movement_links_do_not_meet);
    tcase_add_test(tc, test_corridor_not_consecutive);
    tcase_add_test(tc, test_corridor_without_movement);
    tcase_add_test(tc, test_escort_route_not_consecutive);
    tcase_add_test(tc, test_unreachable_destination);
    suite_add_tcase(s, tc);

    tc = tcase_create("signals");
    tcase_add_test(tc, test_stage_greens_conflicting_groups);
    tcase_add_test(tc, test_group_green_in_no_stage);
    tcase_add_test(tc, test_bad_conflict_pair);
    tcase_add_test(tc, test_splits_do_not_add_up);
    tcase_add_test(tc, test_splits_count);
    tcase_add_test(tc, test_split_below_min_green);
    tcase_add_test(tc, test_signalized_node_without_signals);
    tcase_add_test(tc, test_signals_for_unsignalized_node);
    tcase_add_test(tc, test_two_signals_for_one_node);
    tcase_add_test(tc, test_movement_in_no_group);
    tcase_add_test(tc, test_movement_in_two_groups);
    tcase_add_test(tc, test_group_movement_at_other_node);
    tcase_add_test(tc, test_schedule_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_test(tc, test_file_not_found);
    tcase_add_test(tc, test_file_is_directory);
    tcase_add_test(tc, test_file_empty);
    tcase_add_loop_test(tc, test_bad_fixture_files, 0, (int)N_ELEMS(BAD_FILES));
    suite_add_tcase(s, tc);

    tc = tcase_create("robustness");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_byte_flips);
    tcase_add_test(tc, test_type_sweep);
    suite_add_tcase(s, tc);

    tc = tcase_create("contract_gaps");
    tcase_add_test(tc, test_field_error_path_as_documented);
    tcase_add_test(tc, test_duplicate_flow_and_trip_ids);
    tcase_add_test(tc, test_trips_from_text_as_from_tree);
    tcase_add_loop_test(tc, test_huge_time_refused, 0, (int)N_ELEMS(HUGE_TIMES));
    tcase_add_test(tc, test_class_max_speed_zero);
    tcase_add_test(tc, test_class_accel_zero);
    tcase_add_test(tc, test_id_too_long);
    suite_add_tcase(s, tc);
    return s;
}
