/* pool_chunk.h - what a call's job (pool_job.h) and the pool's scheduler
 * (the queue, the slots, the workers) share: chunks of work, the task they
 * belong to, and the few things a job asks of a pool.
 *
 * The relation is one-way. A job cuts its input into chunks and submits
 * them; the scheduler sends each chunk to a worker and ends it through the
 * callbacks of its task, knowing nothing else of the job behind it, as
 * libuv's uv__work_submit(loop, w, work, done) knows nothing of the request
 * around w. */
#ifndef MPROC_POOL_CHUNK_H
#define MPROC_POOL_CHUNK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/pool.h"
#include "base/registry_internal.h"

typedef struct pool_chunk pool_chunk;

/* What every chunk of one call shares. The job fills it in before it
 * submits the first chunk and keeps it until the last one has ended. */
typedef struct pool_task {
    /* Append c's task message header (pool_message.h) to msg; the chunk's
     * bytes (c->data, c->len) follow it, and the scheduler adds them. */
    int (*header)(const pool_chunk *c, mp_buf *msg);
    /* c ended with a POOL_DONE reply of count values (bytes for FIXED) in
     * data[0..len); owned: the allocation data lies in, which the job takes
     * over, or NULL for data the job must copy before it returns. */
    void (*done)(pool_chunk *c, uint64_t count, const unsigned char *data, size_t len, void *owned);
    /* c ended with an error; ret is what get returns (MP_EREMOTE,
     * MP_EWORKERDIED, MP_EINITIALIZER, MP_ESTATE). */
    void (*failed)(pool_chunk *c, int ret, const mp_remote_error *err);
    /* done and failed release the chunk and may run the user's callbacks:
     * the scheduler calls them without its lock. */
    const char *name;  /* the task function's, for errors */
    mp_any_fn direct;  /* a ThreadPool's: the function to call */
    bool keeps_replies; /* done keeps owned: a reply is best read into an
                           allocation of its own */
    bool waited_only;  /* nothing but a thread waiting on the call (get,
                          wait, ready) sees it end: its reply may wait in
                          the pipe until that thread reads it
                          (mp_pool_read_reply) */
} pool_task;

/* One worker's share of a call: one apply, or consecutive items. */
struct pool_chunk {
    const pool_task *task;
    const unsigned char *data; /* the task message's payload, the job's */
    size_t len;
    pool_chunk *next;          /* the scheduler's: its place in a list */
};

/* Queue the list first..last of n chunks. A pool that no longer runs
 * fails them at once. */
int mp_pool_submit(mp_pool *pool, pool_chunk *first, pool_chunk *last, size_t n);
/* For a thread about to wait for chunk c alone (a waited_only task): if c
 * went straight to an idle worker and no thread reads that worker's pipe
 * yet, wait up to timeout for the reply and handle it in this thread (c
 * then ends here). Otherwise, or on a timeout or the worker's end, it
 * returns at once or then and leaves everything to the slot thread. */
void mp_pool_read_reply(mp_pool *pool, pool_chunk *c, double timeout);
size_t mp_pool_worker_count(const mp_pool *pool);
/* MP_OK if the pool takes calls, else its error (closed, broken). */
int mp_pool_check_open(mp_pool *pool, const char *what);
bool mp_pool_uses_threads(const mp_pool *pool);
/* A pool on Redis (pool.h)? */
bool mp_pool_is_remote(const mp_pool *pool);
/* A program pool's program (its argv[0]), or NULL for any other pool. */
const char *mp_pool_program_name(const mp_pool *pool);
/* For a program pool: MP_OK if its framing carries the task value
 * v[0..len), else MP_EINVAL with a message starting with what. */
int mp_pool_check_task(const mp_pool *pool, const unsigned char *v, size_t len, const char *what);

#endif
