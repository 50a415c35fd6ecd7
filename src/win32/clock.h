/* clock.h - deadlines (timeout.h) as Windows' millisecond waits. */
#ifndef MPROC_WIN32_CLOCK_H
#define MPROC_WIN32_CLOCK_H

#include <windows.h>

/* Milliseconds to wait for a deadline from mp_deadline, rounded up:
 * INFINITE for forever, 0 once it has passed, at most
 * INFINITE - 1 otherwise. A wait can end a little before its time, so callers
 * wait again while mp_os_monotonic() < deadline. */
DWORD mp_win_wait_ms(double deadline);

#endif
