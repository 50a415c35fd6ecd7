/* spawn_self.c - run this program's executable again with a clean set of
 * descriptors: 0, 1, 2, then the ones given, and nothing else. posix_spawn
 * does it where it can close the rest (glibc >= 2.34); otherwise fork+exec
 * with a close-on-exec pipe that carries a failed exec's errno back. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errors.h"
#include "frame.h"
#include "posix.h"

extern char **environ;

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_SPAWN_CLOSEFROM 1
#endif

static bool force_fork_exec;
static char exe_path[PATH_MAX];
static pthread_once_t exe_once = PTHREAD_ONCE_INIT;

void mp_posix_use_fork_exec(bool on)
{
    force_fork_exec = on;
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

#ifdef HAVE_SPAWN_CLOSEFROM
static int by_posix_spawn(char *const argv[], const int *high, size_t n, pid_t *pid)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    sigset_t none, defaults;
    sigemptyset(&none);
    child_signal_defaults(&defaults);
    int err = posix_spawn_file_actions_init(&actions);
    if (err)
        return mp_fail_os(MP_EOS, err, "posix_spawn_file_actions_init");
    if ((err = posix_spawnattr_init(&attr)) != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return mp_fail_os(MP_EOS, err, "posix_spawnattr_init");
    }
    for (size_t i = 0; i < n && !err; i++)
        err = posix_spawn_file_actions_adddup2(&actions, high[i], MP_POSIX_FIRST_FD + (int)i);
    if (!err)
        err = posix_spawn_file_actions_addclosefrom_np(&actions, MP_POSIX_FIRST_FD + (int)n);
    if (!err)
        err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!err)
        err = posix_spawnattr_setsigmask(&attr, &none);
    if (!err)
        err = posix_spawnattr_setsigdefault(&attr, &defaults);
    if (!err)
        err = posix_spawn(pid, exec_target(), &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (err)
        return mp_fail_os(MP_ECHILD, err, "posix_spawn of %s", mp_posix_exe_path());
    return MP_OK;
}
#endif

static int by_fork_exec(char *const argv[], const int *high, size_t n, pid_t *pid)
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
            fds[i] = high[i];
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

int mp_posix_spawn_self(const char *marker, const char *token, const int *fds, size_t n, pid_t *pid)
{
    if (n > MP_FRAME_MAX_HANDLES + 1)
        return mp_fail(MP_ETOOBIG, "spawn: %zu descriptors to pass", n);
    /* Copies above the target range, close-on-exec: whatever the numbers of
     * the originals, moving them into place cannot clobber one another. */
    int high[MP_FRAME_MAX_HANDLES + 1];
    int base = MP_POSIX_FIRST_FD + (int)n + 1;
    int rc = MP_OK;
    size_t made = 0;
    for (; made < n; made++) {
        high[made] = fcntl(fds[made], F_DUPFD_CLOEXEC, base);
        if (high[made] < 0) {
            rc = mp_fail_os(MP_EOS, errno, "spawn: duplicating descriptor %d", fds[made]);
            break;
        }
    }
    if (rc == MP_OK) {
        char *argv[] = {(char *)mp_posix_exe_path(), (char *)marker, (char *)token, NULL};
#ifdef HAVE_SPAWN_CLOSEFROM
        if (!force_fork_exec)
            rc = by_posix_spawn(argv, high, n, pid);
        else
#endif
            rc = by_fork_exec(argv, high, n, pid);
    }
    for (size_t i = 0; i < made; i++)
        close(high[i]);
    return rc;
}
