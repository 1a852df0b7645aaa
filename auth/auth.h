/*
 * auth/auth.h - CURVE security for greenwave's ZeroMQ endpoints: the server side's ZAP
 * handler with an allowlist of client keys, and the socket options of both sides.
 *
 * A server process makes one auth_t per ZeroMQ context (ZAP is per context: the handler is
 * a REP socket bound at inproc://zeromq.zap.01, which auth_new() binds before any server
 * socket exists, since libzmq accepts every CURVE client when no handler is bound). Each
 * server socket is then set up by auth_server_socket() before its bind: CURVE server with
 * the process's secret key, and a monitor that reports failed handshakes. The handler is a
 * polled socket, not a thread: the owner's loop adds auth_pollitems() to its zmq_poll and
 * calls auth_poll(), so a handshake waits until the loop comes round (ZeroMQ gives it
 * ZMQ_HANDSHAKE_IVL, 30 s by default).
 *
 * A client whose key is not in the allowlist is refused at the handshake (ZAP status 400):
 * nothing it sends ever reaches the socket. A peer without CURVE (or with a wrong server
 * key) fails the handshake itself. Each refusal is logged with the key or the endpoint and
 * counted. Accepted peers carry their key as the message property "User-Id" (Z85).
 * Not thread-safe: one auth_t per context, used from the thread that polls it.
 */
#ifndef AUTH_AUTH_H
#define AUTH_AUTH_H

#include "auth/keys.h"
#include "base/err.h"

#include <stdint.h>
#include <stdio.h>
#include <zmq.h>

typedef struct auth auth_t;

typedef struct auth_stats {
    int64_t allowed;            /* handshakes with a listed key */
    int64_t refused_keys;       /* handshakes with a key not listed */
    int64_t refused_handshakes; /* peers without CURVE, wrong server key, bad handshake */
} auth_stats_t;

/* Most server sockets one auth_t watches. */
#define AUTH_MAX_SOCKETS 4

/* Binds the ZAP handler in zmq_ctx and loads the allowlist at allow_path. log (borrowed,
 * may be NULL) gets one line per refusal. Returns the handler, or NULL with the message in
 * err (BASE_ESTATE without CURVE, BASE_EIO when ZAP is already bound in this context, the
 * allowlist's errors). Caller owns it; destroy it after the server sockets are closed. */
auth_t *auth_new(void *zmq_ctx, const char *allow_path, FILE *log, base_err_t *err);

/* Closes the handler's sockets and frees it; NULL-safe, sets *self_p to NULL. */
void auth_destroy(auth_t **self_p);

/* Makes sock (not yet bound) a CURVE server with kp's secret key, under ZAP, and watches its
 * handshakes; name ("controller", "publish", ...) labels its log lines. Returns 0, or
 * BASE_EIO naming the failing option. */
int auth_server_socket(auth_t *a, void *sock, const auth_keypair_t *kp, const char *name,
                       base_err_t *err);

/* Makes sock (not yet connected) a CURVE client with its own key pair kp, trusting the
 * server whose public key is server_z85. Returns 0, or BASE_EIO. */
int auth_client_socket(void *sock, const auth_keypair_t *kp, const char *server_z85,
                       base_err_t *err);

/* Fills items (room for cap, at least 1 + AUTH_MAX_SOCKETS) with the sockets to poll for
 * input; returns how many. */
int auth_pollitems(const auth_t *a, zmq_pollitem_t *items, int cap);

/* Answers pending ZAP requests and reads pending monitor events, waiting up to timeout_ms
 * for the first (0: none). Returns the number handled. */
int auth_poll(auth_t *a, int timeout_ms);

/* Returns the counters. */
auth_stats_t auth_stats(const auth_t *a);

/* Starts a monitor of sock's failed handshakes (HANDSHAKE_FAILED_NO_DETAIL, _PROTOCOL,
 * _AUTH) and returns the PAIR socket that receives them (caller closes it), or NULL with
 * BASE_EIO in err. tag makes the monitor's inproc endpoint unique in the context (a socket
 * address can be reused after a close). Used by the server sockets here and by a client
 * that wants to know it was refused. */
void *auth_monitor_open(void *zmq_ctx, void *sock, const char *tag, base_err_t *err);

/* Reads one pending event from a monitor PAIR without waiting: returns 1 with *event,
 * *value and the endpoint (printable, into ep of cap bytes, may be NULL), 0 when none. */
int auth_monitor_read(void *mon, uint16_t *event, uint32_t *value, char *ep, size_t cap);

/* 1 when the endpoint is tcp:// on a loopback address (127.x, localhost, [::1]), or not tcp:
 * the endpoints that may go without CURVE. */
int auth_endpoint_is_local(const char *endpoint);

#endif
