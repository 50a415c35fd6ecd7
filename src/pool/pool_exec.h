/* pool_exec.h - running task messages (pool_message.h): in a worker
 * process (pool_worker.c) or in a ThreadPool's thread (pool_exec.c). */
#ifndef MPROC_POOL_EXEC_H
#define MPROC_POOL_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/pool.h"
#include "base/registry_internal.h"

/* Buffers kept from task to task by whoever runs them (a worker, a
 * ThreadPool's thread), so that once they have grown, running a task takes
 * no fresh memory: on some systems every new page costs a fault of
 * microseconds. */
typedef struct pool_scratch {
    mp_buf one; /* one call's value */
    mp_buf in;  /* FIXED: the input elements, aligned */
    mp_buf out; /* FIXED: the output elements */
} pool_scratch;
void mp_pool_scratch_free(pool_scratch *s);

/* Run the task message msg[0..len) and append its reply to reply. direct:
 * the function to call (a ThreadPool's), or NULL to look the name up in
 * the registry (a worker's). *exit is set for POOL_EXIT (no reply then).
 * Returns MP_OK with a reply appended (a failing task is a POOL_FAILED
 * reply), or an error for a malformed message or no memory. */
int mp_pool_execute(const void *msg, size_t len, mp_any_fn direct, pool_scratch *scratch, mp_buf *reply,
                    bool *exit);

/* Append a [POOL_FAILED or POOL_INIT_FAILED, code, message] reply. */
int mp_pool_reply_error(mp_buf *reply, int kind, int code, const char *message);

/* Run an initializer with its packed argument array (NULL, 0: none). */
int mp_pool_run_initializer(mp_target_fn fn, const void *initargs, size_t len);

/* The worker process's target. */
int mp_pool_worker_main(const mp_value *args);

#endif
