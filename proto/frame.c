/*
 * proto/frame.c - published frames and recordings.
 *
 * The frame body is written and read byte by byte in little-endian order (never by casting
 * structs), so recordings move between machines. Every length read from a message or a file
 * is checked against what remains before it is used.
 */
#include "proto/frame.h"

#include "proto/check.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VEHICLE_BYTES 16
static const char REC_MAGIC[5] = {'G', 'W', 'R', 'E', 'C'};

void proto_parts_fini(proto_parts_t *p) {
    for (int i = 0; i < p->n && i < PROTO_MAX_PARTS; i++)
        free(p->data[i]);
    memset(p, 0, sizeof *p);
}

static int add_part(proto_parts_t *p, const void *data, size_t len) {
    if (p->n >= PROTO_MAX_PARTS)
        return BASE_EINVAL;
    unsigned char *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return BASE_ENOMEM;
    if (len)
        memcpy(copy, data, len);
    p->data[p->n] = copy;
    p->len[p->n] = len;
    p->n++;
    return BASE_OK;
}

/* Takes ownership of a malloc'd buffer as the next part. */
static int own_part(proto_parts_t *p, unsigned char *data, size_t len) {
    if (p->n >= PROTO_MAX_PARTS) {
        free(data);
        return BASE_EINVAL;
    }
    p->data[p->n] = data;
    p->len[p->n] = len;
    p->n++;
    return BASE_OK;
}

static int add_json(proto_parts_t *p, json_t *o) {
    if (o == NULL)
        return BASE_ENOMEM;
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(o);
    if (text == NULL)
        return BASE_ENOMEM;
    return own_part(p, (unsigned char *)text, strlen(text));
}

static void put_u32(unsigned char *b, uint32_t v) {
    b[0] = (unsigned char)v;
    b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16);
    b[3] = (unsigned char)(v >> 24);
}

static uint32_t get_u32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static const char *const PRIO_NAMES[] = {"none", "requested", "granted", "serving", "recovering"};

int proto_frame_encode(const proto_frame_t *f, proto_parts_t *out, base_err_t *err) {
    memset(out, 0, sizeof *out);
    if (f->n_vehicles < 0 || f->n_group_states < 0 || f->n_signals < 0 || f->n_decisions < 0)
        return base_err_set(err, BASE_EINVAL, "frame: negative count");
    json_t *h = json_object();
    json_object_set_new(h, "type", json_string("frame"));
    json_object_set_new(h, "version", json_integer(PROTO_FRAME_VERSION));
    json_object_set_new(h, "seq", json_integer(f->seq));
    json_object_set_new(h, "time_ms", json_integer(f->time_ms));
    json_object_set_new(h, "speed", json_real(f->speed));
    json_object_set_new(h, "paused", json_boolean(f->paused));
    if (f->has_escort) {
        json_t *e = json_object();
        json_object_set_new(e, "id", json_string(f->escort_id));
        json_object_set_new(e, "state", json_integer(f->escort_state));
        json_object_set_new(e, "depart_ms", json_integer(f->escort_depart_ms));
        json_object_set_new(e, "arrive_ms", json_integer(f->escort_arrive_ms));
        json_object_set_new(e, "eta_ms", json_integer(f->escort_eta_ms));
        json_object_set_new(e, "free_flow_s", json_real(f->escort_free_flow_s));
        json_object_set_new(h, "escort", e);
    } else {
        json_object_set_new(h, "escort", json_null());
    }
    json_t *prio = json_array();
    for (int32_t i = 0; i < f->n_signals; i++) {
        uint8_t v = f->prio[i] <= PROTO_PRIO_RECOVERING ? f->prio[i] : 0;
        json_array_append_new(prio, json_string(PRIO_NAMES[v]));
    }
    json_object_set_new(h, "prio", prio);
    json_t *dec = json_array();
    for (int32_t i = 0; i < f->n_decisions; i++)
        json_array_append_new(dec, json_string(f->decisions[i] ? f->decisions[i] : ""));
    json_object_set_new(h, "decisions", dec);
    json_object_set_new(h, "n_group_states", json_integer(f->n_group_states));
    json_object_set_new(h, "n_vehicles", json_integer(f->n_vehicles));
    int rc = add_part(out, "frame", 5);
    if (rc == 0)
        rc = add_json(out, h);
    else
        json_decref(h);
    if (rc < 0) {
        proto_parts_fini(out);
        return base_err_set(err, rc, "frame: out of memory");
    }
    size_t body_len = (size_t)f->n_group_states + (size_t)f->n_vehicles * VEHICLE_BYTES;
    unsigned char *body = malloc(body_len ? body_len : 1);
    if (body == NULL) {
        proto_parts_fini(out);
        return base_err_set(err, BASE_ENOMEM, "frame: out of memory");
    }
    memcpy(body, f->group_states, (size_t)f->n_group_states);
    unsigned char *b = body + f->n_group_states;
    for (int32_t i = 0; i < f->n_vehicles; i++, b += VEHICLE_BYTES) {
        const proto_vehicle_t *v = &f->vehicles[i];
        uint32_t pos;
        memcpy(&pos, &v->pos_m, sizeof pos);
        put_u32(b, v->id);
        put_u32(b + 4, (uint32_t)v->link);
        put_u32(b + 8, pos);
        b[12] = v->lane;
        b[13] = v->vclass;
        b[14] = v->flags;
        b[15] = 0;
    }
    if (own_part(out, body, body_len) < 0) {
        proto_parts_fini(out);
        return base_err_set(err, BASE_EINVAL, "frame: too many parts");
    }
    return BASE_OK;
}

int proto_map_encode(const char *map_json, proto_parts_t *out, base_err_t *err) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *map = json_loads(map_json, 0, &je);
    if (!json_is_object(map)) {
        json_decref(map);
        return base_err_set(err, BASE_EINVAL, "map: not a JSON object");
    }
    json_object_set_new(map, "frame_version", json_integer(PROTO_FRAME_VERSION));
    if (add_part(out, "map", 3) < 0 || add_json(out, map) < 0) {
        proto_parts_fini(out);
        return base_err_set(err, BASE_ENOMEM, "map: out of memory");
    }
    return BASE_OK;
}

int proto_event_encode(int64_t time_ms, const char *text, proto_parts_t *out, base_err_t *err) {
    memset(out, 0, sizeof *out);
    json_t *o = json_object();
    json_object_set_new(o, "time_ms", json_integer(time_ms));
    json_object_set_new(o, "text", json_string(text ? text : ""));
    if (add_part(out, "event", 5) < 0 || add_json(out, o) < 0) {
        proto_parts_fini(out);
        return base_err_set(err, BASE_ENOMEM, "event: out of memory");
    }
    return BASE_OK;
}

static int topic_is(const proto_parts_t *p, const char *t) {
    size_t n = strlen(t);
    return p->n >= 1 && p->len[0] == n && memcmp(p->data[0], t, n) == 0;
}

const char *proto_parts_topic(const proto_parts_t *p) {
    if (topic_is(p, "frame"))
        return "frame";
    if (topic_is(p, "map"))
        return "map";
    if (topic_is(p, "event"))
        return "event";
    return NULL;
}

static json_t *parse_part(const proto_parts_t *p, int i, base_err_t *err, const char *what) {
    json_error_t je;
    json_t *o = json_loadb((const char *)p->data[i], p->len[i], JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        base_err_set(err, BASE_EPROTO, "%s: header is not a JSON object (%s)", what,
                     o == NULL ? je.text : "wrong type");
        return NULL;
    }
    return o;
}

static int get_int(json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out) {
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return -1;
    *out = json_integer_value(v);
    return 0;
}

void proto_frame_fini(proto_frame_t *f) {
    if (f->decisions != NULL) {
        for (int32_t i = 0; i < f->n_decisions; i++)
            free(f->decisions[i]);
    }
    free(f->decisions);
    free(f->prio);
    free(f->group_states);
    free(f->vehicles);
    memset(f, 0, sizeof *f);
}

int proto_frame_decode(const proto_parts_t *p, proto_frame_t *f, base_err_t *err) {
    memset(f, 0, sizeof *f);
    if (!topic_is(p, "frame") || p->n != 3)
        return base_err_set(err, BASE_EPROTO, "frame: expected 3 parts [\"frame\", header, body]");
    json_t *h = parse_part(p, 1, err, "frame");
    if (h == NULL)
        return BASE_EPROTO;
    int64_t version, ng, nv, v;
    const char *bad = NULL;
    if (get_int(h, "version", 0, INT32_MAX, &version) < 0)
        bad = "version";
    else if (version != PROTO_FRAME_VERSION) {
        json_decref(h);
        return base_err_set(err, BASE_EPROTO, "frame version %lld, this build reads version %d",
                            (long long)version, PROTO_FRAME_VERSION);
    } else if (get_int(h, "seq", 0, PROTO_COUNT_MAX, &f->seq) < 0)
        bad = "seq";
    else if (get_int(h, "time_ms", 0, PROTO_TIME_MS_MAX, &f->time_ms) < 0)
        bad = "time_ms";
    else if (get_int(h, "n_group_states", 0, PROTO_PART_MAX, &ng) < 0)
        bad = "n_group_states";
    else if (get_int(h, "n_vehicles", 0, PROTO_PART_MAX / VEHICLE_BYTES, &nv) < 0)
        bad = "n_vehicles";
    if (bad != NULL) {
        json_decref(h);
        return base_err_set(err, BASE_EPROTO, "frame: field \"%s\" missing or out of range", bad);
    }
    /* The pace and the escort's free-flow time: optional, but physical when present. */
    json_t *sp = json_object_get(h, "speed");
    f->speed = json_is_number(sp) ? json_number_value(sp) : 0;
    json_t *e = json_object_get(h, "escort");
    json_t *ff = json_is_object(e) ? json_object_get(e, "free_flow_s") : NULL;
    double free_flow = json_is_number(ff) ? json_number_value(ff) : 0;
    const char *bad_name = NULL;
    double bad_v = 0, bad_hi = 0;
    if (!(f->speed >= 0 && f->speed <= PROTO_PACE_MAX)) {
        bad_name = "speed";
        bad_v = f->speed;
        bad_hi = PROTO_PACE_MAX;
    } else if (!(free_flow >= 0 && free_flow <= PROTO_TIME_MS_MAX / 1000.0)) {
        bad_name = "escort.free_flow_s";
        bad_v = free_flow;
        bad_hi = PROTO_TIME_MS_MAX / 1000.0;
    }
    if (bad_name != NULL) {
        json_decref(h);
        return base_err_set(err, BASE_EPROTO, "frame: %s: must be in [0, %g], got %g", bad_name,
                            bad_hi, bad_v);
    }
    f->paused = json_is_true(json_object_get(h, "paused"));
    if (json_is_object(e)) {
        f->has_escort = 1;
        json_t *id = json_object_get(e, "id");
        snprintf(f->escort_id, sizeof f->escort_id, "%s",
                 json_is_string(id) ? json_string_value(id) : "");
        f->escort_state = get_int(e, "state", 0, 2, &v) == 0 ? (int)v : 0;
        f->escort_depart_ms = get_int(e, "depart_ms", -1, PROTO_TIME_MS_MAX, &v) == 0 ? v : -1;
        f->escort_arrive_ms = get_int(e, "arrive_ms", -1, PROTO_TIME_MS_MAX, &v) == 0 ? v : -1;
        f->escort_eta_ms = get_int(e, "eta_ms", -1, PROTO_TIME_MS_MAX, &v) == 0 ? v : -1;
        f->escort_free_flow_s = free_flow;
    }
    json_t *prio = json_object_get(h, "prio");
    json_t *dec = json_object_get(h, "decisions");
    size_t np = json_is_array(prio) ? json_array_size(prio) : 0;
    size_t nd = json_is_array(dec) ? json_array_size(dec) : 0;
    f->prio = calloc(np + 1, 1);
    f->decisions = calloc(nd + 1, sizeof *f->decisions);
    if (f->prio == NULL || f->decisions == NULL) {
        json_decref(h);
        proto_frame_fini(f);
        return base_err_set(err, BASE_ENOMEM, "frame: out of memory");
    }
    f->n_signals = (int32_t)np;
    for (size_t i = 0; i < np; i++) {
        const char *s = json_string_value(json_array_get(prio, i));
        for (uint8_t k = 0; s != NULL && k <= PROTO_PRIO_RECOVERING; k++)
            if (strcmp(s, PRIO_NAMES[k]) == 0)
                f->prio[i] = k;
    }
    for (size_t i = 0; i < nd; i++) {
        const char *s = json_string_value(json_array_get(dec, i));
        f->decisions[i] = strdup(s ? s : "");
        if (f->decisions[i] == NULL) {
            json_decref(h);
            proto_frame_fini(f);
            return base_err_set(err, BASE_ENOMEM, "frame: out of memory");
        }
        f->n_decisions = (int32_t)i + 1;
    }
    json_decref(h);
    size_t want = (size_t)ng + (size_t)nv * VEHICLE_BYTES;
    if (p->len[2] != want) {
        proto_frame_fini(f);
        return base_err_set(err, BASE_EPROTO,
                            "frame: body of %zu bytes, expected %zu (%lld groups, %lld vehicles)",
                            p->len[2], want, (long long)ng, (long long)nv);
    }
    f->group_states = malloc((size_t)ng + 1);
    f->vehicles = malloc(((size_t)nv + 1) * sizeof *f->vehicles);
    if (f->group_states == NULL || f->vehicles == NULL) {
        proto_frame_fini(f);
        return base_err_set(err, BASE_ENOMEM, "frame: out of memory");
    }
    memcpy(f->group_states, p->data[2], (size_t)ng);
    f->n_group_states = (int32_t)ng;
    const unsigned char *b = p->data[2] + ng;
    for (int64_t i = 0; i < nv; i++, b += VEHICLE_BYTES) {
        proto_vehicle_t *veh = &f->vehicles[i];
        uint32_t pos = get_u32(b + 8);
        veh->id = get_u32(b);
        veh->link = (int32_t)get_u32(b + 4);
        memcpy(&veh->pos_m, &pos, sizeof pos);
        veh->lane = b[12];
        veh->vclass = b[13];
        veh->flags = b[14];
        veh->reserved = 0;
        if (!(veh->pos_m >= 0 && veh->pos_m <= PROTO_POS_M_MAX)) { /* NaN too */
            int64_t bad_i = i;
            double bad_pos = veh->pos_m;
            proto_frame_fini(f);
            return base_err_set(err, BASE_EPROTO, "frame: vehicles[%lld].pos_m %g out of [0, %g]",
                                (long long)bad_i, bad_pos, PROTO_POS_M_MAX);
        }
    }
    f->n_vehicles = (int32_t)nv;
    return BASE_OK;
}

char *proto_map_decode(const proto_parts_t *p, base_err_t *err) {
    if (!topic_is(p, "map") || p->n != 2) {
        base_err_set(err, BASE_EPROTO, "map: expected 2 parts [\"map\", JSON]");
        return NULL;
    }
    json_t *o = parse_part(p, 1, err, "map");
    if (o == NULL)
        return NULL;
    int64_t version;
    if (get_int(o, "frame_version", 0, INT32_MAX, &version) < 0 || version != PROTO_FRAME_VERSION) {
        json_decref(o);
        base_err_set(err, BASE_EPROTO, "map: frame_version missing or not %d", PROTO_FRAME_VERSION);
        return NULL;
    }
    json_object_del(o, "frame_version");
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (text == NULL)
        base_err_set(err, BASE_ENOMEM, "map: out of memory");
    return text;
}

int proto_event_decode(const proto_parts_t *p, int64_t *time_ms, char **text, base_err_t *err) {
    if (!topic_is(p, "event") || p->n != 2)
        return base_err_set(err, BASE_EPROTO, "event: expected 2 parts [\"event\", JSON]");
    json_t *o = parse_part(p, 1, err, "event");
    if (o == NULL)
        return BASE_EPROTO;
    const char *t = json_string_value(json_object_get(o, "text"));
    if (get_int(o, "time_ms", 0, PROTO_TIME_MS_MAX, time_ms) < 0 || t == NULL) {
        json_decref(o);
        return base_err_set(err, BASE_EPROTO, "event: time_ms or text missing");
    }
    *text = strdup(t);
    json_decref(o);
    return *text ? BASE_OK : base_err_set(err, BASE_ENOMEM, "event: out of memory");
}

/* ---- recordings -------------------------------------------------------------------- */

int proto_rec_write_header(FILE *f, base_err_t *err) {
    unsigned char h[7];
    memcpy(h, REC_MAGIC, sizeof REC_MAGIC);
    h[5] = PROTO_REC_VERSION;
    h[6] = '\n';
    if (fwrite(h, 1, sizeof h, f) != sizeof h)
        return base_err_set(err, BASE_EIO, "recording: write error");
    return BASE_OK;
}

int proto_rec_write(FILE *f, const proto_parts_t *p, base_err_t *err) {
    unsigned char b[4];
    put_u32(b, (uint32_t)p->n);
    if (fwrite(b, 1, 4, f) != 4)
        return base_err_set(err, BASE_EIO, "recording: write error");
    for (int i = 0; i < p->n; i++) {
        put_u32(b, (uint32_t)p->len[i]);
        if (fwrite(b, 1, 4, f) != 4 || fwrite(p->data[i], 1, p->len[i], f) != p->len[i])
            return base_err_set(err, BASE_EIO, "recording: write error");
    }
    return BASE_OK;
}

int proto_rec_read_header(FILE *f, base_err_t *err) {
    unsigned char h[7];
    if (fread(h, 1, sizeof h, f) != sizeof h || memcmp(h, REC_MAGIC, sizeof REC_MAGIC) != 0 ||
        h[6] != '\n')
        return base_err_set(err, BASE_EPROTO, "not a greenwave recording (bad file header)");
    if (h[5] != PROTO_REC_VERSION)
        return base_err_set(err, BASE_EPROTO, "recording version %d, this build reads version %d",
                            (int)h[5], PROTO_REC_VERSION);
    return BASE_OK;
}

int proto_rec_read(FILE *f, proto_parts_t *p, base_err_t *err) {
    memset(p, 0, sizeof *p);
    long at = ftell(f);
    unsigned char b[4];
    size_t got = fread(b, 1, 4, f);
    if (got == 0 && feof(f))
        return 0;
    if (got != 4)
        return base_err_set(err, BASE_EPROTO, "recording truncated at byte %ld (record header)",
                            at);
    uint32_t n = get_u32(b);
    if (n == 0 || n > PROTO_MAX_PARTS)
        return base_err_set(err, BASE_EPROTO, "recording corrupt at byte %ld: %u parts", at, n);
    for (uint32_t i = 0; i < n; i++) {
        if (fread(b, 1, 4, f) != 4) {
            proto_parts_fini(p);
            return base_err_set(err, BASE_EPROTO, "recording truncated at byte %ld", at);
        }
        uint32_t len = get_u32(b);
        if (len > PROTO_PART_MAX) {
            proto_parts_fini(p);
            return base_err_set(err, BASE_EPROTO, "recording corrupt at byte %ld: part of %u bytes",
                                at, len);
        }
        unsigned char *data = malloc(len ? len : 1);
        if (data == NULL) {
            proto_parts_fini(p);
            return base_err_set(err, BASE_ENOMEM, "recording: out of memory");
        }
        if (fread(data, 1, len, f) != len) {
            free(data);
            proto_parts_fini(p);
            return base_err_set(err, BASE_EPROTO, "recording truncated at byte %ld", at);
        }
        p->data[p->n] = data;
        p->len[p->n] = len;
        p->n++;
    }
    return 1;
}
