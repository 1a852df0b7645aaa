/*
 * greenwave-sim - runs one scenario headless and writes its outputs.
 *
 * Exit status: 0 on success, 2 on bad input (command line or scenario), 1 when the run or
 * its outputs fail.
 */
#include "auth/auth.h"
#include "base/err.h"
#include "bridge/bridge.h"
#include "bridge/publish.h"
#include "controller/ctl.h"
#include "report/report.h"
#include "scenarios/loader.h"
#include "sim/limits.h"
#include "sim/sim.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static const char USAGE[] =
    "usage: greenwave-sim SCENARIO [--seed N] [--until SECONDS] [--out DIR]\n"
    "                     [--controller ENDPOINT [--strategy S]] [--quiet]\n"
    "\n"
    "Runs the scenario (a JSON file, see docs/scenario-format.md) headless, on the signals'\n"
    "local plans or under a controller process (greenwave-controller), and writes to DIR:\n"
    "  trips.csv     one row per finished vehicle (delay, stops, ...)\n"
    "  signals.csv   every signal-group state change\n"
    "  escort.csv    per escort and stop line: arrival, signal state, wait\n"
    "  summary.json  escort, traffic and run figures\n"
    "and, with --atspm FILE, the ATSPM hi-res controller event log (docs/atspm.md).\n"
    "\n"
    "options:\n"
    "  --seed N         random seed (default 1); same scenario and seed give identical files\n"
    "  --until SECONDS  simulated time to run (default: the scenario's duration_s)\n"
    "  --out DIR        output directory, created if missing (default: out)\n"
    "  --controller EP  exchange lockstep ticks with the controller at EP (ipc://PATH,\n"
    "                   tcp://127.0.0.1:PORT); it may be started before or after this.\n"
    "                   'in-process': the controller's library runs inside this process\n"
    "                   and gets the same messages as structs (no socket, no encoding;\n"
    "                   the same decisions and outputs as over a socket)\n"
    "  --ctl OPT[=V]    with --controller in-process: a greenwave-controller option, e.g.\n"
    "                   --ctl margin=3 --ctl transition=dwell --ctl tsp\n"
    "                   --ctl limit=signals=8000 (its --help); a map beyond its limits\n"
    "                   is refused (exit 2)\n"
    "  --strategy S     strategy to ask the controller for: none, actuated, local,\n"
    "                   corridor, route-green (default: the controller's)\n"
    "  --tick-ms MS     control interval (default 1000)\n"
    "  --encoding E     json | msgpack: offer MessagePack besides JSON to the controller\n"
    "                   (default json; the controller chooses)\n"
    "  --sync M         lockstep | event: event offers wake conditions, subscriptions and\n"
    "                   delta ticks, so the run goes on between the controller's wakes\n"
    "                   (default lockstep: a full tick every control interval)\n"
    "  --timeout-ms MS  wall time to wait for an answer before the controller is declared\n"
    "                   lost and signals fall back to their local plans (default 1000)\n"
    "  --connect-timeout-ms MS  wait for the first answer (default 10000)\n"
    "  --log FILE       controller link events and decisions, one line each ('-': stderr)\n"
    "  --realtime X     pace the simulation at X times the wall clock (1: real time)\n"
    "  --publish EP     publish map, frames and events on a PUB socket (for greenwave-viz)\n"
    "  --record FILE    write the same messages to a recording (greenwave-viz --replay)\n"
    "  --listen EP      accept pause/resume/step/speed requests from greenwave-viz\n"
    "  --frame-ms MS    simulated time between frames (default 1000)\n"
    "  --start-paused   with --listen: wait for a resume or step request before running\n"
    "  --allow-remote   allow --publish/--listen on a non-loopback tcp:// address (needs\n"
    "                   --curve-keys and --curve-allow)\n"
    "  --curve-keys F   this simulator's CURVE key pair (greenwave-keygen's NAME.key): a\n"
    "                   CURVE client of the controller, a CURVE server for --publish/--listen\n"
    "  --curve-server-key F  the controller's public key (its NAME.pub), with --curve-keys\n"
    "  --curve-allow F  viewers allowed on --publish/--listen: public keys, one a line;\n"
    "                   refusals are logged (--log) and counted in summary.json \"auth\"\n"
    "  --atspm FILE     write the Indiana hi-res event log (SignalID,Timestamp,EventCode,\n"
    "                   EventParam) to FILE and its phase/detector map to FILE.config.csv\n"
    "                   (FILE's .csv replaced); draw it with greenwave-atspm-plots\n"
    "  --quiet          print nothing but errors\n"
    "  -h, --help       show this help\n"
    "\n"
    "exit status: 0 ok, 1 run or output failure, 2 bad command line or scenario\n";

static double wall_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Parses a number in (0, hi]. */
static int parse_positive(const char *s, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || end == s || !(v > 0) || !(v <= hi))
        return -1;
    *out = v;
    return 0;
}

static void publish_decision(void *ud, const char *line) {
    bridge_pub_decision(ud, line);
}

/* Pacing factors of --realtime (a viewer's speed requests stay within the same range). */
#define REALTIME_MIN 0.01
#define REALTIME_MAX 10000.0

static int parse_ms(const char *s, sim_time_t *out) {
    uint64_t v;
    if (parse_u64(s, &v) < 0 || v == 0 || v > 86400000)
        return -1;
    *out = (sim_time_t)v;
    return 0;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* This process's peak resident set (VmHWM: since its exec, unlike getrusage()'s ru_maxrss,
 * which keeps the forking parent's), in KiB, or -1 where /proc does not say. */
static long peak_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

#define IN_PROCESS "in-process"

/* The bridge's in-process controller: ctl_handle() on the ctl_t in ud. */
static int handle_local(void *ud, const void *peer, size_t peer_len, const proto_msg_t *msg,
                        proto_msg_t *reply, base_err_t *err) {
    return ctl_handle(ud, peer, peer_len, msg, reply, err);
}

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "greenwave-sim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry 'greenwave-sim --help'\n");
    va_end(ap);
    return 2;
}

/* Frees what main() set up, in reverse order; every argument may be NULL (log may be stderr,
 * which stays open). */
static void teardown(bridge_t **bridge, ctl_t **ctl, bridge_pub_t **pub, void *zctx, FILE *log,
                     sim_t **sim, report_t **rep, sim_scenario_t **scn) {
    bridge_destroy(bridge);
    ctl_destroy(ctl);
    bridge_pub_destroy(pub);
    if (zctx != NULL)
        zmq_ctx_term(zctx);
    if (log != NULL && log != stderr)
        fclose(log);
    sim_destroy(sim);
    report_destroy(rep);
    sim_scenario_destroy(scn);
}

int main(int argc, char **argv) {
    const char *scenario = NULL, *out = "out", *log_path = NULL;
    bridge_config_t bcfg;
    bridge_config_defaults(&bcfg);
    ctl_config_t ccfg; /* the in-process controller's */
    ctl_config_defaults(&ccfg);
    ccfg.transition_auto = 1; /* greenwave-controller's default: corridor chooses */
    int ctl_options = 0;
    sim_time_t timeout = 1000, connect_timeout = 10000, frame_ms = 1000;
    bridge_pub_config_t pcfg = {0};
    uint64_t seed = 1;
    const char *atspm_path = NULL;
    double until_s = 0, realtime = 0;
    int quiet = 0, allow_remote = 0, start_paused = 0;
    const char *keys_path = NULL, *server_key_path = NULL, *allow_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--allow-remote") == 0) {
            allow_remote = 1;
        } else if (strcmp(a, "--start-paused") == 0) {
            start_paused = 1;
        } else if (strcmp(a, "--curve-keys") == 0 || strcmp(a, "--curve-server-key") == 0 ||
                   strcmp(a, "--curve-allow") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--curve-keys") == 0)
                keys_path = v;
            else if (strcmp(a, "--curve-server-key") == 0)
                server_key_path = v;
            else
                allow_path = v;
        } else if (strcmp(a, "--seed") == 0 || strcmp(a, "--until") == 0 ||
                   strcmp(a, "--out") == 0 || strcmp(a, "--controller") == 0 ||
                   strcmp(a, "--strategy") == 0 || strcmp(a, "--tick-ms") == 0 ||
                   strcmp(a, "--timeout-ms") == 0 || strcmp(a, "--connect-timeout-ms") == 0 ||
                   strcmp(a, "--log") == 0 || strcmp(a, "--realtime") == 0 ||
                   strcmp(a, "--publish") == 0 || strcmp(a, "--record") == 0 ||
                   strcmp(a, "--listen") == 0 || strcmp(a, "--frame-ms") == 0 ||
                   strcmp(a, "--encoding") == 0 || strcmp(a, "--sync") == 0 ||
                   strcmp(a, "--atspm") == 0 || strcmp(a, "--ctl") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--ctl") == 0) {
                char opt[64];
                const char *eq = strchr(v, '=');
                size_t n = eq != NULL ? (size_t)(eq - v) : strlen(v);
                base_err_t cerr = {0};
                if (n == 0 || n + 3 > sizeof opt)
                    return usage_error("--ctl: expected OPTION[=VALUE], got '%s'", v);
                snprintf(opt, sizeof opt, "--%.*s", (int)n, v);
                if (ctl_config_set(&ccfg, opt, eq != NULL ? eq + 1 : NULL, &cerr) < 0)
                    return usage_error("--ctl %s", cerr.msg);
                ctl_options++;
            }
            if (strcmp(a, "--controller") == 0)
                bcfg.endpoint = v;
            if (strcmp(a, "--strategy") == 0)
                bcfg.strategy = v;
            if (strcmp(a, "--log") == 0)
                log_path = v;
            if (strcmp(a, "--encoding") == 0 && proto_encoding_parse(v, &bcfg.encoding) < 0)
                return usage_error("--encoding: not json or msgpack: '%s'", v);
            if (strcmp(a, "--sync") == 0) {
                if (strcmp(v, "lockstep") != 0 && strcmp(v, "event") != 0)
                    return usage_error("--sync: not lockstep or event: '%s'", v);
                bcfg.event = strcmp(v, "event") == 0;
            }
            if (strcmp(a, "--publish") == 0)
                pcfg.publish = v;
            if (strcmp(a, "--record") == 0)
                pcfg.record = v;
            if (strcmp(a, "--listen") == 0)
                pcfg.listen = v;
            if (strcmp(a, "--frame-ms") == 0 && parse_ms(v, &frame_ms) < 0)
                return usage_error("--frame-ms: not a positive number of milliseconds: '%s'", v);
            if (strcmp(a, "--realtime") == 0 &&
                (parse_positive(v, REALTIME_MAX, &realtime) < 0 || realtime < REALTIME_MIN))
                return usage_error("--realtime: not a factor in [%g, %g]: '%s'", REALTIME_MIN,
                                   REALTIME_MAX, v);
            if (strcmp(a, "--tick-ms") == 0 && parse_ms(v, &bcfg.tick_ms) < 0)
                return usage_error("--tick-ms: not a positive number of milliseconds: '%s'", v);
            if (strcmp(a, "--timeout-ms") == 0 && parse_ms(v, &timeout) < 0)
                return usage_error("--timeout-ms: not a positive number of milliseconds: '%s'", v);
            if (strcmp(a, "--connect-timeout-ms") == 0 && parse_ms(v, &connect_timeout) < 0)
                return usage_error(
                    "--connect-timeout-ms: not a positive number of milliseconds: '%s'", v);
            if (strcmp(a, "--seed") == 0 && (parse_u64(v, &seed) < 0 || seed > INT64_MAX))
                return usage_error("--seed: not an integer in [0, 2^63 - 1]: '%s'", v);
            if (strcmp(a, "--until") == 0 && parse_positive(v, SIM_LIM_TIME_S, &until_s) < 0)
                return usage_error("--until: not a number of seconds in (0, %g]: '%s'",
                                   SIM_LIM_TIME_S, v);
            if (strcmp(a, "--out") == 0)
                out = v;
            if (strcmp(a, "--atspm") == 0)
                atspm_path = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (scenario == NULL) {
            scenario = a;
        } else {
            return usage_error("more than one scenario given ('%s')", a);
        }
    }
    if (scenario == NULL)
        return usage_error("%s", "no scenario given");
    if (bcfg.strategy != NULL && bcfg.endpoint == NULL)
        return usage_error("%s", "--strategy needs --controller");
    int in_process = bcfg.endpoint != NULL && strcmp(bcfg.endpoint, IN_PROCESS) == 0;
    if (ctl_options > 0 && !in_process)
        return usage_error("%s", "--ctl needs --controller " IN_PROCESS);
    /* Endpoints and keys: nothing beyond this machine without CURVE. */
    const char *eps[] = {pcfg.publish, pcfg.listen};
    for (int i = 0; i < 2; i++) {
        if (eps[i] == NULL || auth_endpoint_is_local(eps[i]))
            continue;
        if (!allow_remote)
            return usage_error("%s: refusing to listen beyond this machine; use "
                               "tcp://127.0.0.1:PORT, or --allow-remote with --curve-keys and "
                               "--curve-allow",
                               eps[i]);
        if (keys_path == NULL || allow_path == NULL)
            return usage_error("%s: --allow-remote without authentication is refused: give "
                               "--curve-keys FILE and --curve-allow FILE (greenwave-keygen)",
                               eps[i]);
    }
    if (bcfg.endpoint != NULL && !in_process && !auth_endpoint_is_local(bcfg.endpoint) &&
        (keys_path == NULL || server_key_path == NULL))
        return usage_error("%s: a controller beyond this machine needs --curve-keys FILE and "
                           "--curve-server-key FILE",
                           bcfg.endpoint);
    if (server_key_path != NULL && keys_path == NULL)
        return usage_error("%s", "--curve-server-key needs --curve-keys");
    if (allow_path != NULL && keys_path == NULL)
        return usage_error("%s", "--curve-allow needs --curve-keys");
    if (keys_path != NULL && server_key_path == NULL && allow_path == NULL)
        return usage_error("%s", "--curve-keys needs --curve-server-key (a CURVE controller) "
                                 "or --curve-allow (CURVE on --publish/--listen)");
    if (start_paused && pcfg.listen == NULL)
        return usage_error("%s", "--start-paused needs --listen");
    if (allow_path != NULL && pcfg.publish == NULL && pcfg.listen == NULL)
        return usage_error("%s", "--curve-allow needs --publish or --listen");
    if (server_key_path != NULL && (bcfg.endpoint == NULL || in_process))
        return usage_error("%s", "--curve-server-key needs --controller ENDPOINT (a socket)");
    auth_keypair_t keys;
    char server_key[AUTH_Z85_LEN + 1];
    if (keys_path != NULL) {
        base_err_t kerr = {0};
        auth_allow_t allow = {0};
        if (auth_keys_read_secret(keys_path, &keys, &kerr) < 0 ||
            (server_key_path != NULL &&
             auth_keys_read_public(server_key_path, server_key, &kerr) < 0) ||
            (allow_path != NULL && auth_allow_load(&allow, allow_path, &kerr) < 0)) {
            fprintf(stderr, "greenwave-sim: %s\n", kerr.msg);
            return 2;
        }
        auth_allow_fini(&allow);
        if (server_key_path != NULL) {
            bcfg.curve_keys = &keys;
            bcfg.curve_server_key = server_key;
        }
        if (allow_path != NULL) {
            pcfg.curve_keys = &keys;
            pcfg.curve_allow = allow_path;
        }
    }
    bcfg.timeout_ms = (int)timeout;
    bcfg.connect_timeout_ms = (int)connect_timeout;
    gsl_set_error_handler_off();

    base_err_t err = {0};
    /* The in-process controller first: a bad strategy is a bad command line. */
    ctl_t *ctl = NULL;
    if (in_process) {
        ccfg.strategy = bcfg.strategy; /* the hello names it too */
        if ((ctl = ctl_new(&ccfg, &err)) == NULL)
            return usage_error("%s", err.msg);
        bcfg.local = handle_local;
        bcfg.local_ud = ctl;
    }
    double t0 = wall_now();
    sim_scenario_t *scn = scn_loader_load_file(scenario, &err);
    if (scn == NULL) {
        fprintf(stderr, "greenwave-sim: %s\n", err.msg);
        ctl_destroy(&ctl);
        return 2;
    }
    sim_time_t until = until_s > 0 ? sim_time_from_s(until_s) : scn->duration;
    report_t *rep = report_new(scn, out, &err);
    if (rep == NULL) {
        fprintf(stderr, "greenwave-sim: %s\n", err.msg);
        sim_scenario_destroy(&scn);
        ctl_destroy(&ctl);
        return 1;
    }
    if (atspm_path != NULL && report_enable_atspm(rep, atspm_path, &err) < 0) {
        fprintf(stderr, "greenwave-sim: %s\n", err.msg);
        report_destroy(&rep);
        sim_scenario_destroy(&scn);
        ctl_destroy(&ctl);
        return 1;
    }
    sim_observer_t obs = report_observer(rep);
    sim_t *sim = sim_new(scn, seed, &obs, &err);
    if (sim == NULL) {
        fprintf(stderr, "greenwave-sim: %s\n", err.msg);
        report_destroy(&rep);
        sim_scenario_destroy(&scn);
        ctl_destroy(&ctl);
        return 1;
    }
    void *zctx = NULL;
    bridge_t *bridge = NULL;
    FILE *log = NULL;
    if (log_path != NULL) {
        log = strcmp(log_path, "-") == 0 ? stderr : fopen(log_path, "w");
        if (log == NULL) {
            fprintf(stderr, "greenwave-sim: %s: %s\n", log_path, strerror(errno));
            sim_destroy(&sim);
            report_destroy(&rep);
            sim_scenario_destroy(&scn);
            ctl_destroy(&ctl);
            return 1;
        }
        bcfg.log = log;
        pcfg.log = log;
    }
    bridge_pub_t *pub = NULL;
    int want_pub = pcfg.publish != NULL || pcfg.record != NULL || pcfg.listen != NULL;
    if (bcfg.endpoint != NULL || want_pub) {
        /* In-process without a viewer, the controller shares the scenario: no JSON map. */
        char *map = in_process && !want_pub ? NULL : bridge_map_json(scenario, &err);
        zctx = map && (want_pub || !in_process) ? zmq_ctx_new() : NULL;
        if (zctx != NULL && want_pub) {
            pub = bridge_pub_new(zctx, sim, map, &pcfg, &err);
            bcfg.on_decision = publish_decision;
            bcfg.ud = pub;
        }
        int have_map = map != NULL || (in_process && !want_pub);
        int zmq_ok = zctx != NULL || (have_map && !want_pub && in_process);
        if (zmq_ok && (pub != NULL || !want_pub) && bcfg.endpoint != NULL)
            bridge = bridge_new(zctx, sim, map, seed, &bcfg, &err);
        free(map);
        if (!zmq_ok || (want_pub && pub == NULL) || (bcfg.endpoint != NULL && bridge == NULL)) {
            fprintf(stderr, "greenwave-sim: %s\n",
                    zmq_ok || !have_map ? err.msg : "cannot start ZeroMQ");
            bridge_pub_destroy(&pub);
            ctl_destroy(&ctl);
            sim_destroy(&sim);
            report_destroy(&rep);
            sim_scenario_destroy(&scn);
            if (zctx)
                zmq_ctx_term(zctx);
            return 1;
        }
        if (bridge != NULL && bridge_connect(bridge) < 0) {
            if (in_process) {
                /* Deterministic, unlike a controller that does not answer yet: bad input
                 * (a map beyond the controller's limits, say), not a run on local plans. */
                fprintf(stderr, "greenwave-sim: %s: the in-process controller refused it: %s\n",
                        scenario, bridge_refusal(bridge) ? bridge_refusal(bridge) : "no welcome");
                teardown(&bridge, &ctl, &pub, zctx, log, &sim, &rep, &scn);
                return 2;
            }
            if (!quiet)
                fprintf(stderr,
                        "greenwave-sim: no answer from the controller at %s: running on local "
                        "plans until it answers\n",
                        bcfg.endpoint);
        }
    }
    int tty = !quiet && isatty(STDERR_FILENO);
    int progress_shown = 0, paused = start_paused, step_once = 0;
    double last_progress = t0;
    int rc = 0;
    /* The loop advances to the next of: a control tick, a frame, a 10 s progress point. The
     * pace (real-time factor) is measured from an anchor that moves when it changes. */
    sim_time_t next_tick = bridge ? bcfg.tick_ms : SIM_TIME_MAX;
    sim_time_t next_frame = pub ? 0 : SIM_TIME_MAX;
    double pace_wall = t0;
    sim_time_t pace_sim = 0;
    for (sim_time_t t = 0; t < until && rc == 0;) {
        if (pub != NULL) {
            double before = realtime;
            bridge_pub_control(pub, paused && !step_once ? 50 : 0, &paused, &realtime, &step_once);
            if (realtime != before) {
                pace_wall = wall_now();
                pace_sim = t;
            }
            if (paused && !step_once) {
                pace_wall = wall_now();
                pace_sim = t;
                continue;
            }
        }
        sim_time_t target = t + 10 * SIM_MS_PER_S;
        if (realtime > 0 && t + SIM_MS_PER_S / 10 < target)
            target = t + SIM_MS_PER_S / 10;
        if (next_tick < target)
            target = next_tick;
        if (next_frame < target)
            target = next_frame;
        if (target > until)
            target = until;
        if (target > t || t == 0)
            rc = sim_run_until(sim, target);
        t = target;
        if (rc == 0 && t == next_tick) {
            if (t < until)
                rc = bridge_tick(bridge);
            next_tick = bridge_next_tick(bridge, t);
        }
        if (rc == 0 && t == next_frame) {
            rc = bridge_pub_frame(pub, realtime, paused, &err);
            if (rc < 0)
                fprintf(stderr, "greenwave-sim: %s\n", err.msg);
            next_frame += frame_ms;
            if (step_once) {
                step_once = 0;
                paused = 1;
            }
        }
        if (realtime > 0) {
            /* Pace: simulated time t is due at the anchor + (t - anchor) / realtime. */
            double ahead = pace_wall + sim_time_to_s(t - pace_sim) / realtime - wall_now();
            if (ahead > 0) {
                struct timespec ts = {(time_t)ahead, (long)((ahead - floor(ahead)) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        double now = wall_now();
        if (tty && now - t0 > 1.0 && (now - last_progress > 0.2 || t == until)) {
            sim_stats_t st = sim_stats(sim, 0);
            fprintf(stderr,
                    "\r[%3d%%] %7.0f / %.0f s simulated, %" PRId64 " vehicles in network, %" PRId64
                    " done   ",
                    (int)(100.0 * (double)t / (double)until), sim_time_to_s(t),
                    sim_time_to_s(until), st.vehicles_in_network, st.vehicles_completed);
            last_progress = now;
            progress_shown = 1;
        }
    }
    if (progress_shown)
        fputc('\n', stderr);
    double wall = wall_now() - t0;
    if (rc < 0) {
        fprintf(stderr, "greenwave-sim: run failed at %.3f s: %s\n", sim_time_to_s(sim_now(sim)),
                sim_errmsg(sim));
    }
    report_summary_t s;
    report_controller_t rc_ctl;
    bridge_stats_t bst;
    memset(&bst, 0, sizeof bst);
    if (bridge != NULL) {
        bst = bridge_stats(bridge);
        rc_ctl = (report_controller_t){
            .endpoint = bcfg.endpoint,
            .strategy = bst.strategy,
            .ticks = bst.ticks,
            .ticks_sent = bst.ticks_sent,
            .rtt_us_p50 = bst.rtt_us_p50,
            .rtt_us_p99 = bst.rtt_us_p99,
            .lost_s = bst.lost_s,
            .lost_events = bst.lost_events,
            .taken_back = bst.taken_back,
            .rejected_messages = bst.rejected_messages,
            .stale_messages = bst.stale_messages,
            .commands = bst.commands,
            .commands_refused = bst.commands_refused,
            .handshakes_refused = bst.handshakes_refused,
        };
    }
    int curve_on = 0;
    if (pub != NULL) {
        auth_stats_t ast = bridge_pub_auth_stats(pub, &curve_on);
        report_auth_t ra = {ast.allowed, ast.refused_keys, ast.refused_handshakes,
                            bridge_pub_requests(pub)};
        if (curve_on)
            report_set_auth(rep, &ra);
    }
    int wrc = report_finish(rep, sim, seed, wall, bridge ? &rc_ctl : NULL, &s, &err);
    if (wrc < 0)
        fprintf(stderr, "greenwave-sim: %s\n", err.msg);
    if (!quiet && wrc == 0) {
        long rss = peak_rss_kib();
        printf("greenwave-sim: %s, seed %" PRIu64 ": %.0f s simulated in %.2f s wall "
               "(%" PRIu64 " events, %.2f M events/s",
               scn->name, seed, s.sim_s, wall, s.events,
               wall > 0 ? (double)s.events / wall / 1e6 : 0.0);
        if (rss >= 0)
            printf(", peak RSS %.1f MB", (double)rss / 1024.0);
        printf(")\n");
        if (s.has_escort) {
            if (s.escort_arrived)
                printf("  escort %s: %.1f s door to door (free flow %.1f s, %.2fx), %d stops, "
                       "%.1f s waiting at %d stop lines\n",
                       s.escort_id, s.escort_travel_time_s, s.escort_free_flow_time_s,
                       s.escort_travel_time_s / s.escort_free_flow_time_s, (int)s.escort_stops,
                       s.escort_wait_s, (int)s.escort_stop_lines);
            else
                printf("  escort %s: did not arrive within the run (free flow %.1f s)\n",
                       s.escort_id, s.escort_free_flow_time_s);
        }
        printf("  traffic: %" PRId64 " vehicles completed, %" PRId64 " still in the network, "
               "%" PRId64 " waiting to enter; delay mean %.1f s, p95 %.1f s\n",
               s.vehicles_completed, s.vehicles_in_network, s.vehicles_waiting, s.mean_delay_s,
               s.p95_delay_s);
        if (bridge != NULL) {
            printf("  controller: strategy %s, %lld ticks, round trip p50 %.0f us / p99 %.0f us, "
                   "%lld commands (%lld refused), %.0f s lost\n",
                   bst.strategy[0] ? bst.strategy : "?", (long long)bst.ticks, bst.rtt_us_p50,
                   bst.rtt_us_p99, (long long)bst.commands, (long long)bst.commands_refused,
                   bst.lost_s);
            printf("  link: %s, %s sync, %lld bytes sent, %lld bytes received\n",
                   in_process ? "in-process (no socket, no encoding)" : bst.encoding,
                   bst.event ? "event" : "lockstep", (long long)bst.bytes_sent,
                   (long long)bst.bytes_received);
            if (bst.lost_events > 0)
                printf("  controller lost %lld time(s), taken back %lld time(s); signals ran on "
                       "their local plans meanwhile\n",
                       (long long)bst.lost_events, (long long)bst.taken_back);
        }
        printf("  safety: %lld conflict-monitor rejections; recovery %.1f s (%.2f cycles)\n",
               (long long)s.safety_rejections, s.recovery_time_s, s.recovery_cycles);
        printf("  outputs: %s/{trips.csv, signals.csv, escort.csv, summary.json}\n", out);
    }
    teardown(&bridge, &ctl, &pub, zctx, log, &sim, &rep, &scn);
    return (rc < 0 || wrc < 0) ? 1 : 0;
}
