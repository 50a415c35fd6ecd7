/* pause.h - sleeping for a while in the plain helper programs (not linked
 * with mproc, so without its clock). */
#ifndef MPROC_TESTS_HELPER_PAUSE_H
#define MPROC_TESTS_HELPER_PAUSE_H

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

static inline void pause_for(double s)
{
#ifdef _WIN32
    Sleep((DWORD)(s * 1000));
#else
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) != 0)
        ;
#endif
}

#endif
