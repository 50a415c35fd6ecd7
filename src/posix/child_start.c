/* child_start.c - starting a child by the start method asked for: fork
 * (fork.c), spawn (spawn.c) or the forkserver (forkserver_client.c). */
#include "base/error_internal.h"
#include "posix.h"

bool mp_os_supports(mp_start_method method)
{
    return method == MP_START_FORK || method == MP_START_SPAWN || method == MP_START_FORKSERVER;
}

int mp_os_child_start(const mp_os_start *req, mp_os_child **out)
{
    switch (req->method) {
    case MP_START_FORK:
        return mp_posix_fork_start(req, out);
    case MP_START_SPAWN:
        return mp_posix_spawn_start(req, out);
    case MP_START_FORKSERVER:
        return mp_posix_forkserver_start(req, out);
    default:
        return mp_fail(MP_EINVAL, "start: no start method %d", (int)req->method);
    }
}
