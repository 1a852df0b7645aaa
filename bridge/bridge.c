/*
 * bridge/bridge.c - lockstep ticks over ZeroMQ and lazy-pirate recovery.
 *
 * States: online (a tick is sent and the matching control awaited up to the timeout) and
 * lost (no waiting: a hello is offered every few ticks and the socket drained without
 * blocking until a welcome arrives). Declaring the controller lost closes the DEALER socket
 * and opens a new one with a new routing id (run id + "." + reconnect count), whose hello
 * starts a fresh session, whether the controller restarted or was only slow. Sends never
 * block (ZMQ_DONTWAIT): a full pipe is the same as no answer.
 *
 * Ticks are built and commands applied by bridge/tick.c (no sockets there).
 */
#include "bridge/bridge.h"

#include "auth/auth.h"
#include "bridge/tick.h"
#include "proto/msg.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define RESEND_HELLO_TICKS 5

struct bridge {
    void *ctx;
    void *sock;
    void *mon; /* PAIR on the socket's monitor: refused handshakes (CURVE), or NULL */
    sim_t *sim;
    const sim_scenario_t *scn;
    char *map_json;
    uint64_t seed;
    bridge_config_t cfg;
    char identity[64];
    int reconnects; /* each new socket gets a new routing id: identity.N */
    int64_t seq;
    int online;
    int hello_age; /* ticks since the last hello while lost */
    sim_time_t lost_since;
    double lost_ms;
    double *rtt;
    size_t n_rtt, cap_rtt;
    bridge_stats_t st;
    char strategy[PROTO_ID_MAX];
    bridge_obu_t *obu; /* the on-board units' request state */
    base_arena_t tick_arena;
};

static double wall_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void logf_(bridge_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(bridge_t *b, const char *fmt, ...) {
    if (b->cfg.log == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(b->cfg.log, "%10.3f sim: ", sim_time_to_s(sim_now(b->sim)));
    vfprintf(b->cfg.log, fmt, ap);
    fputc('\n', b->cfg.log);
    va_end(ap);
}

void bridge_config_defaults(bridge_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->tick_ms = 1000;
    cfg->timeout_ms = 1000;
    cfg->connect_timeout_ms = 10000;
    cfg->fallback = SIM_TRANSITION_SHORTWAY;
}

/* Reads the monitor's pending events (waiting up to timeout_ms for the first); counts and
 * logs refused handshakes. Returns 1 if one was seen. */
static int drain_monitor(bridge_t *b, int timeout_ms) {
    int refused = 0;
    zmq_pollitem_t it = {b->mon, 0, ZMQ_POLLIN, 0};
    while (b->mon != NULL && zmq_poll(&it, 1, refused ? 0 : timeout_ms) > 0) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        zmq_msg_init(&addr);
        if (zmq_msg_recv(&ev, b->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            zmq_msg_close(&addr);
            break;
        }
        if (zmq_msg_more(&ev))
            zmq_msg_recv(&addr, b->mon, ZMQ_DONTWAIT);
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&event, zmq_msg_data(&ev), 2);
            memcpy(&value, (const char *)zmq_msg_data(&ev) + 2, 4);
        }
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
        const char *why = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "our key is not allowed there"
                          : value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                              ? "security mismatch (CURVE on one side only)"
                              : "the handshake failed (CURVE on one side only, or a wrong "
                                "--curve-server-key?)";
        b->st.handshakes_refused++;
        refused = 1;
        logf_(b, "the controller at %s refused the connection: %s (event 0x%x, %u)",
              b->cfg.endpoint, why, (unsigned)event, (unsigned)value);
    }
    return refused;
}

static int base_prefix_ep(base_err_t *err, const char *endpoint) {
    return base_err_prefix(err, "%s: ", endpoint);
}

static int open_socket(bridge_t *b, base_err_t *err) {
    if (b->mon != NULL) {
        drain_monitor(b, 0);
        zmq_close(b->mon);
        b->mon = NULL;
    }
    if (b->sock != NULL)
        zmq_close(b->sock);
    b->sock = zmq_socket(b->ctx, ZMQ_DEALER);
    if (b->sock == NULL)
        return base_err_set(err, BASE_EIO, "zmq_socket: %s", zmq_strerror(zmq_errno()));
    /* A fresh routing id per socket: the old connection may still be known to the controller's
     * ROUTER, which would refuse (or race with) a second connection under the same id. The new
     * socket starts a new session with its hello anyway. */
    char rid[80];
    snprintf(rid, sizeof rid, "%s.%d", b->identity, b->reconnects++);
    int linger = 0;
    if (b->cfg.curve_keys != NULL &&
        auth_client_socket(b->sock, b->cfg.curve_keys, b->cfg.curve_server_key, err) < 0)
        return base_prefix_ep(err, b->cfg.endpoint);
    /* Handshake failures are reported on the monitor, so that a refused simulator says so
     * at once instead of waiting out its connect timeout. */
    char mon_ep[96];
    snprintf(mon_ep, sizeof mon_ep, "inproc://gw-bridge-monitor-%p-%d", (void *)b, b->reconnects);
    if (zmq_socket_monitor(b->sock, mon_ep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0 ||
        (b->mon = zmq_socket(b->ctx, ZMQ_PAIR)) == NULL ||
        zmq_setsockopt(b->mon, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_connect(b->mon, mon_ep) != 0)
        return base_err_set(err, BASE_EIO, "%s: cannot monitor the connection: %s", b->cfg.endpoint,
                            zmq_strerror(zmq_errno()));
    if (zmq_setsockopt(b->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(b->sock, ZMQ_ROUTING_ID, rid, strlen(rid)) != 0 ||
        zmq_connect(b->sock, b->cfg.endpoint) != 0)
        return base_err_set(err, BASE_EIO, "%s: %s", b->cfg.endpoint, zmq_strerror(zmq_errno()));
    return BASE_OK;
}

bridge_t *bridge_new(void *zmq_ctx, sim_t *sim, const char *map_json, uint64_t seed,
                     const bridge_config_t *cfg, base_err_t *err) {
    bridge_t *b = calloc(1, sizeof *b);
    if (b == NULL || (b->map_json = strdup(map_json)) == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        bridge_destroy(&b);
        return NULL;
    }
    b->ctx = zmq_ctx;
    b->sim = sim;
    b->scn = sim_scenario(sim);
    b->seed = seed;
    b->cfg = *cfg;
    if (b->cfg.tick_ms <= 0)
        b->cfg.tick_ms = 1000;
    base_arena_init(&b->tick_arena);
    /* A routing id unique to this run: the controller keys its session by it. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(b->identity, sizeof b->identity, "sim-%ld-%llu-%ld", (long)getpid(),
             (unsigned long long)seed, (long)(ts.tv_nsec ^ ts.tv_sec));
    b->obu = bridge_obu_new(b->scn);
    if (b->obu == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        bridge_destroy(&b);
        return NULL;
    }
    if (open_socket(b, err) < 0) {
        bridge_destroy(&b);
        return NULL;
    }
    return b;
}

static int send_msg(bridge_t *b, proto_msg_t *m) {
    m->version = PROTO_VERSION;
    m->seq = ++b->seq;
    base_err_t err = {0};
    size_t len;
    char *text = proto_msg_encode(m, &len, &err);
    if (text == NULL) {
        logf_(b, "cannot encode %s: %s", proto_type_name(m->type), err.msg);
        return BASE_EINVAL;
    }
    int rc = zmq_send(b->sock, text, len, ZMQ_DONTWAIT);
    free(text);
    if (rc < 0)
        logf_(b, "cannot send a %s now (%s)", proto_type_name(m->type), zmq_strerror(zmq_errno()));
    return rc < 0 ? BASE_EIO : BASE_OK;
}

static void send_hello(bridge_t *b) {
    proto_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = PROTO_HELLO;
    m.u.hello.session.scenario = b->scn->name;
    m.u.hello.session.seed = b->seed;
    m.u.hello.session.strategy = b->cfg.strategy;
    m.u.hello.session.tick_ms = b->cfg.tick_ms;
    m.u.hello.session.start_tod_ms = b->scn->start_tod;
    m.u.hello.map_json = b->map_json;
    send_msg(b, &m);
    b->hello_age = 0;
}

void bridge_destroy(bridge_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    bridge_t *b = *self_p;
    if (b->sock != NULL) {
        if (b->online) {
            proto_msg_t m;
            memset(&m, 0, sizeof m);
            m.type = PROTO_BYE;
            m.u.bye.time_ms = sim_now(b->sim);
            m.u.bye.reason = "end of run";
            send_msg(b, &m);
        }
        zmq_close(b->sock);
    }
    if (b->mon != NULL)
        zmq_close(b->mon);
    bridge_obu_destroy(&b->obu);
    base_arena_fini(&b->tick_arena);
    free(b->rtt);
    free(b->map_json);
    free(b);
    *self_p = NULL;
}

/* Receives one message if one arrives within timeout_ms; returns 1 with *m decoded, 0 on
 * timeout, -1 on a message refused by the decoder (counted). */
static int recv_msg(bridge_t *b, int timeout_ms, proto_msg_t *m) {
    zmq_pollitem_t item = {b->sock, 0, ZMQ_POLLIN, 0};
    int n = zmq_poll(&item, 1, timeout_ms);
    if (n <= 0)
        return 0;
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    if (zmq_msg_recv(&frame, b->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&frame);
        return 0;
    }
    int more = zmq_msg_more(&frame);
    base_err_t err = {0};
    int rc = proto_msg_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), m, &err);
    zmq_msg_close(&frame);
    while (more) { /* a message must be one frame: drop the rest */
        zmq_msg_init(&frame);
        zmq_msg_recv(&frame, b->sock, ZMQ_DONTWAIT);
        more = zmq_msg_more(&frame);
        zmq_msg_close(&frame);
        if (rc == 0) {
            proto_msg_fini(m);
            rc = base_err_set(&err, BASE_EPROTO, "message of more than one frame");
        }
    }
    if (rc < 0) {
        b->st.rejected_messages++;
        logf_(b, "refused a message from the controller: %s", err.msg);
        return -1;
    }
    return 1;
}

static void take_welcome(bridge_t *b, const proto_msg_t *m) {
    snprintf(b->strategy, sizeof b->strategy, "%s",
             m->u.welcome.strategy ? m->u.welcome.strategy : "");
    if (!b->online && b->st.lost_events > 0) {
        b->st.taken_back++;
        b->lost_ms += (double)(sim_now(b->sim) - b->lost_since);
        logf_(b, "controller answered again: taken back (strategy %s)", b->strategy);
    } else {
        logf_(b, "controller welcomes us: strategy %s", b->strategy);
    }
    b->online = 1;
}

int bridge_connect(bridge_t *b) {
    send_hello(b);
    double deadline = wall_us() + b->cfg.connect_timeout_ms * 1e3;
    for (;;) {
        double left = (deadline - wall_us()) / 1e3;
        if (left <= 0)
            break;
        proto_msg_t m;
        if (drain_monitor(b, 0))
            break; /* refused: no welcome will come */
        int rc = recv_msg(b, left > 50 ? 50 : (int)left + 1, &m);
        if (rc == 1) {
            if (m.type == PROTO_WELCOME) {
                take_welcome(b, &m);
                proto_msg_fini(&m);
                return BASE_OK;
            }
            b->st.stale_messages++;
            proto_msg_fini(&m);
        }
    }
    b->online = 0;
    b->st.lost_events++;
    b->lost_since = sim_now(b->sim);
    logf_(b, "no answer from the controller at %s within %d ms: running on local plans",
          b->cfg.endpoint, b->cfg.connect_timeout_ms);
    return BASE_EIO;
}

/* ---- building a tick --------------------------------------------------------------- */

static void apply_control(bridge_t *b, const proto_control_t *c) {
    for (int32_t i = 0; i < c->n_log; i++) {
        logf_(b, "controller: %s", c->log[i]);
        if (b->cfg.on_decision != NULL)
            b->cfg.on_decision(b->cfg.ud, c->log[i]);
    }
    for (int32_t i = 0; i < c->n_commands; i++) {
        const proto_command_t *pc = &c->commands[i];
        b->st.commands++;
        base_err_t why = {0};
        if (bridge_command_apply(b->sim, pc, &why) < 0) {
            b->st.commands_refused++;
            logf_(b, "refused %s at \"%s\": %s", proto_cmd_action_name(pc->action),
                  pc->intersection, why.msg);
        }
    }
}

static void release_all(bridge_t *b) {
    for (int32_t s = 0; s < b->scn->n_signals; s++) {
        if (!sim_signal_status(b->sim, s).external)
            continue;
        sim_command_t cmd = {.signal = s, .action = SIM_CMD_RELEASE, .transition = b->cfg.fallback};
        sim_command(b->sim, &cmd, NULL);
    }
}

static void declare_lost(bridge_t *b) {
    b->online = 0;
    b->st.lost_events++;
    b->lost_since = sim_now(b->sim);
    logf_(b, "controller lost (no answer within %d ms): signals back on their local plans",
          b->cfg.timeout_ms);
    release_all(b);
    base_err_t err = {0};
    if (open_socket(b, &err) < 0)
        logf_(b, "%s", err.msg);
    send_hello(b);
}

static int push_rtt(bridge_t *b, double us) {
    if (b->n_rtt == b->cap_rtt) {
        size_t cap = b->cap_rtt ? b->cap_rtt * 2 : 4096;
        double *n = realloc(b->rtt, cap * sizeof *n);
        if (n == NULL)
            return BASE_ENOMEM;
        b->rtt = n;
        b->cap_rtt = cap;
    }
    b->rtt[b->n_rtt++] = us;
    return BASE_OK;
}

int bridge_tick(bridge_t *b) {
    if (!b->online) {
        /* Lost: drain without waiting; take the controller back on a welcome. */
        proto_msg_t m;
        int rc;
        while ((rc = recv_msg(b, 0, &m)) != 0) {
            if (rc < 0)
                continue;
            if (m.type == PROTO_WELCOME)
                take_welcome(b, &m);
            else
                b->st.stale_messages++;
            proto_msg_fini(&m);
        }
        if (!b->online) {
            if (++b->hello_age >= RESEND_HELLO_TICKS)
                send_hello(b);
            return BASE_OK;
        }
    }
    base_arena_fini(&b->tick_arena);
    base_arena_init(&b->tick_arena);
    proto_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = PROTO_TICK;
    if (bridge_tick_build(b->sim, b->obu, &b->tick_arena, &m.u.tick) < 0)
        return BASE_ENOMEM;
    double t0 = wall_us();
    send_msg(b, &m);
    b->st.ticks_sent++;
    int64_t want = b->seq;
    double deadline = t0 + b->cfg.timeout_ms * 1e3;
    for (;;) {
        double left_ms = (deadline - wall_us()) / 1e3;
        if (left_ms <= 0)
            break;
        proto_msg_t r;
        int rc = recv_msg(b, (int)left_ms + 1, &r);
        if (rc == 0)
            break;
        if (rc < 0)
            continue;
        if (r.type == PROTO_CONTROL && r.u.control.ack == want) {
            if (push_rtt(b, wall_us() - t0) < 0) {
                proto_msg_fini(&r);
                return BASE_ENOMEM;
            }
            b->st.ticks++;
            apply_control(b, &r.u.control);
            proto_msg_fini(&r);
            return BASE_OK;
        }
        b->st.stale_messages++;
        logf_(b, "discarded a %s (ack %lld) while waiting for the answer to tick %lld",
              proto_type_name(r.type) ? proto_type_name(r.type) : "message",
              r.type == PROTO_CONTROL ? (long long)r.u.control.ack : -1LL, (long long)want);
        proto_msg_fini(&r);
    }
    declare_lost(b);
    return BASE_OK;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, c = *(const double *)y;
    return (a > c) - (a < c);
}

bridge_stats_t bridge_stats(bridge_t *b) {
    drain_monitor(b, 0);
    bridge_stats_t st = b->st;
    if (b->n_rtt > 0) {
        qsort(b->rtt, b->n_rtt, sizeof *b->rtt, cmp_double);
        st.rtt_us_p50 = b->rtt[(b->n_rtt - 1) / 2];
        st.rtt_us_p99 = b->rtt[(size_t)((double)(b->n_rtt - 1) * 0.99)];
    }
    st.lost_s = b->lost_ms / 1000.0;
    if (!b->online && b->st.lost_events > 0)
        st.lost_s += sim_time_to_s(sim_now(b->sim) - b->lost_since);
    st.strategy = b->strategy;
    return st;
}

char *bridge_map_json(const char *path, base_err_t *err) {
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        base_err_set(err, BASE_EPARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    if (json_is_object(root))
        json_object_del(root, "demand");
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (text == NULL)
        base_err_set(err, BASE_ENOMEM, "out of memory");
    return text;
}
