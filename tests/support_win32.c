/* support_win32.c - the leak check's counts on Windows (harness.h). */
#include <windows.h>

#include <tlhelp32.h>

#include <stdlib.h>

#include "harness.h"

/* How many handle values in a row name nothing before the count stops. */
#define PROBE_GAP 1024

/* Wine's GetProcessHandleCount is a stub that reports 0, and asking it for
 * the system's handle table (NtQuerySystemInformation's
 * SystemExtendedHandleInformation) crashes Wine 8.0's server now and then
 * while other processes come and go: a segfault in its enumeration of
 * every process's handles, seen in CI with all the tests running. So ask
 * about each handle value instead. Wine hands out the lowest free slot,
 * so this process's table ends where a long run of values names nothing. */
static long count_by_probing(void)
{
    long n = 0;
    for (ULONG_PTR value = 4, misses = 0; misses < PROBE_GAP; value += 4) {
        DWORD flags;
        if (GetHandleInformation((HANDLE)value, &flags)) {
            n++;
            misses = 0;
        } else {
            misses++;
        }
    }
    return n;
}

long mpt_count_handles(void)
{
    DWORD n = 0;
    if (GetProcessHandleCount(GetCurrentProcess(), &n) && n > 0)
        return (long)n;
    return count_by_probing();
}

static ULONGLONG creation_time(HANDLE process)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(process, &created, &exited, &kernel, &user))
        return 0;
    return ((ULONGLONG)created.dwHighDateTime << 32) | created.dwLowDateTime;
}

/* Toolhelp reports a parent pid even after that parent ended and its pid was
 * reused, so a child counts only if it was created after this process. */
long mpt_count_children(void)
{
    DWORD self = GetCurrentProcessId();
    ULONGLONG born = creation_time(GetCurrentProcess());
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snapshot == INVALID_HANDLE_VALUE)
        return -1;
    long n = 0;
    PROCESSENTRY32W entry = {.dwSize = sizeof entry};
    for (BOOL more = Process32FirstW(snapshot, &entry); more; more = Process32NextW(snapshot, &entry)) {
        if (entry.th32ParentProcessID != self || entry.th32ProcessID == self)
            continue;
        HANDLE child =
            OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, entry.th32ProcessID);
        if (child == NULL)
            continue;
        if (creation_time(child) >= born && WaitForSingleObject(child, 0) == WAIT_TIMEOUT)
            n++;
        CloseHandle(child);
    }
    CloseHandle(snapshot);
    return n;
}

long mpt_count_zombies(void)
{
    return 0;
}

void mpt_each_shm_name(void (*each)(const char *name, void *ctx), void *ctx)
{
    (void)each;
    (void)ctx;
}

/* Windows has no SIGSTOP: suspend (or resume) each of the process's
 * threads, as a debugger does. */
int mpt_stop_pid(long pid, bool stop)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return -1;
    THREADENTRY32 te = {.dwSize = sizeof te};
    int found = 0;
    for (BOOL more = Thread32First(snap, &te); more; more = Thread32Next(snap, &te)) {
        if (te.th32OwnerProcessID != (DWORD)pid)
            continue;
        HANDLE t = OpenThread(THREAD_SUSPEND_RESUME, FALSE, te.th32ThreadID);
        if (t == NULL)
            continue;
        if ((stop ? SuspendThread(t) : ResumeThread(t)) != (DWORD)-1)
            found++;
        CloseHandle(t);
    }
    CloseHandle(snap);
    return found > 0 ? 0 : -1;
}

int mpt_kill_pid(long pid)
{
    HANDLE h = OpenProcess(PROCESS_TERMINATE, FALSE, (DWORD)pid);
    if (h == NULL)
        return -1;
    BOOL ok = TerminateProcess(h, 1);
    CloseHandle(h);
    return ok ? 0 : -1;
}

bool mpt_under_wine(void)
{
    return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != NULL;
}
