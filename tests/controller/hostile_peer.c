/*
 * tests/controller/hostile_peer.c - a hostile simulator for the controller's per-session
 * limits (tests/integration/e2e_hostile.sh). Messages are built with proto/msg, so they are
 * well-formed on the wire whatever its encoding; what makes them hostile is their content.
 *
 * usage: gw-hostile-peer ENDPOINT SCENARIO BIG_SCENARIO attacks
 *        gw-hostile-peer ENDPOINT SCENARIO BIG_SCENARIO flood STOP_FILE
 *
 * attacks: one fresh DEALER per attack, each ended by a handshake (a valid hello answered by
 *   a welcome, which must be the first thing the peer receives after the attack: the
 *   controller answers a peer in order, so nothing of the attack was answered):
 *     requests  a session, then a tick with 10,000 priority requests (dropped), then a tick
 *               (no session any more)
 *     work      a session, then a tick with one SRM of 1,000 requests (dropped on the work
 *               budget when the controller runs with a low --limit work)
 *     bigmap    a hello whose map has more signals than --limit signals (refused)
 *     absurd    a hello whose map holds absurd numbers (a link of 1e300 m at 1e-300 km/h),
 *               then ticks at absurd times
 *     garbage   bytes that are no message, empty frames, three frames, a tick without
 *               session, an unknown type
 *   Prints "attacks done" and exits 0; exits 1 if a handshake fails (the controller stopped
 *   answering) or anything of an attack was answered.
 * flood: repeats requests, garbage and sessionless ticks as fast as the socket takes them
 *   until STOP_FILE exists (checked between rounds), then exits 0.
 */
#include "base/err.h"
#include "bridge/bridge.h"
#include "proto/msg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define WAIT_MS                                                                                    \
    600000 /* 10 min, as every other wait of the suite: a handshake that takes                     \
            * this long means the controller is stuck, not slow */

typedef struct peer {
    void *ctx, *sock;
    int64_t seq;
    const char *map, *big, *absurd;
    char *bomb, *work;         /* encoded ticks */
    size_t bomb_len, work_len; /* their lengths */
    int n;                     /* sockets opened */
} peer_t;

static void die(const char *what) {
    fprintf(stderr, "gw-hostile-peer: %s\n", what);
    exit(1);
}

static void open_sock(peer_t *p, const char *ep) {
    if (p->sock != NULL)
        zmq_close(p->sock);
    p->sock = zmq_socket(p->ctx, ZMQ_DEALER);
    char id[32];
    snprintf(id, sizeof id, "hostile.%d.%d", (int)getpid(), p->n++);
    int linger = 0;
    if (p->sock == NULL || zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(p->sock, ZMQ_ROUTING_ID, id, strlen(id)) != 0 ||
        zmq_connect(p->sock, ep) != 0)
        die("cannot open a socket");
}

static void send_raw(peer_t *p, const void *data, size_t len) {
    if (zmq_send(p->sock, data, len, 0) < 0)
        die("send failed");
}

static void send_msg(peer_t *p, proto_msg_t *m) {
    base_err_t err = {0};
    m->version = PROTO_VERSION;
    m->seq = p->seq++;
    size_t len;
    char *text = proto_msg_encode(m, &len, &err);
    if (text == NULL) {
        fprintf(stderr, "gw-hostile-peer: encode: %s\n", err.msg);
        exit(1);
    }
    send_raw(p, text, len);
    free(text);
}

static void send_hello(peer_t *p, const char *map) {
    proto_msg_t m = {.type = PROTO_HELLO};
    m.u.hello.session = (proto_session_t){
        .scenario = "hostile", .seed = 1, .strategy = "corridor", .tick_ms = 1000};
    m.u.hello.map_json = map;
    send_msg(p, &m);
}

static void send_tick(peer_t *p, int64_t t) {
    proto_msg_t m = {.type = PROTO_TICK};
    m.u.tick.time_ms = t;
    send_msg(p, &m);
}

/* Sends a tick whose time is beyond the protocol's range (docs/protocol.md, "Numeric
 * ranges"), written by hand: the encoder refuses to write it, the controller must refuse it. */
static void send_tick_raw(peer_t *p, long long t) {
    char buf[192];
    int n = snprintf(buf, sizeof buf,
                     "{\"type\":\"tick\",\"version\":%d,\"seq\":%lld,\"time_ms\":%lld,"
                     "\"spat\":[],\"detectors\":[],\"srm\":[]}",
                     PROTO_VERSION, (long long)p->seq++, t);
    send_raw(p, buf, (size_t)n);
}

/* Sends a valid hello and waits for its welcome, which must be the first reply. */
static void handshake(peer_t *p, const char *attack) {
    send_hello(p, p->map);
    zmq_pollitem_t item = {p->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, WAIT_MS) != 1) {
        fprintf(stderr, "gw-hostile-peer: %s: no welcome: the controller stopped answering\n",
                attack);
        exit(1);
    }
    char buf[4096];
    int n = zmq_recv(p->sock, buf, sizeof buf, 0);
    proto_msg_t m;
    base_err_t err = {0};
    if (n < 0 || n > (int)sizeof buf || proto_msg_decode(buf, (size_t)n, &m, &err) < 0)
        die("undecodable reply");
    if (m.type != PROTO_WELCOME) {
        fprintf(stderr, "gw-hostile-peer: %s: the controller answered the attack (a %s)\n", attack,
                proto_type_name(m.type));
        exit(1);
    }
    proto_msg_fini(&m);
}

/* A tick at 1 s with one SRM of n requests at the map's first signal. */
static char *srm_tick(int32_t n, size_t *len) {
    proto_request_t *rq = calloc((size_t)n, sizeof *rq);
    if (rq == NULL)
        die("out of memory");
    for (int32_t i = 0; i < n; i++)
        rq[i] = (proto_request_t){.intersection = "N1",
                                  .request_type = PROTO_REQ_REQUEST,
                                  .in_bound_lane = "L1",
                                  .eta_ms = 1000 + i,
                                  .duration_ms = 2000};
    proto_srm_t srm = {.request_id = 1,
                       .vehicle_id = "hostile",
                       .role = PROTO_ROLE_POLICE,
                       .link = "L1",
                       .requests = rq,
                       .n_requests = n};
    proto_msg_t m = {.type = PROTO_TICK, .version = PROTO_VERSION, .seq = 1};
    m.u.tick.time_ms = 1000;
    m.u.tick.srms = &srm;
    m.u.tick.n_srms = 1;
    base_err_t err = {0};
    char *text = proto_msg_encode(&m, len, &err);
    free(rq);
    if (text == NULL)
        die(err.msg);
    return text;
}

/* The map with its first link 1e300 m long at 1e-300 m/s. */
static char *absurd_map(const char *map) {
    json_error_t je;
    json_t *doc = json_loads(map, 0, &je);
    json_t *link = doc ? json_array_get(json_object_get(doc, "links"), 0) : NULL;
    if (link == NULL)
        die("map without links");
    json_object_set_new(link, "length_m", json_real(1e300));
    json_object_set_new(link, "free_speed_kmh", json_real(1e-300));
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return text;
}

static void garbage(peer_t *p) {
    send_raw(p, "\x00\xff garbage \x01", 12);
    send_raw(p, "", 0);
    zmq_send(p->sock, "a", 1, ZMQ_SNDMORE);
    zmq_send(p->sock, "b", 1, ZMQ_SNDMORE);
    send_raw(p, "c", 1);
    send_tick(p, 0);                         /* no session on a fresh socket, or after a drop */
    proto_msg_t m = {.type = PROTO_WELCOME}; /* a controller's message from a simulator */
    m.u.welcome = (proto_welcome_t){.strategy = "none", .controller = "evil"};
    send_msg(p, &m);
}

static void attacks(peer_t *p, const char *ep) {
    open_sock(p, ep); /* requests */
    handshake(p, "requests: start");
    send_raw(p, p->bomb, p->bomb_len);
    send_tick(p, 2000);
    handshake(p, "requests");

    open_sock(p, ep); /* work */
    handshake(p, "work: start");
    send_raw(p, p->work, p->work_len);
    send_tick(p, 2000);
    handshake(p, "work");

    open_sock(p, ep); /* bigmap */
    send_hello(p, p->big);
    send_tick(p, 1000);
    handshake(p, "bigmap");

    open_sock(p, ep); /* absurd */
    send_hello(p, p->absurd);
    send_tick_raw(p, INT64_MAX / 2);
    handshake(p, "absurd");

    open_sock(p, ep); /* garbage */
    garbage(p);
    handshake(p, "garbage");
    proto_msg_t bye = {.type = PROTO_BYE};
    bye.u.bye.reason = "done";
    send_msg(p, &bye);
    puts("attacks done");
}

static void flood(peer_t *p, const char *ep, const char *stop) {
    open_sock(p, ep);
    for (long round = 0; access(stop, F_OK) != 0; round++) {
        handshake(p, "flood");
        send_raw(p, p->bomb, p->bomb_len);
        for (int i = 0; i < 50; i++)
            garbage(p);
        if (round % 16 == 15)
            open_sock(p, ep); /* a new identity now and then: a reconnecting peer */
    }
    printf("flood done after %d identities\n", p->n);
}

int main(int argc, char **argv) {
    if (argc < 5 || (strcmp(argv[4], "attacks") != 0 && strcmp(argv[4], "flood") != 0) ||
        (strcmp(argv[4], "flood") == 0 && argc < 6)) {
        fputs("usage: gw-hostile-peer ENDPOINT SCENARIO BIG_SCENARIO attacks|flood [STOP_FILE]\n",
              stderr);
        return 2;
    }
    base_err_t err = {0};
    peer_t p = {0};
    char *map = bridge_map_json(argv[2], &err);
    char *big = map ? bridge_map_json(argv[3], &err) : NULL;
    if (big == NULL) {
        fprintf(stderr, "gw-hostile-peer: %s\n", err.msg);
        return 2;
    }
    char *absurd = absurd_map(map);
    p.map = map;
    p.big = big;
    p.absurd = absurd;
    p.bomb = srm_tick(10000, &p.bomb_len);
    p.work = srm_tick(1000, &p.work_len);
    p.ctx = zmq_ctx_new();
    if (strcmp(argv[4], "attacks") == 0)
        attacks(&p, argv[1]);
    else
        flood(&p, argv[1], argv[5]);
    zmq_close(p.sock);
    zmq_ctx_term(p.ctx);
    free(p.bomb);
    free(p.work);
    free(absurd);
    free(big);
    free(map);
    return 0;
}
