/*
 * viz/viz.c - the context: map and frame bookkeeping, input handling, layout and panel text.
 *
 * Invariants: group_state/group_since_ms have map->n_groups entries and route_link/route_signal
 * map->n_links/n_signals whenever map is set; the diagram, if any, points into the current map
 * and is recreated with it. The frame on show is owned here and freed when replaced.
 */
#include "viz/viz.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEEK_H   40
#define LEGEND_H 44
#define PANEL_W  470
#define POPUP_W  380

static const uint32_t STATE_RGB[4] = {0x8a8f98, 0xff4d4d, 0xffd23f, 0x3ddc84};
static const char *const STATE_NAME[4] = {"dark", "red", "yellow", "green"};
static const char *const PRIO_NAME[5] = {"none", "requested", "granted", "serving", "recovering"};

viz_t *viz_new(viz_mode_t mode, int w, int h, base_err_t *err) {
    viz_t *v = calloc(1, sizeof *v);
    if (v == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        return NULL;
    }
    v->mode = mode;
    v->win_w = w > 0 ? w : 1280;
    v->win_h = h > 0 ? h : 800;
    v->auto_fit = 1;
    v->selected_signal = -1;
    v->tsd_window_ms = VIZ_TSD_WINDOW_MS;
    v->play_speed = 1.0;
    v->last_seq = -1;
    v->escort_start_ms = -1;
    v->view.scale = 1;
    return v;
}

static void drop_map(viz_t *v) {
    viz_tsd_destroy(&v->tsd);
    if (v->has_frame)
        proto_frame_fini(&v->frame);
    v->has_frame = 0;
    free(v->route_link);
    free(v->route_signal);
    free(v->group_state);
    free(v->group_since_ms);
    v->route_link = v->route_signal = v->group_state = NULL;
    v->group_since_ms = NULL;
    viz_map_destroy(&v->map);
    free(v->map_json);
    v->map_json = NULL;
}

void viz_destroy(viz_t **viz_p) {
    if (viz_p == NULL || *viz_p == NULL)
        return;
    drop_map(*viz_p);
    free(*viz_p);
    *viz_p = NULL;
}

void viz_reset_history(viz_t *v) {
    v->n_decisions = 0;
    if (v->map != NULL) {
        for (int32_t g = 0; g < v->map->n_groups; g++) {
            v->group_state[g] = 0xff;
            v->group_since_ms[g] = INT64_MIN;
        }
    }
    if (v->tsd != NULL)
        viz_tsd_clear(v->tsd);
    v->tsd_pruned_ms = INT64_MIN;
    v->last_seq = -1;
}

int viz_set_tsd_corridor(viz_t *v, const char *corridor) {
    if (v->map == NULL)
        return base_err_set(&v->err, BASE_ESTATE, "no map yet");
    if (corridor == NULL) {
        corridor = viz_map_corridor_index(v->map, "escort_route") >= 0 ? "escort_route"
                   : v->map->n_corridors > 0                           ? v->map->corridors[0].id
                                                                       : NULL;
        if (corridor == NULL) {
            viz_tsd_destroy(&v->tsd);
            v->tsd_corridor[0] = '\0';
            return 0;
        }
    }
    viz_tsd_t *t = viz_tsd_new(v->map, corridor, 1000, &v->err);
    if (t == NULL)
        return v->err.code;
    viz_tsd_destroy(&v->tsd);
    v->tsd = t;
    snprintf(v->tsd_corridor, sizeof v->tsd_corridor, "%s", corridor);
    v->tsd_pruned_ms = INT64_MIN;
    return 0;
}

int viz_on_map(viz_t *v, const char *json) {
    if (v->map_json != NULL && strcmp(v->map_json, json) == 0)
        return 0;
    viz_map_t *m = viz_map_new(json, &v->err);
    if (m == NULL)
        return v->err.code;
    char keep[64];
    snprintf(keep, sizeof keep, "%s", v->tsd_corridor);
    drop_map(v);
    v->map = m;
    size_t n = strlen(json) + 1;
    v->map_json = malloc(n);
    v->route_link = calloc((size_t)m->n_links + 1, 1);
    v->route_signal = calloc((size_t)m->n_signals + 1, 1);
    v->group_state = calloc((size_t)m->n_groups + 1, 1);
    v->group_since_ms = calloc((size_t)m->n_groups + 1, sizeof *v->group_since_ms);
    if (v->map_json == NULL || v->route_link == NULL || v->route_signal == NULL ||
        v->group_state == NULL || v->group_since_ms == NULL) {
        drop_map(v);
        return base_err_set(&v->err, BASE_ENOMEM, "out of memory");
    }
    memcpy(v->map_json, json, n);
    const int32_t *route;
    int nr = viz_map_escort_route(m, &route);
    for (int i = 0; i < nr; i++) {
        v->route_link[route[i]] = 1;
        int32_t s = m->nodes[m->links[route[i]].to].signal;
        if (s >= 0 && i + 1 < nr)
            v->route_signal[s] = 1;
    }
    viz_reset_history(v);
    v->selected_signal = -1;
    if (viz_set_tsd_corridor(v, keep[0] && viz_map_corridor_index(m, keep) >= 0 ? keep : NULL) < 0)
        return v->err.code;
    v->auto_fit = 1;
    viz_fit(v);
    return 1;
}

static void push_decision(viz_t *v, int64_t t, const char *text) {
    if (v->n_decisions == VIZ_N_DECISIONS) {
        memmove(v->decisions[0], v->decisions[1], sizeof v->decisions[0] * (VIZ_N_DECISIONS - 1));
        memmove(v->decision_ms, v->decision_ms + 1,
                sizeof v->decision_ms[0] * (VIZ_N_DECISIONS - 1));
        v->n_decisions--;
    }
    snprintf(v->decisions[v->n_decisions], VIZ_LINE_MAX, "%s", text);
    v->decision_ms[v->n_decisions++] = t;
}

int viz_on_frame(viz_t *v, proto_frame_t *f, int show) {
    if (v->map == NULL)
        return base_err_set(&v->err, BASE_ESTATE, "frame before any map");
    v->frames_in++;
    if (v->has_frame && f->time_ms < v->frame.time_ms)
        viz_reset_history(v);
    if (v->last_seq >= 0 && f->seq > v->last_seq + 1)
        v->frames_lost += f->seq - v->last_seq - 1;
    v->last_seq = f->seq;
    for (int32_t g = 0; g < v->map->n_groups && g < f->n_group_states; g++) {
        if (f->group_states[g] != v->group_state[g]) {
            v->group_since_ms[g] = v->group_state[g] == 0xff ? INT64_MIN : f->time_ms;
            v->group_state[g] = f->group_states[g];
        }
    }
    for (int32_t i = 0; i < f->n_decisions; i++)
        if (f->decisions[i] != NULL)
            push_decision(v, f->time_ms, f->decisions[i]);
    if (v->tsd != NULL) {
        if (viz_tsd_add_frame(v->tsd, f) < 0)
            return base_err_set(&v->err, BASE_ENOMEM, "out of memory");
        /* Rolling window, pruned every tenth of it. */
        if (v->mode != VIZ_MODE_STILL && v->tsd_window_ms > 0 &&
            (v->tsd_pruned_ms == INT64_MIN ||
             f->time_ms - v->tsd_pruned_ms > v->tsd_window_ms / 10)) {
            viz_tsd_prune(v->tsd, f->time_ms - v->tsd_window_ms);
            v->tsd_pruned_ms = f->time_ms;
        }
    }
    if (f->has_escort && f->escort_state >= 1 && v->escort_start_ms < 0)
        v->escort_start_ms = f->escort_depart_ms >= 0 ? f->escort_depart_ms : f->time_ms;
    if (show) {
        if (v->has_frame)
            proto_frame_fini(&v->frame);
        v->frame = *f;
        memset(f, 0, sizeof *f);
        v->has_frame = 1;
        v->frames_shown++;
        v->play_ms = v->frame.time_ms;
        if (v->follow)
            viz_center_escort(v);
    }
    return 0;
}

void viz_on_event(viz_t *v, int64_t time_ms, const char *text) {
    char clock[16];
    viz_format_clock(v, time_ms, clock, sizeof clock);
    if (v->n_events == VIZ_N_EVENTS) {
        memmove(v->events[0], v->events[1], sizeof v->events[0] * (VIZ_N_EVENTS - 1));
        v->n_events--;
    }
    snprintf(v->events[v->n_events++], VIZ_LINE_MAX, "[%s] %s", clock, text);
}

viz_layout_t viz_layout(const viz_t *v) {
    viz_layout_t l;
    memset(&l, 0, sizeof l);
    int h = v->win_h;
    if (v->mode == VIZ_MODE_REPLAY) {
        l.has_seek = 1;
        l.seek = (viz_rect_t){0, v->win_h - SEEK_H, v->win_w, SEEK_H};
        h -= SEEK_H;
    }
    int legend_h = v->mode == VIZ_MODE_STILL ? LEGEND_H / 2 : LEGEND_H;
    l.map = (viz_rect_t){0, 0, v->win_w, h - legend_h};
    l.legend = (viz_rect_t){0, h - legend_h, v->win_w, legend_h};
    if (v->show_tsd && v->tsd != NULL) {
        l.has_tsd = 1;
        int tw = v->win_w * 45 / 100;
        l.map.w = l.legend.w = v->win_w - tw;
        l.tsd = (viz_rect_t){l.map.w, 0, tw, h};
    }
    int pw = l.map.w - 20 < PANEL_W ? l.map.w - 20 : PANEL_W;
    l.panel = (viz_rect_t){10, 10, pw > 0 ? pw : 0, 0};
    int ow = l.map.w - 20 < POPUP_W ? l.map.w - 20 : POPUP_W;
    l.popup = (viz_rect_t){l.map.x + l.map.w - ow - 10, 10, ow > 0 ? ow : 0, 0};
    return l;
}

void viz_fit(viz_t *v) {
    viz_layout_t l = viz_layout(v);
    if (v->map == NULL) {
        viz_project_fit(&v->view, l.map.x, l.map.y, l.map.w, l.map.h, -50, -50, 50, 50, 20);
        return;
    }
    viz_project_fit(&v->view, l.map.x, l.map.y, l.map.w, l.map.h, v->map->min_x, v->map->min_y,
                    v->map->max_x, v->map->max_y, 24);
    if (v->zoom > 0) {
        v->view.scale = fmax(VIZ_SCALE_MIN, fmin(VIZ_SCALE_MAX, v->zoom));
        v->auto_fit = 0;
    }
    if (v->follow)
        viz_center_escort(v);
}

int viz_center_escort(viz_t *v) {
    if (v->map == NULL || !v->has_frame)
        return 0;
    for (int32_t i = 0; i < v->frame.n_vehicles; i++) {
        const proto_vehicle_t *veh = &v->frame.vehicles[i];
        double x, y, ux, uy;
        if ((veh->flags & PROTO_VEH_ESCORT) && !(veh->flags & PROTO_VEH_WAITING) &&
            viz_map_link_point(v->map, veh->link, veh->pos_m, veh->lane, &x, &y, &ux, &uy) == 0) {
            v->view.cx = x;
            v->view.cy = y;
            return 1;
        }
    }
    return 0;
}

static int in_rect(viz_rect_t r, double x, double y) {
    return x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h;
}

int32_t viz_signal_at(const viz_t *v, double x, double y, double radius_px) {
    if (v->map == NULL)
        return -1;
    int32_t best = -1;
    double best_d = radius_px;
    for (int32_t s = 0; s < v->map->n_signals; s++) {
        const viz_node_t *n = &v->map->nodes[v->map->signals[s].node];
        viz_point_t p = viz_project_to_screen(&v->view, n->x, n->y);
        double r = fmax(radius_px, n->setback_m * v->view.scale);
        double d = hypot(p.x - x, p.y - y);
        if (d <= r && (best < 0 || d < best_d)) {
            best = s;
            best_d = d;
        }
    }
    return best;
}

viz_rect_t viz_seek_track(const viz_layout_t *l) {
    viz_rect_t r = {l->seek.x + 190, l->seek.y + l->seek.h / 2 - 4, l->seek.w - 200, 8};
    if (r.w < 1)
        r.w = 1;
    return r;
}

static void seek_to_x(viz_t *v, const viz_layout_t *l, double x) {
    viz_rect_t tr = viz_seek_track(l);
    double f = (x - tr.x) / (double)tr.w;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    v->seek_ms = v->t_begin_ms + (int64_t)llround(f * (double)(v->t_end_ms - v->t_begin_ms));
}

static viz_action_t seek_by(viz_t *v, int64_t dt) {
    v->seek_ms = v->play_ms + dt;
    if (v->seek_ms < v->t_begin_ms)
        v->seek_ms = v->t_begin_ms;
    if (v->seek_ms > v->t_end_ms)
        v->seek_ms = v->t_end_ms;
    return VIZ_ACT_SEEK;
}

static viz_action_t on_key(viz_t *v, int key) {
    int replay = v->mode == VIZ_MODE_REPLAY;
    switch (key) {
    case 'q':
    case VIZ_KEY_ESC:
        if (key == VIZ_KEY_ESC && v->selected_signal >= 0) {
            v->selected_signal = -1;
            return VIZ_ACT_NONE;
        }
        return VIZ_ACT_QUIT;
    case 'f':
        v->auto_fit = 1;
        v->follow = 0;
        v->zoom = 0;
        viz_fit(v);
        return VIZ_ACT_NONE;
    case 'g':
        v->follow = !v->follow;
        if (v->follow) {
            v->auto_fit = 0;
            if (v->view.scale < 1.0)
                viz_project_zoom_at(&v->view, 1.0 / v->view.scale, v->view.x0 + 0.5 * v->view.w,
                                    v->view.y0 + 0.5 * v->view.h);
            viz_center_escort(v);
        }
        return VIZ_ACT_NONE;
    case ' ':
        if (replay)
            v->playing = !v->playing;
        return VIZ_ACT_PAUSE;
    case '+':
    case '=':
        if (replay && v->play_speed < 256)
            v->play_speed *= 2;
        return VIZ_ACT_FASTER;
    case '-':
        if (replay && v->play_speed > 1.0 / 16)
            v->play_speed /= 2;
        return VIZ_ACT_SLOWER;
    case '.':
        if (replay)
            v->playing = 0;
        return VIZ_ACT_STEP;
    case 't':
        v->show_tsd = !v->show_tsd && v->tsd != NULL;
        if (v->auto_fit)
            viz_fit(v);
        return v->show_tsd ? VIZ_ACT_TSD : VIZ_ACT_NONE;
    case 'c':
        if (v->map != NULL && v->map->n_corridors > 0) {
            int32_t c = v->tsd ? (v->tsd->corridor + 1) % v->map->n_corridors : 0;
            if (viz_set_tsd_corridor(v, v->map->corridors[c].id) == 0 && v->show_tsd)
                return VIZ_ACT_TSD;
        }
        return VIZ_ACT_NONE;
    case 'e':
        if (!replay || v->escort_start_ms < 0)
            return VIZ_ACT_NONE;
        v->seek_ms =
            v->escort_start_ms - 10000 > v->t_begin_ms ? v->escort_start_ms - 10000 : v->t_begin_ms;
        return VIZ_ACT_SEEK;
    case VIZ_KEY_LEFT:
        return replay ? seek_by(v, -10000) : VIZ_ACT_NONE;
    case VIZ_KEY_RIGHT:
        return replay ? seek_by(v, 10000) : VIZ_ACT_NONE;
    case VIZ_KEY_HOME:
        return replay ? seek_by(v, INT64_MIN / 4) : VIZ_ACT_NONE;
    case VIZ_KEY_END:
        return replay ? seek_by(v, INT64_MAX / 4) : VIZ_ACT_NONE;
    default:
        return VIZ_ACT_NONE;
    }
}

viz_action_t viz_handle_input(viz_t *v, const viz_input_t *in) {
    viz_layout_t l = viz_layout(v);
    switch (in->type) {
    case VIZ_IN_QUIT:
        return VIZ_ACT_QUIT;
    case VIZ_IN_RESIZE:
        v->win_w = in->w > 1 ? in->w : 1;
        v->win_h = in->h > 1 ? in->h : 1;
        if (v->auto_fit) {
            viz_fit(v);
        } else {
            l = viz_layout(v);
            v->view.x0 = l.map.x;
            v->view.y0 = l.map.y;
            v->view.w = l.map.w;
            v->view.h = l.map.h;
        }
        return VIZ_ACT_NONE;
    case VIZ_IN_KEY:
        return on_key(v, in->key);
    case VIZ_IN_BUTTON_DOWN:
        if (l.has_seek && in_rect(l.seek, in->x, in->y) && in->button == 1) {
            if (in->x < l.seek.x + 40) {
                v->playing = !v->playing;
                return VIZ_ACT_PAUSE;
            }
            v->drag_seek = 1;
            seek_to_x(v, &l, in->x);
            return VIZ_ACT_SEEK;
        }
        if (!in_rect(l.map, in->x, in->y))
            return VIZ_ACT_NONE;
        if (in->button == 3) {
            v->selected_signal = -1;
            return VIZ_ACT_NONE;
        }
        if (in->button == 1) {
            int32_t s = viz_signal_at(v, in->x, in->y, 12);
            if (s >= 0) {
                v->selected_signal = s == v->selected_signal ? -1 : s;
                return VIZ_ACT_NONE;
            }
        }
        v->drag_map = 1;
        v->drag_x = in->x;
        v->drag_y = in->y;
        return VIZ_ACT_NONE;
    case VIZ_IN_BUTTON_UP:
        v->drag_map = v->drag_seek = 0;
        return VIZ_ACT_NONE;
    case VIZ_IN_MOTION:
        if (v->drag_seek) {
            seek_to_x(v, &l, in->x);
            return VIZ_ACT_SEEK;
        }
        if (v->drag_map) {
            v->follow = 0;
            viz_project_pan(&v->view, in->x - v->drag_x, in->y - v->drag_y);
            v->drag_x = in->x;
            v->drag_y = in->y;
            v->auto_fit = 0;
        }
        return VIZ_ACT_NONE;
    case VIZ_IN_WHEEL:
        if (in_rect(l.map, in->x, in->y) && in->wheel != 0) {
            viz_project_zoom_at(&v->view, pow(1.25, in->wheel), in->x, in->y);
            v->auto_fit = 0;
        }
        return VIZ_ACT_NONE;
    default:
        return VIZ_ACT_NONE;
    }
}

void viz_format_clock(const viz_t *v, int64_t t_ms, char *buf, size_t n) {
    int64_t tod = (v->map ? v->map->start_tod_ms : 0) + t_ms;
    int64_t day = 86400000;
    tod = ((tod % day) + day) % day;
    int64_t s = tod / 1000;
    snprintf(buf, n, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

static void line(viz_line_t *lines, int *n, int max, uint32_t rgb, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void line(viz_line_t *lines, int *n, int max, uint32_t rgb, const char *fmt, ...) {
    if (*n >= max)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lines[*n].text, VIZ_LINE_MAX, fmt, ap);
    va_end(ap);
    lines[*n].rgb = rgb;
    (*n)++;
}

int viz_panel_lines(const viz_t *v, viz_line_t *lines, int max) {
    int n = 0;
    const proto_frame_t *f = &v->frame;
    if (v->map == NULL) {
        line(lines, &n, max, 0xffffff, "%s",
             v->mode == VIZ_MODE_LIVE ? "waiting for the simulator's map..." : "no map");
        return n;
    }
    line(lines, &n, max, 0xffffff, "%s", v->map->name);
    if (!v->has_frame) {
        line(lines, &n, max, 0xc0c4cc, "waiting for frames...");
        return n;
    }
    char clock[16];
    viz_format_clock(v, f->time_ms, clock, sizeof clock);
    char pace[48];
    if (v->mode == VIZ_MODE_REPLAY)
        snprintf(pace, sizeof pace, "replay x%g%s", v->play_speed, v->playing ? "" : " [paused]");
    else if (f->speed > 0)
        snprintf(pace, sizeof pace, "pace x%g%s", f->speed, f->paused ? " [paused]" : "");
    else
        snprintf(pace, sizeof pace, "as fast as possible%s", f->paused ? " [paused]" : "");
    line(lines, &n, max, 0xffffff, "%s   t = %.1f s   %s", clock, (double)f->time_ms / 1000.0,
         pace);
    if (f->has_escort) {
        if (f->escort_state == 0) {
            line(lines, &n, max, 0xff5ce1, "escort %s: waiting to depart (free flow %.0f s)",
                 f->escort_id, f->escort_free_flow_s);
        } else if (f->escort_state == 1) {
            double el =
                f->escort_depart_ms >= 0 ? (double)(f->time_ms - f->escort_depart_ms) / 1e3 : 0;
            char eta[80] = "ETA unknown";
            if (f->escort_eta_ms >= 0) {
                char c2[16];
                viz_format_clock(v, f->escort_eta_ms, c2, sizeof c2);
                snprintf(eta, sizeof eta, "ETA %s (in %.0f s)", c2,
                         (double)(f->escort_eta_ms - f->time_ms) / 1e3);
            }
            line(lines, &n, max, 0xff5ce1, "escort %s: %.0f s elapsed / %.0f s free flow, %s",
                 f->escort_id, el, f->escort_free_flow_s, eta);
        } else {
            double tt = (double)(f->escort_arrive_ms - f->escort_depart_ms) / 1e3;
            line(lines, &n, max, 0xff5ce1, "escort %s: arrived in %.0f s (free flow %.0f s, %.2fx)",
                 f->escort_id, tt, f->escort_free_flow_s,
                 f->escort_free_flow_s > 0 ? tt / f->escort_free_flow_s : 0.0);
        }
    }
    int32_t waiting = 0;
    for (int32_t i = 0; i < f->n_vehicles; i++)
        waiting += (f->vehicles[i].flags & PROTO_VEH_WAITING) != 0;
    line(lines, &n, max, 0xc0c4cc, "%d vehicles in the network, %d waiting to enter",
         (int)(f->n_vehicles - waiting), (int)waiting);
    if (v->mode == VIZ_MODE_LIVE)
        line(lines, &n, max, 0xc0c4cc, "frames: %lld shown, %lld skipped, %lld lost, %lld bad",
             (long long)v->frames_shown, (long long)(v->frames_in - v->frames_shown),
             (long long)v->frames_lost, (long long)v->frames_bad);
    if (v->status[0])
        line(lines, &n, max, 0xffd23f, "%s", v->status);
    if (v->n_decisions > 0) {
        line(lines, &n, max, 0x9ecbff, "controller decisions:");
        for (int i = 0; i < v->n_decisions; i++) {
            char c[16];
            viz_format_clock(v, v->decision_ms[i], c, sizeof c);
            line(lines, &n, max, 0xd8e6ff, "  %s %s", c, v->decisions[i]);
        }
    }
    for (int i = 0; i < v->n_events; i++)
        line(lines, &n, max, 0xc0c4cc, "%s", v->events[i]);
    return n;
}

int viz_popup_lines(const viz_t *v, viz_line_t *lines, int max) {
    int n = 0;
    if (v->map == NULL || v->selected_signal < 0 || v->selected_signal >= v->map->n_signals)
        return 0;
    const viz_signal_t *s = &v->map->signals[v->selected_signal];
    const viz_node_t *node = &v->map->nodes[s->node];
    const proto_frame_t *f = &v->frame;
    int prio = v->has_frame && v->selected_signal < f->n_signals ? f->prio[v->selected_signal] : 0;
    line(lines, &n, max, 0xffffff, "%s (%s)", node->name, node->id);
    line(lines, &n, max, 0xc0c4cc, "priority: %s", PRIO_NAME[prio <= 4 ? prio : 0]);
    int64_t now = v->has_frame ? f->time_ms : 0;
    int current = -1;
    for (int k = 0; k < s->n_stages; k++) {
        const viz_stage_t *st = &s->stages[k];
        int all_green = st->n_groups > 0;
        for (int q = 0; q < st->n_groups; q++)
            all_green &= v->group_state[st->groups[q]] == VIZ_SIG_GREEN;
        if (all_green && current < 0)
            current = k;
        char groups[VIZ_LINE_MAX] = "";
        size_t used = 0;
        for (int q = 0; q < st->n_groups && used + 2 < sizeof groups; q++) {
            int w = snprintf(groups + used, sizeof groups - used, "%s%s", q ? " " : "",
                             v->map->groups[st->groups[q]].id);
            used += w > 0 ? (size_t)w : 0;
        }
        line(lines, &n, max, all_green ? 0x3ddc84 : 0xc0c4cc, "%s %s: %s", all_green ? ">" : " ",
             st->id, groups);
    }
    for (int32_t g = s->first_group; g < s->first_group + s->n_groups; g++) {
        int st = v->group_state[g] <= 3 ? v->group_state[g] : 0;
        if (v->group_since_ms[g] != INT64_MIN && v->has_frame)
            line(lines, &n, max, STATE_RGB[st], "  %-12s %-6s for %.0f s", v->map->groups[g].id,
                 STATE_NAME[st], (double)(now - v->group_since_ms[g]) / 1e3);
        else
            line(lines, &n, max, STATE_RGB[st], "  %-12s %s", v->map->groups[g].id, STATE_NAME[st]);
    }
    double tod = (double)(v->map->start_tod_ms + now) / 1e3;
    const viz_plan_t *p = viz_map_plan_at(v->map, v->selected_signal, tod);
    if (p != NULL && current >= 0 && current < p->n_splits && p->cycle_s > 0) {
        double c = fmod(tod - p->offset_s, p->cycle_s);
        if (c < 0)
            c += p->cycle_s;
        double end = 0;
        for (int k = 0; k <= current; k++)
            end += p->splits_s[k];
        double rem = end - c;
        if (rem >= 0 && rem <= p->cycle_s && prio == 0)
            line(lines, &n, max, 0x9ecbff, "plan %s (cycle %.0f s): %s ends in %.0f s", p->id,
                 p->cycle_s, s->stages[current].id, rem);
        else
            line(lines, &n, max, 0x9ecbff, "plan %s (cycle %.0f s); off plan now", p->id,
                 p->cycle_s);
    }
    return n;
}

viz_tsd_axes_t viz_tsd_axes(const viz_tsd_t *tsd, viz_rect_t plot, int64_t t0_ms, int64_t t1_ms) {
    viz_tsd_axes_t ax = {plot.x, plot.y,
                         plot.w, plot.h,
                         t0_ms,  t1_ms > t0_ms ? t1_ms : t0_ms + 1,
                         0,      tsd && tsd->length_m > 0 ? tsd->length_m : 1};
    return ax;
}
