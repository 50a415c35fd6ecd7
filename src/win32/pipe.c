/* pipe.c - the two ends of a Pipe: an overlapped named pipe with a unique
 * name, created with FILE_FLAG_FIRST_PIPE_INSTANCE (no one can have made it
 * first) and handles that are not inheritable. Overlapped I/O lets one
 * thread read while another writes on the same duplex handle; each call
 * waits on its own event for its own I/O to finish.
 *
 * Waiting for a pipe to become readable is a zero-byte overlapped read (a
 * probe, pipe_probe.h): it completes, consuming nothing, once data is there or
 * the peer has gone, and its event can be waited for like any handle. So
 * readiness costs no polling and no latency. */
#include <windows.h>

#include <stdio.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "clock.h"
#include "pipe_probe.h"
#include "platform.h"

#define PIPE_BUFFER (64 * 1024)
/* The most one WriteFile or ReadFile is asked to move. */
#define CHUNK (1u << 20)

static volatile LONG counter;

/* "\\.\pipe\mproc-<pid>-<counter>-<16 hex digits>", NUL included. */
#define PIPE_NAME_SIZE 128

static int pipe_name(wchar_t *name, size_t size)
{
    unsigned char rnd[8];
    int rc = mp_os_random(rnd, sizeof rnd);
    if (rc != MP_OK)
        return rc;
    swprintf(name, size, L"\\\\.\\pipe\\mproc-%lu-%ld-%02x%02x%02x%02x%02x%02x%02x%02x", GetCurrentProcessId(),
             InterlockedIncrement(&counter), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    return MP_OK;
}

/* The client has already opened the pipe, so this normally finds it
 * connected (ERROR_PIPE_CONNECTED) at once. */
static int connect_server(HANDLE server)
{
    OVERLAPPED ov = {0};
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (ov.hEvent == NULL)
        return mp_fail_os(MP_EOS, (int)GetLastError(), "CreateEvent");
    DWORD err = 0, ignored;
    if (!ConnectNamedPipe(server, &ov)) {
        err = GetLastError();
        if (err == ERROR_IO_PENDING)
            err = GetOverlappedResult(server, &ov, &ignored, TRUE) ? 0 : GetLastError();
        else if (err == ERROR_PIPE_CONNECTED)
            err = 0;
    }
    CloseHandle(ov.hEvent);
    return err == 0 ? MP_OK : mp_fail_os(MP_EOS, (int)err, "ConnectNamedPipe");
}

int mp_os_pipe(bool duplex, mp_os_handle *r, mp_os_handle *w)
{
    wchar_t name[PIPE_NAME_SIZE];
    int rc = pipe_name(name, sizeof name / sizeof name[0]);
    if (rc != MP_OK)
        return rc;
    DWORD access = duplex ? PIPE_ACCESS_DUPLEX : PIPE_ACCESS_INBOUND;
    HANDLE server = CreateNamedPipeW(name, access | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                     PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                                     1, PIPE_BUFFER, PIPE_BUFFER, 0, NULL);
    if (server == INVALID_HANDLE_VALUE)
        return mp_fail_os(MP_EOS, (int)GetLastError(), "CreateNamedPipe");
    /* The write-only end may still be queried (GetNamedPipeInfo, and
     * PeekNamedPipe to learn whether the reader has gone), which takes
     * FILE_READ_ATTRIBUTES. */
    DWORD client_access = duplex ? GENERIC_READ | GENERIC_WRITE : GENERIC_WRITE | FILE_READ_ATTRIBUTES;
    HANDLE client = CreateFileW(name, client_access, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
    if (client == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        CloseHandle(server);
        return mp_fail_os(MP_EOS, (int)err, "CreateFile(pipe)");
    }
    rc = connect_server(server);
    if (rc != MP_OK) {
        CloseHandle(client);
        CloseHandle(server);
        return rc;
    }
    *r = (mp_os_handle)server;
    *w = (mp_os_handle)client;
    return MP_OK;
}

/* One overlapped read or write, waited for: bytes done, or 0 with err. */
static DWORD transfer(HANDLE h, bool write, void *buf, DWORD len, DWORD *err)
{
    OVERLAPPED ov = {0};
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (ov.hEvent == NULL) {
        *err = GetLastError();
        return 0;
    }
    DWORD done = 0;
    BOOL ok = write ? WriteFile(h, buf, len, NULL, &ov) : ReadFile(h, buf, len, NULL, &ov);
    *err = ok ? 0 : GetLastError();
    if (ok || *err == ERROR_IO_PENDING)
        *err = GetOverlappedResult(h, &ov, &done, TRUE) ? 0 : GetLastError();
    CloseHandle(ov.hEvent);
    return done;
}

int mp_os_pipe_write(mp_os_handle h, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        DWORD err, n = transfer((HANDLE)h, true, (void *)p, len > CHUNK ? CHUNK : (DWORD)len, &err);
        if (err != 0)
            return mp_win_pipe_closed(err) ? mp_fail(MP_EEOF, "the other end of the pipe is closed")
                                    : mp_fail_os(MP_EOS, (int)err, "WriteFile(pipe)");
        p += n;
        len -= n;
    }
    return MP_OK;
}

/* A byte-mode pipe reports its end as an error, never as a zero-byte read;
 * a zero-byte read is someone's zero-byte write and is read past. */
int mp_os_pipe_read(mp_os_handle h, void *buf, size_t len)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t want = len - done;
        DWORD err, n = transfer((HANDLE)h, false, p + done, want > CHUNK ? CHUNK : (DWORD)want, &err);
        if (err != 0 && !mp_win_pipe_closed(err))
            return mp_fail_os(MP_EOS, (int)err, "ReadFile(pipe)");
        if (err != 0 && done == 0)
            return mp_fail(MP_EEOF, "the other end of the pipe is closed");
        if (err != 0)
            return mp_fail(MP_EPROTO, "the other end closed the pipe %zu bytes into a %zu-byte read", done, len);
        done += n;
    }
    return MP_OK;
}

int mp_os_pipe_read_some(mp_os_handle h, void *buf, size_t cap, size_t *got)
{
    for (;;) {
        DWORD err, n = transfer((HANDLE)h, false, buf, cap > CHUNK ? CHUNK : (DWORD)cap, &err);
        if (err != 0 && !mp_win_pipe_closed(err))
            return mp_fail_os(MP_EOS, (int)err, "ReadFile(pipe)");
        if (err != 0)
            return mp_fail(MP_EEOF, "the other end of the pipe is closed");
        if (n > 0) {
            *got = n;
            return MP_OK;
        }
    }
}

void mp_os_pipe_shutdown(mp_os_handle h)
{
    /* A server end can be disconnected, which fails its reads from now
     * on; a client end cannot, so its pending reads are cancelled. */
    if (!DisconnectNamedPipe((HANDLE)h))
        (void)CancelIoEx((HANDLE)h, NULL);
}

int mp_os_pipe_poll(mp_os_handle h, double timeout)
{
    mp_win_probe probe;
    bool ready = false;
    int rc = mp_win_probe_start(&probe, (HANDLE)h, &ready);
    if (rc != MP_OK)
        return rc;
    if (!ready && !mp_timeout_polls(timeout)) {
        rc = mp_win_wait_one(probe.ov.hEvent, timeout);
        if (rc != MP_OK && rc != MP_ETIMEDOUT) {
            mp_win_probe_end(&probe);
            return rc;
        }
    }
    return mp_win_probe_end(&probe) ? MP_OK : MP_ETIMEDOUT;
}
