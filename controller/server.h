/*
 * controller/server.h - the controller's ZeroMQ side: a ROUTER socket that receives one
 * message per frame from any number of simulators (DEALER peers, keyed by their routing id),
 * decodes it, hands it to ctl_handle() and sends the reply back to the same peer.
 *
 * A malformed message, an unknown version or a message the controller refuses is logged with
 * its reason and counted; the peer's session and the server go on. The server borrows the
 * ZeroMQ context (created by main()) and the ctl_t. Not thread-safe.
 *
 * With CURVE keys the socket is a CURVE server: the server owns the context's ZAP handler
 * (auth/auth.h) with the allowlist, polls it with the socket, and serves only peers whose
 * key is listed; every message is checked again for the "User-Id" the handler gave. A
 * tcp:// endpoint beyond loopback needs allow_remote and keys.
 */
#ifndef CTL_SERVER_H
#define CTL_SERVER_H

#include "auth/auth.h"
#include "base/err.h"
#include "controller/ctl.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

typedef struct ctl_server ctl_server_t;

typedef struct ctl_server_stats {
    int64_t received;  /* messages received */
    int64_t replied;   /* replies sent */
    int64_t rejected;  /* malformed or refused messages */
    auth_stats_t auth; /* CURVE handshakes (zero without keys) */
} ctl_server_stats_t;

typedef struct ctl_server_opts {
    int allow_remote;                 /* 1: a tcp:// endpoint beyond loopback (needs keys) */
    int64_t max_message;              /* bytes, > 0 (default CTL_SERVER_MAX_MESSAGE) */
    const auth_keypair_t *curve_keys; /* the server's key pair, or NULL: no CURVE */
    const char *curve_allow;          /* allowlist file, required with curve_keys */
} ctl_server_opts_t;

/* Default bound on one message's size: a larger one closes the peer's connection (ZeroMQ's
 * ZMQ_MAXMSGSIZE) before any of it is read. */
#define CTL_SERVER_MAX_MESSAGE (INT64_C(16) << 20)

/* Binds a ROUTER socket at endpoint with the options (NULL: the defaults, no CURVE). A tcp://
 * endpoint must name a loopback address unless opts->allow_remote is set, and then CURVE
 * keys are required (BASE_EINVAL otherwise, as for a bad option). Returns the server, or
 * NULL with the message in err (BASE_EINVAL, BASE_EIO when it cannot bind, the key and
 * allowlist errors of auth/). */
ctl_server_t *ctl_server_new(void *zmq_ctx, const char *endpoint, const ctl_server_opts_t *opts,
                             ctl_t *ctl, FILE *log, base_err_t *err);

/* Closes the socket and frees the server; NULL-safe, sets *self_p to NULL. */
void ctl_server_destroy(ctl_server_t **self_p);

/* Serves messages until *stop becomes non-zero (checked at least every 100 ms) or, when
 * max_idle_ms > 0, nothing arrives for that long. Returns 0, or BASE_EIO on a socket error. */
int ctl_server_run(ctl_server_t *srv, volatile sig_atomic_t *stop, int max_idle_ms);

/* Handles at most one message, waiting up to timeout_ms; returns 1 if one was handled, 0 on
 * timeout, BASE_EIO on a socket error. For running the server inside another loop. */
int ctl_server_poll(ctl_server_t *srv, int timeout_ms);

/* Returns the counters. */
ctl_server_stats_t ctl_server_stats(const ctl_server_t *srv);

/* The endpoint actually bound (a tcp://HOST:* endpoint gets its port), valid while the
 * server lives. */
const char *ctl_server_endpoint(const ctl_server_t *srv);

#endif
