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

#include "errors.h"
#include "frame.h"
#include "posix.h"

static mp_os_handle handles[MP_FRAME_MAX_HANDLES];
static size_t nhandles;
static bool forkserver_child;
static int parent_pidfd = -1;
static long parent;

void mp_posix_set_child_handles(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        handles[i] = fds[i];
    nhandles = n;
}

void mp_posix_mark_forkserver_child(void)
{
    forkserver_child = true;
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
    mp_frame_header h = {0, 0, 0};
    int rc = mp_posix_read_all(fd, header, sizeof header);
    if (rc == MP_OK)
        rc = mp_frame_decode_header(header, &h);
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

void mp_os_child_init(long parent_pid, bool daemon)
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
