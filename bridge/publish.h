/*
 * bridge/publish.h - the simulator's window on the world: publishes the map, frames and
 * events on a ZeroMQ PUB socket (proto/frame.h), writes the same messages to a recording,
 * and answers the visualiser's control requests (pause, resume, step, speed) on a ROUTER.
 *
 * Publishing never blocks the simulation: a subscriber that cannot keep up loses frames at
 * its high-water mark (ZMQ_SNDHWM on the PUB side, small), it does not slow the run. The
 * publisher borrows the sim_t and the ZeroMQ context. Not thread-safe.
 */
#ifndef BRIDGE_PUBLISH_H
#define BRIDGE_PUBLISH_H

#include "auth/auth.h"
#include "base/err.h"
#include "sim/sim.h"

#include <stdio.h>

typedef struct bridge_pub bridge_pub_t;

typedef struct bridge_pub_config {
    const char *publish; /* PUB endpoint, or NULL */
    const char *record;  /* recording file, or NULL */
    const char *listen;  /* control endpoint (ROUTER), or NULL */
    /* CURVE for both endpoints: the simulator's key pair (borrowed) and the allowlist of
     * viewers' public keys; NULL: plain sockets. Refusals go to log (may be NULL). */
    const auth_keypair_t *curve_keys;
    const char *curve_allow;
    FILE *log; /* where the endpoints are bound (with their port), refusals; or NULL */
} bridge_pub_config_t;

/* Binds and opens what cfg names, and publishes/records the map. zmq_ctx may be NULL when
 * only recording. Returns the publisher, or NULL with the message in err. */
bridge_pub_t *bridge_pub_new(void *zmq_ctx, sim_t *sim, const char *map_json,
                             const bridge_pub_config_t *cfg, base_err_t *err);

/* Flushes and closes the recording and the sockets; NULL-safe, sets *self_p to NULL. */
void bridge_pub_destroy(bridge_pub_t **self_p);

/* Publishes (and records) one frame of the sim's current state with the pace given. Also
 * re-publishes the map every few seconds of wall time for late subscribers. Returns 0, or
 * BASE_EIO when the recording cannot be written (the message in err). */
int bridge_pub_frame(bridge_pub_t *pub, double speed, int paused, base_err_t *err);

/* Queues a decision line for the next frame, and publishes it as an event. */
void bridge_pub_decision(bridge_pub_t *pub, const char *line);

/* Control requests answered on the listen endpoint. */
int64_t bridge_pub_requests(const bridge_pub_t *pub);

/* CURVE counters of the publish/listen endpoints; *on is set to 1 when CURVE is on. */
auth_stats_t bridge_pub_auth_stats(const bridge_pub_t *pub, int *on);

/* Handles pending CURVE handshakes, then pending control requests without waiting (or up to wait_ms
 * when > 0). Updates *paused and *speed; sets *step when a single step was asked for. Returns the
 * number of requests handled. */
int bridge_pub_control(bridge_pub_t *pub, int wait_ms, int *paused, double *speed, int *step);

#endif
