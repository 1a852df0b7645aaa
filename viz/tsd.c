/*
 * viz/tsd.c - builds the time-space diagram from frames.
 *
 * Stops: for each corridor link i but the last, the node where it ends is a stop if it is
 * signalized; the groups of the movements from link i into link i+1 serve the corridor there.
 * Signal bars are run-length spans: a frame at t with state s ends the previous span at t and
 * extends it if it had s; else it opens a span at t. Frames skipped at a high pace (a silence
 * longer than VIZ_TSD_GAP_MS, up to VIZ_TSD_BRIDGE_MS) do not leave a dark band: the bar holds
 * its state across the silence, and a change seen across it is put at its middle (the best
 * guess, at most half the silence off); only a longer silence leaves the bar dark. Trajectories: a
 * hash of vehicle id -> track (linear probing, load <= 1/2, rebuilt when it grows or after a
 * prune); a vehicle gets a point when sample_ms has passed since its last one (always for the
 * escort), and a point after a silence longer than VIZ_TSD_GAP_MS starts a new segment. Cost per
 * frame: O(vehicles + stops).
 */
#include "viz/tsd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_u32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

/* Rebuilds the hash with cap slots (a power of two); in place when cap is unchanged, so a
 * rebuild after a prune cannot fail. */
static int rehash(viz_tsd_t *t, size_t cap) {
    uint32_t *h = cap == t->hash_cap ? t->hash : calloc(cap, sizeof *h);
    if (h == NULL)
        return BASE_ENOMEM;
    if (h == t->hash)
        memset(h, 0, cap * sizeof *h);
    for (size_t i = 0; i < t->n_tracks; i++) {
        size_t j = hash_u32(t->tracks[i].vehicle) & (cap - 1);
        while (h[j] != 0)
            j = (j + 1) & (cap - 1);
        h[j] = (uint32_t)(i + 1);
    }
    if (h != t->hash)
        free(t->hash);
    t->hash = h;
    t->hash_cap = cap;
    return 0;
}

static viz_tsd_track_t *track_of(viz_tsd_t *t, uint32_t vehicle, int create) {
    size_t j = hash_u32(vehicle) & (t->hash_cap - 1);
    while (t->hash[j] != 0) {
        viz_tsd_track_t *tr = &t->tracks[t->hash[j] - 1];
        if (tr->vehicle == vehicle)
            return tr;
        j = (j + 1) & (t->hash_cap - 1);
    }
    if (!create)
        return NULL;
    if (t->n_tracks == t->cap_tracks) {
        size_t cap = t->cap_tracks ? 2 * t->cap_tracks : 256;
        viz_tsd_track_t *n = realloc(t->tracks, cap * sizeof *n);
        if (n == NULL)
            return NULL;
        t->tracks = n;
        t->cap_tracks = cap;
    }
    viz_tsd_track_t *tr = &t->tracks[t->n_tracks++];
    memset(tr, 0, sizeof *tr);
    tr->vehicle = vehicle;
    if (2 * t->n_tracks > t->hash_cap) {
        if (rehash(t, 2 * t->hash_cap) < 0) {
            t->n_tracks--;
            return NULL;
        }
    } else {
        t->hash[j] = (uint32_t)t->n_tracks;
    }
    return tr;
}

viz_tsd_t *viz_tsd_new(const viz_map_t *map, const char *corridor_id, int64_t sample_ms,
                       base_err_t *err) {
    int32_t c = viz_map_corridor_index(map, corridor_id ? corridor_id : "");
    if (c < 0) {
        char list[512] = "";
        size_t used = 0;
        for (int32_t i = 0; i < map->n_corridors && used + 2 < sizeof list; i++) {
            int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             map->corridors[i].id);
            used += n > 0 ? (size_t)n : 0;
        }
        base_err_set(err, BASE_EINVAL, "no corridor '%s' in the map (it has: %s)",
                     corridor_id ? corridor_id : "", map->n_corridors ? list : "none");
        return NULL;
    }
    viz_tsd_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        goto oom;
    t->map = map;
    t->corridor = c;
    t->sample_ms = sample_ms > 0 ? sample_ms : 0;
    t->t_first_ms = INT64_MAX;
    t->t_last_ms = INT64_MIN;
    const viz_corridor_t *cor = &map->corridors[c];
    t->link_start_m = malloc((size_t)(map->n_links ? map->n_links : 1) * sizeof *t->link_start_m);
    t->stops = calloc((size_t)(cor->n_links ? cor->n_links : 1), sizeof *t->stops);
    if (t->link_start_m == NULL || t->stops == NULL || rehash(t, 1024) < 0)
        goto oom;
    for (int32_t i = 0; i < map->n_links; i++)
        t->link_start_m[i] = -1;
    double d = 0;
    for (int i = 0; i < cor->n_links; i++) {
        const viz_link_t *l = &map->links[cor->links[i]];
        t->link_start_m[cor->links[i]] = d;
        d += l->length_m;
        if (i + 1 == cor->n_links || map->nodes[l->to].signal < 0)
            continue;
        viz_tsd_stop_t *s = &t->stops[t->n_stops];
        s->node = l->to;
        s->dist_m = d;
        for (int32_t m = 0; m < map->n_movements; m++) {
            const viz_movement_t *mv = &map->movements[m];
            if (mv->from == cor->links[i] && mv->to == cor->links[i + 1] && mv->group >= 0 &&
                s->n_groups < VIZ_TSD_MAX_GROUPS)
                s->groups[s->n_groups++] = mv->group;
        }
        if (s->n_groups > 0)
            t->n_stops++;
    }
    t->length_m = d;
    return t;
oom:
    base_err_set(err, BASE_ENOMEM, "out of memory building the time-space diagram");
    viz_tsd_destroy(&t);
    return NULL;
}

void viz_tsd_clear(viz_tsd_t *t) {
    for (int k = 0; k < t->n_stops; k++)
        t->stops[k].n_spans = 0;
    for (size_t i = 0; i < t->n_tracks; i++)
        free(t->tracks[i].pts);
    t->n_tracks = 0;
    memset(t->hash, 0, t->hash_cap * sizeof *t->hash);
    t->t_first_ms = INT64_MAX;
    t->t_last_ms = INT64_MIN;
}

void viz_tsd_destroy(viz_tsd_t **tsd_p) {
    if (tsd_p == NULL || *tsd_p == NULL)
        return;
    viz_tsd_t *t = *tsd_p;
    if (t->hash != NULL)
        viz_tsd_clear(t);
    for (int k = 0; t->stops != NULL && k < t->n_stops; k++)
        free(t->stops[k].spans);
    free(t->stops);
    free(t->tracks);
    free(t->hash);
    free(t->link_start_m);
    free(t);
    *tsd_p = NULL;
}

static int stop_state(const viz_tsd_stop_t *s, const proto_frame_t *f) {
    int best = VIZ_SIG_DARK;
    for (int g = 0; g < s->n_groups; g++) {
        if (s->groups[g] >= f->n_group_states)
            continue;
        int st = f->group_states[s->groups[g]];
        /* Most permissive: green > yellow > red > dark. */
        if (st > best && st <= VIZ_SIG_GREEN)
            best = st;
    }
    return best;
}

static int add_span(viz_tsd_stop_t *s, int64_t t, int state, int64_t prev_t) {
    viz_tsd_span_t *last = s->n_spans ? &s->spans[s->n_spans - 1] : NULL;
    int64_t gap = t - prev_t;
    int contiguous = last != NULL && gap <= VIZ_TSD_BRIDGE_MS && last->t1_ms == prev_t;
    int64_t start = t;
    if (contiguous && last->state == state) {
        last->t1_ms = t;
        return 0;
    }
    if (contiguous) {
        /* Skipped frames: the change happened somewhere in the silence; put it at the middle. */
        start = gap > VIZ_TSD_GAP_MS ? prev_t + gap / 2 : t;
        last->t1_ms = start;
    }
    if (s->n_spans == s->cap_spans) {
        size_t cap = s->cap_spans ? 2 * s->cap_spans : 64;
        viz_tsd_span_t *n = realloc(s->spans, cap * sizeof *n);
        if (n == NULL)
            return BASE_ENOMEM;
        s->spans = n;
        s->cap_spans = cap;
    }
    s->spans[s->n_spans++] = (viz_tsd_span_t){start, t, (uint8_t)state};
    return 0;
}

static int add_point(viz_tsd_track_t *tr, int64_t t, float d, uint8_t brk) {
    if (tr->n == tr->cap) {
        size_t cap = tr->cap ? 2 * tr->cap : 16;
        viz_tsd_point_t *n = realloc(tr->pts, cap * sizeof *n);
        if (n == NULL)
            return BASE_ENOMEM;
        tr->pts = n;
        tr->cap = cap;
    }
    tr->pts[tr->n++] = (viz_tsd_point_t){t, d, brk};
    return 0;
}

int viz_tsd_add_frame(viz_tsd_t *t, const proto_frame_t *f) {
    if (t->t_last_ms != INT64_MIN && f->time_ms < t->t_last_ms)
        viz_tsd_clear(t);
    int64_t prev = t->t_last_ms;
    if (f->time_ms < t->t_first_ms)
        t->t_first_ms = f->time_ms;
    t->t_last_ms = f->time_ms;
    for (int k = 0; k < t->n_stops; k++)
        if (add_span(&t->stops[k], f->time_ms, stop_state(&t->stops[k], f), prev) < 0)
            return base_err_set(&t->err, BASE_ENOMEM, "out of memory");
    const viz_map_t *map = t->map;
    for (int32_t i = 0; i < f->n_vehicles; i++) {
        const proto_vehicle_t *v = &f->vehicles[i];
        if (v->link < 0 || v->link >= map->n_links || t->link_start_m[v->link] < 0 ||
            (v->flags & PROTO_VEH_WAITING) || !isfinite(v->pos_m))
            continue;
        double len = map->links[v->link].length_m;
        double pos = v->pos_m < 0 ? 0 : v->pos_m > len ? len : v->pos_m;
        float d = (float)(t->link_start_m[v->link] + pos);
        viz_tsd_track_t *tr = track_of(t, v->id, 1);
        if (tr == NULL)
            return base_err_set(&t->err, BASE_ENOMEM, "out of memory");
        tr->vclass = v->vclass;
        int escort = (v->flags & PROTO_VEH_ESCORT) != 0;
        tr->escort |= (uint8_t)escort;
        if (tr->n > 0) {
            int64_t dt = f->time_ms - tr->pts[tr->n - 1].t_ms;
            if (dt < t->sample_ms && !escort)
                continue;
            if (dt <= 0)
                continue;
            if (add_point(tr, f->time_ms, d, dt > VIZ_TSD_GAP_MS) < 0)
                return base_err_set(&t->err, BASE_ENOMEM, "out of memory");
        } else if (add_point(tr, f->time_ms, d, 1) < 0) {
            return base_err_set(&t->err, BASE_ENOMEM, "out of memory");
        }
    }
    return 0;
}

void viz_tsd_prune(viz_tsd_t *t, int64_t t_ms) {
    for (int k = 0; k < t->n_stops; k++) {
        viz_tsd_stop_t *s = &t->stops[k];
        size_t keep = 0;
        while (keep < s->n_spans && s->spans[keep].t1_ms < t_ms)
            keep++;
        memmove(s->spans, s->spans + keep, (s->n_spans - keep) * sizeof *s->spans);
        s->n_spans -= keep;
    }
    size_t out = 0;
    for (size_t i = 0; i < t->n_tracks; i++) {
        viz_tsd_track_t *tr = &t->tracks[i];
        if (tr->n == 0 || tr->pts[tr->n - 1].t_ms < t_ms) {
            free(tr->pts);
            continue;
        }
        size_t first = 0; /* keep the last point before t_ms, so the line enters the window */
        while (first + 1 < tr->n && tr->pts[first + 1].t_ms < t_ms)
            first++;
        if (first > 0) {
            memmove(tr->pts, tr->pts + first, (tr->n - first) * sizeof *tr->pts);
            tr->n -= first;
        }
        t->tracks[out++] = *tr;
    }
    t->n_tracks = out;
    if (t->t_first_ms < t_ms)
        t->t_first_ms = t_ms;
    (void)rehash(t, t->hash_cap); /* in place: cannot fail */
}

int viz_tsd_state_at(const viz_tsd_t *t, int k, int64_t t_ms) {
    if (k < 0 || k >= t->n_stops)
        return VIZ_SIG_DARK;
    const viz_tsd_stop_t *s = &t->stops[k];
    size_t lo = 0, hi = s->n_spans;
    while (lo < hi) { /* first span starting after t */
        size_t mid = (lo + hi) / 2;
        if (s->spans[mid].t0_ms <= t_ms)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return VIZ_SIG_DARK;
    const viz_tsd_span_t *sp = &s->spans[lo - 1];
    return t_ms <= sp->t1_ms ? sp->state : VIZ_SIG_DARK;
}

double viz_tsd_x(const viz_tsd_axes_t *ax, int64_t t_ms) {
    double span = (double)(ax->t1_ms - ax->t0_ms);
    return ax->x + (span > 0 ? (double)(t_ms - ax->t0_ms) / span * ax->w : 0);
}

double viz_tsd_y(const viz_tsd_axes_t *ax, double dist_m) {
    double span = ax->d1_m - ax->d0_m;
    return ax->y + ax->h - (span > 0 ? (dist_m - ax->d0_m) / span * ax->h : 0);
}

int64_t viz_tsd_time_at(const viz_tsd_axes_t *ax, double x) {
    double span = (double)(ax->t1_ms - ax->t0_ms);
    return ax->t0_ms + (ax->w > 0 ? (int64_t)llround((x - ax->x) / ax->w * span) : 0);
}

double viz_tsd_tick_step(double span, int max_ticks) {
    if (!(span > 0) || max_ticks < 1)
        return 1;
    double raw = span / max_ticks;
    double p = pow(10, floor(log10(raw)));
    static const double mult[] = {1, 2, 5, 10};
    for (int i = 0; i < 4; i++)
        if (mult[i] * p >= raw)
            return mult[i] * p;
    return 10 * p;
}
