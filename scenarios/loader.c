/*
 * scenarios/loader.c - scenario JSON (version 1) to sim_scenario_t.
 *
 * Two passes over the parsed document: first every array of named things gets its ids
 * entered in a name table (duplicates refused), so references may point forward; then each
 * object is read field by field through small typed getters that know the JSON path of what
 * they read and refuse unknown keys. Semantic checks (links that meet, conflict-free stages,
 * splits that add up, reachable destinations) follow, each naming the path of the offending
 * entry. Everything allocated for the scenario comes from its arena; the name tables and the
 * jansson document are freed on every exit path through one cleanup label.
 *
 * Memory: demand.trips, the one part of a scenario that grows to hundreds of thousands of
 * entries, is not parsed into the tree: scenarios/json_split.h locates it in the text and it
 * is read one trip at a time (jansson's tree costs about 1 KB a trip). The text and the tree
 * of the rest are freed before routing, so the peak is the text, the tree of the network and
 * the scenario, not the tree of the whole file (40 x 40 grid, 236 k trips: 313 -> ~110 MB).
 */
#include "scenarios/loader.h"

#include "scenarios/json_split.h"
#include "sim/limits.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- a small string -> index table (open addressing, FNV-1a) ----------------------- */

typedef struct {
    const char **keys;
    int32_t *vals;
    size_t cap;
} names_t;

static uint64_t fnv1a(const char *s) {
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static int names_init(names_t *t, size_t n) {
    t->cap = 16;
    while (t->cap < 2 * n + 1)
        t->cap *= 2;
    t->keys = calloc(t->cap, sizeof *t->keys);
    t->vals = calloc(t->cap, sizeof *t->vals);
    return (t->keys && t->vals) ? 0 : -1;
}

static void names_fini(names_t *t) {
    free(t->keys);
    free(t->vals);
    t->keys = NULL;
    t->vals = NULL;
}

/* Returns the index stored for key, or -1. */
static int32_t names_get(const names_t *t, const char *key) {
    if (t->keys == NULL)
        return -1;
    for (size_t i = fnv1a(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (t->keys[i] == NULL)
            return -1;
        if (strcmp(t->keys[i], key) == 0)
            return t->vals[i];
    }
}

/* Stores key -> val; returns the earlier index if key was already there, else -1. */
static int32_t names_put(names_t *t, const char *key, int32_t val) {
    for (size_t i = fnv1a(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (t->keys[i] == NULL) {
            t->keys[i] = key;
            t->vals[i] = val;
            return -1;
        }
        if (strcmp(t->keys[i], key) == 0)
            return t->vals[i];
    }
}

/* ---- loader context and typed getters ---------------------------------------------- */

typedef struct {
    const char *file;
    base_err_t *err;
    sim_scenario_t *scn;
    names_t nodes, links, movements, classes, corridors, detectors;
    uint64_t *move_keys;     /* (from << 32 | to) of every movement, sorted: routes are checked
                                against it in O(log n) per step */
    scn_json_split_t *trips; /* demand.trips read entry by entry, or NULL: in the tree */
} ld_t;

#define PATH_MAX_LEN 256

/* Formats a JSON path into dst; long paths are truncated (they only appear in messages). */
static void path_fmt(char *dst, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void path_fmt(char *dst, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, n, fmt, ap);
    va_end(ap);
}

static int fail(ld_t *ld, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(ld_t *ld, const char *path, const char *fmt, ...) {
    char what[BASE_ERR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return base_err_set(ld->err, BASE_EINVAL, "%s: %s: %s", ld->file, path, what);
}

static int fail_field(ld_t *ld, const char *path, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Like fail(), for the member key of the object at path: "$.links[3].lanes: ...". */
static int fail_field(ld_t *ld, const char *path, const char *key, const char *fmt, ...) {
    char what[BASE_ERR_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return base_err_set(ld->err, BASE_EINVAL, "%s: %s.%s: %s", ld->file, path, key, what);
}

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Refuses keys of obj not in the NULL-terminated list allowed. */
static int check_keys(ld_t *ld, const json_t *obj, const char *path, const char *const *allowed) {
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        (void)val;
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) {
            if (strcmp(*a, key) == 0) {
                ok = 1;
                break;
            }
        }
        if (!ok) {
            char list[512] = "";
            size_t used = 0;
            for (const char *const *a = allowed; *a && used < sizeof list - 64; a++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                         a == allowed ? "" : ", ", *a);
            return fail(ld, path, "unknown field \"%s\" (expected one of: %s)", key, list);
        }
    }
    return 0;
}

static int want_object(ld_t *ld, const json_t *v, const char *path) {
    if (!json_is_object(v))
        return fail(ld, path, "must be an object, got %s", type_name(v));
    return 0;
}

/* Gets member key of obj; *out NULL when absent. Required members must be present. */
static int member(ld_t *ld, const json_t *obj, const char *path, const char *key, int required,
                  json_t **out) {
    *out = json_object_get(obj, key);
    if (*out == NULL && required)
        return fail(ld, path, "missing required field \"%s\"", key);
    return 0;
}

static int get_string(ld_t *ld, const json_t *obj, const char *path, const char *key, int required,
                      const char *def, const char **out) {
    json_t *v;
    if (member(ld, obj, path, key, required, &v) < 0)
        return -1;
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (!json_is_string(v))
        return fail_field(ld, path, key, "must be a string, got %s", type_name(v));
    if (json_string_length(v) == 0)
        return fail_field(ld, path, key, "must not be empty");
    if (strcmp(key, "id") == 0 && json_string_length(v) > SIM_LIM_ID_BYTES)
        return fail_field(ld, path, key, "must be at most %d bytes long, got %zu", SIM_LIM_ID_BYTES,
                          json_string_length(v));
    *out = base_arena_strdup(&ld->scn->arena, json_string_value(v));
    if (*out == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    return 0;
}

enum { GT = 1, GE = 2 }; /* lower bound: strictly greater, or greater or equal */

/* Gets a number with lo (GT/GE) and optional upper bound hi (inclusive; NAN: none). */
static int get_number(ld_t *ld, const json_t *obj, const char *path, const char *key, int required,
                      double def, int lo_kind, double lo, double hi, double *out) {
    json_t *v;
    if (member(ld, obj, path, key, required, &v) < 0)
        return -1;
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (!json_is_number(v))
        return fail_field(ld, path, key, "must be a number, got %s", type_name(v));
    double x = json_number_value(v);
    size_t klen = strlen(key);
    /* Any time in seconds, even one without its own range: bounded (sim/limits.h). */
    if (klen > 2 && strcmp(key + klen - 2, "_s") == 0 && isfinite(x) && x > SIM_LIM_TIME_S &&
        (isnan(hi) || hi > SIM_LIM_TIME_S))
        hi = SIM_LIM_TIME_S;
    int bad = !isfinite(x) || (lo_kind == GT && !(x > lo)) || (lo_kind == GE && !(x >= lo)) ||
              (!isnan(hi) && x > hi);
    if (bad) {
        if (!isnan(hi))
            return fail_field(ld, path, key, "must be in %s%g, %g], got %g",
                              lo_kind == GT ? "(" : "[", lo, hi, x);
        return fail_field(ld, path, key, "must be %s %g, got %g", lo_kind == GT ? ">" : ">=", lo,
                          x);
    }
    *out = x;
    return 0;
}

/* Gets an optional boolean (def when absent). */
static int get_bool(ld_t *ld, const json_t *obj, const char *path, const char *key, int def,
                    int *out) {
    json_t *v;
    if (member(ld, obj, path, key, 0, &v) < 0)
        return -1;
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v))
        return fail_field(ld, path, key, "must be true or false, got %s", type_name(v));
    *out = json_is_true(v) ? 1 : 0;
    return 0;
}

static int get_int(ld_t *ld, const json_t *obj, const char *path, const char *key, int required,
                   int32_t def, int32_t lo, int32_t hi, int32_t *out) {
    json_t *v;
    if (member(ld, obj, path, key, required, &v) < 0)
        return -1;
    if (v == NULL) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        if (json_is_integer(v))
            return fail_field(ld, path, key,
                              "must be an integer in [%d, %d], got %" JSON_INTEGER_FORMAT, (int)lo,
                              (int)hi, json_integer_value(v));
        if (json_is_number(v))
            return fail_field(ld, path, key, "must be an integer in [%d, %d], got %g", (int)lo,
                              (int)hi, json_number_value(v));
        return fail_field(ld, path, key, "must be an integer in [%d, %d], got %s", (int)lo, (int)hi,
                          type_name(v));
    }
    *out = (int32_t)json_integer_value(v);
    return 0;
}

static int get_array(ld_t *ld, const json_t *obj, const char *path, const char *key, int required,
                     json_t **out) {
    if (member(ld, obj, path, key, required, out) < 0)
        return -1;
    if (*out != NULL && !json_is_array(*out))
        return fail_field(ld, path, key, "must be an array, got %s", type_name(*out));
    if (*out != NULL && json_array_size(*out) > SIM_LIM_COUNT)
        return fail_field(ld, path, key, "must have at most %d entries, got %zu", SIM_LIM_COUNT,
                          json_array_size(*out));
    return 0;
}

/* Resolves a reference: the string value v names an entry of table (what: "node", ...). */
static int resolve(ld_t *ld, const names_t *table, const json_t *v, const char *path,
                   const char *what, int32_t *out) {
    if (!json_is_string(v))
        return fail(ld, path, "must be a %s id (a string), got %s", what, type_name(v));
    int32_t i = names_get(table, json_string_value(v));
    if (i < 0)
        return fail(ld, path, "unknown %s \"%s\"", what, json_string_value(v));
    *out = i;
    return 0;
}

static int get_ref(ld_t *ld, const json_t *obj, const char *path, const char *key,
                   const names_t *table, const char *what, int32_t *out) {
    json_t *v;
    if (member(ld, obj, path, key, 1, &v) < 0)
        return -1;
    char p[PATH_MAX_LEN];
    path_fmt(p, sizeof p, "%s.%s", path, key);
    return resolve(ld, table, v, p, what, out);
}

/* Reads an array of references into an arena array. */
static int get_ref_list(ld_t *ld, const json_t *obj, const char *path, const char *key,
                        int required, const names_t *table, const char *what, int32_t **out,
                        int32_t *n) {
    json_t *arr;
    if (get_array(ld, obj, path, key, required, &arr) < 0)
        return -1;
    *out = NULL;
    *n = 0;
    if (arr == NULL)
        return 0;
    size_t len = json_array_size(arr);
    *out = base_arena_calloc(&ld->scn->arena, len + 1, sizeof **out);
    if (*out == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    for (size_t i = 0; i < len; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "%s.%s[%zu]", path, key, i);
        if (resolve(ld, table, json_array_get(arr, i), p, what, &(*out)[i]) < 0)
            return -1;
    }
    *n = (int32_t)len;
    return 0;
}

/* Parses "HH:MM:SS" (seconds optional when allow_hm) into ms since midnight. */
static int parse_tod(ld_t *ld, const json_t *obj, const char *path, const char *key, int required,
                     const char *def, int allow_hm, sim_time_t *out) {
    json_t *v;
    if (member(ld, obj, path, key, required, &v) < 0)
        return -1;
    const char *s = def;
    if (v != NULL) {
        if (!json_is_string(v))
            return fail_field(ld, path, key, "must be a time of day string, got %s", type_name(v));
        s = json_string_value(v);
    }
    /* Exactly HH:MM or HH:MM:SS, two digits each. */
    size_t n = strlen(s);
    int ok = (n == 8 || (allow_hm && n == 5));
    for (size_t i = 0; ok && i < n; i++)
        ok = (i % 3 == 2) ? s[i] == ':' : (s[i] >= '0' && s[i] <= '9');
    int h = ok ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
    int m = ok ? (s[3] - '0') * 10 + (s[4] - '0') : -1;
    int sec = ok && n == 8 ? (s[6] - '0') * 10 + (s[7] - '0') : 0;
    if (!ok || h > 23 || m > 59 || sec > 59)
        return fail_field(ld, path, key, "must be a time of day \"%s\", got \"%s\"",
                          allow_hm ? "HH:MM[:SS]" : "HH:MM:SS", s);
    *out = ((sim_time_t)h * 3600 + m * 60 + sec) * SIM_MS_PER_S;
    return 0;
}

/* Enters the ids of the objects of an array in a name table. */
static int index_ids(ld_t *ld, const json_t *arr, const char *path, names_t *table,
                     const char *what) {
    size_t n = arr ? json_array_size(arr) : 0;
    if (names_init(table, n) < 0)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "%s[%zu]", path, i);
        json_t *o = json_array_get(arr, i);
        if (want_object(ld, o, p) < 0)
            return -1;
        json_t *id = json_object_get(o, "id");
        if (id == NULL)
            return fail(ld, p, "missing required field \"id\"");
        if (!json_is_string(id) || json_string_length(id) == 0)
            return fail_field(ld, p, "id", "must be a non-empty string, got %s", type_name(id));
        int32_t prev = names_put(table, json_string_value(id), (int32_t)i);
        if (prev >= 0)
            return fail(ld, p, "duplicate %s id \"%s\" (also %s[%d])", what, json_string_value(id),
                        path, (int)prev);
    }
    return 0;
}

/* ---- sections ---------------------------------------------------------------------- */

static int load_model(ld_t *ld, const json_t *root) {
    json_t *m = json_object_get(root, "model");
    if (m == NULL)
        return 0;
    const char *path = "$.model";
    static const char *const keys[] = {"startup_lost_time_s", "min_speed_fraction", "stop_wait_s",
                                       "depart_from_rest", NULL};
    if (want_object(ld, m, path) < 0 || check_keys(ld, m, path, keys) < 0)
        return -1;
    double lost, frac, wait;
    if (get_number(ld, m, path, "startup_lost_time_s", 0, 2.0, GE, 0, SIM_LIM_LOST_S, &lost) < 0 ||
        get_number(ld, m, path, "min_speed_fraction", 0, 0.1, GE, SIM_LIM_SPEED_FRACTION_MIN, 1,
                   &frac) < 0 ||
        get_number(ld, m, path, "stop_wait_s", 0, 1.0, GE, 0, SIM_LIM_STOP_WAIT_S, &wait) < 0 ||
        get_bool(ld, m, path, "depart_from_rest", 0, &ld->scn->model.depart_from_rest) < 0)
        return -1;
    ld->scn->model.startup_lost_time = sim_time_from_s(lost);
    ld->scn->model.min_speed_fraction = frac;
    ld->scn->model.stop_wait = sim_time_from_s(wait);
    return 0;
}

static int load_classes(ld_t *ld, const json_t *root) {
    json_t *arr;
    sim_scenario_t *scn = ld->scn;
    if (get_array(ld, root, "$", "vehicle_classes", 0, &arr) < 0)
        return -1;
    if (arr == NULL) {
        if (names_init(&ld->classes, (size_t)scn->n_classes) < 0)
            return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
        for (int32_t i = 0; i < scn->n_classes; i++)
            names_put(&ld->classes, scn->classes[i].id, i);
        return 0;
    }
    if (json_array_size(arr) == 0)
        return fail(ld, "$.vehicle_classes", "must not be empty");
    if (index_ids(ld, arr, "$.vehicle_classes", &ld->classes, "class") < 0)
        return -1;
    size_t n = json_array_size(arr);
    /* The built-in classes give the default accelerations of a class of the same id. */
    const sim_vclass_t *builtin = scn->classes;
    int32_t n_builtin = scn->n_classes;
    scn->classes = base_arena_calloc(&scn->arena, n, sizeof *scn->classes);
    if (scn->classes == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    scn->n_classes = (int32_t)n;
    static const char *const keys[] = {"id",         "pce",        "max_speed_kmh",
                                       "accel_mps2", "decel_mps2", NULL};
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.vehicle_classes[%zu]", i);
        json_t *o = json_array_get(arr, i);
        sim_vclass_t *c = &scn->classes[i];
        double pce, vmax, accel, decel;
        if (check_keys(ld, o, p, keys) < 0 || get_string(ld, o, p, "id", 1, NULL, &c->id) < 0)
            return -1;
        double accel0 = SIM_DEFAULT_ACCEL_MPS2, decel0 = SIM_DEFAULT_DECEL_MPS2;
        for (int32_t b = 0; b < n_builtin; b++) {
            if (strcmp(builtin[b].id, c->id) == 0) {
                accel0 = builtin[b].accel_mps2;
                decel0 = builtin[b].decel_mps2;
            }
        }
        if (get_number(ld, o, p, "pce", 0, 1.0, GE, SIM_LIM_PCE_MIN, SIM_LIM_PCE_MAX, &pce) < 0 ||
            get_number(ld, o, p, "max_speed_kmh", 0, 0.0, GE, SIM_LIM_SPEED_KMH_MIN,
                       SIM_LIM_SPEED_KMH_MAX, &vmax) < 0 ||
            get_number(ld, o, p, "accel_mps2", 0, accel0, GE, SIM_LIM_ACCEL_MIN, SIM_LIM_ACCEL_MAX,
                       &accel) < 0 ||
            get_number(ld, o, p, "decel_mps2", 0, decel0, GE, SIM_LIM_ACCEL_MIN, SIM_LIM_ACCEL_MAX,
                       &decel) < 0)
            return -1;
        c->pce = pce;
        c->max_speed_mps = vmax / 3.6;
        c->accel_mps2 = accel;
        c->decel_mps2 = decel;
    }
    return 0;
}

static int load_nodes(ld_t *ld, const json_t *arr) {
    sim_scenario_t *scn = ld->scn;
    size_t n = json_array_size(arr);
    scn->nodes = base_arena_calloc(&scn->arena, n, sizeof *scn->nodes);
    if (scn->nodes == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    scn->n_nodes = (int32_t)n;
    static const char *const keys[] = {"id", "name", "kind", "x_m", "y_m", NULL};
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.nodes[%zu]", i);
        json_t *o = json_array_get(arr, i);
        sim_node_t *nd = &scn->nodes[i];
        const char *kind;
        if (check_keys(ld, o, p, keys) < 0 || get_string(ld, o, p, "id", 1, NULL, &nd->id) < 0 ||
            get_string(ld, o, p, "name", 0, nd->id, &nd->name) < 0 ||
            get_string(ld, o, p, "kind", 1, NULL, &kind) < 0 ||
            get_number(ld, o, p, "x_m", 1, 0, GE, -SIM_LIM_COORD_M, SIM_LIM_COORD_M, &nd->x_m) <
                0 ||
            get_number(ld, o, p, "y_m", 1, 0, GE, -SIM_LIM_COORD_M, SIM_LIM_COORD_M, &nd->y_m) < 0)
            return -1;
        if (strcmp(kind, "signalized") == 0)
            nd->kind = SIM_NODE_SIGNALIZED;
        else if (strcmp(kind, "unsignalized") == 0)
            nd->kind = SIM_NODE_UNSIGNALIZED;
        else if (strcmp(kind, "boundary") == 0)
            nd->kind = SIM_NODE_BOUNDARY;
        else
            return fail_field(ld, p, "kind",
                              "must be \"signalized\", \"unsignalized\" or "
                              "\"boundary\", got \"%s\"",
                              kind);
        nd->signal = -1;
    }
    return 0;
}

/* The optional drawing shape of a link: at least two [x_m, y_m] points (only the viewer uses
 * it; the model uses length_m). */
static int check_shape(ld_t *ld, const json_t *o, const char *p) {
    json_t *shape;
    if (get_array(ld, o, p, "shape", 0, &shape) < 0)
        return -1;
    if (shape == NULL)
        return 0;
    if (json_array_size(shape) < 2)
        return fail_field(ld, p, "shape", "must have at least 2 points, got %zu",
                          json_array_size(shape));
    for (size_t k = 0; k < json_array_size(shape); k++) {
        json_t *pt = json_array_get(shape, k);
        if (!json_is_array(pt) || json_array_size(pt) != 2 ||
            !json_is_number(json_array_get(pt, 0)) || !json_is_number(json_array_get(pt, 1)))
            return fail_field(ld, p, "shape", "point %zu must be [x_m, y_m]", k);
    }
    return 0;
}

static int load_links(ld_t *ld, const json_t *arr) {
    sim_scenario_t *scn = ld->scn;
    size_t n = json_array_size(arr);
    scn->links = base_arena_calloc(&scn->arena, n, sizeof *scn->links);
    if (scn->links == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    scn->n_links = (int32_t)n;
    static const char *const keys[] = {"id",
                                       "name",
                                       "from",
                                       "to",
                                       "length_m",
                                       "lanes",
                                       "free_speed_kmh",
                                       "sat_flow_vphpl",
                                       "jam_spacing_m",
                                       "shape",
                                       NULL};
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.links[%zu]", i);
        json_t *o = json_array_get(arr, i);
        sim_link_t *l = &scn->links[i];
        double speed;
        if (check_keys(ld, o, p, keys) < 0 || get_string(ld, o, p, "id", 1, NULL, &l->id) < 0 ||
            get_string(ld, o, p, "name", 0, l->id, &l->name) < 0 ||
            get_ref(ld, o, p, "from", &ld->nodes, "node", &l->from) < 0 ||
            get_ref(ld, o, p, "to", &ld->nodes, "node", &l->to) < 0 ||
            get_number(ld, o, p, "length_m", 1, 0, GE, SIM_LIM_LENGTH_M_MIN, SIM_LIM_LENGTH_M_MAX,
                       &l->length_m) < 0 ||
            get_int(ld, o, p, "lanes", 1, 0, 1, SIM_LIM_LANES, &l->lanes) < 0 ||
            get_number(ld, o, p, "free_speed_kmh", 1, 0, GE, SIM_LIM_SPEED_KMH_MIN,
                       SIM_LIM_SPEED_KMH_MAX, &speed) < 0 ||
            get_number(ld, o, p, "sat_flow_vphpl", 0, 1800, GE, SIM_LIM_SAT_FLOW_MIN,
                       SIM_LIM_SAT_FLOW_MAX, &l->sat_flow_vphpl) < 0 ||
            get_number(ld, o, p, "jam_spacing_m", 0, 7.5, GE, SIM_LIM_JAM_SPACING_M_MIN,
                       SIM_LIM_JAM_SPACING_M_MAX, &l->jam_spacing_m) < 0)
            return -1;
        if (l->from == l->to)
            return fail(ld, p, "link starts and ends at the same node \"%s\"",
                        scn->nodes[l->from].id);
        if (check_shape(ld, o, p) < 0)
            return -1;
        l->free_speed_mps = speed / 3.6;
    }
    return 0;
}

static int load_movements(ld_t *ld, const json_t *arr) {
    sim_scenario_t *scn = ld->scn;
    size_t n = arr ? json_array_size(arr) : 0;
    scn->movements = base_arena_calloc(&scn->arena, n + 1, sizeof *scn->movements);
    if (scn->movements == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    scn->n_movements = (int32_t)n;
    static const char *const keys[] = {"id",
                                       "from",
                                       "to",
                                       "turn",
                                       "lanes",
                                       "sat_factor",
                                       "crossing_length_m",
                                       "crossing_speed_kmh",
                                       NULL};
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.movements[%zu]", i);
        json_t *o = json_array_get(arr, i);
        sim_movement_t *m = &scn->movements[i];
        const char *turn;
        if (check_keys(ld, o, p, keys) < 0 || get_string(ld, o, p, "id", 1, NULL, &m->id) < 0 ||
            get_ref(ld, o, p, "from", &ld->links, "link", &m->from) < 0 ||
            get_ref(ld, o, p, "to", &ld->links, "link", &m->to) < 0 ||
            get_string(ld, o, p, "turn", 1, NULL, &turn) < 0 ||
            get_number(ld, o, p, "sat_factor", 0, 1.0, GE, SIM_LIM_SAT_FACTOR_MIN, 1,
                       &m->sat_factor) < 0 ||
            get_number(ld, o, p, "crossing_length_m", 0, 0.0, GE, 0, SIM_LIM_CROSSING_M_MAX,
                       &m->crossing_length_m) < 0 ||
            get_number(ld, o, p, "crossing_speed_kmh", 0, 0.0, GE, SIM_LIM_SPEED_KMH_MIN,
                       SIM_LIM_SPEED_KMH_MAX, &m->crossing_speed_mps) < 0)
            return -1;
        m->crossing_speed_mps /= 3.6; /* 0 (absent) stays 0: no crossing speed */
        if (strcmp(turn, "through") == 0)
            m->turn = SIM_TURN_THROUGH;
        else if (strcmp(turn, "left") == 0)
            m->turn = SIM_TURN_LEFT;
        else if (strcmp(turn, "right") == 0)
            m->turn = SIM_TURN_RIGHT;
        else if (strcmp(turn, "uturn") == 0)
            m->turn = SIM_TURN_UTURN;
        else
            return fail_field(ld, p, "turn",
                              "must be \"through\", \"left\", \"right\" or \"uturn\", "
                              "got \"%s\"",
                              turn);
        const sim_link_t *from = &scn->links[m->from];
        const sim_link_t *to = &scn->links[m->to];
        int32_t def_lanes = m->turn == SIM_TURN_THROUGH ? from->lanes : 1;
        if (get_int(ld, o, p, "lanes", 0, def_lanes, 1, SIM_LIM_LANES, &m->lanes) < 0)
            return -1;
        if (m->lanes > from->lanes)
            return fail_field(ld, p, "lanes", "is %d but link \"%s\" has only %d", (int)m->lanes,
                              from->id, (int)from->lanes);
        if (from->to != to->from)
            return fail(ld, p,
                        "links \"%s\" and \"%s\" do not meet: \"%s\" ends at node \"%s\", "
                        "\"%s\" starts at node \"%s\"",
                        from->id, to->id, from->id, scn->nodes[from->to].id, to->id,
                        scn->nodes[to->from].id);
        m->signal = -1;
        m->group = -1;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int index_movements(ld_t *ld) {
    const sim_scenario_t *scn = ld->scn;
    ld->move_keys = malloc(((size_t)scn->n_movements + 1) * sizeof *ld->move_keys);
    if (ld->move_keys == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    for (int32_t m = 0; m < scn->n_movements; m++)
        ld->move_keys[m] =
            (uint64_t)(uint32_t)scn->movements[m].from << 32 | (uint32_t)scn->movements[m].to;
    qsort(ld->move_keys, (size_t)scn->n_movements, sizeof *ld->move_keys, cmp_u64);
    return 0;
}

static int load_signal(ld_t *ld, const json_t *o, const char *p, int32_t s) {
    sim_scenario_t *scn = ld->scn;
    sim_signal_t *sig = &scn->signals[s];
    static const char *const keys[] = {"node",  "groups",   "conflicts", "stages",
                                       "plans", "schedule", NULL};
    if (want_object(ld, o, p) < 0 || check_keys(ld, o, p, keys) < 0 ||
        get_ref(ld, o, p, "node", &ld->nodes, "node", &sig->node) < 0)
        return -1;
    sim_node_t *node = &scn->nodes[sig->node];
    if (node->kind != SIM_NODE_SIGNALIZED)
        return fail(ld, p, "node \"%s\" is not of kind \"signalized\"", node->id);
    if (node->signal >= 0)
        return fail(ld, p, "node \"%s\" already has signals ($.signals[%d])", node->id,
                    (int)node->signal);
    node->signal = s;

    int rc = -1;
    names_t groups = {0}, stages = {0}, plans = {0};
    json_t *garr, *carr, *sarr, *parr, *sched;
    char q[PATH_MAX_LEN];
    if (get_array(ld, o, p, "groups", 1, &garr) < 0 ||
        get_array(ld, o, p, "conflicts", 0, &carr) < 0 ||
        get_array(ld, o, p, "stages", 1, &sarr) < 0 || get_array(ld, o, p, "plans", 1, &parr) < 0 ||
        get_array(ld, o, p, "schedule", 1, &sched) < 0)
        goto done;
    size_t ng = json_array_size(garr), ns = json_array_size(sarr), np = json_array_size(parr);
    if (ng == 0 || ns == 0 || np == 0 || json_array_size(sched) == 0) {
        fail(ld, p, "\"groups\", \"stages\", \"plans\" and \"schedule\" must not be empty");
        goto done;
    }
    if (ng > SIM_MAX_GROUPS) {
        fail(ld, p, "at most %d signal groups per node, got %zu", SIM_MAX_GROUPS, ng);
        goto done;
    }
    path_fmt(q, sizeof q, "%s.groups", p);
    if (index_ids(ld, garr, q, &groups, "signal group") < 0)
        goto done;
    path_fmt(q, sizeof q, "%s.stages", p);
    if (index_ids(ld, sarr, q, &stages, "stage") < 0)
        goto done;
    path_fmt(q, sizeof q, "%s.plans", p);
    if (index_ids(ld, parr, q, &plans, "plan") < 0)
        goto done;

    sig->n_groups = (int32_t)ng;
    sig->groups = base_arena_calloc(&scn->arena, ng, sizeof *sig->groups);
    sig->conflicts = base_arena_calloc(&scn->arena, ng, sizeof *sig->conflicts);
    sig->n_stages = (int32_t)ns;
    sig->stages = base_arena_calloc(&scn->arena, ns, sizeof *sig->stages);
    sig->n_plans = (int32_t)np;
    sig->plans = base_arena_calloc(&scn->arena, np, sizeof *sig->plans);
    sig->n_schedule = (int32_t)json_array_size(sched);
    sig->schedule = base_arena_calloc(&scn->arena, (size_t)sig->n_schedule, sizeof *sig->schedule);
    if (!sig->groups || !sig->conflicts || !sig->stages || !sig->plans || !sig->schedule) {
        base_err_set(ld->err, BASE_ENOMEM, "out of memory");
        goto done;
    }
    static const char *const gkeys[] = {"id",       "movements",       "min_green_s", "max_green_s",
                                        "yellow_s", "red_clearance_s", NULL};
    for (size_t g = 0; g < ng; g++) {
        path_fmt(q, sizeof q, "%s.groups[%zu]", p, g);
        json_t *go = json_array_get(garr, g);
        sim_signal_group_t *grp = &sig->groups[g];
        double gmin, gmax, y, r;
        if (check_keys(ld, go, q, gkeys) < 0 ||
            get_string(ld, go, q, "id", 1, NULL, &grp->id) < 0 ||
            get_ref_list(ld, go, q, "movements", 1, &ld->movements, "movement", &grp->movements,
                         &grp->n_movements) < 0 ||
            get_number(ld, go, q, "min_green_s", 1, 0, GT, 0, SIM_LIM_GREEN_S, &gmin) < 0 ||
            get_number(ld, go, q, "max_green_s", 1, 0, GE, gmin, SIM_LIM_GREEN_S, &gmax) < 0 ||
            get_number(ld, go, q, "yellow_s", 1, 0, GT, 0, SIM_LIM_CHANGE_S, &y) < 0 ||
            get_number(ld, go, q, "red_clearance_s", 1, 0, GE, 0, SIM_LIM_CHANGE_S, &r) < 0)
            goto done;
        grp->min_green = sim_time_from_s(gmin);
        grp->max_green = sim_time_from_s(gmax);
        grp->yellow = sim_time_from_s(y);
        grp->red_clearance = sim_time_from_s(r);
        for (int32_t i = 0; i < grp->n_movements; i++) {
            sim_movement_t *m = &scn->movements[grp->movements[i]];
            if (scn->links[m->from].to != sig->node) {
                fail(ld, q, "movement \"%s\" does not cross node \"%s\"", m->id, node->id);
                goto done;
            }
            if (m->group >= 0) {
                fail(ld, q, "movement \"%s\" is already in group \"%s\"", m->id,
                     sig->groups[m->group].id);
                goto done;
            }
            m->signal = s;
            m->group = (int32_t)g;
        }
    }
    for (size_t c = 0; carr != NULL && c < json_array_size(carr); c++) {
        path_fmt(q, sizeof q, "%s.conflicts[%zu]", p, c);
        json_t *pair = json_array_get(carr, c);
        if (!json_is_array(pair) || json_array_size(pair) != 2) {
            fail(ld, q, "must be a pair [group, group]");
            goto done;
        }
        int32_t a, b;
        char q0[PATH_MAX_LEN + 8], q1[PATH_MAX_LEN + 8];
        path_fmt(q0, sizeof q0, "%s[0]", q);
        path_fmt(q1, sizeof q1, "%s[1]", q);
        if (resolve(ld, &groups, json_array_get(pair, 0), q0, "signal group", &a) < 0 ||
            resolve(ld, &groups, json_array_get(pair, 1), q1, "signal group", &b) < 0)
            goto done;
        if (a == b) {
            fail(ld, q, "a group cannot conflict with itself");
            goto done;
        }
        sig->conflicts[a] |= UINT64_C(1) << b;
        sig->conflicts[b] |= UINT64_C(1) << a;
    }
    static const char *const skeys[] = {"id", "groups", NULL};
    for (size_t k = 0; k < ns; k++) {
        path_fmt(q, sizeof q, "%s.stages[%zu]", p, k);
        json_t *so = json_array_get(sarr, k);
        sim_stage_t *st = &sig->stages[k];
        int32_t *gl;
        int32_t n;
        if (check_keys(ld, so, q, skeys) < 0 || get_string(ld, so, q, "id", 1, NULL, &st->id) < 0 ||
            get_ref_list(ld, so, q, "groups", 1, &groups, "signal group", &gl, &n) < 0)
            goto done;
        if (n == 0) {
            fail(ld, q, "a stage must green at least one group");
            goto done;
        }
        for (int32_t i = 0; i < n; i++)
            st->groups |= UINT64_C(1) << gl[i];
        for (int32_t i = 0; i < n; i++) {
            uint64_t clash = sig->conflicts[gl[i]] & st->groups;
            if (clash) {
                int32_t h = 0;
                while (!(clash & (UINT64_C(1) << h)))
                    h++;
                fail(ld, q, "stage \"%s\" greens conflicting groups \"%s\" and \"%s\"", st->id,
                     sig->groups[gl[i]].id, sig->groups[h].id);
                goto done;
            }
        }
    }
    uint64_t used = 0;
    for (size_t k = 0; k < ns; k++)
        used |= sig->stages[k].groups;
    for (size_t g = 0; g < ng; g++) {
        if (!(used & (UINT64_C(1) << g))) {
            fail(ld, p, "group \"%s\" is green in no stage", sig->groups[g].id);
            goto done;
        }
    }
    static const char *const pkeys[] = {"id", "cycle_s", "offset_s", "splits_s", NULL};
    for (size_t pi = 0; pi < np; pi++) {
        path_fmt(q, sizeof q, "%s.plans[%zu]", p, pi);
        json_t *po = json_array_get(parr, pi);
        sim_plan_t *pl = &sig->plans[pi];
        double cycle, offset;
        json_t *splits;
        if (check_keys(ld, po, q, pkeys) < 0 || get_string(ld, po, q, "id", 1, NULL, &pl->id) < 0 ||
            get_number(ld, po, q, "cycle_s", 1, 0, GT, 0, SIM_LIM_CYCLE_S, &cycle) < 0 ||
            get_number(ld, po, q, "offset_s", 0, 0, GE, 0, SIM_LIM_CYCLE_S, &offset) < 0 ||
            get_array(ld, po, q, "splits_s", 1, &splits) < 0)
            goto done;
        if (offset >= cycle) {
            fail_field(ld, q, "offset_s", "must be less than cycle_s (%g), got %g", cycle, offset);
            goto done;
        }
        pl->cycle = sim_time_from_s(cycle);
        pl->offset = sim_time_from_s(offset);
        if (json_array_size(splits) != ns) {
            fail_field(ld, q, "splits_s", "must have one entry per stage (%zu), got %zu", ns,
                       json_array_size(splits));
            goto done;
        }
        pl->splits = base_arena_calloc(&scn->arena, ns, sizeof *pl->splits);
        if (pl->splits == NULL) {
            base_err_set(ld->err, BASE_ENOMEM, "out of memory");
            goto done;
        }
        sim_time_t sum = 0;
        for (size_t k = 0; k < ns; k++) {
            json_t *sv = json_array_get(splits, k);
            double split = json_is_number(sv) ? json_number_value(sv) : NAN;
            if (!(split > 0 && split <= SIM_LIM_CYCLE_S)) {
                char qs[PATH_MAX_LEN + 32];
                path_fmt(qs, sizeof qs, "%s.splits_s[%zu]", q, k);
                if (json_is_number(sv))
                    fail(ld, qs, "must be in (0, %g], got %g", SIM_LIM_CYCLE_S, split);
                else
                    fail(ld, qs, "must be a number in (0, %g], got %s", SIM_LIM_CYCLE_S,
                         type_name(sv));
                goto done;
            }
            pl->splits[k] = sim_time_from_s(json_number_value(sv));
            sum += pl->splits[k];
        }
        if (sum != pl->cycle) {
            fail(ld, q, "splits_s add up to %g s but cycle_s is %g s", sim_time_to_s(sum), cycle);
            goto done;
        }
        for (int32_t k = 0; k < (int32_t)ns; k++) {
            sim_time_t green = pl->splits[k] - sim_scenario_intergreen(sig, k);
            uint64_t prev = sig->stages[(k + (int32_t)ns - 1) % (int32_t)ns].groups;
            uint64_t starting = sig->stages[k].groups & ~prev;
            if (ns == 1)
                starting = sig->stages[k].groups;
            for (size_t g = 0; g < ng; g++) {
                if ((starting & (UINT64_C(1) << g)) && green < sig->groups[g].min_green) {
                    fail(ld, q,
                         "stage \"%s\" gets %g s of green (split %g s minus intergreen %g s), "
                         "less than the min_green_s %g of group \"%s\"",
                         sig->stages[k].id, sim_time_to_s(green), sim_time_to_s(pl->splits[k]),
                         sim_time_to_s(sim_scenario_intergreen(sig, k)),
                         sim_time_to_s(sig->groups[g].min_green), sig->groups[g].id);
                    goto done;
                }
            }
            if (green <= 0) {
                fail(ld, q, "stage \"%s\" gets no green", sig->stages[k].id);
                goto done;
            }
        }
    }
    static const char *const ekeys[] = {"from", "plan", NULL};
    for (int32_t i = 0; i < sig->n_schedule; i++) {
        path_fmt(q, sizeof q, "%s.schedule[%d]", p, (int)i);
        json_t *eo = json_array_get(sched, (size_t)i);
        if (want_object(ld, eo, q) < 0 || check_keys(ld, eo, q, ekeys) < 0 ||
            parse_tod(ld, eo, q, "from", 1, NULL, 1, &sig->schedule[i].from_tod) < 0 ||
            get_ref(ld, eo, q, "plan", &plans, "plan", &sig->schedule[i].plan) < 0)
            goto done;
        if (i == 0 && sig->schedule[i].from_tod != 0) {
            fail(ld, q, "the first schedule entry must start at \"00:00\"");
            goto done;
        }
        if (i > 0 && sig->schedule[i].from_tod <= sig->schedule[i - 1].from_tod) {
            fail(ld, q, "schedule entries must be in increasing order of \"from\"");
            goto done;
        }
    }
    rc = 0;
done:
    names_fini(&groups);
    names_fini(&stages);
    names_fini(&plans);
    return rc;
}

static int load_signals(ld_t *ld, const json_t *arr) {
    sim_scenario_t *scn = ld->scn;
    size_t n = arr ? json_array_size(arr) : 0;
    scn->signals = base_arena_calloc(&scn->arena, n + 1, sizeof *scn->signals);
    if (scn->signals == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    scn->n_signals = (int32_t)n;
    for (size_t s = 0; s < n; s++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.signals[%zu]", s);
        if (load_signal(ld, json_array_get(arr, s), p, (int32_t)s) < 0)
            return -1;
    }
    for (int32_t i = 0; i < scn->n_nodes; i++) {
        if (scn->nodes[i].kind == SIM_NODE_SIGNALIZED && scn->nodes[i].signal < 0) {
            char p[PATH_MAX_LEN];
            path_fmt(p, sizeof p, "$.nodes[%d]", (int)i);
            return fail(ld, p, "signalized node \"%s\" has no entry in \"signals\"",
                        scn->nodes[i].id);
        }
    }
    for (int32_t i = 0; i < scn->n_movements; i++) {
        const sim_movement_t *m = &scn->movements[i];
        int32_t node = scn->links[m->from].to;
        if (scn->nodes[node].kind == SIM_NODE_SIGNALIZED && m->group < 0) {
            char p[PATH_MAX_LEN];
            path_fmt(p, sizeof p, "$.movements[%d]", (int)i);
            return fail(ld, p, "movement \"%s\" at signalized node \"%s\" is in no signal group",
                        m->id, scn->nodes[node].id);
        }
    }
    return 0;
}

static int check_consecutive(ld_t *ld, const char *p, const char *key, const int32_t *links,
                             int32_t n) {
    const sim_scenario_t *scn = ld->scn;
    for (int32_t i = 1; i < n; i++) {
        const sim_link_t *a = &scn->links[links[i - 1]];
        const sim_link_t *b = &scn->links[links[i]];
        if (a->to != b->from)
            return fail(ld, p, "%s[%d] \"%s\" does not start where %s[%d] \"%s\" ends", key, (int)i,
                        b->id, key, (int)(i - 1), a->id);
        uint64_t mkey = (uint64_t)(uint32_t)links[i - 1] << 32 | (uint32_t)links[i];
        if (bsearch(&mkey, ld->move_keys, (size_t)scn->n_movements, sizeof key, cmp_u64) == NULL)
            return fail(ld, p, "%s[%d]: no movement from link \"%s\" to link \"%s\"", key, (int)i,
                        a->id, b->id);
    }
    return 0;
}

static int load_corridors(ld_t *ld, const json_t *arr) {
    sim_scenario_t *scn = ld->scn;
    size_t n = arr ? json_array_size(arr) : 0;
    scn->corridors = base_arena_calloc(&scn->arena, n + 1, sizeof *scn->corridors);
    if (scn->corridors == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    scn->n_corridors = (int32_t)n;
    static const char *const keys[] = {"id", "name", "links", NULL};
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.corridors[%zu]", i);
        json_t *o = json_array_get(arr, i);
        sim_corridor_t *c = &scn->corridors[i];
        if (check_keys(ld, o, p, keys) < 0 || get_string(ld, o, p, "id", 1, NULL, &c->id) < 0 ||
            get_string(ld, o, p, "name", 0, c->id, &c->name) < 0 ||
            get_ref_list(ld, o, p, "links", 1, &ld->links, "link", &c->links, &c->n_links) < 0)
            return -1;
        if (c->n_links == 0)
            return fail_field(ld, p, "links", "must not be empty");
        if (check_consecutive(ld, p, "links", c->links, c->n_links) < 0)
            return -1;
    }
    return 0;
}

static int load_detectors(ld_t *ld, const json_t *arr) {
    sim_scenario_t *scn = ld->scn;
    size_t n = arr ? json_array_size(arr) : 0;
    scn->detectors = base_arena_calloc(&scn->arena, n + 1, sizeof *scn->detectors);
    if (scn->detectors == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    scn->n_detectors = (int32_t)n;
    static const char *const keys[] = {"id", "link", "kind", "distance_m", NULL};
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.detectors[%zu]", i);
        json_t *o = json_array_get(arr, i);
        sim_detector_t *d = &scn->detectors[i];
        const char *kind;
        if (check_keys(ld, o, p, keys) < 0 || get_string(ld, o, p, "id", 1, NULL, &d->id) < 0 ||
            get_ref(ld, o, p, "link", &ld->links, "link", &d->link) < 0 ||
            get_string(ld, o, p, "kind", 1, NULL, &kind) < 0)
            return -1;
        int advance = strcmp(kind, "advance") == 0;
        if (!advance && strcmp(kind, "stop_line") != 0)
            return fail_field(ld, p, "kind", "must be \"stop_line\" or \"advance\", got \"%s\"",
                              kind);
        d->kind = advance ? SIM_DETECTOR_ADVANCE : SIM_DETECTOR_STOP_LINE;
        double len = scn->links[d->link].length_m;
        if (get_number(ld, o, p, "distance_m", advance, 0, GE, 0, len, &d->distance_m) < 0)
            return -1;
    }
    return 0;
}

static int load_class_mix(ld_t *ld, const json_t *o, const char *p, double **cdf) {
    sim_scenario_t *scn = ld->scn;
    *cdf = base_arena_calloc(&scn->arena, (size_t)scn->n_classes, sizeof **cdf);
    if (*cdf == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    json_t *mix = json_object_get(o, "class_mix");
    if (mix == NULL) {
        int32_t car = sim_scenario_find_class(scn, "car");
        if (car < 0)
            return fail(ld, p, "no \"class_mix\" and no class \"car\" to default to");
        for (int32_t c = 0; c < scn->n_classes; c++)
            (*cdf)[c] = c >= car ? 1.0 : 0.0;
        return 0;
    }
    char q[PATH_MAX_LEN];
    path_fmt(q, sizeof q, "%s.class_mix", p);
    if (want_object(ld, mix, q) < 0)
        return -1;
    double total = 0;
    const char *key;
    json_t *v;
    json_object_foreach(mix, key, v) {
        int32_t c = names_get(&ld->classes, key);
        if (c < 0)
            return fail(ld, q, "unknown vehicle class \"%s\"", key);
        if (!json_is_number(v) || !(json_number_value(v) > 0 && json_number_value(v) <= 1e6))
            return fail(ld, q, "share of \"%s\" must be a number in (0, 1e6]", key);
        (*cdf)[c] = json_number_value(v);
        total += json_number_value(v);
    }
    if (!(total > 0))
        return fail(ld, q, "must name at least one class");
    double acc = 0;
    for (int32_t c = 0; c < scn->n_classes; c++) {
        acc += (*cdf)[c] / total;
        (*cdf)[c] = acc;
    }
    (*cdf)[scn->n_classes - 1] = 1.0;
    return 0;
}

static int load_flows_trips(ld_t *ld, const json_t *flows, const json_t *trips, size_t nf,
                            size_t nt, names_t *ids);

static int load_demand(ld_t *ld, const json_t *root) {
    sim_scenario_t *scn = ld->scn;
    json_t *d = json_object_get(root, "demand");
    scn->flows = base_arena_calloc(&scn->arena, 1, sizeof *scn->flows);
    scn->trips = base_arena_calloc(&scn->arena, 1, sizeof *scn->trips);
    if (scn->flows == NULL || scn->trips == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    if (d == NULL)
        return 0;
    const char *path = "$.demand";
    static const char *const keys[] = {"interval_s", "flows", "trips", NULL};
    double interval;
    json_t *flows, *trips;
    if (want_object(ld, d, path) < 0 || check_keys(ld, d, path, keys) < 0 ||
        get_number(ld, d, path, "interval_s", 0, 900, GE, SIM_LIM_INTERVAL_S_MIN,
                   SIM_LIM_INTERVAL_S_MAX, &interval) < 0 ||
        get_array(ld, d, path, "flows", 0, &flows) < 0 ||
        get_array(ld, d, path, "trips", 0, &trips) < 0)
        return -1;
    scn->demand_interval = sim_time_from_s(interval);
    if (scn->demand_interval < 1)
        return fail_field(ld, path, "interval_s", "must be at least 0.001");
    size_t nf = flows ? json_array_size(flows) : 0;
    size_t nt = trips ? json_array_size(trips) : 0;
    if (ld->trips != NULL)
        nt = ld->trips->count; /* the tree holds the array empty */
    scn->flows = base_arena_calloc(&scn->arena, nf + 1, sizeof *scn->flows);
    scn->trips = base_arena_calloc(&scn->arena, nt + 1, sizeof *scn->trips);
    if (scn->flows == NULL || scn->trips == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    scn->n_flows = (int32_t)nf;
    scn->n_trips = (int32_t)nt;
    names_t ids = {0};
    if (names_init(&ids, nf + nt) < 0)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    int rc = load_flows_trips(ld, flows, trips, nf, nt, &ids);
    names_fini(&ids);
    return rc;
}

/* Reads the next entry of demand.trips from the text (ld->trips) into *out (a new reference).
 * With want 0, checks instead that every entry has been read. */
static int next_trip(ld_t *ld, int want, json_t **out) {
    json_error_t je;
    int rc = scn_json_split_next(ld->trips, JSON_REJECT_DUPLICATES, out, &je);
    if (rc < 0)
        return base_err_set(ld->err, BASE_EPARSE, "%s:%d:%d: syntax error: %s", ld->file, je.line,
                            je.column, je.text);
    if (rc != want) {
        /* The entries differ from what locating the array counted: only malformed text. */
        json_decref(*out);
        *out = NULL;
        return base_err_set(ld->err, BASE_EPARSE, "%s:%d: syntax error: malformed demand.trips",
                            ld->file, (int)ld->trips->line);
    }
    return 0;
}

/* Reads demand.trips[i] from its object o. */
static int load_trip(ld_t *ld, const json_t *o, size_t i, names_t *ids) {
    sim_scenario_t *scn = ld->scn;
    static const char *const tkeys[] = {"id",    "depart_s", "origin", "destination",
                                        "class", "route",    NULL};
    char p[PATH_MAX_LEN];
    path_fmt(p, sizeof p, "$.demand.trips[%zu]", i);
    sim_trip_t *t = &scn->trips[i];
    double depart;
    const char *cls;
    if (want_object(ld, o, p) < 0 || check_keys(ld, o, p, tkeys) < 0 ||
        get_string(ld, o, p, "id", 0, NULL, &t->id) < 0 ||
        get_number(ld, o, p, "depart_s", 1, 0, GE, 0, SIM_LIM_TIME_S, &depart) < 0 ||
        get_ref(ld, o, p, "origin", &ld->links, "link", &t->origin) < 0 ||
        get_ref(ld, o, p, "destination", &ld->links, "link", &t->destination) < 0 ||
        get_string(ld, o, p, "class", 0, "car", &cls) < 0)
        return -1;
    if (t->id == NULL) {
        char defid[32];
        snprintf(defid, sizeof defid, "trip%zu", i);
        if ((t->id = base_arena_strdup(&scn->arena, defid)) == NULL)
            return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    }
    if (names_put(ids, t->id, (int32_t)i) >= 0)
        return fail_field(ld, p, "id", "duplicate flow or trip id \"%s\"", t->id);
    t->vclass = names_get(&ld->classes, cls);
    if (t->vclass < 0)
        return fail_field(ld, p, "class", "unknown vehicle class \"%s\"", cls);
    t->depart = sim_time_from_s(depart);
    t->seq = (int32_t)i;
    if (get_ref_list(ld, o, p, "route", 0, &ld->links, "link", &t->route.links, &t->route.n_links) <
        0)
        return -1;
    if (t->route.links != NULL) {
        const sim_route_t *r = &t->route;
        if (r->n_links == 0 || r->links[0] != t->origin ||
            r->links[r->n_links - 1] != t->destination)
            return fail_field(ld, p, "route",
                              "must start with the origin and end with the destination");
        if (check_consecutive(ld, p, "route", r->links, r->n_links) < 0)
            return -1;
    }
    return 0;
}

/* Reads demand.flows and demand.trips; ids (given or default) must be unique among both. */
static int load_flows_trips(ld_t *ld, const json_t *flows, const json_t *trips, size_t nf,
                            size_t nt, names_t *ids) {
    sim_scenario_t *scn = ld->scn;
    static const char *const fkeys[] = {"id",        "origin", "destination", "via",
                                        "class_mix", "vph",    NULL};
    for (size_t i = 0; i < nf; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.demand.flows[%zu]", i);
        json_t *o = json_array_get(flows, i);
        sim_flow_t *f = &scn->flows[i];
        char defid[32];
        snprintf(defid, sizeof defid, "flow%zu", i);
        json_t *vph;
        if (want_object(ld, o, p) < 0 || check_keys(ld, o, p, fkeys) < 0 ||
            get_string(ld, o, p, "id", 0, NULL, &f->id) < 0 ||
            get_ref(ld, o, p, "origin", &ld->links, "link", &f->origin) < 0 ||
            get_ref(ld, o, p, "destination", &ld->links, "link", &f->destination) < 0 ||
            get_ref_list(ld, o, p, "via", 0, &ld->links, "link", &f->via, &f->n_via) < 0 ||
            load_class_mix(ld, o, p, &f->class_cdf) < 0 || get_array(ld, o, p, "vph", 1, &vph) < 0)
            return -1;
        if (f->id == NULL && (f->id = base_arena_strdup(&scn->arena, defid)) == NULL)
            return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
        if (names_put(ids, f->id, (int32_t)i) >= 0)
            return fail_field(ld, p, "id", "duplicate flow or trip id \"%s\"", f->id);
        size_t nv = json_array_size(vph);
        if (nv == 0)
            return fail_field(ld, p, "vph", "must not be empty");
        f->vph = base_arena_calloc(&scn->arena, nv, sizeof *f->vph);
        if (f->vph == NULL)
            return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
        f->n_vph = (int32_t)nv;
        for (size_t k = 0; k < nv; k++) {
            json_t *x = json_array_get(vph, k);
            if (!json_is_number(x) || !(json_number_value(x) >= 0) ||
                !(json_number_value(x) <= SIM_LIM_FLOW_VPH))
                return fail(ld, p, "vph[%zu] must be a number in [0, %g]", k, SIM_LIM_FLOW_VPH);
            f->vph[k] = json_number_value(x);
        }
    }
    for (size_t i = 0; i < nt; i++) {
        json_t *o = NULL;
        if (ld->trips == NULL)
            o = json_array_get(trips, i);
        else if (next_trip(ld, 1, &o) < 0)
            return -1;
        int rc = load_trip(ld, o, i, ids);
        if (ld->trips != NULL)
            json_decref(o);
        if (rc < 0)
            return -1;
    }
    if (ld->trips != NULL) {
        json_t *extra = NULL;
        if (next_trip(ld, 0, &extra) < 0)
            return -1;
    }
    return 0;
}

static int load_escorts(ld_t *ld, const json_t *arr) {
    sim_scenario_t *scn = ld->scn;
    size_t n = arr ? json_array_size(arr) : 0;
    scn->escorts = base_arena_calloc(&scn->arena, n + 1, sizeof *scn->escorts);
    if (scn->escorts == NULL)
        return base_err_set(ld->err, BASE_ENOMEM, "out of memory");
    scn->n_escorts = (int32_t)n;
    names_t ids;
    if (index_ids(ld, arr, "$.escorts", &ids, "escort") < 0) {
        names_fini(&ids);
        return -1;
    }
    names_fini(&ids);
    static const char *const keys[] = {
        "id", "class", "route", "depart_s", "desired_speed_kmh", "yield_factor", "priority", NULL};
    for (size_t i = 0; i < n; i++) {
        char p[PATH_MAX_LEN];
        path_fmt(p, sizeof p, "$.escorts[%zu]", i);
        json_t *o = json_array_get(arr, i);
        sim_escort_t *e = &scn->escorts[i];
        const char *cls;
        double depart, speed, level;
        if (check_keys(ld, o, p, keys) < 0 || get_string(ld, o, p, "id", 1, NULL, &e->id) < 0 ||
            get_string(ld, o, p, "class", 0, "escort", &cls) < 0 ||
            get_ref_list(ld, o, p, "route", 1, &ld->links, "link", &e->route.links,
                         &e->route.n_links) < 0 ||
            get_number(ld, o, p, "depart_s", 1, 0, GE, 0, SIM_LIM_TIME_S, &depart) < 0 ||
            get_number(ld, o, p, "desired_speed_kmh", 1, 0, GE, SIM_LIM_SPEED_KMH_MIN,
                       SIM_LIM_SPEED_KMH_MAX, &speed) < 0 ||
            get_number(ld, o, p, "yield_factor", 0, 0.5, GE, 0, 1, &e->yield_factor) < 0 ||
            get_number(ld, o, p, "priority", 0, 14, GE, 1, 14, &level) < 0)
            return -1;
        if (level != floor(level))
            return fail_field(ld, p, "priority", "must be an integer from 1 to 14");
        e->priority = (int32_t)level;
        e->vclass = names_get(&ld->classes, cls);
        if (e->vclass < 0)
            return fail_field(ld, p, "class", "unknown vehicle class \"%s\"", cls);
        if (e->route.n_links == 0)
            return fail_field(ld, p, "route", "must not be empty");
        if (check_consecutive(ld, p, "route", e->route.links, e->route.n_links) < 0)
            return -1;
        e->depart = sim_time_from_s(depart);
        e->desired_speed_mps = speed / 3.6;
    }
    return 0;
}

/* ---- top level --------------------------------------------------------------------- */

static int load_root(ld_t *ld, const json_t *root) {
    sim_scenario_t *scn = ld->scn;
    if (want_object(ld, root, "$") < 0)
        return -1;
    static const char *const keys[] = {
        "format",    "version",         "name",   "description", "start_time", "duration_s",
        "model",     "vehicle_classes", "nodes",  "links",       "movements",  "signals",
        "corridors", "detectors",       "demand", "escorts",     NULL};
    if (check_keys(ld, root, "$", keys) < 0)
        return -1;
    const char *format;
    int32_t version;
    double duration;
    if (get_string(ld, root, "$", "format", 1, NULL, &format) < 0)
        return -1;
    if (strcmp(format, "greenwave-scenario") != 0)
        return fail(ld, "$.format", "must be \"greenwave-scenario\", got \"%s\"", format);
    if (get_int(ld, root, "$", "version", 1, 0, 0, INT32_MAX, &version) < 0)
        return -1;
    if (version != 1)
        return fail(ld, "$.version", "unsupported version %d (this build reads version 1)",
                    (int)version);
    if (get_string(ld, root, "$", "name", 1, NULL, &scn->name) < 0 ||
        get_string(ld, root, "$", "description", 0, "", &scn->description) < 0 ||
        parse_tod(ld, root, "$", "start_time", 0, "00:00:00", 0, &scn->start_tod) < 0 ||
        get_number(ld, root, "$", "duration_s", 1, 0, GT, 0, SIM_LIM_TIME_S, &duration) < 0)
        return -1;
    scn->duration = sim_time_from_s(duration);
    if (load_model(ld, root) < 0 || load_classes(ld, root) < 0)
        return -1;

    json_t *nodes, *links, *movements, *signals, *corridors, *detectors, *escorts;
    if (get_array(ld, root, "$", "nodes", 1, &nodes) < 0 ||
        get_array(ld, root, "$", "links", 1, &links) < 0 ||
        get_array(ld, root, "$", "movements", 0, &movements) < 0 ||
        get_array(ld, root, "$", "signals", 0, &signals) < 0 ||
        get_array(ld, root, "$", "corridors", 0, &corridors) < 0 ||
        get_array(ld, root, "$", "detectors", 0, &detectors) < 0 ||
        get_array(ld, root, "$", "escorts", 0, &escorts) < 0)
        return -1;
    if (json_array_size(nodes) == 0)
        return fail(ld, "$.nodes", "must not be empty");
    if (json_array_size(links) == 0)
        return fail(ld, "$.links", "must not be empty");
    if (index_ids(ld, nodes, "$.nodes", &ld->nodes, "node") < 0 ||
        index_ids(ld, links, "$.links", &ld->links, "link") < 0 ||
        index_ids(ld, movements, "$.movements", &ld->movements, "movement") < 0 ||
        index_ids(ld, corridors, "$.corridors", &ld->corridors, "corridor") < 0 ||
        index_ids(ld, detectors, "$.detectors", &ld->detectors, "detector") < 0)
        return -1;
    if (load_nodes(ld, nodes) < 0 || load_links(ld, links) < 0 ||
        load_movements(ld, movements) < 0 || index_movements(ld) < 0 ||
        load_signals(ld, signals) < 0 || load_corridors(ld, corridors) < 0 ||
        load_detectors(ld, detectors) < 0 || load_demand(ld, root) < 0 ||
        load_escorts(ld, escorts) < 0)
        return -1;
    return 0;
}

/* Derives the scenario's tables and routes once the document is read (and freed). */
static int load_finish(ld_t *ld) {
    sim_scenario_t *scn = ld->scn;
    if (sim_scenario_prepare(scn, ld->err) < 0)
        return base_err_prefix(ld->err, "%s: ", ld->file);
    char kind = 0;
    int32_t bad = -1;
    if (sim_scenario_route_all(scn, &kind, &bad, ld->err) < 0) {
        if (kind == 'f')
            return base_err_prefix(ld->err, "%s: $.demand.flows[%d]: ", ld->file, (int)bad);
        if (kind == 't')
            return base_err_prefix(ld->err, "%s: $.demand.trips[%d]: ", ld->file, (int)bad);
        return base_err_prefix(ld->err, "%s: ", ld->file);
    }
    return 0;
}

static sim_scenario_t *syntax_error(const json_error_t *je, const char *name, base_err_t *err) {
    base_err_set(err, BASE_EPARSE, "%s:%d:%d: syntax error: %s", name, je->line, je->column,
                 je->text);
    return NULL;
}

/* Loads the scenario from text[0, len); frees owned (the text's buffer, or NULL) as soon as
 * the document has been read, before routing. The demand's trips, when they can be located in
 * the text, are parsed one at a time rather than as one tree (scenarios/json_split.h). */
static sim_scenario_t *load_text(const char *text, size_t len, char *owned, const char *name,
                                 base_err_t *err) {
    scn_json_split_t split;
    scn_json_split_find(&split, text, len, "demand", "trips");
    json_error_t je;
    json_t *root = scn_json_split_load_rest(&split, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        free(owned);
        return syntax_error(&je, name, err);
    }
    ld_t ld = {.file = name, .err = err, .trips = split.found ? &split : NULL};
    ld.scn = sim_scenario_new();
    int rc =
        ld.scn == NULL ? base_err_set(err, BASE_ENOMEM, "out of memory") : load_root(&ld, root);
    json_decref(root);
    free(owned);
    ld.trips = NULL;
    if (rc == 0)
        rc = load_finish(&ld);
    names_fini(&ld.nodes);
    names_fini(&ld.links);
    names_fini(&ld.movements);
    names_fini(&ld.classes);
    names_fini(&ld.corridors);
    names_fini(&ld.detectors);
    free(ld.move_keys);
    if (rc < 0)
        sim_scenario_destroy(&ld.scn);
    return ld.scn;
}

sim_scenario_t *scn_loader_load_string(const char *text, const char *name, base_err_t *err) {
    return load_text(text, strlen(text), NULL, name, err);
}

sim_scenario_t *scn_loader_load_file(const char *path, base_err_t *err) {
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        base_err_set(err, BASE_EIO, "%s: is a directory, not a scenario file", path);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        base_err_set(err, BASE_EIO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    /* Read it whole, then parse from memory: much faster than jansson's getc loop. The buffer
     * is sized to the file (it grows only if the file does meanwhile). */
    struct stat fst;
    size_t cap = 1 << 16, len = 0;
    if (fstat(fileno(f), &fst) == 0 && fst.st_size > 0 && (uint64_t)fst.st_size < SIZE_MAX / 2)
        cap = (size_t)fst.st_size + 1;
    char *buf = malloc(cap);
    while (buf != NULL) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (nb == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int read_error = ferror(f);
    fclose(f);
    if (buf == NULL) {
        base_err_set(err, BASE_ENOMEM, "%s: out of memory reading the file", path);
        return NULL;
    }
    if (read_error) {
        free(buf);
        base_err_set(err, BASE_EIO, "%s: read error", path);
        return NULL;
    }
    return load_text(buf, len, buf, path, err);
}
