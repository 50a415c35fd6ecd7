/* clock.h - deadlines (timeout.h) as Windows' waits: a helper of the clock
 * section for every file here that waits with a timeout. */
#ifndef MPROC_WIN32_CLOCK_H
#define MPROC_WIN32_CLOCK_H

#include <windows.h>

/* Milliseconds to wait for a deadline from mp_deadline, rounded up:
 * INFINITE for forever, 0 once it has passed, at most
 * INFINITE - 1 otherwise. A wait can end a little before its time, so callers
 * wait again while mp_os_monotonic() < deadline. */
DWORD mp_win_wait_ms(double deadline);

/* Wait for h up to timeout, again while a wait ends early: the last
 * WaitForSingleObject result (WAIT_OBJECT_0, WAIT_ABANDONED, WAIT_TIMEOUT, or
 * WAIT_FAILED with GetLastError() set). The wait takes a semaphore or mutex
 * that it finds free. */
DWORD mp_win_wait_for(HANDLE h, double timeout);

/* For an object a wait does not change (a process, a manual-reset event):
 * MP_OK once h is signalled, MP_ETIMEDOUT, or an error (MP_EINVAL for a
 * handle that is not valid). */
int mp_win_wait_one(HANDLE h, double timeout);

#endif
