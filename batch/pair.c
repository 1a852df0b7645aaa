/*
 * batch/pair.c - per-vehicle pairing of a run with its `none` run (see pair.h).
 *
 * Both files are in id order (report/ writes them so); one merge pass pairs them, O(n) in the
 * vehicles. The intervals are t intervals over the vehicles of one run: they say how well one
 * run pins its own mean, while the report's interval over seeds (the vs_none.* columns as
 * measures) is the one to quote for a strategy.
 */
#include "batch/pair.h"

#include "batch/report.h"
#include "batch/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct vrow {
    long long id;
    long long depart_ms;
    int street; /* 0 other, 1 arterial, 2 cross */
    int in_window;
    double delay_s;
} vrow_t;

typedef struct vfile {
    vrow_t *rows;
    size_t n, cap;
    const char *path;
    base_err_t *err;
} vfile_t;

static int parse_row(vfile_t *v, size_t line, char **f, size_t n) {
    if (n != 5)
        return base_err_set(v->err, BASE_EPARSE, "%s:%zu: %zu fields, expected 5", v->path, line,
                            n);
    vrow_t r;
    char *end;
    errno = 0;
    r.id = strtoll(f[0], &end, 10);
    int bad = errno != 0 || *end != '\0' || end == f[0];
    double dep = strtod(f[1], &end);
    bad |= *end != '\0' || end == f[1];
    r.depart_ms = (long long)(dep * 1000.0 + (dep < 0 ? -0.5 : 0.5));
    r.street = strcmp(f[2], "arterial") == 0 ? 1 : strcmp(f[2], "cross") == 0 ? 2 : 0;
    bad |= r.street == 0 && strcmp(f[2], "other") != 0;
    r.in_window = strcmp(f[3], "1") == 0;
    bad |= !r.in_window && strcmp(f[3], "0") != 0;
    r.delay_s = strtod(f[4], &end);
    bad |= *end != '\0' || end == f[4];
    if (bad)
        return base_err_set(v->err, BASE_EPARSE, "%s:%zu: bad vehicle row", v->path, line);
    if (v->n > 0 && r.id <= v->rows[v->n - 1].id)
        return base_err_set(v->err, BASE_EPARSE, "%s:%zu: ids not increasing", v->path, line);
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 1024;
        vrow_t *rows = realloc(v->rows, cap * sizeof *rows);
        if (rows == NULL)
            return base_err_set(v->err, BASE_ENOMEM, "out of memory");
        v->rows = rows;
        v->cap = cap;
    }
    v->rows[v->n++] = r;
    return 0;
}

/* Reads a vehicles.csv (written by report/: no quoting, one record a line; a last line without
 * its newline is ignored, as a write cut short). Linear in the file. */
static int load(vfile_t *v, const char *path, base_err_t *err) {
    memset(v, 0, sizeof *v);
    v->path = path;
    v->err = err;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return base_err_set(err, BASE_EIO, "%s: cannot read: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0, line = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&buf, &cap, f)) > 0) {
        line++;
        if (buf[len - 1] != '\n')
            break; /* cut short */
        buf[--len] = '\0';
        if (len > 0 && buf[len - 1] == '\r')
            buf[--len] = '\0';
        if (line == 1)
            continue; /* header */
        char *fields[6];
        size_t n = 0;
        char *p = buf;
        while (n < 6) {
            fields[n++] = p;
            char *c = strchr(p, ',');
            if (c == NULL)
                break;
            *c = '\0';
            p = c + 1;
        }
        rc = parse_row(v, line, fields, n);
    }
    if (rc == 0 && ferror(f))
        rc = base_err_set(err, BASE_EIO, "%s: read error", path);
    free(buf);
    fclose(f);
    return rc;
}

int batch_pair_files(const char *run_csv, const char *none_csv, batch_pair_result_t *out,
                     base_err_t *err) {
    memset(out, 0, sizeof *out);
    vfile_t a, b;
    int rc = load(&a, run_csv, err);
    if (rc == 0)
        rc = load(&b, none_csv, err);
    else
        memset(&b, 0, sizeof b);
    double *d[3] = {NULL, NULL, NULL};
    for (int g = 0; g < 3 && rc == 0; g++)
        if ((d[g] = malloc((a.n + 1) * sizeof *d[g])) == NULL)
            rc = base_err_set(err, BASE_ENOMEM, "out of memory");
    size_t j = 0;
    for (size_t i = 0; i < a.n && rc == 0; i++) {
        const vrow_t *x = &a.rows[i];
        if (!x->in_window)
            continue;
        while (j < b.n && b.rows[j].id < x->id)
            j++;
        if (j == b.n || b.rows[j].id != x->id || b.rows[j].depart_ms != x->depart_ms) {
            out->unmatched++;
            continue;
        }
        double diff = x->delay_s - b.rows[j].delay_s;
        d[0][out->n[0]++] = diff;
        if (x->street > 0)
            d[x->street][out->n[x->street]++] = diff;
    }
    for (int g = 0; g < 3 && rc == 0; g++) {
        batch_stats_t st;
        if (out->n[g] > 0 && batch_stats_compute(d[g], out->n[g], 0.95, &st) == 0) {
            out->mean[g] = st.mean;
            out->sum_h[g] = st.mean * (double)out->n[g] / 3600.0;
            out->half[g] = out->n[g] > 1 ? st.half : 0.0;
        }
    }
    for (int g = 0; g < 3; g++)
        free(d[g]);
    free(a.rows);
    free(b.rows);
    return rc;
}

/* The first of dirs holding the vehicles.csv of run; 0 if none. */
static int find_file(const batch_sweep_t *sw, const batch_run_t *run, const char *const *dirs,
                     size_t n_dirs, char *buf, size_t size) {
    for (size_t i = 0; i < n_dirs; i++) {
        char dir[4096];
        batch_run_dir(sw, run, dirs[i], dir, sizeof dir);
        snprintf(buf, size, "%s/vehicles.csv", dir);
        if (access(buf, R_OK) == 0)
            return 1;
    }
    return 0;
}

static long find_variant(const batch_sweep_t *sw, const char *label) {
    for (size_t i = 0; label != NULL && i < sw->n_variants; i++)
        if (strcmp(sw->variants[i].label, label) == 0)
            return (long)i;
    return -1;
}

static long find_scenario(const batch_sweep_t *sw, const char *label) {
    for (size_t i = 0; label != NULL && i < sw->n_scenarios; i++)
        if (strcmp(sw->scenarios[i].label, label) == 0)
            return (long)i;
    return -1;
}

/* Replaces row r by a copy with the extra cells (the row moves to the end; the caller
 * canonicalizes). */
static int set_cells(batch_table_t *t, size_t r, const char *const *names, const char *const *vals,
                     size_t n_new) {
    size_t n = 0;
    const char **nm = malloc((t->n_cols + n_new) * sizeof *nm);
    const char **vl = malloc((t->n_cols + n_new) * sizeof *vl);
    char **keep = t->rows[r];
    int rc = nm && vl ? 0 : BASE_ENOMEM;
    /* Copies: adding columns may rebuild the table's column list. */
    for (size_t c = 0; c < t->n_cols && rc == 0; c++) {
        if (keep[c] != NULL) {
            nm[n] = strdup(t->cols[c]);
            vl[n] = strdup(keep[c]);
            if (nm[n] == NULL || vl[n] == NULL)
                rc = BASE_ENOMEM;
            n++;
        }
    }
    size_t n_copied = n;
    for (size_t i = 0; i < n_new && rc == 0; i++) {
        nm[n] = names[i];
        vl[n++] = vals[i];
    }
    if (rc == 0)
        rc = batch_table_add_row(t, nm, vl, n, NULL);
    if (rc == 0)
        batch_table_remove_row(t, r);
    for (size_t i = 0; nm && vl && i < n_copied; i++) {
        free((char *)nm[i]);
        free((char *)vl[i]);
    }
    free(nm);
    free(vl);
    return rc < 0 ? BASE_ENOMEM : 0;
}

long batch_pair_fill(const batch_sweep_t *sw, batch_table_t *t, const char *const *dirs,
                     size_t n_dirs, base_err_t *err) {
    long none = -1;
    for (size_t i = 0; i < sw->n_variants && none < 0; i++)
        if (strcmp(sw->variants[i].strategy, "none") == 0)
            none = (long)i;
    if (none < 0 || batch_table_col(t, "status") < 0)
        return 0;
    static const char *const names[13] = {"vs_none.window.vehicles",
                                          "vs_none.window.delta_s",
                                          "vs_none.window.delta_ci95_s",
                                          "vs_none.window.delta_sum_h",
                                          "vs_none.arterial.vehicles",
                                          "vs_none.arterial.delta_s",
                                          "vs_none.arterial.delta_ci95_s",
                                          "vs_none.arterial.delta_sum_h",
                                          "vs_none.cross_street.vehicles",
                                          "vs_none.cross_street.delta_s",
                                          "vs_none.cross_street.delta_ci95_s",
                                          "vs_none.cross_street.delta_sum_h",
                                          "vs_none.unmatched"};
    long filled = 0;
    size_t n_rows = t->n_rows;
    for (size_t r = 0, seen = 0; seen < n_rows; seen++) {
        const char *st = batch_table_get(t, r, "status");
        const char *vs = batch_table_get(t, r, "variant");
        const char *sc = batch_table_get(t, r, "scenario");
        const char *sd = batch_table_get(t, r, "seed");
        long v = find_variant(sw, vs), s = find_scenario(sw, sc);
        if (st == NULL || strcmp(st, "ok") != 0 || v < 0 || v == none || s < 0 || sd == NULL ||
            batch_table_get(t, r, names[1]) != NULL) {
            r++;
            continue;
        }
        /* The none row of the same scenario and seed, ok. */
        int none_ok = 0;
        for (size_t q = 0; q < t->n_rows && !none_ok; q++) {
            const char *qv = batch_table_get(t, q, "variant");
            const char *qs = batch_table_get(t, q, "scenario");
            const char *qd = batch_table_get(t, q, "seed");
            const char *qt = batch_table_get(t, q, "status");
            none_ok = qv && qs && qd && qt && strcmp(qv, sw->variants[none].label) == 0 &&
                      strcmp(qs, sc) == 0 && strcmp(qd, sd) == 0 && strcmp(qt, "ok") == 0;
        }
        batch_run_t run = {0, (size_t)s, (size_t)v, strtoull(sd, NULL, 10)};
        batch_run_t base = {0, (size_t)s, (size_t)none, run.seed};
        char a[4200], b[4200];
        if (!none_ok || !find_file(sw, &run, dirs, n_dirs, a, sizeof a) ||
            !find_file(sw, &base, dirs, n_dirs, b, sizeof b)) {
            r++;
            continue;
        }
        batch_pair_result_t pr;
        int rc = batch_pair_files(a, b, &pr, err);
        if (rc < 0)
            return rc;
        char buf[13][40];
        for (int g = 0; g < 3; g++) {
            snprintf(buf[4 * g], sizeof buf[0], "%zu", pr.n[g]);
            batch_format_double(pr.mean[g], buf[4 * g + 1], sizeof buf[0]);
            batch_format_double(pr.half[g], buf[4 * g + 2], sizeof buf[0]);
            batch_format_double(pr.sum_h[g], buf[4 * g + 3], sizeof buf[0]);
        }
        snprintf(buf[12], sizeof buf[12], "%zu", pr.unmatched);
        const char *vals[13];
        size_t n_new = 0;
        const char *nm[13];
        for (int i = 0; i < 13; i++) {
            if (i % 4 != 0 && i < 12 && pr.n[i / 4] == 0)
                continue; /* no pairs: no mean */
            nm[n_new] = names[i];
            vals[n_new++] = buf[i];
        }
        if (set_cells(t, r, nm, vals, n_new) < 0)
            return base_err_set(err, BASE_ENOMEM, "out of memory");
        filled++; /* row r now holds the next row: do not advance */
    }
    return filled;
}
