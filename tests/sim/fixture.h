/*
 * tests/sim/fixture.h - small scenarios for the sim/ suites, built as JSON text so that they
 * go through the real loader.
 *
 * The cross: boundary W -> link "in_w" -> signalized node "X" -> link "out_e" -> boundary E,
 * and boundary N -> "in_n" -> X -> "out_s" -> boundary S. Movements "m_we" (group "G1") and
 * "m_ns" (group "G2"), conflicting; stages s1 = {G1}, s2 = {G2}; one plan. A stop-line
 * detector "d_w" and an advance detector "a_w" (60 m) on in_w. The east leg can be split by an
 * unsignalized node "Y" with a slow movement (a bottleneck) to make queues spill back.
 */
#ifndef TESTS_SIM_FIXTURE_H
#define TESTS_SIM_FIXTURE_H

#include "sim/sim.h"

typedef struct fixture_opts {
    double in_len_m, out_len_m; /* default 500, 500 */
    int lanes;                  /* default 2 */
    double sat_flow_vphpl;      /* default 1800 */
    double cycle_s, offset_s;   /* default 100, 0 */
    double split1_s;            /* stage s1's split; s2 gets the rest; default cycle/2 */
    double yellow_s, red_s;     /* default 3, 2 */
    double min_green_s;         /* default 5 */
    const char *start_time;     /* default "00:00:00" */
    const char *demand;         /* JSON object text for "demand", or NULL */
    const char *escorts;        /* JSON array text for "escorts", or NULL */
    const char *model;          /* JSON object text for "model", or NULL */
    const char *classes;        /* JSON array text for "vehicle_classes", or NULL */
    double bottleneck_vphpl;    /* > 0: split out_e at node Y with this saturation flow */
    double bottleneck_len_m;    /* length of out_e's first part when split; default 30 */
    const char *extra_plans;    /* text appended inside "plans" (", {...}"), or NULL */
    const char *schedule;       /* JSON array text for "schedule", or NULL (00:00 -> p1) */
    const char *crossing; /* fields appended to movement m_we (",\"crossing_...\":..."), or NULL */
} fixture_opts_t;

/* Returns the cross scenario as JSON text (caller frees). */
char *fixture_cross_json(const fixture_opts_t *o);

/* Loads fixture_cross_json(o); fails the test on a load error. Caller destroys. */
sim_scenario_t *fixture_cross(const fixture_opts_t *o);

/* Index of a link / movement / detector by id, or -1. */
int32_t fixture_link(const sim_scenario_t *scn, const char *id);
int32_t fixture_movement(const sim_scenario_t *scn, const char *id);
int32_t fixture_detector(const sim_scenario_t *scn, const char *id);

/* A recorder of observer callbacks, for assertions. */
typedef struct fixture_change {
    sim_time_t t;
    int32_t signal, group;
    sim_signal_state_t state;
} fixture_change_t;

typedef struct fixture_rec {
    fixture_change_t *changes;
    int n_changes, cap_changes;
    sim_trip_record_t *trips;
    int n_trips, cap_trips;
    sim_escort_record_t *esc;
    int n_esc, cap_esc;
} fixture_rec_t;

/* Returns an observer that appends to rec. */
sim_observer_t fixture_recorder(fixture_rec_t *rec);
void fixture_rec_free(fixture_rec_t *rec);

/* Asserts over the recorded changes of the cross's signal that G1 and G2 (conflicting) are
 * never both not red, and that each group goes green -> yellow -> red -> green. */
void fixture_assert_safe(const fixture_rec_t *rec);

#endif
