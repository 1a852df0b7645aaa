/*
 * report/atspm.h - the ATSPM high-resolution controller event log of a run, and its reader.
 *
 * The writer turns the simulator's callbacks (signal changes, detector actuations, accepted
 * controller commands) into the Indiana hi-res data logger enumerations (docs/atspm.md) and
 * writes them, at report_atspm_finish(), as the CSV that ATSPM tools read:
 *
 *     SignalID,Timestamp,EventCode,EventParam
 *     A1,2024-01-01T17:30:00.000,1,2
 *
 * sorted by signal (scenario order), time, then order of occurrence, with the NEMA-style phase
 * of each signal group (report_atspm_phase_map) as EventParam of phase events and a detector
 * channel of each loop. Beside it, FILE minus ".csv" plus ".config.csv" lists that mapping (the
 * part of an ATSPM database a log does not carry), so the log can be read back alone. The
 * writer keeps the events in memory (some 50 bytes each) until finish. Not thread-safe.
 *
 * The reader parses such a log (any row order) and its config file for greenwave-atspm-plots
 * and the round-trip check against signals.csv.
 */
#ifndef REPORT_ATSPM_H
#define REPORT_ATSPM_H

#include "base/err.h"
#include "sim/sim.h"

#include <stddef.h>
#include <stdint.h>

/* Indiana hi-res enumerations written by greenwave (docs/atspm.md). */
enum {
    REPORT_ATSPM_PHASE_BEGIN_GREEN = 1,
    REPORT_ATSPM_PHASE_FORCE_OFF = 6,
    REPORT_ATSPM_PHASE_GREEN_TERMINATION = 7,
    REPORT_ATSPM_PHASE_BEGIN_YELLOW = 8,
    REPORT_ATSPM_PHASE_END_YELLOW = 9,
    REPORT_ATSPM_PHASE_BEGIN_RED_CLEARANCE = 10,
    REPORT_ATSPM_PHASE_END_RED_CLEARANCE = 11,
    REPORT_ATSPM_DETECTOR_OFF = 81,
    REPORT_ATSPM_DETECTOR_ON = 82,
    REPORT_ATSPM_PREEMPT_CALL_ON = 102,
    REPORT_ATSPM_PREEMPT_CALL_OFF = 104,
    REPORT_ATSPM_PREEMPT_ENTRY = 105,
    REPORT_ATSPM_PREEMPT_DWELL = 107,
    REPORT_ATSPM_PREEMPT_EXIT = 111,
    REPORT_ATSPM_TSP_CHECK_IN = 112,
    REPORT_ATSPM_TSP_EARLY_GREEN = 113,
    REPORT_ATSPM_TSP_EXTEND_GREEN = 114,
    REPORT_ATSPM_TSP_CHECK_OUT = 115,
};

/* The date the log's day 0 is written as (a simulated day has no date). */
#define REPORT_ATSPM_DATE_Y 2024
#define REPORT_ATSPM_DATE_M 1
#define REPORT_ATSPM_DATE_D 1

/* Fills phase[g] (n_groups entries) with the NEMA-style phase number of each group of signal s
 * (docs/atspm.md: 2/6 the main street's throughs, 4/8 the side street's, 1/5/3/7 the lefts,
 * 9.. for a group that would take a number already taken). Deterministic. */
void report_atspm_phase_map(const sim_scenario_t *scn, int32_t s, int32_t *phase);

typedef struct report_atspm report_atspm_t;

/* Returns a writer of the log at path (written at finish; its directory must exist), or NULL
 * with the message in err. Borrows the scenario. */
report_atspm_t *report_atspm_new(const sim_scenario_t *scn, const char *path, base_err_t *err);

/* Frees the writer; NULL-safe, sets *self_p to NULL. */
void report_atspm_destroy(report_atspm_t **self_p);

/* The observer callbacks, to be called with the writer as ud (report/ forwards them). */
void report_atspm_on_signal(void *ud, sim_time_t t, int32_t s, int32_t g, sim_signal_state_t state);
void report_atspm_on_detector(void *ud, sim_time_t on, sim_time_t off, int32_t d);
void report_atspm_on_command(void *ud, sim_time_t t, const sim_command_t *cmd);

/* Writes the log (events up to time end, ms) and its config file. Returns 0, or BASE_ENOMEM
 * (events were lost) / BASE_EIO with the path in err. */
int report_atspm_finish(report_atspm_t *a, sim_time_t end, base_err_t *err);

/* ---- reading ------------------------------------------------------------------------ */

typedef struct report_atspm_event {
    int32_t signal; /* index into the log's signal names */
    int64_t t_ms;   /* milliseconds since 00:00 of the log's first day */
    int32_t code, param;
} report_atspm_event_t;

/* A phase or detector row of the config file. */
typedef struct report_atspm_channel {
    int32_t signal;
    int is_detector;
    int32_t number; /* phase number, or detector channel */
    int32_t phase;  /* detector: the phase it serves */
    char *name;     /* signal group or detector id */
    char approach[4], turn[12];
    double distance_m, speed_kmh; /* detector: distance from the stop bar, approach speed */
} report_atspm_channel_t;

typedef struct report_atspm_log {
    char **signals; /* signal ids in order of first appearance (log, then config) */
    int32_t n_signals;
    report_atspm_event_t *events; /* stable-sorted by (signal, time) */
    size_t n_events;
    report_atspm_channel_t *channels;
    size_t n_channels;
    int64_t day0; /* days since 1970-01-01 of the first event's date */
} report_atspm_log_t;

/* Reads the log at path, and its config file if config_path is not NULL. Returns 0, or
 * BASE_EIO / BASE_EINVAL ("PATH:LINE: what") / BASE_ENOMEM with the message in err. On error
 * *log is left empty. Free with report_atspm_log_free(). */
int report_atspm_read(const char *path, const char *config_path, report_atspm_log_t *log,
                      base_err_t *err);

/* Frees what report_atspm_read() allocated; NULL-safe. */
void report_atspm_log_free(report_atspm_log_t *log);

/* Returns the index of signal id in the log, or -1. */
int32_t report_atspm_log_signal(const report_atspm_log_t *log, const char *id);

/* Returns the config path of a log path: FILE minus a ".csv" suffix, plus ".config.csv"
 * (caller frees), or NULL when out of memory. */
char *report_atspm_config_path(const char *log_path);

/* Checks the round trip: every green interval of signals_csv (greenwave's own signal output,
 * the same run) equals the log's Phase Begin Green .. Phase Begin Yellow of the group's phase,
 * to the millisecond, and the log has no other green. start_tod_ms is the scenario's start
 * time of day. Returns the number of greens compared (> 0), or a negative code with the first
 * difference in err. */
int64_t report_atspm_check_signals(const report_atspm_log_t *log, const char *signals_csv,
                                   int64_t start_tod_ms, base_err_t *err);

#endif
