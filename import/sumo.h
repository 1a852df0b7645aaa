/*
 * import/sumo.h - SUMO networks, traffic-light programs, detectors and demand to a greenwave
 * scenario (docs/scenario-format.md), read with libxml2.
 *
 * Input: one .net.xml (netconvert / netgenerate output, gzip allowed), any number of route
 * files (vType, route, vehicle, trip, flow) and additional files (tlLogic programs that replace
 * the net's, e1Detector / inductionLoop detectors). Output: the scenario as JSON text that
 * scenarios/loader accepts (the converter loads it once before returning), and notes, one line
 * per kind of thing that could not be mapped exactly (internal lanes, pedestrian crossings,
 * right-of-way rules at unsignalized junctions, person plans ...), with a count and the first
 * place it occurs. Anything that cannot be read (malformed XML, a reference to an edge, lane,
 * route, type or program that does not exist, a value that is not a number) is refused with
 * "file:line: what" in err and BASE_EPARSE or BASE_EINVAL. The mapping is described in
 * docs/scenario-format.md ("Importing from SUMO"). No global state: libxml2 is used through
 * per-call parser contexts, so calls may run in parallel threads.
 */
#ifndef IMPORT_SUMO_H
#define IMPORT_SUMO_H

#include "base/err.h"

typedef struct import_sumo_opts {
    const char *net;           /* the .net.xml */
    const char *const *routes; /* route files */
    int n_routes;
    const char *const *additional; /* additional files (tlLogic, e1Detector) */
    int n_additional;
    const char *name;  /* scenario name; NULL: the net file's base name */
    double duration_s; /* 0: the last departure + IMPORT_SUMO_TAIL_S */
} import_sumo_opts_t;

#define IMPORT_SUMO_TAIL_S 1800.0 /* default run length after the last departure */

typedef struct import_sumo_result {
    char *json;  /* the scenario, malloc'd */
    char *notes; /* what was not mapped exactly, one line each, malloc'd (may be empty) */
    int nodes, links, movements, signals, detectors, trips, flows, escorts; /* counts */
} import_sumo_result_t;

/* Converts the files named in opts. Returns 0 with *out filled (caller frees it with
 * import_sumo_result_fini), or a negative code with "file:line: reason" in err: BASE_EIO (a file
 * cannot be read), BASE_EPARSE (malformed XML), BASE_EINVAL (a dangling reference, a bad value,
 * something the scenario format cannot hold), BASE_ENOMEM. */
int import_sumo_convert(const import_sumo_opts_t *opts, import_sumo_result_t *out, base_err_t *err);

/* Frees the result's strings; NULL-safe fields; zeroes it. */
void import_sumo_result_fini(import_sumo_result_t *r);

/* ---- mapping helpers (exposed for the unit tests) ------------------------------------ */

/* The greenwave turn of a SUMO connection's dir ("s", "l", "L", "r", "R", "t"): "through",
 * "left", "right" or "uturn"; NULL for anything else ("invalid"). */
const char *import_sumo_turn(const char *dir);

/* Parses a SUMO shape "x1,y1 x2,y2 ..." into xy (2 doubles a point, at most max_points; a
 * third coordinate is ignored). Returns the number of points, or -1 when malformed or longer
 * than max_points. */
int import_sumo_parse_shape(const char *s, double *xy, int max_points);

/* The mean of a SUMO speedFactor: a number, or "norm(mean,dev)" / "normc(mean,dev,min,max)".
 * Returns 0 and sets *mean, or -1 when unreadable. */
int import_sumo_speed_factor(const char *s, double *mean);

/* Departure times of a flow with evenly spaced vehicles (vehsPerHour, period or number with
 * begin/end), as SUMO inserts them: begin + i * period while i < number (number < 0: no
 * limit) and the time is below end. period_s > 0. Writes at most max departures to departs (if
 * not NULL) and returns how many there are in total. */
long import_sumo_flow_departs(double begin_s, double end_s, double period_s, long number,
                              double *departs, long max);

#endif
