/*
 * report/report.h - the outputs of one run: trips.csv, vehicles.csv, signals.csv, escort.csv,
 * summary.json.
 *
 * A report_t is a sim_observer_t: it receives the simulator's callbacks, streams signal
 * changes to signals.csv as they happen, streams finished trips to trips.csv in vehicle id
 * order (a trip that finishes before a vehicle with a lower id waits in a reorder buffer),
 * keeps escort records in memory, and at report_finish() writes the trips still waiting,
 * escort.csv sorted by escort, and summary.json. Numbers are printed
 * with fixed precision, so equal runs give byte-identical files (summary.json's sim.wall_s
 * aside). The report borrows the scenario. Not thread-safe: one report per sim_t.
 */
#ifndef REPORT_REPORT_H
#define REPORT_REPORT_H

#include "base/err.h"
#include "sim/sim.h"

#include <stdint.h>
#include <stdio.h>

typedef struct report report_t;

/* The figures of a finished run, as written to summary.json. */
typedef struct report_summary {
    int has_escort;
    const char *escort_id;
    int escort_arrived;
    double escort_travel_time_s, escort_free_flow_time_s, escort_wait_s;
    int32_t escort_stops, escort_stop_lines;
    int64_t vehicles_completed, vehicles_in_network, vehicles_waiting, vehicles_entered;
    /* Delay over every non-escort vehicle that entered or wanted to: finished ones in full,
     * the others as accrued by the end of the run. */
    double mean_delay_s, p95_delay_s, vehicle_hours_delay;
    double finished_mean_delay_s, mean_travel_time_s; /* finished vehicles only */
    double vehicle_seconds;
    uint64_t events;
    double sim_s, wall_s;
    /* Cost to others, over the vehicles in the network during the escort's trip. */
    int64_t during_escort_vehicles, cross_street_vehicles;
    double during_escort_mean_delay_s, cross_street_mean_delay_s;
    /* The trip window (from the first escort's departure to the later of the last arrival
     * and the last route signal's return to coordination) and the delay of the vehicles in
     * the network during it: all, arterial (using an escort route, not crossing it), cross
     * street (approaching a route signal from a link off every route). */
    int window;
    double window_from_s, window_to_s;
    int64_t window_vehicles, window_arterial_vehicles, window_cross_vehicles;
    double window_mean_delay_s, window_arterial_mean_delay_s, window_cross_mean_delay_s;
    /* Safety and recovery. */
    int64_t safety_rejections;
    double recovery_time_s, recovery_cycles;
} report_summary_t;

/* Figures of the controller link, when a controller was in the loop (filled by the caller
 * from bridge/; report/ does not depend on it). */
typedef struct report_controller {
    const char *endpoint;
    const char *strategy;
    int64_t ticks, ticks_sent;
    double rtt_us_p50, rtt_us_p99;
    double lost_s;
    int64_t lost_events, taken_back;
    int64_t rejected_messages, stale_messages;
    int64_t commands, commands_refused;
    int64_t handshakes_refused; /* connections the controller refused (CURVE) */
} report_controller_t;

/* CURVE on the simulator's publish/listen endpoints: summary.json "auth". */
typedef struct report_auth {
    int64_t allowed;            /* viewers' handshakes with a listed key */
    int64_t refused_keys;       /* handshakes with a key not in the allowlist */
    int64_t refused_handshakes; /* peers without CURVE or with a wrong server key */
    int64_t control_requests;   /* viewers' requests the simulator answered (--listen) */
} report_auth_t;

/* Creates the output directory dir (and parents) if needed and opens signals.csv and
 * trips.csv there.
 * Returns the report, or NULL with the message in err (BASE_EIO naming the path). */
report_t *report_new(const sim_scenario_t *scn, const char *dir, base_err_t *err);

/* Also writes the ATSPM hi-res event log of the run to path (and its config file beside it,
 * report/atspm.h) at report_finish(). Call before report_observer(). Returns 0, or BASE_EIO
 * (path not writable) / BASE_ENOMEM with the message in err. */
int report_enable_atspm(report_t *rep, const char *path, base_err_t *err);

/* Frees the report; NULL-safe, sets *self_p to NULL. Files already written stay. */
void report_destroy(report_t **self_p);

/* Records the CURVE counters for summary.json (copied); without a call "auth" is null. */
void report_set_auth(report_t *rep, const report_auth_t *auth);

/* Returns the observer to pass to sim_new(); it points into the report. */
sim_observer_t report_observer(report_t *rep);

/* Writes trips.csv, vehicles.csv, escort.csv and summary.json for the finished run sim, seed and
 * wall time (and the controller's figures, or NULL when it ran on local plans), closes signals.csv,
 * and fills *out (if not NULL). Returns 0 or BASE_EIO. */
int report_finish(report_t *rep, const sim_t *sim, uint64_t seed, double wall_s,
                  const report_controller_t *ctl, report_summary_t *out, base_err_t *err);

/* Writes s to f as one CSV field, quoted if it holds a comma, quote or newline. */
void report_csv_field(FILE *f, const char *s);

#endif
