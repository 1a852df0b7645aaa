/*
 * import/sumo_tls.h - one SUMO traffic-light program (tlLogic) as greenwave signal groups,
 * stages and one fixed-time plan.
 *
 * SUMO describes a program as a cycle of phases, each a duration and a state string with one
 * character per controlled link (G green with priority, g green that yields, y yellow, r red,
 * ...). greenwave runs stage chains over signal groups (docs/scenario-format.md). The mapping:
 * - a movement's pattern is the state of its (first) link through the phases; movements with the
 *   same pattern (green in the same phases) form one signal group;
 * - a phase in which some group is green and none shows yellow is a stage phase; consecutive stage
 *   phases with the same green set are one stage; every other phase (yellow, all-red, red-yellow)
 *   is intergreen and belongs to the stage before it, so a stage's split runs from the start of
 *   its green to the start of the next stage's green, as greenwave's splits do;
 * - a group that ends with a stage gets yellow_s = the time it shows yellow in the intergreen that
 *   follows, red_clearance_s = the rest of that intergreen (the largest over its ends);
 * - min/max green come from the phases' minDur/maxDur (actuated programs); a static program gets
 *   min = min(green, 5 s), max = max(green, 60 s), as greenwave-gen-grid does;
 * - two groups never green together in a stage conflict (the conflict monitor's table).
 * Pure computation, no I/O; the result is owned by the caller (import_sumo_tls_fini).
 */
#ifndef IMPORT_SUMO_TLS_H
#define IMPORT_SUMO_TLS_H

#include "base/err.h"

#include <stdint.h>

#define IMPORT_TLS_MAX_GROUPS   64 /* greenwave's limit per node (stage sets are 64-bit masks) */
#define IMPORT_TLS_MIN_GREEN_MS 5000
#define IMPORT_TLS_MAX_GREEN_MS 60000

typedef struct import_sumo_phase {
    int64_t dur_ms;
    int64_t min_ms, max_ms; /* -1 when not given */
    const char *state;      /* one character per link index */
} import_sumo_phase_t;

typedef struct import_sumo_tls_group {
    int64_t min_ms, max_ms, yellow_ms, red_ms;
    int protected_green; /* some link of the group shows 'G' (not only 'g') when green */
} import_sumo_tls_group_t;

typedef struct import_sumo_tls {
    int n_groups;
    int *movement_group; /* per movement: group index, or -1 when never green (dropped) */
    import_sumo_tls_group_t groups[IMPORT_TLS_MAX_GROUPS];
    uint64_t conflicts[IMPORT_TLS_MAX_GROUPS];
    int n_stages;
    uint64_t *stage_groups; /* per stage: mask of green groups */
    int64_t *split_ms;      /* per stage; they add up to cycle_ms */
    int64_t cycle_ms;
    int64_t start_ms; /* program time (from the first phase) at which stage 1's green starts */
    /* What did not map exactly, for the importer's notes. */
    int mixed_movements;  /* movements whose links do not all share one pattern */
    int dropped;          /* movements never green */
    int uneven_clearance; /* groups whose yellow/red differ between their ends */
    int no_yellow;        /* groups that end without yellow (given 1 ms) */
} import_sumo_tls_t;

/* Maps the program's n_phases phases onto groups and stages. link_movement[i] is the movement
 * (0 .. n_movements-1) of link index i, or -1 for an unused index; every state must be at least
 * n_links long. Returns 0, or BASE_EINVAL with the reason in err (no green phase, more than 64
 * groups, a stage with no green left) or BASE_ENOMEM. On success the caller owns out's arrays
 * (import_sumo_tls_fini). */
int import_sumo_tls_map(const import_sumo_phase_t *phases, int n_phases, const int *link_movement,
                        int n_links, int n_movements, import_sumo_tls_t *out, base_err_t *err);

/* Frees out's arrays; safe on a zeroed or already finished struct. */
void import_sumo_tls_fini(import_sumo_tls_t *out);

/* Returns the greenwave intergreen of stage k (the longest yellow + red clearance of the groups
 * that end with it), as the loader computes it. */
int64_t import_sumo_tls_intergreen(const import_sumo_tls_t *t, int k);

#endif
