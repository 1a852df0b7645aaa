/*
 * tests/proto/test_frame.c - suite proto_frame: frames round-trip through encode/decode and
 * through a recording file; malformed frames and bad recordings (wrong magic, other version,
 * truncated anywhere) are refused with a message, never read past their end.
 */
#include "proto/frame.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static proto_frame_t sample(void) {
    static uint8_t prio[3] = {PROTO_PRIO_REQUESTED, PROTO_PRIO_SERVING, PROTO_PRIO_RECOVERING};
    static uint8_t groups[5] = {1, 3, 2, 1, 3};
    static proto_vehicle_t veh[3] = {
        {7, 0, 12.5f, 0, 0, 0, 0},
        {8, 4, 199.25f, 1, 1, PROTO_VEH_QUEUED, 0},
        {4000000000u, 2, 0.0f, 2, 3, PROTO_VEH_ESCORT, 0},
    };
    static char d0[] = "corridor: call S2 at 东街口";
    static char *dec[1] = {d0};
    proto_frame_t f;
    memset(&f, 0, sizeof f);
    f.seq = 42;
    f.time_ms = 1234567;
    f.speed = 2.5;
    f.paused = 1;
    f.has_escort = 1;
    snprintf(f.escort_id, sizeof f.escort_id, "escort1");
    f.escort_state = 1;
    f.escort_depart_ms = 1200000;
    f.escort_arrive_ms = -1;
    f.escort_eta_ms = 1500000;
    f.escort_free_flow_s = 342.0;
    f.prio = prio;
    f.n_signals = 3;
    f.decisions = dec;
    f.n_decisions = 1;
    f.group_states = groups;
    f.n_group_states = 5;
    f.vehicles = veh;
    f.n_vehicles = 3;
    return f;
}

static void assert_same(const proto_frame_t *a, const proto_frame_t *b) {
    ck_assert_int_eq(a->seq, b->seq);
    ck_assert_int_eq(a->time_ms, b->time_ms);
    ck_assert(a->speed == b->speed);
    ck_assert_int_eq(a->paused, b->paused);
    ck_assert_str_eq(a->escort_id, b->escort_id);
    ck_assert_int_eq(a->escort_eta_ms, b->escort_eta_ms);
    ck_assert_int_eq(a->escort_arrive_ms, b->escort_arrive_ms);
    ck_assert_int_eq(a->n_signals, b->n_signals);
    ck_assert_mem_eq(a->prio, b->prio, (size_t)a->n_signals);
    ck_assert_int_eq(a->n_group_states, b->n_group_states);
    ck_assert_mem_eq(a->group_states, b->group_states, (size_t)a->n_group_states);
    ck_assert_int_eq(a->n_vehicles, b->n_vehicles);
    for (int i = 0; i < a->n_vehicles; i++) {
        ck_assert_uint_eq(a->vehicles[i].id, b->vehicles[i].id);
        ck_assert_int_eq(a->vehicles[i].link, b->vehicles[i].link);
        ck_assert(a->vehicles[i].pos_m == b->vehicles[i].pos_m);
        ck_assert_int_eq(a->vehicles[i].lane, b->vehicles[i].lane);
        ck_assert_int_eq(a->vehicles[i].vclass, b->vehicles[i].vclass);
        ck_assert_int_eq(a->vehicles[i].flags, b->vehicles[i].flags);
    }
    ck_assert_int_eq(a->n_decisions, b->n_decisions);
    ck_assert_str_eq(a->decisions[0], b->decisions[0]);
}

START_TEST(test_round_trip) {
    proto_frame_t f = sample(), g;
    proto_parts_t p;
    base_err_t err = {0};
    ck_assert_int_eq(proto_frame_encode(&f, &p, &err), 0);
    ck_assert_str_eq(proto_parts_topic(&p), "frame");
    ck_assert_uint_eq(p.len[2], 5 + 3 * 16);
    ck_assert_int_eq(proto_frame_decode(&p, &g, &err), 0);
    assert_same(&f, &g);
    proto_frame_fini(&g);
    /* A body one byte short or long is refused. */
    p.len[2]--;
    ck_assert_int_eq(proto_frame_decode(&p, &g, &err), BASE_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "body"));
    proto_parts_fini(&p);
}
END_TEST

START_TEST(test_map_and_event) {
    proto_parts_t p;
    base_err_t err = {0};
    ck_assert_int_eq(proto_map_encode("{\"name\":\"x\",\"nodes\":[]}", &p, &err), 0);
    ck_assert_str_eq(proto_parts_topic(&p), "map");
    char *map = proto_map_decode(&p, &err);
    ck_assert_ptr_nonnull(map);
    ck_assert_str_eq(map, "{\"name\":\"x\",\"nodes\":[]}");
    free(map);
    proto_parts_fini(&p);
    ck_assert_int_eq(proto_map_encode("[1,2]", &p, &err), BASE_EINVAL);
    ck_assert_int_eq(proto_event_encode(5000, "controller lost", &p, &err), 0);
    int64_t t;
    char *text;
    ck_assert_int_eq(proto_event_decode(&p, &t, &text, &err), 0);
    ck_assert_int_eq(t, 5000);
    ck_assert_str_eq(text, "controller lost");
    free(text);
    proto_parts_fini(&p);
}
END_TEST

START_TEST(test_wrong_version_and_garbage) {
    proto_parts_t p = {0};
    base_err_t err = {0};
    static const char *headers[] = {
        "{\"version\":2,\"seq\":1,\"time_ms\":0,\"n_group_states\":0,\"n_vehicles\":0}",
        "not json",
        "{\"version\":1,\"seq\":1,\"time_ms\":-5,\"n_group_states\":0,\"n_vehicles\":0}",
        "{\"version\":1,\"seq\":1,\"time_ms\":0,\"n_group_states\":0,\"n_vehicles\":99999999}",
        /* Issue 11: numbers of the right type but not physical. */
        "{\"version\":1,\"seq\":1,\"time_ms\":9223372036854775807,\"n_group_states\":0,"
        "\"n_vehicles\":0}",
        "{\"version\":1,\"seq\":9223372036854775807,\"time_ms\":0,\"n_group_states\":0,"
        "\"n_vehicles\":0}",
        "{\"version\":1,\"seq\":1,\"time_ms\":0,\"n_group_states\":0,\"n_vehicles\":0,"
        "\"speed\":1e300}",
        "{\"version\":1,\"seq\":1,\"time_ms\":0,\"n_group_states\":0,\"n_vehicles\":0,"
        "\"escort\":{\"id\":\"e\",\"free_flow_s\":1e300}}",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        p.n = 3;
        p.data[0] = (unsigned char *)strdup("frame");
        p.len[0] = 5;
        p.data[1] = (unsigned char *)strdup(headers[i]);
        p.len[1] = strlen(headers[i]);
        p.data[2] = malloc(1);
        p.len[2] = 0;
        proto_frame_t f;
        ck_assert_int_eq(proto_frame_decode(&p, &f, &err), BASE_EPROTO);
        ck_assert(err.msg[0] != '\0');
        proto_parts_fini(&p);
    }
}
END_TEST

/* Issue 11: a vehicle position that is a float but not a place on a link is refused. */
START_TEST(test_vehicle_position_bounds) {
    static const float bad[] = {3e38f, -1.0f, 200001.0f};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proto_frame_t fr = sample();
        proto_vehicle_t veh[3];
        memcpy(veh, fr.vehicles, sizeof veh);
        veh[1].pos_m = bad[i];
        fr.vehicles = veh;
        proto_parts_t p;
        base_err_t err = {0};
        ck_assert_int_eq(proto_frame_encode(&fr, &p, &err), 0);
        proto_frame_t out;
        ck_assert_int_eq(proto_frame_decode(&p, &out, &err), BASE_EPROTO);
        ck_assert_msg(strstr(err.msg, "vehicles[1].pos_m") != NULL, "%s", err.msg);
        proto_parts_fini(&p);
    }
}
END_TEST

static char *write_recording(size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    ck_assert_ptr_nonnull(f);
    base_err_t err = {0};
    ck_assert_int_eq(proto_rec_write_header(f, &err), 0);
    proto_parts_t p;
    ck_assert_int_eq(proto_map_encode("{\"name\":\"x\"}", &p, &err), 0);
    ck_assert_int_eq(proto_rec_write(f, &p, &err), 0);
    proto_parts_fini(&p);
    proto_frame_t fr = sample();
    ck_assert_int_eq(proto_frame_encode(&fr, &p, &err), 0);
    ck_assert_int_eq(proto_rec_write(f, &p, &err), 0);
    proto_parts_fini(&p);
    fclose(f);
    return buf;
}

START_TEST(test_recording) {
    size_t len;
    char *buf = write_recording(&len);
    base_err_t err = {0};
    /* The whole file reads back: map, frame, clean end. */
    FILE *f = fmemopen(buf, len, "rb");
    ck_assert_int_eq(proto_rec_read_header(f, &err), 0);
    proto_parts_t p;
    ck_assert_int_eq(proto_rec_read(f, &p, &err), 1);
    ck_assert_str_eq(proto_parts_topic(&p), "map");
    proto_parts_fini(&p);
    ck_assert_int_eq(proto_rec_read(f, &p, &err), 1);
    proto_frame_t g, s = sample();
    ck_assert_int_eq(proto_frame_decode(&p, &g, &err), 0);
    assert_same(&s, &g);
    proto_frame_fini(&g);
    proto_parts_fini(&p);
    ck_assert_int_eq(proto_rec_read(f, &p, &err), 0);
    fclose(f);
    /* Every truncation is either a clean end (at a record boundary) or an error. */
    for (size_t cut = 0; cut < len; cut++) {
        f = fmemopen(buf, cut ? cut : 1, "rb");
        int rc = cut < 7 ? proto_rec_read_header(f, &err) : proto_rec_read_header(f, &err);
        if (cut < 7) {
            ck_assert_int_eq(rc, BASE_EPROTO);
        } else {
            int n = 0;
            while ((rc = proto_rec_read(f, &p, &err)) == 1) {
                proto_parts_fini(&p);
                n++;
            }
            ck_assert(rc == 0 || rc == BASE_EPROTO);
            if (rc == BASE_EPROTO)
                ck_assert_ptr_nonnull(strstr(err.msg, "truncated"));
        }
        fclose(f);
    }
    /* Another version, another magic. */
    buf[5] = 9;
    f = fmemopen(buf, len, "rb");
    ck_assert_int_eq(proto_rec_read_header(f, &err), BASE_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "version 9"));
    fclose(f);
    buf[0] = 'X';
    f = fmemopen(buf, len, "rb");
    ck_assert_int_eq(proto_rec_read_header(f, &err), BASE_EPROTO);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a greenwave recording"));
    fclose(f);
    free(buf);
}
END_TEST

Suite *suite_proto_frame(void);
Suite *suite_proto_frame(void) {
    Suite *s = suite_create("proto_frame");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_map_and_event);
    tcase_add_test(tc, test_wrong_version_and_garbage);
    tcase_add_test(tc, test_vehicle_position_bounds);
    tcase_add_test(tc, test_recording);
    suite_add_tcase(s, tc);
    return s;
}
