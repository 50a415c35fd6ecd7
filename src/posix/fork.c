/* fork.c - the fork start method: the child is a copy of this process and
 * keeps every descriptor, as with Python's fork. A helper of starting
 * children (child_start.c).
 *
 * Every page either process writes after fork() is copied (or at least
 * faulted) once more, and in a VM each costs about as much as a syscall:
 * the child writes none of the parent's heap here, and this frame holds no
 * large buffer that would put fork() on a fresh stack page. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
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
    *c = (mp_os_child){.pid = 0};
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
    c->sentinel = mp_posix_pidfd_open(pid);
    if (c->sentinel < 0) {
        int err = errno;
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        free(c);
        return mp_fail_os(MP_EOS, err, "fork: pidfd_open");
    }
    *out = c;
    return MP_OK;
}
