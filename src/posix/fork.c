/* fork.c - the fork start method: the child is a copy of this process and
 * keeps every descriptor, as with Python's fork. A helper of starting
 * children (child_start.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "process/frame.h"
#include "posix.h"

int mp_posix_fork_start(const mp_os_start *req, mp_os_child **out)
{
    mp_os_child *c = calloc(1, sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "fork: out of memory");
    mp_posix_prepare_fork();
    c->pid = fork();
    if (c->pid == 0) {
        int handles[MP_FRAME_MAX_HANDLES];
        size_t n = req->nhandles < MP_FRAME_MAX_HANDLES ? req->nhandles : MP_FRAME_MAX_HANDLES;
        for (size_t i = 0; i < n; i++)
            handles[i] = (int)req->handles[i];
        mp_posix_set_child_handles(handles, n);
        mp_posix_mark_fork_child();
        req->fork_entry(req->fork_ctx);
        _exit(1);
    }
    if (c->pid < 0) {
        int err = errno;
        free(c);
        return mp_fail_os(MP_ECHILD, err, "fork");
    }
    c->sentinel = mp_posix_pidfd_open(c->pid);
    if (c->sentinel < 0) {
        int err = errno;
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        free(c);
        return mp_fail_os(MP_EOS, err, "fork: pidfd_open");
    }
    *out = c;
    return MP_OK;
}
