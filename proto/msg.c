/*
 * proto/msg.c - the JSON codec of proto/msg.h, with jansson.
 *
 * Both directions walk the message in the same order (the order of docs/protocol.md) through
 * a walk_t that carries the JSON path of the current place ("tick.spat[2].states[0]") and a
 * sticky error: the first refusal stores its code and "path: reason" in the caller's buffer,
 * and every later step returns at once. The traversal code therefore reads straight through,
 * and loops stop on the first error.
 *
 * Encoding builds a jansson tree from the struct, checking each field against the same rules
 * the decoder applies (ids, ranges, flags, enum names, per-action command fields), and dumps
 * it with JSON_COMPACT | JSON_PRESERVE_ORDER: keys come out in insertion order, reals with 17
 * significant digits, so the text is deterministic and decodes to the same doubles. Decoding
 * parses with json_loadb (JSON_REJECT_DUPLICATES; jansson refuses invalid UTF-8, \u0000,
 * trailing bytes, overflowing numbers and nesting deeper than 2048) and reads each field
 * through a typed getter that checks presence, type and range. Unknown keys are ignored.
 *
 * MessagePack (the negotiated compact encoding) is the same document in binary: decoding
 * first checks the bytes' structure (every declared length and element count fits in what is
 * left of the message, so a 5-byte message cannot make msgpack-c allocate gigabytes), unpacks
 * them with msgpack-c and turns the objects into the same jansson tree (refusing what JSON text
 * cannot carry: binary and extension values, non-string or duplicate keys, strings that are not
 * UTF-8 or hold a NUL, integers above INT64_MAX, non-finite floats); the typed getters then run
 * unchanged, so both encodings pass the very same field checks and fill the same structures.
 * Encoding builds the same checked tree and packs it in insertion order. Integers stay
 * integers and reals stay float64 (1000.0 is refused where an integer is due, as in JSON).
 *
 * Ownership of a decoded message: its arrays and map_json live in msg->arena; every other
 * string points into the jansson document kept in msg->doc (string values do not move while
 * the document lives). Nothing read from the wire is used as a length or an index.
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

#define PATH_LEN  256
#define QUOTE_MAX 40                  /* bytes of a wire string quoted in a message */
#define QUOTE_BUF (4 * QUOTE_MAX + 8) /* room for QUOTE_MAX bytes all escaped */

typedef struct {
    base_err_t *err;
    int code; /* code of a refusal: BASE_EPROTO (decoding) or BASE_EINVAL (encoding) */
    int rc;   /* first error, sticky */
    size_t len;
    char path[PATH_LEN];
} walk_t;

static void walk_init(walk_t *w, base_err_t *err, int code) {
    w->err = err;
    w->code = code;
    w->rc = 0;
    w->len = 0;
    w->path[0] = '\0';
}

/* Appends to the path; returns the mark to restore with pop(). Long paths are truncated. */
static size_t push(walk_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t push(walk_t *w, const char *fmt, ...) {
    size_t mark = w->len;
    if (mark + 1 < PATH_LEN) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(w->path + mark, PATH_LEN - mark, fmt, ap);
        va_end(ap);
        if (n > 0)
            w->len = mark + (size_t)n < PATH_LEN - 1 ? mark + (size_t)n : PATH_LEN - 1;
    }
    return mark;
}

/* The two pushes of every field: plain copies (they run for each field of each message, so
 * they avoid printf). */
static size_t push_key(walk_t *w, const char *key) {
    size_t mark = w->len, o = mark;
    if (o > 0 && o + 1 < PATH_LEN)
        w->path[o++] = '.';
    for (; *key != '\0' && o + 1 < PATH_LEN; key++)
        w->path[o++] = *key;
    w->path[o] = '\0';
    w->len = o;
    return mark;
}

static size_t push_index(walk_t *w, size_t i) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i > 0);
    size_t mark = w->len, o = mark;
    if (o + 1 < PATH_LEN)
        w->path[o++] = '[';
    while (n > 0 && o + 1 < PATH_LEN)
        w->path[o++] = digits[--n];
    if (o + 1 < PATH_LEN)
        w->path[o++] = ']';
    w->path[o] = '\0';
    w->len = o;
    return mark;
}

static void pop(walk_t *w, size_t mark) {
    w->len = mark;
    w->path[mark] = '\0';
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
    if (w->len > 0)
        base_err_set(w->err, w->code, "%s: %s", w->path, what);
    else
        base_err_set(w->err, w->code, "%s", what);
    return w->rc;
}

static int oom(walk_t *w) {
    if (w->rc == 0)
        w->rc =
            base_err_set(w->err, BASE_ENOMEM, "%s%sout of memory", w->path, w->len > 0 ? ": " : "");
    return w->rc;
}

/* Returns 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points
 * above U+10FFFF), the rule jansson applies. */
static int utf8_valid(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
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

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction or exponent";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
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
static json_t *load_doc(const void *data, size_t len, base_err_t *err);

/* ---- decoding: typed getters -------------------------------------------------------------- */

enum { REQUIRED = 0, NULLABLE = 1 };

typedef struct {
    walk_t w;
    base_arena_t *arena;
} dec_t;

/* Returns member key of obj, or NULL when it is absent or null; refuses it (at path.key)
 * when absent or null and not nullable. The caller has pushed key. */
static json_t *member(walk_t *w, const json_t *obj, const char *key, int nullable) {
    if (w->rc != 0)
        return NULL;
    json_t *v = json_object_get(obj, key);
    if (v != NULL && !json_is_null(v))
        return v;
    if (!nullable)
        fail(w, v == NULL ? "missing" : "must not be null");
    return NULL;
}

/* Checks that v is a string without NUL; returns its value or NULL (refused). */
static const char *want_string(walk_t *w, const json_t *v) {
    if (!json_is_string(v)) {
        fail(w, "must be a string, got %s", json_type_name(v));
        return NULL;
    }
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        fail(w, "must not contain a NUL character");
        return NULL;
    }
    return s;
}

static const char *want_id(walk_t *w, const json_t *v) {
    const char *s = want_string(w, v);
    return s != NULL && id_ok(w, s, strlen(s)) ? s : NULL;
}

static const char *get_id(walk_t *w, const json_t *obj, const char *key, int nullable) {
    size_t mark = push_key(w, key);
    json_t *v = member(w, obj, key, nullable);
    const char *s = v != NULL ? want_id(w, v) : NULL;
    pop(w, mark);
    return s;
}

/* Free text: any string without NUL; nonempty when asked. */
static const char *get_text(walk_t *w, const json_t *obj, const char *key, int nonempty) {
    size_t mark = push_key(w, key);
    json_t *v = member(w, obj, key, REQUIRED);
    const char *s = v != NULL ? want_string(w, v) : NULL;
    if (s != NULL && nonempty && *s == '\0') {
        fail(w, "must not be empty");
        s = NULL;
    }
    pop(w, mark);
    return s;
}

static int64_t want_int(walk_t *w, const json_t *v, int64_t lo, int64_t hi) {
    if (!json_is_integer(v)) {
        fail(w, "must be an integer, got %s", json_type_name(v));
        return lo;
    }
    json_int_t x = json_integer_value(v);
    if (!in_range((int64_t)x, lo, hi)) {
        fail_range(w, (long long)x, lo, hi);
        return lo;
    }
    return (int64_t)x;
}

static int64_t get_int(walk_t *w, const json_t *obj, const char *key, int64_t lo, int64_t hi) {
    size_t mark = push_key(w, key);
    json_t *v = member(w, obj, key, REQUIRED);
    int64_t x = v != NULL ? want_int(w, v, lo, hi) : lo;
    pop(w, mark);
    return x;
}

/* An integer or null (or absent), which gives none. */
static int64_t get_int_or_null(walk_t *w, const json_t *obj, const char *key, int64_t lo,
                               int64_t hi, int64_t none) {
    size_t mark = push_key(w, key);
    json_t *v = member(w, obj, key, NULLABLE);
    int64_t x = v != NULL ? want_int(w, v, lo, hi) : none;
    pop(w, mark);
    return x;
}

/* A finite number >= lo, integer or real. */
static double get_num(walk_t *w, const json_t *obj, const char *key, double lo) {
    size_t mark = push_key(w, key);
    json_t *v = member(w, obj, key, REQUIRED);
    double x = lo;
    if (v != NULL && !json_is_number(v)) {
        fail(w, "must be a number, got %s", json_type_name(v));
    } else if (v != NULL) {
        x = json_number_value(v);
        if (!isfinite(x) || x < lo) {
            fail(w, "must be a number >= %g, got %.17g", lo, x);
            x = lo;
        }
    }
    pop(w, mark);
    return x;
}

/* A boolean; when optional, absent or null give 0. */
static int get_bool(walk_t *w, const json_t *obj, const char *key, int optional) {
    size_t mark = push_key(w, key);
    json_t *v = member(w, obj, key, optional);
    int x = 0;
    if (v != NULL && !json_is_boolean(v))
        fail(w, "must be true or false, got %s", json_type_name(v));
    else if (v != NULL)
        x = json_is_true(v);
    pop(w, mark);
    return x;
}

static int want_enum(walk_t *w, const json_t *v, const name_t *table) {
    const char *s = want_string(w, v);
    if (s == NULL)
        return 0;
    int x;
    if (value_of(table, s, strlen(s), &x))
        return x;
    char q[QUOTE_BUF], names[256];
    quote(q, s, strlen(s));
    list_names(names, sizeof names, table);
    fail(w, "unknown value %s (expected %s)", q, names);
    return 0;
}

static int get_enum(walk_t *w, const json_t *obj, const char *key, const name_t *table) {
    size_t mark = push_key(w, key);
    json_t *v = member(w, obj, key, REQUIRED);
    int x = v != NULL ? want_enum(w, v, table) : 0;
    pop(w, mark);
    return x;
}

static json_t *get_object(walk_t *w, const json_t *obj, const char *key) {
    size_t mark = push_key(w, key);
    json_t *v = member(w, obj, key, REQUIRED);
    if (v != NULL && !json_is_object(v)) {
        fail(w, "must be an object, got %s", json_type_name(v));
        v = NULL;
    }
    pop(w, mark);
    return v;
}

/* Refuses a member that the command's action does not take: it must be absent or null, or
 * false when allow_false. */
static void not_taken(walk_t *w, const json_t *obj, const char *key, const char *action,
                      int allow_false) {
    json_t *v = json_object_get(obj, key);
    if (w->rc != 0 || v == NULL || json_is_null(v) || (allow_false && json_is_false(v)))
        return;
    size_t mark = push_key(w, key);
    fail(w, "not taken by action \"%s\" (must be absent or null%s)", action,
         allow_false ? " or false" : "");
    pop(w, mark);
}

typedef void (*elem_fn)(dec_t *d, const json_t *v, void *elem);

/* Decodes the array obj.key with fn per element into an arena array of n elements of size
 * bytes (NULL when empty); the count goes to *n_out. With nullable, an absent or null member
 * gives NULL and *present = 0 (present may be NULL otherwise). */
static void *get_list_n(dec_t *d, const json_t *obj, const char *key, size_t size, elem_fn fn,
                        int32_t *n_out, int nullable, int *present) {
    walk_t *w = &d->w;
    *n_out = 0;
    size_t mark = push_key(w, key);
    json_t *a = member(w, obj, key, nullable);
    if (present != NULL)
        *present = a != NULL;
    unsigned char *out = NULL;
    if (a != NULL && !json_is_array(a)) {
        fail(w, "must be an array, got %s", json_type_name(a));
    } else if (a != NULL && json_array_size(a) > (size_t)INT32_MAX) {
        fail(w, "more than %d elements", INT32_MAX);
    } else if (a != NULL && json_array_size(a) > 0) {
        size_t n = json_array_size(a);
        out = base_arena_calloc(d->arena, n, size);
        if (out == NULL) {
            oom(w);
        } else {
            for (size_t i = 0; i < n && w->rc == 0; i++) {
                size_t m = push_index(w, i);
                fn(d, json_array_get(a, i), out + i * size);
                pop(w, m);
            }
            *n_out = (int32_t)n;
        }
    }
    pop(w, mark);
    return w->rc == 0 ? out : NULL;
}

static void *get_list(dec_t *d, const json_t *obj, const char *key, size_t size, elem_fn fn,
                      int32_t *n_out) {
    return get_list_n(d, obj, key, size, fn, n_out, REQUIRED, NULL);
}

/* An optional array of names of table, as the OR of their values (of 1 << value with
 * shift). Unknown names are skipped when lenient (offers a later revision may extend), else
 * refused. Absent or null gives 0 and *present = 0. */
static uint32_t get_name_set(walk_t *w, const json_t *obj, const char *key, const name_t *table,
                             int lenient, int shift, int *present) {
    size_t mark = push_key(w, key);
    json_t *a = member(w, obj, key, NULLABLE);
    uint32_t bits = 0;
    *present = a != NULL;
    if (a != NULL && !json_is_array(a)) {
        fail(w, "must be an array, got %s", json_type_name(a));
    } else if (a != NULL) {
        for (size_t i = 0; i < json_array_size(a) && w->rc == 0; i++) {
            size_t m = push_index(w, i);
            const char *s = want_string(w, json_array_get(a, i));
            int v;
            if (s != NULL && value_of(table, s, strlen(s), &v))
                bits |= shift ? UINT32_C(1) << v : (uint32_t)v;
            else if (s != NULL && !lenient)
                want_enum(w, json_array_get(a, i), table); /* refuses, naming the values */
            pop(w, m);
        }
    }
    pop(w, mark);
    return bits;
}

static int want_object(walk_t *w, const json_t *v) {
    if (json_is_object(v))
        return 1;
    fail(w, "must be an object, got %s", json_type_name(v));
    return 0;
}

/* ---- decoding: messages -------------------------------------------------------------------- */

static void dec_hello(dec_t *d, const json_t *doc, proto_hello_t *h) {
    walk_t *w = &d->w;
    json_t *s = get_object(w, doc, "session");
    size_t mark = push_key(w, "session");
    h->session.scenario = get_text(w, s, "scenario", 1);
    h->session.seed = (uint64_t)get_int(w, s, "seed", 0, INT64_MAX);
    h->session.strategy = get_id(w, s, "strategy", NULLABLE);
    h->session.tick_ms = get_int(w, s, "tick_ms", 1, INT64_MAX);
    h->session.start_tod_ms = get_int(w, s, "start_tod_ms", 0, PROTO_DAY_MS - 1);
    pop(w, mark);
    int present;
    h->encodings = get_name_set(w, doc, "encodings", ENCODING_NAMES, 1, 1, &present);
    h->sync = get_name_set(w, doc, "sync", SYNC_NAMES, 1, 0, &present);
    json_t *map = get_object(w, doc, "map");
    if (map == NULL)
        return;
    char *text = json_dumps(map, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text == NULL) {
        oom(w);
        return;
    }
    h->map_json = base_arena_strdup(d->arena, text);
    free(text);
    if (h->map_json == NULL)
        oom(w);
}

static void dec_id_elem(dec_t *d, const json_t *v, void *elem) {
    *(const char **)elem = want_id(&d->w, v);
}

static void dec_role_elem(dec_t *d, const json_t *v, void *elem) {
    *(int *)elem = want_enum(&d->w, v, ROLE_NAMES);
}

static void dec_subscribe(dec_t *d, const json_t *v, proto_subscribe_t *sub) {
    walk_t *w = &d->w;
    int present;
    sub->signals = get_list_n(d, v, "signals", sizeof *sub->signals, dec_id_elem, &sub->n_signals,
                              NULLABLE, &present);
    sub->all_signals = !present;
    sub->detectors = get_list_n(d, v, "detectors", sizeof *sub->detectors, dec_id_elem,
                                &sub->n_detectors, NULLABLE, &present);
    sub->all_detectors = !present;
    int32_t n_roles = 0;
    int *roles =
        get_list_n(d, v, "roles", sizeof(int), dec_role_elem, &n_roles, NULLABLE, &present);
    sub->all_roles = !present;
    for (int32_t i = 0; i < n_roles && roles != NULL && w->rc == 0; i++)
        sub->roles |= PROTO_ROLE_BIT(roles[i]);
}

static void dec_welcome(dec_t *d, const json_t *doc, proto_welcome_t *m) {
    walk_t *w = &d->w;
    m->strategy = get_id(w, doc, "strategy", REQUIRED);
    m->controller = get_text(w, doc, "controller", 0);
    size_t mark = push_key(w, "encoding");
    json_t *e = member(w, doc, "encoding", NULLABLE);
    m->encoding = e != NULL ? (proto_encoding_t)want_enum(w, e, ENCODING_NAMES) : PROTO_ENC_JSON;
    pop(w, mark);
    mark = push_key(w, "subscribe");
    json_t *sv = member(w, doc, "subscribe", NULLABLE);
    if (sv != NULL && want_object(w, sv)) {
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

static void dec_group(dec_t *d, const json_t *v, void *elem) {
    walk_t *w = &d->w;
    proto_group_state_t *g = elem;
    if (!want_object(w, v))
        return;
    g->id = get_id(w, v, "signalGroup", REQUIRED);
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

static void dec_intersection(dec_t *d, const json_t *v, void *elem) {
    walk_t *w = &d->w;
    proto_intersection_state_t *x = elem;
    if (!want_object(w, v))
        return;
    x->id = get_id(w, v, "id", REQUIRED);
    x->stage = get_id(w, v, "stage", REQUIRED);
    x->next_stage = get_id(w, v, "next_stage", NULLABLE);
    x->in_change = get_bool(w, v, "in_change", REQUIRED);
    x->plan = get_id(w, v, "plan", REQUIRED);
    x->external = get_bool(w, v, "external", REQUIRED);
    json_t *st = get_object(w, v, "status");
    size_t mark = push_key(w, "status");
    x->preempt_active = get_bool(w, st, "preemptIsActive", REQUIRED);
    x->priority_active = get_bool(w, st, "signalPriorityIsActive", REQUIRED);
    x->in_transition = get_bool(w, st, "inTransition", REQUIRED);
    pop(w, mark);
    x->groups = get_list(d, v, "states", sizeof *x->groups, dec_group, &x->n_groups);
}

static void dec_detector(dec_t *d, const json_t *v, void *elem) {
    walk_t *w = &d->w;
    proto_detector_state_t *x = elem;
    if (!want_object(w, v))
        return;
    x->id = get_id(w, v, "id", REQUIRED);
    x->count = get_int(w, v, "count", 0, INT64_MAX);
    x->occupied = get_bool(w, v, "occupied", REQUIRED);
}

static void dec_request(dec_t *d, const json_t *v, void *elem) {
    walk_t *w = &d->w;
    proto_request_t *r = elem;
    if (!want_object(w, v))
        return;
    r->intersection = get_id(w, v, "id", REQUIRED);
    r->request_type = (proto_request_type_t)get_enum(w, v, "requestType", REQUEST_NAMES);
    r->in_bound_lane = get_id(w, v, "inBoundLane", REQUIRED);
    r->out_bound_lane = get_id(w, v, "outBoundLane", NULLABLE);
    r->eta_ms = get_int(w, v, "eta_ms", 0, INT64_MAX);
    r->duration_ms = get_int(w, v, "duration_ms", 0, INT64_MAX);
}

static void dec_srm(dec_t *d, const json_t *v, void *elem) {
    walk_t *w = &d->w;
    proto_srm_t *s = elem;
    if (!want_object(w, v))
        return;
    s->request_id = (int32_t)get_int(w, v, "requestID", 0, 255);
    s->msg_count = (int32_t)get_int(w, v, "sequenceNumber", 0, 127);
    json_t *r = get_object(w, v, "requester");
    size_t mark = push_key(w, "requester");
    s->vehicle_id = get_id(w, r, "id", REQUIRED);
    s->role = (proto_role_t)get_enum(w, r, "role", ROLE_NAMES);
    s->link = get_id(w, r, "link", REQUIRED);
    s->pos_m = get_num(w, r, "pos_m", 0.0);
    s->speed_mps = get_num(w, r, "speed_mps", 0.0);
    pop(w, mark);
    s->requests = get_list(d, v, "requests", sizeof *s->requests, dec_request, &s->n_requests);
}

static void dec_tick(dec_t *d, const json_t *doc, proto_tick_t *t) {
    t->time_ms = get_int(&d->w, doc, "time_ms", 0, INT64_MAX);
    t->delta = get_bool(&d->w, doc, "delta", NULLABLE);
    t->spat = get_list(d, doc, "spat", sizeof *t->spat, dec_intersection, &t->n_spat);
    t->detectors =
        get_list(d, doc, "detectors", sizeof *t->detectors, dec_detector, &t->n_detectors);
    t->srms = get_list(d, doc, "srm", sizeof *t->srms, dec_srm, &t->n_srms);
}

static void dec_command(dec_t *d, const json_t *v, void *elem) {
    walk_t *w = &d->w;
    proto_command_t *c = elem;
    if (!want_object(w, v))
        return;
    c->intersection = get_id(w, v, "intersection", REQUIRED);
    c->action = (proto_cmd_action_t)get_enum(w, v, "action", ACTION_NAMES);
    if (w->rc != 0)
        return;
    const char *action = proto_cmd_action_name(c->action);
    if (c->action == PROTO_CMD_CALL) {
        c->stage = get_id(w, v, "stage", REQUIRED);
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

static void dec_ssm(dec_t *d, const json_t *v, void *elem) {
    walk_t *w = &d->w;
    proto_ssm_entry_t *s = elem;
    if (!want_object(w, v))
        return;
    s->request_id = (int32_t)get_int(w, v, "requestID", 0, 255);
    s->vehicle_id = get_id(w, v, "requester", REQUIRED);
    s->intersection = get_id(w, v, "id", REQUIRED);
    s->status = (proto_ssm_status_t)get_enum(w, v, "status", SSM_NAMES);
}

static void dec_log_line(dec_t *d, const json_t *v, void *elem) {
    *(const char **)elem = want_string(&d->w, v);
}

static void dec_control(dec_t *d, const json_t *doc, proto_control_t *c) {
    walk_t *w = &d->w;
    c->ack = get_int(w, doc, "ack", 0, INT64_MAX);
    size_t mark = push_key(w, "wake");
    json_t *wk = member(w, doc, "wake", NULLABLE);
    if (wk != NULL && want_object(w, wk)) {
        int present;
        c->has_wake = 1;
        c->wake.at_ms = get_int_or_null(w, wk, "at_ms", 0, INT64_MAX, -1);
        c->wake.on = get_name_set(w, wk, "on", WAKE_NAMES, 0, 0, &present);
    }
    pop(w, mark);
    c->commands = get_list(d, doc, "commands", sizeof *c->commands, dec_command, &c->n_commands);
    c->ssm = get_list(d, doc, "ssm", sizeof *c->ssm, dec_ssm, &c->n_ssm);
    c->log = get_list(d, doc, "log", sizeof *c->log, dec_log_line, &c->n_log);
}

static void dec_bye(dec_t *d, const json_t *doc, proto_bye_t *b) {
    b->time_ms = get_int(&d->w, doc, "time_ms", 0, INT64_MAX);
    b->reason = get_text(&d->w, doc, "reason", 0);
}

/* Reads version and type at the top level (bare paths). */
static void dec_header(walk_t *w, const json_t *doc, proto_msg_t *msg) {
    size_t mark = push_key(w, "version");
    json_t *v = member(w, doc, "version", REQUIRED);
    if (v != NULL && !json_is_integer(v))
        fail(w, "must be an integer, got %s", json_type_name(v));
    else if (v != NULL && json_integer_value(v) != PROTO_VERSION)
        fail(w, "unsupported protocol version %lld (this side speaks %d)",
             (long long)json_integer_value(v), PROTO_VERSION);
    pop(w, mark);
    msg->version = PROTO_VERSION;

    mark = push_key(w, "type");
    v = member(w, doc, "type", REQUIRED);
    const char *s = v != NULL ? want_string(w, v) : NULL;
    if (s != NULL) {
        int t;
        if (value_of(TYPE_NAMES, s, strlen(s), &t)) {
            msg->type = (proto_type_t)t;
        } else {
            char q[QUOTE_BUF], names[128];
            quote(q, s, strlen(s));
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
    json_t *doc = load_doc(data, len, err);
    if (doc == NULL)
        return err != NULL && err->code != 0 ? err->code : BASE_EPROTO;
    msg->doc = doc;

    dec_t d = {.arena = &msg->arena};
    walk_t *w = &d.w;
    walk_init(w, err, BASE_EPROTO);
    if (!json_is_object(doc)) {
        fail(w, "message must be a JSON object, got %s", json_type_name(doc));
    } else {
        dec_header(w, doc, msg);
        if (w->rc == 0) {
            push(w, "%s", proto_type_name(msg->type));
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

/* Sets obj.key = v (stolen). A NULL v means out of memory. */
static void put(walk_t *w, json_t *obj, const char *key, json_t *v) {
    if (v == NULL) {
        oom(w);
        return;
    }
    if (w->rc != 0) {
        json_decref(v);
        return;
    }
    if (json_object_set_new(obj, key, v) < 0)
        oom(w);
}

/* Appends v (stolen) to the array a. */
static void append(walk_t *w, json_t *a, json_t *v) {
    if (v == NULL) {
        oom(w);
        return;
    }
    if (w->rc != 0) {
        json_decref(v);
        return;
    }
    if (json_array_append_new(a, v) < 0)
        oom(w);
}

/* Returns a JSON string of s or NULL (refused or out of memory); checks UTF-8 and, when id,
 * the id rule. The caller has pushed the path of s. */
static json_t *make_string(walk_t *w, const char *s, int id, int nonempty) {
    if (w->rc != 0)
        return NULL;
    size_t len = strlen(s);
    if (id && !id_ok(w, s, len))
        return NULL;
    if (nonempty && len == 0) {
        fail(w, "must not be empty");
        return NULL;
    }
    if (!utf8_valid((const unsigned char *)s, len)) {
        fail(w, "is not valid UTF-8");
        return NULL;
    }
    json_t *v = json_stringn_nocheck(s, len);
    if (v == NULL)
        oom(w);
    return v;
}

enum { TEXT = 0, TEXT_NONEMPTY = 1, ID = 2 };

static void put_string(walk_t *w, json_t *obj, const char *key, const char *s, int kind,
                       int nullable) {
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    if (s == NULL) {
        if (nullable)
            put(w, obj, key, json_null());
        else
            fail(w, "missing (NULL)");
    } else {
        json_t *v = make_string(w, s, kind == ID, kind == TEXT_NONEMPTY);
        if (v != NULL)
            put(w, obj, key, v);
    }
    pop(w, mark);
}

static void put_int(walk_t *w, json_t *obj, const char *key, int64_t v, int64_t lo, int64_t hi) {
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    if (!in_range(v, lo, hi))
        fail_range(w, (long long)v, lo, hi);
    else
        put(w, obj, key, json_integer((json_int_t)v));
    pop(w, mark);
}

static void put_num(walk_t *w, json_t *obj, const char *key, double v, double lo) {
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    if (!isfinite(v) || v < lo)
        fail(w, "must be a number >= %g, got %.17g", lo, v);
    else
        put(w, obj, key, json_real(v));
    pop(w, mark);
}

static void put_bool(walk_t *w, json_t *obj, const char *key, int v) {
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    if (v != 0 && v != 1)
        fail(w, "flag must be 0 or 1, got %d", v);
    else
        put(w, obj, key, json_boolean(v));
    pop(w, mark);
}

static void put_enum(walk_t *w, json_t *obj, const char *key, const name_t *table, int v) {
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    const char *name = name_of(table, v);
    if (name == NULL)
        fail(w, "value %d has no name on the wire", v);
    else
        put(w, obj, key, json_string(name));
    pop(w, mark);
}

/* Returns a new array at obj.key (path pushed, mark in *mark) after checking (p, n). */
static json_t *put_array(walk_t *w, json_t *obj, const char *key, const void *p, int32_t n,
                         size_t *mark) {
    *mark = push_key(w, key);
    if (w->rc != 0)
        return NULL;
    if (n < 0 || (n > 0 && p == NULL)) {
        fail(w, "bad array: %s with n = %d", p == NULL ? "NULL" : "non-NULL", (int)n);
        return NULL;
    }
    json_t *a = json_array();
    put(w, obj, key, a);
    return w->rc == 0 ? a : NULL;
}

/* Returns a new object appended to the array a; pushes [i]. */
static json_t *put_elem(walk_t *w, json_t *a, size_t i, size_t *mark) {
    *mark = push_index(w, i);
    json_t *o = json_object();
    append(w, a, o);
    return w->rc == 0 ? o : NULL;
}

/* Sets obj.key to the array of the names of table whose values (1 << value with shift) are
 * in bits, in table order; refuses bits without a name. */
static void put_name_set(walk_t *w, json_t *obj, const char *key, const name_t *table,
                         uint32_t bits, int shift) {
    if (w->rc != 0)
        return;
    size_t mark = push_key(w, key);
    json_t *a = json_array();
    put(w, obj, key, a);
    uint32_t named = 0;
    for (const name_t *t = table; t->name != NULL && w->rc == 0; t++) {
        uint32_t bit = shift ? UINT32_C(1) << t->value : (uint32_t)t->value;
        named |= bit;
        if (bits & bit)
            append(w, a, json_string(t->name));
    }
    if (w->rc == 0 && (bits & ~named) != 0)
        fail(w, "bits 0x%x have no name on the wire", (unsigned)(bits & ~named));
    pop(w, mark);
}

static void enc_hello(walk_t *w, json_t *root, const proto_hello_t *h) {
    json_t *s = json_object();
    put(w, root, "session", s);
    size_t mark = push_key(w, "session");
    put_string(w, s, "scenario", h->session.scenario, TEXT_NONEMPTY, REQUIRED);
    if (w->rc == 0 && h->session.seed > (uint64_t)INT64_MAX) {
        size_t m = push_key(w, "seed");
        fail(w, "must be <= %lld, got %llu", (long long)INT64_MAX,
             (unsigned long long)h->session.seed);
        pop(w, m);
    }
    put_int(w, s, "seed", (int64_t)h->session.seed, 0, INT64_MAX);
    put_string(w, s, "strategy", h->session.strategy, ID, NULLABLE);
    put_int(w, s, "tick_ms", h->session.tick_ms, 1, INT64_MAX);
    put_int(w, s, "start_tod_ms", h->session.start_tod_ms, 0, PROTO_DAY_MS - 1);
    pop(w, mark);
    if (h->encodings != 0)
        put_name_set(w, root, "encodings", ENCODING_NAMES, h->encodings, 1);
    if (h->sync != 0)
        put_name_set(w, root, "sync", SYNC_NAMES, h->sync, 0);

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
            fail(w, "must be a JSON object, got %s", json_type_name(map));
            json_decref(map);
        } else {
            put(w, root, "map", map);
        }
    }
    pop(w, mark);
}

/* Sets obj.key to an array of ids, or null when all. */
static void put_ids(walk_t *w, json_t *obj, const char *key, int all, const char *const *ids,
                    int32_t n) {
    if (w->rc != 0)
        return;
    if (all) {
        put(w, obj, key, json_null());
        return;
    }
    size_t mark;
    json_t *a = put_array(w, obj, key, ids, n, &mark);
    for (int32_t i = 0; i < n && w->rc == 0; i++) {
        size_t m = push_index(w, (size_t)i);
        if (ids[i] == NULL)
            fail(w, "missing (NULL)");
        else
            append(w, a, make_string(w, ids[i], 1, 1));
        pop(w, m);
    }
    pop(w, mark);
}

static void enc_welcome(walk_t *w, json_t *root, const proto_welcome_t *m) {
    put_string(w, root, "strategy", m->strategy, ID, REQUIRED);
    put_string(w, root, "controller", m->controller, TEXT, REQUIRED);
    if (m->encoding != PROTO_ENC_JSON)
        put_enum(w, root, "encoding", ENCODING_NAMES, (int)m->encoding);
    const proto_subscribe_t *sub = m->subscribe;
    if (sub == NULL || w->rc != 0)
        return;
    json_t *o = json_object();
    put(w, root, "subscribe", o);
    size_t mark = push_key(w, "subscribe");
    put_ids(w, o, "signals", sub->all_signals, sub->signals, sub->n_signals);
    put_ids(w, o, "detectors", sub->all_detectors, sub->detectors, sub->n_detectors);
    if (sub->all_roles) {
        put(w, o, "roles", json_null());
    } else if (w->rc == 0) {
        size_t k = push_key(w, "roles");
        json_t *a = json_array();
        put(w, o, "roles", a);
        uint32_t named = 0;
        for (const name_t *t = ROLE_NAMES; t->name != NULL && w->rc == 0; t++) {
            named |= PROTO_ROLE_BIT(t->value);
            if (sub->roles & PROTO_ROLE_BIT(t->value))
                append(w, a, json_string(t->name));
        }
        if (w->rc == 0 && (sub->roles & ~named) != 0)
            fail(w, "bits 0x%x name no role", (unsigned)(sub->roles & ~named));
        pop(w, k);
    }
    pop(w, mark);
}

static void enc_intersection(walk_t *w, json_t *o, const proto_intersection_state_t *x) {
    put_string(w, o, "id", x->id, ID, REQUIRED);
    put_string(w, o, "stage", x->stage, ID, REQUIRED);
    put_string(w, o, "next_stage", x->next_stage, ID, NULLABLE);
    put_bool(w, o, "in_change", x->in_change);
    put_string(w, o, "plan", x->plan, ID, REQUIRED);
    put_bool(w, o, "external", x->external);
    json_t *st = json_object();
    put(w, o, "status", st);
    size_t mark = push_key(w, "status");
    put_bool(w, st, "preemptIsActive", x->preempt_active);
    put_bool(w, st, "signalPriorityIsActive", x->priority_active);
    put_bool(w, st, "inTransition", x->in_transition);
    pop(w, mark);

    json_t *a = put_array(w, o, "states", x->groups, x->n_groups, &mark);
    for (int32_t i = 0; i < x->n_groups && w->rc == 0; i++) {
        const proto_group_state_t *g = &x->groups[i];
        size_t m;
        json_t *e = put_elem(w, a, (size_t)i, &m);
        put_string(w, e, "signalGroup", g->id, ID, REQUIRED);
        put_enum(w, e, "eventState", PHASE_NAMES, (int)g->state);
        put_int(w, e, "minEndTime_ms", g->min_end_ms, 0, INT64_MAX);
        if (g->max_end_ms == -1) {
            put(w, e, "maxEndTime_ms", json_null());
        } else if (w->rc == 0 && (g->max_end_ms < 0 || g->max_end_ms < g->min_end_ms)) {
            size_t k = push_key(w, "maxEndTime_ms");
            fail(w, "must be >= minEndTime_ms (%lld) or -1 (unknown), got %lld",
                 (long long)g->min_end_ms, (long long)g->max_end_ms);
            pop(w, k);
        } else {
            put_int(w, e, "maxEndTime_ms", g->max_end_ms, 0, INT64_MAX);
        }
        pop(w, m);
    }
    pop(w, mark);
}

static void enc_srm(walk_t *w, json_t *o, const proto_srm_t *s) {
    put_int(w, o, "requestID", s->request_id, 0, 255);
    put_int(w, o, "sequenceNumber", s->msg_count, 0, 127);
    json_t *r = json_object();
    put(w, o, "requester", r);
    size_t mark = push_key(w, "requester");
    put_string(w, r, "id", s->vehicle_id, ID, REQUIRED);
    put_enum(w, r, "role", ROLE_NAMES, (int)s->role);
    put_string(w, r, "link", s->link, ID, REQUIRED);
    put_num(w, r, "pos_m", s->pos_m, 0.0);
    put_num(w, r, "speed_mps", s->speed_mps, 0.0);
    pop(w, mark);

    json_t *a = put_array(w, o, "requests", s->requests, s->n_requests, &mark);
    for (int32_t i = 0; i < s->n_requests && w->rc == 0; i++) {
        const proto_request_t *q = &s->requests[i];
        size_t m;
        json_t *e = put_elem(w, a, (size_t)i, &m);
        put_string(w, e, "id", q->intersection, ID, REQUIRED);
        put_enum(w, e, "requestType", REQUEST_NAMES, (int)q->request_type);
        put_string(w, e, "inBoundLane", q->in_bound_lane, ID, REQUIRED);
        put_string(w, e, "outBoundLane", q->out_bound_lane, ID, NULLABLE);
        put_int(w, e, "eta_ms", q->eta_ms, 0, INT64_MAX);
        put_int(w, e, "duration_ms", q->duration_ms, 0, INT64_MAX);
        pop(w, m);
    }
    pop(w, mark);
}

static void enc_tick(walk_t *w, json_t *root, const proto_tick_t *t) {
    put_int(w, root, "time_ms", t->time_ms, 0, INT64_MAX);
    if (t->delta)
        put_bool(w, root, "delta", t->delta);
    size_t mark, m;
    json_t *a = put_array(w, root, "spat", t->spat, t->n_spat, &mark);
    for (int32_t i = 0; i < t->n_spat && w->rc == 0; i++) {
        json_t *e = put_elem(w, a, (size_t)i, &m);
        enc_intersection(w, e, &t->spat[i]);
        pop(w, m);
    }
    pop(w, mark);

    a = put_array(w, root, "detectors", t->detectors, t->n_detectors, &mark);
    for (int32_t i = 0; i < t->n_detectors && w->rc == 0; i++) {
        const proto_detector_state_t *x = &t->detectors[i];
        json_t *e = put_elem(w, a, (size_t)i, &m);
        put_string(w, e, "id", x->id, ID, REQUIRED);
        put_int(w, e, "count", x->count, 0, INT64_MAX);
        put_bool(w, e, "occupied", x->occupied);
        pop(w, m);
    }
    pop(w, mark);

    a = put_array(w, root, "srm", t->srms, t->n_srms, &mark);
    for (int32_t i = 0; i < t->n_srms && w->rc == 0; i++) {
        json_t *e = put_elem(w, a, (size_t)i, &m);
        enc_srm(w, e, &t->srms[i]);
        pop(w, m);
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

static void enc_command(walk_t *w, json_t *o, const proto_command_t *c) {
    put_string(w, o, "intersection", c->intersection, ID, REQUIRED);
    put_enum(w, o, "action", ACTION_NAMES, (int)c->action);
    if (w->rc != 0)
        return;
    const char *action = proto_cmd_action_name(c->action);
    if (c->action == PROTO_CMD_CALL) {
        put_string(w, o, "stage", c->stage, ID, REQUIRED);
        put_bool(w, o, "hold", c->hold);
    } else {
        enc_not_taken(w, "stage", c->stage != NULL, action);
        enc_not_taken(w, "hold", c->hold != 0, action);
    }
    if (c->action == PROTO_CMD_RELEASE) {
        put_enum(w, o, "transition", TRANSITION_NAMES, (int)c->transition);
        enc_not_taken(w, "preemptIsActive", c->preempt != 0, action);
    } else {
        enc_not_taken(w, "transition", c->transition != 0, action);
        put_bool(w, o, "preemptIsActive", c->preempt);
    }
}

static void enc_control(walk_t *w, json_t *root, const proto_control_t *c) {
    put_int(w, root, "ack", c->ack, 0, INT64_MAX);
    if (c->has_wake && w->rc == 0) {
        json_t *o = json_object();
        put(w, root, "wake", o);
        size_t k = push_key(w, "wake");
        if (c->wake.at_ms == -1)
            put(w, o, "at_ms", json_null());
        else
            put_int(w, o, "at_ms", c->wake.at_ms, 0, INT64_MAX);
        put_name_set(w, o, "on", WAKE_NAMES, c->wake.on, 0);
        pop(w, k);
    }
    size_t mark, m;
    json_t *a = put_array(w, root, "commands", c->commands, c->n_commands, &mark);
    for (int32_t i = 0; i < c->n_commands && w->rc == 0; i++) {
        json_t *e = put_elem(w, a, (size_t)i, &m);
        enc_command(w, e, &c->commands[i]);
        pop(w, m);
    }
    pop(w, mark);

    a = put_array(w, root, "ssm", c->ssm, c->n_ssm, &mark);
    for (int32_t i = 0; i < c->n_ssm && w->rc == 0; i++) {
        const proto_ssm_entry_t *s = &c->ssm[i];
        json_t *e = put_elem(w, a, (size_t)i, &m);
        put_int(w, e, "requestID", s->request_id, 0, 255);
        put_string(w, e, "requester", s->vehicle_id, ID, REQUIRED);
        put_string(w, e, "id", s->intersection, ID, REQUIRED);
        put_enum(w, e, "status", SSM_NAMES, (int)s->status);
        pop(w, m);
    }
    pop(w, mark);

    a = put_array(w, root, "log", c->log, c->n_log, &mark);
    for (int32_t i = 0; i < c->n_log && w->rc == 0; i++) {
        m = push_index(w, (size_t)i);
        if (c->log[i] == NULL)
            fail(w, "missing (NULL)");
        else
            append(w, a, make_string(w, c->log[i], 0, 0));
        pop(w, m);
    }
    pop(w, mark);
}

static void enc_bye(walk_t *w, json_t *root, const proto_bye_t *b) {
    put_int(w, root, "time_ms", b->time_ms, 0, INT64_MAX);
    put_string(w, root, "reason", b->reason, TEXT, REQUIRED);
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

/* Parses MessagePack bytes into a jansson tree, or NULL with BASE_EPROTO in err. */
static json_t *mp_load(const void *data, size_t len, base_err_t *err) {
    char why[160] = "out of memory";
    size_t end = 0;
    if (mp_scan(data, len, &end, why, sizeof why) < 0) {
        base_err_set(err, BASE_EPROTO, "invalid MessagePack: %s", why);
        return NULL;
    }
    if (end != len) {
        base_err_set(err, BASE_EPROTO,
                     "invalid MessagePack: %zu bytes after the object at byte %zu", len - end, end);
        return NULL;
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    json_t *doc = NULL;
    if (msgpack_unpack_next(&u, data, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len)
        base_err_set(err, BASE_EPROTO, "invalid MessagePack (msgpack-c refused it)");
    else if ((doc = mp_to_json(&u.data, why, sizeof why)) == NULL)
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
    json_t *root = json_object();
    if (root == NULL) {
        oom(&w);
        return NULL;
    }
    put(&w, root, "type", json_string(type));
    put(&w, root, "version", json_integer(PROTO_VERSION));
    push(&w, "%s", type);
    put_int(&w, root, "seq", msg->seq, 0, INT64_MAX);
    switch (msg->type) {
    case PROTO_HELLO:
        enc_hello(&w, root, &msg->u.hello);
        break;
    case PROTO_WELCOME:
        enc_welcome(&w, root, &msg->u.welcome);
        break;
    case PROTO_TICK:
        enc_tick(&w, root, &msg->u.tick);
        break;
    case PROTO_CONTROL:
        enc_control(&w, root, &msg->u.control);
        break;
    case PROTO_BYE:
        enc_bye(&w, root, &msg->u.bye);
        break;
    }
    if (w.rc == 0) /* the numeric ranges, shared by every encoding (proto/check.h) */
        w.rc = proto_msg_check(msg, BASE_EINVAL, err);
    char *text = NULL;
    size_t n = 0;
    if (w.rc == 0) {
        text = serialise(root, enc, &n);
        if (text == NULL)
            oom(&w);
    }
    json_decref(root);
    if (text != NULL && n > PROTO_MSG_MAX) {
        pop(&w, 0);
        fail(&w, "%s: encoded message of %zu bytes exceeds the limit of %zu bytes", type, n,
             PROTO_MSG_MAX);
        free(text);
        return NULL;
    }
    if (text != NULL && len != NULL)
        *len = n;
    return text;
}
