/*
 * tests/controller/test_pub.c - suite bridge_pub: the viewer's control requests to
 * greenwave-sim (bridge/publish.h, --listen), over a real ROUTER socket in process.
 *
 * Requests that arrive together are handled in one call, so the tests queue them first (each
 * answered only once handled: the acks are the handshake) and then look at the state the
 * simulator's loop would act on.
 */
#include "bridge/bridge.h"
#include "bridge/publish.h"
#include "scenarios/loader.h"
#include "sim/sim.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct pubfx {
    sim_scenario_t *scn;
    sim_t *sim;
    void *zctx, *dealer;
    bridge_pub_t *pub;
} pubfx_t;

static void pubfx_open(pubfx_t *f) {
    static const char *path = GW_SOURCE_DIR "/tests/data/minimal.json";
    base_err_t err = {0};
    memset(f, 0, sizeof *f);
    f->scn = scn_loader_load_file(path, &err);
    ck_assert_msg(f->scn != NULL, "%s", err.msg);
    f->sim = sim_new(f->scn, 1, NULL, &err);
    ck_assert_msg(f->sim != NULL, "%s", err.msg);
    char *map = bridge_map_json(path, &err);
    ck_assert_msg(map != NULL, "%s", err.msg);
    f->zctx = zmq_ctx_new();
    bridge_pub_config_t cfg = {.listen = "inproc://pub-control"};
    f->pub = bridge_pub_new(f->zctx, f->sim, map, &cfg, &err);
    free(map);
    ck_assert_msg(f->pub != NULL, "%s", err.msg);
    f->dealer = zmq_socket(f->zctx, ZMQ_DEALER);
    ck_assert_int_eq(zmq_connect(f->dealer, "inproc://pub-control"), 0);
}

static void pubfx_close(pubfx_t *f) {
    int linger = 0;
    zmq_setsockopt(f->dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(f->dealer);
    bridge_pub_destroy(&f->pub);
    zmq_ctx_term(f->zctx);
    sim_destroy(&f->sim);
    sim_scenario_destroy(&f->scn);
}

static void send_cmd(pubfx_t *f, const char *cmd) {
    char text[128];
    snprintf(text, sizeof text, "{\"type\":\"viz-control\",\"version\":1,\"cmd\":\"%s\"}", cmd);
    ck_assert_int_ge(zmq_send(f->dealer, text, strlen(text), 0), 0);
}

/* Handles requests until n acks are out; returns the paused flag of the last ack. */
static int handle(pubfx_t *f, int n, int *paused, int *step) {
    double speed = 0;
    int acks = 0, last = -1;
    while (acks < n) {
        bridge_pub_control(f->pub, 600000, paused, &speed, step);
        char buf[256];
        while (acks < n) {
            int len = zmq_recv(f->dealer, buf, sizeof buf - 1, ZMQ_DONTWAIT);
            if (len < 0)
                break;
            buf[len < (int)sizeof buf - 1 ? len : (int)sizeof buf - 1] = '\0';
            ck_assert_msg(strstr(buf, "\"ok\":true") != NULL, "refused: %s", buf);
            last = strstr(buf, "\"paused\":true") != NULL;
            acks++;
        }
    }
    return last;
}

START_TEST(test_step_then_resume_stays_resumed) {
    /* A step and a resume handled in one call: the step must not pause the run again after
     * its frame (the viewer was told "not paused"; greenwave-sim hung paused before). */
    pubfx_t f;
    pubfx_open(&f);
    int paused = 1, step = 0;
    send_cmd(&f, "step");
    send_cmd(&f, "resume");
    ck_assert_int_eq(handle(&f, 2, &paused, &step), 0);
    ck_assert_int_eq(paused, 0);
    ck_assert_int_eq(step, 0);
    pubfx_close(&f);
}
END_TEST

START_TEST(test_step_while_paused) {
    pubfx_t f;
    pubfx_open(&f);
    int paused = 1, step = 0;
    send_cmd(&f, "step");
    ck_assert_int_eq(handle(&f, 1, &paused, &step), 1);
    ck_assert_int_eq(paused, 1);
    ck_assert_int_eq(step, 1);
    send_cmd(&f, "pause");
    send_cmd(&f, "resume");
    send_cmd(&f, "pause");
    ck_assert_int_eq(handle(&f, 3, &paused, &step), 1);
    ck_assert_int_eq(paused, 1);
    ck_assert_int_eq(bridge_pub_requests(f.pub), 4);
    pubfx_close(&f);
}
END_TEST

Suite *suite_bridge_pub(void);

Suite *suite_bridge_pub(void) {
    Suite *s = suite_create("bridge_pub");
    TCase *tc = tcase_create("control");
    tcase_add_test(tc, test_step_then_resume_stays_resumed);
    tcase_add_test(tc, test_step_while_paused);
    suite_add_tcase(s, tc);
    return s;
}
