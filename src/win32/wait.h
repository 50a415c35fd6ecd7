/* wait.h - waiting for kernel objects with a timeout in seconds. */
#ifndef MPROC_WIN32_WAIT_H
#define MPROC_WIN32_WAIT_H

#include <windows.h>

/* MP_OK once h is signalled, MP_ETIMEDOUT, or an error (MP_EINVAL for a
 * handle that is not valid). */
int mp_win_wait_one(HANDLE h, double timeout);

#endif
