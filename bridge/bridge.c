/*
 * bridge/bridge.c - lockstep ticks over ZeroMQ, lazy-pirate recovery, on-board units.
 *
 * States: online (a tick is sent and the matching control awaited up to the timeout) and
 * lost (no waiting: a hello is offered every few ticks and the socket drained without
 * blocking until a welcome arrives). Declaring the controller lost closes the DEALER socket
 * and opens a new one with a new routing id (run id + "." + reconnect count), whose hello
 * starts a fresh session, whether the controller restarted or was only slow. Sends never
 * block (ZMQ_DONTWAIT): a full pipe is the same as no answer.
 *
 * The on-board units: each travelling escort sends one SRM per tick listing every signalized
 * intersection still ahead on its route, with ETAs from its position and its desired speed
 * (a standing escort's ETA to its stop line is now); an intersection it has passed is
 * cancelled once. A bus sends an SRM for its next signalized intersection only.
 */
#include "bridge/bridge.h"

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
#define ESCORT_WINDOW_MS   4000 /* covers the escorted car behind the leader */

typedef struct {
    uint8_t *state; /* per route index: 0 not requested, 1 requested, 2 cancelled */
    int32_t msg_count;
} obu_t;

struct bridge {
    void *ctx;
    void *sock;
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
    obu_t *obu; /* per escort */
    int32_t bus_class;
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

static int open_socket(bridge_t *b, base_err_t *err) {
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
    b->obu = calloc((size_t)b->scn->n_escorts + 1, sizeof *b->obu);
    if (b->obu == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        bridge_destroy(&b);
        return NULL;
    }
    for (int32_t e = 0; e < b->scn->n_escorts; e++) {
        b->obu[e].state = calloc((size_t)b->scn->escorts[e].route.n_links + 1, 1);
        if (b->obu[e].state == NULL) {
            base_err_set(err, BASE_ENOMEM, "out of memory");
            bridge_destroy(&b);
            return NULL;
        }
    }
    b->bus_class = sim_scenario_find_class(b->scn, "bus");
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
    if (b->obu != NULL) {
        for (int32_t e = 0; e < b->scn->n_escorts; e++)
            free(b->obu[e].state);
        free(b->obu);
    }
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
        int rc = recv_msg(b, (int)left + 1, &m);
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

static proto_phase_state_t phase_of(sim_signal_state_t s) {
    switch (s) {
    case SIM_SIGNAL_GREEN:
        return PROTO_PHASE_PROTECTED_ALLOWED;
    case SIM_SIGNAL_YELLOW:
        return PROTO_PHASE_PROTECTED_CLEARANCE;
    case SIM_SIGNAL_RED:
        return PROTO_PHASE_STOP_AND_REMAIN;
    default:
        return PROTO_PHASE_DARK;
    }
}

static int build_spat(bridge_t *b, proto_tick_t *t) {
    const sim_scenario_t *scn = b->scn;
    base_arena_t *a = &b->tick_arena;
    t->n_spat = scn->n_signals;
    t->spat = base_arena_calloc(a, (size_t)scn->n_signals + 1, sizeof *t->spat);
    if (t->spat == NULL)
        return BASE_ENOMEM;
    for (int32_t s = 0; s < scn->n_signals; s++) {
        const sim_signal_t *sig = &scn->signals[s];
        sim_signal_status_t ss = sim_signal_status(b->sim, s);
        proto_intersection_state_t *is = &t->spat[s];
        is->id = scn->nodes[sig->node].id;
        is->stage = sig->stages[ss.stage].id;
        is->next_stage = sig->stages[ss.next_stage].id;
        is->in_change = ss.in_change;
        is->plan = sig->plans[ss.plan].id;
        is->external = ss.external;
        is->preempt_active = ss.external && ss.preempt;
        is->priority_active = ss.external && !ss.preempt;
        is->in_transition = ss.in_transition;
        is->n_groups = sig->n_groups;
        is->groups = base_arena_calloc(a, (size_t)sig->n_groups, sizeof *is->groups);
        if (is->groups == NULL)
            return BASE_ENOMEM;
        for (int32_t g = 0; g < sig->n_groups; g++) {
            is->groups[g].id = sig->groups[g].id;
            is->groups[g].state = phase_of(sim_signal_state(b->sim, s, g));
            is->groups[g].min_end_ms = sim_group_min_end(b->sim, s, g);
            is->groups[g].max_end_ms = sim_group_max_end(b->sim, s, g);
        }
    }
    return BASE_OK;
}

static int build_detectors(bridge_t *b, proto_tick_t *t) {
    const sim_scenario_t *scn = b->scn;
    t->n_detectors = scn->n_detectors;
    t->detectors =
        base_arena_calloc(&b->tick_arena, (size_t)scn->n_detectors + 1, sizeof *t->detectors);
    if (t->detectors == NULL)
        return BASE_ENOMEM;
    for (int32_t d = 0; d < scn->n_detectors; d++) {
        t->detectors[d].id = scn->detectors[d].id;
        t->detectors[d].count = sim_detector_count(b->sim, d);
        t->detectors[d].occupied = sim_detector_occupied(b->sim, d);
    }
    return BASE_OK;
}

static int node_signalized(const sim_scenario_t *scn, int32_t link) {
    return scn->nodes[scn->links[link].to].signal >= 0;
}

/* Time the vehicle reaches the end of its current link. */
static sim_time_t end_of_link(const sim_t *sim, const sim_vehicle_info_t *vi) {
    if (!vi->in_network || vi->queued)
        return sim_now(sim);
    return vi->stopline_at > sim_now(sim) ? vi->stopline_at : sim_now(sim);
}

static int add_escort_srm(bridge_t *b, int32_t e, proto_srm_t *srm) {
    const sim_scenario_t *scn = b->scn;
    const sim_escort_t *es = &scn->escorts[e];
    obu_t *obu = &b->obu[e];
    base_arena_t *a = &b->tick_arena;
    int32_t slot = sim_escort_slot(b->sim, e);
    sim_vehicle_info_t vi;
    int travelling = slot >= 0 && sim_vehicle_get(b->sim, slot, &vi);
    int32_t pos = travelling ? vi.route_pos : es->route.n_links;
    int32_t n = 0;
    for (int32_t i = 0; i < es->route.n_links - 1; i++)
        if (node_signalized(scn, es->route.links[i]) && (i >= pos || obu->state[i] == 1))
            n++;
    if (n == 0)
        return 0;
    srm->requests = base_arena_calloc(a, (size_t)n, sizeof *srm->requests);
    if (srm->requests == NULL)
        return BASE_ENOMEM;
    srm->request_id = e + 1;
    srm->msg_count = obu->msg_count;
    obu->msg_count = (obu->msg_count + 1) % 128;
    srm->vehicle_id = es->id;
    srm->role = PROTO_ROLE_POLICE;
    srm->link = scn->links[travelling ? vi.link : es->route.links[es->route.n_links - 1]].id;
    srm->pos_m = travelling ? vi.pos_m : 0;
    srm->speed_mps = travelling ? vi.speed_mps : 0;
    sim_time_t eta = travelling ? end_of_link(b->sim, &vi) : sim_now(b->sim);
    int32_t k = 0;
    for (int32_t i = 0; i < es->route.n_links - 1; i++) {
        int32_t l = es->route.links[i];
        if (i > pos)
            eta += sim_scenario_drive_time(scn->links[l].length_m, es->desired_speed_mps);
        if (!node_signalized(scn, l))
            continue;
        if (i < pos) {
            if (obu->state[i] == 1) {
                proto_request_t *r = &srm->requests[k++];
                r->intersection = scn->nodes[scn->links[l].to].id;
                r->request_type = PROTO_REQ_CANCEL;
                r->in_bound_lane = scn->links[l].id;
                r->out_bound_lane = scn->links[es->route.links[i + 1]].id;
                r->eta_ms = sim_now(b->sim);
                r->duration_ms = 0;
                obu->state[i] = 2;
            }
            continue;
        }
        proto_request_t *r = &srm->requests[k++];
        r->intersection = scn->nodes[scn->links[l].to].id;
        r->request_type = obu->state[i] ? PROTO_REQ_UPDATE : PROTO_REQ_REQUEST;
        r->in_bound_lane = scn->links[l].id;
        r->out_bound_lane = scn->links[es->route.links[i + 1]].id;
        r->eta_ms = eta;
        r->duration_ms = ESCORT_WINDOW_MS;
        obu->state[i] = 1;
    }
    srm->n_requests = k;
    return k > 0 ? 1 : 0;
}

static int build_srms(bridge_t *b, proto_tick_t *t) {
    const sim_scenario_t *scn = b->scn;
    base_arena_t *a = &b->tick_arena;
    int32_t buses = 0;
    if (b->bus_class >= 0) {
        for (int32_t v = 0; v < sim_vehicle_slots(b->sim); v++) {
            sim_vehicle_info_t vi;
            if (sim_vehicle_get(b->sim, v, &vi) && vi.vclass == b->bus_class && vi.in_network &&
                vi.route_pos < vi.route->n_links - 1 && node_signalized(scn, vi.link))
                buses++;
        }
    }
    size_t cap = (size_t)scn->n_escorts + (size_t)buses + 1;
    t->srms = base_arena_calloc(a, cap, sizeof *t->srms);
    if (t->srms == NULL)
        return BASE_ENOMEM;
    t->n_srms = 0;
    for (int32_t e = 0; e < scn->n_escorts; e++) {
        if (sim_escort_status(b->sim, e).state == 0)
            continue;
        int rc = add_escort_srm(b, e, &t->srms[t->n_srms]);
        if (rc < 0)
            return rc;
        t->n_srms += rc;
    }
    for (int32_t v = 0; buses > 0 && v < sim_vehicle_slots(b->sim); v++) {
        sim_vehicle_info_t vi;
        if (!sim_vehicle_get(b->sim, v, &vi) || vi.vclass != b->bus_class || !vi.in_network ||
            vi.route_pos >= vi.route->n_links - 1 || !node_signalized(scn, vi.link))
            continue;
        proto_srm_t *srm = &t->srms[t->n_srms++];
        char *id = base_arena_alloc(a, 32);
        proto_request_t *r = base_arena_calloc(a, 1, sizeof *r);
        if (id == NULL || r == NULL)
            return BASE_ENOMEM;
        snprintf(id, 32, "bus-%lld", (long long)vi.id);
        srm->request_id = 128 + (int32_t)(vi.id % 128);
        srm->msg_count = 0;
        srm->vehicle_id = id;
        srm->role = PROTO_ROLE_TRANSIT;
        srm->link = scn->links[vi.link].id;
        srm->pos_m = vi.pos_m;
        srm->speed_mps = vi.speed_mps;
        r->intersection = scn->nodes[scn->links[vi.link].to].id;
        r->request_type = PROTO_REQ_REQUEST;
        r->in_bound_lane = scn->links[vi.link].id;
        r->out_bound_lane = scn->links[vi.route->links[vi.route_pos + 1]].id;
        r->eta_ms = end_of_link(b->sim, &vi);
        r->duration_ms = 2000;
        srm->requests = r;
        srm->n_requests = 1;
    }
    return BASE_OK;
}

/* ---- applying a control ------------------------------------------------------------ */

static int32_t find_signal(const sim_scenario_t *scn, const char *node) {
    for (int32_t s = 0; s < scn->n_signals; s++)
        if (strcmp(scn->nodes[scn->signals[s].node].id, node) == 0)
            return s;
    return -1;
}

static int32_t find_stage(const sim_signal_t *sig, const char *id) {
    for (int32_t k = 0; id != NULL && k < sig->n_stages; k++)
        if (strcmp(sig->stages[k].id, id) == 0)
            return k;
    return -1;
}

static void apply_control(bridge_t *b, const proto_control_t *c) {
    const sim_scenario_t *scn = b->scn;
    for (int32_t i = 0; i < c->n_log; i++) {
        logf_(b, "controller: %s", c->log[i]);
        if (b->cfg.on_decision != NULL)
            b->cfg.on_decision(b->cfg.ud, c->log[i]);
    }
    for (int32_t i = 0; i < c->n_commands; i++) {
        const proto_command_t *pc = &c->commands[i];
        b->st.commands++;
        sim_command_t cmd = {.signal = find_signal(scn, pc->intersection), .stage = -1};
        cmd.hold = pc->hold;
        cmd.preempt = pc->preempt;
        cmd.transition = (sim_transition_t)pc->transition;
        switch (pc->action) {
        case PROTO_CMD_HOLD:
            cmd.action = SIM_CMD_HOLD;
            break;
        case PROTO_CMD_FORCE_OFF:
            cmd.action = SIM_CMD_FORCE_OFF;
            break;
        case PROTO_CMD_CALL:
            cmd.action = SIM_CMD_CALL;
            if (cmd.signal >= 0)
                cmd.stage = find_stage(&scn->signals[cmd.signal], pc->stage);
            break;
        case PROTO_CMD_RELEASE:
            cmd.action = SIM_CMD_RELEASE;
            break;
        default:
            cmd.action = (sim_cmd_action_t)0;
            break;
        }
        base_err_t why = {0};
        if (sim_command(b->sim, &cmd, &why) < 0) {
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
    m.u.tick.time_ms = sim_now(b->sim);
    if (build_spat(b, &m.u.tick) < 0 || build_detectors(b, &m.u.tick) < 0 ||
        build_srms(b, &m.u.tick) < 0)
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
