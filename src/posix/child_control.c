/* child_control.c - waiting for, signalling and releasing children,
 * whichever start method made them. */
#define _GNU_SOURCE
#include <errno.h>
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

mp_sentinel mp_os_child_sentinel(const mp_os_child *c)
{
    return c->sentinel;
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

static int reap_direct(mp_os_child *c)
{
    int status;
    pid_t got;
    while ((got = waitpid(c->pid, &status, WNOHANG)) < 0 && errno == EINTR)
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

int mp_os_child_wait(mp_os_child *c, double timeout, int *exitcode)
{
    while (!c->reaped) {
        int revents = 0;
        int rc = poll_for(c->sentinel, timeout, &revents);
        if (rc != MP_OK)
            return rc;
        if (revents == 0)
            return MP_ETIMEDOUT;
        rc = c->via_server ? read_statuses(c) : reap_direct(c);
        if (rc != MP_OK && rc != MP_ETIMEDOUT)
            return rc;
    }
    *exitcode = c->exitcode;
    return MP_OK;
}

int mp_os_child_signal(mp_os_child *c, bool kill_it)
{
    if (c->reaped)
        return MP_OK;
    int sig = kill_it ? SIGKILL : SIGTERM;
    if (c->via_server)
        return mp_posix_forkserver_signal(c, sig);
    /* Through the pidfd: never a reused pid. */
    if (mp_posix_pidfd_send_signal(c->sentinel, sig) != 0 && errno != ESRCH)
        return mp_fail_os(MP_EOS, errno, "signalling pid %ld", (long)c->pid);
    return MP_OK;
}

void mp_os_child_free(mp_os_child *c)
{
    if (!c->reaped && !c->via_server)
        reap_direct(c);
    close(c->sentinel);
    free(c);
}
