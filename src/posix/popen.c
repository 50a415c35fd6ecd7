/* popen.c - external programs on POSIX (platform.h, "external programs").
 *
 * Start: a vfork-style clone on Linux (fork elsewhere: start_child), then
 * in the child only system calls: a process group of its own (setpgid, or
 * setsid for a new session), the three standard descriptors put in place,
 * every other descriptor closed but the report pipe, signal dispositions
 * and the mask reset, chdir, then execve of each PATH candidate prepared
 * by the parent (the search is done before the child starts, so it needs
 * no malloc). The report pipe is close-on-exec: end of file says the exec
 * worked; otherwise the child writes {step, errno} and exits, and the
 * parent reaps it and fails.
 *
 * Exit is watched through a pidfd (waitpid polling where there is none),
 * never through end of file on the pipes.
 *
 * SIGPIPE: the stdin pipe is a real pipe (programs may check), so a write
 * to a program that has gone raises SIGPIPE. Each write blocks SIGPIPE in
 * the calling thread, and after an EPIPE takes the signal it caused off the
 * thread's pending set with sigtimedwait (unless one was pending already,
 * which is then not ours to take), then restores the mask. So no handler
 * of the application runs and the process never dies of it, whatever its
 * disposition, and other threads are not affected. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "child_signals.h"
#include "posix.h"

extern char **environ;

struct mp_os_program {
    pid_t pid;
    int pidfd; /* -1 where the kernel has no pidfd */
    pthread_mutex_t lock;
    bool reaped;
    int returncode;
};

/* ---- writing without SIGPIPE, reading ---------------------------------- */

static ssize_t write_quiet(int fd, const void *data, size_t len)
{
    sigset_t pipe_only, old, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    sigemptyset(&pending);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE) == 1;
    ssize_t n = write(fd, data, len);
    int err = errno;
    if (n < 0 && err == EPIPE && !was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_only, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return n;
}

static int wait_fd(int fd, short events, double deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n = mp_posix_poll_until(&p, 1, deadline);
    if (n < 0)
        return n;
    return n == 0 ? MP_ETIMEDOUT : MP_OK;
}

int mp_os_stream_write(mp_os_handle h, const void *data, size_t len, double timeout, size_t *written)
{
    int fd = (int)h;
    const char *p = data;
    size_t done = 0;
    double deadline = mp_deadline(timeout);
    int rc = MP_OK;
    while (done < len) {
        ssize_t n = write_quiet(fd, p + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            rc = wait_fd(fd, POLLOUT, deadline);
            if (rc == MP_ETIMEDOUT) {
                rc = mp_fail(MP_ETIMEDOUT, "mp_popen_write: %zu of %zu bytes went in time", done, len);
                break;
            }
            if (rc != MP_OK)
                break;
            continue;
        }
        rc = errno == EPIPE ? mp_fail(MP_EEOF, "mp_popen_write: the program has closed its stdin")
                            : mp_fail_os(MP_EOS, errno, "mp_popen_write");
        break;
    }
    *written = done;
    return rc;
}

int mp_os_stream_read(mp_os_handle h, void *buf, size_t cap, double timeout, size_t *got)
{
    int fd = (int)h;
    double deadline = mp_deadline(timeout);
    *got = 0;
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n > 0) {
            *got = (size_t)n;
            return MP_OK;
        }
        if (n == 0)
            return mp_fail(MP_EEOF, "end of file from the program");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return mp_fail_os(MP_EOS, errno, "reading from the program");
        int rc = wait_fd(fd, POLLIN, deadline);
        if (rc == MP_ETIMEDOUT)
            return mp_fail(MP_ETIMEDOUT, "nothing from the program after %g s", timeout);
        if (rc != MP_OK)
            return rc;
    }
}

#define PUMP_CHUNK (64 * 1024)

/* Who a pollfd of the pump stands for, besides out[0] and out[1]. */
enum { PUMP_IN = -1, PUMP_WATCH = -2 };

/* The pump's stdin is done: all written, or the program closed its end. */
static void finish_in(mp_os_pump *p)
{
    p->in_done = true;
    if (!p->keep_in) {
        close((int)p->in);
        p->in = MP_OS_NO_HANDLE;
    }
}

/* Move bytes for the descriptors poll found ready. *gather: a small read
 * of out[0] came and more is wanted (mp_os_pump's coalesce). */
static int pump_ready(mp_os_pump *p, const struct pollfd *fds, const int *who, nfds_t n, char *buf, bool *ended,
                      bool *gather)
{
    int rc = MP_OK;
    for (nfds_t k = 0; k < n && rc == MP_OK; k++) {
        if (fds[k].revents == 0)
            continue;
        if (who[k] == PUMP_WATCH) {
            *ended = true;
            continue;
        }
        if (who[k] == PUMP_IN) {
            size_t left = p->input_len - p->input_done;
            ssize_t w = left == 0 ? 0 : write_quiet((int)p->in, p->input + p->input_done, left);
            if (w > 0)
                p->input_done += (size_t)w;
            else if (w < 0 && errno == EPIPE)
                finish_in(p); /* the program closed it: as Python, no error */
            else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                rc = mp_fail_os(MP_EOS, errno, "writing the program's stdin");
            if (!p->in_done && p->input_done == p->input_len)
                finish_in(p);
            continue;
        }
        ssize_t r = read((int)p->out[who[k]], buf, PUMP_CHUNK);
        if (r > 0) {
            rc = p->sink(p->ctx, who[k], buf, (size_t)r);
            *gather = rc == MP_OK && who[k] == 0 && r < MP_OS_PUMP_SMALL_READ;
        } else if (r == 0)
            p->eof[who[k]] = true;
        else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            rc = mp_fail_os(MP_EOS, errno, "reading the program's output");
    }
    return rc;
}

int mp_os_stream_pump(mp_os_pump *p, double timeout)
{
    double deadline = mp_deadline(timeout);
    char *buf = malloc(PUMP_CHUNK);
    if (buf == NULL)
        return mp_fail(MP_ENOMEM, "the program's pipes: out of memory");
    if (p->in == MP_OS_NO_HANDLE)
        p->in_done = true;
    else if (p->in_done || p->input_done == p->input_len)
        finish_in(p);
    for (int i = 0; i < 2; i++)
        if (p->out[i] == MP_OS_NO_HANDLE)
            p->eof[i] = true;
    /* Once the watched program has ended, only what its pipes already
     * hold is read: the polls no longer wait. */
    bool ended = false, gather = false;
    int rc = MP_OK;
    while (rc == MP_OK && !(p->in_done && p->eof[0] && p->eof[1]) && !(p->keep_in && p->eof[0])) {
        if (gather && p->coalesce > 0 && !ended) {
            double left = deadline - mp_os_monotonic();
            mp_os_sleep(left < p->coalesce ? left : p->coalesce);
        }
        gather = false;
        struct pollfd fds[4];
        int who[4];
        nfds_t n = 0;
        if (!p->in_done) {
            fds[n] = (struct pollfd){.fd = (int)p->in, .events = POLLOUT};
            who[n++] = PUMP_IN;
        }
        for (int i = 0; i < 2; i++)
            if (!p->eof[i]) {
                fds[n] = (struct pollfd){.fd = (int)p->out[i], .events = POLLIN};
                who[n++] = i;
            }
        if (p->watch != NULL && !ended) {
            fds[n] = (struct pollfd){.fd = (int)*p->watch, .events = POLLIN};
            who[n++] = PUMP_WATCH;
        }
        int ready = mp_posix_poll_until(fds, n, ended ? mp_os_monotonic() : deadline);
        if (ready < 0) {
            rc = ready;
            break;
        }
        if (ready == 0) {
            rc = ended ? mp_fail(MP_ECHILD, "the program has ended")
                       : mp_fail(MP_ETIMEDOUT, "the program did not answer within %g s", timeout);
            break;
        }
        rc = pump_ready(p, fds, who, n, buf, &ended, &gather);
    }
    free(buf);
    return rc > 0 ? MP_OK : rc;
}

/* ---- starting ------------------------------------------------------------ */

/* What the child reports before it exits 127: which step failed. */
enum { STEP_EXEC = 1, STEP_CHDIR = 2, STEP_FDS = 3, STEP_GROUP = 4 };
typedef struct report {
    int step;
    int err;
} report;

static void free_strv(char **v)
{
    if (v == NULL)
        return;
    for (char **s = v; *s != NULL; s++)
        free(*s);
    free(v);
}

static size_t name_len(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq == NULL ? strlen(entry) : (size_t)(eq - entry);
}

/* The child's environment as one malloc'd vector of malloc'd strings. */
static int build_env(const mp_os_program_req *req, char ***out)
{
    size_t nbase = 0, nextra = 0;
    const char *const *base = req->env_mode == MP_ENV_REPLACE ? NULL : (const char *const *)environ;
    for (; base != NULL && base[nbase] != NULL; nbase++)
        ;
    for (; req->env != NULL && req->env[nextra] != NULL; nextra++)
        ;
    if (req->env_mode == MP_ENV_INHERIT)
        nextra = 0;
    char **v = calloc(nbase + nextra + 1, sizeof *v);
    if (v == NULL)
        return mp_fail(MP_ENOMEM, "mp_popen_new: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < nbase; i++) {
        bool replaced = false;
        size_t len = name_len(base[i]);
        for (size_t k = 0; k < nextra && !replaced; k++)
            replaced = name_len(req->env[k]) == len && strncmp(req->env[k], base[i], len) == 0;
        if (!replaced && (v[n++] = strdup(base[i])) == NULL)
            goto oom;
    }
    for (size_t k = 0; k < nextra; k++) {
        bool later = false; /* the last of duplicate names wins */
        size_t len = name_len(req->env[k]);
        for (size_t j = k + 1; j < nextra && !later; j++)
            later = name_len(req->env[j]) == len && strncmp(req->env[j], req->env[k], len) == 0;
        if (!later && (v[n++] = strdup(req->env[k])) == NULL)
            goto oom;
    }
    *out = v;
    return MP_OK;
oom:
    free_strv(v);
    return mp_fail(MP_ENOMEM, "mp_popen_new: out of memory");
}

/* The paths execve tries, in order: argv[0] itself when it holds a '/',
 * else each directory of the child's PATH (its environment's, or
 * "/bin:/usr/bin" as execvp's default) joined with it. */
static int candidates(const char *prog, char *const *envp, char ***out)
{
    if (strchr(prog, '/') != NULL) {
        char **v = calloc(2, sizeof *v);
        if (v == NULL || (v[0] = strdup(prog)) == NULL) {
            free(v);
            return mp_fail(MP_ENOMEM, "mp_popen_new: out of memory");
        }
        *out = v;
        return MP_OK;
    }
    const char *path = "/bin:/usr/bin";
    for (char *const *e = envp; *e != NULL; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    size_t ndirs = 1;
    for (const char *c = path; *c; c++)
        ndirs += *c == ':';
    char **v = calloc(ndirs + 1, sizeof *v);
    if (v == NULL)
        return mp_fail(MP_ENOMEM, "mp_popen_new: out of memory");
    size_t n = 0, plen = strlen(prog);
    for (const char *dir = path;;) {
        const char *end = strchr(dir, ':');
        size_t dlen = end == NULL ? strlen(dir) : (size_t)(end - dir);
        char *s = malloc(dlen + plen + 2);
        if (s == NULL) {
            free_strv(v);
            return mp_fail(MP_ENOMEM, "mp_popen_new: out of memory");
        }
        if (dlen == 0) /* an empty entry is the current directory */
            memcpy(s, prog, plen + 1);
        else {
            memcpy(s, dir, dlen);
            s[dlen] = '/';
            memcpy(s + dlen + 1, prog, plen + 1);
        }
        v[n++] = s;
        if (end == NULL)
            break;
        dir = end + 1;
    }
    *out = v;
    return MP_OK;
}

static void child_report(int fd, int step, int err)
{
    report r = {step, err};
    while (write(fd, &r, sizeof r) < 0 && errno == EINTR)
        ;
    _exit(127);
}

/* In the child: only async-signal-safe calls. src[i] is what becomes fd i,
 * -1 to keep this process's. */
static void child_main(const mp_os_program_req *req, const int src[3], bool merge, int report_fd,
                       char *const *argv, char *const *envp, char *const *paths)
{
    if ((req->new_session ? setsid() : setpgid(0, 0)) < 0)
        child_report(report_fd, STEP_GROUP, errno);
    int high[3];
    for (int i = 0; i < 3; i++) {
        high[i] = -1;
        if (src[i] >= 0 && (high[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3)) < 0)
            child_report(report_fd, STEP_FDS, errno);
    }
    for (int i = 0; i < 3; i++)
        if (high[i] >= 0 && dup2(high[i], i) < 0)
            child_report(report_fd, STEP_FDS, errno);
    if (merge && dup2(1, 2) < 0)
        child_report(report_fd, STEP_FDS, errno);
    /* The report pipe goes to 3 and everything above it is closed. */
    if (mp_posix_renumber_fds(&report_fd, 1) != 0)
        child_report(report_fd, STEP_FDS, errno);
    report_fd = MP_POSIX_FIRST_FD;
    fcntl(report_fd, F_SETFD, FD_CLOEXEC);

    /* Python's restore_signals: SIGPIPE and SIGXFSZ back to default. */
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    mp_posix_reset_signals(&defaults);

    if (req->cwd != NULL && chdir(req->cwd) != 0)
        child_report(report_fd, STEP_CHDIR, errno);
    int saved = 0;
    for (char *const *p = paths; *p != NULL; p++) {
        execve(*p, argv, envp);
        if (errno != ENOENT && errno != ENOTDIR && saved == 0)
            saved = errno;
    }
    child_report(report_fd, STEP_EXEC, saved != 0 ? saved : errno);
}

/* What child_main needs, for the child that borrows this process's memory. */
typedef struct child_job {
    const mp_os_program_req *req;
    const int *src;
    bool merge;
    int report_fd;
    char *const *argv, *const *envp, *const *paths;
} child_job;

#ifdef __linux__
static int borrowing_child(void *arg)
{
    const child_job *j = arg;
    child_main(j->req, j->src, j->merge, j->report_fd, j->argv, j->envp, j->paths);
    return 127; /* not reached: child_main execs or exits */
}
#endif

/* Start the child running child_main; its pid, or -1 with errno. On Linux
 * the child borrows this process's memory until it execs (clone with
 * CLONE_VM and CLONE_VFORK, as glibc's posix_spawn and spawn_self.c do):
 * no page table to copy, and no copy-on-write fault in either process
 * afterwards, which is most of a fork's cost in a virtual machine. This
 * thread sleeps until the child has exec'd or exited. child_main makes
 * system calls only, and everything it reads (argv, envp, paths, req)
 * stays put meanwhile. Elsewhere, and when the tests ask
 * (mp_posix_use_fork_exec), fork. */
static pid_t start_child(const child_job *j)
{
#ifdef __linux__
    if (!mp_posix_fork_exec_forced()) {
        /* The child's stack: child_main's frames and the renumbering's table. */
        enum { STACK_SIZE = 64 << 10 };
        char *stack = malloc(STACK_SIZE);
        if (stack == NULL) {
            errno = ENOMEM;
            return -1;
        }
        pid_t pid = clone(borrowing_child, stack + STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, (void *)j);
        int err = errno;
        free(stack);
        errno = err;
        return pid;
    }
#endif
    pid_t pid = fork();
    if (pid == 0)
        child_main(j->req, j->src, j->merge, j->report_fd, j->argv, j->envp, j->paths);
    return pid;
}

static int start_error(const mp_os_program_req *req, report r)
{
    int code = r.err == ENOENT || r.err == ENOTDIR ? MP_ENOENT
               : r.err == EACCES || r.err == EPERM ? MP_EPERM
                                                   : MP_ECHILD;
    switch (r.step) {
    case STEP_CHDIR:
        return mp_fail_os(code, r.err, "mp_popen_new: cannot change to directory '%s'", req->cwd);
    case STEP_EXEC:
        return mp_fail_os(code, r.err, "mp_popen_new: cannot run '%s'", req->argv[0]);
    case STEP_GROUP:
        return mp_fail_os(MP_ECHILD, r.err, "mp_popen_new: setsid/setpgid for '%s'", req->argv[0]);
    default:
        return mp_fail_os(MP_ECHILD, r.err, "mp_popen_new: setting up the descriptors of '%s'", req->argv[0]);
    }
}

/* fds made for the child: its ends and /dev/null, closed once it exists. */
typedef struct made_fds {
    int child_end[3];
    int devnull;
} made_fds;

static void close_made(made_fds *m)
{
    for (int i = 0; i < 3; i++)
        if (m->child_end[i] >= 0)
            close(m->child_end[i]);
    if (m->devnull >= 0)
        close(m->devnull);
    m->devnull = -1;
    for (int i = 0; i < 3; i++)
        m->child_end[i] = -1;
}

static int make_streams(const mp_os_program_req *req, made_fds *m, int src[3], mp_os_handle pipes[3])
{
    for (int i = 0; i < 3; i++) {
        src[i] = -1;
        pipes[i] = MP_OS_NO_HANDLE;
        if (req->stdio[i] == MP_STDIO_DEVNULL) {
            if (m->devnull < 0 && (m->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
                return mp_fail_os(MP_EOS, errno, "mp_popen_new: /dev/null");
            src[i] = m->devnull;
        } else if (req->stdio[i] == MP_STDIO_PIPE) {
            int fd[2];
            if (pipe2(fd, O_CLOEXEC) != 0)
                return mp_fail_os(MP_EOS, errno, "mp_popen_new: pipe");
            int mine = i == 0 ? fd[1] : fd[0], theirs = i == 0 ? fd[0] : fd[1];
            pipes[i] = mine;
            m->child_end[i] = theirs;
            src[i] = theirs;
            if (fcntl(mine, F_SETFL, fcntl(mine, F_GETFL) | O_NONBLOCK) != 0)
                return mp_fail_os(MP_EOS, errno, "mp_popen_new: O_NONBLOCK");
        }
    }
    return MP_OK;
}

int mp_os_program_start(const mp_os_program_req *req, mp_os_program **out, mp_os_handle pipes[3])
{
    *out = NULL;
    mp_os_program *p = calloc(1, sizeof *p);
    if (p == NULL)
        return mp_fail(MP_ENOMEM, "mp_popen_new: out of memory");
    p->pidfd = -1;
    char **envp = NULL, **paths = NULL;
    made_fds m = {{-1, -1, -1}, -1};
    int src[3];
    int rep[2] = {-1, -1};
    int rc = build_env(req, &envp);
    if (rc == MP_OK)
        rc = candidates(req->argv[0], envp, &paths);
    if (rc == MP_OK)
        rc = make_streams(req, &m, src, pipes);
    if (rc == MP_OK && pipe2(rep, O_CLOEXEC) != 0)
        rc = mp_fail_os(MP_EOS, errno, "mp_popen_new: pipe");
    if (rc != MP_OK)
        goto fail;

    /* No handler of this process may run in the child before it resets
     * them: every signal is blocked across the start (the child clears it). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    child_job job = {.req = req,
                     .src = src,
                     .merge = req->stdio[2] == MP_STDIO_STDOUT,
                     .report_fd = rep[1],
                     .argv = (char *const *)req->argv,
                     .envp = envp,
                     .paths = paths};
    pid_t pid = start_child(&job);
    int start_err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(rep[1]);
    close_made(&m);
    if (pid < 0) {
        rc = mp_fail_os(MP_ECHILD, start_err, "mp_popen_new: starting the child (clone or fork)");
        goto fail;
    }
    report r;
    ssize_t got;
    while ((got = read(rep[0], &r, sizeof r)) < 0 && errno == EINTR)
        ;
    close(rep[0]);
    rep[0] = -1;
    if (got != 0) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        if (got != (ssize_t)sizeof r)
            r = (report){STEP_FDS, EIO};
        rc = start_error(req, r);
        goto fail;
    }
    p->pid = pid;
    p->pidfd = mp_posix_pidfd_open(pid);
    pthread_mutex_init(&p->lock, NULL);
    free_strv(envp);
    free_strv(paths);
    *out = p;
    return MP_OK;

fail:
    for (int i = 0; i < 3; i++)
        if (pipes[i] != MP_OS_NO_HANDLE) {
            close((int)pipes[i]);
            pipes[i] = MP_OS_NO_HANDLE;
        }
    close_made(&m);
    if (rep[0] >= 0)
        close(rep[0]);
    free_strv(envp);
    free_strv(paths);
    free(p);
    return rc;
}

long mp_os_program_pid(const mp_os_program *p)
{
    return (long)p->pid;
}

int mp_os_program_sentinel(const mp_os_program *p, mp_sentinel *out)
{
    if (p->pidfd < 0)
        return mp_fail(MP_EUNSUPPORTED, "mp_popen_sentinel: this kernel has no pidfd");
    *out = p->pidfd;
    return MP_OK;
}

static int returncode_of(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return -1000;
}

/* Reap if it has ended; under p->lock. */
static int try_reap(mp_os_program *p)
{
    if (p->reaped)
        return MP_OK;
    int status;
    pid_t got;
    while ((got = waitpid(p->pid, &status, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (got < 0)
        return mp_fail_os(MP_EOS, errno, "waitpid(%ld)", (long)p->pid);
    if (got == 0)
        return MP_ETIMEDOUT;
    p->returncode = returncode_of(status);
    p->reaped = true;
    return MP_OK;
}

int mp_os_program_wait(mp_os_program *p, double timeout, int *returncode)
{
    double deadline = mp_deadline(timeout);
    double nap = 0.001;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        int rc = try_reap(p);
        if (rc == MP_OK)
            *returncode = p->returncode;
        pthread_mutex_unlock(&p->lock);
        if (rc != MP_ETIMEDOUT)
            return rc;
        double left = mp_time_left(deadline);
        if (!(left > 0))
            return mp_fail(MP_ETIMEDOUT, "the program (pid %ld) still runs after %g s", (long)p->pid, timeout);
        if (p->pidfd >= 0) {
            rc = wait_fd(p->pidfd, POLLIN, deadline);
            if (rc != MP_OK && rc != MP_ETIMEDOUT)
                return rc;
        } else {
            mp_os_sleep(left < nap ? left : nap);
            nap = nap * 2 > 0.05 ? 0.05 : nap * 2;
        }
    }
}

int mp_os_program_signal(mp_os_program *p, int sig)
{
    int rc = MP_OK;
    pthread_mutex_lock(&p->lock);
    /* Not reaped, so the pid is still ours (a zombie at worst). */
    if (!p->reaped && kill(p->pid, sig) != 0 && errno != ESRCH)
        rc = mp_fail_os(errno == EINVAL ? MP_EINVAL : MP_EOS, errno, "signal %d to pid %ld", sig, (long)p->pid);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void mp_os_program_free(mp_os_program *p)
{
    if (p == NULL)
        return;
    if (!p->reaped && try_reap(p) != MP_OK) {
        /* Still running (or a zombie, whose group id is still reserved):
         * the group, then the program itself in case it left the group. */
        killpg(p->pid, SIGKILL);
        kill(p->pid, SIGKILL);
        int status;
        while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (p->pidfd >= 0)
        close(p->pidfd);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
