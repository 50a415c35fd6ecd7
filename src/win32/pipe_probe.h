/* pipe_probe.h - watching the read end of an mp_os_pipe, or a socket, for
 * readability without reading from it: a helper of the pipes (pipe.c) and
 * waiting (wait.c) sections, which both need a pipe end's readiness as a
 * handle they can wait for. */
#ifndef MPROC_WIN32_PIPE_PROBE_H
#define MPROC_WIN32_PIPE_PROBE_H

#include <windows.h>

#include <stdbool.h>

/* A zero-byte overlapped read (on a socket, an overlapped one-byte peek)
 * that completes, consuming nothing, when data arrives or the peer goes. ov.hEvent is set from then on; it is set at
 * once if the pipe is ready already. Only for overlapped handles: on any
 * other pipe the read would block. */
typedef struct mp_win_probe {
    OVERLAPPED ov;
    HANDLE pipe;
    bool pending; /* the read is still in flight */
} mp_win_probe;

/* Start watching; *ready tells whether the pipe is readable already. */
int mp_win_probe_start(mp_win_probe *p, HANDLE pipe, bool *ready);
/* Stop watching (cancel the read if it is still in flight) and release
 * p; true if the pipe was found readable. */
bool mp_win_probe_end(mp_win_probe *p);

/* True if h is a socket (sockets: socket.c): a probe peeks at it. A
 * Winsock call, so only for handles that may be sockets (a pipe's file
 * type is also a socket's). */
bool mp_win_is_socket(HANDLE h);

/* True if err is how a pipe end tells that its peer has closed. */
bool mp_win_pipe_closed(DWORD err);

#endif
