/*
 * viz/live.h - the live link to a running simulator: a SUB socket on its --publish endpoint and,
 * optionally, a DEALER on its --listen endpoint for control requests.
 *
 * The viewer must never slow the simulator: the SUB socket keeps at most VIZ_LIVE_RCVHWM whole
 * messages queued (the PUB side drops beyond its own high-water mark rather than block), and
 * each drain reads everything waiting, passes every frame to the context's history and shows
 * only the newest. ZMQ_CONFLATE would do the dropping for us but does not work with multipart
 * messages. A malformed message is counted and dropped; the link stays up.
 *
 * The ZeroMQ context belongs to the caller (main); the sockets to the viz_live_t. Not
 * thread-safe.
 */
#ifndef VIZ_LIVE_H
#define VIZ_LIVE_H

#include "auth/auth.h"
#include "base/err.h"
#include "viz/viz.h"

#define VIZ_LIVE_RCVHWM 8

typedef struct viz_live {
    void *sub;
    void *dealer; /* NULL without a control endpoint */
    int64_t messages, malformed;
    int64_t requests, acks;
} viz_live_t;

/* Connects a SUB socket to endpoint and, if control is not NULL, a DEALER to control. Returns
 * NULL with BASE_EIO ("tcp://x: invalid endpoint") or BASE_ENOMEM. Caller owns the result. */
viz_live_t *viz_live_new(void *zctx, const char *endpoint, const char *control, base_err_t *err);

/* The same as a CURVE client: kp is the viewer's key pair, server_z85 the simulator's public
 * key (both borrowed, used before this returns). A simulator that does not list kp's public
 * key, or whose key is not server_z85, never delivers a frame. */
viz_live_t *viz_live_new_curve(void *zctx, const char *endpoint, const char *control,
                               const auth_keypair_t *kp, const char *server_z85, base_err_t *err);

/* Closes the sockets; NULL-safe; sets *live_p to NULL. */
void viz_live_destroy(viz_live_t **live_p);

/* Waits up to timeout_ms for something to read. Returns 1 if there is, 0 on timeout, or
 * BASE_EIO (interrupted or the context is gone). */
int viz_live_wait(viz_live_t *live, int timeout_ms);

/* Reads up to max_msgs waiting messages without blocking: maps go to viz_on_map, frames to
 * viz_on_frame (the newest one shown), events to viz_on_event, control acks to viz->status.
 * Returns the number of frames read, or BASE_EIO if the socket failed. */
int viz_live_drain(viz_live_t *live, viz_t *viz, int max_msgs);

/* Sends a control request {"type":"viz-control","version":1,"cmd":cmd[,"factor":factor]} to
 * the simulator without blocking. cmd is "pause", "resume", "step" or "speed" (factor used
 * only for "speed"). Returns 0, BASE_ESTATE without a control endpoint, or BASE_EIO if it
 * could not be queued (no simulator there). */
int viz_live_control(viz_live_t *live, const char *cmd, double factor, base_err_t *err);

#endif
