/* lock_word.h - the word in shared memory behind Lock, RLock and the
 * Queue's mutex: taken and given back with one compare-and-swap each when
 * free, slept on through a semaphore when not, and taken over from a holder
 * that has ended. */
#ifndef MPROC_LOCK_WORD_H
#define MPROC_LOCK_WORD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mproc/error.h"
#include "platform.h"

/* word holds the holder's pid in its low 32 bits (0: free; pids fit 32
 * bits on Linux and Windows) and, in its high 32, how many acquirers are
 * counted as asleep on the semaphore. Taking a free lock and releasing one
 * nobody waits for are then one compare-and-swap each, with no system call
 * and with the holder recorded in the same instruction, where a semaphore
 * of one took two atomic operations and the holder's pid a third (0.55x a
 * raw mutex here). The semaphore starts at 0 and only carries wake-ups: a
 * release that finds sleepers counts one out and posts for it, so the count
 * plus the semaphore's value is the number of acquirers that went to sleep
 * and have not left. thread is the holder's native thread id, stored after
 * the word is taken and cleared before it is let go. */
typedef struct mp_lock_word {
    _Atomic uint64_t word;
    _Atomic uint64_t thread;
    int depth; /* an RLock's; written only by its holding thread */
} mp_lock_word;

_Static_assert(sizeof(mp_lock_word) <= MP_OS_SYNC_SPARE, "the word fits beside its semaphore");

/* Whose end frees the lock for the next acquirer: the holding process's
 * (Lock, Queue), or also the holding thread's (RLock). */
typedef enum { MP_LOCK_PROCESS, MP_LOCK_THREAD } mp_lock_owner;

/* This process's id as the word holds it. */
static inline uint64_t mp_lock_word_me(void)
{
    return (uint32_t)mp_os_getpid();
}

#define MP_LOCK_HOLDER_MASK UINT64_C(0xffffffff)

static inline uint64_t mp_lock_word_holder(uint64_t word)
{
    return word & MP_LOCK_HOLDER_MASK;
}

/* Whether the thread that calls holds it, word being its value now. */
static inline bool mp_lock_word_held_by_me(const mp_lock_word *w, uint64_t word)
{
    return mp_lock_word_holder(word) == mp_lock_word_me() &&
           atomic_load_explicit(&w->thread, memory_order_relaxed) == mp_os_thread_native_id();
}

/* Take it within timeout: MP_OK, MP_EOWNERDEAD (taken over from a holder
 * that ended), MP_ETIMEDOUT, or the semaphore's error. word is its value
 * as the caller's failed try found it. */
int mp_lock_word_acquire_slow(mp_lock_word *w, mp_os_sem *sem, double timeout, mp_lock_owner owner,
                              uint64_t word);

/* One try, inline: a free lock costs the caller no call. *word is what
 * was found when the try failed. */
static inline bool mp_lock_word_try(mp_lock_word *w, uint64_t *word)
{
    *word = 0;
    if (!atomic_compare_exchange_strong_explicit(&w->word, word, mp_lock_word_me(), memory_order_acquire,
                                                 memory_order_relaxed))
        return false;
    atomic_store_explicit(&w->thread, mp_os_thread_native_id(), memory_order_relaxed);
    return true;
}

static inline int mp_lock_word_acquire(mp_lock_word *w, mp_os_sem *sem, double timeout, mp_lock_owner owner)
{
    uint64_t word;
    return mp_lock_word_try(w, &word) ? MP_OK : mp_lock_word_acquire_slow(w, sem, timeout, owner, word);
}

/* Let it go, whoever holds it; word is a guess at its value (the caller's
 * pid with no sleepers saves a load when right). MP_ESTATE if it is not
 * held, with no message: the caller words it. */
int mp_lock_word_release(mp_lock_word *w, mp_os_sem *sem, uint64_t word);

#endif
