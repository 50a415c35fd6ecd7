/* support_win32.c - the leak check's counts on Windows (harness.h). */
#include <windows.h>

#include <tlhelp32.h>

#include <stdlib.h>

#include "harness.h"

/* NtQuerySystemInformation's SystemExtendedHandleInformation: one entry per
 * open handle in the system. */
#define SYSTEM_EXTENDED_HANDLE_INFORMATION 64
#define STATUS_INFO_LENGTH_MISMATCH ((LONG)0xC0000004)

typedef struct handle_entry {
    PVOID object;
    ULONG_PTR pid;
    ULONG_PTR value;
    ULONG access;
    USHORT backtrace;
    USHORT type;
    ULONG attributes;
    ULONG reserved;
} handle_entry;

typedef struct handle_table {
    ULONG_PTR count;
    ULONG_PTR reserved;
    handle_entry entries[];
} handle_table;

typedef LONG(NTAPI *query_fn)(ULONG, PVOID, ULONG, PULONG);

/* Wine's GetProcessHandleCount is a stub that reports 0; its system handle
 * table is real. */
static long count_in_system_table(void)
{
    query_fn query =
        (query_fn)(void (*)(void))GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation");
    if (query == NULL)
        return -1;
    for (ULONG size = 1 << 16; size < (1u << 30); size *= 2) {
        handle_table *table = malloc(size);
        if (table == NULL)
            return -1;
        ULONG used;
        LONG status = query(SYSTEM_EXTENDED_HANDLE_INFORMATION, table, size, &used);
        if (status == STATUS_INFO_LENGTH_MISMATCH) {
            free(table);
            continue;
        }
        long n = -1;
        if (status >= 0) {
            n = 0;
            for (ULONG_PTR i = 0; i < table->count; i++)
                n += table->entries[i].pid == GetCurrentProcessId();
        }
        free(table);
        return n;
    }
    return -1;
}

long mpt_count_handles(void)
{
    DWORD n = 0;
    if (GetProcessHandleCount(GetCurrentProcess(), &n) && n > 0)
        return (long)n;
    return count_in_system_table();
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
