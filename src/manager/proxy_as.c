/* proxy_as.c - a manager's Queue and Lock as mp_queue and mp_lock
 * (manager.h): the proxy is the object, and the mp_queue_* and mp_lock_*
 * calls find their way to it through its kind (queue_proxy.c,
 * lock_proxy.c). */
#include "base/error_internal.h"
#include "mproc/manager.h"
#include "object/object.h"

static bool is_proxy(const void *p)
{
    const mp_object_ops *ops = mp_object_ops_of(p);
    return ops != NULL && ((const mp_object *)p)->kind == MP_KIND_PROXY;
}

mp_queue *mp_proxy_as_queue(mp_proxy *p)
{
    return is_proxy(p) ? (mp_queue *)(void *)p : NULL;
}

mp_lock *mp_proxy_as_lock(mp_proxy *p)
{
    return is_proxy(p) ? (mp_lock *)(void *)p : NULL;
}

mp_proxy *mp_queue_as_proxy(mp_queue *q)
{
    return is_proxy(q) ? (mp_proxy *)(void *)q : NULL;
}

mp_proxy *mp_lock_as_proxy(mp_lock *l)
{
    return is_proxy(l) ? (mp_proxy *)(void *)l : NULL;
}

static int create(mp_manager *m, const char *typeid, void **out, const char *where, const char *fmt, int arg)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL out", where);
    *out = NULL;
    mp_proxy *p;
    int rc =
        fmt != NULL ? mp_manager_create(m, typeid, &p, fmt, arg) : mp_manager_create(m, typeid, &p, NULL);
    if (rc == MP_OK)
        *out = p;
    return rc;
}

int mp_manager_queue(mp_manager *m, mp_queue **out, int maxsize)
{
    return create(m, "Queue", (void **)out, "mp_manager_queue", "i", maxsize > 0 ? maxsize : 0);
}

int mp_manager_joinable_queue(mp_manager *m, mp_queue **out, int maxsize)
{
    return create(m, "JoinableQueue", (void **)out, "mp_manager_joinable_queue", "i",
                  maxsize > 0 ? maxsize : 0);
}

int mp_manager_lock(mp_manager *m, mp_lock **out)
{
    return create(m, "Lock", (void **)out, "mp_manager_lock", NULL, 0);
}

int mp_manager_rlock(mp_manager *m, mp_lock **out)
{
    return create(m, "RLock", (void **)out, "mp_manager_rlock", NULL, 0);
}
