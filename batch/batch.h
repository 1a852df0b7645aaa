/*
 * batch/batch.h - greenwave-bench's library (gw_batch): a sweep of scenarios x strategy
 * variants x seeds run as child processes, results in runs.csv, statistics and plots in
 * report.md. The umbrella header of the folder.
 *
 * A batch_t runs one sweep (or the shard of it the sweep names) into an output directory:
 *   sweep.json        the sweep, canonical (what merge and --resume compare)
 *   runs.csv          one row per finished run, always a valid CSV (batch/table.h)
 *   report.md         statistics, paired differences, plots (batch/report.h)
 *   plots/            PNG, with their gnuplot scripts and data
 *   runs/S/V/SEED/    each run's outputs (summary.json, signals.csv, escort.csv)
 *   logs/             logs of failed runs and of the controllers
 *   scenarios/        a copy of each scenario file (for the time-space diagram)
 * One greenwave-controller (or opts.controllers of them, each simulation going to the least
 * loaded) serves the simulations of one controller parameter set, on an ipc:// endpoint in a
 * private temporary directory. The context owns everything it opens;
 * it borrows the sweep and the options' strings. The stop flag belongs to main(): raise it
 * (from a signal handler) to stop cleanly. Not thread-safe.
 */
#ifndef BATCH_BATCH_H
#define BATCH_BATCH_H

#include "base/err.h"
#include "batch/plot.h"
#include "batch/report.h"
#include "batch/runner.h"
#include "batch/stats.h"
#include "batch/sweep.h"
#include "batch/table.h"
#include "batch/tsd.h"

#include <signal.h>
#include <stdio.h>

enum { BATCH_PROGRESS_QUIET = 0, BATCH_PROGRESS_LINES = 1, BATCH_PROGRESS_BAR = 2 };

/* Outcomes of batch_run() and batch_merge() besides errors (< 0). */
enum {
    BATCH_DONE = 0,         /* every run of the (shard of the) sweep is in runs.csv and ok */
    BATCH_DONE_FAILED = 3,  /* complete, but some runs failed (recorded with their reasons) */
    BATCH_INTERRUPTED = 130 /* stopped by the stop flag; runs.csv valid; resume with --resume */
};

typedef struct batch_options {
    const char *out_dir;
    unsigned jobs;        /* simulations at once (>= 1) */
    double timeout_s;     /* wall-time limit per run (0: none) */
    const char *sim_path; /* greenwave-sim */
    const char *ctl_path; /* greenwave-controller; NULL: runs without a controller */
    int in_process;       /* runs host the controller in greenwave-sim (--controller in-process, the
                             parameters as --ctl): no controller processes, ctl_path unused */
    unsigned controllers; /* controller processes per parameter set (>= 1) */
    int sim_timeout_ms;   /* greenwave-sim --timeout-ms (0: its default) */
    const char *sim_sync; /* greenwave-sim --sync (lockstep, event), or NULL: its default */
    const char *sim_encoding; /* greenwave-sim --encoding (json, msgpack), or NULL */
    double ready_timeout_s;   /* wait for a controller's "listening" line */
    int resume;               /* continue the sweep in out_dir */
    int retry_failed;         /* with resume: run failed runs again */
    int keep_trips;           /* keep each run's trips.csv */
    int atspm;                /* each run writes atspm.csv (greenwave-sim --atspm) */
    int keep_logs;            /* keep the logs of successful runs */
    int progress;             /* BATCH_PROGRESS_* */
    int stats;                /* print the throughput line at the end */
    FILE *msg;                /* progress and messages (stderr) */
    const char *gnuplot;      /* gnuplot to use; NULL: no plots (no_plots_reason says why) */
    const char *no_plots_reason;
    const char *resume_cmd; /* the command line to print for resuming, or NULL */
    const volatile sig_atomic_t *stop;
} batch_options_t;

typedef struct batch batch_t;

/* Sets the defaults: 1 job, 1 controller per parameter set, 1800 s per run, lines of progress
 * to stderr, 30 s to wait for a controller. Paths stay NULL. */
void batch_options_defaults(batch_options_t *opts);

/* Returns a context for the finished sweep, or NULL when out of memory. */
batch_t *batch_new(const batch_sweep_t *sweep, const batch_options_t *opts);

/* Stops whatever still runs, removes the temporary directory, frees. NULL-safe. */
void batch_destroy(batch_t **self_p);

/* Runs the sweep's runs not yet in runs.csv (all of them without resume), writes runs.csv
 * as they finish and report.md at the end. Returns BATCH_DONE, BATCH_DONE_FAILED,
 * BATCH_INTERRUPTED, or an error (< 0) with its message in batch_errmsg(): BASE_EINVAL
 * (results exist without --resume, a sweep needing a controller without one), BASE_EIO. */
int batch_run(batch_t *self);

/* The message of the last error. */
const char *batch_errmsg(const batch_t *self);

/* Merges the runs.csv of the output directories dirs (shards of one sweep, as their
 * sweep.json say) into out_dir: runs.csv in plan order, sweep.json without shard, report.md
 * and plots, the logs of failed runs and the outputs the report uses. out_dir may be the only
 * dir (a report written again). Returns BATCH_DONE, BATCH_DONE_FAILED (some runs failed or
 * are missing), or an error: BASE_EINVAL (different sweeps), BASE_EIO. */
int batch_merge(const char *const *dirs, size_t n_dirs, const batch_options_t *opts,
                base_err_t *err);

#endif
