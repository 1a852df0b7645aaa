/*
 * viz/render.h - the one module that calls SDL (and SDL2_ttf): draws a viz_t into a window or
 * an offscreen surface with SDL's software renderer, turns SDL events into viz_input_t, reads
 * pixels back and writes PNG files (through viz/png.h).
 *
 * A viz_render_t owns its window (or surface), renderer, fonts and a cache of text textures.
 * Drawing reads the context and never changes it. The process-wide SDL set-up is
 * viz_render_sys_init/quit, which only main() calls. Not thread-safe: one thread draws.
 */
#ifndef VIZ_RENDER_H
#define VIZ_RENDER_H

#include "base/err.h"
#include "viz/tsd.h"
#include "viz/viz.h"

#include <stdint.h>

typedef struct viz_render viz_render_t;

/* Colours (0xRRGGBB) the tests check for. */
#define VIZ_RGB_ESCORT     0xff2bd6
#define VIZ_RGB_RED        0xff3b3b
#define VIZ_RGB_YELLOW     0xffd23f
#define VIZ_RGB_GREEN      0x2fd67b
#define VIZ_RGB_DARK       0x6b7078
#define VIZ_RGB_BACKGROUND 0x14161b

/* Process-wide set-up: SDL (with its video subsystem if `video`) and SDL2_ttf. Call once from
 * main() before any viz_render_new_*. Returns 0 or BASE_EIO with SDL's message. */
int viz_render_sys_init(int video, base_err_t *err);

/* Process-wide tear-down; call once at the end of main(). */
void viz_render_sys_quit(void);

/* Opens a resizable window of w x h pixels drawn by the software renderer. Returns NULL with
 * BASE_EIO ("no display: ...") on failure. Caller owns it. */
viz_render_t *viz_render_new_window(const char *title, int w, int h, base_err_t *err);

/* Creates an offscreen w x h canvas (no display needed). Returns NULL with BASE_EIO or
 * BASE_ENOMEM. Caller owns it. */
viz_render_t *viz_render_new_offscreen(int w, int h, base_err_t *err);

/* Frees everything; NULL-safe; sets *r_p to NULL. */
void viz_render_destroy(viz_render_t **r_p);

/* A warning worth printing once (e.g. "no CJK font: ..."), or "" if none. */
const char *viz_render_warning(const viz_render_t *r);

/* Current canvas size. */
void viz_render_size(const viz_render_t *r, int *w, int *h);

/* Draws the whole picture of viz: map, vehicles, panel, popup, diagram panel, seek bar.
 * Returns 0 or BASE_EIO. */
int viz_render_draw(viz_render_t *r, const viz_t *viz);

/* Draws a full-canvas time-space diagram of tsd over [t0, t1] with a title; stores the axes
 * used in *axes (if not NULL). Returns 0 or BASE_EIO. */
int viz_render_draw_tsd_page(viz_render_t *r, const viz_t *viz, const viz_tsd_t *tsd, int64_t t0_ms,
                             int64_t t1_ms, viz_tsd_axes_t *axes);

/* Shows what was drawn (a window) or finishes it (offscreen). */
void viz_render_present(viz_render_t *r);

/* Takes the next input event, if any. Returns 1 with *in filled, or 0. */
int viz_render_poll(viz_render_t *r, viz_input_t *in);

/* Reads the drawn picture back: a malloc'd array of w x h 0x00RRGGBB pixels (caller frees),
 * or NULL with BASE_EIO/BASE_ENOMEM. */
uint32_t *viz_render_pixels(viz_render_t *r, int *w, int *h, base_err_t *err);

/* Writes the drawn picture to a PNG file. Returns 0 or a negative code. */
int viz_render_save_png(viz_render_t *r, const char *path, base_err_t *err);

/* Number of vehicles drawn by the last viz_render_draw (after culling), for the benchmark. */
int viz_render_vehicles_drawn(const viz_render_t *r);

#endif
