/*
 * controller/ctl.h - the controller: decides signal commands and priority-request statuses
 * from what a command centre sees (map, SPaT, detectors, SRMs), never from ground truth.
 *
 * A ctl_t serves many simulations at once; each is a session keyed by the peer's identity
 * (the ZeroMQ ROUTER identity, opaque bytes). ctl_handle() takes one decoded message and
 * produces the reply: hello -> welcome (the session is created with the map and strategy),
 * tick -> control, bye -> no reply (the session is freed). The logic is pure: no sockets and
 * no clock but the ticks' time_ms, so the same ticks give the same commands (determinism), and
 * the strategies run in unit tests without a network. Not thread-safe: one ctl_t per thread.
 *
 * Strategies (CTL_STRATEGIES; one per session, from the hello or the configuration): none,
 * actuated, local, corridor, route-green; transit signal priority for buses is on in
 * actuated/local/corridor at a lower level than escorts. Every strategy follows the
 * simulator's conflict-monitor rules itself: a force-off only after the SPaT shows the
 * stage's minimum green over and outside a change interval, at most one command per
 * intersection per tick, only ids of the map.
 */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include "base/err.h"
#include "proto/msg.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ctl ctl_t;

/* Per-session bounds, so that one simulator (faulty or hostile) cannot starve the others.
 * A hello whose map passes a bound is refused; a tick that passes one drops its session
 * (the peer must say hello again). Work is counted in deterministic units, not wall time
 * (see ctl_tick_work()), so the same ticks are dropped on any machine. Idle time is counted
 * on the controller's message clock: the number of messages it has received from anyone. */
typedef struct ctl_limits {
    int max_sessions;      /* live sessions at most; a hello beyond is refused (256) */
    int32_t max_requests;  /* priority requests (SRM entries) in one tick (1024) */
    int32_t max_signals;   /* hello map: signalized intersections (4096) */
    int32_t max_groups;    /* hello map: signal groups of all signals together (65536) */
    int32_t max_detectors; /* hello map: detectors (65536) */
    int32_t max_links;     /* hello map: links (262144) */
    int64_t max_work;      /* planning work units of one tick (50,000,000) */
    int64_t reap_after;    /* a session silent while this many messages arrived is reaped
                              (100,000; 0: never) */
} ctl_limits_t;

/* What the session management has done since ctl_new(). */
typedef struct ctl_stats {
    int sessions;           /* live now */
    int64_t clock;          /* messages handled (the controller's clock) */
    int64_t opened;         /* sessions opened (welcomed hellos) */
    int64_t closed;         /* ended by bye or by a new hello of the same peer */
    int64_t dropped;        /* dropped for breaking a limit */
    int64_t reaped;         /* reaped as idle */
    int64_t refused_hellos; /* hellos refused (bad map, limits, sessions full) */
} ctl_stats_t;

typedef struct ctl_config {
    const char *strategy;          /* default strategy when a hello names none */
    proto_transition_t transition; /* return to coordination: dwell, shortway, longway */
    double detection_range_s;      /* local preemption: ETA at which a signal is preempted */
    double safety_margin_s;        /* corridor-v1: extra green before the queue must be clear */
    int tsp;                       /* 1: transit signal priority for buses */
    FILE *log;                     /* decision log (one line per decision), or NULL */
    double passage_s;              /* actuated: passage time (unit extension), > 0 */
    int transition_auto;  /* corridor: choose dwell/shortway/longway per signal by cost; the other
                             strategies then use shortway */
    double tsp_horizon_s; /* TSP: bus ETA within which it acts */
    double tsp_lockout_s; /* TSP: no action for another bus this soon after one */
    double tsp_max_cut_s; /* TSP: an early green cuts a green by at most this */
    double engage_s;      /* corridor: an escort engages a signal when its green is due this soon */
    double meter_s;       /* corridor: metering: at most this much cut from each cross-street green
                             in the cycles before the escort's green (0: cut at once, as v1) */
    double meter_horizon_s; /* corridor: metering starts this long before the escort's green */
    double spill_fill;      /* corridor: an approach this full (share of storage) is flushed no
                               later than the signal upstream */
    double turn_gap_s;      /* corridor: a hold ahead of the escort gives the approach's turns
                               their planned green after this long (0: never) */
    double lead_s;       /* corridor: the queue ahead must be clear this long before the escort */
    double gate_s;       /* corridor: gating of a signal whose exit link is full, this long
                            before the escort (0: never) */
    double dwell_weight; /* corridor, auto transition: weight of a second of dwell (cross streets
                            red) against a second of transition */
    ctl_limits_t limits; /* per-session bounds */
} ctl_config_t;

/* Sets *cfg to the defaults: strategy "none", shortway (auto off), detection range 20 s, margin
 * 3 s, TSP off, no log, passage 3 s, TSP horizon 10 s, lockout 60 s, cut 10 s, engage 60 s,
 * metering 8 s within 150 s, spill fill 0.5, turn gap 75 s, gate 150 s, lead 12 s, dwell weight
 * 2, the limits given in
 * ctl_limits_t. */
void ctl_config_defaults(ctl_config_t *cfg);

/* A numeric parameter of the configuration, for command lines and sweeps: its option
 * ("--margin"), the field it sets (a double of ctl_config_t at offset), its bounds and help. */
typedef struct ctl_param {
    const char *option;
    size_t offset;
    double min, max;
    const char *help;
} ctl_param_t;

/* The numeric parameters, terminated by an entry with option NULL. */
extern const ctl_param_t CTL_PARAMS[];

/* Sets one option of *cfg by its greenwave-controller name: a numeric parameter of
 * CTL_PARAMS ("--margin", value a number in its bounds), "--transition" (dwell, shortway,
 * longway, auto), "--limit" (value NAME=N, a field of ctl_limits_t: sessions, requests,
 * signals, groups, detectors, links, work, reap-after) or the flags "--tsp" / "--no-tsp"
 * (value ignored). Returns 0, or BASE_EINVAL
 * with the reason in err for an unknown option or a bad value (*cfg then unchanged). */
int ctl_config_set(ctl_config_t *cfg, const char *option, const char *value, base_err_t *err);

/* Returns a controller with the given configuration (copied; cfg->log is borrowed and must
 * outlive it), or NULL with the message in err: BASE_EINVAL for an unknown strategy, a
 * transition other than dwell/shortway/longway, or a negative or non-finite time. Caller
 * owns it. */
ctl_t *ctl_new(const ctl_config_t *cfg, base_err_t *err);

/* Frees the controller and all sessions; NULL-safe, sets *self_p to NULL. */
void ctl_destroy(ctl_t **self_p);

/* Handles msg from peer. When a reply is due, fills *reply (a message to encode; its strings
 * point into the controller's session and stay valid until the next call for that peer) and
 * returns 1; returns 0 when no reply is due (bye); returns a negative code with the reason in
 * err when the message is refused (tick for an unknown session, hello with a bad map, a tick
 * older than the last one...) — the caller logs and counts it, and the session goes on.
 * A hello always ends the peer's previous session (a new run); if it is refused (unknown
 * strategy, bad map, tick_ms out of (0, 1 day]) the peer has no session until a valid one.
 * A hello beyond ctl_limits_t (map too large, sessions full) is refused with BASE_ERANGE; a
 * tick beyond them (too many requests, too much work) drops the session, also BASE_ERANGE,
 * with "session dropped" in the message. Every message first reaps the sessions idle for
 * more than limits.reap_after messages (each reaped session is logged to cfg->log).
 * A tick at the same time as the last is accepted; an earlier one is refused (BASE_EINVAL),
 * as are malformed arrays or a time out of range (BASE_EPROTO); a tick or bye without a
 * session is refused with BASE_ESTATE. Entries naming ids the map lacks are ignored (their
 * requests are answered "rejected"). BASE_ENOMEM when out of memory (no reply). */
int ctl_handle(ctl_t *ctl, const void *peer, size_t peer_len, const proto_msg_t *msg,
               proto_msg_t *reply, base_err_t *err);

/* Number of live sessions. */
int ctl_sessions(const ctl_t *ctl);

/* Returns the session counters. */
ctl_stats_t ctl_stats(const ctl_t *ctl);

/* Planning work units of tick t for a session whose map has n_signals signals: an upper
 * bound on the strategies' loop iterations (entries read, plus signals x requests, plus the
 * square of each SRM's request count). Deterministic: it depends on the message only. */
int64_t ctl_tick_work(const proto_tick_t *t, int32_t n_signals);

/* Names of the strategies, NULL-terminated. */
extern const char *const CTL_STRATEGIES[];

#endif
