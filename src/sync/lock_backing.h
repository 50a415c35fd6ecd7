/* lock_backing.h - a Lock or RLock held elsewhere behind mp_lock_acquire,
 * mp_lock_release and mp_lock_free (sync.h): a manager's lock through its
 * proxy. As queue_backing.h is for queues. */
#ifndef MPROC_SYNC_LOCK_BACKING_H
#define MPROC_SYNC_LOCK_BACKING_H

#include "mproc/sync.h"
#include "object/object.h"

typedef struct mp_lock_backing {
    int (*acquire)(mp_lock *l, double timeout);
    int (*release)(mp_lock *l);
} mp_lock_backing;

/* NULL for mproc's own locks and for anything that is not a live object. */
static inline const mp_lock_backing *mp_lock_backing_of(const mp_lock *l)
{
    const mp_object *o = (const void *)l;
    if (o == NULL || (o->magic == MP_OBJECT_MAGIC && (o->kind == MP_KIND_LOCK || o->kind == MP_KIND_RLOCK)))
        return NULL;
    const mp_object_ops *ops = mp_object_ops_of(o);
    return ops != NULL ? ops->as_lock : NULL;
}

#endif
