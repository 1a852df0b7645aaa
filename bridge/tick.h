/*
 * bridge/tick.h - what a simulator tells its controller, and how it obeys: builds the tick of
 * a sim_t (SPaT, detectors, the on-board units' SRMs) and applies a control's commands
 * through the conflict monitor. No sockets: bridge.c sends what this builds, and in-process
 * tests (the controller's closed loop) use the very same code.
 *
 * The on-board units keep per-escort state (which intersections were requested, so an update
 * follows a request and a passed one is cancelled once) in a bridge_obu_t, owned by the caller.
 * Tick contents are allocated from the caller's arena. Not thread-safe: one bridge_obu_t per sim.
 */
#ifndef BRIDGE_TICK_H
#define BRIDGE_TICK_H

#include "base/arena.h"
#include "base/err.h"
#include "proto/msg.h"
#include "sim/sim.h"

typedef struct bridge_obu bridge_obu_t;

/* Returns the on-board units of scn's escorts and buses, or NULL when out of memory. */
bridge_obu_t *bridge_obu_new(const sim_scenario_t *scn);

/* Frees them; NULL-safe, sets *self_p to NULL. */
void bridge_obu_destroy(bridge_obu_t **self_p);

/* Fills *out (zeroed first) with the tick of sim now: every signal's SPaT, every detector,
 * the SRM of each travelling escort (every signalized intersection ahead with its ETA at the
 * desired speed; a passed one cancelled once) and of each bus (its next intersection).
 * Returns 0 or BASE_ENOMEM. The tick points into arena and into the scenario. */
int bridge_tick_build(const sim_t *sim, bridge_obu_t *obu, base_arena_t *arena, proto_tick_t *out);

/* The two halves of bridge_tick_build(), for event synchronisation: the SRMs alone (of the
 * escorts when escorts, of the buses when transit; the on-board units' state moves on only
 * for the vehicles built), and the SPaT and detectors alone. Each sets out->time_ms and
 * fills only its own members. Return 0 or BASE_ENOMEM. */
int bridge_tick_build_srms(const sim_t *sim, bridge_obu_t *obu, base_arena_t *arena, int escorts,
                           int transit, proto_tick_t *out);
int bridge_tick_build_state(const sim_t *sim, base_arena_t *arena, proto_tick_t *out);

/* Signal s's SPaT entry now into *is, its groups into groups (room for the signal's). */
void bridge_tick_signal(const sim_t *sim, int32_t s, proto_intersection_state_t *is,
                        proto_group_state_t *groups);

/* Maps one command (names) onto the simulator's indices and applies it through
 * sim_command(). Returns 0, or BASE_EINVAL with the reason in why when the conflict monitor
 * refuses it or it names no such intersection or stage (counted in sim_safety()). */
int bridge_command_apply(sim_t *sim, const proto_command_t *pc, base_err_t *why);

/* The same, with the command's intersection already resolved to signal (its index, or -1 for
 * a node without signals), for a caller that keeps an index of the node ids. */
int bridge_command_apply_at(sim_t *sim, const proto_command_t *pc, int32_t signal, base_err_t *why);

#endif
