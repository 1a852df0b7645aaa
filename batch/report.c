/*
 * batch/report.c - report.md: statistics per scenario x variant x measure from the rows of
 * runs.csv that belong to the plan, paired differences to the baseline by seed, the plots,
 * and the time-space diagram of the main variant's median run (by escort travel time, ties
 * by seed; the lower middle one of an even count) beside the baseline's run of the same seed.
 *
 * Every number comes from the table's text cells, in plan order, so the report does not
 * depend on the order runs finished in or on how the sweep was split into shards.
 */
#include "batch/report.h"

#include "base/fs.h"
#include "batch/atspm.h"
#include "batch/plot.h"
#include "batch/stats.h"
#include "batch/tsd.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const batch_fixed_cols[BATCH_FIXED_COLS] = {
    "run",  "scenario", "strategy",    "variant", "params",
    "seed", "status",   "exit_status", "reason",  "wall_s",
};

#define LEVEL 0.95

static const struct {
    const char *name, *label, *shortl;
} LABELS[] = {
    {"escort.travel_time_s", "escort travel time (s)", "escort time (s)"},
    {"escort.stops", "escort stops", "escort stops"},
    {"escort.delay_s", "escort delay (s)", "escort delay (s)"},
    {"escort.wait_s", "escort wait at stop lines (s)", "escort wait (s)"},
    {"traffic.during_escort.mean_delay_s", "delay of traffic during the escort's trip (s/veh)",
     "delay during escort (s/veh)"},
    {"traffic.cross_street.mean_delay_s", "cross-street delay (s/veh)", "cross-street delay"},
    {"traffic.mean_delay_s", "mean delay, all traffic (s/veh)", "mean delay (s/veh)"},
    {"traffic.p95_delay_s", "95th percentile delay (s)", "p95 delay (s)"},
    {"traffic.vehicles_completed", "vehicles completed", "vehicles completed"},
    {"safety.conflict_rejections", "conflict-monitor rejections", "conflict rejections"},
    {"recovery.time_s", "recovery time (s)", "recovery (s)"},
    {"recovery.cycles", "recovery (cycles)", "recovery (cycles)"},
    {"trip_window.mean_delay_s", "delay of traffic in the trip window (s/veh)",
     "trip-window delay (s/veh)"},
    {"vs_none.window.delta_sum_h", "trip window: delay added to others vs none, paired (veh-h)",
     "others' added delay (veh-h)"},
    {"vs_none.window.delta_s", "trip window: added delay per vehicle vs none, paired (s/veh)",
     "added delay (s/veh)"},
    {"vs_none.arterial.delta_s", "trip window, arterial: added delay vs none, paired (s/veh)",
     "arterial added (s/veh)"},
    {"vs_none.cross_street.delta_s",
     "trip window, cross streets: added delay vs none, paired (s/veh)", "cross added (s/veh)"},
    {NULL, NULL, NULL},
};

const char *batch_measure_label(const char *name) {
    for (size_t i = 0; LABELS[i].name != NULL; i++)
        if (strcmp(LABELS[i].name, name) == 0)
            return LABELS[i].label;
    return name;
}

static const char *short_label(const char *name) {
    for (size_t i = 0; LABELS[i].name != NULL; i++)
        if (strcmp(LABELS[i].name, name) == 0)
            return LABELS[i].shortl;
    return name;
}

void batch_run_dir(const batch_sweep_t *sweep, const batch_run_t *run, const char *root, char *buf,
                   size_t size) {
    snprintf(buf, size, "%s/runs/%s/%s/%" PRIu64, root, sweep->scenarios[run->scenario].label,
             sweep->variants[run->variant].slug, run->seed);
}

void batch_run_log(const batch_sweep_t *sweep, const batch_run_t *run, const char *root, char *buf,
                   size_t size) {
    snprintf(buf, size, "%s/logs/%s__%s__%" PRIu64 ".log", root,
             sweep->scenarios[run->scenario].label, sweep->variants[run->variant].slug, run->seed);
}

/* Timing columns vary from machine to machine: they go to the Runtime section only. */
static int is_timing(const char *name) {
    return strstr(name, "wall") != NULL || strstr(name, "rtt") != NULL;
}

/* ---- the runs of the plan ----------------------------------------------------------------- */

typedef struct ana {
    const batch_sweep_t *sw;
    const batch_table_t *t;
    long *row;     /* per plan run: table row or -1 */
    char *ok;      /* per plan run: row with status ok */
    long c_status; /* column indexes */
} ana_t;

typedef struct measure {
    const char *name;
    long col, arrived, vehicles;
} measure_t;

static void resolve(const batch_table_t *t, const char *name, measure_t *m) {
    m->name = name;
    m->col = batch_table_col(t, name);
    m->arrived = m->vehicles = -1;
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return;
    const char *leaf = dot + 1;
    char sib[512];
    if (strcmp(leaf, "arrived") != 0 && strcmp(leaf, "free_flow_time_s") != 0 &&
        strcmp(leaf, "depart_s") != 0) {
        snprintf(sib, sizeof sib, "%.*s.arrived", (int)(dot - name), name);
        m->arrived = batch_table_col(t, sib);
    }
    if (strncmp(leaf, "mean_", 5) == 0) {
        snprintf(sib, sizeof sib, "%.*s.vehicles", (int)(dot - name), name);
        m->vehicles = batch_table_col(t, sib);
    }
}

static int cell_is(const batch_table_t *t, long row, long col, const char *text) {
    if (col < 0)
        return 0;
    const char *v = t->rows[row][col];
    return v != NULL && strcmp(v, text) == 0;
}

/* The value of measure m in plan run i, or NaN (not run, failed, empty, does not exist). */
static double value(const ana_t *a, size_t i, const measure_t *m) {
    long r = a->row[i];
    if (r < 0 || !a->ok[i] || m->col < 0)
        return NAN;
    if (cell_is(a->t, r, m->arrived, "0") || cell_is(a->t, r, m->vehicles, "0"))
        return NAN;
    const char *v = a->t->rows[r][m->col];
    if (v == NULL || v[0] == '\0')
        return NAN;
    char *end;
    double x = strtod(v, &end);
    return *end == '\0' && isfinite(x) ? x : NAN;
}

static size_t plan_index(const batch_sweep_t *sw, size_t s, size_t v, size_t k) {
    return (s * sw->n_variants + v) * sw->n_seeds + k;
}

static int analyse(ana_t *a, const batch_sweep_t *sw, const batch_table_t *t) {
    memset(a, 0, sizeof *a);
    a->sw = sw;
    a->t = t;
    size_t n = batch_sweep_n_runs(sw);
    a->row = malloc((n ? n : 1) * sizeof *a->row);
    a->ok = calloc(n ? n : 1, 1);
    if (a->row == NULL || a->ok == NULL)
        return BASE_ENOMEM;
    for (size_t i = 0; i < n; i++)
        a->row[i] = -1;
    long c_run = batch_table_col(t, "run"), c_s = batch_table_col(t, "scenario");
    long c_v = batch_table_col(t, "variant"), c_seed = batch_table_col(t, "seed");
    a->c_status = batch_table_col(t, "status");
    if (c_s < 0 || c_v < 0 || c_seed < 0 || a->c_status < 0)
        return BASE_OK; /* not a runs.csv: nothing matches */
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *sc = t->rows[r][c_s], *va = t->rows[r][c_v], *se = t->rows[r][c_seed];
        if (sc == NULL || va == NULL || se == NULL)
            continue;
        uint64_t seed = strtoull(se, NULL, 10);
        size_t i = n;
        /* Fast path: the row's run number, when it names the same run of this plan. */
        if (c_run >= 0 && t->rows[r][c_run] != NULL) {
            size_t cand = (size_t)strtoull(t->rows[r][c_run], NULL, 10);
            if (cand < n) {
                batch_run_t run;
                batch_sweep_run_at(sw, cand, &run);
                if (run.seed == seed && strcmp(sw->scenarios[run.scenario].label, sc) == 0 &&
                    strcmp(sw->variants[run.variant].label, va) == 0)
                    i = cand;
            }
        }
        for (size_t s = 0; i == n && s < sw->n_scenarios; s++) {
            if (strcmp(sw->scenarios[s].label, sc) != 0)
                continue;
            for (size_t v = 0; i == n && v < sw->n_variants; v++) {
                if (strcmp(sw->variants[v].label, va) != 0)
                    continue;
                for (size_t k = 0; k < sw->n_seeds; k++)
                    if (sw->seeds[k] == seed)
                        i = plan_index(sw, s, v, k);
            }
        }
        if (i == n)
            continue; /* a row of another plan */
        int ok = cell_is(t, (long)r, a->c_status, "ok");
        /* A run twice (merged shards that overlap): an ok row wins, then the first. */
        if (a->row[i] < 0 || (!a->ok[i] && ok)) {
            a->row[i] = (long)r;
            a->ok[i] = (char)ok;
        }
    }
    return BASE_OK;
}

static void ana_fini(ana_t *a) {
    free(a->row);
    free(a->ok);
}

/* Values of measure m for scenario s, variant v, in seed order (NaN where none). */
static void gather(const ana_t *a, size_t s, size_t v, const measure_t *m, double *out) {
    for (size_t k = 0; k < a->sw->n_seeds; k++)
        out[k] = value(a, plan_index(a->sw, s, v, k), m);
}

static int stats_of(const double *x, size_t n, batch_stats_t *st) {
    double *f = malloc((n ? n : 1) * sizeof *f);
    if (f == NULL)
        return BASE_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            f[m++] = x[i];
    int rc = batch_stats_compute(f, m, LEVEL, st);
    free(f);
    return rc;
}

/* Paired difference x - y over the seeds where both exist; *base_mean: mean of y there. */
static int paired_of(const double *x, const double *y, size_t n, batch_stats_t *st,
                     double *base_mean) {
    double *a = malloc((n ? n : 1) * sizeof *a), *b = malloc((n ? n : 1) * sizeof *b);
    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        return BASE_ENOMEM;
    }
    size_t m = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(x[i]) && isfinite(y[i])) {
            a[m] = x[i];
            b[m] = y[i];
            sum += y[i];
            m++;
        }
    }
    *base_mean = m > 0 ? sum / (double)m : NAN;
    int rc = batch_stats_paired(a, b, m, LEVEL, st);
    free(a);
    free(b);
    return rc;
}

/* ---- formatting --------------------------------------------------------------------------- */

/* x with the decimals that suit the magnitude of ref: 0 from 1000, 1 from 10, else 2 (a
 * mean, its sd and its interval share the mean's decimals). */
static const char *fmt_as(double x, double ref, char *buf) {
    if (!isfinite(x))
        return "—";
    double ar = isfinite(ref) ? fabs(ref) : fabs(x);
    int dec = ar >= 1000 ? 0 : ar >= 10 ? 1 : 2;
    snprintf(buf, 32, "%.*f", dec, x + 0.0);
    if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
        memmove(buf, buf + 1, strlen(buf)); /* no "-0.0" */
    return buf;
}

static const char *fmt(double x, char *buf) {
    return fmt_as(x, x, buf);
}

static void fmt_ci(const batch_stats_t *st, char *buf, size_t size) {
    char a[32], b[32];
    if (!isfinite(st->lo))
        snprintf(buf, size, "—");
    else
        snprintf(buf, size, "[%s, %s]", fmt_as(st->lo, st->mean, a), fmt_as(st->hi, st->mean, b));
}

static int excludes_zero(const batch_stats_t *st) {
    return isfinite(st->lo) && (st->lo > 0 || st->hi < 0);
}

static void fmt_delta(const batch_stats_t *d, double base_mean, int with_pct, char *buf,
                      size_t size) {
    char m[32], ci[80], pct[48] = "";
    if (!isfinite(d->mean)) {
        snprintf(buf, size, "—");
        return;
    }
    fmt_ci(d, ci, sizeof ci);
    if (with_pct && isfinite(base_mean) && base_mean != 0)
        snprintf(pct, sizeof pct, " (%+.1f %%)", 100.0 * d->mean / base_mean + 0.0);
    snprintf(buf, size, "%s%s %s%s", d->mean > 0 ? "+" : "", fmt(d->mean, m), ci,
             excludes_zero(d) ? " *" : "");
    if (pct[0] != '\0') {
        size_t l = strlen(buf);
        snprintf(buf + l, size - l, "%s", pct);
    }
}

/* Escapes '|' for a markdown table cell. */
static void md_cell(FILE *f, const char *text) {
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '|')
            fputc('\\', f);
        if (*p == '\n')
            fputc(' ', f);
        else
            fputc(*p, f);
    }
}

/* ---- files -------------------------------------------------------------------------------- */

static int copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return -1;
    FILE *out = fopen(to, "wb");
    if (out == NULL) {
        fclose(in);
        return -1;
    }
    char buf[65536];
    size_t n;
    int bad = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            bad = 1;
    bad |= ferror(in);
    fclose(in);
    if (fclose(out) != 0)
        bad = 1;
    return bad ? -1 : 0;
}

static int exists(const char *path) {
    return access(path, R_OK) == 0;
}

/* Finds file rel (e.g. "runs/x/y/3/escort.csv") under out_dir or a root; copies it into
 * out_dir when found elsewhere. Writes the path to use into buf; returns 0 or -1. */
static int locate(const char *out_dir, const batch_report_opts_t *o, const char *rel, char *buf,
                  size_t size) {
    snprintf(buf, size, "%s/%s", out_dir, rel);
    if (exists(buf))
        return 0;
    for (size_t i = 0; o != NULL && i < o->n_roots; i++) {
        char src[4096];
        snprintf(src, sizeof src, "%s/%s", o->roots[i], rel);
        if (!exists(src))
            continue;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", buf);
        char *slash = strrchr(dir, '/');
        if (slash != NULL) {
            *slash = '\0';
            base_fs_mkdir_p(dir);
        }
        if (copy_file(src, buf) == 0)
            return 0;
        snprintf(buf, size, "%s", src);
        return 0;
    }
    return -1;
}

/* ---- plots -------------------------------------------------------------------------------- */

typedef struct plot_ctx {
    const ana_t *a;
    const char *out_dir;
    char plots_dir[4096];
    const batch_report_opts_t *o;
    FILE *md;
} plot_ctx_t;

static void plot_failed(plot_ctx_t *p, const char *what, const base_err_t *e) {
    fprintf(p->md, "- %s: not drawn: ", what);
    md_cell(p->md, e->msg);
    fputc('\n', p->md);
    if (p->o != NULL && p->o->warn != NULL)
        fprintf(p->o->warn, "greenwave-bench: plot %s: %s\n", what, e->msg);
}

/* A strip chart of the given measures (one panel each) for scenario s. */
static int plot_strips(plot_ctx_t *p, size_t s, const char *file, const char *title,
                       const char *const *names, size_t n_names, const char *what) {
    const batch_sweep_t *sw = p->a->sw;
    size_t nv = sw->n_variants, nk = sw->n_seeds;
    batch_plot_panel_t panels[8];
    batch_plot_series_t *series = calloc(n_names * nv, sizeof *series);
    double *vals = malloc((n_names * nv * nk + 1) * sizeof *vals);
    int rc = series && vals ? BASE_OK : BASE_ENOMEM;
    size_t np = 0;
    for (size_t m = 0; m < n_names && m < 8 && rc == BASE_OK; m++) {
        measure_t me;
        resolve(p->a->t, names[m], &me);
        if (me.col < 0)
            continue;
        for (size_t v = 0; v < nv && rc == BASE_OK; v++) {
            batch_plot_series_t *se = &series[np * nv + v];
            double *x = &vals[(np * nv + v) * nk];
            gather(p->a, s, v, &me, x);
            se->label = sw->variants[v].label;
            se->y = x;
            se->seeds = sw->seeds;
            se->n = nk;
            rc = stats_of(x, nk, &se->stats);
        }
        panels[np] = (batch_plot_panel_t){short_label(names[m]), batch_measure_label(names[m]),
                                          &series[np * nv], nv};
        np++;
    }
    if (rc == BASE_OK && np > 0) {
        base_err_t e = {0};
        char name[512];
        snprintf(name, sizeof name, "%s-%s", sw->scenarios[s].label, file);
        if (batch_plot_strips(p->o->gnuplot, p->plots_dir, name, title, panels, np, &e) < 0)
            plot_failed(p, what, &e);
        else
            fprintf(p->md, "![%s](plots/%s.png)\n\n", what, name);
    }
    free(series);
    free(vals);
    return rc;
}

/* The trade-off: escort travel time against the delay the escort's trip added to the other
 * vehicles of its trip window (paired with none, vehicle-hours; none itself adds 0), a point
 * per variant with 95 % intervals on both axes, the Pareto front marked; and its table. */
static int plot_tradeoff(plot_ctx_t *p, size_t s) {
    const batch_sweep_t *sw = p->a->sw;
    size_t nv = sw->n_variants, nk = sw->n_seeds;
    measure_t mx, my;
    resolve(p->a->t, "escort.travel_time_s", &mx);
    resolve(p->a->t, "vs_none.window.delta_sum_h", &my);
    if (mx.col < 0 || my.col < 0)
        return BASE_OK;
    batch_plot_point_t *pt = calloc(nv + 1, sizeof *pt);
    double *x = malloc((nk + 1) * sizeof *x), *y = malloc((nk + 1) * sizeof *y);
    int rc = pt && x && y ? BASE_OK : BASE_ENOMEM;
    for (size_t v = 0; v < nv && rc == BASE_OK; v++) {
        gather(p->a, s, v, &mx, x);
        gather(p->a, s, v, &my, y);
        if (strcmp(sw->variants[v].strategy, "none") == 0)
            for (size_t k = 0; k < nk; k++)
                y[k] = isfinite(x[k]) ? 0.0 : NAN; /* none against itself */
        pt[v].label = sw->variants[v].label;
        rc = stats_of(x, nk, &pt[v].x);
        if (rc == BASE_OK)
            rc = stats_of(y, nk, &pt[v].y);
    }
    if (rc == BASE_OK) {
        batch_plot_pareto(pt, nv);
        fprintf(
            p->md,
            "### Trade-off: escort time against others' added delay\n\n"
            "Added delay: over the vehicles in the network during the trip window (escort "
            "departure to the last route signal's return to coordination), each vehicle's "
            "delay minus its delay in the `none` run of the same seed, summed (vehicle-hours; "
            "`vs_none.window.delta_sum_h`). Means over seeds with 95 %% intervals; * on the "
            "Pareto front (no variant is faster and cheaper).\n\n"
            "| variant | escort time (s) [95 %% CI] | added delay (veh-h) [95 %% CI] | front |\n"
            "|---|---|---|---|\n");
        for (size_t v = 0; v < nv; v++) {
            char cx[96], cy[96], mxb[32], myb[32];
            fmt_ci(&pt[v].x, cx, sizeof cx);
            fmt_ci(&pt[v].y, cy, sizeof cy);
            fprintf(p->md, "| %s | %s %s | %s %s | %s |\n", pt[v].label, fmt(pt[v].x.mean, mxb), cx,
                    fmt(pt[v].y.mean, myb), cy, pt[v].front ? "*" : "");
        }
        fprintf(p->md, "\n");
    }
    if (rc == BASE_OK && p->o != NULL && p->o->gnuplot != NULL) {
        base_err_t e = {0};
        char name[512], title[512];
        snprintf(name, sizeof name, "%s-tradeoff", sw->scenarios[s].label);
        snprintf(title, sizeof title,
                 "%s: escort time against the delay it adds to others (Pareto front in red)",
                 sw->scenarios[s].label);
        if (batch_plot_tradeoff(p->o->gnuplot, p->plots_dir, name, title,
                                "escort travel time (s), mean and 95 % CI",
                                "delay added to others in the trip window vs none (veh-h)", pt, nv,
                                &e) < 0)
            plot_failed(p, "trade-off", &e);
        else
            fprintf(p->md, "![trade-off](plots/%s.png)\n\n", name);
    }
    free(pt);
    free(x);
    free(y);
    return rc;
}

typedef struct pick {
    size_t k;
    double v;
} pick_t;

static int cmp_pick(const void *a, const void *b) {
    const pick_t *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

static double cell_num(const ana_t *a, size_t i, const char *col) {
    measure_t m = {col, batch_table_col(a->t, col), -1, -1};
    return value(a, i, &m);
}

/* One TSD panel for plan run i; fills bars/traj (caller frees). */
static int tsd_panel(plot_ctx_t *p, const batch_tsd_route_t *route, size_t i, double t_lo,
                     double t_hi, batch_plot_tsd_t *panel, base_err_t *e) {
    const batch_sweep_t *sw = p->a->sw;
    batch_run_t run;
    batch_sweep_run_at(sw, i, &run);
    char rel[2048], sig[4096], esc[4096];
    batch_run_dir(sw, &run, ".", rel, sizeof rel);
    char r1[2100], r2[2100];
    snprintf(r1, sizeof r1, "%s/signals.csv", rel + 2);
    snprintf(r2, sizeof r2, "%s/escort.csv", rel + 2);
    if (locate(p->out_dir, p->o, r1, sig, sizeof sig) < 0 ||
        locate(p->out_dir, p->o, r2, esc, sizeof esc) < 0)
        return base_err_set(e, BASE_EIO, "outputs of run %s/%s/%" PRIu64 " not found (%s)",
                            sw->scenarios[run.scenario].label, sw->variants[run.variant].label,
                            run.seed, r1);
    double dep = cell_num(p->a, i, "escort.depart_s");
    double tt = cell_num(p->a, i, "escort.travel_time_s");
    int rc =
        batch_tsd_bars(route, sig, t_lo, t_hi, (batch_tsd_bar_t **)&panel->bars, &panel->n_bars, e);
    if (rc == BASE_OK)
        rc = batch_tsd_trajectory(route, esc, isfinite(dep) ? dep : NAN,
                                  isfinite(tt) && isfinite(dep) ? dep + tt : -1,
                                  (batch_tsd_point_t **)&panel->traj, &panel->n_traj, e);
    return rc;
}

/* The ATSPM charts of plan run i (its atspm.csv, when the sweep ran with --atspm), under
 * plots/LABEL-atspm/, listed in the report. */
static int atspm_charts(plot_ctx_t *p, size_t s, size_t i, const char *desc) {
    const batch_sweep_t *sw = p->a->sw;
    batch_run_t run;
    batch_sweep_run_at(sw, i, &run);
    char rel[2048], r1[2100], r2[2100], log_path[4096], cfg_path[4096];
    batch_run_dir(sw, &run, ".", rel, sizeof rel);
    snprintf(r1, sizeof r1, "%s/atspm.csv", rel + 2);
    snprintf(r2, sizeof r2, "%s/atspm.config.csv", rel + 2);
    if (locate(p->out_dir, p->o, r1, log_path, sizeof log_path) < 0 ||
        locate(p->out_dir, p->o, r2, cfg_path, sizeof cfg_path) < 0)
        return BASE_OK; /* the sweep ran without --atspm */
    char what[256], dir[4400], sub[300];
    snprintf(what, sizeof what, "ATSPM charts (%s)", sw->scenarios[s].label);
    snprintf(sub, sizeof sub, "%s-atspm", sw->scenarios[s].label);
    snprintf(dir, sizeof dir, "%s/%s", p->plots_dir, sub);
    base_err_t e = {0};
    report_atspm_log_t log;
    size_t n_png = 0;
    if (report_atspm_read(log_path, cfg_path, &log, &e) < 0) {
        plot_failed(p, what, &e);
        return e.code == BASE_ENOMEM ? BASE_ENOMEM : BASE_OK;
    }
    int rc = batch_atspm_plots(p->o->gnuplot, &log, dir, NULL, &n_png, &e);
    if (rc < 0) {
        plot_failed(p, what, &e);
    } else {
        fprintf(p->md,
                "ATSPM charts of the same run (%s; docs/atspm.md), per signal: Purdue "
                "Coordination Diagram and split monitor, and [atspm-summary.csv](plots/%s/"
                "atspm-summary.csv) (arrivals on green, mean splits):\n\n",
                desc, sub);
        for (int32_t g = 0; g < log.n_signals; g++) {
            char safe[256];
            size_t k = 0;
            for (const char *c = log.signals[g]; *c != '\0' && k + 1 < sizeof safe; c++, k++)
                safe[k] =
                    (isalnum((unsigned char)*c) || *c == '_' || *c == '.' || *c == '-') ? *c : '_';
            safe[k] = '\0';
            char pcd[4800];
            snprintf(pcd, sizeof pcd, "%s/pcd-%s.png", dir, safe);
            fprintf(p->md, "- %s: ", log.signals[g]);
            if (exists(pcd))
                fprintf(p->md, "[PCD](plots/%s/pcd-%s.png), ", sub, safe);
            fprintf(p->md, "[split monitor](plots/%s/split-%s.png)\n", sub, safe);
        }
        fputc('\n', p->md);
    }
    report_atspm_log_free(&log);
    return rc == BASE_ENOMEM ? BASE_ENOMEM : BASE_OK;
}

static int plot_tsd(plot_ctx_t *p, size_t s) {
    const ana_t *a = p->a;
    const batch_sweep_t *sw = a->sw;
    size_t nk = sw->n_seeds, mv = sw->main, bv = sw->baseline;
    measure_t tt;
    resolve(a->t, "escort.travel_time_s", &tt);
    pick_t *picks = malloc((nk ? nk : 1) * sizeof *picks);
    if (picks == NULL)
        return BASE_ENOMEM;
    size_t n = 0, any_ok = nk;
    for (size_t k = 0; k < nk; k++) {
        size_t i = plan_index(sw, s, mv, k);
        double v = value(a, i, &tt);
        if (a->ok[i] && any_ok == nk)
            any_ok = k;
        if (isfinite(v))
            picks[n++] = (pick_t){k, v};
    }
    qsort(picks, n, sizeof *picks, cmp_pick);
    char what[256];
    snprintf(what, sizeof what, "time-space diagram (%s)", sw->scenarios[s].label);
    size_t k;
    char desc[512];
    char num[32];
    if (n > 0) {
        k = picks[(n - 1) / 2].k;
        snprintf(desc, sizeof desc, "%s, seed %" PRIu64 ": escort %s s (median of %zu runs)",
                 sw->variants[mv].label, sw->seeds[k], fmt(picks[(n - 1) / 2].v, num), n);
    } else if (any_ok < nk) {
        k = any_ok;
        snprintf(desc, sizeof desc, "%s, seed %" PRIu64 ": the escort did not arrive in any run",
                 sw->variants[mv].label, sw->seeds[k]);
    } else {
        free(picks);
        fprintf(p->md, "- %s: no successful run of %s\n", what, sw->variants[mv].label);
        return BASE_OK;
    }
    free(picks);
    fprintf(p->md, "Time-space diagram: %s", desc);
    size_t im = plan_index(sw, s, mv, k), ib = plan_index(sw, s, bv, k);
    int with_base = bv != mv && a->ok[ib];
    if (with_base)
        fprintf(p->md, "; below it %s with the same seed (same demand).\n\n",
                sw->variants[bv].label);
    else
        fprintf(p->md, ".\n\n");
    /* Route from the scenario copy in the output (or the path of the sweep). */
    char rel[1024], scn[4096];
    snprintf(rel, sizeof rel, "scenarios/%s.json", sw->scenarios[s].label);
    if (locate(p->out_dir, p->o, rel, scn, sizeof scn) < 0)
        snprintf(scn, sizeof scn, "%s", sw->scenarios[s].path);
    batch_tsd_route_t route;
    base_err_t e = {0};
    if (batch_tsd_route_load(scn, NULL, &route, &e) < 0) {
        plot_failed(p, what, &e);
        return BASE_OK;
    }
    /* Window: from a minute before the escort leaves to a minute after the later arrival. */
    double dep = cell_num(a, im, "escort.depart_s"), end = cell_num(a, im, "sim.sim_s");
    double lo = isfinite(dep) ? dep - 60 : 0, hi = 0;
    size_t runs[2] = {im, ib};
    for (size_t j = 0; j < (with_base ? 2u : 1u); j++) {
        double t = value(a, runs[j], &tt);
        double d = cell_num(a, runs[j], "escort.depart_s");
        if (isfinite(t) && isfinite(d) && d + t + 60 > hi)
            hi = d + t + 60;
    }
    if (hi == 0)
        hi = isfinite(end) ? end : lo + 600;
    if (lo < 0)
        lo = 0;
    if (isfinite(end) && hi > end)
        hi = end;
    if (hi <= lo)
        hi = lo + 60;
    batch_plot_tsd_t panels[2];
    memset(panels, 0, sizeof panels);
    char t0[sizeof desc], t1[512], n1[32];
    snprintf(t0, sizeof t0, "%s", desc);
    panels[0].title = t0;
    int rc = tsd_panel(p, &route, im, lo, hi, &panels[0], &e);
    size_t np = 1;
    if (rc == BASE_OK && with_base) {
        double bt = value(a, ib, &tt);
        if (isfinite(bt))
            snprintf(t1, sizeof t1, "%s, seed %" PRIu64 " (same demand): escort %s s",
                     sw->variants[bv].label, sw->seeds[k], fmt(bt, n1));
        else
            snprintf(t1, sizeof t1, "%s, seed %" PRIu64 " (same demand): escort did not arrive",
                     sw->variants[bv].label, sw->seeds[k]);
        panels[1].title = t1;
        rc = tsd_panel(p, &route, ib, lo, hi, &panels[1], &e);
        np = 2;
    }
    if (rc == BASE_ENOMEM) {
        batch_tsd_route_fini(&route);
        return BASE_ENOMEM;
    }
    char name[512];
    snprintf(name, sizeof name, "%s-tsd", sw->scenarios[s].label);
    if (rc < 0 ||
        batch_plot_tsd(p->o->gnuplot, p->plots_dir, name, &route, panels, np, lo, hi, &e) < 0)
        plot_failed(p, what, &e);
    else
        fprintf(p->md, "![%s](plots/%s.png)\n\n", what, name);
    for (size_t j = 0; j < 2; j++) {
        free((void *)panels[j].bars);
        free((void *)panels[j].traj);
    }
    batch_tsd_route_fini(&route);
    return atspm_charts(p, s, im, desc);
}

/* ---- the report --------------------------------------------------------------------------- */

static int write_scenario(const ana_t *a, size_t s, FILE *md, plot_ctx_t *pc) {
    const batch_sweep_t *sw = a->sw;
    const batch_table_t *t = a->t;
    size_t nv = sw->n_variants, nk = sw->n_seeds, b = sw->baseline;
    double *x = malloc((nk ? nk : 1) * sizeof *x), *y = malloc((nk ? nk : 1) * sizeof *y);
    if (x == NULL || y == NULL) {
        free(x);
        free(y);
        return BASE_ENOMEM;
    }
    char n1[32], ci[96], dl[160];
    fprintf(md, "## Scenario %s\n\n", sw->scenarios[s].label);
    /* Run counts. */
    fprintf(md, "| strategy | parameters | runs ok | failed | not run |\n|---|---|---|---|---|\n");
    for (size_t v = 0; v < nv; v++) {
        size_t ok = 0, failed = 0, missing = 0;
        for (size_t k = 0; k < nk; k++) {
            size_t i = plan_index(sw, s, v, k);
            ok += a->row[i] >= 0 && a->ok[i];
            failed += a->row[i] >= 0 && !a->ok[i];
            missing += a->row[i] < 0;
        }
        char params[512];
        batch_variant_params_text(&sw->variants[v], -1, params, sizeof params);
        fprintf(md, "| %s%s | ", sw->variants[v].label, v == b ? " (baseline)" : "");
        md_cell(md, params[0] ? params : "defaults");
        fprintf(md, " | %zu | %zu | %zu |\n", ok, failed, missing);
    }
    /* Summary: the first four key measures, mean [CI] and the paired difference. */
    size_t nsum = sw->n_measures < 4 ? sw->n_measures : 4;
    fprintf(md,
            "\n### Summary\n\nMean [95 %% CI] over the runs; Δ: mean paired difference to "
            "%s over the seeds where both ran [its 95 %% CI]; * the interval excludes 0.\n\n"
            "| strategy |",
            sw->variants[b].label);
    for (size_t m = 0; m < nsum; m++)
        fprintf(md, " %s | Δ |", short_label(sw->measures[m]));
    fprintf(md, "\n|---|");
    for (size_t m = 0; m < nsum; m++)
        fprintf(md, "---|---|");
    fprintf(md, "\n");
    for (size_t v = 0; v < nv; v++) {
        fprintf(md, "| %s |", sw->variants[v].label);
        for (size_t m = 0; m < nsum; m++) {
            measure_t me;
            resolve(t, sw->measures[m], &me);
            batch_stats_t st, d;
            double bm;
            gather(a, s, v, &me, x);
            gather(a, s, b, &me, y);
            if (stats_of(x, nk, &st) == BASE_ENOMEM || paired_of(x, y, nk, &d, &bm) == BASE_ENOMEM)
                goto oom;
            fmt_ci(&st, ci, sizeof ci);
            if (v == b)
                snprintf(dl, sizeof dl, "—");
            else
                fmt_delta(&d, bm, 1, dl, sizeof dl);
            if (isfinite(st.mean))
                fprintf(md, " %s %s | %s |", fmt(st.mean, n1), ci, dl);
            else
                fprintf(md, " — | %s |", dl);
        }
        fprintf(md, "\n");
    }
    /* Key measures in full. */
    fprintf(md,
            "\n### Key measures\n\n| measure | strategy | n | mean | sd | 95 %% CI | median | "
            "Δ vs %s [95 %% CI] | pairs |\n|---|---|---|---|---|---|---|---|---|\n",
            sw->variants[b].label);
    for (size_t m = 0; m < sw->n_measures; m++) {
        measure_t me;
        resolve(t, sw->measures[m], &me);
        if (me.col < 0)
            continue;
        gather(a, s, b, &me, y);
        for (size_t v = 0; v < nv; v++) {
            batch_stats_t st, d;
            double bm;
            gather(a, s, v, &me, x);
            if (stats_of(x, nk, &st) == BASE_ENOMEM || paired_of(x, y, nk, &d, &bm) == BASE_ENOMEM)
                goto oom;
            fmt_ci(&st, ci, sizeof ci);
            if (v == b)
                snprintf(dl, sizeof dl, "—");
            else
                fmt_delta(&d, bm, 1, dl, sizeof dl);
            char sd[32], med[32], pairs[32] = "—";
            if (v != b)
                snprintf(pairs, sizeof pairs, "%zu", d.n);
            fprintf(md, "| %s | %s | %zu | %s | %s | %s | %s | %s | %s |\n",
                    v == 0 ? batch_measure_label(me.name) : "", sw->variants[v].label, st.n,
                    fmt(st.mean, n1), fmt_as(st.sd, st.mean, sd), ci,
                    fmt_as(st.median, st.mean, med), dl, pairs);
        }
    }
    /* Plots. */
    fprintf(md, "\n### Plots\n\n");
    if (pc->o == NULL || pc->o->gnuplot == NULL) {
        fprintf(md, "Not drawn: %s\n\n",
                pc->o && pc->o->no_plots_reason ? pc->o->no_plots_reason : "no gnuplot");
    } else {
        static const char *const esc[] = {"escort.travel_time_s"};
        static const char *const traffic[] = {"traffic.during_escort.mean_delay_s",
                                              "traffic.cross_street.mean_delay_s",
                                              "traffic.mean_delay_s"};
        char title[256];
        snprintf(title, sizeof title, "%s: escort travel time by strategy (points: runs)",
                 sw->scenarios[s].label);
        if (plot_strips(pc, s, "escort-time", title, esc, 1, "escort travel time") < 0)
            goto oom;
        snprintf(title, sizeof title, "%s: delay of other traffic by strategy",
                 sw->scenarios[s].label);
        if (plot_strips(pc, s, "traffic-delay", title, traffic, 3, "traffic delay") < 0)
            goto oom;
        if (plot_tsd(pc, s) < 0)
            goto oom;
    }
    if (plot_tradeoff(pc, s) < 0)
        goto oom;
    /* Failed runs. */
    size_t nf = 0;
    for (size_t v = 0; v < nv; v++) {
        for (size_t k = 0; k < nk; k++) {
            size_t i = plan_index(sw, s, v, k);
            if (a->row[i] < 0 || a->ok[i])
                continue;
            if (nf++ == 0)
                fprintf(md, "### Failed runs\n\n| strategy | seed | exit status | reason | log |\n"
                            "|---|---|---|---|---|\n");
            batch_run_t run;
            batch_sweep_run_at(sw, i, &run);
            char log[2048];
            batch_run_log(sw, &run, ".", log, sizeof log);
            const char *es = batch_table_get(t, (size_t)a->row[i], "exit_status");
            const char *why = batch_table_get(t, (size_t)a->row[i], "reason");
            fprintf(md, "| %s | %" PRIu64 " | %s | ", sw->variants[v].label, run.seed,
                    es ? es : "");
            md_cell(md, why ? why : "");
            fprintf(md, " | %s |\n", log + 2);
        }
    }
    if (nf > 0)
        fprintf(md, "\n");
    free(x);
    free(y);
    return BASE_OK;
oom:
    free(x);
    free(y);
    return BASE_ENOMEM;
}

/* Every other numeric measure of scenario s: mean ± sd per variant, and Δ. */
static int write_appendix(const ana_t *a, size_t s, FILE *md) {
    const batch_sweep_t *sw = a->sw;
    const batch_table_t *t = a->t;
    size_t nv = sw->n_variants, nk = sw->n_seeds, b = sw->baseline;
    double *x = malloc((nk ? nk : 1) * sizeof *x), *y = malloc((nk ? nk : 1) * sizeof *y);
    if (x == NULL || y == NULL) {
        free(x);
        free(y);
        return BASE_ENOMEM;
    }
    fprintf(md, "### %s: all measures\n\n| measure |", sw->scenarios[s].label);
    for (size_t v = 0; v < nv; v++)
        fprintf(md, " %s |", sw->variants[v].label);
    for (size_t v = 0; v < nv; v++)
        if (v != b)
            fprintf(md, " Δ %s |", sw->variants[v].label);
    fprintf(md, "\n|---|");
    for (size_t v = 0; v < 2 * nv - 1; v++)
        fprintf(md, "---|");
    fprintf(md, "\n");
    for (size_t c = BATCH_FIXED_COLS; c < t->n_cols; c++) {
        if (is_timing(t->cols[c]))
            continue;
        measure_t me;
        resolve(t, t->cols[c], &me);
        int any = 0;
        for (size_t v = 0; v < nv && !any; v++) {
            gather(a, s, v, &me, x);
            for (size_t k = 0; k < nk && !any; k++)
                any = isfinite(x[k]);
        }
        if (!any)
            continue;
        fprintf(md, "| `%s` |", t->cols[c]);
        gather(a, s, b, &me, y);
        for (size_t v = 0; v < nv; v++) {
            batch_stats_t st;
            char n1[32], n2[32];
            gather(a, s, v, &me, x);
            if (stats_of(x, nk, &st) == BASE_ENOMEM)
                goto oom;
            fprintf(md, " %s ± %s |", fmt(st.mean, n1), fmt_as(st.sd, st.mean, n2));
        }
        for (size_t v = 0; v < nv; v++) {
            if (v == b)
                continue;
            batch_stats_t d;
            double bm;
            char dl[160];
            gather(a, s, v, &me, x);
            if (paired_of(x, y, nk, &d, &bm) == BASE_ENOMEM)
                goto oom;
            fmt_delta(&d, bm, 0, dl, sizeof dl);
            fprintf(md, " %s |", dl);
        }
        fprintf(md, "\n");
    }
    fprintf(md, "\n");
    free(x);
    free(y);
    return BASE_OK;
oom:
    free(x);
    free(y);
    return BASE_ENOMEM;
}

static int write_runtime(const ana_t *a, FILE *md, const batch_report_opts_t *o) {
    const batch_sweep_t *sw = a->sw;
    const batch_table_t *t = a->t;
    size_t nk = sw->n_seeds, nt = 0;
    long tcols[16];
    for (size_t c = BATCH_FIXED_COLS - 1; c < t->n_cols && nt < 16; c++)
        if (is_timing(t->cols[c]))
            tcols[nt++] = (long)c;
    fprintf(md, "## Runtime\n\nMachine-dependent figures, not part of the comparison (medians "
                "over the successful runs).\n\n");
    if (nt > 0) {
        fprintf(md, "| scenario | strategy |");
        for (size_t j = 0; j < nt; j++)
            fprintf(md, " `%s` |", t->cols[tcols[j]]);
        fprintf(md, "\n|---|---|");
        for (size_t j = 0; j < nt; j++)
            fprintf(md, "---|");
        fprintf(md, "\n");
        double *x = malloc((nk ? nk : 1) * sizeof *x);
        if (x == NULL)
            return BASE_ENOMEM;
        for (size_t s = 0; s < sw->n_scenarios; s++) {
            for (size_t v = 0; v < sw->n_variants; v++) {
                fprintf(md, "| %s | %s |", sw->scenarios[s].label, sw->variants[v].label);
                for (size_t j = 0; j < nt; j++) {
                    measure_t me = {t->cols[tcols[j]], tcols[j], -1, -1};
                    batch_stats_t st;
                    char n1[32];
                    gather(a, s, v, &me, x);
                    if (stats_of(x, nk, &st) == BASE_ENOMEM) {
                        free(x);
                        return BASE_ENOMEM;
                    }
                    fprintf(md, " %s |", fmt(st.median, n1));
                }
                fprintf(md, "\n");
            }
        }
        free(x);
        fprintf(md, "\n");
    }
    if (o != NULL && o->runtime_note != NULL)
        fprintf(md, "%s\n", o->runtime_note);
    return BASE_OK;
}

int batch_report_write(const batch_sweep_t *sweep, const batch_table_t *table, const char *out_dir,
                       const batch_report_opts_t *opts, base_err_t *err) {
    ana_t a;
    if (analyse(&a, sweep, table) < 0) {
        ana_fini(&a);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/report.md", out_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *md = fopen(tmp, "w");
    if (md == NULL) {
        ana_fini(&a);
        return base_err_set(err, BASE_EIO, "%s: %s", tmp, strerror(errno));
    }
    size_t n = batch_sweep_n_runs(sweep), ok = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        ok += a.row[i] >= 0 && a.ok[i];
        failed += a.row[i] >= 0 && !a.ok[i];
    }
    char until[64] = "each scenario's duration";
    if (sweep->until_s > 0)
        snprintf(until, sizeof until, "%g s of simulated time", sweep->until_s);
    json_t *js = batch_sweep_to_json(sweep, 1);
    const char *seeds = js ? json_string_value(json_object_get(js, "seeds")) : "?";
    fprintf(md,
            "# greenwave-bench report\n\n"
            "%zu scenario%s × %zu strateg%s × %zu seed%s (%s) = %zu runs of %s: "
            "%zu ok, %zu failed, %zu not run.\n\n",
            sweep->n_scenarios, sweep->n_scenarios == 1 ? "" : "s", sweep->n_variants,
            sweep->n_variants == 1 ? "y" : "ies", sweep->n_seeds, sweep->n_seeds == 1 ? "" : "s",
            seeds ? seeds : "?", n, until, ok, failed, n - ok - failed);
    json_decref(js);
    fprintf(md,
            "The same seed gives the same demand under every strategy (common random numbers), "
            "so each strategy is compared with the baseline, **%s**, seed by seed: Δ is the mean "
            "of the per-seed differences, with a 95 %% Student-t interval of its own (GSL "
            "`gsl_cdf_tdist_Pinv`). Intervals of means are 95 %% t intervals; sd is the sample "
            "standard deviation. Escort measures count the runs in which the escort arrived; a "
            "mean over vehicles counts the runs that had such vehicles. Failed runs are left "
            "out and listed.\n\n",
            sweep->variants[sweep->baseline].label);
    plot_ctx_t pc;
    memset(&pc, 0, sizeof pc);
    pc.a = &a;
    pc.out_dir = out_dir;
    pc.o = opts;
    pc.md = md;
    snprintf(pc.plots_dir, sizeof pc.plots_dir, "%s/plots", out_dir);
    if (opts != NULL && opts->gnuplot != NULL && base_fs_mkdir_p(pc.plots_dir) < 0) {
        fclose(md);
        unlink(tmp);
        ana_fini(&a);
        return base_err_set(err, BASE_EIO, "%s: %s", pc.plots_dir, strerror(errno));
    }
    int rc = BASE_OK;
    for (size_t s = 0; s < sweep->n_scenarios && rc == BASE_OK; s++)
        rc = write_scenario(&a, s, md, &pc);
    if (rc == BASE_OK)
        fprintf(md,
                "## Appendix: every measure\n\nMean ± sd per strategy; Δ: paired difference "
                "to %s [95 %% CI].\n\n",
                sweep->variants[sweep->baseline].label);
    for (size_t s = 0; s < sweep->n_scenarios && rc == BASE_OK; s++)
        rc = write_appendix(&a, s, md);
    if (rc == BASE_OK)
        rc = write_runtime(&a, md, opts);
    ana_fini(&a);
    int bad = ferror(md);
    if (fclose(md) != 0)
        bad = 1;
    if (rc < 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        if (rc < 0)
            return base_err_set(err, rc, "out of memory");
        return base_err_set(err, BASE_EIO, "%s: cannot write", path);
    }
    return BASE_OK;
}
