/*
 * viz/project.h - world-to-screen projection of the map view, and the shapes drawn for
 * vehicles, as plain maths (no SDL), so they are unit-tested without a display.
 *
 * A view maps world metres (x east, y north) to screen pixels (x right, y down): the world
 * point (cx, cy) is at the centre of a w x h viewport and one metre is `scale` pixels. Zooming
 * keeps the world point under the cursor fixed; panning moves by pixels. The view is a value
 * owned by whoever holds it (viz_t); functions never allocate. Thread-safe.
 */
#ifndef VIZ_PROJECT_H
#define VIZ_PROJECT_H

#define VIZ_SCALE_MIN 0.005 /* px per metre: a 200 km network on a 1000 px window */
#define VIZ_SCALE_MAX 200.0

typedef struct viz_view {
    double cx, cy; /* world point at the centre of the viewport */
    double scale;  /* pixels per metre */
    int w, h;      /* viewport size in pixels */
    int x0, y0;    /* viewport origin on the screen */
} viz_view_t;

typedef struct viz_point {
    float x, y;
} viz_point_t;

/* Sets the viewport and fits the world box [min_x, max_x] x [min_y, max_y] into it, keeping
 * margin_px free on every side. A degenerate box gets a 100 m window. */
void viz_project_fit(viz_view_t *v, int x0, int y0, int w, int h, double min_x, double min_y,
                     double max_x, double max_y, int margin_px);

/* Screen position of a world point. */
viz_point_t viz_project_to_screen(const viz_view_t *v, double wx, double wy);

/* World position of a screen point. */
void viz_project_to_world(const viz_view_t *v, double sx, double sy, double *wx, double *wy);

/* Multiplies the scale by factor (clamped to [VIZ_SCALE_MIN, VIZ_SCALE_MAX]), keeping the world
 * point under screen point (sx, sy) where it is. */
void viz_project_zoom_at(viz_view_t *v, double factor, double sx, double sy);

/* Moves the view so the world follows the mouse by (dx, dy) pixels. */
void viz_project_pan(viz_view_t *v, double dx, double dy);

/* The four screen corners of an oriented rectangle: centre (wx, wy) in the world, heading
 * (ux, uy) (unit vector, world), length and width in metres, each at least min_px pixels on
 * screen. Corners go rear-right, front-right, front-left, rear-left (screen winding). */
void viz_project_box(const viz_view_t *v, double wx, double wy, double ux, double uy,
                     double length_m, double width_m, double min_px, viz_point_t out[4]);

/* 1 if the screen point is inside the viewport grown by pad pixels. */
int viz_project_visible(const viz_view_t *v, viz_point_t p, double pad);

#endif
