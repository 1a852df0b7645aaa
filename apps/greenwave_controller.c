/*
 * greenwave-controller - the controller process: serves any number of simulations over
 * ZeroMQ until interrupted.
 *
 * Exit status: 0 after SIGINT/SIGTERM (or --idle-exit), 2 on a bad command line, 1 when the
 * endpoint cannot be bound.
 */
#include "base/err.h"
#include "controller/ctl.h"
#include "controller/server.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static const char USAGE[] =
    "usage: greenwave-controller --bind ENDPOINT [options]\n"
    "\n"
    "Serves signal-control decisions to greenwave-sim processes (any number at once, each a\n"
    "session keyed by its socket identity) until interrupted. See docs/protocol.md.\n"
    "\n"
    "options:\n"
    "  --bind ENDPOINT       ipc://PATH, tcp://127.0.0.1:PORT or inproc://NAME (required);\n"
    "                        tcp://127.0.0.1:* takes a free port (printed at the start)\n"
    "  --strategy S          default strategy when a simulation asks for none:\n"
    "                        none | actuated | local | corridor | corridor-v1 | route-green\n"
    "                        (default: none)\n"
    "  --transition T        return to coordination: dwell | shortway | longway | auto\n"
    "                        (default: auto: corridor chooses per signal by cost, the other\n"
    "                        strategies use shortway)\n"
    "%s"
    "  --tsp                 transit signal priority for buses (green extension, early\n"
    "                        green) below escorts, in actuated, local and corridor\n"
    "  --no-tsp              no transit signal priority (the default)\n"
    "  --log FILE            write every decision with its reason to FILE ('-': stderr)\n"
    "  --allow-remote        allow a tcp:// endpoint on a non-loopback address (needs\n"
    "                        --curve-keys and --curve-allow)\n"
    "  --curve-keys FILE     serve as a CURVE server with this key pair (greenwave-keygen's\n"
    "                        NAME.key); only simulators whose public key is allowed connect\n"
    "  --curve-allow FILE    the allowed simulators' public keys, one a line (NAME.pub\n"
    "                        files concatenated); refusals are logged and counted\n"
    "  --idle-exit MS        exit after MS milliseconds without a message (for scripts)\n"
    "  --limit NAME=N        per-session bounds (docs/protocol.md, 'Limits'); NAME is one of\n"
    "                        sessions (256), requests per tick (1024), signals (4096),\n"
    "                        groups (65536), detectors (65536), links (262144), work units\n"
    "                        per tick (50000000), reap-after messages of silence (100000;\n"
    "                        0 never), message-bytes (16777216)\n"
    "  --stats-every N       write session counters to the log every N messages\n"
    "  --crash-after N       testing aid: die abruptly (exit 70, no goodbye) after N messages\n"
    "  --quiet               print nothing but errors\n"
    "  -h, --help            show this help\n";

static volatile sig_atomic_t g_stop = 0;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("greenwave-controller: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\ntry 'greenwave-controller --help'\n", stderr);
    va_end(ap);
    return 2;
}

/* --limit NAME=N: message-bytes is the server's, every other name the controller's
 * (ctl_config_set). */
static int parse_limit(const char *arg, ctl_config_t *cfg, int64_t *max_message) {
    static const char mb[] = "message-bytes=";
    if (strncmp(arg, mb, sizeof mb - 1) == 0) {
        char *end;
        errno = 0;
        long long v = strtoll(arg + sizeof mb - 1, &end, 10);
        if (errno != 0 || end == arg + sizeof mb - 1 || *end != '\0' || v < 1 ||
            v > (INT64_C(1) << 32))
            return -1;
        *max_message = v;
        return 0;
    }
    base_err_t err = {0};
    return ctl_config_set(cfg, "--limit", arg, &err);
}

static void log_stats(FILE *log, const ctl_t *ctl, const ctl_server_t *srv) {
    ctl_stats_t c = ctl_stats(ctl);
    ctl_server_stats_t st = ctl_server_stats(srv);
    fprintf(log,
            "stats: clock %lld, sessions %d, opened %lld, closed %lld, dropped %lld, reaped "
            "%lld, hellos refused %lld, messages %lld, replies %lld, refused %lld, "
            "refused keys %lld, refused handshakes %lld\n",
            (long long)c.clock, c.sessions, (long long)c.opened, (long long)c.closed,
            (long long)c.dropped, (long long)c.reaped, (long long)c.refused_hellos,
            (long long)st.received, (long long)st.replied, (long long)st.rejected,
            (long long)st.auth.refused_keys, (long long)st.auth.refused_handshakes);
    fflush(log);
}

static int parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 1e6)
        return -1;
    *out = v;
    return 0;
}

/* The usage text with the numeric parameters of CTL_PARAMS, aligned. */
static void print_usage(void) {
    char params[4096] = "";
    size_t o = 0;
    for (const ctl_param_t *p = CTL_PARAMS; p->option != NULL && o < sizeof params; p++) {
        char opt[32];
        snprintf(opt, sizeof opt, "%s S", p->option);
        o += (size_t)snprintf(params + o, sizeof params - o, "  %-21s ", opt);
        for (const char *h = p->help; *h && o + 32 < sizeof params; h++) {
            params[o++] = *h;
            if (*h == '\n')
                o += (size_t)snprintf(params + o, sizeof params - o, "%24s", "");
        }
        o += (size_t)snprintf(params + o, sizeof params - o, "\n");
    }
    printf(USAGE, params);
}

static const ctl_param_t *find_param(const char *option) {
    for (const ctl_param_t *p = CTL_PARAMS; p->option != NULL; p++)
        if (strcmp(p->option, option) == 0)
            return p;
    return NULL;
}

int main(int argc, char **argv) {
    ctl_config_t cfg;
    ctl_config_defaults(&cfg);
    const char *bind = NULL, *log_path = NULL, *keys_path = NULL, *allow_path = NULL;
    int allow_remote = 0, quiet = 0, transition_set = 0;
    double idle_ms = 0, crash_after = 0, stats_every = 0;
    int64_t max_message = CTL_SERVER_MAX_MESSAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage();
            return 0;
        } else if (strcmp(a, "--tsp") == 0) {
            cfg.tsp = 1;
        } else if (strcmp(a, "--no-tsp") == 0) {
            cfg.tsp = 0;
        } else if (strcmp(a, "--allow-remote") == 0) {
            allow_remote = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--bind") == 0 || strcmp(a, "--strategy") == 0 ||
                   strcmp(a, "--transition") == 0 || find_param(a) != NULL ||
                   strcmp(a, "--log") == 0 || strcmp(a, "--idle-exit") == 0 ||
                   strcmp(a, "--crash-after") == 0 || strcmp(a, "--limit") == 0 ||
                   strcmp(a, "--stats-every") == 0 || strcmp(a, "--curve-keys") == 0 ||
                   strcmp(a, "--curve-allow") == 0) {
            if (v == NULL)
                return usage_error("option %s needs a value", a);
            i++;
            if (strcmp(a, "--bind") == 0) {
                bind = v;
            } else if (strcmp(a, "--strategy") == 0) {
                cfg.strategy = v;
            } else if (strcmp(a, "--log") == 0) {
                log_path = v;
            } else if (strcmp(a, "--transition") == 0 || find_param(a) != NULL) {
                base_err_t perr = {0};
                if (ctl_config_set(&cfg, a, v, &perr) < 0)
                    return usage_error("%s", perr.msg);
                transition_set |= strcmp(a, "--transition") == 0;
            } else if (strcmp(a, "--curve-keys") == 0) {
                keys_path = v;
            } else if (strcmp(a, "--curve-allow") == 0) {
                allow_path = v;
            } else if (strcmp(a, "--limit") == 0) {
                if (parse_limit(v, &cfg, &max_message) < 0)
                    return usage_error("--limit: expected NAME=N with a known name and a count "
                                       "in range (see --help), got '%s'",
                                       v);
            } else if (strcmp(a, "--stats-every") == 0) {
                if (parse_double(v, &stats_every) < 0 || stats_every < 1)
                    return usage_error("--stats-every: not a positive count: '%s'", v);
            } else if (strcmp(a, "--crash-after") == 0) {
                if (parse_double(v, &crash_after) < 0 || crash_after < 1)
                    return usage_error("--crash-after: not a positive count: '%s'", v);
            } else if (parse_double(v, &idle_ms) < 0) {
                return usage_error("--idle-exit: not a number of milliseconds: '%s'", v);
            }
        } else {
            return usage_error("unknown argument '%s'", a);
        }
    }
    if (bind == NULL)
        return usage_error("%s", "--bind ENDPOINT is required");
    if (!transition_set)
        cfg.transition_auto = 1; /* the default: corridor chooses, the others use shortway */
    if ((keys_path == NULL) != (allow_path == NULL))
        return usage_error("%s", "--curve-keys and --curve-allow go together");
    base_err_t err = {0};
    auth_keypair_t keys;
    if (keys_path != NULL) {
        auth_allow_t allow;
        if (auth_keys_read_secret(keys_path, &keys, &err) < 0 ||
            auth_allow_load(&allow, allow_path, &err) < 0) {
            fprintf(stderr, "greenwave-controller: %s\n", err.msg);
            return 2;
        }
        auth_allow_fini(&allow); /* checked here; the server loads it again */
    }
    ctl_server_opts_t sopts = {.allow_remote = allow_remote,
                               .max_message = max_message,
                               .curve_keys = keys_path ? &keys : NULL,
                               .curve_allow = allow_path};

    FILE *log = NULL;
    if (log_path != NULL) {
        log = strcmp(log_path, "-") == 0 ? stderr : fopen(log_path, "w");
        if (log == NULL) {
            fprintf(stderr, "greenwave-controller: %s: %s\n", log_path, strerror(errno));
            return 1;
        }
        setvbuf(log, NULL, _IOLBF, 0);
    }
    cfg.log = log;
    ctl_t *ctl = ctl_new(&cfg, &err);
    if (ctl == NULL) {
        fprintf(stderr, "greenwave-controller: %s\n", err.msg);
        return 2;
    }
    void *zctx = zmq_ctx_new();
    ctl_server_t *srv = zctx ? ctl_server_new(zctx, bind, &sopts, ctl, log, &err) : NULL;
    if (srv == NULL) {
        fprintf(stderr, "greenwave-controller: %s\n",
                zctx ? err.msg : "cannot create a ZeroMQ context");
        ctl_destroy(&ctl);
        if (zctx)
            zmq_ctx_term(zctx);
        return err.code == BASE_EINVAL ? 2 : 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!quiet) {
        printf("greenwave-controller: listening on %s (default strategy %s%s)\n",
               ctl_server_endpoint(srv), cfg.strategy, keys_path ? ", CURVE" : "");
        fflush(stdout);
    }
    int rc = 0;
    if (crash_after > 0) {
        while (!g_stop && rc >= 0) {
            rc = ctl_server_poll(srv, 100);
            if ((double)ctl_server_stats(srv).received >= crash_after)
                _exit(70); /* a crash: no bye, no cleanup, the socket just goes away */
        }
    } else if (stats_every > 0 && log != NULL) {
        int idle = 0;
        int64_t next = (int64_t)stats_every;
        while (!g_stop && rc >= 0 && !(idle_ms > 0 && idle >= idle_ms)) {
            rc = ctl_server_poll(srv, 100);
            idle = rc > 0 ? 0 : idle + 100;
            if (ctl_server_stats(srv).received >= next) {
                log_stats(log, ctl, srv);
                next += (int64_t)stats_every;
            }
        }
    } else {
        rc = ctl_server_run(srv, &g_stop, (int)idle_ms);
    }
    if (log != NULL)
        log_stats(log, ctl, srv);
    ctl_server_stats_t st = ctl_server_stats(srv);
    ctl_stats_t cs = ctl_stats(ctl);
    if (!quiet)
        printf("greenwave-controller: %lld messages, %lld replies, %lld refused; sessions: %lld "
               "opened, %lld dropped over a limit, %lld reaped idle, %d open\n",
               (long long)st.received, (long long)st.replied, (long long)st.rejected,
               (long long)cs.opened, (long long)cs.dropped, (long long)cs.reaped, cs.sessions);
    if (!quiet && keys_path != NULL)
        printf("greenwave-controller: CURVE: %lld peers allowed, %lld refused keys, %lld refused "
               "handshakes\n",
               (long long)st.auth.allowed, (long long)st.auth.refused_keys,
               (long long)st.auth.refused_handshakes);
    ctl_server_destroy(&srv);
    ctl_destroy(&ctl);
    zmq_ctx_term(zctx);
    if (log != NULL && log != stderr)
        fclose(log);
    return rc < 0 ? 1 : 0;
}
