/*
 * controller/ctl_internal.h - the session structure and the ctl__* functions shared by the
 * sources of controller/. Included only by controller/ sources (and the controller's unit
 * tests, which drive the modules one by one); other folders use controller/ctl.h.
 *
 * A session (one simulation run) owns:
 *   - the map: the scenario parsed from the hello (static data only: nodes, links,
 *     movements, signals, detectors, escort routes; never a sim_t), with id indexes;
 *   - the view: what the last ticks showed (SPaT per signal, detector counts and the time
 *     of their last actuation), and the estimates derived from it (green start, minimum
 *     end, planned end of the green, queue on a link);
 *   - the service state per signal: which request the controller serves there and with
 *     which command, so that commands are sent once and released once;
 *   - the reply of the last tick (commands, SSMs, log lines), in an arena reset per tick.
 *
 * Safety rules every strategy follows, enforced again in ctl__emit():
 *   - at most one command per signal per tick (the simulator applies commands in order, and
 *     a second one would act on a state the controller has not seen);
 *   - force-off only when the tick's SPaT shows the signal green (not in a change interval)
 *     and every green group of the current stage past its minEndTime;
 *   - only ids of the map: a command naming an intersection or stage the map lacks is never
 *     sent.
 * Times are int64_t milliseconds of simulated time, as in the ticks.
 */
#ifndef CTL_CTL_INTERNAL_H
#define CTL_CTL_INTERNAL_H

#include "base/arena.h"
#include "controller/ctl.h"
#include "proto/msg.h"
#include "sim/scenario.h"

#include <stdint.h>

#define CTL__PLAN_LOG_MS  INT64_C(2000)      /* corridor: log a plan again when it moves more */
#define CTL__NEVER        (INT64_MIN / 4)    /* "long ago" for times compared with now */
#define CTL__NOW_MARK     INT64_MIN          /* event sync: a group time that was its tick's own */
#define CTL__LOG_LINE_MAX 320                /* longest decision log line, bytes */
#define CTL__TIME_MAX     (INT64_C(1) << 60) /* times from the wire are clamped to +-this */
#define CTL__VEH_MAX      INT64_C(1000000)   /* vehicles on one link, at most */

/* Seconds of a configuration parameter as milliseconds (parameters are at most a day). */
static inline int64_t ctl__ms(double s) {
    return (int64_t)(s * 1000.0 + 0.5);
}

/* ---- the static map -------------------------------------------------------------------- */

typedef struct ctl__index {
    struct {
        const char *id; /* NULL: an empty slot */
        int32_t i;
    } * slots;
    size_t mask; /* slots - 1, a power of two minus one */
} ctl__index_t;  /* id -> index, open addressing (controller/map.c) */

typedef struct ctl__map {
    const sim_scenario_t *scn;   /* owned, unless shared */
    sim_scenario_t *owned;       /* scn when parsed from the hello's JSON, else NULL */
    ctl__index_t by_node_signal; /* node id -> signal index */
    ctl__index_t by_link;        /* link id -> link index */
    ctl__index_t by_detector;    /* detector id -> detector index */
    int32_t *link_adv;           /* per link: its advance detector (first listed) or -1 */
    int32_t *link_stop;          /* per link: its stop-line detector (first listed) or -1 */
    /* Detectors on the approach links of each group: for signal s, group g, the range
     * group_dets[s][group_first[s][g] .. group_first[s][g + 1]). */
    int32_t **group_first;
    int32_t **group_dets;
} ctl__map_t;

/* Parses the hello's map_json (or, in-process, shares its map_scn, which must outlive the
 * map) and builds the indexes. Returns 0, or a negative code with the loader's message in
 * err. On failure *map is left empty (ctl__map_fini() is a no-op). */
int ctl__map_init(ctl__map_t *map, const proto_hello_t *hello, base_err_t *err);

/* Frees what ctl__map_init() built; safe on a zeroed map. */
void ctl__map_fini(ctl__map_t *map);

/* Index lookups by id: the index, or -1 (also for a NULL id). O(1). */
int32_t ctl__map_signal(const ctl__map_t *map, const char *node_id);
int32_t ctl__map_link(const ctl__map_t *map, const char *link_id);
int32_t ctl__map_detector(const ctl__map_t *map, const char *detector_id);
int32_t ctl__map_stage(const ctl__map_t *map, int32_t s, const char *stage_id);

/* The movement from link in to link out, or -1. With out == -1, the first movement leaving
 * in (a request without an exit link). */
int32_t ctl__map_movement(const ctl__map_t *map, int32_t in, int32_t out);

/* Longest yellow + red clearance of the groups green in `from` and not in `to`: the time
 * from the end of one green to the start of the next. */
int64_t ctl__map_intergreen(const sim_signal_t *sig, uint64_t from, uint64_t to);

/* Longest minimum green of the groups of `stage` not green in `before` (the groups that
 * start with the stage, whose minimum the simulator enforces). */
int64_t ctl__map_new_min_green(const sim_signal_t *sig, uint64_t stage, uint64_t before);

/* Longest maximum green of the groups of a stage. */
int64_t ctl__map_max_green(const sim_signal_t *sig, uint64_t stage);

/* Saturation headway of movement m in ms per vehicle: 3600 / (sat flow x lanes x factor). */
double ctl__map_headway_ms(const ctl__map_t *map, int32_t m);

/* ---- the view: what the ticks show ----------------------------------------------------- */

typedef struct ctl__sigview {
    int seen;            /* in this tick's SPaT with a known stage */
    int32_t stage;       /* current stage (in a change: the ending one) */
    int32_t next;        /* the stage that follows, or -1 */
    int in_change;       /* yellow / red clearance between stages */
    int external;        /* under the controller's commands */
    uint64_t green;      /* groups green now */
    int held;            /* the green has no planned end (maxEndTime -1) */
    int64_t min_end;     /* green: earliest legal end of the current stage's green */
    int64_t green_end;   /* green: planned end of the green, or -1 when held */
    int64_t green_start; /* green: estimated start of the current stage's green */
    int64_t next_start;  /* change: estimated start of the next stage's green */
    int64_t seen_at;     /* time of the tick that last showed it */
    /* What the times that move with the clock are made of, for a later tick showing the same
     * entry (event sync, ctl__view_refresh()); a group time that was the tick's own moves on
     * with the clock, the others stay:
     *   min_end    = me_base == INT64_MAX ? INT64_MAX : max(me_base, now)
     *   green_end  = ge_base < 0 ? -1 : ge_now ? now : max(ge_base, now)
     *   next_start = max(ns_base, ns_now_off >= 0 ? now + ns_now_off : -inf, now) */
    int64_t me_base, ge_base, ns_base, ns_now_off;
    int ge_now;
} ctl__sigview_t;

/* A detector as the ticks show it. Occupancy lasts from tick to tick without a message, so
 * what it implies for the tick being handled (an actuation and an extension now) is read
 * through ctl__det_actuated(), ctl__det_last_act() and ctl__det_last_ext(). */
typedef struct ctl__detview {
    int seen;      /* ever reported */
    int present;   /* in this tick's picture (event sync: known) */
    int64_t count; /* cumulative count */
    int occupied;
    int64_t counted_in; /* the view update (view_seq) in which its count last rose */
    int64_t last_act;   /* last tick at which it counted a vehicle or was occupied, not
                           counting an occupancy that goes on in this tick */
    int64_t last_ext;   /* the same for traffic at the stop line (an extension) */
} ctl__detview_t;

/* Predicted state of a signal at some time, assuming no command. */
typedef struct ctl__proj {
    int in_change;
    int32_t stage, next; /* green: stage; change: from stage to next */
    int64_t start;       /* green: start of the green; change: start of next's green */
    int64_t min_end;     /* green: earliest legal end */
    int64_t green_end;   /* green: planned end, or -1 held */
} ctl__proj_t;

/* ---- requests (SRMs resolved against the map) ------------------------------------------ */

typedef enum {
    CTL__CLASS_OTHER = 0,
    CTL__CLASS_BUS,    /* transit: TSP */
    CTL__CLASS_ESCORT, /* police, fire, ambulance: preemption */
} ctl__class_t;

typedef struct ctl__req {
    const char *vehicle; /* borrowed from the tick (or the map for a planned escort) */
    int32_t request_id;
    int planned; /* from the map's escorts, before the SRM exists: no SSM */
    ctl__class_t cls;
    int32_t level; /* priority level: the map's escort's J2735 RequestImportanceLevel, else 0 */
    const char *intersection;                   /* as requested */
    int32_t sig;                                /* signal index, or -1 */
    int32_t in_link, out_link, movement, group; /* -1 when unknown */
    int64_t eta, duration;
    int cancel;      /* priorityCancellation: passed */
    int on_approach; /* the vehicle is on the approach link now */
    int32_t at_link; /* the link the vehicle is on, or -1 (unknown, not departed) */
    int32_t first;   /* index in s->reqs of the first request of the same SRM */
    int valid;       /* maps to a signal, a movement and a group */
    /* Corridor plan. */
    int64_t queue;    /* vehicles estimated ahead on the approach, -1 unknown */
    int64_t clear;    /* time to discharge them, ms */
    int64_t green_at; /* latest start of green: eta - clear - margin */
    /* Decided by the strategy. */
    int32_t stage; /* the stage that serves it, or -1 */
    int ssm;       /* 1: answer with `status` */
    proto_ssm_status_t status;
    const char *why; /* static text: why it is rejected, or NULL */
} ctl__req_t;

/* ---- per-signal service ---------------------------------------------------------------- */

typedef enum {
    CTL__SVC_NONE = 0,
    CTL__SVC_ESCORT, /* preemption / green wave for an escort */
    CTL__SVC_BUS,    /* transit signal priority */
    CTL__SVC_ROUTE,  /* route-green reference */
    CTL__SVC_ACT,    /* actuated control */
} ctl__svc_kind_t;

typedef struct ctl__svc {
    ctl__svc_kind_t kind;
    char vehicle[PROTO_ID_MAX]; /* the vehicle served */
    int active;                 /* a command was sent and not released */
    int32_t stage;              /* the stage called or held */
    int hold;                   /* ... with hold */
    int preempt;
    int seen_green; /* the stage has been green since the call */
    int64_t since;  /* time of the command */
    /* Actuated: the early-green call for a bus, and the demand latched per group. */
    int32_t early_stage;
    uint64_t call; /* groups with a latched call (actuated) */
} ctl__svc_t;

/* What the controller remembers of a request between ticks, per (vehicle, signal): the last
 * SSM status (to log changes) and the corridor plan last logged (to log it again only when it
 * moves by more than CTL__PLAN_LOG_MS). Dropped when the request is gone. */
typedef struct ctl__memo {
    char vehicle[PROTO_ID_MAX];
    int32_t sig;
    int status;         /* last SSM status, or -1 */
    int64_t green_at;   /* corridor: planned start of green last logged, or CTL__NEVER */
    int64_t eta;        /* corridor: ETA last logged */
    int32_t link;       /* sig -1 (per vehicle): the link it was on at the last tick */
    int64_t entry;      /* ... the advance count of that link when it was first seen on it */
    int64_t held_since; /* corridor: the escort's stage held green since (CTL__NEVER: not) */
    int64_t turn_until; /* corridor: the approach's turns are served until then */
    int mark;           /* seen this tick */
} ctl__memo_t;

/* The last transit-priority action at a signal, for the reservice lockout. */
typedef struct ctl__tsp {
    int64_t at;                 /* when it started, or CTL__NEVER */
    char vehicle[PROTO_ID_MAX]; /* for which bus */
} ctl__tsp_t;

/* ---- the session ----------------------------------------------------------------------- */

typedef struct ctl__session ctl__session_t;

typedef struct ctl__strategy {
    const char *name;
    void (*tick)(ctl__session_t *s);
    int tsp; /* transit signal priority applies */
} ctl__strategy_t;

struct ctl__session {
    unsigned char *peer;
    size_t peer_len;
    const ctl_config_t *cfg; /* the controller's */
    const ctl__strategy_t *strategy;
    char scenario[PROTO_ID_MAX];
    int64_t tick_ms;
    int64_t now;       /* time of the tick being handled */
    int64_t last_time; /* time of the previous tick, or -1 */
    int64_t ticks;
    int64_t last_seen; /* the controller's message clock at this peer's last message */
    int64_t view_seq;  /* view updates so far (ctl__view_update(), ctl__view_refresh()) */
    ctl__map_t map;
    ctl__sigview_t *views; /* per signal */
    ctl__detview_t *dets;  /* per detector */
    ctl__svc_t *svc;       /* per signal */
    ctl__tsp_t *tsp;       /* per signal */
    ctl__memo_t *memos;
    int32_t n_memos, cap_memos;
    int64_t out_seq;        /* seq of the controller's messages in this session */
    uint8_t *escort_seen;   /* per map escort: an SRM of it has been seen */
    int release_transition; /* proto_transition_t of the next release emitted, or -1: the
                               configured one */
    int send_log;           /* the simulator reads control.log (its hello did not say "log":
                               false) */
    /* Event sync (controller/sync.c): set when the hello offers it. */
    int event;
    proto_subscribe_t sub;                  /* what the welcome subscribes to */
    proto_intersection_state_t *spat_known; /* per signal: the last state shown; scenario ids */
    proto_group_state_t *groups_known;      /* per signal, from the map's group offsets */
    uint8_t *sig_known;                     /* per signal: spat_known is valid */
    proto_detector_state_t *dets_known;     /* per detector: the last state shown */
    uint8_t *det_known;
    /* This tick's changes (ctl__sync_apply()), read by ctl__view_refresh(). */
    int full;             /* this tick replaced everything known */
    uint8_t *sig_changed; /* per signal: listed (or forgotten) in this tick */
    uint8_t *det_listed;  /* per detector: in det_changed already */
    int32_t *det_changed; /* detectors listed in this tick, each once */
    int32_t n_det_changed;
    int32_t *det_signal;  /* per detector: the signal at the end of its link, or -1 */
    uint64_t *det_groups; /* per detector: the groups it serves there (map group_dets) */
    /* Per signal, for strategies that act on changes (actuated under event sync): */
    uint8_t *touched;  /* its SPaT or a detector of its approaches changed this tick */
    uint8_t *cmd_prev; /* it was commanded in the previous tick */
    int64_t *due;      /* the strategy's next look at it (no change meanwhile) */
    uint8_t *req_at;   /* a request names it in this tick */
    /* This tick. */
    const proto_tick_t *tick;
    ctl__req_t *reqs;
    int32_t n_reqs;
    uint8_t *commanded; /* per signal: a command was emitted this tick */
    /* The reply, valid until the next tick of this session. */
    base_arena_t arena;
    proto_command_t *cmds; /* in the arena, grown as commands are added */
    int32_t n_cmds, cap_cmds;
    proto_ssm_entry_t *ssm;
    int32_t n_ssm;
    const char **log;
    int32_t n_log, cap_log;
    int oom; /* an allocation for the reply failed */
};

/* What a detector's occupancy implies for the tick being handled (see ctl__detview_t). */
static inline int ctl__det_actuated(const ctl__session_t *s, int32_t d) {
    const ctl__detview_t *v = &s->dets[d];
    return v->present && (v->counted_in == s->view_seq || v->occupied);
}

static inline int64_t ctl__det_last_act(const ctl__session_t *s, int32_t d) {
    const ctl__detview_t *v = &s->dets[d];
    return v->present && v->occupied ? s->now : v->last_act;
}

static inline int64_t ctl__det_last_ext(const ctl__session_t *s, int32_t d) {
    const ctl__detview_t *v = &s->dets[d];
    return v->present && v->occupied ? s->now : v->last_ext;
}

/* Strategies (one file each). */
void ctl__actuated_tick(ctl__session_t *s);
void ctl__local_tick(ctl__session_t *s);
void ctl__corridor_tick(ctl__session_t *s);    /* the new green wave */
void ctl__corridor_v1_tick(ctl__session_t *s); /* today's, kept for comparison */
void ctl__route_green_tick(ctl__session_t *s);

/* Transit signal priority at a plan-based signal sig (local and corridor) with no escort
 * engaged: serves the winning bus (green extension or early green, at most one command),
 * sets the statuses of the buses there. Returns 1 while a TSP service keeps the signal. */
int ctl__tsp_signal(ctl__session_t *s, int32_t sig);

/* The buses at sig lose to an escort served by stage k (-1: none): watchOtherTraffic when
 * that stage serves them too, else rejected. */
void ctl__tsp_lose(ctl__session_t *s, int32_t sig, int32_t k);

/* The bus to serve at sig: the one whose priority action runs there (until it has passed),
 * else the earliest ETA. NULL if none. */
ctl__req_t *ctl__tsp_winner(ctl__session_t *s, int32_t sig);

/* Reservice lockout: returns 1 if bus r may get a priority action at sig now (the bus of the
 * last action there for 2 x tsp_horizon_s after it, to go on from an early green to an
 * extension; any bus tsp_lockout_s after it) and records a new action; returns 0 and
 * answers r reserviceLocked otherwise. */
int ctl__tsp_take(ctl__session_t *s, int32_t sig, ctl__req_t *r);

/* ---- event sync (controller/sync.c) ---------------------------------------------------- */

/* Sets up event sync for a new session whose hello offered it: what to subscribe to (from
 * the strategy: nothing for none; every signal; the detectors for actuated and corridor;
 * the escorts' roles, and transit with TSP) and the memory of the last states shown.
 * Returns 0 or BASE_ENOMEM. */
int ctl__sync_init(ctl__session_t *s);

/* Frees what ctl__sync_init() allocated; safe on a session without it. */
void ctl__sync_fini(ctl__session_t *s);

/* Folds tick t (full or delta) into the last states shown and notes what it changed (full,
 * sig_changed, det_changed), for ctl__view_refresh(). */
void ctl__sync_apply(ctl__session_t *s, const proto_tick_t *t);

/* The wake of this tick's control: the next interval while anything is under way (a command,
 * a service, a request; actuated always), else the SRMs of the subscribed roles and, before a
 * planned escort, a time ahead of its departure; nothing for none. */
proto_wake_t ctl__sync_wake(const ctl__session_t *s);

/* ---- view (controller/view.c) ---------------------------------------------------------- */

/* Resets the view of a new session (nothing seen). */
void ctl__view_reset(ctl__session_t *s);

/* Reads the tick's SPaT and detectors into the view (lockstep: a full tick, every signal and
 * detector looked at). Entries naming unknown ids are ignored. */
void ctl__view_update(ctl__session_t *s, const proto_tick_t *t);

/* Event sync: brings the view to this tick from what ctl__sync_apply() noted. Exactly what
 * ctl__view_update() would make of a full tick of every known state, but a signal not
 * listed only has its clock-dependent times moved on, and a detector not listed is not
 * looked at; touched[] says which signals' SPaT changed. */
void ctl__view_refresh(ctl__session_t *s);

/* 1 when a force-off of signal sig is legal now: the SPaT shows its stage green, not in a
 * change interval, and every green group of the stage past its minEndTime. */
int ctl__view_can_force_off(const ctl__session_t *s, int32_t sig);

/* Predicted state of signal sig at time t >= now, assuming no command. */
ctl__proj_t ctl__view_project(const ctl__session_t *s, int32_t sig, int64_t t);

/* Earliest start of stage k's green if stage k is called at time t (state projected to t).
 * If k is green at t, the start of that green. */
int64_t ctl__view_earliest_green(const ctl__session_t *s, int32_t sig, int32_t k, int64_t t);

/* Earliest time stage k can be green again if its current green ends at `end` and the
 * signal serves the next stage of its sequence for its minimum green before coming back. */
int64_t ctl__view_return_green(const ctl__session_t *s, int32_t sig, int32_t k, int64_t end);

/* Vehicles on link l estimated from its detectors (advance count - stop-line count, >= 0);
 * -1 when the link lacks either detector or they have not reported. */
int64_t ctl__view_link_vehicles(const ctl__session_t *s, int32_t l);

/* Count of link l's advance detector, or -1; of its stop-line detector, or -1. */
int64_t ctl__view_adv_count(const ctl__session_t *s, int32_t l);
int64_t ctl__view_stop_count(const ctl__session_t *s, int32_t l);

/* The stage that serves group g at signal sig: the current stage if green and containing it,
 * else the next stage if it contains it, else the first stage in sequence after the current
 * one that does; -1 if none. */
int32_t ctl__view_stage_for_group(const ctl__session_t *s, int32_t sig, int32_t g);

/* 1 when group g of signal sig is green now. */
int ctl__view_group_green(const ctl__session_t *s, int32_t sig, int32_t g);

/* ---- requests (controller/requests.c) -------------------------------------------------- */

/* Resolves the tick's SRMs into s->reqs (the tick arena). Returns 0 or BASE_ENOMEM. */
int ctl__requests_collect(ctl__session_t *s, const proto_tick_t *t);

/* Adds the planned escorts of the map that have not departed and have not sent an SRM yet,
 * with ETAs at their desired speed (corridor). Returns 0 or BASE_ENOMEM. */
int ctl__requests_add_planned(ctl__session_t *s);

/* The winning request of class cls at signal sig among those for which engaged(s, r) is
 * true (NULL: all valid, uncancelled ones): earliest ETA, then vehicle id. NULL if none. */
ctl__req_t *ctl__requests_winner(ctl__session_t *s, int32_t sig, ctl__class_t cls,
                                 int (*engaged)(const ctl__session_t *, const ctl__req_t *));

/* Sets the SSM status of request r (no SSM for planned or cancelled requests). */
void ctl__req_status(ctl__req_t *r, proto_ssm_status_t st);

/* Rejects request r with a reason (static text) for the log. */
void ctl__req_reject(ctl__req_t *r, const char *why);

/* Sets the status of every uncancelled request of class cls at sig other than w: invalid
 * ones are rejected; those not engaged (engaged != NULL and false) are requested; the others
 * get `same` if stage k (>= 0) serves their group, else `other` (with the reason why when
 * that is a rejection). With why NULL and other rejected, a loser to w is told why by its
 * status: rejected when w has a higher priority level, processing (queued: served after w)
 * when w has the same level and an earlier ETA; the log line names w and the levels. */
void ctl__requests_others(ctl__session_t *s, int32_t sig, ctl__class_t cls, const ctl__req_t *w,
                          int32_t k, int (*engaged)(const ctl__session_t *, const ctl__req_t *),
                          proto_ssm_status_t same, proto_ssm_status_t other, const char *why);

/* ---- output (controller/ctl.c) --------------------------------------------------------- */

/* Emits a command for signal sig and logs it with the reason why (checked against the safety
 * rules above; a command that breaks one is dropped and logged as an internal error).
 * RELEASE uses s->release_transition if >= 0, else the configured transition (shortway when
 * it is auto). Returns 1 if emitted. */
int ctl__emit(ctl__session_t *s, int32_t sig, proto_cmd_action_t action, int32_t stage, int hold,
              int preempt, const char *why);

/* The memo of (vehicle, sig), created if new (marked seen this tick); NULL when out of
 * memory. */
ctl__memo_t *ctl__memo(ctl__session_t *s, const char *vehicle, int32_t sig);

/* 1 when a decision log line goes anywhere: to the simulator (it reads control.log) or to
 * cfg->log. Strategies skip formatting reasons nobody reads. */
int ctl__logging(const ctl__session_t *s);

/* Appends a decision log line (printf-style) to the reply when the simulator reads it, and
 * writes it to cfg->log with the time; does nothing when neither (ctl__logging()). */
void ctl__log(ctl__session_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Node id of signal sig, and id of its stage k ("?" if k is out of range). */
const char *ctl__sig_name(const ctl__session_t *s, int32_t sig);
const char *ctl__stage_name(const ctl__session_t *s, int32_t sig, int32_t k);

/* ---- service helpers (controller/service.c) -------------------------------------------- */

/* Makes stage k of signal sig green and held for the service (kind, vehicle): sends
 * call(k, hold) unless the SPaT and the commands already sent show it done or under way.
 * Returns 1 if a command was sent. */
int ctl__svc_hold(ctl__session_t *s, int32_t sig, ctl__svc_kind_t kind, const char *vehicle,
                  int32_t k, int preempt, const char *why);

/* Calls stage k (without hold) once for the service; returns 1 if a command was sent. */
int ctl__svc_call(ctl__session_t *s, int32_t sig, ctl__svc_kind_t kind, const char *vehicle,
                  int32_t k, int preempt, const char *why);

/* Ends the service at sig: release with the configured transition if a command is in force.
 * Returns 1 if a command was sent. */
int ctl__svc_release(ctl__session_t *s, int32_t sig, const char *why);

/* Ends the service at sig, if any and if no command went to sig in this tick: release, with
 * a reason saying whether its vehicle has passed or just no longer engages the signal.
 * Returns 1 if a command was sent. */
int ctl__svc_end(ctl__session_t *s, int32_t sig);

/* Updates seen_green of the services from the view (call once per tick, after the view). */
void ctl__svc_observe(ctl__session_t *s);

#endif
