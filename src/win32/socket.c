/* socket.c - TCP sockets through Winsock (no AF_UNIX: Wine answers
 * WSAEAFNOSUPPORT, so it is not offered). Winsock is started once, on the
 * first socket, and never cleaned up: sockets may live until exit.
 *
 * Sockets are made with WSA_FLAG_NO_HANDLE_INHERIT, so no child inherits
 * one, and WSA_FLAG_OVERLAPPED, so that mp_os_wait can watch one with an
 * overlapped peek (pipe_probe.h) while another thread reads. Reads and
 * writes are plain blocking recv/send: unlike a pipe's, a socket's two
 * directions never wait for each other, so no overlapped I/O is needed for
 * one thread to send while another receives. Waits with a timeout (accept,
 * connect, poll) are select(), which leaves the socket as it was. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "clock.h"
#include "platform.h"
#include "socket_share.h"

/* The most one send or recv is asked to move. */
#define CHUNK (1 << 20)

static INIT_ONCE started = INIT_ONCE_STATIC_INIT;
static int start_error;

static BOOL CALLBACK start(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    (void)once, (void)param, (void)ctx;
    WSADATA data;
    start_error = WSAStartup(MAKEWORD(2, 2), &data);
    return TRUE;
}

static int winsock(void)
{
    InitOnceExecuteOnce(&started, start, NULL, NULL);
    return start_error == 0 ? MP_OK : mp_fail_os(MP_EOS, start_error, "WSAStartup");
}

static int socket_error(const char *what)
{
    return mp_fail_os(MP_EOS, WSAGetLastError(), "%s", what);
}

static bool peer_gone(int err)
{
    return err == WSAECONNRESET || err == WSAECONNABORTED || err == WSAESHUTDOWN || err == WSAENETRESET;
}

/* MP_OK once s is readable (or, write true, writable or failed),
 * MP_ETIMEDOUT at the deadline. select() may end early; it is called again
 * until the deadline. */
static int wait_for(SOCKET s, bool write, double deadline, const char *what)
{
    for (;;) {
        fd_set fds, errs;
        FD_ZERO(&fds);
        FD_ZERO(&errs);
        FD_SET(s, &fds);
        FD_SET(s, &errs);
        double left = mp_time_left(deadline);
        struct timeval tv = {0, 0}, *ptv = NULL;
        if (!mp_timeout_forever(left)) {
            if (left > 0) {
                double us = left * 1e6 + 999;
                tv.tv_sec = (long)(us / 1e6);
                tv.tv_usec = (long)(us - tv.tv_sec * 1e6);
            }
            ptv = &tv;
        }
        int got = select(0, write ? NULL : &fds, write ? &fds : NULL, &errs, ptv);
        if (got == SOCKET_ERROR)
            return socket_error("select");
        if (got > 0)
            return MP_OK;
        if (mp_time_left(deadline) <= 0)
            return mp_fail(MP_ETIMEDOUT, "%s: timed out", what);
    }
}

static SOCKET new_socket(int family)
{
    return WSASocketW(family, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
}

static void no_delay(SOCKET s)
{
    BOOL one = TRUE;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
}

static int resolve(const mp_os_endpoint *ep, bool passive, struct addrinfo **out)
{
    if (ep->family != MP_OS_TCP)
        return mp_fail(MP_EUNSUPPORTED, "unix: addresses need AF_UNIX sockets, which Windows mproc does not offer");
    int rc = winsock();
    if (rc != MP_OK)
        return rc;
    char port[8];
    snprintf(port, sizeof port, "%u", ep->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP,
                             .ai_flags = passive ? AI_PASSIVE : 0};
    int err = getaddrinfo(ep->host, port, &hints, out);
    return err == 0 ? MP_OK : mp_fail_os(MP_EOS, err, "getaddrinfo(%s)", ep->host);
}

int mp_os_socket_listen(const mp_os_endpoint *ep, int backlog, mp_os_handle *out)
{
    struct addrinfo *ai;
    int rc = resolve(ep, true, &ai);
    if (rc != MP_OK)
        return rc;
    SOCKET s = new_socket(ai->ai_family);
    if (s == INVALID_SOCKET)
        rc = socket_error("WSASocket");
    /* Windows' SO_REUSEADDR lets another socket steal a bound port; its
     * default already allows binding again over TIME_WAIT. Exclusive use
     * is what a server wants. */
    BOOL one = TRUE;
    if (rc == MP_OK)
        setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof one);
    if (rc == MP_OK && (bind(s, ai->ai_addr, (int)ai->ai_addrlen) != 0 || listen(s, backlog) != 0)) {
        rc = socket_error("bind/listen");
        closesocket(s);
    }
    freeaddrinfo(ai);
    if (rc == MP_OK)
        *out = (mp_os_handle)s;
    return rc;
}

int mp_os_socket_accept(mp_os_handle listener, double timeout, mp_os_handle *out)
{
    int rc = wait_for((SOCKET)listener, false, mp_deadline(timeout), "accept");
    if (rc != MP_OK)
        return rc;
    SOCKET s = accept((SOCKET)listener, NULL, NULL);
    if (s == INVALID_SOCKET)
        return socket_error("accept");
    /* An accepted socket takes the listener's attributes; make sure of the
     * one that matters. */
    SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0);
    no_delay(s);
    *out = (mp_os_handle)s;
    return MP_OK;
}

static int connect_one(const struct addrinfo *a, double deadline, SOCKET *out)
{
    SOCKET s = new_socket(a->ai_family);
    if (s == INVALID_SOCKET)
        return socket_error("WSASocket");
    u_long on = 1, off = 0;
    int rc = ioctlsocket(s, FIONBIO, &on) == 0 ? MP_OK : socket_error("ioctlsocket");
    if (rc == MP_OK && connect(s, a->ai_addr, (int)a->ai_addrlen) != 0) {
        if (WSAGetLastError() != WSAEWOULDBLOCK)
            rc = socket_error("connect");
        else if ((rc = wait_for(s, true, deadline, "connect")) == MP_OK) {
            int err = 0, n = sizeof err;
            getsockopt(s, SOL_SOCKET, SO_ERROR, (char *)&err, &n);
            if (err != 0)
                rc = mp_fail_os(MP_EOS, err, "connect");
        }
    }
    if (rc == MP_OK && ioctlsocket(s, FIONBIO, &off) != 0)
        rc = socket_error("ioctlsocket");
    if (rc != MP_OK) {
        closesocket(s);
        return rc;
    }
    no_delay(s);
    *out = s;
    return MP_OK;
}

int mp_os_socket_connect(const mp_os_endpoint *ep, double timeout, mp_os_handle *out)
{
    double deadline = mp_deadline(timeout);
    struct addrinfo *ai;
    int rc = resolve(ep, false, &ai);
    if (rc != MP_OK)
        return rc;
    SOCKET s = INVALID_SOCKET;
    for (struct addrinfo *a = ai; a != NULL; a = a->ai_next)
        if ((rc = connect_one(a, deadline, &s)) == MP_OK || rc == MP_ETIMEDOUT)
            break;
    freeaddrinfo(ai);
    if (rc == MP_OK)
        *out = (mp_os_handle)s;
    return rc;
}

int mp_os_socket_address(mp_os_handle s, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (getsockname((SOCKET)s, (struct sockaddr *)&ss, &len) != 0)
        return socket_error("getsockname");
    char host[INET6_ADDRSTRLEN];
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, size, "tcp://%s:%u", host, ntohs(in->sin_port));
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, size, "tcp://[%s]:%u", host, ntohs(in6->sin6_port));
    }
    return MP_OK;
}

void mp_os_socket_unbind(const mp_os_endpoint *ep)
{
    (void)ep;
}

int mp_os_socket_write(mp_os_handle s, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        int n = send((SOCKET)s, p, len > CHUNK ? CHUNK : (int)len, 0);
        if (n == SOCKET_ERROR) {
            int err = WSAGetLastError();
            return peer_gone(err) ? mp_fail(MP_EEOF, "the other end of the connection is closed")
                                  : mp_fail_os(MP_EOS, err, "send");
        }
        p += n;
        len -= (size_t)n;
    }
    return MP_OK;
}

int mp_os_socket_read(mp_os_handle s, void *buf, size_t len)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t want = len - done;
        int n = recv((SOCKET)s, p + done, want > CHUNK ? CHUNK : (int)want, 0);
        int err = n == SOCKET_ERROR ? WSAGetLastError() : 0;
        if (n == SOCKET_ERROR && !peer_gone(err))
            return mp_fail_os(MP_EOS, err, "recv");
        if (n <= 0 && done == 0)
            return mp_fail(MP_EEOF, "the other end of the connection is closed");
        if (n <= 0)
            return mp_fail(MP_EPROTO, "the other end closed the connection %zu bytes into a %zu-byte read", done,
                           len);
        done += (size_t)n;
    }
    return MP_OK;
}

int mp_os_socket_read_some(mp_os_handle s, void *buf, size_t cap, size_t *got)
{
    int n = recv((SOCKET)s, buf, cap > CHUNK ? CHUNK : (int)cap, 0);
    int err = n == SOCKET_ERROR ? WSAGetLastError() : 0;
    if (n == SOCKET_ERROR && !peer_gone(err))
        return mp_fail_os(MP_EOS, err, "recv");
    if (n <= 0)
        return mp_fail(MP_EEOF, "the other end of the connection is closed");
    *got = (size_t)n;
    return MP_OK;
}

static int send_error(int err)
{
    return peer_gone(err) ? mp_fail(MP_EEOF, "the other end of the connection is closed")
                          : mp_fail_os(MP_EOS, err, "send");
}

/* Wait for an overlapped send until deadline. At the deadline, or if the
 * wait fails, the send is cancelled and waited for all the same: it must
 * no longer read the caller's buffer when this returns. */
static int wait_send(SOCKET s, WSAOVERLAPPED *ov, double deadline, DWORD *sent)
{
    DWORD flags = 0, w;
    do
        w = WaitForSingleObject(ov->hEvent, mp_win_wait_ms(deadline));
    while (w == WAIT_TIMEOUT && mp_time_left(deadline) > 0);
    if (w == WAIT_OBJECT_0)
        return WSAGetOverlappedResult(s, ov, sent, FALSE, &flags) ? MP_OK : send_error(WSAGetLastError());
    DWORD err = GetLastError();
    CancelIoEx((HANDLE)s, ov);
    WSAGetOverlappedResult(s, ov, sent, TRUE, &flags);
    return w == WAIT_TIMEOUT ? mp_fail(MP_ETIMEDOUT, "send: timed out")
                             : mp_fail_os(MP_EOS, (int)err, "send: wait");
}

/* An overlapped send, the one way to bound a send's wait without making
 * the socket non-blocking for everyone else. */
int mp_os_socket_write_within(mp_os_handle s, const void *buf, size_t len, double timeout, size_t *written)
{
    double deadline = mp_deadline(timeout);
    WSAOVERLAPPED ov = {0};
    ov.hEvent = WSACreateEvent();
    *written = 0;
    if (ov.hEvent == WSA_INVALID_EVENT)
        return socket_error("WSACreateEvent");
    const char *p = buf;
    size_t done = 0;
    int rc = MP_OK;
    while (done < len && rc == MP_OK) {
        size_t want = len - done;
        WSABUF b = {.len = want > CHUNK ? CHUNK : (ULONG)want, .buf = (char *)p + done};
        DWORD sent = 0;
        WSAResetEvent(ov.hEvent);
        if (WSASend((SOCKET)s, &b, 1, &sent, 0, &ov, NULL) != 0) {
            int err = WSAGetLastError();
            rc = err == WSA_IO_PENDING ? wait_send((SOCKET)s, &ov, deadline, &sent) : send_error(err);
        }
        done += sent;
    }
    WSACloseEvent(ov.hEvent);
    *written = done;
    return rc;
}

void mp_os_socket_shutdown(mp_os_handle s)
{
    (void)shutdown((SOCKET)s, SD_BOTH); /* WSAENOTCONN: nothing left to stop */
}

int mp_os_socket_poll(mp_os_handle s, double timeout)
{
    return wait_for((SOCKET)s, false, mp_deadline(timeout), "poll");
}

void mp_os_socket_close(mp_os_handle s)
{
    if (s != MP_OS_NO_HANDLE)
        closesocket((SOCKET)s);
}

/* ---- sockets for a child (socket_share.h) ----------------------------- */

size_t mp_win_socket_share_size(void)
{
    return sizeof(WSAPROTOCOL_INFOW);
}

int mp_win_socket_share(HANDLE s, DWORD pid, unsigned char *record)
{
    WSAPROTOCOL_INFOW info;
    if (WSADuplicateSocketW((SOCKET)s, pid, &info) != 0)
        return socket_error("mp_process_start: WSADuplicateSocketW");
    memcpy(record, &info, sizeof info);
    return MP_OK;
}

int mp_win_socket_from_share(const unsigned char *record, HANDLE *out)
{
    int rc = winsock();
    if (rc != MP_OK)
        return rc;
    WSAPROTOCOL_INFOW info;
    memcpy(&info, record, sizeof info);
    SOCKET s = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0,
                          WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET)
        return mp_fail_os(MP_EPROTO, WSAGetLastError(), "handoff: a shared socket cannot be made");
    *out = (HANDLE)s;
    return MP_OK;
}
