/* pipe_probe.c - readiness of a pipe end or a socket without reading from
 * it (pipe_probe.h), for the pipes (pipe.c) and waiting (wait.c) sections. */
#include <winsock2.h>
#include <windows.h>

#include "base/error_internal.h"
#include "pipe_probe.h"

bool mp_win_pipe_closed(DWORD err)
{
    return err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA || err == ERROR_PIPE_NOT_CONNECTED;
}

bool mp_win_is_socket(HANDLE h)
{
    int type, n = sizeof type;
    return getsockopt((SOCKET)h, SOL_SOCKET, SO_TYPE, (char *)&type, &n) == 0;
}

/* A socket's probe is a one-byte peek, which consumes nothing either and
 * completes with data or at the peer's end. */
static DWORD start_read(HANDLE h, OVERLAPPED *ov)
{
    static char unused;
    if (!mp_win_is_socket(h))
        return ReadFile(h, &unused, 0, NULL, ov) ? 0 : GetLastError();
    static char peeked;
    WSABUF buf = {1, &peeked};
    DWORD flags = MSG_PEEK;
    if (WSARecv((SOCKET)h, &buf, 1, NULL, &flags, ov, NULL) == 0)
        return 0;
    int err = WSAGetLastError();
    return err == WSAECONNRESET || err == WSAECONNABORTED || err == WSAESHUTDOWN ? ERROR_BROKEN_PIPE : (DWORD)err;
}

int mp_win_probe_start(mp_win_probe *p, HANDLE pipe, bool *ready)
{
    *p = (mp_win_probe){.pipe = pipe};
    p->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (p->ov.hEvent == NULL)
        return mp_fail_os(MP_EOS, (int)GetLastError(), "CreateEvent");
    DWORD err = start_read(pipe, &p->ov);
    if (err == ERROR_IO_PENDING) {
        p->pending = true;
        *ready = false;
        return MP_OK;
    }
    if (err == 0 || mp_win_pipe_closed(err)) {
        /* A read that fails at once leaves the event alone. */
        SetEvent(p->ov.hEvent);
        *ready = true;
        return MP_OK;
    }
    CloseHandle(p->ov.hEvent);
    p->ov.hEvent = NULL;
    return mp_fail_os(err == ERROR_INVALID_HANDLE ? MP_EINVAL : MP_EOS, (int)err, "ReadFile(pipe, 0 bytes)");
}

bool mp_win_probe_end(mp_win_probe *p)
{
    bool ready = !p->pending;
    if (p->pending) {
        DWORD ignored;
        /* Either it completed (data, or the peer has gone) or, once
         * cancelled, it fails with ERROR_OPERATION_ABORTED. */
        if (!HasOverlappedIoCompleted(&p->ov))
            CancelIoEx(p->pipe, &p->ov);
        ready = GetOverlappedResult(p->pipe, &p->ov, &ignored, TRUE) || GetLastError() != ERROR_OPERATION_ABORTED;
    }
    if (p->ov.hEvent != NULL)
        CloseHandle(p->ov.hEvent);
    *p = (mp_win_probe){0};
    return ready;
}
