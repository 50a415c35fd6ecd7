/* system.c - this process's pid, whether another process lives, and how
 * many CPUs the machine has. */
#include <windows.h>

#include <limits.h>

#include "platform.h"

long mp_os_getpid(void)
{
    return (long)GetCurrentProcessId();
}

int mp_os_pid_alive(long pid)
{
    HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
    if (h == NULL)
        return GetLastError() == ERROR_ACCESS_DENIED;
    DWORD r = WaitForSingleObject(h, 0);
    CloseHandle(h);
    return r == WAIT_TIMEOUT;
}

int mp_os_cpu_count(void)
{
    DWORD n = GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    return n >= 1 && n <= INT_MAX ? (int)n : 1;
}
