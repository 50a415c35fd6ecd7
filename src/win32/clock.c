/* clock.c - the monotonic clock, sleeping, and deadlines (timeout.h) as
 * Windows' waits (clock.h). */
#include <windows.h>

#include <math.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "clock.h"
#include "platform.h"

double mp_os_monotonic(void)
{
    LARGE_INTEGER freq, now;
    QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    /* Split, so that a long uptime keeps the counter's full resolution. */
    return (double)(now.QuadPart / freq.QuadPart) +
           (double)(now.QuadPart % freq.QuadPart) / (double)freq.QuadPart;
}

DWORD mp_win_wait_ms(double deadline)
{
    if (mp_timeout_forever(deadline))
        return INFINITE;
    double ms = ceil(mp_time_left(deadline) * 1000.0);
    if (!(ms > 0))
        return 0;
    return ms >= (double)(INFINITE - 1) ? INFINITE - 1 : (DWORD)ms;
}

void mp_os_sleep(double seconds)
{
    if (!(seconds > 0))
        return;
    double deadline = mp_deadline(seconds);
    while (mp_os_monotonic() < deadline)
        Sleep(mp_win_wait_ms(deadline));
}

void mp_os_yield(void)
{
    SwitchToThread();
}

DWORD mp_win_wait_for(HANDLE h, double timeout)
{
    double deadline = mp_deadline(timeout);
    for (;;) {
        DWORD r = WaitForSingleObject(h, mp_win_wait_ms(deadline));
        if (r != WAIT_TIMEOUT || mp_os_monotonic() >= deadline)
            return r;
    }
}

int mp_win_wait_one(HANDLE h, double timeout)
{
    DWORD r = mp_win_wait_for(h, timeout);
    if (r == WAIT_FAILED) {
        DWORD err = GetLastError();
        return mp_fail_os(err == ERROR_INVALID_HANDLE ? MP_EINVAL : MP_EOS, (int)err, "mp_wait: cannot wait");
    }
    return r == WAIT_TIMEOUT ? MP_ETIMEDOUT : MP_OK;
}
