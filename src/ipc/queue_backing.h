/* queue_backing.h - a Queue held elsewhere behind the mp_queue_* calls
 * (queue.h): a manager's Queue through its proxy, and the next backings
 * (Redis) the same way. queue.c does the work for its own queues and hands
 * any other object whose kind has as_queue (object.h) to it. The backing
 * gets what the public call got, checked only for being its kind. */
#ifndef MPROC_IPC_QUEUE_BACKING_H
#define MPROC_IPC_QUEUE_BACKING_H

#include <stddef.h>

#include "mproc/queue.h"
#include "object/object.h"

typedef struct mp_queue_backing {
    int (*put_packed)(mp_queue *q, double timeout, const void *data, size_t len);
    int (*get)(mp_queue *q, double timeout, mp_value **out);
    /* qsize, empty and full, as queue.h returns them. */
    int (*qsize)(mp_queue *q);
    int (*empty)(mp_queue *q);
    int (*full)(mp_queue *q);
    int (*close)(mp_queue *q);
    int (*join_thread)(mp_queue *q);
    int (*task_done)(mp_queue *q);
    int (*join)(mp_queue *q, double timeout);
} mp_queue_backing;

/* NULL for mproc's own queues (at the cost of one comparison, so their
 * calls stay as fast), and for anything that is not a live object. */
static inline const mp_queue_backing *mp_queue_backing_of(const mp_queue *q)
{
    const mp_object *o = (const void *)q;
    if (o == NULL || (o->magic == MP_OBJECT_MAGIC && o->kind == MP_KIND_QUEUE))
        return NULL;
    const mp_object_ops *ops = mp_object_ops_of(o);
    return ops != NULL ? ops->as_queue : NULL;
}

#endif
