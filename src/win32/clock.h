/* clock.h - deadlines for Windows' millisecond waits. */
#ifndef MPROC_WIN32_CLOCK_H
#define MPROC_WIN32_CLOCK_H

#include <windows.h>

/* The deadline on mp_os_monotonic's clock for a timeout in seconds; +inf
 * for a negative (forever) timeout. */
double mp_win_deadline(double timeout);

/* Milliseconds to wait for deadline, rounded up: INFINITE for +inf, at most
 * INFINITE - 1 otherwise. A wait can end a little before its time, so callers
 * wait again while mp_os_monotonic() < deadline. */
DWORD mp_win_wait_ms(double deadline);

#endif
