/*
 * greenwave-sim - runs one scenario headless and writes its outputs.
 *
 * Exit status: 0 on success, 2 on bad input (command line or scenario), 1 when the run or
 * its outputs fail.
 */
#include "base/err.h"
#include "report/report.h"
#include "scenarios/loader.h"
#include "sim/sim.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: greenwave-sim SCENARIO [--seed N] [--until SECONDS] [--out DIR] [--quiet]\n"
    "\n"
    "Runs the scenario (a JSON file, see docs/scenario-format.md) headless on the signals'\n"
    "local plans and writes to DIR:\n"
    "  trips.csv     one row per finished vehicle (delay, stops, ...)\n"
    "  signals.csv   every signal-group state change\n"
    "  escort.csv    per escort and stop line: arrival, signal state, wait\n"
    "  summary.json  escort, traffic and run figures\n"
    "\n"
    "options:\n"
    "  --seed N         random seed (default 1); same scenario and seed give identical files\n"
    "  --until SECONDS  simulated time to run (default: the scenario's duration_s)\n"
    "  --out DIR        output directory, created if missing (default: out)\n"
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

static int parse_seconds(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || end == s || !(v > 0) || !isfinite(v) || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "greenwave-sim: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\ntry 'greenwave-sim --help'\n");
    va_end(ap);
    return 2;
}

int main(int argc, char **argv) {
    const char *scenario = NULL, *out = "out";
    uint64_t seed = 1;
    double until_s = 0;
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--seed") == 0 || strcmp(a, "--until") == 0 ||
                   strcmp(a, "--out") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--seed") == 0 && parse_u64(v, &seed) < 0)
                return usage_error("--seed: not a non-negative integer: '%s'", v);
            if (strcmp(a, "--until") == 0 && parse_seconds(v, &until_s) < 0)
                return usage_error("--until: not a positive number of seconds: '%s'", v);
            if (strcmp(a, "--out") == 0)
                out = v;
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
    gsl_set_error_handler_off();

    base_err_t err = {0};
    double t0 = wall_now();
    sim_scenario_t *scn = scn_loader_load_file(scenario, &err);
    if (scn == NULL) {
        fprintf(stderr, "greenwave-sim: %s\n", err.msg);
        return err.code == BASE_EIO ? 1 : 2;
    }
    sim_time_t until = until_s > 0 ? sim_time_from_s(until_s) : scn->duration;
    report_t *rep = report_new(scn, out, &err);
    if (rep == NULL) {
        fprintf(stderr, "greenwave-sim: %s\n", err.msg);
        sim_scenario_destroy(&scn);
        return 1;
    }
    sim_observer_t obs = report_observer(rep);
    sim_t *sim = sim_new(scn, seed, &obs, &err);
    if (sim == NULL) {
        fprintf(stderr, "greenwave-sim: %s\n", err.msg);
        report_destroy(&rep);
        sim_scenario_destroy(&scn);
        return 1;
    }
    int tty = !quiet && isatty(STDERR_FILENO);
    int progress_shown = 0;
    double last_progress = t0;
    int rc = 0;
    const sim_time_t step = 10 * SIM_MS_PER_S;
    for (sim_time_t t = 0; t < until && rc == 0;) {
        t = t + step < until ? t + step : until;
        rc = sim_run_until(sim, t);
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
    int wrc = report_finish(rep, sim, seed, wall, &s, &err);
    if (wrc < 0)
        fprintf(stderr, "greenwave-sim: %s\n", err.msg);
    if (!quiet && wrc == 0) {
        printf("greenwave-sim: %s, seed %" PRIu64 ": %.0f s simulated in %.2f s wall "
               "(%" PRIu64 " events, %.2f M events/s)\n",
               scn->name, seed, s.sim_s, wall, s.events,
               wall > 0 ? (double)s.events / wall / 1e6 : 0.0);
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
        printf("  outputs: %s/{trips.csv, signals.csv, escort.csv, summary.json}\n", out);
    }
    sim_destroy(&sim);
    report_destroy(&rep);
    sim_scenario_destroy(&scn);
    return (rc < 0 || wrc < 0) ? 1 : 0;
}
