/*
 * controller/server.c - ROUTER loop.
 *
 * A message arrives as [routing id, payload] (a DEALER peer) or [routing id, empty, payload]
 * (a REQ peer); the reply goes back with the same envelope and in the same encoding (JSON or
 * MessagePack). Anything else is refused.
 */
#include "controller/server.h"

#include "proto/msg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define MAX_FRAMES 3

struct ctl_server {
    void *sock;
    auth_t *auth;       /* CURVE: the ZAP handler, or NULL */
    char endpoint[256]; /* as bound */
    ctl_t *ctl;
    FILE *log;
    ctl_server_stats_t st;
};

static void logf_(ctl_server_t *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(ctl_server_t *srv, const char *fmt, ...) {
    if (srv->log == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("server: ", srv->log);
    vfprintf(srv->log, fmt, ap);
    fputc('\n', srv->log);
    fflush(srv->log);
    va_end(ap);
}

ctl_server_t *ctl_server_new(void *zmq_ctx, const char *endpoint, const ctl_server_opts_t *opts,
                             ctl_t *ctl, FILE *log, base_err_t *err) {
    ctl_server_opts_t def = {.max_message = CTL_SERVER_MAX_MESSAGE};
    if (opts == NULL)
        opts = &def;
    int64_t max_message = opts->max_message;
    if (max_message <= 0) {
        base_err_set(err, BASE_EINVAL, "max_message %lld: must be > 0", (long long)max_message);
        return NULL;
    }
    if (!opts->allow_remote && !auth_endpoint_is_local(endpoint)) {
        base_err_set(err, BASE_EINVAL,
                     "%s: refusing to listen beyond this machine; use tcp://127.0.0.1:PORT, "
                     "or --allow-remote with --curve-keys and --curve-allow",
                     endpoint);
        return NULL;
    }
    if (opts->allow_remote && !auth_endpoint_is_local(endpoint) &&
        (opts->curve_keys == NULL || opts->curve_allow == NULL)) {
        base_err_set(err, BASE_EINVAL,
                     "%s: refusing to take priority requests from the network without "
                     "authentication: --allow-remote needs --curve-keys FILE and --curve-allow "
                     "FILE (make keys with greenwave-keygen)",
                     endpoint);
        return NULL;
    }
    if (opts->curve_keys != NULL && opts->curve_allow == NULL) {
        base_err_set(err, BASE_EINVAL, "CURVE keys without an allowlist (--curve-allow FILE)");
        return NULL;
    }
    ctl_server_t *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        return NULL;
    }
    srv->ctl = ctl;
    srv->log = log;
    if (opts->curve_keys != NULL) {
        srv->auth = auth_new(zmq_ctx, opts->curve_allow, log, err);
        if (srv->auth == NULL) {
            ctl_server_destroy(&srv);
            return NULL;
        }
    }
    srv->sock = zmq_socket(zmq_ctx, ZMQ_ROUTER);
    if (srv->sock != NULL && srv->auth != NULL &&
        auth_server_socket(srv->auth, srv->sock, opts->curve_keys, "controller", err) < 0) {
        ctl_server_destroy(&srv);
        return NULL;
    }
    int linger = 0, mandatory = 0;
    if (srv->sock == NULL || zmq_setsockopt(srv->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_setsockopt(srv->sock, ZMQ_ROUTER_MANDATORY, &mandatory, sizeof mandatory) != 0 ||
        zmq_setsockopt(srv->sock, ZMQ_MAXMSGSIZE, &max_message, sizeof max_message) != 0 ||
        zmq_bind(srv->sock, endpoint) != 0) {
        base_err_set(err, BASE_EIO, "%s: cannot listen: %s", endpoint, zmq_strerror(zmq_errno()));
        ctl_server_destroy(&srv);
        return NULL;
    }
    size_t len = sizeof srv->endpoint;
    if (zmq_getsockopt(srv->sock, ZMQ_LAST_ENDPOINT, srv->endpoint, &len) != 0)
        snprintf(srv->endpoint, sizeof srv->endpoint, "%s", endpoint);
    return srv;
}

void ctl_server_destroy(ctl_server_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    if ((*self_p)->sock != NULL)
        zmq_close((*self_p)->sock);
    auth_destroy(&(*self_p)->auth); /* after the server socket */
    free(*self_p);
    *self_p = NULL;
}

static void close_frames(zmq_msg_t *f, int n) {
    for (int i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

int ctl_server_poll(ctl_server_t *srv, int timeout_ms) {
    zmq_pollitem_t items[2 + AUTH_MAX_SOCKETS] = {{srv->sock, 0, ZMQ_POLLIN, 0}};
    int ni = 1;
    if (srv->auth != NULL)
        ni += auth_pollitems(srv->auth, items + 1, 1 + AUTH_MAX_SOCKETS);
    int n = zmq_poll(items, ni, timeout_ms);
    if (n < 0)
        return zmq_errno() == EINTR ? 0 : BASE_EIO;
    if (srv->auth != NULL)
        auth_poll(srv->auth, 0); /* handshakes first: they wait on us */
    if (!(items[0].revents & ZMQ_POLLIN))
        return 0;
    zmq_msg_t f[MAX_FRAMES];
    int nf = 0, more = 1, extra = 0;
    while (more) {
        zmq_msg_t tmp;
        zmq_msg_init(&tmp);
        if (zmq_msg_recv(&tmp, srv->sock, 0) < 0) {
            zmq_msg_close(&tmp);
            close_frames(f, nf);
            return zmq_errno() == EINTR ? 0 : BASE_EIO;
        }
        more = zmq_msg_more(&tmp);
        if (nf < MAX_FRAMES)
            f[nf++] = tmp;
        else {
            zmq_msg_close(&tmp);
            extra = 1;
        }
    }
    srv->st.received++;
    int req = nf == 3 && zmq_msg_size(&f[1]) == 0;
    if (extra || nf < 2 || (nf == 3 && !req)) {
        srv->st.rejected++;
        logf_(srv, "refused a message of %d frames (expected [id, payload])", nf + extra);
        close_frames(f, nf);
        return 1;
    }
    zmq_msg_t *payload = &f[nf - 1];
    if (srv->auth != NULL && zmq_msg_gets(payload, "User-Id") == NULL) {
        /* Cannot happen with ZAP bound: a second line of defence. */
        srv->st.rejected++;
        logf_(srv, "refused a message without an authenticated key");
        close_frames(f, nf);
        return 1;
    }
    proto_msg_t in, out;
    memset(&out, 0, sizeof out);
    base_err_t err = {0};
    if (proto_msg_decode(zmq_msg_data(payload), zmq_msg_size(payload), &in, &err) < 0) {
        srv->st.rejected++;
        logf_(srv, "refused a malformed message: %s", err.msg);
        close_frames(f, nf);
        return 1;
    }
    int rc = ctl_handle(srv->ctl, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), &in, &out, &err);
    if (rc < 0) {
        srv->st.rejected++;
        logf_(srv, "refused a %s: %s", proto_type_name(in.type), err.msg);
    } else if (rc == 1) {
        size_t len;
        /* The reply goes in the encoding of the message it answers: a hello is JSON, so is
         * its welcome; ticks come in the encoding the welcome chose. */
        proto_encoding_t enc = proto_msg_sniff(zmq_msg_data(payload), zmq_msg_size(payload));
        char *text = proto_msg_encode_as(&out, enc, &len, &err);
        if (text == NULL) {
            logf_(srv, "cannot encode the reply: %s", err.msg);
        } else {
            zmq_send(srv->sock, zmq_msg_data(&f[0]), zmq_msg_size(&f[0]), ZMQ_SNDMORE);
            if (req)
                zmq_send(srv->sock, "", 0, ZMQ_SNDMORE);
            if (zmq_send(srv->sock, text, len, 0) >= 0)
                srv->st.replied++;
            free(text);
        }
    }
    proto_msg_fini(&in);
    close_frames(f, nf);
    return 1;
}

int ctl_server_run(ctl_server_t *srv, volatile sig_atomic_t *stop, int max_idle_ms) {
    int idle = 0;
    while (stop == NULL || !*stop) {
        int rc = ctl_server_poll(srv, 100);
        if (rc < 0)
            return rc;
        idle = rc ? 0 : idle + 100;
        if (max_idle_ms > 0 && idle >= max_idle_ms)
            break;
    }
    return BASE_OK;
}

const char *ctl_server_endpoint(const ctl_server_t *srv) {
    return srv->endpoint;
}

ctl_server_stats_t ctl_server_stats(const ctl_server_t *srv) {
    ctl_server_stats_t st = srv->st;
    if (srv->auth != NULL)
        st.auth = auth_stats(srv->auth);
    return st;
}
