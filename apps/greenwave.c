/*
 * greenwave - the launcher: starts a controller process and the simulator as separate
 * processes, connects them over ipc://, waits, and prints the summary; with several
 * strategies it runs each against the same controller and prints them side by side.
 *
 * Exit status: 0 when every run succeeded, 2 on a bad command line or scenario, 1 otherwise.
 */
#include "base/fs.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: greenwave run SCENARIO [--strategy S[,S...]] [--seed N] [--out DIR] [options]\n"
    "\n"
    "Starts greenwave-controller and greenwave-sim as separate processes connected over\n"
    "ipc://, runs the scenario under each strategy in turn (common random numbers: the same\n"
    "seed gives the same demand), and prints the summaries side by side. Each run's outputs\n"
    "go to DIR/STRATEGY/; the logs of both processes go to DIR.\n"
    "\n"
    "strategies: none, actuated, local, corridor, route-green (default: none,corridor)\n"
    "\n"
    "options:\n"
    "  --seed N          random seed (default 1)\n"
    "  --out DIR         output directory (default out/run)\n"
    "  --until SECONDS   simulated time (default: the scenario's duration)\n"
    "  --transition T    return to coordination: dwell, shortway, longway (default shortway)\n"
    "  --tsp             transit signal priority for buses (off by default)\n"
    "  --sync M          lockstep | event: event sends a tick only when the controller asks\n"
    "                    for one, with only what changed (default event)\n"
    "  --encoding E      json | msgpack (default msgpack); every sync mode and encoding\n"
    "                    gives the same outputs (docs/protocol.md 2.1)\n"
    "  --atspm           also write each run's ATSPM hi-res event log, DIR/STRATEGY/atspm.csv\n"
    "                    (draw it with greenwave-atspm-plots DIR/STRATEGY)\n"
    "  --record FILE     record each run for greenwave-viz --replay (FILE, or FILE.STRATEGY\n"
    "                    when several strategies run)\n"
    "  --viz             watch each run live in greenwave-viz (paced at --realtime, default 10x)\n"
    "  --realtime X      pace the simulation at X times the wall clock\n"
    "  --quiet           print only the table\n"
    "  -h, --help        show this help\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("greenwave: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\ntry 'greenwave --help'\n", stderr);
    va_end(ap);
    return 2;
}

/* Directory of this executable; the other programs are beside it. */
static int self_dir(char *buf, size_t n) {
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len <= 0)
        return -1;
    buf[len] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    return 0;
}

/* Starts argv with stdout and stderr to log_path; returns the pid or -1. */
static pid_t spawn(const char *const argv[], const char *log_path) {
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    FILE *log = fopen(log_path, "w");
    if (log != NULL) {
        dup2(fileno(log), STDOUT_FILENO);
        dup2(fileno(log), STDERR_FILENO);
    }
    /* execv's prototype predates const; it does not modify the strings. */
    execv(argv[0], (char *const *)(uintptr_t)argv);
    fprintf(stderr, "greenwave: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static int wait_exit(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static double num(json_t *root, const char *a, const char *b) {
    json_t *o = json_object_get(root, a);
    json_t *v = b ? json_object_get(o, b) : o;
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static double num3(json_t *root, const char *a, const char *b, const char *c) {
    json_t *v = json_object_get(json_object_get(json_object_get(root, a), b), c);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void print_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "run") != 0)
        return usage_error("unknown command '%s' (expected 'run')", argv[1]);
    const char *scenario = NULL, *out = "out/run", *strategies = "none,corridor";
    const char *seed = "1", *until = NULL, *transition = "shortway";
    const char *sync = "event", *encoding = "msgpack";
    int quiet = 0, tsp = 0, viz = 0, atspm = 0;
    const char *record = NULL, *realtime = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
        } else if (strcmp(a, "--tsp") == 0) {
            tsp = 1;
        } else if (strcmp(a, "--viz") == 0) {
            viz = 1;
        } else if (strcmp(a, "--atspm") == 0) {
            atspm = 1;
        } else if ((strcmp(a, "--record") == 0 || strcmp(a, "--realtime") == 0) && i + 1 < argc) {
            if (strcmp(a, "--record") == 0)
                record = argv[++i];
            else
                realtime = argv[++i];
        } else if (strcmp(a, "--strategy") == 0 || strcmp(a, "--seed") == 0 ||
                   strcmp(a, "--out") == 0 || strcmp(a, "--until") == 0 ||
                   strcmp(a, "--transition") == 0 || strcmp(a, "--sync") == 0 ||
                   strcmp(a, "--encoding") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--strategy") == 0)
                strategies = v;
            else if (strcmp(a, "--seed") == 0)
                seed = v;
            else if (strcmp(a, "--out") == 0)
                out = v;
            else if (strcmp(a, "--until") == 0)
                until = v;
            else if (strcmp(a, "--sync") == 0)
                sync = v;
            else if (strcmp(a, "--encoding") == 0)
                encoding = v;
            else
                transition = v;
        } else if (a[0] == '-') {
            return usage_error("unknown option '%s'", a);
        } else if (scenario == NULL) {
            scenario = a;
        } else {
            return usage_error("more than one scenario given ('%s')", a);
        }
    }
    if (scenario == NULL)
        return usage_error("%s", "no scenario given");
    if (strcmp(sync, "lockstep") != 0 && strcmp(sync, "event") != 0)
        return usage_error("--sync: expected lockstep or event, got '%s'", sync);
    if (strcmp(encoding, "json") != 0 && strcmp(encoding, "msgpack") != 0)
        return usage_error("--encoding: expected json or msgpack, got '%s'", encoding);
    static const char *const known[] = {"none",        "actuated",    "local", "corridor",
                                        "corridor-v1", "route-green", NULL};
    char list[256];
    snprintf(list, sizeof list, "%s", strategies);
    char *names[8];
    int n = 0;
    for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= strcmp(*k, tok) == 0;
        if (!ok)
            return usage_error("unknown strategy '%s' (none, actuated, local, corridor, "
                               "route-green)",
                               tok);
        if (n == 8)
            return usage_error("%s", "at most 8 strategies");
        names[n++] = tok;
    }
    if (n == 0)
        return usage_error("%s", "--strategy: empty list");

    char dir[PATH_MAX], sim_bin[PATH_MAX + 32], ctl_bin[PATH_MAX + 32];
    if (self_dir(dir, sizeof dir) < 0) {
        fprintf(stderr, "greenwave: cannot find my own directory\n");
        return 1;
    }
    snprintf(sim_bin, sizeof sim_bin, "%s/greenwave-sim", dir);
    snprintf(ctl_bin, sizeof ctl_bin, "%s/greenwave-controller", dir);
    char viz_bin[PATH_MAX + 32];
    snprintf(viz_bin, sizeof viz_bin, "%s/greenwave-viz", dir);
    if (viz && realtime == NULL)
        realtime = "10";
    if (base_fs_mkdir_p(out) < 0) {
        fprintf(stderr, "greenwave: %s: cannot create: %s\n", out, strerror(errno));
        return 1;
    }
    const char *tmp = getenv("TMPDIR");
    char sockdir[PATH_MAX];
    snprintf(sockdir, sizeof sockdir, "%s/greenwave-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(sockdir) == NULL) {
        fprintf(stderr, "greenwave: cannot create a socket directory: %s\n", strerror(errno));
        return 1;
    }
    char endpoint[PATH_MAX + 32], ctl_log[PATH_MAX + 32], ctl_out[PATH_MAX + 32];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/controller.ipc", sockdir);
    snprintf(ctl_log, sizeof ctl_log, "%s/controller.log", out);
    snprintf(ctl_out, sizeof ctl_out, "%s/controller.out", out);
    const char *ctl_argv[] = {ctl_bin,    "--bind", endpoint, "--transition",
                              transition, "--log",  ctl_log,  tsp ? "--tsp" : "--no-tsp",
                              NULL};
    pid_t ctl = spawn(ctl_argv, ctl_out);
    if (ctl < 0) {
        fprintf(stderr, "greenwave: cannot start the controller: %s\n", strerror(errno));
        return 1;
    }
    if (!quiet)
        printf("greenwave: controller pid %d on %s; logs in %s/\n", (int)ctl, endpoint, out);

    json_t *sums[8] = {0};
    int status = 0;
    for (int i = 0; i < n; i++) {
        char run_dir[PATH_MAX + 64], sim_log[PATH_MAX + 96], sim_out[PATH_MAX + 96];
        snprintf(run_dir, sizeof run_dir, "%s/%s", out, names[i]);
        snprintf(sim_log, sizeof sim_log, "%s/%s.sim.log", out, names[i]);
        snprintf(sim_out, sizeof sim_out, "%s/%s.sim.out", out, names[i]);
        const char *sim_argv[40];
        int k = 0;
        sim_argv[k++] = sim_bin;
        sim_argv[k++] = scenario;
        sim_argv[k++] = "--seed";
        sim_argv[k++] = seed;
        sim_argv[k++] = "--out";
        sim_argv[k++] = run_dir;
        sim_argv[k++] = "--controller";
        sim_argv[k++] = endpoint;
        sim_argv[k++] = "--strategy";
        sim_argv[k++] = names[i];
        sim_argv[k++] = "--sync";
        sim_argv[k++] = sync;
        sim_argv[k++] = "--encoding";
        sim_argv[k++] = encoding;
        sim_argv[k++] = "--log";
        sim_argv[k++] = sim_log;
        if (until != NULL) {
            sim_argv[k++] = "--until";
            sim_argv[k++] = until;
        }
        char rec_path[PATH_MAX + 64], pub_ep[PATH_MAX + 32], lis_ep[PATH_MAX + 32];
        if (record != NULL) {
            if (n > 1)
                snprintf(rec_path, sizeof rec_path, "%s.%s", record, names[i]);
            else
                snprintf(rec_path, sizeof rec_path, "%s", record);
            sim_argv[k++] = "--record";
            sim_argv[k++] = rec_path;
        }
        if (realtime != NULL) {
            sim_argv[k++] = "--realtime";
            sim_argv[k++] = realtime;
        }
        char atspm_path[PATH_MAX + 96];
        if (atspm) {
            snprintf(atspm_path, sizeof atspm_path, "%s/atspm.csv", run_dir);
            sim_argv[k++] = "--atspm";
            sim_argv[k++] = atspm_path;
        }
        pid_t viewer = -1;
        if (viz) {
            snprintf(pub_ep, sizeof pub_ep, "ipc://%s/frames.ipc", sockdir);
            snprintf(lis_ep, sizeof lis_ep, "ipc://%s/viz-control.ipc", sockdir);
            sim_argv[k++] = "--publish";
            sim_argv[k++] = pub_ep;
            sim_argv[k++] = "--listen";
            sim_argv[k++] = lis_ep;
            sim_argv[k++] = "--frame-ms";
            sim_argv[k++] = "200";
            char viz_log[PATH_MAX + 96];
            snprintf(viz_log, sizeof viz_log, "%s/%s.viz.out", out, names[i]);
            const char *viz_argv[] = {viz_bin, "--connect", pub_ep, "--control", lis_ep, NULL};
            viewer = spawn(viz_argv, viz_log);
        }
        sim_argv[k] = NULL;
        if (!quiet) {
            printf("greenwave: running %s under strategy %s ...\n", scenario, names[i]);
            fflush(stdout);
        }
        pid_t sim = spawn(sim_argv, sim_out);
        int rc = sim < 0 ? -1 : wait_exit(sim);
        if (viewer > 0) {
            kill(viewer, SIGTERM);
            wait_exit(viewer);
        }
        if (rc != 0) {
            fprintf(stderr, "greenwave: the simulation under %s failed (exit %d):\n", names[i], rc);
            print_file(sim_out);
            status = rc == 2 ? 2 : 1;
            break;
        }
        char path[PATH_MAX + 96];
        snprintf(path, sizeof path, "%s/summary.json", run_dir);
        json_error_t je;
        sums[i] = json_load_file(path, 0, &je);
        if (sums[i] == NULL) {
            fprintf(stderr, "greenwave: %s: %s\n", path, je.text);
            status = 1;
            break;
        }
    }
    kill(ctl, SIGTERM);
    int crc = wait_exit(ctl);
    if (crc != 0 && status == 0) {
        fprintf(stderr, "greenwave: the controller exited with status %d:\n", crc);
        print_file(ctl_out);
        status = 1;
    }
    char sock[PATH_MAX + 32];
    snprintf(sock, sizeof sock, "%s/controller.ipc", sockdir);
    unlink(sock);
    rmdir(sockdir);

    if (status == 0) {
        printf("\n%-28s", "");
        for (int i = 0; i < n; i++)
            printf("%14s", names[i]);
        printf("\n");
        struct {
            const char *label, *a, *b, *c;
        } rows[] = {
            {"escort travel time (s)", "escort", "travel_time_s", NULL},
            {"escort free-flow time (s)", "escort", "free_flow_time_s", NULL},
            {"escort stops", "escort", "stops", NULL},
            {"mean delay, all (s)", "traffic", "mean_delay_s", NULL},
            {"mean delay, during escort", "traffic", "during_escort", "mean_delay_s"},
            {"mean delay, cross streets", "traffic", "cross_street", "mean_delay_s"},
            {"vehicles completed", "traffic", "vehicles_completed", NULL},
            {"recovery (s)", "recovery", "time_s", NULL},
            {"conflict rejections", "safety", "conflict_rejections", NULL},
            {"controller ticks", "controller", "ticks", NULL},
            {"controller rtt p50 (us)", "controller", "rtt_us_p50", NULL},
            {"controller rtt p99 (us)", "controller", "rtt_us_p99", NULL},
            {"wall time (s)", "sim", "wall_s", NULL},
        };
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            printf("%-28s", rows[r].label);
            for (int i = 0; i < n; i++) {
                double v = rows[r].c ? num3(sums[i], rows[r].a, rows[r].b, rows[r].c)
                                     : num(sums[i], rows[r].a, rows[r].b);
                if (v != v)
                    printf("%14s", "-");
                else if (v == (double)(long long)v && fabs(v) < 1e12)
                    printf("%14lld", (long long)v);
                else
                    printf("%14.1f", v);
            }
            printf("\n");
        }
        printf("\noutputs: %s/<strategy>/{trips.csv, signals.csv, escort.csv, summary.json}\n",
               out);
    }
    for (int i = 0; i < n; i++)
        json_decref(sums[i]);
    return status;
}
