/* forkserver_client.c - the requesting side of the forkserver (see
 * forkserver.h): start the server on first use, ask it for children, restart
 * it if it died. One request at a time per process. A helper of starting
 * children (child_start.c); the server itself is forkserver.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "forkserver.h"
#include "posix.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int conn = -1;
static pid_t server;

void mp_fs_encode(unsigned char out[MP_FS_HEADER_SIZE], const mp_fs_header *h)
{
    uint32_t words[4] = {h->type, h->count, h->arg1, h->arg2};
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < 4; i++)
            out[4 * w + i] = (unsigned char)(words[w] >> (8 * i));
    for (int i = 0; i < 8; i++)
        out[16 + i] = (unsigned char)(h->length >> (8 * i));
}

void mp_fs_decode(const unsigned char in[MP_FS_HEADER_SIZE], mp_fs_header *h)
{
    uint32_t words[4] = {0, 0, 0, 0};
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < 4; i++)
            words[w] |= (uint32_t)in[4 * w + i] << (8 * i);
    h->type = words[0];
    h->count = words[1];
    h->arg1 = words[2];
    h->arg2 = words[3];
    h->length = 0;
    for (int i = 0; i < 8; i++)
        h->length |= (uint64_t)in[16 + i] << (8 * i);
}

MP_FORK_PATH void mp_posix_forkserver_forget(void)
{
    /* Runs in a fork child, which has one thread: the lock is free again. */
    pthread_mutex_init(&lock, NULL);
    if (conn >= 0)
        close(conn);
    conn = -1;
    server = 0;
}

static int start_server(void)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return mp_fail_os(MP_EOS, errno, "forkserver: socketpair");
    int rc = mp_posix_spawn_self(MP_FORKSERVER_MARKER, "3", &sv[1], 1, &server);
    close(sv[1]);
    if (rc != MP_OK) {
        close(sv[0]);
        return mp_fail(rc, "forkserver: could not start the server: %s", mp_last_error());
    }
    conn = sv[0];
    return MP_OK;
}

/* The server is gone (or the conversation broke): drop it and reap it. */
static void drop_server(void)
{
    close(conn);
    conn = -1;
    while (waitpid(server, NULL, 0) < 0 && errno == EINTR)
        ;
    server = 0;
}

static int send_header(const mp_fs_header *h, const int *fds, size_t nfds)
{
    unsigned char raw[MP_FS_HEADER_SIZE];
    mp_fs_encode(raw, h);
    struct iovec iov = {raw, sizeof raw};
    union {
        char buf[CMSG_SPACE(sizeof(int) * (MP_FS_MAX_HANDLES + 1))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        if (cm == NULL)
            return mp_fail(MP_EINVAL, "forkserver: no room for %zu descriptors", nfds);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    while ((n = sendmsg(conn, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    if (n < 0)
        return mp_fail_os(errno == EPIPE || errno == ECONNRESET ? MP_EEOF : MP_EOS, errno, "forkserver: sendmsg");
    /* A stream socket takes a 24-byte message whole, or fails. */
    return MP_OK;
}

static int read_reply(int64_t *value)
{
    unsigned char raw[8];
    int rc = mp_posix_read_all(conn, raw, sizeof raw);
    if (rc != MP_OK)
        return rc;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)raw[i] << (8 * i);
    *value = (int64_t)v;
    return MP_OK;
}

/* One request and its reply; MP_EEOF (and the server dropped) if it is gone. */
static int exchange(const mp_fs_header *h, const int *fds, size_t nfds, const void *payload, int64_t *reply)
{
    int rc = send_header(h, fds, nfds);
    if (rc == MP_OK && h->length > 0)
        rc = mp_posix_write_all(conn, payload, (size_t)h->length);
    if (rc == MP_OK)
        rc = read_reply(reply);
    if (rc == MP_EEOF)
        drop_server();
    return rc;
}

/* A start request, restarting the server once if it is gone. */
static int converse(const mp_fs_header *h, const int *fds, size_t nfds, const void *payload, int64_t *reply)
{
    int rc = MP_EEOF;
    for (int attempt = 0; attempt < 2 && rc == MP_EEOF; attempt++) {
        if (conn < 0 && (rc = start_server()) != MP_OK)
            return rc;
        rc = exchange(h, fds, nfds, payload, reply);
    }
    return rc;
}

int mp_posix_forkserver_start(const mp_os_start *req, mp_os_child **out)
{
    if (req->nhandles > MP_FS_MAX_HANDLES)
        return mp_fail(MP_ETOOBIG, "forkserver: %zu handles, at most %d", req->nhandles, MP_FS_MAX_HANDLES);
    mp_os_child *c = calloc(1, sizeof *c);
    int status[2];
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "forkserver: out of memory");
    if (pipe2(status, O_CLOEXEC) != 0) {
        free(c);
        return mp_fail_os(MP_EOS, errno, "forkserver: pipe2");
    }
    int fds[MP_FS_MAX_HANDLES + 1];
    fds[0] = status[1];
    for (size_t i = 0; i < req->nhandles; i++)
        fds[i + 1] = (int)req->handles[i];
    mp_fs_header h = {MP_FS_START, (uint32_t)req->nhandles, req->daemon, 0, req->handoff_len};

    int64_t pid = 0;
    pthread_mutex_lock(&lock);
    int rc = converse(&h, fds, req->nhandles + 1, req->handoff, &pid);
    pthread_mutex_unlock(&lock);
    close(status[1]);
    if (rc == MP_OK && pid <= 0)
        rc = mp_fail_os(MP_ECHILD, (int)-pid, "forkserver: the server could not fork");
    if (rc != MP_OK) {
        close(status[0]);
        free(c);
        return rc;
    }
    c->pid = (pid_t)pid;
    c->sentinel = status[0];
    c->via_server = true;
    c->server = server;
    *out = c;
    return MP_OK;
}

/* The server that made c is gone and c may have outlived it: signal c
 * directly, through a pidfd taken while c still holds its end of the status
 * pipe (so c had not ended, and the pid was not yet free for reuse). */
static int signal_orphan(mp_os_child *c, int sig)
{
    int pidfd = mp_posix_pidfd_open(c->pid);
    if (pidfd < 0)
        return errno == ESRCH ? MP_OK : mp_fail_os(MP_EOS, errno, "forkserver: pidfd_open(%ld)", (long)c->pid);
    struct pollfd p = {.fd = c->sentinel, .events = POLLIN};
    int ended;
    while ((ended = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    int rc = MP_OK;
    if (ended == 0 && mp_posix_pidfd_send_signal(pidfd, sig) != 0 && errno != ESRCH)
        rc = mp_fail_os(MP_EOS, errno, "forkserver: signalling pid %ld", (long)c->pid);
    close(pidfd);
    return rc;
}

int mp_posix_forkserver_signal(mp_os_child *c, int sig)
{
    mp_fs_header h = {MP_FS_SIGNAL, 0, (uint32_t)c->pid, (uint32_t)sig, 0};
    int64_t result = 0;
    int rc = MP_EEOF;
    pthread_mutex_lock(&lock);
    if (conn >= 0 && server == c->server)
        rc = exchange(&h, NULL, 0, NULL, &result);
    pthread_mutex_unlock(&lock);
    if (rc == MP_EEOF)
        return signal_orphan(c, sig);
    if (rc == MP_OK && result < 0)
        rc = mp_fail_os(MP_EOS, (int)-result, "forkserver: signalling pid %ld", (long)c->pid);
    return rc;
}
