/*
 * batch/sweep.h - what a sweep runs: scenarios x strategy variants x seeds, and its fixed
 * order of runs.
 *
 * A strategy variant is a controller strategy with parameters ("corridor[transition=dwell]");
 * its label names it in runs.csv, in report.md and (as a slug) in paths. Run number i of the
 * plan is scenario i / (V * K), variant (i / K) mod V, seed i mod K for V variants and K
 * seeds: the order is fixed by the sweep alone, so shard I of N (the runs with i mod N == I - 1)
 * is the same slice on every machine. Variants whose controller parameters are equal share one
 * controller process (their "controller set").
 *
 * The sweep owns all its strings. A sweep is built by the setters (each replaces what it sets;
 * a sweep file first, then command-line options), then batch_sweep_finish() checks it and
 * derives the rest; only a finished sweep may be planned or written. Not thread-safe.
 */
#ifndef BATCH_SWEEP_H
#define BATCH_SWEEP_H

#include "base/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define BATCH_LABEL_MAX   96 /* bytes of a label or slug, with the terminator */
#define BATCH_PARAMS_MAX  16
#define BATCH_VALUE_MAX   32
#define BATCH_SEEDS_MAX   1000000
#define BATCH_VARIANT_MAX 1000

/* Who takes a parameter: the controller process (one per parameter set) or each simulation. */
enum { BATCH_PARAM_CONTROLLER = 0, BATCH_PARAM_SIM = 1 };
enum { BATCH_PARAM_ENUM, BATCH_PARAM_NUMBER, BATCH_PARAM_INT, BATCH_PARAM_BOOL };

/* A known strategy parameter: its key in sweep files, the option it becomes, its type. */
typedef struct batch_param_spec {
    const char *key;     /* "detection_range_s" */
    const char *alias;   /* accepted too on the command line: "detection-range" */
    int target;          /* BATCH_PARAM_CONTROLLER or BATCH_PARAM_SIM */
    const char *option;  /* "--detection-range"; for a BOOL, the option that turns it on */
    int kind;            /* BATCH_PARAM_* */
    const char *choices; /* ENUM: "dwell|shortway|longway" */
    const char *help;
    const char *off_option; /* BOOL: the option that turns it off */
} batch_param_spec_t;

typedef struct batch_param {
    const batch_param_spec_t *spec;
    char value[BATCH_VALUE_MAX]; /* canonical text: "30", "2.5", "dwell", "false" */
} batch_param_t;

typedef struct batch_variant {
    char label[BATCH_LABEL_MAX]; /* "corridor", "corridor[transition=dwell]", or the user's */
    char slug[BATCH_LABEL_MAX];  /* label made safe for a path: "corridor_transition-dwell" */
    char strategy[32];           /* controller strategy: none, actuated, local, ... */
    size_t n_params;
    batch_param_t params[BATCH_PARAMS_MAX]; /* in the order of the spec table */
    size_t controller;                      /* its controller set (index) */
} batch_variant_t;

typedef struct batch_scenario {
    char *path;                  /* as given (relative to the current directory) */
    char label[BATCH_LABEL_MAX]; /* file name without .json, made path-safe */
} batch_scenario_t;

typedef struct batch_sweep {
    batch_scenario_t *scenarios;
    size_t n_scenarios;
    batch_variant_t *variants;
    size_t n_variants;
    uint64_t *seeds;
    size_t n_seeds;
    char *baseline_label; /* NULL: the first variant */
    char *main_label;     /* NULL: the last variant */
    size_t baseline;      /* variant index (after finish) */
    size_t main;          /* variant index: its median run gets the time-space diagram */
    double until_s;       /* simulated seconds per run; 0: the scenario's duration */
    char **measures;      /* key measures of the report, dotted summary.json names */
    size_t n_measures;
    unsigned shard_index; /* 1-based; 0 when the sweep is not sharded */
    unsigned shard_count;
    size_t n_controllers;   /* distinct controller parameter sets (after finish) */
    char **controller_keys; /* per set: "transition=dwell;margin_s=5" ("" = defaults) */
} batch_sweep_t;

/* One run of the plan. */
typedef struct batch_run {
    size_t index; /* position in the whole (unsharded) plan */
    size_t scenario, variant;
    uint64_t seed;
} batch_run_t;

/* Returns the table of known parameters, terminated by an entry with key NULL. */
const batch_param_spec_t *batch_param_specs(void);

/* Returns 1 if name is a strategy greenwave-controller knows, else 0. */
int batch_strategy_known(const char *name);

/* Returns an empty sweep, or NULL when out of memory. Destroy with batch_sweep_destroy(). */
batch_sweep_t *batch_sweep_new(void);

/* Frees the sweep; NULL-safe; sets *self_p to NULL. */
void batch_sweep_destroy(batch_sweep_t **self_p);

/* Replaces the scenarios by the comma-separated paths of list. Returns 0 or BASE_EINVAL
 * (empty item) with a message in err. */
int batch_sweep_set_scenarios(batch_sweep_t *self, const char *list, base_err_t *err);

/* Replaces the variants by the comma-separated list: "none,local:detection_range_s=30,
 * corridor:transition=dwell". Returns 0 or BASE_EINVAL (unknown strategy or parameter, bad
 * value) with a message in err. */
int batch_sweep_set_strategies(batch_sweep_t *self, const char *list, base_err_t *err);

/* Replaces the seeds by spec: "1-30", "1,2,5-9". Returns 0 or BASE_EINVAL (syntax, a
 * duplicate, a seed above 2^63 - 1, more than BATCH_SEEDS_MAX seeds). */
int batch_sweep_set_seeds(batch_sweep_t *self, const char *spec, base_err_t *err);

/* Replaces the key measures by the comma-separated dotted names of list. */
int batch_sweep_set_measures(batch_sweep_t *self, const char *list, base_err_t *err);

/* Sets the baseline (label NULL: the first variant) or the main variant (NULL: the last).
 * The label is checked by batch_sweep_finish(). Returns 0 or BASE_ENOMEM. */
int batch_sweep_set_baseline(batch_sweep_t *self, const char *label);
int batch_sweep_set_main(batch_sweep_t *self, const char *label);

/* Reads a sweep file (docs/batch.md): scenarios, strategies with parameters (an array value
 * expands into one variant per value), seeds, baseline, main, until_s, measures. Sets what
 * the file holds. Returns 0, BASE_EIO (unreadable), BASE_EPARSE (JSON syntax, with
 * file:line:col) or BASE_EINVAL (with file: $.path: what). */
int batch_sweep_load_file(batch_sweep_t *self, const char *path, base_err_t *err);

/* Same as batch_sweep_load_file() from a parsed document; where names the source. */
int batch_sweep_load_json(batch_sweep_t *self, const json_t *doc, const char *where,
                          base_err_t *err);

/* Checks the sweep and derives labels' indexes, controller sets and default measures.
 * Returns 0 or BASE_EINVAL: nothing to run, duplicate labels, unknown baseline or main. */
int batch_sweep_finish(batch_sweep_t *self, base_err_t *err);

/* Parses "I/N" (1 <= I <= N) into the sweep. Returns 0 or BASE_EINVAL. */
int batch_sweep_set_shard(batch_sweep_t *self, const char *spec, base_err_t *err);

/* Number of runs of the whole plan (all shards). */
size_t batch_sweep_n_runs(const batch_sweep_t *self);

/* Fills run with run number index of the plan (index < batch_sweep_n_runs()). */
void batch_sweep_run_at(const batch_sweep_t *self, size_t index, batch_run_t *run);

/* Returns 1 if run number index belongs to the sweep's shard (always 1 when unsharded). */
int batch_sweep_in_shard(const batch_sweep_t *self, size_t index);

/* Writes the run's key "scenario/variant/seed" into buf (truncated to size). */
void batch_sweep_run_key(const batch_sweep_t *self, const batch_run_t *run, char *buf, size_t size);

/* Writes the variant's parameters as "k=v;k=v" (all of them, or only those of target when
 * target >= 0) into buf. */
void batch_variant_params_text(const batch_variant_t *v, int target, char *buf, size_t size);

/* Appends to argv the options that give the variant's parameters of target to their process
 * ("--transition", "dwell", "--tsp", ...; a boolean always explicitly, on or off); the strings
 * point into v or are static. Returns the number of strings appended (at most max). */
size_t batch_variant_args(const batch_variant_t *v, int target, const char **argv, size_t max);

/* Returns the canonical JSON of a finished sweep (format greenwave-bench-sweep); with
 * for_compare, without scenario paths and shard, to compare sweeps written on other machines.
 * The caller owns the result (json_decref). NULL when out of memory. */
json_t *batch_sweep_to_json(const batch_sweep_t *self, int for_compare);

/* Writes the canonical JSON of the sweep to path (through a temporary file and a rename).
 * Returns 0 or BASE_EIO. */
int batch_sweep_write(const batch_sweep_t *self, const char *path, base_err_t *err);

#endif
