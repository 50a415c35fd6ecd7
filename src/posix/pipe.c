/* pipe.c - the two ends of a Pipe: a Unix socketpair either way, so that
 * writes use MSG_NOSIGNAL and a closed peer is an error, never SIGPIPE.
 * A one-way pipe shuts down the directions it does not use. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "posix.h"
#include "base/timeout.h"

int mp_os_pipe(bool duplex, mp_os_handle *r, mp_os_handle *w)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return mp_fail_os(MP_EOS, errno, "socketpair");
    if (!duplex) {
        shutdown(sv[0], SHUT_WR);
        shutdown(sv[1], SHUT_RD);
    }
    *r = sv[0];
    *w = sv[1];
    return MP_OK;
}

int mp_os_pipe_write(mp_os_handle h, const void *buf, size_t len)
{
    return mp_posix_write_all((int)h, buf, len);
}

int mp_os_pipe_read(mp_os_handle h, void *buf, size_t len)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t n = read((int)h, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != ECONNRESET)
            return mp_fail_os(MP_EOS, errno, "read");
        if (n <= 0 && done == 0)
            return mp_fail(MP_EEOF, "the other end of the pipe is closed");
        if (n <= 0)
            return mp_fail(MP_EPROTO, "the other end closed the pipe %zu bytes into a %zu-byte read", done, len);
        done += (size_t)n;
    }
    return MP_OK;
}

int mp_os_pipe_read_some(mp_os_handle h, void *buf, size_t cap, size_t *got)
{
    for (;;) {
        ssize_t n = read((int)h, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != ECONNRESET)
            return mp_fail_os(MP_EOS, errno, "read");
        if (n <= 0)
            return mp_fail(MP_EEOF, "the other end of the pipe is closed");
        *got = (size_t)n;
        return MP_OK;
    }
}

void mp_os_pipe_shutdown(mp_os_handle h)
{
    (void)shutdown((int)h, SHUT_RDWR); /* ENOTSOCK for a plain pipe: nothing to wake */
}

int mp_os_pipe_poll(mp_os_handle h, double timeout)
{
    struct pollfd p = {.fd = (int)h, .events = POLLIN};
    double deadline = mp_deadline(timeout);
    int got = mp_posix_poll_until(&p, 1, deadline);
    if (got < 0)
        return got;
    if (p.revents & POLLNVAL)
        return mp_fail(MP_EINVAL, "poll: not an open descriptor");
    return got > 0 ? MP_OK : MP_ETIMEDOUT;
}
