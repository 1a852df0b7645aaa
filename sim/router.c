/*
 * sim/router.c - Dijkstra over links with a binary heap of (cost, link) pairs and lazy
 * deletion. cost[l] is the free-flow time from the start of the origin link to the end of l
 * (links and the junction crossings between them).
 * The search of the last origin is kept and resumed lazily: a target is answered as soon as it
 * is settled, so routing many OD pairs costs one partial search per distinct origin. A route
 * is read back from pred.
 */
#include "sim/router.h"

#include "sim/sim.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct {
    sim_time_t cost;
    int32_t link;
} item_t;

struct sim_router {
    const sim_scenario_t *scn;
    int32_t origin; /* the cached tree's origin, or -1 */
    sim_time_t *cost;
    int32_t *pred;
    item_t *heap;
    size_t len, cap;
    int32_t *path;      /* scratch for one leg, reversed */
    sim_time_t *link_t; /* free-flow time of each link */
    uint8_t *settled;   /* link's cost is final in the current search */
};

sim_router_t *sim_router_new(const sim_scenario_t *scn) {
    sim_router_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    size_t n = (size_t)scn->n_links + 1;
    r->scn = scn;
    r->origin = -1;
    r->cost = malloc(n * sizeof *r->cost);
    r->pred = malloc(n * sizeof *r->pred);
    r->path = malloc(n * sizeof *r->path);
    r->link_t = malloc(n * sizeof *r->link_t);
    r->settled = malloc(n * sizeof *r->settled);
    r->cap = (size_t)scn->n_movements + 1;
    r->heap = malloc(r->cap * sizeof *r->heap);
    if (r->cost == NULL || r->pred == NULL || r->path == NULL || r->heap == NULL ||
        r->link_t == NULL || r->settled == NULL) {
        sim_router_destroy(&r);
        return NULL;
    }
    for (int32_t l = 0; l < scn->n_links; l++)
        r->link_t[l] =
            sim_scenario_drive_time(scn->links[l].length_m, scn->links[l].free_speed_mps);
    return r;
}

void sim_router_destroy(sim_router_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    sim_router_t *r = *self_p;
    free(r->cost);
    free(r->pred);
    free(r->path);
    free(r->heap);
    free(r->link_t);
    free(r->settled);
    free(r);
    *self_p = NULL;
}

static inline int less(const item_t *a, const item_t *b) {
    return a->cost < b->cost || (a->cost == b->cost && a->link < b->link);
}

static void heap_push(sim_router_t *r, item_t it) {
    /* Each movement relaxes at most once per improvement; cap bounds pushes per search
     * because every push follows a strict improvement of some link's cost through a
     * distinct movement, and the origin is pushed once. */
    size_t i = r->len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!less(&it, &r->heap[p]))
            break;
        r->heap[i] = r->heap[p];
        i = p;
    }
    r->heap[i] = it;
}

static item_t heap_pop(sim_router_t *r) {
    item_t top = r->heap[0];
    item_t last = r->heap[--r->len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->len)
            break;
        if (c + 1 < r->len && less(&r->heap[c + 1], &r->heap[c]))
            c++;
        if (!less(&r->heap[c], &last))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (r->len > 0)
        r->heap[i] = last;
    return top;
}

/* Starts a search from origin; settle() then advances it lazily. */
static void search_start(sim_router_t *r, int32_t origin) {
    const sim_scenario_t *scn = r->scn;
    for (int32_t l = 0; l < scn->n_links; l++) {
        r->cost[l] = SIM_TIME_MAX;
        r->pred[l] = -1;
        r->settled[l] = 0;
    }
    r->cost[origin] = r->link_t[origin];
    r->len = 0;
    heap_push(r, (item_t){r->cost[origin], origin});
    r->origin = origin;
}

/* Runs Dijkstra until target is settled (its cost final) or the heap is empty. Settled links
 * keep their cost and predecessor, so later targets from the same origin resume the search. */
static void settle(sim_router_t *r, int32_t target) {
    const sim_scenario_t *scn = r->scn;
    while (!r->settled[target] && r->len > 0) {
        item_t it = heap_pop(r);
        if (r->settled[it.link] || it.cost != r->cost[it.link])
            continue; /* stale */
        r->settled[it.link] = 1;
        const sim_link_t *lk = &scn->links[it.link];
        for (int32_t i = 0; i < lk->out_count; i++) {
            int32_t m = scn->link_out[lk->out_first + i];
            int32_t to = scn->movements[m].to;
            sim_time_t c = it.cost +
                           sim_scenario_crossing_time(scn, m, scn->links[to].free_speed_mps) +
                           r->link_t[to];
            if (c < r->cost[to]) {
                r->cost[to] = c;
                r->pred[to] = it.link;
                heap_push(r, (item_t){c, to});
            }
        }
    }
}

/* Appends the leg a -> b to route (skipping a when route already ends with it). */
static int leg(sim_router_t *r, int32_t a, int32_t b, int32_t **buf, int32_t *len, int32_t *cap,
               base_err_t *err) {
    if (r->origin != a)
        search_start(r, a);
    settle(r, b);
    if (!r->settled[b])
        return base_err_set(err, BASE_EINVAL, "no path from link \"%s\" to link \"%s\"",
                            r->scn->links[a].id, r->scn->links[b].id);
    int32_t n = 0;
    for (int32_t l = b; l != -1; l = r->pred[l])
        r->path[n++] = l;
    int32_t skip = (*len > 0) ? 1 : 0;
    if (*len + n > *cap) {
        int32_t nc = (*cap + n) * 2;
        int32_t *nb = realloc(*buf, (size_t)nc * sizeof *nb);
        if (nb == NULL)
            return base_err_set(err, BASE_ENOMEM, "out of memory routing");
        *buf = nb;
        *cap = nc;
    }
    for (int32_t i = n - 1 - skip; i >= 0; i--)
        (*buf)[(*len)++] = r->path[i];
    return BASE_OK;
}

int sim_router_route(sim_router_t *r, int32_t origin, const int32_t *via, int32_t n_via,
                     int32_t destination, base_arena_t *arena, sim_route_t *out, base_err_t *err) {
    int32_t *buf = NULL;
    int32_t len = 0, cap = 0;
    int32_t from = origin;
    int rc = BASE_OK;
    for (int32_t i = 0; i <= n_via && rc == BASE_OK; i++) {
        int32_t to = i < n_via ? via[i] : destination;
        rc = leg(r, from, to, &buf, &len, &cap, err);
        from = to;
    }
    if (rc == BASE_OK) {
        out->links = base_arena_calloc(arena, (size_t)len, sizeof *out->links);
        if (out->links == NULL) {
            rc = base_err_set(err, BASE_ENOMEM, "out of memory routing");
        } else {
            for (int32_t i = 0; i < len; i++)
                out->links[i] = buf[i];
            out->n_links = len;
        }
    }
    free(buf);
    return rc;
}

/* qsort has no context argument in C11; sort the (origin, index) pairs instead. */
typedef struct {
    int32_t origin, index;
} pair_t;

static int cmp_pair(const void *a, const void *b) {
    const pair_t *x = a;
    const pair_t *y = b;
    if (x->origin != y->origin)
        return x->origin < y->origin ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

int sim_scenario_route_all(sim_scenario_t *scn, char *bad_kind, int32_t *bad_index,
                           base_err_t *err) {
    sim_router_t *r = sim_router_new(scn);
    if (r == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory routing");
    int rc = BASE_OK;
    /* Flows and trips are routed grouped by origin: one search per distinct origin. */
    pair_t *order = NULL;
    if (scn->n_flows > 0) {
        order = malloc((size_t)scn->n_flows * sizeof *order);
        if (order == NULL)
            rc = base_err_set(err, BASE_ENOMEM, "out of memory routing");
    }
    if (rc == BASE_OK && order != NULL) {
        for (int32_t i = 0; i < scn->n_flows; i++)
            order[i] = (pair_t){scn->flows[i].origin, i};
        qsort(order, (size_t)scn->n_flows, sizeof *order, cmp_pair);
        for (int32_t i = 0; i < scn->n_flows && rc == BASE_OK; i++) {
            sim_flow_t *fl = &scn->flows[order[i].index];
            rc = sim_router_route(r, fl->origin, fl->via, fl->n_via, fl->destination, &scn->arena,
                                  &fl->route, err);
            if (rc < 0) {
                *bad_kind = 'f';
                *bad_index = order[i].index;
            }
        }
    }
    free(order);
    order = NULL;
    if (rc == BASE_OK && scn->n_trips > 0) {
        order = malloc((size_t)scn->n_trips * sizeof *order);
        if (order == NULL)
            rc = base_err_set(err, BASE_ENOMEM, "out of memory routing");
    }
    if (rc == BASE_OK && order != NULL) {
        for (int32_t i = 0; i < scn->n_trips; i++)
            order[i] = (pair_t){scn->trips[i].origin, i};
        qsort(order, (size_t)scn->n_trips, sizeof *order, cmp_pair);
        for (int32_t i = 0; i < scn->n_trips && rc == BASE_OK; i++) {
            sim_trip_t *t = &scn->trips[order[i].index];
            if (t->route.n_links > 0)
                continue; /* given in the scenario */
            rc = sim_router_route(r, t->origin, NULL, 0, t->destination, &scn->arena, &t->route,
                                  err);
            if (rc < 0) {
                *bad_kind = 't';
                *bad_index = t->seq;
            }
        }
    }
    free(order);
    sim_router_destroy(&r);
    return rc;
}
