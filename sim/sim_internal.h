/*
 * sim/sim_internal.h - the sim_t structure and the sim__* functions shared by the sources of sim/.
 * Included only by sim/ sources; other folders use sim/sim.h.
 */
#ifndef SIM_SIM_INTERNAL_H
#define SIM_SIM_INTERNAL_H

#include "sim/event_queue.h"
#include "sim/sim.h"

#include <gsl/gsl_rng.h>
#include <stdint.h>

enum {
    SIM__EV_LINK_END = 1,
    SIM__EV_DISCHARGE,
    SIM__EV_SIGNAL,
    SIM__EV_FLOW,
    SIM__EV_TRIP,
    SIM__EV_ESCORT,
};

typedef struct sim__vehicle {
    int64_t id;
    const sim_route_t *route;
    const char *source;
    sim_time_t depart;          /* wanted to enter */
    sim_time_t entered;         /* entered the network */
    sim_time_t link_enter;      /* entered its current link */
    sim_time_t stopline_arrive; /* reached its current stop line */
    sim_time_t free_time;
    double max_speed_mps;
    double speed_mps;       /* on its current link: length / time to its end */
    double cruise_mps;      /* the speed it cruises at on its current link (density, class) */
    sim_time_t stopline_at; /* reaches the end of its link (while moving) */
    int32_t pos;            /* index in route of its link */
    int32_t link;           /* current link */
    int32_t next;           /* next in its queue or free list, or -1 */
    int32_t vclass;
    int32_t escort; /* escort index or -1 */
    int32_t pce_milli;
    int32_t stops;
    uint8_t alive;
    uint8_t in_network;
    uint8_t queued;
} sim__vehicle_t;

typedef struct sim__link_state {
    int64_t cap_milli;    /* storage, milli-pce */
    int64_t occ_milli;    /* on the link, milli-pce */
    int64_t moving_milli; /* travelling (not queued), milli-pce */
    int64_t queued_milli; /* standing at the stop line, milli-pce */
    int32_t n_vehicles;
    int32_t n_queued;
    int32_t wait_head, wait_tail; /* vehicles waiting to enter the network here */
    int32_t lane_first;           /* its lanes' entries in sim->lane_last */
} sim__link_state_t;

typedef struct sim__move_state {
    int32_t head, tail, n; /* the queue at the stop line */
    sim_time_t next_free;  /* earliest time the next vehicle may cross */
    double headway_ms;     /* saturation headway per pce */
    uint8_t pending;       /* an EV_DISCHARGE is scheduled */
    uint8_t blocked;       /* waiting for room on the next link */
} sim__move_state_t;

typedef enum { SIM__PHASE_GREEN, SIM__PHASE_CHANGE } sim__phase_t;

typedef struct sim__signal_state {
    int32_t plan;
    int32_t stage;
    sim__phase_t phase;
    sim_time_t stage_start;      /* when the current stage's green began */
    sim_time_t green_end;        /* PHASE_GREEN: when the green ends */
    sim_time_t next_stage_start; /* PHASE_CHANGE: when the next stage's green starts */
    int32_t next_stage;
    int64_t gen;              /* generation of the pending EV_SIGNAL; older ones are stale */
    uint8_t *group_state;     /* sim_signal_state_t per group */
    sim_time_t *group_red_at; /* YELLOW groups: when they turn red */
    sim_time_t *group_green_since;
    /* Control by a controller (sim/control.c). */
    uint8_t external;      /* under the controller's commands */
    uint8_t hold;          /* the current stage is held green */
    uint8_t hold_next;     /* hold the called stage once it is green */
    uint8_t preempt;       /* preemptIsActive (else signalPriorityIsActive when external) */
    uint8_t transitioning; /* returning to coordination after a release */
    uint8_t transition;    /* sim_transition_t of the running transition */
    int32_t called_stage;  /* stage to serve next, or -1 */
    sim_time_t delta;      /* offset correction still to absorb (transition), ms */
    sim_time_t released_at, recovered_at; /* last release and return to coordination, or -1 */
    sim_time_t recovery_max;              /* longest release -> coordination seen, ms */
} sim__signal_state_t;

typedef struct sim__escort_state {
    int state; /* 0 waiting, 1 travelling, 2 arrived */
    sim_time_t depart, arrive;
    int32_t stops;
    int32_t route_pos;
    int32_t slot;                /* its vehicle slot while travelling, else -1 */
    sim_escort_record_t pending; /* the stop line it is at, if queued */
} sim__escort_state_t;

struct sim {
    const sim_scenario_t *scn;
    uint64_t seed;
    sim_time_t now;
    sim_event_queue_t queue;
    sim_observer_t obs;
    base_err_t err;
    sim_stats_t stats;

    sim__vehicle_t *vehicles;
    int32_t vehicle_cap;
    int32_t free_vehicle;
    int64_t next_vehicle_id;

    sim__link_state_t *links;
    sim_time_t *lane_last; /* per lane of each link: when its last vehicle reaches the end */
    sim__move_state_t *moves;
    sim__signal_state_t *signals;
    sim__escort_state_t *escorts;
    gsl_rng **flow_rng;

    sim_safety_t safety;

    int32_t *det_first; /* detectors of link l: det_by_link[det_first[l] .. det_first[l+1]) */
    int32_t *det_by_link;
    int64_t *det_count;

    /* Change marks (sim_track_changes()): bit sets over signals and detectors, or NULL. */
    uint64_t *changed_sig, *changed_det;
};

/* Marks signal s as possibly changed (a no-op unless changes are tracked). */
static inline void sim__mark_signal(sim_t *sim, int32_t s) {
    if (sim->changed_sig != NULL)
        sim->changed_sig[s >> 6] |= UINT64_C(1) << (s & 63);
}

/* Marks the detectors of link l as possibly changed (their count or occupancy). */
static inline void sim__mark_link(sim_t *sim, int32_t l) {
    if (sim->changed_det == NULL)
        return;
    for (int32_t i = sim->det_first[l]; i < sim->det_first[l + 1]; i++) {
        int32_t d = sim->det_by_link[i];
        sim->changed_det[d >> 6] |= UINT64_C(1) << (d & 63);
    }
}

/* Schedules an event; returns 0 or BASE_ENOMEM (also stored in sim->err). */
int sim__schedule(sim_t *sim, sim_time_t t, int32_t type, int32_t a, int64_t b);

/* Signal control (sim/signal_control.c). */
int sim__signals_init(sim_t *sim);
void sim__signals_fini(sim_t *sim);
void sim__signal_step(sim_t *sim, int32_t s, int64_t gen);

/* Called by signal control after group g of signal s changed to state (now). */
void sim__group_changed(sim_t *sim, int32_t s, int32_t g, sim_signal_state_t state);

/* Recomputes the end of the current green and reschedules the signal (sim/signal_control.c);
 * used after a command changed its state. */
void sim__signal_replan(sim_t *sim, int32_t s);

/* Releases signal s to its local plan, returning to coordination by mode. */
void sim__signal_release(sim_t *sim, int32_t s, sim_transition_t mode);

/* Runs the signal's due transitions now (as its event would). */
void sim__signal_kick(sim_t *sim, int32_t s);

/* Earliest time the current stage's green may end (its minimum green), ms. */
sim_time_t sim__stage_min_end(const sim_t *sim, int32_t s);

/* Seed of the random stream of a source, from the run seed and the source's id. */
uint64_t sim__stream_seed(uint64_t run_seed, uint64_t source);

#endif
