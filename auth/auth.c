/*
 * auth/auth.c - the ZAP handler (ZeroMQ RFC 27) and the handshake monitors.
 *
 * A ZAP request is [version "1.0", request id, domain, address, routing id, mechanism,
 * credentials...]; for CURVE the one credential is the client's 32-byte public key. The
 * reply is [version, request id, status code, status text, user id, metadata]: "200" with
 * the key's Z85 as user id when it is listed, "400" otherwise. Anything else on the ZAP
 * socket (another mechanism, a malformed request) gets "400" or, when it cannot be parsed,
 * a "500". Monitor events arrive as [6 bytes: event (uint16), value (uint32); endpoint];
 * HANDSHAKE_FAILED_AUTH is the 400 the handler already counted, the other failures count as
 * refused handshakes.
 */
#include "auth/auth.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES   8

typedef struct watched {
    void *mon; /* PAIR connected to the socket's monitor */
    char name[32];
} watched_t;

struct auth {
    void *ctx, *zap;
    auth_allow_t allow;
    FILE *log;
    watched_t w[AUTH_MAX_SOCKETS];
    int n_w;
    auth_stats_t st;
};

int auth_endpoint_is_local(const char *endpoint) {
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return 1;
    const char *host = endpoint + 6;
    return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost:", 10) == 0 ||
           strncmp(host, "[::1]:", 6) == 0;
}

auth_t *auth_new(void *zmq_ctx, const char *allow_path, FILE *log, base_err_t *err) {
    if (!auth_keys_curve_available()) {
        base_err_set(err, BASE_ESTATE,
                     "this libzmq has no CURVE security (zmq_has(\"curve\") is false)");
        return NULL;
    }
    auth_t *a = calloc(1, sizeof *a);
    if (a == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        return NULL;
    }
    a->ctx = zmq_ctx;
    a->log = log;
    if (auth_allow_load(&a->allow, allow_path, err) < 0) {
        free(a);
        return NULL;
    }
    int linger = 0;
    a->zap = zmq_socket(zmq_ctx, ZMQ_REP);
    if (a->zap == NULL || zmq_setsockopt(a->zap, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(a->zap, ZAP_ENDPOINT) != 0) {
        base_err_set(err, BASE_EIO, "%s: cannot bind the ZAP handler: %s", ZAP_ENDPOINT,
                     zmq_strerror(zmq_errno()));
        auth_destroy(&a);
        return NULL;
    }
    return a;
}

void auth_destroy(auth_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    auth_t *a = *self_p;
    for (int i = 0; i < a->n_w; i++)
        zmq_close(a->w[i].mon);
    if (a->zap != NULL)
        zmq_close(a->zap);
    auth_allow_fini(&a->allow);
    free(a);
    *self_p = NULL;
}

int auth_server_socket(auth_t *a, void *sock, const auth_keypair_t *kp, const char *name,
                       base_err_t *err) {
    if (a->n_w == AUTH_MAX_SOCKETS)
        return base_err_set(err, BASE_EINVAL, "auth: more than %d server sockets",
                            AUTH_MAX_SOCKETS);
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_z85, AUTH_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "greenwave", 9) != 0)
        return base_err_set(err, BASE_EIO, "%s: cannot set CURVE server options: %s", name,
                            zmq_strerror(zmq_errno()));
    watched_t *w = &a->w[a->n_w];
    w->mon = auth_monitor_open(a->ctx, sock, name, err);
    if (w->mon == NULL)
        return base_err_prefix(err, "%s: ", name);
    snprintf(w->name, sizeof w->name, "%s", name);
    a->n_w++;
    return BASE_OK;
}

/* Copies frame i (if present) as a string into buf. */
static const char *frame_str(zmq_msg_t *f, int nf, int i, char *buf, size_t cap) {
    size_t n = i < nf ? zmq_msg_size(&f[i]) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(buf, zmq_msg_data(&f[i]), n);
    buf[n] = '\0';
    for (size_t j = 0; j < n; j++)
        if ((unsigned char)buf[j] < 0x20 || (unsigned char)buf[j] >= 0x7f)
            buf[j] = '?';
    return buf;
}

void *auth_monitor_open(void *zmq_ctx, void *sock, const char *tag, base_err_t *err) {
    char ep[192];
    snprintf(ep, sizeof ep, "inproc://gw-monitor-%.100s-%p", tag, sock);
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    int linger = 0;
    void *mon = NULL;
    if (zmq_socket_monitor(sock, ep, events) != 0 ||
        (mon = zmq_socket(zmq_ctx, ZMQ_PAIR)) == NULL ||
        zmq_setsockopt(mon, ZMQ_LINGER, &linger, sizeof linger) != 0 || zmq_connect(mon, ep) != 0) {
        base_err_set(err, BASE_EIO, "cannot monitor handshakes: %s", zmq_strerror(zmq_errno()));
        if (mon != NULL)
            zmq_close(mon);
        return NULL;
    }
    return mon;
}

int auth_monitor_read(void *mon, uint16_t *event, uint32_t *value, char *ep, size_t cap) {
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
        return 0;
    }
    if (zmq_msg_more(&ev))
        zmq_msg_recv(&addr, mon, ZMQ_DONTWAIT);
    *event = 0;
    *value = 0;
    if (zmq_msg_size(&ev) >= 6) {
        memcpy(event, zmq_msg_data(&ev), 2);
        memcpy(value, (const char *)zmq_msg_data(&ev) + 2, 4);
    }
    if (ep != NULL)
        frame_str(&addr, 1, 0, ep, cap);
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    return 1;
}

int auth_client_socket(void *sock, const auth_keypair_t *kp, const char *server_z85,
                       base_err_t *err) {
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_z85, AUTH_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp->public_z85, AUTH_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->secret_z85, AUTH_Z85_LEN) != 0)
        return base_err_set(err, BASE_EIO, "cannot set CURVE client options: %s",
                            zmq_strerror(zmq_errno()));
    return BASE_OK;
}

int auth_pollitems(const auth_t *a, zmq_pollitem_t *items, int cap) {
    int n = 0;
    if (n < cap)
        items[n++] = (zmq_pollitem_t){a->zap, 0, ZMQ_POLLIN, 0};
    for (int i = 0; i < a->n_w && n < cap; i++)
        items[n++] = (zmq_pollitem_t){a->w[i].mon, 0, ZMQ_POLLIN, 0};
    return n;
}

static void logf_(auth_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(auth_t *a, const char *fmt, ...) {
    if (a->log == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("auth: ", a->log);
    vfprintf(a->log, fmt, ap);
    fputc('\n', a->log);
    fflush(a->log);
    va_end(ap);
}

static void zap_reply(auth_t *a, zmq_msg_t *id, const char *code, const char *text,
                      const char *user) {
    zmq_send(a->zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(a->zap, id ? zmq_msg_data(id) : "", id ? zmq_msg_size(id) : 0, ZMQ_SNDMORE);
    zmq_send(a->zap, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(a->zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(a->zap, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(a->zap, "", 0, 0);
}

static void handle_zap(auth_t *a) {
    zmq_msg_t f[ZAP_FRAMES];
    int nf = 0, more = 1;
    while (more) {
        zmq_msg_t tmp;
        zmq_msg_init(&tmp);
        if (zmq_msg_recv(&tmp, a->zap, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&tmp);
            break;
        }
        more = zmq_msg_more(&tmp);
        if (nf < ZAP_FRAMES)
            f[nf++] = tmp;
        else
            zmq_msg_close(&tmp);
    }
    if (nf == 0)
        return; /* nothing received: a REP socket must not answer */
    char addr[64], mech[16], ver[8];
    frame_str(f, nf, 0, ver, sizeof ver);
    frame_str(f, nf, 3, addr, sizeof addr);
    frame_str(f, nf, 5, mech, sizeof mech);
    if (nf < 6 || strcmp(ver, "1.0") != 0) {
        zap_reply(a, nf > 1 ? &f[1] : NULL, "500", "malformed ZAP request", "");
    } else if (strcmp(mech, "CURVE") != 0 || nf < 7 || zmq_msg_size(&f[6]) != 32) {
        a->st.refused_handshakes++;
        logf_(a, "refused a %s peer from %s: only CURVE is accepted", mech, addr);
        zap_reply(a, &f[1], "400", "CURVE only", "");
    } else {
        const uint8_t *key = zmq_msg_data(&f[6]);
        char z85[AUTH_Z85_LEN + 1];
        zmq_z85_encode(z85, key, 32);
        int i = auth_allow_find(&a->allow, key);
        if (i < 0) {
            a->st.refused_keys++;
            logf_(a, "refused key %s from %s: not in the allowlist", z85, addr);
            zap_reply(a, &f[1], "400", "key not allowed", "");
        } else {
            a->st.allowed++;
            zap_reply(a, &f[1], "200", "OK", z85);
        }
    }
    for (int i = 0; i < nf; i++)
        zmq_msg_close(&f[i]);
}

static void handle_event(auth_t *a, watched_t *w) {
    uint16_t event;
    uint32_t value;
    char ep[128];
    if (!auth_monitor_read(w->mon, &event, &value, ep, sizeof ep))
        return;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
        event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
        a->st.refused_handshakes++;
        const char *why = value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                              ? "a peer without CURVE (security mechanism mismatch)"
                          : value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
                              ? "a CURVE handshake that does not decrypt (wrong server key?)"
                              : "a failed handshake";
        logf_(a, "%s at %s: refused %s (error 0x%08x)", w->name, ep, why, (unsigned)value);
    }
}

int auth_poll(auth_t *a, int timeout_ms) {
    zmq_pollitem_t items[1 + AUTH_MAX_SOCKETS];
    int n = auth_pollitems(a, items, 1 + AUTH_MAX_SOCKETS), handled = 0;
    for (;;) {
        int rc = zmq_poll(items, n, handled == 0 ? timeout_ms : 0);
        if (rc <= 0)
            return handled;
        if (items[0].revents & ZMQ_POLLIN) {
            handle_zap(a);
            handled++;
        }
        for (int i = 1; i < n; i++)
            if (items[i].revents & ZMQ_POLLIN) {
                handle_event(a, &a->w[i - 1]);
                handled++;
            }
    }
}

auth_stats_t auth_stats(const auth_t *a) {
    return a->st;
}
