/*
 * batch/runner.c - fork/exec of children, one output pipe each, and a poll() loop ("pump")
 * that copies output to the logs, reaps exits with waitpid(WNOHANG) and enforces time limits.
 *
 * A child is finished when it has been reaped; its pipe is then drained without blocking and
 * closed (a grandchild holding the pipe cannot stall the sweep). While a child has closed its
 * output but is not yet reaped, the loop polls every 5 ms; otherwise it sleeps until output,
 * the next deadline or the caller's limit. A task past its deadline gets SIGTERM to its
 * process group, then SIGKILL 2 s later.
 */
#include "batch/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define KILL_GRACE_S 2.0

typedef struct child {
    int used;
    int is_service;
    pid_t pid;
    int fd;     /* read end of the output pipe, -1 once closed */
    int log_fd; /* -1 if none */
    double start, deadline, kill_at;
    int term_sent, timed_out;
    int reaped, wstatus;
    int returned; /* task: reported by wait() */
    size_t tag;
    char line[512];    /* last complete non-empty line */
    char partial[512]; /* line being read */
    size_t partial_len;
    /* services: what is needed to start again */
    char **argv;
    char *log_path;
    char *ready;
    int is_ready;
} child_t;

struct batch_runner {
    const volatile sig_atomic_t *stop;
    child_t *kids;
    size_t n_kids;
    size_t running_tasks;
};

double batch_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int stopped(const batch_runner_t *self) {
    return self->stop != NULL && *self->stop != 0;
}

batch_runner_t *batch_runner_new(const volatile sig_atomic_t *stop) {
    batch_runner_t *self = calloc(1, sizeof *self);
    if (self != NULL)
        self->stop = stop;
    return self;
}

static void free_argv(char **argv) {
    if (argv == NULL)
        return;
    for (char **a = argv; *a != NULL; a++)
        free(*a);
    free(argv);
}

static char **copy_argv(const char *const *argv) {
    size_t n = 0;
    while (argv[n] != NULL)
        n++;
    char **c = calloc(n + 1, sizeof *c);
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if ((c[i] = strdup(argv[i])) == NULL) {
            free_argv(c);
            return NULL;
        }
    }
    return c;
}

static void close_child_fds(child_t *k) {
    if (k->fd >= 0)
        close(k->fd);
    if (k->log_fd >= 0)
        close(k->log_fd);
    k->fd = k->log_fd = -1;
}

/* A free slot (reusing returned tasks' slots), or NULL when out of memory. */
static child_t *new_slot(batch_runner_t *self) {
    for (size_t i = 0; i < self->n_kids; i++) {
        if (!self->kids[i].used) {
            memset(&self->kids[i], 0, sizeof self->kids[i]);
            self->kids[i].fd = self->kids[i].log_fd = -1;
            self->kids[i].used = 1;
            return &self->kids[i];
        }
    }
    child_t *k = realloc(self->kids, (self->n_kids + 1) * sizeof *k);
    if (k == NULL)
        return NULL;
    self->kids = k;
    child_t *c = &k[self->n_kids++];
    memset(c, 0, sizeof *c);
    c->fd = c->log_fd = -1;
    c->used = 1;
    return c;
}

/* Keeps the last non-empty line of what a child wrote. */
static void scan_lines(child_t *k, const char *buf, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        if (c == '\n' || c == '\r') {
            if (k->partial_len > 0) {
                k->partial[k->partial_len] = '\0';
                memcpy(k->line, k->partial, k->partial_len + 1);
                k->partial_len = 0;
            }
        } else if (k->partial_len + 1 < sizeof k->partial) {
            k->partial[k->partial_len++] = c;
        }
    }
}

static void check_ready(child_t *k, const char *buf, size_t n) {
    if (!k->is_service || k->is_ready || k->ready == NULL)
        return;
    /* The ready text may span two reads: look in the current partial line too. */
    size_t rl = strlen(k->ready);
    char tail[1024];
    size_t tl = k->partial_len < 511 ? k->partial_len : 511;
    memcpy(tail, k->partial + k->partial_len - tl, tl);
    size_t take = n < sizeof tail - tl - 1 ? n : sizeof tail - tl - 1;
    memcpy(tail + tl, buf + n - take, take);
    tail[tl + take] = '\0';
    if (rl > 0 && strstr(tail, k->ready) != NULL)
        k->is_ready = 1;
    if (strstr(k->line, k->ready) != NULL)
        k->is_ready = 1;
}

/* Reads what is available; returns 0 at end of file, 1 otherwise. */
static int drain(child_t *k) {
    char buf[65536];
    for (;;) {
        ssize_t got = read(k->fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : 0;
        if (got == 0)
            return 0;
        if (k->log_fd >= 0) {
            const char *p = buf;
            size_t left = (size_t)got;
            while (left > 0) {
                ssize_t w = write(k->log_fd, p, left);
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    break; /* a full disk loses log text, not the run */
                p += w;
                left -= (size_t)w;
            }
        }
        check_ready(k, buf, (size_t)got);
        scan_lines(k, buf, (size_t)got);
        check_ready(k, "", 0);
    }
}

static void finish_lines(child_t *k) {
    if (k->partial_len > 0) {
        k->partial[k->partial_len] = '\0';
        memcpy(k->line, k->partial, k->partial_len + 1);
        k->partial_len = 0;
    }
}

static void reap(child_t *k) {
    if (k->reaped)
        return;
    int st;
    pid_t r = waitpid(k->pid, &st, WNOHANG);
    if (r == k->pid || (r < 0 && errno == ECHILD)) {
        k->reaped = 1;
        k->wstatus = r == k->pid ? st : 0;
        if (k->fd >= 0) {
            drain(k);
            close(k->fd);
            k->fd = -1;
        }
        finish_lines(k);
        if (k->log_fd >= 0) {
            close(k->log_fd);
            k->log_fd = -1;
        }
    }
}

/* One round: waits up to timeout_s for output, copies it, reaps, enforces deadlines. */
static void pump(batch_runner_t *self, double timeout_s) {
    struct pollfd fds[256];
    size_t map[256];
    size_t n = 0;
    int eof_pending = 0;
    double now = batch_now();
    for (size_t i = 0; i < self->n_kids; i++) {
        child_t *k = &self->kids[i];
        if (!k->used || k->reaped)
            continue;
        if (k->fd >= 0 && n < 256) {
            fds[n].fd = k->fd;
            fds[n].events = POLLIN;
            fds[n].revents = 0;
            map[n++] = i;
        } else if (k->fd < 0) {
            eof_pending = 1;
        }
        double until = k->term_sent ? k->kill_at : k->deadline;
        if (until > 0 && until - now < timeout_s)
            timeout_s = until - now;
    }
    if (eof_pending && timeout_s > 0.005)
        timeout_s = 0.005;
    /* A signal that lands between the caller's look at *stop and poll() would not wake it:
     * look again at least four times a second. */
    if (self->stop != NULL && timeout_s > 0.25)
        timeout_s = 0.25;
    if (timeout_s < 0)
        timeout_s = 0;
    int ms = (int)ceil(timeout_s * 1000.0);
    int got = poll(fds, (nfds_t)n, ms);
    if (got > 0) {
        for (size_t j = 0; j < n; j++) {
            if (fds[j].revents == 0)
                continue;
            child_t *k = &self->kids[map[j]];
            if (!drain(k)) {
                close(k->fd);
                k->fd = -1;
            }
        }
    }
    now = batch_now();
    for (size_t i = 0; i < self->n_kids; i++) {
        child_t *k = &self->kids[i];
        if (!k->used || k->reaped)
            continue;
        reap(k);
        if (k->reaped)
            continue;
        if (!k->term_sent && k->deadline > 0 && now >= k->deadline) {
            k->timed_out = 1;
            k->term_sent = 1;
            k->kill_at = now + KILL_GRACE_S;
            kill(-k->pid, SIGTERM);
        } else if (k->term_sent && now >= k->kill_at) {
            kill(-k->pid, SIGKILL);
            k->kill_at = now + 3600;
        }
    }
}

/* fork/exec argv with its output into a new pipe. */
static int spawn(child_t *k, const char *const *argv, const char *cwd, const char *log_path,
                 int append, base_err_t *err) {
    int p[2];
    if (pipe(p) < 0)
        return base_err_set(err, BASE_EIO, "pipe: %s", strerror(errno));
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    int log_fd = -1;
    if (log_path != NULL) {
        log_fd =
            open(log_path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
        if (log_fd < 0) {
            int e = errno;
            close(p[0]);
            close(p[1]);
            return base_err_set(err, BASE_EIO, "%s: %s", log_path, strerror(e));
        }
    }
    pid_t parent = getpid();
    /* Every signal is blocked across fork() and in the child until its handlers are reset:
     * a signal sent to the child's group in between (a timeout, a kill of the tasks) must not
     * run a handler inherited from this process (Check's fork mode forwards SIGTERM to the
     * test's whole process group; greenwave-bench sets its stop flag), but stay pending until
     * the default action applies. */
    sigset_t all, saved;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &saved);
    pid_t pid = fork();
    if (pid != 0)
        sigprocmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        if (log_fd >= 0)
            close(log_fd);
        return base_err_set(err, BASE_EIO, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        setpgid(0, 0);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (getppid() != parent)
            _exit(127);
        static const int caught[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGPIPE,
                                     SIGALRM, SIGUSR1, SIGUSR2, SIGCHLD};
        for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++)
            signal(caught[i], SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        dup2(p[1], 1);
        dup2(p[1], 2);
        if (cwd != NULL && chdir(cwd) < 0) {
            char msg[1024];
            int len = snprintf(msg, sizeof msg, "cannot enter %s: %s\n", cwd, strerror(errno));
            if (len > 0 && write(2, msg, (size_t)len) < 0)
                _exit(127);
            _exit(127);
        }
        execv(argv[0], (char *const *)argv);
        char msg[1024];
        int len = snprintf(msg, sizeof msg, "cannot execute %s: %s\n", argv[0], strerror(errno));
        if (len > 0 && write(2, msg, (size_t)len) < 0)
            _exit(127);
        _exit(127);
    }
    setpgid(pid, pid); /* also here, so a kill of the group cannot race the child's call */
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    k->pid = pid;
    k->fd = p[0];
    k->log_fd = log_fd;
    k->start = batch_now();
    k->reaped = 0;
    k->term_sent = k->timed_out = 0;
    k->line[0] = '\0';
    k->partial_len = 0;
    return BASE_OK;
}

static void fill_exit(const child_t *k, batch_exit_t *ex) {
    memset(ex, 0, sizeof *ex);
    ex->wall_s = batch_now() - k->start;
    snprintf(ex->last_line, sizeof ex->last_line, "%s", k->line);
    if (k->timed_out) {
        ex->status = BATCH_EXIT_TIMEOUT;
        ex->code = WIFSIGNALED(k->wstatus) ? WTERMSIG(k->wstatus) : WEXITSTATUS(k->wstatus);
    } else if (WIFSIGNALED(k->wstatus)) {
        ex->status = BATCH_EXIT_SIGNAL;
        ex->code = WTERMSIG(k->wstatus);
    } else {
        ex->code = WEXITSTATUS(k->wstatus);
        ex->status = ex->code == 0 ? BATCH_EXIT_OK : BATCH_EXIT_CODE;
    }
}

/* Waits until service k is ready, dead, late or stopped. */
static int await_ready(batch_runner_t *self, child_t *k, double timeout_s, base_err_t *err) {
    double until = batch_now() + timeout_s;
    while (!k->is_ready) {
        if (k->reaped) {
            batch_exit_t ex;
            fill_exit(k, &ex);
            char why[700];
            batch_exit_describe(&ex, 0, why, sizeof why);
            return base_err_set(err, BASE_EIO, "%s did not start: %s", k->argv[0], why);
        }
        if (stopped(self))
            return base_err_set(err, BASE_ESTATE, "interrupted");
        double left = until - batch_now();
        if (left <= 0) {
            kill(-k->pid, SIGKILL);
            while (!k->reaped)
                pump(self, 0.05);
            return base_err_set(err, BASE_ESTATE, "%s: not ready (no '%s' line) after %.0f s",
                                k->argv[0], k->ready, timeout_s);
        }
        pump(self, left < 0.2 ? left : 0.2);
    }
    return BASE_OK;
}

int batch_runner_start_service(batch_runner_t *self, const char *const *argv, const char *log_path,
                               const char *ready, double ready_timeout_s, base_err_t *err) {
    child_t *k = new_slot(self);
    if (k == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    int id = (int)(k - self->kids);
    k->is_service = 1;
    k->argv = copy_argv(argv);
    k->log_path = log_path ? strdup(log_path) : NULL;
    k->ready = strdup(ready);
    if (k->argv == NULL || k->ready == NULL || (log_path != NULL && k->log_path == NULL)) {
        k->reaped = 1;
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    }
    if (spawn(k, (const char *const *)k->argv, NULL, k->log_path, 1, err) < 0) {
        k->reaped = 1;
        return BASE_EIO;
    }
    k = NULL; /* pump may move the array: index from here on */
    int rc = await_ready(self, &self->kids[id], ready_timeout_s, err);
    return rc < 0 ? rc : id;
}

int batch_runner_service_alive(batch_runner_t *self, int id, batch_exit_t *ex) {
    if (id < 0 || (size_t)id >= self->n_kids || !self->kids[id].is_service)
        return 0;
    child_t *k = &self->kids[id];
    reap(k);
    if (k->reaped && ex != NULL)
        fill_exit(k, ex);
    return !k->reaped;
}

int batch_runner_restart_service(batch_runner_t *self, int id, base_err_t *err) {
    if (id < 0 || (size_t)id >= self->n_kids || !self->kids[id].is_service)
        return base_err_set(err, BASE_EINVAL, "no service %d", id);
    child_t *k = &self->kids[id];
    if (!k->reaped) {
        kill(-k->pid, SIGKILL);
        while (!k->reaped)
            pump(self, 0.05);
    }
    close_child_fds(k);
    k->is_ready = 0;
    if (spawn(k, (const char *const *)k->argv, NULL, k->log_path, 1, err) < 0) {
        k->reaped = 1;
        return BASE_EIO;
    }
    return await_ready(self, k, 30.0, err);
}

int batch_runner_start(batch_runner_t *self, const char *const *argv, const char *cwd,
                       const char *log_path, double timeout_s, size_t tag, base_err_t *err) {
    child_t *k = new_slot(self);
    if (k == NULL)
        return base_err_set(err, BASE_ENOMEM, "out of memory");
    k->tag = tag;
    if (spawn(k, argv, cwd, log_path, 0, err) < 0) {
        k->used = 0;
        return BASE_EIO;
    }
    k->deadline = timeout_s > 0 ? k->start + timeout_s : 0;
    self->running_tasks++;
    return BASE_OK;
}

size_t batch_runner_running(const batch_runner_t *self) {
    return self->running_tasks;
}

int batch_runner_wait(batch_runner_t *self, double max_wait_s, size_t *tag, batch_exit_t *ex) {
    double until = batch_now() + max_wait_s;
    for (;;) {
        for (size_t i = 0; i < self->n_kids; i++) {
            child_t *k = &self->kids[i];
            if (k->used && !k->is_service && k->reaped) {
                fill_exit(k, ex);
                *tag = k->tag;
                close_child_fds(k);
                k->used = 0;
                self->running_tasks--;
                return 1;
            }
        }
        if (stopped(self))
            return -1;
        double left = until - batch_now();
        if (left <= 0)
            return 0;
        pump(self, left);
    }
}

void batch_runner_kill_tasks(batch_runner_t *self, double grace_s) {
    double now = batch_now();
    for (size_t i = 0; i < self->n_kids; i++) {
        child_t *k = &self->kids[i];
        if (k->used && !k->is_service && !k->reaped) {
            kill(-k->pid, SIGTERM);
            k->term_sent = 1;
            k->kill_at = now + grace_s;
        }
    }
    for (;;) {
        int alive = 0;
        for (size_t i = 0; i < self->n_kids; i++) {
            child_t *k = &self->kids[i];
            if (k->used && !k->is_service) {
                if (!k->reaped) {
                    alive = 1;
                } else {
                    close_child_fds(k);
                    k->used = 0;
                    self->running_tasks--;
                }
            }
        }
        if (!alive)
            return;
        pump(self, 0.05);
    }
}

void batch_runner_destroy(batch_runner_t **self_p) {
    if (self_p == NULL || *self_p == NULL)
        return;
    batch_runner_t *self = *self_p;
    batch_runner_kill_tasks(self, KILL_GRACE_S);
    double now = batch_now();
    for (size_t i = 0; i < self->n_kids; i++) {
        child_t *k = &self->kids[i];
        if (k->used && k->is_service && !k->reaped) {
            kill(-k->pid, SIGTERM);
            k->term_sent = 1;
            k->kill_at = now + 5.0;
        }
    }
    for (;;) {
        int alive = 0;
        for (size_t i = 0; i < self->n_kids; i++)
            alive |= self->kids[i].used && !self->kids[i].reaped;
        if (!alive)
            break;
        pump(self, 0.05);
    }
    for (size_t i = 0; i < self->n_kids; i++) {
        close_child_fds(&self->kids[i]);
        free_argv(self->kids[i].argv);
        free(self->kids[i].log_path);
        free(self->kids[i].ready);
    }
    free(self->kids);
    free(self);
    *self_p = NULL;
}

void batch_exit_describe(const batch_exit_t *ex, double timeout_s, char *buf, size_t size) {
    switch (ex->status) {
    case BATCH_EXIT_OK:
        snprintf(buf, size, "exit status 0");
        break;
    case BATCH_EXIT_CODE:
        if (ex->last_line[0] != '\0')
            snprintf(buf, size, "exit status %d: %s", ex->code, ex->last_line);
        else
            snprintf(buf, size, "exit status %d", ex->code);
        break;
    case BATCH_EXIT_SIGNAL:
        snprintf(buf, size, "killed by signal %d (%s)", ex->code, strsignal(ex->code));
        break;
    default:
        snprintf(buf, size, "timeout after %g s (killed)", timeout_s);
        break;
    }
}
