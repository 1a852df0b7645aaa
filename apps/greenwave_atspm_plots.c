/*
 * greenwave-atspm-plots - Purdue Coordination Diagrams and split monitors (PNG per signal)
 * from an ATSPM hi-res event log written by greenwave-sim --atspm (docs/atspm.md); checks
 * the log's greens against the run's signals.csv on request.
 *
 * Exit status: 0 ok; 1 drawing or check failed; 2 bad command line or unreadable input.
 */
#include "batch/atspm.h"
#include "batch/plot.h"
#include "report/atspm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char USAGE[] =
    "usage: greenwave-atspm-plots RUN_DIR|LOG.csv [--out DIR] [--signal ID] [--config FILE]\n"
    "                             [--gnuplot PATH] [--check-signals SIGNALS.csv]\n"
    "\n"
    "Reads an ATSPM hi-res controller event log (SignalID,Timestamp,EventCode,EventParam, as\n"
    "written by greenwave-sim --atspm) and its phase/detector map (LOG.config.csv beside it)\n"
    "and draws, per signal, with gnuplot:\n"
    "  pcd-SIGNAL.png     Purdue Coordination Diagram: arrivals at the stop bar (from the\n"
    "                     advance detectors) by time in cycle, on green or red, with the\n"
    "                     start of green and yellow and the share of arrivals on green\n"
    "  split-SIGNAL.png   split monitor: each phase's green + clearance per cycle, force-offs\n"
    "                     and preemptions marked\n"
    "  atspm-summary.csv  per signal and phase: cycles, arrivals, % on green, mean split\n"
    "Each PNG's data (.dat) and script (.gp) stay beside it.\n"
    "\n"
    "RUN_DIR is a greenwave-sim output directory holding atspm.csv.\n"
    "\n"
    "options:\n"
    "  --out DIR              where to draw (default: RUN_DIR/atspm, or LOG's directory)\n"
    "  --signal ID            only this signal\n"
    "  --config FILE          the phase/detector map (default: LOG minus .csv + .config.csv)\n"
    "  --gnuplot PATH         gnuplot to run (default: gnuplot on PATH)\n"
    "  --check-signals FILE   compare the log's green intervals with greenwave's signals.csv\n"
    "                         of the same run (to the millisecond), print the count, draw\n"
    "                         nothing\n"
    "  -h, --help             show this help\n"
    "\n"
    "exit status: 0 ok, 1 drawing or check failed, 2 bad command line or input\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("greenwave-atspm-plots: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(see greenwave-atspm-plots --help)\n", stderr);
    return 2;
}

int main(int argc, char **argv) {
    const char *input = NULL, *out = NULL, *only = NULL, *config = NULL, *gnuplot_path = NULL,
               *check = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "--signal") == 0 ||
                   strcmp(a, "--config") == 0 || strcmp(a, "--gnuplot") == 0 ||
                   strcmp(a, "--check-signals") == 0) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--out") == 0)
                out = v;
            else if (strcmp(a, "--signal") == 0)
                only = v;
            else if (strcmp(a, "--config") == 0)
                config = v;
            else if (strcmp(a, "--gnuplot") == 0)
                gnuplot_path = v;
            else
                check = v;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option '%s'", a);
        } else if (input == NULL) {
            input = a;
        } else {
            return usage_error("more than one input given ('%s')", a);
        }
    }
    if (input == NULL)
        return usage_error("%s", "no run directory or log given");
    char log_path[4096], out_dir[4096];
    struct stat st;
    if (stat(input, &st) < 0)
        return usage_error("%s: no such file or directory", input);
    if (S_ISDIR(st.st_mode)) {
        snprintf(log_path, sizeof log_path, "%s/atspm.csv", input);
        snprintf(out_dir, sizeof out_dir, "%s/atspm", input);
    } else {
        snprintf(log_path, sizeof log_path, "%s", input);
        const char *slash = strrchr(input, '/');
        if (slash == NULL)
            snprintf(out_dir, sizeof out_dir, ".");
        else
            snprintf(out_dir, sizeof out_dir, "%.*s", (int)(slash - input), input);
    }
    if (out != NULL)
        snprintf(out_dir, sizeof out_dir, "%s", out);
    char *cfg = config != NULL ? strdup(config) : report_atspm_config_path(log_path);
    if (cfg == NULL) {
        fputs("greenwave-atspm-plots: out of memory\n", stderr);
        return 1;
    }
    /* A missing default config is fine (phases from the log, no PCD); a named one must exist. */
    const char *use_cfg = cfg;
    if (config == NULL && stat(cfg, &st) < 0)
        use_cfg = NULL;
    base_err_t err = {0};
    report_atspm_log_t log;
    if (report_atspm_read(log_path, use_cfg, &log, &err) < 0) {
        fprintf(stderr, "greenwave-atspm-plots: %s\n", err.msg);
        free(cfg);
        return 2;
    }
    free(cfg);
    int status = 0;
    if (check != NULL) {
        if (use_cfg == NULL) {
            fprintf(stderr, "greenwave-atspm-plots: --check-signals needs the config file\n");
            report_atspm_log_free(&log);
            return 2;
        }
        /* The run starts at the log's first event (every signal logs its greens at t = 0). */
        int64_t t0 = INT64_MAX;
        for (size_t i = 0; i < log.n_events; i++)
            if (log.events[i].t_ms < t0)
                t0 = log.events[i].t_ms;
        int64_t n = report_atspm_check_signals(&log, check, t0, &err);
        if (n < 0) {
            fprintf(stderr, "greenwave-atspm-plots: %s\n", err.msg);
            status = 1;
        } else {
            printf("%lld green intervals identical in %s and %s\n", (long long)n, log_path, check);
        }
        report_atspm_log_free(&log);
        return status;
    }
    char *gnuplot = batch_plot_find_gnuplot(gnuplot_path);
    if (gnuplot == NULL) {
        fprintf(stderr, "greenwave-atspm-plots: %s\n",
                gnuplot_path ? "--gnuplot: not an executable" : "gnuplot not found on PATH");
        report_atspm_log_free(&log);
        return 2;
    }
    size_t n_png = 0;
    if (batch_atspm_plots(gnuplot, &log, out_dir, only, &n_png, &err) < 0) {
        fprintf(stderr, "greenwave-atspm-plots: %s\n", err.msg);
        status = err.code == BASE_EINVAL ? 2 : 1;
    } else {
        printf("%zu charts of %d signals in %s\n", n_png, (int)log.n_signals, out_dir);
    }
    free(gnuplot);
    report_atspm_log_free(&log);
    return status;
}
