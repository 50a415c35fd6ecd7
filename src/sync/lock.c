/* lock.c - Lock and RLock (sync.h): a lock word (lock_word.h) with its
 * semaphore in a shared block. The word records the holding process and
 * thread, so that a holder that ended is noticed, and an RLock's depth.
 * Any process may release a Lock; only the holding thread an RLock. */
#include <stdlib.h>

#include "object/block_object.h"
#include "base/error_internal.h"
#include "sync/lock_backing.h"
#include "sync/lock_internal.h"
#include "sync/lock_word.h"

struct mp_lock {
    mp_block_object base;
};

/* The word sits beside the semaphore, in the slot's spare bytes. An RLock
 * was a robust recursive mutex: its lock and unlock, with the robust list
 * kept and the holder recorded beside, made a Value's increment under its
 * RLock 0.55x a raw mutex's. */
static mp_lock_word *lword(const mp_lock *l)
{
    return mp_block_spare(&l->base.block, 0);
}

static mp_os_sem *lsem(const mp_lock *l)
{
    return l->base.block.sems[0];
}

static bool recursive(const mp_lock *l)
{
    return l->base.hdr.kind == MP_KIND_RLOCK;
}

static int make(mp_lock **out, mp_kind kind)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL out", kind == MP_KIND_RLOCK ? "mp_rlock_new" : "mp_lock_new");
    *out = NULL;
    mp_lock *l = calloc(1, sizeof *l);
    if (l == NULL)
        return mp_fail(MP_ENOMEM, "Lock: out of memory");
    mp_object_init(&l->base.hdr, kind);
    int rc = mp_block_create(&l->base.block, 1, (unsigned[]){0}, 0);
    if (rc != MP_OK) {
        free(l);
        return rc;
    }
    *out = l;
    return MP_OK;
}

int mp_lock_new(mp_lock **out)
{
    return make(out, MP_KIND_LOCK);
}

int mp_rlock_new(mp_lock **out)
{
    return make(out, MP_KIND_RLOCK);
}

static int release_lock(mp_lock *l)
{
    if (mp_lock_word_release(lword(l), lsem(l), mp_lock_word_me()) == MP_ESTATE)
        return mp_fail(MP_ESTATE, "mp_lock_release: the Lock is not locked");
    return MP_OK;
}

static int acquire_rlock(mp_lock *l, double timeout)
{
    mp_lock_word *w = lword(l);
    uint64_t word;
    if (mp_lock_word_try(w, &word)) {
        w->depth = 1;
        return MP_OK;
    }
    if (mp_lock_word_held_by_me(w, word)) {
        w->depth++;
        return MP_OK;
    }
    int rc = mp_lock_word_acquire_slow(w, lsem(l), timeout, MP_LOCK_THREAD, word);
    if (rc == MP_OK || rc == MP_EOWNERDEAD)
        w->depth = 1;
    return rc;
}

static int release_rlock(mp_lock *l)
{
    mp_lock_word *w = lword(l);
    uint64_t word = atomic_load_explicit(&w->word, memory_order_relaxed);
    if (!mp_lock_word_held_by_me(w, word) || w->depth <= 0)
        return mp_fail(MP_ESTATE, "mp_lock_release: this RLock is not held by this thread");
    if (--w->depth > 0)
        return MP_OK;
    return mp_lock_word_release(w, lsem(l), word);
}

int mp_lock_acquire(mp_lock *l, double timeout)
{
    const mp_lock_backing *elsewhere = mp_lock_backing_of(l);
    if (elsewhere != NULL)
        return elsewhere->acquire(l, timeout);
    int rc = mp_object_check(l, MP_KIND_LOCK, "mp_lock_acquire");
    if (rc != MP_OK)
        return rc;
    if (recursive(l))
        return acquire_rlock(l, timeout);
    return mp_lock_word_acquire(lword(l), lsem(l), timeout, MP_LOCK_PROCESS);
}

bool mp_lock_is_mine(const mp_lock *l)
{
    const mp_lock_word *w = lword(l);
    return mp_lock_word_held_by_me(w, atomic_load_explicit(&w->word, memory_order_relaxed));
}

int mp_lock_release(mp_lock *l)
{
    const mp_lock_backing *elsewhere = mp_lock_backing_of(l);
    if (elsewhere != NULL)
        return elsewhere->release(l);
    int rc = mp_object_check(l, MP_KIND_LOCK, "mp_lock_release");
    if (rc != MP_OK)
        return rc;
    return recursive(l) ? release_rlock(l) : release_lock(l);
}

int mp_lock_release_all(mp_lock *l, int *depth)
{
    *depth = recursive(l) ? lword(l)->depth : 1;
    for (int i = 0; i < *depth; i++) {
        int rc = mp_lock_release(l);
        if (rc != MP_OK)
            return rc;
    }
    return MP_OK;
}

int mp_lock_restore(mp_lock *l, int depth)
{
    for (int i = 0; i < depth; i++) {
        int rc = mp_lock_acquire(l, MP_FOREVER);
        if (rc != MP_OK && rc != MP_EOWNERDEAD)
            return rc;
    }
    return MP_OK;
}

void mp_lock_free(mp_lock *l)
{
    if (mp_lock_backing_of(l) != NULL) {
        mp_object_free((mp_object *)(void *)l);
        return;
    }
    mp_object_free_checked(l, MP_KIND_LOCK, "mp_lock_free");
}

/* lword() needs the semaphore's slot. */
static int check_import(const mp_block_object *o)
{
    const mp_block *b = &o->block;
    bool fits = b->nsems == 1;
    return fits ? MP_OK : mp_fail(MP_EPROTO, "Lock: the shared state is not a Lock's or an RLock's");
}

static int lock_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n,
                       mp_object *nested, mp_object **out)
{
    (void)nested;
    return mp_block_object_import(kind, sizeof(mp_lock), fields, h, n, NULL, check_import, out);
}

const mp_object_ops mp_lock_ops = {
    .name = "Lock", .export_ = mp_block_object_export, .import_ = lock_import, .free_ = mp_block_object_free};
