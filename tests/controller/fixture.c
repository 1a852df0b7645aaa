/*
 * tests/controller/fixture.c - see fixture.h.
 */
#include "tests/controller/fixture.h"

#include "scenarios/loader.h"

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- maps ---------------------------------------------------------------------------- */

typedef struct buf {
    char *s;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf_t *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        ck_assert_int_ge(n, 0);
        if ((size_t)n < b->cap - b->n) {
            b->n += (size_t)n;
            return;
        }
        b->cap = 2 * b->cap + (size_t)n;
        b->s = realloc(b->s, b->cap);
        ck_assert_ptr_nonnull(b->s);
    }
}

static buf_t buf_new(void) {
    buf_t b = {malloc(4096), 0, 4096};
    ck_assert_ptr_nonnull(b.s);
    b.s[0] = 0;
    return b;
}

static void put_link(buf_t *b, const char *sep, const char *id, const char *from, const char *to,
                     int len) {
    put(b,
        "%s{\"id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"length_m\":%d,\"lanes\":2,"
        "\"free_speed_kmh\":50}",
        sep, id, from, to, len);
}

static void put_node(buf_t *b, const char *sep, const char *id, const char *kind, int x, int y) {
    put(b, "%s{\"id\":\"%s\",\"kind\":\"%s\",\"x_m\":%d,\"y_m\":%d}", sep, id, kind, x, y);
}

static void put_movement(buf_t *b, const char *sep, const char *id, const char *from,
                         const char *to, const char *turn) {
    put(b, "%s{\"id\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"turn\":\"%s\"}", sep, id, from, to,
        turn);
}

/* A group: min 10 s, max 40 s, yellow 3 s, red clearance 2 s. mv is the JSON id list. */
static void put_group(buf_t *b, const char *sep, const char *id, const char *mv) {
    put(b,
        "%s{\"id\":\"%s\",\"movements\":[%s],\"min_green_s\":10,\"max_green_s\":40,"
        "\"yellow_s\":3,\"red_clearance_s\":2}",
        sep, id, mv);
}

static void put_detectors(buf_t *b, const char *sep, const char *name, const char *link) {
    put(b,
        "%s{\"id\":\"d%s_s\",\"link\":\"%s\",\"kind\":\"stop_line\"},"
        "{\"id\":\"d%s_a\",\"link\":\"%s\",\"kind\":\"advance\",\"distance_m\":100}",
        sep, name, link, name, link);
}

static void put_head(buf_t *b, const char *name) {
    put(b, "{\"format\":\"greenwave-scenario\",\"version\":1,\"name\":\"%s\",\"duration_s\":3600,",
        name);
}

char *fx_cross_json(void) {
    buf_t b = buf_new();
    put_head(&b, "cross");
    put(&b, "\"nodes\":[");
    put_node(&b, "", "C", "signalized", 0, 0);
    put_node(&b, ",", "W", "boundary", -300, 0);
    put_node(&b, ",", "E", "boundary", 300, 0);
    put_node(&b, ",", "N", "boundary", 0, 300);
    put_node(&b, ",", "S", "boundary", 0, -300);
    put(&b, "],\"links\":[");
    const char *arms[4][3] = {
        {"W", "E", "W_T"}, {"E", "W", "E_T"}, {"N", "S", "N_T"}, {"S", "N", "S_T"}};
    for (int i = 0; i < 4; i++) {
        char in[8], out[8];
        snprintf(in, sizeof in, "%s_in", arms[i][0]);
        snprintf(out, sizeof out, "%s_out", arms[i][0]);
        put_link(&b, i ? "," : "", in, arms[i][0], "C", 300);
        put_link(&b, ",", out, "C", arms[i][0], 300);
    }
    put(&b, "],\"movements\":[");
    for (int i = 0; i < 4; i++) {
        char in[8], out[8];
        snprintf(in, sizeof in, "%s_in", arms[i][0]);
        snprintf(out, sizeof out, "%s_out", arms[i][1]);
        put_movement(&b, i ? "," : "", arms[i][2], in, out, "through");
    }
    put(&b, "],\"signals\":[{\"node\":\"C\",\"groups\":[");
    put_group(&b, "", "EW", "\"W_T\",\"E_T\"");
    put_group(&b, ",", "NS", "\"N_T\",\"S_T\"");
    put(&b, "],\"conflicts\":[[\"EW\",\"NS\"]],"
            "\"stages\":[{\"id\":\"S1\",\"groups\":[\"EW\"]},{\"id\":\"S2\",\"groups\":[\"NS\"]}],"
            "\"plans\":[{\"id\":\"P1\",\"cycle_s\":60,\"offset_s\":0,\"splits_s\":[30,30]}],"
            "\"schedule\":[{\"from\":\"00:00\",\"plan\":\"P1\"}]}],\"detectors\":[");
    put_detectors(&b, "", "W", "W_in");
    put_detectors(&b, ",", "E", "E_in");
    put_detectors(&b, ",", "N", "N_in");
    put_detectors(&b, ",", "S", "S_in");
    put(&b, "],\"escorts\":[{\"id\":\"ESC\",\"route\":[\"N_in\",\"S_out\"],\"depart_s\":3000,"
            "\"desired_speed_kmh\":54}]}");
    return b.s;
}

static void arterial_signal(buf_t *b, const char *x, int offset, int three) {
    char mv[32];
    put(b, "{\"node\":\"%s\",\"groups\":[", x);
    snprintf(mv, sizeof mv, "\"%s_T\"", x);
    put_group(b, "", "EW", mv);
    if (three) {
        snprintf(mv, sizeof mv, "\"%s_R\"", x);
        put_group(b, ",", "R", mv);
    }
    snprintf(mv, sizeof mv, "\"%s_X\"", x);
    put_group(b, ",", "NS", mv);
    put(b, "],\"conflicts\":[[\"EW\",\"NS\"]],");
    if (three)
        put(b,
            "\"stages\":[{\"id\":\"S1\",\"groups\":[\"EW\",\"R\"]},"
            "{\"id\":\"S2\",\"groups\":[\"R\",\"NS\"]},{\"id\":\"S3\",\"groups\":[\"NS\"]}],"
            "\"plans\":[{\"id\":\"P1\",\"cycle_s\":90,\"offset_s\":%d,"
            "\"splits_s\":[30,30,30]}],",
            offset);
    else
        put(b,
            "\"stages\":[{\"id\":\"S1\",\"groups\":[\"EW\"]},{\"id\":\"S2\",\"groups\":[\"NS\"]}],"
            "\"plans\":[{\"id\":\"P1\",\"cycle_s\":60,\"offset_s\":%d,\"splits_s\":[30,30]}],",
            offset);
    put(b, "\"schedule\":[{\"from\":\"00:00\",\"plan\":\"P1\"}]}");
}

char *fx_arterial_json(const fx_map_opts_t *o) {
    fx_map_opts_t def = {0};
    if (o == NULL)
        o = &def;
    const char *xs[3] = {"A", "B", "C"};
    const char *ins[3] = {"L0", "L1", "L2"}, *outs[3] = {"L1", "L2", "L3"};
    char id[16], n[16], sx[16], in[16], out[16];
    buf_t b = buf_new();
    put_head(&b, "arterial");
    put(&b, "\"nodes\":[");
    put_node(&b, "", "W", "boundary", -200, 0);
    for (int i = 0; i < 3; i++) {
        put_node(&b, ",", xs[i], "signalized", 200 * i, 0);
        snprintf(n, sizeof n, "N%s", xs[i]);
        snprintf(sx, sizeof sx, "S%s", xs[i]);
        put_node(&b, ",", n, "boundary", 200 * i, 200);
        put_node(&b, ",", sx, "boundary", 200 * i, -200);
    }
    put_node(&b, ",", "E", "boundary", 600, 0);
    put(&b, "],\"links\":[");
    put_link(&b, "", "L0", "W", "A", 200);
    put_link(&b, ",", "L1", "A", "B", 200);
    put_link(&b, ",", "L2", "B", "C", 200);
    put_link(&b, ",", "L3", "C", "E", 200);
    for (int i = 0; i < 3; i++) {
        snprintf(n, sizeof n, "N%s", xs[i]);
        snprintf(sx, sizeof sx, "S%s", xs[i]);
        snprintf(in, sizeof in, "N%s_in", xs[i]);
        snprintf(out, sizeof out, "S%s_out", xs[i]);
        put_link(&b, ",", in, n, xs[i], 200);
        put_link(&b, ",", out, xs[i], sx, 200);
    }
    put(&b, "],\"movements\":[");
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "%s_T", xs[i]);
        put_movement(&b, i ? "," : "", id, ins[i], outs[i], "through");
        snprintf(id, sizeof id, "%s_X", xs[i]);
        snprintf(in, sizeof in, "N%s_in", xs[i]);
        snprintf(out, sizeof out, "S%s_out", xs[i]);
        put_movement(&b, ",", id, in, out, "through");
    }
    if (o->three_stage)
        put_movement(&b, ",", "B_R", "L1", "SB_out", "right");
    put(&b, "],\"signals\":[");
    arterial_signal(&b, "A", 0, 0);
    put(&b, ",");
    arterial_signal(&b, "B", 0, o->three_stage);
    put(&b, ",");
    arterial_signal(&b, "C", 20, 0);
    put(&b, "],\"detectors\":[");
    for (int i = 0; i < 3; i++) {
        snprintf(n, sizeof n, "N%s", xs[i]);
        snprintf(in, sizeof in, "N%s_in", xs[i]);
        put_detectors(&b, i ? "," : "", xs[i], ins[i]);
        put_detectors(&b, ",", n, in);
    }
    if (o->demand != NULL)
        put(&b, "],\"demand\":%s", o->demand);
    else
        put(&b, "]");
    put(&b, ",\"escorts\":%s}",
        o->escorts != NULL ? o->escorts
                           : "[{\"id\":\"ESC\",\"route\":[\"L0\",\"L1\",\"L2\",\"L3\"],"
                             "\"depart_s\":0,\"desired_speed_kmh\":50}]");
    return b.s;
}

/* ---- small signal simulator ---------------------------------------------------------- */

enum { RED = 0, YELLOW = 1, GREEN = 2 };

static int64_t mod64(int64_t x, int64_t m) {
    int64_t r = x % m;
    return r < 0 ? r + m : r;
}

static int64_t ig_between(const sim_signal_t *sig, uint64_t from, uint64_t to) {
    int64_t ig = 0;
    for (int32_t g = 0; g < sig->n_groups; g++)
        if ((from & ~to & (UINT64_C(1) << g)) &&
            sig->groups[g].yellow + sig->groups[g].red_clearance > ig)
            ig = sig->groups[g].yellow + sig->groups[g].red_clearance;
    return ig;
}

static const sim_plan_t *plan_of(const fx_sig_t *x) {
    return &x->sig->plans[x->sig->schedule[0].plan];
}

static int64_t stage_start_pos(const sim_plan_t *p, int32_t k) {
    int64_t s = 0;
    for (int32_t i = 0; i < k; i++)
        s += p->splits[i];
    return s;
}

static int64_t green_end_pos(const fx_sig_t *x, int32_t k) {
    const sim_plan_t *p = plan_of(x);
    return stage_start_pos(p, k) + p->splits[k] - sim_scenario_intergreen(x->sig, k);
}

static int64_t plan_green_end(const fx_sig_t *x, int32_t k, int64_t t0) {
    const sim_plan_t *p = plan_of(x);
    return t0 + mod64(green_end_pos(x, k) - mod64(t0 - p->offset, p->cycle), p->cycle);
}

int64_t fx_sig_min_end(const fx_sig_t *x) {
    int64_t end = x->stage_start;
    uint64_t st = x->sig->stages[x->stage].groups;
    for (int32_t g = 0; g < x->sig->n_groups; g++)
        if ((st & (UINT64_C(1) << g)) && x->since[g] >= x->stage_start &&
            x->since[g] + x->sig->groups[g].min_green > end)
            end = x->since[g] + x->sig->groups[g].min_green;
    return end;
}

static void plan_green(fx_sig_t *x) {
    int64_t hold = fx_sig_min_end(x);
    if (hold < x->now)
        hold = x->now;
    if (x->hold)
        x->green_end = INT64_MAX;
    else if (x->called >= 0 && x->called != x->stage)
        x->green_end = hold;
    else
        x->green_end = plan_green_end(x, x->stage, hold);
}

static void start_stage(fx_sig_t *x, int32_t k) {
    const sim_signal_t *sig = x->sig;
    x->stage = k;
    x->change = 0;
    x->stage_start = x->now;
    if (x->called == k) {
        x->called = -1;
        x->hold = x->hold_next;
        x->hold_next = 0;
    }
    for (int32_t g = 0; g < sig->n_groups; g++) {
        if (!(sig->stages[k].groups & (UINT64_C(1) << g)) || x->gs[g] == GREEN)
            continue;
        for (int32_t h = 0; h < sig->n_groups; h++)
            if ((sig->conflicts[g] & (UINT64_C(1) << h)) && x->gs[h] != RED)
                x->conflicts++;
        x->gs[g] = GREEN;
        x->since[g] = x->now;
    }
    plan_green(x);
}

static void end_green(fx_sig_t *x) {
    const sim_signal_t *sig = x->sig;
    int32_t next = x->called >= 0 ? x->called : (x->stage + 1) % sig->n_stages;
    uint64_t ending = sig->stages[x->stage].groups & ~sig->stages[next].groups;
    for (int32_t g = 0; g < sig->n_groups; g++)
        if ((ending & (UINT64_C(1) << g)) && x->gs[g] == GREEN) {
            x->gs[g] = YELLOW;
            x->red_at[g] = x->now + sig->groups[g].yellow;
        }
    x->hold = 0;
    x->change = 1;
    x->next = next;
    x->next_start =
        x->now + ig_between(sig, sig->stages[x->stage].groups, sig->stages[next].groups);
}

static void run_due(fx_sig_t *x) {
    for (int guard = 0; guard < 256; guard++) {
        int acted = 0;
        for (int32_t g = 0; g < x->sig->n_groups; g++)
            if (x->gs[g] == YELLOW && x->red_at[g] <= x->now) {
                x->gs[g] = RED;
                acted = 1;
            }
        if (x->change && x->next_start <= x->now) {
            start_stage(x, x->next);
            acted = 1;
        }
        if (!x->change && x->green_end <= x->now) {
            end_green(x);
            acted = 1;
        }
        if (!acted)
            return;
    }
    ck_abort_msg("small simulator: no progress");
}

void fx_sig_init(fx_sig_t *x, const sim_signal_t *sig) {
    memset(x, 0, sizeof *x);
    x->sig = sig;
    x->called = -1;
    const sim_plan_t *p = plan_of(x);
    int64_t c = mod64(-p->offset, p->cycle), start = 0;
    int32_t k = 0;
    while (k < sig->n_stages - 1 && c >= start + p->splits[k]) {
        start += p->splits[k];
        k++;
    }
    int64_t green = p->splits[k] - sim_scenario_intergreen(sig, k);
    int32_t next = (k + 1) % sig->n_stages;
    uint64_t on;
    x->stage = k;
    if (c < start + green) {
        on = sig->stages[k].groups;
        x->stage_start = -(c - start);
        x->green_end = start + green - c;
    } else {
        on = sig->stages[k].groups & sig->stages[next].groups;
        x->change = 1;
        x->next = next;
        x->next_start = start + p->splits[k] - c;
    }
    for (int32_t g = 0; g < sig->n_groups; g++) {
        x->gs[g] = (on & (UINT64_C(1) << g)) ? GREEN : RED;
        x->since[g] = x->gs[g] == GREEN ? -INT64_C(86400000) : -1;
    }
}

void fx_sig_advance(fx_sig_t *x, int64_t until) {
    for (;;) {
        int64_t next = x->change ? x->next_start : x->green_end;
        for (int32_t g = 0; g < x->sig->n_groups; g++)
            if (x->gs[g] == YELLOW && x->red_at[g] < next)
                next = x->red_at[g];
        if (next > until)
            break;
        x->now = next > x->now ? next : x->now;
        run_due(x);
    }
    x->now = until;
}

static int refuse(fx_sig_t *x, const char *why) {
    x->refusals++;
    snprintf(x->why, sizeof x->why, "%s", why);
    return -1;
}

int fx_sig_command(fx_sig_t *x, proto_cmd_action_t action, int32_t stage, int hold,
                   int transition) {
    const sim_signal_t *sig = x->sig;
    switch (action) {
    case PROTO_CMD_HOLD:
        x->external = 1;
        if (!x->change)
            x->hold = 1;
        else
            x->hold_next = 1;
        break;
    case PROTO_CMD_FORCE_OFF:
        if (x->change)
            return refuse(x, "force-off during a change interval");
        if (x->now < fx_sig_min_end(x))
            return refuse(x, "force-off before the minimum green");
        x->external = 1;
        x->hold = 0;
        x->green_end = x->now;
        run_due(x);
        return 0;
    case PROTO_CMD_CALL:
        if (stage < 0 || stage >= sig->n_stages)
            return refuse(x, "no such stage");
        x->external = 1;
        if (!x->change) {
            if (x->stage == stage) {
                x->called = -1;
                x->hold = hold != 0;
            } else {
                x->called = stage;
                x->hold_next = hold != 0;
                x->hold = 0;
            }
        } else if (x->next == stage) {
            x->called = stage;
            x->hold_next = hold != 0;
        } else {
            uint64_t cont = sig->stages[x->stage].groups & sig->stages[x->next].groups;
            if ((cont & ~sig->stages[stage].groups) == 0)
                x->next = stage;
            x->called = stage;
            x->hold_next = hold != 0;
        }
        break;
    case PROTO_CMD_RELEASE:
        if (transition != PROTO_TRANSITION_DWELL && transition != PROTO_TRANSITION_SHORTWAY &&
            transition != PROTO_TRANSITION_LONGWAY)
            return refuse(x, "unknown transition");
        x->external = 0;
        x->hold = x->hold_next = 0;
        x->called = -1;
        if (!x->change) {
            plan_green(x);
            /* Shortway and longway re-anchor the plan so that the current green ends at its
             * minimum (or now); dwell waits for the plan. The later offset correction is not
             * modelled: the plan's clock goes on unshifted. */
            if (transition != PROTO_TRANSITION_DWELL) {
                int64_t end = fx_sig_min_end(x);
                x->green_end = end > x->now ? end : x->now;
            }
        }
        run_due(x);
        return 0;
    default:
        return refuse(x, "unknown action");
    }
    if (!x->change)
        plan_green(x);
    run_due(x);
    return 0;
}

static int64_t group_min_end(const fx_sig_t *x, int32_t g) {
    const sim_signal_t *sig = x->sig;
    switch (x->gs[g]) {
    case GREEN: {
        int64_t e = x->since[g] + sig->groups[g].min_green;
        return e > x->now ? e : x->now;
    }
    case YELLOW:
        return x->red_at[g];
    default:
        if (x->change && (sig->stages[x->next].groups & (UINT64_C(1) << g)))
            return x->next_start;
        if (!x->change && x->green_end != INT64_MAX) {
            int64_t e = x->green_end + sim_scenario_intergreen(sig, x->stage);
            return e > x->now ? e : x->now;
        }
        return x->now;
    }
}

static int64_t group_max_end(const fx_sig_t *x, int32_t g) {
    if (x->gs[g] == GREEN)
        return !x->change && x->green_end != INT64_MAX
                   ? (x->green_end > x->now ? x->green_end : x->now)
                   : -1;
    if (x->gs[g] == YELLOW)
        return x->red_at[g];
    return -1;
}

void fx_sig_spat(const fx_sig_t *x, const char *node_id, proto_intersection_state_t *is,
                 proto_group_state_t *groups) {
    const sim_signal_t *sig = x->sig;
    memset(is, 0, sizeof *is);
    is->id = node_id;
    is->stage = sig->stages[x->stage].id;
    int32_t next =
        x->change ? x->next : (x->called >= 0 ? x->called : (x->stage + 1) % sig->n_stages);
    is->next_stage = sig->stages[next].id;
    is->in_change = x->change;
    is->plan = sig->plans[sig->schedule[0].plan].id;
    is->external = x->external;
    is->preempt_active = x->external && x->preempt;
    is->priority_active = x->external && !x->preempt;
    is->groups = groups;
    is->n_groups = sig->n_groups;
    for (int32_t g = 0; g < sig->n_groups; g++) {
        groups[g].id = sig->groups[g].id;
        groups[g].state = x->gs[g] == GREEN    ? PROTO_PHASE_PROTECTED_ALLOWED
                          : x->gs[g] == YELLOW ? PROTO_PHASE_PROTECTED_CLEARANCE
                                               : PROTO_PHASE_STOP_AND_REMAIN;
        groups[g].min_end_ms = group_min_end(x, g);
        groups[g].max_end_ms = group_max_end(x, g);
    }
}

/* ---- harness ------------------------------------------------------------------------- */

static fx_t *fx_new_sync(const char *json, const char *strategy, const ctl_config_t *cfg,
                         int64_t tick_ms, int event) {
    fx_t *fx = calloc(1, sizeof *fx);
    ck_assert_ptr_nonnull(fx);
    base_err_t err = {0};
    fx->scn = scn_loader_load_string(json, "test-map", &err);
    ck_assert_msg(fx->scn != NULL, "map: %s", err.msg);
    if (cfg != NULL)
        fx->cfg = *cfg;
    else {
        ctl_config_defaults(&fx->cfg);
        fx->cfg.tsp = 1; /* the suites were written with TSP on */
    }
    fx->log = open_memstream(&fx->logbuf, &fx->loglen);
    ck_assert_ptr_nonnull(fx->log);
    if (fx->cfg.log == NULL)
        fx->cfg.log = getenv("FX_LOG") != NULL ? stderr : fx->log; /* FX_LOG: read it live */
    fx->ctl = ctl_new(&fx->cfg, &err);
    ck_assert_msg(fx->ctl != NULL, "ctl_new: %s", err.msg);
    const sim_scenario_t *scn = fx->scn;
    fx->sigs = calloc((size_t)scn->n_signals + 1, sizeof *fx->sigs);
    fx->spat = calloc((size_t)scn->n_signals + 1, sizeof *fx->spat);
    fx->groups = calloc((size_t)scn->n_signals * SIM_MAX_GROUPS + 1, sizeof *fx->groups);
    fx->dets = calloc((size_t)scn->n_detectors + 1, sizeof *fx->dets);
    fx->det_count = calloc((size_t)scn->n_detectors + 1, sizeof *fx->det_count);
    fx->det_occ = calloc((size_t)scn->n_detectors + 1, sizeof *fx->det_occ);
    ck_assert(fx->sigs && fx->spat && fx->groups && fx->dets && fx->det_count && fx->det_occ);
    for (int32_t s = 0; s < scn->n_signals; s++)
        fx_sig_init(&fx->sigs[s], &scn->signals[s]);
    fx->tick_ms = tick_ms;
    fx->peer = "sim-1";
    proto_msg_t hello = {.type = PROTO_HELLO, .version = PROTO_VERSION, .seq = fx->seq++};
    hello.u.hello.session =
        (proto_session_t){.scenario = "test", .seed = 1, .strategy = strategy, .tick_ms = tick_ms};
    hello.u.hello.map_json = json;
    if (event) {
        fx->event = 1;
        hello.u.hello.sync = PROTO_SYNC_LOCKSTEP | PROTO_SYNC_EVENT;
        fx->last = calloc((size_t)scn->n_signals + 1, sizeof *fx->last);
        fx->last_groups =
            calloc((size_t)scn->n_signals * SIM_MAX_GROUPS + 1, sizeof *fx->last_groups);
        fx->last_det = calloc((size_t)scn->n_detectors + 1, sizeof *fx->last_det);
        fx->dspat = calloc((size_t)scn->n_signals + 1, sizeof *fx->dspat);
        fx->ddet = calloc((size_t)scn->n_detectors + 1, sizeof *fx->ddet);
        ck_assert(fx->last && fx->last_groups && fx->last_det && fx->dspat && fx->ddet);
    }
    int rc = ctl_handle(fx->ctl, fx->peer, strlen(fx->peer), &hello, &fx->reply, &err);
    ck_assert_msg(rc == 1, "hello refused: %s", err.msg);
    ck_assert_int_eq(fx->reply.type, PROTO_WELCOME);
    if (event)
        ck_assert_ptr_nonnull(fx->reply.u.welcome.subscribe);
    return fx;
}

fx_t *fx_new_tick(const char *json, const char *strategy, const ctl_config_t *cfg,
                  int64_t tick_ms) {
    return fx_new_sync(json, strategy, cfg, tick_ms, 0);
}

fx_t *fx_new(const char *json, const char *strategy, const ctl_config_t *cfg) {
    return fx_new_tick(json, strategy, cfg, 1000);
}

fx_t *fx_new_event(const char *json, const char *strategy, const ctl_config_t *cfg) {
    return fx_new_sync(json, strategy, cfg, 1000, 1);
}

/* A time as the last tick sent showed it: its own time reads as "now" (INT64_MIN). */
static int64_t rel_time(int64_t v, int64_t t) {
    return v == t ? INT64_MIN : v;
}

static int same_str(const char *a, const char *b) {
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether entry x at time t reads as the last one sent of signal s. */
static int same_as_sent(const fx_t *fx, int32_t s, const proto_intersection_state_t *x, int64_t t) {
    const proto_intersection_state_t *a = &fx->last[s];
    if (!same_str(a->stage, x->stage) || !same_str(a->next_stage, x->next_stage) ||
        !same_str(a->plan, x->plan) || a->in_change != x->in_change || a->external != x->external ||
        a->preempt_active != x->preempt_active || a->priority_active != x->priority_active ||
        a->in_transition != x->in_transition || a->n_groups != x->n_groups)
        return 0;
    for (int32_t g = 0; g < x->n_groups; g++)
        if (a->groups[g].state != x->groups[g].state ||
            a->groups[g].min_end_ms != rel_time(x->groups[g].min_end_ms, t) ||
            a->groups[g].max_end_ms != rel_time(x->groups[g].max_end_ms, t))
            return 0;
    return 1;
}

/* The delta of the full tick in *tk (fx->spat, fx->dets) into fx->dspat / fx->ddet. */
static void make_delta(fx_t *fx, proto_tick_t *tk) {
    int32_t n = 0;
    for (int32_t s = 0; s < tk->n_spat; s++) {
        const proto_intersection_state_t *x = &tk->spat[s];
        if (fx->sent && same_as_sent(fx, s, x, tk->time_ms))
            continue;
        proto_group_state_t *g = &fx->last_groups[(size_t)s * SIM_MAX_GROUPS];
        for (int32_t k = 0; k < x->n_groups; k++) {
            g[k] = x->groups[k];
            g[k].min_end_ms = rel_time(g[k].min_end_ms, tk->time_ms);
            g[k].max_end_ms = rel_time(g[k].max_end_ms, tk->time_ms);
        }
        fx->last[s] = *x;
        fx->last[s].groups = g;
        fx->dspat[n++] = *x;
    }
    tk->spat = fx->dspat;
    tk->n_spat = n;
    n = 0;
    for (int32_t d = 0; d < tk->n_detectors; d++) {
        const proto_detector_state_t *x = &tk->detectors[d];
        if (fx->sent && fx->last_det[d].count == x->count &&
            fx->last_det[d].occupied == x->occupied)
            continue;
        fx->last_det[d] = *x;
        fx->ddet[n++] = *x;
    }
    tk->detectors = fx->ddet;
    tk->n_detectors = n;
    tk->delta = fx->sent;
    fx->sent = 1;
}

void fx_free(fx_t **fxp) {
    fx_t *fx = *fxp;
    if (fx == NULL)
        return;
    ctl_destroy(&fx->ctl);
    sim_scenario_destroy(&fx->scn);
    fclose(fx->log);
    free(fx->logbuf);
    free(fx->sigs);
    free(fx->spat);
    free(fx->groups);
    free(fx->dets);
    free(fx->det_count);
    free(fx->det_occ);
    free(fx->last);
    free(fx->last_groups);
    free(fx->last_det);
    free(fx->dspat);
    free(fx->ddet);
    free(fx);
    *fxp = NULL;
}

void fx_det(fx_t *fx, const char *id, int64_t count, int occupied) {
    for (int32_t d = 0; d < fx->scn->n_detectors; d++)
        if (strcmp(fx->scn->detectors[d].id, id) == 0) {
            fx->det_count[d] = count;
            fx->det_occ[d] = occupied;
            return;
        }
    ck_abort_msg("no detector %s", id);
}

int32_t fx_signal(const fx_t *fx, const char *node) {
    for (int32_t s = 0; s < fx->scn->n_signals; s++)
        if (strcmp(fx->scn->nodes[fx->scn->signals[s].node].id, node) == 0)
            return s;
    return -1;
}

static int32_t stage_index(const sim_signal_t *sig, const char *id) {
    for (int32_t k = 0; id != NULL && k < sig->n_stages; k++)
        if (strcmp(sig->stages[k].id, id) == 0)
            return k;
    return -1;
}

int fx_tick(fx_t *fx, int64_t t, const proto_srm_t *srms, int32_t n_srms) {
    const sim_scenario_t *scn = fx->scn;
    fx->now = t;
    for (int32_t s = 0; s < scn->n_signals; s++) {
        fx_sig_advance(&fx->sigs[s], t);
        fx_sig_spat(&fx->sigs[s], scn->nodes[scn->signals[s].node].id, &fx->spat[s],
                    &fx->groups[(size_t)s * SIM_MAX_GROUPS]);
    }
    for (int32_t d = 0; d < scn->n_detectors; d++)
        fx->dets[d] =
            (proto_detector_state_t){scn->detectors[d].id, fx->det_count[d], fx->det_occ[d]};
    proto_msg_t msg = {.type = PROTO_TICK, .version = PROTO_VERSION, .seq = fx->seq++};
    msg.u.tick = (proto_tick_t){.time_ms = t,
                                .spat = fx->spat,
                                .n_spat = scn->n_signals,
                                .detectors = fx->dets,
                                .n_detectors = scn->n_detectors,
                                .srms = (proto_srm_t *)srms,
                                .n_srms = n_srms};
    if (fx->event)
        make_delta(fx, &msg.u.tick);
    memset(&fx->reply, 0, sizeof fx->reply);
    fx->rc = ctl_handle(fx->ctl, fx->peer, strlen(fx->peer), &msg, &fx->reply, &fx->err);
    if (fx->rc != 1)
        return fx->rc;
    const proto_control_t *c = &fx->reply.u.control;
    ck_assert_int_eq(fx->reply.type, PROTO_CONTROL);
    ck_assert_int_eq((int)c->ack, (int)msg.seq);
    base_err_t err = {0};
    char *text = proto_msg_encode(&fx->reply, NULL, &err);
    if (text == NULL)
        fx->bad_encode++;
    ck_assert_msg(text != NULL, "reply does not encode: %s", err.msg);
    free(text);
    for (int32_t i = 0; i < c->n_commands; i++) {
        const proto_command_t *cmd = &c->commands[i];
        int32_t s = fx_signal(fx, cmd->intersection);
        fx->commands++;
        if (s < 0) {
            fx->refusals++;
            continue;
        }
        int32_t k = stage_index(&scn->signals[s], cmd->stage);
        if (fx_sig_command(&fx->sigs[s], cmd->action, k, cmd->hold, (int)cmd->transition) < 0)
            fx->refusals++;
        else
            fx->sigs[s].preempt = cmd->action == PROTO_CMD_RELEASE ? 0 : cmd->preempt;
    }
    return fx->rc;
}

const proto_control_t *fx_control(const fx_t *fx) {
    return &fx->reply.u.control;
}

int fx_n_cmds(const fx_t *fx) {
    return fx->rc == 1 ? fx->reply.u.control.n_commands : 0;
}

int fx_has(const fx_t *fx, const char *node, proto_cmd_action_t action, const char *stage,
           int hold) {
    const proto_control_t *c = &fx->reply.u.control;
    for (int32_t i = 0; fx->rc == 1 && i < c->n_commands; i++) {
        const proto_command_t *cmd = &c->commands[i];
        if (strcmp(cmd->intersection, node) != 0 || cmd->action != action)
            continue;
        if (stage != NULL && (cmd->stage == NULL || strcmp(cmd->stage, stage) != 0))
            continue;
        if (hold >= 0 && cmd->hold != hold)
            continue;
        return 1;
    }
    return 0;
}

int fx_ssm(const fx_t *fx, const char *vehicle, const char *node) {
    const proto_control_t *c = &fx->reply.u.control;
    for (int32_t i = 0; fx->rc == 1 && i < c->n_ssm; i++)
        if (strcmp(c->ssm[i].vehicle_id, vehicle) == 0 && strcmp(c->ssm[i].intersection, node) == 0)
            return (int)c->ssm[i].status;
    return -1;
}

int fx_logged(const fx_t *fx, const char *text) {
    const proto_control_t *c = &fx->reply.u.control;
    for (int32_t i = 0; fx->rc == 1 && i < c->n_log; i++)
        if (strstr(c->log[i], text) != NULL)
            return 1;
    return 0;
}

void fx_srm(fx_srm_t *out, const char *vehicle, int32_t request_id, proto_role_t role,
            const char *on, int n, const char *const *nodes, const char *const *in,
            const char *const *out_links, const int64_t *eta) {
    memset(out, 0, sizeof *out);
    ck_assert_int_le(n, 8);
    out->srm.request_id = request_id;
    out->srm.vehicle_id = vehicle;
    out->srm.role = role;
    out->srm.link = on;
    out->srm.requests = out->req;
    out->srm.n_requests = n;
    for (int i = 0; i < n; i++)
        out->req[i] = (proto_request_t){.intersection = nodes[i],
                                        .request_type = PROTO_REQ_UPDATE,
                                        .in_bound_lane = in[i],
                                        .out_bound_lane = out_links[i],
                                        .eta_ms = eta[i],
                                        .duration_ms = role == PROTO_ROLE_TRANSIT ? 2000 : 4000};
}
