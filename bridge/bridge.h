/*
 * bridge/bridge.h - the simulator's side of the controller link: builds ticks (SPaT,
 * detectors, the on-board units' SRMs) from a sim_t, exchanges them in lockstep with a
 * controller over a ZeroMQ DEALER socket, and applies the commands it gets back through the
 * simulator's conflict monitor.
 *
 * The simulation is the clock: the caller runs the sim to the next tick and calls
 * bridge_tick(). A controller that does not answer within the timeout is declared lost: every
 * signal it held is released to its local plan, the run goes on, and the bridge keeps offering
 * a hello without waiting ("lazy pirate": the socket is closed and reopened) until the
 * controller answers and is taken back (under a new socket identity, so as a new session).
 * Malformed, stale or out-of-sequence replies are refused, logged and counted; the run goes on. The
 * bridge borrows the sim_t and the ZeroMQ context (process-wide, created by main()). Not
 * thread-safe.
 *
 * In-process (bridge_config_t.local): the controller is a library in this process and the
 * bridge hands it every message as a struct, as its server would after decoding, and takes
 * the reply struct back: the same hello, ticks (subscriptions, deltas, wakes) and control,
 * the same conflict monitor, the same loss and take-back when the controller refuses a
 * message, but no socket, no encoding and no waiting (as libsumo is to TraCI).
 */
#ifndef BRIDGE_BRIDGE_H
#define BRIDGE_BRIDGE_H

#include "auth/keys.h"
#include "base/err.h"
#include "proto/msg.h"
#include "sim/sim.h"

#include <stdint.h>
#include <stdio.h>

typedef struct bridge bridge_t;

typedef struct bridge_config {
    const char *endpoint;      /* controller endpoint: ipc://, tcp://host:port, inproc:// */
    const char *strategy;      /* strategy to request, or NULL for the controller's default */
    sim_time_t tick_ms;        /* control interval (default 1000) */
    int timeout_ms;            /* wall time to wait for a reply before declaring it lost */
    int connect_timeout_ms;    /* wall time to wait for the first welcome */
    sim_transition_t fallback; /* transition of signals released when the controller is lost */
    proto_encoding_t encoding; /* offered besides JSON in the hello (the controller chooses) */
    int event;                 /* offer event sync: wakes, subscriptions, deltas */
    FILE *log;                 /* events and decisions, one line each, or NULL */
    /* Called with every decision line the controller sends (e.g. to publish it), or NULL. */
    void (*on_decision)(void *ud, const char *line);
    void *ud;
    /* CURVE: this simulator's key pair and the controller's public key (Z85), both borrowed;
     * NULL: a plain connection (ipc://, loopback). */
    const auth_keypair_t *curve_keys;
    const char *curve_server_key;
    /* An in-process controller instead of a socket (endpoint then only names it in logs):
     * called with each message as a controller's server would be, with this simulator's
     * routing id as peer; fills *reply and returns 1, returns 0 when no reply is due, or a
     * negative code with the reason in err when it refuses the message. The reply is read
     * before the next call. NULL: ZeroMQ at endpoint. */
    int (*local)(void *local_ud, const void *peer, size_t peer_len, const proto_msg_t *msg,
                 proto_msg_t *reply, base_err_t *err);
    void *local_ud;
} bridge_config_t;

typedef struct bridge_stats {
    int64_t ticks; /* ticks answered in time */
    int64_t ticks_sent;
    double rtt_us_p50, rtt_us_p99;
    double lost_s;              /* simulated seconds without a controller */
    int64_t lost_events;        /* times the controller was declared lost */
    int64_t taken_back;         /* times it was taken back */
    int64_t rejected_messages;  /* malformed, wrong version, wrong type */
    int64_t stale_messages;     /* replies to older ticks, duplicates */
    int64_t commands;           /* commands received */
    int64_t commands_refused;   /* refused by the conflict monitor or naming unknown ids */
    int64_t handshakes_refused; /* connections the controller refused (CURVE: key, mismatch) */
    const char *strategy;       /* the strategy the controller said it runs ("" if none) */
    const char *encoding;       /* the encoding in use ("json", "msgpack", "in-process") */
    int event;                  /* event sync in use: the controller subscribed or sent wakes */
    int64_t bytes_sent;         /* message bytes sent and received over the socket */
    int64_t bytes_received;
} bridge_stats_t;

/* Sets *cfg to the defaults: tick 1000 ms, timeout 1000 ms, connect timeout 10000 ms,
 * fallback shortway. */
void bridge_config_defaults(bridge_config_t *cfg);

/* Returns a bridge for sim with the given map (a scenario document without demand, JSON
 * text; copied), or NULL with the message in err. Nothing is sent yet. zmq_ctx may be NULL
 * with an in-process controller (cfg->local); map_json may be NULL with it too, and then the
 * hello hands the controller the simulator's own scenario as the map (proto_hello_t.map_scn),
 * which the controller shares read-only: destroy the controller before the scenario. */
bridge_t *bridge_new(void *zmq_ctx, sim_t *sim, const char *map_json, uint64_t seed,
                     const bridge_config_t *cfg, base_err_t *err);

/* Sends bye (without waiting) and frees the bridge; NULL-safe, sets *self_p to NULL. */
void bridge_destroy(bridge_t **self_p);

/* Sends the hello and waits up to the connect timeout for the welcome, or less when the
 * controller refuses the connection's handshake (CURVE: logged and counted in
 * handshakes_refused). Returns 0 when the controller answered, or BASE_EIO (the controller is then
 * 'lost' and will be taken back if it answers later; the run may go on). */
int bridge_connect(bridge_t *b);

/* At a control interval boundary: exchanges one tick at the sim's current time and applies
 * the reply, or, when the controller's last wake holds no condition now (event sync), sends
 * nothing. Returns 0, also when the controller is lost (see bridge_stats); a negative code
 * only for out of memory. */
int bridge_tick(bridge_t *b);

/* The next boundary after now at which bridge_tick() must be called: the next control
 * interval, or, when the controller's wake names no event, the first boundary at or after its
 * wake time (SIM_TIME_MAX for none). */
sim_time_t bridge_next_tick(const bridge_t *b, sim_time_t now);

/* In-process: why the controller last refused a message (its error message, e.g. "hello:
 * the map has 5000 signals (limit 4096)"), or NULL; valid while the bridge lives. Over a
 * socket the controller's refusals are in its own log: NULL. */
const char *bridge_refusal(const bridge_t *b);

/* Returns the counters; the p50/p99 are computed on demand. */
bridge_stats_t bridge_stats(bridge_t *b);

/* Reads the scenario file at path and returns it without "demand" as compact JSON text
 * (caller frees), or NULL with the message in err. */
char *bridge_map_json(const char *path, base_err_t *err);

#endif
