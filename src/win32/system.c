/* system.c - this process's identity and what the machine offers. */
#include <windows.h>

#include <limits.h>

#include "platform.h"

long mp_os_getpid(void)
{
    return (long)GetCurrentProcessId();
}

int mp_os_cpu_count(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    return n >= 1 && n <= INT_MAX ? (int)n : 1;
}

/* Windows has no fork, so spawn is the only way to start a child. */
bool mp_os_supports(mp_start_method method)
{
    return method == MP_START_SPAWN;
}
