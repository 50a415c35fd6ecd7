/* mproc/sync.h - Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event
 * and Barrier shared between processes and threads (multiprocessing's
 * synchronize module).
 *
 * Every object here works across the threads of a process and across
 * processes: pass it to a child as a process argument ('O') under any
 * start method. Its state lives in shared memory that dies with its last
 * user; nothing is named, so nothing can leak after a crash.
 *
 * Timeouts: MP_FOREVER blocks; 0 or any negative value (and NaN) tries once,
 * as Python treats a negative timeout as 0; t > 0 waits up to t seconds.
 * An acquire that times out (or fails to take at once) returns
 * MP_ETIMEDOUT, Python's False.
 *
 * Owner death, better than Python (which deadlocks):
 *   - RLock: if the thread or process holding it ends, the next acquirer
 *     gets it with MP_EOWNERDEAD (count 1). mproc records the holding
 *     process and thread; a blocked acquirer checks them every 100 ms, and
 *     an acquire that would time out (a try with timeout 0 too) checks them
 *     first. Guaranteed for a holder that ends, however it ends.
 *   - Lock: any process may release a Lock, so the OS cannot tell who owns
 *     it. mproc records the last acquirer's pid; a blocked acquirer checks
 *     it every 100 ms and, if that process has ended, takes the lock with
 *     MP_EOWNERDEAD. Best effort: it covers a process that dies holding
 *     the lock, not a thread that ends holding it.
 *   - Semaphore, Condition, Event, Barrier: no owner, no detection. A
 *     Condition or Event whose lock's owner died recovers through its lock.
 * The state the dead owner was protecting may be half-updated: MP_EOWNERDEAD
 * says so; the lock is held and usable.
 *
 * Thread safety: all functions may be called from any thread, except that
 * an object must not be freed while another thread uses it.
 * Errors: MP_EINVAL (NULL or bad value), MP_ETYPE (wrong object kind),
 * MP_ESTATE (releasing what is not held), MP_ERANGE (BoundedSemaphore
 * released too many times), MP_EBROKEN (Barrier), MP_ENOMEM, MP_EOS.
 */
#ifndef MPROC_SYNC_H
#define MPROC_SYNC_H

#include <stdbool.h>

#include "mproc/process.h"
#include "mproc/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Lock and RLock ---------------------------------------------------- */

typedef struct mp_lock mp_lock;

/* Lock(): not recursive; released by anyone; releasing it unlocked is
 * MP_ESTATE (Python's ValueError). */
int mp_lock_new(mp_lock **out);
/* RLock(): recursive; released only by the thread that holds it (else
 * MP_ESTATE, Python's AssertionError/RuntimeError). */
int mp_rlock_new(mp_lock **out);
/* MP_OK, MP_ETIMEDOUT or MP_EOWNERDEAD (acquired; see above). */
int mp_lock_acquire(mp_lock *l, double timeout);
int mp_lock_release(mp_lock *l);
/* Free this process's handle on the lock. NULL is accepted. */
void mp_lock_free(mp_lock *l);
/* mp_lock_acquire, mp_lock_release and mp_lock_free also take a manager's
 * Lock or RLock (mp_manager_lock, mp_proxy_as_lock; manager.h). */

/* ---- Semaphore and BoundedSemaphore ------------------------------------ */

typedef struct mp_semaphore mp_semaphore;

int mp_semaphore_new(mp_semaphore **out, unsigned value);
/* release() beyond the initial value is MP_ERANGE. */
int mp_bounded_semaphore_new(mp_semaphore **out, unsigned value);
int mp_semaphore_acquire(mp_semaphore *s, double timeout);
int mp_semaphore_release(mp_semaphore *s);
/* get_value(): a snapshot. */
int mp_semaphore_get_value(mp_semaphore *s, int *value);
void mp_semaphore_free(mp_semaphore *s);

/* ---- Condition --------------------------------------------------------- */

typedef struct mp_condition mp_condition;

/* Condition(lock): lock NULL makes a new RLock owned by the condition;
 * otherwise the condition uses lock, which must outlive it. */
int mp_condition_new(mp_condition **out, mp_lock *lock);
/* The condition's lock, owned by the condition (or by the caller that
 * passed it in): valid while the condition lives; do not free it. */
mp_lock *mp_condition_lock(mp_condition *c);
int mp_condition_acquire(mp_condition *c, double timeout);
int mp_condition_release(mp_condition *c);
/* wait(timeout): the lock must be held (else MP_ESTATE). Releases it,
 * waits for a notify or the timeout, takes it again. MP_OK if notified,
 * MP_ETIMEDOUT if not. */
int mp_condition_wait(mp_condition *c, double timeout);
/* wait_for(predicate, timeout): wait until pred(arg) is true; MP_OK, or
 * MP_ETIMEDOUT if it is still false at the deadline. */
int mp_condition_wait_for(mp_condition *c, bool (*pred)(void *arg), void *arg, double timeout);
/* notify(n) wakes up to n waiters; the lock must be held. */
int mp_condition_notify(mp_condition *c, unsigned n);
int mp_condition_notify_all(mp_condition *c);
void mp_condition_free(mp_condition *c);

/* ---- Event ------------------------------------------------------------- */

typedef struct mp_event mp_event;

int mp_event_new(mp_event **out);
int mp_event_set(mp_event *e);
int mp_event_clear(mp_event *e);
/* 1 if set, 0 if not, or a negative MP_E* code. */
int mp_event_is_set(mp_event *e);
/* wait(timeout): MP_OK once set, MP_ETIMEDOUT if still not set. */
int mp_event_wait(mp_event *e, double timeout);
void mp_event_free(mp_event *e);

/* ---- Barrier ----------------------------------------------------------- */

typedef struct mp_barrier mp_barrier;

typedef struct mp_barrier_options {
    /* Run by exactly one of the parties (the last to arrive) before any is
     * released. It must be a registered target, because it may run in any
     * process; it gets an empty argument array. A negative return breaks
     * the barrier. NULL: no action. */
    mp_target_fn action;
    /* Python's Barrier(timeout=): what a wait given MP_FOREVER waits.
     * MP_FOREVER (Python's None) is no default: such a wait blocks. As every
     * timeout, 0, a negative value or NaN polls: each wait given MP_FOREVER
     * then breaks the barrier unless all parties are already there. A
     * zeroed struct therefore polls; start from MP_BARRIER_OPTIONS_INIT. */
    double timeout;
} mp_barrier_options;

/* Python's defaults: no action, no default timeout. */
#define MP_BARRIER_OPTIONS_INIT {NULL, MP_FOREVER}

int mp_barrier_new(mp_barrier **out, unsigned parties, const mp_barrier_options *opts);
/* wait(timeout): *index (may be NULL) gets a number unique among the
 * parties of this pass, 0 .. parties-1. timeout MP_FOREVER (Python's None)
 * uses the default; 0 or any negative value (and NaN) polls. A timeout
 * breaks the barrier: MP_EBROKEN, for every party. */
int mp_barrier_wait(mp_barrier *b, double timeout, unsigned *index);
int mp_barrier_reset(mp_barrier *b);
int mp_barrier_abort(mp_barrier *b);
unsigned mp_barrier_parties(mp_barrier *b);
unsigned mp_barrier_n_waiting(mp_barrier *b);
bool mp_barrier_broken(mp_barrier *b);
void mp_barrier_free(mp_barrier *b);

#ifdef __cplusplus
}
#endif

#endif
