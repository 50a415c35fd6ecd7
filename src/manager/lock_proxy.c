/* lock_proxy.c - mp_lock_acquire and mp_lock_release on the proxy of a
 * manager's Lock or RLock (lock_backing.h): its acquire(blocking, timeout)
 * and release(). The server knows the holder by connection and thread, so
 * an RLock is held by the thread that acquired it, as a local one. */
#include "base/error_internal.h"
#include "base/timeout.h"
#include "manager/proxy.h"
#include "sync/lock_backing.h"

static mp_proxy *proxy_of(mp_lock *l)
{
    return (mp_proxy *)(void *)l;
}

static int acquire(mp_lock *l, double timeout)
{
    mp_value *got = NULL;
    int rc;
    if (mp_timeout_forever(timeout))
        rc = mp_proxy_call(proxy_of(l), "acquire", &got, "? n", 1);
    else if (mp_timeout_polls(timeout))
        rc = mp_proxy_call(proxy_of(l), "acquire", &got, "? n", 0);
    else
        rc = mp_proxy_call(proxy_of(l), "acquire", &got, "? d", 1, timeout);
    if (rc == MP_OK && (got->type != MP_BOOL))
        rc = mp_fail(MP_EPROTO, "mp_lock_acquire: the manager's acquire() gave no bool");
    else if (rc == MP_OK && !got->as.b)
        rc = mp_fail(MP_ETIMEDOUT, "mp_lock_acquire: the manager's lock was not acquired in time");
    mp_value_free(got);
    return rc;
}

static int release(mp_lock *l)
{
    return mp_proxy_call(proxy_of(l), "release", NULL, NULL);
}

const mp_lock_backing mp_proxy_as_lock_ops = {acquire, release};
