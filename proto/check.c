/*
 * proto/check.c - range checks over a proto_msg_t (see check.h). One pass over the message's
 * numbers in wire order; the first one out of range stops it with its path.
 */
#include "proto/check.h"

#include <inttypes.h>
#include <stdio.h>

typedef struct {
    base_err_t *err;
    int code;
    int rc;
} chk_t;

static void int_in(chk_t *c, const char *path, int64_t v, int64_t lo, int64_t hi) {
    if (c->rc == 0 && (v < lo || v > hi))
        c->rc =
            base_err_set(c->err, c->code, "%s: must be in [%" PRId64 ", %" PRId64 "], got %" PRId64,
                         path, lo, hi, v);
}

static void num_in(chk_t *c, const char *path, double v, double lo, double hi) {
    if (c->rc == 0 && !(v >= lo && v <= hi))
        c->rc = base_err_set(c->err, c->code, "%s: must be in [%g, %g], got %g", path, lo, hi, v);
}

/* The numbers of a tick, by path; the path is formatted only when one is refused. */
typedef enum { MIN_END, MAX_END, COUNT, POS, SPEED, ETA, DURATION } tick_field_t;

static void tick_path(char *p, size_t n, tick_field_t f, int i, int k) {
    switch (f) {
    case MIN_END:
        snprintf(p, n, "tick.spat[%d].states[%d].minEndTime_ms", i, k);
        break;
    case MAX_END:
        snprintf(p, n, "tick.spat[%d].states[%d].maxEndTime_ms", i, k);
        break;
    case COUNT:
        snprintf(p, n, "tick.detectors[%d].count", i);
        break;
    case POS:
        snprintf(p, n, "tick.srm[%d].requester.pos_m", i);
        break;
    case SPEED:
        snprintf(p, n, "tick.srm[%d].requester.speed_mps", i);
        break;
    case ETA:
        snprintf(p, n, "tick.srm[%d].requests[%d].eta_ms", i, k);
        break;
    case DURATION:
        snprintf(p, n, "tick.srm[%d].requests[%d].duration_ms", i, k);
        break;
    }
}

static void tick_int_in(chk_t *c, tick_field_t f, int i, int k, int64_t v, int64_t lo, int64_t hi) {
    if (c->rc != 0 || (v >= lo && v <= hi))
        return;
    char p[160];
    tick_path(p, sizeof p, f, i, k);
    int_in(c, p, v, lo, hi);
}

static void tick_num_in(chk_t *c, tick_field_t f, int i, double v, double lo, double hi) {
    if (c->rc != 0 || (v >= lo && v <= hi))
        return;
    char p[160];
    tick_path(p, sizeof p, f, i, 0);
    num_in(c, p, v, lo, hi);
}

static void check_tick(chk_t *c, const proto_tick_t *t) {
    int_in(c, "tick.time_ms", t->time_ms, 0, PROTO_TIME_MS_MAX);
    for (int32_t i = 0; i < t->n_spat && t->spat != NULL; i++) {
        const proto_intersection_state_t *s = &t->spat[i];
        for (int32_t g = 0; g < s->n_groups && s->groups != NULL; g++) {
            tick_int_in(c, MIN_END, (int)i, (int)g, s->groups[g].min_end_ms, 0, PROTO_TIME_MS_MAX);
            if (s->groups[g].max_end_ms != -1)
                tick_int_in(c, MAX_END, (int)i, (int)g, s->groups[g].max_end_ms, 0,
                            PROTO_TIME_MS_MAX);
        }
    }
    for (int32_t i = 0; i < t->n_detectors && t->detectors != NULL; i++)
        tick_int_in(c, COUNT, (int)i, 0, t->detectors[i].count, 0, PROTO_COUNT_MAX);
    for (int32_t i = 0; i < t->n_srms && t->srms != NULL; i++) {
        const proto_srm_t *s = &t->srms[i];
        tick_num_in(c, POS, (int)i, s->pos_m, 0, PROTO_POS_M_MAX);
        tick_num_in(c, SPEED, (int)i, s->speed_mps, 0, PROTO_SPEED_MPS_MAX);
        for (int32_t k = 0; k < s->n_requests && s->requests != NULL; k++) {
            tick_int_in(c, ETA, (int)i, (int)k, s->requests[k].eta_ms, 0, PROTO_TIME_MS_MAX);
            tick_int_in(c, DURATION, (int)i, (int)k, s->requests[k].duration_ms, 0,
                        PROTO_DURATION_MS_MAX);
        }
    }
}

int proto_msg_check(const proto_msg_t *msg, int code, base_err_t *err) {
    chk_t c = {err, code, 0};
    if (msg->seq < 0 || msg->seq > PROTO_COUNT_MAX) {
        char p[64];
        const char *type = proto_type_name(msg->type);
        snprintf(p, sizeof p, "%s.seq", type != NULL ? type : "message");
        int_in(&c, p, msg->seq, 0, PROTO_COUNT_MAX);
    }
    switch (msg->type) {
    case PROTO_HELLO:
        int_in(&c, "hello.session.tick_ms", msg->u.hello.session.tick_ms, 1, PROTO_DURATION_MS_MAX);
        break;
    case PROTO_TICK:
        check_tick(&c, &msg->u.tick);
        break;
    case PROTO_CONTROL:
        int_in(&c, "control.ack", msg->u.control.ack, 0, PROTO_COUNT_MAX);
        break;
    case PROTO_BYE:
        int_in(&c, "bye.time_ms", msg->u.bye.time_ms, 0, PROTO_TIME_MS_MAX);
        break;
    case PROTO_WELCOME:
        break;
    }
    return c.rc;
}
