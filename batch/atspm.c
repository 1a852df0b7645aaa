/*
 * batch/atspm.c - Purdue Coordination Diagram and split monitor from an ATSPM event log.
 *
 * Per signal the log's events are contiguous and in time order (report_atspm_read sorts them),
 * so each phase is one pass: the starts of red cut cycles, green intervals come from Begin
 * Green .. Begin Yellow, and arrivals are classified by a merge over the green intervals.
 * O(events x phases) per signal.
 */
#include "batch/atspm.h"

#include "base/fs.h"
#include "batch/plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct span {
    int64_t a, b;
} span_t;

typedef struct vec {
    span_t *v;
    size_t n, cap;
} vec_t;

static int vec_push(vec_t *x, int64_t a, int64_t b) {
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 256;
        span_t *n = realloc(x->v, cap * sizeof *n);
        if (n == NULL)
            return -1;
        x->v = n;
        x->cap = cap;
    }
    x->v[x->n++] = (span_t){a, b};
    return 0;
}

static int cmp_span(const void *pa, const void *pb) {
    const span_t *x = pa, *y = pb;
    return (x->a > y->a) - (x->a < y->a);
}

static void safe_name(const char *id, char *out, size_t cap) {
    size_t i = 0;
    for (; id[i] != '\0' && i + 1 < cap; i++) {
        char c = id[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '-';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

static FILE *open_file(const char *dir, const char *name, const char *ext, base_err_t *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        base_err_set(err, BASE_EIO, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

static int close_file(FILE *f, const char *dir, const char *name, const char *ext,
                      base_err_t *err) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return base_err_set(err, BASE_EIO, "%s/%s%s: write error", dir, name, ext);
    return BASE_OK;
}

/* One phase of one signal, computed. */
typedef struct phase {
    int32_t number;
    const char *name;
    vec_t reds;   /* starts of red (a) */
    vec_t greens; /* green intervals [a, b) (b = -1: still green at the end) */
    vec_t splits; /* [begin green, end of clearance) */
    vec_t arrive; /* arrivals at the stop bar (a), b: 1 on green */
    int has_detectors;
    size_t on_green;
} phase_t;

static void phase_free(phase_t *p) {
    free(p->reds.v);
    free(p->greens.v);
    free(p->splits.v);
    free(p->arrive.v);
}

/* Fills ph from the events [b, e) of signal s. */
static int compute(const report_atspm_log_t *log, int32_t s, size_t b, size_t e, phase_t *ph) {
    int32_t p = ph->number;
    int64_t open_green = -1, open_split = -1, split_end = -1;
    for (size_t i = b; i < e; i++) {
        const report_atspm_event_t *ev = &log->events[i];
        if (ev->param != p && ev->code < 81)
            continue;
        switch (ev->code) {
        case REPORT_ATSPM_PHASE_BEGIN_GREEN:
            if (open_split >= 0 && split_end >= 0 && vec_push(&ph->splits, open_split, split_end))
                return -1;
            open_green = open_split = ev->t_ms;
            split_end = -1;
            break;
        case REPORT_ATSPM_PHASE_BEGIN_YELLOW:
            if (open_green >= 0 && vec_push(&ph->greens, open_green, ev->t_ms) < 0)
                return -1;
            open_green = -1;
            break;
        case REPORT_ATSPM_PHASE_END_YELLOW:
            if (vec_push(&ph->reds, ev->t_ms, 0) < 0)
                return -1;
            split_end = ev->t_ms;
            break;
        case REPORT_ATSPM_PHASE_END_RED_CLEARANCE:
            split_end = ev->t_ms;
            break;
        case REPORT_ATSPM_DETECTOR_ON:
            for (size_t c = 0; c < log->n_channels; c++) {
                const report_atspm_channel_t *ch = &log->channels[c];
                if (ch->is_detector && ch->signal == s && ch->number == ev->param &&
                    ch->phase == p && strcmp(ch->turn, "advance") == 0 && ch->speed_kmh > 0) {
                    int64_t t = ev->t_ms + llround(ch->distance_m / (ch->speed_kmh / 3.6) * 1000.0);
                    if (vec_push(&ph->arrive, t, 0) < 0)
                        return -1;
                    ph->has_detectors = 1;
                }
            }
            break;
        default:
            break;
        }
    }
    if (open_split >= 0 && split_end >= open_split && vec_push(&ph->splits, open_split, split_end))
        return -1;
    if (open_green >= 0 && vec_push(&ph->greens, open_green, -1) < 0)
        return -1;
    if (ph->arrive.n > 1)
        qsort(ph->arrive.v, ph->arrive.n, sizeof *ph->arrive.v, cmp_span);
    size_t g = 0;
    for (size_t i = 0; i < ph->arrive.n; i++) {
        int64_t t = ph->arrive.v[i].a;
        while (g < ph->greens.n && ph->greens.v[g].b >= 0 && ph->greens.v[g].b <= t)
            g++;
        int on = g < ph->greens.n && ph->greens.v[g].a <= t &&
                 (ph->greens.v[g].b < 0 || t < ph->greens.v[g].b);
        ph->arrive.v[i].b = on;
        ph->on_green += (size_t)on;
    }
    return 0;
}

/* Whether [a, b] meets an event of code (with param p, or any param if p < 0) of signal s,
 * or lies inside a preemption when code is 102. */
static int marked(const report_atspm_log_t *log, size_t b, size_t e, int code, int32_t p,
                  int64_t t0, int64_t t1) {
    if (code == REPORT_ATSPM_PREEMPT_CALL_ON) {
        int64_t on = -1;
        for (size_t i = b; i < e; i++) {
            const report_atspm_event_t *ev = &log->events[i];
            if (ev->code == REPORT_ATSPM_PREEMPT_CALL_ON && on < 0)
                on = ev->t_ms;
            else if (ev->code == REPORT_ATSPM_PREEMPT_CALL_OFF && on >= 0) {
                if (on <= t1 && ev->t_ms >= t0)
                    return 1;
                on = -1;
            }
        }
        return on >= 0 && on <= t1;
    }
    for (size_t i = b; i < e; i++) {
        const report_atspm_event_t *ev = &log->events[i];
        if (ev->code == code && (p < 0 || ev->param == p) && ev->t_ms >= t0 && ev->t_ms <= t1)
            return 1;
    }
    return 0;
}

static double hours_s(int64_t ms) {
    return (double)ms / 1000.0;
}

static int draw_pcd(const char *gnuplot, const char *dir, const char *sid, const char *fname,
                    phase_t *ph, size_t n, base_err_t *err) {
    size_t drawn = 0;
    for (size_t j = 0; j < n; j++)
        drawn += ph[j].has_detectors;
    if (drawn == 0)
        return 0;
    FILE *d = open_file(dir, fname, ".dat", err);
    if (d == NULL)
        return BASE_EIO;
    /* Per drawn phase three blocks: arrivals on green, on red, cycle lines. */
    for (size_t j = 0; j < n; j++) {
        const phase_t *q = &ph[j];
        if (!q->has_detectors)
            continue;
        for (int on = 1; on >= 0; on--) {
            fprintf(d, "# phase %d arrivals %s: time_s seconds_in_cycle\n", (int)q->number,
                    on ? "on green" : "not on green");
            size_t r = 0, any = 0;
            for (size_t i = 0; i < q->arrive.n; i++) {
                int64_t t = q->arrive.v[i].a;
                while (r + 1 < q->reds.n && q->reds.v[r + 1].a <= t)
                    r++;
                if (q->reds.n == 0 || t < q->reds.v[r].a || (int)q->arrive.v[i].b != on)
                    continue;
                fprintf(d, "%.3f %.3f\n", hours_s(t), hours_s(t - q->reds.v[r].a));
                any = 1;
            }
            if (!any)
                fputs("NaN NaN\n", d);
            fputs("\n\n", d);
        }
        fprintf(d, "# phase %d cycles: start_s green_s yellow_s end_s\n", (int)q->number);
        size_t g = 0, any = 0;
        for (size_t r = 0; r + 1 < q->reds.n; r++) {
            int64_t c0 = q->reds.v[r].a, c1 = q->reds.v[r + 1].a;
            double gs = NAN, ys = NAN;
            while (g < q->greens.n && q->greens.v[g].a < c0)
                g++;
            if (g < q->greens.n && q->greens.v[g].a < c1) {
                gs = hours_s(q->greens.v[g].a - c0);
                if (q->greens.v[g].b >= 0 && q->greens.v[g].b <= c1)
                    ys = hours_s(q->greens.v[g].b - c0);
            }
            fprintf(d, "%.3f %.3f %.3f %.3f\n", hours_s(c0), gs, ys, hours_s(c1 - c0));
            any = 1;
        }
        if (!any)
            fputs("NaN NaN NaN NaN\n", d);
        fputs("\n\n", d);
    }
    if (close_file(d, dir, fname, ".dat", err) < 0)
        return BASE_EIO;
    FILE *g = open_file(dir, fname, ".gp", err);
    if (g == NULL)
        return BASE_EIO;
    fprintf(g, "# %s.gp: drawn by greenwave-atspm-plots; run 'gnuplot %s.gp' here.\n", fname,
            fname);
    fprintf(g, "set terminal pngcairo size 1100,%zu font 'sans,9' noenhanced\n", 60 + 300 * drawn);
    fprintf(g, "set output '%s.png'\nset multiplot layout %zu,1 title ", fname, drawn);
    char title[512];
    snprintf(title, sizeof title, "Purdue Coordination Diagram - signal %s", sid);
    batch_plot_quote(g, title);
    fputs("\nset xdata time\nset timefmt '%s'\nset format x '%H:%M'\n"
          "set ylabel 'seconds in cycle'\nset grid ytics lc rgb '#dddddd'\n"
          "set key outside right top vertical\nset yrange [0:*]\n",
          g);
    size_t blk = 0;
    for (size_t j = 0; j < n; j++) {
        const phase_t *q = &ph[j];
        if (!q->has_detectors)
            continue;
        double aog = q->arrive.n ? 100.0 * (double)q->on_green / (double)q->arrive.n : NAN;
        snprintf(title, sizeof title,
                 "phase %d (%s): %zu arrivals, %.1f %% on green (AoG), %zu cycles", (int)q->number,
                 q->name ? q->name : "", q->arrive.n, aog, q->reds.n ? q->reds.n - 1 : 0);
        fputs("set title ", g);
        batch_plot_quote(g, title);
        fprintf(g,
                "\nplot '%s.dat' index %zu using 1:2 with points pt 7 ps 0.35 lc rgb '#1a9641' "
                "title 'arrival on green', \\\n"
                "  '' index %zu using 1:2 with points pt 7 ps 0.35 lc rgb '#d7191c' "
                "title 'arrival on red', \\\n"
                "  '' index %zu using 1:2 with steps lw 1.5 lc rgb '#008837' "
                "title 'start of green', \\\n"
                "  '' index %zu using 1:3 with steps lw 1.5 lc rgb '#e6ab02' "
                "title 'start of yellow', \\\n"
                "  '' index %zu using 1:4 with steps lw 1 lc rgb '#b2182b' "
                "title 'end of cycle (red)'\n",
                fname, blk, blk + 1, blk + 2, blk + 2, blk + 2);
        blk += 3;
    }
    fputs("unset multiplot\n", g);
    if (close_file(g, dir, fname, ".gp", err) < 0)
        return BASE_EIO;
    return batch_plot_run(gnuplot, dir, fname, err) < 0 ? BASE_EIO : 1;
}

static int draw_split(const char *gnuplot, const char *dir, const char *sid, const char *fname,
                      const report_atspm_log_t *log, size_t b, size_t e, phase_t *ph, size_t n,
                      base_err_t *err) {
    FILE *d = open_file(dir, fname, ".dat", err);
    if (d == NULL)
        return BASE_EIO;
    for (size_t j = 0; j < n; j++) {
        const phase_t *q = &ph[j];
        fprintf(d, "# phase %d: begin_green_s split_s force_off preempted\n", (int)q->number);
        for (size_t i = 0; i < q->splits.n; i++) {
            int64_t a = q->splits.v[i].a, z = q->splits.v[i].b;
            fprintf(d, "%.3f %.3f %d %d\n", hours_s(a), hours_s(z - a),
                    marked(log, b, e, REPORT_ATSPM_PHASE_FORCE_OFF, q->number, a, z),
                    marked(log, b, e, REPORT_ATSPM_PREEMPT_CALL_ON, -1, a, z));
        }
        if (q->splits.n == 0)
            fputs("NaN NaN 0 0\n", d);
        fputs("\n\n", d);
    }
    if (close_file(d, dir, fname, ".dat", err) < 0)
        return BASE_EIO;
    FILE *g = open_file(dir, fname, ".gp", err);
    if (g == NULL)
        return BASE_EIO;
    fprintf(g, "# %s.gp: drawn by greenwave-atspm-plots; run 'gnuplot %s.gp' here.\n", fname,
            fname);
    fprintf(g, "set terminal pngcairo size 1100,%zu font 'sans,9' noenhanced\n",
            160 + 170 * ((n + 1) / 2));
    fprintf(g, "set output '%s.png'\nset multiplot layout %zu,2 title ", fname, (n + 1) / 2);
    char title[512];
    snprintf(title, sizeof title,
             "Split monitor - signal %s (green + yellow + red clearance per cycle)", sid);
    batch_plot_quote(g, title);
    fputs("\nset xdata time\nset timefmt '%s'\nset format x '%H:%M'\nset ylabel 'split (s)'\n"
          "set grid ytics lc rgb '#dddddd'\nset key top right font 'sans,8'\nset yrange [0:*]\n"
          "set offsets 0, 0, graph 0.45, 0\n",
          g);
    for (size_t j = 0; j < n; j++) {
        const phase_t *q = &ph[j];
        double sum = 0;
        for (size_t i = 0; i < q->splits.n; i++)
            sum += hours_s(q->splits.v[i].b - q->splits.v[i].a);
        snprintf(title, sizeof title, "phase %d (%s): %zu cycles, mean split %.1f s",
                 (int)q->number, q->name ? q->name : "", q->splits.n,
                 q->splits.n ? sum / (double)q->splits.n : NAN);
        fputs("set title ", g);
        batch_plot_quote(g, title);
        fprintf(g,
                "\nplot '%s.dat' index %zu using 1:2 with points pt 7 ps 0.5 lc rgb '#2b83ba' "
                "title 'split', \\\n"
                "  '' index %zu using 1:($3 > 0 ? $2 : 1/0) with points pt 9 ps 1.2 "
                "lc rgb '#fdae61' title 'force-off', \\\n"
                "  '' index %zu using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 1.4 "
                "lc rgb '#d7191c' title 'during preemption'\n",
                fname, j, j, j);
    }
    fputs("unset multiplot\n", g);
    if (close_file(g, dir, fname, ".gp", err) < 0)
        return BASE_EIO;
    return batch_plot_run(gnuplot, dir, fname, err) < 0 ? BASE_EIO : 1;
}

/* Appends a zeroed phase (number, name) to *ph, growing it by doubling. Returns 0, or -1 when
 * out of memory (*ph is then unchanged and still owned by the caller). */
static int push_phase(phase_t **ph, size_t *n, size_t *cap, int32_t number, const char *name) {
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        phase_t *np = realloc(*ph, ncap * sizeof *np);
        if (np == NULL)
            return -1;
        *ph = np;
        *cap = ncap;
    }
    memset(&(*ph)[*n], 0, sizeof **ph);
    (*ph)[*n].number = number;
    (*ph)[(*n)++].name = name;
    return 0;
}

static int cmp_phase(const void *pa, const void *pb) {
    const phase_t *x = pa, *y = pb;
    return (x->number > y->number) - (x->number < y->number);
}

int batch_atspm_plots(const char *gnuplot, const report_atspm_log_t *log, const char *dir,
                      const char *only, size_t *n_png, base_err_t *err) {
    *n_png = 0;
    int32_t only_s = -1;
    if (only != NULL && (only_s = report_atspm_log_signal(log, only)) < 0)
        return base_err_set(err, BASE_EINVAL, "no signal \"%s\" in the log", only);
    if (log->n_events == 0)
        return base_err_set(err, BASE_EINVAL, "the log has no events");
    if (base_fs_mkdir_p(dir) < 0)
        return base_err_set(err, BASE_EIO, "%s: cannot create: %s", dir, strerror(errno));
    FILE *sum = open_file(dir, "atspm-summary", ".csv", err);
    if (sum == NULL)
        return BASE_EIO;
    fputs("signal,phase,name,cycles,arrivals,arrivals_on_green_pct,mean_split_s\n", sum);
    int rc = BASE_OK;
    size_t b = 0;
    while (b < log->n_events && rc == BASE_OK) {
        int32_t s = log->events[b].signal;
        size_t e = b;
        while (e < log->n_events && log->events[e].signal == s)
            e++;
        if (only_s >= 0 && s != only_s) {
            b = e;
            continue;
        }
        /* Phases: the config's, else those that turn green in the log. */
        phase_t *ph = NULL;
        size_t n = 0, cap = 0;
        for (size_t c = 0; c < log->n_channels; c++) {
            const report_atspm_channel_t *ch = &log->channels[c];
            if (ch->is_detector || ch->signal != s)
                continue;
            if (push_phase(&ph, &n, &cap, ch->number, ch->name) < 0) {
                rc = base_err_set(err, BASE_ENOMEM, "out of memory");
                break;
            }
        }
        if (log->n_channels == 0) {
            for (size_t i = b; i < e && rc == BASE_OK; i++) {
                if (log->events[i].code != REPORT_ATSPM_PHASE_BEGIN_GREEN)
                    continue;
                size_t k = 0;
                while (k < n && ph[k].number != log->events[i].param)
                    k++;
                if (k < n)
                    continue;
                if (push_phase(&ph, &n, &cap, log->events[i].param, NULL) < 0) {
                    rc = base_err_set(err, BASE_ENOMEM, "out of memory");
                    break;
                }
            }
        }
        if (n > 1)
            qsort(ph, n, sizeof *ph, cmp_phase);
        for (size_t j = 0; j < n && rc == BASE_OK; j++) {
            if (compute(log, s, b, e, &ph[j]) < 0)
                rc = base_err_set(err, BASE_ENOMEM, "out of memory");
        }
        char safe[256], fname[300];
        safe_name(log->signals[s], safe, sizeof safe);
        if (rc == BASE_OK && n > 0) {
            snprintf(fname, sizeof fname, "pcd-%s", safe);
            int r = draw_pcd(gnuplot, dir, log->signals[s], fname, ph, n, err);
            if (r < 0)
                rc = r;
            else
                *n_png += (size_t)r;
        }
        if (rc == BASE_OK && n > 0) {
            snprintf(fname, sizeof fname, "split-%s", safe);
            int r = draw_split(gnuplot, dir, log->signals[s], fname, log, b, e, ph, n, err);
            if (r < 0)
                rc = r;
            else
                *n_png += (size_t)r;
        }
        for (size_t j = 0; j < n; j++) {
            const phase_t *q = &ph[j];
            double sp = 0;
            for (size_t i = 0; i < q->splits.n; i++)
                sp += hours_s(q->splits.v[i].b - q->splits.v[i].a);
            fprintf(sum, "%s,%d,%s,%zu,%zu,", log->signals[s], (int)q->number,
                    q->name ? q->name : "", q->reds.n ? q->reds.n - 1 : 0, q->arrive.n);
            if (q->arrive.n)
                fprintf(sum, "%.1f,", 100.0 * (double)q->on_green / (double)q->arrive.n);
            else
                fputs(",", sum);
            if (q->splits.n)
                fprintf(sum, "%.3f\n", sp / (double)q->splits.n);
            else
                fputs("\n", sum);
            phase_free(&ph[j]);
        }
        free(ph);
        b = e;
    }
    int crc = close_file(sum, dir, "atspm-summary", ".csv", err);
    if (rc == BASE_OK && crc < 0)
        rc = crc;
    if (rc == BASE_OK && *n_png == 0)
        rc = base_err_set(err, BASE_EINVAL, "nothing to draw: no phase turned green in the log");
    return rc;
}
