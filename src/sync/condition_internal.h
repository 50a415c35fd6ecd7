/* condition_internal.h - the condition variable that Condition, Event and
 * Barrier share: a lock, three semaphores (sleepers, woken, wake-ups) and a
 * small shared state area for Event's flag and Barrier's counters. */
#ifndef MPROC_CONDITION_INTERNAL_H
#define MPROC_CONDITION_INTERNAL_H

#include "object/block.h"
#include "sync/lock_internal.h"

#define MP_COND_STATE_SIZE 256

typedef struct mp_cond_object {
    mp_object hdr;
    mp_block block; /* payload: MP_COND_STATE_SIZE bytes of kind state */
    mp_lock *lock;
    bool owns_lock;
} mp_cond_object;

/* lock NULL: a new one (RLock if rlock, else Lock), owned. */
int mp_shcond_init(mp_cond_object *c, mp_kind kind, mp_lock *lock, bool rlock);
/* The lock must be held by the caller (else MP_ESTATE). */
int mp_shcond_wait(mp_cond_object *c, double timeout);
int mp_shcond_notify(mp_cond_object *c, unsigned n);
/* wait until pred(arg), up to timeout; MP_ETIMEDOUT if still false. */
int mp_shcond_wait_for(mp_cond_object *c, bool (*pred)(void *), void *arg, double timeout);

/* object ops shared by the three kinds */
int mp_shcond_export(const mp_object *o, mp_export *e);
int mp_shcond_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n, mp_object *nested,
                   mp_object **out);
void mp_shcond_free(mp_object *o);

#endif
