/* spawn.c - the spawn start method on POSIX: run our own executable with
 *     argv = {exe, "--mproc-child", "3"}
 * where fd 3 is the child's end of a socketpair carrying the handoff frame
 * (process/frame.h) and fds 4, 5, ... are the travelling handles. The child
 * gets no other descriptor. A helper of starting children (child_start.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "process/frame.h"
#include "posix.h"

static int write_frame(int fd, const mp_os_start *req)
{
    unsigned char header[MP_FRAME_HEADER_SIZE];
    mp_frame_header h = {.nhandles = (uint32_t)req->nhandles, .blob_len = req->handoff_len};
    mp_frame_encode_header(header, &h);
    int rc = mp_posix_write_all(fd, header, sizeof header);
    for (size_t i = 0; i < req->nhandles && rc == MP_OK; i++) {
        unsigned char value[8];
        mp_frame_put_u64(value, (uint64_t)(MP_POSIX_FIRST_FD + 1 + i));
        rc = mp_posix_write_all(fd, value, sizeof value);
    }
    if (rc == MP_OK)
        rc = mp_posix_write_all(fd, req->handoff, req->handoff_len);
    return rc;
}

int mp_posix_spawn_start(const mp_os_start *req, mp_os_child **out)
{
    if (req->nhandles > MP_FRAME_MAX_HANDLES)
        return mp_fail(MP_ETOOBIG, "spawn: %zu handles, at most %u", req->nhandles, MP_FRAME_MAX_HANDLES);
    mp_os_child *c = calloc(1, sizeof *c);
    int *fds = calloc(req->nhandles + 1, sizeof *fds);
    int sv[2];
    if (c == NULL || fds == NULL) {
        free(c);
        free(fds);
        return mp_fail(MP_ENOMEM, "spawn: out of memory");
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        free(c);
        free(fds);
        return mp_fail_os(MP_EOS, errno, "spawn: socketpair");
    }
    fds[0] = sv[1];
    for (size_t i = 0; i < req->nhandles; i++)
        fds[i + 1] = (int)req->handles[i];

    int rc = mp_posix_spawn_self(MP_CHILD_MARKER, "3", fds, req->nhandles + 1, &c->pid);
    close(sv[1]);
    free(fds);
    if (rc == MP_OK) {
        c->sentinel = mp_posix_pidfd_open(c->pid);
        if (c->sentinel < 0)
            rc = mp_fail_os(MP_EOS, errno, "spawn: pidfd_open(%ld)", (long)c->pid);
    }
    if (rc == MP_OK) {
        rc = write_frame(sv[0], req);
        if (rc != MP_OK)
            rc = mp_fail(MP_ECHILD, "spawn: the child (pid %ld) ended before it read its handoff: %s",
                         (long)c->pid, mp_last_error());
    }
    close(sv[0]);
    if (rc != MP_OK && c->pid > 0) {
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    if (rc != MP_OK) {
        if (c->sentinel > 0)
            close(c->sentinel);
        free(c);
        return rc;
    }
    *out = c;
    return MP_OK;
}
