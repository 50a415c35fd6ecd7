/* timeout.h - what a timeout means, decided once for every wait (core and
 * both platform layers).
 *
 * MP_FOREVER (+inf) waits forever. 0, any negative value and NaN poll, so
 * that a `deadline - now()` that went negative (or bad arithmetic) can never
 * turn into "wait forever". t > 0 waits up to t seconds. A wait turns its
 * timeout into a deadline once and passes what is left of it on: +inf stays
 * +inf, so a loop needs no special case for forever. */
#ifndef MPROC_TIMEOUT_H
#define MPROC_TIMEOUT_H

#include <stdbool.h>

#include "mproc/process.h"
#include "platform.h"

/* True for MP_FOREVER, and for the deadline mp_deadline makes of it. */
static inline bool mp_timeout_forever(double t)
{
    return t == MP_FOREVER;
}

/* True when the timeout asks not to wait at all: 0, negative or NaN. */
static inline bool mp_timeout_polls(double timeout)
{
    return !(timeout > 0);
}

/* The deadline on mp_os_monotonic's clock: +inf for MP_FOREVER, now for a
 * poll. */
static inline double mp_deadline(double timeout)
{
    if (mp_timeout_forever(timeout))
        return MP_FOREVER;
    double now = mp_os_monotonic();
    return mp_timeout_polls(timeout) ? now : now + timeout;
}

/* Seconds until deadline: +inf for forever, <= 0 once it has passed (a
 * poll, if passed on as a timeout). */
static inline double mp_time_left(double deadline)
{
    return mp_timeout_forever(deadline) ? MP_FOREVER : deadline - mp_os_monotonic();
}

#endif
