/*
 * batch/report.h - report.md of a sweep and its plots, from the sweep and its runs.csv alone.
 *
 * The report is a function of the plan and the table's rows (runs in plan order, values as
 * written in runs.csv): a sweep run in one piece and the merge of its shards give the same
 * text, except the last section ("Runtime"), which holds the machine-dependent figures (wall
 * times, round trips, the throughput of this invocation). Per scenario it gives, for every
 * strategy variant and key measure, n, mean, standard deviation, 95 % t interval and median,
 * and the paired difference to the baseline (per seed) with its own interval; then every
 * other numeric measure in an appendix; failed runs with their reasons and logs.
 *
 * Measures that do not exist in a run are left out of its statistics, not taken as zero: an
 * escort measure when that escort did not arrive (its "arrived" is 0), a mean over vehicles
 * when there were none (the sibling "vehicles" is 0). Not thread-safe.
 */
#ifndef BATCH_REPORT_H
#define BATCH_REPORT_H

#include "base/err.h"
#include "batch/sweep.h"
#include "batch/table.h"

#include <stdio.h>

typedef struct batch_report_opts {
    const char *gnuplot;         /* gnuplot to draw with; NULL: no plots */
    const char *no_plots_reason; /* said in the report when gnuplot is NULL */
    const char *runtime_note;    /* text for the Runtime section, or NULL */
    const char *const *roots;    /* other output directories (shards) to find runs in */
    size_t n_roots;
    FILE *warn; /* warnings (a plot that failed), or NULL */
} batch_report_opts_t;

/* The fixed first columns of runs.csv, in order (BATCH_FIXED_COLS of them). */
#define BATCH_FIXED_COLS 10
extern const char *const batch_fixed_cols[BATCH_FIXED_COLS];

/* Writes out_dir/report.md (through a temporary file) and the PNGs under out_dir/plots/.
 * Run outputs are looked up in out_dir/runs/... and then in each of opts->roots, whose files
 * it uses are copied under out_dir. Plot failures are reported in the text and to opts->warn,
 * not as errors. Returns 0, BASE_EIO or BASE_ENOMEM. */
int batch_report_write(const batch_sweep_t *sweep, const batch_table_t *table, const char *out_dir,
                       const batch_report_opts_t *opts, base_err_t *err);

/* Writes the path of a run's output directory under root into buf:
 * root/runs/SCENARIO/VARIANT-SLUG/SEED. */
void batch_run_dir(const batch_sweep_t *sweep, const batch_run_t *run, const char *root, char *buf,
                   size_t size);

/* Writes the path of a run's log under root into buf: root/logs/SCENARIO__SLUG__SEED.log. */
void batch_run_log(const batch_sweep_t *sweep, const batch_run_t *run, const char *root, char *buf,
                   size_t size);

/* Human label of a dotted measure name ("escort travel time (s)"), or the name itself. */
const char *batch_measure_label(const char *name);

#endif
