/* lock.c - Lock and RLock (sync.h). Both are a word in shared memory
 * with a semaphore to sleep on. The word records the holding process, so
 * that a holder that died is noticed; beside it are the holding thread,
 * for Condition's ownership checks and an RLock's, and an RLock's depth.
 * Any process may release a Lock; only the holding thread an RLock. */
#include <stdatomic.h>
#include <stdlib.h>

#include "object/block_object.h"
#include "base/error_internal.h"
#include "sync/lock_backing.h"
#include "sync/lock_internal.h"
#include "base/timeout.h"

/* How often a blocked Lock acquirer checks that the holder still lives. */
#define OWNER_CHECK_INTERVAL 0.1
/* A Lock is mostly held for a moment: an acquirer that finds it held
 * watches the word for up to SPIN_READS reads, SPIN_TRIES times, before it
 * sleeps on the semaphore, as an adaptive mutex does. A holder that lets
 * go within those microseconds then costs neither side a system call (the
 * sleep, and the post that wakes it). */
#define SPIN_TRIES 4
#define SPIN_READS 100

/* A Lock's state. word holds the holder's pid in its low 32 bits (0:
 * free; pids fit 32 bits on Linux and Windows) and, in its high 32, how
 * many acquirers are counted as asleep on the semaphore. Taking a free
 * Lock and releasing one nobody waits for are then one compare-and-swap
 * each, with no system call and with the holder recorded in the same
 * instruction, where a semaphore of one took two atomic operations and
 * the holder's pid a third (0.55x a raw mutex here). The semaphore starts
 * at 0 and only carries wake-ups: a release that finds sleepers counts
 * one out and posts for it, so the count plus the semaphore's value is
 * the number of acquirers that went to sleep and have not left. */
typedef struct lock_state {
    _Atomic uint64_t word;
    _Atomic uint64_t thread;
    int depth; /* an RLock's; written only by its holding thread */
} lock_state;

#define HOLDER_MASK UINT64_C(0xffffffff)
#define ONE_SLEEPER (UINT64_C(1) << 32)

struct mp_lock {
    mp_block_object base;
};

_Static_assert(sizeof(lock_state) <= MP_OS_SYNC_SPARE, "the state fits beside the semaphore");

/* The state sits beside the semaphore, in the slot's spare bytes. An RLock
 * was a robust recursive mutex: its lock and unlock, with the robust list
 * kept and the holder recorded beside, made a Value's increment under its
 * RLock 0.55x a raw mutex's. */
static lock_state *lstate(const mp_lock *l)
{
    return mp_block_spare(&l->base.block, 0);
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
    int rc = mp_block_create(&l->base.block, 1, (unsigned[]){0}, false, 0);
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

/* ---- Lock -------------------------------------------------------------- */

static uint64_t holder_of(uint64_t word)
{
    return word & HOLDER_MASK;
}

static uint64_t sleepers_of(uint64_t word)
{
    return word >> 32;
}

/* Relaxed: the compare-and-swap that took the Lock orders it. */
static void record_thread(lock_state *s)
{
    atomic_store_explicit(&s->thread, mp_os_thread_native_id(), memory_order_relaxed);
}

/* The Lock's holder is a process that has ended: take the lock over from
 * it, unless someone else did first. */
static bool take_over_from_dead(lock_state *s, uint64_t me)
{
    uint64_t word = atomic_load(&s->word), dead = holder_of(word);
    if (dead == 0 || dead == me || mp_os_pid_alive((long)dead))
        return false;
    while (holder_of(word) == dead)
        if (atomic_compare_exchange_weak(&s->word, &word, (word & ~HOLDER_MASK) | me)) {
            record_thread(s);
            return true;
        }
    return false;
}

/* An RLock's holder has ended when its process has or, in a process that
 * lives on, its thread has (Python's RLock then stays held for ever). A
 * holder whose thread is not recorded yet is judged by its process alone,
 * as a Lock's. Otherwise takers race on the thread field, not the word:
 * a taker in the holder's own process would leave the word as it found
 * it. */
static bool take_over_rlock(lock_state *s, uint64_t me)
{
    uint64_t word = atomic_load(&s->word), holder = holder_of(word);
    uint64_t thread = atomic_load(&s->thread);
    if (holder == 0 || thread == 0)
        return take_over_from_dead(s, me);
    if (mp_os_pid_alive((long)holder) && mp_os_thread_alive((long)holder, thread))
        return false;
    if (!atomic_compare_exchange_strong(&s->thread, &thread, mp_os_thread_native_id()))
        return false;
    while (!atomic_compare_exchange_weak(&s->word, &word, (word & ~HOLDER_MASK) | me))
        continue;
    return true;
}

static bool take_over(mp_lock *l, uint64_t me)
{
    return recursive(l) ? take_over_rlock(lstate(l), me) : take_over_from_dead(lstate(l), me);
}

/* A sleeper whose wait ended without a wake-up stops being counted. If a
 * release counted it out already, the wake-up posted for it is its to
 * take, or any later sleeper's count instead. Should neither come in
 * LEAVE_WAITS checks (the releaser died between counting out and
 * posting), it leaves all the same: the count is right without it, and a
 * wake-up posted late only wakes some later sleeper early, who looks at
 * the word again. */
#define LEAVE_WAITS 10

static void leave(lock_state *s, mp_os_sem *sem)
{
    for (int i = 0; i < LEAVE_WAITS; i++) {
        uint64_t word = atomic_load(&s->word);
        while (sleepers_of(word) > 0)
            if (atomic_compare_exchange_weak(&s->word, &word, word - ONE_SLEEPER))
                return;
        if (mp_os_sem_wait(sem, OWNER_CHECK_INTERVAL) == MP_OK)
            return;
    }
}

/* The holder's liveness is checked only when a wait would end or every
 * OWNER_CHECK_INTERVAL of sleep, never on the way to sleep: it costs a
 * kill and a read of /proc, which contended acquirers paid each time. */
static int acquire_lock_slow(mp_lock *l, uint64_t me, uint64_t word, double timeout)
{
    lock_state *s = lstate(l);
    mp_os_sem *sem = l->base.block.sems[0];
    for (int t = 0; t < SPIN_TRIES && timeout != 0; t++) {
        for (int i = 0; i < SPIN_READS && holder_of(word) != 0; i++)
            word = atomic_load_explicit(&s->word, memory_order_relaxed);
        if (holder_of(word) == 0 &&
            atomic_compare_exchange_strong_explicit(&s->word, &word, word | me, memory_order_acquire,
                                                    memory_order_relaxed)) {
            record_thread(s);
            return MP_OK;
        }
    }
    double deadline = mp_deadline(timeout);
    for (;;) {
        if (holder_of(word) == 0) {
            if (atomic_compare_exchange_weak_explicit(&s->word, &word, word | me, memory_order_acquire,
                                                      memory_order_relaxed)) {
                record_thread(s);
                return MP_OK;
            }
            continue;
        }
        double left = mp_time_left(deadline);
        if (left <= 0)
            return take_over(l, me) ? MP_EOWNERDEAD : MP_ETIMEDOUT;
        if (!atomic_compare_exchange_weak(&s->word, &word, word + ONE_SLEEPER))
            continue;
        int rc = mp_os_sem_wait(sem, left < OWNER_CHECK_INTERVAL ? left : OWNER_CHECK_INTERVAL);
        if (rc != MP_OK) {
            leave(s, sem);
            if (rc != MP_ETIMEDOUT)
                return rc;
            if (take_over(l, me))
                return MP_EOWNERDEAD;
        }
        word = atomic_load(&s->word);
    }
}

static int acquire_lock(mp_lock *l, double timeout)
{
    uint64_t me = (uint32_t)mp_os_getpid(), word = 0;
    lock_state *s = lstate(l);
    if (atomic_compare_exchange_strong_explicit(&s->word, &word, me, memory_order_acquire, memory_order_relaxed)) {
        record_thread(s);
        return MP_OK;
    }
    return acquire_lock_slow(l, me, word, timeout);
}

/* Anyone may release a Lock; guessing that the releaser holds it saves a
 * load when it does. */
static int release_word(mp_lock *l, lock_state *s, uint64_t word)
{
    uint64_t next;
    do {
        if (holder_of(word) == 0)
            return mp_fail(MP_ESTATE, "mp_lock_release: the Lock is not locked");
        next = (word & ~HOLDER_MASK) - (sleepers_of(word) > 0 ? ONE_SLEEPER : 0);
        atomic_store_explicit(&s->thread, 0, memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(&s->word, &word, next, memory_order_release,
                                                    memory_order_relaxed));
    return sleepers_of(word) > 0 ? mp_os_sem_post(l->base.block.sems[0]) : MP_OK;
}

static int release_lock(mp_lock *l)
{
    return release_word(l, lstate(l), (uint32_t)mp_os_getpid());
}

/* ---- RLock ------------------------------------------------------------- */

/* The holder's thread is stored after the word is taken and cleared
 * before it is let go, so a thread that finds its own id there beside its
 * own pid holds the lock. */
static bool held_by(const lock_state *s, uint64_t word, uint64_t me)
{
    return holder_of(word) == me && atomic_load_explicit(&s->thread, memory_order_relaxed) == mp_os_thread_native_id();
}

static bool held_by_me(const lock_state *s)
{
    return held_by(s, atomic_load_explicit(&s->word, memory_order_relaxed), (uint32_t)mp_os_getpid());
}

static int acquire_rlock(mp_lock *l, double timeout)
{
    lock_state *s = lstate(l);
    uint64_t me = (uint32_t)mp_os_getpid(), word = 0;
    if (atomic_compare_exchange_strong_explicit(&s->word, &word, me, memory_order_acquire, memory_order_relaxed)) {
        record_thread(s);
        s->depth = 1;
        return MP_OK;
    }
    if (held_by(s, word, me)) {
        s->depth++;
        return MP_OK;
    }
    int rc = acquire_lock_slow(l, me, word, timeout);
    if (rc == MP_OK || rc == MP_EOWNERDEAD)
        s->depth = 1;
    return rc;
}

static int release_rlock(mp_lock *l)
{
    lock_state *s = lstate(l);
    uint64_t word = atomic_load_explicit(&s->word, memory_order_relaxed);
    if (!held_by(s, word, (uint32_t)mp_os_getpid()) || s->depth <= 0)
        return mp_fail(MP_ESTATE, "mp_lock_release: this RLock is not held by this thread");
    if (--s->depth > 0)
        return MP_OK;
    return release_word(l, s, word);
}

/* ---- both -------------------------------------------------------------- */

int mp_lock_acquire(mp_lock *l, double timeout)
{
    const mp_lock_backing *elsewhere = mp_lock_backing_of(l);
    if (elsewhere != NULL)
        return elsewhere->acquire(l, timeout);
    int rc = mp_object_check(l, MP_KIND_LOCK, "mp_lock_acquire");
    if (rc != MP_OK)
        return rc;
    return recursive(l) ? acquire_rlock(l, timeout) : acquire_lock(l, timeout);
}

bool mp_lock_is_mine(const mp_lock *l)
{
    return held_by_me(lstate(l));
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
    *depth = recursive(l) ? lstate(l)->depth : 1;
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

/* lstate() needs the semaphore's slot. */
static int check_import(const mp_block_object *o)
{
    const mp_block *b = &o->block;
    bool fits = b->mutex == NULL && b->nsems == 1;
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
