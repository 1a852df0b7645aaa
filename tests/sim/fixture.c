/*
 * tests/sim/fixture.c - see fixture.h.
 */
#include "tests/sim/fixture.h"

#include "tests/support/support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double or_default(double v, double d) {
    return v > 0 ? v : d;
}

char *fixture_cross_json(const fixture_opts_t *o) {
    double in_len = or_default(o->in_len_m, 500), out_len = or_default(o->out_len_m, 500);
    int lanes = o->lanes > 0 ? o->lanes : 2;
    double sat = or_default(o->sat_flow_vphpl, 1800);
    double cycle = or_default(o->cycle_s, 100);
    double split1 = or_default(o->split1_s, cycle / 2);
    double yellow = or_default(o->yellow_s, 3), red = o->red_s > 0 ? o->red_s : 2;
    double ming = or_default(o->min_green_s, 5);
    double bl = or_default(o->bottleneck_len_m, 30);
    size_t cap = 16384;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    char east[2048];
    if (o->bottleneck_vphpl > 0) {
        snprintf(east, sizeof east,
                 "{\"id\":\"out_e\",\"from\":\"X\",\"to\":\"Y\",\"length_m\":%g,\"lanes\":1,"
                 "\"free_speed_kmh\":50,\"sat_flow_vphpl\":%g},"
                 "{\"id\":\"out_e2\",\"from\":\"Y\",\"to\":\"E\",\"length_m\":%g,\"lanes\":1,"
                 "\"free_speed_kmh\":50}",
                 bl, o->bottleneck_vphpl, out_len);
    } else {
        snprintf(east, sizeof east,
                 "{\"id\":\"out_e\",\"from\":\"X\",\"to\":\"E\",\"length_m\":%g,\"lanes\":%d,"
                 "\"free_speed_kmh\":50}",
                 out_len, lanes);
    }
    int n = snprintf(
        buf, cap,
        "{\"format\":\"greenwave-scenario\",\"version\":1,\"name\":\"cross\","
        "\"start_time\":\"%s\",\"duration_s\":3600,%s%s%s%s%s%s"
        "\"nodes\":["
        "{\"id\":\"W\",\"kind\":\"boundary\",\"x_m\":%g,\"y_m\":0},"
        "{\"id\":\"X\",\"kind\":\"signalized\",\"x_m\":0,\"y_m\":0},"
        "{\"id\":\"E\",\"kind\":\"boundary\",\"x_m\":%g,\"y_m\":0},"
        "{\"id\":\"Y\",\"kind\":\"unsignalized\",\"x_m\":%g,\"y_m\":0},"
        "{\"id\":\"N\",\"kind\":\"boundary\",\"x_m\":0,\"y_m\":300},"
        "{\"id\":\"S\",\"kind\":\"boundary\",\"x_m\":0,\"y_m\":-300}],"
        "\"links\":["
        "{\"id\":\"in_w\",\"from\":\"W\",\"to\":\"X\",\"length_m\":%g,\"lanes\":%d,"
        "\"free_speed_kmh\":50,\"sat_flow_vphpl\":%g},"
        "%s,"
        "{\"id\":\"in_n\",\"from\":\"N\",\"to\":\"X\",\"length_m\":300,\"lanes\":2,"
        "\"free_speed_kmh\":50},"
        "{\"id\":\"out_s\",\"from\":\"X\",\"to\":\"S\",\"length_m\":300,\"lanes\":2,"
        "\"free_speed_kmh\":50}],"
        "\"movements\":["
        "{\"id\":\"m_we\",\"from\":\"in_w\",\"to\":\"out_e\",\"turn\":\"through\"%s},"
        "{\"id\":\"m_ns\",\"from\":\"in_n\",\"to\":\"out_s\",\"turn\":\"through\"}%s],"
        "\"signals\":[{\"node\":\"X\","
        "\"groups\":["
        "{\"id\":\"G1\",\"movements\":[\"m_we\"],\"min_green_s\":%g,\"max_green_s\":90,"
        "\"yellow_s\":%g,\"red_clearance_s\":%g},"
        "{\"id\":\"G2\",\"movements\":[\"m_ns\"],\"min_green_s\":%g,\"max_green_s\":90,"
        "\"yellow_s\":%g,\"red_clearance_s\":%g}],"
        "\"conflicts\":[[\"G1\",\"G2\"]],"
        "\"stages\":[{\"id\":\"s1\",\"groups\":[\"G1\"]},{\"id\":\"s2\",\"groups\":[\"G2\"]}],"
        "\"plans\":[{\"id\":\"p1\",\"cycle_s\":%g,\"offset_s\":%g,\"splits_s\":[%g,%g]}%s],"
        "\"schedule\":%s}],"
        "\"corridors\":[{\"id\":\"we\",\"links\":[\"in_w\",\"out_e\"]}],"
        "\"detectors\":[{\"id\":\"d_w\",\"link\":\"in_w\",\"kind\":\"stop_line\"},"
        "{\"id\":\"a_w\",\"link\":\"in_w\",\"kind\":\"advance\",\"distance_m\":%g}]"
        "%s%s%s%s}",
        o->start_time ? o->start_time : "00:00:00", o->model ? "\"model\":" : "",
        o->model ? o->model : "", o->model ? "," : "", o->classes ? "\"vehicle_classes\":" : "",
        o->classes ? o->classes : "", o->classes ? "," : "", -in_len, out_len + bl, bl, in_len,
        lanes, sat, east, o->crossing ? o->crossing : "",
        o->bottleneck_vphpl > 0
            ? ",{\"id\":\"m_bn\",\"from\":\"out_e\",\"to\":\"out_e2\",\"turn\":\"through\"}"
            : "",
        ming, yellow, red, ming, yellow, red, cycle, o->offset_s, split1, cycle - split1,
        o->extra_plans ? o->extra_plans : "",
        o->schedule ? o->schedule : "[{\"from\":\"00:00\",\"plan\":\"p1\"}]",
        in_len < 60 ? in_len : 60, o->demand ? ",\"demand\":" : "", o->demand ? o->demand : "",
        o->escorts ? ",\"escorts\":" : "", o->escorts ? o->escorts : "");
    ck_assert_int_lt(n, (int)cap);
    return buf;
}

sim_scenario_t *fixture_cross(const fixture_opts_t *o) {
    char *json = fixture_cross_json(o);
    sim_scenario_t *scn = gw_test_load(json);
    free(json);
    return scn;
}

int32_t fixture_link(const sim_scenario_t *scn, const char *id) {
    for (int32_t i = 0; i < scn->n_links; i++)
        if (strcmp(scn->links[i].id, id) == 0)
            return i;
    return -1;
}

int32_t fixture_movement(const sim_scenario_t *scn, const char *id) {
    for (int32_t i = 0; i < scn->n_movements; i++)
        if (strcmp(scn->movements[i].id, id) == 0)
            return i;
    return -1;
}

int32_t fixture_detector(const sim_scenario_t *scn, const char *id) {
    for (int32_t i = 0; i < scn->n_detectors; i++)
        if (strcmp(scn->detectors[i].id, id) == 0)
            return i;
    return -1;
}

#define APPEND(arr, n, cap, val)                                                                   \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? (cap)*2 : 64;                                                          \
            (arr) = realloc((arr), (size_t)(cap) * sizeof *(arr));                                 \
            ck_assert_ptr_nonnull(arr);                                                            \
        }                                                                                          \
        (arr)[(n)++] = (val);                                                                      \
    } while (0)

static void rec_signal(void *ud, sim_time_t t, int32_t s, int32_t g, sim_signal_state_t st) {
    fixture_rec_t *r = ud;
    fixture_change_t c = {t, s, g, st};
    APPEND(r->changes, r->n_changes, r->cap_changes, c);
}

static void rec_trip(void *ud, const sim_trip_record_t *t) {
    fixture_rec_t *r = ud;
    APPEND(r->trips, r->n_trips, r->cap_trips, *t);
}

static void rec_escort(void *ud, const sim_escort_record_t *e) {
    fixture_rec_t *r = ud;
    APPEND(r->esc, r->n_esc, r->cap_esc, *e);
}

sim_observer_t fixture_recorder(fixture_rec_t *rec) {
    memset(rec, 0, sizeof *rec);
    return (sim_observer_t){.ud = rec,
                            .signal_changed = rec_signal,
                            .trip_finished = rec_trip,
                            .escort_passed = rec_escort};
}

void fixture_rec_free(fixture_rec_t *rec) {
    free(rec->changes);
    free(rec->trips);
    free(rec->esc);
    memset(rec, 0, sizeof *rec);
}

/* Replays the recorded changes and asserts that G1 and G2 (conflicting) are never both
 * non-red, and that each group's states cycle green -> yellow -> red -> green. */
void fixture_assert_safe(const fixture_rec_t *rec) {
    sim_signal_state_t st[2] = {SIM_SIGNAL_DARK, SIM_SIGNAL_DARK};
    for (int i = 0; i < rec->n_changes; i++) {
        const fixture_change_t *c = &rec->changes[i];
        ck_assert_int_lt(c->group, 2);
        sim_signal_state_t prev = st[c->group];
        if (prev == SIM_SIGNAL_GREEN)
            ck_assert_int_eq(c->state, SIM_SIGNAL_YELLOW);
        if (prev == SIM_SIGNAL_YELLOW)
            ck_assert_int_eq(c->state, SIM_SIGNAL_RED);
        if (prev == SIM_SIGNAL_RED)
            ck_assert_int_eq(c->state, SIM_SIGNAL_GREEN);
        st[c->group] = c->state;
        if (i + 1 < rec->n_changes && rec->changes[i + 1].t == c->t)
            continue; /* check once all changes at this instant are applied */
        ck_assert_msg(st[0] == SIM_SIGNAL_RED || st[1] == SIM_SIGNAL_RED,
                      "conflicting groups both not red at %lld ms", (long long)c->t);
    }
}
