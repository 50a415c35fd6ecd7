/* spawn_self.c - run this program's executable again with a clean set of
 * descriptors: 0, 1, 2, then the ones given, and nothing else. On Linux the
 * child borrows this process's memory until it execs (clone with CLONE_VM and
 * CLONE_VFORK), as glibc's posix_spawn does; but posix_spawn's child makes
 * two system calls for every signal, and a system call is dear in a virtual
 * machine: this path made a spawn + join ~10% faster on one. Elsewhere, and
 * when the tests ask, fork+exec with a close-on-exec pipe that carries a
 * failed exec's errno back. A helper of starting children: spawn.c starts
 * children with it, forkserver_client.c the server. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "process/frame.h"
#include "child_signals.h"
#include "posix.h"

extern char **environ;

static bool force_fork_exec;
static char exe_path[PATH_MAX];
static pthread_once_t exe_once = PTHREAD_ONCE_INIT;

void mp_posix_use_fork_exec(bool on)
{
    force_fork_exec = on;
}

bool mp_posix_fork_exec_forced(void)
{
    return force_fork_exec;
}

static void find_exe(void)
{
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = '\0';
}

const char *mp_posix_exe_path(void)
{
    pthread_once(&exe_once, find_exe);
    return exe_path;
}

/* The program to exec: /proc/self/exe names this very binary even if its
 * path has changed since it started. */
static const char *exec_target(void)
{
#ifdef __linux__
    return "/proc/self/exe";
#else
    return mp_posix_exe_path();
#endif
}

/* Signals the parent may ignore or block that the child must not: a
 * terminate must work, and so must the child's own waitpid and writes. */
static void child_signal_defaults(sigset_t *defaults)
{
    sigemptyset(defaults);
    sigaddset(defaults, SIGTERM);
    sigaddset(defaults, SIGPIPE);
    sigaddset(defaults, SIGCHLD);
}

#ifdef __linux__
/* What the borrowing child needs, and where it leaves the errno and the step
 * that failed for the parent thread, which sleeps until the child has
 * exec'd or exited. */
typedef struct vfork_job {
    const char *target;
    char *const *argv;
    const int *fds;
    size_t n;
    sigset_t defaults;
    int err;
    const char *step;
} vfork_job;

/* The child runs on the parent's memory: system calls only. It starts with
 * every signal blocked, so no handler of the parent can run here; before
 * the mask is cleared, each caught signal goes back to its default action
 * (exec would do that, but only after the window). Ignored signals stay
 * ignored across exec, except the defaults. */
static int vfork_child(void *arg)
{
    vfork_job *j = arg;
    mp_posix_reset_signals(&j->defaults);
    int err = mp_posix_renumber_fds(j->fds, j->n) == 0 ? 0 : errno;
    j->step = "moving the passed descriptors into place";
    if (!err) {
        execve(j->target, j->argv, environ);
        err = errno;
        j->step = "exec";
    }
    j->err = err;
    _exit(127);
}

static int by_vfork(char *const argv[], const int *fds, size_t n, pid_t *pid)
{
    /* The child's stack: its frames, the renumbering's table of descriptors
     * and perhaps a lazy symbol binding need a few kilobytes. */
    enum { STACK_SIZE = 64 << 10 };
    char *stack = malloc(STACK_SIZE);
    if (stack == NULL)
        return mp_fail(MP_ENOMEM, "spawn: out of memory");
    vfork_job j = {.target = exec_target(), .argv = argv, .fds = fds, .n = n, .err = 0};
    child_signal_defaults(&j.defaults);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    *pid = clone(vfork_child, stack + STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &j);
    int clone_err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(stack);
    if (*pid < 0)
        return mp_fail_os(MP_ECHILD, clone_err, "spawn: clone");
    if (j.err != 0) {
        while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
            ;
        return mp_fail_os(MP_ECHILD, j.err, "spawn of %s: %s", mp_posix_exe_path(), j.step);
    }
    return MP_OK;
}
#endif

static int by_fork_exec(char *const argv[], const int *given, size_t n, pid_t *pid)
{
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0)
        return mp_fail_os(MP_EOS, errno, "pipe2");
    sigset_t none, defaults;
    sigemptyset(&none);
    child_signal_defaults(&defaults);
    const char *target = exec_target();

    *pid = fork();
    if (*pid == 0) {
        /* Only async-signal-safe calls from here: the parent may have threads. */
        int report_fd = report[1];
        int fds[MP_FRAME_MAX_HANDLES + 2];
        for (size_t i = 0; i < n; i++)
            fds[i] = given[i];
        fds[n] = report_fd;
        int err = 0;
        if (mp_posix_renumber_fds(fds, n + 1) != 0)
            err = errno;
        report_fd = MP_POSIX_FIRST_FD + (int)n;
        fcntl(report_fd, F_SETFD, FD_CLOEXEC);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG && !err; sig++)
            if (sigismember(&defaults, sig) == 1)
                sigaction(sig, &dfl, NULL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (!err) {
            execve(target, argv, environ);
            err = errno;
        }
        while (write(report_fd, &err, sizeof err) < 0 && errno == EINTR)
            ;
        _exit(127);
    }
    int fork_err = errno;
    close(report[1]);
    if (*pid < 0) {
        close(report[0]);
        return mp_fail_os(MP_ECHILD, fork_err, "fork");
    }
    int err = 0;
    ssize_t got;
    while ((got = read(report[0], &err, sizeof err)) < 0 && errno == EINTR)
        ;
    close(report[0]);
    if (got > 0) {
        int status;
        while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
            ;
        return mp_fail_os(MP_ECHILD, err, "exec of %s", mp_posix_exe_path());
    }
    return MP_OK;
}

/* Either child moves the descriptors into place itself
 * (mp_posix_renumber_fds), whatever their numbers here; one that is not
 * open is refused here, where the error can say which. */
int mp_posix_spawn_self(const char *marker, const char *token, const int *fds, size_t n, pid_t *pid)
{
    if (n > MP_FRAME_MAX_HANDLES + 1)
        return mp_fail(MP_ETOOBIG, "spawn: %zu descriptors to pass", n);
    for (size_t i = 0; i < n; i++)
        if (fcntl(fds[i], F_GETFD) < 0)
            return mp_fail_os(MP_EOS, errno, "spawn: descriptor %d", fds[i]);
    char *argv[] = {(char *)mp_posix_exe_path(), (char *)marker, (char *)token, NULL};
#ifdef __linux__
    if (!force_fork_exec)
        return by_vfork(argv, fds, n, pid);
#endif
    return by_fork_exec(argv, fds, n, pid);
}
