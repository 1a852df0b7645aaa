/*
 * batch/runner.h - the child processes of a sweep: simulations ("tasks", each with a wall-time
 * limit) and long-lived controllers ("services", ready once they print a given text).
 *
 * Each child runs in its own process group with stdin from /dev/null and stdout and stderr
 * into a pipe that the runner copies to the child's log file, keeping the last line (the
 * reason a failing run gives). The end of a child is seen as the end of its output plus its
 * exit status, so the runner sleeps in poll() and needs no SIGCHLD handler. On Linux a child
 * is killed when the runner dies (PR_SET_PDEATHSIG), so a killed sweep leaves no orphans.
 *
 * The runner does not install signal handlers: main() owns them and passes a flag that the
 * runner reads (stop); a handler installed without SA_RESTART wakes the runner at once.
 * Single-threaded; one runner per process is the intended use, but nothing is global.
 */
#ifndef BATCH_RUNNER_H
#define BATCH_RUNNER_H

#include "base/err.h"

#include <signal.h>
#include <stddef.h>

typedef struct batch_runner batch_runner_t;

enum {
    BATCH_EXIT_OK = 0,      /* exited with status 0 */
    BATCH_EXIT_CODE = 1,    /* exited with a non-zero status (code) */
    BATCH_EXIT_SIGNAL = 2,  /* killed by signal code */
    BATCH_EXIT_TIMEOUT = 3, /* ran past its time limit and was killed */
};

typedef struct batch_exit {
    int status;          /* BATCH_EXIT_* */
    int code;            /* exit status, or signal number */
    double wall_s;       /* from start to exit */
    char last_line[512]; /* last non-empty line of its output ("" if none) */
} batch_exit_t;

/* Returns a runner that checks *stop (if not NULL) while it waits, or NULL when out of
 * memory. */
batch_runner_t *batch_runner_new(const volatile sig_atomic_t *stop);

/* Stops every child (SIGTERM, then SIGKILL after a grace period), reaps them, closes the
 * logs and frees the runner. NULL-safe; sets *self_p to NULL. */
void batch_runner_destroy(batch_runner_t **self_p);

/* Starts argv (argv[0] a path; NULL-terminated) as a service logging to log_path (appended)
 * and waits until its output contains ready, for at most ready_timeout_s. Returns the
 * service's id (>= 0), or BASE_EIO (cannot start, or it died: its last line in err),
 * BASE_ESTATE (not ready in time: killed; or *stop was raised). */
int batch_runner_start_service(batch_runner_t *self, const char *const *argv, const char *log_path,
                               const char *ready, double ready_timeout_s, base_err_t *err);

/* Returns 1 while service id runs, 0 once it has exited (its exit in *ex if not NULL). */
int batch_runner_service_alive(batch_runner_t *self, int id, batch_exit_t *ex);

/* Starts service id again with its argv and log, waiting for it to be ready as above.
 * Returns 0 or the errors of batch_runner_start_service(). */
int batch_runner_restart_service(batch_runner_t *self, int id, base_err_t *err);

/* Starts argv as a task with tag in directory cwd (NULL: the current one), logging to
 * log_path (truncated), killed after timeout_s seconds of wall time (0: no limit). Returns 0 or
 * BASE_EIO (fork or pipe failed; a program that cannot be executed is a task that exits with status
 * 127 and says why). */
int batch_runner_start(batch_runner_t *self, const char *const *argv, const char *cwd,
                       const char *log_path, double timeout_s, size_t tag, base_err_t *err);

/* Number of tasks started and not yet returned by batch_runner_wait(). */
size_t batch_runner_running(const batch_runner_t *self);

/* Waits up to max_wait_s for a task to finish. Returns 1 with its tag and exit filled in, 0
 * if none finished in time, -1 as soon as *stop is raised. */
int batch_runner_wait(batch_runner_t *self, double max_wait_s, size_t *tag, batch_exit_t *ex);

/* Kills every task (SIGTERM, then SIGKILL after grace_s) and reaps them; their results are
 * discarded. Services keep running. */
void batch_runner_kill_tasks(batch_runner_t *self, double grace_s);

/* Describes an exit in words into buf: "exit status 2: <last line>", "killed by signal 11
 * (Segmentation fault)", "timeout after 600 s (killed)". */
void batch_exit_describe(const batch_exit_t *ex, double timeout_s, char *buf, size_t size);

/* Seconds on a monotonic clock. */
double batch_now(void);

#endif
