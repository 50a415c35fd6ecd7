/* npipe.c - "pipe:name" listeners and clients over \\.\pipe\name.
 *
 * A named pipe instance serves one client, so the listener keeps one
 * instance waiting (pending) and makes another for each client accepted,
 * as Python's PipeListener does: a client that comes between two accepts
 * finds an instance and connects at once instead of failing. Only the first
 * instance is made with FILE_FLAG_FIRST_PIPE_INSTANCE, so that a name another
 * process already serves is refused instead of shared with it.
 *
 * Instances are made as mp_os_pipe makes its server end (duplex, byte mode,
 * overlapped, not inheritable, no remote clients) and clients open theirs
 * overlapped, so both ends are what pipe.c and wait.c expect. */
#include <windows.h>

#include <stdlib.h>
#include <wchar.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "clock.h"
#include "platform.h"
#include "utf.h"

/* Each direction's buffer, as mp_os_pipe's. */
#define PIPE_BUFFER (64 * 1024)
/* The longest single WaitNamedPipe, in ms: the pipe may go away while a
 * client waits, which only a new CreateFile tells. */
#define BUSY_WAIT_MAX 1000

struct mp_os_npipe_listener {
    wchar_t *path;
    SRWLOCK lock;   /* guards pending */
    HANDLE pending; /* an instance no accept is waiting on, or NULL */
};

/* "\\.\pipe\" and name, malloc'd. */
static int pipe_path(const char *name, wchar_t **out)
{
    static const wchar_t prefix[] = L"\\\\.\\pipe\\";
    wchar_t *wide;
    int rc = mp_win_widen(name, &wide);
    if (rc != MP_OK)
        return rc;
    size_t n = wcslen(prefix) + wcslen(wide) + 1;
    *out = malloc(n * sizeof **out);
    if (*out != NULL) {
        wcscpy(*out, prefix);
        wcscat(*out, wide);
    }
    free(wide);
    return *out != NULL ? MP_OK : mp_fail(MP_ENOMEM, "out of memory");
}

static HANDLE new_instance(const wchar_t *path, bool first)
{
    DWORD mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
    return CreateNamedPipeW(path, mode,
                            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                            PIPE_UNLIMITED_INSTANCES, PIPE_BUFFER, PIPE_BUFFER, 0, NULL);
}

int mp_os_npipe_listen(const char *name, mp_os_npipe_listener **out)
{
    mp_os_npipe_listener *l = calloc(1, sizeof *l);
    if (l == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    int rc = pipe_path(name, &l->path);
    if (rc != MP_OK) {
        free(l);
        return rc;
    }
    InitializeSRWLock(&l->lock);
    l->pending = new_instance(l->path, true);
    if (l->pending == INVALID_HANDLE_VALUE) {
        rc = mp_fail_os(MP_EOS, (int)GetLastError(), "CreateNamedPipe");
        free(l->path);
        free(l);
        return rc;
    }
    *out = l;
    return MP_OK;
}

/* The pending instance, or a new one if another accept has it. */
static int take_instance(mp_os_npipe_listener *l, HANDLE *out)
{
    AcquireSRWLockExclusive(&l->lock);
    *out = l->pending;
    l->pending = NULL;
    ReleaseSRWLockExclusive(&l->lock);
    if (*out == NULL && (*out = new_instance(l->path, false)) == INVALID_HANDLE_VALUE)
        return mp_fail_os(MP_EOS, (int)GetLastError(), "CreateNamedPipe");
    return MP_OK;
}

/* Keep h waiting for the next accept; close it if another instance already
 * waits. NULL: make a new one, so that clients find one meanwhile; if that
 * fails, the next accept tries again and reports it. */
static void put_instance(mp_os_npipe_listener *l, HANDLE h)
{
    AcquireSRWLockExclusive(&l->lock);
    if (l->pending == NULL && h == NULL) {
        h = new_instance(l->path, false);
        if (h == INVALID_HANDLE_VALUE)
            h = NULL;
    }
    if (l->pending == NULL) {
        l->pending = h;
        h = NULL;
    }
    ReleaseSRWLockExclusive(&l->lock);
    if (h != NULL)
        CloseHandle(h);
}

/* True if ConnectNamedPipe's err means a client is there: it connected
 * before the call (ERROR_PIPE_CONNECTED), or connected, wrote and closed
 * already (ERROR_NO_DATA: its bytes are still to be read, then the end). */
static bool connected(DWORD err)
{
    return err == 0 || err == ERROR_PIPE_CONNECTED || err == ERROR_NO_DATA;
}

/* Wait for a client on h within timeout. */
static int wait_client(HANDLE h, double timeout)
{
    OVERLAPPED ov = {0};
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (ov.hEvent == NULL)
        return mp_fail_os(MP_EOS, (int)GetLastError(), "CreateEvent");
    DWORD err = ConnectNamedPipe(h, &ov) ? 0 : GetLastError();
    int rc = MP_OK;
    if (err == ERROR_IO_PENDING) {
        rc = mp_timeout_polls(timeout) ? MP_ETIMEDOUT : mp_win_wait_one(ov.hEvent, timeout);
        if (rc != MP_OK)
            CancelIoEx(h, &ov);
        /* The operation must be over before ov goes away; a client that
         * came in the meantime is taken. */
        DWORD ignored;
        err = GetOverlappedResult(h, &ov, &ignored, TRUE) ? 0 : GetLastError();
        if (err == ERROR_OPERATION_ABORTED && rc != MP_OK)
            err = 0;
        else if (connected(err))
            rc = MP_OK;
    }
    CloseHandle(ov.hEvent);
    if (!connected(err))
        return mp_fail_os(MP_EOS, (int)err, "ConnectNamedPipe");
    return rc == MP_ETIMEDOUT ? mp_fail(MP_ETIMEDOUT, "accept: timed out") : rc;
}

int mp_os_npipe_accept(mp_os_npipe_listener *l, double timeout, mp_os_handle *out)
{
    HANDLE h;
    int rc = take_instance(l, &h);
    if (rc != MP_OK)
        return rc;
    rc = wait_client(h, timeout);
    if (rc == MP_ETIMEDOUT) {
        /* Still listening: a client may yet come to it. */
        put_instance(l, h);
        return rc;
    }
    put_instance(l, NULL);
    if (rc != MP_OK) {
        CloseHandle(h);
        return rc;
    }
    *out = (mp_os_handle)h;
    return MP_OK;
}

void mp_os_npipe_close(mp_os_npipe_listener *l)
{
    if (l == NULL)
        return;
    if (l->pending != NULL)
        CloseHandle(l->pending);
    free(l->path);
    free(l);
}

int mp_os_npipe_connect(const char *name, double timeout, mp_os_handle *out)
{
    wchar_t *path;
    int rc = pipe_path(name, &path);
    if (rc != MP_OK)
        return rc;
    double deadline = mp_deadline(timeout);
    for (;;) {
        /* SECURITY_IDENTIFICATION: the server may learn who we are, not act
         * as us; the name is anyone's to take. */
        HANDLE h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                               FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
        if (h != INVALID_HANDLE_VALUE) {
            *out = (mp_os_handle)h;
            break;
        }
        DWORD err = GetLastError();
        if (err != ERROR_PIPE_BUSY) {
            rc = mp_fail_os(MP_EOS, (int)err, "CreateFile(pipe)");
            break;
        }
        if (mp_time_left(deadline) <= 0) {
            rc = mp_fail(MP_ETIMEDOUT, "connect: timed out, every instance of the pipe is busy");
            break;
        }
        /* WaitNamedPipe takes 0 for the pipe's default wait, not for a poll. */
        DWORD ms = mp_win_wait_ms(deadline);
        WaitNamedPipeW(path, ms < 1 ? 1 : ms > BUSY_WAIT_MAX ? BUSY_WAIT_MAX : ms);
    }
    free(path);
    return rc;
}
