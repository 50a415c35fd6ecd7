/* mproc/thread.h - threads, mutexes, condition variables and thread-local
 * storage: Python's threading.Thread, Lock-as-mutex, Condition and local(),
 * for the threads of one process. Native threads on Windows, pthreads on
 * POSIX. (For locks shared between processes, see sync.h.)
 *
 * These are what mproc uses itself. Its own mutexes are fork-safe: a child
 * made by fork finds the library's locks usable even if another thread held
 * one at the moment of the fork. A user's mp_mutex has no such guarantee,
 * exactly as with pthread mutexes: do not fork while another thread may
 * hold it.
 *
 * Thread safety: every function here may be called from any thread; a
 * thread object is joined and freed by one thread.
 */
#ifndef MPROC_THREAD_H
#define MPROC_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- threads ----------------------------------------------------------- */

typedef struct mp_thread mp_thread;

/* The thread's body. Its return value is mp_thread_join's *result. */
typedef int (*mp_thread_fn)(void *arg);

/* Start a thread running fn(arg) (Thread(target=...).start() in one step).
 * name: NULL gives "Thread-N". MP_EINVAL, MP_ENOMEM, MP_EOS. */
int mp_thread_start(mp_thread **out, mp_thread_fn fn, void *arg, const char *name);

/* Wait for the thread to end, then free it: on MP_OK *result (may be NULL)
 * holds fn's return value and t is gone. MP_FOREVER (process.h) blocks, 0
 * or any negative value (and NaN) polls. MP_ETIMEDOUT leaves t valid and
 * running. A thread joining itself is MP_ESTATE. */
int mp_thread_join(mp_thread *t, double timeout, int *result);

/* A thread that will never be joined: its resources go when it ends.
 * Detached is Python's daemon=True: a child process waits at its end for
 * the threads it started and did not detach (process.h, "How a child
 * ends"), not for detached ones. The main process is the user's own C
 * program: returning from main() ends it as C does, without waiting. */
int mp_thread_detach(mp_thread *t);

/* The name, owned by the thread object: valid until mp_thread_join frees
 * the object (after mp_thread_detach the object may be used no more). */
const char *mp_thread_name(const mp_thread *t);
/* Thread.ident: unique among live threads of the process, never 0. */
uint64_t mp_thread_ident(const mp_thread *t);

/* current_thread(): "MainThread" for the thread that started the process,
 * "Thread-N" or the given name for threads made here, "Dummy-N" for threads
 * made otherwise. The name is valid while the calling thread runs. */
const char *mp_current_thread_name(void);
uint64_t mp_current_thread_ident(void);

/* ---- mutex and condition variable -------------------------------------- */

typedef struct mp_mutex mp_mutex;
typedef struct mp_cond mp_cond;

/* A non-recursive mutex for threads of one process. */
int mp_mutex_new(mp_mutex **out);
void mp_mutex_free(mp_mutex *m);
void mp_mutex_lock(mp_mutex *m);
/* 1 if taken, 0 if another thread holds it. */
int mp_mutex_trylock(mp_mutex *m);
void mp_mutex_unlock(mp_mutex *m);

int mp_cond_new(mp_cond **out);
void mp_cond_free(mp_cond *c);
/* Release m, wait for a signal or the timeout, take m again (timeout as
 * mp_thread_join's). MP_OK or MP_ETIMEDOUT. Spurious wake-ups happen: wait
 * in a loop on a predicate. */
int mp_cond_wait(mp_cond *c, mp_mutex *m, double timeout);
void mp_cond_signal(mp_cond *c);
void mp_cond_broadcast(mp_cond *c);

/* ---- thread-local storage (threading.local) ---------------------------- */

typedef struct mp_tls mp_tls;

/* A slot holding one pointer per thread, NULL until set. destructor (may be
 * NULL) runs on a thread's non-NULL value when that thread ends. */
int mp_tls_new(mp_tls **out, void (*destructor)(void *));
/* Free the slot. Values still set are not destroyed. */
void mp_tls_free(mp_tls *key);
void *mp_tls_get(mp_tls *key);
int mp_tls_set(mp_tls *key, void *value);

#ifdef __cplusplus
}
#endif

#endif
