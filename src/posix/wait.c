/* wait.c - waiting for any of many sentinels (mp_wait): pidfds, status
 * pipes and pipe ends are all descriptors, so one poll() waits for them. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "posix.h"

int mp_os_wait(const mp_sentinel *s, size_t n, double timeout, bool *ready)
{
    struct pollfd *p = calloc(n, sizeof *p);
    if (p == NULL)
        return mp_fail(MP_ENOMEM, "mp_wait: out of memory for %zu sentinels", n);
    for (size_t i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = (int)s[i], .events = POLLIN};
    double deadline = mp_deadline(timeout);
    int rc = mp_posix_poll_until(p, n, deadline);
    if (rc == 0)
        rc = mp_fail(MP_ETIMEDOUT, "mp_wait: nothing ready after %g s", timeout);
    for (size_t i = 0; rc != MP_EOS && i < n; i++) {
        ready[i] = p[i].revents != 0;
        if (p[i].revents & POLLNVAL)
            rc = mp_fail(MP_EINVAL, "mp_wait: object %zu (%ld) is not an open descriptor", i, (long)s[i]);
    }
    free(p);
    return rc;
}
