/*
 * tests/batch/test_runner.c - suite batch_runner: real child processes through /bin/sh: exit
 * statuses with their last output line, death by a signal, a time limit enforced, a program
 * that cannot be executed, a service that becomes ready by printing a line (and one that dies
 * first), tasks killed on request, and the stop flag waking a wait.
 */
#include "base/err.h"
#include "batch/runner.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], log_path[128];

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/gw-test-runner-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(log_path, sizeof log_path, "%s/task.log", dir);
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Runs sh -c script as a task and waits for it. */
static batch_exit_t run_sh(const char *script, double timeout_s) {
    batch_runner_t *r = batch_runner_new(NULL);
    ck_assert_ptr_nonnull(r);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    base_err_t err = {0};
    ck_assert_int_eq(batch_runner_start(r, argv, NULL, log_path, timeout_s, 7, &err), BASE_OK);
    ck_assert_uint_eq(batch_runner_running(r), 1);
    size_t tag = 0;
    batch_exit_t ex;
    ck_assert_int_eq(batch_runner_wait(r, 1e6, &tag, &ex), 1);
    ck_assert_uint_eq(tag, 7);
    ck_assert_uint_eq(batch_runner_running(r), 0);
    batch_runner_destroy(&r);
    ck_assert_ptr_null(r);
    return ex;
}

static const char *log_text(void) {
    static char buf[4096];
    FILE *f = fopen(log_path, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

START_TEST(test_exits) {
    batch_exit_t ex = run_sh("echo first; echo 'greenwave-sim: x.json:3:1: syntax error' >&2; "
                             "exit 2",
                             0);
    ck_assert_int_eq(ex.status, BATCH_EXIT_CODE);
    ck_assert_int_eq(ex.code, 2);
    ck_assert_str_eq(ex.last_line, "greenwave-sim: x.json:3:1: syntax error");
    ck_assert_ptr_nonnull(strstr(log_text(), "first\n"));
    char why[700];
    batch_exit_describe(&ex, 0, why, sizeof why);
    ck_assert_str_eq(why, "exit status 2: greenwave-sim: x.json:3:1: syntax error");
    ex = run_sh("printf 'no newline at the end'", 0);
    ck_assert_int_eq(ex.status, BATCH_EXIT_OK);
    ck_assert_str_eq(ex.last_line, "no newline at the end");
    /* stdin is /dev/null: a task never waits for input. */
    ex = run_sh("cat; exit 0", 5);
    ck_assert_int_eq(ex.status, BATCH_EXIT_OK);
}
END_TEST

START_TEST(test_signal_and_timeout) {
    batch_exit_t ex = run_sh("kill -SEGV $$", 0);
    ck_assert_int_eq(ex.status, BATCH_EXIT_SIGNAL);
    ck_assert_int_eq(ex.code, SIGSEGV);
    char why[700];
    batch_exit_describe(&ex, 0, why, sizeof why);
    ck_assert_ptr_nonnull(strstr(why, "killed by signal 11"));
    /* A task that ignores SIGTERM is killed anyway, after the grace period. */
    /* The tasks never end by themselves (sleep 100000: the timeout is what ends them), so the
     * outcome does not depend on the machine's speed; only lower bounds on wall time hold. */
    ex = run_sh("echo started; exec sleep 100000", 0.3);
    ck_assert_int_eq(ex.status, BATCH_EXIT_TIMEOUT);
    ck_assert(ex.wall_s >= 0.3);
    ck_assert_str_eq(ex.last_line, "started");
    batch_exit_describe(&ex, 0.3, why, sizeof why);
    ck_assert_str_eq(why, "timeout after 0.3 s (killed)");
    ex = run_sh("trap '' TERM; sleep 100000", 0.2);
    ck_assert_int_eq(ex.status, BATCH_EXIT_TIMEOUT);
    ck_assert(ex.wall_s >= 0.2);
}
END_TEST

START_TEST(test_not_executable) {
    batch_runner_t *r = batch_runner_new(NULL);
    const char *argv[] = {"/nonexistent/greenwave-sim", "x", NULL};
    base_err_t err = {0};
    ck_assert_int_eq(batch_runner_start(r, argv, NULL, log_path, 0, 1, &err), BASE_OK);
    size_t tag;
    batch_exit_t ex;
    ck_assert_int_eq(batch_runner_wait(r, 1e6, &tag, &ex), 1);
    ck_assert_int_eq(ex.status, BATCH_EXIT_CODE);
    ck_assert_int_eq(ex.code, 127);
    ck_assert_ptr_nonnull(strstr(ex.last_line, "cannot execute /nonexistent/greenwave-sim"));
    /* A log that cannot be opened is an error of the runner, not a task. */
    ck_assert_int_eq(batch_runner_start(r, argv, NULL, "/nonexistent/dir/x.log", 0, 1, &err),
                     BASE_EIO);
    ck_assert_uint_eq(batch_runner_running(r), 0);
    batch_runner_destroy(&r);
}
END_TEST

START_TEST(test_service) {
    batch_runner_t *r = batch_runner_new(NULL);
    base_err_t err = {0};
    char slog[160];
    snprintf(slog, sizeof slog, "%s/svc.log", dir);
    /* Ready only once the line is printed (after a delay: no race with the start). */
    char script[256], pidfile[160];
    snprintf(pidfile, sizeof pidfile, "%s/svc.pid", dir);
    snprintf(script, sizeof script, "echo $$ > %s; sleep 0.2; echo 'svc: listening'; exec sleep 60",
             pidfile);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    int id = batch_runner_start_service(r, argv, slog, "listening", 1e6, &err);
    ck_assert_msg(id >= 0, "%s", err.msg);
    ck_assert_int_eq(batch_runner_service_alive(r, id, NULL), 1);
    /* Tasks run beside it; the service is not a task. */
    const char *t[] = {"/bin/sh", "-c", "exit 0", NULL};
    ck_assert_int_eq(batch_runner_start(r, t, NULL, log_path, 0, 3, &err), BASE_OK);
    size_t tag;
    batch_exit_t ex;
    ck_assert_int_eq(batch_runner_wait(r, 1e6, &tag, &ex), 1);
    ck_assert_uint_eq(tag, 3);
    ck_assert_int_eq(batch_runner_wait(r, 0.05, &tag, &ex), 0);
    /* Killed from outside (by its pid): seen dead, started again. */
    FILE *f = fopen(pidfile, "r");
    ck_assert_ptr_nonnull(f);
    long pid = 0;
    ck_assert_int_eq(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
    while (batch_runner_service_alive(r, id, &ex))
        batch_runner_wait(r, 0.05, &tag, &ex);
    ck_assert_int_eq(ex.status, BATCH_EXIT_SIGNAL);
    ck_assert_int_eq(batch_runner_restart_service(r, id, &err), BASE_OK);
    ck_assert_int_eq(batch_runner_service_alive(r, id, NULL), 1);
    /* One that dies before it is ready. */
    const char *bad[] = {"/bin/sh", "-c", "echo 'cannot bind: address in use' >&2; exit 1", NULL};
    ck_assert_int_eq(batch_runner_start_service(r, bad, slog, "listening", 1e6, &err), BASE_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot bind: address in use"));
    /* One that never says it. */
    const char *mute[] = {"/bin/sh", "-c", "exec sleep 60", NULL};
    ck_assert_int_eq(batch_runner_start_service(r, mute, slog, "listening", 0.3, &err),
                     BASE_ESTATE);
    batch_runner_destroy(&r); /* stops the live service */
}
END_TEST

START_TEST(test_kill_and_stop) {
    volatile sig_atomic_t stop = 0;
    batch_runner_t *r = batch_runner_new(&stop);
    base_err_t err = {0};
    const char *argv[] = {"/bin/sh", "-c", "exec sleep 60", NULL};
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(batch_runner_start(r, argv, NULL, log_path, 0, i, &err), BASE_OK);
    size_t tag;
    batch_exit_t ex;
    ck_assert_int_eq(batch_runner_wait(r, 0.1, &tag, &ex), 0);
    stop = 1;
    /* The tasks never end by themselves: -1 (stopped) rather than a task's end proves the flag
     * was seen; no bound on wall time (a loaded machine may take any time). */
    ck_assert_int_eq(batch_runner_wait(r, 1e6, &tag, &ex), -1);
    batch_runner_kill_tasks(r, 1.0);
    ck_assert_uint_eq(batch_runner_running(r), 0);
    batch_runner_destroy(&r);
}
END_TEST

Suite *suite_batch_runner(void);

Suite *suite_batch_runner(void) {
    Suite *s = suite_create("batch_runner");
    TCase *tc = tcase_create("runner");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_exits);
    tcase_add_test(tc, test_signal_and_timeout);
    tcase_add_test(tc, test_not_executable);
    tcase_add_test(tc, test_service);
    tcase_add_test(tc, test_kill_and_stop);
    suite_add_tcase(s, tc);
    return s;
}
