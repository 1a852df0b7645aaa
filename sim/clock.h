/*
 * sim/clock.h - simulated time. Time is an int64_t count of milliseconds since the start of
 * the run (simulated time 0 is the scenario's start_time of day). Never accumulate floats
 * into a time: convert once, with sim_time_from_s(), which rounds to the nearest millisecond.
 */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdint.h>

typedef int64_t sim_time_t;

#define SIM_TIME_MAX   INT64_MAX
#define SIM_MS_PER_S   1000
#define SIM_MS_PER_DAY ((sim_time_t)86400000)

/* Converts seconds to milliseconds, rounding half away from zero. */
static inline sim_time_t sim_time_from_s(double s) {
    return (sim_time_t)(s >= 0 ? s * 1000.0 + 0.5 : s * 1000.0 - 0.5);
}

/* Converts milliseconds to seconds. */
static inline double sim_time_to_s(sim_time_t t) {
    return (double)t / 1000.0;
}

#endif
