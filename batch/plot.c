/*
 * batch/plot.c - data files and gnuplot scripts for the report's plots, and running gnuplot
 * (through the runner: its own process, a time limit, its output in gnuplot.log).
 *
 * Strip charts: strategy k is drawn at x = k + 1; a run's point at x + jitter, the jitter a
 * hash of its seed in [-0.15, 0.15] (the same seed sits at the same offset under every
 * strategy); the mean with its 95 % interval at x + 0.3. Time-space diagrams: each signal
 * state interval is a horizontal bar at its stop line's distance, coloured by state; the
 * escort's trajectory is a polyline over (time, distance).
 */
#include "batch/plot.h"

#include "batch/runner.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GNUPLOT_TIMEOUT_S 120.0

/* path made absolute against the current directory (gnuplot runs in the plot directory). */
static char *absolute(const char *path) {
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
        return NULL;
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%s/%s", cwd, path);
    return s;
}

char *batch_plot_find_gnuplot(const char *path) {
    if (path != NULL)
        return access(path, X_OK) == 0 ? absolute(path) : NULL;
    const char *env = getenv("PATH");
    if (env == NULL)
        env = "/usr/local/bin:/usr/bin:/bin";
    char buf[PATH_MAX];
    for (const char *p = env;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len > 0 && len + 9 < sizeof buf) {
            memcpy(buf, p, len);
            memcpy(buf + len, "/gnuplot", 9);
            if (access(buf, X_OK) == 0)
                return absolute(buf);
        }
        if (colon == NULL)
            return NULL;
        p = colon + 1;
    }
}

void batch_plot_quote(FILE *f, const char *text) {
    fputc('\'', f);
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\'')
            fputc('\'', f);
        if (*p != '\n' && *p != '\r')
            fputc(*p, f);
    }
    fputc('\'', f);
}

static FILE *open_in(const char *dir, const char *name, const char *ext, base_err_t *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        base_err_set(err, BASE_EIO, "%s: %s", path, strerror(errno));
    return f;
}

static int close_checked(FILE *f, const char *dir, const char *name, const char *ext,
                         base_err_t *err) {
    int bad = ferror(f);
    if (fclose(f) != 0)
        bad = 1;
    if (bad)
        return base_err_set(err, BASE_EIO, "%s/%s%s: write error", dir, name, ext);
    return BASE_OK;
}

int batch_plot_run(const char *gnuplot, const char *dir, const char *name, base_err_t *err) {
    char script[512], log[4096];
    snprintf(script, sizeof script, "%s.gp", name);
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    batch_runner_t *r = batch_runner_new(NULL);
    if (r == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    const char *argv[] = {gnuplot, script, NULL};
    int rc = batch_runner_start(r, argv, dir, log, GNUPLOT_TIMEOUT_S, 0, err);
    if (rc == BASE_OK) {
        size_t tag;
        batch_exit_t ex;
        while (batch_runner_wait(r, 3600, &tag, &ex) != 1)
            ;
        if (ex.status != BATCH_EXIT_OK) {
            char why[700];
            batch_exit_describe(&ex, GNUPLOT_TIMEOUT_S, why, sizeof why);
            rc = base_err_set(err, BASE_EIO, "gnuplot %s/%s.gp: %s", dir, name, why);
        }
    }
    batch_runner_destroy(&r);
    return rc;
}

static double jitter(uint64_t seed) {
    uint64_t h = seed * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return ((double)(h % 1001) / 1000.0 - 0.5) * 0.3;
}

int batch_plot_strips(const char *gnuplot, const char *dir, const char *name, const char *title,
                      const batch_plot_panel_t *panels, size_t n_panels, base_err_t *err) {
    FILE *d = open_in(dir, name, ".dat", err);
    if (d == NULL)
        return BASE_EIO;
    size_t max_series = 0, longest = 0;
    for (size_t p = 0; p < n_panels; p++) {
        const batch_plot_panel_t *pn = &panels[p];
        if (pn->n_series > max_series)
            max_series = pn->n_series;
        fprintf(d, "# panel %zu: x y seed (the NaN line keeps an empty block counted)\nNaN NaN 0\n",
                p);
        for (size_t s = 0; s < pn->n_series; s++) {
            const batch_plot_series_t *se = &pn->series[s];
            if (strlen(se->label) > longest)
                longest = strlen(se->label);
            for (size_t i = 0; i < se->n; i++)
                if (isfinite(se->y[i]))
                    fprintf(d, "%.4f %.17g %llu\n", (double)(s + 1) + jitter(se->seeds[i]),
                            se->y[i], (unsigned long long)se->seeds[i]);
        }
        fprintf(d, "\n\n# panel %zu: x mean lo hi\nNaN NaN NaN NaN\n", p);
        for (size_t s = 0; s < pn->n_series; s++) {
            const batch_stats_t *st = &pn->series[s].stats;
            if (isfinite(st->mean))
                fprintf(d, "%.2f %.17g %.17g %.17g\n", (double)(s + 1) + 0.3, st->mean,
                        isfinite(st->lo) ? st->lo : st->mean, isfinite(st->hi) ? st->hi : st->mean);
        }
        fprintf(d, "\n\n");
    }
    if (close_checked(d, dir, name, ".dat", err) < 0)
        return BASE_EIO;
    FILE *g = open_in(dir, name, ".gp", err);
    if (g == NULL)
        return BASE_EIO;
    unsigned width = (unsigned)(n_panels * (160 + 110 * max_series));
    fprintf(g, "# %s.gp: drawn by greenwave-bench; run 'gnuplot %s.gp' in this directory.\n", name,
            name);
    fprintf(g, "set terminal pngcairo size %u,520 noenhanced font ',10'\n",
            width < 640 ? 640 : width);
    fprintf(g, "set output '%s.png'\n", name);
    fprintf(g, "set multiplot layout 1,%zu title ", n_panels);
    batch_plot_quote(g, title);
    fprintf(g, "\nset grid ytics\nset key below horizontal\nset bmargin 7\n");
    for (size_t p = 0; p < n_panels; p++) {
        const batch_plot_panel_t *pn = &panels[p];
        int any = 0;
        for (size_t s = 0; s < pn->n_series; s++)
            any |= isfinite(pn->series[s].stats.mean);
        fprintf(g, "set title ");
        batch_plot_quote(g, pn->title);
        fprintf(g, "\nset ylabel ");
        batch_plot_quote(g, pn->ylabel);
        fprintf(g, "\nset xrange [0.4:%zu.7]\nset xtics (", pn->n_series);
        for (size_t s = 0; s < pn->n_series; s++) {
            fprintf(g, "%s", s ? ", " : "");
            batch_plot_quote(g, pn->series[s].label);
            fprintf(g, " %zu", s + 1);
        }
        fprintf(g, ")%s\n", longest > 10 ? " rotate by -25" : "");
        if (!any) {
            fprintf(g, "set yrange [0:1]\nset label 1 'no data' at graph 0.5,0.5 center\n"
                       "plot NaN notitle\nunset label 1\nset autoscale y\n");
            continue;
        }
        fprintf(g,
                "plot '%s.dat' index %zu using 1:2 with points pt 7 ps 0.6 "
                "lc rgb '#6f8fbf' title 'runs', \\\n"
                "     '%s.dat' index %zu using 1:2:3:4 with yerrorbars pt 5 ps 0.9 lw 2 "
                "lc rgb 'black' title 'mean, 95 %% CI'\n",
                name, 2 * p, name, 2 * p + 1);
    }
    fprintf(g, "unset multiplot\n");
    if (close_checked(g, dir, name, ".gp", err) < 0)
        return BASE_EIO;
    return batch_plot_run(gnuplot, dir, name, err);
}

static unsigned state_rgb(int state) {
    switch (state) {
    case BATCH_TSD_GREEN:
        return 0x1fa02fu;
    case BATCH_TSD_YELLOW:
        return 0xf0b000u;
    case BATCH_TSD_RED:
        return 0xd02020u;
    default:
        return 0x808080u;
    }
}

int batch_plot_tsd(const char *gnuplot, const char *dir, const char *name,
                   const batch_tsd_route_t *route, const batch_plot_tsd_t *panels, size_t n_panels,
                   double t_lo, double t_hi, base_err_t *err) {
    FILE *d = open_in(dir, name, ".dat", err);
    if (d == NULL)
        return BASE_EIO;
    for (size_t p = 0; p < n_panels; p++) {
        fprintf(d, "# panel %zu signal states: t0 t1 distance_m rgb\nNaN NaN NaN 0\n", p);
        for (size_t i = 0; i < panels[p].n_bars; i++) {
            const batch_tsd_bar_t *b = &panels[p].bars[i];
            fprintf(d, "%.3f %.3f %.1f %u\n", b->t0, b->t1, b->dist_m, state_rgb(b->state));
        }
        fprintf(d, "\n\n# panel %zu escort: t distance_m\nNaN NaN\n", p);
        for (size_t i = 0; i < panels[p].n_traj; i++)
            fprintf(d, "%.3f %.1f\n", panels[p].traj[i].t, panels[p].traj[i].dist_m);
        fprintf(d, "\n\n");
    }
    if (close_checked(d, dir, name, ".dat", err) < 0)
        return BASE_EIO;
    FILE *g = open_in(dir, name, ".gp", err);
    if (g == NULL)
        return BASE_EIO;
    fprintf(g, "# %s.gp: drawn by greenwave-bench; run 'gnuplot %s.gp' in this directory.\n", name,
            name);
    fprintf(g, "set terminal pngcairo size 1200,%zu noenhanced font ',10'\n", 60 + 440 * n_panels);
    fprintf(g, "set output '%s.png'\n", name);
    fprintf(g, "set multiplot layout %zu,1\n", n_panels);
    fprintf(g, "set xrange [%.3f:%.3f]\nset yrange [0:%.1f]\n", t_lo, t_hi, route->total_m * 1.02);
    fprintf(g, "set xlabel 'simulated time (s)'\nset ylabel 'distance along the escort route "
               "(m)'\n");
    fprintf(g, "set ytics (");
    for (size_t s = 0; s < route->n_stops; s++) {
        fprintf(g, "%s", s ? ", " : "");
        char lab[2 * BATCH_TSD_ID_MAX + 8];
        if (route->stops[s].group[0] != '\0')
            snprintf(lab, sizeof lab, "%s", route->stops[s].node);
        else
            snprintf(lab, sizeof lab, "%s (no signal)", route->stops[s].node);
        batch_plot_quote(g, lab);
        fprintf(g, " %.1f", route->stops[s].dist_m);
    }
    fprintf(g, "%s'end' %.1f)\n", route->n_stops ? ", " : "", route->total_m);
    fprintf(g, "set grid xtics\nset key outside right top\n");
    for (size_t p = 0; p < n_panels; p++) {
        fprintf(g, "set title ");
        batch_plot_quote(g, panels[p].title);
        fprintf(g,
                "\nplot '%s.dat' index %zu using 1:3:($2-$1):(0):4 with vectors nohead lw 7 "
                "lc rgb variable notitle, \\\n"
                "     '%s.dat' index %zu using 1:2 with linespoints lw 2 pt 7 ps 0.5 "
                "lc rgb 'black' title 'escort', \\\n"
                "     NaN with lines lw 7 lc rgb '#1fa02f' title 'green', \\\n"
                "     NaN with lines lw 7 lc rgb '#f0b000' title 'yellow', \\\n"
                "     NaN with lines lw 7 lc rgb '#d02020' title 'red'\n",
                name, 2 * p, name, 2 * p + 1);
    }
    fprintf(g, "unset multiplot\n");
    if (close_checked(g, dir, name, ".gp", err) < 0)
        return BASE_EIO;
    return batch_plot_run(gnuplot, dir, name, err);
}

void batch_plot_pareto(batch_plot_point_t *pt, size_t n) {
    for (size_t i = 0; i < n; i++) {
        pt[i].front = isfinite(pt[i].x.mean) && isfinite(pt[i].y.mean);
        for (size_t j = 0; j < n && pt[i].front; j++) {
            if (j == i || !isfinite(pt[j].x.mean) || !isfinite(pt[j].y.mean))
                continue;
            int no_worse = pt[j].x.mean <= pt[i].x.mean && pt[j].y.mean <= pt[i].y.mean;
            int better = pt[j].x.mean < pt[i].x.mean || pt[j].y.mean < pt[i].y.mean;
            if (no_worse && better)
                pt[i].front = 0;
        }
    }
}

static double lo_or(const batch_stats_t *st) {
    return isfinite(st->lo) ? st->lo : st->mean;
}

static double hi_or(const batch_stats_t *st) {
    return isfinite(st->hi) ? st->hi : st->mean;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_x(const void *a, const void *b) {
    const batch_plot_point_t *p = *(const batch_plot_point_t *const *)a;
    const batch_plot_point_t *q = *(const batch_plot_point_t *const *)b;
    return (p->x.mean > q->x.mean) - (p->x.mean < q->x.mean);
}

int batch_plot_tradeoff(const char *gnuplot, const char *dir, const char *name, const char *title,
                        const char *xlabel, const char *ylabel, const batch_plot_point_t *pt,
                        size_t n, base_err_t *err) {
    FILE *d = open_in(dir, name, ".dat", err);
    if (d == NULL)
        return BASE_EIO;
    /* Block 0: points off the front; 1: on it (sorted by x, for the line); 2: labels. */
    const batch_plot_point_t **front = malloc((n + 1) * sizeof *front);
    if (front == NULL) {
        fclose(d);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    size_t nf = 0;
    for (int blk = 0; blk < 2; blk++) {
        fprintf(d, "# %s: x y xlo xhi ylo yhi\nNaN NaN NaN NaN NaN NaN\n",
                blk ? "on the Pareto front" : "off the front");
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(pt[i].x.mean) || !isfinite(pt[i].y.mean) || pt[i].front != blk)
                continue;
            if (blk)
                front[nf++] = &pt[i];
            else
                fprintf(d, "%.17g %.17g %.17g %.17g %.17g %.17g\n", pt[i].x.mean, pt[i].y.mean,
                        lo_or(&pt[i].x), hi_or(&pt[i].x), lo_or(&pt[i].y), hi_or(&pt[i].y));
        }
        if (blk) {
            qsort(front, nf, sizeof *front, cmp_x);
            for (size_t i = 0; i < nf; i++)
                fprintf(d, "%.17g %.17g %.17g %.17g %.17g %.17g\n", front[i]->x.mean,
                        front[i]->y.mean, lo_or(&front[i]->x), hi_or(&front[i]->x),
                        lo_or(&front[i]->y), hi_or(&front[i]->y));
        }
        fprintf(d, "\n\n");
    }
    free(front);
    fprintf(d, "# labels: x y label\nNaN NaN \"\"\n");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(pt[i].x.mean) || !isfinite(pt[i].y.mean))
            continue;
        fprintf(d, "%.17g %.17g \"", pt[i].x.mean, pt[i].y.mean);
        for (const char *c = pt[i].label; *c; c++)
            if (*c != '"' && *c != '\n')
                fputc(*c, d);
        fprintf(d, "\"\n");
    }
    if (close_checked(d, dir, name, ".dat", err) < 0)
        return BASE_EIO;
    FILE *g = open_in(dir, name, ".gp", err);
    if (g == NULL)
        return BASE_EIO;
    fprintf(g, "# %s.gp: drawn by greenwave-bench; run 'gnuplot %s.gp' in this directory.\n", name,
            name);
    fprintf(g, "set terminal pngcairo size 1000,700 noenhanced font ',10'\n");
    fprintf(g, "set output '%s.png'\nset title ", name);
    batch_plot_quote(g, title);
    fprintf(g, "\nset xlabel ");
    batch_plot_quote(g, xlabel);
    fprintf(g, "\nset ylabel ");
    batch_plot_quote(g, ylabel);
    fprintf(g, "\nset grid\nset key top right\nset offsets graph 0.05, graph 0.25, graph 0.08, "
               "graph 0.08\n");
    /* A point far above the others (route-green's cost) would flatten them: the y axis stops
     * at 1.5 x the largest of the others (those within 10 x their median), and the points
     * beyond are named, with their values, in a note. */
    double *ys = malloc((n + 1) * sizeof *ys);
    size_t ny = 0;
    for (size_t i = 0; ys != NULL && i < n; i++)
        if (isfinite(pt[i].y.mean) && isfinite(pt[i].x.mean))
            ys[ny++] = fabs(pt[i].y.mean);
    if (ys != NULL && ny > 2) {
        qsort(ys, ny, sizeof *ys, cmp_double);
        double med = ys[ny / 2], top = 0;
        for (size_t i = 0; i < ny; i++)
            if (ys[i] <= 10 * med + 1 && ys[i] > top)
                top = ys[i];
        if (top > 0 && ys[ny - 1] > 10 * med + 1) {
            fprintf(g, "set yrange [*:%.6g]\nset label 9 'off scale: ", 1.5 * top);
            for (size_t i = 0, k = 0; i < n; i++) {
                if (!isfinite(pt[i].y.mean) || !isfinite(pt[i].x.mean) ||
                    fabs(pt[i].y.mean) <= 10 * med + 1)
                    continue;
                fprintf(g, "%s", k++ ? "; " : "");
                for (const char *c = pt[i].label; *c; c++)
                    if (*c != '\'' && *c != '\n')
                        fputc(*c, g);
                fprintf(g, " (%.4g s, %.4g veh-h)", pt[i].x.mean, pt[i].y.mean);
            }
            fprintf(g, "' at graph 0.02, graph 0.96 left\n");
        }
    }
    free(ys);
    fprintf(g,
            "plot '%s.dat' index 0 using 1:2:3:4:5:6 with xyerrorbars pt 7 ps 0.9 "
            "lc rgb '#6f8fbf' title 'variant (mean, 95 %% CI)', \\\n"
            "     '%s.dat' index 1 using 1:2:3:4:5:6 with xyerrorbars pt 5 ps 1.1 lw 1.5 "
            "lc rgb '#c0392b' title 'Pareto front', \\\n"
            "     '%s.dat' index 1 using 1:2 with lines lw 2 lc rgb '#c0392b' notitle, \\\n"
            "     '%s.dat' index 2 using 1:2:3 with labels left offset 0.8,0.6 font ',8' "
            "notitle\n",
            name, name, name, name);
    if (close_checked(g, dir, name, ".gp", err) < 0)
        return BASE_EIO;
    return batch_plot_run(gnuplot, dir, name, err);
}
