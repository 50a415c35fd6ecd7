/* pipe.c - the two ends of a Pipe: an overlapped named pipe with a unique
 * name, created with FILE_FLAG_FIRST_PIPE_INSTANCE (no one can have made it
 * first) and handles that are not inheritable. Overlapped I/O lets one
 * thread read while another writes on the same duplex handle; each call
 * waits for its own I/O to finish. */
#include <windows.h>

#include <stdio.h>

#include "errors.h"
#include "platform.h"

#define PIPE_BUFFER (64 * 1024)
#define CHUNK (1u << 20)

static volatile LONG counter;

int mp_os_pipe(bool duplex, mp_os_handle *r, mp_os_handle *w)
{
    unsigned char rnd[8];
    mp_os_random(rnd, sizeof rnd);
    wchar_t name[128];
    swprintf(name, 128, L"\\\\.\\pipe\\mproc-%lu-%ld-%02x%02x%02x%02x%02x%02x%02x%02x", GetCurrentProcessId(),
             InterlockedIncrement(&counter), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    DWORD access = duplex ? PIPE_ACCESS_DUPLEX : PIPE_ACCESS_INBOUND;
    HANDLE server = CreateNamedPipeW(name, access | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                     PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, PIPE_BUFFER, PIPE_BUFFER,
                                     0, NULL);
    if (server == INVALID_HANDLE_VALUE)
        return mp_fail_os(MP_EOS, (int)GetLastError(), "CreateNamedPipe");
    DWORD client_access = duplex ? GENERIC_READ | GENERIC_WRITE : GENERIC_WRITE | FILE_READ_ATTRIBUTES;
    HANDLE client = CreateFileW(name, client_access, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
    if (client == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        CloseHandle(server);
        return mp_fail_os(MP_EOS, (int)err, "CreateFile(pipe)");
    }
    OVERLAPPED ov = {0};
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!ConnectNamedPipe(server, &ov)) {
        DWORD err = GetLastError();
        DWORD ignored;
        if (err == ERROR_IO_PENDING)
            GetOverlappedResult(server, &ov, &ignored, TRUE);
    }
    CloseHandle(ov.hEvent);
    *r = (mp_os_handle)server;
    *w = (mp_os_handle)client;
    return MP_OK;
}

static bool closed_peer(DWORD err)
{
    return err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA || err == ERROR_PIPE_NOT_CONNECTED;
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
            return closed_peer(err) ? mp_fail(MP_EEOF, "the other end of the pipe is closed")
                                    : mp_fail_os(MP_EOS, (int)err, "WriteFile(pipe)");
        p += n;
        len -= n;
    }
    return MP_OK;
}

int mp_os_pipe_read(mp_os_handle h, void *buf, size_t len)
{
    char *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t want = len - done;
        DWORD err, n = transfer((HANDLE)h, false, p + done, want > CHUNK ? CHUNK : (DWORD)want, &err);
        if (err == ERROR_MORE_DATA)
            err = 0;
        if (err != 0 && !closed_peer(err))
            return mp_fail_os(MP_EOS, (int)err, "ReadFile(pipe)");
        if ((err != 0 || n == 0) && done == 0)
            return mp_fail(MP_EEOF, "the other end of the pipe is closed");
        if (err != 0 || n == 0)
            return mp_fail(MP_EPROTO, "the other end closed the pipe %zu bytes into a %zu-byte read", done, len);
        done += n;
    }
    return MP_OK;
}

/* Ready when bytes are waiting or the peer has gone. PeekNamedPipe does not
 * wait, so waiting is a poll whose interval grows to 1 ms: at most 1 ms of
 * added latency for a message that arrives during a long wait. */
static bool ready_now(HANDLE h)
{
    DWORD avail = 0;
    if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL))
        return true;
    return avail > 0;
}

int mp_os_pipe_poll(mp_os_handle h, double timeout)
{
    double deadline = timeout < 0 ? 0 : mp_os_monotonic() + timeout;
    for (int spin = 0;; spin++) {
        if (ready_now((HANDLE)h))
            return MP_OK;
        if (timeout >= 0 && mp_os_monotonic() >= deadline)
            return MP_ETIMEDOUT;
        if (spin < 50)
            SwitchToThread();
        else
            Sleep(1);
    }
}
