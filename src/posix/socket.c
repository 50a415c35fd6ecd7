/* socket.c - TCP and AF_UNIX stream sockets. Every descriptor is made
 * SOCK_CLOEXEC, so no child inherits one by accident; accept and connect
 * wait with poll() on a non-blocking socket, so both honour a timeout, and
 * the socket handed back is blocking again, as the pipe functions expect. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "posix.h"

static int set_blocking(int fd, bool on)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, on ? flags & ~O_NONBLOCK : flags | O_NONBLOCK) < 0)
        return mp_fail_os(MP_EOS, errno, "fcntl(O_NONBLOCK)");
    return MP_OK;
}

/* MP_OK once fd has one of events, MP_ETIMEDOUT at the deadline. */
static int wait_for(int fd, short events, double deadline, const char *what)
{
    struct pollfd p = {.fd = fd, .events = events};
    int got = mp_posix_poll_until(&p, 1, deadline);
    if (got < 0)
        return got;
    return got > 0 ? MP_OK : mp_fail(MP_ETIMEDOUT, "%s: timed out", what);
}

static void no_delay(int fd, int family)
{
    int one = 1;
    if (family == AF_INET || family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* A sockaddr_un for path; '@' names Linux's abstract namespace. */
static int unix_address(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
    size_t n = strlen(path);
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (n == 0 || n >= sizeof sun->sun_path)
        return mp_fail(MP_EINVAL, "unix address: the path must have 1 to %zu bytes", sizeof sun->sun_path - 1);
    memcpy(sun->sun_path, path, n);
    if (path[0] == '@')
        sun->sun_path[0] = '\0';
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
    return MP_OK;
}

static int resolve(const mp_os_endpoint *ep, bool passive, struct addrinfo **out)
{
    char port[8];
    snprintf(port, sizeof port, "%u", ep->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG};
    int err = getaddrinfo(ep->host, port, &hints, out);
    if (err == EAI_SYSTEM)
        return mp_fail_os(MP_EOS, errno, "getaddrinfo(%s)", ep->host);
    if (err != 0)
        return mp_fail(MP_EOS, "getaddrinfo(%s): %s", ep->host, gai_strerror(err));
    return MP_OK;
}

static int listen_on(int family, const struct sockaddr *sa, socklen_t len, int backlog, mp_os_handle *out)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return mp_fail_os(MP_EOS, errno, "socket");
    int one = 1;
    /* As Python's Listener: a restarted server may bind its port again at
     * once, while the old connections linger in TIME_WAIT. */
    if (family != AF_UNIX)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, sa, len) != 0 || listen(fd, backlog) != 0) {
        int err = errno;
        close(fd);
        return mp_fail_os(MP_EOS, err, "bind/listen");
    }
    *out = fd;
    return MP_OK;
}

int mp_os_socket_listen(const mp_os_endpoint *ep, int backlog, mp_os_handle *out)
{
    if (ep->family == MP_OS_UNIX) {
        struct sockaddr_un sun;
        socklen_t len = 0;
        int rc = unix_address(ep->path, &sun, &len);
        return rc == MP_OK ? listen_on(AF_UNIX, (struct sockaddr *)&sun, len, backlog, out) : rc;
    }
    struct addrinfo *ai;
    int rc = resolve(ep, true, &ai);
    if (rc == MP_OK)
        rc = listen_on(ai->ai_family, ai->ai_addr, ai->ai_addrlen, backlog, out);
    freeaddrinfo(ai);
    return rc;
}

int mp_os_socket_accept(mp_os_handle listener, double timeout, mp_os_handle *out)
{
    int rc = wait_for((int)listener, POLLIN, mp_deadline(timeout), "accept");
    if (rc != MP_OK)
        return rc;
    int fd;
    do
        fd = accept4((int)listener, NULL, NULL, SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return mp_fail_os(MP_EOS, errno, "accept");
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        no_delay(fd, ss.ss_family);
    *out = fd;
    return MP_OK;
}

/* Connect one address: non-blocking, so that the wait has a deadline. */
static int connect_one(int family, const struct sockaddr *sa, socklen_t len, double deadline, int *out)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return mp_fail_os(MP_EOS, errno, "socket");
    int rc = MP_OK;
    if (connect(fd, sa, len) != 0) {
        if (errno != EINPROGRESS && errno != EAGAIN)
            rc = mp_fail_os(MP_EOS, errno, "connect");
        else if ((rc = wait_for(fd, POLLOUT, deadline, "connect")) == MP_OK) {
            int err = 0;
            socklen_t n = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n);
            if (err != 0)
                rc = mp_fail_os(MP_EOS, err, "connect");
        }
    }
    if (rc == MP_OK)
        rc = set_blocking(fd, true);
    if (rc != MP_OK) {
        close(fd);
        return rc;
    }
    no_delay(fd, family);
    *out = fd;
    return MP_OK;
}

int mp_os_socket_connect(const mp_os_endpoint *ep, double timeout, mp_os_handle *out)
{
    double deadline = mp_deadline(timeout);
    int fd = -1, rc;
    if (ep->family == MP_OS_UNIX) {
        struct sockaddr_un sun;
        socklen_t len = 0;
        rc = unix_address(ep->path, &sun, &len);
        if (rc == MP_OK)
            rc = connect_one(AF_UNIX, (struct sockaddr *)&sun, len, deadline, &fd);
    } else {
        struct addrinfo *ai;
        rc = resolve(ep, false, &ai);
        if (rc != MP_OK)
            return rc;
        for (struct addrinfo *a = ai; a != NULL; a = a->ai_next)
            if ((rc = connect_one(a->ai_family, a->ai_addr, a->ai_addrlen, deadline, &fd)) == MP_OK ||
                rc == MP_ETIMEDOUT)
                break;
        freeaddrinfo(ai);
    }
    if (rc == MP_OK)
        *out = fd;
    return rc;
}

int mp_os_socket_address(mp_os_handle s, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname((int)s, (struct sockaddr *)&ss, &len) != 0)
        return mp_fail_os(MP_EOS, errno, "getsockname");
    char host[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_UNIX) {
        const struct sockaddr_un *sun = (const struct sockaddr_un *)&ss;
        size_t n = len - offsetof(struct sockaddr_un, sun_path);
        bool abstract = n > 0 && sun->sun_path[0] == '\0';
        if (!abstract)
            n = strnlen(sun->sun_path, n);
        snprintf(buf, size, "unix:%s%.*s", abstract ? "@" : "", (int)(n - abstract), sun->sun_path + abstract);
    } else if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, size, "tcp://%s:%u", host, ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, size, "tcp://[%s]:%u", host, ntohs(in6->sin6_port));
    }
    return MP_OK;
}

void mp_os_socket_unbind(const mp_os_endpoint *ep)
{
    if (ep->family == MP_OS_UNIX && ep->path[0] != '@')
        unlink(ep->path);
}

int mp_os_socket_write(mp_os_handle s, const void *buf, size_t len)
{
    return mp_os_pipe_write(s, buf, len);
}

int mp_os_socket_read(mp_os_handle s, void *buf, size_t len)
{
    return mp_os_pipe_read(s, buf, len);
}

int mp_os_socket_read_some(mp_os_handle s, void *buf, size_t cap, size_t *got)
{
    return mp_os_pipe_read_some(s, buf, cap, got);
}

int mp_os_socket_write_within(mp_os_handle s, const void *buf, size_t len, double timeout, size_t *written)
{
    double deadline = mp_deadline(timeout);
    const char *p = buf;
    size_t done = 0;
    int rc = MP_OK;
    while (done < len && rc == MP_OK) {
        /* Non-blocking for this send only: the socket stays blocking for
         * the pipe functions. */
        ssize_t n = send((int)s, p + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0)
            done += (size_t)n;
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
            rc = wait_for((int)s, POLLOUT, deadline, "send");
        else if (errno != EINTR)
            rc = mp_fail_os(errno == EPIPE || errno == ECONNRESET ? MP_EEOF : MP_EOS, errno, "send");
    }
    *written = done;
    return rc;
}

void mp_os_socket_shutdown(mp_os_handle s)
{
    (void)shutdown((int)s, SHUT_RDWR); /* ENOTCONN: nothing left to stop */
}

int mp_os_socket_poll(mp_os_handle s, double timeout)
{
    return mp_os_pipe_poll(s, timeout);
}

void mp_os_socket_close(mp_os_handle s)
{
    mp_os_handle_close(s);
}
