/* handle_pass.c - a handle passed over a connection: duplicated into the
 * destination process (DuplicateHandle through a handle to it opened with
 * PROCESS_DUP_HANDLE) before the message goes, so the message only carries
 * its value there, and any connection can carry it. The duplicate exists
 * from the moment the message is sent: if the destination never receives
 * it, it stays open there until that process ends (Python's DupHandle has
 * the same property). */
#include <windows.h>

#include "base/error_internal.h"
#include "platform.h"

int mp_os_handle_carrier(mp_os_handle conn, bool duplex)
{
    (void)conn, (void)duplex;
    return MP_OK;
}

/* Negative values are pseudo-handles (-1 is this process, -2 this thread),
 * which DuplicateHandle would turn into real handles to this process or
 * thread, not the caller's object: refused like NULL. */
static bool may_be_handle(mp_os_handle h)
{
    return h > 0;
}

static HANDLE open_process(long pid, const char *what)
{
    HANDLE proc = pid > 0 ? OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)pid) : NULL;
    if (proc == NULL)
        mp_fail_os(MP_EOS, pid > 0 ? (int)GetLastError() : ERROR_INVALID_PARAMETER, "%s: OpenProcess(%ld)", what,
                   pid);
    return proc;
}

int mp_os_handle_export(mp_os_handle h, long pid, uint64_t *value)
{
    if (!may_be_handle(h))
        return mp_fail(MP_EINVAL, "%lld is not a handle", (long long)h);
    HANDLE proc = open_process(pid, "passing a handle");
    if (proc == NULL)
        return MP_EOS;
    HANDLE dup = NULL;
    BOOL ok = DuplicateHandle(GetCurrentProcess(), (HANDLE)h, proc, &dup, 0, FALSE, DUPLICATE_SAME_ACCESS);
    DWORD err = ok ? 0 : GetLastError();
    CloseHandle(proc);
    if (!ok)
        return mp_fail_os(err == ERROR_INVALID_HANDLE ? MP_EINVAL : MP_EOS, (int)err, "DuplicateHandle(%lld)",
                          (long long)h);
    *value = (uint64_t)(uintptr_t)dup;
    return MP_OK;
}

void mp_os_handle_unexport(long pid, uint64_t value)
{
    HANDLE proc = open_process(pid, "taking back a handle");
    if (proc == NULL)
        return;
    DuplicateHandle(proc, (HANDLE)(uintptr_t)value, NULL, NULL, 0, FALSE, DUPLICATE_CLOSE_SOURCE);
    CloseHandle(proc);
}

int mp_os_handle_write(mp_os_handle conn, bool socket, const void *frame, size_t len, mp_os_handle h)
{
    (void)h;
    return socket ? mp_os_socket_write(conn, frame, len) : mp_os_pipe_write(conn, frame, len);
}

int mp_os_handle_read(mp_os_handle conn, bool socket, void *buf, size_t len, mp_os_handle *fds, size_t cap,
                      size_t *n)
{
    (void)fds, (void)cap, (void)n;
    return socket ? mp_os_socket_read(conn, buf, len) : mp_os_pipe_read(conn, buf, len);
}

int mp_os_handle_import(long pid, uint64_t value, const mp_os_handle *fds, size_t n, mp_os_handle *out)
{
    (void)fds, (void)n;
    if (pid != (long)GetCurrentProcessId())
        return mp_fail(MP_EPROTO, "the handle was duplicated into process %ld, not into this one (%lu)", pid,
                       GetCurrentProcessId());
    /* A message can be forged; a value that is no open handle here is
     * caught, one that is (by chance) is the sender's to answer for. */
    DWORD flags;
    HANDLE h = (HANDLE)(uintptr_t)value;
    if (value == 0 || value > (uint64_t)INTPTR_MAX || !GetHandleInformation(h, &flags))
        return mp_fail(MP_EPROTO, "the handle message names %llu, which is no handle of this process",
                       (unsigned long long)value);
    *out = (mp_os_handle)h;
    return MP_OK;
}
