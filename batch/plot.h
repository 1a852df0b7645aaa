/*
 * batch/plot.h - PNG plots through gnuplot, run as a separate process on a generated script.
 *
 * Each plot leaves its data (.dat) and script (.gp) beside its PNG, so a reader can restyle
 * and redraw it with `gnuplot NAME.gp` from the plot directory. Scripts use the pngcairo
 * terminal, plain text labels (no enhanced-text markup: ids keep their underscores) and fixed
 * sizes; the same data give the same script. gnuplot's own output goes to gnuplot.log there.
 * Not thread-safe with respect to one directory.
 */
#ifndef BATCH_PLOT_H
#define BATCH_PLOT_H

#include "base/err.h"
#include "batch/stats.h"
#include "batch/tsd.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One strategy's values in a strip chart: a point per run (jittered by seed), and its mean
 * with the 95 % interval as an error bar beside them. */
typedef struct batch_plot_series {
    const char *label;
    const double *y;       /* n values (NaN: skipped) */
    const uint64_t *seeds; /* n seeds, for a deterministic jitter */
    size_t n;
    batch_stats_t stats;
} batch_plot_series_t;

typedef struct batch_plot_panel {
    const char *title;
    const char *ylabel;
    const batch_plot_series_t *series;
    size_t n_series;
} batch_plot_panel_t;

/* One panel of a time-space diagram. */
typedef struct batch_plot_tsd {
    const char *title;
    const batch_tsd_bar_t *bars;
    size_t n_bars;
    const batch_tsd_point_t *traj;
    size_t n_traj;
} batch_plot_tsd_t;

/* One strategy variant on the trade-off plot: its means with 95 % intervals on both axes. */
typedef struct batch_plot_point {
    const char *label;
    batch_stats_t x, y;
    int front; /* on the Pareto front (no other point lower on both axes) */
} batch_plot_point_t;

/* Marks the Pareto front of points (lower is better on both axes, by the means; points with a
 * non-finite mean are never on it). */
void batch_plot_pareto(batch_plot_point_t *points, size_t n);

/* Draws dir/name.png: each point with its x and y error bars (95 % intervals), labelled, the
 * Pareto front joined by a line and drawn in another colour. Returns as the other plots. */
int batch_plot_tradeoff(const char *gnuplot, const char *dir, const char *name, const char *title,
                        const char *xlabel, const char *ylabel, const batch_plot_point_t *points,
                        size_t n, base_err_t *err);

/* Returns the gnuplot to use: path itself if it is not NULL (checked executable), else the
 * first "gnuplot" on PATH; NULL if none. The caller frees the result. */
char *batch_plot_find_gnuplot(const char *path);

/* Runs gnuplot on dir/name.gp in dir (its own process, a time limit, output to
 * dir/gnuplot.log). Returns 0, or BASE_EIO with gnuplot's failure in err. */
int batch_plot_run(const char *gnuplot, const char *dir, const char *name, base_err_t *err);

/* Writes text to f as a gnuplot single-quoted string (line breaks dropped). */
void batch_plot_quote(FILE *f, const char *text);

/* Draws dir/name.png: the panels side by side, each a strip chart of its series. Writes
 * name.dat and name.gp, runs gnuplot. Returns 0, or BASE_EIO (cannot write, or gnuplot failed:
 * its last line in err). */
int batch_plot_strips(const char *gnuplot, const char *dir, const char *name, const char *title,
                      const batch_plot_panel_t *panels, size_t n_panels, base_err_t *err);

/* Draws dir/name.png: the time-space diagrams of panels, one above the other, over the same
 * time window [t_lo, t_hi] and the route's stop lines (labelled by node). Returns as above. */
int batch_plot_tsd(const char *gnuplot, const char *dir, const char *name,
                   const batch_tsd_route_t *route, const batch_plot_tsd_t *panels, size_t n_panels,
                   double t_lo, double t_hi, base_err_t *err);

#endif
