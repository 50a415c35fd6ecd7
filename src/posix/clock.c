/* clock.c - the monotonic clock, sleeping, and deadlines (timeout.h) as the
 * timeouts of poll() and of the waits that take an absolute time. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <time.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "posix.h"

double mp_os_monotonic(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void mp_os_sleep(double seconds)
{
    if (!(seconds > 0))
        return;
    struct timespec left = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

void mp_os_yield(void)
{
    sched_yield();
}

int mp_posix_poll_ms(double deadline)
{
    if (mp_timeout_forever(deadline))
        return -1;
    double left = mp_time_left(deadline);
    if (left <= 0)
        return 0;
    if (left > 86400)
        left = 86400;
    return (int)(left * 1000) + 1;
}

struct timespec mp_posix_abstime(double timeout)
{
    if (mp_timeout_polls(timeout))
        timeout = 0;
    if (timeout > 86400)
        timeout = 86400;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ns = (long long)now.tv_nsec + (long long)(timeout * 1e9);
    return (struct timespec){.tv_sec = now.tv_sec + (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
}

int mp_posix_poll_until(struct pollfd *p, size_t n, double deadline)
{
    for (;;) {
        int ms = mp_posix_poll_ms(deadline);
        int got = poll(p, (nfds_t)n, ms);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return mp_fail_os(MP_EOS, errno, "poll");
        if (got > 0 || ms == 0)
            return got;
    }
}
