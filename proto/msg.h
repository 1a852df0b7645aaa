/*
 * proto/msg.h - the messages between greenwave-sim and a controller, and their codec.
 *
 * This header is the one definition of every control message (docs/protocol.md documents the
 * wire form for third parties). Messages are objects in one ZeroMQ frame each, encoded as JSON
 * text (the default) or MessagePack (negotiated in hello/welcome; both decode into the same
 * structures through the same field checks), with a
 * "type", the protocol "version" (PROTO_VERSION) and a per-sender sequence number "seq";
 * field names follow SAE J2735 (SPaT, SRM, SSM, MAP) and NTCIP 1202/1211 where a counterpart
 * exists. Times are integer milliseconds of simulated time ("time_ms", "eta_ms"...).
 *
 *   sim -> controller   hello    once per run: session (scenario, seed, strategy, tick) + map
 *   controller -> sim   welcome  answer to hello: the strategy in force
 *   sim -> controller   tick     every control interval (or, with event sync, when the
 *                                controller's wake conditions hold): SPaT, detectors, SRMs,
 *                                all of them or only the subscribed ones that changed
 *   controller -> sim   control  answer to a tick: commands, SSMs, decision log, next wake
 *   sim -> controller   bye      end of the run
 *
 * The map of a hello is a scenario document (docs/scenario-format.md) without its demand: the
 * static network a command centre knows. The decoder checks every field's presence, type and
 * range and returns BASE_EPROTO with a message naming the field; it never trusts a length or an
 * index from the wire. A decoded message owns its memory (an arena and the parsed document):
 * release it with proto_msg_fini(). Thread-safe: no shared state.
 */
#ifndef PROTO_MSG_H
#define PROTO_MSG_H

#include "base/arena.h"
#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1
#define PROTO_ID_MAX  64 /* longest id on the wire, bytes including the NUL */
#define PROTO_MSG_MAX ((size_t)16 * 1024 * 1024) /* largest message on the wire, bytes */
#define PROTO_DAY_MS  INT64_C(86400000)          /* start_tod_ms is in [0, PROTO_DAY_MS) */

typedef enum {
    PROTO_HELLO = 1,
    PROTO_WELCOME,
    PROTO_TICK,
    PROTO_CONTROL,
    PROTO_BYE,
} proto_type_t;

/* J2735 MovementPhaseState values used here. */
typedef enum {
    PROTO_PHASE_DARK = 1,                /* "dark": no signal */
    PROTO_PHASE_STOP_AND_REMAIN = 3,     /* "stop-And-Remain": red */
    PROTO_PHASE_PROTECTED_ALLOWED = 6,   /* "protected-Movement-Allowed": green */
    PROTO_PHASE_PROTECTED_CLEARANCE = 8, /* "protected-clearance": yellow */
} proto_phase_state_t;

/* J2735 BasicVehicleRole values used here. */
typedef enum {
    PROTO_ROLE_BASIC = 0,      /* "basicVehicle" */
    PROTO_ROLE_TRANSIT = 16,   /* "transit" */
    PROTO_ROLE_POLICE = 12,    /* "police" */
    PROTO_ROLE_FIRE = 13,      /* "fire" */
    PROTO_ROLE_AMBULANCE = 14, /* "ambulance" */
} proto_role_t;

/* J2735 PriorityRequestType. */
typedef enum {
    PROTO_REQ_REQUEST = 1, /* "priorityRequest" */
    PROTO_REQ_UPDATE = 2,  /* "priorityRequestUpdate" */
    PROTO_REQ_CANCEL = 3,  /* "priorityCancellation" */
} proto_request_type_t;

/* J2735 PrioritizationResponseStatus. */
typedef enum {
    PROTO_SSM_UNKNOWN = 0,
    PROTO_SSM_REQUESTED = 1,
    PROTO_SSM_PROCESSING = 2,
    PROTO_SSM_WATCH_OTHER_TRAFFIC = 3,
    PROTO_SSM_GRANTED = 4,
    PROTO_SSM_REJECTED = 5,
    PROTO_SSM_MAX_PRESENCE = 6,
    PROTO_SSM_RESERVICE_LOCKED = 7,
} proto_ssm_status_t;

/* Commands (NTCIP 1202 phase control and preemption vocabulary, over stages). */
typedef enum {
    PROTO_CMD_HOLD = 1, /* keep the current stage green past its plan end (phaseControlGroupHold) */
    PROTO_CMD_FORCE_OFF, /* end the current stage's green now; refused before its min green */
    PROTO_CMD_CALL,      /* make `stage` the next stage served (then hold it if `hold`) */
    PROTO_CMD_RELEASE,   /* back to the local plan by `transition` */
} proto_cmd_action_t;

/* NTCIP 1202 coordCorrectionMode values for the return to coordination. */
typedef enum {
    PROTO_TRANSITION_DWELL = 2,    /* "dwell": hold until the plan comes round */
    PROTO_TRANSITION_SHORTWAY = 3, /* "shortway": shorten or lengthen cycles by <= 20 % */
    PROTO_TRANSITION_LONGWAY = 4,  /* "longway" (addOnly): only lengthen cycles */
} proto_transition_t;

/* Encodings of a message on the wire. */
typedef enum {
    PROTO_ENC_JSON = 0,    /* UTF-8 JSON text: the documented default */
    PROTO_ENC_MSGPACK = 1, /* MessagePack: the same document, binary */
} proto_encoding_t;

/* Bits of proto_hello_t.encodings. */
#define PROTO_ENC_BIT(e) (UINT32_C(1) << (e))

/* Synchronisation modes (bits of proto_hello_t.sync). */
#define PROTO_SYNC_LOCKSTEP UINT32_C(1) /* a tick every control interval, full snapshots */
#define PROTO_SYNC_EVENT    UINT32_C(2) /* wake conditions, subscriptions and deltas */

/* Wake events (bits of proto_wake_t.on). */
#define PROTO_WAKE_SRM      UINT32_C(1) /* a subscribed vehicle sends an SRM, or stops sending */
#define PROTO_WAKE_SIGNAL   UINT32_C(2) /* a subscribed signal changes state (stage, groups) */
#define PROTO_WAKE_DETECTOR UINT32_C(4) /* a subscribed detector counts or changes occupancy */

/* Bit of a role in proto_subscribe_t.roles. */
#define PROTO_ROLE_BIT(r) (UINT32_C(1) << (r))

typedef struct proto_session {
    const char *scenario; /* scenario name */
    uint64_t seed;
    const char *strategy; /* requested strategy, or NULL for the controller's default */
    int64_t tick_ms;      /* control interval */
    int64_t start_tod_ms; /* time of day at time_ms 0 */
} proto_session_t;

typedef struct proto_hello {
    proto_session_t session;
    const char *map_json; /* the map: a scenario document without demand, as JSON text */
    /* In-process only, never on the wire: the map as the simulator's own parsed scenario,
     * shared read-only for the session's life, in place of map_json (which may be NULL). */
    const struct sim_scenario *map_scn;
    uint32_t encodings; /* PROTO_ENC_BIT()s the simulator speaks; 0: JSON only (absent) */
    uint32_t sync;      /* PROTO_SYNC_* the simulator offers; 0: lockstep only (absent) */
    int no_log;         /* 1: the simulator does not read control.log (wire: "log": false) */
} proto_hello_t;

/* What the controller wants in its ticks (event sync). An id list with all_* set is unused. */
typedef struct proto_subscribe {
    int all_signals; /* 1: every signal (wire: null or absent) */
    const char **signals;
    int32_t n_signals;
    int all_detectors; /* 1: every detector */
    const char **detectors;
    int32_t n_detectors;
    int all_roles;  /* 1: SRMs of every role */
    uint32_t roles; /* else PROTO_ROLE_BIT()s of the roles whose SRMs are sent */
} proto_subscribe_t;

typedef struct proto_welcome {
    const char *strategy;      /* the strategy the controller runs for this session */
    const char *controller;    /* free text: name and version of the controller */
    proto_encoding_t encoding; /* of the messages after the welcome (one the hello offered) */
    const proto_subscribe_t *subscribe; /* event sync: subscriptions, or NULL (full ticks) */
} proto_welcome_t;

typedef struct proto_group_state {
    const char *id; /* signal group id */
    proto_phase_state_t state;
    int64_t min_end_ms; /* J2735 minEndTime: earliest time the state may end */
    int64_t max_end_ms; /* J2735 maxEndTime, or -1 if unknown (held) */
} proto_group_state_t;

typedef struct proto_intersection_state {
    const char *id;         /* node id */
    const char *stage;      /* current (or, in a change, ending) stage id */
    const char *next_stage; /* stage that follows, or NULL */
    int in_change;          /* 1 during yellow/red clearance between stages */
    const char *plan;       /* plan id in force */
    int external;           /* 1 when under the controller's commands */
    int preempt_active;     /* IntersectionStatusObject preemptIsActive */
    int priority_active;    /* IntersectionStatusObject signalPriorityIsActive */
    int in_transition;      /* returning to coordination */
    proto_group_state_t *groups;
    int32_t n_groups;
} proto_intersection_state_t;

typedef struct proto_detector_state {
    const char *id;
    int64_t count; /* vehicles since the start of the run */
    int occupied;
} proto_detector_state_t;

typedef struct proto_request {
    const char *intersection; /* SignalRequest.id */
    proto_request_type_t request_type;
    const char *in_bound_lane;  /* approach link id (IntersectionAccessPoint as an approach) */
    const char *out_bound_lane; /* exit link id, or NULL */
    int64_t eta_ms;             /* ETA window start (minute/second) */
    int64_t duration_ms;        /* ETA window length */
} proto_request_t;

typedef struct proto_srm {
    int32_t request_id; /* requestID, 0..255 */
    int32_t msg_count;  /* sequenceNumber 0..127 */
    const char *vehicle_id;
    proto_role_t role; /* basicVehicleRole */
    const char *link;  /* where it is now */
    double pos_m;      /* metres travelled on that link */
    double speed_mps;
    proto_request_t *requests; /* one per intersection ahead on its route, in route order */
    int32_t n_requests;
} proto_srm_t;

typedef struct proto_tick {
    int64_t time_ms;
    int delta; /* 1: only the subscribed entries that changed since the previous tick */
    proto_intersection_state_t *spat;
    int32_t n_spat;
    proto_detector_state_t *detectors;
    int32_t n_detectors;
    proto_srm_t *srms;
    int32_t n_srms;
    /* In-process only, never on the wire (NULL there): each entry's index in the map, which
     * is then the simulator's own scenario (proto_hello_t.map_scn). A hint: the controller
     * uses it only where the id at that index is the entry's id. */
    const int32_t *spat_at, *detectors_at;
} proto_tick_t;

typedef struct proto_command {
    const char *intersection;
    proto_cmd_action_t action;
    const char *stage;             /* CALL: the stage; NULL otherwise */
    int hold;                      /* CALL: hold the stage once it is green; 0 otherwise */
    proto_transition_t transition; /* RELEASE; 0 otherwise */
    int preempt; /* set preemptIsActive (1) or signalPriorityIsActive (0); 0 with RELEASE */
} proto_command_t;

typedef struct proto_ssm_entry {
    int32_t request_id;
    const char *vehicle_id;
    const char *intersection;
    proto_ssm_status_t status;
} proto_ssm_entry_t;

/* When the controller next needs a tick (event sync). */
typedef struct proto_wake {
    int64_t at_ms; /* a tick at the first control interval at or after this time, or -1 */
    uint32_t on;   /* PROTO_WAKE_* events that bring the tick forward */
} proto_wake_t;

typedef struct proto_control {
    int64_t ack;       /* seq of the tick answered */
    int has_wake;      /* 0: the next control interval (lockstep) */
    proto_wake_t wake; /* with has_wake */
    proto_command_t *commands;
    int32_t n_commands;
    proto_ssm_entry_t *ssm;
    int32_t n_ssm;
    const char **log; /* decisions with reasons, one line each */
    int32_t n_log;
} proto_control_t;

typedef struct proto_bye {
    int64_t time_ms;
    const char *reason;
} proto_bye_t;

typedef struct proto_msg {
    proto_type_t type;
    int32_t version;
    int64_t seq;
    union {
        proto_hello_t hello;
        proto_welcome_t welcome;
        proto_tick_t tick;
        proto_control_t control;
        proto_bye_t bye;
    } u;
    /* Owned storage of a decoded message. */
    base_arena_t arena;
    void *doc;
} proto_msg_t;

/* Encodes msg like proto_msg_encode(), in the given encoding; with PROTO_ENC_MSGPACK the
 * result is MessagePack bytes (with a NUL after them, not counted in *len). The fields are
 * checked by the same rules whatever the encoding. */
char *proto_msg_encode_as(const proto_msg_t *msg, proto_encoding_t enc, size_t *len,
                          base_err_t *err);

/* Returns the encoding of a message from its first byte: MessagePack for a map header
 * (0x80..0x8f, 0xde, 0xdf), JSON for anything else. */
proto_encoding_t proto_msg_sniff(const void *data, size_t len);

/* Re-encodes a document (any JSON object, not only a message) from one encoding into the
 * other, without checking it as a message: for tests and tools. Returns malloc'd bytes
 * (NUL-terminated, *len without it) or NULL with BASE_EPROTO in err. */
char *proto_doc_transcode(const void *data, size_t len, proto_encoding_t to, size_t *out_len,
                          base_err_t *err);

/* Name of an encoding ("json", "msgpack"), NULL for none; and the encoding of a name
 * (returns 0, or -1 for an unknown name). */
const char *proto_encoding_name(proto_encoding_t e);
int proto_encoding_parse(const char *name, proto_encoding_t *e);

/* Encodes msg (type, version, seq and the union member of its type) as JSON text. Returns a
 * malloc'd NUL-terminated string (caller frees) and its length in *len (len may be NULL), or
 * NULL with BASE_EINVAL in err, naming the field by its wire path, when a field is out of range
 * (an encoder never writes what the decoder would refuse): version other than PROTO_VERSION, an
 * enum without a name, a required string NULL, an id empty or of PROTO_ID_MAX bytes or more,
 * a flag other than 0 or 1, a seed above INT64_MAX, an array with n < 0 or NULL with n > 0,
 * text that is not UTF-8, a result above PROTO_MSG_MAX. BASE_ENOMEM when out of memory. */
char *proto_msg_encode(const proto_msg_t *msg, size_t *len, base_err_t *err);

/* Decodes len bytes (not NUL-terminated; JSON or MessagePack, see proto_msg_sniff()) into
 * *msg. Returns 0, or BASE_EPROTO with a message
 * naming the field by its wire path ("tick.spat[2].states[0].eventState: unknown value
 * \"blue\" ...") for anything malformed: bad JSON, more than PROTO_MSG_MAX bytes, unknown
 * type, version other than PROTO_VERSION, missing or ill-typed field, value out of range.
 * Unknown extra fields are ignored (forward compatibility). *msg is overwritten; on error it is
 * left zeroed (proto_msg_fini() is then a no-op). On success the caller must call
 * proto_msg_fini(). */
int proto_msg_decode(const void *data, size_t len, proto_msg_t *msg, base_err_t *err);

/* Frees what a decoded message owns; safe on a zeroed or already finalised message. */
void proto_msg_fini(proto_msg_t *msg);

/* Names on the wire. Each returns NULL for a value without a name. */
const char *proto_type_name(proto_type_t t);
const char *proto_phase_state_name(proto_phase_state_t s);
const char *proto_role_name(proto_role_t r);
const char *proto_ssm_status_name(proto_ssm_status_t s);
const char *proto_cmd_action_name(proto_cmd_action_t a);
const char *proto_transition_name(proto_transition_t t);
const char *proto_request_type_name(proto_request_type_t t);

#endif
