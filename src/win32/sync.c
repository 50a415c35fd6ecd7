/* sync.c - semaphores shared between processes: unnamed kernel objects
 * whose handles travel with the shared block; the shared memory slot is
 * unused. */
#include <windows.h>

#include <limits.h>
#include <stdlib.h>

#include "base/error_internal.h"
#include "clock.h"
#include "platform.h"

struct mp_os_sem {
    HANDLE h;
};

/* Each of them is a kernel object behind a small struct; on failure to
 * make the struct the handle is closed, since it was ours to keep. */
static int wrap_sem(HANDLE h, mp_os_sem **out)
{
    mp_os_sem *s = malloc(sizeof *s);
    if (s == NULL) {
        CloseHandle(h);
        return mp_fail(MP_ENOMEM, "semaphore: out of memory");
    }
    s->h = h;
    *out = s;
    return MP_OK;
}

int mp_os_sem_create(void *slot, unsigned value, mp_os_sem **out)
{
    (void)slot;
    HANDLE h = CreateSemaphoreW(NULL, (LONG)value, LONG_MAX, NULL);
    if (h == NULL)
        return mp_fail_os(MP_EOS, (int)GetLastError(), "CreateSemaphore");
    return wrap_sem(h, out);
}

int mp_os_sem_attach(void *slot, mp_os_handle h, mp_os_sem **out)
{
    (void)slot;
    if (h == MP_OS_NO_HANDLE)
        return mp_fail(MP_EPROTO, "semaphore argument: no handle");
    return wrap_sem((HANDLE)h, out);
}

mp_os_handle mp_os_sem_handle(const mp_os_sem *s)
{
    return (mp_os_handle)s->h;
}

int mp_os_sem_wait(mp_os_sem *s, double timeout)
{
    DWORD r = mp_win_wait_for(s->h, timeout);
    if (r == WAIT_OBJECT_0)
        return MP_OK;
    if (r == WAIT_TIMEOUT)
        return MP_ETIMEDOUT;
    return mp_fail_os(MP_EOS, (int)GetLastError(), "WaitForSingleObject(semaphore)");
}

int mp_os_sem_post(mp_os_sem *s)
{
    if (ReleaseSemaphore(s->h, 1, NULL))
        return MP_OK;
    DWORD err = GetLastError();
    return err == ERROR_TOO_MANY_POSTS ? mp_fail(MP_ERANGE, "semaphore: value at its maximum")
                                       : mp_fail_os(MP_EOS, (int)err, "ReleaseSemaphore");
}

/* Windows cannot read a semaphore's count: take one if there is one and
 * put it back, which tells the count before. A racy snapshot, as on POSIX,
 * and for a moment the count is one lower: a concurrent poll (timeout 0)
 * may fail that would otherwise have succeeded. */
int mp_os_sem_value(mp_os_sem *s, int *value)
{
    if (WaitForSingleObject(s->h, 0) != WAIT_OBJECT_0) {
        *value = 0;
        return MP_OK;
    }
    LONG before;
    if (!ReleaseSemaphore(s->h, 1, &before))
        return mp_fail_os(MP_EOS, (int)GetLastError(), "ReleaseSemaphore");
    *value = (int)before + 1;
    return MP_OK;
}

void mp_os_sem_free(mp_os_sem *s)
{
    CloseHandle(s->h);
    free(s);
}

