/*
 * tests/controller/fixture.h - maps, a small signal simulator and a tick harness for the
 * controller/ suites.
 *
 * Maps (scenario documents, loaded by the real loader):
 *   - the cross: signalized node "C" with four arms (links W_in, E_in, N_in, S_in in;
 *     W_out, E_out, N_out, S_out out; 300 m, 2 lanes, 1800 veh/h/lane: a through movement
 *     discharges one vehicle per second). Groups "EW" and "NS" (min 10 s, max 40 s, yellow
 *     3 s, red clearance 2 s), in conflict; stages S1 = {EW}, S2 = {NS}; plan cycle 60 s,
 *     splits 30/30, offset 0: S1 green 0-25 s, S2 green 30-55 s. A stop-line and an advance
 *     detector on each approach (dW_s, dW_a, ...). Escort "ESC" on N_in -> S_out,
 *     departing at 3000 s (after every test: its planned route stays out of the way).
 *   - the arterial: W -> L0 -> A -> L1 -> B -> L2 -> C -> L3 -> E (200 m links), a cross
 *     street at each signal (NA_in -> SA_out, ...). Each signal: groups EW / NS, stages
 *     S1 = {EW}, S2 = {NS}, cycle 60 s, splits 30/30; offsets A 0, B 0, C 20 s. Detectors
 *     dA_s/dA_a on L0, dB_s/dB_a on L1, dC_s/dC_a on L2, and on the cross approaches.
 *     With three_stage, B gets a right-turn group R (L1 -> SB_out) and three stages
 *     S1 = {EW, R}, S2 = {R, NS}, S3 = {NS}, cycle 90 s. Escort "ESC" on L0 L1 L2 L3.
 *
 * The small simulator (fx_sig_t) follows the signal rules the simulator documents: plans
 * against the cycle clock, hold, force-off (refused before the stage's minimum green, which
 * counts only the groups that started with the stage, and during a change interval), call
 * (ends the current green at its minimum; redirects a change when no continuing group must
 * end), release (back to the plan: with shortway or longway the current green ends at its
 * minimum, as the simulator re-anchors its plan there; the offset correction that follows is
 * not modelled), full yellow and red clearance. It counts refusals and
 * checks that no group turns green while a conflicting one is not red.
 *
 * The harness (fx_t) sends a hello, then ticks built from the small simulator's SPaT, the
 * detector counts the test sets and the SRMs it passes; it applies the reply's commands to
 * the small simulator and encodes every reply with the real codec (it must encode).
 */
#ifndef TESTS_CONTROLLER_FIXTURE_H
#define TESTS_CONTROLLER_FIXTURE_H

#include "controller/ctl.h"
#include "proto/msg.h"
#include "sim/scenario.h"

#include <stdint.h>
#include <stdio.h>

typedef struct fx_map_opts {
    int three_stage;     /* arterial: three stages at B */
    const char *escorts; /* JSON array text replacing the default escorts, or NULL */
    const char *demand;  /* JSON object text for "demand", or NULL (none) */
} fx_map_opts_t;

/* Map JSON texts (caller frees). */
char *fx_cross_json(void);
char *fx_arterial_json(const fx_map_opts_t *o);

/* ---- small signal simulator -------------------------------------------------------- */

typedef struct fx_sig {
    const sim_signal_t *sig;
    int32_t stage, next, called;
    int change;
    int64_t now, stage_start, green_end, next_start;
    uint8_t gs[SIM_MAX_GROUPS]; /* 0 red, 1 yellow, 2 green */
    int64_t red_at[SIM_MAX_GROUPS], since[SIM_MAX_GROUPS];
    int hold, hold_next, external, preempt;
    int64_t refusals, conflicts; /* refused commands; conflicting greens (must stay 0) */
    char why[160];               /* last refusal */
} fx_sig_t;

void fx_sig_init(fx_sig_t *x, const sim_signal_t *sig);
void fx_sig_advance(fx_sig_t *x, int64_t until);
/* Applies a command now; returns 0, or -1 if refused (counted, reason in why). */
int fx_sig_command(fx_sig_t *x, proto_cmd_action_t action, int32_t stage, int hold, int transition);
/* Fills *is (groups into the caller's array of sig->n_groups) as the bridge builds SPaT. */
void fx_sig_spat(const fx_sig_t *x, const char *node_id, proto_intersection_state_t *is,
                 proto_group_state_t *groups);
int64_t fx_sig_min_end(const fx_sig_t *x); /* the stage's minimum end (green only) */

/* ---- harness ----------------------------------------------------------------------- */

typedef struct fx {
    sim_scenario_t *scn;
    ctl_t *ctl;
    ctl_config_t cfg;
    fx_sig_t *sigs;
    int64_t tick_ms;
    int64_t now;
    int64_t seq;
    int64_t *det_count;
    int *det_occ;
    proto_intersection_state_t *spat;
    proto_group_state_t *groups;
    proto_detector_state_t *dets;
    proto_msg_t reply;
    int rc;
    base_err_t err;
    int64_t refusals;   /* commands the small simulator refused */
    int64_t commands;   /* commands received */
    int64_t bad_encode; /* replies the codec refused */
    char *logbuf;
    size_t loglen;
    FILE *log;
    const char *peer;
    /* Event sync (fx_new_event()): what the last tick sent showed, for the deltas. */
    int event;
    int sent;                         /* a tick was sent (the next is a delta) */
    proto_intersection_state_t *last; /* per signal, times relative (a tick's own: INT64_MIN) */
    proto_group_state_t *last_groups; /* per signal, SIM_MAX_GROUPS each */
    proto_detector_state_t *last_det;
    proto_intersection_state_t *dspat; /* the delta's entries */
    proto_detector_state_t *ddet;
} fx_t;

/* Starts a controller with cfg (NULL: defaults) and a session for `strategy` on map json
 * (tick 1000 ms); fails the test if the hello is refused. Caller frees with fx_free(). */
fx_t *fx_new(const char *json, const char *strategy, const ctl_config_t *cfg);
fx_t *fx_new_tick(const char *json, const char *strategy, const ctl_config_t *cfg, int64_t tick_ms);
void fx_free(fx_t **fx);

/* Like fx_new(), but the hello offers event sync, and fx_tick() sends what the simulator
 * sends then (bridge/bridge.c): a full snapshot first, then only the signals and detectors
 * whose state differs from the last tick sent, a group time equal to its tick's own reading
 * as "now" (docs/protocol.md 2.1). A tick is sent at every call, whatever the wake. */
fx_t *fx_new_event(const char *json, const char *strategy, const ctl_config_t *cfg);

/* Sets a detector's count and occupancy. */
void fx_det(fx_t *fx, const char *id, int64_t count, int occupied);

/* Advances the small simulator to t, sends a tick with the SRMs, applies the reply.
 * Returns ctl_handle()'s result. */
int fx_tick(fx_t *fx, int64_t t, const proto_srm_t *srms, int32_t n_srms);

/* The last control reply (valid after a tick returned 1). */
const proto_control_t *fx_control(const fx_t *fx);

/* Number of commands in the last reply, and whether one matches (stage NULL: any; hold -1:
 * any). */
int fx_n_cmds(const fx_t *fx);
int fx_has(const fx_t *fx, const char *node, proto_cmd_action_t action, const char *stage,
           int hold);

/* SSM status of (vehicle, node) in the last reply, or -1. */
int fx_ssm(const fx_t *fx, const char *vehicle, const char *node);

/* Whether some log line of the last reply contains text. */
int fx_logged(const fx_t *fx, const char *text);

/* Index of signal at node id, or -1. */
int32_t fx_signal(const fx_t *fx, const char *node);

/* An SRM with one request (the caller owns storage through the fx_srm_t). */
typedef struct fx_srm {
    proto_srm_t srm;
    proto_request_t req[8];
} fx_srm_t;

/* Fills an SRM of vehicle (role) at link `on`, with n requests from the arrays. */
void fx_srm(fx_srm_t *out, const char *vehicle, int32_t request_id, proto_role_t role,
            const char *on, int n, const char *const *nodes, const char *const *in,
            const char *const *out_links, const int64_t *eta);

#endif
