/* served_wait.c - how the built-in objects wait (served.h): in slices, so
 * that a method whose caller has gone gives up within one, and Python's
 * block/timeout arguments turned into deadlines. */
#include "base/error_internal.h"
#include "base/timeout.h"
#include "manager/served.h"

int mp_served_wait(mp_served_call *call, mp_os_cond *cond, mp_os_mutex *m, double deadline)
{
    if (mp_served_call_abandoned(call))
        return mp_fail(MP_ECONNRESET, "manager: the caller's connection ended while it waited");
    double left = mp_time_left(deadline);
    if (mp_timeout_polls(left))
        return MP_ETIMEDOUT;
    mp_os_cond_wait(cond, m, left < MP_SERVED_WAIT_SLICE ? left : MP_SERVED_WAIT_SLICE);
    if (mp_served_call_abandoned(call))
        return mp_fail(MP_ECONNRESET, "manager: the caller's connection ended while it waited");
    return mp_timeout_polls(mp_time_left(deadline)) ? MP_ETIMEDOUT : MP_OK;
}

static const mp_value *arg_at(const mp_value *args, uint32_t at)
{
    if (args == NULL || args->type != MP_ARRAY || at >= args->as.array.len)
        return NULL;
    return &args->as.array.items[at];
}

int mp_served_timeout_arg(const mp_value *args, uint32_t at, double *deadline, const char *where)
{
    const mp_value *t = arg_at(args, at);
    if (t == NULL || t->type == MP_NIL) {
        *deadline = MP_FOREVER;
        return MP_OK;
    }
    double seconds;
    if (t->type == MP_INT)
        seconds = (double)t->as.i;
    else if (t->type == MP_UINT)
        seconds = (double)t->as.u;
    else if (t->type == MP_DOUBLE)
        seconds = t->as.d;
    else
        return mp_fail(MP_ETYPE, "manager: %s: the timeout must be a number or None", where);
    *deadline = mp_deadline(seconds);
    return MP_OK;
}

int mp_served_deadline_args(const mp_value *args, uint32_t first, double *deadline, const char *where)
{
    const mp_value *block = arg_at(args, first);
    bool blocking = true;
    if (block != NULL && block->type == MP_BOOL)
        blocking = block->as.b;
    else if (block != NULL && (block->type == MP_INT || block->type == MP_UINT))
        blocking = block->as.i != 0; /* C callers pack 'i'; as.u shares the bits */
    else if (block != NULL)
        return mp_fail(MP_ETYPE, "manager: %s: block must be a bool", where);
    int rc = mp_served_timeout_arg(args, first + 1, deadline, where);
    if (rc == MP_OK && !blocking)
        *deadline = mp_os_monotonic(); /* Python ignores the timeout then */
    return rc;
}
