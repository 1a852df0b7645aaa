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
} ctl_config_t;

/* Sets *cfg to the defaults: strategy "none", shortway, 20 s, 3 s, TSP off, no log, passage
 * 3 s. */
void ctl_config_defaults(ctl_config_t *cfg);

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
