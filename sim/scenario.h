/*
 * sim/scenario.h - the immutable description of a network, its signals and its demand.
 *
 * A sim_scenario_t is plain data with indices in place of names; scenarios/ fills it from a
 * file and sim_scenario_prepare() derives the adjacency tables and routes. After prepare it is
 * never written again, so any number of simulations (sim_t) may share one scenario, in one
 * thread or many. All memory hangs off the scenario's arena and dies with
 * sim_scenario_destroy(). Units: times in milliseconds (sim_time_t), lengths in metres,
 * speeds in metres per second, flows in vehicles per hour.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include "base/arena.h"
#include "base/err.h"
#include "sim/clock.h"

#include <stdint.h>

#define SIM_MAX_GROUPS 64 /* signal groups per node: stage sets are 64-bit masks */

/* Default acceleration and deceleration of a class, m/s^2: SUMO's passenger-car defaults for
 * its Krauss model (docs/model.md). */
#define SIM_DEFAULT_ACCEL_MPS2 2.6
#define SIM_DEFAULT_DECEL_MPS2 4.5

typedef enum { SIM_NODE_SIGNALIZED, SIM_NODE_UNSIGNALIZED, SIM_NODE_BOUNDARY } sim_node_kind_t;
typedef enum { SIM_TURN_THROUGH, SIM_TURN_LEFT, SIM_TURN_RIGHT, SIM_TURN_UTURN } sim_turn_t;
typedef enum { SIM_DETECTOR_STOP_LINE, SIM_DETECTOR_ADVANCE } sim_detector_kind_t;

typedef struct sim_vclass {
    const char *id;
    double pce;
    double max_speed_mps; /* 0: no cap */
    double accel_mps2;    /* acceleration away from a stop (docs/model.md: stop loss) */
    double decel_mps2;    /* deceleration into a stop */
} sim_vclass_t;

typedef struct sim_node {
    const char *id;
    const char *name;
    sim_node_kind_t kind;
    double x_m, y_m;
    int32_t signal; /* index into signals, or -1 */
} sim_node_t;

typedef struct sim_link {
    const char *id;
    const char *name;
    int32_t from, to; /* node indices */
    double length_m;
    int32_t lanes;
    double free_speed_mps;
    double sat_flow_vphpl;
    double jam_spacing_m;
    /* Derived by prepare: movements leaving (out) and entering (in) this link. */
    int32_t out_first, out_count; /* range in scenario->link_out */
    int32_t in_first, in_count;   /* range in scenario->link_in */
} sim_link_t;

typedef struct sim_movement {
    const char *id;
    int32_t from, to; /* link indices; links[from].to == links[to].from */
    sim_turn_t turn;
    int32_t lanes;
    double sat_factor;
    double crossing_length_m;  /* path through the junction not in either link's length, >= 0 */
    double crossing_speed_mps; /* speed limit through the junction (turn radius); 0: none */
    int32_t node;              /* derived: the node it crosses */
    int32_t signal;            /* derived: signal index, or -1 at a node without signals */
    int32_t group;             /* derived: group index within that signal, or -1 */
} sim_movement_t;

typedef struct sim_signal_group {
    const char *id;
    int32_t *movements;
    int32_t n_movements;
    sim_time_t min_green, max_green, yellow, red_clearance;
} sim_signal_group_t;

typedef struct sim_stage {
    const char *id;
    uint64_t groups; /* bit g set: group g is green in this stage */
} sim_stage_t;

typedef struct sim_plan {
    const char *id;
    sim_time_t cycle, offset;
    sim_time_t *splits; /* one per stage, in stage order; they add up to cycle */
} sim_plan_t;

typedef struct sim_schedule_entry {
    sim_time_t from_tod; /* time of day, ms since midnight */
    int32_t plan;
} sim_schedule_entry_t;

typedef struct sim_signal {
    int32_t node;
    sim_signal_group_t *groups;
    int32_t n_groups;
    uint64_t *conflicts; /* conflicts[g]: mask of the groups that conflict with g */
    sim_stage_t *stages;
    int32_t n_stages;
    sim_plan_t *plans;
    int32_t n_plans;
    sim_schedule_entry_t *schedule;
    int32_t n_schedule;
} sim_signal_t;

typedef struct sim_corridor {
    const char *id;
    const char *name;
    int32_t *links;
    int32_t n_links;
} sim_corridor_t;

typedef struct sim_detector {
    const char *id;
    int32_t link;
    sim_detector_kind_t kind;
    double distance_m; /* upstream of the stop line */
} sim_detector_t;

typedef struct sim_route {
    int32_t *links;
    int32_t n_links;
} sim_route_t;

typedef struct sim_flow {
    const char *id;
    int32_t origin, destination;
    int32_t *via;
    int32_t n_via;
    double *class_cdf; /* n_classes cumulative shares, last = 1 */
    double *vph;       /* per demand interval; the last holds after the end */
    int32_t n_vph;
    sim_route_t route; /* derived by routing */
} sim_flow_t;

typedef struct sim_trip {
    const char *id;
    int32_t seq; /* position in the input, to keep equal departures in input order */
    sim_time_t depart;
    int32_t origin, destination;
    int32_t vclass;
    sim_route_t route;
} sim_trip_t;

typedef struct sim_escort {
    const char *id;
    int32_t vclass;
    sim_route_t route;
    sim_time_t depart;
    double desired_speed_mps;
    double yield_factor;
    int32_t priority; /* J2735 RequestImportanceLevel 1 (lowest) .. 14 (highest) */
} sim_escort_t;

typedef struct sim_model_params {
    sim_time_t startup_lost_time;
    double min_speed_fraction;
    sim_time_t stop_wait;
    int depart_from_rest; /* vehicles enter the network from rest (SUMO's departSpeed 0) */
} sim_model_params_t;

typedef struct sim_scenario {
    base_arena_t arena;
    const char *name;
    const char *description;
    sim_time_t start_tod; /* time of day at simulated time 0 */
    sim_time_t duration;
    sim_model_params_t model;

    sim_vclass_t *classes;
    int32_t n_classes;
    sim_node_t *nodes;
    int32_t n_nodes;
    sim_link_t *links;
    int32_t n_links;
    sim_movement_t *movements;
    int32_t n_movements;
    sim_signal_t *signals;
    int32_t n_signals;
    sim_corridor_t *corridors;
    int32_t n_corridors;
    sim_detector_t *detectors;
    int32_t n_detectors;
    sim_time_t demand_interval;
    sim_flow_t *flows;
    int32_t n_flows;
    sim_trip_t *trips; /* sorted by (depart, index) by prepare */
    int32_t n_trips;
    sim_escort_t *escorts;
    int32_t n_escorts;

    /* Derived by sim_scenario_prepare(). */
    int32_t *link_out; /* movement indices grouped by from-link */
    int32_t *link_in;  /* movement indices grouped by to-link */
    int prepared;
} sim_scenario_t;

/* Returns a new empty scenario with default model parameters, or NULL when out of memory.
 * Caller owns it; destroy with sim_scenario_destroy(). */
sim_scenario_t *sim_scenario_new(void);

/* Frees the scenario and everything in its arena; NULL-safe, sets *self_p to NULL. */
void sim_scenario_destroy(sim_scenario_t **self_p);

/* Returns the index of the class named id, or -1. O(n). */
int32_t sim_scenario_find_class(const sim_scenario_t *scn, const char *id);

/* Derives adjacency (movements per link) and movement-to-signal links, and checks the
 * invariants the simulator relies on (indices in range, movements between links that meet,
 * every movement at a signalized node in exactly one group). Routes are not computed here:
 * see sim/router.h. Returns 0, or a negative code with a message naming the entity in err. */
int sim_scenario_prepare(sim_scenario_t *scn, base_err_t *err);

/* Returns the free-flow time in ms to drive the route at min(free speed, max_speed_mps) on
 * each link (max_speed_mps 0: no cap), plus the crossing time of each movement between two of
 * its links (sim_scenario_crossing_time at that speed on the link it enters); each link's and
 * each crossing's time is rounded to the millisecond, as the simulator does, so an empty
 * network reproduces it exactly (the speed-change losses of a slow crossing are delay, as in
 * SUMO's timeLoss: docs/model.md). Needs a prepared scenario when the route has 2+ links. */
sim_time_t sim_scenario_route_free_time(const sim_scenario_t *scn, const sim_route_t *route,
                                        double max_speed_mps);

/* Returns the index of the movement from link `from` to link `to`, or -1. O(movements leaving
 * from); needs a prepared scenario. */
int32_t sim_scenario_find_movement(const sim_scenario_t *scn, int32_t from, int32_t to);

/* Returns the time in ms to cross movement m's junction (its crossing_length_m) by a vehicle
 * that drives speed_mps on the link it enters: at min(crossing speed, speed_mps), rounded to
 * the millisecond; 0 when the movement has no crossing length. */
sim_time_t sim_scenario_crossing_time(const sim_scenario_t *scn, int32_t m, double speed_mps);

/* Returns the time in ms to drive length_m at speed_mps, rounded to the millisecond. */
sim_time_t sim_scenario_drive_time(double length_m, double speed_mps);

/* Returns the time in s a vehicle loses accelerating from rest to speed_mps at accel_mps2
 * over a link of length_m, against crossing it at speed_mps: v/(2a) when the link is long
 * enough to reach v (v^2/(2a) <= length), else sqrt(2 length/a) - length/v. 0 for
 * non-positive arguments. */
double sim_scenario_accel_loss_s(double length_m, double speed_mps, double accel_mps2);

/* Returns the time in s a vehicle loses braking from speed_mps to rest at decel_mps2, against
 * driving on at speed_mps to the same point: v/(2b). 0 for non-positive arguments. */
double sim_scenario_decel_loss_s(double speed_mps, double decel_mps2);

/* Returns the time in s a vehicle loses accelerating from from_mps to to_mps at accel_mps2 over
 * length_m, against driving it at to_mps: (w - u)^2 / (2 a w) when the stretch is long enough
 * to reach w = to_mps (sim_scenario_accel_loss_s is the case u = 0), else the time to cover
 * the stretch still accelerating minus length/w. 0 when to_mps <= from_mps or an argument is
 * out of range. */
double sim_scenario_speedup_loss_s(double length_m, double from_mps, double to_mps,
                                   double accel_mps2);

/* Returns the time in s a vehicle loses braking from from_mps to to_mps at decel_mps2, against
 * driving that stretch at from_mps: (v - u)^2 / (2 b v). 0 when to_mps >= from_mps or an
 * argument is out of range. */
double sim_scenario_slowdown_loss_s(double from_mps, double to_mps, double decel_mps2);

/* Returns the intergreen (ms) between stage k and the next stage of the signal's sequence:
 * the longest yellow + red clearance of the groups that end with stage k, or 0. */
sim_time_t sim_scenario_intergreen(const sim_signal_t *sig, int32_t k);

#endif
