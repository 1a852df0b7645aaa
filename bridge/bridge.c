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
 *
 * In-process (cfg.local), sending a message is calling the controller, whose reply (a struct
 * whose strings the controller owns until its next call) waits in `pending` for the receive
 * that follows; receiving without one is a timeout at once, so a refused message makes the
 * controller lost and a new routing id says hello again, exactly as over a socket.
 *
 * Negotiation: the hello (always JSON) offers the encodings and sync modes of the
 * configuration; the welcome picks one encoding for every later message, and may carry
 * subscriptions. With subscriptions, a tick lists only the subscribed signals and detectors
 * whose state differs from what the last tick sent showed (all of them after a welcome: a
 * full snapshot), and only SRMs of the subscribed roles. With event sync offered and a wake in
 * the last control, the control interval boundaries where no wake condition holds pass without
 * a message: the simulation goes on, and the next stop is the next boundary (a wake on events,
 * checked there) or the boundary of the wake time. Every decision depends only on the
 * simulation and the controller's answers, so runs stay reproducible in every mode.
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

typedef struct {
    const char *id; /* node id (the scenario's string) */
    int32_t signal;
} bridge_node_t;

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
    char rid[80];        /* the routing id in use */
    int reconnects;      /* each new socket gets a new routing id: identity.N */
    proto_msg_t pending; /* in-process: the controller's reply, until received */
    int has_pending;
    char refusal[BASE_ERR_MSG_MAX]; /* in-process: why the controller last refused */
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
    proto_encoding_t enc; /* of ticks and byes: what the welcome chose */
    /* Subscriptions (from the welcome) and the state the last tick sent, for deltas. */
    int subscribed;
    uint8_t *sub_sig, *sub_det; /* per signal / detector */
    int all_roles;
    uint32_t roles;
    int full_next;                         /* the next tick is a full snapshot */
    proto_intersection_state_t *last_spat; /* per signal; strings are the scenario's */
    proto_group_state_t *last_groups;      /* per signal, from group_off[s] */
    int32_t *group_off;
    bridge_node_t *by_node; /* the signals sorted by node id, for the commands' intersections */
    uint8_t *has_last_sig, *has_last_det;
    proto_detector_state_t *last_det;
    int32_t last_n_srms;
    /* With subscriptions, the simulator's change marks (sim_track_changes()) say which
     * signals and detectors a delta need look at; next_cross[i]: when signal i's times next
     * read differently with nothing marked (sim_signal_next_change()). */
    int tracked;
    sim_time_t *next_cross;
    /* The delta's arrays, reused from tick to tick (a tick is sent before the next). */
    proto_intersection_state_t *delta_spat;
    proto_group_state_t *delta_groups; /* per signal, from group_off[s] */
    proto_detector_state_t *delta_det;
    int32_t *delta_spat_at, *delta_det_at; /* in-process: the entries' map indexes */
    /* The wake of the last control (event sync offered and asked for). */
    int has_wake;
    proto_wake_t wake;
};

static void take_subscribe(bridge_t *b, const proto_subscribe_t *sub);

static int cmp_node(const void *x, const void *y) {
    return strcmp(((const bridge_node_t *)x)->id, ((const bridge_node_t *)y)->id);
}

/* The signal at node id, or -1: a binary search of by_node. */
static int32_t signal_at(const bridge_t *b, const char *id) {
    int32_t lo = 0, hi = b->scn->n_signals - 1;
    while (id != NULL && lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->by_node[mid].id, id);
        if (c == 0)
            return b->by_node[mid].signal;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

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
    cfg->encoding = PROTO_ENC_JSON;
    cfg->event = 0;
}

/* Reads the monitor's pending events (waiting up to timeout_ms for the first); counts and
 * logs refused handshakes. Returns 1 if one was seen. */
static int drain_monitor(bridge_t *b, int timeout_ms) {
    int refused = 0;
    zmq_pollitem_t it = {b->mon, 0, ZMQ_POLLIN, 0};
    while (b->mon != NULL && zmq_poll(&it, 1, refused ? 0 : timeout_ms) > 0) {
        uint16_t event;
        uint32_t value;
        if (!auth_monitor_read(b->mon, &event, &value, NULL, 0))
            break;
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
    /* A fresh routing id per socket: the old connection may still be known to the controller's
     * ROUTER, which would refuse (or race with) a second connection under the same id. The new
     * socket starts a new session with its hello anyway. */
    snprintf(b->rid, sizeof b->rid, "%s.%d", b->identity, b->reconnects++);
    if (b->cfg.local != NULL)
        return BASE_OK;
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
    const char *rid = b->rid;
    int linger = 0;
    if (b->cfg.curve_keys != NULL &&
        auth_client_socket(b->sock, b->cfg.curve_keys, b->cfg.curve_server_key, err) < 0)
        return base_prefix_ep(err, b->cfg.endpoint);
    /* Handshake failures are reported on the monitor, so that a refused simulator says so
     * at once instead of waiting out its connect timeout. */
    b->mon = auth_monitor_open(b->ctx, b->sock, rid, err);
    if (b->mon == NULL)
        return base_prefix_ep(err, b->cfg.endpoint);
    if (zmq_setsockopt(b->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(b->sock, ZMQ_ROUTING_ID, rid, strlen(rid)) != 0 ||
        zmq_connect(b->sock, b->cfg.endpoint) != 0)
        return base_err_set(err, BASE_EIO, "%s: %s", b->cfg.endpoint, zmq_strerror(zmq_errno()));
    return BASE_OK;
}

bridge_t *bridge_new(void *zmq_ctx, sim_t *sim, const char *map_json, uint64_t seed,
                     const bridge_config_t *cfg, base_err_t *err) {
    if (map_json == NULL && cfg->local == NULL) {
        base_err_set(err, BASE_EINVAL, "bridge_new: no map");
        return NULL;
    }
    bridge_t *b = calloc(1, sizeof *b);
    if (b == NULL || (map_json != NULL && (b->map_json = strdup(map_json)) == NULL)) {
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
    size_t ns = (size_t)b->scn->n_signals + 1, nd = (size_t)b->scn->n_detectors + 1;
    int32_t n_groups = 0;
    b->group_off = calloc(ns, sizeof *b->group_off);
    for (int32_t i = 0; b->group_off != NULL && i < b->scn->n_signals; i++) {
        b->group_off[i] = n_groups;
        n_groups += b->scn->signals[i].n_groups;
    }
    b->by_node = calloc(ns, sizeof *b->by_node);
    for (int32_t i = 0; b->by_node != NULL && i < b->scn->n_signals; i++)
        b->by_node[i] = (bridge_node_t){b->scn->nodes[b->scn->signals[i].node].id, i};
    if (b->by_node != NULL)
        qsort(b->by_node, (size_t)b->scn->n_signals, sizeof *b->by_node, cmp_node);
    b->sub_sig = calloc(ns, 1);
    b->sub_det = calloc(nd, 1);
    b->has_last_sig = calloc(ns, 1);
    b->has_last_det = calloc(nd, 1);
    b->last_spat = calloc(ns, sizeof *b->last_spat);
    b->last_groups = calloc((size_t)n_groups + 1, sizeof *b->last_groups);
    b->last_det = calloc(nd, sizeof *b->last_det);
    b->next_cross = calloc(ns, sizeof *b->next_cross);
    b->delta_spat = calloc(ns, sizeof *b->delta_spat);
    b->delta_groups = calloc((size_t)n_groups + 1, sizeof *b->delta_groups);
    b->delta_det = calloc(nd, sizeof *b->delta_det);
    b->delta_spat_at = calloc(ns, sizeof *b->delta_spat_at);
    b->delta_det_at = calloc(nd, sizeof *b->delta_det_at);
    if (b->next_cross == NULL || b->delta_spat == NULL || b->delta_groups == NULL ||
        b->delta_det == NULL || b->delta_spat_at == NULL || b->delta_det_at == NULL ||
        b->obu == NULL || b->group_off == NULL || b->by_node == NULL || b->sub_sig == NULL ||
        b->sub_det == NULL || b->has_last_sig == NULL || b->has_last_det == NULL ||
        b->last_spat == NULL || b->last_groups == NULL || b->last_det == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        bridge_destroy(&b);
        return NULL;
    }
    take_subscribe(b, NULL); /* everything, until a welcome says otherwise */
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
    if (b->cfg.local != NULL) {
        b->has_pending = 0;
        int rc = b->cfg.local(b->cfg.local_ud, b->rid, strlen(b->rid), m, &b->pending, &err);
        if (rc < 0) {
            logf_(b, "the controller refused the %s: %s", proto_type_name(m->type), err.msg);
            snprintf(b->refusal, sizeof b->refusal, "%s", err.msg);
        }
        b->has_pending = rc == 1;
        return BASE_OK;
    }
    size_t len;
    /* A hello is JSON, which every controller reads; the welcome chooses for the rest. */
    char *text =
        proto_msg_encode_as(m, m->type == PROTO_HELLO ? PROTO_ENC_JSON : b->enc, &len, &err);
    if (text == NULL) {
        logf_(b, "cannot encode %s: %s", proto_type_name(m->type), err.msg);
        return BASE_EINVAL;
    }
    int rc = zmq_send(b->sock, text, len, ZMQ_DONTWAIT);
    free(text);
    if (rc >= 0)
        b->st.bytes_sent += (int64_t)len;
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
    if (b->cfg.local != NULL && b->map_json == NULL)
        m.u.hello.map_scn = b->scn; /* in-process: the map itself, not its JSON */
    m.u.hello.encodings = PROTO_ENC_BIT(PROTO_ENC_JSON) | PROTO_ENC_BIT(b->cfg.encoding);
    m.u.hello.sync = PROTO_SYNC_LOCKSTEP | (b->cfg.event ? PROTO_SYNC_EVENT : 0);
    /* The decision log is read only to log it or publish it. */
    m.u.hello.no_log = b->cfg.log == NULL && b->cfg.on_decision == NULL;
    send_msg(b, &m);
    b->hello_age = 0;
}

void bridge_destroy(bridge_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    bridge_t *b = *self_p;
    if ((b->sock != NULL || b->cfg.local != NULL) && b->online) {
        proto_msg_t m;
        memset(&m, 0, sizeof m);
        m.type = PROTO_BYE;
        m.u.bye.time_ms = sim_now(b->sim);
        m.u.bye.reason = "end of run";
        send_msg(b, &m);
    }
    if (b->sock != NULL)
        zmq_close(b->sock);
    if (b->mon != NULL)
        zmq_close(b->mon);
    bridge_obu_destroy(&b->obu);
    free(b->group_off);
    free(b->by_node);
    free(b->sub_sig);
    free(b->sub_det);
    free(b->has_last_sig);
    free(b->has_last_det);
    free(b->last_spat);
    free(b->last_groups);
    free(b->last_det);
    free(b->next_cross);
    free(b->delta_spat);
    free(b->delta_groups);
    free(b->delta_det);
    free(b->delta_spat_at);
    free(b->delta_det_at);
    base_arena_fini(&b->tick_arena);
    free(b->rtt);
    free(b->map_json);
    free(b);
    *self_p = NULL;
}

/* Receives one message if one arrives within timeout_ms; returns 1 with *m decoded, 0 on
 * timeout, -1 on a message refused by the decoder (counted). */
static int recv_msg(bridge_t *b, int timeout_ms, proto_msg_t *m) {
    if (b->cfg.local != NULL) {
        if (!b->has_pending)
            return 0;
        *m = b->pending; /* owns no storage: proto_msg_fini() only clears it */
        b->has_pending = 0;
        return 1;
    }
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
    b->st.bytes_received += (int64_t)zmq_msg_size(&frame);
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

/* Takes the welcome's subscriptions (ids the map lacks are logged and skipped). */
static void take_subscribe(bridge_t *b, const proto_subscribe_t *sub) {
    const sim_scenario_t *scn = b->scn;
    b->subscribed = sub != NULL;
    memset(b->sub_sig, sub == NULL || sub->all_signals, (size_t)scn->n_signals + 1);
    memset(b->sub_det, sub == NULL || sub->all_detectors, (size_t)scn->n_detectors + 1);
    b->all_roles = sub == NULL || sub->all_roles;
    b->roles = sub != NULL ? sub->roles : 0;
    for (int32_t j = 0; sub != NULL && !sub->all_signals && j < sub->n_signals; j++) {
        int32_t i = signal_at(b, sub->signals[j]);
        if (i >= 0)
            b->sub_sig[i] = 1;
        else
            logf_(b, "subscription to \"%s\": no such signal, skipped", sub->signals[j]);
    }
    for (int32_t j = 0; sub != NULL && !sub->all_detectors && j < sub->n_detectors; j++) {
        int32_t d = 0;
        while (d < scn->n_detectors && strcmp(scn->detectors[d].id, sub->detectors[j]) != 0)
            d++;
        if (d < scn->n_detectors)
            b->sub_det[d] = 1;
        else
            logf_(b, "subscription to \"%s\": no such detector, skipped", sub->detectors[j]);
    }
}

static void take_welcome(bridge_t *b, const proto_msg_t *m) {
    snprintf(b->strategy, sizeof b->strategy, "%s",
             m->u.welcome.strategy ? m->u.welcome.strategy : "");
    proto_encoding_t e = m->u.welcome.encoding;
    if (e != PROTO_ENC_JSON && e != b->cfg.encoding) {
        logf_(b, "the controller chose the encoding %s, which was not offered: using json",
              proto_encoding_name(e));
        e = PROTO_ENC_JSON;
    }
    b->enc = e;
    take_subscribe(b, m->u.welcome.subscribe);
    b->st.event |= b->subscribed;
    /* Deltas from change marks (without them, from a comparison of everything). */
    b->tracked = b->subscribed && sim_track_changes(b->sim) == BASE_OK;
    /* A new session: a full snapshot first, and lockstep until the controller asks for more. */
    b->full_next = 1;
    b->has_wake = 0;
    b->last_n_srms = 0;
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
        if (rc == 0 && b->cfg.local != NULL)
            break; /* in-process: no reply now is no reply ever */
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

/* A time equal to the tick's own time means "now" (a minimum already reached, a hold): kept
 * as NOW_MARK, so that it does not count as a change from one tick to the next. */
#define NOW_MARK INT64_MIN

static int64_t rel(int64_t v, int64_t now) {
    return v == now ? NOW_MARK : v;
}

/* Whether the last state sent (times relative, see rel()) equals c at time now. */
static int same_signal(const proto_intersection_state_t *a, const proto_intersection_state_t *c,
                       int times, int64_t now) {
    if (a->stage != c->stage || a->next_stage != c->next_stage || a->plan != c->plan ||
        a->in_change != c->in_change || a->external != c->external ||
        a->preempt_active != c->preempt_active || a->priority_active != c->priority_active ||
        a->in_transition != c->in_transition || a->n_groups != c->n_groups)
        return 0;
    for (int32_t g = 0; g < a->n_groups; g++) {
        const proto_group_state_t *x = &a->groups[g], *y = &c->groups[g];
        if (x->state != y->state || (times && (x->min_end_ms != rel(y->min_end_ms, now) ||
                                               x->max_end_ms != rel(y->max_end_ms, now))))
            return 0;
    }
    return 1;
}

/* Whether a subscribed signal (without times) or detector differs from the last tick sent.
 * The tick holds every signal and detector in map order. */
static int signals_changed(const bridge_t *b, const proto_tick_t *t) {
    for (int32_t i = 0; i < t->n_spat; i++)
        if (b->sub_sig[i] &&
            (!b->has_last_sig[i] || !same_signal(&b->last_spat[i], &t->spat[i], 0, t->time_ms)))
            return 1;
    return 0;
}

static int detectors_changed(const bridge_t *b, const proto_tick_t *t) {
    for (int32_t d = 0; d < t->n_detectors; d++)
        if (b->sub_det[d] &&
            (!b->has_last_det[d] || b->last_det[d].count != t->detectors[d].count ||
             b->last_det[d].occupied != t->detectors[d].occupied))
            return 1;
    return 0;
}

/* Remembers x as what signal i last showed (times relative, see rel()). */
static void keep_sent(bridge_t *b, int32_t i, const proto_intersection_state_t *x, int64_t now) {
    proto_group_state_t *g = &b->last_groups[b->group_off[i]];
    for (int32_t k = 0; k < x->n_groups; k++) {
        g[k] = x->groups[k];
        g[k].min_end_ms = rel(g[k].min_end_ms, now);
        g[k].max_end_ms = rel(g[k].max_end_ms, now);
    }
    b->last_spat[i] = *x;
    b->last_spat[i].groups = g;
    b->has_last_sig[i] = 1;
}

/* Keeps the subscribed entries of a full tick that changed since the last tick sent (all of
 * them for a full snapshot) and the SRMs of the subscribed roles; remembers what is sent. */
static void filter_tick(bridge_t *b, proto_tick_t *t) {
    int full = b->full_next;
    int32_t n = 0;
    for (int32_t i = 0; i < t->n_spat; i++) {
        const proto_intersection_state_t *x = &t->spat[i];
        if (!b->sub_sig[i] ||
            (!full && b->has_last_sig[i] && same_signal(&b->last_spat[i], x, 1, t->time_ms)))
            continue;
        keep_sent(b, i, x, t->time_ms);
        t->spat[n++] = *x;
    }
    t->n_spat = n;
    n = 0;
    for (int32_t d = 0; d < t->n_detectors; d++) {
        const proto_detector_state_t *x = &t->detectors[d];
        if (!b->sub_det[d] || (!full && b->has_last_det[d] && b->last_det[d].count == x->count &&
                               b->last_det[d].occupied == x->occupied))
            continue;
        b->last_det[d] = *x;
        b->has_last_det[d] = 1;
        t->detectors[n++] = *x;
    }
    t->n_detectors = n;
    n = 0;
    for (int32_t k = 0; k < t->n_srms; k++)
        if (b->all_roles || (b->roles & PROTO_ROLE_BIT(t->srms[k].role)))
            t->srms[n++] = t->srms[k];
    t->n_srms = n;
    t->delta = !full;
    b->full_next = 0;
}

/* The next set bit of a bit set of n bits at or after i, or n. */
static int32_t next_bit(const uint64_t *set, int32_t i, int32_t n) {
    while (i < n) {
        uint64_t w = set[i >> 6] >> (i & 63);
        if (w != 0) {
            i += (int32_t)__builtin_ctzll(w);
            return i < n ? i : n;
        }
        i = (i | 63) + 1;
    }
    return n;
}

/* Whether a marked subscribed signal (without times) or detector differs from the last tick
 * sent: what signals_changed() and detectors_changed() say of a full tick, reading only what
 * the simulator marked (a change of times alone is no change here). */
static int marked_changed(bridge_t *b, int signals, int detectors) {
    const sim_scenario_t *scn = b->scn;
    const uint64_t *cs = sim_changed_signals(b->sim), *cd = sim_changed_detectors(b->sim);
    for (int32_t i = next_bit(cs, 0, scn->n_signals); signals && i < scn->n_signals;
         i = next_bit(cs, i + 1, scn->n_signals)) {
        if (!b->sub_sig[i])
            continue;
        proto_intersection_state_t x;
        proto_group_state_t groups[SIM_MAX_GROUPS];
        bridge_tick_signal(b->sim, i, &x, groups);
        if (!b->has_last_sig[i] || !same_signal(&b->last_spat[i], &x, 0, sim_now(b->sim)))
            return 1;
    }
    for (int32_t d = next_bit(cd, 0, scn->n_detectors); detectors && d < scn->n_detectors;
         d = next_bit(cd, d + 1, scn->n_detectors))
        if (b->sub_det[d] &&
            (!b->has_last_det[d] || b->last_det[d].count != sim_detector_count(b->sim, d) ||
             b->last_det[d].occupied != sim_detector_occupied(b->sim, d)))
            return 1;
    return 0;
}

/* The delta of the subscribed state into *t (SRMs already there), as filter_tick() makes it
 * from a full tick, but reading only the signals marked or whose times cross the clock
 * (next_cross) and the detectors marked; then clears the marks. */
static void build_delta(bridge_t *b, proto_tick_t *t) {
    const sim_scenario_t *scn = b->scn;
    int64_t now = sim_now(b->sim);
    const uint64_t *cs = sim_changed_signals(b->sim), *cd = sim_changed_detectors(b->sim);
    int32_t n = 0;
    t->spat = b->delta_spat;
    for (int32_t i = 0; i < scn->n_signals; i++) {
        int marked = (cs[i >> 6] >> (i & 63)) & 1;
        if (!b->sub_sig[i] || (!marked && b->next_cross[i] > now))
            continue;
        proto_intersection_state_t *x = &t->spat[n];
        bridge_tick_signal(b->sim, i, x, &b->delta_groups[b->group_off[i]]);
        b->next_cross[i] = sim_signal_next_change(b->sim, i);
        if (b->has_last_sig[i] && same_signal(&b->last_spat[i], x, 1, now))
            continue;
        keep_sent(b, i, x, now);
        b->delta_spat_at[n++] = i;
    }
    t->n_spat = n;
    n = 0;
    t->detectors = b->delta_det;
    for (int32_t d = next_bit(cd, 0, scn->n_detectors); d < scn->n_detectors;
         d = next_bit(cd, d + 1, scn->n_detectors)) {
        proto_detector_state_t x = {.id = scn->detectors[d].id,
                                    .count = sim_detector_count(b->sim, d),
                                    .occupied = sim_detector_occupied(b->sim, d)};
        if (!b->sub_det[d] || (b->has_last_det[d] && b->last_det[d].count == x.count &&
                               b->last_det[d].occupied == x.occupied))
            continue;
        b->last_det[d] = x;
        b->has_last_det[d] = 1;
        b->delta_det_at[n] = d;
        t->detectors[n++] = x;
    }
    t->n_detectors = n;
    if (b->cfg.local != NULL && b->map_json == NULL) { /* the controller's map is b->scn */
        t->spat_at = b->delta_spat_at;
        t->detectors_at = b->delta_det_at;
    }
    n = 0;
    for (int32_t k = 0; k < t->n_srms; k++)
        if (b->all_roles || (b->roles & PROTO_ROLE_BIT(t->srms[k].role)))
            t->srms[n++] = t->srms[k];
    t->n_srms = n;
    t->delta = 1;
    sim_changes_clear(b->sim);
}

/* Builds the tick due at this boundary into *t. Returns 1, 0 when a wake is in force and none
 * of its conditions holds (nothing to send), or BASE_ENOMEM. */
static int build_tick(bridge_t *b, proto_tick_t *t) {
    base_arena_t *a = &b->tick_arena;
    int escorts = b->all_roles || (b->roles & PROTO_ROLE_BIT(PROTO_ROLE_POLICE));
    int transit = b->all_roles || (b->roles & PROTO_ROLE_BIT(PROTO_ROLE_TRANSIT));
    int srms = 0, state = 0;
    if (b->has_wake) {
        int due = b->wake.at_ms >= 0 && sim_now(b->sim) >= b->wake.at_ms;
        if (!due && (b->wake.on & PROTO_WAKE_SRM)) {
            if (bridge_tick_build_srms(b->sim, b->obu, a, escorts, transit, t) < 0)
                return BASE_ENOMEM;
            srms = 1;
            for (int32_t k = 0; k < t->n_srms && !due; k++)
                due = b->all_roles || (b->roles & PROTO_ROLE_BIT(t->srms[k].role));
            due = due || b->last_n_srms > 0; /* the controller sees the requests end */
        }
        if (!due && (b->wake.on & (PROTO_WAKE_SIGNAL | PROTO_WAKE_DETECTOR)) && b->tracked) {
            due = marked_changed(b, (b->wake.on & PROTO_WAKE_SIGNAL) != 0,
                                 (b->wake.on & PROTO_WAKE_DETECTOR) != 0);
        } else if (!due && (b->wake.on & (PROTO_WAKE_SIGNAL | PROTO_WAKE_DETECTOR))) {
            if (bridge_tick_build_state(b->sim, a, t) < 0)
                return BASE_ENOMEM;
            state = 1;
            due = ((b->wake.on & PROTO_WAKE_SIGNAL) && signals_changed(b, t)) ||
                  ((b->wake.on & PROTO_WAKE_DETECTOR) && detectors_changed(b, t));
        }
        if (!due)
            return 0;
    }
    if (!srms && bridge_tick_build_srms(b->sim, b->obu, a, escorts, transit, t) < 0)
        return BASE_ENOMEM;
    if (b->tracked && !b->full_next) {
        build_delta(b, t);
        b->last_n_srms = t->n_srms;
        return 1;
    }
    if (!state && bridge_tick_build_state(b->sim, a, t) < 0)
        return BASE_ENOMEM;
    if (b->subscribed)
        filter_tick(b, t);
    if (b->tracked) {
        /* A full snapshot: every signal's times looked at now. */
        for (int32_t i = 0; i < b->scn->n_signals; i++)
            b->next_cross[i] = sim_signal_next_change(b->sim, i);
        sim_changes_clear(b->sim);
    }
    b->last_n_srms = t->n_srms;
    return 1;
}

sim_time_t bridge_next_tick(const bridge_t *b, sim_time_t now) {
    sim_time_t tick = b->cfg.tick_ms;
    sim_time_t next = (now / tick + 1) * tick;
    if (!b->online || !b->has_wake || b->wake.on != 0)
        return next;
    if (b->wake.at_ms < 0)
        return SIM_TIME_MAX;
    if (b->wake.at_ms <= next)
        return next;
    /* the first boundary at or after the wake time */
    sim_time_t at = b->wake.at_ms;
    return at % tick == 0 ? at : (at / tick + 1) * tick;
}

static void apply_control(bridge_t *b, const proto_control_t *c) {
    for (int32_t i = 0; i < c->n_log; i++) {
        logf_(b, "controller: %s", c->log[i]);
        if (b->cfg.on_decision != NULL)
            b->cfg.on_decision(b->cfg.ud, c->log[i]);
    }
    for (int32_t i = 0; i < c->n_commands; i++) {
        const proto_command_t *pc = &c->commands[i];
        b->st.commands++;
        base_err_t why; /* set only on a refusal */
        why.code = 0;
        why.msg[0] = '\0';
        if (bridge_command_apply_at(b->sim, pc, signal_at(b, pc->intersection), &why) < 0) {
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
    if (b->cfg.local != NULL)
        logf_(b, "controller lost (it did not answer the tick): signals back on their local plans");
    else
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
    base_arena_reset(&b->tick_arena);
    proto_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = PROTO_TICK;
    int built = build_tick(b, &m.u.tick);
    if (built <= 0)
        return built; /* no wake condition holds: no tick at this boundary */
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
            b->has_wake = b->cfg.event && r.u.control.has_wake;
            b->st.event |= b->has_wake;
            b->wake = r.u.control.wake;
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

const char *bridge_refusal(const bridge_t *b) {
    return b->refusal[0] != '\0' ? b->refusal : NULL;
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
    st.encoding = b->cfg.local != NULL ? "in-process" : proto_encoding_name(b->enc);
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
