/*
 * batch/tsd.h - the data of a time-space diagram along an escort's route: distance of each
 * stop line from the start of the route (link lengths from the scenario JSON), the signal
 * group serving the route's movement at each signalized stop line (group -> movements from the
 * scenario's signals), that group's states over time (signals.csv of a run) and the escort's
 * trajectory (escort.csv: link entry, arrival at and departure from each stop line).
 *
 * Plain data owned by the structs (fini/free them); reading only, no drawing. Thread-safe.
 */
#ifndef BATCH_TSD_H
#define BATCH_TSD_H

#include "base/err.h"

#include <stddef.h>

#define BATCH_TSD_ID_MAX 64

enum { BATCH_TSD_RED = 0, BATCH_TSD_YELLOW = 1, BATCH_TSD_GREEN = 2, BATCH_TSD_DARK = 3 };

typedef struct batch_tsd_stop {
    char node[BATCH_TSD_ID_MAX];  /* node at the stop line (the link's end) */
    char link[BATCH_TSD_ID_MAX];  /* the approach link */
    char group[BATCH_TSD_ID_MAX]; /* signal group of the route's movement; "" if unsignalized */
    double dist_m;                /* stop line's distance from the start of the route */
} batch_tsd_stop_t;

typedef struct batch_tsd_route {
    char escort[BATCH_TSD_ID_MAX]; /* escort id ("" when read from a corridor) */
    size_t n_links;
    char (*links)[BATCH_TSD_ID_MAX];
    double *start_m; /* distance of each link's upstream end */
    double total_m;
    batch_tsd_stop_t *stops; /* one per link but the last: its end is the destination */
    size_t n_stops;
} batch_tsd_route_t;

typedef struct batch_tsd_bar {
    double t0, t1; /* seconds of simulated time */
    double dist_m;
    int state; /* BATCH_TSD_* */
} batch_tsd_bar_t;

typedef struct batch_tsd_point {
    double t, dist_m;
} batch_tsd_point_t;

/* Reads the route of escort escort_id (NULL: the first escort; a scenario without escorts: its
 * corridor "escort_route") from the scenario file. Returns 0, BASE_EIO/BASE_EPARSE (file), or
 * BASE_EINVAL (no such escort or corridor, unknown link) with a message. */
int batch_tsd_route_load(const char *scenario_path, const char *escort_id, batch_tsd_route_t *out,
                         base_err_t *err);

/* Frees the route's arrays. NULL-safe. */
void batch_tsd_route_fini(batch_tsd_route_t *route);

/* Reads signals.csv and returns, in *bars (caller frees), the state intervals of the groups
 * of route's stops that overlap [t_lo, t_hi], clipped to it. Returns 0 or an error. */
int batch_tsd_bars(const batch_tsd_route_t *route, const char *signals_csv, double t_lo,
                   double t_hi, batch_tsd_bar_t **bars, size_t *n, base_err_t *err);

/* Reads escort.csv and returns in *pts (caller frees) the escort's trajectory: (depart_s, 0),
 * then per stop line its entry to the link, arrival at and departure from the stop line, then
 * (arrive_s, total) if arrive_s >= 0 (the run's escort arrived). Rows of another escort are
 * skipped. Returns 0 or an error. */
int batch_tsd_trajectory(const batch_tsd_route_t *route, const char *escort_csv, double depart_s,
                         double arrive_s, batch_tsd_point_t **pts, size_t *n, base_err_t *err);

/* Returns BATCH_TSD_* for a state name of signals.csv ("green", ...). */
int batch_tsd_state(const char *name);

#endif
