/* condition_internal.h - the condition variable that Condition, Event and
 * Barrier share: a lock, three semaphores (sleepers, woken, wake-ups) and a
 * small shared state area for Event's flag and Barrier's counters. */
#ifndef MPROC_CONDITION_INTERNAL_H
#define MPROC_CONDITION_INTERNAL_H

#include "object/block_object.h"
#include "sync/lock_internal.h"

#define MP_COND_STATE_SIZE 256

/* The block's payload: MP_COND_STATE_SIZE bytes of kind state. The nested
 * object is the lock, which travels with it. */
typedef struct mp_cond_object {
    mp_block_object base;
} mp_cond_object;

static inline mp_lock *mp_shcond_lock(const mp_cond_object *c)
{
    return (mp_lock *)(void *)c->base.nested; /* an mp_lock starts with its header */
}

/* lock NULL: a new one (RLock if rlock, else Lock), owned. */
int mp_shcond_init(mp_cond_object *c, mp_kind kind, mp_lock *lock, bool rlock);
/* The lock must be held by the caller (else MP_ESTATE). */
int mp_shcond_wait(mp_cond_object *c, double timeout);
int mp_shcond_notify(mp_cond_object *c, unsigned n);
/* wait until pred(arg), up to timeout; MP_ETIMEDOUT if still false. */
int mp_shcond_wait_for(mp_cond_object *c, bool (*pred)(void *), void *arg, double timeout);

/* import_ of the three kinds; export_ and free_ are the block object's. */
int mp_shcond_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n, mp_object *nested,
                     mp_object **out);

#endif
