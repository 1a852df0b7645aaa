/*
 * tests/viz/test_live.c - suite viz_live: the subscription over real ZeroMQ sockets (inproc in
 * one context): the map arrives, a burst of frames is drained with only the newest shown, a
 * malformed message is counted and dropped, and control requests and acks go over a DEALER to
 * a ROUTER as the simulator's --listen socket would.
 */
#include "tests/viz/fixture.h"
#include "viz/live.h"

#include <check.h>
#include <jansson.h>
#include <string.h>
#include <zmq.h>

static void send_parts(void *sock, const proto_parts_t *p) {
    for (int i = 0; i < p->n; i++)
        ck_assert_int_ge(zmq_send(sock, p->data[i], p->len[i], i + 1 < p->n ? ZMQ_SNDMORE : 0), 0);
}

static void publish_frame(void *pub, int64_t seq) {
    uint8_t st[N_GROUPS] = {3, 1, 3};
    proto_frame_t f;
    proto_parts_t p;
    fx_frame(&f, seq, seq * 100, st, 3);
    f.vehicles[0] = (proto_vehicle_t){1, L_A_B, (float)seq, 0, 0, 0, 0};
    ck_assert_int_eq(proto_frame_encode(&f, &p, NULL), 0);
    send_parts(pub, &p);
    proto_parts_fini(&p);
    proto_frame_fini(&f);
}

START_TEST(test_map_then_burst) {
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    ck_assert_int_eq(zmq_bind(pub, "inproc://viz-test"), 0);
    base_err_t err = {0};
    viz_live_t *live = viz_live_new(ctx, "inproc://viz-test", NULL, &err);
    ck_assert_msg(live != NULL, "%s", err.msg);
    viz_t *viz = viz_new(VIZ_MODE_LIVE, 800, 600, NULL);
    proto_parts_t map;
    ck_assert_int_eq(proto_map_encode(VIZ_TEST_MAP, &map, NULL), 0);
    /* The subscription takes a moment to reach the publisher: send the map until it lands. No
     * loop here has a deadline (a loaded machine may take any time; CTest guards hangs). */
    while (viz->map == NULL) {
        send_parts(pub, &map);
        viz_live_wait(live, 10);
        ck_assert_int_ge(viz_live_drain(live, viz, 100), 0);
    }
    ck_assert_ptr_nonnull(viz->map);
    for (int64_t s = 1; s <= 50; s++)
        publish_frame(pub, s);
    proto_parts_t junk = {1, {(unsigned char *)strdup("junk")}, {4}};
    send_parts(pub, &junk);
    proto_parts_fini(&junk);
    publish_frame(pub, 51);
    int frames = 0;
    while (frames < 51) {
        viz_live_wait(live, 10);
        int n = viz_live_drain(live, viz, 4096);
        ck_assert_int_ge(n, 0);
        frames += n;
    }
    ck_assert_int_eq(frames, 51);
    ck_assert(viz->has_frame);
    ck_assert_int_eq(viz->frame.seq, 51); /* the newest is shown */
    ck_assert_int_le(viz->frames_shown, 51);
    ck_assert_int_eq(viz->frames_in, 51);
    ck_assert_int_eq(live->malformed, 1);
    ck_assert_int_eq(viz->frames_bad, 1);
    /* The same map again changes nothing; a frame sequence gap counts as lost. */
    send_parts(pub, &map);
    publish_frame(pub, 60);
    while (viz->frame.seq != 60) {
        viz_live_wait(live, 10);
        viz_live_drain(live, viz, 4096);
    }
    ck_assert_int_eq(viz->frame.seq, 60);
    ck_assert_int_eq(viz->frames_lost, 8);
    proto_parts_fini(&map);
    ck_assert_int_eq(viz_live_control(live, "pause", 0, &err), BASE_ESTATE);
    viz_destroy(&viz);
    viz_live_destroy(&live);
    zmq_close(pub);
    zmq_ctx_term(ctx);
}
END_TEST

START_TEST(test_control) {
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    ck_assert_int_eq(zmq_bind(router, "inproc://viz-control"), 0);
    base_err_t err = {0};
    viz_live_t *live = viz_live_new(ctx, "inproc://viz-pub", "inproc://viz-control", &err);
    ck_assert_msg(live != NULL, "%s", err.msg);
    ck_assert_int_eq(viz_live_control(live, "speed", 4, &err), 0);
    char id[256], body[512];
    int idn = zmq_recv(router, id, sizeof id, 0);
    ck_assert_int_gt(idn, 0);
    int n = zmq_recv(router, body, sizeof body - 1, 0);
    ck_assert_int_gt(n, 0);
    body[n] = '\0';
    json_t *j = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "viz-control");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "version")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(j, "cmd")), "speed");
    ck_assert_double_eq(json_number_value(json_object_get(j, "factor")), 4);
    json_decref(j);
    const char *ack = "{\"type\":\"viz-ack\",\"ok\":true,\"paused\":true,\"speed\":4}";
    zmq_send(router, id, (size_t)idn, ZMQ_SNDMORE);
    zmq_send(router, ack, strlen(ack), 0);
    viz_t *viz = viz_new(VIZ_MODE_LIVE, 800, 600, NULL);
    while (live->acks == 0) {
        viz_live_wait(live, 10);
        viz_live_drain(live, viz, 10);
    }
    ck_assert_int_eq(live->acks, 1);
    ck_assert_msg(strstr(viz->status, "paused, pace x4") != NULL, "%s", viz->status);
    const char *nack = "{\"type\":\"viz-ack\",\"ok\":false,\"paused\":false,\"speed\":1}";
    zmq_send(router, id, (size_t)idn, ZMQ_SNDMORE);
    zmq_send(router, nack, strlen(nack), 0);
    while (live->acks < 2) {
        viz_live_wait(live, 10);
        viz_live_drain(live, viz, 10);
    }
    ck_assert_msg(strstr(viz->status, "refused") != NULL, "%s", viz->status);
    viz_destroy(&viz);
    viz_live_destroy(&live);
    zmq_close(router);
    zmq_ctx_term(ctx);
}
END_TEST

START_TEST(test_bad_endpoint) {
    void *ctx = zmq_ctx_new();
    base_err_t err = {0};
    ck_assert_ptr_null(viz_live_new(ctx, "nonsense", NULL, &err));
    ck_assert_int_eq(err.code, BASE_EIO);
    ck_assert_msg(strstr(err.msg, "nonsense") != NULL, "%s", err.msg);
    ck_assert_ptr_null(viz_live_new(ctx, "inproc://ok", "bad://x", &err));
    zmq_ctx_term(ctx);
}
END_TEST

Suite *suite_viz_live(void);

Suite *suite_viz_live(void) {
    Suite *s = suite_create("viz_live");
    TCase *tc = tcase_create("live");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_map_then_burst);
    tcase_add_test(tc, test_control);
    tcase_add_test(tc, test_bad_endpoint);
    suite_add_tcase(s, tc);
    return s;
}
