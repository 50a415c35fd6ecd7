/* forkserver.c - the forkserver process (see forkserver.h). It is
 * this program's executable, started with MP_FORKSERVER_MARKER, stopped in
 * mp_main before any user code: a single thread, nothing else running, so
 * a fork of it is always safe. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "base/error_internal.h"
#include "forkserver.h"
#include "process/frame.h"
#include "posix.h"

typedef struct served {
    pid_t pid;
    int status_fd;
    bool daemon;
} served;

static served *children;
static size_t nchildren, cap_children;
/* SIGINT as this server found it, for its children: the server itself
 * ignores it, since a Ctrl-C reaches the whole foreground process group. */
static struct sigaction sigint_found;

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "mproc forkserver (pid %ld): %s: %s\n", (long)getpid(), what, strerror(errno));
    _exit(1);
}

static void reply(int conn, int64_t value)
{
    unsigned char raw[8];
    for (int i = 0; i < 8; i++)
        raw[i] = (unsigned char)((uint64_t)value >> (8 * i));
    if (mp_posix_write_all(conn, raw, sizeof raw) != MP_OK)
        die("replying");
}

/* Read a header and the descriptors that came with it. Returns 0 at end of
 * file, 1 for a request, and dies on a broken conversation. */
static int read_request(int conn, mp_fs_header *h, int *fds, size_t *nfds)
{
    unsigned char raw[MP_FS_HEADER_SIZE];
    struct iovec iov = {raw, sizeof raw};
    union {
        char buf[CMSG_SPACE(sizeof(int) * (MP_FS_MAX_HANDLES + 1))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t n;
    while ((n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (n == 0)
        return 0;
    if (n < 0)
        die("recvmsg");
    *nfds = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(fds + *nfds, CMSG_DATA(cm), count * sizeof(int));
            *nfds += count;
        }
    }
    if ((size_t)n < sizeof raw && mp_posix_read_all(conn, raw + n, sizeof raw - (size_t)n) != MP_OK)
        die("reading a request");
    mp_fs_decode(raw, h);
    return 1;
}

static void add_child(pid_t pid, int status_fd, bool daemon)
{
    if (nchildren == cap_children) {
        size_t cap = cap_children ? cap_children * 2 : 64;
        served *more = realloc(children, cap * sizeof *more);
        if (more == NULL)
            die("out of memory");
        children = more;
        cap_children = cap;
    }
    children[nchildren++] = (served){pid, status_fd, daemon};
}

static served *find_child(pid_t pid)
{
    for (size_t i = 0; i < nchildren; i++)
        if (children[i].pid == pid)
            return &children[i];
    return NULL;
}

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        served *s = find_child(pid);
        if (s == NULL)
            continue;
        unsigned char raw[4];
        for (int i = 0; i < 4; i++)
            raw[i] = (unsigned char)((uint32_t)status >> (8 * i));
        /* The requester may have closed its end: that is not an error. */
        mp_posix_write_all(s->status_fd, raw, sizeof raw);
        close(s->status_fd);
        *s = children[--nchildren];
    }
}

/* A non-daemonic child outlives the server; a daemonic one dies with it,
 * since once reparented nothing would end it when its parent dies. */
static _Noreturn void become_child(const int *fds, size_t nfds, const unsigned char *blob, size_t len,
                                   pid_t server, bool daemon, mp_os_child_entry entry)
{
#ifdef __linux__
    if (daemon)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (daemon && getppid() != server)
        _exit(1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    sigaction(SIGINT, &sigint_found, NULL);
    /* fds[0] is the status pipe: the child keeps its own copy after the
     * handles, to report its exit status itself (forkserver.h). */
    int order[MP_FS_MAX_HANDLES + 1];
    for (size_t i = 1; i < nfds; i++)
        order[i - 1] = fds[i];
    order[nfds - 1] = fds[0];
    if (mp_posix_renumber_fds(order, nfds) != 0)
        _exit(1);
    int status_fd = MP_POSIX_FIRST_FD + (int)nfds - 1;
    if (fcntl(status_fd, F_SETFD, FD_CLOEXEC) != 0)
        _exit(1);
    mp_os_handle handles[MP_FS_MAX_HANDLES];
    for (size_t i = 0; i + 1 < nfds; i++)
        handles[i] = MP_POSIX_FIRST_FD + (int)i;
    mp_posix_set_child_handles(handles, nfds - 1);
    mp_posix_mark_forkserver_child(status_fd);
    entry(blob, len);
    _exit(1);
}

static void start_child(int conn, const mp_fs_header *h, int *fds, size_t nfds, mp_os_child_entry entry)
{
    if (nfds != (size_t)h->count + 1 || h->count > MP_FS_MAX_HANDLES || h->length > MP_FRAME_MAX_BLOB) {
        errno = EPROTO;
        die("malformed start request");
    }
    unsigned char *blob = malloc(h->length ? (size_t)h->length : 1);
    if (blob == NULL || mp_posix_read_all(conn, blob, (size_t)h->length) != MP_OK)
        die("reading a handoff");
    pid_t server = getpid();
    pid_t pid = fork();
    if (pid == 0)
        become_child(fds, nfds, blob, (size_t)h->length, server, h->arg1 != 0, entry);
    int err = errno;
    free(blob);
    for (size_t i = 1; i < nfds; i++)
        close(fds[i]);
    if (pid < 0) {
        close(fds[0]);
        reply(conn, -(int64_t)err);
        return;
    }
    add_child(pid, fds[0], h->arg1 != 0);
    reply(conn, pid);
}

static void signal_child(int conn, const mp_fs_header *h)
{
    served *s = find_child((pid_t)h->arg1);
    int64_t result = 0;
    if (s && kill(s->pid, (int)h->arg2) != 0 && errno != ESRCH)
        result = -(int64_t)errno;
    reply(conn, result);
}

_Noreturn void mp_os_forkserver_main(const char *token, mp_os_child_entry entry)
{
    int conn = (int)strtol(token, NULL, 10);
    if (conn < MP_POSIX_FIRST_FD || fcntl(conn, F_SETFD, FD_CLOEXEC) != 0)
        die("bad token");
    /* A requester that closed a status pipe must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGINT, &ignore, &sigint_found);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sigfd = signalfd(-1, &chld, SFD_CLOEXEC);
    if (sigfd < 0)
        die("signalfd");

    bool serving = true;
    while (serving || nchildren > 0) {
        struct pollfd p[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = serving ? conn : -1, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (p[0].revents) {
            struct signalfd_siginfo info;
            while (read(sigfd, &info, sizeof info) < 0 && errno == EINTR)
                ;
            reap();
        }
        if (!p[1].revents)
            continue;
        mp_fs_header h;
        int fds[MP_FS_MAX_HANDLES + 1];
        size_t nfds = 0;
        if (read_request(conn, &h, fds, &nfds) == 0) {
            /* The requesting process is gone: its daemonic children go too,
             * the others are reaped when they end. */
            serving = false;
            close(conn);
            for (size_t i = 0; i < nchildren; i++)
                if (children[i].daemon)
                    kill(children[i].pid, SIGKILL);
        } else if (h.type == MP_FS_START) {
            start_child(conn, &h, fds, nfds, entry);
        } else if (h.type == MP_FS_SIGNAL && nfds == 0) {
            signal_child(conn, &h);
        } else {
            errno = EPROTO;
            die("unknown request");
        }
        reap();
    }
    _exit(0);
}
