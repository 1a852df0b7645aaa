/*
 * sim/router.h - fastest paths at free speed over the link graph of a prepared scenario.
 *
 * The graph's vertices are links and its edges are movements; the cost of a path is the sum
 * of its links' free-flow times, so a route from origin to destination includes both. One
 * Dijkstra search from an origin serves every destination from it: the router keeps the
 * (partial, resumable) search of the last origin, so callers that group queries by origin pay one
 * search per origin. Ties are broken by link index, so routes are deterministic. Not thread-safe:
 * one router per thread.
 */
#ifndef SIM_ROUTER_H
#define SIM_ROUTER_H

#include "sim/scenario.h"

typedef struct sim_router sim_router_t;

/* Returns a router over a prepared scenario (borrowed; it must outlive the router), or NULL
 * when out of memory. */
sim_router_t *sim_router_new(const sim_scenario_t *scn);

/* Frees the router; NULL-safe, sets *self_p to NULL. */
void sim_router_destroy(sim_router_t **self_p);

/* Finds the fastest route origin -> via[0] -> ... -> destination and stores it in *out,
 * allocated from arena. Returns 0, BASE_EINVAL when some leg has no path (err names the
 * leg's two links), or BASE_ENOMEM. */
int sim_router_route(sim_router_t *r, int32_t origin, const int32_t *via, int32_t n_via,
                     int32_t destination, base_arena_t *arena, sim_route_t *out, base_err_t *err);

#endif
