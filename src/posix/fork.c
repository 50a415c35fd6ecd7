/* fork.c - the fork start method: the child is a copy of this process and
 * keeps every descriptor, as with Python's fork. A helper of starting
 * children (child_start.c).
 *
 * Every page either process writes after fork() is faulted (and mostly
 * copied) again, several microseconds each in a VM: the child writes none
 * of the parent's heap here, and this frame holds no large buffer that
 * would put fork() on a fresh stack page. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "posix.h"

MP_FORK_PATH int mp_posix_fork_start(const mp_os_start *req, mp_os_child **out)
{
    /* malloc, not calloc: glibc's calloc bypasses its thread cache and
     * writes the arena, one more page to copy after the fork. */
    mp_os_child *c = malloc(sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "fork: out of memory");
    /* The pidfd comes when it is needed (child_control.c). */
    *c = (mp_os_child){.sentinel = -1};
    mp_posix_prepare_fork();
    pid_t pid = fork();
    if (pid == 0) {
        mp_posix_set_child_handles(req->handles, req->nhandles);
        mp_posix_mark_fork_child();
        req->fork_entry(req->fork_ctx);
        _exit(1);
    }
    if (pid < 0) {
        int err = errno;
        free(c);
        return mp_fail_os(MP_ECHILD, err, "fork");
    }
    c->pid = pid;
    *out = c;
    return MP_OK;
}
