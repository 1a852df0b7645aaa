/*
 * viz/map.h - the visualiser's picture of the network: the "map" message (a scenario document
 * without demand) read into flat arrays with the geometry the drawing needs precomputed.
 *
 * The map is read leniently (the simulator has already validated the scenario): only what is
 * drawn is read, unknown fields are ignored, and a reference to an unknown id is an error with
 * its JSON path. Signal groups are numbered in map order (signals, then their groups), the order
 * of a frame's group states; signals in map order are the order of a frame's priority states.
 *
 * Geometry, in world metres (x east, y north): a directed link is drawn on the right of the
 * line between its nodes (right-hand traffic) when its reverse link exists, centred otherwise,
 * shortened at each end by the node's setback (half the widest road meeting there), so stop
 * lines sit at the edge of the junction. A position along a link (pos_m of length_m) maps
 * proportionally onto the drawn segment. Lane 0 is the rightmost lane. A link with a `shape`
 * (imported networks: the centre line of its lanes, already ending at the junctions' edges) is
 * drawn along that polyline instead, its lanes centred on it, with no setback; a position maps
 * proportionally onto the polyline's length, heading along the segment it falls on.
 *
 * Everything lives in one arena owned by the viz_map_t. SDL-free; not thread-safe.
 */
#ifndef VIZ_MAP_H
#define VIZ_MAP_H

#include "base/arena.h"
#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

#define VIZ_LANE_W_M 3.5 /* drawn lane width */

enum { VIZ_NODE_SIGNALIZED, VIZ_NODE_UNSIGNALIZED, VIZ_NODE_BOUNDARY };
enum { VIZ_TURN_THROUGH, VIZ_TURN_LEFT, VIZ_TURN_RIGHT, VIZ_TURN_UTURN };

typedef struct viz_node {
    const char *id, *name;
    int kind;
    double x, y;
    double setback_m; /* distance from the node centre to the stop lines */
    int32_t signal;   /* index in signals, or -1 */
} viz_node_t;

typedef struct viz_link {
    const char *id, *name;
    int32_t from, to;
    double length_m;
    int lanes;
    double free_speed_kmh;
    /* Drawn geometry: the axis runs from (ax, ay) to (bx, by); (ux, uy) is the unit direction,
     * (nx, ny) the unit normal to the right; lanes span offsets [off0, off0 + lanes * W]. */
    double ax, ay, bx, by, ux, uy, nx, ny, draw_len, off0;
    /* Polyline geometry when the map gives a shape (n_shape >= 2; else 0): points (x, y) and
     * the distance along the polyline at each point; draw_len is its total length. */
    double *shape_xy, *shape_cum;
    int n_shape;
} viz_link_t;

typedef struct viz_movement {
    const char *id;
    int32_t from, to; /* links */
    int turn;
    int32_t group; /* flat group index, or -1 (unsignalized) */
} viz_movement_t;

typedef struct viz_group {
    const char *id;
    int32_t signal;
} viz_group_t;

/* A signal head: one per (group, approach link) pair, at the stop line. */
typedef struct viz_head {
    int32_t group, link;
    double x, y;
} viz_head_t;

typedef struct viz_stage {
    const char *id;
    int32_t *groups; /* flat group indices */
    int n_groups;
} viz_stage_t;

typedef struct viz_plan {
    const char *id;
    double cycle_s, offset_s;
    double *splits_s; /* one per stage */
    int n_splits;
} viz_plan_t;

typedef struct viz_signal {
    int32_t node;
    int32_t first_group, n_groups; /* flat group range */
    viz_stage_t *stages;
    int n_stages;
    viz_plan_t *plans;
    int n_plans;
    int32_t *sched_from_s; /* time-of-day table: start of day second, plan index */
    int32_t *sched_plan;
    int n_sched;
} viz_signal_t;

typedef struct viz_corridor {
    const char *id, *name;
    int32_t *links;
    int n_links;
} viz_corridor_t;

typedef struct viz_escort {
    const char *id;
    int32_t *route;
    int n_route;
} viz_escort_t;

typedef struct viz_map {
    base_arena_t arena;
    const char *name;
    int64_t start_tod_ms; /* time of day at simulated time 0 */
    viz_node_t *nodes;
    int32_t n_nodes;
    viz_link_t *links;
    int32_t n_links;
    viz_movement_t *movements;
    int32_t n_movements;
    viz_signal_t *signals;
    int32_t n_signals;
    viz_group_t *groups;
    int32_t n_groups;
    viz_head_t *heads;
    int32_t n_heads;
    viz_corridor_t *corridors;
    int32_t n_corridors;
    viz_escort_t *escorts;
    int32_t n_escorts;
    const char **classes; /* vehicle class ids, frame vclass indexes them */
    int32_t n_classes;
    double min_x, min_y, max_x, max_y; /* bounding box of the drawn network */
} viz_map_t;

/* Reads a map from JSON text. Returns a new map, or NULL with BASE_EPARSE (syntax, with line
 * and column), BASE_EINVAL (a missing field or unknown reference, with its path) or
 * BASE_ENOMEM in err. The caller owns the map (viz_map_destroy). */
viz_map_t *viz_map_new(const char *json, base_err_t *err);

/* Frees the map; NULL-safe; sets *map_p to NULL. */
void viz_map_destroy(viz_map_t **map_p);

/* Index of the link, corridor, class or signal-group id; -1 if there is none. O(n). */
int32_t viz_map_link_index(const viz_map_t *map, const char *id);
int32_t viz_map_corridor_index(const viz_map_t *map, const char *id);
int32_t viz_map_class_index(const viz_map_t *map, const char *id);
int32_t viz_map_group_index(const viz_map_t *map, const char *id);

/* World position and unit heading of a point pos_m along link, in lane (clamped to the link's
 * lanes; pos clamped to [0, length]). Returns 0, or BASE_ERANGE for a link out of range. */
int viz_map_link_point(const viz_map_t *map, int32_t link, double pos_m, int lane, double *x,
                       double *y, double *ux, double *uy);

/* The k-th straight piece of the drawn link (0 <= k < viz_map_link_pieces(link)), as a link
 * whose axis is that piece (same lanes and off0): the renderer draws bands piece by piece. */
int viz_map_link_pieces(const viz_link_t *l);
viz_link_t viz_map_link_piece(const viz_link_t *l, int k);

/* The movement from link `from` to link `to`, or -1. */
int32_t viz_map_movement_between(const viz_map_t *map, int32_t from, int32_t to);

/* The links of the escort's route to highlight: the corridor "escort_route" if the map has
 * one, else the first escort's route. Sets *links (map-owned) and returns their count (0 if
 * neither exists). */
int viz_map_escort_route(const viz_map_t *map, const int32_t **links);

/* The plan of signal s in force at time of day tod_s (seconds of day), or NULL. */
const viz_plan_t *viz_map_plan_at(const viz_map_t *map, int32_t s, double tod_s);

#endif
