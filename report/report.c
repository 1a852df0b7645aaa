/*
 * report/report.c - output files of a run.
 *
 * trips.csv is streamed: each finished trip is written as soon as every trip with a lower
 * vehicle id has been, so the file is in id order without keeping the run's records. A trip
 * that finishes ahead of its turn waits in a ring buffer indexed by id (slot id mod capacity,
 * doubled when the ids waiting span more than it), so memory is bounded by the ids between
 * the oldest vehicle still travelling and the newest finished one, not by the run's length.
 * The traffic measures keep what they need as trips finish: integer sums of times (exact in
 * any order), one delay per trip for the 95th percentile, and the sums over the escort's trip.
 * The trip window (from the first escort's departure to the return to coordination of the last
 * route signal) is known only at the end, so each trip also leaves a compact record (id,
 * departure, end, delay, street: 40 bytes) from which the window's measures and vehicles.csv
 * are made at the end.
 *
 * Delay of a vehicle = travel time (from the moment it wanted to enter, so a wait outside a
 * full origin link counts) - the free-flow time of its route for its class. Traffic measures
 * are over finished vehicles that are not escorts. p95 is GSL's quantile of the sorted delays.
 * summary.json is built with jansson; reals are rounded to the millisecond (or 1e-6 for
 * dimensionless values) before printing, so the text is stable across runs.
 */
#include "report/report.h"

#include "base/fs.h"
#include "report/atspm.h"

#include <assert.h>
#include <errno.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Finished trips waiting for their turn in trips.csv; done[id & (cap - 1)] marks a record. */
typedef struct {
    sim_trip_record_t *rec;
    uint8_t *done;
    size_t cap;     /* a power of two, or 0 */
    int64_t next;   /* the next vehicle id to write */
    size_t waiting; /* records in the ring */
} reorder_t;

struct report {
    const sim_scenario_t *scn;
    int has_auth;
    report_auth_t auth;
    char *dir;
    FILE *signals;
    FILE *trips;
    reorder_t order;
    /* Finished trips other than escorts: count, sums in ms, and every delay (ms). */
    int64_t n_fin, sum_tt_ms, sum_delay_ms;
    int64_t *delays;
    size_t cap_delays;
    /* Finished trips during escort 0's trip (from its departure to its arrival). */
    unsigned char *on_route,
        *route_node; /* escort 0's links, and the signalized nodes it crosses */
    int escort_arrived;
    sim_time_t escort_arrive;
    int64_t during_n, during_ms, cross_n, cross_ms;
    /* Every escort's route (the trip window's streets), and a record per non-escort trip. */
    unsigned char *all_on_route, *all_route_node;
    struct wrec *win;
    size_t n_win, cap_win;
    sim_escort_record_t *esc;
    size_t n_esc, cap_esc;
    int oom;
    report_atspm_t *atspm; /* or NULL */
};

/* A vehicle for the trip window: finished (end = arrival) or not (end = end of the run). */
typedef struct wrec {
    int64_t id;
    sim_time_t depart, end, delay;
    char street;   /* 'a' arterial, 'c' cross street, 'o' other */
    int in_window; /* set at the end */
} wrec_t;

/* Writes a time in ms as seconds with three decimals, exactly ("12.345"), without going
 * through floating point: faster than printf("%.3f") and never rounded. */
static void put_s(FILE *f, sim_time_t ms) {
    char buf[32];
    int neg = ms < 0;
    uint64_t u = neg ? (uint64_t)(-(ms + 1)) + 1 : (uint64_t)ms;
    char *p = buf + sizeof buf;
    *--p = '\0';
    for (int i = 0; i < 3; i++) {
        *--p = (char)('0' + u % 10);
        u /= 10;
    }
    *--p = '.';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (neg)
        *--p = '-';
    fputs(p, f);
}

static const char *state_name(sim_signal_state_t s) {
    switch (s) {
    case SIM_SIGNAL_RED:
        return "red";
    case SIM_SIGNAL_YELLOW:
        return "yellow";
    case SIM_SIGNAL_GREEN:
        return "green";
    default:
        return "dark";
    }
}

void report_csv_field(FILE *f, const char *s) {
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void on_signal(void *ud, sim_time_t t, int32_t s, int32_t g, sim_signal_state_t state) {
    report_t *rep = ud;
    const sim_signal_t *sig = &rep->scn->signals[s];
    put_s(rep->signals, t);
    fputc(',', rep->signals);
    report_csv_field(rep->signals, rep->scn->nodes[sig->node].id);
    fputc(',', rep->signals);
    report_csv_field(rep->signals, sig->groups[g].id);
    fprintf(rep->signals, ",%s\n", state_name(state));
    if (rep->atspm != NULL)
        report_atspm_on_signal(rep->atspm, t, s, g, state);
}

static void on_detector(void *ud, sim_time_t on, sim_time_t off, int32_t d) {
    report_t *rep = ud;
    if (rep->atspm != NULL)
        report_atspm_on_detector(rep->atspm, on, off, d);
}

static void on_command(void *ud, sim_time_t t, const sim_command_t *cmd) {
    report_t *rep = ud;
    if (rep->atspm != NULL)
        report_atspm_on_command(rep->atspm, t, cmd);
}

static void write_trip(const report_t *rep, const sim_trip_record_t *t) {
    FILE *f = rep->trips;
    const sim_scenario_t *scn = rep->scn;
    fprintf(f, "%lld,", (long long)t->vehicle);
    report_csv_field(f, scn->classes[t->vclass].id);
    fputc(',', f);
    report_csv_field(f, t->source);
    fputc(',', f);
    report_csv_field(f, scn->links[t->origin].id);
    fputc(',', f);
    report_csv_field(f, scn->links[t->destination].id);
    sim_time_t tt = t->arrive - t->depart;
    fprintf(f, ",%.3f,%.3f,%.3f,%.3f,%d\n", sim_time_to_s(t->depart), sim_time_to_s(t->arrive),
            sim_time_to_s(tt), sim_time_to_s(tt - t->free_time), (int)t->stops);
}

/* Makes room in the ring for vehicle id (> next). Returns 0 or -1 when out of memory. */
static int reorder_reserve(reorder_t *o, int64_t id) {
    size_t need = (size_t)(id - o->next) + 1;
    if (need <= o->cap)
        return 0;
    size_t cap = o->cap ? o->cap : 1024;
    while (cap < need)
        cap *= 2;
    sim_trip_record_t *rec = malloc(cap * sizeof *rec);
    uint8_t *done = calloc(cap, 1);
    if (rec == NULL || done == NULL) {
        free(rec);
        free(done);
        return -1;
    }
    for (size_t i = 0; i < o->cap; i++) {
        if (o->done[i]) {
            size_t k = (size_t)o->rec[i].vehicle & (cap - 1);
            rec[k] = o->rec[i];
            done[k] = 1;
        }
    }
    free(o->rec);
    free(o->done);
    o->rec = rec;
    o->done = done;
    o->cap = cap;
    return 0;
}

/* Writes the waiting trips from o->next on, up to the first id not finished yet. */
static void reorder_flush(report_t *rep) {
    reorder_t *o = &rep->order;
    while (o->cap > 0 && o->done[(size_t)o->next & (o->cap - 1)]) {
        size_t k = (size_t)o->next & (o->cap - 1);
        write_trip(rep, &o->rec[k]);
        o->done[k] = 0;
        o->waiting--;
        o->next++;
    }
}

/* Whether a route crosses escort 0's route at one of its signals, coming from a link off it. */
static int crosses_route(const report_t *rep, const sim_route_t *route) {
    for (int32_t k = 0; k + 1 < route->n_links; k++) {
        int32_t l = route->links[k];
        if (!rep->on_route[l] && rep->route_node[rep->scn->links[l].to])
            return 1;
    }
    return 0;
}

/* The street of a route relative to every escort route: cross street when it comes to a route
 * signal from a link off every route, else arterial when it uses a route link, else other. */
static char street_of(const report_t *rep, const sim_route_t *route) {
    int art = 0;
    for (int32_t k = 0; k < route->n_links; k++) {
        int32_t l = route->links[k];
        if (k + 1 < route->n_links && !rep->all_on_route[l] &&
            rep->all_route_node[rep->scn->links[l].to])
            return 'c';
        art |= rep->all_on_route[l];
    }
    return art ? 'a' : 'o';
}

static void push_wrec(report_t *rep, int64_t id, sim_time_t depart, sim_time_t end,
                      sim_time_t delay, const sim_route_t *route) {
    if (rep->all_on_route == NULL)
        return;
    if (rep->n_win == rep->cap_win) {
        size_t cap = rep->cap_win ? rep->cap_win * 2 : 4096;
        wrec_t *n = realloc(rep->win, cap * sizeof *n);
        if (n == NULL) {
            rep->oom = 1;
            return;
        }
        rep->win = n;
        rep->cap_win = cap;
    }
    rep->win[rep->n_win++] = (wrec_t){id, depart, end, delay, street_of(rep, route), 0};
}

/* The measures kept per finished trip (see compute). */
static void account_trip(report_t *rep, const sim_trip_record_t *t) {
    const sim_scenario_t *scn = rep->scn;
    if (t->escort >= 0) {
        if (t->escort == 0) {
            rep->escort_arrived = 1;
            rep->escort_arrive = t->arrive;
        }
        return;
    }
    sim_time_t delay = t->arrive - t->depart - t->free_time;
    if ((size_t)rep->n_fin == rep->cap_delays) {
        size_t cap = rep->cap_delays ? rep->cap_delays * 2 : 4096;
        int64_t *n = realloc(rep->delays, cap * sizeof *n);
        if (n == NULL) {
            rep->oom = 1;
            return;
        }
        rep->delays = n;
        rep->cap_delays = cap;
    }
    rep->delays[rep->n_fin++] = delay;
    push_wrec(rep, t->vehicle, t->depart, t->arrive, delay, t->route);
    rep->sum_tt_ms += t->arrive - t->depart;
    rep->sum_delay_ms += delay;
    /* In the network during escort 0's trip: it finished after the escort left, and (if the
     * escort has arrived) it wanted to enter before the escort arrived. */
    if (rep->on_route == NULL || t->arrive < scn->escorts[0].depart ||
        (rep->escort_arrived && t->depart > rep->escort_arrive))
        return;
    rep->during_n++;
    rep->during_ms += delay;
    if (crosses_route(rep, t->route)) {
        rep->cross_n++;
        rep->cross_ms += delay;
    }
}

static void on_trip(void *ud, const sim_trip_record_t *rec) {
    report_t *rep = ud;
    account_trip(rep, rec);
    reorder_t *o = &rep->order;
    if (rec->vehicle == o->next) {
        write_trip(rep, rec);
        o->next++;
        reorder_flush(rep);
        return;
    }
    assert(rec->vehicle > o->next); /* each vehicle finishes once */
    if (reorder_reserve(o, rec->vehicle) < 0) {
        rep->oom = 1;
        return;
    }
    size_t k = (size_t)rec->vehicle & (o->cap - 1);
    o->rec[k] = *rec;
    o->done[k] = 1;
    o->waiting++;
}

static void on_escort(void *ud, const sim_escort_record_t *rec) {
    report_t *rep = ud;
    if (rep->n_esc == rep->cap_esc) {
        size_t cap = rep->cap_esc ? rep->cap_esc * 2 : 64;
        sim_escort_record_t *n = realloc(rep->esc, cap * sizeof *n);
        if (n == NULL) {
            rep->oom = 1;
            return;
        }
        rep->esc = n;
        rep->cap_esc = cap;
    }
    rep->esc[rep->n_esc++] = *rec;
}

static FILE *open_out(const report_t *rep, const char *name, base_err_t *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", rep->dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        base_err_set(err, BASE_EIO, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

static int close_out(const report_t *rep, FILE *f, const char *name, base_err_t *err) {
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return base_err_set(err, BASE_EIO, "%s/%s: write error", rep->dir, name);
    return BASE_OK;
}

report_t *report_new(const sim_scenario_t *scn, const char *dir, base_err_t *err) {
    report_t *rep = calloc(1, sizeof *rep);
    if (rep == NULL || (rep->dir = strdup(dir)) == NULL) {
        base_err_set(err, BASE_ENOMEM, "out of memory");
        report_destroy(&rep);
        return NULL;
    }
    rep->scn = scn;
    if (base_fs_mkdir_p(dir) < 0) {
        base_err_set(err, BASE_EIO, "%s: cannot create output directory: %s", dir, strerror(errno));
        report_destroy(&rep);
        return NULL;
    }
    rep->signals = open_out(rep, "signals.csv", err);
    if (rep->signals == NULL) {
        report_destroy(&rep);
        return NULL;
    }
    fputs("time_s,node,signal_group,state\n", rep->signals);
    rep->trips = open_out(rep, "trips.csv", err);
    if (rep->trips == NULL) {
        report_destroy(&rep);
        return NULL;
    }
    fputs("id,class,source,origin,destination,depart_s,arrive_s,travel_time_s,delay_s,stops\n",
          rep->trips);
    if (scn->n_escorts > 0) {
        rep->on_route = calloc((size_t)scn->n_links + 1, 1);
        rep->route_node = calloc((size_t)scn->n_nodes + 1, 1);
        if (rep->on_route == NULL || rep->route_node == NULL) {
            base_err_set(err, BASE_ENOMEM, "out of memory");
            report_destroy(&rep);
            return NULL;
        }
        const sim_route_t *er = &scn->escorts[0].route;
        for (int32_t i = 0; i < er->n_links; i++) {
            rep->on_route[er->links[i]] = 1;
            if (i + 1 < er->n_links && scn->nodes[scn->links[er->links[i]].to].signal >= 0)
                rep->route_node[scn->links[er->links[i]].to] = 1;
        }
        rep->all_on_route = calloc((size_t)scn->n_links + 1, 1);
        rep->all_route_node = calloc((size_t)scn->n_nodes + 1, 1);
        if (rep->all_on_route == NULL || rep->all_route_node == NULL) {
            base_err_set(err, BASE_ENOMEM, "out of memory");
            report_destroy(&rep);
            return NULL;
        }
        for (int32_t e = 0; e < scn->n_escorts; e++) {
            const sim_route_t *r = &scn->escorts[e].route;
            for (int32_t i = 0; i < r->n_links; i++) {
                rep->all_on_route[r->links[i]] = 1;
                if (i + 1 < r->n_links && scn->nodes[scn->links[r->links[i]].to].signal >= 0)
                    rep->all_route_node[scn->links[r->links[i]].to] = 1;
            }
        }
    }
    return rep;
}

void report_destroy(report_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    report_t *rep = *self_p;
    if (rep->signals != NULL)
        fclose(rep->signals);
    report_atspm_destroy(&rep->atspm);
    if (rep->trips != NULL)
        fclose(rep->trips);
    free(rep->order.rec);
    free(rep->order.done);
    free(rep->delays);
    free(rep->on_route);
    free(rep->route_node);
    free(rep->all_on_route);
    free(rep->all_route_node);
    free(rep->win);
    free(rep->esc);
    free(rep->dir);
    free(rep);
    *self_p = NULL;
}

sim_observer_t report_observer(report_t *rep) {
    return (sim_observer_t){rep, on_signal, on_trip, on_escort, on_detector, on_command};
}

int report_enable_atspm(report_t *rep, const char *path, base_err_t *err) {
    report_atspm_destroy(&rep->atspm);
    rep->atspm = report_atspm_new(rep->scn, path, err);
    return rep->atspm != NULL ? BASE_OK : (err != NULL ? err->code : BASE_EIO);
}

static int cmp_esc(const void *a, const void *b) {
    const sim_escort_record_t *x = a;
    const sim_escort_record_t *y = b;
    if (x->escort != y->escort)
        return x->escort < y->escort ? -1 : 1;
    return (x->arrive > y->arrive) - (x->arrive < y->arrive);
}

static double r3(double x) {
    return round(x * 1000.0) / 1000.0;
}

/* Writes the trips still waiting (their predecessors never finished) and closes trips.csv. */
static int finish_trips(report_t *rep, base_err_t *err) {
    reorder_t *o = &rep->order;
    for (; o->waiting > 0; o->next++) {
        size_t k = (size_t)o->next & (o->cap - 1);
        if (o->done[k]) {
            write_trip(rep, &o->rec[k]);
            o->done[k] = 0;
            o->waiting--;
        }
    }
    FILE *f = rep->trips;
    rep->trips = NULL;
    return close_out(rep, f, "trips.csv", err);
}

static int write_escorts(report_t *rep, base_err_t *err) {
    FILE *f = open_out(rep, "escort.csv", err);
    if (f == NULL)
        return BASE_EIO;
    const sim_scenario_t *scn = rep->scn;
    fputs("escort,node,node_name,link,link_enter_s,arrive_s,signal_state,queue_ahead,depart_s,"
          "wait_s,delay_s\n",
          f);
    for (size_t i = 0; i < rep->n_esc; i++) {
        const sim_escort_record_t *e = &rep->esc[i];
        report_csv_field(f, scn->escorts[e->escort].id);
        fputc(',', f);
        report_csv_field(f, scn->nodes[e->node].id);
        fputc(',', f);
        report_csv_field(f, scn->nodes[e->node].name);
        fputc(',', f);
        report_csv_field(f, scn->links[e->link].id);
        /* Delay on this approach: time from entering it to crossing its stop line, less the
         * time to drive it at the escort's desired speed. */
        sim_time_t free_link = sim_scenario_drive_time(scn->links[e->link].length_m,
                                                       scn->escorts[e->escort].desired_speed_mps);
        fputc(',', f);
        put_s(f, e->link_enter);
        fputc(',', f);
        put_s(f, e->arrive);
        fprintf(f, ",%s,%d,", state_name(e->on_arrival), (int)e->queue_ahead);
        put_s(f, e->depart);
        fputc(',', f);
        put_s(f, e->depart - e->arrive);
        fputc(',', f);
        put_s(f, e->depart - e->link_enter - free_link);
        fputc('\n', f);
    }
    return close_out(rep, f, "escort.csv", err);
}

static int cmp_wrec(const void *a, const void *b) {
    const wrec_t *x = a;
    const wrec_t *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* The trip window: from the first escort's departure to the later of the last escort's
 * arrival (the end of the run if one is still travelling) and the return to coordination of
 * the last signal on an escort route released after that departure (the end of the run if
 * one is still in transition). Returns 0 when no escort departed. */
static int trip_window(const report_t *rep, const sim_t *sim, sim_time_t *from, sim_time_t *to) {
    const sim_scenario_t *scn = rep->scn;
    sim_time_t a = SIM_TIME_MAX, b = -1;
    for (int32_t e = 0; e < scn->n_escorts; e++) {
        sim_escort_status_t es = sim_escort_status(sim, e);
        if (es.depart < 0)
            continue;
        if (es.depart < a)
            a = es.depart;
        sim_time_t end = es.state == 2 ? es.arrive : sim_now(sim);
        if (end > b)
            b = end;
    }
    if (b < 0)
        return 0;
    for (int32_t sg = 0; sg < scn->n_signals; sg++) {
        if (!rep->all_route_node[scn->signals[sg].node])
            continue;
        sim_signal_status_t ss = sim_signal_status(sim, sg);
        if (ss.released_at < a)
            continue;
        sim_time_t end =
            ss.in_transition || ss.recovered_at < ss.released_at ? sim_now(sim) : ss.recovered_at;
        if (end > b)
            b = end;
    }
    *from = a;
    *to = b;
    return 1;
}

/* The trip window's measures over the records (sorted by id here; marks in_window). */
static void compute_window(report_t *rep, const sim_t *sim, report_summary_t *s) {
    if (rep->all_on_route == NULL)
        return;
    if (rep->n_win > 1)
        qsort(rep->win, rep->n_win, sizeof *rep->win, cmp_wrec);
    sim_time_t from = 0, to = -1;
    s->window = trip_window(rep, sim, &from, &to);
    s->window_from_s = s->window ? sim_time_to_s(from) : 0;
    s->window_to_s = s->window ? sim_time_to_s(to) : 0;
    int64_t sum = 0, sum_a = 0, sum_c = 0;
    for (size_t i = 0; i < rep->n_win; i++) {
        wrec_t *t = &rep->win[i];
        t->in_window = s->window && t->depart <= to && t->end >= from;
        if (!t->in_window)
            continue;
        s->window_vehicles++;
        sum += t->delay;
        if (t->street == 'a') {
            s->window_arterial_vehicles++;
            sum_a += t->delay;
        } else if (t->street == 'c') {
            s->window_cross_vehicles++;
            sum_c += t->delay;
        }
    }
    if (s->window_vehicles > 0)
        s->window_mean_delay_s = sim_time_to_s(sum) / (double)s->window_vehicles;
    if (s->window_arterial_vehicles > 0)
        s->window_arterial_mean_delay_s =
            sim_time_to_s(sum_a) / (double)s->window_arterial_vehicles;
    if (s->window_cross_vehicles > 0)
        s->window_cross_mean_delay_s = sim_time_to_s(sum_c) / (double)s->window_cross_vehicles;
}

/* vehicles.csv: every non-escort vehicle in id order, with what pairing it with the same
 * vehicle of another run (common random numbers) needs: its street, whether it was in the
 * network during the trip window, its delay (accrued so far if unfinished). Written only for
 * scenarios with escorts. */
static int write_vehicles(report_t *rep, base_err_t *err) {
    if (rep->all_on_route == NULL)
        return BASE_OK;
    FILE *f = open_out(rep, "vehicles.csv", err);
    if (f == NULL)
        return BASE_EIO;
    fputs("id,depart_s,street,in_window,delay_s\n", f);
    for (size_t i = 0; i < rep->n_win; i++) {
        const wrec_t *w = &rep->win[i];
        const char *street = w->street == 'a' ? "arterial" : w->street == 'c' ? "cross" : "other";
        fprintf(f, "%lld,", (long long)w->id);
        put_s(f, w->depart);
        fprintf(f, ",%s,%d,", street, w->in_window);
        put_s(f, w->delay);
        fputc('\n', f);
    }
    return close_out(rep, f, "vehicles.csv", err);
}

static json_t *window_part(int64_t vehicles, double mean) {
    json_t *o = json_object();
    json_object_set_new(o, "vehicles", json_integer(vehicles));
    json_object_set_new(o, "mean_delay_s", json_real(round(mean * 1000.0) / 1000.0));
    return o;
}

static void compute(report_t *rep, const sim_t *sim, report_summary_t *s) {
    const sim_scenario_t *scn = rep->scn;
    sim_stats_t st = sim_stats(sim, 1);
    memset(s, 0, sizeof *s);
    s->vehicles_completed = st.vehicles_completed;
    s->vehicles_in_network = st.vehicles_in_network;
    s->vehicles_waiting = st.vehicles_waiting;
    s->vehicles_entered = st.vehicles_entered;
    s->vehicle_seconds = st.vehicle_seconds;
    s->events = st.events;
    s->sim_s = sim_time_to_s(sim_now(sim));
    /* Delays: finished vehicles (kept as they finished), then those still in the network or
     * waiting to enter, with the delay they have accrued so far (counting only finished
     * vehicles would flatter a strategy that gridlocks a street: its victims never finish). */
    sim_time_t now = sim_now(sim);
    sim_escort_status_t es0 = {0, -1, -1, 0, 0};
    if (scn->n_escorts > 0)
        es0 = sim_escort_status(sim, 0);
    sim_time_t from = es0.depart >= 0 ? es0.depart : SIM_TIME_MAX;
    sim_time_t to = es0.state == 2 ? es0.arrive : now;
    size_t n = (size_t)rep->n_fin;
    double *delay = malloc((n + (size_t)sim_vehicle_slots(sim) + 1) * sizeof *delay);
    if (delay == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        delay[i] = sim_time_to_s(rep->delays[i]);
    double sum_open = 0, sum_d_open = 0, sum_c_open = 0;
    int64_t during_open = 0, cross_open = 0;
    for (int32_t v = 0; v < sim_vehicle_slots(sim); v++) {
        sim_vehicle_info_t vi;
        if (!sim_vehicle_get(sim, v, &vi) || vi.escort >= 0)
            continue;
        double vmax = scn->classes[vi.vclass].max_speed_mps;
        sim_route_t done = {vi.route->links, vi.route_pos};
        sim_time_t free_so_far = sim_scenario_route_free_time(scn, &done, vmax);
        if (vi.in_network) {
            /* The current link, with the crossing into it, in proportion to the way done. */
            sim_route_t upto = {vi.route->links, vi.route_pos + 1};
            sim_time_t cur = sim_scenario_route_free_time(scn, &upto, vmax) - free_so_far;
            free_so_far += (sim_time_t)((double)cur * vi.pos_m / scn->links[vi.link].length_m);
        }
        double dl = sim_time_to_s(now - vi.depart - free_so_far);
        dl = dl > 0 ? dl : 0;
        push_wrec(rep, vi.id, vi.depart, now,
                  now - vi.depart - free_so_far > 0 ? now - vi.depart - free_so_far : 0, vi.route);
        delay[n++] = dl;
        sum_open += dl;
        if (rep->on_route != NULL && vi.depart <= to && now >= from) {
            during_open++;
            sum_d_open += dl;
            if (crosses_route(rep, vi.route)) {
                cross_open++;
                sum_c_open += dl;
            }
        }
    }
    if (n > 0) {
        double sum = sim_time_to_s(rep->sum_delay_ms) + sum_open;
        s->mean_delay_s = sum / (double)n;
        s->vehicle_hours_delay = sum / 3600.0;
        gsl_sort(delay, 1, n);
        s->p95_delay_s = gsl_stats_quantile_from_sorted_data(delay, 1, n, 0.95);
    }
    if (rep->n_fin > 0) {
        s->finished_mean_delay_s = sim_time_to_s(rep->sum_delay_ms) / (double)rep->n_fin;
        s->mean_travel_time_s = sim_time_to_s(rep->sum_tt_ms) / (double)rep->n_fin;
    }
    free(delay);
    compute_window(rep, sim, s);
    if (scn->n_escorts > 0) {
        s->during_escort_vehicles = rep->during_n + during_open;
        s->cross_street_vehicles = rep->cross_n + cross_open;
        if (s->during_escort_vehicles > 0)
            s->during_escort_mean_delay_s =
                (sim_time_to_s(rep->during_ms) + sum_d_open) / (double)s->during_escort_vehicles;
        if (s->cross_street_vehicles > 0)
            s->cross_street_mean_delay_s =
                (sim_time_to_s(rep->cross_ms) + sum_c_open) / (double)s->cross_street_vehicles;
        /* Recovery: the longest return to coordination of a signal on the route. */
        for (int32_t sg = 0; sg < scn->n_signals; sg++) {
            if (!rep->route_node[scn->signals[sg].node])
                continue;
            sim_signal_status_t ss = sim_signal_status(sim, sg);
            double r = sim_time_to_s(ss.recovery_max);
            if (ss.in_transition && ss.released_at >= 0)
                r = sim_time_to_s(now - ss.released_at);
            if (r > s->recovery_time_s) {
                s->recovery_time_s = r;
                s->recovery_cycles = r / sim_time_to_s(scn->signals[sg].plans[ss.plan].cycle);
            }
        }
        sim_escort_status_t es = sim_escort_status(sim, 0);
        s->has_escort = 1;
        s->escort_id = scn->escorts[0].id;
        s->escort_arrived = es.state == 2;
        s->escort_stops = es.stops;
        double free_s = 0;
        for (int32_t i = 0; i < scn->escorts[0].route.n_links; i++)
            free_s += sim_time_to_s(
                sim_scenario_drive_time(scn->links[scn->escorts[0].route.links[i]].length_m,
                                        scn->escorts[0].desired_speed_mps));
        s->escort_free_flow_time_s = free_s;
        if (es.state == 2)
            s->escort_travel_time_s = sim_time_to_s(es.arrive - es.depart);
        else if (es.state == 1)
            s->escort_travel_time_s = sim_time_to_s(sim_now(sim) - es.depart);
        for (size_t i = 0; i < rep->n_esc; i++) {
            if (rep->esc[i].escort == 0) {
                s->escort_wait_s += sim_time_to_s(rep->esc[i].depart - rep->esc[i].arrive);
                s->escort_stop_lines++;
            }
        }
    }
}

static json_t *escort_json(const report_t *rep, const sim_t *sim, int32_t e) {
    const sim_scenario_t *scn = rep->scn;
    sim_escort_status_t es = sim_escort_status(sim, e);
    double free_s = 0;
    for (int32_t i = 0; i < scn->escorts[e].route.n_links; i++)
        free_s += sim_time_to_s(
            sim_scenario_drive_time(scn->links[scn->escorts[e].route.links[i]].length_m,
                                    scn->escorts[e].desired_speed_mps));
    double tt = es.state == 2   ? sim_time_to_s(es.arrive - es.depart)
                : es.state == 1 ? sim_time_to_s(sim_now(sim) - es.depart)
                                : 0.0;
    double wait = 0;
    int32_t lines = 0;
    for (size_t i = 0; i < rep->n_esc; i++) {
        if (rep->esc[i].escort == e) {
            wait += sim_time_to_s(rep->esc[i].depart - rep->esc[i].arrive);
            lines++;
        }
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(scn->escorts[e].id));
    json_object_set_new(o, "arrived", json_boolean(es.state == 2));
    json_object_set_new(o, "depart_s", json_real(r3(sim_time_to_s(scn->escorts[e].depart))));
    json_object_set_new(o, "travel_time_s", json_real(r3(tt)));
    json_object_set_new(o, "free_flow_time_s", json_real(r3(free_s)));
    json_object_set_new(o, "delay_s", json_real(r3(es.state == 2 ? tt - free_s : 0.0)));
    json_object_set_new(o, "stops", json_integer(es.stops));
    json_object_set_new(o, "stop_lines", json_integer(lines));
    json_object_set_new(o, "wait_s", json_real(r3(wait)));
    return o;
}

static int write_summary(report_t *rep, const sim_t *sim, uint64_t seed, const report_summary_t *s,
                         const report_controller_t *ctl, base_err_t *err) {
    const sim_scenario_t *scn = rep->scn;
    json_t *root = json_object();
    json_object_set_new(root, "scenario", json_string(scn->name));
    json_object_set_new(root, "seed", json_integer((json_int_t)seed));
    json_t *escorts = json_array();
    for (int32_t e = 0; e < scn->n_escorts; e++)
        json_array_append_new(escorts, escort_json(rep, sim, e));
    json_object_set(root, "escort", scn->n_escorts > 0 ? json_array_get(escorts, 0) : json_null());
    json_object_set_new(root, "escorts", escorts);
    json_t *tr = json_object();
    json_object_set_new(tr, "vehicles_entered", json_integer(s->vehicles_entered));
    json_object_set_new(tr, "vehicles_completed", json_integer(s->vehicles_completed));
    json_object_set_new(tr, "vehicles_in_network", json_integer(s->vehicles_in_network));
    json_object_set_new(tr, "vehicles_waiting_to_enter", json_integer(s->vehicles_waiting));
    json_object_set_new(tr, "mean_delay_s", json_real(r3(s->mean_delay_s)));
    json_object_set_new(tr, "p95_delay_s", json_real(r3(s->p95_delay_s)));
    json_object_set_new(tr, "finished_mean_delay_s", json_real(r3(s->finished_mean_delay_s)));
    json_object_set_new(tr, "mean_travel_time_s", json_real(r3(s->mean_travel_time_s)));
    json_object_set_new(tr, "vehicle_hours_delay", json_real(r3(s->vehicle_hours_delay)));
    json_object_set_new(tr, "vehicle_seconds", json_real(r3(s->vehicle_seconds)));
    json_object_set_new(tr, "spillback_events",
                        json_integer((json_int_t)sim_stats(sim, 0).spillback_events));
    json_t *de = json_object();
    json_object_set_new(de, "vehicles", json_integer(s->during_escort_vehicles));
    json_object_set_new(de, "mean_delay_s", json_real(r3(s->during_escort_mean_delay_s)));
    json_object_set_new(tr, "during_escort", de);
    json_t *cs = json_object();
    json_object_set_new(cs, "vehicles", json_integer(s->cross_street_vehicles));
    json_object_set_new(cs, "mean_delay_s", json_real(r3(s->cross_street_mean_delay_s)));
    json_object_set_new(tr, "cross_street", cs);
    json_object_set_new(root, "traffic", tr);
    json_t *tw = json_object();
    json_object_set_new(tw, "from_s", json_real(r3(s->window_from_s)));
    json_object_set_new(tw, "to_s", json_real(r3(s->window_to_s)));
    json_object_set_new(tw, "vehicles", json_integer(s->window_vehicles));
    json_object_set_new(tw, "mean_delay_s", json_real(r3(s->window_mean_delay_s)));
    json_object_set_new(tw, "arterial",
                        window_part(s->window_arterial_vehicles, s->window_arterial_mean_delay_s));
    json_object_set_new(tw, "cross_street",
                        window_part(s->window_cross_vehicles, s->window_cross_mean_delay_s));
    json_object_set_new(root, "trip_window", tw);

    sim_safety_t sf = sim_safety(sim);
    json_t *sa = json_object();
    json_object_set_new(sa, "conflict_rejections", json_integer(s->safety_rejections));
    json_object_set_new(sa, "min_green_rejections", json_integer(sf.min_green_refusals));
    json_object_set_new(sa, "clearance_rejections", json_integer(sf.clearance_refusals));
    json_object_set_new(sa, "conflict_table_rejections", json_integer(sf.conflict_refusals));
    json_object_set_new(sa, "invalid_commands", json_integer(sf.invalid_refusals));
    json_object_set_new(sa, "commands", json_integer(sf.commands));
    json_object_set_new(root, "safety", sa);

    json_t *rc_ = json_object();
    json_object_set_new(rc_, "time_s", json_real(r3(s->recovery_time_s)));
    json_object_set_new(rc_, "cycles", json_real(r3(s->recovery_cycles)));
    json_object_set_new(root, "recovery", rc_);

    if (ctl != NULL) {
        json_t *c = json_object();
        json_object_set_new(c, "strategy", json_string(ctl->strategy ? ctl->strategy : ""));
        json_object_set_new(c, "ticks", json_integer(ctl->ticks));
        json_object_set_new(c, "ticks_sent", json_integer(ctl->ticks_sent));
        json_object_set_new(c, "rtt_us_p50", json_real(r3(ctl->rtt_us_p50)));
        json_object_set_new(c, "rtt_us_p99", json_real(r3(ctl->rtt_us_p99)));
        json_object_set_new(c, "lost_s", json_real(r3(ctl->lost_s)));
        json_object_set_new(c, "lost_events", json_integer(ctl->lost_events));
        json_object_set_new(c, "taken_back", json_integer(ctl->taken_back));
        json_object_set_new(c, "rejected_messages", json_integer(ctl->rejected_messages));
        json_object_set_new(c, "stale_messages", json_integer(ctl->stale_messages));
        json_object_set_new(c, "commands", json_integer(ctl->commands));
        json_object_set_new(c, "commands_refused", json_integer(ctl->commands_refused));
        json_object_set_new(c, "handshakes_refused", json_integer(ctl->handshakes_refused));
        json_object_set_new(root, "controller", c);
    } else {
        json_object_set_new(root, "controller", json_null());
    }
    if (rep->has_auth) {
        json_t *au = json_object();
        json_object_set_new(au, "curve", json_true());
        json_object_set_new(au, "allowed", json_integer(rep->auth.allowed));
        json_object_set_new(au, "refused_keys", json_integer(rep->auth.refused_keys));
        json_object_set_new(au, "refused_handshakes", json_integer(rep->auth.refused_handshakes));
        json_object_set_new(au, "control_requests", json_integer(rep->auth.control_requests));
        json_object_set_new(root, "auth", au);
    } else {
        json_object_set_new(root, "auth", json_null());
    }
    json_t *sm = json_object();
    json_object_set_new(sm, "sim_s", json_real(r3(s->sim_s)));
    json_object_set_new(sm, "events", json_integer((json_int_t)s->events));
    json_object_set_new(sm, "wall_s", json_real(r3(s->wall_s)));
    json_object_set_new(root, "sim", sm);

    char path[4096];
    snprintf(path, sizeof path, "%s/summary.json", rep->dir);
    int rc =
        json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    json_decref(root);
    if (rc != 0)
        return base_err_set(err, BASE_EIO, "%s: cannot write", path);
    return BASE_OK;
}

void report_set_auth(report_t *rep, const report_auth_t *auth) {
    rep->has_auth = 1;
    rep->auth = *auth;
}

int report_finish(report_t *rep, const sim_t *sim, uint64_t seed, double wall_s,
                  const report_controller_t *ctl, report_summary_t *out, base_err_t *err) {
    if (rep->oom)
        return base_err_set(err, BASE_ENOMEM, "out of memory collecting trip records");
    if (rep->signals != NULL) {
        FILE *f = rep->signals;
        rep->signals = NULL;
        if (close_out(rep, f, "signals.csv", err) < 0)
            return BASE_EIO;
    }
    if (rep->atspm != NULL && report_atspm_finish(rep->atspm, sim_now(sim), err) < 0)
        return err != NULL ? err->code : BASE_EIO;
    if (rep->n_esc > 1)
        qsort(rep->esc, rep->n_esc, sizeof *rep->esc, cmp_esc);
    report_summary_t s;
    compute(rep, sim, &s);
    s.wall_s = wall_s;
    sim_safety_t sf = sim_safety(sim);
    s.safety_rejections = sf.min_green_refusals + sf.clearance_refusals + sf.conflict_refusals;
    int rc = finish_trips(rep, err);
    if (rc == BASE_OK)
        rc = write_escorts(rep, err);
    if (rc == BASE_OK)
        rc = write_vehicles(rep, err);
    if (rc == BASE_OK)
        rc = write_summary(rep, sim, seed, &s, ctl, err);
    if (out != NULL)
        *out = s;
    return rc;
}
