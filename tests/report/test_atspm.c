/*
 * tests/report/test_atspm.c - suite report_atspm: the NEMA phase map, the writer's events
 * (signal, detector, preemption and TSP) read back by the reader, the round trip against
 * signals.csv, and the reader's refusals of malformed logs.
 */
#include "report/atspm.h"
#include "report/report.h"
#include "tests/sim/fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/gw-atspm-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static int count(const report_atspm_log_t *log, int code, int param) {
    int n = 0;
    for (size_t i = 0; i < log->n_events; i++)
        n += log->events[i].code == code && (param < 0 || log->events[i].param == param);
    return n;
}

START_TEST(test_phase_map) {
    /* The cross: corridor "we" runs east, so its through (G1) is phase 2; G2 travels south,
     * 90 degrees right of east: phase 4. */
    fixture_opts_t o = {0};
    sim_scenario_t *scn = fixture_cross(&o);
    int32_t ph[2];
    report_atspm_phase_map(scn, 0, ph);
    ck_assert_int_eq(ph[0], 2);
    ck_assert_int_eq(ph[1], 4);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_run_round_trip) {
    /* A real run of the cross with traffic: the log read back has the run's greens exactly,
     * and the stop-line and advance detectors of in_w as channels 1 and 2 of phase 2. */
    const char *demand = "{\"flows\":[{\"origin\":\"in_w\",\"destination\":\"out_e\","
                         "\"vph\":[600]},{\"origin\":\"in_n\",\"destination\":\"out_s\","
                         "\"vph\":[400]}]}";
    fixture_opts_t o = {.demand = demand, .start_time = "23:50:00"};
    sim_scenario_t *scn = fixture_cross(&o);
    base_err_t err = {0};
    report_t *rep = report_new(scn, dir, &err);
    ck_assert_msg(rep != NULL, "%s", err.msg);
    char log_path[128], sig_path[128], cfg_path[128];
    snprintf(log_path, sizeof log_path, "%s/atspm.csv", dir);
    snprintf(sig_path, sizeof sig_path, "%s/signals.csv", dir);
    snprintf(cfg_path, sizeof cfg_path, "%s/atspm.config.csv", dir);
    ck_assert_int_eq(report_enable_atspm(rep, log_path, &err), 0);
    sim_observer_t obs = report_observer(rep);
    sim_t *sim = sim_new(scn, 3, &obs, &err);
    ck_assert_ptr_nonnull(sim);
    ck_assert_int_eq(sim_run_until(sim, 1200000), 0); /* over midnight */
    ck_assert_int_eq(report_finish(rep, sim, 3, 0, NULL, NULL, &err), 0);
    report_atspm_log_t log;
    ck_assert_msg(report_atspm_read(log_path, cfg_path, &log, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(log.n_signals, 1);
    ck_assert_str_eq(log.signals[0], "X");
    int64_t n = report_atspm_check_signals(&log, sig_path, (23 * 60 + 50) * 60000LL, &err);
    ck_assert_msg(n >= 2 * 12, "%s", err.msg);
    ck_assert_int_ge(count(&log, 1, 2), 12); /* phase 2 greens, 100 s cycle */
    ck_assert_int_ge(count(&log, 8, 4), 11);
    ck_assert_int_eq(count(&log, 10, 2), count(&log, 9, 2)); /* red clearance 2 s */
    ck_assert_int_gt(count(&log, 82, 2), 100); /* advance loop (channel 2): arrivals */
    ck_assert_int_gt(count(&log, 81, 2), 100);
    ck_assert_int_gt(count(&log, 82, 1), 100); /* stop-line loop (channel 1): departures */
    int det = 0;
    for (size_t c = 0; c < log.n_channels; c++) {
        const report_atspm_channel_t *ch = &log.channels[c];
        if (ch->is_detector) {
            det++;
            ck_assert_int_eq(ch->phase, 2);
            ck_assert_str_eq(ch->approach, "EB");
            ck_assert_double_eq_tol(ch->speed_kmh, 50, 1e-9);
        }
    }
    ck_assert_int_eq(det, 2);
    /* Past midnight the date goes on: times keep growing. */
    ck_assert_int_gt(log.events[log.n_events - 1].t_ms, 86400000);
    report_atspm_log_free(&log);
    sim_destroy(&sim);
    report_destroy(&rep);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_priority_events) {
    fixture_opts_t o = {0};
    sim_scenario_t *scn = fixture_cross(&o);
    char path[128];
    snprintf(path, sizeof path, "%s/p.csv", dir);
    base_err_t err = {0};
    report_atspm_t *a = report_atspm_new(scn, path, &err);
    ck_assert_ptr_nonnull(a);
    report_atspm_on_signal(a, 0, 0, 0, SIM_SIGNAL_GREEN);
    report_atspm_on_signal(a, 0, 0, 1, SIM_SIGNAL_RED);
    /* Preemption calling stage s2 (G2): entry at once, dwell when G2 turns green. */
    sim_command_t call = {.signal = 0, .action = SIM_CMD_CALL, .stage = 1, .hold = 1, .preempt = 1};
    report_atspm_on_command(a, 10000, &call);
    report_atspm_on_command(a, 11000, &call); /* repeated: no second call */
    report_atspm_on_signal(a, 15000, 0, 0, SIM_SIGNAL_YELLOW);
    report_atspm_on_signal(a, 18000, 0, 0, SIM_SIGNAL_RED);
    report_atspm_on_signal(a, 20000, 0, 1, SIM_SIGNAL_GREEN);
    sim_command_t rel = {
        .signal = 0, .action = SIM_CMD_RELEASE, .transition = SIM_TRANSITION_SHORTWAY};
    report_atspm_on_command(a, 40000, &rel);
    /* TSP: a hold is an extension. */
    sim_command_t hold = {.signal = 0, .action = SIM_CMD_HOLD, .preempt = 0};
    report_atspm_on_command(a, 50000, &hold);
    report_atspm_on_command(a, 60000, &rel);
    sim_command_t off = {.signal = 0, .action = SIM_CMD_FORCE_OFF};
    report_atspm_on_command(a, 61000, &off);
    ck_assert_int_eq(report_atspm_finish(a, 100000, &err), 0);
    report_atspm_destroy(&a);
    report_atspm_log_t log;
    ck_assert_msg(report_atspm_read(path, NULL, &log, &err) == 0, "%s", err.msg);
    int want[][3] = {{102, 1, 10000}, {105, 1, 10000}, {107, 1, 20000}, {104, 1, 40000},
                     {111, 1, 40000}, {112, 1, 50000}, {114, 1, 50000}, {115, 1, 60000},
                     {6, 4, 61000},   {11, 2, 20000}};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        int found = 0;
        for (size_t i = 0; i < log.n_events; i++)
            found += log.events[i].code == want[k][0] && log.events[i].param == want[k][1] &&
                     log.events[i].t_ms == want[k][2];
        ck_assert_msg(found == 1, "event %d/%d at %d: %d times", want[k][0], want[k][1], want[k][2],
                      found);
    }
    ck_assert_int_eq(count(&log, 102, -1), 1);
    ck_assert_int_eq(count(&log, 113, -1), 0);
    report_atspm_log_free(&log);
    sim_scenario_destroy(&scn);
}
END_TEST

START_TEST(test_reader_accepts) {
    char path[128];
    snprintf(path, sizeof path, "%s/ok.csv", dir);
    write_file(path, "SignalID,Timestamp,EventCode,EventParam\r\n"
                     "\"A,1\",2024-03-05 23:59:59.9,1,2\r\n"
                     "B,2024-03-06T00:00:00.1,8,6\r\n"
                     "\"A,1\",2024-03-06T00:00:01,9,2\r\n");
    report_atspm_log_t log;
    base_err_t err = {0};
    ck_assert_msg(report_atspm_read(path, NULL, &log, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(log.n_signals, 2);
    ck_assert_str_eq(log.signals[0], "A,1");
    ck_assert_int_eq(log.n_events, 3);
    ck_assert_int_eq(log.events[0].t_ms, 86399900);
    ck_assert_int_eq(log.events[1].t_ms, 86401000);
    ck_assert_int_eq(log.events[2].signal, 1);
    ck_assert_int_eq(log.events[2].t_ms, 86400100);
    report_atspm_log_free(&log);
}
END_TEST

static const struct {
    const char *text, *want;
} BAD[] = {
    {"", "empty file"},
    {"Signal,Time,Code,Param\n", ":1: header"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T00:00:00,1\n", ":2: expected 4"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T00:00:00,1,2,3\n", ":2: expected 4"},
    {"SignalID,Timestamp,EventCode,EventParam\n\"A,2024-01-01T00:00:00,1,2\n", ":2: expected 4"},
    {"SignalID,Timestamp,EventCode,EventParam\n,2024-01-01T00:00:00,1,2\n", ":2: empty SignalID"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,01/01/2024 00:00:00,1,2\n", ":2: Timestamp"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-13-01T00:00:00,1,2\n", ":2: Timestamp"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T24:00:00,1,2\n", ":2: Timestamp"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T00:00:00.,1,2\n", ":2: Timestamp"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T00:00:00Z,1,2\n", ":2: Timestamp"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T00:00:00,256,2\n", ":2: EventCode"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T00:00:00,x,2\n", ":2: EventCode"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T00:00:00,1,-2\n", ":2: EventParam"},
    {"SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T00:00:00,1,99999999999\n",
     ":2: EventParam"},
};

START_TEST(test_reader_refuses) {
    char path[128];
    snprintf(path, sizeof path, "%s/bad%d.csv", dir, _i);
    write_file(path, BAD[_i].text);
    report_atspm_log_t log;
    base_err_t err = {0};
    ck_assert_int_lt(report_atspm_read(path, NULL, &log, &err), 0);
    ck_assert_msg(strstr(err.msg, path) != NULL && strstr(err.msg, BAD[_i].want) != NULL,
                  "case %d: \"%s\" lacks \"%s\"", _i, err.msg, BAD[_i].want);
    ck_assert_int_eq(log.n_events, 0);
    /* A missing file and a bad config are refused too. */
    ck_assert_int_eq(report_atspm_read("/nonexistent/x.csv", NULL, &log, &err), BASE_EIO);
    char good[128], cfg[128];
    snprintf(good, sizeof good, "%s/good.csv", dir);
    snprintf(cfg, sizeof cfg, "%s/good.config.csv", dir);
    write_file(good, "SignalID,Timestamp,EventCode,EventParam\nA,2024-01-01T00:00:00,1,2\n");
    write_file(cfg, "SignalID,Kind,Number,Phase,Name,Approach,Turn,DistanceFromStopBar_m,"
                    "Speed_kmh\nA,lane,2,2,G,EB,through,,\n");
    ck_assert_int_eq(report_atspm_read(good, cfg, &log, &err), BASE_EINVAL);
    ck_assert_msg(strstr(err.msg, "good.config.csv:2: Kind") != NULL, "%s", err.msg);
}
END_TEST

Suite *suite_report_atspm(void);
Suite *suite_report_atspm(void) {
    Suite *s = suite_create("report_atspm");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_phase_map);
    tcase_add_test(tc, test_run_round_trip);
    tcase_add_test(tc, test_priority_events);
    tcase_add_test(tc, test_reader_accepts);
    tcase_add_loop_test(tc, test_reader_refuses, 0, (int)(sizeof BAD / sizeof BAD[0]));
    suite_add_tcase(s, tc);
    return s;
}
