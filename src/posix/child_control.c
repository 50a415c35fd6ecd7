/* child_control.c - starting, waiting for, signalling and releasing
 * children, whichever start method made them. */
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

bool mp_os_supports(mp_start_method method)
{
    return method == MP_START_FORK || method == MP_START_SPAWN || method == MP_START_FORKSERVER;
}

int mp_os_child_start(const mp_os_start *req, mp_os_child **out)
{
    switch (req->method) {
    case MP_START_FORK:
        return mp_posix_fork_start(req, out);
    case MP_START_SPAWN:
        return mp_posix_spawn_start(req, out);
    case MP_START_FORKSERVER:
        return mp_posix_forkserver_start(req, out);
    default:
        return mp_fail(MP_EINVAL, "start: no start method %d", (int)req->method);
    }
}

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
    for (;;) {
        int ms = mp_posix_poll_ms(deadline);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mp_fail_os(MP_EOS, errno, "poll");
        if (n > 0 || ms == 0) {
            *revents = n > 0 ? p.revents : 0;
            return MP_OK;
        }
    }
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
    c->exitcode = mp_posix_exitcode(status);
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
    c->exitcode = any ? mp_posix_exitcode((int)status) : MP_POSIX_UNKNOWN_EXIT;
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

int mp_os_wait(const mp_sentinel *s, size_t n, double timeout, bool *ready)
{
    struct pollfd *p = calloc(n, sizeof *p);
    if (p == NULL)
        return mp_fail(MP_ENOMEM, "mp_wait: out of memory for %zu sentinels", n);
    for (size_t i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = (int)s[i], .events = POLLIN};
    double deadline = mp_deadline(timeout);
    int rc;
    for (;;) {
        int ms = mp_posix_poll_ms(deadline);
        int got = poll(p, (nfds_t)n, ms);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = mp_fail_os(MP_EOS, errno, "mp_wait: poll");
            break;
        }
        if (got == 0 && ms != 0)
            continue;
        rc = got > 0 ? got : mp_fail(MP_ETIMEDOUT, "mp_wait: nothing ready after %g s", timeout);
        for (size_t i = 0; i < n; i++) {
            ready[i] = p[i].revents != 0;
            if (p[i].revents & POLLNVAL)
                rc = mp_fail(MP_EINVAL, "mp_wait: object %zu (%ld) is not an open descriptor", i, (long)s[i]);
        }
        break;
    }
    free(p);
    return rc;
}
