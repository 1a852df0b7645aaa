/*
 * batch/sweep.c - parsing of sweeps (command-line lists and JSON sweep files), their checks,
 * the plan's index arithmetic and the canonical sweep.json.
 *
 * Parameter values are kept as canonical text ("30" for 30.0, "true"), so two spellings of one
 * value make one variant and one controller set, and labels read the same on every machine.
 * A sweep file's array-valued parameters expand into the cartesian product of their values,
 * in the order of the parameter table, the last parameter varying fastest.
 */
#include "batch/sweep.h"

#include "sim/limits.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const batch_param_spec_t SPECS[] = {
    {"transition", NULL, BATCH_PARAM_CONTROLLER, "--transition", BATCH_PARAM_ENUM,
     "dwell|shortway|longway|auto",
     "return to coordination after a priority service (auto: corridor chooses per signal)", NULL},
    {"detection_range_s", "detection-range", BATCH_PARAM_CONTROLLER, "--detection-range",
     BATCH_PARAM_NUMBER, NULL, "local preemption: ETA in seconds at which a signal is preempted",
     NULL},
    {"margin_s", "margin", BATCH_PARAM_CONTROLLER, "--margin", BATCH_PARAM_NUMBER, NULL,
     "corridor-v1: seconds of green before the queue must be clear", NULL},
    {"lead_s", "lead", BATCH_PARAM_CONTROLLER, "--lead", BATCH_PARAM_NUMBER, NULL,
     "corridor: the queue ahead must be clear this many seconds before the escort", NULL},
    {"passage_s", "passage", BATCH_PARAM_CONTROLLER, "--passage", BATCH_PARAM_NUMBER, NULL,
     "actuated: passage time (unit extension), s", NULL},
    {"tsp_horizon_s", "tsp-horizon", BATCH_PARAM_CONTROLLER, "--tsp-horizon", BATCH_PARAM_NUMBER,
     NULL, "TSP: bus ETA in seconds within which it acts", NULL},
    {"tsp_lockout_s", "tsp-lockout", BATCH_PARAM_CONTROLLER, "--tsp-lockout", BATCH_PARAM_NUMBER,
     NULL, "TSP: seconds without priority for another bus after one", NULL},
    {"tsp_max_cut_s", "tsp-max-cut", BATCH_PARAM_CONTROLLER, "--tsp-max-cut", BATCH_PARAM_NUMBER,
     NULL, "TSP: most seconds an early green cuts from a green", NULL},
    {"engage_s", "engage", BATCH_PARAM_CONTROLLER, "--engage", BATCH_PARAM_NUMBER, NULL,
     "corridor: engage a signal when the escort's green is due within this many seconds", NULL},
    {"meter_s", "meter", BATCH_PARAM_CONTROLLER, "--meter", BATCH_PARAM_NUMBER, NULL,
     "corridor: most seconds cut from each cross-street green before the escort's (0: off)", NULL},
    {"meter_horizon_s", "meter-horizon", BATCH_PARAM_CONTROLLER, "--meter-horizon",
     BATCH_PARAM_NUMBER, NULL, "corridor: metering starts this many seconds before the green",
     NULL},
    {"spill_fill", "spill-fill", BATCH_PARAM_CONTROLLER, "--spill-fill", BATCH_PARAM_NUMBER, NULL,
     "corridor: an approach this full is flushed no later than the signal upstream", NULL},
    {"turn_gap_s", "turn-gap", BATCH_PARAM_CONTROLLER, "--turn-gap", BATCH_PARAM_NUMBER, NULL,
     "corridor: a hold ahead of the escort serves its approach's turns after this long", NULL},
    {"gate_s", "gate", BATCH_PARAM_CONTROLLER, "--gate", BATCH_PARAM_NUMBER, NULL,
     "corridor: a signal whose escort exit is full holds its next stage this long before", NULL},
    {"dwell_weight", "dwell-weight", BATCH_PARAM_CONTROLLER, "--dwell-weight", BATCH_PARAM_NUMBER,
     NULL, "corridor, transition auto: cost of a second of dwell against one of transition", NULL},
    {"tsp", NULL, BATCH_PARAM_CONTROLLER, "--tsp", BATCH_PARAM_BOOL, NULL,
     "transit signal priority for buses (true: --tsp, false: --no-tsp)", "--no-tsp"},
    {"tick_ms", "tick-ms", BATCH_PARAM_SIM, "--tick-ms", BATCH_PARAM_INT, NULL,
     "control interval of the simulation in ms", NULL},
    {NULL, NULL, 0, NULL, 0, NULL, NULL, NULL},
};

static const char *const STRATEGIES[] = {"none",        "actuated",    "local", "corridor",
                                         "corridor-v1", "route-green", NULL};

static const char *const DEFAULT_MEASURES[] = {
    "escort.travel_time_s",
    "escort.stops",
    "traffic.during_escort.mean_delay_s",
    "traffic.mean_delay_s",
    "escort.delay_s",
    "escort.wait_s",
    "traffic.cross_street.mean_delay_s",
    "traffic.p95_delay_s",
    "traffic.vehicles_completed",
    "safety.conflict_rejections",
    "recovery.time_s",
    "recovery.cycles",
    "trip_window.mean_delay_s",
    "vs_none.window.delta_sum_h",
    "vs_none.window.delta_s",
    "vs_none.arterial.delta_s",
    "vs_none.cross_street.delta_s",
    NULL,
};

const batch_param_spec_t *batch_param_specs(void) {
    return SPECS;
}

int batch_strategy_known(const char *name) {
    for (size_t i = 0; STRATEGIES[i] != NULL; i++)
        if (strcmp(STRATEGIES[i], name) == 0)
            return 1;
    return 0;
}

batch_sweep_t *batch_sweep_new(void) {
    return calloc(1, sizeof(batch_sweep_t));
}

static void free_strings(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void clear_scenarios(batch_sweep_t *self) {
    for (size_t i = 0; i < self->n_scenarios; i++)
        free(self->scenarios[i].path);
    free(self->scenarios);
    self->scenarios = NULL;
    self->n_scenarios = 0;
}

void batch_sweep_destroy(batch_sweep_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    batch_sweep_t *self = *self_p;
    clear_scenarios(self);
    free(self->variants);
    free(self->seeds);
    free(self->baseline_label);
    free(self->main_label);
    free_strings(self->measures, self->n_measures);
    free_strings(self->controller_keys, self->n_controllers);
    free(self);
    *self_p = NULL;
}

/* ---- small helpers ------------------------------------------------------------------------ */

/* Makes text safe for a path component: [A-Za-z0-9._+-] stay, '=' becomes '-', '[' and ','
 * become '_', ']' is dropped, anything else becomes '_'. */
static void slugify(const char *text, char *out, size_t size) {
    size_t o = 0;
    for (const char *p = text; *p != '\0' && o + 1 < size; p++) {
        char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '_' || c == '+' || c == '-')
            out[o++] = c;
        else if (c == '=')
            out[o++] = '-';
        else if (c != ']')
            out[o++] = '_';
    }
    out[o] = '\0';
    if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        snprintf(out, size, "_");
}

static int label_ok(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= 64)
        return 0;
    for (const char *p = s; *p != '\0'; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-' || c == '=' || c == ',' || c == '[' ||
              c == ']'))
            return 0;
    }
    return 1;
}

/* Calls fn on each comma-separated item of list (empty items are errors). */
typedef int (*item_fn)(batch_sweep_t *self, const char *item, size_t len, base_err_t *err);

static int each_item(batch_sweep_t *self, const char *list, const char *what, item_fn fn,
                     base_err_t *err) {
    const char *p = list;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return base_err_set(err, BASE_EINVAL, "%s: empty item in '%s'", what, list);
        int rc = fn(self, p, len, err);
        if (rc < 0)
            return rc;
        if (comma == NULL)
            return BASE_OK;
        p = comma + 1;
    }
}

/* ---- scenarios ---------------------------------------------------------------------------- */

static int add_scenario(batch_sweep_t *self, const char *path, size_t len, base_err_t *err) {
    batch_scenario_t *s =
        realloc(self->scenarios, (self->n_scenarios + 1) * sizeof *self->scenarios);
    if (s == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    self->scenarios = s;
    batch_scenario_t *sc = &s[self->n_scenarios];
    memset(sc, 0, sizeof *sc);
    sc->path = malloc(len + 1);
    if (sc->path == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    memcpy(sc->path, path, len);
    sc->path[len] = '\0';
    self->n_scenarios++;
    const char *base = strrchr(sc->path, '/');
    base = base ? base + 1 : sc->path;
    char name[BATCH_LABEL_MAX];
    snprintf(name, sizeof name, "%s", base);
    size_t n = strlen(name);
    if (n > 5 && strcmp(name + n - 5, ".json") == 0)
        name[n - 5] = '\0';
    slugify(name, sc->label, sizeof sc->label);
    return BASE_OK;
}

static int scenario_item(batch_sweep_t *self, const char *item, size_t len, base_err_t *err) {
    return add_scenario(self, item, len, err);
}

int batch_sweep_set_scenarios(batch_sweep_t *self, const char *list, base_err_t *err) {
    clear_scenarios(self);
    return each_item(self, list, "--scenarios", scenario_item, err);
}

/* ---- variants ----------------------------------------------------------------------------- */

static const batch_param_spec_t *find_spec(const char *key, size_t len) {
    for (const batch_param_spec_t *s = SPECS; s->key != NULL; s++) {
        if (strlen(s->key) == len && strncmp(s->key, key, len) == 0)
            return s;
        if (s->alias != NULL && strlen(s->alias) == len && strncmp(s->alias, key, len) == 0)
            return s;
    }
    return NULL;
}

/* Canonicalises value (text) for spec into out. Returns 0 or BASE_EINVAL. */
static int canon_value(const batch_param_spec_t *spec, const char *value, char *out,
                       base_err_t *err) {
    char *end;
    switch (spec->kind) {
    case BATCH_PARAM_ENUM: {
        size_t n = strlen(value);
        const char *c = spec->choices;
        while (*c != '\0') {
            const char *bar = strchr(c, '|');
            size_t cl = bar ? (size_t)(bar - c) : strlen(c);
            if (cl == n && strncmp(c, value, n) == 0) {
                snprintf(out, BATCH_VALUE_MAX, "%s", value);
                return BASE_OK;
            }
            c += cl + (bar ? 1 : 0);
        }
        return base_err_set(err, BASE_EINVAL, "%s: must be one of %s, got '%s'", spec->key,
                            spec->choices, value);
    }
    case BATCH_PARAM_NUMBER: {
        errno = 0;
        double v = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || !isfinite(v) || v < 0 || v > 1e6)
            return base_err_set(err, BASE_EINVAL, "%s: must be a number in [0, 1e6], got '%s'",
                                spec->key, value);
        snprintf(out, BATCH_VALUE_MAX, "%.15g", v == 0 ? 0.0 : v);
        return BASE_OK;
    }
    case BATCH_PARAM_INT: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || v < 1 || v > 86400000)
            return base_err_set(err, BASE_EINVAL,
                                "%s: must be an integer in [1, 86400000], got '%s'", spec->key,
                                value);
        snprintf(out, BATCH_VALUE_MAX, "%lld", v);
        return BASE_OK;
    }
    default:
        if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
            snprintf(out, BATCH_VALUE_MAX, "%s", value);
            return BASE_OK;
        }
        return base_err_set(err, BASE_EINVAL, "%s: must be true or false, got '%s'", spec->key,
                            value);
    }
}

/* Sets a parameter of v, keeping them in table order; a second value of a key is an error. */
static int variant_set(batch_variant_t *v, const batch_param_spec_t *spec, const char *value,
                       base_err_t *err) {
    char canon[BATCH_VALUE_MAX];
    if (canon_value(spec, value, canon, err) < 0)
        return BASE_EINVAL;
    size_t at = 0;
    while (at < v->n_params && v->params[at].spec < spec)
        at++;
    if (at < v->n_params && v->params[at].spec == spec)
        return base_err_set(err, BASE_EINVAL, "parameter %s given twice", spec->key);
    if (v->n_params == BATCH_PARAMS_MAX)
        return base_err_set(err, BASE_EINVAL, "too many parameters");
    memmove(&v->params[at + 1], &v->params[at], (v->n_params - at) * sizeof v->params[0]);
    v->params[at].spec = spec;
    snprintf(v->params[at].value, sizeof v->params[at].value, "%s", canon);
    v->n_params++;
    return BASE_OK;
}

void batch_variant_params_text(const batch_variant_t *v, int target, char *buf, size_t size) {
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < v->n_params && o < size; i++) {
        if (target >= 0 && v->params[i].spec->target != target)
            continue;
        int w = snprintf(buf + o, size - o, "%s%s=%s", o > 0 ? ";" : "", v->params[i].spec->key,
                         v->params[i].value);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

size_t batch_variant_args(const batch_variant_t *v, int target, const char **argv, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < v->n_params; i++) {
        const batch_param_t *p = &v->params[i];
        if (p->spec->target != target)
            continue;
        if (p->spec->kind == BATCH_PARAM_BOOL) {
            if (n < max)
                argv[n++] = strcmp(p->value, "true") == 0 ? p->spec->option : p->spec->off_option;
        } else if (n + 2 <= max) {
            argv[n++] = p->spec->option;
            argv[n++] = p->value;
        }
    }
    return n;
}

/* Label "strategy[k=v,...]" (all parameters) or base[k=v,...] for the parameters in mask. */
static void make_label(batch_variant_t *v, const char *base, unsigned mask) {
    size_t o = (size_t)snprintf(v->label, sizeof v->label, "%s", base);
    int first = 1;
    for (size_t i = 0; i < v->n_params && o < sizeof v->label; i++) {
        size_t spec_i = (size_t)(v->params[i].spec - SPECS);
        if (!(mask & (1u << spec_i)))
            continue;
        int w = snprintf(v->label + o, sizeof v->label - o, "%s%s=%s", first ? "[" : ",",
                         v->params[i].spec->key, v->params[i].value);
        if (w < 0)
            break;
        o += (size_t)w;
        first = 0;
    }
    if (!first && o + 1 < sizeof v->label) {
        v->label[o] = ']';
        v->label[o + 1] = '\0';
    }
    slugify(v->label, v->slug, sizeof v->slug);
}

static int push_variant(batch_sweep_t *self, const batch_variant_t *v, base_err_t *err) {
    if (self->n_variants >= BATCH_VARIANT_MAX)
        return base_err_set(err, BASE_EINVAL, "more than %d strategy variants", BATCH_VARIANT_MAX);
    batch_variant_t *nv = realloc(self->variants, (self->n_variants + 1) * sizeof *nv);
    if (nv == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    self->variants = nv;
    nv[self->n_variants++] = *v;
    return BASE_OK;
}

static int check_strategy(const char *name, size_t len, batch_variant_t *v, base_err_t *err) {
    if (len == 0 || len >= sizeof v->strategy)
        return base_err_set(err, BASE_EINVAL, "empty or overlong strategy name");
    memcpy(v->strategy, name, len);
    v->strategy[len] = '\0';
    if (!batch_strategy_known(v->strategy))
        return base_err_set(err, BASE_EINVAL,
                            "unknown strategy '%s' (none, actuated, local, corridor, route-green)",
                            v->strategy);
    return BASE_OK;
}

/* "corridor:transition=dwell:margin_s=5" */
static int parse_variant_text(batch_sweep_t *self, const char *item, size_t len, base_err_t *err) {
    batch_variant_t v;
    memset(&v, 0, sizeof v);
    const char *end = item + len;
    const char *colon = memchr(item, ':', len);
    const char *name_end = colon ? colon : end;
    if (check_strategy(item, (size_t)(name_end - item), &v, err) < 0)
        return BASE_EINVAL;
    const char *p = colon;
    while (p != NULL && p < end) {
        p++;
        const char *next = memchr(p, ':', (size_t)(end - p));
        const char *stop = next ? next : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq == NULL || eq == p)
            return base_err_set(err, BASE_EINVAL, "strategy %s: parameter '%.*s' is not key=value",
                                v.strategy, (int)(stop - p), p);
        const batch_param_spec_t *spec = find_spec(p, (size_t)(eq - p));
        if (spec == NULL)
            return base_err_set(err, BASE_EINVAL,
                                "strategy %s: unknown parameter '%.*s' (transition, "
                                "detection_range_s, margin_s, tsp, tick_ms)",
                                v.strategy, (int)(eq - p), p);
        char value[BATCH_VALUE_MAX];
        snprintf(value, sizeof value, "%.*s", (int)(stop - eq - 1), eq + 1);
        if (variant_set(&v, spec, value, err) < 0)
            return base_err_prefix(err, "strategy %s: ", v.strategy);
        p = next;
    }
    make_label(&v, v.strategy, ~0u);
    return push_variant(self, &v, err);
}

int batch_sweep_set_strategies(batch_sweep_t *self, const char *list, base_err_t *err) {
    self->n_variants = 0;
    return each_item(self, list, "--strategies", parse_variant_text, err);
}

/* ---- seeds -------------------------------------------------------------------------------- */

static int parse_seed(const char *s, size_t len, uint64_t *out) {
    if (len == 0 || len > 19)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return -1;
    *out = v;
    return 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int push_seeds(batch_sweep_t *self, uint64_t lo, uint64_t hi, base_err_t *err) {
    if (hi - lo >= BATCH_SEEDS_MAX || self->n_seeds + (hi - lo + 1) > BATCH_SEEDS_MAX)
        return base_err_set(err, BASE_EINVAL, "more than %d seeds", BATCH_SEEDS_MAX);
    size_t add = (size_t)(hi - lo + 1);
    uint64_t *s = realloc(self->seeds, (self->n_seeds + add) * sizeof *s);
    if (s == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    self->seeds = s;
    for (uint64_t v = lo;; v++) {
        s[self->n_seeds++] = v;
        if (v == hi)
            break;
    }
    return BASE_OK;
}

static int seed_item(batch_sweep_t *self, const char *item, size_t len, base_err_t *err) {
    const char *dash = memchr(item, '-', len);
    uint64_t lo, hi;
    if (dash == NULL) {
        if (parse_seed(item, len, &lo) < 0)
            return base_err_set(err, BASE_EINVAL,
                                "seeds: '%.*s' is not an integer in [0, 2^63 - 1]", (int)len, item);
        hi = lo;
    } else if (parse_seed(item, (size_t)(dash - item), &lo) < 0 ||
               parse_seed(dash + 1, len - (size_t)(dash - item) - 1, &hi) < 0 || hi < lo) {
        return base_err_set(err, BASE_EINVAL,
                            "seeds: '%.*s' is not a range A-B of integers with A <= B", (int)len,
                            item);
    }
    return push_seeds(self, lo, hi, err);
}

static int check_seeds(batch_sweep_t *self, base_err_t *err) {
    uint64_t *sorted = malloc((self->n_seeds > 0 ? self->n_seeds : 1) * sizeof *sorted);
    if (sorted == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    if (self->n_seeds > 0) { /* seeds is NULL when none were given ("seeds": []) */
        memcpy(sorted, self->seeds, self->n_seeds * sizeof *sorted);
        qsort(sorted, self->n_seeds, sizeof *sorted, cmp_u64);
    }
    for (size_t i = 1; i < self->n_seeds; i++) {
        if (sorted[i] == sorted[i - 1]) {
            uint64_t dup = sorted[i];
            free(sorted);
            return base_err_set(err, BASE_EINVAL, "seeds: %" PRIu64 " given twice", dup);
        }
    }
    free(sorted);
    return BASE_OK;
}

int batch_sweep_set_seeds(batch_sweep_t *self, const char *spec, base_err_t *err) {
    self->n_seeds = 0;
    int rc = each_item(self, spec, "--seeds", seed_item, err);
    return rc < 0 ? rc : check_seeds(self, err);
}

/* ---- measures, baseline, main, shard ------------------------------------------------------ */

static int measure_item(batch_sweep_t *self, const char *item, size_t len, base_err_t *err) {
    char **m = realloc(self->measures, (self->n_measures + 1) * sizeof *m);
    if (m == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    self->measures = m;
    m[self->n_measures] = malloc(len + 1);
    if (m[self->n_measures] == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    memcpy(m[self->n_measures], item, len);
    m[self->n_measures][len] = '\0';
    self->n_measures++;
    return BASE_OK;
}

int batch_sweep_set_measures(batch_sweep_t *self, const char *list, base_err_t *err) {
    free_strings(self->measures, self->n_measures);
    self->measures = NULL;
    self->n_measures = 0;
    return each_item(self, list, "--measures", measure_item, err);
}

static int set_label(char **slot, const char *label) {
    free(*slot);
    *slot = NULL;
    if (label == NULL)
        return BASE_OK;
    *slot = strdup(label);
    return *slot ? BASE_OK : BASE_ENOMEM;
}

int batch_sweep_set_baseline(batch_sweep_t *self, const char *label) {
    return set_label(&self->baseline_label, label);
}

int batch_sweep_set_main(batch_sweep_t *self, const char *label) {
    return set_label(&self->main_label, label);
}

int batch_sweep_set_shard(batch_sweep_t *self, const char *spec, base_err_t *err) {
    const char *slash = strchr(spec, '/');
    uint64_t i, n;
    if (slash == NULL || parse_seed(spec, (size_t)(slash - spec), &i) < 0 ||
        parse_seed(slash + 1, strlen(slash + 1), &n) < 0 || n < 1 || n > 100000 || i < 1 || i > n)
        return base_err_set(err, BASE_EINVAL, "--shard: '%s' is not I/N with 1 <= I <= N <= 100000",
                            spec);
    self->shard_index = (unsigned)i;
    self->shard_count = (unsigned)n;
    return BASE_OK;
}

/* ---- sweep files -------------------------------------------------------------------------- */

/* Writes a JSON scalar as parameter text; returns 0 or -1 for another type. */
static int scalar_text(const json_t *j, char *out, size_t size) {
    if (json_is_string(j))
        snprintf(out, size, "%s", json_string_value(j));
    else if (json_is_integer(j))
        snprintf(out, size, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    else if (json_is_real(j))
        snprintf(out, size, "%.17g", json_real_value(j));
    else if (json_is_boolean(j))
        snprintf(out, size, "%s", json_is_true(j) ? "true" : "false");
    else
        return -1;
    return 0;
}

/* One strategy object: expands array-valued parameters into variants. */
static int load_strategy_object(batch_sweep_t *self, const json_t *o, const char *at,
                                base_err_t *err) {
    batch_variant_t base;
    memset(&base, 0, sizeof base);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)o, key, val) {
        if (strcmp(key, "strategy") != 0 && strcmp(key, "label") != 0 && strcmp(key, "params") != 0)
            return base_err_set(err, BASE_EINVAL, "%s: unknown field \"%s\"", at, key);
    }
    const json_t *js = json_object_get(o, "strategy");
    if (!json_is_string(js))
        return base_err_set(err, BASE_EINVAL, "%s.strategy: must be a string", at);
    const char *name = json_string_value(js);
    if (check_strategy(name, strlen(name), &base, err) < 0)
        return base_err_prefix(err, "%s.strategy: ", at);
    const json_t *jl = json_object_get(o, "label");
    const char *label = NULL;
    if (jl != NULL) {
        if (!json_is_string(jl) || !label_ok(json_string_value(jl)))
            return base_err_set(err, BASE_EINVAL,
                                "%s.label: must be 1 to 63 characters of [A-Za-z0-9._+-=,[]]", at);
        label = json_string_value(jl);
    }
    /* Per parameter of the table: the values to take (one, or an array's). */
    const json_t *vals[sizeof SPECS / sizeof SPECS[0]] = {0};
    size_t counts[sizeof SPECS / sizeof SPECS[0]] = {0};
    unsigned grid = 0;
    const json_t *jp = json_object_get(o, "params");
    if (jp != NULL && !json_is_object(jp))
        return base_err_set(err, BASE_EINVAL, "%s.params: must be an object", at);
    if (jp != NULL) {
        json_object_foreach((json_t *)jp, key, val) {
            const batch_param_spec_t *spec = find_spec(key, strlen(key));
            if (spec == NULL)
                return base_err_set(err, BASE_EINVAL,
                                    "%s.params: unknown parameter \"%s\" (transition, "
                                    "detection_range_s, margin_s, tsp, tick_ms)",
                                    at, key);
            size_t si = (size_t)(spec - SPECS);
            if (vals[si] != NULL)
                return base_err_set(err, BASE_EINVAL, "%s.params: %s given twice", at, key);
            vals[si] = val;
            if (json_is_array(val)) {
                counts[si] = json_array_size(val);
                if (counts[si] == 0)
                    return base_err_set(err, BASE_EINVAL, "%s.params.%s: empty array", at, key);
                grid |= 1u << si;
            } else {
                counts[si] = 1;
            }
        }
    }
    /* Odometer over the array-valued parameters, the last one fastest. */
    size_t n_specs = sizeof SPECS / sizeof SPECS[0] - 1;
    size_t pos[sizeof SPECS / sizeof SPECS[0]] = {0};
    for (;;) {
        batch_variant_t v = base;
        for (size_t si = 0; si < n_specs; si++) {
            if (vals[si] == NULL)
                continue;
            const json_t *one =
                json_is_array(vals[si]) ? json_array_get(vals[si], pos[si]) : vals[si];
            char text[BATCH_VALUE_MAX];
            if (scalar_text(one, text, sizeof text) < 0)
                return base_err_set(err, BASE_EINVAL,
                                    "%s.params.%s: must be a string, number or boolean", at,
                                    SPECS[si].key);
            if (variant_set(&v, &SPECS[si], text, err) < 0)
                return base_err_prefix(err, "%s.params: ", at);
        }
        make_label(&v, label ? label : v.strategy, label ? grid : ~0u);
        if (push_variant(self, &v, err) < 0)
            return BASE_EINVAL;
        int advanced = 0;
        for (size_t si = n_specs; si > 0 && !advanced;) {
            si--;
            if (!(grid & (1u << si)))
                continue;
            if (++pos[si] < counts[si])
                advanced = 1;
            else
                pos[si] = 0;
        }
        if (!advanced)
            return BASE_OK;
    }
}

static int load_seeds_json(batch_sweep_t *self, const json_t *j, base_err_t *err) {
    self->n_seeds = 0;
    if (json_is_string(j)) {
        if (each_item(self, json_string_value(j), "$.seeds", seed_item, err) < 0)
            return BASE_EINVAL;
    } else if (json_is_array(j)) {
        size_t i;
        json_t *e;
        json_array_foreach(j, i, e) {
            if (!json_is_integer(e) || json_integer_value(e) < 0)
                return base_err_set(err, BASE_EINVAL, "$.seeds[%zu]: must be an integer >= 0", i);
            uint64_t s = (uint64_t)json_integer_value(e);
            if (push_seeds(self, s, s, err) < 0)
                return BASE_EINVAL;
        }
    } else {
        return base_err_set(err, BASE_EINVAL,
                            "$.seeds: must be a string like \"1-30\" or an array of integers");
    }
    return check_seeds(self, err);
}

int batch_sweep_load_json(batch_sweep_t *self, const json_t *doc, const char *where,
                          base_err_t *err) {
    int rc = BASE_OK;
    if (!json_is_object(doc))
        return base_err_set(err, BASE_EINVAL, "%s: $: must be an object", where);
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)doc, key, val) {
        char at[128];
        snprintf(at, sizeof at, "$.%s", key);
        if (strcmp(key, "format") == 0) {
            if (!json_is_string(val) ||
                strcmp(json_string_value(val), "greenwave-bench-sweep") != 0)
                rc = base_err_set(err, BASE_EINVAL, "%s: must be \"greenwave-bench-sweep\"", at);
        } else if (strcmp(key, "version") == 0) {
            if (!json_is_integer(val) || json_integer_value(val) != 1)
                rc = base_err_set(err, BASE_EINVAL, "%s: must be 1", at);
        } else if (strcmp(key, "scenarios") == 0) {
            clear_scenarios(self);
            size_t i;
            json_t *e;
            if (!json_is_array(val) || json_array_size(val) == 0)
                rc = base_err_set(err, BASE_EINVAL, "%s: must be a non-empty array", at);
            json_array_foreach(val, i, e) {
                if (rc < 0)
                    break;
                const json_t *path = json_is_object(e) ? json_object_get(e, "path") : e;
                if (!json_is_string(path) || json_string_length(path) == 0) {
                    rc = base_err_set(err, BASE_EINVAL,
                                      "%s[%zu]: must be a path or {\"path\": ...}", at, i);
                    break;
                }
                rc = add_scenario(self, json_string_value(path), json_string_length(path), err);
            }
        } else if (strcmp(key, "strategies") == 0) {
            self->n_variants = 0;
            size_t i;
            json_t *e;
            if (!json_is_array(val) || json_array_size(val) == 0)
                rc = base_err_set(err, BASE_EINVAL, "%s: must be a non-empty array", at);
            json_array_foreach(val, i, e) {
                if (rc < 0)
                    break;
                char eat[160];
                snprintf(eat, sizeof eat, "%s[%zu]", at, i);
                if (json_is_string(e)) {
                    rc = parse_variant_text(self, json_string_value(e), json_string_length(e), err);
                    if (rc < 0)
                        base_err_prefix(err, "%s: ", eat);
                } else if (json_is_object(e)) {
                    rc = load_strategy_object(self, e, eat, err);
                } else {
                    rc = base_err_set(err, BASE_EINVAL, "%s: must be a string or an object", eat);
                }
            }
        } else if (strcmp(key, "seeds") == 0) {
            rc = load_seeds_json(self, val, err);
        } else if (strcmp(key, "baseline") == 0 || strcmp(key, "main") == 0) {
            if (!json_is_string(val))
                rc = base_err_set(err, BASE_EINVAL, "%s: must be a strategy label", at);
            else if ((key[0] == 'b' ? batch_sweep_set_baseline(self, json_string_value(val))
                                    : batch_sweep_set_main(self, json_string_value(val))) < 0)
                rc = base_err_set(err, BASE_ENOMEM, "out of memory");
        } else if (strcmp(key, "until_s") == 0) {
            double u = json_is_number(val) ? json_number_value(val) : -1;
            if (!(u >= 0 && u <= SIM_LIM_TIME_S))
                rc = base_err_set(err, BASE_EINVAL,
                                  "%s: must be a number of seconds in [0, %g] (0: the "
                                  "scenario's duration)",
                                  at, SIM_LIM_TIME_S);
            else
                self->until_s = u;
        } else if (strcmp(key, "measures") == 0) {
            free_strings(self->measures, self->n_measures);
            self->measures = NULL;
            self->n_measures = 0;
            size_t i;
            json_t *e;
            if (!json_is_array(val))
                rc = base_err_set(err, BASE_EINVAL, "%s: must be an array of names", at);
            json_array_foreach(val, i, e) {
                if (rc < 0)
                    break;
                if (!json_is_string(e) || json_string_length(e) == 0)
                    rc = base_err_set(err, BASE_EINVAL, "%s[%zu]: must be a name", at, i);
                else
                    rc = measure_item(self, json_string_value(e), json_string_length(e), err);
            }
        } else if (strcmp(key, "shard") == 0) {
            const json_t *ji = json_object_get(val, "index"), *jn = json_object_get(val, "count");
            if (!json_is_integer(ji) || !json_is_integer(jn) || json_integer_value(ji) < 1 ||
                json_integer_value(ji) > json_integer_value(jn) || json_integer_value(jn) > 100000)
                rc = base_err_set(err, BASE_EINVAL, "%s: must be {\"index\": I, \"count\": N}", at);
            else {
                self->shard_index = (unsigned)json_integer_value(ji);
                self->shard_count = (unsigned)json_integer_value(jn);
            }
        } else {
            rc = base_err_set(err, BASE_EINVAL,
                              "%s: unknown field (scenarios, strategies, seeds, baseline, main, "
                              "until_s, measures)",
                              at);
        }
        if (rc < 0)
            break;
    }
    if (rc < 0 && err != NULL && strncmp(err->msg, where, strlen(where)) != 0)
        base_err_prefix(err, "%s: ", where);
    return rc;
}

int batch_sweep_load_file(batch_sweep_t *self, const char *path, base_err_t *err) {
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        if (je.line <= 0)
            return base_err_set(err, BASE_EIO, "%s: %s", path, je.text);
        return base_err_set(err, BASE_EPARSE, "%s:%d:%d: syntax error: %s", path, je.line,
                            je.column, je.text);
    }
    int rc = batch_sweep_load_json(self, doc, path, err);
    json_decref(doc);
    return rc;
}

/* ---- finish, plan ------------------------------------------------------------------------- */

static int find_variant(const batch_sweep_t *self, const char *label, size_t *out) {
    for (size_t i = 0; i < self->n_variants; i++) {
        if (strcmp(self->variants[i].label, label) == 0 ||
            strcmp(self->variants[i].slug, label) == 0) {
            *out = i;
            return 0;
        }
    }
    /* A bare strategy name names its first variant. */
    for (size_t i = 0; i < self->n_variants; i++) {
        if (strcmp(self->variants[i].strategy, label) == 0) {
            *out = i;
            return 0;
        }
    }
    return -1;
}

int batch_sweep_finish(batch_sweep_t *self, base_err_t *err) {
    if (self->n_scenarios == 0)
        return base_err_set(err, BASE_EINVAL, "no scenarios (--scenarios or a sweep file)");
    if (self->n_variants == 0)
        return base_err_set(err, BASE_EINVAL, "no strategies (--strategies or a sweep file)");
    if (self->n_seeds == 0)
        return base_err_set(err, BASE_EINVAL, "no seeds (--seeds or a sweep file)");
    for (size_t i = 0; i < self->n_scenarios; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(self->scenarios[i].label, self->scenarios[j].label) == 0)
                return base_err_set(
                    err, BASE_EINVAL, "scenarios %s and %s have the same name '%s'; rename one",
                    self->scenarios[j].path, self->scenarios[i].path, self->scenarios[i].label);
    for (size_t i = 0; i < self->n_variants; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(self->variants[i].label, self->variants[j].label) == 0 ||
                strcmp(self->variants[i].slug, self->variants[j].slug) == 0)
                return base_err_set(err, BASE_EINVAL, "strategy '%s' listed twice",
                                    self->variants[i].label);
    size_t bi = 0, mi = self->n_variants - 1;
    if (self->baseline_label != NULL && find_variant(self, self->baseline_label, &bi) < 0)
        return base_err_set(err, BASE_EINVAL, "baseline '%s' is not one of the strategies",
                            self->baseline_label);
    if (self->main_label != NULL && find_variant(self, self->main_label, &mi) < 0)
        return base_err_set(err, BASE_EINVAL, "main strategy '%s' is not one of the strategies",
                            self->main_label);
    self->baseline = bi;
    self->main = mi;
    if (self->n_measures == 0) {
        for (size_t i = 0; DEFAULT_MEASURES[i] != NULL; i++)
            if (measure_item(self, DEFAULT_MEASURES[i], strlen(DEFAULT_MEASURES[i]), err) < 0)
                return BASE_ENOMEM;
    }
    free_strings(self->controller_keys, self->n_controllers);
    self->controller_keys = NULL;
    self->n_controllers = 0;
    for (size_t i = 0; i < self->n_variants; i++) {
        char key[512];
        batch_variant_params_text(&self->variants[i], BATCH_PARAM_CONTROLLER, key, sizeof key);
        size_t c = 0;
        while (c < self->n_controllers && strcmp(self->controller_keys[c], key) != 0)
            c++;
        if (c == self->n_controllers) {
            char **k = realloc(self->controller_keys, (c + 1) * sizeof *k);
            if (k == NULL)
                return base_err_set(err, BASE_ENOMEM, "out of memory");
            self->controller_keys = k;
            if ((k[c] = strdup(key)) == NULL)
                return base_err_set(err, BASE_ENOMEM, "out of memory");
            self->n_controllers++;
        }
        self->variants[i].controller = c;
    }
    return BASE_OK;
}

size_t batch_sweep_n_runs(const batch_sweep_t *self) {
    return self->n_scenarios * self->n_variants * self->n_seeds;
}

void batch_sweep_run_at(const batch_sweep_t *self, size_t index, batch_run_t *run) {
    run->index = index;
    run->scenario = index / (self->n_variants * self->n_seeds);
    run->variant = (index / self->n_seeds) % self->n_variants;
    run->seed = self->seeds[index % self->n_seeds];
}

int batch_sweep_in_shard(const batch_sweep_t *self, size_t index) {
    if (self->shard_count == 0)
        return 1;
    return index % self->shard_count == self->shard_index - 1;
}

void batch_sweep_run_key(const batch_sweep_t *self, const batch_run_t *run, char *buf,
                         size_t size) {
    snprintf(buf, size, "%s/%s/%" PRIu64, self->scenarios[run->scenario].label,
             self->variants[run->variant].label, run->seed);
}

/* ---- canonical JSON ----------------------------------------------------------------------- */

/* Seeds as a compact spec: runs of consecutive seeds as "A-B", in the order given. */
static char *seeds_spec(const batch_sweep_t *self) {
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < self->n_seeds;) {
        size_t j = i;
        while (j + 1 < self->n_seeds && self->seeds[j + 1] == self->seeds[j] + 1)
            j++;
        char item[64];
        int w = i == j ? snprintf(item, sizeof item, "%s%" PRIu64, len ? "," : "", self->seeds[i])
                       : snprintf(item, sizeof item, "%s%" PRIu64 "-%" PRIu64, len ? "," : "",
                                  self->seeds[i], self->seeds[j]);
        if (len + (size_t)w + 1 > cap) {
            cap = 2 * (len + (size_t)w + 1);
            char *ns = realloc(s, cap);
            if (ns == NULL) {
                free(s);
                return NULL;
            }
            s = ns;
        }
        memcpy(s + len, item, (size_t)w + 1);
        len += (size_t)w;
        i = j + 1;
    }
    return s;
}

static json_t *param_json(const batch_param_t *p) {
    switch (p->spec->kind) {
    case BATCH_PARAM_NUMBER:
        return json_real(strtod(p->value, NULL));
    case BATCH_PARAM_INT:
        return json_integer(strtoll(p->value, NULL, 10));
    case BATCH_PARAM_BOOL:
        return json_boolean(strcmp(p->value, "true") == 0);
    default:
        return json_string(p->value);
    }
}

json_t *batch_sweep_to_json(const batch_sweep_t *self, int for_compare) {
    json_t *root = json_object();
    json_t *scn = json_array(), *strat = json_array(), *meas = json_array();
    char *seeds = seeds_spec(self);
    if (root == NULL || scn == NULL || strat == NULL || meas == NULL || seeds == NULL)
        goto fail;
    json_object_set_new(root, "format", json_string("greenwave-bench-sweep"));
    json_object_set_new(root, "version", json_integer(1));
    for (size_t i = 0; i < self->n_scenarios; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "label", json_string(self->scenarios[i].label));
        if (!for_compare)
            json_object_set_new(o, "path", json_string(self->scenarios[i].path));
        json_array_append_new(scn, o);
    }
    for (size_t i = 0; i < self->n_variants; i++) {
        const batch_variant_t *v = &self->variants[i];
        json_t *o = json_object(), *params = json_object();
        json_object_set_new(o, "strategy", json_string(v->strategy));
        batch_variant_t plain = *v;
        make_label(&plain, v->strategy, ~0u);
        if (strcmp(plain.label, v->label) != 0)
            json_object_set_new(o, "label", json_string(v->label));
        for (size_t k = 0; k < v->n_params; k++)
            json_object_set_new(params, v->params[k].spec->key, param_json(&v->params[k]));
        json_object_set_new(o, "params", params);
        json_array_append_new(strat, o);
    }
    for (size_t i = 0; i < self->n_measures; i++)
        json_array_append_new(meas, json_string(self->measures[i]));
    json_object_set_new(root, "scenarios", scn);
    json_object_set_new(root, "strategies", strat);
    json_object_set_new(root, "seeds", json_string(seeds));
    json_object_set_new(root, "baseline", json_string(self->variants[self->baseline].label));
    json_object_set_new(root, "main", json_string(self->variants[self->main].label));
    json_object_set_new(root, "until_s", json_real(self->until_s));
    json_object_set_new(root, "measures", meas);
    if (!for_compare && self->shard_count > 0) {
        json_t *sh = json_object();
        json_object_set_new(sh, "index", json_integer(self->shard_index));
        json_object_set_new(sh, "count", json_integer(self->shard_count));
        json_object_set_new(root, "shard", sh);
    }
    free(seeds);
    return root;
fail:
    json_decref(root);
    json_decref(scn);
    json_decref(strat);
    json_decref(meas);
    free(seeds);
    return NULL;
}

int batch_sweep_write(const batch_sweep_t *self, const char *path, base_err_t *err) {
    json_t *doc = batch_sweep_to_json(self, 0);
    if (doc == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return base_err_set(err, BASE_EIO, "%s: cannot write: %s", path, strerror(errno));
    }
    return BASE_OK;
}
