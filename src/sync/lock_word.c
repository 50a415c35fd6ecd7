/* lock_word.c - the lock word (lock_word.h): its slow paths, sleeping on
 * the semaphore and taking over from a holder that ended. */
#include "base/timeout.h"
#include "mproc/error.h"
#include "sync/lock_word.h"

/* How often a blocked acquirer checks that the holder still lives. */
#define OWNER_CHECK_INTERVAL 0.1
/* A Lock is mostly held for a moment: an acquirer that finds it held
 * watches the word for up to SPIN_READS reads, SPIN_TRIES times, before it
 * sleeps on the semaphore, as an adaptive mutex does. A holder that lets
 * go within those microseconds then costs neither side a system call (the
 * sleep, and the post that wakes it). */
#define SPIN_TRIES 4
#define SPIN_READS 100

#define ONE_SLEEPER (UINT64_C(1) << 32)

static uint64_t sleepers_of(uint64_t word)
{
    return word >> 32;
}

/* Relaxed: the compare-and-swap that took the lock orders it. */
static void record_thread(mp_lock_word *s)
{
    atomic_store_explicit(&s->thread, mp_os_thread_native_id(), memory_order_relaxed);
}

/* The Lock's holder is a process that has ended: take the lock over from
 * it, unless someone else did first. */
static bool take_over_from_dead(mp_lock_word *s, uint64_t me)
{
    uint64_t word = atomic_load(&s->word), dead = mp_lock_word_holder(word);
    if (dead == 0 || dead == me || mp_os_pid_alive((long)dead))
        return false;
    while (mp_lock_word_holder(word) == dead)
        if (atomic_compare_exchange_weak(&s->word, &word, (word & ~MP_LOCK_HOLDER_MASK) | me)) {
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
static bool take_over_rlock(mp_lock_word *s, uint64_t me)
{
    uint64_t word = atomic_load(&s->word), holder = mp_lock_word_holder(word);
    uint64_t thread = atomic_load(&s->thread);
    if (holder == 0 || thread == 0)
        return take_over_from_dead(s, me);
    if (mp_os_pid_alive((long)holder) && mp_os_thread_alive((long)holder, thread))
        return false;
    if (!atomic_compare_exchange_strong(&s->thread, &thread, mp_os_thread_native_id()))
        return false;
    while (!atomic_compare_exchange_weak(&s->word, &word, (word & ~MP_LOCK_HOLDER_MASK) | me))
        continue;
    return true;
}

static bool take_over(mp_lock_word *s, uint64_t me, mp_lock_owner owner)
{
    return owner == MP_LOCK_THREAD ? take_over_rlock(s, me) : take_over_from_dead(s, me);
}

/* A sleeper whose wait ended without a wake-up stops being counted. If a
 * release counted it out already, the wake-up posted for it is its to
 * take, or any later sleeper's count instead. Should neither come in
 * LEAVE_WAITS checks (the releaser died between counting out and
 * posting), it leaves all the same: the count is right without it, and a
 * wake-up posted late only wakes some later sleeper early, who looks at
 * the word again. */
#define LEAVE_WAITS 10

static void leave(mp_lock_word *s, mp_os_sem *sem)
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
int mp_lock_word_acquire_slow(mp_lock_word *s, mp_os_sem *sem, double timeout, mp_lock_owner owner,
                              uint64_t word)
{
    uint64_t me = mp_lock_word_me();
    for (int t = 0; t < SPIN_TRIES && timeout != 0; t++) {
        for (int i = 0; i < SPIN_READS && mp_lock_word_holder(word) != 0; i++)
            word = atomic_load_explicit(&s->word, memory_order_relaxed);
        if (mp_lock_word_holder(word) == 0 &&
            atomic_compare_exchange_strong_explicit(&s->word, &word, word | me, memory_order_acquire,
                                                    memory_order_relaxed)) {
            record_thread(s);
            return MP_OK;
        }
    }
    double deadline = mp_deadline(timeout);
    for (;;) {
        if (mp_lock_word_holder(word) == 0) {
            if (atomic_compare_exchange_weak_explicit(&s->word, &word, word | me, memory_order_acquire,
                                                      memory_order_relaxed)) {
                record_thread(s);
                return MP_OK;
            }
            continue;
        }
        double left = mp_time_left(deadline);
        if (left <= 0)
            return take_over(s, me, owner) ? MP_EOWNERDEAD : MP_ETIMEDOUT;
        if (!atomic_compare_exchange_weak(&s->word, &word, word + ONE_SLEEPER))
            continue;
        int rc = mp_os_sem_wait(sem, left < OWNER_CHECK_INTERVAL ? left : OWNER_CHECK_INTERVAL);
        if (rc != MP_OK) {
            leave(s, sem);
            if (rc != MP_ETIMEDOUT)
                return rc;
            if (take_over(s, me, owner))
                return MP_EOWNERDEAD;
        }
        word = atomic_load(&s->word);
    }
}

int mp_lock_word_release(mp_lock_word *s, mp_os_sem *sem, uint64_t word)
{
    uint64_t next;
    do {
        if (mp_lock_word_holder(word) == 0)
            return MP_ESTATE;
        next = (word & ~MP_LOCK_HOLDER_MASK) - (sleepers_of(word) > 0 ? ONE_SLEEPER : 0);
        atomic_store_explicit(&s->thread, 0, memory_order_relaxed);
    } while (!atomic_compare_exchange_weak_explicit(&s->word, &word, next, memory_order_release,
                                                    memory_order_relaxed));
    return sleepers_of(word) > 0 ? mp_os_sem_post(sem) : MP_OK;
}

