/* pool_internal.h - what the pool's files share: the messages between a
 * pool and its workers, and running one task message.
 *
 * A message is a MessagePack array, the header, and for some a payload
 * right after it in the same frame:
 *   [POOL_ARGS, task name]                     + the argument array  (apply)
 *   [POOL_ITEMS, task name, star, count]       + count items (map, starmap,
 *                                                imap: a chunk)
 *   [POOL_FIXED, task name, in_size, out_size] + the input elements, raw
 *                                                (map_fixed: a chunk)
 *   [POOL_EXIT]                                  the worker exits
 * A reply:
 *   [POOL_DONE, count]        + count values, or for FIXED count bytes of
 *                               output elements
 *   [POOL_FAILED, code, message]
 *   [POOL_READY]              a new worker's first message: initializer done
 *   [POOL_INIT_FAILED, code, message]
 * Each is one frame of the Connection's framing. The payload is never
 * wrapped, so neither side copies it into or out of an enclosing value. */
#ifndef MPROC_POOL_INTERNAL_H
#define MPROC_POOL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mproc/pool.h"
#include "base/registry_internal.h"

enum { POOL_ARGS, POOL_ITEMS, POOL_FIXED, POOL_EXIT };
enum { POOL_DONE, POOL_FAILED, POOL_READY, POOL_INIT_FAILED };

/* Element sizes of the fixed path. */
#define POOL_MAX_ELEM ((size_t)64 << 10)

/* ---- jobs: one call's chunks and results (pool_job.c) ------------------ */

typedef enum job_kind { JOB_APPLY, JOB_MAP, JOB_STARMAP, JOB_FIXED, JOB_IMAP, JOB_IMAP_UNORDERED } job_kind;

typedef struct mp_async_result job;

/* A piece of a job that one worker runs: one apply, or consecutive items. */
typedef struct chunk {
    job *job;
    size_t index;
    size_t first, count;      /* items (FIXED: elements) */
    const unsigned char *data; /* the items' bytes, borrowed from the job */
    size_t len;
    struct chunk *next;
} chunk;

/* What the pool needs to know of a job. */
const char *mp_job_task_name(const job *j);
/* Whether the job keeps its chunks' replies (all but map_fixed, which
 * copies them out at once). */
bool mp_job_keeps_replies(const job *j);
mp_any_fn mp_job_direct_fn(const job *j);
/* True if nothing but a thread waiting on the job (get, wait, ready) can
 * see it end: one call, no callbacks. Its reply may then wait in the pipe
 * until such a thread reads it (mp_pool_read_reply). */
bool mp_job_seen_only_by_waiting(const job *j);
/* Append the task message for c to msg: its header, then the chunk's
 * bytes (c->data, c->len), which header alone leaves out. */
int mp_job_task_message(const chunk *c, mp_buf *msg);
int mp_job_task_header(const chunk *c, mp_buf *msg);
/* A chunk ended: with a POOL_DONE payload, or with an error (ret is what
 * get returns: MP_EREMOTE, MP_EWORKERDIED, MP_EINITIALIZER, MP_ESTATE).
 * count is the reply's (values; bytes for FIXED), checked against the
 * chunk. owned: the allocation data lies in, which the job takes over (it
 * frees it), or NULL for data to be copied. Either releases the chunk;
 * callbacks run here, so call without locks. */
void mp_job_chunk_done(chunk *c, uint64_t count, const unsigned char *data, size_t len, void *owned);
void mp_job_chunk_failed(chunk *c, int ret, const mp_remote_error *err);

/* Make a job's chunks and hand them to the pool (pool.c). */
int mp_pool_submit(mp_pool *pool, chunk *first, chunk *last, size_t n);
/* For a thread about to wait for chunk c alone: if c went straight to an
 * idle worker and no thread reads that worker's pipe yet, wait up to
 * timeout for the reply and handle it in this thread (c then ends here).
 * Otherwise, or on a timeout or the worker's end, it returns at once or
 * then and leaves everything to the slot thread. */
void mp_pool_read_reply(mp_pool *pool, chunk *c, double timeout);
size_t mp_pool_worker_count(const mp_pool *pool);
/* MP_OK if the pool takes calls, else its error (closed, broken). */
int mp_pool_check_open(mp_pool *pool, const char *what);
bool mp_pool_uses_threads(const mp_pool *pool);

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

/* A reply as the pool reads it (pool_reply.c). */
typedef struct pool_reply {
    int kind;        /* POOL_DONE, POOL_FAILED, ...; -1 if malformed */
    uint64_t count;  /* DONE: the values (FIXED: bytes) in the payload */
    const unsigned char *payload; /* DONE: borrowed from the message */
    size_t payload_len;
    int code;        /* FAILED, INIT_FAILED */
    const char *message; /* FAILED, INIT_FAILED; or what was malformed */
    mp_value *head;
    mp_value space[16];
} pool_reply;
void mp_pool_reply_read(pool_reply *r, const void *msg, size_t len);
void mp_pool_reply_release(pool_reply *r);

/* Run an initializer with its packed argument array (NULL, 0: none). */
int mp_pool_run_initializer(mp_target_fn fn, const void *initargs, size_t len);

/* The worker process's target. */
int mp_pool_worker_main(const mp_value *args);

#endif
