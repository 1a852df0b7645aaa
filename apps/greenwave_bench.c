/*
 * greenwave-bench - runs scenarios x strategies x seeds headless, in parallel, and writes
 * runs.csv and report.md (see docs/batch.md); merges the outputs of shards.
 *
 * Exit status: 0 all runs ok; 3 the sweep finished but some runs failed (recorded in runs.csv
 * and report.md); 130 interrupted (runs.csv valid; resume with --resume); 2 bad command line
 * or sweep; 1 any other failure.
 */
#include "batch/batch.h"
#include "sim/limits.h"

#include <errno.h>
#include <gsl/gsl_errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: greenwave-bench --scenarios A.json[,B.json...] --strategies S[,S...] --seeds SPEC\n"
    "                       [options]\n"
    "       greenwave-bench --sweep FILE [options]\n"
    "       greenwave-bench merge DIR... --out DIR\n"
    "       greenwave-bench report DIR\n"
    "\n"
    "Runs every scenario x strategy x seed with greenwave-sim, the simulations of each\n"
    "strategy parameter set served by one greenwave-controller, up to -j at once, and writes\n"
    "to --out: runs.csv (one row per run, written as runs finish), report.md (mean, sd, 95 %\n"
    "CI per strategy, paired differences to the baseline, plots drawn with gnuplot) and each\n"
    "run's outputs. The same seed gives the same demand under every strategy. 'merge' combines\n"
    "the output directories of shards into one; 'report' writes DIR's report again.\n"
    "\n"
    "sweep:\n"
    "  --scenarios LIST      comma-separated scenario files\n"
    "  --strategies LIST     comma-separated: none, actuated, local, corridor, route-green,\n"
    "                        each with parameters after colons, e.g. local:detection_range_s=30\n"
    "                        (transition=dwell|shortway|longway, detection_range_s, margin_s,\n"
    "                        tsp=true|false, tick_ms)\n"
    "  --seeds SPEC          seeds: 1-30, or 1,2,7-9\n"
    "  --sweep FILE          a JSON sweep file (docs/batch.md); the options above override it\n"
    "  --baseline S          strategy the others are compared with (default: the first)\n"
    "  --main S              strategy whose median run gets the time-space diagram\n"
    "                        (default: the last)\n"
    "  --until SECONDS       simulated time per run (default: the scenario's duration)\n"
    "  --measures LIST       key measures of the report (dotted summary.json names)\n"
    "\n"
    "running:\n"
    "  -j, --jobs N          simulations at once (default: the number of CPUs)\n"
    "  --out DIR             output directory (default: results)\n"
    "  --timeout SECONDS     wall time after which a run is killed and recorded as failed\n"
    "                        (default 1800)\n"
    "  --resume              continue the sweep in --out, skipping runs already in runs.csv\n"
    "  --retry-failed        with --resume: run the failed runs again\n"
    "  --shard I/N           run only the runs whose index mod N is I-1 (fixed order:\n"
    "                        scenario x strategy x seed), e.g. --shard 2/8\n"
    "  --sim PATH            greenwave-sim (default: beside greenwave-bench, else on PATH)\n";
/* The second half (one string literal would pass the 4095 characters C11 guarantees). */
static const char USAGE_2[] =
    "  --controller-bin PATH greenwave-controller (default: beside greenwave-bench, else PATH)\n"
    "  --controllers N       controller processes per parameter set (default 1); each\n"
    "                        works in lockstep with its simulations, so one can limit -j\n"
    "  --no-controller       run without a controller (strategy none only)\n"
    "  --in-process          each greenwave-sim hosts the controller's library\n"
    "                        (--controller in-process, the parameters as --ctl): no\n"
    "                        controller processes, no socket, no encoding; same results\n"
    "  --sim-timeout-ms MS   greenwave-sim --timeout-ms: wait for each controller answer\n"
    "  --sync M              greenwave-sim --sync: event (default: ticks only when the\n"
    "                        controller needs them, deltas) or lockstep (every interval)\n"
    "  --encoding E          greenwave-sim --encoding: msgpack (default) or json; the\n"
    "                        results are the same in every mode, only the speed differs\n"
    "  --keep-trips          keep each run's trips.csv (removed after a successful run)\n"
    "  --atspm               each run writes its ATSPM hi-res event log (atspm.csv, some\n"
    "                        6 MB per Bayiqi hour); the report draws the Purdue Coordination\n"
    "                        Diagram and split monitor of the median run (docs/atspm.md)\n"
    "  --keep-logs           keep the logs of successful runs (failed runs' logs are kept)\n"
    "  --gnuplot PATH        gnuplot to draw with (default: gnuplot on PATH)\n"
    "  --no-plots            draw no plots\n"
    "  --progress MODE       bar, lines or quiet (default: bar on a terminal, else lines)\n"
    "  --stats               print the throughput at the end: 'stats: ... runs/min'\n"
    "  -h, --help            show this help\n"
    "\n"
    "exit status: 0 all runs ok, 3 finished with failed runs (see report.md), 130 interrupted\n"
    "(resume with --resume), 2 bad command line or sweep, 1 other failure\n";

static volatile sig_atomic_t g_stop = 0;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("greenwave-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\ntry 'greenwave-bench --help'\n", stderr);
    va_end(ap);
    return 2;
}

/* A program beside this executable, else on PATH; NULL if none. Caller frees. */
static char *find_program(const char *name) {
    char self[PATH_MAX], buf[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL && strlen(name) < 64) {
            *slash = '\0';
            snprintf(buf, sizeof buf, "%s/%s", self, name);
            if (access(buf, X_OK) == 0)
                return strdup(buf);
        }
    }
    const char *path = getenv("PATH");
    for (const char *p = path; p != NULL && *p != '\0';) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len > 0 && len + strlen(name) + 2 < sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s/%s", (int)len, p, name);
            if (access(buf, X_OK) == 0)
                return strdup(buf);
        }
        p = colon ? colon + 1 : NULL;
    }
    return NULL;
}

/* A directory argument without its trailing slashes ("results/" -> "results"), in place. */
static char *trim_dir(char *dir) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        dir[--n] = '\0';
    return dir;
}

/* An executable given by the user. */
static char *given_program(const char *path) {
    if (access(path, X_OK) != 0)
        return NULL;
    return strdup(path);
}

static int parse_number(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* The command line, shell-quoted, with --resume (for the message on interruption). */
static char *resume_command(int argc, char **argv) {
    size_t cap = 64;
    int has = 0;
    for (int i = 0; i < argc; i++) {
        cap += 4 * strlen(argv[i]) + 3;
        has |= strcmp(argv[i], "--resume") == 0;
    }
    char *s = malloc(cap + 16);
    if (s == NULL)
        return NULL;
    size_t o = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int plain = *a != '\0';
        for (const char *p = a; *p && plain; p++)
            plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                           "-_./,:=@%+",
                           *p) != NULL;
        if (i > 0)
            s[o++] = ' ';
        if (plain) {
            memcpy(s + o, a, strlen(a));
            o += strlen(a);
            continue;
        }
        s[o++] = '\'';
        for (const char *p = a; *p; p++) {
            if (*p == '\'') {
                memcpy(s + o, "'\\''", 4);
                o += 4;
            } else {
                s[o++] = *p;
            }
        }
        s[o++] = '\'';
    }
    if (!has) {
        memcpy(s + o, " --resume", 9);
        o += 9;
    }
    s[o] = '\0';
    return s;
}

typedef struct args {
    const char *scenarios, *strategies, *seeds, *sweep, *baseline, *main_s, *measures, *shard;
    const char *sim, *ctl, *gnuplot, *progress;
    double until;
    int no_controller, no_plots;
} args_t;

static void install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a signal wakes poll() at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* gnuplot for the options; sets why when there is none. */
static char *pick_gnuplot(const args_t *a, const char **why) {
    if (a->no_plots) {
        *why = "--no-plots was given";
        return NULL;
    }
    char *g = batch_plot_find_gnuplot(a->gnuplot);
    if (g == NULL)
        *why = a->gnuplot ? "the --gnuplot program cannot be executed"
                          : "gnuplot was not found on PATH; install it (Debian package "
                            "gnuplot-nox) and run 'greenwave-bench report DIR'";
    return g;
}

static int progress_mode(const char *s) {
    if (s == NULL)
        return isatty(STDERR_FILENO) ? BATCH_PROGRESS_BAR : BATCH_PROGRESS_LINES;
    if (strcmp(s, "bar") == 0)
        return BATCH_PROGRESS_BAR;
    if (strcmp(s, "lines") == 0)
        return BATCH_PROGRESS_LINES;
    if (strcmp(s, "quiet") == 0)
        return BATCH_PROGRESS_QUIET;
    return -1;
}

static int cmd_merge(int argc, char **argv, int report_only) {
    const char *dirs[1024];
    size_t n = 0;
    args_t a;
    memset(&a, 0, sizeof a);
    batch_options_t o;
    batch_options_defaults(&o);
    o.out_dir = NULL;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            fputs(USAGE, stdout);
            fputs(USAGE_2, stdout);
            return 0;
        } else if (strcmp(s, "--no-plots") == 0) {
            a.no_plots = 1;
        } else if (strcmp(s, "--out") == 0 || strcmp(s, "--gnuplot") == 0 ||
                   strcmp(s, "--progress") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", s);
            const char *v = argv[++i];
            if (strcmp(s, "--out") == 0 && !report_only)
                o.out_dir = trim_dir(argv[i]);
            else if (strcmp(s, "--gnuplot") == 0)
                a.gnuplot = v;
            else if (strcmp(s, "--progress") == 0)
                a.progress = v;
            else
                return usage_error("report DIR writes into DIR: no --out");
        } else if (s[0] == '-') {
            return usage_error("%s: unknown option '%s'", argv[1], s);
        } else if (n < 1024) {
            dirs[n++] = trim_dir(argv[i]);
        }
    }
    if (n == 0)
        return usage_error("%s: no directory given", argv[1]);
    if (report_only) {
        if (n != 1)
            return usage_error("report: one directory");
        o.out_dir = dirs[0];
    }
    if (o.out_dir == NULL)
        return usage_error("merge: --out DIR is required");
    if ((o.progress = progress_mode(a.progress)) < 0)
        return usage_error("--progress: bar, lines or quiet, not '%s'", a.progress);
    const char *why = NULL;
    char *g = pick_gnuplot(&a, &why);
    o.gnuplot = g;
    o.no_plots_reason = why;
    if (g == NULL && !a.no_plots)
        fprintf(stderr, "greenwave-bench: no plots: %s\n", why);
    gsl_set_error_handler_off();
    base_err_t err = {0};
    int rc = batch_merge(dirs, n, &o, &err);
    free(g);
    if (rc < 0) {
        fprintf(stderr, "greenwave-bench: %s\n", err.msg);
        return rc == BASE_EINVAL ? 2 : 1;
    }
    return rc;
}

int main(int argc, char **argv) {
    if (argc >= 2 && (strcmp(argv[1], "merge") == 0 || strcmp(argv[1], "report") == 0))
        return cmd_merge(argc, argv, strcmp(argv[1], "report") == 0);
    args_t a;
    memset(&a, 0, sizeof a);
    batch_options_t o;
    batch_options_defaults(&o);
    o.out_dir = "results";
    o.sim_sync = "event";
    o.sim_encoding = "msgpack";
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = cpus > 0 ? (unsigned)cpus : 1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            fputs(USAGE, stdout);
            fputs(USAGE_2, stdout);
            return 0;
        } else if (strcmp(s, "--resume") == 0) {
            o.resume = 1;
        } else if (strcmp(s, "--retry-failed") == 0) {
            o.retry_failed = 1;
        } else if (strcmp(s, "--no-controller") == 0) {
            a.no_controller = 1;
        } else if (strcmp(s, "--in-process") == 0) {
            o.in_process = 1;
        } else if (strcmp(s, "--keep-trips") == 0) {
            o.keep_trips = 1;
        } else if (strcmp(s, "--atspm") == 0) {
            o.atspm = 1;
        } else if (strcmp(s, "--keep-logs") == 0) {
            o.keep_logs = 1;
        } else if (strcmp(s, "--no-plots") == 0) {
            a.no_plots = 1;
        } else if (strcmp(s, "--stats") == 0) {
            o.stats = 1;
        } else if (s[0] == '-' && s[1] != '\0') {
            static const char *const valued[] = {"--scenarios",
                                                 "--strategies",
                                                 "--seeds",
                                                 "--sweep",
                                                 "--baseline",
                                                 "--main",
                                                 "--until",
                                                 "--measures",
                                                 "-j",
                                                 "--jobs",
                                                 "--out",
                                                 "--timeout",
                                                 "--shard",
                                                 "--sim",
                                                 "--controller-bin",
                                                 "--sim-timeout-ms",
                                                 "--gnuplot",
                                                 "--progress",
                                                 "--controllers",
                                                 "--sync",
                                                 "--encoding",
                                                 NULL};
            size_t k = 0;
            while (valued[k] != NULL && strcmp(valued[k], s) != 0)
                k++;
            if (valued[k] == NULL)
                return usage_error("unknown option '%s'", s);
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", s);
            const char *v = argv[++i];
            double d;
            if (strcmp(s, "--scenarios") == 0)
                a.scenarios = v;
            else if (strcmp(s, "--strategies") == 0)
                a.strategies = v;
            else if (strcmp(s, "--seeds") == 0)
                a.seeds = v;
            else if (strcmp(s, "--sweep") == 0)
                a.sweep = v;
            else if (strcmp(s, "--baseline") == 0)
                a.baseline = v;
            else if (strcmp(s, "--main") == 0)
                a.main_s = v;
            else if (strcmp(s, "--measures") == 0)
                a.measures = v;
            else if (strcmp(s, "--shard") == 0)
                a.shard = v;
            else if (strcmp(s, "--sim") == 0)
                a.sim = v;
            else if (strcmp(s, "--controller-bin") == 0)
                a.ctl = v;
            else if (strcmp(s, "--gnuplot") == 0)
                a.gnuplot = v;
            else if (strcmp(s, "--progress") == 0)
                a.progress = v;
            else if (strcmp(s, "--out") == 0)
                o.out_dir = trim_dir(argv[i]);
            else if (strcmp(s, "--until") == 0) {
                if (parse_number(v, 1e-3, SIM_LIM_TIME_S, &a.until) < 0)
                    return usage_error("--until: not a number of seconds in [0.001, %g]: '%s'",
                                       SIM_LIM_TIME_S, v);
            } else if (strcmp(s, "-j") == 0 || strcmp(s, "--jobs") == 0) {
                if (parse_number(v, 1, 256, &d) < 0 || d != (double)(unsigned)d)
                    return usage_error("%s: not an integer in [1, 256]: '%s'", s, v);
                o.jobs = (unsigned)d;
            } else if (strcmp(s, "--controllers") == 0) {
                if (parse_number(v, 1, 64, &d) < 0 || d != (double)(unsigned)d)
                    return usage_error("--controllers: not an integer in [1, 64]: '%s'", v);
                o.controllers = (unsigned)d;
            } else if (strcmp(s, "--timeout") == 0) {
                if (parse_number(v, 0, 1e7, &o.timeout_s) < 0)
                    return usage_error("--timeout: not a number of seconds >= 0: '%s'", v);
            } else if (strcmp(s, "--sync") == 0) {
                if (strcmp(v, "event") != 0 && strcmp(v, "lockstep") != 0)
                    return usage_error("--sync: not event or lockstep: '%s'", v);
                o.sim_sync = v;
            } else if (strcmp(s, "--encoding") == 0) {
                if (strcmp(v, "msgpack") != 0 && strcmp(v, "json") != 0)
                    return usage_error("--encoding: not msgpack or json: '%s'", v);
                o.sim_encoding = v;
            } else if (strcmp(s, "--sim-timeout-ms") == 0) {
                if (parse_number(v, 1, 86400000, &d) < 0 || d != (double)(int)d)
                    return usage_error("--sim-timeout-ms: not a positive integer: '%s'", v);
                o.sim_timeout_ms = (int)d;
            }
        } else {
            return usage_error("unexpected argument '%s' (scenarios go in --scenarios A,B)", s);
        }
    }
    if ((o.progress = progress_mode(a.progress)) < 0)
        return usage_error("--progress: bar, lines or quiet, not '%s'", a.progress);
    if (o.retry_failed && !o.resume)
        return usage_error("--retry-failed needs --resume");
    gsl_set_error_handler_off();

    /* The sweep: a file, then the options; or, to resume, the saved sweep. */
    base_err_t err = {0};
    batch_sweep_t *sw = batch_sweep_new();
    if (sw == NULL) {
        fputs("greenwave-bench: out of memory\n", stderr);
        return 1;
    }
    int rc = 0;
    char saved[PATH_MAX];
    snprintf(saved, sizeof saved, "%s/sweep.json", o.out_dir);
    const char *file = a.sweep;
    if (file == NULL && o.resume && a.scenarios == NULL && a.strategies == NULL && a.seeds == NULL)
        file = saved;
    if (file != NULL && batch_sweep_load_file(sw, file, &err) < 0)
        rc = 2;
    if (rc == 0 && a.scenarios && batch_sweep_set_scenarios(sw, a.scenarios, &err) < 0)
        rc = 2;
    if (rc == 0 && a.strategies && batch_sweep_set_strategies(sw, a.strategies, &err) < 0)
        rc = 2;
    if (rc == 0 && a.seeds && batch_sweep_set_seeds(sw, a.seeds, &err) < 0)
        rc = 2;
    if (rc == 0 && a.measures && batch_sweep_set_measures(sw, a.measures, &err) < 0)
        rc = 2;
    if (rc == 0 && a.shard && batch_sweep_set_shard(sw, a.shard, &err) < 0)
        rc = 2;
    if (rc == 0 && ((a.baseline && batch_sweep_set_baseline(sw, a.baseline) < 0) ||
                    (a.main_s && batch_sweep_set_main(sw, a.main_s) < 0)))
        rc = 1;
    if (rc == 0 && a.until > 0)
        sw->until_s = a.until;
    if (rc == 0 && batch_sweep_finish(sw, &err) < 0)
        rc = 2;
    for (size_t s = 0; rc == 0 && s < sw->n_scenarios; s++) {
        if (access(sw->scenarios[s].path, R_OK) != 0) {
            base_err_set(&err, BASE_EIO, "%s: %s", sw->scenarios[s].path, strerror(errno));
            rc = 2;
        }
    }
    if (rc != 0) {
        int usage = rc == 2;
        batch_sweep_destroy(&sw);
        if (usage)
            return usage_error("%s", err.msg);
        fprintf(stderr, "greenwave-bench: %s\n", err.msg);
        return rc;
    }

    /* The programs. */
    char *sim = a.sim ? given_program(a.sim) : find_program("greenwave-sim");
    char *ctl = NULL;
    if (sim == NULL) {
        batch_sweep_destroy(&sw);
        return usage_error("greenwave-sim not found (%s); build it or pass --sim PATH",
                           a.sim ? a.sim : "beside greenwave-bench or on PATH");
    }
    if (o.in_process && (a.no_controller || a.ctl != NULL)) {
        free(sim);
        batch_sweep_destroy(&sw);
        return usage_error("%s", "--in-process runs no controller process: it excludes "
                                 "--no-controller and --controller-bin");
    }
    if (!a.no_controller && !o.in_process) {
        ctl = a.ctl ? given_program(a.ctl) : find_program("greenwave-controller");
        if (ctl == NULL) {
            free(sim);
            batch_sweep_destroy(&sw);
            return usage_error("greenwave-controller not found (%s); build it, pass "
                               "--controller-bin PATH, or --no-controller for strategy none",
                               a.ctl ? a.ctl : "beside greenwave-bench or on PATH");
        }
    }
    const char *why = NULL;
    char *gnuplot = pick_gnuplot(&a, &why);
    if (gnuplot == NULL && !a.no_plots)
        fprintf(stderr, "greenwave-bench: no plots: %s\n", why);
    char *resume = resume_command(argc, argv);
    o.sim_path = sim;
    o.ctl_path = ctl;
    o.gnuplot = gnuplot;
    o.no_plots_reason = why;
    o.resume_cmd = resume;
    o.stop = &g_stop;
    install_handlers();

    batch_t *b = batch_new(sw, &o);
    if (b == NULL) {
        fputs("greenwave-bench: out of memory\n", stderr);
        rc = 1;
    } else {
        rc = batch_run(b);
        if (rc < 0) {
            fprintf(stderr, "greenwave-bench: %s\n", batch_errmsg(b));
            rc = rc == BASE_EINVAL ? 2 : 1;
        }
    }
    batch_destroy(&b);
    batch_sweep_destroy(&sw);
    free(sim);
    free(ctl);
    free(gnuplot);
    free(resume);
    return rc;
}
