/*
 * viz/project.c - the view transform: s = origin + (w/2, h/2) + scale * (x - cx, -(y - cy)).
 * Its inverse is exact up to floating point, so a zoom about the cursor is a pure change of
 * scale followed by moving (cx, cy) so that the cursor's world point maps back to the cursor.
 */
#include "viz/project.h"

#include <math.h>

void viz_project_fit(viz_view_t *v, int x0, int y0, int w, int h, double min_x, double min_y,
                     double max_x, double max_y, int margin_px) {
    v->x0 = x0;
    v->y0 = y0;
    v->w = w > 1 ? w : 1;
    v->h = h > 1 ? h : 1;
    double bw = max_x - min_x, bh = max_y - min_y;
    if (!(bw > 1e-9) && !(bh > 1e-9)) {
        bw = bh = 100;
    }
    double aw = v->w - 2.0 * margin_px, ah = v->h - 2.0 * margin_px;
    if (aw < 1)
        aw = 1;
    if (ah < 1)
        ah = 1;
    double sx = bw > 1e-9 ? aw / bw : INFINITY, sy = bh > 1e-9 ? ah / bh : INFINITY;
    v->scale = fmin(sx, sy);
    v->scale = fmax(VIZ_SCALE_MIN, fmin(VIZ_SCALE_MAX, v->scale));
    v->cx = 0.5 * (min_x + max_x);
    v->cy = 0.5 * (min_y + max_y);
}

viz_point_t viz_project_to_screen(const viz_view_t *v, double wx, double wy) {
    viz_point_t p;
    p.x = (float)(v->x0 + 0.5 * v->w + v->scale * (wx - v->cx));
    p.y = (float)(v->y0 + 0.5 * v->h - v->scale * (wy - v->cy));
    return p;
}

void viz_project_to_world(const viz_view_t *v, double sx, double sy, double *wx, double *wy) {
    *wx = v->cx + (sx - v->x0 - 0.5 * v->w) / v->scale;
    *wy = v->cy - (sy - v->y0 - 0.5 * v->h) / v->scale;
}

void viz_project_zoom_at(viz_view_t *v, double factor, double sx, double sy) {
    double wx, wy;
    viz_project_to_world(v, sx, sy, &wx, &wy);
    double s = v->scale * factor;
    v->scale = fmax(VIZ_SCALE_MIN, fmin(VIZ_SCALE_MAX, s));
    /* Put (wx, wy) back under (sx, sy). */
    v->cx = wx - (sx - v->x0 - 0.5 * v->w) / v->scale;
    v->cy = wy + (sy - v->y0 - 0.5 * v->h) / v->scale;
}

void viz_project_pan(viz_view_t *v, double dx, double dy) {
    v->cx -= dx / v->scale;
    v->cy += dy / v->scale;
}

void viz_project_box(const viz_view_t *v, double wx, double wy, double ux, double uy,
                     double length_m, double width_m, double min_px, viz_point_t out[4]) {
    viz_point_t c = viz_project_to_screen(v, wx, wy);
    double hl = 0.5 * fmax(length_m * v->scale, min_px);
    double hw = 0.5 * fmax(width_m * v->scale, min_px * 0.6);
    /* Screen direction of the heading (y flips) and its right normal. */
    double dx = ux, dy = -uy;
    double rx = -dy, ry = dx;
    out[0] = (viz_point_t){(float)(c.x - dx * hl + rx * hw), (float)(c.y - dy * hl + ry * hw)};
    out[1] = (viz_point_t){(float)(c.x + dx * hl + rx * hw), (float)(c.y + dy * hl + ry * hw)};
    out[2] = (viz_point_t){(float)(c.x + dx * hl - rx * hw), (float)(c.y + dy * hl - ry * hw)};
    out[3] = (viz_point_t){(float)(c.x - dx * hl - rx * hw), (float)(c.y - dy * hl - ry * hw)};
}

int viz_project_visible(const viz_view_t *v, viz_point_t p, double pad) {
    return p.x >= v->x0 - pad && p.x <= v->x0 + v->w + pad && p.y >= v->y0 - pad &&
           p.y <= v->y0 + v->h + pad;
}
