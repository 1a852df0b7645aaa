/*
 * batch/tsd.c - time-space data from a scenario (jansson) and a run's CSV outputs.
 *
 * The route's links are laid end to end: link i spans [start_m[i], start_m[i] + length_m).
 * The stop line at the end of link i (i < n - 1) serves the movement links[i] -> links[i + 1];
 * its signal group is the group of the node's signal entry that lists that movement. Signal
 * states are step functions: a row of signals.csv starts an interval that the next row of the
 * same group ends. escort.csv is read by its header's names; rows of nine fields under the
 * eleven-field header (greenwave-sim writing escort.csv without link_enter_s and delay_s in its
 * rows) are read by position instead.
 */
#include "batch/tsd.h"

#include "batch/table.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int batch_tsd_state(const char *name) {
    if (strcmp(name, "green") == 0)
        return BATCH_TSD_GREEN;
    if (strcmp(name, "yellow") == 0)
        return BATCH_TSD_YELLOW;
    if (strcmp(name, "red") == 0)
        return BATCH_TSD_RED;
    return BATCH_TSD_DARK;
}

void batch_tsd_route_fini(batch_tsd_route_t *route) {
    if (route == NULL)
        return;
    free(route->links);
    free(route->start_m);
    free(route->stops);
    memset(route, 0, sizeof *route);
}

static const json_t *find_by(const json_t *arr, const char *field, const char *value) {
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *v = json_string_value(json_object_get(e, field));
        if (v != NULL && strcmp(v, value) == 0)
            return e;
    }
    return NULL;
}

static int in_string_array(const json_t *arr, const char *value) {
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *v = json_string_value(e);
        if (v != NULL && strcmp(v, value) == 0)
            return 1;
    }
    return 0;
}

static void copy_id(char *dst, const char *src) {
    snprintf(dst, BATCH_TSD_ID_MAX, "%s", src ? src : "");
}

int batch_tsd_route_load(const char *scenario_path, const char *escort_id, batch_tsd_route_t *out,
                         base_err_t *err) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *doc = json_load_file(scenario_path, 0, &je);
    if (doc == NULL)
        return base_err_set(err, je.line > 0 ? BASE_EPARSE : BASE_EIO, "%s:%d:%d: %s",
                            scenario_path, je.line, je.column, je.text);
    int rc = BASE_OK;
    const json_t *links = json_object_get(doc, "links");
    const json_t *escorts = json_object_get(doc, "escorts");
    const json_t *route = NULL;
    if (json_is_array(escorts) && json_array_size(escorts) > 0) {
        const json_t *e =
            escort_id ? find_by(escorts, "id", escort_id) : json_array_get(escorts, 0);
        if (e == NULL) {
            rc = base_err_set(err, BASE_EINVAL, "%s: no escort \"%s\"", scenario_path, escort_id);
            goto done;
        }
        route = json_object_get(e, "route");
        copy_id(out->escort, json_string_value(json_object_get(e, "id")));
    } else {
        const json_t *c = find_by(json_object_get(doc, "corridors"), "id", "escort_route");
        route = c ? json_object_get(c, "links") : NULL;
    }
    if (!json_is_array(route) || json_array_size(route) == 0 || !json_is_array(links)) {
        rc = base_err_set(err, BASE_EINVAL,
                          "%s: no escort route (escorts[].route or corridor "
                          "\"escort_route\")",
                          scenario_path);
        goto done;
    }
    size_t n = json_array_size(route);
    out->n_links = n;
    out->links = calloc(n, sizeof *out->links);
    out->start_m = calloc(n, sizeof *out->start_m);
    out->stops = calloc(n, sizeof *out->stops);
    if (out->links == NULL || out->start_m == NULL || out->stops == NULL) {
        rc = base_err_set(err, BASE_ENOMEM, "out of memory");
        goto done;
    }
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_array_get(route, i));
        const json_t *l = id ? find_by(links, "id", id) : NULL;
        double len = l ? json_number_value(json_object_get(l, "length_m")) : 0;
        if (l == NULL || !(len > 0)) {
            rc = base_err_set(err, BASE_EINVAL,
                              "%s: route link %zu (\"%s\"): unknown link or no "
                              "length_m",
                              scenario_path, i, id ? id : "?");
            goto done;
        }
        copy_id(out->links[i], id);
        out->start_m[i] = d;
        d += len;
        if (i + 1 == n)
            break;
        batch_tsd_stop_t *s = &out->stops[out->n_stops++];
        copy_id(s->link, id);
        copy_id(s->node, json_string_value(json_object_get(l, "to")));
        s->dist_m = d;
        const char *next = json_string_value(json_array_get(route, i + 1));
        const json_t *mv = NULL;
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(doc, "movements"), k, m) {
            const char *f = json_string_value(json_object_get(m, "from"));
            const char *t = json_string_value(json_object_get(m, "to"));
            if (f && t && next && strcmp(f, id) == 0 && strcmp(t, next) == 0) {
                mv = m;
                break;
            }
        }
        const char *mid = mv ? json_string_value(json_object_get(mv, "id")) : NULL;
        const json_t *sig = find_by(json_object_get(doc, "signals"), "node", s->node);
        if (mid != NULL && sig != NULL) {
            json_t *g;
            json_array_foreach(json_object_get(sig, "groups"), k, g) {
                if (in_string_array(json_object_get(g, "movements"), mid)) {
                    copy_id(s->group, json_string_value(json_object_get(g, "id")));
                    break;
                }
            }
        }
    }
    out->total_m = d;
done:
    json_decref(doc);
    if (rc < 0)
        batch_tsd_route_fini(out);
    return rc;
}

/* ---- signals.csv -------------------------------------------------------------------------- */

typedef struct bars_ctx {
    const batch_tsd_route_t *route;
    const char *path;
    base_err_t *err;
    long ci[4]; /* time_s, node, signal_group, state */
    double *last_t;
    int *last_state;
    double t_lo, t_hi;
    batch_tsd_bar_t *bars;
    size_t n, cap;
} bars_ctx_t;

static int push_bar(bars_ctx_t *c, double t0, double t1, double dist, int state) {
    if (t1 <= c->t_lo || t0 >= c->t_hi || t1 <= t0)
        return BASE_OK;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        batch_tsd_bar_t *b = realloc(c->bars, cap * sizeof *b);
        if (b == NULL)
            return base_err_set(c->err, BASE_ENOMEM, "out of memory");
        c->bars = b;
        c->cap = cap;
    }
    c->bars[c->n++] =
        (batch_tsd_bar_t){t0 < c->t_lo ? c->t_lo : t0, t1 > c->t_hi ? c->t_hi : t1, dist, state};
    return BASE_OK;
}

static int bars_record(void *ud, size_t line, char **f, size_t n) {
    bars_ctx_t *c = ud;
    static const char *const names[4] = {"time_s", "node", "signal_group", "state"};
    if (line == 1) {
        for (int k = 0; k < 4; k++) {
            c->ci[k] = -1;
            for (size_t i = 0; i < n; i++)
                if (strcmp(f[i], names[k]) == 0)
                    c->ci[k] = (long)i;
            if (c->ci[k] < 0)
                return base_err_set(c->err, BASE_EPARSE, "%s: no column %s", c->path, names[k]);
        }
        return BASE_OK;
    }
    for (int k = 0; k < 4; k++)
        if ((size_t)c->ci[k] >= n)
            return base_err_set(c->err, BASE_EPARSE, "%s:%zu: too few fields", c->path, line);
    double t = strtod(f[c->ci[0]], NULL);
    for (size_t s = 0; s < c->route->n_stops; s++) {
        const batch_tsd_stop_t *st = &c->route->stops[s];
        if (st->group[0] == '\0' || strcmp(st->node, f[c->ci[1]]) != 0 ||
            strcmp(st->group, f[c->ci[2]]) != 0)
            continue;
        if (c->last_state[s] >= 0 && push_bar(c, c->last_t[s], t, st->dist_m, c->last_state[s]) < 0)
            return BASE_ENOMEM;
        c->last_t[s] = t;
        c->last_state[s] = batch_tsd_state(f[c->ci[3]]);
    }
    return BASE_OK;
}

int batch_tsd_bars(const batch_tsd_route_t *route, const char *signals_csv, double t_lo,
                   double t_hi, batch_tsd_bar_t **bars, size_t *n, base_err_t *err) {
    *bars = NULL;
    *n = 0;
    bars_ctx_t c;
    memset(&c, 0, sizeof c);
    c.route = route;
    c.path = signals_csv;
    c.err = err;
    c.t_lo = t_lo;
    c.t_hi = t_hi;
    size_t ns = route->n_stops > 0 ? route->n_stops : 1;
    c.last_t = calloc(ns, sizeof *c.last_t);
    c.last_state = malloc(ns * sizeof *c.last_state);
    if (c.last_t == NULL || c.last_state == NULL) {
        free(c.last_t);
        free(c.last_state);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    for (size_t s = 0; s < ns; s++)
        c.last_state[s] = -1;
    int rc = batch_csv_each(signals_csv, bars_record, &c, NULL, err);
    for (size_t s = 0; s < route->n_stops && rc == BASE_OK; s++)
        if (c.last_state[s] >= 0)
            rc = push_bar(&c, c.last_t[s], t_hi, route->stops[s].dist_m, c.last_state[s]);
    free(c.last_t);
    free(c.last_state);
    if (rc < 0) {
        free(c.bars);
        return rc;
    }
    *bars = c.bars;
    *n = c.n;
    return BASE_OK;
}

/* ---- escort.csv --------------------------------------------------------------------------- */

typedef struct traj_ctx {
    const batch_tsd_route_t *route;
    const char *path;
    base_err_t *err;
    size_t n_header;
    long escort, link, enter, arrive, depart;
    size_t next_link; /* route index to search from */
    batch_tsd_point_t *pts;
    size_t n, cap;
} traj_ctx_t;

static int push_point(traj_ctx_t *c, double t, double d) {
    if (!isfinite(t))
        return BASE_OK;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        batch_tsd_point_t *p = realloc(c->pts, cap * sizeof *p);
        if (p == NULL)
            return base_err_set(c->err, BASE_ENOMEM, "out of memory");
        c->pts = p;
        c->cap = cap;
    }
    c->pts[c->n++] = (batch_tsd_point_t){t, d};
    return BASE_OK;
}

static long col_of(char **f, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i], name) == 0)
            return (long)i;
    return -1;
}

static double num_at(char **f, size_t n, long i) {
    if (i < 0 || (size_t)i >= n || f[i][0] == '\0')
        return NAN;
    char *end;
    double v = strtod(f[i], &end);
    return *end == '\0' ? v : NAN;
}

static int traj_record(void *ud, size_t line, char **f, size_t n) {
    traj_ctx_t *c = ud;
    if (line == 1) {
        c->n_header = n;
        c->escort = col_of(f, n, "escort");
        c->link = col_of(f, n, "link");
        c->enter = col_of(f, n, "link_enter_s");
        c->arrive = col_of(f, n, "arrive_s");
        c->depart = col_of(f, n, "depart_s");
        if (c->link < 0 || c->arrive < 0 || c->depart < 0)
            return base_err_set(c->err, BASE_EPARSE, "%s: needs columns link, arrive_s, depart_s",
                                c->path);
        return BASE_OK;
    }
    long link = c->link, enter = c->enter, arrive = c->arrive, depart = c->depart;
    if (n != c->n_header) {
        if (!(c->n_header == 11 && n == 9 && c->enter >= 0))
            return base_err_set(c->err, BASE_EPARSE, "%s:%zu: %zu fields, the header has %zu",
                                c->path, line, n, c->n_header);
        link = 3, enter = -1, arrive = 4, depart = 7;
    }
    if (c->escort >= 0 && c->route->escort[0] != '\0' && (size_t)c->escort < n &&
        strcmp(f[c->escort], c->route->escort) != 0)
        return BASE_OK;
    if ((size_t)link >= n)
        return BASE_OK;
    size_t li = c->next_link;
    while (li < c->route->n_links && strcmp(c->route->links[li], f[link]) != 0)
        li++;
    if (li >= c->route->n_links)
        return BASE_OK; /* not on the route (cannot happen for a well-formed run) */
    c->next_link = li + 1;
    double end_m = li + 1 < c->route->n_links ? c->route->start_m[li + 1] : c->route->total_m;
    if (push_point(c, num_at(f, n, enter), c->route->start_m[li]) < 0 ||
        push_point(c, num_at(f, n, arrive), end_m) < 0 ||
        push_point(c, num_at(f, n, depart), end_m) < 0)
        return BASE_ENOMEM;
    return BASE_OK;
}

int batch_tsd_trajectory(const batch_tsd_route_t *route, const char *escort_csv, double depart_s,
                         double arrive_s, batch_tsd_point_t **pts, size_t *n, base_err_t *err) {
    *pts = NULL;
    *n = 0;
    traj_ctx_t c;
    memset(&c, 0, sizeof c);
    c.route = route;
    c.path = escort_csv;
    c.err = err;
    int rc = push_point(&c, depart_s, 0);
    if (rc == BASE_OK)
        rc = batch_csv_each(escort_csv, traj_record, &c, NULL, err);
    if (rc == BASE_OK && arrive_s >= 0)
        rc = push_point(&c, arrive_s, route->total_m);
    if (rc < 0) {
        free(c.pts);
        return rc;
    }
    *pts = c.pts;
    *n = c.n;
    return BASE_OK;
}
