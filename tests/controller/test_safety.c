/*
 * tests/controller/test_safety.c - suite ctl_safety: properties that must hold whatever the
 * ticks say.
 *
 *   - Every strategy, random escorts (slowed, stopped, cancelling), random buses (some with
 *     lanes the map lacks), random detector counts and occupancy, random losses of the
 *     controller (the simulator releases a signal on its own), random configurations and
 *     tick lengths, thousands of ticks each, through the small signal simulator: zero
 *     refused commands, no conflicting greens, at most one command per intersection per
 *     tick, releases with the configured transition, every reply encodable.
 *   - Random, inconsistent SPaT (stages, changes, group states and minEndTimes drawn at
 *     random): a force-off only ever follows a SPaT that showed the stage green, out of a
 *     change interval, with every group of the stage reported and past its minEndTime; every
 *     command names an intersection and stage of the map.
 */
#include "tests/controller/fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t next(rng_t *r) { /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * UINT64_C(2685821657736338717);
}

static int64_t uniform(rng_t *r, int64_t lo, int64_t hi) { /* [lo, hi] */
    return lo + (int64_t)(next(r) % (uint64_t)(hi - lo + 1));
}

static int chance(rng_t *r, int percent) {
    return uniform(r, 1, 100) <= percent;
}

/* An escort along the arterial: its ETA at signal i is base + 20 s x i + delay. */
typedef struct escort {
    const char *id;
    int32_t request_id;
    int64_t base, delay;
    int stopped;
    int cancelled[3]; /* 0 not yet, 1 send the cancel now, 2 sent */
} escort_t;

typedef struct bus {
    char id[16];
    int leg; /* 0..5: approach */
    int64_t eta;
    int bad;
} bus_t;

static const char *const NODES[3] = {"A", "B", "C"};
static const char *const ART_IN[3] = {"L0", "L1", "L2"}, *const ART_OUT[3] = {"L1", "L2", "L3"};
static const char *const X_IN[3] = {"NA_in", "NB_in", "NC_in"};
static const char *const X_OUT[3] = {"SA_out", "SB_out", "SC_out"};

static void check_reply(const fx_t *fx, int64_t t) {
    const proto_control_t *c = fx_control(fx);
    int seen[8] = {0};
    for (int32_t i = 0; i < c->n_commands; i++) {
        const proto_command_t *cmd = &c->commands[i];
        int32_t s = fx_signal(fx, cmd->intersection);
        ck_assert_msg(s >= 0, "unknown intersection %s", cmd->intersection);
        ck_assert_msg(!seen[s]++, "two commands for %s at %lld ms", cmd->intersection,
                      (long long)t);
        if (cmd->action == PROTO_CMD_RELEASE)
            ck_assert_int_eq(cmd->transition, fx->cfg.transition);
        if (cmd->action == PROTO_CMD_CALL)
            ck_assert_ptr_nonnull(cmd->stage);
    }
}

static void random_run(const char *strategy, const char *json, uint64_t seed, int ticks) {
    rng_t r = {seed * UINT64_C(0x9E3779B97F4A7C15) + 1};
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    const proto_transition_t tr[3] = {PROTO_TRANSITION_DWELL, PROTO_TRANSITION_SHORTWAY,
                                      PROTO_TRANSITION_LONGWAY};
    cfg.transition = tr[uniform(&r, 0, 2)];
    cfg.tsp = chance(&r, 70);
    cfg.detection_range_s = (double)uniform(&r, 5, 40);
    cfg.safety_margin_s = (double)uniform(&r, 0, 5);
    cfg.passage_s = (double)uniform(&r, 1, 5);
    const int64_t ticks_ms[3] = {500, 1000, 2000};
    int64_t tick = ticks_ms[uniform(&r, 0, 2)];
    fx_t *fx = fx_new_tick(json, strategy, &cfg, tick);
    const sim_scenario_t *scn = fx->scn;
    int arterial = scn->n_signals == 3;
    escort_t esc[2] = {{"ESC", 1, uniform(&r, 0, 60000), 0, 0, {0}},
                       {"ESC2", 2, uniform(&r, 100000, 400000), 0, 0, {0}}};
    bus_t buses[6];
    int n_buses = 0, bus_serial = 0;
    int64_t t = 0;
    for (int k = 0; k < ticks; k++, t += tick) {
        /* Detectors: arrivals and standing queues at random. */
        for (int32_t d = 0; d < scn->n_detectors; d++) {
            if (chance(&r, 30))
                fx->det_count[d] += uniform(&r, 1, 2);
            fx->det_occ[d] = chance(&r, 10);
        }
        /* Escorts (arterial only): slowed, stopped, restarted; crossing cancels once. */
        proto_srm_t srms[8];
        fx_srm_t store[8];
        int n = 0;
        for (int e = 0; arterial && e < 2; e++) {
            escort_t *x = &esc[e];
            if (chance(&r, 3))
                x->stopped = !x->stopped;
            if (x->stopped)
                x->delay += tick;
            if (chance(&r, 5))
                x->delay += uniform(&r, -3000, 3000);
            const char *nodes[3], *in[3], *out[3];
            int64_t eta[3];
            int m = 0;
            for (int i = 0; i < 3; i++) {
                int64_t at = x->base + 20000 * (i + 1) + x->delay;
                if (at < t && x->cancelled[i] == 0)
                    x->cancelled[i] = chance(&r, 50) ? 1 : 2;
                if (x->cancelled[i] == 2 || at < t - 60000)
                    continue;
                nodes[m] = NODES[i];
                in[m] = ART_IN[i];
                out[m] = ART_OUT[i];
                eta[m] = at > t ? at : t;
                m++;
            }
            if (m == 0 || t + 120000 < x->base)
                continue;
            fx_srm(&store[n], x->id, x->request_id, PROTO_ROLE_POLICE, ART_IN[0], m, nodes, in, out,
                   eta);
            for (int i = 0, j = 0; i < 3; i++) {
                if (x->cancelled[i] == 2 || x->base + 20000 * (i + 1) + x->delay < t - 60000)
                    continue;
                if (x->cancelled[i] == 1) {
                    store[n].req[j].request_type = PROTO_REQ_CANCEL;
                    x->cancelled[i] = 2;
                }
                j++;
            }
            srms[n] = store[n].srm;
            n++;
        }
        /* Buses appear, approach and cross. */
        if (n_buses < 6 && chance(&r, 8)) {
            bus_t *b = &buses[n_buses++];
            snprintf(b->id, sizeof b->id, "bus-%d", bus_serial++);
            b->leg = (int)uniform(&r, 0, arterial ? 5 : 3);
            b->eta = t + uniform(&r, 0, 25000);
            b->bad = chance(&r, 5);
        }
        for (int i = 0; i < n_buses; i++) {
            bus_t *b = &buses[i];
            if (b->eta < t - 3000 || chance(&r, 1)) {
                buses[i--] = buses[--n_buses];
                continue;
            }
            const char *node, *in, *out;
            if (arterial) {
                int x = b->leg % 3;
                node = NODES[x];
                in = b->leg < 3 ? ART_IN[x] : X_IN[x];
                out = b->leg < 3 ? ART_OUT[x] : X_OUT[x];
            } else {
                const char *ins[4] = {"W_in", "E_in", "N_in", "S_in"};
                const char *outs[4] = {"E_out", "W_out", "S_out", "N_out"};
                node = "C";
                in = ins[b->leg];
                out = outs[b->leg];
            }
            if (b->bad)
                out = "L9";
            int64_t eta = b->eta > t ? b->eta : t;
            fx_srm(&store[n], b->id, 128 + (int32_t)i, PROTO_ROLE_TRANSIT, in, 1, &node, &in, &out,
                   &eta);
            srms[n] = store[n].srm;
            n++;
        }
        /* Now and then the simulator loses the controller and releases a signal. */
        if (chance(&r, 1)) {
            int32_t s = (int32_t)uniform(&r, 0, scn->n_signals - 1);
            fx_sig_command(&fx->sigs[s], PROTO_CMD_RELEASE, -1, 0, PROTO_TRANSITION_SHORTWAY);
        }
        ck_assert_int_eq(fx_tick(fx, t, srms, n), 1);
        check_reply(fx, t);
        if (strcmp(strategy, "none") == 0)
            ck_assert_int_eq(fx_n_cmds(fx) + fx_control(fx)->n_ssm, 0);
    }
    for (int32_t s = 0; s < scn->n_signals; s++) {
        ck_assert_msg(fx->sigs[s].refusals == 0, "%s seed %llu: %s refused: %s", strategy,
                      (unsigned long long)seed, scn->nodes[scn->signals[s].node].id,
                      fx->sigs[s].why);
        ck_assert_int_eq((int)fx->sigs[s].conflicts, 0);
    }
    ck_assert_int_eq((int)fx->refusals, 0);
    ck_assert_int_eq((int)fx->bad_encode, 0);
    if (getenv("FX_STATS") != NULL)
        fprintf(stderr, "%s seed %llu: %lld ticks, %lld commands\n", strategy,
                (unsigned long long)seed, (long long)ticks, (long long)fx->commands);
    fx_free(&fx);
}

START_TEST(test_no_refusal_any_strategy) {
    const char *strategy = CTL_STRATEGIES[_i % 5];
    fx_map_opts_t o = {.three_stage = 1};
    char *arterial = fx_arterial_json(&o);
    char *plain = fx_arterial_json(NULL);
    char *cross = fx_cross_json();
    for (uint64_t seed = 1; seed <= 4; seed++) {
        random_run(strategy, arterial, seed + 10 * (uint64_t)_i, 3000);
        random_run(strategy, plain, seed + 100 + 10 * (uint64_t)_i, 1500);
        random_run(strategy, cross, seed + 1000 + 10 * (uint64_t)_i, 1500);
    }
    free(arterial);
    free(plain);
    free(cross);
}
END_TEST

/* ---- garbage SPaT ------------------------------------------------------------------------ */

static const char *pick(rng_t *r, const char *const *v, int n) {
    return v[uniform(r, 0, n - 1)];
}

START_TEST(test_random_spat_force_off_rule) {
    const char *strategy = CTL_STRATEGIES[_i % 5];
    fx_map_opts_t o = {.three_stage = 1};
    char *json = fx_arterial_json(&o);
    fx_t *fx = fx_new(json, strategy, NULL);
    rng_t r = {UINT64_C(77) + (uint64_t)_i};
    const char *stages[] = {"S1", "S2", "S3", "S9", NULL};
    const char *groups[] = {"EW", "R", "NS", "XX", NULL};
    const proto_phase_state_t states[] = {PROTO_PHASE_PROTECTED_ALLOWED,
                                          PROTO_PHASE_PROTECTED_CLEARANCE,
                                          PROTO_PHASE_STOP_AND_REMAIN, PROTO_PHASE_DARK};
    proto_intersection_state_t spat[4];
    proto_group_state_t gs[4][5];
    int64_t t = 0;
    int64_t force_offs = 0;
    int sticky[4] = {0, 1, 0, 2};
    int64_t counts[16] = {0};
    for (int k = 0; k < 20000; k++) {
        t += uniform(&r, 0, 2000);
        int n_spat = (int)uniform(&r, 0, 4);
        for (int i = 0; i < n_spat; i++) {
            proto_intersection_state_t *is = &spat[i];
            memset(is, 0, sizeof *is);
            is->id = pick(&r, (const char *const[]){"A", "B", "C", "Q"}, chance(&r, 5) ? 4 : 3);
            if (chance(&r, 3))
                sticky[i] = (int)uniform(&r, 0, 4); /* stages stay a while, so greens age */
            is->stage = stages[sticky[i]];
            is->next_stage = pick(&r, stages, 5);
            is->in_change = chance(&r, 10);
            is->external = chance(&r, 50);
            is->n_groups = chance(&r, 70) ? 3 : (int32_t)uniform(&r, 0, 5);
            is->groups = gs[i];
            for (int g = 0; g < is->n_groups; g++) {
                gs[i][g].id = chance(&r, 90) ? groups[g % 3] : pick(&r, groups, 5);
                gs[i][g].state =
                    chance(&r, 50) ? PROTO_PHASE_PROTECTED_ALLOWED : states[uniform(&r, 0, 3)];
                gs[i][g].min_end_ms = t + uniform(&r, -20000, 8000);
                gs[i][g].max_end_ms = chance(&r, 30) ? -1 : t + uniform(&r, -5000, 60000);
            }
        }
        fx_srm_t m;
        int x = (int)uniform(&r, 0, 2);
        int64_t eta = t + uniform(&r, -5000, 90000);
        const char *node = NODES[x], *in = ART_IN[x], *out = ART_OUT[x];
        fx_srm(&m, chance(&r, 50) ? "ESC" : "bus-1", 1,
               chance(&r, 50) ? PROTO_ROLE_POLICE : PROTO_ROLE_TRANSIT, in, 1, &node, &in, &out,
               &eta);
        for (int32_t d = 0; d < fx->scn->n_detectors && d < 16; d++) {
            if (chance(&r, 4))
                counts[d] += chance(&r, 90) ? 1 : -3; /* now and then a loop miscounts */
            fx->dets[d] =
                (proto_detector_state_t){fx->scn->detectors[d].id, counts[d], chance(&r, 3)};
        }
        proto_msg_t msg = {.type = PROTO_TICK, .version = PROTO_VERSION, .seq = k};
        msg.u.tick = (proto_tick_t){.time_ms = t,
                                    .spat = spat,
                                    .n_spat = n_spat,
                                    .detectors = fx->dets,
                                    .n_detectors = fx->scn->n_detectors,
                                    .srms = &m.srm,
                                    .n_srms = 1};
        proto_msg_t reply;
        base_err_t err = {0};
        ck_assert_int_eq(ctl_handle(fx->ctl, fx->peer, strlen(fx->peer), &msg, &reply, &err), 1);
        const proto_control_t *c = &reply.u.control;
        for (int32_t j = 0; j < c->n_commands; j++) {
            const proto_command_t *cmd = &c->commands[j];
            int32_t s = fx_signal(fx, cmd->intersection);
            ck_assert_int_ge(s, 0);
            const sim_signal_t *sig = &fx->scn->signals[s];
            if (cmd->action == PROTO_CMD_CALL) {
                int ok = 0;
                for (int32_t q = 0; q < sig->n_stages; q++)
                    ok |= strcmp(sig->stages[q].id, cmd->stage) == 0;
                ck_assert_msg(ok, "call of unknown stage %s", cmd->stage);
            }
            if (cmd->action != PROTO_CMD_FORCE_OFF)
                continue;
            force_offs++;
            /* Every SPaT entry for that intersection must allow it. */
            int entries = 0;
            for (int i = 0; i < n_spat; i++) {
                const proto_intersection_state_t *is = &spat[i];
                if (strcmp(is->id, cmd->intersection) != 0)
                    continue;
                entries++;
                ck_assert(!is->in_change);
                int32_t k2 = -1;
                for (int32_t q = 0; is->stage != NULL && q < sig->n_stages; q++)
                    if (strcmp(sig->stages[q].id, is->stage) == 0)
                        k2 = q;
                ck_assert_int_ge(k2, 0);
                for (int32_t g = 0; g < sig->n_groups; g++) {
                    if (!(sig->stages[k2].groups & (UINT64_C(1) << g)))
                        continue;
                    int reported = 0;
                    for (int32_t q = 0; q < is->n_groups; q++) {
                        if (is->groups[q].id == NULL ||
                            strcmp(is->groups[q].id, sig->groups[g].id) != 0)
                            continue;
                        reported = 1;
                        if (is->groups[q].state == PROTO_PHASE_PROTECTED_ALLOWED)
                            ck_assert_msg(is->groups[q].min_end_ms <= t,
                                          "force-off at %lld before minEndTime %lld", (long long)t,
                                          (long long)is->groups[q].min_end_ms);
                    }
                    ck_assert(reported);
                }
            }
            ck_assert_int_eq(entries, 1);
        }
    }
    if (strcmp(strategy, "actuated") == 0)
        ck_assert_int_gt((int)force_offs, 0); /* the rule was exercised */
    if (getenv("FX_STATS") != NULL)
        fprintf(stderr, "%s random SPaT: %lld force-offs\n", strategy, (long long)force_offs);
    fx_free(&fx);
    free(json);
}
END_TEST

Suite *suite_ctl_safety(void);

Suite *suite_ctl_safety(void) {
    Suite *s = suite_create("ctl_safety");
    TCase *tc = tcase_create("safety");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_no_refusal_any_strategy, 0, 5);
    tcase_add_loop_test(tc, test_random_spat_force_off_rule, 0, 5);
    suite_add_tcase(s, tc);
    return s;
}
