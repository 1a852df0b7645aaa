/*
 * viz/tsd.h - the time-space diagram of a corridor: the traffic engineer's picture of a green
 * wave, as data and axis maths (no SDL; viz/render.c draws it).
 *
 * Distance runs along the corridor's links (the start of link i is the sum of the lengths of
 * the links before it), time along the other axis. Each signalized node the corridor crosses is
 * a "stop" at the distance of its stop line; its bar shows, over time, the state of the signal
 * group(s) serving the corridor's through movement there (the movement from the corridor's link
 * into the next one; several groups combine to the most permissive state). Vehicles on corridor
 * links become trajectories (time, distance) sampled from frames: one point per vehicle per
 * sample_ms (every frame for the escort), a new segment after a gap.
 *
 * The model owns its memory and keeps a pointer to the map, which must outlive it. Points are
 * kept in arrival order; prune drops whatever ended before a time (live view: a rolling window).
 * Not thread-safe.
 */
#ifndef VIZ_TSD_H
#define VIZ_TSD_H

#include "base/err.h"
#include "proto/frame.h"
#include "viz/map.h"

#include <stddef.h>
#include <stdint.h>

#define VIZ_TSD_MAX_GROUPS 4
#define VIZ_TSD_GAP_MS     5000 /* a longer silence starts a new trajectory segment */
/* Signal bars are held across frames the viewer skipped (a silence up to this long): a state
 * seen on both sides fills the gap, a change is put at its middle. A longer silence (a jump in
 * a replay) stays dark. */
#define VIZ_TSD_BRIDGE_MS 120000

/* Signal states, as the frame's group bytes. */
enum { VIZ_SIG_DARK = 0, VIZ_SIG_RED = 1, VIZ_SIG_YELLOW = 2, VIZ_SIG_GREEN = 3 };

typedef struct viz_tsd_span {
    int64_t t0_ms, t1_ms; /* [t0, t1) */
    uint8_t state;
} viz_tsd_span_t;

typedef struct viz_tsd_stop {
    int32_t node;
    double dist_m;
    int32_t groups[VIZ_TSD_MAX_GROUPS];
    int n_groups;
    viz_tsd_span_t *spans;
    size_t n_spans, cap_spans;
} viz_tsd_stop_t;

typedef struct viz_tsd_point {
    int64_t t_ms;
    float dist_m;
    uint8_t brk; /* 1: no line from the previous point */
} viz_tsd_point_t;

typedef struct viz_tsd_track {
    uint32_t vehicle;
    uint8_t vclass;
    uint8_t escort;
    viz_tsd_point_t *pts;
    size_t n, cap;
} viz_tsd_track_t;

typedef struct viz_tsd {
    const viz_map_t *map;
    int32_t corridor;
    double *link_start_m; /* per map link: distance of its start, or -1 if not on the corridor */
    double length_m;
    viz_tsd_stop_t *stops;
    int n_stops;
    viz_tsd_track_t *tracks;
    size_t n_tracks, cap_tracks;
    uint32_t *hash; /* open addressing: track index + 1, 0 empty */
    size_t hash_cap;
    int64_t sample_ms;
    int64_t t_first_ms, t_last_ms; /* frames seen; t_first > t_last when none */
    base_err_t err;
} viz_tsd_t;

/* The axes of a drawn diagram: the plot rectangle in pixels, time [t0, t1) left to right and
 * distance [0, length] bottom to top. */
typedef struct viz_tsd_axes {
    int x, y, w, h;
    int64_t t0_ms, t1_ms;
    double d0_m, d1_m;
} viz_tsd_axes_t;

/* Creates the diagram of the corridor named corridor_id. Returns NULL with BASE_EINVAL
 * ("no corridor 'x' in the map (it has: a, b)") or BASE_ENOMEM. Caller owns it. */
viz_tsd_t *viz_tsd_new(const viz_map_t *map, const char *corridor_id, int64_t sample_ms,
                       base_err_t *err);

/* Frees the diagram; NULL-safe; sets *tsd_p to NULL. */
void viz_tsd_destroy(viz_tsd_t **tsd_p);

/* Adds one frame: extends the stops' state bars and the trajectories of the vehicles on the
 * corridor. Frames must come in time order (an earlier frame resets the diagram, as after a
 * seek back). Returns 0 or BASE_ENOMEM. */
int viz_tsd_add_frame(viz_tsd_t *tsd, const proto_frame_t *f);

/* Drops every span and track that ended before t_ms, and points of live tracks before it. */
void viz_tsd_prune(viz_tsd_t *tsd, int64_t t_ms);

/* Forgets everything (keeps the corridor). */
void viz_tsd_clear(viz_tsd_t *tsd);

/* The state of stop k at time t (VIZ_SIG_DARK if unknown). O(log n). */
int viz_tsd_state_at(const viz_tsd_t *tsd, int k, int64_t t_ms);

/* Pixel x of time t and pixel y of distance d on the axes (not clamped). */
double viz_tsd_x(const viz_tsd_axes_t *ax, int64_t t_ms);
double viz_tsd_y(const viz_tsd_axes_t *ax, double dist_m);

/* Time at pixel x (inverse of viz_tsd_x). */
int64_t viz_tsd_time_at(const viz_tsd_axes_t *ax, double x);

/* Chooses "nice" tick spacing: the smallest of 1, 2, 5 x 10^k not below span / max_ticks. */
double viz_tsd_tick_step(double span, int max_ticks);

#endif
