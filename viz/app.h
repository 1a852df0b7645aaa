/*
 * viz/app.h - what greenwave-viz does, one function per mode, so its main() only parses the
 * command line: the live view, the replay view, a still PNG of a replay, the time-space diagram
 * PNG, and the rendering benchmark.
 *
 * The loops poll input from the renderer, let the context interpret it, and act on what it asks
 * (control requests, seeks); they draw at most 60 frames a second and never block on the
 * simulator. The caller owns every object passed in. Not thread-safe.
 */
#ifndef VIZ_APP_H
#define VIZ_APP_H

#include "base/err.h"
#include "viz/live.h"
#include "viz/render.h"
#include "viz/replay.h"
#include "viz/viz.h"

#include <stdio.h>

typedef struct viz_app_opts {
    double screenshot_after_s; /* > 0: write screenshot_path once this long after the start */
    const char *screenshot_path;
    double quit_after_s; /* > 0: leave this long after the start */
    const char *tsd_corridor;
    int show_tsd;
    FILE *log;           /* one line per notable thing, or NULL */
    const char *request; /* live: a control request to send once frames flow ("pause",
                            "speed=4"), for scripts and tests */
    int after_ack;       /* live: screenshot_after_s and quit_after_s count from the simulator's
                            answer to request, not from the start (no race with a slow start) */
} viz_app_opts_t;

/* The live view until the window closes (or quit_after_s). Returns 0 or a negative code. */
int viz_app_live(viz_t *viz, viz_render_t *r, viz_live_t *live, const viz_app_opts_t *o,
                 base_err_t *err);

/* The replay view with seek bar, play/pause, speed and jump to the escort. */
int viz_app_replay(viz_t *viz, viz_render_t *r, viz_replay_t *rp, const viz_app_opts_t *o,
                   base_err_t *err);

/* Shows the replay at simulated time at_s (the last frame at or before it) and loads the
 * frames before it into the history; returns 0 or a negative code. */
int viz_app_seek(viz_t *viz, viz_replay_t *rp, int64_t t_ms, int64_t prefill_ms, base_err_t *err);

/* Renders the replay at at_s into png (offscreen), with the diagram panel if o->show_tsd. */
int viz_app_png_at(viz_t *viz, viz_render_t *r, viz_replay_t *rp, double at_s, const char *png,
                   const viz_app_opts_t *o, base_err_t *err);

/* Writes the time-space diagram of corridor over [from_s, to_s] (both < 0: around the escort's
 * trip, or the whole recording without one) to png, and its axes as JSON to meta (if not
 * NULL), for tests that check pixels against signals.csv. */
int viz_app_tsd_png(viz_t *viz, viz_render_t *r, viz_replay_t *rp, const char *corridor,
                    double from_s, double to_s, const char *png, const char *meta, base_err_t *err);

/* Draws n synthetic vehicles on a generated grid (or on map_json if not NULL) for `seconds`
 * of wall time, prints the frame rate to out, and writes the last picture to png if not NULL.
 * Returns 0 or a negative code. */
int viz_app_bench(viz_t *viz, viz_render_t *r, int n, double seconds, const char *map_json,
                  const char *png, FILE *out, base_err_t *err);

/* The JSON text of a generated nx x ny grid of signalized junctions, spacing_m apart, two
 * lanes each way, with a corridor "row0" along the first row (malloc'd; NULL when out of
 * memory). Used by the benchmark and the tests. */
char *viz_app_grid_json(int nx, int ny, double spacing_m);

#endif
