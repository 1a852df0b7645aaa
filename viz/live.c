/*
 * viz/live.c - SUB/DEALER sockets and the drain loop.
 *
 * Receiving: one multipart message at a time into a proto_parts_t (at most PROTO_MAX_PARTS
 * parts; a longer message is read to its end and counted as malformed). Frames decode one by
 * one; the previous one goes to the history (viz_on_frame, not shown) as soon as a newer one
 * decodes, and the last is shown at the end of the drain. A map that changes the network drops
 * a frame still pending from the old one.
 */
#include "viz/live.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static int set_int(void *s, int opt, int v) {
    return zmq_setsockopt(s, opt, &v, sizeof v);
}

viz_live_t *viz_live_new(void *zctx, const char *endpoint, const char *control, base_err_t *err) {
    return viz_live_new_curve(zctx, endpoint, control, NULL, NULL, err);
}

viz_live_t *viz_live_new_curve(void *zctx, const char *endpoint, const char *control,
                               const auth_keypair_t *kp, const char *server_z85, base_err_t *err) {
    viz_live_t *l = calloc(1, sizeof *l);
    if (l == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        return NULL;
    }
    l->sub = zmq_socket(zctx, ZMQ_SUB);
    if (l->sub != NULL && kp != NULL && auth_client_socket(l->sub, kp, server_z85, err) < 0) {
        viz_live_destroy(&l);
        return NULL;
    }
    if (l->sub == NULL || set_int(l->sub, ZMQ_RCVHWM, VIZ_LIVE_RCVHWM) != 0 ||
        set_int(l->sub, ZMQ_LINGER, 0) != 0 || zmq_setsockopt(l->sub, ZMQ_SUBSCRIBE, "", 0) != 0 ||
        zmq_connect(l->sub, endpoint) != 0) {
        base_err_set(err, BASE_EIO, "%s: %s", endpoint, zmq_strerror(zmq_errno()));
        viz_live_destroy(&l);
        return NULL;
    }
    if (control != NULL) {
        l->dealer = zmq_socket(zctx, ZMQ_DEALER);
        if (l->dealer != NULL && kp != NULL &&
            auth_client_socket(l->dealer, kp, server_z85, err) < 0) {
            viz_live_destroy(&l);
            return NULL;
        }
        if (l->dealer == NULL || set_int(l->dealer, ZMQ_LINGER, 0) != 0 ||
            set_int(l->dealer, ZMQ_SNDHWM, 16) != 0 || zmq_connect(l->dealer, control) != 0) {
            base_err_set(err, BASE_EIO, "%s: %s", control, zmq_strerror(zmq_errno()));
            viz_live_destroy(&l);
            return NULL;
        }
    }
    return l;
}

void viz_live_destroy(viz_live_t **live_p) {
    if (live_p == NULL || *live_p == NULL)
        return;
    if ((*live_p)->sub != NULL)
        zmq_close((*live_p)->sub);
    if ((*live_p)->dealer != NULL)
        zmq_close((*live_p)->dealer);
    free(*live_p);
    *live_p = NULL;
}

int viz_live_wait(viz_live_t *l, int timeout_ms) {
    zmq_pollitem_t items[2] = {{l->sub, 0, ZMQ_POLLIN, 0}, {l->dealer, 0, ZMQ_POLLIN, 0}};
    int rc = zmq_poll(items, l->dealer ? 2 : 1, timeout_ms);
    if (rc < 0)
        return zmq_errno() == EINTR ? 0 : BASE_EIO;
    return rc > 0;
}

/* Receives one whole message without blocking. Returns 1, 0 if none is waiting, -1 for a
 * malformed one (already read to its end), BASE_EIO on a socket error. */
static int recv_parts(void *sock, proto_parts_t *p) {
    memset(p, 0, sizeof *p);
    int bad = 0, first = 1;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, first ? ZMQ_DONTWAIT : 0) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&m);
            proto_parts_fini(p);
            if (first && e == EAGAIN)
                return 0;
            return e == EINTR ? 0 : BASE_EIO;
        }
        first = 0;
        int more = zmq_msg_more(&m);
        if (p->n < PROTO_MAX_PARTS && !bad) {
            size_t n = zmq_msg_size(&m);
            p->data[p->n] = malloc(n ? n : 1);
            if (p->data[p->n] == NULL) {
                bad = 1;
            } else {
                memcpy(p->data[p->n], zmq_msg_data(&m), n);
                p->len[p->n++] = n;
            }
        } else {
            bad = 1;
        }
        zmq_msg_close(&m);
        if (!more)
            break;
    }
    if (bad) {
        proto_parts_fini(p);
        return -1;
    }
    return 1;
}

static void on_ack(viz_live_t *l, viz_t *viz, const proto_parts_t *p) {
    json_t *j = p->n == 1 ? json_loadb((const char *)p->data[0], p->len[0], 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(j, "type"));
    if (type == NULL || strcmp(type, "viz-ack") != 0) {
        l->malformed++;
        json_decref(j);
        return;
    }
    l->acks++;
    int ok = json_is_true(json_object_get(j, "ok"));
    int paused = json_is_true(json_object_get(j, "paused"));
    double speed = json_number_value(json_object_get(j, "speed"));
    const char *why = json_string_value(json_object_get(j, "error"));
    if (ok)
        snprintf(viz->status, sizeof viz->status, "simulator: %s, pace x%g",
                 paused ? "paused" : "running", speed);
    else
        snprintf(viz->status, sizeof viz->status, "simulator refused the request%s%s",
                 why ? ": " : "", why ? why : "");
    json_decref(j);
}

int viz_live_drain(viz_live_t *l, viz_t *viz, int max_msgs) {
    proto_frame_t pending;
    int has_pending = 0, frames = 0, rc = 0;
    base_err_t err = {0};
    memset(&pending, 0, sizeof pending);
    for (int i = 0; l->dealer != NULL && i < 16; i++) {
        proto_parts_t p;
        int r = recv_parts(l->dealer, &p);
        if (r == 0 || r == BASE_EIO)
            break;
        if (r > 0)
            on_ack(l, viz, &p);
        else
            l->malformed++;
        proto_parts_fini(&p);
    }
    for (int i = 0; i < max_msgs; i++) {
        proto_parts_t p;
        int r = recv_parts(l->sub, &p);
        if (r == 0)
            break;
        if (r == BASE_EIO) {
            rc = BASE_EIO;
            break;
        }
        l->messages++;
        const char *topic = r > 0 ? proto_parts_topic(&p) : NULL;
        if (topic == NULL) {
            l->malformed++;
            viz->frames_bad++;
        } else if (strcmp(topic, "map") == 0) {
            char *json = proto_map_decode(&p, &err);
            int changed = json != NULL ? viz_on_map(viz, json) : BASE_EPROTO;
            if (changed < 0) {
                l->malformed++;
            } else if (changed > 0 && has_pending) {
                proto_frame_fini(&pending); /* it belongs to the old network */
                has_pending = 0;
            }
            free(json);
        } else if (strcmp(topic, "frame") == 0) {
            proto_frame_t f;
            memset(&f, 0, sizeof f);
            if (proto_frame_decode(&p, &f, &err) < 0) {
                l->malformed++;
                viz->frames_bad++;
            } else if (viz->map == NULL) {
                proto_frame_fini(&f); /* joined before the map came round: wait for it */
            } else {
                frames++;
                if (has_pending) {
                    viz_on_frame(viz, &pending, 0);
                    proto_frame_fini(&pending);
                }
                pending = f;
                has_pending = 1;
            }
        } else if (strcmp(topic, "event") == 0) {
            int64_t t;
            char *text = NULL;
            if (proto_event_decode(&p, &t, &text, &err) == 0)
                viz_on_event(viz, t, text);
            else
                l->malformed++;
            free(text);
        }
        proto_parts_fini(&p);
    }
    if (has_pending) {
        viz_on_frame(viz, &pending, 1);
        proto_frame_fini(&pending); /* no-op when the context took it */
    }
    return rc < 0 ? rc : frames;
}

int viz_live_control(viz_live_t *l, const char *cmd, double factor, base_err_t *err) {
    if (l->dealer == NULL)
        return base_err_set(err, BASE_ESTATE, "no control endpoint (start with --control)");
    json_t *j = json_pack("{s:s,s:i,s:s}", "type", "viz-control", "version", 1, "cmd", cmd);
    if (j != NULL && strcmp(cmd, "speed") == 0)
        json_object_set_new(j, "factor", json_real(factor));
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    int rc = zmq_send(l->dealer, text, strlen(text), ZMQ_DONTWAIT);
    free(text);
    if (rc < 0)
        return base_err_set(err, BASE_EIO, "control request not sent: %s",
                            zmq_strerror(zmq_errno()));
    l->requests++;
    return 0;
}
