/*
 * batch/pair.h - the cost to others that cannot hide: each run's vehicles of the trip window
 * paired one by one with the same vehicles of the `none` run of the same scenario and seed.
 *
 * Common random numbers give the same demand under every strategy for one seed, so vehicle
 * ids name the same vehicle in every run (checked: a pair must also have the same departure
 * time; those that do not are counted as unmatched and left out). For a run whose strategy is
 * not `none`, the vehicles in its own trip window (vehicles.csv, in_window = 1) are compared
 * with their delay in the `none` run: per street group (all, arterial, cross street) the
 * number of pairs, the mean per-vehicle difference, the half-width of its 95 % t interval and
 * the sum of the differences in vehicle-hours go into runs.csv as vs_none.* columns. The sum is
 * the cost to compare between strategies: a mean per vehicle falls as a longer window (a slower
 * recovery) takes in more vehicles that lost nothing. Not thread-safe.
 */
#ifndef BATCH_PAIR_H
#define BATCH_PAIR_H

#include "base/err.h"
#include "batch/sweep.h"
#include "batch/table.h"

#include <stddef.h>

/* Per-vehicle paired differences of one run against its `none` run. */
typedef struct batch_pair_result {
    size_t n[3];      /* pairs: all, arterial, cross street */
    double mean[3];   /* mean of (delay in the run - delay in none), s */
    double half[3];   /* half-width of the 95 % t interval of that mean (0 below 2 pairs) */
    double sum_h[3];  /* the differences summed, vehicle-hours (not diluted by a long window) */
    size_t unmatched; /* window vehicles without a partner of the same departure */
} batch_pair_result_t;

/* Pairs the vehicles.csv of a run (run_csv) with that of its none run (none_csv). Returns 0,
 * BASE_EIO (a file unreadable; err names it), BASE_EPARSE (a bad line: path:line) or
 * BASE_ENOMEM. */
int batch_pair_files(const char *run_csv, const char *none_csv, batch_pair_result_t *out,
                     base_err_t *err);

/* Fills the vs_none.* cells of every ok row of table that lacks them and has an ok `none` row of
 * the same scenario and seed, reading the runs' vehicles.csv from the first of dirs that has it
 * (runs/SCENARIO/VARIANT/SEED/). Rows whose files are missing stay without the cells. Returns
 * the number of rows filled, or a negative code (BASE_ENOMEM; a bad file: BASE_EPARSE). */
long batch_pair_fill(const batch_sweep_t *sweep, batch_table_t *table, const char *const *dirs,
                     size_t n_dirs, base_err_t *err);

#endif
