/* child_control.c - waiting for, signalling and releasing children,
 * whichever start method made them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "posix.h"
#include "base/timeout.h"

long mp_os_child_pid(const mp_os_child *c)
{
    return (long)c->pid;
}

/* A fork child's pidfd is made on first need (its sentinel, a timed join),
 * not at start: a start that is only joined then costs no system call but
 * fork and waitpid. Made late, it is as sure to be this child's: until we
 * reap the child, its zombie keeps the pid from being reused. */
static int open_sentinel(mp_os_child *c)
{
    if (c->sentinel >= 0)
        return MP_OK;
    if (c->reaped) {
        /* Gone already: a pipe whose writer is closed is ready for good. */
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            return mp_fail_os(MP_EOS, errno, "the sentinel of pid %ld: pipe", (long)c->pid);
        close(fds[1]);
        c->sentinel = fds[0];
        return MP_OK;
    }
    c->sentinel = mp_posix_pidfd_open(c->pid);
    if (c->sentinel < 0)
        return mp_fail_os(MP_EOS, errno, "the sentinel of pid %ld: pidfd_open", (long)c->pid);
    return MP_OK;
}

int mp_os_child_sentinel(mp_os_child *c, mp_sentinel *out)
{
    int rc = open_sentinel(c);
    if (rc == MP_OK)
        *out = c->sentinel;
    return rc;
}

/* poll with a timeout in seconds, resumed after signals on a monotonic
 * deadline. Returns the revents, 0 on timeout. */
static int poll_for(int fd, double timeout, int *revents)
{
    double deadline = mp_deadline(timeout);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = mp_posix_poll_until(&p, 1, deadline);
    if (n < 0)
        return n;
    *revents = n > 0 ? p.revents : 0;
    return MP_OK;
}

/* Python's exit code for a wait status: the code, or -signal. */
static int python_exitcode(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return -WTERMSIG(status);
    return -1000;
}

/* waitpid with options (WNOHANG or 0): MP_ETIMEDOUT if it has not ended. */
static int reap_direct(mp_os_child *c, int options)
{
    int status;
    pid_t got;
    while ((got = waitpid(c->pid, &status, options)) < 0 && errno == EINTR)
        ;
    if (got < 0)
        return mp_fail_os(MP_EOS, errno, "waitpid(%ld)", (long)c->pid);
    if (got == 0)
        return MP_ETIMEDOUT;
    c->exitcode = python_exitcode(status);
    c->reaped = true;
    return MP_OK;
}

/* A forkserver child's status pipe carries wait statuses, 4 bytes each:
 * the child's own as it exits, then the server's when it reaps the child.
 * The last before the end of file counts (forkserver.h). None at all: the
 * server died and the child ended without a word (a signal, _exit): 255, as
 * Python's forkserver reads it. */
static int read_statuses(mp_os_child *c)
{
    bool any = false;
    uint32_t status = 0;
    for (;;) {
        unsigned char raw[4];
        int rc = mp_posix_read_all(c->sentinel, raw, sizeof raw);
        if (rc == MP_EEOF)
            break;
        if (rc != MP_OK)
            return rc;
        status = 0;
        for (int i = 0; i < 4; i++)
            status |= (uint32_t)raw[i] << (8 * i);
        any = true;
    }
    c->exitcode = any ? python_exitcode((int)status) : MP_POSIX_UNKNOWN_EXIT;
    c->reaped = true;
    return MP_OK;
}

/* Forever is a plain waitpid and a poll is WNOHANG; only a wait with a
 * time limit needs the pidfd. */
static int wait_direct(mp_os_child *c, double timeout)
{
    if (mp_timeout_forever(timeout))
        return reap_direct(c, 0);
    double deadline = mp_deadline(timeout);
    int rc = reap_direct(c, WNOHANG);
    if (rc != MP_ETIMEDOUT || mp_timeout_polls(timeout) || (rc = open_sentinel(c)) != MP_OK)
        return rc;
    for (;;) {
        struct pollfd p = {.fd = c->sentinel, .events = POLLIN};
        int n = mp_posix_poll_until(&p, 1, deadline);
        if (n <= 0)
            return n == 0 ? MP_ETIMEDOUT : n;
        rc = reap_direct(c, WNOHANG);
        if (rc != MP_ETIMEDOUT)
            return rc;
    }
}

static int wait_server_child(mp_os_child *c, double timeout)
{
    while (!c->reaped) {
        int revents = 0;
        int rc = poll_for(c->sentinel, timeout, &revents);
        if (rc != MP_OK)
            return rc;
        if (revents == 0)
            return MP_ETIMEDOUT;
        rc = read_statuses(c);
        if (rc != MP_OK)
            return rc;
    }
    return MP_OK;
}

int mp_os_child_wait(mp_os_child *c, double timeout, int *exitcode)
{
    int rc = MP_OK;
    if (!c->reaped)
        rc = c->via_server ? wait_server_child(c, timeout) : wait_direct(c, timeout);
    if (rc == MP_OK)
        *exitcode = c->exitcode;
    return rc;
}

int mp_os_child_signal(mp_os_child *c, bool kill_it)
{
    if (c->reaped)
        return MP_OK;
    int sig = kill_it ? SIGKILL : SIGTERM;
    if (c->via_server)
        return mp_posix_forkserver_signal(c, sig);
    /* Through the pidfd if there is one; else by pid, which is still this
     * child's: it is not reaped yet (open_sentinel). */
    int sent = c->sentinel >= 0 ? mp_posix_pidfd_send_signal(c->sentinel, sig) : kill(c->pid, sig);
    if (sent != 0 && errno != ESRCH)
        return mp_fail_os(MP_EOS, errno, "signalling pid %ld", (long)c->pid);
    return MP_OK;
}

void mp_os_child_free(mp_os_child *c)
{
    if (!c->reaped && !c->via_server)
        reap_direct(c, WNOHANG);
    if (c->sentinel >= 0)
        close(c->sentinel);
    free(c);
}
