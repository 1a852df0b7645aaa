/*
 * batch/batch.c - the sweep loop: plan, skip what runs.csv holds, start one controller per
 * parameter set, keep up to `jobs` simulations running, turn each exit into a row, and write
 * the report; and the merge of shard directories.
 *
 * Invariants: runs.csv on disk is always a complete CSV whose rows are finished runs (a row
 * is appended in one write once the run has ended; a new column rewrites the file through a
 * rename); a run's directory is emptied before it starts, so outputs of an interrupted
 * attempt never mix with a new one; children are never left behind (the runner kills them,
 * and on Linux they die with us).
 */
#include "batch/batch.h"

#include "base/fs.h"
#include "batch/pair.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4096

struct batch {
    const batch_sweep_t *sw;
    batch_options_t o;
    batch_table_t *table;
    batch_runner_t *runner;
    char runs_csv[PATH_CAP];
    int file_current; /* runs.csv on disk has the table's columns */
    char tmpdir[PATH_CAP];
    size_t n_slots;   /* controller processes: sets x instances per set */
    int *services;    /* per slot (set * instances + instance): runner service id, or -1 */
    char **endpoints; /* per slot */
    size_t *load;     /* per slot: simulations running on it */
    size_t *slot_of;  /* per todo entry: the slot its simulation uses */
    size_t *todo;     /* plan indexes to run */
    size_t n_todo;
    size_t n_done, n_failed, n_skipped;
    double t_start, last_draw;
    int bar_shown;
    double *walls; /* wall time of each run of this invocation */
    int lock_fd;   /* out_dir/.lock, held while the sweep runs */
    base_err_t err;
};

void batch_options_defaults(batch_options_t *opts) {
    memset(opts, 0, sizeof *opts);
    opts->jobs = 1;
    opts->controllers = 1;
    opts->timeout_s = 1800;
    opts->ready_timeout_s = 600; /* a hung controller, not a slow machine: tests run loaded */
    opts->progress = BATCH_PROGRESS_LINES;
    opts->msg = stderr;
}

const char *batch_errmsg(const batch_t *self) {
    return self->err.msg;
}

static void say(const batch_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const batch_t *self, const char *fmt, ...) {
    if (self->o.msg == NULL || self->o.progress == BATCH_PROGRESS_QUIET)
        return;
    if (self->bar_shown)
        fputs("\r\033[K", self->o.msg);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(self->o.msg, fmt, ap);
    va_end(ap);
    fflush(self->o.msg);
}

batch_t *batch_new(const batch_sweep_t *sweep, const batch_options_t *opts) {
    batch_t *self = calloc(1, sizeof *self);
    if (self == NULL)
        return NULL;
    self->sw = sweep;
    self->o = *opts;
    self->lock_fd = -1;
    if (self->o.jobs < 1)
        self->o.jobs = 1;
    if (self->o.controllers < 1)
        self->o.controllers = 1;
    self->n_slots = sweep->n_controllers * self->o.controllers;
    self->services = malloc((self->n_slots + 1) * sizeof *self->services);
    self->endpoints = calloc(self->n_slots + 1, sizeof *self->endpoints);
    self->load = calloc(self->n_slots + 1, sizeof *self->load);
    self->table = batch_table_new();
    if (self->services == NULL || self->endpoints == NULL || self->load == NULL ||
        self->table == NULL) {
        batch_destroy(&self);
        return NULL;
    }
    for (size_t c = 0; c < self->n_slots; c++)
        self->services[c] = -1;
    return self;
}

static void remove_tree(const char *path);

void batch_destroy(batch_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    batch_t *self = *self_p;
    batch_runner_destroy(&self->runner);
    if (self->lock_fd >= 0)
        close(self->lock_fd);
    if (self->tmpdir[0] != '\0')
        remove_tree(self->tmpdir);
    if (self->endpoints != NULL)
        for (size_t c = 0; c < self->n_slots; c++)
            free(self->endpoints[c]);
    free(self->endpoints);
    free(self->services);
    free(self->load);
    free(self->slot_of);
    free(self->todo);
    free(self->walls);
    batch_table_destroy(&self->table);
    free(self);
    *self_p = NULL;
}

/* ---- files -------------------------------------------------------------------------------- */

/* Removes the files of a directory and the directory (one level of subdirectories). */
static void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[PATH_CAP + 256];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            if (unlink(p) < 0 && (errno == EISDIR || errno == EPERM))
                remove_tree(p);
        }
        closedir(d);
    }
    rmdir(path);
}

/* Empties a run directory (its files only) before the run. */
static void empty_dir(const char *path) {
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_CAP + 256];
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static int copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb");
    if (in == NULL)
        return -1;
    char tmp[PATH_CAP + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    FILE *out = fopen(tmp, "wb");
    if (out == NULL) {
        fclose(in);
        return -1;
    }
    char buf[65536];
    size_t n;
    int bad = 0;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            bad = 1;
    bad |= ferror(in);
    fclose(in);
    if (fclose(out) != 0)
        bad = 1;
    if (bad || rename(tmp, to) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* ---- run keys ----------------------------------------------------------------------------- */

typedef struct keyed {
    char *key;
    long row;
} keyed_t;

static int cmp_keyed(const void *a, const void *b) {
    return strcmp(((const keyed_t *)a)->key, ((const keyed_t *)b)->key);
}

/* Keys "scenario/variant/seed" of the table's rows, sorted (caller frees keys and array). */
static keyed_t *row_keys(const batch_table_t *t, int only_ok, size_t *n) {
    long cs = batch_table_col(t, "scenario"), cv = batch_table_col(t, "variant");
    long ck = batch_table_col(t, "seed"), cst = batch_table_col(t, "status");
    keyed_t *k = calloc(t->n_rows + 1, sizeof *k);
    *n = 0;
    if (k == NULL || cs < 0 || cv < 0 || ck < 0)
        return k;
    for (size_t r = 0; r < t->n_rows; r++) {
        const char *s = t->rows[r][cs], *v = t->rows[r][cv], *seed = t->rows[r][ck];
        const char *st = cst >= 0 ? t->rows[r][cst] : NULL;
        if (s == NULL || v == NULL || seed == NULL)
            continue;
        if (only_ok && (st == NULL || strcmp(st, "ok") != 0))
            continue;
        size_t len = strlen(s) + strlen(v) + strlen(seed) + 3;
        k[*n].key = malloc(len);
        if (k[*n].key == NULL)
            break;
        snprintf(k[*n].key, len, "%s/%s/%s", s, v, seed);
        k[*n].row = (long)r;
        (*n)++;
    }
    qsort(k, *n, sizeof *k, cmp_keyed);
    return k;
}

static void free_keys(keyed_t *k, size_t n) {
    for (size_t i = 0; k != NULL && i < n; i++)
        free(k[i].key);
    free(k);
}

static long find_key(const keyed_t *k, size_t n, const char *key) {
    keyed_t probe = {(char *)key, 0};
    const keyed_t *hit = bsearch(&probe, k, n, sizeof *k, cmp_keyed);
    return hit ? hit->row : -1;
}

/* ---- progress ----------------------------------------------------------------------------- */

static void fmt_eta(double s, char *buf, size_t size) {
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "--");
    else if (s >= 3600)
        snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else if (s >= 60)
        snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, size, "%ds", (int)s);
}

static void progress_numbers(const batch_t *self, double *rate, double *eta) {
    double el = batch_now() - self->t_start;
    size_t left = self->n_todo - self->n_done;
    *rate = el > 0 ? 60.0 * (double)self->n_done / el : 0;
    *eta = self->n_done > 0 ? el / (double)self->n_done * (double)left : NAN;
}

static void draw_bar(batch_t *self) {
    if (self->o.progress != BATCH_PROGRESS_BAR || self->o.msg == NULL)
        return;
    double rate, eta;
    progress_numbers(self, &rate, &eta);
    char e[32], bar[32];
    fmt_eta(eta, e, sizeof e);
    size_t w = 24, fill = self->n_todo ? w * self->n_done / self->n_todo : w;
    for (size_t i = 0; i < w; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[w] = '\0';
    fprintf(self->o.msg,
            "\r\033[K[%s] %zu/%zu runs, %zu failed, %zu running, %.1f runs/min, %s left", bar,
            self->n_done, self->n_todo, self->n_failed, batch_runner_running(self->runner), rate,
            e);
    fflush(self->o.msg);
    self->bar_shown = 1;
    self->last_draw = batch_now();
}

static void report_done(batch_t *self, const char *key, int ok, const char *reason, double wall) {
    if (self->o.progress == BATCH_PROGRESS_LINES && self->o.msg != NULL) {
        double rate, eta;
        progress_numbers(self, &rate, &eta);
        char e[32];
        fmt_eta(eta, e, sizeof e);
        fprintf(self->o.msg, "[%zu/%zu] %-6s %s (%.1f s)%s%s  [%zu failed, %s left]\n",
                self->n_done, self->n_todo, ok ? "ok" : "FAILED", key, wall, ok ? "" : ": ",
                ok ? "" : reason, self->n_failed, e);
        fflush(self->o.msg);
    } else if (self->o.progress == BATCH_PROGRESS_BAR) {
        if (!ok)
            say(self, "FAILED %s: %s\n", key, reason);
        draw_bar(self);
    }
}

/* ---- controllers -------------------------------------------------------------------------- */

/* Starts controller process slot: instance slot % K of parameter set slot / K. */
static int start_controller(batch_t *self, size_t slot) {
    size_t k_per = self->o.controllers, c = slot / k_per, k = slot % k_per;
    const batch_variant_t *v = NULL;
    for (size_t i = 0; i < self->sw->n_variants && v == NULL; i++)
        if (self->sw->variants[i].controller == c)
            v = &self->sw->variants[i];
    char ep[PATH_CAP + 96], log[PATH_CAP + 96], name[40];
    if (k_per == 1)
        snprintf(name, sizeof name, "%zu", c);
    else
        snprintf(name, sizeof name, "%zu-%zu", c, k);
    snprintf(ep, sizeof ep, "ipc://%s/ctl-%s.ipc", self->tmpdir, name);
    snprintf(log, sizeof log, "%s/logs/controller-%s.log", self->o.out_dir, name);
    free(self->endpoints[slot]);
    if ((self->endpoints[slot] = strdup(ep)) == NULL)
        return base_err_set(&self->err, BASE_ENOMEM, "out of memory");
    const char *argv[32] = {self->o.ctl_path, "--bind", ep};
    size_t n = 3;
    n += batch_variant_args(v, BATCH_PARAM_CONTROLLER, argv + n, 28 - n);
    argv[n] = NULL;
    int id = batch_runner_start_service(self->runner, argv, log, "listening",
                                        self->o.ready_timeout_s, &self->err);
    const char *key = self->sw->controller_keys[c][0] ? self->sw->controller_keys[c] : "defaults";
    if (id < 0)
        return base_err_prefix(&self->err, "controller %s (%s): ", name, key);
    self->services[slot] = id;
    say(self, "controller %s (%s) listening at %s\n", name, key, ep);
    return BASE_OK;
}

/* Makes sure controller process slot runs (starting it again if it died). */
static int ensure_controller(batch_t *self, size_t slot) {
    batch_exit_t ex;
    if (self->services[slot] < 0)
        return start_controller(self, slot);
    if (batch_runner_service_alive(self->runner, self->services[slot], &ex))
        return BASE_OK;
    char why[700];
    batch_exit_describe(&ex, 0, why, sizeof why);
    say(self, "controller process %zu died (%s); starting it again\n", slot, why);
    if (batch_runner_restart_service(self->runner, self->services[slot], &self->err) < 0)
        return base_err_prefix(&self->err, "controller process %zu: ", slot);
    return BASE_OK;
}

/* The least loaded controller process of parameter set c (the first of equals). */
static size_t pick_slot(const batch_t *self, size_t c) {
    size_t best = c * self->o.controllers;
    for (size_t k = 1; k < self->o.controllers; k++)
        if (self->load[c * self->o.controllers + k] < self->load[best])
            best = c * self->o.controllers + k;
    return best;
}

/* ---- one run ------------------------------------------------------------------------------ */

static int start_run(batch_t *self, size_t t, size_t slot) {
    const batch_sweep_t *sw = self->sw;
    batch_run_t run;
    batch_sweep_run_at(sw, self->todo[t], &run);
    const batch_variant_t *v = &sw->variants[run.variant];
    char dir[PATH_CAP], log[PATH_CAP], seed[32], until[64], tmo[32];
    batch_run_dir(sw, &run, self->o.out_dir, dir, sizeof dir);
    batch_run_log(sw, &run, self->o.out_dir, log, sizeof log);
    if (base_fs_mkdir_p(dir) < 0)
        return base_err_set(&self->err, BASE_EIO, "%s: %s", dir, strerror(errno));
    empty_dir(dir);
    snprintf(seed, sizeof seed, "%" PRIu64, run.seed);
    const char *argv[48] = {
        self->o.sim_path, sw->scenarios[run.scenario].path, "--seed", seed, "--out", dir};
    size_t n = 6;
    if (sw->until_s > 0) {
        snprintf(until, sizeof until, "%.17g", sw->until_s);
        argv[n++] = "--until";
        argv[n++] = until;
    }
    /* In-process, the controller's parameters go to greenwave-sim as --ctl KEY=VALUE. */
    char ctl_opts[16][BATCH_VALUE_MAX + 48];
    if (self->o.in_process) {
        argv[n++] = "--controller";
        argv[n++] = "in-process";
        argv[n++] = "--strategy";
        argv[n++] = v->strategy;
        if (self->o.sim_sync != NULL) {
            argv[n++] = "--sync";
            argv[n++] = self->o.sim_sync;
        }
        const char *args[32];
        size_t na = batch_variant_args(v, BATCH_PARAM_CONTROLLER, args, 32), k = 0;
        for (size_t i = 0; i < na && k < 16; k++) {
            int flag = i + 1 >= na || strncmp(args[i + 1], "--", 2) == 0;
            if (flag)
                snprintf(ctl_opts[k], sizeof ctl_opts[k], "%s", args[i] + 2);
            else
                snprintf(ctl_opts[k], sizeof ctl_opts[k], "%s=%s", args[i] + 2, args[i + 1]);
            i += flag ? 1 : 2;
            argv[n++] = "--ctl";
            argv[n++] = ctl_opts[k];
        }
    } else if (self->o.ctl_path != NULL) {
        argv[n++] = "--controller";
        argv[n++] = self->endpoints[slot];
        argv[n++] = "--strategy";
        argv[n++] = v->strategy;
        if (self->o.sim_timeout_ms > 0) {
            snprintf(tmo, sizeof tmo, "%d", self->o.sim_timeout_ms);
            argv[n++] = "--timeout-ms";
            argv[n++] = tmo;
        }
        if (self->o.sim_sync != NULL) {
            argv[n++] = "--sync";
            argv[n++] = self->o.sim_sync;
        }
        if (self->o.sim_encoding != NULL) {
            argv[n++] = "--encoding";
            argv[n++] = self->o.sim_encoding;
        }
    }
    char atspm[PATH_CAP + 16];
    if (self->o.atspm) {
        snprintf(atspm, sizeof atspm, "%s/atspm.csv", dir);
        argv[n++] = "--atspm";
        argv[n++] = atspm;
    }
    n += batch_variant_args(v, BATCH_PARAM_SIM, argv + n, 46 - n);
    argv[n] = NULL;
    return batch_runner_start(self->runner, argv, NULL, log, self->o.timeout_s, t, &self->err);
}

/* Checks a successful run's summary: it ran under its controller, which was never lost. */
static int validate(const batch_t *self, const batch_variant_t *v, const json_t *summary, char *why,
                    size_t size) {
    if (self->o.ctl_path == NULL && !self->o.in_process)
        return 0;
    const json_t *c = json_object_get(summary, "controller");
    if (!json_is_object(c)) {
        snprintf(why, size, "validation: summary.json has no controller section");
        return -1;
    }
    const char *st = json_string_value(json_object_get(c, "strategy"));
    if (st == NULL || strcmp(st, v->strategy) != 0) {
        snprintf(why, size, "validation: the controller ran strategy '%s', not '%s'", st ? st : "?",
                 v->strategy);
        return -1;
    }
    json_int_t lost = json_integer_value(json_object_get(c, "lost_events"));
    if (lost > 0) {
        snprintf(why, size,
                 "validation: controller lost %" JSON_INTEGER_FORMAT " time(s), %.0f s on local "
                 "plans",
                 lost, json_number_value(json_object_get(c, "lost_s")));
        return -1;
    }
    return 0;
}

static int is_fixed(const char *name) {
    for (size_t i = 0; i < BATCH_FIXED_COLS; i++)
        if (strcmp(batch_fixed_cols[i], name) == 0)
            return 1;
    return 0;
}

static int add_and_write(batch_t *self, batch_fields_t *f) {
    size_t added = 0;
    if (batch_table_add_row(self->table, (const char *const *)f->names,
                            (const char *const *)f->values, f->n, &added) < 0)
        return base_err_set(&self->err, BASE_ENOMEM, "out of memory");
    if (added > 0 || !self->file_current) {
        if (batch_table_write(self->table, self->runs_csv, &self->err) < 0)
            return BASE_EIO;
        self->file_current = 1;
        return BASE_OK;
    }
    return batch_table_append(self->table, self->table->n_rows - 1, self->runs_csv, &self->err);
}

static int finish_run(batch_t *self, size_t t, const batch_exit_t *ex) {
    const batch_sweep_t *sw = self->sw;
    batch_run_t run;
    batch_sweep_run_at(sw, self->todo[t], &run);
    const batch_variant_t *v = &sw->variants[run.variant];
    char dir[PATH_CAP], log[PATH_CAP], path[PATH_CAP + 32], key[512];
    batch_run_dir(sw, &run, self->o.out_dir, dir, sizeof dir);
    batch_run_log(sw, &run, self->o.out_dir, log, sizeof log);
    batch_sweep_run_key(sw, &run, key, sizeof key);
    char why[1024] = "";
    int ok = ex->status == BATCH_EXIT_OK;
    if (!ok)
        batch_exit_describe(ex, self->o.timeout_s, why, sizeof why);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    json_error_t je;
    json_t *summary = json_load_file(path, 0, &je);
    if (ok && summary == NULL) {
        ok = 0;
        snprintf(why, sizeof why, "no valid summary.json: %s", je.text);
    }
    if (ok && validate(self, v, summary, why, sizeof why) < 0)
        ok = 0;
    char idx[32], seed[32], code[32], wall[32], params[512];
    snprintf(idx, sizeof idx, "%zu", run.index);
    snprintf(seed, sizeof seed, "%" PRIu64, run.seed);
    int ec =
        ex->status == BATCH_EXIT_OK || ex->status == BATCH_EXIT_CODE ? ex->code : 128 + ex->code;
    snprintf(code, sizeof code, "%d", ec);
    snprintf(wall, sizeof wall, "%.3f", ex->wall_s);
    batch_variant_params_text(v, -1, params, sizeof params);
    const char *fixed[BATCH_FIXED_COLS] = {idx,
                                           sw->scenarios[run.scenario].label,
                                           v->strategy,
                                           v->label,
                                           params,
                                           seed,
                                           ok ? "ok" : "failed",
                                           code,
                                           why,
                                           wall};
    batch_fields_t f = {0};
    int rc = BASE_OK;
    for (size_t i = 0; i < BATCH_FIXED_COLS && rc == BASE_OK; i++)
        rc = batch_fields_add(&f, batch_fixed_cols[i], fixed[i]);
    if (rc == BASE_OK && summary != NULL) {
        batch_fields_t m = {0};
        rc = batch_fields_flatten(&m, summary, NULL);
        for (size_t i = 0; i < m.n && rc == BASE_OK; i++)
            if (!is_fixed(m.names[i]))
                rc = batch_fields_add(&f, m.names[i], m.values[i]);
        batch_fields_clear(&m);
    }
    json_decref(summary);
    if (rc < 0) {
        batch_fields_clear(&f);
        return base_err_set(&self->err, BASE_ENOMEM, "out of memory");
    }
    rc = add_and_write(self, &f);
    batch_fields_clear(&f);
    if (rc < 0)
        return rc;
    self->walls[self->n_done] = ex->wall_s;
    self->n_done++;
    if (!ok)
        self->n_failed++;
    if (ok && !self->o.keep_logs)
        unlink(log);
    if (ok && !self->o.keep_trips) {
        snprintf(path, sizeof path, "%s/trips.csv", dir);
        unlink(path);
    }
    report_done(self, key, ok, why, ex->wall_s);
    return BASE_OK;
}

/* ---- the sweep ---------------------------------------------------------------------------- */

static int prepare_out(batch_t *self) {
    const char *out = self->o.out_dir;
    char p[PATH_CAP];
    const char *subs[] = {"", "/runs", "/logs", "/scenarios"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", out, subs[i]);
        if (base_fs_mkdir_p(p) < 0)
            return base_err_set(&self->err, BASE_EIO, "%s: %s", p, strerror(errno));
    }
    snprintf(self->runs_csv, sizeof self->runs_csv, "%s/runs.csv", out);
    /* One bench per output directory: a second one (a shard given the same --out) would
     * interleave its rows. The lock goes with the process, however it ends. */
    snprintf(p, sizeof p, "%s/.lock", out);
    self->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (self->lock_fd < 0 || fcntl(self->lock_fd, F_SETLK, &fl) < 0)
        return base_err_set(&self->err, BASE_EINVAL,
                            "%s: another greenwave-bench is writing to %s (%s)", p, out,
                            strerror(errno));
    /* The sweep: a new sweep must not overwrite results; a resumed one should match. */
    snprintf(p, sizeof p, "%s/sweep.json", out);
    int have_csv = access(self->runs_csv, F_OK) == 0;
    if (have_csv && !self->o.resume)
        return base_err_set(&self->err, BASE_EINVAL,
                            "%s exists: continue that sweep with --resume, or choose another "
                            "--out",
                            self->runs_csv);
    if (self->o.resume && access(p, F_OK) == 0) {
        batch_sweep_t *old = batch_sweep_new();
        base_err_t e = {0};
        if (old != NULL && batch_sweep_load_file(old, p, &e) == 0 &&
            batch_sweep_finish(old, &e) == 0) {
            json_t *a = batch_sweep_to_json(old, 1), *b = batch_sweep_to_json(self->sw, 1);
            if (a && b && !json_equal(a, b))
                say(self,
                    "note: the sweep differs from %s; runs of the old plan stay in runs.csv "
                    "but only this plan's runs are reported\n",
                    p);
            json_decref(a);
            json_decref(b);
        }
        batch_sweep_destroy(&old);
    }
    if (batch_sweep_write(self->sw, p, &self->err) < 0)
        return BASE_EIO;
    for (size_t s = 0; s < self->sw->n_scenarios; s++) {
        snprintf(p, sizeof p, "%s/scenarios/%s.json", out, self->sw->scenarios[s].label);
        if (!same_file(self->sw->scenarios[s].path, p))
            copy_file(self->sw->scenarios[s].path, p); /* best effort: for the TSD */
    }
    return BASE_OK;
}

/* Loads runs.csv (resume) and lists the runs to do. */
static int plan(batch_t *self) {
    const batch_sweep_t *sw = self->sw;
    if (self->o.resume && access(self->runs_csv, F_OK) == 0) {
        size_t dropped = 0;
        if (batch_table_read(self->table, self->runs_csv, &dropped, &self->err) < 0)
            return base_err_prefix(&self->err, "cannot resume: ");
        int rewrite = dropped > 0;
        if (dropped > 0)
            say(self, "runs.csv: dropped an incomplete last line\n");
        if (self->o.retry_failed) {
            long cst = batch_table_col(self->table, "status");
            for (size_t r = self->table->n_rows; cst >= 0 && r-- > 0;) {
                const char *st = self->table->rows[r][cst];
                if (st != NULL && strcmp(st, "ok") != 0) {
                    batch_table_remove_row(self->table, r);
                    rewrite = 1;
                }
            }
        }
        if (rewrite && batch_table_write(self->table, self->runs_csv, &self->err) < 0)
            return BASE_EIO;
        self->file_current = 1;
    }
    size_t n_keys = 0;
    keyed_t *keys = row_keys(self->table, 0, &n_keys);
    size_t n = batch_sweep_n_runs(sw);
    self->todo = malloc((n ? n : 1) * sizeof *self->todo);
    self->slot_of = calloc(n ? n : 1, sizeof *self->slot_of);
    self->walls = calloc(n ? n : 1, sizeof *self->walls);
    if (keys == NULL || self->todo == NULL || self->slot_of == NULL || self->walls == NULL) {
        free_keys(keys, n_keys);
        return base_err_set(&self->err, BASE_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (!batch_sweep_in_shard(sw, i))
            continue;
        batch_run_t run;
        char key[512];
        batch_sweep_run_at(sw, i, &run);
        batch_sweep_run_key(sw, &run, key, sizeof key);
        if (find_key(keys, n_keys, key) >= 0)
            self->n_skipped++;
        else
            self->todo[self->n_todo++] = i;
    }
    free_keys(keys, n_keys);
    return BASE_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void throughput(const batch_t *self, double wall, char *buf, size_t size) {
    double med = NAN;
    if (self->n_done > 0) {
        double *w = malloc(self->n_done * sizeof *w);
        if (w != NULL) {
            memcpy(w, self->walls, self->n_done * sizeof *w);
            qsort(w, self->n_done, sizeof *w, cmp_double);
            med = self->n_done % 2 ? w[self->n_done / 2]
                                   : (w[self->n_done / 2 - 1] + w[self->n_done / 2]) / 2;
            free(w);
        }
    }
    snprintf(buf, size,
             "stats: %zu runs in %.1f s wall at -j %u: %.2f runs/min (median %.2f s per run, "
             "%zu failed)",
             self->n_done, wall, self->o.jobs, wall > 0 ? 60.0 * (double)self->n_done / wall : 0.0,
             med, self->n_failed);
}

static int write_final(batch_t *self, const char *runtime_note) {
    const char *dirs[] = {self->o.out_dir};
    if (batch_pair_fill(self->sw, self->table, dirs, 1, &self->err) < 0)
        return BASE_EIO;
    if (batch_table_canonicalize(self->table, "run", batch_fixed_cols, BATCH_FIXED_COLS) < 0)
        return base_err_set(&self->err, BASE_ENOMEM, "out of memory");
    if (self->table->n_cols > 0 && batch_table_write(self->table, self->runs_csv, &self->err) < 0)
        return BASE_EIO;
    batch_report_opts_t ro = {self->o.gnuplot,
                              self->o.no_plots_reason,
                              runtime_note,
                              NULL,
                              0,
                              self->o.progress != BATCH_PROGRESS_QUIET ? self->o.msg : NULL};
    return batch_report_write(self->sw, self->table, self->o.out_dir, &ro, &self->err);
}

int batch_run(batch_t *self) {
    const batch_sweep_t *sw = self->sw;
    base_err_clear(&self->err);
    if (self->o.ctl_path == NULL && !self->o.in_process) {
        for (size_t i = 0; i < sw->n_variants; i++)
            if (strcmp(sw->variants[i].strategy, "none") != 0 ||
                sw->controller_keys[sw->variants[i].controller][0] != '\0')
                return base_err_set(&self->err, BASE_EINVAL,
                                    "strategy '%s' needs greenwave-controller (only 'none' "
                                    "without parameters runs without one)",
                                    sw->variants[i].label);
    }
    if (prepare_out(self) < 0 || plan(self) < 0)
        return self->err.code;
    if (self->n_skipped > 0)
        say(self, "resuming: %zu run%s already in runs.csv, %zu to run\n", self->n_skipped,
            self->n_skipped == 1 ? "" : "s", self->n_todo);
    self->runner = batch_runner_new(self->o.stop);
    if (self->runner == NULL)
        return base_err_set(&self->err, BASE_ENOMEM, "out of memory");
    self->t_start = batch_now();
    int interrupted = 0;
    if (self->n_todo > 0 && self->o.ctl_path != NULL && !self->o.in_process) {
        const char *base = getenv("TMPDIR");
        snprintf(self->tmpdir, sizeof self->tmpdir, "%s/gwbench.XXXXXX",
                 base && base[0] && strlen(base) < 60 ? base : "/tmp");
        if (mkdtemp(self->tmpdir) == NULL) {
            int e = errno;
            self->tmpdir[0] = '\0';
            return base_err_set(&self->err, BASE_EIO, "mkdtemp: %s", strerror(e));
        }
        /* Start the controllers the remaining runs need. */
        char *need = calloc(sw->n_controllers + 1, 1);
        if (need == NULL)
            return base_err_set(&self->err, BASE_ENOMEM, "out of memory");
        for (size_t t = 0; t < self->n_todo; t++) {
            batch_run_t run;
            batch_sweep_run_at(sw, self->todo[t], &run);
            need[sw->variants[run.variant].controller] = 1;
        }
        int rc_ctl = BASE_OK;
        for (size_t slot = 0; slot < self->n_slots && rc_ctl == BASE_OK; slot++)
            if (need[slot / self->o.controllers])
                rc_ctl = start_controller(self, slot);
        free(need);
        if (rc_ctl < 0) {
            if (!(self->o.stop && *self->o.stop))
                return rc_ctl;
            interrupted = 1;
        }
    }
    self->t_start = batch_now();
    size_t next = 0;
    int rc = BASE_OK;
    while (!interrupted && (next < self->n_todo || batch_runner_running(self->runner) > 0)) {
        while (next < self->n_todo && batch_runner_running(self->runner) < self->o.jobs &&
               !(self->o.stop && *self->o.stop)) {
            batch_run_t run;
            batch_sweep_run_at(sw, self->todo[next], &run);
            size_t slot = pick_slot(self, sw->variants[run.variant].controller);
            if (self->o.ctl_path != NULL && !self->o.in_process &&
                ensure_controller(self, slot) < 0) {
                if (self->o.stop && *self->o.stop)
                    break;
                rc = self->err.code;
                break;
            }
            if (start_run(self, next, slot) < 0) {
                rc = self->err.code;
                break;
            }
            self->slot_of[next] = slot;
            self->load[slot]++;
            next++;
        }
        if (rc < 0)
            break;
        if (self->o.progress == BATCH_PROGRESS_BAR && batch_now() - self->last_draw > 0.5)
            draw_bar(self);
        size_t tag;
        batch_exit_t ex;
        int w = batch_runner_wait(self->runner, self->o.progress == BATCH_PROGRESS_BAR ? 0.5 : 3600,
                                  &tag, &ex);
        if (w < 0) {
            interrupted = 1;
            break;
        }
        if (w == 1)
            self->load[self->slot_of[tag]]--;
        if (w == 1 && finish_run(self, tag, &ex) < 0) {
            rc = self->err.code;
            break;
        }
    }
    if (rc < 0 || interrupted)
        batch_runner_kill_tasks(self->runner, 2.0);
    double wall = batch_now() - self->t_start;
    if (self->bar_shown) {
        draw_bar(self);
        fputc('\n', self->o.msg);
        self->bar_shown = 0;
    }
    if (rc < 0) {
        batch_table_canonicalize(self->table, "run", batch_fixed_cols, BATCH_FIXED_COLS);
        if (self->table->n_cols > 0)
            batch_table_write(self->table, self->runs_csv, NULL);
        return rc;
    }
    if (interrupted) {
        if (batch_table_canonicalize(self->table, "run", batch_fixed_cols, BATCH_FIXED_COLS) == 0 &&
            self->table->n_cols > 0)
            batch_table_write(self->table, self->runs_csv, &self->err);
        if (self->o.msg != NULL) /* even with --progress quiet: how to go on */
            fprintf(self->o.msg,
                    "interrupted: %zu of %zu runs done (%zu of them before this invocation), "
                    "runs.csv is valid.\nresume with: %s\n",
                    self->n_done + self->n_skipped, self->n_todo + self->n_skipped, self->n_skipped,
                    self->o.resume_cmd ? self->o.resume_cmd : "the same command with --resume");
        return BATCH_INTERRUPTED;
    }
    char stats[512], note[1024];
    throughput(self, wall, stats, sizeof stats);
    snprintf(note, sizeof note, "This invocation: %s.\n", stats + 7);
    if (write_final(self, self->n_done > 0 ? note : NULL) < 0)
        return self->err.code;
    if (self->o.stats)
        printf("%s\n", stats);
    say(self,
        "done: %zu runs (%zu failed this time, %zu skipped), results in %s/ "
        "(runs.csv, report.md)\n",
        self->n_done, self->n_failed, self->n_skipped, self->o.out_dir);
    size_t fails = 0;
    long cst = batch_table_col(self->table, "status");
    for (size_t r = 0; cst >= 0 && r < self->table->n_rows; r++) {
        const char *st = self->table->rows[r][cst];
        fails += st == NULL || strcmp(st, "ok") != 0;
    }
    return fails > 0 ? BATCH_DONE_FAILED : BATCH_DONE;
}

/* ---- merge -------------------------------------------------------------------------------- */

static int copy_logs(const char *from_dir, const char *to_dir) {
    char src[PATH_CAP], dst[PATH_CAP];
    snprintf(src, sizeof src, "%s/logs", from_dir);
    DIR *d = opendir(src);
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || strncmp(e->d_name, "controller-", 11) == 0 || len < 5 ||
            strcmp(e->d_name + len - 4, ".log") != 0)
            continue;
        snprintf(src, sizeof src, "%s/logs/%s", from_dir, e->d_name);
        snprintf(dst, sizeof dst, "%s/logs/%s", to_dir, e->d_name);
        if (access(dst, F_OK) != 0)
            copy_file(src, dst);
    }
    closedir(d);
    return 0;
}

int batch_merge(const char *const *dirs, size_t n_dirs, const batch_options_t *opts,
                base_err_t *err) {
    const char *out = opts->out_dir;
    batch_sweep_t *sw = NULL;
    json_t *ref = NULL;
    batch_table_t *merged = batch_table_new();
    int rc = merged ? BASE_OK : base_err_set(err, BASE_ENOMEM, "out of memory");
    char p[PATH_CAP];
    for (size_t d = 0; d < n_dirs && rc == BASE_OK; d++) {
        batch_sweep_t *s = batch_sweep_new();
        snprintf(p, sizeof p, "%s/sweep.json", dirs[d]);
        if (s == NULL) {
            rc = base_err_set(err, BASE_ENOMEM, "out of memory");
            break;
        }
        if (batch_sweep_load_file(s, p, err) < 0 || batch_sweep_finish(s, err) < 0) {
            rc = BASE_EINVAL;
            batch_sweep_destroy(&s);
            break;
        }
        json_t *j = batch_sweep_to_json(s, 1);
        if (ref == NULL) {
            ref = j;
            sw = s;
        } else {
            int same = j && json_equal(ref, j);
            json_decref(j);
            batch_sweep_destroy(&s);
            if (!same) {
                rc = base_err_set(err, BASE_EINVAL, "%s: not the sweep of %s/sweep.json", p,
                                  dirs[0]);
                break;
            }
        }
        snprintf(p, sizeof p, "%s/runs.csv", dirs[d]);
        batch_table_t *t = batch_table_new();
        if (t == NULL) {
            rc = base_err_set(err, BASE_ENOMEM, "out of memory");
            break;
        }
        if (access(p, F_OK) != 0) {
            if (opts->msg)
                fprintf(opts->msg, "greenwave-bench: %s: no runs.csv (a shard not run?)\n",
                        dirs[d]);
        } else if (batch_table_read(t, p, NULL, err) < 0) {
            rc = BASE_EIO;
        }
        for (size_t r = 0; r < t->n_rows && rc == BASE_OK; r++) {
            const char *names[1024], *vals[1024];
            size_t n = 0;
            for (size_t c = 0; c < t->n_cols && n < 1024; c++) {
                const char *v = t->rows[r][c];
                if (v != NULL && (v[0] != '\0' || c < BATCH_FIXED_COLS)) {
                    names[n] = t->cols[c];
                    vals[n++] = v;
                }
            }
            if (batch_table_add_row(merged, names, vals, n, NULL) < 0)
                rc = base_err_set(err, BASE_ENOMEM, "out of memory");
        }
        batch_table_destroy(&t);
    }
    if (rc == BASE_OK && sw == NULL)
        rc = base_err_set(err, BASE_EINVAL, "nothing to merge");
    if (rc == BASE_OK) {
        int in_place = n_dirs == 1 && same_file(dirs[0], out);
        if (!in_place)
            sw->shard_index = sw->shard_count = 0;
        if (batch_pair_fill(sw, merged, dirs, n_dirs, err) < 0)
            rc = BASE_EIO;
        if (rc == BASE_OK &&
            batch_table_canonicalize(merged, "run", batch_fixed_cols, BATCH_FIXED_COLS) < 0)
            rc = base_err_set(err, BASE_ENOMEM, "out of memory");
        /* Drop duplicates (overlapping shards): per key keep an ok row, else the first. */
        size_t n_keys = 0;
        keyed_t *keys = rc == BASE_OK ? row_keys(merged, 0, &n_keys) : NULL;
        if (rc == BASE_OK && keys == NULL)
            rc = base_err_set(err, BASE_ENOMEM, "out of memory");
        char *drop = rc == BASE_OK ? calloc(merged->n_rows + 1, 1) : NULL;
        long cst = batch_table_col(merged, "status");
        for (size_t i = 1; drop != NULL && i < n_keys; i++) {
            if (strcmp(keys[i].key, keys[i - 1].key) != 0)
                continue;
            long a = keys[i - 1].row, b = keys[i].row;
            const char *sa = cst >= 0 ? merged->rows[a][cst] : NULL;
            const char *sb = cst >= 0 ? merged->rows[b][cst] : NULL;
            int a_ok = sa && strcmp(sa, "ok") == 0, b_ok = sb && strcmp(sb, "ok") == 0;
            long lose = (b_ok && !a_ok) ? a : b;
            long keep = lose == a ? b : a;
            drop[lose] = 1;
            keys[i].row = keep; /* a third copy compares with the kept one */
        }
        for (size_t r = merged->n_rows; drop != NULL && r-- > 0;)
            if (drop[r])
                batch_table_remove_row(merged, r);
        free(drop);
        free_keys(keys, n_keys);
        const char *subs[] = {"", "/logs", "/scenarios"};
        for (size_t i = 0; i < 3 && rc == BASE_OK; i++) {
            snprintf(p, sizeof p, "%s%s", out, subs[i]);
            if (base_fs_mkdir_p(p) < 0)
                rc = base_err_set(err, BASE_EIO, "%s: %s", p, strerror(errno));
        }
        for (size_t d = 0; d < n_dirs && rc == BASE_OK && !in_place; d++) {
            copy_logs(dirs[d], out);
            for (size_t s = 0; s < sw->n_scenarios; s++) {
                char src[PATH_CAP];
                snprintf(src, sizeof src, "%s/scenarios/%s.json", dirs[d], sw->scenarios[s].label);
                snprintf(p, sizeof p, "%s/scenarios/%s.json", out, sw->scenarios[s].label);
                if (access(p, F_OK) != 0 && access(src, R_OK) == 0)
                    copy_file(src, p);
            }
        }
        snprintf(p, sizeof p, "%s/sweep.json", out);
        if (rc == BASE_OK && batch_sweep_write(sw, p, err) < 0)
            rc = BASE_EIO;
        snprintf(p, sizeof p, "%s/runs.csv", out);
        if (rc == BASE_OK && merged->n_cols > 0 && batch_table_write(merged, p, err) < 0)
            rc = BASE_EIO;
        if (rc == BASE_OK) {
            char note[PATH_CAP];
            size_t o = (size_t)snprintf(note, sizeof note,
                                        "%s from:", in_place ? "Report written again" : "Merged");
            for (size_t d = 0; d < n_dirs && o < sizeof note; d++)
                o += (size_t)snprintf(note + o, sizeof note - o, " %s", dirs[d]);
            if (o < sizeof note)
                snprintf(note + o, sizeof note - o, ".\n");
            batch_report_opts_t ro = {opts->gnuplot, opts->no_plots_reason, note, dirs, n_dirs,
                                      opts->msg};
            rc = batch_report_write(sw, merged, out, &ro, err);
        }
        if (rc == BASE_OK) {
            size_t n = batch_sweep_n_runs(sw), ok = 0;
            long cs = batch_table_col(merged, "status");
            for (size_t r = 0; cs >= 0 && r < merged->n_rows; r++)
                ok += merged->rows[r][cs] && strcmp(merged->rows[r][cs], "ok") == 0;
            if (opts->msg && opts->progress != BATCH_PROGRESS_QUIET)
                fprintf(opts->msg,
                        "merged %zu rows of %zu director%s into %s/ (%zu of %zu runs "
                        "ok)\n",
                        merged->n_rows, n_dirs, n_dirs == 1 ? "y" : "ies", out, ok, n);
            rc = ok == n ? BATCH_DONE : BATCH_DONE_FAILED;
        }
    }
    json_decref(ref);
    batch_sweep_destroy(&sw);
    batch_table_destroy(&merged);
    return rc;
}
