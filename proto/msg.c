/*
 * proto/msg.c - the codec of proto/msg.h: JSON with jansson, MessagePack with msgpack-c.
 *
 * Both directions walk the message in the same order (the order of docs/protocol.md) through
 * a walk_t that keeps the path of the current place as steps ("tick", "spat", [2], "states",
 * [0]), written out only for a refusal, and a sticky error: the first refusal stores its code
 * and "path: reason" in the caller's buffer, and every later step returns at once. The
 * traversal code therefore reads straight through, and loops stop on the first error.
 *
 * Encoding writes each field once through emitters (e_*), checking it against the same rules
 * the decoder applies (ids, ranges, flags, enum names, per-action command fields): for JSON
 * into a jansson tree dumped with JSON_COMPACT | JSON_PRESERVE_ORDER (keys in insertion
 * order, reals with 17 significant digits, so the text is deterministic and decodes to the
 * same doubles), for MessagePack straight into msgpack-c's packer (no tree): maps in the same
 * key order, integers as integers, reals as float64. Containers are opened with their entry
 * counts and the emitters refuse a miscount, in both encodings.
 *
 * Decoding reads either document through one set of typed getters over node_t (a jansson
 * value or a msgpack-c object), which check presence, type and range; unknown keys are
 * ignored. JSON is parsed with json_loadb (JSON_REJECT_DUPLICATES; jansson refuses invalid
 * UTF-8, \u0000, trailing bytes, overflowing numbers and nesting deeper than 2048).
 * MessagePack bytes are first checked for structure (every declared length and element count
 * fits in what is left of the message, so a 5-byte message cannot make msgpack-c allocate
 * gigabytes), unpacked with msgpack-c in place, then validated for what JSON text cannot carry
 * (binary and extension values, non-string or duplicate keys, strings that are not UTF-8 or
 * hold a NUL, integers above INT64_MAX, non-finite floats); the getters then run as for JSON,
 * so both encodings pass the very same field checks and fill the same structures (1000.0 is
 * refused where an integer is due, in both).
 *
 * Ownership of a decoded message: its arrays, map_json and (MessagePack) strings live in
 * msg->arena; a JSON message's other strings point into the jansson document kept in
 * msg->doc (string values do not move while the document lives). Nothing read from the wire
 * is used as a length or an index.
 */
#include "proto/msg.h"

#include "proto/check.h"

#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------------------------ */

typedef struct {
    int value;
    const char *name;
} name_t; /* tables end with name == NULL */

static const name_t TYPE_NAMES[] = {
    {PROTO_HELLO, "hello"},     {PROTO_WELCOME, "welcome"}, {PROTO_TICK, "tick"},
    {PROTO_CONTROL, "control"}, {PROTO_BYE, "bye"},         {0, NULL},
};

static const name_t PHASE_NAMES[] = {
    {PROTO_PHASE_STOP_AND_REMAIN, "stop-And-Remain"},
    {PROTO_PHASE_PROTECTED_ALLOWED, "protected-Movement-Allowed"},
    {PROTO_PHASE_PROTECTED_CLEARANCE, "protected-clearance"},
    {PROTO_PHASE_DARK, "dark"},
    {0, NULL},
};

static const name_t ROLE_NAMES[] = {
    {PROTO_ROLE_BASIC, "basicVehicle"},  {PROTO_ROLE_TRANSIT, "transit"},
    {PROTO_ROLE_POLICE, "police"},       {PROTO_ROLE_FIRE, "fire"},
    {PROTO_ROLE_AMBULANCE, "ambulance"}, {0, NULL},
};

static const name_t SSM_NAMES[] = {
    {PROTO_SSM_UNKNOWN, "unknown"},
    {PROTO_SSM_REQUESTED, "requested"},
    {PROTO_SSM_PROCESSING, "processing"},
    {PROTO_SSM_WATCH_OTHER_TRAFFIC, "watchOtherTraffic"},
    {PROTO_SSM_GRANTED, "granted"},
    {PROTO_SSM_REJECTED, "rejected"},
    {PROTO_SSM_MAX_PRESENCE, "maxPresence"},
    {PROTO_SSM_RESERVICE_LOCKED, "reserviceLocked"},
    {0, NULL},
};

static const name_t ACTION_NAMES[] = {
    {PROTO_CMD_HOLD, "hold"},
    {PROTO_CMD_FORCE_OFF, "force-off"},
    {PROTO_CMD_CALL, "call"},
    {PROTO_CMD_RELEASE, "release"},
    {0, NULL},
};

static const name_t TRANSITION_NAMES[] = {
    {PROTO_TRANSITION_DWELL, "dwell"},
    {PROTO_TRANSITION_SHORTWAY, "shortway"},
    {PROTO_TRANSITION_LONGWAY, "longway"},
    {0, NULL},
};

static const name_t REQUEST_NAMES[] = {
    {PROTO_REQ_REQUEST, "priorityRequest"},
    {PROTO_REQ_UPDATE, "priorityRequestUpdate"},
    {PROTO_REQ_CANCEL, "priorityCancellation"},
    {0, NULL},
};

static const name_t ENCODING_NAMES[] = {
    {PROTO_ENC_JSON, "json"},
    {PROTO_ENC_MSGPACK, "msgpack"},
    {0, NULL},
};

static const name_t SYNC_NAMES[] = {
    {(int)PROTO_SYNC_LOCKSTEP, "lockstep"},
    {(int)PROTO_SYNC_EVENT, "event"},
    {0, NULL},
};

static const name_t WAKE_NAMES[] = {
    {(int)PROTO_WAKE_SRM, "srm"},
    {(int)PROTO_WAKE_SIGNAL, "signal"},
    {(int)PROTO_WAKE_DETECTOR, "detector"},
    {0, NULL},
};

static const char *name_of(const name_t *table, int value) {
    for (; table->name != NULL; table++)
        if (table->value == value)
            return table->name;
    return NULL;
}

/* Returns 1 and the value of name in *value, or 0 when the table has no such name. */
static int value_of(const name_t *table, const char *name, size_t len, int *value) {
    for (; table->name != NULL; table++) {
        if (strlen(table->name) == len && memcmp(table->name, name, len) == 0) {
            *value = table->value;
            return 1;
        }
    }
    return 0;
}

const char *proto_type_name(proto_type_t t) {
    return name_of(TYPE_NAMES, (int)t);
}

const char *proto_phase_state_name(proto_phase_state_t s) {
    return name_of(PHASE_NAMES, (int)s);
}

const char *proto_role_name(proto_role_t r) {
    return name_of(ROLE_NAMES, (int)r);
}

const char *proto_ssm_status_name(proto_ssm_status_t s) {
    return name_of(SSM_NAMES, (int)s);
}

const char *proto_cmd_action_name(proto_cmd_action_t a) {
    return name_of(ACTION_NAMES, (int)a);
}

const char *proto_transition_name(proto_transition_t t) {
    return name_of(TRANSITION_NAMES, (int)t);
}

const char *proto_request_type_name(proto_request_type_t t) {
    return name_of(REQUEST_NAMES, (int)t);
}

const char *proto_encoding_name(proto_encoding_t e) {
    return name_of(ENCODING_NAMES, (int)e);
}

int proto_encoding_parse(const char *name, proto_encoding_t *e) {
    int v;
    if (name == NULL || !value_of(ENCODING_NAMES, name, strlen(name), &v))
        return -1;
    *e = (proto_encoding_t)v;
    return 0;
}

/* ---- the walker: path and sticky error ---------------------------------------------------- */

#define PATH_LEN   256
#define PATH_DEPTH 32                  /* segments kept; deeper ones are counted, not shown */
#define QUOTE_MAX  40                  /* bytes of a wire string quoted in a message */
#define QUOTE_BUF  (4 * QUOTE_MAX + 8) /* room for QUOTE_MAX bytes all escaped */

/* One step of a path: a key (a string that outlives the walk), or an index when key is NULL. */
typedef struct {
    const char *key;
    size_t index;
} seg_t;

/* The path is kept as steps and written out only when a refusal needs it: pushing and popping
 * run for every field of every message. */
typedef struct {
    base_err_t *err;
    int code;   /* code of a refusal: BASE_EPROTO (decoding) or BASE_EINVAL (encoding) */
    int rc;     /* first error, sticky */
    size_t len; /* steps */
    seg_t seg[PATH_DEPTH];
} walk_t;

static void walk_init(walk_t *w, base_err_t *err, int code) {
    w->err = err;
    w->code = code;
    w->rc = 0;
    w->len = 0;
}

/* Appends a key to the path; returns the mark to restore with pop(). */
static size_t push_key(walk_t *w, const char *key) {
    size_t mark = w->len;
    if (mark < PATH_DEPTH)
        w->seg[mark] = (seg_t){key, 0};
    w->len = mark + 1;
    return mark;
}

static size_t push_index(walk_t *w, size_t i) {
    size_t mark = w->len;
    if (mark < PATH_DEPTH)
        w->seg[mark] = (seg_t){NULL, i};
    w->len = mark + 1;
    return mark;
}

static void pop(walk_t *w, size_t mark) {
    w->len = mark;
}

/* Writes the path ("tick.spat[2].states[0]") into dst (PATH_LEN bytes), truncated. */
static void path_text(const walk_t *w, char *dst) {
    size_t o = 0, n = w->len < PATH_DEPTH ? w->len : PATH_DEPTH;
    dst[0] = '\0';
    for (size_t i = 0; i < n && o + 1 < PATH_LEN; i++) {
        int k = w->seg[i].key != NULL
                    ? snprintf(dst + o, PATH_LEN - o, "%s%s", o > 0 ? "." : "", w->seg[i].key)
                    : snprintf(dst + o, PATH_LEN - o, "[%zu]", w->seg[i].index);
        if (k < 0)
            break;
        o = o + (size_t)k < PATH_LEN - 1 ? o + (size_t)k : PATH_LEN - 1;
    }
}

/* Refuses the value at the current path with w->code; returns the sticky code. */
static int fail(walk_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(walk_t *w, const char *fmt, ...) {
    if (w->rc != 0)
        return w->rc;
    char what[BASE_ERR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    w->rc = w->code;
    char path[PATH_LEN];
    path_text(w, path);
    if (path[0] != '\0')
        base_err_set(w->err, w->code, "%s: %s", path, what);
    else
        base_err_set(w->err, w->code, "%s", what);
    return w->rc;
}

static int oom(walk_t *w) {
    if (w->rc == 0) {
        char path[PATH_LEN];
        path_text(w, path);
        w->rc = base_err_set(w->err, BASE_ENOMEM, "%s%sout of memory", path,
                             path[0] != '\0' ? ": " : "");
    }
    return w->rc;
}

/* Returns 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points
 * above U+10FFFF), the rule jansson applies. */
static int utf8_valid(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        /* ASCII runs (nearly every string of a message) eight bytes at a time. */
        while (len - i >= 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (x & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* Writes s (len bytes) to dst (QUOTE_BUF bytes) as a quoted string for a message: at most
 * QUOTE_MAX bytes, cut at a UTF-8 character boundary; control characters, quotes, backslashes
 * and, when s is not UTF-8, bytes above 0x7f as \xNN, so the message stays printable UTF-8. */
static void quote(char *dst, const char *s, size_t len) {
    const size_t n = QUOTE_BUF;
    size_t cut = len;
    if (cut > QUOTE_MAX) {
        cut = QUOTE_MAX;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
    }
    int utf8 = utf8_valid((const unsigned char *)s, cut);
    size_t o = 0;
    dst[o++] = '"';
    for (size_t i = 0; i < cut && o + 6 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (c >= 0x80 && !utf8))
            o += (size_t)snprintf(dst + o, n - o, "\\x%02x", c);
        else
            dst[o++] = (char)c;
    }
    snprintf(dst + o, n - o, "\"%s", cut < len ? "..." : "");
}

/* ---- documents: a JSON or MessagePack value, read alike ------------------------------------ */

/* A value of a decoded document: a jansson value (JSON text) or a msgpack-c object
 * (MessagePack), both NULL when absent. The getters below read either through the few
 * accessors that follow, so both encodings pass the very same checks and fill the same
 * structures. A MessagePack document has been validated first (mp_validate()): keys are
 * unique strings, strings are UTF-8 without NUL, integers fit in int64_t, floats are finite,
 * and there are no binary or extension values, as in anything jansson parses. */
typedef struct {
    const json_t *j;
    const msgpack_object *m;
} node_t;

typedef enum { K_ABSENT, K_NULL, K_BOOL, K_INT, K_REAL, K_STRING, K_ARRAY, K_OBJECT } kind_t;

static kind_t kind_of(node_t n) {
    if (n.j != NULL) {
        switch (json_typeof(n.j)) {
        case JSON_OBJECT:
            return K_OBJECT;
        case JSON_ARRAY:
            return K_ARRAY;
        case JSON_STRING:
            return K_STRING;
        case JSON_INTEGER:
            return K_INT;
        case JSON_REAL:
            return K_REAL;
        case JSON_TRUE:
        case JSON_FALSE:
            return K_BOOL;
        default:
            return K_NULL;
        }
    }
    if (n.m == NULL)
        return K_ABSENT;
    switch (n.m->type) {
    case MSGPACK_OBJECT_MAP:
        return K_OBJECT;
    case MSGPACK_OBJECT_ARRAY:
        return K_ARRAY;
    case MSGPACK_OBJECT_STR:
        return K_STRING;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return K_INT;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return K_REAL;
    case MSGPACK_OBJECT_BOOLEAN:
        return K_BOOL;
    default:
        return K_NULL; /* nil; binary and extension values never get here */
    }
}

static const char *kind_name(node_t n) {
    switch (kind_of(n)) {
    case K_OBJECT:
        return "an object";
    case K_ARRAY:
        return "an array";
    case K_STRING:
        return "a string";
    case K_INT:
        return "an integer";
    case K_REAL:
        return "a number with a fraction or exponent";
    case K_BOOL:
        return "a boolean";
    default:
        return "null";
    }
}

/* Member key of an object (absent when obj is not an object or lacks it). A MessagePack map
 * is searched in order: messages have a handful of keys per object. */
static node_t node_get(node_t obj, const char *key) {
    node_t r = {NULL, NULL};
    if (obj.j != NULL) {
        r.j = json_object_get(obj.j, key);
        return r;
    }
    if (obj.m == NULL || obj.m->type != MSGPACK_OBJECT_MAP)
        return r;
    size_t n = strlen(key);
    const msgpack_object_map *mp = &obj.m->via.map;
    for (uint32_t i = 0; i < mp->size; i++) {
        const msgpack_object_str *k = &mp->ptr[i].key.via.str;
        if (k->size == n && (n == 0 || memcmp(k->ptr, key, n) == 0)) {
            r.m = &mp->ptr[i].val;
            break;
        }
    }
    return r;
}

static size_t node_size(node_t a) {
    return a.j != NULL ? json_array_size(a.j) : a.m->via.array.size;
}

static node_t node_at(node_t a, size_t i) {
    node_t r = {NULL, NULL};
    if (a.j != NULL)
        r.j = json_array_get(a.j, i);
    else
        r.m = &a.m->via.array.ptr[i];
    return r;
}

/* A string's bytes (not NUL-terminated for MessagePack) and length. */
static const char *node_strn(node_t n, size_t *len) {
    if (n.j != NULL) {
        *len = json_string_length(n.j);
        return json_string_value(n.j);
    }
    *len = n.m->via.str.size;
    return n.m->via.str.size > 0 ? n.m->via.str.ptr : "";
}

static int64_t node_int(node_t n) {
    if (n.j != NULL)
        return (int64_t)json_integer_value(n.j);
    return n.m->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)n.m->via.u64 : n.m->via.i64;
}

static double node_num(node_t n) {
    if (n.j != NULL)
        return json_number_value(n.j);
    if (n.m->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        return (double)n.m->via.u64;
    if (n.m->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return (double)n.m->via.i64;
    return n.m->via.f64;
}

static int node_true(node_t n) {
    return n.j != NULL ? json_is_true(n.j) : n.m->via.boolean;
}

/* Lists the names of a table as "a, b or c" into dst. */
static void list_names(char *dst, size_t n, const name_t *table) {
    size_t o = 0;
    dst[0] = '\0';
    for (const name_t *t = table; t->name != NULL && o < n; t++) {
        const char *sep = t == table ? "" : (t[1].name == NULL ? " or " : ", ");
        int k = snprintf(dst + o, n - o, "%s%s", sep, t->name);
        if (k < 0)
            break;
        o += (size_t)k;
    }
}

/* Shared rules. Each returns NULL when the value is acceptable, else the reason. */

/* Refuses (at the current path) an id that is empty or of PROTO_ID_MAX bytes or more. */
static int id_ok(walk_t *w, const char *s, size_t len) {
    if (len > 0 && len < PROTO_ID_MAX)
        return 1;
    if (len == 0) {
        fail(w, "id must not be empty");
    } else {
        char q[QUOTE_BUF];
        quote(q, s, len);
        fail(w, "id %s is %zu bytes long, the limit is %d", q, len, PROTO_ID_MAX - 1);
    }
    return 0;
}

static int in_range(int64_t v, int64_t lo, int64_t hi) {
    return v >= lo && v <= hi;
}

static int fail_range(walk_t *w, long long v, int64_t lo, int64_t hi) {
    if (hi == INT64_MAX)
        return fail(w, "must be >= %lld, got %lld", (long long)lo, v);
    return fail(w, "must be in %lld..%lld, got %lld", (long long)lo, (long long)hi, v);
}

/* Defined with the MessagePack layer below. */
static json_t *mp_to_json(const msgpack_object *o, char *why, size_t why_len);
static int mp_open(const void *data, size_t len, msgpack_unpacked *u, base_err_t *err);
static int mp_pack(msgpack_packer *pk, const json_t *v);

/* ---- decoding: typed getters -------------------------------------------------------------- */

enum { REQUIRED = 0, NULLABLE = 1 };

typedef struct {
    walk_t w;
    base_arena_t *arena;
} dec_t;

/* Returns member key of obj, or an absent node when it is absent or null; refuses it (at
 * path.key) when absent or null and not nullable. The caller has pushed key. */
static node_t member(walk_t *w, node_t obj, const char *key, int nullable) {
    node_t none = {NULL, NULL};
    if (w->rc != 0)
        return none;
    node_t v = node_get(obj, key);
    kind_t k = kind_of(v);
    if (k != K_ABSENT && k != K_NULL)
        return v;
    if (!nullable)
        fail(w, k == K_ABSENT ? "missing" : "must not be null");
    return none;
}

static int present(node_t v) {
    return kind_of(v) != K_ABSENT;
}

/* Checks that v is a string without NUL; returns its bytes (not always NUL-terminated) and
 * length, or NULL (refused). */
static const char *want_strn(walk_t *w, node_t v, size_t *len) {
    if (kind_of(v) != K_STRING) {
        fail(w, "must be a string, got %s", kind_name(v));
        return NULL;
    }
    const char *s = node_strn(v, len);
    if (v.j != NULL && strlen(s) != *len) { /* MessagePack: refused by mp_validate() */
        fail(w, "must not contain a NUL character");
        return NULL;
    }
    return s;
}

/* The string v as a NUL-terminated string that lives as long as the message: JSON strings
 * stay in the document, MessagePack strings are copied into the message's arena. */
static const char *want_string(dec_t *d, node_t v) {
    size_t len;
    const char *s = want_strn(&d->w, v, &len);
    if (s == NULL || v.j != NULL)
        return s;
    char *c = base_arena_alloc(d->arena, len + 1);
    if (c == NULL) {
        oom(&d->w);
        return NULL;
    }
    memcpy(c, s, len);
    c[len] = '\0';
    return c;
}

static const char *want_id(dec_t *d, node_t v) {
    const char *s = want_string(d, v);
    return s != NULL && id_ok(&d->w, s, strlen(s)) ? s : NULL;
}

static const char *get_id(dec_t *d, node_t obj, const char *key, int nullable) {
    walk_t *w = &d->w;
    size_t mark = push_key(w, key);
    node_t v = member(w, obj, key, nullable);
    const char *s = present(v) ? want_id(d, v) : NULL;
    pop(w, mark);
    return s;
}

/* Free text: any string without NUL; nonempty when asked. */
static const char *get_text(dec_t *d, node_t obj, const char *key, int nonempty) {
    walk_t *w = &d->w;
    size_t mark = push_key(w, key);
    node_t v = member(w, obj, key, REQUIRED);
    const char *s = present(v) ? want_string(d, v) : NULL;
    if (s != NULL && nonempty && *s == '\0') {
        fail(w, "must not be empty");
        s = NULL;
    }
    pop(w, mark);
    return s;
}

static int64_t want_int(walk_t *w, node_t v, int64_t lo, int64_t hi) {
    if (kind_of(v) != K_INT) {
        fail(w, "must be an integer, got %s", kind_name(v));
        return lo;
    }
    int64_t x = node_int(v);
    if (!in_range(x, lo, hi)) {
        fail_range(w, (long long)x, lo, hi);
        return lo;
    }
    return x;
}

static int64_t get_int(walk_t *w, node_t obj, const char *key, int64_t lo, int64_t hi) {
    size_t mark = push_key(w, key);
    node_t v = member(w, obj, key, REQUIRED);
    int64_t x = present(v) ? want_int(w, v, lo, hi) : lo;
    pop(w, mark);
    return x;
}

/* An integer or null (or absent), which gives none. */
static int64_t get_int_or_null(walk_t *w, node_t obj, const char *key, int64_t lo, int64_t hi,
                               int64_t none) {
    size_t mark = push_key(w, key);
    node_t v = member(w, obj, key, NULLABLE);
    int64_t x = present(v) ? want_int(w, v, lo, hi) : none;
    pop(w, mark);
    return x;
}

/* A finite number >= lo, integer or real. */
static double get_num(walk_t *w, node_t obj, const char *key, double lo) {
    size_t mark = push_key(w, key);
    node_t v = member(w, obj, key, REQUIRED);
    double x = lo;
    kind_t k = kind_of(v);
    if (k != K_ABSENT && k != K_INT && k != K_REAL) {
        fail(w, "must be a number, got %s", kind_name(v));
    } else if (k != K_ABSENT) {
        x = node_num(v);
        if (!isfinite(x) || x < lo) {
            fail(w, "must be a number >= %g, got %.17g", lo, x);
            x = lo;
        }
    }
    pop(w, mark);
    return x;
}

/* A boolean; when optional, absent or null give 0. */
static int get_bool(walk_t *w, node_t obj, const char *key, int optional) {
    size_t mark = push_key(w, key);
    node_t v = member(w, obj, key, optional);
    int x = 0;
    if (present(v) && kind_of(v) != K_BOOL)
        fail(w, "must be true or false, got %s", kind_name(v));
    else if (present(v))
        x = node_true(v);
    pop(w, mark);
    return x;
}

static int want_enum(walk_t *w, node_t v, const name_t *table) {
    size_t len;
    const char *s = want_strn(w, v, &len);
    if (s == NULL)
        return 0;
    int x;
    if (value_of(table, s, len, &x))
        return x;
    char q[QUOTE_BUF], names[256];
    quote(q, s, len);
    list_names(names, sizeof names, table);
    fail(w, "unknown value %s (expected %s)", q, names);
    return 0;
}

static int get_enum(walk_t *w, node_t obj, const char *key, const name_t *table) {
    size_t mark = push_key(w, key);
    node_t v = member(w, obj, key, REQUIRED);
    int x = present(v) ? want_enum(w, v, table) : 0;
    pop(w, mark);
    return x;
}

static node_t get_object(walk_t *w, node_t obj, const char *key) {
    size_t mark = push_key(w, key);
    node_t v = member(w, obj, key, REQUIRED);
    if (present(v) && kind_of(v) != K_OBJECT) {
        fail(w, "must be an object, got %s", kind_name(v));
        v = (node_t){NULL, NULL};
    }
    pop(w, mark);
    return v;
}

/* Refuses a member that the command's action does not take: it must be absent or null, or
 * false when allow_false. */
static void not_taken(walk_t *w, node_t obj, const char *key, const char *action, int allow_false) {
    node_t v = node_get(obj, key);
    kind_t k = kind_of(v);
    if (w->rc != 0 || k == K_ABSENT || k == K_NULL || (allow_false && k == K_BOOL && !node_true(v)))
        return;
    size_t mark = push_key(w, key);
    fail(w, "not taken by action \"%s\" (must be absent or null%s)", action,
         allow_false ? " or false" : "");
    pop(w, mark);
}

typedef void (*elem_fn)(dec_t *d, node_t v, void *elem);

/* Decodes the array obj.key with fn per element into an arena array of n elements of size
 * bytes (NULL when empty); the count goes to *n_out. With nullable, an absent or null member
 * gives NULL and *present = 0 (present may be NULL otherwise). */
static void *get_list_n(dec_t *d, node_t obj, const char *key, size_t size, elem_fn fn,
                        int32_t *n_out, int nullable, int *is_present) {
    walk_t *w = &d->w;
    *n_out = 0;
    size_t mark = push_key(w, key);
    node_t a = member(w, obj, key, nullable);
    if (is_present != NULL)
        *is_present = present(a);
    unsigned char *out = NULL;
    if (present(a) && kind_of(a) != K_ARRAY) {
        fail(w, "must be an array, got %s", kind_name(a));
    } else if (present(a) && node_size(a) > (size_t)INT32_MAX) {
        fail(w, "more than %d elements", INT32_MAX);
    } else if (present(a) && node_size(a) > 0) {
        size_t n = node_size(a);
        out = base_arena_calloc(d->arena, n, size);
        if (out == NULL) {
            oom(w);
        } else {
            for (size_t i = 0; i < n && w->rc == 0; i++) {
                size_t m = push_index(w, i);
                fn(d, node_at(a, i), out + i * size);
                pop(w, m);
            }
            *n_out = (int32_t)n;
        }
    }
    pop(w, mark);
    return w->rc == 0 ? out : NULL;
}

static void *get_list(dec_t *d, node_t obj, const char *key, size_t size, elem_fn fn,
                      int32_t *n_out) {
    return get_list_n(d, obj, key, size, fn, n_out, REQUIRED, NULL);
}

/* An optional array of names of table, as the OR of their values (of 1 << value with
 * shift). Unknown names are skipped when lenient (offers a later revision may extend), else
 * refused. Absent or null gives 0 and *is_present = 0. */
static uint32_t get_name_set(walk_t *w, node_t obj, const char *key, const name_t *table,
                             int lenient, int shift, int *is_present) {
    size_t mark = push_key(w, key);
    node_t a = member(w, obj, key, NULLABLE);
    uint32_t bits = 0;
    *is_present = present(a);
    if (present(a) && kind_of(a) != K_ARRAY) {
        fail(w, "must be an array, got %s", kind_name(a));
    } else if (present(a)) {
        for (size_t i = 0; i < node_size(a) && w->rc == 0; i++) {
            size_t m = push_index(w, i);
            size_t len;
            const char *s = want_strn(w, node_at(a, i), &len);
            int v;
            if (s != NULL && value_of(table, s, len, &v))
                bits |= shift ? UINT32_C(1) << v : (uint32_t)v;
            else if (s != NULL && !lenient)
                want_enum(w, node_at(a, i), table); /* refuses, naming the values */
            pop(w, m);
        }
    }
    pop(w, mark);
    return bits;
}

static int want_object(walk_t *w, node_t v) {
    if (kind_of(v) == K_OBJECT)
        return 1;
    fail(w, "must be an object, got %s", kind_name(v));
    return 0;
}

/* ---- decoding: messages -------------------------------------------------------------------- */

static void dec_hello(dec_t *d, node_t doc, proto_hello_t *h) {
    walk_t *w = &d->w;
    node_t s = get_object(w, doc, "session");
    size_t mark = push_key(w, "session");
    h->session.scenario = get_text(d, s, "scenario", 1);
    h->session.seed = (uint64_t)get_int(w, s, "seed", 0, INT64_MAX);
    h->session.strategy = get_id(d, s, "strategy", NULLABLE);
    h->session.tick_ms = get_int(w, s, "tick_ms", 1, INT64_MAX);
    h->session.start_tod_ms = get_int(w, s, "start_tod_ms", 0, PROTO_DAY_MS - 1);
    pop(w, mark);
    int is_present;
    h->encodings = get_name_set(w, doc, "encodings", ENCODING_NAMES, 1, 1, &is_present);
    h->sync = get_name_set(w, doc, "sync", SYNC_NAMES, 1, 0, &is_present);
    mark = push_key(w, "log");
    node_t lg = member(w, doc, "log", NULLABLE);
    if (present(lg) && kind_of(lg) != K_BOOL)
        fail(w, "must be true or false, got %s", kind_name(lg));
    else if (present(lg))
        h->no_log = !node_true(lg);
    pop(w, mark);
    node_t map = get_object(w, doc, "map");
    if (!present(map))
        return;
    /* The map is passed on as JSON text, whatever the encoding of the hello. */
    char why[160] = "out of memory";
    json_t *tree =
        map.j != NULL ? json_incref((json_t *)map.j) : mp_to_json(map.m, why, sizeof why);
    char *text = tree != NULL ? json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(tree);
    if (text == NULL) {
        oom(w);
        return;
    }
    h->map_json = base_arena_strdup(d->arena, text);
    free(text);
    if (h->map_json == NULL)
        oom(w);
}

static void dec_id_elem(dec_t *d, node_t v, void *elem) {
    *(const char **)elem = want_id(d, v);
}

static void dec_role_elem(dec_t *d, node_t v, void *elem) {
    *(int *)elem = want_enum(&d->w, v, ROLE_NAMES);
}

static void dec_subscribe(dec_t *d, node_t v, proto_subscribe_t *sub) {
    walk_t *w = &d->w;
    int is_present;
    sub->signals = get_list_n(d, v, "signals", sizeof *sub->signals, dec_id_elem, &sub->n_signals,
                              NULLABLE, &is_present);
    sub->all_signals = !is_present;
    sub->detectors = get_list_n(d, v, "detectors", sizeof *sub->detectors, dec_id_elem,
                                &sub->n_detectors, NULLABLE, &is_present);
    sub->all_detectors = !is_present;
    int32_t n_roles = 0;
    int *roles =
        get_list_n(d, v, "roles", sizeof(int), dec_role_elem, &n_roles, NULLABLE, &is_present);
    sub->all_roles = !is_present;
    for (int32_t i = 0; i < n_roles && roles != NULL && w->rc == 0; i++)
        sub->roles |= PROTO_ROLE_BIT(roles[i]);
}

static void dec_welcome(dec_t *d, node_t doc, proto_welcome_t *m) {
    walk_t *w = &d->w;
    m->strategy = get_id(d, doc, "strategy", REQUIRED);
    m->controller = get_text(d, doc, "controller", 0);
    size_t mark = push_key(w, "encoding");
    node_t e = member(w, doc, "encoding", NULLABLE);
    m->encoding = present(e) ? (proto_encoding_t)want_enum(w, e, ENCODING_NAMES) : PROTO_ENC_JSON;
    pop(w, mark);
    mark = push_key(w, "subscribe");
    node_t sv = member(w, doc, "subscribe", NULLABLE);
    if (present(sv) && want_object(w, sv)) {
        proto_subscribe_t *sub = base_arena_calloc(d->arena, 1, sizeof *sub);
        if (sub == NULL) {
            oom(w);
        } else {
            dec_subscribe(d, sv, sub);
            m->subscribe = sub;
        }
    }
    pop(w, mark);
}

static void dec_group(dec_t *d, node_t v, void *elem) {
    walk_t *w = &d->w;
    proto_group_state_t *g = elem;
    if (!want_object(w, v))
        return;
    g->id = get_id(d, v, "signalGroup", REQUIRED);
    g->state = (proto_phase_state_t)get_enum(w, v, "eventState", PHASE_NAMES);
    g->min_end_ms = get_int(w, v, "minEndTime_ms", 0, INT64_MAX);
    g->max_end_ms = get_int_or_null(w, v, "maxEndTime_ms", 0, INT64_MAX, -1);
    if (w->rc == 0 && g->max_end_ms >= 0 && g->max_end_ms < g->min_end_ms) {
        size_t mark = push_key(w, "maxEndTime_ms");
        fail(w, "must be >= minEndTime_ms (%lld) or null, got %lld", (long long)g->min_end_ms,
             (long long)g->max_end_ms);
        pop(w, mark);
    }
}

static void dec_intersection(dec_t *d, node_t v, void *elem) {
    walk_t *w = &d->w;
    proto_intersection_state_t *x = elem;
    if (!want_object(w, v))
        return;
    x->id = get_id(d, v, "id", REQUIRED);
    x->stage = get_id(d, v, "stage", REQUIRED);
    x->next_stage = get_id(d, v, "next_stage", NULLABLE);
    x->in_change = get_bool(w, v, "in_change", REQUIRED);
    x->plan = get_id(d, v, "plan", REQUIRED);
    x->external = get_bool(w, v, "external", REQUIRED);
    node_t st = get_object(w, v, "status");
    size_t mark = push_key(w, "status");
    x->preempt_active = get_bool(w, st, "preemptIsActive", REQUIRED);
    x->priority_active = get_bool(w, st, "signalPriorityIsActive", REQUIRED);
    x->in_transition = get_bool(w, st, "inTransition", REQUIRED);
    pop(w, mark);
    x->groups = get_list(d, v, "states", sizeof *x->groups, dec_group, &x->n_groups);
}

static void dec_detector(dec_t *d, node_t v, void *elem) {
    walk_t *w = &d->w;
    proto_detector_state_t *x = elem;
    if (!want_object(w, v))
        return;
    x->id = get_id(d, v, "id", REQUIRED);
    x->count = get_int(w, v, "count", 0, INT64_MAX);
    x->occupied = get_bool(w, v, "occupied", REQUIRED);
}

static void dec_request(dec_t *d, node_t v, void *elem) {
    walk_t *w = &d->w;
    proto_request_t *r = elem;
    if (!want_object(w, v))
        return;
    r->intersection = get_id(d, v, "id", REQUIRED);
    r->request_type = (proto_request_type_t)get_enum(w, v, "requestType", REQUEST_NAMES);
    r->in_bound_lane = get_id(d, v, "inBoundLane", REQUIRED);
    r->out_bound_lane = get_id(d, v, "outBoundLane", NULLABLE);
    r->eta_ms = get_int(w, v, "eta_ms", 0, INT64_MAX);
    r->duration_ms = get_int(w, v, "duration_ms", 0, INT64_MAX);
}

static void dec_srm(dec_t *d, node_t v, void *elem) {
    walk_t *w = &d->w;
    proto_srm_t *s = elem;
    if (!want_object(w, v))
        return;
    s->request_id = (int32_t)get_int(w, v, "requestID", 0, 255);
    s->msg_count = (int32_t)get_int(w, v, "sequenceNumber", 0, 127);
    node_t r = get_object(w, v, "requester");
    size_t mark = push_key(w, "requester");
    s->vehicle_id = get_id(d, r, "id", REQUIRED);
    s->role = (proto_role_t)get_enum(w, r, "role", ROLE_NAMES);
    s->link = get_id(d, r, "link", REQUIRED);
    s->pos_m = get_num(w, r, "pos_m", 0.0);
    s->speed_mps = get_num(w, r, "speed_mps", 0.0);
    pop(w, mark);
    s->requests = get_list(d, v, "requests", sizeof *s->requests, dec_request, &s->n_requests);
}

static void dec_tick(dec_t *d, node_t doc, proto_tick_t *t) {
    t->time_ms = get_int(&d->w, doc, "time_ms", 0, INT64_MAX);
    t->delta = get_bool(&d->w, doc, "delta", NULLABLE);
    t->spat = get_list(d, doc, "spat", sizeof *t->spat, dec_intersection, &t->n_spat);
    t->detectors =
        get_list(d, doc, "detectors", sizeof *t->detectors, dec_detector, &t->n_detectors);
    t->srms = get_list(d, doc, "srm", sizeof *t->srms, dec_srm, &t->n_srms);
}

static void dec_command(dec_t *d, node_t v, void *elem) {
    walk_t *w = &d->w;
    proto_command_t *c = elem;
    if (!want_object(w, v))
        return;
    c->intersection = get_id(d, v, "intersection", REQUIRED);
    c->action = (proto_cmd_action_t)get_enum(w, v, "action", ACTION_NAMES);
    if (w->rc != 0)
        return;
    const char *action = proto_cmd_action_name(c->action);
    if (c->action == PROTO_CMD_CALL) {
        c->stage = get_id(d, v, "stage", REQUIRED);
        c->hold = get_bool(w, v, "hold", NULLABLE);
    } else {
        not_taken(w, v, "stage", action, 0);
        not_taken(w, v, "hold", action, 1);
    }
    if (c->action == PROTO_CMD_RELEASE) {
        c->transition = (proto_transition_t)get_enum(w, v, "transition", TRANSITION_NAMES);
        not_taken(w, v, "preemptIsActive", action, 1);
    } else {
        not_taken(w, v, "transition", action, 0);
        c->preempt = get_bool(w, v, "preemptIsActive", NULLABLE);
    }
}

static void dec_ssm(dec_t *d, node_t v, void *elem) {
    walk_t *w = &d->w;
    proto_ssm_entry_t *s = elem;
    if (!want_object(w, v))
        return;
    s->request_id = (int32_t)get_int(w, v, "requestID", 0, 255);
    s->vehicle_id = get_id(d, v, "requester", REQUIRED);
    s->intersection = get_id(d, v, "id", REQUIRED);
    s->status = (proto_ssm_status_t)get_enum(w, v, "status", SSM_NAMES);
}

static void dec_log_line(dec_t *d, node_t v, void *elem) {
    *(const char **)elem = want_string(d, v);
}

static void dec_control(dec_t *d, node_t doc, proto_control_t *c) {
    walk_t *w = &d->w;
    c->ack = get_int(w, doc, "ack", 0, INT64_MAX);
    size_t mark = push_key(w, "wake");
    node_t wk = member(w, doc, "wake", NULLABLE);
    if (present(wk) && want_object(w, wk)) {
        int is_present;
        c->has_wake = 1;
        c->wake.at_ms = get_int_or_null(w, wk, "at_ms", 0, INT64_MAX, -1);
        c->wake.on = get_name_set(w, wk, "on", WAKE_NAMES, 0, 0, &is_present);
    }
    pop(w, mark);
    c->commands = get_list(d, doc, "commands", sizeof *c->commands, dec_command, &c->n_commands);
    c->ssm = get_list(d, doc, "ssm", sizeof *c->ssm, dec_ssm, &c->n_ssm);
    c->log = get_list(d, doc, "log", sizeof *c->log, dec_log_line, &c->n_log);
}

static void dec_bye(dec_t *d, node_t doc, proto_bye_t *b) {
    b->time_ms = get_int(&d->w, doc, "time_ms", 0, INT64_MAX);
    b->reason = get_text(d, doc, "reason", 0);
}

/* Reads version and type at the top level (bare paths). */
static void dec_header(walk_t *w, node_t doc, proto_msg_t *msg) {
    size_t mark = push_key(w, "version");
    node_t v = member(w, doc, "version", REQUIRED);
    if (present(v) && kind_of(v) != K_INT)
        fail(w, "must be an integer, got %s", kind_name(v));
    else if (present(v) && node_int(v) != PROTO_VERSION)
        fail(w, "unsupported protocol version %lld (this side speaks %d)", (long long)node_int(v),
             PROTO_VERSION);
    pop(w, mark);
    msg->version = PROTO_VERSION;

    mark = push_key(w, "type");
    v = member(w, doc, "type", REQUIRED);
    size_t len = 0;
    const char *s = present(v) ? want_strn(w, v, &len) : NULL;
    if (s != NULL) {
        int t;
        if (value_of(TYPE_NAMES, s, len, &t)) {
            msg->type = (proto_type_t)t;
        } else {
            char q[QUOTE_BUF], names[128];
            quote(q, s, len);
            list_names(names, sizeof names, TYPE_NAMES);
            fail(w, "unknown message type %s (expected %s)", q, names);
        }
    }
    pop(w, mark);
}

int proto_msg_decode(const void *data, size_t len, proto_msg_t *msg, base_err_t *err) {
    memset(msg, 0, sizeof *msg);
    base_arena_init(&msg->arena);
    if (data == NULL)
        len = 0;
    if (len > PROTO_MSG_MAX)
        return base_err_set(err, BASE_EPROTO, "message of %zu bytes exceeds the limit of %zu bytes",
                            len, PROTO_MSG_MAX);
    node_t doc = {NULL, NULL};
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (proto_msg_sniff(data, len) == PROTO_ENC_MSGPACK) {
        /* Read in place: every string the message keeps is copied into its arena. */
        if (mp_open(data, len, &u, err) < 0) {
            msgpack_unpacked_destroy(&u);
            return err != NULL && err->code != 0 ? err->code : BASE_EPROTO;
        }
        doc.m = &u.data;
    } else {
        json_error_t je;
        json_t *j = json_loadb(data != NULL ? data : "", len, JSON_REJECT_DUPLICATES, &je);
        if (j == NULL)
            return base_err_set(err, BASE_EPROTO,
                                "invalid JSON at byte %d (line %d, column %d): %s", je.position,
                                je.line, je.column, je.text);
        msg->doc = j;
        doc.j = j;
    }

    dec_t d = {.arena = &msg->arena};
    walk_t *w = &d.w;
    walk_init(w, err, BASE_EPROTO);
    if (kind_of(doc) != K_OBJECT) {
        fail(w, "message must be a JSON object, got %s", kind_name(doc));
    } else {
        dec_header(w, doc, msg);
        if (w->rc == 0) {
            push_key(w, proto_type_name(msg->type));
            msg->seq = get_int(w, doc, "seq", 0, INT64_MAX);
        }
    }
    if (w->rc == 0) {
        switch (msg->type) {
        case PROTO_HELLO:
            dec_hello(&d, doc, &msg->u.hello);
            break;
        case PROTO_WELCOME:
            dec_welcome(&d, doc, &msg->u.welcome);
            break;
        case PROTO_TICK:
            dec_tick(&d, doc, &msg->u.tick);
            break;
        case PROTO_CONTROL:
            dec_control(&d, doc, &msg->u.control);
            break;
        case PROTO_BYE:
            dec_bye(&d, doc, &msg->u.bye);
            break;
        }
    }
    msgpack_unpacked_destroy(&u);
    if (w->rc == 0) /* the numeric ranges, shared by every encoding (proto/check.h) */
        w->rc = proto_msg_check(msg, BASE_EPROTO, err);
    if (w->rc != 0) {
        proto_msg_fini(msg);
        return w->rc;
    }
    return 0;
}

void proto_msg_fini(proto_msg_t *msg) {
    if (msg == NULL)
        return;
    base_arena_fini(&msg->arena);
    json_decref(msg->doc);
    memset(msg, 0, sizeof *msg);
}

/* ---- encoding ------------------------------------------------------------------------------ */

/* The encoder writes the message once, field by field, through these emitters: into a
 * jansson tree for JSON (dumped at the end, so the text is jansson's) or straight into
 * MessagePack bytes (no tree). Every container is opened with the number of entries it will
 * get, which MessagePack needs up front; the emitters count them and refuse a mismatch, so a
 * miscount is an encoding error in both encodings, never a corrupt message. */
#define ENC_DEPTH   16
#define ENC_MP_INIT ((size_t)64 * 1024) /* first buffer of a MessagePack message, bytes */

typedef struct {
    walk_t w;
    proto_encoding_t enc;
    int depth;                /* containers open */
    json_t *root;             /* JSON: the tree */
    json_t *open[ENC_DEPTH];  /* JSON: the open containers, innermost last */
    uint32_t left[ENC_DEPTH]; /* entries each open container still expects */
    msgpack_sbuffer sb;       /* MessagePack: the bytes */
    msgpack_packer pk;
} enc_t;

static void enc_init(enc_t *e, proto_encoding_t enc, base_err_t *err) {
    memset(e, 0, sizeof *e);
    walk_init(&e->w, err, BASE_EINVAL);
    e->enc = enc;
    if (enc == PROTO_ENC_MSGPACK) {
        msgpack_sbuffer_init(&e->sb);
        /* Room for a typical tick at once (growing by realloc copies it each time). */
        e->sb.data = malloc(ENC_MP_INIT);
        e->sb.alloc = e->sb.data != NULL ? ENC_MP_INIT : 0;
        msgpack_packer_init(&e->pk, &e->sb, msgpack_sbuffer_write);
    }
}

/* Starts one entry of the innermost container: its key (NULL in an array). Returns 1 when the
 * value may be written. */
static int e_entry(enc_t *e, const char *key) {
    if (e->w.rc != 0)
        return 0;
    if (e->depth == 0)
        return 1; /* the root */
    if (e->left[e->depth - 1] == 0) {
        fail(&e->w, "internal error: more entries than announced");
        return 0;
    }
    e->left[e->depth - 1]--;
    if (e->enc == PROTO_ENC_MSGPACK && key != NULL) {
        size_t n = strlen(key);
        if (msgpack_pack_str(&e->pk, n) != 0 || msgpack_pack_str_body(&e->pk, key, n) != 0)
            oom(&e->w);
    }
    return e->w.rc == 0;
}

/* JSON: puts v (stolen; NULL: out of memory) under key in the innermost container. */
static void e_attach(enc_t *e, const char *key, json_t *v) {
    if (v == NULL) {
        oom(&e->w);
        return;
    }
    if (e->depth == 0) {
        e->root = v;
        return;
    }
    json_t *c = e->open[e->depth - 1];
    if ((json_is_object(c) ? json_object_set_new(c, key, v) : json_array_append_new(c, v)) < 0)
        oom(&e->w);
}

static void e_packed(enc_t *e, int rc) {
    if (rc != 0)
        oom(&e->w);
}

static void e_null(enc_t *e, const char *key) {
    if (!e_entry(e, key))
        return;
    if (e->enc == PROTO_ENC_MSGPACK)
        e_packed(e, msgpack_pack_nil(&e->pk));
    else
        e_attach(e, key, json_null());
}

static void e_str(enc_t *e, const char *key, const char *s, size_t n) {
    if (!e_entry(e, key))
        return;
    if (e->enc == PROTO_ENC_MSGPACK)
        e_packed(e, msgpack_pack_str(&e->pk, n) | msgpack_pack_str_body(&e->pk, s, n));
    else
        e_attach(e, key, json_stringn_nocheck(s, n));
}

static void e_int(enc_t *e, const char *key, int64_t v) {
    if (!e_entry(e, key))
        return;
    if (e->enc == PROTO_ENC_MSGPACK)
        e_packed(e, msgpack_pack_int64(&e->pk, v));
    else
        e_attach(e, key, json_integer((json_int_t)v));
}

static void e_real(enc_t *e, const char *key, double v) {
    if (!e_entry(e, key))
        return;
    if (e->enc == PROTO_ENC_MSGPACK)
        e_packed(e, msgpack_pack_double(&e->pk, v));
    else
        e_attach(e, key, json_real(v));
}

static void e_bool(enc_t *e, const char *key, int v) {
    if (!e_entry(e, key))
        return;
    if (e->enc == PROTO_ENC_MSGPACK)
        e_packed(e, v ? msgpack_pack_true(&e->pk) : msgpack_pack_false(&e->pk));
    else
        e_attach(e, key, json_boolean(v));
}

/* Opens an object (obj) or array under key with n entries; close it with e_close(). */
static void e_open(enc_t *e, const char *key, int obj, uint32_t n) {
    if (!e_entry(e, key))
        return;
    if (e->depth == ENC_DEPTH) {
        fail(&e->w, "internal error: nested too deep");
        return;
    }
    if (e->enc == PROTO_ENC_MSGPACK) {
        e_packed(e, obj ? msgpack_pack_map(&e->pk, n) : msgpack_pack_array(&e->pk, n));
        e->open[e->depth] = NULL;
    } else {
        json_t *c = obj ? json_object() : json_array();
        e_attach(e, key, c);
        if (e->w.rc != 0)
            return;
        e->open[e->depth] = c;
    }
    if (e->w.rc == 0)
        e->left[e->depth++] = n;
}

static void e_close(enc_t *e) {
    if (e->w.rc != 0)
        return;
    if (e->depth == 0 || e->left[e->depth - 1] != 0) {
        fail(&e->w, "internal error: fewer entries than announced");
        return;
    }
    e->depth--;
}

/* The message's bytes (NUL-terminated; *len without the NUL), or NULL when out of memory.
 * The encoder's storage is freed either way. */
static char *e_finish(enc_t *e, size_t *len) {
    char *out = NULL;
    *len = 0;
    if (e->enc == PROTO_ENC_MSGPACK) {
        if (e->w.rc == 0 && msgpack_sbuffer_write(&e->sb, "", 1) == 0) {
            *len = e->sb.size - 1;
            return msgpack_sbuffer_release(&e->sb);
        }
        msgpack_sbuffer_destroy(&e->sb);
        return NULL;
    }
    if (e->w.rc == 0 && e->root != NULL) {
        out = json_dumps(e->root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        *len = out != NULL ? strlen(out) : 0;
    }
    json_decref(e->root);
    e->root = NULL;
    return out;
}

/* Checks a string for the wire: UTF-8 and, when id, the id rule; nonempty when asked.
 * Returns 1 when it may be written. The caller has pushed the path of s. */
static int string_ok(walk_t *w, const char *s, size_t len, int id, int nonempty) {
    if (w->rc != 0)
        return 0;
    if (id && !id_ok(w, s, len))
        return 0;
    if (nonempty && len == 0) {
        fail(w, "must not be empty");
        return 0;
    }
    if (!utf8_valid((const unsigned char *)s, len)) {
        fail(w, "is not valid UTF-8");
        return 0;
    }
    return 1;
}

enum { TEXT = 0, TEXT_NONEMPTY = 1, ID = 2 };

static void put_string(enc_t *e, const char *key, const char *s, int kind, int nullable) {
    walk_t *w = &e->w;
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    if (s == NULL) {
        if (nullable)
            e_null(e, key);
        else
            fail(w, "missing (NULL)");
    } else {
        size_t n = strlen(s);
        if (string_ok(w, s, n, kind == ID, kind == TEXT_NONEMPTY))
            e_str(e, key, s, n);
    }
    pop(w, mark);
}

static void put_int(enc_t *e, const char *key, int64_t v, int64_t lo, int64_t hi) {
    walk_t *w = &e->w;
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    if (!in_range(v, lo, hi))
        fail_range(w, (long long)v, lo, hi);
    else
        e_int(e, key, v);
    pop(w, mark);
}

static void put_num(enc_t *e, const char *key, double v, double lo) {
    walk_t *w = &e->w;
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    if (!isfinite(v) || v < lo)
        fail(w, "must be a number >= %g, got %.17g", lo, v);
    else
        e_real(e, key, v);
    pop(w, mark);
}

static void put_bool(enc_t *e, const char *key, int v) {
    walk_t *w = &e->w;
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    if (v != 0 && v != 1)
        fail(w, "flag must be 0 or 1, got %d", v);
    else
        e_bool(e, key, v);
    pop(w, mark);
}

static void put_enum(enc_t *e, const char *key, const name_t *table, int v) {
    walk_t *w = &e->w;
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    const char *name = name_of(table, v);
    if (name == NULL)
        fail(w, "value %d has no name on the wire", v);
    else
        e_str(e, key, name, strlen(name));
    pop(w, mark);
}

/* Opens the array key (path pushed, mark in *mark) after checking (p, n). Returns 1 when
 * open (then e_close() it). */
static int put_array(enc_t *e, const char *key, const void *p, int32_t n, size_t *mark) {
    walk_t *w = &e->w;
    *mark = push_key(w, key);
    if (w->rc != 0)
        return 0;
    if (n < 0 || (n > 0 && p == NULL)) {
        fail(w, "bad array: %s with n = %d", p == NULL ? "NULL" : "non-NULL", (int)n);
        return 0;
    }
    e_open(e, key, 0, (uint32_t)n);
    return w->rc == 0;
}

/* Opens the object element i of the innermost array; pushes [i]. */
static void put_elem(enc_t *e, size_t i, uint32_t n, size_t *mark) {
    *mark = push_index(&e->w, i);
    e_open(e, NULL, 1, n);
}

/* Sets key to the array of the names of table whose values (1 << value with shift) are in
 * bits, in table order; refuses bits without a name. */
static void put_name_set(enc_t *e, const char *key, const name_t *table, uint32_t bits, int shift) {
    walk_t *w = &e->w;
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    uint32_t named = 0, n = 0;
    for (const name_t *t = table; t->name != NULL; t++) {
        uint32_t bit = shift ? UINT32_C(1) << t->value : (uint32_t)t->value;
        named |= bit;
        n += (bits & bit) != 0;
    }
    if ((bits & ~named) != 0) {
        fail(w, "bits 0x%x have no name on the wire", (unsigned)(bits & ~named));
    } else {
        e_open(e, key, 0, n);
        for (const name_t *t = table; t->name != NULL && w->rc == 0; t++)
            if (bits & (shift ? UINT32_C(1) << t->value : (uint32_t)t->value))
                e_str(e, NULL, t->name, strlen(t->name));
        e_close(e);
    }
    pop(w, mark);
}

static uint32_t hello_fields(const proto_hello_t *h) {
    return 2 + (h->encodings != 0) + (h->sync != 0) + (h->no_log != 0);
}

static void enc_hello(enc_t *e, const proto_hello_t *h) {
    walk_t *w = &e->w;
    e_open(e, "session", 1, 5);
    size_t mark = push_key(w, "session");
    put_string(e, "scenario", h->session.scenario, TEXT_NONEMPTY, REQUIRED);
    if (w->rc == 0 && h->session.seed > (uint64_t)INT64_MAX) {
        size_t m = push_key(w, "seed");
        fail(w, "must be <= %lld, got %llu", (long long)INT64_MAX,
             (unsigned long long)h->session.seed);
        pop(w, m);
    }
    put_int(e, "seed", (int64_t)h->session.seed, 0, INT64_MAX);
    put_string(e, "strategy", h->session.strategy, ID, NULLABLE);
    put_int(e, "tick_ms", h->session.tick_ms, 1, INT64_MAX);
    put_int(e, "start_tod_ms", h->session.start_tod_ms, 0, PROTO_DAY_MS - 1);
    pop(w, mark);
    e_close(e);
    if (h->encodings != 0)
        put_name_set(e, "encodings", ENCODING_NAMES, h->encodings, 1);
    if (h->sync != 0)
        put_name_set(e, "sync", SYNC_NAMES, h->sync, 0);
    if (h->no_log != 0)
        put_bool(e, "log", !h->no_log);

    if (w->rc != 0)
        return;
    mark = push_key(w, "map");
    if (h->map_json == NULL) {
        fail(w, "missing (NULL)");
    } else {
        json_error_t je;
        json_t *map = json_loads(h->map_json, JSON_REJECT_DUPLICATES, &je);
        if (map == NULL) {
            fail(w, "invalid JSON at byte %d (line %d, column %d): %s", je.position, je.line,
                 je.column, je.text);
        } else if (!json_is_object(map)) {
            fail(w, "must be a JSON object, got %s", kind_name((node_t){map, NULL}));
        } else if (e_entry(e, "map")) {
            if (e->enc == PROTO_ENC_MSGPACK)
                e_packed(e, mp_pack(&e->pk, map));
            else
                e_attach(e, "map", json_incref(map));
        }
        json_decref(map);
    }
    pop(w, mark);
}

/* Sets key to an array of ids, or null when all. */
static void put_ids(enc_t *e, const char *key, int all, const char *const *ids, int32_t n) {
    walk_t *w = &e->w;
    if (w->rc != 0)
        return;
    if (all) {
        e_null(e, key);
        return;
    }
    size_t mark;
    if (put_array(e, key, ids, n, &mark)) {
        for (int32_t i = 0; i < n && w->rc == 0; i++) {
            size_t m = push_index(w, (size_t)i);
            if (ids[i] == NULL)
                fail(w, "missing (NULL)");
            else if (string_ok(w, ids[i], strlen(ids[i]), 1, 1))
                e_str(e, NULL, ids[i], strlen(ids[i]));
            pop(w, m);
        }
        e_close(e);
    }
    pop(w, mark);
}

static uint32_t welcome_fields(const proto_welcome_t *m) {
    return 2 + (m->encoding != PROTO_ENC_JSON) + (m->subscribe != NULL);
}

static void enc_welcome(enc_t *e, const proto_welcome_t *m) {
    walk_t *w = &e->w;
    put_string(e, "strategy", m->strategy, ID, REQUIRED);
    put_string(e, "controller", m->controller, TEXT, REQUIRED);
    if (m->encoding != PROTO_ENC_JSON)
        put_enum(e, "encoding", ENCODING_NAMES, (int)m->encoding);
    const proto_subscribe_t *sub = m->subscribe;
    if (sub == NULL || w->rc != 0)
        return;
    e_open(e, "subscribe", 1, 3);
    size_t mark = push_key(w, "subscribe");
    put_ids(e, "signals", sub->all_signals, sub->signals, sub->n_signals);
    put_ids(e, "detectors", sub->all_detectors, sub->detectors, sub->n_detectors);
    if (sub->all_roles)
        put_ids(e, "roles", 1, NULL, 0);
    else
        put_name_set(e, "roles", ROLE_NAMES, sub->roles, 1);
    pop(w, mark);
    e_close(e);
}

static void enc_intersection(enc_t *e, const proto_intersection_state_t *x) {
    walk_t *w = &e->w;
    put_string(e, "id", x->id, ID, REQUIRED);
    put_string(e, "stage", x->stage, ID, REQUIRED);
    put_string(e, "next_stage", x->next_stage, ID, NULLABLE);
    put_bool(e, "in_change", x->in_change);
    put_string(e, "plan", x->plan, ID, REQUIRED);
    put_bool(e, "external", x->external);
    e_open(e, "status", 1, 3);
    size_t mark = push_key(w, "status");
    put_bool(e, "preemptIsActive", x->preempt_active);
    put_bool(e, "signalPriorityIsActive", x->priority_active);
    put_bool(e, "inTransition", x->in_transition);
    pop(w, mark);
    e_close(e);

    if (put_array(e, "states", x->groups, x->n_groups, &mark)) {
        for (int32_t i = 0; i < x->n_groups && w->rc == 0; i++) {
            const proto_group_state_t *g = &x->groups[i];
            size_t m;
            put_elem(e, (size_t)i, 4, &m);
            put_string(e, "signalGroup", g->id, ID, REQUIRED);
            put_enum(e, "eventState", PHASE_NAMES, (int)g->state);
            put_int(e, "minEndTime_ms", g->min_end_ms, 0, INT64_MAX);
            if (g->max_end_ms == -1) {
                e_null(e, "maxEndTime_ms");
            } else if (w->rc == 0 && (g->max_end_ms < 0 || g->max_end_ms < g->min_end_ms)) {
                size_t k = push_key(w, "maxEndTime_ms");
                fail(w, "must be >= minEndTime_ms (%lld) or -1 (unknown), got %lld",
                     (long long)g->min_end_ms, (long long)g->max_end_ms);
                pop(w, k);
            } else {
                put_int(e, "maxEndTime_ms", g->max_end_ms, 0, INT64_MAX);
            }
            e_close(e);
            pop(w, m);
        }
        e_close(e);
    }
    pop(w, mark);
}

static void enc_srm(enc_t *e, const proto_srm_t *s) {
    walk_t *w = &e->w;
    put_int(e, "requestID", s->request_id, 0, 255);
    put_int(e, "sequenceNumber", s->msg_count, 0, 127);
    e_open(e, "requester", 1, 5);
    size_t mark = push_key(w, "requester");
    put_string(e, "id", s->vehicle_id, ID, REQUIRED);
    put_enum(e, "role", ROLE_NAMES, (int)s->role);
    put_string(e, "link", s->link, ID, REQUIRED);
    put_num(e, "pos_m", s->pos_m, 0.0);
    put_num(e, "speed_mps", s->speed_mps, 0.0);
    pop(w, mark);
    e_close(e);

    if (put_array(e, "requests", s->requests, s->n_requests, &mark)) {
        for (int32_t i = 0; i < s->n_requests && w->rc == 0; i++) {
            const proto_request_t *q = &s->requests[i];
            size_t m;
            put_elem(e, (size_t)i, 6, &m);
            put_string(e, "id", q->intersection, ID, REQUIRED);
            put_enum(e, "requestType", REQUEST_NAMES, (int)q->request_type);
            put_string(e, "inBoundLane", q->in_bound_lane, ID, REQUIRED);
            put_string(e, "outBoundLane", q->out_bound_lane, ID, NULLABLE);
            put_int(e, "eta_ms", q->eta_ms, 0, INT64_MAX);
            put_int(e, "duration_ms", q->duration_ms, 0, INT64_MAX);
            e_close(e);
            pop(w, m);
        }
        e_close(e);
    }
    pop(w, mark);
}

static uint32_t tick_fields(const proto_tick_t *t) {
    return 4 + (t->delta != 0);
}

static void enc_tick(enc_t *e, const proto_tick_t *t) {
    walk_t *w = &e->w;
    put_int(e, "time_ms", t->time_ms, 0, INT64_MAX);
    if (t->delta)
        put_bool(e, "delta", t->delta);
    size_t mark, m;
    if (put_array(e, "spat", t->spat, t->n_spat, &mark)) {
        for (int32_t i = 0; i < t->n_spat && w->rc == 0; i++) {
            put_elem(e, (size_t)i, 8, &m);
            enc_intersection(e, &t->spat[i]);
            e_close(e);
            pop(w, m);
        }
        e_close(e);
    }
    pop(w, mark);

    if (put_array(e, "detectors", t->detectors, t->n_detectors, &mark)) {
        for (int32_t i = 0; i < t->n_detectors && w->rc == 0; i++) {
            const proto_detector_state_t *x = &t->detectors[i];
            put_elem(e, (size_t)i, 3, &m);
            put_string(e, "id", x->id, ID, REQUIRED);
            put_int(e, "count", x->count, 0, INT64_MAX);
            put_bool(e, "occupied", x->occupied);
            e_close(e);
            pop(w, m);
        }
        e_close(e);
    }
    pop(w, mark);

    if (put_array(e, "srm", t->srms, t->n_srms, &mark)) {
        for (int32_t i = 0; i < t->n_srms && w->rc == 0; i++) {
            put_elem(e, (size_t)i, 4, &m);
            enc_srm(e, &t->srms[i]);
            e_close(e);
            pop(w, m);
        }
        e_close(e);
    }
    pop(w, mark);
}

/* Refuses a command field that the action does not take when it is set. */
static void enc_not_taken(walk_t *w, const char *key, int set, const char *action) {
    if (w->rc != 0 || !set)
        return;
    size_t mark = push_key(w, key);
    fail(w, "not taken by action \"%s\" (must be %s)", action,
         strcmp(key, "stage") == 0 ? "NULL" : "0");
    pop(w, mark);
}

/* Entries of a command object: intersection, action, (stage, hold) of a call, transition of
 * a release or preemptIsActive of the others. */
static uint32_t command_fields(const proto_command_t *c) {
    return 3 + (c->action == PROTO_CMD_CALL ? 2 : 0);
}

static void enc_command(enc_t *e, const proto_command_t *c) {
    walk_t *w = &e->w;
    put_string(e, "intersection", c->intersection, ID, REQUIRED);
    put_enum(e, "action", ACTION_NAMES, (int)c->action);
    if (w->rc != 0)
        return;
    const char *action = proto_cmd_action_name(c->action);
    if (c->action == PROTO_CMD_CALL) {
        put_string(e, "stage", c->stage, ID, REQUIRED);
        put_bool(e, "hold", c->hold);
    } else {
        enc_not_taken(w, "stage", c->stage != NULL, action);
        enc_not_taken(w, "hold", c->hold != 0, action);
    }
    if (c->action == PROTO_CMD_RELEASE) {
        put_enum(e, "transition", TRANSITION_NAMES, (int)c->transition);
        enc_not_taken(w, "preemptIsActive", c->preempt != 0, action);
    } else {
        enc_not_taken(w, "transition", c->transition != 0, action);
        put_bool(e, "preemptIsActive", c->preempt);
    }
}

static uint32_t control_fields(const proto_control_t *c) {
    return 4 + (c->has_wake != 0);
}

static void enc_control(enc_t *e, const proto_control_t *c) {
    walk_t *w = &e->w;
    put_int(e, "ack", c->ack, 0, INT64_MAX);
    if (c->has_wake && w->rc == 0) {
        e_open(e, "wake", 1, 2);
        size_t k = push_key(w, "wake");
        if (c->wake.at_ms == -1)
            e_null(e, "at_ms");
        else
            put_int(e, "at_ms", c->wake.at_ms, 0, INT64_MAX);
        put_name_set(e, "on", WAKE_NAMES, c->wake.on, 0);
        pop(w, k);
        e_close(e);
    }
    size_t mark, m;
    if (put_array(e, "commands", c->commands, c->n_commands, &mark)) {
        for (int32_t i = 0; i < c->n_commands && w->rc == 0; i++) {
            put_elem(e, (size_t)i, command_fields(&c->commands[i]), &m);
            enc_command(e, &c->commands[i]);
            e_close(e);
            pop(w, m);
        }
        e_close(e);
    }
    pop(w, mark);

    if (put_array(e, "ssm", c->ssm, c->n_ssm, &mark)) {
        for (int32_t i = 0; i < c->n_ssm && w->rc == 0; i++) {
            const proto_ssm_entry_t *s = &c->ssm[i];
            put_elem(e, (size_t)i, 4, &m);
            put_int(e, "requestID", s->request_id, 0, 255);
            put_string(e, "requester", s->vehicle_id, ID, REQUIRED);
            put_string(e, "id", s->intersection, ID, REQUIRED);
            put_enum(e, "status", SSM_NAMES, (int)s->status);
            e_close(e);
            pop(w, m);
        }
        e_close(e);
    }
    pop(w, mark);

    if (put_array(e, "log", c->log, c->n_log, &mark)) {
        for (int32_t i = 0; i < c->n_log && w->rc == 0; i++) {
            m = push_index(w, (size_t)i);
            if (c->log[i] == NULL)
                fail(w, "missing (NULL)");
            else if (string_ok(w, c->log[i], strlen(c->log[i]), 0, 0))
                e_str(e, NULL, c->log[i], strlen(c->log[i]));
            pop(w, m);
        }
        e_close(e);
    }
    pop(w, mark);
}

static void enc_bye(enc_t *e, const proto_bye_t *b) {
    put_int(e, "time_ms", b->time_ms, 0, INT64_MAX);
    put_string(e, "reason", b->reason, TEXT, REQUIRED);
}

/* ---- MessagePack ----------------------------------------------------------------------- */

#define MP_MAX_DEPTH 64 /* deeper documents are refused (messages nest at most 8 deep) */

static uint64_t be_uint(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Checks the structure of the first object of p[0..len): every header complete, every
 * string, binary and extension length within the bytes left, every array or map count at
 * most the bytes left (an element takes at least one), nesting at most MP_MAX_DEPTH. Sets
 * *end to the byte after the object. Returns 0, or -1 with the reason and offset in why. */
static int mp_scan(const unsigned char *p, size_t len, size_t *end, char *why, size_t why_len) {
    size_t i = 0;
    uint64_t pending = 1; /* objects still to read */
    /* remaining[d]: objects left in the container open at depth d */
    uint64_t remaining[MP_MAX_DEPTH + 1];
    int depth = 0;
    remaining[0] = 1;
    while (pending > 0) {
        if (i >= len) {
            snprintf(why, why_len, "truncated at byte %zu", i);
            return -1;
        }
        size_t at = i;
        unsigned c = p[i++];
        pending--;
        while (depth > 0 && remaining[depth] == 0)
            depth--;
        remaining[depth]--;
        uint64_t children = 0, skip = 0;
        size_t head = 0; /* bytes of a length field that follow the type byte */
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
            /* fixint, nil, false, true */
        } else if (c <= 0x8f) {
            children = 2 * (uint64_t)(c & 0x0f);
        } else if (c <= 0x9f) {
            children = c & 0x0f;
        } else if (c <= 0xbf) {
            skip = c & 0x1f;
        } else {
            switch (c) {
            case 0xc4:
            case 0xd9:
                head = 1;
                break; /* bin8, str8 */
            case 0xc5:
            case 0xda:
                head = 2;
                break; /* bin16, str16 */
            case 0xc6:
            case 0xdb:
                head = 4;
                break; /* bin32, str32 */
            case 0xc7:
                head = 1;
                skip = 1;
                break; /* ext8: len, type */
            case 0xc8:
                head = 2;
                skip = 1;
                break; /* ext16 */
            case 0xc9:
                head = 4;
                skip = 1;
                break; /* ext32 */
            case 0xca:
                skip = 4;
                break; /* float32 */
            case 0xcb:
                skip = 8;
                break; /* float64 */
            case 0xcc:
            case 0xd0:
                skip = 1;
                break; /* uint8, int8 */
            case 0xcd:
            case 0xd1:
                skip = 2;
                break;
            case 0xce:
            case 0xd2:
                skip = 4;
                break;
            case 0xcf:
            case 0xd3:
                skip = 8;
                break;
            case 0xd4:
                skip = 2;
                break; /* fixext1: type + 1 */
            case 0xd5:
                skip = 3;
                break;
            case 0xd6:
                skip = 5;
                break;
            case 0xd7:
                skip = 9;
                break;
            case 0xd8:
                skip = 17;
                break;
            case 0xdc:
                head = 2;
                break; /* array16 */
            case 0xdd:
                head = 4;
                break; /* array32 */
            case 0xde:
                head = 2;
                break; /* map16 */
            case 0xdf:
                head = 4;
                break; /* map32 */
            default:
                snprintf(why, why_len, "byte 0x%02x at %zu is not a MessagePack type", c, at);
                return -1;
            }
        }
        if (head > 0) {
            if (len - i < head) {
                snprintf(why, why_len, "truncated at byte %zu", i);
                return -1;
            }
            uint64_t n = be_uint(p + i, head);
            i += head;
            if (c == 0xdc || c == 0xdd)
                children = n;
            else if (c == 0xde || c == 0xdf)
                children = 2 * n;
            else
                skip += n;
        }
        if (skip > len - i) {
            snprintf(why, why_len, "a value at byte %zu runs past the end", at);
            return -1;
        }
        i += (size_t)skip;
        if (children > 0) {
            if (children > len - i || pending + children > len - i) {
                snprintf(why, why_len, "the container at byte %zu holds more elements than bytes",
                         at);
                return -1;
            }
            if (depth == MP_MAX_DEPTH) {
                snprintf(why, why_len, "nested deeper than %d at byte %zu", MP_MAX_DEPTH, at);
                return -1;
            }
            remaining[++depth] = children;
            pending += children;
        }
    }
    *end = i;
    return 0;
}

/* Turns an unpacked object into a jansson value; NULL with the reason in why. */
static json_t *mp_to_json(const msgpack_object *o, char *why, size_t why_len) {
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            snprintf(why, why_len, "integer %llu is above %lld", (unsigned long long)o->via.u64,
                     (long long)INT64_MAX);
            return NULL;
        }
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (!isfinite(o->via.f64)) {
            snprintf(why, why_len, "a float that is not finite");
            return NULL;
        }
        return json_real(o->via.f64);
    case MSGPACK_OBJECT_STR: {
        /* An empty string's ptr may be NULL (found by fuzz_msg: memchr(NULL, 0, 0) is UB). */
        const char *p = o->via.str.size > 0 ? o->via.str.ptr : "";
        size_t n = o->via.str.size;
        if (!utf8_valid((const unsigned char *)p, n) || memchr(p, '\0', n) != NULL) {
            snprintf(why, why_len, "a string that is not UTF-8 or holds a NUL character");
            return NULL;
        }
        return json_stringn_nocheck(p, n);
    }
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; a != NULL && i < o->via.array.size; i++) {
            json_t *v = mp_to_json(&o->via.array.ptr[i], why, why_len);
            if (v == NULL || json_array_append_new(a, v) < 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; m != NULL && i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (k->type != MSGPACK_OBJECT_STR) {
                snprintf(why, why_len, "a map key that is not a string");
                json_decref(m);
                return NULL;
            }
            const char *kp = k->via.str.size > 0 ? k->via.str.ptr : "";
            size_t kn = k->via.str.size;
            if (!utf8_valid((const unsigned char *)kp, kn) || memchr(kp, '\0', kn) != NULL) {
                snprintf(why, why_len, "a key that is not UTF-8 or holds a NUL character");
                json_decref(m);
                return NULL;
            }
            if (json_object_getn(m, kp, kn) != NULL) {
                char q[QUOTE_BUF];
                quote(q, kp, kn < 32 ? kn : 32);
                snprintf(why, why_len, "duplicate key %.60s", q);
                json_decref(m);
                return NULL;
            }
            json_t *v = mp_to_json(&o->via.map.ptr[i].val, why, why_len);
            if (v == NULL || json_object_setn_new_nocheck(m, kp, kn, v) < 0) {
                json_decref(m);
                return NULL;
            }
        }
        return m;
    }
    default:
        snprintf(why, why_len, "a binary or extension value");
        return NULL;
    }
}

#define MP_SHORT_MAP 16 /* maps up to this many keys are checked for duplicates pairwise */

static int cmp_key(const void *x, const void *y) {
    const msgpack_object_str *a = *(const msgpack_object_str *const *)x;
    const msgpack_object_str *b = *(const msgpack_object_str *const *)y;
    if (a->size != b->size)
        return a->size < b->size ? -1 : 1;
    return a->size > 0 ? memcmp(a->ptr, b->ptr, a->size) : 0;
}

/* Refuses a long map with a duplicate key (its keys are strings): sorts them. */
static int mp_unique_keys(const msgpack_object_map *m, char *why, size_t why_len) {
    const msgpack_object_str **keys = malloc((size_t)m->size * sizeof *keys);
    if (keys == NULL) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    for (uint32_t i = 0; i < m->size; i++)
        keys[i] = &m->ptr[i].key.via.str;
    qsort(keys, m->size, sizeof *keys, cmp_key);
    int rc = 0;
    for (uint32_t i = 1; i < m->size && rc == 0; i++) {
        if (cmp_key(&keys[i - 1], &keys[i]) == 0) {
            char dq[QUOTE_BUF];
            size_t kn = keys[i]->size;
            quote(dq, kn > 0 ? keys[i]->ptr : "", kn < 32 ? kn : 32);
            snprintf(why, why_len, "duplicate key %.60s", dq);
            rc = -1;
        }
    }
    free(keys);
    return rc;
}

/* Checks an unpacked object the way mp_to_json() would convert it (the same refusals, in the
 * same order, without building anything): binary and extension values, non-string or
 * duplicate keys, strings that are not UTF-8 or hold a NUL, integers above INT64_MAX,
 * non-finite floats. Returns 0, or -1 with the reason in why. */
static int mp_validate(const msgpack_object *o, char *why, size_t why_len) {
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
    case MSGPACK_OBJECT_BOOLEAN:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return 0;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) {
            snprintf(why, why_len, "integer %llu is above %lld", (unsigned long long)o->via.u64,
                     (long long)INT64_MAX);
            return -1;
        }
        return 0;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (!isfinite(o->via.f64)) {
            snprintf(why, why_len, "a float that is not finite");
            return -1;
        }
        return 0;
    case MSGPACK_OBJECT_STR: {
        const char *p = o->via.str.size > 0 ? o->via.str.ptr : "";
        size_t n = o->via.str.size;
        if (!utf8_valid((const unsigned char *)p, n) || memchr(p, '\0', n) != NULL) {
            snprintf(why, why_len, "a string that is not UTF-8 or holds a NUL character");
            return -1;
        }
        return 0;
    }
    case MSGPACK_OBJECT_ARRAY:
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (mp_validate(&o->via.array.ptr[i], why, why_len) < 0)
                return -1;
        return 0;
    case MSGPACK_OBJECT_MAP: {
        const msgpack_object_kv *kv = o->via.map.ptr;
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &kv[i].key;
            if (k->type != MSGPACK_OBJECT_STR) {
                snprintf(why, why_len, "a map key that is not a string");
                return -1;
            }
            const char *kp = k->via.str.size > 0 ? k->via.str.ptr : "";
            size_t kn = k->via.str.size;
            if (!utf8_valid((const unsigned char *)kp, kn) || memchr(kp, '\0', kn) != NULL) {
                snprintf(why, why_len, "a key that is not UTF-8 or holds a NUL character");
                return -1;
            }
            /* Messages have a handful of keys per map: short maps are searched, long ones
             * sorted once (below), so a hostile map cannot cost quadratic time. */
            for (uint32_t j = 0; j < i && o->via.map.size <= MP_SHORT_MAP; j++) {
                const msgpack_object_str *q = &kv[j].key.via.str;
                if (q->size == kn && (kn == 0 || memcmp(q->ptr, kp, kn) == 0)) {
                    char dq[QUOTE_BUF];
                    quote(dq, kp, kn < 32 ? kn : 32);
                    snprintf(why, why_len, "duplicate key %.60s", dq);
                    return -1;
                }
            }
            if (mp_validate(&kv[i].val, why, why_len) < 0)
                return -1;
        }
        return o->via.map.size > MP_SHORT_MAP ? mp_unique_keys(&o->via.map, why, why_len) : 0;
    }
    default:
        snprintf(why, why_len, "a binary or extension value");
        return -1;
    }
}

/* Unpacks and validates MessagePack bytes into *u (initialised here; the caller destroys it
 * whatever the result). Returns 0, or BASE_EPROTO with the reason in err. */
static int mp_open(const void *data, size_t len, msgpack_unpacked *u, base_err_t *err) {
    char why[160] = "out of memory";
    size_t end = 0, off = 0;
    msgpack_unpacked_init(u);
    if (mp_scan(data, len, &end, why, sizeof why) < 0)
        return base_err_set(err, BASE_EPROTO, "invalid MessagePack: %s", why);
    if (end != len)
        return base_err_set(err, BASE_EPROTO,
                            "invalid MessagePack: %zu bytes after the object at byte %zu",
                            len - end, end);
    if (msgpack_unpack_next(u, data, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
        return base_err_set(err, BASE_EPROTO, "invalid MessagePack (msgpack-c refused it)");
    if (mp_validate(&u->data, why, sizeof why) < 0)
        return base_err_set(err, BASE_EPROTO, "invalid MessagePack: %s", why);
    return BASE_OK;
}

/* Parses MessagePack bytes into a jansson tree, or NULL with BASE_EPROTO in err. */
static json_t *mp_load(const void *data, size_t len, base_err_t *err) {
    char why[160] = "out of memory";
    msgpack_unpacked u;
    json_t *doc = NULL;
    if (mp_open(data, len, &u, err) == 0 && (doc = mp_to_json(&u.data, why, sizeof why)) == NULL)
        base_err_set(err, BASE_EPROTO, "invalid MessagePack: %s", why);
    msgpack_unpacked_destroy(&u);
    return doc;
}

/* Packs a jansson value (objects in insertion order). Returns 0 or -1 (out of memory). */
static int mp_pack(msgpack_packer *pk, const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        int rc = msgpack_pack_map(pk, json_object_size(v));
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) {
            size_t n = strlen(key);
            rc |= msgpack_pack_str(pk, n);
            rc |= msgpack_pack_str_body(pk, key, n);
            rc |= mp_pack(pk, val);
        }
        return rc;
    }
    case JSON_ARRAY: {
        int rc = msgpack_pack_array(pk, json_array_size(v));
        for (size_t i = 0; i < json_array_size(v); i++)
            rc |= mp_pack(pk, json_array_get(v, i));
        return rc;
    }
    case JSON_STRING: {
        size_t n = json_string_length(v);
        return msgpack_pack_str(pk, n) | msgpack_pack_str_body(pk, json_string_value(v), n);
    }
    case JSON_INTEGER:
        return msgpack_pack_int64(pk, (int64_t)json_integer_value(v));
    case JSON_REAL:
        return msgpack_pack_double(pk, json_real_value(v));
    case JSON_TRUE:
        return msgpack_pack_true(pk);
    case JSON_FALSE:
        return msgpack_pack_false(pk);
    default:
        return msgpack_pack_nil(pk);
    }
}

/* Serialises a tree: JSON text or MessagePack bytes, NUL-terminated; NULL when out of memory. */
static char *serialise(const json_t *root, proto_encoding_t enc, size_t *len) {
    if (enc == PROTO_ENC_JSON) {
        char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        *len = text != NULL ? strlen(text) : 0;
        return text;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (mp_pack(&pk, root) != 0 || msgpack_sbuffer_write(&sb, "", 1) != 0) {
        msgpack_sbuffer_destroy(&sb);
        return NULL;
    }
    *len = sb.size - 1;
    return msgpack_sbuffer_release(&sb);
}

proto_encoding_t proto_msg_sniff(const void *data, size_t len) {
    if (data == NULL || len == 0)
        return PROTO_ENC_JSON;
    unsigned c = *(const unsigned char *)data;
    return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf ? PROTO_ENC_MSGPACK : PROTO_ENC_JSON;
}

/* Parses a document in the encoding its first byte shows; NULL with BASE_EPROTO in err. */
static json_t *load_doc(const void *data, size_t len, base_err_t *err) {
    if (proto_msg_sniff(data, len) == PROTO_ENC_MSGPACK)
        return mp_load(data, len, err);
    json_error_t je;
    json_t *doc = json_loadb(data != NULL ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL)
        base_err_set(err, BASE_EPROTO, "invalid JSON at byte %d (line %d, column %d): %s",
                     je.position, je.line, je.column, je.text);
    return doc;
}

char *proto_doc_transcode(const void *data, size_t len, proto_encoding_t to, size_t *out_len,
                          base_err_t *err) {
    json_t *doc = load_doc(data, len, err);
    if (doc == NULL)
        return NULL;
    size_t n = 0;
    char *out = serialise(doc, to, &n);
    json_decref(doc);
    if (out == NULL)
        base_err_set(err, BASE_ENOMEM, "out of memory");
    if (out_len != NULL)
        *out_len = n;
    return out;
}

char *proto_msg_encode(const proto_msg_t *msg, size_t *len, base_err_t *err) {
    return proto_msg_encode_as(msg, PROTO_ENC_JSON, len, err);
}

char *proto_msg_encode_as(const proto_msg_t *msg, proto_encoding_t enc, size_t *len,
                          base_err_t *err) {
    walk_t w;
    walk_init(&w, err, BASE_EINVAL);
    if (len != NULL)
        *len = 0;
    const char *type = proto_type_name(msg->type);
    if (type == NULL) {
        fail(&w, "type: unknown message type %d", (int)msg->type);
        return NULL;
    }
    if (proto_encoding_name(enc) == NULL) {
        fail(&w, "unknown encoding %d", (int)enc);
        return NULL;
    }
    if (msg->version != PROTO_VERSION) {
        fail(&w, "version: must be %d, got %d", PROTO_VERSION, (int)msg->version);
        return NULL;
    }
    uint32_t fields = 3;
    switch (msg->type) {
    case PROTO_HELLO:
        fields += hello_fields(&msg->u.hello);
        break;
    case PROTO_WELCOME:
        fields += welcome_fields(&msg->u.welcome);
        break;
    case PROTO_TICK:
        fields += tick_fields(&msg->u.tick);
        break;
    case PROTO_CONTROL:
        fields += control_fields(&msg->u.control);
        break;
    case PROTO_BYE:
        fields += 2;
        break;
    }
    enc_t e;
    enc_init(&e, enc, err);
    e_open(&e, NULL, 1, fields);
    e_str(&e, "type", type, strlen(type));
    e_int(&e, "version", PROTO_VERSION);
    push_key(&e.w, type);
    put_int(&e, "seq", msg->seq, 0, INT64_MAX);
    switch (msg->type) {
    case PROTO_HELLO:
        enc_hello(&e, &msg->u.hello);
        break;
    case PROTO_WELCOME:
        enc_welcome(&e, &msg->u.welcome);
        break;
    case PROTO_TICK:
        enc_tick(&e, &msg->u.tick);
        break;
    case PROTO_CONTROL:
        enc_control(&e, &msg->u.control);
        break;
    case PROTO_BYE:
        enc_bye(&e, &msg->u.bye);
        break;
    }
    e_close(&e);
    if (e.w.rc == 0) /* the numeric ranges, shared by every encoding (proto/check.h) */
        e.w.rc = proto_msg_check(msg, BASE_EINVAL, err);
    size_t n = 0;
    int failed = e.w.rc != 0;
    char *text = e_finish(&e, &n);
    if (text == NULL && !failed)
        oom(&e.w);
    if (text != NULL && n > PROTO_MSG_MAX) {
        pop(&e.w, 0);
        fail(&e.w, "%s: encoded message of %zu bytes exceeds the limit of %zu bytes", type, n,
             PROTO_MSG_MAX);
        free(text);
        return NULL;
    }
    if (text != NULL && len != NULL)
        *len = n;
    return text;
}
