/*
 * sim/limits.h - the physical range of every number a scenario may hold. The scenario loader
 * (scenarios/loader.c, which also reads a controller's hello map) refuses anything outside,
 * naming the JSON path and the range; docs/scenario-format.md lists the same table.
 *
 * Why these bounds make the simulator's integer time arithmetic safe by construction (all
 * times are int64_t milliseconds, INT64_MAX ~ 9.22e18; the full argument is in docs/model.md,
 * "Numeric bounds and overflow"):
 *   - every time or duration read is <= SIM_LIM_TIME_S (8.64e8 ms), a cycle or split <= 3.6e6
 *     ms, so a sum of all splits of one plan (<= 64 stages) is <= 2.3e8 ms;
 *   - a link's drive time is length / speed <= 1e5 m / (1 km/h x SIM_LIM_SPEED_FRACTION_MIN)
 *     = 3.6e10 ms; a route has at most SIM_LIM_COUNT (1e7) links, so a route's free-flow time
 *     is <= 1e7 x 3.6e8 = 3.6e15 ms;
 *   - a junction crossing is <= 1000 m (SIM_LIM_CROSSING_M_MAX) at >= 1 km/h x the minimum
 *     speed fraction, <= 3.6e8 ms, and its speed-change losses are <= v/(2a) + v/(2b) <= 834
 *     s, so a link plus its crossing stays within the drive-time bound's order;
 *   - a departure queue headway is 3600 / (sat_flow x sat_factor) s <= 720 s, times a PCE
 *     <= 20;
 * so every sum the simulator forms (now + a drive time, a route's free time, a stage start
 * plus its split, a time of day plus now) stays below 1e16, a margin of ~900x under
 * INT64_MAX, and every double -> int64 conversion (sim_time_from_s) is of a finite value
 * below 1e16. Thread-safe: constants only.
 */
#ifndef SIM_LIMITS_H
#define SIM_LIMITS_H

#define SIM_LIM_TIME_S             864000.0 /* any time or duration: 10 days */
#define SIM_LIM_CYCLE_S            3600.0   /* cycle_s, each of splits_s */
#define SIM_LIM_GREEN_S            3600.0   /* min_green_s, max_green_s */
#define SIM_LIM_CHANGE_S           60.0     /* yellow_s, red_clearance_s */
#define SIM_LIM_LOST_S             60.0     /* startup_lost_time_s */
#define SIM_LIM_STOP_WAIT_S        600.0    /* stop_wait_s */
#define SIM_LIM_INTERVAL_S_MIN     1.0      /* demand interval_s */
#define SIM_LIM_INTERVAL_S_MAX     86400.0
#define SIM_LIM_SPEED_KMH_MIN      1.0 /* free_speed_kmh, desired_speed_kmh, max_speed_kmh */
#define SIM_LIM_SPEED_KMH_MAX      300.0
#define SIM_LIM_SPEED_FRACTION_MIN 0.01 /* model.min_speed_fraction */
#define SIM_LIM_LENGTH_M_MIN       0.1  /* link length_m */
#define SIM_LIM_LENGTH_M_MAX       100000.0
#define SIM_LIM_CROSSING_M_MAX     1000.0 /* movement crossing_length_m, in [0, this] */
#define SIM_LIM_COORD_M            1e7    /* |x_m|, |y_m| */
#define SIM_LIM_LANES              16
#define SIM_LIM_SAT_FLOW_MIN       100.0 /* sat_flow_vphpl */
#define SIM_LIM_SAT_FLOW_MAX       4000.0
#define SIM_LIM_SAT_FACTOR_MIN     0.05 /* movement sat_factor (max 1) */
#define SIM_LIM_JAM_SPACING_M_MIN  1.0  /* jam_spacing_m */
#define SIM_LIM_JAM_SPACING_M_MAX  50.0
#define SIM_LIM_ACCEL_MIN          0.1 /* accel_mps2, decel_mps2 of a vehicle class */
#define SIM_LIM_ACCEL_MAX          20.0
#define SIM_LIM_PCE_MIN            0.1
#define SIM_LIM_PCE_MAX            20.0
#define SIM_LIM_FLOW_VPH           20000.0  /* each vph entry of a flow */
#define SIM_LIM_COUNT              10000000 /* entries of any array: nodes, links, trips, ... */
#define SIM_LIM_ID_BYTES           63       /* an id, in UTF-8 bytes (the wire's limit) */

#endif
