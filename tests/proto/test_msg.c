/*
 * tests/proto/test_msg.c - suite proto_msg: the message codec of proto/msg.h against
 * docs/protocol.md.
 *
 * One sample of every message type with non-trivial contents (several intersections, nulls,
 * every enum, UTF-8 text, awkward doubles) is encoded, decoded and compared field by field, and
 * re-encoded to the same bytes; a few encodings are pinned byte for byte. Every refusal the
 * document promises is then built by editing a sample's JSON with jansson (set or delete the
 * member at a path such as "spat[0].states[1].eventState") and checked for BASE_EPROTO and a
 * message naming the wire path; the encoder's refusals are built by editing the structs and
 * checked for BASE_EINVAL. Last come inputs that must fail cleanly whatever they are: every
 * truncation of every sample, thousands of seeded random byte mutations, every member replaced
 * by values of every JSON type or deleted. Whatever of those decodes must encode again and
 * decode to the same message (the encoder accepts all the decoder accepts). Run under ASan.
 *
 * The codec tests run twice, once per encoding (a fixture sets ENC): with MessagePack, the
 * samples are encoded as MessagePack, edited documents are transcoded to MessagePack before
 * decoding (so every refusal above must come out of the MessagePack path with the same
 * message), the wire form is compared after transcoding to JSON, and truncations and
 * mutations cut and flip MessagePack bytes. Raw-text tests stay JSON-only; MessagePack has
 * its own raw refusals. Hello/welcome negotiation fields, tick deltas and control wakes have
 * their own round trips and refusals.
 */
#include "proto/check.h"
#include "proto/msg.h"

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- samples ---------------------------------------------------------------------------- */

/* Storage of the samples; make() refills it, so a test may edit it freely. */
static proto_group_state_t groups0[3], groups1[2];
static proto_intersection_state_t spat[2];
static proto_detector_state_t detectors[2];
static proto_request_t requests0[3], requests1[1];
static proto_srm_t srms[2];
static proto_command_t commands[4];
static proto_ssm_entry_t ssm[3];
static const char *log_lines[3];

#define MAP_JSON                                                                                   \
    "{\"format\":\"greenwave-scenario\",\"version\":1,\"name\":\"bayiqi\",\"nodes\":[{\"id\":"     \
    "\"N1\",\"x_m\":0.5,\"y_m\":-12},{\"id\":\"N2\",\"x_m\":400.25,\"y_m\":0}],\"links\":[{"       \
    "\"id\":"                                                                                      \
    "\"L1\",\"from\":\"N1\",\"to\":\"N2\",\"lanes\":2}],\"signals\":[]}"

static void fill_tick(proto_tick_t *t) {
    groups0[0] = (proto_group_state_t){.id = "G_ns_through",
                                       .state = PROTO_PHASE_PROTECTED_ALLOWED,
                                       .min_end_ms = 3605000,
                                       .max_end_ms = -1};
    groups0[1] = (proto_group_state_t){.id = "G_ew",
                                       .state = PROTO_PHASE_STOP_AND_REMAIN,
                                       .min_end_ms = 3609000,
                                       .max_end_ms = 3650000};
    groups0[2] = (proto_group_state_t){
        .id = "G_ped", .state = PROTO_PHASE_DARK, .min_end_ms = 0, .max_end_ms = 0};
    groups1[0] = (proto_group_state_t){.id = "G1",
                                       .state = PROTO_PHASE_PROTECTED_CLEARANCE,
                                       .min_end_ms = 3601000,
                                       .max_end_ms = 3601000};
    groups1[1] = (proto_group_state_t){
        .id = "G2", .state = PROTO_PHASE_STOP_AND_REMAIN, .min_end_ms = 3603000, .max_end_ms = -1};
    spat[0] = (proto_intersection_state_t){.id = "N_gulouqian",
                                           .stage = "S1",
                                           .next_stage = NULL,
                                           .in_change = 0,
                                           .plan = "P_evening",
                                           .external = 1,
                                           .preempt_active = 1,
                                           .priority_active = 0,
                                           .in_transition = 0,
                                           .groups = groups0,
                                           .n_groups = 3};
    spat[1] = (proto_intersection_state_t){.id = "N_nanmendou",
                                           .stage = "S2",
                                           .next_stage = "S3",
                                           .in_change = 1,
                                           .plan = "P_evening",
                                           .external = 0,
                                           .preempt_active = 0,
                                           .priority_active = 1,
                                           .in_transition = 1,
                                           .groups = groups1,
                                           .n_groups = 2};
    detectors[0] = (proto_detector_state_t){.id = "D_L1_0", .count = 12345, .occupied = 1};
    detectors[1] = (proto_detector_state_t){.id = "D_L2_1", .count = 0, .occupied = 0};
    requests0[0] = (proto_request_t){.intersection = "N_gulouqian",
                                     .request_type = PROTO_REQ_UPDATE,
                                     .in_bound_lane = "L1",
                                     .out_bound_lane = "L2",
                                     .eta_ms = 3612345,
                                     .duration_ms = 8000};
    requests0[1] = (proto_request_t){.intersection = "N_nanmendou",
                                     .request_type = PROTO_REQ_REQUEST,
                                     .in_bound_lane = "L7",
                                     .out_bound_lane = NULL,
                                     .eta_ms = 3700000,
                                     .duration_ms = 0};
    requests0[2] = (proto_request_t){.intersection = "N_old",
                                     .request_type = PROTO_REQ_CANCEL,
                                     .in_bound_lane = "L0",
                                     .out_bound_lane = "L1",
                                     .eta_ms = 0,
                                     .duration_ms = 0};
    requests1[0] = (proto_request_t){.intersection = "N_nanmendou",
                                     .request_type = PROTO_REQ_REQUEST,
                                     .in_bound_lane = "L9",
                                     .out_bound_lane = "L10",
                                     .eta_ms = 3620000,
                                     .duration_ms = 3000};
    srms[0] = (proto_srm_t){.request_id = 255,
                            .msg_count = 127,
                            .vehicle_id = "escort-0",
                            .role = PROTO_ROLE_POLICE,
                            .link = "L1",
                            .pos_m = 123.456789012345,
                            .speed_mps = 0.1,
                            .requests = requests0,
                            .n_requests = 3};
    srms[1] = (proto_srm_t){.request_id = 0,
                            .msg_count = 0,
                            .vehicle_id = "bus-17",
                            .role = PROTO_ROLE_TRANSIT,
                            .link = "L9",
                            .pos_m = 0.0,
                            .speed_mps = 11.0,
                            .requests = requests1,
                            .n_requests = 1};
    *t = (proto_tick_t){.time_ms = 3600000,
                        .spat = spat,
                        .n_spat = 2,
                        .detectors = detectors,
                        .n_detectors = 2,
                        .srms = srms,
                        .n_srms = 2};
}

static void fill_control(proto_control_t *c) {
    commands[0] =
        (proto_command_t){.intersection = "N_gulouqian", .action = PROTO_CMD_HOLD, .preempt = 1};
    commands[1] = (proto_command_t){.intersection = "N_nanmendou", .action = PROTO_CMD_FORCE_OFF};
    commands[2] = (proto_command_t){.intersection = "N_nanmendou",
                                    .action = PROTO_CMD_CALL,
                                    .stage = "S3",
                                    .hold = 1,
                                    .preempt = 1};
    commands[3] = (proto_command_t){.intersection = "N_old",
                                    .action = PROTO_CMD_RELEASE,
                                    .transition = PROTO_TRANSITION_SHORTWAY};
    ssm[0] = (proto_ssm_entry_t){.request_id = 255,
                                 .vehicle_id = "escort-0",
                                 .intersection = "N_gulouqian",
                                 .status = PROTO_SSM_GRANTED};
    ssm[1] = (proto_ssm_entry_t){.request_id = 255,
                                 .vehicle_id = "escort-0",
                                 .intersection = "N_nanmendou",
                                 .status = PROTO_SSM_PROCESSING};
    ssm[2] = (proto_ssm_entry_t){.request_id = 0,
                                 .vehicle_id = "bus-17",
                                 .intersection = "N_nanmendou",
                                 .status = PROTO_SSM_UNKNOWN};
    log_lines[0] = "N_gulouqian: hold S1 for escort-0 (ETA 12.3 s)";
    log_lines[1] = "南门兜: call S3, \"quoted\"\tand\nnewline";
    log_lines[2] = "";
    *c = (proto_control_t){.ack = 17,
                           .commands = commands,
                           .n_commands = 4,
                           .ssm = ssm,
                           .n_ssm = 3,
                           .log = log_lines,
                           .n_log = 3};
}

/* Returns the sample of type t, its storage refilled. */
static proto_msg_t make(proto_type_t t) {
    proto_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = t;
    m.version = PROTO_VERSION;
    m.seq = 42;
    switch (t) {
    case PROTO_HELLO:
        m.seq = 0;
        m.u.hello.session = (proto_session_t){.scenario = "bayiqi 八一七路",
                                              .seed = UINT64_C(9007199254740993),
                                              .strategy = "route-green",
                                              .tick_ms = 1000,
                                              .start_tod_ms = 63000000};
        m.u.hello.map_json = MAP_JSON;
        break;
    case PROTO_WELCOME:
        m.u.welcome =
            (proto_welcome_t){.strategy = "corridor", .controller = "greenwave-controller 0.1.0"};
        break;
    case PROTO_TICK:
        fill_tick(&m.u.tick);
        break;
    case PROTO_CONTROL:
        fill_control(&m.u.control);
        break;
    case PROTO_BYE:
        m.u.bye = (proto_bye_t){.time_ms = 5400000, .reason = "end of run"};
        break;
    }
    return m;
}

static const proto_type_t ALL_TYPES[] = {PROTO_HELLO, PROTO_WELCOME, PROTO_TICK, PROTO_CONTROL,
                                         PROTO_BYE};

/* ---- comparison ------------------------------------------------------------------------- */

static const char *show(const char *s) {
    return s != NULL ? s : "(NULL)";
}

static void eq_str(const char *where, const char *field, const char *a, const char *b) {
    int same = (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
    ck_assert_msg(same, "%s%s: \"%s\" != \"%s\"", where, field, show(a), show(b));
}

static void eq_int(const char *where, const char *field, long long a, long long b) {
    ck_assert_msg(a == b, "%s%s: %lld != %lld", where, field, a, b);
}

static void eq_dbl(const char *where, const char *field, double a, double b) {
    ck_assert_msg(a == b, "%s%s: %.17g != %.17g", where, field, a, b);
}

static void eq_tick(const proto_tick_t *a, const proto_tick_t *b) {
    char w[128];
    eq_int("tick.", "time_ms", a->time_ms, b->time_ms);
    eq_int("tick.", "n_spat", a->n_spat, b->n_spat);
    for (int32_t i = 0; i < a->n_spat; i++) {
        const proto_intersection_state_t *x = &a->spat[i], *y = &b->spat[i];
        snprintf(w, sizeof w, "spat[%d].", (int)i);
        eq_str(w, "id", x->id, y->id);
        eq_str(w, "stage", x->stage, y->stage);
        eq_str(w, "next_stage", x->next_stage, y->next_stage);
        eq_int(w, "in_change", x->in_change, y->in_change);
        eq_str(w, "plan", x->plan, y->plan);
        eq_int(w, "external", x->external, y->external);
        eq_int(w, "preempt_active", x->preempt_active, y->preempt_active);
        eq_int(w, "priority_active", x->priority_active, y->priority_active);
        eq_int(w, "in_transition", x->in_transition, y->in_transition);
        eq_int(w, "n_groups", x->n_groups, y->n_groups);
        for (int32_t j = 0; j < x->n_groups; j++) {
            const proto_group_state_t *g = &x->groups[j], *h = &y->groups[j];
            snprintf(w, sizeof w, "spat[%d].states[%d].", (int)i, (int)j);
            eq_str(w, "id", g->id, h->id);
            eq_int(w, "state", g->state, h->state);
            eq_int(w, "min_end_ms", g->min_end_ms, h->min_end_ms);
            eq_int(w, "max_end_ms", g->max_end_ms, h->max_end_ms);
        }
    }
    eq_int("tick.", "n_detectors", a->n_detectors, b->n_detectors);
    for (int32_t i = 0; i < a->n_detectors; i++) {
        snprintf(w, sizeof w, "detectors[%d].", (int)i);
        eq_str(w, "id", a->detectors[i].id, b->detectors[i].id);
        eq_int(w, "count", a->detectors[i].count, b->detectors[i].count);
        eq_int(w, "occupied", a->detectors[i].occupied, b->detectors[i].occupied);
    }
    eq_int("tick.", "n_srms", a->n_srms, b->n_srms);
    for (int32_t i = 0; i < a->n_srms; i++) {
        const proto_srm_t *x = &a->srms[i], *y = &b->srms[i];
        snprintf(w, sizeof w, "srm[%d].", (int)i);
        eq_int(w, "request_id", x->request_id, y->request_id);
        eq_int(w, "msg_count", x->msg_count, y->msg_count);
        eq_str(w, "vehicle_id", x->vehicle_id, y->vehicle_id);
        eq_int(w, "role", x->role, y->role);
        eq_str(w, "link", x->link, y->link);
        eq_dbl(w, "pos_m", x->pos_m, y->pos_m);
        eq_dbl(w, "speed_mps", x->speed_mps, y->speed_mps);
        eq_int(w, "n_requests", x->n_requests, y->n_requests);
        for (int32_t j = 0; j < x->n_requests; j++) {
            const proto_request_t *p = &x->requests[j], *q = &y->requests[j];
            snprintf(w, sizeof w, "srm[%d].requests[%d].", (int)i, (int)j);
            eq_str(w, "intersection", p->intersection, q->intersection);
            eq_int(w, "request_type", p->request_type, q->request_type);
            eq_str(w, "in_bound_lane", p->in_bound_lane, q->in_bound_lane);
            eq_str(w, "out_bound_lane", p->out_bound_lane, q->out_bound_lane);
            eq_int(w, "eta_ms", p->eta_ms, q->eta_ms);
            eq_int(w, "duration_ms", p->duration_ms, q->duration_ms);
        }
    }
}

static void eq_control(const proto_control_t *a, const proto_control_t *b) {
    char w[128];
    eq_int("control.", "ack", a->ack, b->ack);
    eq_int("control.", "n_commands", a->n_commands, b->n_commands);
    for (int32_t i = 0; i < a->n_commands; i++) {
        const proto_command_t *x = &a->commands[i], *y = &b->commands[i];
        snprintf(w, sizeof w, "commands[%d].", (int)i);
        eq_str(w, "intersection", x->intersection, y->intersection);
        eq_int(w, "action", x->action, y->action);
        eq_str(w, "stage", x->stage, y->stage);
        eq_int(w, "hold", x->hold, y->hold);
        eq_int(w, "transition", x->transition, y->transition);
        eq_int(w, "preempt", x->preempt, y->preempt);
    }
    eq_int("control.", "n_ssm", a->n_ssm, b->n_ssm);
    for (int32_t i = 0; i < a->n_ssm; i++) {
        snprintf(w, sizeof w, "ssm[%d].", (int)i);
        eq_int(w, "request_id", a->ssm[i].request_id, b->ssm[i].request_id);
        eq_str(w, "vehicle_id", a->ssm[i].vehicle_id, b->ssm[i].vehicle_id);
        eq_str(w, "intersection", a->ssm[i].intersection, b->ssm[i].intersection);
        eq_int(w, "status", a->ssm[i].status, b->ssm[i].status);
    }
    eq_int("control.", "n_log", a->n_log, b->n_log);
    for (int32_t i = 0; i < a->n_log; i++) {
        snprintf(w, sizeof w, "log[%d]", (int)i);
        eq_str(w, "", a->log[i], b->log[i]);
    }
}

static void eq_ids(const char *field, int all_a, const char *const *a, int32_t na, int all_b,
                   const char *const *b, int32_t nb) {
    eq_int("welcome.subscribe.", field, all_a, all_b);
    if (all_a)
        return;
    eq_int("welcome.subscribe.n_", field, na, nb);
    for (int32_t i = 0; i < na; i++)
        eq_str("welcome.subscribe.", field, a[i], b[i]);
}

static void eq_subscribe(const proto_subscribe_t *a, const proto_subscribe_t *b) {
    ck_assert_msg((a == NULL) == (b == NULL), "welcome.subscribe: present on one side only");
    if (a == NULL)
        return;
    eq_ids("signals", a->all_signals, a->signals, a->n_signals, b->all_signals, b->signals,
           b->n_signals);
    eq_ids("detectors", a->all_detectors, a->detectors, a->n_detectors, b->all_detectors,
           b->detectors, b->n_detectors);
    eq_int("welcome.subscribe.", "all_roles", a->all_roles, b->all_roles);
    if (!a->all_roles)
        eq_int("welcome.subscribe.", "roles", a->roles, b->roles);
}

/* Fails the test unless a and b hold the same message (every field). */
static void eq_msg(const proto_msg_t *a, const proto_msg_t *b) {
    eq_int("", "type", a->type, b->type);
    eq_int("", "version", a->version, b->version);
    eq_int("", "seq", a->seq, b->seq);
    switch (a->type) {
    case PROTO_HELLO:
        eq_str("hello.", "scenario", a->u.hello.session.scenario, b->u.hello.session.scenario);
        ck_assert_msg(a->u.hello.session.seed == b->u.hello.session.seed, "hello.seed differs");
        eq_str("hello.", "strategy", a->u.hello.session.strategy, b->u.hello.session.strategy);
        eq_int("hello.", "tick_ms", a->u.hello.session.tick_ms, b->u.hello.session.tick_ms);
        eq_int("hello.", "start_tod_ms", a->u.hello.session.start_tod_ms,
               b->u.hello.session.start_tod_ms);
        eq_str("hello.", "map_json", a->u.hello.map_json, b->u.hello.map_json);
        eq_int("hello.", "encodings", a->u.hello.encodings, b->u.hello.encodings);
        eq_int("hello.", "sync", a->u.hello.sync, b->u.hello.sync);
        eq_int("hello.", "no_log", a->u.hello.no_log, b->u.hello.no_log);
        break;
    case PROTO_WELCOME:
        eq_str("welcome.", "strategy", a->u.welcome.strategy, b->u.welcome.strategy);
        eq_str("welcome.", "controller", a->u.welcome.controller, b->u.welcome.controller);
        eq_int("welcome.", "encoding", a->u.welcome.encoding, b->u.welcome.encoding);
        eq_subscribe(a->u.welcome.subscribe, b->u.welcome.subscribe);
        break;
    case PROTO_TICK:
        eq_int("tick.", "delta", a->u.tick.delta, b->u.tick.delta);
        eq_tick(&a->u.tick, &b->u.tick);
        break;
    case PROTO_CONTROL:
        eq_int("control.", "has_wake", a->u.control.has_wake, b->u.control.has_wake);
        if (a->u.control.has_wake) {
            eq_int("control.", "wake.at_ms", a->u.control.wake.at_ms, b->u.control.wake.at_ms);
            eq_int("control.", "wake.on", a->u.control.wake.on, b->u.control.wake.on);
        }
        eq_control(&a->u.control, &b->u.control);
        break;
    case PROTO_BYE:
        eq_int("bye.", "time_ms", a->u.bye.time_ms, b->u.bye.time_ms);
        eq_str("bye.", "reason", a->u.bye.reason, b->u.bye.reason);
        break;
    }
}

/* ---- helpers ----------------------------------------------------------------------------- */

/* The encoding under test (set by the TCase's fixture). */
static proto_encoding_t ENC = PROTO_ENC_JSON;

static void use_json(void) {
    ENC = PROTO_ENC_JSON;
}

static void use_msgpack(void) {
    ENC = PROTO_ENC_MSGPACK;
}

/* Encodes m in the encoding under test, failing the test with the encoder's message. */
static char *encode_wire(const proto_msg_t *m, size_t *len) {
    base_err_t err = {0};
    size_t n = 0;
    char *bytes = proto_msg_encode_as(m, ENC, &n, &err);
    ck_assert_msg(bytes != NULL, "encode refused: %s", err.msg);
    ck_assert_int_eq(proto_msg_sniff(bytes, n), ENC);
    if (len != NULL)
        *len = n;
    return bytes;
}

/* Encodes m and returns it as JSON text (MessagePack is transcoded, so it must hold the very
 * same document); caller frees. */
static char *encode_ok(const proto_msg_t *m, size_t *len) {
    size_t n = 0;
    char *text = encode_wire(m, &n);
    if (ENC != PROTO_ENC_JSON) {
        base_err_t err = {0};
        char *json = proto_doc_transcode(text, n, PROTO_ENC_JSON, &n, &err);
        ck_assert_msg(json != NULL, "MessagePack does not transcode: %s", err.msg);
        free(text);
        text = json;
    }
    ck_assert_uint_eq(n, strlen(text));
    if (len != NULL)
        *len = n;
    return text;
}

/* JSON text in the encoding under test (malloc'd, length in *out), or NULL when it is not a
 * JSON document (raw tests: then it is decoded as it is). */
static char *in_enc(const char *text, size_t len, size_t *out) {
    if (ENC == PROTO_ENC_JSON || text == NULL)
        return NULL;
    base_err_t err = {0};
    return proto_doc_transcode(text, len, ENC, out, &err);
}

/* Decodes JSON text in the encoding under test. */
static int decode_in_enc(const char *text, size_t len, proto_msg_t *m, base_err_t *err) {
    size_t n = 0;
    char *bytes = in_enc(text, len, &n);
    int rc =
        bytes != NULL ? proto_msg_decode(bytes, n, m, err) : proto_msg_decode(text, len, m, err);
    free(bytes);
    return rc;
}

/* Encodes m, decodes the bytes, compares every field, re-encodes to the same bytes. */
static void roundtrip(const proto_msg_t *m) {
    size_t len, len2;
    char *text = encode_wire(m, &len);
    proto_msg_t d;
    base_err_t err = {0};
    int rc = proto_msg_decode(text, len, &d, &err);
    ck_assert_msg(rc == 0, "decode refused: %s\n%s", err.msg, text);
    eq_msg(m, &d);
    char *again = encode_wire(&d, &len2);
    ck_assert_uint_eq(len2, len);
    ck_assert_msg(memcmp(again, text, len) == 0, "re-encoding differs");
    free(again);
    proto_msg_fini(&d);
    free(text);
}

/* After a successful decode: the message must encode, and decode again to itself. */
static void reencodes(const proto_msg_t *d, const char *input) {
    base_err_t err = {0};
    size_t len;
    char *text = proto_msg_encode_as(d, ENC, &len, &err);
    ck_assert_msg(text != NULL, "decoded but does not encode (%s): %s", err.msg, input);
    proto_msg_t d2;
    int rc = proto_msg_decode(text, len, &d2, &err);
    ck_assert_msg(rc == 0, "re-encoding does not decode (%s): %s", err.msg, text);
    eq_msg(d, &d2);
    proto_msg_fini(&d2);
    free(text);
}

static int is_zero(const proto_msg_t *m) {
    static const proto_msg_t zero;
    return memcmp(m, &zero, sizeof zero) == 0;
}

/* Decodes len bytes that may or may not be a message: either success (then it re-encodes) or
 * BASE_EPROTO with a message and *msg left zeroed. Returns the code. */
static int decode_any(const char *data, size_t len) {
    proto_msg_t m;
    base_err_t err = {0};
    int rc = proto_msg_decode(data, len, &m, &err);
    if (rc == 0) {
        reencodes(&m, data);
        proto_msg_fini(&m);
    } else {
        ck_assert_msg(rc == BASE_EPROTO, "code %d (%s)", rc, err.msg);
        ck_assert_msg(err.msg[0] != '\0', "refusal without a message");
        ck_assert_msg(is_zero(&m), "refused message not zeroed");
    }
    return rc;
}

/* Parses JSON text (any value), failing the test when it is not JSON. */
static json_t *js(const char *text) {
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    ck_assert_msg(v != NULL, "bad snippet %s: %s", text, je.text);
    return v;
}

/* Returns the value at path in doc: "" is the root, else keys and [i] as in
 * "spat[0].states[1]"; NULL when there is none. */
static json_t *at(json_t *doc, const char *path) {
    json_t *v = doc;
    const char *s = path;
    while (*s != '\0' && v != NULL) {
        if (*s == '.')
            s++;
        if (*s == '[') {
            char *end;
            long i = strtol(s + 1, &end, 10);
            ck_assert(*end == ']');
            v = json_array_get(v, (size_t)i);
            s = end + 1;
        } else {
            size_t n = strcspn(s, ".[");
            char key[128];
            ck_assert(n < sizeof key);
            memcpy(key, s, n);
            key[n] = '\0';
            v = json_object_get(v, key);
            s += n;
        }
    }
    return v;
}

/* Sets the member or element at path to value (stolen), or deletes it when value is NULL. */
static void edit(json_t *doc, const char *path, json_t *value) {
    const char *dot = strrchr(path, '.'), *br = strrchr(path, '[');
    const char *sep = dot > br ? dot : br;
    char parent[256];
    size_t np = sep != NULL ? (size_t)(sep - path) : 0;
    ck_assert(np < sizeof parent);
    memcpy(parent, path, np);
    parent[np] = '\0';
    json_t *p = at(doc, parent);
    ck_assert_msg(p != NULL, "no parent %s", parent);
    if (sep != NULL && *sep == '[') {
        size_t i = (size_t)strtol(sep + 1, NULL, 10);
        int rc = value != NULL ? json_array_set_new(p, i, value) : json_array_remove(p, i);
        ck_assert_msg(rc == 0, "no element %s", path);
    } else {
        const char *key = sep != NULL ? sep + 1 : path;
        if (value != NULL) {
            ck_assert(json_object_set_new(p, key, value) == 0);
        } else {
            ck_assert_msg(json_object_del(p, key) == 0, "no member %s", path);
        }
    }
}

/* Returns the JSON document of the sample of type t (caller owns it). */
static json_t *sample_doc(proto_type_t t) {
    proto_msg_t m = make(t);
    char *text = encode_ok(&m, NULL);
    json_t *doc = js(text);
    free(text);
    return doc;
}

static char *dump(const json_t *doc) {
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    ck_assert(text != NULL);
    return text;
}

/* Decodes text (in the encoding under test) expecting refusal with code and a message
 * containing expect. */
static void refused(const char *text, size_t len, int code, const char *expect) {
    proto_msg_t m;
    base_err_t err = {0};
    int rc = decode_in_enc(text, len, &m, &err);
    ck_assert_msg(rc == code, "expected code %d, got %d (%s) for %.300s", code, rc, err.msg, text);
    ck_assert_msg(strstr(err.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect);
    ck_assert(is_zero(&m));
    proto_msg_fini(&m);
}

/* Decodes text expecting success; caller finalises *m. */
static void accepted(const char *text, proto_msg_t *m) {
    base_err_t err = {0};
    int rc = decode_in_enc(text, strlen(text), m, &err);
    ck_assert_msg(rc == 0, "refused (%s): %s", err.msg, text);
}

/* Encodes m expecting BASE_EINVAL and a message containing expect. */
static void enc_refused(const proto_msg_t *m, const char *expect) {
    base_err_t err = {0};
    size_t len = 99;
    char *text = proto_msg_encode_as(m, ENC, &len, &err);
    ck_assert_msg(text == NULL, "encoded what it should refuse: %s", text);
    ck_assert_int_eq(err.code, BASE_EINVAL);
    ck_assert_uint_eq(len, 0);
    ck_assert_msg(strstr(err.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect);
}

/* A long id: n bytes of 'x' in a static buffer. */
static const char *long_id(size_t n) {
    static char buf[256];
    ck_assert(n < sizeof buf);
    memset(buf, 'x', n);
    buf[n] = '\0';
    return buf;
}

/* ---- names ------------------------------------------------------------------------------- */

START_TEST(test_names) {
    ck_assert_str_eq(proto_type_name(PROTO_HELLO), "hello");
    ck_assert_str_eq(proto_type_name(PROTO_BYE), "bye");
    ck_assert_ptr_null(proto_type_name((proto_type_t)0));
    ck_assert_str_eq(proto_phase_state_name(PROTO_PHASE_STOP_AND_REMAIN), "stop-And-Remain");
    ck_assert_str_eq(proto_phase_state_name(PROTO_PHASE_PROTECTED_ALLOWED),
                     "protected-Movement-Allowed");
    ck_assert_str_eq(proto_phase_state_name(PROTO_PHASE_PROTECTED_CLEARANCE),
                     "protected-clearance");
    ck_assert_str_eq(proto_phase_state_name(PROTO_PHASE_DARK), "dark");
    ck_assert_ptr_null(proto_phase_state_name((proto_phase_state_t)2));
    ck_assert_str_eq(proto_role_name(PROTO_ROLE_BASIC), "basicVehicle");
    ck_assert_str_eq(proto_role_name(PROTO_ROLE_TRANSIT), "transit");
    ck_assert_str_eq(proto_role_name(PROTO_ROLE_POLICE), "police");
    ck_assert_str_eq(proto_role_name(PROTO_ROLE_FIRE), "fire");
    ck_assert_str_eq(proto_role_name(PROTO_ROLE_AMBULANCE), "ambulance");
    ck_assert_ptr_null(proto_role_name((proto_role_t)7));
    ck_assert_str_eq(proto_ssm_status_name(PROTO_SSM_UNKNOWN), "unknown");
    ck_assert_str_eq(proto_ssm_status_name(PROTO_SSM_WATCH_OTHER_TRAFFIC), "watchOtherTraffic");
    ck_assert_str_eq(proto_ssm_status_name(PROTO_SSM_RESERVICE_LOCKED), "reserviceLocked");
    ck_assert_ptr_null(proto_ssm_status_name((proto_ssm_status_t)8));
    ck_assert_str_eq(proto_cmd_action_name(PROTO_CMD_FORCE_OFF), "force-off");
    ck_assert_ptr_null(proto_cmd_action_name((proto_cmd_action_t)0));
    ck_assert_str_eq(proto_transition_name(PROTO_TRANSITION_DWELL), "dwell");
    ck_assert_str_eq(proto_transition_name(PROTO_TRANSITION_SHORTWAY), "shortway");
    ck_assert_str_eq(proto_transition_name(PROTO_TRANSITION_LONGWAY), "longway");
    ck_assert_ptr_null(proto_transition_name((proto_transition_t)1));
    ck_assert_str_eq(proto_request_type_name(PROTO_REQ_REQUEST), "priorityRequest");
    ck_assert_str_eq(proto_request_type_name(PROTO_REQ_UPDATE), "priorityRequestUpdate");
    ck_assert_str_eq(proto_request_type_name(PROTO_REQ_CANCEL), "priorityCancellation");
    ck_assert_ptr_null(proto_request_type_name((proto_request_type_t)0));
}
END_TEST

/* ---- round trips ------------------------------------------------------------------------- */

START_TEST(test_roundtrip_every_type) {
    for (size_t i = 0; i < N_ELEMS(ALL_TYPES); i++) {
        proto_msg_t m = make(ALL_TYPES[i]);
        roundtrip(&m);
    }
}
END_TEST

START_TEST(test_roundtrip_variants) {
    /* hello without a strategy; extreme integers */
    proto_msg_t m = make(PROTO_HELLO);
    m.u.hello.session.strategy = NULL;
    m.u.hello.session.seed = (uint64_t)INT64_MAX;
    m.u.hello.session.start_tod_ms = PROTO_DAY_MS - 1;
    m.seq = PROTO_COUNT_MAX;
    roundtrip(&m);
    m.u.hello.session.seed = 0;
    m.u.hello.session.start_tod_ms = 0;
    m.u.hello.session.tick_ms = 1;
    m.u.hello.map_json = "{}";
    roundtrip(&m);

    /* empty tick; then every enum value and id lengths 1 and PROTO_ID_MAX - 1 */
    m = make(PROTO_TICK);
    m.u.tick = (proto_tick_t){.time_ms = 0};
    roundtrip(&m);
    m = make(PROTO_TICK);
    static const proto_role_t roles[] = {PROTO_ROLE_BASIC, PROTO_ROLE_TRANSIT, PROTO_ROLE_POLICE,
                                         PROTO_ROLE_FIRE, PROTO_ROLE_AMBULANCE};
    for (size_t i = 0; i < N_ELEMS(roles); i++) {
        srms[0].role = roles[i];
        roundtrip(&m);
    }
    srms[1].n_requests = 0;
    srms[1].requests = NULL;
    spat[1].n_groups = 0;
    spat[1].groups = NULL;
    spat[0].id = "x";
    spat[0].stage = long_id(PROTO_ID_MAX - 1);
    srms[0].pos_m = 1e-300;
    srms[0].speed_mps = 33.333333333333336;
    srms[1].pos_m = 4999.999999999999;
    groups0[0].max_end_ms = PROTO_TIME_MS_MAX;
    roundtrip(&m);

    /* control: every status, every transition, each action without its options */
    m = make(PROTO_CONTROL);
    for (int s = PROTO_SSM_UNKNOWN; s <= PROTO_SSM_RESERVICE_LOCKED; s++) {
        ssm[0].status = (proto_ssm_status_t)s;
        roundtrip(&m);
    }
    static const proto_transition_t tr[] = {PROTO_TRANSITION_DWELL, PROTO_TRANSITION_SHORTWAY,
                                            PROTO_TRANSITION_LONGWAY};
    for (size_t i = 0; i < N_ELEMS(tr); i++) {
        commands[3].transition = tr[i];
        roundtrip(&m);
    }
    commands[0].preempt = 0;
    commands[1].preempt = 1;
    commands[2].hold = 0;
    commands[2].preempt = 0;
    roundtrip(&m);
    m.u.control = (proto_control_t){.ack = 0};
    roundtrip(&m);

    /* free text may be empty */
    m = make(PROTO_BYE);
    m.u.bye.reason = "";
    m.u.bye.time_ms = 0;
    roundtrip(&m);
    m = make(PROTO_WELCOME);
    m.u.welcome.controller = "";
    roundtrip(&m);
}
END_TEST

/* The wire form, byte for byte: key order, names, nulls, compact. */
START_TEST(test_wire_form) {
    proto_msg_t m = make(PROTO_BYE);
    char *text = encode_ok(&m, NULL);
    ck_assert_str_eq(text, "{\"type\":\"bye\",\"version\":1,\"seq\":42,\"time_ms\":5400000,"
                           "\"reason\":\"end of run\"}");
    free(text);

    m = make(PROTO_WELCOME);
    text = encode_ok(&m, NULL);
    ck_assert_str_eq(text, "{\"type\":\"welcome\",\"version\":1,\"seq\":42,\"strategy\":"
                           "\"corridor\",\"controller\":\"greenwave-controller 0.1.0\"}");
    free(text);

    m = make(PROTO_HELLO);
    m.u.hello.session.strategy = NULL;
    m.u.hello.map_json = "{ \"name\" : \"x\",\n \"nodes\": [] }";
    text = encode_ok(&m, NULL);
    ck_assert_str_eq(text, "{\"type\":\"hello\",\"version\":1,\"seq\":0,\"session\":{\"scenario\":"
                           "\"bayiqi 八一七路\",\"seed\":9007199254740993,\"strategy\":null,"
                           "\"tick_ms\":1000,\"start_tod_ms\":63000000},\"map\":{\"name\":\"x\","
                           "\"nodes\":[]}}");
    proto_msg_t d;
    accepted(text, &d);
    ck_assert_str_eq(d.u.hello.map_json, "{\"name\":\"x\",\"nodes\":[]}");
    proto_msg_fini(&d);
    free(text);

    m = make(PROTO_TICK);
    m.u.tick.n_spat = 1;
    spat[0].n_groups = 2;
    m.u.tick.n_detectors = 1;
    m.u.tick.n_srms = 1;
    srms[0].n_requests = 2;
    text = encode_ok(&m, NULL);
    ck_assert_str_eq(
        text,
        "{\"type\":\"tick\",\"version\":1,\"seq\":42,\"time_ms\":3600000,\"spat\":[{\"id\":"
        "\"N_gulouqian\",\"stage\":\"S1\",\"next_stage\":null,\"in_change\":false,\"plan\":"
        "\"P_evening\",\"external\":true,\"status\":{\"preemptIsActive\":true,"
        "\"signalPriorityIsActive\":false,\"inTransition\":false},\"states\":[{\"signalGroup\":"
        "\"G_ns_through\",\"eventState\":\"protected-Movement-Allowed\",\"minEndTime_ms\":3605000,"
        "\"maxEndTime_ms\":null},{\"signalGroup\":\"G_ew\",\"eventState\":\"stop-And-Remain\","
        "\"minEndTime_ms\":3609000,\"maxEndTime_ms\":3650000}]}],\"detectors\":[{\"id\":"
        "\"D_L1_0\",\"count\":12345,\"occupied\":true}],\"srm\":[{\"requestID\":255,"
        "\"sequenceNumber\":127,\"requester\":{\"id\":\"escort-0\",\"role\":\"police\",\"link\":"
        "\"L1\",\"pos_m\":123.456789012345,\"speed_mps\":0.10000000000000001},\"requests\":[{"
        "\"id\":\"N_gulouqian\",\"requestType\":\"priorityRequestUpdate\",\"inBoundLane\":\"L1\","
        "\"outBoundLane\":\"L2\",\"eta_ms\":3612345,\"duration_ms\":8000},{\"id\":\"N_nanmendou\","
        "\"requestType\":\"priorityRequest\",\"inBoundLane\":\"L7\",\"outBoundLane\":null,"
        "\"eta_ms\":3700000,\"duration_ms\":0}]}]}");
    free(text);

    m = make(PROTO_CONTROL);
    m.u.control.n_ssm = 1;
    m.u.control.n_log = 1;
    text = encode_ok(&m, NULL);
    ck_assert_str_eq(
        text,
        "{\"type\":\"control\",\"version\":1,\"seq\":42,\"ack\":17,\"commands\":[{"
        "\"intersection\":\"N_gulouqian\",\"action\":\"hold\",\"preemptIsActive\":true},{"
        "\"intersection\":\"N_nanmendou\",\"action\":\"force-off\",\"preemptIsActive\":false},{"
        "\"intersection\":\"N_nanmendou\",\"action\":\"call\",\"stage\":\"S3\",\"hold\":true,"
        "\"preemptIsActive\":true},{\"intersection\":\"N_old\",\"action\":\"release\","
        "\"transition\":\"shortway\"}],\"ssm\":[{\"requestID\":255,\"requester\":\"escort-0\","
        "\"id\":\"N_gulouqian\",\"status\":\"granted\"}],\"log\":[\"N_gulouqian: hold S1 for "
        "escort-0 (ETA 12.3 s)\"]}");
    free(text);
}
END_TEST

START_TEST(test_fini) {
    proto_msg_t m;
    memset(&m, 0, sizeof m);
    proto_msg_fini(&m);
    proto_msg_fini(&m);
    proto_msg_fini(NULL);
    accepted("{\"type\":\"bye\",\"version\":1,\"seq\":1,\"time_ms\":2,\"reason\":\"r\"}", &m);
    proto_msg_fini(&m);
    ck_assert(is_zero(&m));
    proto_msg_fini(&m);
    /* NULL data is an empty message */
    refused(NULL, 0, BASE_EPROTO, "invalid JSON");
}
END_TEST

/* ---- decoder: what it accepts ------------------------------------------------------------ */

START_TEST(test_decode_lenient) {
    /* Unknown members anywhere are ignored. */
    json_t *doc = sample_doc(PROTO_TICK);
    edit(doc, "x_future", js("{\"a\":[1,2,{\"b\":null}]}"));
    edit(doc, "spat[0].x_future", js("1"));
    edit(doc, "spat[0].status.manualControlIsEnabled", js("true"));
    edit(doc, "spat[1].states[0].likelyTime", js("3601500"));
    edit(doc, "srm[0].requester.type", js("{\"role\":\"police\",\"subrole\":1}"));
    edit(doc, "srm[0].requests[0].minute", js("null"));
    edit(doc, "detectors[0].speed_kmh", js("42.5"));
    char *text = dump(doc);
    proto_msg_t d;
    accepted(text, &d);
    proto_msg_t m = make(PROTO_TICK);
    eq_msg(&m, &d);
    proto_msg_fini(&d);
    free(text);
    json_decref(doc);

    /* Nullable members may be absent; integers are numbers too. */
    doc = sample_doc(PROTO_TICK);
    edit(doc, "spat[1].next_stage", NULL);
    edit(doc, "spat[1].states[0].maxEndTime_ms", NULL);
    edit(doc, "srm[0].requests[0].outBoundLane", NULL);
    edit(doc, "srm[1].requester.speed_mps", js("12"));
    text = dump(doc);
    accepted(text, &d);
    ck_assert_ptr_null(d.u.tick.spat[1].next_stage);
    ck_assert_int_eq(d.u.tick.spat[1].groups[0].max_end_ms, -1);
    ck_assert_ptr_null(d.u.tick.srms[0].requests[0].out_bound_lane);
    ck_assert(d.u.tick.srms[1].speed_mps == 12.0);
    proto_msg_fini(&d);
    free(text);
    json_decref(doc);

    doc = sample_doc(PROTO_HELLO);
    edit(doc, "session.strategy", NULL);
    text = dump(doc);
    accepted(text, &d);
    ck_assert_ptr_null(d.u.hello.session.strategy);
    proto_msg_fini(&d);
    free(text);
    json_decref(doc);

    /* Options of commands: absent means false; fields an action does not take may be null. */
    accepted("{\"type\":\"control\",\"version\":1,\"seq\":3,\"ack\":2,\"commands\":["
             "{\"intersection\":\"N1\",\"action\":\"call\",\"stage\":\"S2\"},"
             "{\"intersection\":\"N1\",\"action\":\"hold\",\"stage\":null,\"hold\":false,"
             "\"transition\":null},"
             "{\"intersection\":\"N1\",\"action\":\"release\",\"transition\":\"longway\","
             "\"preemptIsActive\":false,\"stage\":null}],\"ssm\":[],\"log\":[]}",
             &d);
    ck_assert_int_eq(d.u.control.n_commands, 3);
    ck_assert_int_eq(d.u.control.commands[0].hold, 0);
    ck_assert_int_eq(d.u.control.commands[0].preempt, 0);
    ck_assert_str_eq(d.u.control.commands[0].stage, "S2");
    ck_assert_ptr_null(d.u.control.commands[1].stage);
    ck_assert_int_eq(d.u.control.commands[2].transition, PROTO_TRANSITION_LONGWAY);
    proto_msg_fini(&d);
}
END_TEST

/* ---- decoder: refusals ------------------------------------------------------------------- */

typedef struct {
    proto_type_t base; /* sample edited */
    const char *path;  /* member or element set or deleted */
    const char *value; /* JSON text set there, or NULL to delete it */
    const char *expect;
} bad_t;

#define ID64 "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""

static const bad_t BAD[] = {
    /* header */
    {PROTO_TICK, "version", "2", "version: unsupported protocol version 2"},
    {PROTO_TICK, "version", "0", "version: unsupported protocol version 0"},
    {PROTO_TICK, "version", "\"1\"", "version: must be an integer, got a string"},
    {PROTO_TICK, "version", "1.0", "version: must be an integer, got a number"},
    {PROTO_TICK, "version", NULL, "version: missing"},
    {PROTO_TICK, "type", NULL, "type: missing"},
    {PROTO_TICK, "type", "null", "type: must not be null"},
    {PROTO_TICK, "type", "3", "type: must be a string, got an integer"},
    {PROTO_TICK, "type", "\"ping\"",
     "type: unknown message type \"ping\" (expected hello, welcome, tick, control or bye)"},
    {PROTO_TICK, "type", "\"Tick\"", "type: unknown message type \"Tick\""},
    {PROTO_TICK, "seq", "-1", "tick.seq: must be >= 0, got -1"},
    {PROTO_TICK, "seq", "1.5", "tick.seq: must be an integer, got a number"},
    {PROTO_TICK, "seq", NULL, "tick.seq: missing"},
    /* hello */
    {PROTO_HELLO, "session", NULL, "hello.session: missing"},
    {PROTO_HELLO, "session", "[]", "hello.session: must be an object, got an array"},
    {PROTO_HELLO, "session.scenario", "\"\"", "hello.session.scenario: must not be empty"},
    {PROTO_HELLO, "session.scenario", NULL, "hello.session.scenario: missing"},
    {PROTO_HELLO, "session.seed", "-3", "hello.session.seed: must be >= 0, got -3"},
    {PROTO_HELLO, "session.seed", "\"7\"", "hello.session.seed: must be an integer"},
    {PROTO_HELLO, "session.strategy", "\"\"", "hello.session.strategy: id must not be empty"},
    {PROTO_HELLO, "session.strategy", ID64,
     "hello.session.strategy: id \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"... is 64 bytes "
     "long, the limit is 63"},
    {PROTO_HELLO, "session.strategy", "true", "hello.session.strategy: must be a string"},
    {PROTO_HELLO, "session.tick_ms", "0", "hello.session.tick_ms: must be >= 1, got 0"},
    {PROTO_HELLO, "session.start_tod_ms", "86400000",
     "hello.session.start_tod_ms: must be in 0..86399999, got 86400000"},
    {PROTO_HELLO, "session.start_tod_ms", "-1", "hello.session.start_tod_ms: must be in 0.."},
    {PROTO_HELLO, "map", "[]", "hello.map: must be an object, got an array"},
    {PROTO_HELLO, "map", "\"{}\"", "hello.map: must be an object, got a string"},
    {PROTO_HELLO, "map", "null", "hello.map: must not be null"},
    {PROTO_HELLO, "map", NULL, "hello.map: missing"},
    /* welcome, bye */
    {PROTO_WELCOME, "strategy", "7", "welcome.strategy: must be a string, got an integer"},
    {PROTO_WELCOME, "controller", NULL, "welcome.controller: missing"},
    {PROTO_BYE, "reason", "null", "bye.reason: must not be null"},
    {PROTO_BYE, "time_ms", "\"late\"", "bye.time_ms: must be an integer, got a string"},
    {PROTO_BYE, "time_ms", "-1000", "bye.time_ms: must be >= 0, got -1000"},
    /* tick */
    {PROTO_TICK, "time_ms", "-1", "tick.time_ms: must be >= 0, got -1"},
    {PROTO_TICK, "time_ms", "1e3", "tick.time_ms: must be an integer"},
    {PROTO_TICK, "spat", "{}", "tick.spat: must be an array, got an object"},
    {PROTO_TICK, "spat", NULL, "tick.spat: missing"},
    {PROTO_TICK, "spat[0]", "5", "tick.spat[0]: must be an object, got an integer"},
    {PROTO_TICK, "spat[1].id", "\"\"", "tick.spat[1].id: id must not be empty"},
    {PROTO_TICK, "spat[0].stage", NULL, "tick.spat[0].stage: missing"},
    {PROTO_TICK, "spat[0].stage", "null", "tick.spat[0].stage: must not be null"},
    {PROTO_TICK, "spat[0].next_stage", "3", "tick.spat[0].next_stage: must be a string"},
    {PROTO_TICK, "spat[0].plan", ID64, "tick.spat[0].plan: id"},
    {PROTO_TICK, "spat[0].in_change", "1",
     "tick.spat[0].in_change: must be true or false, got an integer"},
    {PROTO_TICK, "spat[1].external", "\"true\"", "tick.spat[1].external: must be true or false"},
    {PROTO_TICK, "spat[0].status", "[]", "tick.spat[0].status: must be an object"},
    {PROTO_TICK, "spat[0].status.preemptIsActive", NULL,
     "tick.spat[0].status.preemptIsActive: missing"},
    {PROTO_TICK, "spat[1].status.signalPriorityIsActive", "0",
     "tick.spat[1].status.signalPriorityIsActive: must be true or false"},
    {PROTO_TICK, "spat[1].status.inTransition", NULL, "tick.spat[1].status.inTransition: missing"},
    {PROTO_TICK, "spat[0].states", "\"x\"", "tick.spat[0].states: must be an array, got a string"},
    {PROTO_TICK, "spat[0].states[2]", "[]", "tick.spat[0].states[2]: must be an object"},
    {PROTO_TICK, "spat[1].states[1].eventState", "\"blue\"",
     "tick.spat[1].states[1].eventState: unknown value \"blue\" (expected stop-And-Remain, "
     "protected-Movement-Allowed, protected-clearance or dark)"},
    {PROTO_TICK, "spat[1].states[1].eventState", "6",
     "tick.spat[1].states[1].eventState: must be a string"},
    {PROTO_TICK, "spat[0].states[0].signalGroup", "1",
     "tick.spat[0].states[0].signalGroup: must be a string, got an integer"},
    {PROTO_TICK, "spat[0].states[0].minEndTime_ms", "-5",
     "tick.spat[0].states[0].minEndTime_ms: must be >= 0, got -5"},
    {PROTO_TICK, "spat[0].states[0].minEndTime_ms", "null",
     "tick.spat[0].states[0].minEndTime_ms: must not be null"},
    {PROTO_TICK, "spat[0].states[1].maxEndTime_ms", "3608999",
     "tick.spat[0].states[1].maxEndTime_ms: must be >= minEndTime_ms (3609000) or null, got "
     "3608999"},
    {PROTO_TICK, "spat[0].states[1].maxEndTime_ms", "-1",
     "tick.spat[0].states[1].maxEndTime_ms: must be >= 0, got -1"},
    {PROTO_TICK, "spat[0].states[0].maxEndTime_ms", "\"soon\"",
     "tick.spat[0].states[0].maxEndTime_ms: must be an integer, got a string"},
    {PROTO_TICK, "detectors", "null", "tick.detectors: must not be null"},
    {PROTO_TICK, "detectors[1].count", "-1", "tick.detectors[1].count: must be >= 0, got -1"},
    {PROTO_TICK, "detectors[0].occupied", "\"yes\"", "tick.detectors[0].occupied: must be true"},
    {PROTO_TICK, "detectors[0].id", NULL, "tick.detectors[0].id: missing"},
    {PROTO_TICK, "srm", "{\"requestID\":1}", "tick.srm: must be an array, got an object"},
    {PROTO_TICK, "srm[0].requestID", "256", "tick.srm[0].requestID: must be in 0..255, got 256"},
    {PROTO_TICK, "srm[0].requestID", "-1", "tick.srm[0].requestID: must be in 0..255, got -1"},
    {PROTO_TICK, "srm[1].sequenceNumber", "128",
     "tick.srm[1].sequenceNumber: must be in 0..127, got 128"},
    {PROTO_TICK, "srm[0].requester", NULL, "tick.srm[0].requester: missing"},
    {PROTO_TICK, "srm[0].requester", "\"escort-0\"",
     "tick.srm[0].requester: must be an object, got a string"},
    {PROTO_TICK, "srm[0].requester.id", "\"\"", "tick.srm[0].requester.id: id must not be empty"},
    {PROTO_TICK, "srm[0].requester.role", "\"pirate\"",
     "tick.srm[0].requester.role: unknown value \"pirate\" (expected basicVehicle, transit, "
     "police, fire or ambulance)"},
    {PROTO_TICK, "srm[0].requester.role", "12", "tick.srm[0].requester.role: must be a string"},
    {PROTO_TICK, "srm[0].requester.link", NULL, "tick.srm[0].requester.link: missing"},
    {PROTO_TICK, "srm[0].requester.pos_m", "-0.5",
     "tick.srm[0].requester.pos_m: must be a number >= 0, got -0.5"},
    {PROTO_TICK, "srm[1].requester.speed_mps", "\"fast\"",
     "tick.srm[1].requester.speed_mps: must be a number, got a string"},
    {PROTO_TICK, "srm[0].requests", "[1]", "tick.srm[0].requests[0]: must be an object"},
    {PROTO_TICK, "srm[0].requests[1].requestType", "\"priorityPlease\"",
     "tick.srm[0].requests[1].requestType: unknown value \"priorityPlease\" (expected "
     "priorityRequest, priorityRequestUpdate or priorityCancellation)"},
    {PROTO_TICK, "srm[0].requests[0].eta_ms", "-1",
     "tick.srm[0].requests[0].eta_ms: must be >= 0, got -1"},
    {PROTO_TICK, "srm[0].requests[2].duration_ms", "1.5",
     "tick.srm[0].requests[2].duration_ms: must be an integer"},
    {PROTO_TICK, "srm[0].requests[0].outBoundLane", "\"\"",
     "tick.srm[0].requests[0].outBoundLane: id must not be empty"},
    {PROTO_TICK, "srm[0].requests[0].inBoundLane", "null",
     "tick.srm[0].requests[0].inBoundLane: must not be null"},
    {PROTO_TICK, "srm[1].requests[0].id", ID64, "tick.srm[1].requests[0].id: id \"xxx"},
    /* control */
    {PROTO_CONTROL, "ack", "-1", "control.ack: must be >= 0, got -1"},
    {PROTO_CONTROL, "ack", NULL, "control.ack: missing"},
    {PROTO_CONTROL, "commands", NULL, "control.commands: missing"},
    {PROTO_CONTROL, "commands[0].action", "\"jump\"",
     "control.commands[0].action: unknown value \"jump\" (expected hold, force-off, call or "
     "release)"},
    {PROTO_CONTROL, "commands[0].action", "\"force_off\"", "unknown value \"force_off\""},
    {PROTO_CONTROL, "commands[0].intersection", NULL, "control.commands[0].intersection: missing"},
    {PROTO_CONTROL, "commands[2].stage", NULL, "control.commands[2].stage: missing"},
    {PROTO_CONTROL, "commands[2].stage", "\"\"", "control.commands[2].stage: id must not be empty"},
    {PROTO_CONTROL, "commands[0].stage", "\"S1\"",
     "control.commands[0].stage: not taken by action \"hold\" (must be absent or null)"},
    {PROTO_CONTROL, "commands[1].hold", "true",
     "control.commands[1].hold: not taken by action \"force-off\" (must be absent or null or "
     "false)"},
    {PROTO_CONTROL, "commands[2].hold", "\"yes\"",
     "control.commands[2].hold: must be true or false, got a string"},
    {PROTO_CONTROL, "commands[3].transition", "\"sideways\"",
     "control.commands[3].transition: unknown value \"sideways\" (expected dwell, shortway or "
     "longway)"},
    {PROTO_CONTROL, "commands[3].transition", NULL, "control.commands[3].transition: missing"},
    {PROTO_CONTROL, "commands[0].transition", "\"dwell\"",
     "control.commands[0].transition: not taken by action \"hold\""},
    {PROTO_CONTROL, "commands[3].preemptIsActive", "true",
     "control.commands[3].preemptIsActive: not taken by action \"release\""},
    {PROTO_CONTROL, "commands[1].preemptIsActive", "1",
     "control.commands[1].preemptIsActive: must be true or false"},
    {PROTO_CONTROL, "ssm[0].status", "\"maybe\"",
     "control.ssm[0].status: unknown value \"maybe\" (expected unknown, requested, processing, "
     "watchOtherTraffic, granted, rejected, maxPresence or reserviceLocked)"},
    {PROTO_CONTROL, "ssm[1].requestID", "300", "control.ssm[1].requestID: must be in 0..255"},
    {PROTO_CONTROL, "ssm[2].requester", "\"\"", "control.ssm[2].requester: id must not be empty"},
    {PROTO_CONTROL, "ssm[2].requester", "{\"id\":\"bus-17\"}",
     "control.ssm[2].requester: must be a string, got an object"},
    {PROTO_CONTROL, "ssm[0].id", NULL, "control.ssm[0].id: missing"},
    {PROTO_CONTROL, "log", "{}", "control.log: must be an array, got an object"},
    {PROTO_CONTROL, "log[1]", "5", "control.log[1]: must be a string, got an integer"},
    {PROTO_CONTROL, "log[0]", "null", "control.log[0]: must be a string, got null"},
    /* Issue 11: numbers in range for their type but not physical (proto/check.h). */
    {PROTO_TICK, "time_ms", "9223372036854775807",
     "tick.time_ms: must be in [0, 1000000000000], got 9223372036854775807"},
    {PROTO_TICK, "seq", "9223372036854775807", "tick.seq: must be in [0, 9007199254740992]"},
    {PROTO_TICK, "spat[0].states[0].minEndTime_ms", "9223372036854775000",
     "tick.spat[0].states[0].minEndTime_ms: must be in [0, 1000000000000]"},
    {PROTO_TICK, "spat[0].states[1].maxEndTime_ms", "1000000000001",
     "tick.spat[0].states[1].maxEndTime_ms: must be in [0, 1000000000000], got 1000000000001"},
    {PROTO_TICK, "detectors[0].count", "9007199254740993",
     "tick.detectors[0].count: must be in [0, 9007199254740992]"},
    {PROTO_TICK, "srm[0].requests[0].eta_ms", "9000000000000000000",
     "tick.srm[0].requests[0].eta_ms: must be in [0, 1000000000000], got 9000000000000000000"},
    {PROTO_TICK, "srm[0].requests[0].duration_ms", "86400001",
     "tick.srm[0].requests[0].duration_ms: must be in [0, 86400000], got 86400001"},
    {PROTO_TICK, "srm[0].requester.speed_mps", "1e300",
     "tick.srm[0].requester.speed_mps: must be in [0, 100], got 1e+300"},
    {PROTO_TICK, "srm[0].requester.pos_m", "1e300",
     "tick.srm[0].requester.pos_m: must be in [0, 200000], got 1e+300"},
    {PROTO_HELLO, "session.tick_ms", "1000000000000",
     "hello.session.tick_ms: must be in [1, 86400000], got 1000000000000"},
    {PROTO_CONTROL, "ack", "9223372036854775807", "control.ack: must be in [0, 9007199254740992]"},
    {PROTO_BYE, "time_ms", "9223372036854775807", "bye.time_ms: must be in [0, 1000000000000]"},
};

START_TEST(test_decode_refusals) {
    const bad_t *b = &BAD[_i];
    json_t *doc = sample_doc(b->base);
    edit(doc, b->path, b->value != NULL ? js(b->value) : NULL);
    char *text = dump(doc);
    refused(text, strlen(text), BASE_EPROTO, b->expect);
    free(text);
    json_decref(doc);
}
END_TEST

START_TEST(test_decode_refusals_raw) {
    refused("", 0, BASE_EPROTO, "invalid JSON at byte 0");
    refused("   ", 3, BASE_EPROTO, "invalid JSON");
    refused("[1,2]", 5, BASE_EPROTO, "message must be a JSON object, got an array");
    refused("{}", 2, BASE_EPROTO, "version: missing");
    refused("\"tick\"", 6, BASE_EPROTO, "invalid JSON"); /* jansson wants an object or array */
    refused("null", 4, BASE_EPROTO, "invalid JSON");
    const char *t = "{\"type\":\"bye\"";
    refused(t, strlen(t), BASE_EPROTO, "invalid JSON");
    t = "{\"type\":\"bye\",\"version\":1,\"seq\":1,\"time_ms\":1,\"reason\":\"x\"} {}";
    refused(t, strlen(t), BASE_EPROTO, "invalid JSON");
    t = "{\"type\":\"bye\",\"type\":\"tick\",\"version\":1,\"seq\":1,\"time_ms\":1,\"reason\":"
        "\"x\"}";
    refused(t, strlen(t), BASE_EPROTO, "duplicate");
    t = "{\"type\":\"bye\",\"version\":1,\"seq\":1,\"time_ms\":1,\"reason\":\"a\\u0000b\"}";
    refused(t, strlen(t), BASE_EPROTO, "invalid JSON");
    t = "{\"type\":\"bye\",\"version\":1,\"seq\":1,\"time_ms\":1,\"reason\":\"\xff\xfe\"}";
    refused(t, strlen(t), BASE_EPROTO, "invalid JSON");
    t = "{\"type\":\"bye\",\"version\":1,\"seq\":99999999999999999999,\"time_ms\":1,\"reason\":"
        "\"\"}";
    refused(t, strlen(t), BASE_EPROTO, "invalid JSON");
    t = "{\"type\":\"bye\",\"version\":1,\"seq\":1,\"time_ms\":1e999,\"reason\":\"\"}";
    refused(t, strlen(t), BASE_EPROTO, "invalid JSON");
    /* the length is what counts, not a NUL: the bytes after len are not read */
    t = "{\"type\":\"bye\",\"version\":1,\"seq\":1,\"time_ms\":1,\"reason\":\"x\"}GARBAGE";
    proto_msg_t m;
    base_err_t err = {0};
    ck_assert_int_eq(proto_msg_decode(t, strlen(t) - 7, &m, &err), 0);
    proto_msg_fini(&m);
    /* an embedded NUL byte inside the given length */
    char nul[] = "{\"type\":\"bye\",\"version\":1,\"seq\":1,\"time_ms\":1,\"reason\":\"x\"}";
    nul[20] = '\0';
    refused(nul, sizeof nul - 1, BASE_EPROTO, "invalid JSON");
    /* the version is checked before the type, so a newer peer is told the real cause */
    t = "{\"type\":\"subscribe\",\"version\":2,\"seq\":1}";
    refused(t, strlen(t), BASE_EPROTO, "version: unsupported protocol version 2");
    /* an unknown type string is quoted safely, whatever it holds */
    t = "{\"type\":\"a\\\"b\\nc\",\"version\":1,\"seq\":1}";
    refused(t, strlen(t), BASE_EPROTO, "unknown message type \"a\\x22b\\x0ac\"");
}
END_TEST

/* Nesting far beyond jansson's depth limit must be refused, not overflow the stack. */
START_TEST(test_decode_deep_nesting) {
    const size_t depth = 100000;
    const char *head = "{\"type\":\"hello\",\"version\":1,\"seq\":0,\"session\":{\"scenario\":"
                       "\"s\",\"seed\":1,\"strategy\":null,\"tick_ms\":1000,\"start_tod_ms\":0},"
                       "\"map\":{\"x\":";
    size_t nh = strlen(head);
    char *buf = malloc(nh + 2 * depth + 3);
    ck_assert(buf != NULL);
    memcpy(buf, head, nh);
    memset(buf + nh, '[', depth);
    memset(buf + nh + depth, ']', depth);
    memcpy(buf + nh + 2 * depth, "}}", 3);
    refused(buf, strlen(buf), BASE_EPROTO, "invalid JSON");
    free(buf);
}
END_TEST

/* PROTO_MSG_MAX bytes pass; one more is refused before parsing, by either side. */
START_TEST(test_size_limit) {
    const char *head = "{\"type\":\"bye\",\"version\":1,\"seq\":1,\"time_ms\":1,\"reason\":\"";
    size_t nh = strlen(head);
    size_t n = PROTO_MSG_MAX;
    char *buf = malloc(n + 2);
    ck_assert(buf != NULL);
    memcpy(buf, head, nh);
    memset(buf + nh, 'a', n - nh - 2);
    memcpy(buf + n - 2, "\"}", 3);
    ck_assert_uint_eq(strlen(buf), n);
    proto_msg_t m;
    base_err_t err = {0};
    ck_assert_msg(proto_msg_decode(buf, n, &m, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(strlen(m.u.bye.reason), n - nh - 2);
    size_t len;
    char *text = proto_msg_encode(&m, &len, &err);
    ck_assert_msg(text != NULL, "%s", err.msg);
    ck_assert_uint_eq(len, n);
    free(text);
    proto_msg_fini(&m);

    memcpy(buf + n - 2, "a\"}", 4);
    refused(buf, n + 1, BASE_EPROTO, "message of 16777217 bytes exceeds the limit of 16777216");
    m = make(PROTO_BYE);
    m.seq = 1;
    m.u.bye.time_ms = 1;
    m.u.bye.reason = buf + nh; /* one byte too many once encoded */
    buf[n - 1] = '\0';
    enc_refused(&m, "bye: encoded message of 16777217 bytes exceeds the limit of 16777216");
    free(buf);
}
END_TEST

/* ---- encoder: refusals ------------------------------------------------------------------- */

START_TEST(test_encode_refusals) {
    proto_msg_t m = make(PROTO_BYE);
    m.version = 0;
    enc_refused(&m, "version: must be 1, got 0");
    m = make(PROTO_BYE);
    m.type = (proto_type_t)0;
    enc_refused(&m, "type: unknown message type 0");
    m.type = (proto_type_t)99;
    enc_refused(&m, "type: unknown message type 99");
    m = make(PROTO_BYE);
    m.seq = -1;
    enc_refused(&m, "bye.seq: must be >= 0, got -1");
    m = make(PROTO_BYE);
    m.u.bye.reason = NULL;
    enc_refused(&m, "bye.reason: missing (NULL)");
    m = make(PROTO_BYE);
    m.u.bye.time_ms = -5;
    enc_refused(&m, "bye.time_ms: must be >= 0, got -5");

    m = make(PROTO_HELLO);
    m.u.hello.session.seed = UINT64_MAX;
    enc_refused(&m, "hello.session.seed: must be <= 9223372036854775807, got "
                    "18446744073709551615");
    m = make(PROTO_HELLO);
    m.u.hello.map_json = "[1]";
    enc_refused(&m, "hello.map: must be a JSON object, got an array");
    m.u.hello.map_json = "{bad";
    enc_refused(&m, "hello.map: invalid JSON");
    m.u.hello.map_json = "{\"a\":1,\"a\":2}";
    enc_refused(&m, "hello.map: invalid JSON");
    m.u.hello.map_json = NULL;
    enc_refused(&m, "hello.map: missing (NULL)");
    m = make(PROTO_HELLO);
    m.u.hello.session.scenario = "";
    enc_refused(&m, "hello.session.scenario: must not be empty");
    m = make(PROTO_HELLO);
    m.u.hello.session.tick_ms = 0;
    enc_refused(&m, "hello.session.tick_ms: must be >= 1, got 0");
    m = make(PROTO_HELLO);
    m.u.hello.session.start_tod_ms = PROTO_DAY_MS;
    enc_refused(&m, "hello.session.start_tod_ms: must be in 0..86399999, got 86400000");
    m = make(PROTO_HELLO);
    m.u.hello.session.strategy = long_id(PROTO_ID_MAX);
    enc_refused(&m, "hello.session.strategy: id \"xxxx");

    m = make(PROTO_WELCOME);
    m.u.welcome.strategy = NULL;
    enc_refused(&m, "welcome.strategy: missing (NULL)");
    m = make(PROTO_WELCOME);
    m.u.welcome.controller = "bad \xff byte";
    enc_refused(&m, "welcome.controller: is not valid UTF-8");
    m.u.welcome.controller = "overlong \xc0\xaf";
    enc_refused(&m, "welcome.controller: is not valid UTF-8");
    m.u.welcome.controller = "surrogate \xed\xa0\x80";
    enc_refused(&m, "welcome.controller: is not valid UTF-8");
    m.u.welcome.controller = "cut \xe5\x85";
    enc_refused(&m, "welcome.controller: is not valid UTF-8");
    m.u.welcome.strategy = "";
    enc_refused(&m, "welcome.strategy: id must not be empty");
    m.u.welcome.strategy = "\xff";
    enc_refused(&m, "welcome.strategy: is not valid UTF-8");
}
END_TEST

START_TEST(test_encode_refusals_tick) {
    proto_msg_t m = make(PROTO_TICK);
    groups0[1].state = (proto_phase_state_t)2;
    enc_refused(&m, "tick.spat[0].states[1].eventState: value 2 has no name on the wire");
    m = make(PROTO_TICK);
    groups0[1].max_end_ms = groups0[1].min_end_ms - 1;
    enc_refused(&m, "tick.spat[0].states[1].maxEndTime_ms: must be >= minEndTime_ms (3609000) "
                    "or -1 (unknown), got 3608999");
    m = make(PROTO_TICK);
    groups1[0].max_end_ms = -2;
    enc_refused(&m, "tick.spat[1].states[0].maxEndTime_ms: must be >= minEndTime_ms");
    m = make(PROTO_TICK);
    groups1[1].min_end_ms = -1;
    enc_refused(&m, "tick.spat[1].states[1].minEndTime_ms: must be >= 0, got -1");
    m = make(PROTO_TICK);
    groups1[1].id = NULL;
    enc_refused(&m, "tick.spat[1].states[1].signalGroup: missing (NULL)");
    m = make(PROTO_TICK);
    spat[1].in_change = 2;
    enc_refused(&m, "tick.spat[1].in_change: flag must be 0 or 1, got 2");
    m = make(PROTO_TICK);
    spat[0].preempt_active = -1;
    enc_refused(&m, "tick.spat[0].status.preemptIsActive: flag must be 0 or 1, got -1");
    m = make(PROTO_TICK);
    spat[0].plan = long_id(PROTO_ID_MAX);
    enc_refused(&m, "tick.spat[0].plan: id \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"... is "
                    "64 bytes long, the limit is 63");
    m = make(PROTO_TICK);
    spat[0].stage = NULL;
    enc_refused(&m, "tick.spat[0].stage: missing (NULL)");
    m = make(PROTO_TICK);
    m.u.tick.n_spat = -1;
    enc_refused(&m, "tick.spat: bad array: non-NULL with n = -1");
    m = make(PROTO_TICK);
    m.u.tick.detectors = NULL;
    enc_refused(&m, "tick.detectors: bad array: NULL with n = 2");
    m = make(PROTO_TICK);
    spat[1].groups = NULL;
    enc_refused(&m, "tick.spat[1].states: bad array: NULL with n = 2");
    m = make(PROTO_TICK);
    detectors[1].count = -1;
    enc_refused(&m, "tick.detectors[1].count: must be >= 0, got -1");
    m = make(PROTO_TICK);
    srms[1].request_id = 256;
    enc_refused(&m, "tick.srm[1].requestID: must be in 0..255, got 256");
    m = make(PROTO_TICK);
    srms[0].msg_count = 128;
    enc_refused(&m, "tick.srm[0].sequenceNumber: must be in 0..127, got 128");
    m = make(PROTO_TICK);
    srms[0].role = (proto_role_t)99;
    enc_refused(&m, "tick.srm[0].requester.role: value 99 has no name on the wire");
    m = make(PROTO_TICK);
    srms[0].pos_m = NAN;
    enc_refused(&m, "tick.srm[0].requester.pos_m: must be a number >= 0, got nan");
    m = make(PROTO_TICK);
    srms[1].speed_mps = INFINITY;
    enc_refused(&m, "tick.srm[1].requester.speed_mps: must be a number >= 0, got inf");
    m = make(PROTO_TICK);
    srms[1].pos_m = -1.0;
    enc_refused(&m, "tick.srm[1].requester.pos_m: must be a number >= 0, got -1");
    m = make(PROTO_TICK);
    srms[0].vehicle_id = "";
    enc_refused(&m, "tick.srm[0].requester.id: id must not be empty");
    m = make(PROTO_TICK);
    requests0[2].request_type = (proto_request_type_t)0;
    enc_refused(&m, "tick.srm[0].requests[2].requestType: value 0 has no name on the wire");
    m = make(PROTO_TICK);
    requests0[0].eta_ms = -1;
    enc_refused(&m, "tick.srm[0].requests[0].eta_ms: must be >= 0, got -1");
    m = make(PROTO_TICK);
    requests1[0].in_bound_lane = NULL;
    enc_refused(&m, "tick.srm[1].requests[0].inBoundLane: missing (NULL)");
    m = make(PROTO_TICK);
    requests1[0].out_bound_lane = "";
    enc_refused(&m, "tick.srm[1].requests[0].outBoundLane: id must not be empty");
}
END_TEST

START_TEST(test_encode_refusals_control) {
    proto_msg_t m = make(PROTO_CONTROL);
    m.u.control.ack = -1;
    enc_refused(&m, "control.ack: must be >= 0, got -1");
    m = make(PROTO_CONTROL);
    commands[1].action = (proto_cmd_action_t)0;
    enc_refused(&m, "control.commands[1].action: value 0 has no name on the wire");
    m = make(PROTO_CONTROL);
    commands[2].stage = NULL;
    enc_refused(&m, "control.commands[2].stage: missing (NULL)");
    m = make(PROTO_CONTROL);
    commands[2].hold = 3;
    enc_refused(&m, "control.commands[2].hold: flag must be 0 or 1, got 3");
    m = make(PROTO_CONTROL);
    commands[0].stage = "S1";
    enc_refused(&m, "control.commands[0].stage: not taken by action \"hold\" (must be NULL)");
    m = make(PROTO_CONTROL);
    commands[1].hold = 1;
    enc_refused(&m, "control.commands[1].hold: not taken by action \"force-off\" (must be 0)");
    m = make(PROTO_CONTROL);
    commands[3].transition = (proto_transition_t)0;
    enc_refused(&m, "control.commands[3].transition: value 0 has no name on the wire");
    m = make(PROTO_CONTROL);
    commands[3].transition = (proto_transition_t)1;
    enc_refused(&m, "control.commands[3].transition: value 1 has no name on the wire");
    m = make(PROTO_CONTROL);
    commands[3].preempt = 1;
    enc_refused(&m, "control.commands[3].preemptIsActive: not taken by action \"release\"");
    m = make(PROTO_CONTROL);
    commands[0].transition = PROTO_TRANSITION_DWELL;
    enc_refused(&m, "control.commands[0].transition: not taken by action \"hold\"");
    m = make(PROTO_CONTROL);
    commands[0].intersection = long_id(100);
    enc_refused(&m, "control.commands[0].intersection: id \"");
    m = make(PROTO_CONTROL);
    ssm[2].status = (proto_ssm_status_t)8;
    enc_refused(&m, "control.ssm[2].status: value 8 has no name on the wire");
    m = make(PROTO_CONTROL);
    ssm[0].request_id = -1;
    enc_refused(&m, "control.ssm[0].requestID: must be in 0..255, got -1");
    m = make(PROTO_CONTROL);
    ssm[1].vehicle_id = NULL;
    enc_refused(&m, "control.ssm[1].requester: missing (NULL)");
    m = make(PROTO_CONTROL);
    log_lines[1] = NULL;
    enc_refused(&m, "control.log[1]: missing (NULL)");
    m = make(PROTO_CONTROL);
    log_lines[2] = "\x80";
    enc_refused(&m, "control.log[2]: is not valid UTF-8");
    m = make(PROTO_CONTROL);
    m.u.control.n_log = 2;
    m.u.control.log = NULL;
    enc_refused(&m, "control.log: bad array: NULL with n = 2");
}
END_TEST

/* ---- robustness -------------------------------------------------------------------------- */

/* Every strict prefix of a compact object is incomplete JSON: all must be refused cleanly. */
START_TEST(test_truncations) {
    for (size_t t = 0; t < N_ELEMS(ALL_TYPES); t++) {
        proto_msg_t m = make(ALL_TYPES[t]);
        size_t len;
        char *text = encode_wire(&m, &len);
        for (size_t n = 0; n < len; n++) {
            char *prefix = malloc(n + 1); /* exact size, so ASan sees any over-read */
            ck_assert(prefix != NULL);
            memcpy(prefix, text, n);
            ck_assert_int_eq(decode_any(prefix, n), BASE_EPROTO);
            free(prefix);
        }
        ck_assert_int_eq(decode_any(text, len), 0);
        free(text);
    }
}
END_TEST

static uint64_t rng_state;

static uint64_t rng_next(void) {
    uint64_t x = rng_state; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static size_t rng_below(size_t n) {
    return (size_t)(rng_next() % n);
}

/* Random edits of valid encodings: bytes replaced (often by JSON punctuation or digits),
 * inserted, deleted or duplicated. Seeded, so a failure reproduces. */
START_TEST(test_mutations) {
    static const char SPECIAL[] = "{}[]\",:0123456789-.eEtfnul\\ \x00\x7f\xc3\xa9\xff";
    rng_state = UINT64_C(0x9E3779B97F4A7C15);
    char *texts[N_ELEMS(ALL_TYPES)];
    size_t lens[N_ELEMS(ALL_TYPES)];
    for (size_t t = 0; t < N_ELEMS(ALL_TYPES); t++) {
        proto_msg_t m = make(ALL_TYPES[t]);
        texts[t] = encode_wire(&m, &lens[t]);
    }
    int ok = 0, refused_n = 0;
    for (int iter = 0; iter < 5000; iter++) {
        size_t t = rng_below(N_ELEMS(ALL_TYPES));
        size_t cap = lens[t] + 16;
        char *buf = malloc(cap);
        ck_assert(buf != NULL);
        memcpy(buf, texts[t], lens[t]);
        size_t len = lens[t];
        int edits = 1 + (int)rng_below(iter % 10 == 0 ? 8 : 2);
        for (int e = 0; e < edits && len > 0; e++) {
            size_t at_ = rng_below(len);
            unsigned char c = (rng_next() & 1)
                                  ? (unsigned char)SPECIAL[rng_below(sizeof SPECIAL - 1)]
                                  : (unsigned char)rng_next();
            switch (rng_below(4)) {
            case 0:
                buf[at_] = (char)c;
                break;
            case 1:
                if (len < cap) {
                    memmove(buf + at_ + 1, buf + at_, len - at_);
                    buf[at_] = (char)c;
                    len++;
                }
                break;
            case 2:
                memmove(buf + at_, buf + at_ + 1, len - at_ - 1);
                len--;
                break;
            default:
                if (len < cap) {
                    memmove(buf + at_ + 1, buf + at_, len - at_);
                    len++;
                }
                break;
            }
        }
        char *exact = malloc(len > 0 ? len : 1); /* exact size for ASan */
        ck_assert(exact != NULL);
        memcpy(exact, buf, len);
        if (decode_any(exact, len) == 0)
            ok++;
        else
            refused_n++;
        free(exact);
        free(buf);
    }
    /* Both outcomes must have been exercised, or the loop tests nothing. */
    ck_assert_int_gt(ok, 50);
    ck_assert_int_gt(refused_n, 1000);
    for (size_t t = 0; t < N_ELEMS(ALL_TYPES); t++)
        free(texts[t]);
}
END_TEST

/* Collects the paths of every member and element under v into paths[]. */
static void collect_paths(const json_t *v, char *prefix, size_t plen, char (*paths)[160], size_t *n,
                          size_t max) {
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach((json_t *)v, key, x) {
            int k = snprintf(prefix + plen, 160 - plen, "%s%s", plen ? "." : "", key);
            ck_assert(k > 0 && plen + (size_t)k < 160);
            ck_assert(*n < max);
            strcpy(paths[(*n)++], prefix);
            collect_paths(x, prefix, plen + (size_t)k, paths, n, max);
            prefix[plen] = '\0';
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int k = snprintf(prefix + plen, 160 - plen, "[%zu]", i);
            ck_assert(k > 0 && plen + (size_t)k < 160);
            ck_assert(*n < max);
            strcpy(paths[(*n)++], prefix);
            collect_paths(json_array_get(v, i), prefix, plen + (size_t)k, paths, n, max);
            prefix[plen] = '\0';
        }
    }
}

/* Every member and element of every sample replaced by values of every JSON type, or deleted;
 * every member of every object must be required, nullable, or documented as optional. */
START_TEST(test_type_confusion) {
    static const char *const VALUES[] = {
        "null",
        "true",
        "false",
        "0",
        "-1",
        "1.5",
        "255",
        "256",
        "9223372036854775807",
        "1e300",
        "\"\"",
        "\"x\"",
        "\"hold\"",
        "[]",
        "[1]",
        "{}",
        "{\"id\":\"x\"}",
    };
    static char paths[400][160];
    int ok = 0, refused_n = 0;
    for (size_t t = 0; t < N_ELEMS(ALL_TYPES); t++) {
        json_t *doc = sample_doc(ALL_TYPES[t]);
        char prefix[160] = "";
        size_t n = 0;
        collect_paths(doc, prefix, 0, paths, &n, N_ELEMS(paths));
        for (size_t p = 0; p < n; p++) {
            for (size_t v = 0; v <= N_ELEMS(VALUES); v++) {
                json_t *copy = json_deep_copy(doc);
                ck_assert(copy != NULL);
                edit(copy, paths[p], v < N_ELEMS(VALUES) ? js(VALUES[v]) : NULL);
                char *text = dump(copy);
                size_t nb = 0;
                char *bytes = in_enc(text, strlen(text), &nb);
                if ((bytes != NULL ? decode_any(bytes, nb) : decode_any(text, strlen(text))) == 0)
                    ok++;
                else
                    refused_n++;
                free(bytes);
                free(text);
                json_decref(copy);
            }
        }
        json_decref(doc);
    }
    ck_assert_int_gt(ok, 100);
    ck_assert_int_gt(refused_n, 1000);
}
END_TEST

/* ---- negotiation, subscriptions, deltas, wakes ------------------------------------------ */

START_TEST(test_negotiation_roundtrip) {
    proto_msg_t m = make(PROTO_HELLO);
    m.u.hello.encodings = PROTO_ENC_BIT(PROTO_ENC_JSON) | PROTO_ENC_BIT(PROTO_ENC_MSGPACK);
    m.u.hello.sync = PROTO_SYNC_LOCKSTEP | PROTO_SYNC_EVENT;
    roundtrip(&m);
    m.u.hello.encodings = PROTO_ENC_BIT(PROTO_ENC_MSGPACK);
    m.u.hello.sync = PROTO_SYNC_EVENT;
    roundtrip(&m);
    m.u.hello.no_log = 1; /* "log": false */
    roundtrip(&m);

    static const char *sigs[] = {"A1", "南门兜"};
    static const char *dets[] = {"D.A1.stop"};
    proto_subscribe_t sub = {.signals = sigs,
                             .n_signals = 2,
                             .all_detectors = 1,
                             .roles = PROTO_ROLE_BIT(PROTO_ROLE_POLICE) |
                                      PROTO_ROLE_BIT(PROTO_ROLE_AMBULANCE)};
    m = make(PROTO_WELCOME);
    m.u.welcome.encoding = PROTO_ENC_MSGPACK;
    m.u.welcome.subscribe = &sub;
    roundtrip(&m);
    sub =
        (proto_subscribe_t){.all_signals = 1, .detectors = dets, .n_detectors = 1, .all_roles = 1};
    roundtrip(&m);
    sub = (proto_subscribe_t){0}; /* nothing at all: empty lists */
    roundtrip(&m);

    m = make(PROTO_TICK);
    m.u.tick.delta = 1;
    roundtrip(&m);

    m = make(PROTO_CONTROL);
    m.u.control.has_wake = 1;
    m.u.control.wake = (proto_wake_t){.at_ms = 3605000, .on = PROTO_WAKE_SRM | PROTO_WAKE_SIGNAL};
    roundtrip(&m);
    m.u.control.wake = (proto_wake_t){.at_ms = -1, .on = PROTO_WAKE_DETECTOR};
    roundtrip(&m);
    m.u.control.wake = (proto_wake_t){.at_ms = 0, .on = 0};
    roundtrip(&m);
}
END_TEST

START_TEST(test_negotiation_wire) {
    static const char *sigs[] = {"A1"};
    proto_subscribe_t sub = {.signals = sigs,
                             .n_signals = 1,
                             .all_detectors = 1,
                             .roles = PROTO_ROLE_BIT(PROTO_ROLE_POLICE)};
    proto_msg_t m = make(PROTO_WELCOME);
    m.u.welcome.encoding = PROTO_ENC_MSGPACK;
    m.u.welcome.subscribe = &sub;
    char *text = encode_ok(&m, NULL);
    ck_assert_str_eq(text, "{\"type\":\"welcome\",\"version\":1,\"seq\":42,\"strategy\":"
                           "\"corridor\",\"controller\":\"greenwave-controller 0.1.0\","
                           "\"encoding\":\"msgpack\",\"subscribe\":{\"signals\":[\"A1\"],"
                           "\"detectors\":null,\"roles\":[\"police\"]}}");
    free(text);

    m = make(PROTO_CONTROL);
    m.u.control =
        (proto_control_t){.ack = 5, .has_wake = 1, .wake = {.at_ms = -1, .on = PROTO_WAKE_SRM}};
    text = encode_ok(&m, NULL);
    ck_assert_str_eq(text, "{\"type\":\"control\",\"version\":1,\"seq\":42,\"ack\":5,"
                           "\"wake\":{\"at_ms\":null,\"on\":[\"srm\"]},\"commands\":[],"
                           "\"ssm\":[],\"log\":[]}");
    free(text);

    /* A hello from an older simulator (no offers) means JSON and lockstep. */
    proto_msg_t d;
    accepted("{\"type\":\"hello\",\"version\":1,\"seq\":1,\"session\":{\"scenario\":\"s\","
             "\"seed\":1,\"strategy\":null,\"tick_ms\":1000,\"start_tod_ms\":0},\"map\":{},"
             "\"encodings\":[\"cbor\",\"msgpack\"],\"sync\":[\"telepathy\",\"event\"]}",
             &d);
    ck_assert_uint_eq(d.u.hello.encodings, PROTO_ENC_BIT(PROTO_ENC_MSGPACK));
    ck_assert_uint_eq(d.u.hello.sync, PROTO_SYNC_EVENT);
    ck_assert_int_eq(d.u.hello.no_log, 0); /* no "log": the log is read */
    proto_msg_fini(&d);
    accepted("{\"type\":\"hello\",\"version\":1,\"seq\":1,\"session\":{\"scenario\":\"s\","
             "\"seed\":1,\"strategy\":null,\"tick_ms\":1000,\"start_tod_ms\":0},\"map\":{},"
             "\"log\":false}",
             &d);
    ck_assert_int_eq(d.u.hello.no_log, 1);
    proto_msg_fini(&d);
    accepted("{\"type\":\"welcome\",\"version\":1,\"seq\":1,\"strategy\":\"none\","
             "\"controller\":\"py\",\"subscribe\":{}}",
             &d);
    ck_assert_int_eq(d.u.welcome.encoding, PROTO_ENC_JSON);
    ck_assert_ptr_nonnull(d.u.welcome.subscribe);
    ck_assert(d.u.welcome.subscribe->all_signals && d.u.welcome.subscribe->all_detectors &&
              d.u.welcome.subscribe->all_roles);
    proto_msg_fini(&d);

    /* Names are checked by the encoder too. */
    m = make(PROTO_CONTROL);
    m.u.control.has_wake = 1;
    m.u.control.wake = (proto_wake_t){.at_ms = -1, .on = 64};
    enc_refused(&m, "control.wake.on: bits 0x40 have no name on the wire");
    m.u.control.wake = (proto_wake_t){.at_ms = -2};
    enc_refused(&m, "control.wake.at_ms: must be >= 0, got -2");
    m = make(PROTO_WELCOME);
    m.u.welcome.encoding = (proto_encoding_t)7;
    enc_refused(&m, "welcome.encoding: value 7 has no name on the wire");
}
END_TEST

static const bad_t BAD_NEGOTIATION[] = {
    {PROTO_HELLO, "encodings", "\"msgpack\"", "hello.encodings: must be an array, got a string"},
    {PROTO_HELLO, "encodings", "[1]", "hello.encodings[0]: must be a string, got an integer"},
    {PROTO_HELLO, "sync", "{}", "hello.sync: must be an array, got an object"},
    {PROTO_HELLO, "log", "0", "hello.log: must be true or false, got an integer"},
    {PROTO_WELCOME, "encoding", "\"cbor\"",
     "welcome.encoding: unknown value \"cbor\" (expected json or msgpack)"},
    {PROTO_WELCOME, "encoding", "1", "welcome.encoding: must be a string, got an integer"},
    {PROTO_WELCOME, "subscribe", "[]", "welcome.subscribe: must be an object, got an array"},
    {PROTO_WELCOME, "subscribe", "{\"signals\":\"all\"}",
     "welcome.subscribe.signals: must be an array, got a string"},
    {PROTO_WELCOME, "subscribe", "{\"detectors\":[\"\"]}",
     "welcome.subscribe.detectors[0]: id must not be empty"},
    {PROTO_WELCOME, "subscribe", "{\"roles\":[\"pirate\"]}",
     "welcome.subscribe.roles[0]: unknown value \"pirate\""},
    {PROTO_TICK, "delta", "1", "tick.delta: must be true or false, got an integer"},
    {PROTO_CONTROL, "wake", "\"soon\"", "control.wake: must be an object, got a string"},
    {PROTO_CONTROL, "wake", "{\"at_ms\":-1}", "control.wake.at_ms: must be >= 0, got -1"},
    {PROTO_CONTROL, "wake", "{\"at_ms\":1.5}", "control.wake.at_ms: must be an integer"},
    {PROTO_CONTROL, "wake", "{\"on\":[\"tea\"]}",
     "control.wake.on[0]: unknown value \"tea\" (expected srm, signal or detector)"},
    {PROTO_CONTROL, "wake", "{\"on\":\"srm\"}", "control.wake.on: must be an array"},
};

START_TEST(test_negotiation_refusals) {
    const bad_t *b = &BAD_NEGOTIATION[_i];
    json_t *doc = sample_doc(b->base);
    edit(doc, b->path, b->value != NULL ? js(b->value) : NULL);
    char *text = dump(doc);
    refused(text, strlen(text), BASE_EPROTO, b->expect);
    free(text);
    json_decref(doc);
}
END_TEST

/* MessagePack bytes that are not a message document: refused before or while unpacking. */
START_TEST(test_decode_refusals_msgpack) {
    static const struct {
        const char *bytes;
        size_t len;
        const char *expect;
    } RAW[] = {
        /* a map of one pair whose value is missing */
        {"\x81\xa4type", 6, "invalid MessagePack: truncated"},
        /* a complete map, then a byte more */
        {"\x80\xc0", 2, "invalid MessagePack: 1 bytes after the object"},
        /* map32 announcing 2^32-1 pairs in 5 bytes: refused before any allocation */
        {"\xdf\xff\xff\xff\xff", 5, "holds more elements than bytes"},
        {"\x81\xa1x\xdd\x7f\xff\xff\xff\xc0", 9, "holds more elements than bytes"},
        /* str32 longer than the message */
        {"\x81\xa1x\xdb\x00\x10\x00\x00"
         "ab",
         10, "runs past the end"},
        /* 0xc1 is never used */
        {"\x81\xa1x\xc1", 4, "byte 0xc1 at 3 is not a MessagePack type"},
        {"\x81\x01\xc0", 3, "a map key that is not a string"},
        {"\x82\xa1k\xc0\xa1k\xc0", 7, "duplicate key \"k\""},
        {"\x81\xa1k\xc4\x01z", 6, "a binary or extension value"},
        {"\x81\xa1k\xd4\x01z", 6, "a binary or extension value"},
        {"\x81\xa1k\xa2\xff\xfe", 6, "not UTF-8 or holds a NUL"},
        {"\x81\xa1k\xa3"
         "a\x00"
         "b",
         7, "not UTF-8 or holds a NUL"},
        {"\x81\xa2k\x00\xc0", 5, "key that is not UTF-8 or holds a NUL"},
        {"\x81\xa1k\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 12,
         "integer 9223372036854775808 is above 9223372036854775807"},
        {"\x81\xa1k\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 12, "a float that is not finite"},
    };
    for (size_t i = 0; i < N_ELEMS(RAW); i++) {
        char *exact = malloc(RAW[i].len); /* exact size for ASan */
        ck_assert(exact != NULL);
        memcpy(exact, RAW[i].bytes, RAW[i].len);
        ck_assert_int_eq(proto_msg_sniff(exact, RAW[i].len), PROTO_ENC_MSGPACK);
        proto_msg_t m;
        base_err_t err = {0};
        ck_assert_int_eq(proto_msg_decode(exact, RAW[i].len, &m, &err), BASE_EPROTO);
        ck_assert_msg(strstr(err.msg, RAW[i].expect) != NULL, "%zu: \"%s\" lacks \"%s\"", i,
                      err.msg, RAW[i].expect);
        ck_assert(is_zero(&m));
        free(exact);
    }
    /* Nesting beyond the limit, as a 100 000-deep array. */
    size_t depth = 100000;
    unsigned char *deep = malloc(depth + 4);
    ck_assert(deep != NULL);
    memcpy(deep, "\x81\xa1x", 3);
    memset(deep + 3, 0x91, depth);
    deep[depth + 3] = 0xc0;
    proto_msg_t m;
    base_err_t err = {0};
    ck_assert_int_eq(proto_msg_decode(deep, depth + 4, &m, &err), BASE_EPROTO);
    ck_assert_msg(strstr(err.msg, "nested deeper than") != NULL, "%s", err.msg);
    free(deep);
    /* A float where an integer is due is refused as in JSON (1000.0). */
    const char *t = "{\"type\":\"bye\",\"version\":1.0,\"seq\":1,\"time_ms\":1,\"reason\":\"\"}";
    size_t n = 0;
    char *bytes = proto_doc_transcode(t, strlen(t), PROTO_ENC_MSGPACK, &n, &err);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_int_eq(proto_msg_decode(bytes, n, &m, &err), BASE_EPROTO);
    ck_assert_msg(strstr(err.msg, "version: must be an integer") != NULL, "%s", err.msg);
    free(bytes);
}
END_TEST

START_TEST(test_encoding_names) {
    ck_assert_str_eq(proto_encoding_name(PROTO_ENC_JSON), "json");
    ck_assert_str_eq(proto_encoding_name(PROTO_ENC_MSGPACK), "msgpack");
    ck_assert_ptr_null(proto_encoding_name((proto_encoding_t)2));
    proto_encoding_t e = PROTO_ENC_JSON;
    ck_assert_int_eq(proto_encoding_parse("msgpack", &e), 0);
    ck_assert_int_eq(e, PROTO_ENC_MSGPACK);
    ck_assert_int_eq(proto_encoding_parse("MessagePack", &e), -1);
    ck_assert_int_eq(proto_encoding_parse(NULL, &e), -1);
    ck_assert_int_eq(proto_msg_sniff("{", 1), PROTO_ENC_JSON);
    ck_assert_int_eq(proto_msg_sniff(" {", 2), PROTO_ENC_JSON);
    ck_assert_int_eq(proto_msg_sniff("\x85", 1), PROTO_ENC_MSGPACK);
    ck_assert_int_eq(proto_msg_sniff("\xde", 1), PROTO_ENC_MSGPACK);
    ck_assert_int_eq(proto_msg_sniff(NULL, 0), PROTO_ENC_JSON);
}
END_TEST

Suite *suite_proto_msg(void);

/* The codec TCases of one encoding; names carry the encoding ("roundtrip json"). */
static void add_codec_cases(Suite *s, const char *enc, void (*setup)(void)) {
    char name[64];
    snprintf(name, sizeof name, "roundtrip %s", enc);
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_roundtrip_every_type);
    tcase_add_test(tc, test_roundtrip_variants);
    tcase_add_test(tc, test_wire_form);
    tcase_add_test(tc, test_fini);
    tcase_add_test(tc, test_negotiation_roundtrip);
    tcase_add_test(tc, test_negotiation_wire);
    suite_add_tcase(s, tc);

    snprintf(name, sizeof name, "decode %s", enc);
    tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_decode_lenient);
    tcase_add_loop_test(tc, test_decode_refusals, 0, (int)N_ELEMS(BAD));
    tcase_add_loop_test(tc, test_negotiation_refusals, 0, (int)N_ELEMS(BAD_NEGOTIATION));
    suite_add_tcase(s, tc);

    snprintf(name, sizeof name, "encode %s", enc);
    tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_encode_refusals);
    tcase_add_test(tc, test_encode_refusals_tick);
    tcase_add_test(tc, test_encode_refusals_control);
    suite_add_tcase(s, tc);

    snprintf(name, sizeof name, "robustness %s", enc);
    tc = tcase_create(name);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_truncations);
    tcase_add_test(tc, test_mutations);
    tcase_add_test(tc, test_type_confusion);
    suite_add_tcase(s, tc);
}

Suite *suite_proto_msg(void) {
    Suite *s = suite_create("proto_msg");

    TCase *tc = tcase_create("names");
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_encoding_names);
    suite_add_tcase(s, tc);

    add_codec_cases(s, "json", use_json);
    add_codec_cases(s, "msgpack", use_msgpack);

    /* Raw bytes: JSON text and MessagePack each have their own. */
    tc = tcase_create("raw");
    tcase_add_checked_fixture(tc, use_json, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_decode_refusals_raw);
    tcase_add_test(tc, test_decode_deep_nesting);
    tcase_add_test(tc, test_size_limit);
    tcase_add_test(tc, test_decode_refusals_msgpack);
    suite_add_tcase(s, tc);
    return s;
}
