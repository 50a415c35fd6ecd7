/* pool_job.h - a call's job, as the job's files share it: the job
 * (pool_job.c), its items and chunks (pool_job_items.c), the AsyncResult
 * (pool_async_result.c), the calls (pool_apply.c, pool_map.c) and imap
 * (pool_imap.c).
 *
 * A job is one call to a pool: its input cut into chunks, its chunks'
 * results, and the AsyncResult or imap iterator that waits for them; it
 * lives until that handle is freed and every chunk has ended. The scheduler
 * sees only its chunks and their task (pool_chunk.h) and never includes
 * this header. */
#ifndef MPROC_POOL_JOB_H
#define MPROC_POOL_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "mproc/pool.h"
#include "base/registry_internal.h"
#include "platform.h"
#include "pool/pool_chunk.h"

typedef enum job_kind { JOB_APPLY, JOB_MAP, JOB_STARMAP, JOB_FIXED, JOB_IMAP, JOB_IMAP_UNORDERED } job_kind;

typedef struct mp_async_result job;

/* A chunk as the job knows it: the pool's part first, so that the pool's
 * pointer is this one too. */
typedef struct job_chunk {
    pool_chunk base;
    job *job;
    size_t index;
    size_t first, count; /* items (FIXED: elements) */
} job_chunk;

typedef struct chunk_result {
    enum { PENDING, SUCCEEDED, FAILED } state;
    const unsigned char *data; /* the values, one after another */
    size_t len;
    void *block;         /* the allocation data lies in */
    int ret;             /* what get returns for a failed chunk */
    mp_remote_error err; /* message and task point into msg and the job */
    char *msg;
} chunk_result;

struct mp_async_result {
    mp_os_mutex *lock;
    mp_os_cond *changed;
    atomic_int refs; /* the handle, and each chunk not yet ended */
    job_kind kind;
    char *name;      /* the task function's */
    pool_task task;  /* what the pool sees of every chunk */
    mp_pool *pool;   /* set once submitted; used only while not ready */
    size_t nitems;
    unsigned char *items; /* a copy of the input (FIXED: the caller's) */
    size_t items_len;
    job_chunk *chunks;
    chunk_result *results;
    size_t nchunks, ended;
    /* FIXED */
    size_t in_size, out_size;
    unsigned char *out;
    /* map and starmap: the result array, filled chunk by chunk as their
     * results come in, while they are numbers only (numbers_off once not) */
    _Atomic(mp_value *) numbers;
    atomic_bool numbers_off;
    /* the outcome */
    bool ready;
    long first_failed; /* chunk index, or -1 */
    mp_async_options opts;
    /* imap: chunks in the order next() takes them */
    size_t *order, norder;
    size_t next_chunk;   /* position in order (unordered) or chunk index */
    size_t next_offset;  /* within that chunk's data */
    const mp_remote_error *last_error;
};

/* How results are decoded: within a pool's own bounds (pool_message.h). */
extern const mp_limits mp_pool_result_limits;

/* ---- the job and its chunks' end (pool_job.c) ------------------------------ */

/* A job of that kind for fn, registered as reg, with its task filled in and
 * no items yet; what names the call in errors. */
int mp_pool_job_new(job **out, job_kind kind, mp_pool *pool, mp_any_fn fn, mp_registry_kind reg,
                    const char *what);
/* Drop one reference: the handle's or an ended chunk's. */
void mp_pool_job_release(job *j);
/* The result as get gives it: one value (apply) or an array of them. */
int mp_pool_job_decode_result(job *j, mp_value **out);

/* ---- items and chunks (pool_job_items.c) ----------------------------------- */

/* Cut the job into nchunks chunks of chunksize items (the last one
 * shorter), find their bytes, and submit them. marks: those of
 * count_items, for the kinds whose items are MessagePack values. */
int mp_pool_job_submit(job *j, mp_pool *pool, size_t chunksize, const size_t *marks, const char *what);
/* A submitted job of that kind over a copy of the MessagePack values
 * items[0..len) (map, starmap, imap). */
int mp_pool_items_job(job **out, job_kind kind, mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                      const mp_async_options *opts, const char *what);
/* Python's default: ceil(n / (4 * workers)). */
size_t mp_pool_default_chunksize(const mp_pool *pool, size_t n);

/* ---- waiting for it (pool_async_result.c) ---------------------------------- */

/* MP_OK once the job is ready, MP_ETIMEDOUT if it is not within timeout. */
int mp_pool_job_wait_ready(job *j, double timeout, const char *what);
/* Set the thread's error from a failed chunk's and return its code. */
int mp_pool_raise_chunk_error(const chunk_result *r);
/* What a blocking call returns: rc if the async call that made j failed
 * (there is no j then), else j's result, j freed. */
int mp_pool_get_and_free(job *j, int rc, mp_value **out);

#endif
