/* pool_internal.h - what the pool and its jobs share: a job's chunks and
 * the calls between the pool and the jobs. The messages between a pool and
 * its workers are in pool_message.h, running them in pool_exec.h, reading
 * a reply in pool_reply.h. */
#ifndef MPROC_POOL_INTERNAL_H
#define MPROC_POOL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mproc/pool.h"
#include "base/registry_internal.h"
#include "pool/pool_exec.h"
#include "pool/pool_message.h"
#include "pool/pool_reply.h"

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

#endif
