/* clock.c - the monotonic clock, sleeping, and deadlines (clock.h). */
#include <windows.h>

#include <math.h>

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

double mp_win_deadline(double timeout)
{
    return timeout < 0 ? HUGE_VAL : mp_os_monotonic() + timeout;
}

DWORD mp_win_wait_ms(double deadline)
{
    if (isinf(deadline))
        return INFINITE;
    double ms = ceil((deadline - mp_os_monotonic()) * 1000.0);
    if (!(ms > 0))
        return 0;
    return ms >= (double)(INFINITE - 1) ? INFINITE - 1 : (DWORD)ms;
}

void mp_os_sleep(double seconds)
{
    if (!(seconds > 0))
        return;
    double deadline = mp_win_deadline(seconds);
    while (mp_os_monotonic() < deadline)
        Sleep(mp_win_wait_ms(deadline));
}
