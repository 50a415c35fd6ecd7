/* sync.c - semaphores and robust recursive mutexes shared between
 * processes: a sem_t or pthread_mutex_t placed in the caller's shared
 * memory slot. Nothing but the memory travels, so there is no handle. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>

#include "base/error_internal.h"
#include "posix.h"
#include "base/timeout.h"

_Static_assert(sizeof(sem_t) <= MP_OS_SYNC_SLOT - MP_OS_SYNC_SPARE, "sem_t fits a slot");
_Static_assert(sizeof(pthread_mutex_t) <= MP_OS_SYNC_SLOT - MP_OS_SYNC_SPARE, "pthread_mutex_t fits a slot");

struct mp_os_sem {
    sem_t *sem;
};

struct mp_os_rmutex {
    pthread_mutex_t *m;
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

/* ---- robust recursive mutexes ------------------------------------------ */

int mp_os_rmutex_create(void *slot, mp_os_rmutex **out)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int err = pthread_mutex_init(slot, &attr);
    pthread_mutexattr_destroy(&attr);
    if (err != 0)
        return mp_fail_os(MP_EOS, err, "pthread_mutex_init");
    return mp_os_rmutex_attach(slot, MP_OS_NO_HANDLE, out);
}

int mp_os_rmutex_attach(void *slot, mp_os_handle h, mp_os_rmutex **out)
{
    no_handle(h);
    mp_os_rmutex *m = malloc(sizeof *m);
    if (m == NULL)
        return mp_fail(MP_ENOMEM, "lock: out of memory");
    m->m = slot;
    *out = m;
    return MP_OK;
}

mp_os_handle mp_os_rmutex_handle(const mp_os_rmutex *m)
{
    (void)m;
    return MP_OS_NO_HANDLE;
}

int mp_os_rmutex_lock(mp_os_rmutex *m, double timeout)
{
    int err;
    if (mp_timeout_forever(timeout)) {
        err = pthread_mutex_lock(m->m);
    } else if (mp_timeout_polls(timeout)) {
        err = pthread_mutex_trylock(m->m);
        if (err == EBUSY)
            return MP_ETIMEDOUT;
    } else {
        struct timespec at = mp_posix_abstime(timeout);
        err = pthread_mutex_clocklock(m->m, CLOCK_MONOTONIC, &at);
    }
    switch (err) {
    case 0: return MP_OK;
    case ETIMEDOUT: return MP_ETIMEDOUT;
    case EOWNERDEAD:
        pthread_mutex_consistent(m->m);
        return MP_EOWNERDEAD;
    default: return mp_fail_os(MP_EOS, err, "pthread_mutex_lock");
    }
}

int mp_os_rmutex_unlock(mp_os_rmutex *m)
{
    int err = pthread_mutex_unlock(m->m);
    if (err == 0)
        return MP_OK;
    if (err == EPERM)
        return mp_fail(MP_ESTATE, "lock is not held by this thread");
    return mp_fail_os(MP_EOS, err, "pthread_mutex_unlock");
}

void mp_os_rmutex_free(mp_os_rmutex *m)
{
    free(m);
}
