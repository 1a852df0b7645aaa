/*
 * tests/batch/test_report.c - suite batch_report: report.md from a tiny hand-made runs.csv
 * (two strategies, four seeds): the mean and 95 % interval of the baseline, the paired
 * difference with its interval and percentage, computed by hand; a failed run and a run whose
 * escort did not arrive left out and the failure listed; the same report whatever the order
 * of the rows.
 */
#include "base/err.h"
#include "batch/report.h"
#include "batch/sweep.h"
#include "batch/table.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/gw-test-report-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

typedef struct row {
    const char *run, *variant, *seed, *status, *reason, *arrived, *tt;
} row_t;

/* none: 100 110 120 and a failed seed 4; local: 90 95 110 and seed 4 not arrived. */
static const row_t ROWS[] = {
    {"0", "none", "1", "ok", "", "1", "100"},
    {"1", "none", "2", "ok", "", "1", "110"},
    {"2", "none", "3", "ok", "", "1", "120"},
    {"3", "none", "4", "failed", "exit status 2: a.json:1:1: syntax error", NULL, NULL},
    {"4", "local", "1", "ok", "", "1", "90"},
    {"5", "local", "2", "ok", "", "1", "95"},
    {"6", "local", "3", "ok", "", "1", "110"},
    {"7", "local", "4", "ok", "", "0", "0"},
};

static batch_table_t *table_in_order(const size_t *order) {
    batch_table_t *t = batch_table_new();
    for (size_t k = 0; k < 8; k++) {
        const row_t *r = &ROWS[order[k]];
        const char *names[] = {"run",    "scenario", "strategy",       "variant",
                               "params", "seed",     "status",         "exit_status",
                               "reason", "wall_s",   "escort.arrived", "escort.travel_time_s"};
        const char *values[] = {r->run,    "a",     r->variant, r->variant,
                                "",        r->seed, r->status,  r->reason[0] ? "2" : "0",
                                r->reason, "1.5",   r->arrived, r->tt};
        ck_assert_int_eq(batch_table_add_row(t, names, values, r->arrived ? 12 : 10, NULL),
                         BASE_OK);
    }
    return t;
}

START_TEST(test_by_hand) {
    batch_sweep_t *sw = batch_sweep_new();
    base_err_t err = {0};
    batch_sweep_set_scenarios(sw, "a.json", &err);
    batch_sweep_set_strategies(sw, "none,local", &err);
    batch_sweep_set_seeds(sw, "1-4", &err);
    ck_assert_int_eq(batch_sweep_set_measures(sw, "escort.travel_time_s", &err), BASE_OK);
    ck_assert_int_eq(batch_sweep_finish(sw, &err), BASE_OK);
    const size_t fwd[] = {0, 1, 2, 3, 4, 5, 6, 7}, rev[] = {7, 3, 6, 2, 5, 1, 4, 0};
    batch_table_t *t = table_in_order(fwd);
    batch_report_opts_t o = {NULL, "not wanted in this test", NULL, NULL, 0, NULL};
    ck_assert_msg(batch_report_write(sw, t, dir, &o, &err) == 0, "%s", err.msg);
    char path[128];
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *md = slurp(path);
    /* none: mean 110, sd 10, half-width 4.30265 * 10 / sqrt(3) = 24.84: [85.2, 134.8].
     * local - none over seeds 1-3: -10 -15 -10, mean -11.67, sd 2.887, half-width 4.30265 *
     * 2.887 / sqrt(3) = 7.171: [-18.8, -4.5], excludes 0; -11.67 / 110 = -10.6 %. */
    const char *want[] = {
        "| none | 110.0 [85.2, 134.8] | — |",
        "| local | 98.3 [72.5, 124.2] | -11.7 [-18.8, -4.5] * (-10.6 %) |",
        "| escort travel time (s) | none | 3 | 110.0 | 10.0 | [85.2, 134.8] | 110.0 | — | — |",
        "|  | local | 3 | 98.3 | 10.4 | [72.5, 124.2] | 95.0 | -11.7 [-18.8, -4.5] * (-10.6 %) "
        "| 3 |",
        "| none (baseline) | defaults | 3 | 1 | 0 |",
        "| none | 4 | 2 | exit status 2: a.json:1:1: syntax error | logs/a__none__4.log |",
        "Not drawn: not wanted in this test",
        "8 runs of each scenario's duration: 7 ok, 1 failed, 0 not run.",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(md, want[i]) != NULL, "report.md lacks '%s':\n%s", want[i], md);
    /* The same rows in another order: the same report. */
    batch_table_t *u = table_in_order(rev);
    ck_assert_int_eq(batch_report_write(sw, u, dir, &o, &err), 0);
    char *md2 = slurp(path);
    ck_assert_str_eq(md, md2);
    free(md);
    free(md2);
    batch_table_destroy(&t);
    batch_table_destroy(&u);
    batch_sweep_destroy(&sw);
}
END_TEST

START_TEST(test_paths) {
    batch_sweep_t *sw = batch_sweep_new();
    base_err_t err = {0};
    batch_sweep_set_scenarios(sw, "x/bayiqi.json", &err);
    batch_sweep_set_strategies(sw, "corridor:transition=dwell", &err);
    batch_sweep_set_seeds(sw, "7", &err);
    ck_assert_int_eq(batch_sweep_finish(sw, &err), BASE_OK);
    batch_run_t run;
    batch_sweep_run_at(sw, 0, &run);
    char buf[256];
    batch_run_dir(sw, &run, "out", buf, sizeof buf);
    ck_assert_str_eq(buf, "out/runs/bayiqi/corridor_transition-dwell/7");
    batch_run_log(sw, &run, "out", buf, sizeof buf);
    ck_assert_str_eq(buf, "out/logs/bayiqi__corridor_transition-dwell__7.log");
    ck_assert_str_eq(batch_measure_label("escort.travel_time_s"), "escort travel time (s)");
    ck_assert_str_eq(batch_measure_label("sim.events"), "sim.events");
    batch_sweep_destroy(&sw);
}
END_TEST

Suite *suite_batch_report(void);

Suite *suite_batch_report(void) {
    Suite *s = suite_create("batch_report");
    TCase *tc = tcase_create("report");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_by_hand);
    tcase_add_test(tc, test_paths);
    suite_add_tcase(s, tc);
    return s;
}
