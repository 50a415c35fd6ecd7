/* child_side.c - what a child does with what its parent gave it: the
 * handoff frame, the travelling handles, the watch on its parent, and death
 * with a daemonic parent. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "process/frame.h"
#include "posix.h"

static mp_os_handle handles[MP_FRAME_MAX_HANDLES];
static size_t nhandles;
static bool forked_child, forkserver_child;
static int status_fd = -1; /* a forkserver child's report to its requester */
static int parent_pidfd = -1;
static long parent;
/* Set where the exit was arranged and cleared in every fork of it: a fork
 * of a child that did not become one of ours ends as it would anyway.
 * A flag, not the pid, which a fork child would have to ask the kernel. */
static bool exit_arranged;
static void (*exit_cleanup)(void);

MP_FORK_PATH void mp_posix_set_child_handles(const mp_os_handle *travelling, size_t n)
{
    if (n > MP_FRAME_MAX_HANDLES)
        n = MP_FRAME_MAX_HANDLES;
    for (size_t i = 0; i < n; i++)
        handles[i] = travelling[i];
    nhandles = n;
}

MP_FORK_PATH void mp_posix_mark_fork_child(void)
{
    forked_child = true;
    forkserver_child = false;
}

void mp_posix_mark_forkserver_child(int status)
{
    forkserver_child = true;
    status_fd = status;
    mp_posix_prepare_fork();
}

MP_FORK_PATH void mp_posix_child_side_after_fork(void)
{
    /* The report is the forkserver child's, not its children's: a child
     * holding it would also keep the requester's sentinel from ending. */
    if (status_fd >= 0) {
        close(status_fd);
        status_fd = -1;
    }
    if (exit_arranged) /* a store alone would copy the page */
        exit_arranged = false;
}

const mp_os_handle *mp_os_child_handles(size_t *n)
{
    *n = nhandles;
    return handles;
}

/* Digits by hand: strtol would be this fresh process's first use of its
 * code and of the locale tables, two page faults (~25 us in a VM). */
static int parse_token(const char *token, int *fd)
{
    long v = 0;
    const char *p = token;
    for (; *p >= '0' && *p <= '9' && v <= 1 << 20; p++)
        v = v * 10 + (*p - '0');
    if (p == token || *p || v > 1 << 20)
        return mp_fail(MP_EPROTO, "handoff: bad token \"%s\"", token);
    *fd = (int)v;
    return MP_OK;
}

static int read_frame(int fd, mp_buf *blob)
{
    unsigned char header[MP_FRAME_HEADER_SIZE];
    mp_frame_header h = {0, 0, 0, 0};
    int rc = mp_posix_read_all(fd, header, sizeof header);
    if (rc == MP_OK)
        rc = mp_frame_decode_header(header, &h);
    if (rc == MP_OK && h.nsockets != 0)
        rc = mp_fail(MP_EPROTO, "handoff: shared sockets are Windows's; here sockets travel as descriptors");
    for (uint32_t i = 0; rc == MP_OK && i < h.nhandles; i++) {
        unsigned char value[8];
        rc = mp_posix_read_all(fd, value, sizeof value);
        uint64_t v = mp_frame_get_u64(value);
        if (rc == MP_OK && v > INT32_MAX)
            rc = mp_fail(MP_EPROTO, "handoff: handle %u is not a descriptor", i);
        handles[i] = (mp_os_handle)v;
    }
    if (rc != MP_OK)
        return rc;
    nhandles = h.nhandles;
    blob->data = malloc(h.blob_len ? (size_t)h.blob_len : 1);
    if (blob->data == NULL)
        return mp_fail(MP_ENOMEM, "handoff: no memory for %llu bytes", (unsigned long long)h.blob_len);
    blob->cap = h.blob_len;
    rc = mp_posix_read_all(fd, blob->data, (size_t)h.blob_len);
    if (rc == MP_OK)
        blob->len = (size_t)h.blob_len;
    return rc;
}

int mp_os_read_handoff(const char *token, mp_buf *blob)
{
    int fd = -1;
    int rc = parse_token(token, &fd);
    if (rc != MP_OK)
        return rc;
    rc = read_frame(fd, blob);
    close(fd);
    if (rc != MP_OK) {
        mp_buf_free(blob);
        return mp_fail(rc, "handoff: %s", mp_last_error());
    }
    return MP_OK;
}

MP_FORK_PATH void mp_os_child_init(long parent_pid, bool daemon)
{
    parent = parent_pid;
    if (forkserver_child)
        return; /* the server armed this child when it forked it */
#ifdef __linux__
    if (daemon)
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    /* The parent may have died before the death signal was armed. */
    if (daemon && getppid() != (pid_t)parent_pid)
        _exit(1);
}

int mp_os_parent_alive(void)
{
    /* A fork or spawn child is reparented when its parent dies. */
    if (!forkserver_child)
        return getppid() == (pid_t)parent;
    /* A forkserver child's OS parent is the server: watch the real parent
     * through a pidfd, taken on first use so no descriptor is made unasked. */
    if (parent_pidfd < 0) {
        parent_pidfd = mp_posix_pidfd_open((pid_t)parent);
        if (parent_pidfd < 0)
            return errno == ESRCH ? 0 : kill((pid_t)parent, 0) == 0;
    }
    struct pollfd p = {.fd = parent_pidfd, .events = POLLIN};
    while (poll(&p, 1, 0) < 0 && errno == EINTR)
        ;
    return (p.revents & (POLLIN | POLLHUP)) ? 0 : 1;
}

/* The status as the server would write it: a wait status, little-endian. */
static void report_status(int status)
{
    uint32_t wait_status = (uint32_t)(status & 0xff) << 8;
    unsigned char raw[4];
    for (int i = 0; i < 4; i++)
        raw[i] = (unsigned char)(wait_status >> (8 * i));
    mp_posix_write_all(status_fd, raw, sizeof raw);
}

static MP_FORK_PATH void child_exit(int status, void *arg)
{
    (void)arg;
    if (!exit_arranged)
        return; /* a fork of this child that did not become one of ours */
    exit_cleanup();
    if (!forked_child && !forkserver_child)
        return;
    if (status_fd >= 0)
        report_status(status);
    _exit(status);
}

MP_FORK_PATH int mp_os_child_at_exit(void (*cleanup)(void))
{
    exit_cleanup = cleanup;
    mp_posix_prepare_fork(); /* so that a fork of this process clears the flag */
    exit_arranged = true;
    /* on_exit, not atexit: a target may call exit(n) itself, and n is the
     * status to end with. */
    if (on_exit(child_exit, NULL) != 0)
        return mp_fail(MP_ENOMEM, "on_exit: no room for another handler");
    return MP_OK;
}
