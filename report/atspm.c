/*
 * report/atspm.c - the ATSPM hi-res event log: phase mapping, writer, reader, round trip.
 *
 * Writer: each callback appends (signal, time, sequence, code, param) records to an array;
 * finish sorts them by (signal, time, sequence) and prints them, so the file does not depend
 * on the order callbacks came in (detector events come early: the simulator knows when a
 * vehicle will pass a loop when it enters the link). Times are printed from integer
 * milliseconds by civil-date arithmetic (days_from_civil / civil_from_days), never through
 * floating point or the C library's time zone.
 *
 * Phase mapping: the main direction of a signal is the travel direction of the first corridor
 * link that ends at its node (else its approach with the most lanes); a group's NEMA phase
 * follows from the compass direction of its representative movement's approach relative to it
 * and the movement's turn. docs/atspm.md has the table.
 */
#include "report/atspm.h"

#include "report/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ---- civil dates (proleptic Gregorian) ------------------------------------------------ */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ---- phase mapping --------------------------------------------------------------------- */

static double bearing(const sim_scenario_t *scn, int32_t l) {
    const sim_node_t *a = &scn->nodes[scn->links[l].from], *b = &scn->nodes[scn->links[l].to];
    double deg = atan2(b->x_m - a->x_m, b->y_m - a->y_m) * 180.0 / 3.14159265358979323846;
    return deg < 0 ? deg + 360.0 : deg;
}

/* The through phase (2, 4, 6, 8) of an approach link relative to the main direction b2. */
static int32_t through_phase(const sim_scenario_t *scn, int32_t l, double b2) {
    double r = fmod(bearing(scn, l) - b2 + 720.0 + 45.0, 360.0);
    static const int32_t q[4] = {2, 4, 6, 8};
    int k = (int)(r / 90.0);
    return q[k > 3 ? 3 : k];
}

static int32_t left_of(int32_t through) {
    switch (through) {
    case 2:
        return 5;
    case 4:
        return 7;
    case 6:
        return 1;
    default:
        return 3;
    }
}

/* The movement that represents group g: its first through, else first left or U-turn, else
 * its first movement; -1 for a group without movements. */
static int32_t group_movement(const sim_scenario_t *scn, const sim_signal_group_t *grp) {
    int32_t best = -1, rank = 9;
    for (int32_t i = 0; i < grp->n_movements; i++) {
        int32_t m = grp->movements[i];
        sim_turn_t t = scn->movements[m].turn;
        int r = t == SIM_TURN_THROUGH ? 0 : (t == SIM_TURN_LEFT || t == SIM_TURN_UTURN) ? 1 : 2;
        if (r < rank) {
            rank = r;
            best = m;
        }
    }
    return best;
}

static double main_bearing(const sim_scenario_t *scn, int32_t node) {
    for (int32_t c = 0; c < scn->n_corridors; c++) {
        const sim_corridor_t *cr = &scn->corridors[c];
        for (int32_t i = 0; i < cr->n_links; i++) {
            if (scn->links[cr->links[i]].to == node)
                return bearing(scn, cr->links[i]);
        }
    }
    int32_t best = -1;
    for (int32_t l = 0; l < scn->n_links; l++) {
        if (scn->links[l].to == node && (best < 0 || scn->links[l].lanes > scn->links[best].lanes))
            best = l;
    }
    return best >= 0 ? bearing(scn, best) : 90.0;
}

void report_atspm_phase_map(const sim_scenario_t *scn, int32_t s, int32_t *phase) {
    const sim_signal_t *sig = &scn->signals[s];
    double b2 = main_bearing(scn, sig->node);
    uint64_t taken = 0; /* bit p: phase p used (p < 64) */
    for (int32_t g = 0; g < sig->n_groups; g++)
        phase[g] = 0;
    /* Throughs first, then lefts, then the rest, so throughs keep their natural numbers. */
    for (int pass = 0; pass < 3; pass++) {
        for (int32_t g = 0; g < sig->n_groups; g++) {
            int32_t m = group_movement(scn, &sig->groups[g]);
            sim_turn_t t = m >= 0 ? scn->movements[m].turn : SIM_TURN_RIGHT;
            int r = t == SIM_TURN_THROUGH ? 0 : (t == SIM_TURN_LEFT || t == SIM_TURN_UTURN) ? 1 : 2;
            if (r != pass)
                continue;
            int32_t p = 0;
            if (m >= 0) {
                int32_t th = through_phase(scn, scn->movements[m].from, b2);
                p = r == 1 ? left_of(th) : th;
            }
            if (p == 0 || (taken & (UINT64_C(1) << p))) {
                p = 9;
                while (p < 63 && (taken & (UINT64_C(1) << p)))
                    p++;
            }
            taken |= UINT64_C(1) << p;
            phase[g] = p;
        }
    }
}

static const char *approach_name(const sim_scenario_t *scn, int32_t l) {
    static const char *const names[4] = {"NB", "EB", "SB", "WB"};
    double b = fmod(bearing(scn, l) + 45.0, 360.0);
    int k = (int)(b / 90.0);
    return names[k > 3 ? 3 : k];
}

static const char *turn_name(sim_turn_t t) {
    switch (t) {
    case SIM_TURN_THROUGH:
        return "through";
    case SIM_TURN_LEFT:
        return "left";
    case SIM_TURN_RIGHT:
        return "right";
    default:
        return "uturn";
    }
}

/* ---- writer ------------------------------------------------------------------------- */

typedef struct rec {
    int64_t t;
    uint64_t seq;
    int32_t signal;
    int16_t code;
    int16_t param;
} rec_t;

struct report_atspm {
    const sim_scenario_t *scn;
    char *path;
    rec_t *recs;
    size_t n, cap;
    uint64_t seq;
    int oom;
    int32_t *phase_first; /* phase of group g of signal s: phase[phase_first[s] + g] */
    int32_t *phase;
    uint8_t *state;        /* last state per group, same layout */
    int32_t *det_signal;   /* per detector: its signal, or -1 */
    int32_t *det_channel;  /* per detector: its channel (1-based) */
    int32_t *det_phase;    /* per detector: the phase it serves */
    uint8_t *preempt;      /* per signal: 0 none, 1 preemption, 2 TSP */
    int32_t *called;       /* per signal: the stage a preemption called, or -1 */
    uint8_t *dwell_logged; /* per signal: 107 written for the current preemption */
};

static void put(report_atspm_t *a, int32_t s, sim_time_t t, int code, int32_t param) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        rec_t *n = realloc(a->recs, cap * sizeof *n);
        if (n == NULL) {
            a->oom = 1;
            return;
        }
        a->recs = n;
        a->cap = cap;
    }
    a->recs[a->n++] = (rec_t){t, a->seq++, s, (int16_t)code, (int16_t)param};
}

/* The phase a detector on link l serves: the group of the link's through movement, else of
 * its first movement with a group. */
static int32_t link_phase(const report_atspm_t *a, int32_t l) {
    const sim_scenario_t *scn = a->scn;
    const sim_link_t *lk = &scn->links[l];
    int32_t best = -1;
    for (int32_t i = 0; i < lk->out_count; i++) {
        int32_t m = scn->link_out[lk->out_first + i];
        if (scn->movements[m].group < 0)
            continue;
        if (best < 0 || (scn->movements[m].turn == SIM_TURN_THROUGH &&
                         scn->movements[best].turn != SIM_TURN_THROUGH))
            best = m;
    }
    if (best < 0)
        return 0;
    const sim_movement_t *mv = &scn->movements[best];
    return a->phase[a->phase_first[mv->signal] + mv->group];
}

report_atspm_t *report_atspm_new(const sim_scenario_t *scn, const char *path, base_err_t *err) {
    report_atspm_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        goto oom;
    a->scn = scn;
    size_t ns = (size_t)scn->n_signals, nd = (size_t)scn->n_detectors;
    a->path = strdup(path);
    a->phase_first = calloc(ns + 1, sizeof *a->phase_first);
    for (int32_t s = 0; a->phase_first != NULL && s < scn->n_signals; s++)
        a->phase_first[s + 1] = a->phase_first[s] + scn->signals[s].n_groups;
    size_t ng = a->phase_first ? (size_t)a->phase_first[ns] : 0;
    a->phase = calloc(ng + 1, sizeof *a->phase);
    a->state = calloc(ng + 1, 1);
    a->det_signal = calloc(nd + 1, sizeof *a->det_signal);
    a->det_channel = calloc(nd + 1, sizeof *a->det_channel);
    a->det_phase = calloc(nd + 1, sizeof *a->det_phase);
    a->preempt = calloc(ns + 1, 1);
    a->called = calloc(ns + 1, sizeof *a->called);
    a->dwell_logged = calloc(ns + 1, 1);
    if (!a->path || !a->phase_first || !a->phase || !a->state || !a->det_signal ||
        !a->det_channel || !a->det_phase || !a->preempt || !a->called || !a->dwell_logged)
        goto oom;
    for (int32_t s = 0; s < scn->n_signals; s++) {
        report_atspm_phase_map(scn, s, &a->phase[a->phase_first[s]]);
        a->called[s] = -1;
    }
    int32_t *next_channel = calloc(ns + 1, sizeof *next_channel);
    if (next_channel == NULL)
        goto oom;
    for (int32_t d = 0; d < scn->n_detectors; d++) {
        int32_t l = scn->detectors[d].link;
        int32_t s = scn->nodes[scn->links[l].to].signal;
        a->det_signal[d] = s;
        if (s >= 0) {
            a->det_channel[d] = ++next_channel[s];
            a->det_phase[d] = link_phase(a, l);
        }
    }
    free(next_channel);
    FILE *f = fopen(path, "w"); /* fail now, not after the run */
    if (f == NULL) {
        base_err_set(err, BASE_EIO, "%s: cannot write: %s", path, strerror(errno));
        report_atspm_destroy(&a);
        return NULL;
    }
    fclose(f);
    return a;
oom:
    base_err_set(err, BASE_ENOMEM, "out of memory");
    report_atspm_destroy(&a);
    return NULL;
}

void report_atspm_destroy(report_atspm_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    report_atspm_t *a = *self_p;
    free(a->path);
    free(a->recs);
    free(a->phase_first);
    free(a->phase);
    free(a->state);
    free(a->det_signal);
    free(a->det_channel);
    free(a->det_phase);
    free(a->preempt);
    free(a->called);
    free(a->dwell_logged);
    free(a);
    *self_p = NULL;
}

void report_atspm_on_signal(void *ud, sim_time_t t, int32_t s, int32_t g,
                            sim_signal_state_t state) {
    report_atspm_t *a = ud;
    int32_t i = a->phase_first[s] + g;
    int32_t p = a->phase[i];
    uint8_t prev = a->state[i];
    a->state[i] = (uint8_t)state;
    switch (state) {
    case SIM_SIGNAL_GREEN:
        put(a, s, t, REPORT_ATSPM_PHASE_BEGIN_GREEN, p);
        if (a->preempt[s] == 1 && !a->dwell_logged[s] && a->called[s] >= 0 &&
            (a->scn->signals[s].stages[a->called[s]].groups & (UINT64_C(1) << g))) {
            put(a, s, t, REPORT_ATSPM_PREEMPT_DWELL, 1);
            a->dwell_logged[s] = 1;
        }
        break;
    case SIM_SIGNAL_YELLOW:
        put(a, s, t, REPORT_ATSPM_PHASE_GREEN_TERMINATION, p);
        put(a, s, t, REPORT_ATSPM_PHASE_BEGIN_YELLOW, p);
        break;
    case SIM_SIGNAL_RED:
        if (prev == SIM_SIGNAL_YELLOW) {
            put(a, s, t, REPORT_ATSPM_PHASE_END_YELLOW, p);
            sim_time_t rc = a->scn->signals[s].groups[g].red_clearance;
            if (rc > 0) {
                put(a, s, t, REPORT_ATSPM_PHASE_BEGIN_RED_CLEARANCE, p);
                put(a, s, t + rc, REPORT_ATSPM_PHASE_END_RED_CLEARANCE, p);
            }
        }
        break;
    default:
        break;
    }
}

void report_atspm_on_detector(void *ud, sim_time_t on, sim_time_t off, int32_t d) {
    report_atspm_t *a = ud;
    int32_t s = a->det_signal[d];
    if (s < 0)
        return;
    put(a, s, on, REPORT_ATSPM_DETECTOR_ON, a->det_channel[d]);
    put(a, s, off, REPORT_ATSPM_DETECTOR_OFF, a->det_channel[d]);
}

void report_atspm_on_command(void *ud, sim_time_t t, const sim_command_t *cmd) {
    report_atspm_t *a = ud;
    int32_t s = cmd->signal;
    if (s < 0 || s >= a->scn->n_signals)
        return;
    const sim_signal_t *sig = &a->scn->signals[s];
    switch (cmd->action) {
    case SIM_CMD_CALL:
    case SIM_CMD_HOLD:
        if (cmd->preempt) {
            if (a->preempt[s] != 1) {
                if (a->preempt[s] == 2)
                    put(a, s, t, REPORT_ATSPM_TSP_CHECK_OUT, 1);
                put(a, s, t, REPORT_ATSPM_PREEMPT_CALL_ON, 1);
                put(a, s, t, REPORT_ATSPM_PREEMPT_ENTRY, 1);
                a->preempt[s] = 1;
                a->dwell_logged[s] = 0;
            }
            if (cmd->action == SIM_CMD_CALL)
                a->called[s] = cmd->stage;
            /* Already green (a hold, or a call of the running stage): dwell starts now. */
            uint64_t want = cmd->action == SIM_CMD_CALL ? sig->stages[cmd->stage].groups : 0;
            int green = 1;
            for (int32_t g = 0; g < sig->n_groups; g++) {
                int32_t i = a->phase_first[s] + g;
                if (cmd->action == SIM_CMD_HOLD && a->state[i] == SIM_SIGNAL_GREEN)
                    want |= UINT64_C(1) << g;
                if ((want & (UINT64_C(1) << g)) && a->state[i] != SIM_SIGNAL_GREEN)
                    green = 0;
            }
            if (green && want != 0 && !a->dwell_logged[s]) {
                put(a, s, t, REPORT_ATSPM_PREEMPT_DWELL, 1);
                a->dwell_logged[s] = 1;
            }
        } else if (a->preempt[s] == 0) {
            put(a, s, t, REPORT_ATSPM_TSP_CHECK_IN, 1);
            put(a, s, t,
                cmd->action == SIM_CMD_CALL ? REPORT_ATSPM_TSP_EARLY_GREEN
                                            : REPORT_ATSPM_TSP_EXTEND_GREEN,
                1);
            a->preempt[s] = 2;
        }
        break;
    case SIM_CMD_FORCE_OFF:
        for (int32_t g = 0; g < sig->n_groups; g++) {
            int32_t i = a->phase_first[s] + g;
            if (a->state[i] == SIM_SIGNAL_GREEN)
                put(a, s, t, REPORT_ATSPM_PHASE_FORCE_OFF, a->phase[i]);
        }
        break;
    case SIM_CMD_RELEASE:
        if (a->preempt[s] == 1) {
            put(a, s, t, REPORT_ATSPM_PREEMPT_CALL_OFF, 1);
            put(a, s, t, REPORT_ATSPM_PREEMPT_EXIT, 1);
        } else if (a->preempt[s] == 2) {
            put(a, s, t, REPORT_ATSPM_TSP_CHECK_OUT, 1);
        }
        a->preempt[s] = 0;
        a->called[s] = -1;
        break;
    default:
        break;
    }
}

static int cmp_rec(const void *pa, const void *pb) {
    const rec_t *x = pa, *y = pb;
    if (x->signal != y->signal)
        return x->signal < y->signal ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Writes the timestamp of ms (since 00:00 of the log's day 0) as 2024-01-01T17:30:00.000. */
static void put_stamp(FILE *f, int64_t ms) {
    int64_t day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rem = ms - day * 86400000;
    int64_t y, m, d;
    civil_from_days(days_from_civil(REPORT_ATSPM_DATE_Y, REPORT_ATSPM_DATE_M, REPORT_ATSPM_DATE_D) +
                        day,
                    &y, &m, &d);
    fprintf(f, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lld", (long long)y, (long long)m,
            (long long)d, (long long)(rem / 3600000), (long long)(rem / 60000 % 60),
            (long long)(rem / 1000 % 60), (long long)(rem % 1000));
}

static int write_config(const report_atspm_t *a, const char *path, base_err_t *err) {
    const sim_scenario_t *scn = a->scn;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return base_err_set(err, BASE_EIO, "%s: cannot write: %s", path, strerror(errno));
    fputs("SignalID,Kind,Number,Phase,Name,Approach,Turn,DistanceFromStopBar_m,Speed_kmh\n", f);
    for (int32_t s = 0; s < scn->n_signals; s++) {
        const sim_signal_t *sig = &scn->signals[s];
        const char *sid = scn->nodes[sig->node].id;
        for (int32_t g = 0; g < sig->n_groups; g++) {
            int32_t m = group_movement(scn, &sig->groups[g]);
            int32_t p = a->phase[a->phase_first[s] + g];
            report_csv_field(f, sid);
            fprintf(f, ",phase,%d,%d,", (int)p, (int)p);
            report_csv_field(f, sig->groups[g].id);
            if (m >= 0)
                fprintf(f, ",%s,%s,,\n", approach_name(scn, scn->movements[m].from),
                        turn_name(scn->movements[m].turn));
            else
                fputs(",,,,\n", f);
        }
        for (int32_t d = 0; d < scn->n_detectors; d++) {
            if (a->det_signal[d] != s)
                continue;
            const sim_detector_t *det = &scn->detectors[d];
            const sim_link_t *lk = &scn->links[det->link];
            report_csv_field(f, sid);
            fprintf(f, ",detector,%d,%d,", (int)a->det_channel[d], (int)a->det_phase[d]);
            report_csv_field(f, det->id);
            fprintf(f, ",%s,%s,%.1f,%.1f\n", approach_name(scn, det->link),
                    det->kind == SIM_DETECTOR_ADVANCE ? "advance" : "stop_line",
                    det->kind == SIM_DETECTOR_ADVANCE ? det->distance_m : 0.0,
                    lk->free_speed_mps * 3.6);
        }
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return base_err_set(err, BASE_EIO, "%s: write error", path);
    return BASE_OK;
}

int report_atspm_finish(report_atspm_t *a, sim_time_t end, base_err_t *err) {
    if (a->oom)
        return base_err_set(err, BASE_ENOMEM, "%s: out of memory keeping the events", a->path);
    if (a->n > 1)
        qsort(a->recs, a->n, sizeof *a->recs, cmp_rec);
    FILE *f = fopen(a->path, "w");
    if (f == NULL)
        return base_err_set(err, BASE_EIO, "%s: cannot write: %s", a->path, strerror(errno));
    fputs("SignalID,Timestamp,EventCode,EventParam\n", f);
    const sim_scenario_t *scn = a->scn;
    for (size_t i = 0; i < a->n; i++) {
        const rec_t *r = &a->recs[i];
        if (r->t > end)
            continue;
        report_csv_field(f, scn->nodes[scn->signals[r->signal].node].id);
        fputc(',', f);
        put_stamp(f, scn->start_tod + r->t);
        fprintf(f, ",%d,%d\n", (int)r->code, (int)r->param);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return base_err_set(err, BASE_EIO, "%s: write error", a->path);
    char *cfg = report_atspm_config_path(a->path);
    if (cfg == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    int rc = write_config(a, cfg, err);
    free(cfg);
    return rc;
}

char *report_atspm_config_path(const char *log_path) {
    size_t n = strlen(log_path);
    size_t stem = n >= 4 && strcmp(log_path + n - 4, ".csv") == 0 ? n - 4 : n;
    char *p = malloc(stem + sizeof ".config.csv");
    if (p == NULL)
        return NULL;
    memcpy(p, log_path, stem);
    memcpy(p + stem, ".config.csv", sizeof ".config.csv");
    return p;
}

/* ---- reader ------------------------------------------------------------------------- */

#define MAX_FIELDS 12

/* Splits one CSV line in place (quoted fields with "" escapes); returns the field count, or -1
 * for an unterminated quote or too many fields. */
static int split_csv(char *line, char **fields, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        if (*p == '"') {
            char *out = ++p;
            fields[n++] = out;
            for (;;) {
                if (*p == '\0')
                    return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *out++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *out++ = *p++;
            }
            *out = '\0';
            if (*p == ',') {
                p++;
                continue;
            }
            return *p == '\0' ? n : -1;
        }
        fields[n++] = p;
        char *c = strchr(p, ',');
        if (c == NULL)
            return n;
        *c = '\0';
        p = c + 1;
    }
}

static int parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Parses YYYY-MM-DD[T ]HH:MM:SS[.f...] into days since 1970 and ms of the day. */
static int parse_stamp(const char *s, int64_t *day, int64_t *ms) {
    int y, mo, d, h, mi, se, used = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6 ||
        used != 19)
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || h < 0 || mi < 0 ||
        se < 0)
        return -1;
    int64_t frac = 0;
    const char *p = s + used;
    if (*p == '.') {
        p++;
        int digits = 0;
        int64_t scale = 100;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3)
                frac += (*p - '0') * scale;
            scale /= 10;
            digits++;
            p++;
        }
        if (digits == 0)
            return -1;
    }
    if (*p != '\0')
        return -1;
    *day = days_from_civil(y, mo, d);
    *ms = ((int64_t)h * 3600 + mi * 60 + se) * 1000 + frac;
    return 0;
}

static int32_t intern(report_atspm_log_t *log, const char *id) {
    int32_t s = report_atspm_log_signal(log, id);
    if (s >= 0)
        return s;
    char **n = realloc(log->signals, ((size_t)log->n_signals + 1) * sizeof *n);
    if (n == NULL)
        return -1;
    log->signals = n;
    if ((n[log->n_signals] = strdup(id)) == NULL)
        return -1;
    return log->n_signals++;
}

int32_t report_atspm_log_signal(const report_atspm_log_t *log, const char *id) {
    for (int32_t s = 0; s < log->n_signals; s++) {
        if (strcmp(log->signals[s], id) == 0)
            return s;
    }
    return -1;
}

/* Reads the next line of f into *buf (without the line end). Returns 1, 0 at EOF, -1 OOM. */
static int next_line(FILE *f, char **buf, size_t *cap) {
    ssize_t n = getline(buf, cap, f);
    if (n < 0)
        return feof(f) ? 0 : -1;
    while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
        (*buf)[--n] = '\0';
    return 1;
}

static int cmp_event(const void *pa, const void *pb) {
    const report_atspm_event_t *x = pa, *y = pb;
    if (x->signal != y->signal)
        return x->signal < y->signal ? -1 : 1;
    return (x->t_ms > y->t_ms) - (x->t_ms < y->t_ms);
}

static int read_events(const char *path, report_atspm_log_t *log, base_err_t *err) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return base_err_set(err, BASE_EIO, "%s: cannot read: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, cap_ev = 0;
    long lineno = 0;
    int rc = BASE_OK, got;
    int64_t *days = NULL;
    while ((got = next_line(f, &line, &cap)) > 0) {
        lineno++;
        char *fl[MAX_FIELDS];
        if (lineno == 1) {
            if (strcmp(line, "SignalID,Timestamp,EventCode,EventParam") != 0) {
                rc = base_err_set(err, BASE_EINVAL,
                                  "%s:1: header must be SignalID,Timestamp,EventCode,EventParam",
                                  path);
                break;
            }
            continue;
        }
        if (line[0] == '\0')
            continue;
        int nf = split_csv(line, fl, MAX_FIELDS);
        if (nf != 4) {
            rc = base_err_set(err, BASE_EINVAL, "%s:%ld: expected 4 fields, got %s", path, lineno,
                              nf < 0 ? "malformed quoting or too many" : "fewer");
            break;
        }
        int64_t day, ms;
        long code, param;
        if (fl[0][0] == '\0') {
            rc = base_err_set(err, BASE_EINVAL, "%s:%ld: empty SignalID", path, lineno);
            break;
        }
        if (parse_stamp(fl[1], &day, &ms) < 0) {
            rc = base_err_set(err, BASE_EINVAL,
                              "%s:%ld: Timestamp '%s' is not YYYY-MM-DDTHH:MM:SS[.fff]", path,
                              lineno, fl[1]);
            break;
        }
        if (parse_int(fl[2], 0, 255, &code) < 0) {
            rc = base_err_set(err, BASE_EINVAL, "%s:%ld: EventCode '%s' is not an integer 0-255",
                              path, lineno, fl[2]);
            break;
        }
        if (parse_int(fl[3], 0, 65535, &param) < 0) {
            rc = base_err_set(err, BASE_EINVAL, "%s:%ld: EventParam '%s' is not an integer 0-65535",
                              path, lineno, fl[3]);
            break;
        }
        int32_t s = intern(log, fl[0]);
        if (s < 0) {
            rc = base_err_set(err, BASE_ENOMEM, "out of memory");
            break;
        }
        if (log->n_events == cap_ev) {
            size_t nc = cap_ev ? cap_ev * 2 : 4096;
            report_atspm_event_t *ne = realloc(log->events, nc * sizeof *ne);
            int64_t *nd = realloc(days, nc * sizeof *nd);
            if (nd != NULL)
                days = nd;
            if (ne != NULL)
                log->events = ne;
            if (ne == NULL || nd == NULL) {
                rc = base_err_set(err, BASE_ENOMEM, "out of memory");
                break;
            }
            cap_ev = nc;
        }
        if (log->n_events == 0 || day < log->day0)
            log->day0 = day;
        days[log->n_events] = day;
        log->events[log->n_events++] = (report_atspm_event_t){s, ms, (int32_t)code, (int32_t)param};
    }
    if (rc == BASE_OK && got < 0)
        rc = base_err_set(err, BASE_ENOMEM, "%s: out of memory reading", path);
    if (rc == BASE_OK && lineno == 0)
        rc = base_err_set(err, BASE_EINVAL, "%s: empty file (no header)", path);
    if (rc == BASE_OK) {
        for (size_t i = 0; i < log->n_events; i++)
            log->events[i].t_ms += (days[i] - log->day0) * 86400000;
        if (log->n_events > 1)
            qsort(log->events, log->n_events, sizeof *log->events, cmp_event);
    }
    free(days);
    free(line);
    fclose(f);
    return rc;
}

static int read_config(const char *path, report_atspm_log_t *log, base_err_t *err) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return base_err_set(err, BASE_EIO, "%s: cannot read: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, cap_ch = 0;
    long lineno = 0;
    int rc = BASE_OK, got;
    while ((got = next_line(f, &line, &cap)) > 0) {
        lineno++;
        if (lineno == 1 || line[0] == '\0')
            continue;
        char *fl[MAX_FIELDS];
        int nf = split_csv(line, fl, MAX_FIELDS);
        long num, ph;
        if (nf != 9) {
            rc = base_err_set(err, BASE_EINVAL, "%s:%ld: expected 9 fields", path, lineno);
            break;
        }
        int det = strcmp(fl[1], "detector") == 0;
        if (!det && strcmp(fl[1], "phase") != 0) {
            rc = base_err_set(err, BASE_EINVAL, "%s:%ld: Kind '%s' is neither phase nor detector",
                              path, lineno, fl[1]);
            break;
        }
        if (parse_int(fl[2], 0, 65535, &num) < 0 || parse_int(fl[3], 0, 65535, &ph) < 0) {
            rc = base_err_set(err, BASE_EINVAL, "%s:%ld: Number and Phase must be integers", path,
                              lineno);
            break;
        }
        if (log->n_channels == cap_ch) {
            size_t nc = cap_ch ? cap_ch * 2 : 64;
            report_atspm_channel_t *n = realloc(log->channels, nc * sizeof *n);
            if (n == NULL) {
                rc = base_err_set(err, BASE_ENOMEM, "out of memory");
                break;
            }
            log->channels = n;
            cap_ch = nc;
        }
        report_atspm_channel_t *c = &log->channels[log->n_channels];
        memset(c, 0, sizeof *c);
        c->signal = intern(log, fl[0]);
        c->name = strdup(fl[4]);
        if (c->signal < 0 || c->name == NULL) {
            free(c->name);
            rc = base_err_set(err, BASE_ENOMEM, "out of memory");
            break;
        }
        log->n_channels++;
        c->is_detector = det;
        c->number = (int32_t)num;
        c->phase = (int32_t)ph;
        snprintf(c->approach, sizeof c->approach, "%s", fl[5]);
        snprintf(c->turn, sizeof c->turn, "%s", fl[6]);
        c->distance_m = fl[7][0] ? strtod(fl[7], NULL) : 0.0;
        c->speed_kmh = fl[8][0] ? strtod(fl[8], NULL) : 0.0;
        if (!isfinite(c->distance_m) || !isfinite(c->speed_kmh) || c->distance_m < 0 ||
            c->speed_kmh < 0) {
            rc = base_err_set(err, BASE_EINVAL, "%s:%ld: bad distance or speed", path, lineno);
            break;
        }
    }
    if (rc == BASE_OK && got < 0)
        rc = base_err_set(err, BASE_ENOMEM, "%s: out of memory reading", path);
    free(line);
    fclose(f);
    return rc;
}

void report_atspm_log_free(report_atspm_log_t *log) {
    if (log == NULL)
        return;
    for (int32_t s = 0; s < log->n_signals; s++)
        free(log->signals[s]);
    free(log->signals);
    free(log->events);
    for (size_t i = 0; i < log->n_channels; i++)
        free(log->channels[i].name);
    free(log->channels);
    memset(log, 0, sizeof *log);
}

int report_atspm_read(const char *path, const char *config_path, report_atspm_log_t *log,
                      base_err_t *err) {
    memset(log, 0, sizeof *log);
    int rc = read_events(path, log, err);
    if (rc == BASE_OK && config_path != NULL)
        rc = read_config(config_path, log, err);
    if (rc < 0)
        report_atspm_log_free(log);
    return rc;
}

/* ---- round trip -------------------------------------------------------------------- */

typedef struct green {
    int32_t signal, phase;
    int64_t start, end; /* ms since 00:00 of day 0; end -1 while open */
} green_t;

static int cmp_green(const void *pa, const void *pb) {
    const green_t *x = pa, *y = pb;
    if (x->signal != y->signal)
        return x->signal < y->signal ? -1 : 1;
    if (x->phase != y->phase)
        return x->phase < y->phase ? -1 : 1;
    return (x->start > y->start) - (x->start < y->start);
}

static int push_green(green_t **v, size_t *n, size_t *cap, green_t g) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        green_t *ng = realloc(*v, nc * sizeof *ng);
        if (ng == NULL)
            return -1;
        *v = ng;
        *cap = nc;
    }
    (*v)[(*n)++] = g;
    return 0;
}

/* Closes the open green of (signal, phase) at t, searching backwards. */
static void close_green(green_t *v, size_t n, int32_t s, int32_t p, int64_t t) {
    for (size_t i = n; i-- > 0;) {
        if (v[i].signal == s && v[i].phase == p) {
            if (v[i].end < 0)
                v[i].end = t;
            return;
        }
    }
}

/* Parses "12.345" seconds into ms exactly. */
static int parse_ms(const char *s, int64_t *out) {
    const char *dot = strchr(s, '.');
    char ip[32];
    size_t il = dot ? (size_t)(dot - s) : strlen(s);
    if (il == 0 || il >= sizeof ip)
        return -1;
    memcpy(ip, s, il);
    ip[il] = '\0';
    long sec;
    if (parse_int(ip, 0, 2000000000L, &sec) < 0)
        return -1;
    int64_t frac = 0;
    if (dot != NULL) {
        const char *p = dot + 1;
        int64_t scale = 100;
        for (; *p; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            frac += (*p - '0') * scale;
            scale /= 10;
        }
    }
    *out = (int64_t)sec * 1000 + frac;
    return 0;
}

int64_t report_atspm_check_signals(const report_atspm_log_t *log, const char *signals_csv,
                                   int64_t start_tod_ms, base_err_t *err) {
    green_t *a = NULL, *b = NULL;
    size_t na = 0, ca = 0, nb = 0, cb = 0;
    int64_t rc = 0;
    /* From the log: 1 opens, 8 closes. */
    for (size_t i = 0; i < log->n_events; i++) {
        const report_atspm_event_t *e = &log->events[i];
        if (e->code == REPORT_ATSPM_PHASE_BEGIN_GREEN) {
            if (push_green(&a, &na, &ca, (green_t){e->signal, e->param, e->t_ms, -1}) < 0) {
                rc = base_err_set(err, BASE_ENOMEM, "out of memory");
                goto done;
            }
        } else if (e->code == REPORT_ATSPM_PHASE_BEGIN_YELLOW) {
            close_green(a, na, e->signal, e->param, e->t_ms);
        }
    }
    /* From signals.csv: green opens, yellow closes; groups mapped by the config's names. */
    FILE *f = fopen(signals_csv, "r");
    if (f == NULL) {
        rc = base_err_set(err, BASE_EIO, "%s: cannot read: %s", signals_csv, strerror(errno));
        goto done;
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int got;
    while ((got = next_line(f, &line, &cap)) > 0) {
        lineno++;
        if (lineno == 1 || line[0] == '\0')
            continue;
        char *fl[MAX_FIELDS];
        int64_t t;
        if (split_csv(line, fl, MAX_FIELDS) != 4 || parse_ms(fl[0], &t) < 0) {
            rc = base_err_set(err, BASE_EINVAL, "%s:%ld: expected time_s,node,signal_group,state",
                              signals_csv, lineno);
            break;
        }
        int32_t s = report_atspm_log_signal(log, fl[1]);
        int32_t p = -1;
        for (size_t c = 0; s >= 0 && c < log->n_channels; c++) {
            const report_atspm_channel_t *ch = &log->channels[c];
            if (!ch->is_detector && ch->signal == s && strcmp(ch->name, fl[2]) == 0)
                p = ch->number;
        }
        if (p < 0) {
            rc = base_err_set(err, BASE_EINVAL,
                              "%s:%ld: signal %s group %s is not in the log's config", signals_csv,
                              lineno, fl[1], fl[2]);
            break;
        }
        int64_t abs_t = t + start_tod_ms;
        if (strcmp(fl[3], "green") == 0) {
            if (push_green(&b, &nb, &cb, (green_t){s, p, abs_t, -1}) < 0) {
                rc = base_err_set(err, BASE_ENOMEM, "out of memory");
                break;
            }
        } else if (strcmp(fl[3], "yellow") == 0) {
            close_green(b, nb, s, p, abs_t);
        }
    }
    free(line);
    fclose(f);
    if (rc < 0)
        goto done;
    if (na > 1)
        qsort(a, na, sizeof *a, cmp_green);
    if (nb > 1)
        qsort(b, nb, sizeof *b, cmp_green);
    for (size_t i = 0; i < na || i < nb; i++) {
        if (i >= na || i >= nb) {
            const green_t *g = i < na ? &a[i] : &b[i];
            rc = base_err_set(err, BASE_EINVAL,
                              "%s has a green of %s phase %d at %.3f s of the day that %s lacks",
                              i < na ? "the ATSPM log" : signals_csv, log->signals[g->signal],
                              (int)g->phase, (double)g->start / 1000.0,
                              i < na ? signals_csv : "the ATSPM log");
            goto done;
        }
        if (a[i].signal != b[i].signal || a[i].phase != b[i].phase || a[i].start != b[i].start ||
            a[i].end != b[i].end) {
            rc = base_err_set(err, BASE_EINVAL,
                              "green %zu differs: log %s phase %d %.3f-%.3f s, %s %s phase %d "
                              "%.3f-%.3f s",
                              i, log->signals[a[i].signal], (int)a[i].phase,
                              (double)a[i].start / 1000.0, (double)a[i].end / 1000.0, signals_csv,
                              log->signals[b[i].signal], (int)b[i].phase,
                              (double)b[i].start / 1000.0, (double)b[i].end / 1000.0);
            goto done;
        }
    }
    rc = (int64_t)na;
    if (rc == 0)
        rc = base_err_set(err, BASE_EINVAL, "no green in the ATSPM log");
done:
    free(a);
    free(b);
    return rc;
}
