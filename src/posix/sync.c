/* sync.c - semaphores shared between processes: a sem_t placed in the
 * caller's shared memory slot. Nothing but the memory travels, so there is
 * no handle. */
#define _GNU_SOURCE
#include <errno.h>
#include <semaphore.h>
#include <stdlib.h>

#include "base/error_internal.h"
#include "posix.h"
#include "base/timeout.h"

_Static_assert(sizeof(sem_t) <= MP_OS_SYNC_SLOT - MP_OS_SYNC_SPARE, "sem_t fits a slot");

struct mp_os_sem {
    sem_t *sem;
};

/* POSIX has no handle to take: anything passed is closed. */
static void no_handle(mp_os_handle h)
{
    if (h != MP_OS_NO_HANDLE)
        mp_os_handle_close(h);
}

/* ---- semaphores -------------------------------------------------------- */

int mp_os_sem_create(void *slot, unsigned value, mp_os_sem **out)
{
    if (sem_init(slot, 1, value) != 0)
        return mp_fail_os(MP_EOS, errno, "sem_init");
    return mp_os_sem_attach(slot, MP_OS_NO_HANDLE, out);
}

int mp_os_sem_attach(void *slot, mp_os_handle h, mp_os_sem **out)
{
    no_handle(h);
    mp_os_sem *s = malloc(sizeof *s);
    if (s == NULL)
        return mp_fail(MP_ENOMEM, "semaphore: out of memory");
    s->sem = slot;
    *out = s;
    return MP_OK;
}

mp_os_handle mp_os_sem_handle(const mp_os_sem *s)
{
    (void)s;
    return MP_OS_NO_HANDLE;
}

int mp_os_sem_wait(mp_os_sem *s, double timeout)
{
    int r;
    if (mp_timeout_forever(timeout)) {
        while ((r = sem_wait(s->sem)) != 0 && errno == EINTR)
            ;
    } else if (mp_timeout_polls(timeout)) {
        while ((r = sem_trywait(s->sem)) != 0 && errno == EINTR)
            ;
        if (r != 0 && errno == EAGAIN)
            return MP_ETIMEDOUT;
    } else {
        struct timespec at = mp_posix_abstime(timeout);
        while ((r = sem_clockwait(s->sem, CLOCK_MONOTONIC, &at)) != 0 && errno == EINTR)
            ;
    }
    if (r == 0)
        return MP_OK;
    return errno == ETIMEDOUT ? MP_ETIMEDOUT : mp_fail_os(MP_EOS, errno, "sem_wait");
}

int mp_os_sem_post(mp_os_sem *s)
{
    if (sem_post(s->sem) == 0)
        return MP_OK;
    return errno == EOVERFLOW ? mp_fail(MP_ERANGE, "semaphore: value at its maximum")
                              : mp_fail_os(MP_EOS, errno, "sem_post");
}

int mp_os_sem_value(mp_os_sem *s, int *value)
{
    return sem_getvalue(s->sem, value) == 0 ? MP_OK : mp_fail_os(MP_EOS, errno, "sem_getvalue");
}

void mp_os_sem_free(mp_os_sem *s)
{
    free(s);
}

