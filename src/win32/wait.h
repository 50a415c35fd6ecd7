/* wait.h - waiting for kernel objects with a timeout in seconds, and for
 * the read ends of mp_os_pipe. */
#ifndef MPROC_WIN32_WAIT_H
#define MPROC_WIN32_WAIT_H

#include <windows.h>

#include <stdbool.h>

/* MP_OK once h is signalled, MP_ETIMEDOUT, or an error (MP_EINVAL for a
 * handle that is not valid). */
int mp_win_wait_one(HANDLE h, double timeout);

/* Watching a pipe end from mp_os_pipe (pipe.c) for readability: a
 * zero-byte overlapped read that completes, consuming nothing, when data
 * arrives or the peer goes. ov.hEvent is set from then on; it is set at
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

#endif
