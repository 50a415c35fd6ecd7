/* system.c - this process's pid, whether another process lives, how
 * many CPUs the machine has, and its name. */
#include <windows.h>

#include <limits.h>
#include <stdio.h>

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

void mp_os_hostname(char *buf, size_t size)
{
    if (size == 0)
        return;
    wchar_t name[256];
    DWORD n = sizeof name / sizeof name[0];
    if (!GetComputerNameExW(ComputerNameDnsHostname, name, &n) ||
        WideCharToMultiByte(CP_UTF8, 0, name, -1, buf, (int)(size > INT_MAX ? INT_MAX : size), NULL, NULL) ==
            0)
        snprintf(buf, size, "unknown");
    buf[size - 1] = '\0';
}
