/* thread_internal.h - what the rest of the core asks of threads (thread.c):
 * daemon threads for its own helpers, and the wait for the user's
 * non-daemon threads before a child exits. */
#ifndef MPROC_THREAD_INTERNAL_H
#define MPROC_THREAD_INTERNAL_H

#include "mproc/thread.h"

/* mp_thread_start for a thread that a child does not wait for at exit
 * (Python's daemon=True) and that stays joinable: the library's own
 * helpers, such as a Pool's slot threads. */
int mp_thread_start_daemon(mp_thread **out, mp_thread_fn fn, void *arg, const char *name);

/* Block until every thread started by mp_thread_start and not detached has
 * returned from its function (Python's threading._shutdown). */
void mp_threads_wait_non_daemon(void);

/* In a child made by fork: the parent's threads are not this process's. */
void mp_threads_forget(void);

/* current_thread() calls the thread that ran mp_main "MainThread". */
void mp_thread_note_main(void);

#endif
