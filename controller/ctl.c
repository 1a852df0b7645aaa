/*
 * controller/ctl.c - the controller: sessions, message dispatch and the reply.
 *
 * Sessions live in an array searched by peer identity (O(n) per message; fine for the few
 * hundred simulations of a batch, whose per-tick work dwarfs the search). A hello always
 * ends the peer's previous session (the simulator started a new run) and, if it is valid,
 * starts a new one; a refused hello therefore leaves the peer without a session, so its
 * ticks are refused until a valid hello arrives.
 *
 * Bounds (ctl_limits_t): a hello is checked against the map limits and the session count
 * before its session exists; a tick is checked against the request limit and its work
 * estimate (ctl_tick_work) before anything of it is read, and breaking either drops the
 * session. Every message advances the controller's clock (a count of messages) and reaps the
 * sessions that have been silent for more than reap_after of them: a simulator that crashed,
 * or reconnected under a new identity, leaves its session behind until then. Both checks are
 * O(sessions) per message, like the search.
 *
 * A tick runs in a fixed order: read the SPaT and detectors into the view, note which
 * services the SPaT shows lost, resolve the SRMs into requests, run the strategy (which
 * emits commands through ctl__emit() and sets request statuses), then build the SSMs and log
 * the status changes. Everything the reply points to lives in the session's arena, reset at
 * the next tick, or in the map: it stays valid until the next call for the same peer.
 */
#include "controller/ctl.h"

#include "controller/ctl_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_NAME "greenwave-controller 0.1.0"

const char *const CTL_STRATEGIES[] = {"none",        "actuated",    "local", "corridor",
                                      "corridor-v1", "route-green", NULL};

static void none_tick(ctl__session_t *s) {
    (void)s;
}

static const ctl__strategy_t STRATEGIES[] = {
    {"none", none_tick, 0},
    {"actuated", ctl__actuated_tick, 1},
    {"local", ctl__local_tick, 1},
    {"corridor", ctl__corridor_tick, 1},
    {"corridor-v1", ctl__corridor_v1_tick, 1},
    {"route-green", ctl__route_green_tick, 0},
};

#define N_STRATEGIES ((int)(sizeof STRATEGIES / sizeof STRATEGIES[0]))

struct ctl {
    ctl_config_t cfg;
    const ctl__strategy_t *strategy; /* default */
    ctl__session_t **sessions;
    int n_sessions, cap_sessions;
    ctl_stats_t st; /* .sessions is filled in by ctl_stats() */
};

static const ctl__strategy_t *find_strategy(const char *name) {
    for (int i = 0; name != NULL && i < N_STRATEGIES; i++)
        if (strcmp(STRATEGIES[i].name, name) == 0)
            return &STRATEGIES[i];
    return NULL;
}

static int unknown_strategy(base_err_t *err, const char *name) {
    char known[128] = "";
    for (int i = 0; i < N_STRATEGIES; i++) {
        strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
        strncat(known, STRATEGIES[i].name, sizeof known - strlen(known) - 1);
    }
    return base_err_set(err, BASE_EINVAL, "unknown strategy \"%.64s\" (known: %s)", name, known);
}

void ctl_config_defaults(ctl_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->strategy = "none";
    cfg->transition = PROTO_TRANSITION_SHORTWAY;
    cfg->detection_range_s = 20.0;
    cfg->safety_margin_s = 3.0;
    cfg->tsp = 0; /* opt-in: strategies are compared on escort priority alone by default */
    cfg->log = NULL;
    cfg->passage_s = 3.0;
    cfg->transition_auto = 0;
    cfg->tsp_horizon_s = 10.0;
    cfg->tsp_lockout_s = 60.0;
    cfg->tsp_max_cut_s = 10.0;
    cfg->engage_s = 60.0;
    cfg->meter_s = 8.0;
    cfg->meter_horizon_s = 150.0;
    cfg->spill_fill = 0.5;
    cfg->dwell_weight = 2.0;
    cfg->turn_gap_s = 75.0;
    cfg->gate_s = 150.0;
    cfg->lead_s = 12.0;
    cfg->limits = (ctl_limits_t){
        .max_sessions = 256,
        .max_requests = 1024,
        .max_signals = 4096,
        .max_groups = 65536,
        .max_detectors = 65536,
        .max_links = 262144,
        .max_work = INT64_C(50000000),
        .reap_after = INT64_C(100000),
    };
}

#define P(opt, field, lo, hi, help)                                                                \
    { opt, offsetof(ctl_config_t, field), lo, hi, help }
const ctl_param_t CTL_PARAMS[] = {
    P("--detection-range", detection_range_s, 0, 86400,
      "local: ETA in seconds at which a signal is preempted (20)"),
    P("--margin", safety_margin_s, 0, 86400,
      "corridor-v1: seconds of green before the queue must be clear (3)"),
    P("--lead", lead_s, 0, 86400,
      "corridor: seconds before the escort's arrival by which the queue ahead of it\n"
      "must be clear (12)"),
    P("--passage", passage_s, 0.001, 86400, "actuated: passage time (unit extension), s (3)"),
    P("--tsp-horizon", tsp_horizon_s, 0, 86400,
      "TSP: bus ETA in seconds within which it acts (10)"),
    P("--tsp-lockout", tsp_lockout_s, 0, 86400,
      "TSP: seconds without priority for another bus after one (60)"),
    P("--tsp-max-cut", tsp_max_cut_s, 0, 86400,
      "TSP: most seconds an early green cuts from a green (10)"),
    P("--engage", engage_s, 0, 86400,
      "corridor: engage a signal when the escort's green is due within S s (60)"),
    P("--meter", meter_s, 0, 86400,
      "corridor: most seconds cut from each cross-street green in the cycles\n"
      "before the escort's green (metering); 0: cut at once, as corridor-v1 (8)"),
    P("--meter-horizon", meter_horizon_s, 0, 86400,
      "corridor: metering starts when the escort's green is due within S s (150)"),
    P("--spill-fill", spill_fill, 0, 1000,
      "corridor: an approach this full (share of its storage) is flushed no later\n"
      "than the signal upstream of it, which is gated (--gate) (0.5; above 1: never)"),
    P("--turn-gap", turn_gap_s, 0, 86400,
      "corridor: while the escort's stage is held ahead of it, the stage serving\n"
      "the other movements of its approach (turns) gets its planned green after\n"
      "this many seconds (75; 0: never)"),
    P("--gate", gate_s, 0, 86400,
      "corridor: within S s of the escort, a signal whose escort exit link is\n"
      "--spill-fill full holds its next stage instead until it drains (150; 0: never)"),
    P("--dwell-weight", dwell_weight, 0, 1000,
      "corridor, --transition auto: cost of a second of dwell against a\n"
      "second of shortway or longway transition (2)"),
    {NULL, 0, 0, 0, NULL},
};
#undef P

/* "NAME=N" of ctl_limits_t: the names and upper bounds of greenwave-controller's --limit. */
static int set_limit(ctl_limits_t *lim, const char *arg, base_err_t *err) {
    static const struct {
        const char *name;
        int64_t min, max;
    } names[] = {{"sessions", 1, 1000000},      {"requests", 1, 1000000},
                 {"signals", 1, 1000000},       {"groups", 1, 10000000},
                 {"detectors", 1, 10000000},    {"links", 1, 10000000},
                 {"work", 1, INT64_C(1) << 50}, {"reap-after", 0, INT64_C(1) << 50}};
    const char *eq = strchr(arg, '=');
    size_t n = eq != NULL ? (size_t)(eq - arg) : 0;
    for (size_t i = 0; eq != NULL && i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) != n || strncmp(arg, names[i].name, n) != 0)
            continue;
        char *end;
        errno = 0;
        long long v = strtoll(eq + 1, &end, 10);
        if (errno != 0 || end == eq + 1 || *end != '\0' || v < names[i].min || v > names[i].max)
            return base_err_set(
                err, BASE_EINVAL, "--limit %s: expected a whole number in [%lld, %lld], got '%s'",
                names[i].name, (long long)names[i].min, (long long)names[i].max, eq + 1);
        int64_t *wide[] = {NULL, NULL, NULL, NULL, NULL, NULL, &lim->max_work, &lim->reap_after};
        int32_t *narrow[] = {NULL,
                             &lim->max_requests,
                             &lim->max_signals,
                             &lim->max_groups,
                             &lim->max_detectors,
                             &lim->max_links,
                             NULL,
                             NULL};
        if (i == 0)
            lim->max_sessions = (int)v;
        else if (wide[i] != NULL)
            *wide[i] = v;
        else
            *narrow[i] = (int32_t)v;
        return BASE_OK;
    }
    return base_err_set(err, BASE_EINVAL,
                        "--limit: expected NAME=N with NAME one of sessions, requests, signals, "
                        "groups, detectors, links, work, reap-after; got '%s'",
                        arg);
}

int ctl_config_set(ctl_config_t *cfg, const char *option, const char *value, base_err_t *err) {
    if (strcmp(option, "--tsp") == 0 || strcmp(option, "--no-tsp") == 0) {
        cfg->tsp = strcmp(option, "--tsp") == 0;
        return BASE_OK;
    }
    if (value == NULL)
        return base_err_set(err, BASE_EINVAL, "%s: needs a value", option);
    if (strcmp(option, "--transition") == 0) {
        /* The names are the protocol's (proto_transition_name), plus "auto". */
        static const proto_transition_t all[] = {PROTO_TRANSITION_DWELL, PROTO_TRANSITION_SHORTWAY,
                                                 PROTO_TRANSITION_LONGWAY};
        int automatic = strcmp(value, "auto") == 0, known = automatic;
        for (size_t t = 0; !known && t < sizeof all / sizeof all[0]; t++)
            if (strcmp(value, proto_transition_name(all[t])) == 0) {
                cfg->transition = all[t];
                known = 1;
            }
        if (!known)
            return base_err_set(err, BASE_EINVAL,
                                "--transition: expected dwell, shortway, longway or auto, got '%s'",
                                value);
        cfg->transition_auto = automatic;
        return BASE_OK;
    }
    if (strcmp(option, "--limit") == 0)
        return set_limit(&cfg->limits, value, err);
    for (const ctl_param_t *p = CTL_PARAMS; p->option != NULL; p++) {
        if (strcmp(p->option, option) != 0)
            continue;
        char *end;
        double x = strtod(value, &end);
        if (end == value || *end != '\0' || !isfinite(x) || x < p->min || x > p->max)
            return base_err_set(err, BASE_EINVAL, "%s: expected a number in [%g, %g], got '%s'",
                                option, p->min, p->max, value);
        *(double *)(void *)((char *)cfg + p->offset) = x;
        return BASE_OK;
    }
    return base_err_set(err, BASE_EINVAL, "%s: no such controller option", option);
}

ctl_t *ctl_new(const ctl_config_t *cfg, base_err_t *err) {
    ctl_config_t def;
    if (cfg == NULL) {
        ctl_config_defaults(&def);
        cfg = &def;
    }
    const char *name = cfg->strategy != NULL ? cfg->strategy : "none";
    const ctl__strategy_t *st = find_strategy(name);
    if (st == NULL) {
        unknown_strategy(err, name);
        return NULL;
    }
    if (cfg->transition != PROTO_TRANSITION_DWELL && cfg->transition != PROTO_TRANSITION_SHORTWAY &&
        cfg->transition != PROTO_TRANSITION_LONGWAY) {
        base_err_set(err, BASE_EINVAL, "transition %d: must be dwell, shortway or longway",
                     (int)cfg->transition);
        return NULL;
    }
    for (const ctl_param_t *p = CTL_PARAMS; p->option != NULL; p++) {
        double v = *(const double *)(const void *)((const char *)cfg + p->offset);
        if (!isfinite(v) || v < p->min || v > p->max) {
            base_err_set(err, BASE_EINVAL, "%s %g: must be in [%g, %g]", p->option, v, p->min,
                         p->max);
            return NULL;
        }
    }
    const ctl_limits_t *lim = &cfg->limits;
    if (lim->max_sessions < 1 || lim->max_requests < 0 || lim->max_signals < 0 ||
        lim->max_groups < 0 || lim->max_detectors < 0 || lim->max_links < 0 || lim->max_work < 1 ||
        lim->reap_after < 0) {
        base_err_set(err, BASE_EINVAL,
                     "limits: sessions and work must be >= 1, the other bounds >= 0");
        return NULL;
    }
    ctl_t *ctl = calloc(1, sizeof *ctl);
    if (ctl == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        return NULL;
    }
    ctl->cfg = *cfg;
    ctl->strategy = st;
    ctl->cfg.strategy = st->name; /* static: the caller's string need not outlive us */
    return ctl;
}

static void session_destroy(ctl__session_t **sp) {
    ctl__session_t *s = *sp;
    if (s == NULL)
        return;
    ctl__map_fini(&s->map);
    base_arena_fini(&s->arena);
    free(s->peer);
    free(s->views);
    free(s->dets);
    free(s->svc);
    free(s->tsp);
    free(s->memos);
    free(s->escort_seen);
    free(s->commanded);
    free(s->log);
    ctl__sync_fini(s);
    free(s);
    *sp = NULL;
}

void ctl_destroy(ctl_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    ctl_t *ctl = *self_p;
    for (int i = 0; i < ctl->n_sessions; i++)
        session_destroy(&ctl->sessions[i]);
    free(ctl->sessions);
    free(ctl);
    *self_p = NULL;
}

int ctl_sessions(const ctl_t *ctl) {
    return ctl != NULL ? ctl->n_sessions : 0;
}

ctl_stats_t ctl_stats(const ctl_t *ctl) {
    ctl_stats_t st = ctl->st;
    st.sessions = ctl->n_sessions;
    return st;
}

int64_t ctl_tick_work(const proto_tick_t *t, int32_t n_signals) {
    /* Every count is bounded by the message size, so the sums cannot overflow; the squares
     * are clamped. */
    int64_t w = (int64_t)n_signals + 1, reqs = 0;
    w += t->n_spat > 0 ? t->n_spat : 0;
    for (int32_t j = 0; j < t->n_spat && t->spat != NULL; j++)
        w += t->spat[j].n_groups > 0 ? t->spat[j].n_groups : 0;
    w += t->n_detectors > 0 ? t->n_detectors : 0;
    for (int32_t j = 0; j < t->n_srms && t->srms != NULL; j++) {
        int64_t n = t->srms[j].n_requests > 0 ? t->srms[j].n_requests : 0;
        reqs += n;
        w += 1 + (n < INT64_C(1) << 24 ? n * n : INT64_C(1) << 48);
    }
    return w + reqs +
           ((int64_t)n_signals + 1) * (reqs < INT64_C(1) << 24 ? reqs : INT64_C(1) << 24);
}

static int64_t tick_requests(const proto_tick_t *t) {
    int64_t n = 0;
    for (int32_t j = 0; j < t->n_srms && t->srms != NULL; j++)
        n += t->srms[j].n_requests > 0 ? t->srms[j].n_requests : 0;
    return n;
}

/* The peer's id for the log: printable bytes as they are, others as \xNN, at most 48. */
static const char *peer_name(const void *peer, size_t len, char *buf, size_t cap) {
    const unsigned char *p = peer;
    size_t o = 0;
    for (size_t i = 0; i < len && i < 48 && o + 5 < cap; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            buf[o++] = (char)p[i];
        else
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", p[i]);
    }
    buf[o] = '\0';
    return buf;
}

static int find_session(const ctl_t *ctl, const void *peer, size_t len) {
    for (int i = 0; i < ctl->n_sessions; i++) {
        const ctl__session_t *s = ctl->sessions[i];
        if (s->peer_len == len && (len == 0 || memcmp(s->peer, peer, len) == 0))
            return i;
    }
    return -1;
}

static void drop_session(ctl_t *ctl, int i) {
    session_destroy(&ctl->sessions[i]);
    ctl->sessions[i] = ctl->sessions[ctl->n_sessions - 1];
    ctl->n_sessions--;
}

/* Advances the message clock and reaps the sessions idle for more than reap_after messages
 * (never the sender's own). */
static void reap_idle(ctl_t *ctl, const void *peer, size_t peer_len) {
    int64_t now = ++ctl->st.clock, after = ctl->cfg.limits.reap_after;
    for (int i = ctl->n_sessions - 1; after > 0 && i >= 0; i--) {
        ctl__session_t *s = ctl->sessions[i];
        if (now - s->last_seen <= after ||
            (s->peer_len == peer_len && (peer_len == 0 || memcmp(s->peer, peer, peer_len) == 0)))
            continue;
        if (ctl->cfg.log != NULL) {
            char name[256];
            fprintf(ctl->cfg.log,
                    "session %s (%s, %lld ticks): reaped, silent for %lld messages (limit %lld)\n",
                    peer_name(s->peer, s->peer_len, name, sizeof name), s->scenario,
                    (long long)s->ticks, (long long)(now - s->last_seen), (long long)after);
            fflush(ctl->cfg.log);
        }
        ctl->st.reaped++;
        drop_session(ctl, i);
    }
}

/* Checks the map of a new session against the limits. */
static int check_map(const ctl_limits_t *lim, const sim_scenario_t *scn, base_err_t *err) {
    int64_t groups = 0;
    for (int32_t i = 0; i < scn->n_signals; i++)
        groups += scn->signals[i].n_groups;
    const char *what = NULL;
    int64_t n = 0, max = 0;
    if (scn->n_signals > lim->max_signals)
        what = "signals", n = scn->n_signals, max = lim->max_signals;
    else if (groups > lim->max_groups)
        what = "signal groups", n = groups, max = lim->max_groups;
    else if (scn->n_detectors > lim->max_detectors)
        what = "detectors", n = scn->n_detectors, max = lim->max_detectors;
    else if (scn->n_links > lim->max_links)
        what = "links", n = scn->n_links, max = lim->max_links;
    if (what == NULL)
        return BASE_OK;
    return base_err_set(err, BASE_ERANGE, "hello: the map has %lld %s (limit %lld)", (long long)n,
                        what, (long long)max);
}

/* ---- output ---------------------------------------------------------------------------- */

const char *ctl__sig_name(const ctl__session_t *s, int32_t sig) {
    const sim_scenario_t *scn = s->map.scn;
    return sig >= 0 && sig < scn->n_signals ? scn->nodes[scn->signals[sig].node].id : "?";
}

const char *ctl__stage_name(const ctl__session_t *s, int32_t sig, int32_t k) {
    const sim_scenario_t *scn = s->map.scn;
    if (sig < 0 || sig >= scn->n_signals || k < 0 || k >= scn->signals[sig].n_stages)
        return "?";
    return scn->signals[sig].stages[k].id;
}

static int push_log(ctl__session_t *s, const char *line) {
    if (s->n_log == s->cap_log) {
        int32_t cap = s->cap_log ? 2 * s->cap_log : 16;
        const char **log = realloc(s->log, (size_t)cap * sizeof *log);
        if (log == NULL)
            return BASE_ENOMEM;
        s->log = log;
        s->cap_log = cap;
    }
    char *copy = base_arena_strdup(&s->arena, line);
    if (copy == NULL)
        return BASE_ENOMEM;
    s->log[s->n_log++] = copy;
    return BASE_OK;
}

int ctl__logging(const ctl__session_t *s) {
    return s->send_log || s->cfg->log != NULL;
}

void ctl__log(ctl__session_t *s, const char *fmt, ...) {
    if (!ctl__logging(s))
        return;
    char line[CTL__LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (s->send_log && push_log(s, line) < 0)
        s->oom = 1;
    FILE *f = s->cfg->log;
    if (f != NULL) {
        fprintf(f, "%lld.%03lld %s %s: %s\n", (long long)(s->now / 1000),
                (long long)(s->now % 1000), s->scenario, s->strategy->name, line);
        fflush(f);
    }
}

static const char *action_word(proto_cmd_action_t a) {
    switch (a) {
    case PROTO_CMD_HOLD:
        return "hold";
    case PROTO_CMD_FORCE_OFF:
        return "force-off";
    case PROTO_CMD_CALL:
        return "call";
    case PROTO_CMD_RELEASE:
        return "release";
    }
    return "?";
}

static const char *transition_word(proto_transition_t t) {
    switch (t) {
    case PROTO_TRANSITION_DWELL:
        return "dwell";
    case PROTO_TRANSITION_SHORTWAY:
        return "shortway";
    case PROTO_TRANSITION_LONGWAY:
        return "longway";
    }
    return "?";
}

int ctl__emit(ctl__session_t *s, int32_t sig, proto_cmd_action_t action, int32_t stage, int hold,
              int preempt, const char *why) {
    const sim_scenario_t *scn = s->map.scn;
    const char *bad = NULL;
    if (sig < 0 || sig >= scn->n_signals)
        bad = "no such intersection";
    else if (s->commanded[sig])
        bad = "a second command for the same intersection in one tick";
    else if (action == PROTO_CMD_CALL && (stage < 0 || stage >= scn->signals[sig].n_stages))
        bad = "no such stage";
    else if (action == PROTO_CMD_FORCE_OFF && !ctl__view_can_force_off(s, sig))
        bad = "force-off before the minimum green or during a change interval";
    else if (s->n_cmds >= scn->n_signals)
        bad = "too many commands";
    if (bad != NULL) {
        ctl__log(s, "internal error: %s %s at %s not sent (%s)", action_word(action),
                 ctl__stage_name(s, sig, stage), ctl__sig_name(s, sig), bad);
        return 0;
    }
    if (s->n_cmds == s->cap_cmds) {
        int32_t cap = s->cap_cmds ? 2 * s->cap_cmds : 16;
        proto_command_t *more = base_arena_alloc(&s->arena, (size_t)cap * sizeof *more);
        if (more == NULL) {
            s->oom = 1;
            return 0;
        }
        if (s->n_cmds > 0)
            memcpy(more, s->cmds, (size_t)s->n_cmds * sizeof *more);
        s->cmds = more;
        s->cap_cmds = cap;
    }
    proto_command_t *c = &s->cmds[s->n_cmds++];
    memset(c, 0, sizeof *c);
    c->intersection = ctl__sig_name(s, sig);
    c->action = action;
    if (action == PROTO_CMD_CALL) {
        c->stage = scn->signals[sig].stages[stage].id;
        c->hold = hold != 0;
    }
    if (action == PROTO_CMD_RELEASE)
        c->transition = s->release_transition >= 0 ? (proto_transition_t)s->release_transition
                        : s->cfg->transition_auto  ? PROTO_TRANSITION_SHORTWAY
                                                   : s->cfg->transition;
    else
        c->preempt = preempt != 0;
    s->commanded[sig] = 1;
    if (action == PROTO_CMD_CALL)
        ctl__log(s, "%s: call %s%s%s: %s", c->intersection, c->stage, c->hold ? " hold" : "",
                 c->preempt ? " preempt" : "", why);
    else if (action == PROTO_CMD_RELEASE)
        ctl__log(s, "%s: release (%s): %s", c->intersection, transition_word(c->transition), why);
    else
        ctl__log(s, "%s: %s %s: %s", c->intersection, action_word(action),
                 ctl__stage_name(s, sig, s->views[sig].stage), why);
    return 1;
}

ctl__memo_t *ctl__memo(ctl__session_t *s, const char *vehicle, int32_t sig) {
    for (int32_t i = 0; i < s->n_memos; i++) {
        ctl__memo_t *m = &s->memos[i];
        if (m->sig == sig && strncmp(m->vehicle, vehicle, sizeof m->vehicle - 1) == 0) {
            m->mark = 1;
            return m;
        }
    }
    if (s->n_memos == s->cap_memos) {
        int32_t cap = s->cap_memos ? 2 * s->cap_memos : 16;
        ctl__memo_t *memos = realloc(s->memos, (size_t)cap * sizeof *memos);
        if (memos == NULL) {
            s->oom = 1;
            return NULL;
        }
        s->memos = memos;
        s->cap_memos = cap;
    }
    ctl__memo_t *m = &s->memos[s->n_memos++];
    memset(m, 0, sizeof *m);
    snprintf(m->vehicle, sizeof m->vehicle, "%s", vehicle);
    m->sig = sig;
    m->status = -1;
    m->green_at = CTL__NEVER;
    m->link = -1;
    m->entry = -1;
    m->held_since = CTL__NEVER;
    m->turn_until = CTL__NEVER;
    m->mark = 1;
    return m;
}

static const char *status_word(proto_ssm_status_t st) {
    switch (st) {
    case PROTO_SSM_UNKNOWN:
        return "unknown";
    case PROTO_SSM_REQUESTED:
        return "requested";
    case PROTO_SSM_PROCESSING:
        return "processing";
    case PROTO_SSM_WATCH_OTHER_TRAFFIC:
        return "watchOtherTraffic";
    case PROTO_SSM_GRANTED:
        return "granted";
    case PROTO_SSM_REJECTED:
        return "rejected";
    case PROTO_SSM_MAX_PRESENCE:
        return "maxPresence";
    case PROTO_SSM_RESERVICE_LOCKED:
        return "reserviceLocked";
    }
    return "?";
}

/* Whether the log line of r's status gives its reason. */
static int explained(const ctl__req_t *r) {
    return r->why != NULL &&
           (r->status == PROTO_SSM_REJECTED || (r->status == PROTO_SSM_PROCESSING && r->valid));
}

/* Builds the SSM list from the requests' statuses and logs each change of status. */
static void build_ssm(ctl__session_t *s) {
    s->ssm = base_arena_calloc(&s->arena, (size_t)s->n_reqs + 1, sizeof *s->ssm);
    if (s->ssm == NULL) {
        s->oom = 1;
        return;
    }
    for (int32_t i = 0; i < s->n_reqs; i++) {
        const ctl__req_t *r = &s->reqs[i];
        if (!r->ssm || r->request_id < 0 || r->request_id > 255)
            continue;
        proto_ssm_entry_t *e = &s->ssm[s->n_ssm++];
        e->request_id = r->request_id;
        e->vehicle_id = base_arena_strdup(&s->arena, r->vehicle);
        e->intersection =
            r->sig >= 0 ? ctl__sig_name(s, r->sig) : base_arena_strdup(&s->arena, r->intersection);
        e->status = r->status;
        if (e->vehicle_id == NULL || e->intersection == NULL) {
            s->oom = 1;
            return;
        }
        if (r->sig < 0) {
            continue;
        }
        ctl__memo_t *m = ctl__memo(s, r->vehicle, r->sig);
        if (m != NULL && m->status != (int)r->status) {
            ctl__log(s, "%s: SSM %s: %s%s%s (ETA in %.1f s)%s%s", ctl__sig_name(s, r->sig),
                     r->vehicle, m->status < 0 ? "" : status_word((proto_ssm_status_t)m->status),
                     m->status < 0 ? "" : " -> ", status_word(r->status),
                     (double)(r->eta - s->now) / 1000.0, explained(r) ? ": " : "",
                     explained(r) ? r->why : "");
            m->status = (int)r->status;
        }
    }
}

/* Requests the strategy left unanswered (an unknown intersection, a role without priority)
 * are rejected; the strategy none answers nothing. */
static void reject_unanswered(ctl__session_t *s) {
    if (s->strategy->tick == none_tick)
        return;
    for (int32_t i = 0; i < s->n_reqs; i++)
        if (!s->reqs[i].ssm)
            ctl__req_reject(&s->reqs[i], "not served by this strategy");
}

/* Forgets the memos of requests not seen in this tick. */
static void sweep_memos(ctl__session_t *s) {
    int32_t n = 0;
    for (int32_t i = 0; i < s->n_memos; i++) {
        if (s->memos[i].mark) {
            s->memos[i].mark = 0;
            s->memos[n++] = s->memos[i];
        }
    }
    s->n_memos = n;
}

/* ---- messages -------------------------------------------------------------------------- */

static int handle_hello(ctl_t *ctl, const void *peer, size_t peer_len, const proto_msg_t *msg,
                        proto_msg_t *reply, base_err_t *err) {
    const proto_hello_t *h = &msg->u.hello;
    int old = find_session(ctl, peer, peer_len);
    if (old >= 0)
        drop_session(ctl, old); /* a new run of this peer */
    const ctl__strategy_t *st = ctl->strategy;
    if (h->session.strategy != NULL) {
        st = find_strategy(h->session.strategy);
        if (st == NULL)
            return unknown_strategy(err, h->session.strategy);
    }
    if (h->session.tick_ms <= 0 || h->session.tick_ms > INT64_C(86400000))
        return base_err_set(err, BASE_EINVAL, "hello: tick_ms %lld: must be in (0, 1 day]",
                            (long long)h->session.tick_ms);
    if (ctl->n_sessions >= ctl->cfg.limits.max_sessions)
        return base_err_set(err, BASE_ERANGE,
                            "hello: %d sessions open already (limit %d; idle ones are reaped "
                            "after %lld messages)",
                            ctl->n_sessions, ctl->cfg.limits.max_sessions,
                            (long long)ctl->cfg.limits.reap_after);
    if (ctl->n_sessions == ctl->cap_sessions) {
        int cap = ctl->cap_sessions ? 2 * ctl->cap_sessions : 4;
        ctl__session_t **ss = realloc(ctl->sessions, (size_t)cap * sizeof *ss);
        if (ss == NULL)
            return base_err_set(err, BASE_ENOMEM, "out of memory");
        ctl->sessions = ss;
        ctl->cap_sessions = cap;
    }
    ctl__session_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    base_arena_init(&s->arena);
    int rc = ctl__map_init(&s->map, h, err);
    if (rc == 0)
        rc = check_map(&ctl->cfg.limits, s->map.scn, err);
    if (rc < 0) {
        session_destroy(&s);
        return rc;
    }
    const sim_scenario_t *scn = s->map.scn;
    s->peer = malloc(peer_len + 1);
    s->views = calloc((size_t)scn->n_signals + 1, sizeof *s->views);
    s->dets = calloc((size_t)scn->n_detectors + 1, sizeof *s->dets);
    s->svc = calloc((size_t)scn->n_signals + 1, sizeof *s->svc);
    s->tsp = calloc((size_t)scn->n_signals + 1, sizeof *s->tsp);
    s->escort_seen = calloc((size_t)scn->n_escorts + 1, 1);
    s->commanded = calloc((size_t)scn->n_signals + 1, 1);
    if (s->peer == NULL || s->views == NULL || s->dets == NULL || s->svc == NULL || !s->tsp ||
        s->escort_seen == NULL || s->commanded == NULL) {
        session_destroy(&s);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    if (peer_len > 0)
        memcpy(s->peer, peer, peer_len);
    s->peer_len = peer_len;
    s->cfg = &ctl->cfg;
    s->strategy = st;
    snprintf(s->scenario, sizeof s->scenario, "%s",
             h->session.scenario != NULL ? h->session.scenario : scn->name);
    s->tick_ms = h->session.tick_ms;
    s->last_time = -1;
    s->release_transition = -1;
    s->send_log = !h->no_log;
    s->last_seen = ctl->st.clock;
    for (int32_t i = 0; i < scn->n_signals; i++) {
        s->svc[i].stage = s->svc[i].early_stage = -1;
        s->tsp[i].at = CTL__NEVER;
    }
    ctl__view_reset(s);
    if ((h->sync & PROTO_SYNC_EVENT) && ctl__sync_init(s) < 0) {
        session_destroy(&s);
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    ctl->sessions[ctl->n_sessions++] = s;

    memset(reply, 0, sizeof *reply);
    reply->type = PROTO_WELCOME;
    reply->version = PROTO_VERSION;
    reply->seq = s->out_seq++;
    reply->u.welcome.strategy = st->name;
    reply->u.welcome.controller = CTL_NAME;
    /* The compact encoding whenever offered; subscriptions with event sync. */
    reply->u.welcome.encoding =
        (h->encodings & PROTO_ENC_BIT(PROTO_ENC_MSGPACK)) ? PROTO_ENC_MSGPACK : PROTO_ENC_JSON;
    reply->u.welcome.subscribe = s->event ? &s->sub : NULL;
    return 1;
}

static int check_tick(const proto_tick_t *t, base_err_t *err) {
    if (t->time_ms < 0 || t->time_ms > CTL__TIME_MAX)
        return base_err_set(err, BASE_EPROTO, "tick: time_ms %lld: out of range",
                            (long long)t->time_ms);
    if (t->n_spat < 0 || (t->n_spat > 0 && t->spat == NULL) || t->n_detectors < 0 ||
        (t->n_detectors > 0 && t->detectors == NULL) || t->n_srms < 0 ||
        (t->n_srms > 0 && t->srms == NULL))
        return base_err_set(err, BASE_EPROTO, "tick: an array with a bad length");
    for (int32_t j = 0; j < t->n_spat; j++)
        if (t->spat[j].n_groups < 0 || (t->spat[j].n_groups > 0 && t->spat[j].groups == NULL))
            return base_err_set(err, BASE_EPROTO, "tick: spat[%d]: groups with a bad length",
                                (int)j);
    for (int32_t j = 0; j < t->n_srms; j++)
        if (t->srms[j].n_requests < 0 || (t->srms[j].n_requests > 0 && t->srms[j].requests == NULL))
            return base_err_set(err, BASE_EPROTO, "tick: srm[%d]: requests with a bad length",
                                (int)j);
    return BASE_OK;
}

static int handle_tick(ctl_t *ctl, const void *peer, size_t peer_len, const proto_msg_t *msg,
                       proto_msg_t *reply, base_err_t *err) {
    const proto_tick_t *t = &msg->u.tick;
    int i = find_session(ctl, peer, peer_len);
    if (i < 0)
        return base_err_set(err, BASE_ESTATE, "tick from a peer without a session (no hello)");
    ctl__session_t *s = ctl->sessions[i];
    s->last_seen = ctl->st.clock;
    int rc = check_tick(t, err);
    if (rc < 0)
        return rc;
    const ctl_limits_t *lim = &ctl->cfg.limits;
    int64_t nreq = tick_requests(t), work = ctl_tick_work(t, s->map.scn->n_signals);
    if (nreq > lim->max_requests || work > lim->max_work) {
        char name[256];
        peer_name(s->peer, s->peer_len, name, sizeof name);
        if (nreq > lim->max_requests)
            base_err_set(err, BASE_ERANGE,
                         "session %s dropped: a tick with %lld priority requests (limit %d)", name,
                         (long long)nreq, (int)lim->max_requests);
        else
            base_err_set(err, BASE_ERANGE,
                         "session %s dropped: a tick of %lld work units (limit %lld)", name,
                         (long long)work, (long long)lim->max_work);
        ctl->st.dropped++;
        drop_session(ctl, i);
        return BASE_ERANGE;
    }
    if (s->last_time >= 0 && t->time_ms < s->last_time)
        return base_err_set(err, BASE_EINVAL, "tick at %lld ms goes back in time (last %lld ms)",
                            (long long)t->time_ms, (long long)s->last_time);
    const sim_scenario_t *scn = s->map.scn;
    base_arena_reset(&s->arena);
    s->now = t->time_ms;
    s->tick = t;
    s->n_cmds = s->n_ssm = s->n_log = 0;
    s->reqs = NULL;
    s->n_reqs = 0;
    s->oom = 0;
    memset(s->commanded, 0, (size_t)scn->n_signals + 1);
    s->cmds = NULL; /* grown by ctl__emit() */
    s->cap_cmds = 0;
    if (s->event) {
        ctl__sync_apply(s, t);
        ctl__view_refresh(s);
    } else {
        ctl__view_update(s, t);
    }
    ctl__svc_observe(s);
    if (ctl__requests_collect(s, t) < 0)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    s->strategy->tick(s);
    reject_unanswered(s);
    build_ssm(s);
    sweep_memos(s);
    s->last_time = s->now;
    s->ticks++;
    s->tick = NULL;
    if (s->event) {
        uint8_t *prev = s->cmd_prev; /* this tick's commands become the previous tick's */
        s->cmd_prev = s->commanded;
        s->commanded = prev;
    }
    if (s->oom)
        return base_err_set(err, BASE_ENOMEM, "out of memory");

    memset(reply, 0, sizeof *reply);
    reply->type = PROTO_CONTROL;
    reply->version = PROTO_VERSION;
    reply->seq = s->out_seq++;
    proto_control_t *c = &reply->u.control;
    c->ack = msg->seq;
    c->commands = s->cmds;
    c->n_commands = s->n_cmds;
    c->ssm = s->ssm;
    c->n_ssm = s->n_ssm;
    c->log = s->log;
    c->n_log = s->n_log;
    c->has_wake = s->event;
    if (s->event)
        c->wake = ctl__sync_wake(s);
    return 1;
}

int ctl_handle(ctl_t *ctl, const void *peer, size_t peer_len, const proto_msg_t *msg,
               proto_msg_t *reply, base_err_t *err) {
    if (ctl == NULL || msg == NULL || reply == NULL || (peer == NULL && peer_len > 0))
        return base_err_set(err, BASE_EINVAL, "ctl_handle: NULL argument");
    reap_idle(ctl, peer, peer_len);
    switch (msg->type) {
    case PROTO_HELLO: {
        int n = ctl->n_sessions;
        int rc = handle_hello(ctl, peer, peer_len, msg, reply, err);
        if (rc < 0)
            ctl->st.refused_hellos++;
        else
            ctl->st.opened++;
        if (ctl->n_sessions < n + (rc < 0 ? 0 : 1))
            ctl->st.closed++; /* the peer's previous session */
        return rc;
    }
    case PROTO_TICK:
        return handle_tick(ctl, peer, peer_len, msg, reply, err);
    case PROTO_BYE: {
        int i = find_session(ctl, peer, peer_len);
        if (i < 0)
            return base_err_set(err, BASE_ESTATE, "bye from a peer without a session");
        ctl->st.closed++;
        drop_session(ctl, i);
        return 0;
    }
    default:
        return base_err_set(err, BASE_EPROTO, "unexpected message type %d from a simulator",
                            (int)msg->type);
    }
}
