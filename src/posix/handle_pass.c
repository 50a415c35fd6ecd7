/* handle_pass.c - a descriptor passed over a connection: SCM_RIGHTS on an
 * AF_UNIX stream socket. The descriptor is attached to the first byte of
 * its message's frame, so a reader that takes frames whole, as conn.c
 * does, never reads into it by accident; one that reads it with plain
 * read() (recv on a handle message) gets the bytes and the kernel closes
 * the descriptor, so nothing leaks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "posix.h"

/* Room for this many descriptors in one read: one is expected; a peer that
 * attaches more still has them all received, and closed. */
#define CONTROL_FDS 16

int mp_os_handle_carrier(mp_os_handle conn, bool duplex)
{
    int domain = 0, type = 0;
    socklen_t n = sizeof domain, m = sizeof type;
    bool unix_stream = getsockopt((int)conn, SOL_SOCKET, SO_DOMAIN, &domain, &n) == 0 &&
                       getsockopt((int)conn, SOL_SOCKET, SO_TYPE, &type, &m) == 0 && domain == AF_UNIX &&
                       type == SOCK_STREAM;
    if (!unix_stream)
        return mp_fail(MP_EUNSUPPORTED, "only a duplex Pipe or a unix: connection can carry a descriptor "
                                        "(SCM_RIGHTS needs an AF_UNIX socket)");
    if (!duplex)
        return mp_fail(MP_EUNSUPPORTED, "a one-way Pipe cannot carry a descriptor (it is a plain pipe, as "
                                        "Python's); use a duplex one");
    return MP_OK;
}

int mp_os_handle_export(mp_os_handle h, long pid, uint64_t *value)
{
    (void)pid;
    if (h < 0 || h > INT32_MAX || fcntl((int)h, F_GETFD) < 0)
        return mp_fail(MP_EINVAL, "%lld is not an open descriptor", (long long)h);
    *value = 0;
    return MP_OK;
}

void mp_os_handle_unexport(long pid, uint64_t value)
{
    (void)pid, (void)value;
}

int mp_os_handle_write(mp_os_handle conn, bool socket, const void *frame, size_t len, mp_os_handle h)
{
    (void)socket;
    int fd = (int)h;
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {(void *)frame, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof fd);
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    ssize_t sent;
    while ((sent = sendmsg((int)conn, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (sent < 0)
        return mp_fail_os(errno == EPIPE || errno == ECONNRESET ? MP_EEOF : MP_EOS, errno, "sendmsg(SCM_RIGHTS)");
    /* The descriptor went with the first byte; what a short send left is
     * plain bytes. */
    return mp_posix_write_all((int)conn, (const char *)frame + sent, len - (size_t)sent);
}

/* Keep the descriptors of msg's control messages, closing those past cap. */
static void take_fds(struct msghdr *msg, mp_os_handle *fds, size_t cap, size_t *n)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL; cm = CMSG_NXTHDR(msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof fd, sizeof fd);
            if (*n < cap)
                fds[(*n)++] = fd;
            else
                close(fd);
        }
    }
}

int mp_os_handle_read(mp_os_handle conn, bool socket, void *buf, size_t len, mp_os_handle *fds, size_t cap,
                      size_t *n)
{
    (void)socket;
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        union {
            char buf[CMSG_SPACE(sizeof(int) * CONTROL_FDS)];
            struct cmsghdr align;
        } control;
        struct iovec iov = {p + done, len - done};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof control.buf};
        ssize_t got = recvmsg((int)conn, &msg, MSG_CMSG_CLOEXEC);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && errno != ECONNRESET)
            return mp_fail_os(MP_EOS, errno, "recvmsg");
        if (got > 0)
            take_fds(&msg, fds, cap, n);
        if (got <= 0 && done == 0)
            return mp_fail(MP_EEOF, "the other end of the connection is closed");
        if (got <= 0)
            return mp_fail(MP_EPROTO, "the other end closed the connection %zu bytes into a %zu-byte read", done,
                           len);
        done += (size_t)got;
    }
    return MP_OK;
}

int mp_os_handle_import(long pid, uint64_t value, const mp_os_handle *fds, size_t n, mp_os_handle *out)
{
    (void)pid, (void)value;
    if (n != 1)
        return mp_fail(MP_EPROTO, "a handle message came with %zu descriptors beside it, not 1", n);
    *out = fds[0];
    return MP_OK;
}
