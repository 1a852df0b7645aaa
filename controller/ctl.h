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

typedef struct ctl_config {
    const char *strategy;          /* default strategy when a hello names none */
    proto_transition_t transition; /* return to coordination: dwell, shortway, longway */
    double detection_range_s;      /* local preemption: ETA at which a signal is preempted */
    double safety_margin_s;        /* corridor: extra green before the queue must be clear */
    int tsp;                       /* 1: transit signal priority for buses */
    FILE *log;                     /* decision log (one line per decision), or NULL */
    double passage_s;              /* actuated: passage time (unit extension), > 0 */
    int transition_auto; /* corridor: choose dwell/shortway/longway per signal by cost; the other
                            strategies then use shortway */
    double tsp_horizon_s; /* TSP: bus ETA within which it acts */
    double tsp_lockout_s; /* TSP: no action for another bus this soon after one */
    double tsp_max_cut_s; /* TSP: an early green cuts a green by at most this */
    double engage_s;      /* corridor: an escort engages a signal when its green is due this soon */
    double meter_s;       /* corridor: metering: at most this much cut from each cross-street green
                             in the cycles before the escort's green (0: cut at once, as v1) */
    double meter_horizon_s; /* corridor: metering starts this long before the escort's green */
    double spill_fill;    /* corridor: an approach this full (share of storage) is flushed no
                             later than the signal upstream */
    double dwell_weight;  /* corridor, auto transition: weight of a second of dwell (cross streets
                             red) against a second of transition */
} ctl_config_t;

/* Sets *cfg to the defaults: strategy "none", shortway (auto off), detection range 20 s, margin
 * 3 s, TSP off, no log, passage 3 s, TSP horizon 10 s, lockout 60 s, cut 10 s, engage 60 s,
 * metering 8 s within 150 s, spill fill 0.5, dwell weight 2. */
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
 * A tick at the same time as the last is accepted; an earlier one is refused (BASE_EINVAL),
 * as are malformed arrays or a time out of range (BASE_EPROTO); a tick or bye without a
 * session is refused with BASE_ESTATE. Entries naming ids the map lacks are ignored (their
 * requests are answered "rejected"). BASE_ENOMEM when out of memory (no reply). */
int ctl_handle(ctl_t *ctl, const void *peer, size_t peer_len, const proto_msg_t *msg,
               proto_msg_t *reply, base_err_t *err);

/* Number of live sessions. */
int ctl_sessions(const ctl_t *ctl);

/* Names of the strategies, NULL-terminated. */
extern const char *const CTL_STRATEGIES[];

#endif
