/* global_lock.c - the core's process-wide lock. Statically initialised, so
 * that registrations made by constructors before main can take it. */
#include <windows.h>

#include "platform.h"

static SRWLOCK global_lock = SRWLOCK_INIT;

void mp_os_global_lock(void)
{
    AcquireSRWLockExclusive(&global_lock);
}

void mp_os_global_unlock(void)
{
    ReleaseSRWLockExclusive(&global_lock);
}
