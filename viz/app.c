/*
 * viz/app.c - the modes of greenwave-viz.
 *
 * Loops are paced by the wall clock (CLOCK_MONOTONIC): draw, then wait for input or data until
 * the next 1/60 s. The live loop waits on the sockets (zmq_poll), so a frame is drawn as soon
 * as data arrives and the simulator never waits for us. The replay loop keeps its own clock:
 * simulated time advances by wall time x speed, and every frame passed on the way goes through
 * the history (decisions, diagram), only the last one being drawn.
 */
#include "viz/app.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME_S    (1.0 / 60.0)
#define PREFILL_MS 10000

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s) {
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

typedef struct fps_meter {
    double t0;
    int frames;
} fps_meter_t;

static void fps_tick(fps_meter_t *m, viz_t *viz, double now) {
    m->frames++;
    if (now - m->t0 >= 1.0) {
        viz->fps = m->frames / (now - m->t0);
        m->frames = 0;
        m->t0 = now;
    }
}

/* Screenshot and quit deadlines shared by the windowed loops. Returns 1 to quit. */
static int deadlines(viz_t *viz, viz_render_t *r, const viz_app_opts_t *o, double elapsed,
                     int *shot_done, base_err_t *err, int *rc) {
    if (o->screenshot_path != NULL && !*shot_done && elapsed >= o->screenshot_after_s &&
        (viz->has_frame || elapsed >= o->screenshot_after_s + 10)) {
        *shot_done = 1;
        *rc = viz_render_save_png(r, o->screenshot_path, err);
        if (*rc < 0)
            return 1;
        if (o->log != NULL)
            fprintf(o->log, "greenwave-viz: screenshot written to %s\n", o->screenshot_path);
    }
    return o->quit_after_s > 0 && elapsed >= o->quit_after_s;
}

static void control(viz_t *viz, viz_live_t *live, const char *cmd, double factor) {
    base_err_t e = {0};
    if (viz_live_control(live, cmd, factor, &e) < 0)
        snprintf(viz->status, sizeof viz->status, "%.180s", e.msg);
    else if (strcmp(cmd, "speed") == 0)
        snprintf(viz->status, sizeof viz->status, "asked the simulator for pace x%g", factor);
    else
        snprintf(viz->status, sizeof viz->status, "asked the simulator to %s", cmd);
}

int viz_app_live(viz_t *viz, viz_render_t *r, viz_live_t *live, const viz_app_opts_t *o,
                 base_err_t *err) {
    double t0 = wall_now(), next = t0;
    fps_meter_t fm = {t0, 0};
    int shot_done = 0, rc = 0;
    int requested = o->request == NULL;
    double t_ack = -1; /* with after_ack: when the request was answered */
    char last_status[VIZ_LINE_MAX] = "";
    if (live->dealer == NULL)
        snprintf(viz->status, sizeof viz->status,
                 "view only: start with --control ENDPOINT to pause or pace the simulator");
    for (;;) {
        if (!requested && viz->has_frame) {
            char cmd[32];
            double factor = 0;
            snprintf(cmd, sizeof cmd, "%s", o->request);
            char *eq = strchr(cmd, '=');
            if (eq != NULL) {
                *eq = '\0';
                factor = strtod(eq + 1, NULL);
            }
            control(viz, live, cmd, factor);
            requested = 1;
        }
        if (o->log != NULL && strcmp(last_status, viz->status) != 0) {
            snprintf(last_status, sizeof last_status, "%s", viz->status);
            fprintf(o->log, "greenwave-viz: %s\n", viz->status);
        }
        viz_input_t in;
        while (viz_render_poll(r, &in)) {
            viz_action_t a = viz_handle_input(viz, &in);
            double pace = viz->has_frame && viz->frame.speed > 0 ? viz->frame.speed : 1.0;
            if (a == VIZ_ACT_QUIT)
                return 0;
            if (a == VIZ_ACT_PAUSE)
                control(viz, live, viz->has_frame && viz->frame.paused ? "resume" : "pause", 0);
            if (a == VIZ_ACT_FASTER)
                control(viz, live, "speed", fmin(pace * 2, 1024));
            if (a == VIZ_ACT_SLOWER)
                control(viz, live, "speed", fmax(pace / 2, 1.0 / 64));
            if (a == VIZ_ACT_STEP)
                control(viz, live, "step", 0);
        }
        double now = wall_now();
        int wait_ms = (int)((next - now) * 1000);
        int ready = viz_live_wait(live, wait_ms > 0 ? wait_ms : 0);
        if (ready < 0)
            return base_err_set(err, BASE_EIO, "the subscription failed");
        if (ready > 0) {
            int n = viz_live_drain(live, viz, 4096);
            if (n < 0)
                return base_err_set(err, BASE_EIO, "the subscription failed");
            if (viz->err.code == BASE_ENOMEM)
                return base_err_set(err, BASE_ENOMEM, "out of memory");
        }
        now = wall_now();
        if (now >= next) {
            viz->wall_ms = (int64_t)((now - t0) * 1000);
            viz_render_draw(r, viz);
            viz_render_present(r);
            fps_tick(&fm, viz, now);
            next = fmax(next + FRAME_S, now);
            if (o->after_ack && t_ack < 0 && live->acks > 0)
                t_ack = now;
            double from = o->after_ack ? t_ack : t0;
            if (from >= 0 && deadlines(viz, r, o, now - from, &shot_done, err, &rc))
                return rc;
        }
    }
}

int viz_app_seek(viz_t *viz, viz_replay_t *rp, int64_t t_ms, int64_t prefill_ms, base_err_t *err) {
    size_t j = viz_replay_find(rp, t_ms);
    size_t i = viz_replay_find(rp, t_ms - (prefill_ms > 0 ? prefill_ms : 0));
    viz_reset_history(viz);
    if (viz->has_frame && rp->frames[j].time_ms < viz->frame.time_ms) {
        proto_frame_fini(&viz->frame);
        viz->has_frame = 0;
    }
    for (size_t k = i; k <= j; k++) {
        proto_frame_t f;
        int rc = viz_replay_read(rp, k, &f, err);
        if (rc < 0)
            return rc;
        rc = viz_on_frame(viz, &f, k == j);
        proto_frame_fini(&f);
        if (rc < 0)
            return base_err_set(err, rc, "%s", viz->err.msg);
    }
    return 0;
}

static int prepare_replay(viz_t *viz, viz_replay_t *rp, const char *corridor, base_err_t *err) {
    int rc = viz_on_map(viz, rp->map_json);
    if (rc < 0)
        return base_err_set(err, rc, "%s: %s", rp->path, viz->err.msg);
    if (corridor != NULL && viz_set_tsd_corridor(viz, corridor) < 0)
        return base_err_set(err, viz->err.code, "%s", viz->err.msg);
    viz->t_begin_ms = rp->frames[0].time_ms;
    viz->t_end_ms = rp->frames[rp->n_frames - 1].time_ms;
    viz->escort_start_ms = rp->escort_start_ms;
    return 0;
}

/* Advances from frame *cur to frame `to`, passing each through the history. */
static int advance(viz_t *viz, viz_replay_t *rp, size_t *cur, size_t to, base_err_t *err) {
    if (to <= *cur)
        return 0;
    if (to - *cur > 3000) /* a long way: faster to seek */
        return *cur = to, viz_app_seek(viz, rp, rp->frames[to].time_ms,
                                       viz->show_tsd ? viz->tsd_window_ms : PREFILL_MS, err);
    for (size_t k = *cur + 1; k <= to; k++) {
        proto_frame_t f;
        int rc = viz_replay_read(rp, k, &f, err);
        if (rc < 0)
            return rc;
        rc = viz_on_frame(viz, &f, k == to);
        proto_frame_fini(&f);
        if (rc < 0)
            return base_err_set(err, rc, "%s", viz->err.msg);
    }
    *cur = to;
    return 0;
}

int viz_app_replay(viz_t *viz, viz_render_t *r, viz_replay_t *rp, const viz_app_opts_t *o,
                   base_err_t *err) {
    int rc = prepare_replay(viz, rp, o->tsd_corridor, err);
    if (rc < 0)
        return rc;
    viz->show_tsd = o->show_tsd && viz->tsd != NULL;
    if (viz->show_tsd)
        viz_fit(viz);
    size_t cur = 0;
    if ((rc = viz_app_seek(viz, rp, viz->t_begin_ms, 0, err)) < 0)
        return rc;
    viz->playing = 1;
    double t0 = wall_now(), prev = t0, clock_ms = (double)viz->t_begin_ms;
    fps_meter_t fm = {t0, 0};
    int shot_done = 0;
    for (;;) {
        viz_input_t in;
        while (viz_render_poll(r, &in)) {
            viz_action_t a = viz_handle_input(viz, &in);
            if (a == VIZ_ACT_QUIT)
                return 0;
            if (a == VIZ_ACT_SEEK || a == VIZ_ACT_TSD) {
                int64_t t = a == VIZ_ACT_SEEK ? viz->seek_ms : viz->play_ms;
                rc = viz_app_seek(viz, rp, t, viz->show_tsd ? viz->tsd_window_ms : PREFILL_MS, err);
                if (rc < 0)
                    return rc;
                cur = viz_replay_find(rp, t);
                clock_ms = (double)t;
            }
            if (a == VIZ_ACT_STEP && cur + 1 < rp->n_frames) {
                if ((rc = advance(viz, rp, &cur, cur + 1, err)) < 0)
                    return rc;
                clock_ms = (double)rp->frames[cur].time_ms;
            }
            if (a == VIZ_ACT_PAUSE && viz->playing && cur + 1 >= rp->n_frames) {
                if ((rc = viz_app_seek(viz, rp, viz->t_begin_ms, 0, err)) < 0)
                    return rc; /* play again from the start */
                cur = 0;
                clock_ms = (double)viz->t_begin_ms;
            }
        }
        double now = wall_now();
        if (viz->playing) {
            clock_ms += (now - prev) * 1000.0 * viz->play_speed;
            size_t to = viz_replay_find(rp, (int64_t)clock_ms);
            if ((rc = advance(viz, rp, &cur, to, err)) < 0)
                return rc;
            if (cur + 1 >= rp->n_frames)
                viz->playing = 0;
        }
        prev = now;
        viz->wall_ms = (int64_t)((now - t0) * 1000);
        viz_render_draw(r, viz);
        viz_render_present(r);
        fps_tick(&fm, viz, now);
        if (deadlines(viz, r, o, now - t0, &shot_done, err, &rc))
            return rc;
        sleep_s(FRAME_S - (wall_now() - now));
    }
}

int viz_app_png_at(viz_t *viz, viz_render_t *r, viz_replay_t *rp, double at_s, const char *png,
                   const viz_app_opts_t *o, base_err_t *err) {
    int rc = prepare_replay(viz, rp, o->tsd_corridor, err);
    if (rc < 0)
        return rc;
    viz->show_tsd = o->show_tsd && viz->tsd != NULL;
    viz_fit(viz);
    int64_t t = (int64_t)llround(at_s * 1000);
    if (t < viz->t_begin_ms || t > viz->t_end_ms)
        return base_err_set(err, BASE_ERANGE,
                            "--at %.3f: the recording covers %.3f to %.3f s of simulated time",
                            at_s, (double)viz->t_begin_ms / 1e3, (double)viz->t_end_ms / 1e3);
    if ((rc = viz_app_seek(viz, rp, t, viz->show_tsd ? viz->tsd_window_ms : PREFILL_MS, err)) < 0)
        return rc;
    viz->wall_ms = 0;
    viz_render_draw(r, viz);
    viz_render_present(r);
    return viz_render_save_png(r, png, err);
}

static int write_meta(const viz_t *viz, const viz_tsd_t *t, const viz_tsd_axes_t *ax,
                      const char *path, base_err_t *err) {
    json_t *stops = json_array();
    for (int k = 0; stops != NULL && k < t->n_stops; k++) {
        const viz_tsd_stop_t *s = &t->stops[k];
        json_t *groups = json_array();
        for (int g = 0; g < s->n_groups; g++)
            json_array_append_new(groups, json_string(viz->map->groups[s->groups[g]].id));
        json_array_append_new(stops, json_pack("{s:s,s:f,s:f,s:o}", "node",
                                               viz->map->nodes[s->node].id, "dist_m", s->dist_m,
                                               "y", viz_tsd_y(ax, s->dist_m), "groups", groups));
    }
    json_t *root =
        json_pack("{s:s,s:{s:i,s:i,s:i,s:i},s:f,s:f,s:f,s:f,s:o}", "corridor",
                  viz->map->corridors[t->corridor].id, "plot", "x", ax->x, "y", ax->y, "w", ax->w,
                  "h", ax->h, "t0_s", (double)ax->t0_ms / 1e3, "t1_s", (double)ax->t1_ms / 1e3,
                  "d0_m", ax->d0_m, "d1_m", ax->d1_m, "stops", stops);
    if (root == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return rc == 0 ? 0 : base_err_set(err, BASE_EIO, "%s: cannot write", path);
}

int viz_app_tsd_png(viz_t *viz, viz_render_t *r, viz_replay_t *rp, const char *corridor,
                    double from_s, double to_s, const char *png, const char *meta,
                    base_err_t *err) {
    viz->mode = VIZ_MODE_STILL;
    int rc = prepare_replay(viz, rp, NULL, err);
    if (rc < 0)
        return rc;
    viz_tsd_t *t = viz_tsd_new(viz->map, corridor, 500, err);
    if (t == NULL)
        return err ? err->code : BASE_EINVAL;
    int64_t t0 = viz->t_begin_ms, t1 = viz->t_end_ms;
    if (from_s < 0 && to_s < 0 && rp->escort_start_ms >= 0) {
        int64_t arrive = -1;
        for (size_t k = 0; k < rp->n_frames && arrive < 0; k++)
            if (rp->frames[k].escort_state == 2)
                arrive = rp->frames[k].time_ms;
        t0 = rp->escort_start_ms - 60000;
        t1 = arrive >= 0 ? arrive + 60000 : rp->escort_start_ms + 900000;
    }
    if (from_s >= 0)
        t0 = (int64_t)llround(from_s * 1000);
    if (to_s >= 0)
        t1 = (int64_t)llround(to_s * 1000);
    t0 = t0 < viz->t_begin_ms ? viz->t_begin_ms : t0;
    t1 = t1 > viz->t_end_ms ? viz->t_end_ms : t1;
    if (t1 <= t0) {
        viz_tsd_destroy(&t);
        return base_err_set(err, BASE_ERANGE,
                            "empty time window: the recording covers %.3f to %.3f s",
                            (double)viz->t_begin_ms / 1e3, (double)viz->t_end_ms / 1e3);
    }
    for (size_t k = viz_replay_find(rp, t0); k < rp->n_frames && rp->frames[k].time_ms <= t1; k++) {
        proto_frame_t f;
        rc = viz_replay_read(rp, k, &f, err);
        if (rc == 0) {
            rc = viz_tsd_add_frame(t, &f);
            if (rc < 0)
                base_err_set(err, rc, "out of memory");
            proto_frame_fini(&f);
        }
        if (rc < 0) {
            viz_tsd_destroy(&t);
            return rc;
        }
    }
    viz_tsd_axes_t ax;
    viz_render_draw_tsd_page(r, viz, t, t0, t1, &ax);
    viz_render_present(r);
    rc = viz_render_save_png(r, png, err);
    if (rc == 0 && meta != NULL)
        rc = write_meta(viz, t, &ax, meta, err);
    viz_tsd_destroy(&t);
    return rc;
}

/* ---- benchmark --------------------------------------------------------------------------- */

char *viz_app_grid_json(int nx, int ny, double sp) {
    json_t *nodes = json_array(), *links = json_array(), *movs = json_array(), *sigs = json_array(),
           *row = json_array();
    char id[64], id2[64];
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            snprintf(id, sizeof id, "N%d_%d", i, j);
            json_array_append_new(nodes, json_pack("{s:s,s:s,s:f,s:f}", "id", id, "kind",
                                                   "signalized", "x_m", i * sp, "y_m", j * sp));
        }
    /* Links to the four neighbours; direction d: 0 east, 1 north, 2 west, 3 south. */
    static const int dx[4] = {1, 0, -1, 0}, dy[4] = {0, 1, 0, -1};
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++)
            for (int d = 0; d < 4; d++) {
                int a = i + dx[d], b = j + dy[d];
                if (a < 0 || a >= nx || b < 0 || b >= ny)
                    continue;
                snprintf(id, sizeof id, "N%d_%d", i, j);
                snprintf(id2, sizeof id2, "N%d_%d", a, b);
                char lid[160];
                snprintf(lid, sizeof lid, "%s-%s", id, id2);
                json_array_append_new(links, json_pack("{s:s,s:s,s:s,s:f,s:i,s:f}", "id", lid,
                                                       "from", id, "to", id2, "length_m", sp,
                                                       "lanes", 2, "free_speed_kmh", 50.0));
                if (j == 0 && d == 0)
                    json_array_append_new(row, json_string(lid));
            }
    /* Movements and signals: at each node, from each incoming link to each outgoing one but
     * back; group NS serves links arriving north- or southbound, EW the others. */
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            json_t *ns = json_array(), *ew = json_array();
            snprintf(id, sizeof id, "N%d_%d", i, j);
            for (int din = 0; din < 4; din++) {
                int fi = i - dx[din], fj = j - dy[din];
                if (fi < 0 || fi >= nx || fj < 0 || fj >= ny)
                    continue;
                for (int dout = 0; dout < 4; dout++) {
                    int ti = i + dx[dout], tj = j + dy[dout];
                    if (dout == (din + 2) % 4 || ti < 0 || ti >= nx || tj < 0 || tj >= ny)
                        continue;
                    char from[160], to[160], mid[400];
                    snprintf(from, sizeof from, "N%d_%d-%s", fi, fj, id);
                    snprintf(to, sizeof to, "%s-N%d_%d", id, ti, tj);
                    snprintf(mid, sizeof mid, "%s>%s", from, to);
                    const char *turn = dout == din             ? "through"
                                       : dout == (din + 1) % 4 ? "left"
                                                               : "right";
                    json_array_append_new(movs, json_pack("{s:s,s:s,s:s,s:s}", "id", mid, "from",
                                                          from, "to", to, "turn", turn));
                    json_array_append_new(din % 2 ? ns : ew, json_string(mid));
                }
            }
            char g1[80], g2[80];
            snprintf(g1, sizeof g1, "%s.NS", id);
            snprintf(g2, sizeof g2, "%s.EW", id);
            json_array_append_new(
                sigs, json_pack("{s:s,s:[{s:s,s:o},{s:s,s:o}],s:[{s:s,s:[s]},{s:s,s:[s]}],"
                                "s:[{s:s,s:f,s:f,s:[f,f]}]}",
                                "node", id, "groups", "id", g1, "movements", ns, "id", g2,
                                "movements", ew, "stages", "id", "S1", "groups", g1, "id", "S2",
                                "groups", g2, "plans", "id", "P", "cycle_s", 60.0, "offset_s",
                                (double)(i * 8 % 60), "splits_s", 30.0, 30.0));
        }
    json_t *root = json_pack("{s:s,s:i,s:s,s:s,s:f,s:o,s:o,s:o,s:o,s:[{s:s,s:s,s:o}]}", "format",
                             "greenwave-scenario", "version", 1, "name", "bench grid", "start_time",
                             "08:00:00", "duration_s", 3600.0, "nodes", nodes, "links", links,
                             "movements", movs, "signals", sigs, "corridors", "id", "row0", "name",
                             "row 0 eastbound", "links", row);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

/* Small deterministic generator for the synthetic vehicles. */
static uint32_t lcg(uint32_t *s) {
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

int viz_app_bench(viz_t *viz, viz_render_t *r, int n, double seconds, const char *map_json,
                  const char *png, FILE *out, base_err_t *err) {
    char *grid = map_json == NULL ? viz_app_grid_json(12, 8, 250) : NULL;
    if (map_json == NULL && grid == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    int rc = viz_on_map(viz, map_json ? map_json : grid);
    free(grid);
    if (rc < 0)
        return base_err_set(err, rc, "%s", viz->err.msg);
    const viz_map_t *m = viz->map;
    proto_frame_t f;
    memset(&f, 0, sizeof f);
    f.vehicles = calloc((size_t)(n > 0 ? n : 1), sizeof *f.vehicles);
    f.group_states = calloc((size_t)m->n_groups + 1, 1);
    f.prio = calloc((size_t)m->n_signals + 1, 1);
    float *speed = calloc((size_t)(n > 0 ? n : 1), sizeof *speed);
    if (f.vehicles == NULL || f.group_states == NULL || f.prio == NULL || speed == NULL) {
        free(speed);
        proto_frame_fini(&f);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    uint32_t seed = 12345;
    f.n_vehicles = n;
    f.n_group_states = m->n_groups;
    f.n_signals = m->n_signals;
    f.speed = 1;
    f.has_escort = 1;
    snprintf(f.escort_id, sizeof f.escort_id, "bench");
    f.escort_state = 1;
    f.escort_depart_ms = 0;
    f.escort_eta_ms = 600000;
    f.escort_free_flow_s = 500;
    for (int i = 0; i < n; i++) {
        proto_vehicle_t *v = &f.vehicles[i];
        v->id = (uint32_t)i;
        v->link = (int32_t)(lcg(&seed) % (uint32_t)m->n_links);
        v->pos_m = (float)(lcg(&seed) % 10000) / 10000.0f * (float)m->links[v->link].length_m;
        v->lane = (uint8_t)(lcg(&seed) % (uint32_t)m->links[v->link].lanes);
        v->vclass = (uint8_t)(lcg(&seed) % 10 == 0 ? 1 : lcg(&seed) % 7 == 0 ? 2 : 0);
        v->flags = (uint8_t)(i == 0                ? PROTO_VEH_ESCORT
                             : lcg(&seed) % 5 == 0 ? PROTO_VEH_QUEUED
                                                   : 0);
        speed[i] = v->flags & PROTO_VEH_QUEUED ? 0.0f : 8.0f + (float)(lcg(&seed) % 800) / 100.0f;
    }
    for (int32_t s = 0; s < m->n_signals && s < 8; s++)
        f.prio[s] = (uint8_t)(1 + s % 4);
    /* The context keeps its own copy of the frame; the benchmark moves vehicles in it. */
    proto_frame_t shown = f;
    rc = viz_on_frame(viz, &shown, 1);
    if (rc < 0) {
        free(speed);
        return base_err_set(err, rc, "%s", viz->err.msg);
    }
    proto_frame_t *vf = &viz->frame;
    double t0 = wall_now(), now = t0, dt = 1.0 / 60;
    int frames = 0, drawn = 0;
    while ((now = wall_now()) - t0 < seconds || frames < 10) {
        vf->time_ms += 1000 / 60;
        for (int i = 0; i < n; i++) {
            proto_vehicle_t *v = &vf->vehicles[i];
            v->pos_m += speed[i] * (float)dt;
            if (v->pos_m > (float)m->links[v->link].length_m)
                v->pos_m = 0;
        }
        for (int32_t g = 0; g < m->n_groups; g++)
            vf->group_states[g] = (uint8_t)(((vf->time_ms / 30000) + g) % 2 ? 3 : 1);
        viz->wall_ms = (int64_t)((now - t0) * 1000);
        viz_render_draw(r, viz);
        viz_render_present(r);
        drawn = viz_render_vehicles_drawn(r);
        frames++;
    }
    double el = wall_now() - t0;
    int w, h;
    viz_render_size(r, &w, &h);
    fprintf(out,
            "greenwave-viz bench: %d vehicles (%d drawn on screen), %dx%d software renderer, "
            "%d frames in %.2f s: %.1f frames/s (%.2f ms/frame)\n",
            n, drawn, w, h, frames, el, frames / el, 1000.0 * el / frames);
    free(speed);
    return png != NULL ? viz_render_save_png(r, png, err) : 0;
}
