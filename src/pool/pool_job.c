/* pool_job.c - one call to a pool (apply, map, starmap, map_fixed, imap):
 * its input cut into chunks, its chunks' results, the AsyncResult and imap
 * iterator that wait for them, and the callbacks. A job lives until its
 * handle is freed and every chunk has ended. The pool sees only its chunks
 * and their task (pool_chunk.h); the task's callbacks are the section "a
 * chunk's task" below. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pack/decode.h"
#include "base/error_internal.h"
#include "pack/pack_internal.h"
#include "platform.h"
#include "pool/pool_chunk.h"
#include "pool/pool_message.h"
#include "base/timeout.h"

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

static const mp_limits result_limits = {.max_nodes = POOL_MAX_NODES};

static void job_release(job *j)
{
    if (atomic_fetch_sub(&j->refs, 1) != 1)
        return;
    for (size_t i = 0; i < j->nchunks; i++) {
        free(j->results[i].block);
        free(j->results[i].msg);
    }
    free(j->results);
    free(j->chunks);
    free(j->order);
    if (j->kind != JOB_FIXED)
        free(j->items);
    free(j->name);
    mp_os_cond_free(j->changed);
    mp_os_mutex_free(j->lock);
    free(j);
}

/* ---- chunks ending --------------------------------------------------------- */

/* The result as get gives it: one value (apply) or an array of them. */
static int decode_result(job *j, mp_value **out)
{
    if (j->kind == JOB_APPLY)
        return mp_decode(j->results[0].data, j->results[0].len, &result_limits, out);
    if (j->kind == JOB_FIXED)
        return mp_decode_array_of(NULL, 0, 0, &result_limits, out);
    mp_bytes *parts = malloc((j->nchunks ? j->nchunks : 1) * sizeof *parts);
    if (parts == NULL)
        return mp_fail(MP_ENOMEM, "map: out of memory for the results");
    for (size_t i = 0; i < j->nchunks; i++)
        parts[i] = (mp_bytes){j->results[i].data, j->results[i].len};
    int rc = mp_decode_array_of(parts, j->nchunks, j->nitems, &result_limits, out);
    free(parts);
    return rc;
}

static void run_callbacks(job *j)
{
    if (j->kind == JOB_IMAP || j->kind == JOB_IMAP_UNORDERED)
        return;
    if (j->first_failed >= 0) {
        if (j->opts.error_callback)
            j->opts.error_callback(&j->results[j->first_failed].err, j->opts.arg);
        return;
    }
    mp_value *v;
    if (j->opts.callback && decode_result(j, &v) == MP_OK) {
        j->opts.callback(v, j->opts.arg);
        mp_value_free(v);
    }
}

/* Called with j->lock held after chunk i ended. Whether the job just
 * became ready. */
static bool settle_locked(job *j, size_t i)
{
    j->ended++;
    if (j->order)
        j->order[j->norder++] = i;
    bool was_ready = j->ready;
    /* A failure decides at once, except that map_fixed waits for every
     * chunk: the caller's output buffer must not be written after it
     * returns. */
    if (j->ended == j->nchunks || (j->first_failed >= 0 && j->kind != JOB_FIXED))
        j->ready = true;
    /* get and wait care only for readiness; imap's next for every chunk. A
     * wake-up per chunk would cost a map of many small chunks a futex call
     * each, and its caller a context switch each. */
    if (j->ready || j->kind == JOB_IMAP || j->kind == JOB_IMAP_UNORDERED)
        mp_os_cond_broadcast(j->changed);
    return j->ready && !was_ready;
}

/* Called with j->lock held once chunk i has ended: releases the lock, runs
 * the callbacks if the job just became ready, drops the chunk's reference. */
static void end_chunk_locked(job *j, size_t i)
{
    if (j->results[i].state == FAILED && j->first_failed < 0)
        j->first_failed = (long)i;
    bool now_ready = settle_locked(j, i);
    mp_os_mutex_unlock(j->lock);
    if (now_ready)
        run_callbacks(j);
    job_release(j);
}

/* ---- a chunk's task: what the pool calls (pool_chunk.h) ------------------- */

/* The fields in the order of pool_message.h. */
static int chunk_header(const pool_chunk *pc, mp_buf *msg)
{
    const job_chunk *c = (const job_chunk *)pc;
    const job *j = c->job;
    if (j->kind == JOB_FIXED)
        return mp_pack(msg, "(isQQ)", POOL_FIXED, j->name, (uint64_t)j->in_size, (uint64_t)j->out_size);
    if (j->kind == JOB_APPLY)
        return mp_pack(msg, "(is)", POOL_ARGS, j->name);
    return mp_pack(msg, "(is?Q)", POOL_ITEMS, j->name, j->kind == JOB_STARMAP, (uint64_t)c->count);
}

static void chunk_failed(pool_chunk *pc, int ret, const mp_remote_error *err)
{
    job_chunk *c = (job_chunk *)pc;
    job *j = c->job;
    chunk_result *r = &j->results[c->index];
    char *msg = malloc(strlen(err->message) + 1);
    if (msg)
        strcpy(msg, err->message);
    mp_os_mutex_lock(j->lock);
    r->state = FAILED;
    r->ret = ret;
    r->msg = msg;
    r->err = *err;
    r->err.message = msg ? msg : "(out of memory for the message)";
    r->err.task = j->name;
    end_chunk_locked(j, c->index);
}

/* The count a reply to chunk c must carry. */
static uint64_t expected_count(const job_chunk *c)
{
    const job *j = c->job;
    return j->kind == JOB_FIXED ? (uint64_t)c->count * j->out_size : j->kind == JOB_APPLY ? 1 : c->count;
}

static void chunk_done(pool_chunk *pc, uint64_t count, const unsigned char *data, size_t len, void *owned)
{
    job_chunk *c = (job_chunk *)pc;
    job *j = c->job;
    chunk_result *r = &j->results[c->index];
    if (count != expected_count(c) || (j->kind == JOB_FIXED && len != count)) {
        free(owned);
        mp_remote_error err = {MP_EPROTO, "malformed reply from the worker: wrong count", j->name, 0, 0};
        chunk_failed(pc, MP_EREMOTE, &err);
        return;
    }
    if (j->kind != JOB_FIXED && owned == NULL && (owned = malloc(len ? len : 1)) != NULL) {
        if (len)
            memcpy(owned, data, len);
        data = owned;
    }
    mp_os_mutex_lock(j->lock);
    if (j->kind == JOB_FIXED) {
        memcpy(j->out + c->first * j->out_size, data, len);
        r->state = SUCCEEDED;
    } else if (j->first_failed < 0 || j->kind == JOB_IMAP || j->kind == JOB_IMAP_UNORDERED) {
        if (owned != NULL) {
            r->block = owned;
            r->data = data;
            r->len = len;
            r->state = SUCCEEDED;
            owned = NULL;
        } else {
            r->state = FAILED;
            r->ret = MP_ENOMEM;
            r->err = (mp_remote_error){MP_ENOMEM, "out of memory for a chunk's results", j->name, 0, 0};
        }
    }
    end_chunk_locked(j, c->index);
    free(owned);
}

/* True if nothing but a thread waiting on the job (get, wait, ready) can
 * see it end: one call, no callbacks. */
static bool seen_only_by_waiting(const job *j)
{
    return j->kind == JOB_APPLY && !j->opts.callback && !j->opts.error_callback;
}

/* ---- making a job ------------------------------------------------------------ */

static int job_new(job **out, job_kind kind, mp_pool *pool, mp_any_fn fn, mp_registry_kind reg, const char *what)
{
    *out = NULL;
    int rc = mp_pool_check_open(pool, what);
    if (rc != MP_OK)
        return rc;
    if (fn == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL task function", what);
    const char *name = mp_registry_name(reg, fn);
    if (name == NULL && !mp_pool_uses_threads(pool))
        return mp_fail(MP_ENOTREG, "%s: the task function is not registered; add %s(fn)", what,
                       reg == MP_REG_TASK ? "MP_TASK" : "MP_ELEM_TASK");
    if (name == NULL)
        name = "(unregistered task)";
    job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return mp_fail(MP_ENOMEM, "%s: out of memory", what);
    j->kind = kind;
    j->first_failed = -1;
    j->task = (pool_task){.header = chunk_header,
                          .done = chunk_done,
                          .failed = chunk_failed,
                          .direct = mp_pool_uses_threads(pool) ? fn : NULL,
                          .keeps_replies = kind != JOB_FIXED};
    atomic_init(&j->refs, 1);
    j->name = malloc(strlen(name) + 1);
    if (j->name)
        strcpy(j->name, name);
    j->task.name = j->name;
    rc = j->name ? mp_os_mutex_new(&j->lock) : mp_fail(MP_ENOMEM, "%s: out of memory", what);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&j->changed);
    if (rc != MP_OK) {
        job_release(j);
        return rc;
    }
    *out = j;
    return MP_OK;
}

/* The items are walked once, to count and check them; every MARK_EVERY-th
 * item's offset is noted on the way, so that cutting them into chunks
 * later walks only from the nearest mark. */
#define MARK_EVERY 1024

/* The size of the well-formed value at p (len bytes left). */
static size_t item_size(const unsigned char *p, size_t len)
{
    size_t n = mp_number_size(*p);
    if (n == 0 || n > len)
        mp_value_span(p, len, &n);
    return n;
}

/* The offset of the item count items after the one at offset pos. */
static size_t walk(const job *j, size_t pos, size_t count)
{
    for (size_t i = 0; i < count; i++)
        pos += item_size(j->items + pos, j->items_len - pos);
    return pos;
}

/* The offset of item i, from the marks. */
static size_t item_offset(const job *j, const size_t *marks, size_t i)
{
    if (i == j->nitems)
        return j->items_len;
    return walk(j, marks[i / MARK_EVERY], i % MARK_EVERY);
}

/* Cut the job into nchunks chunks of chunksize items (the last one
 * shorter), find their bytes, and submit them. marks: those of
 * count_items, for the kinds whose items are MessagePack values. */
static int job_submit(job *j, mp_pool *pool, size_t chunksize, const size_t *marks, const char *what)
{
    j->nchunks = j->nitems == 0 ? 0 : (j->nitems + chunksize - 1) / chunksize;
    bool imap = j->kind == JOB_IMAP || j->kind == JOB_IMAP_UNORDERED;
    size_t n = j->nchunks ? j->nchunks : 1;
    j->chunks = calloc(n, sizeof *j->chunks);
    j->results = calloc(n, sizeof *j->results);
    j->order = imap ? calloc(n, sizeof *j->order) : NULL;
    if (j->chunks == NULL || j->results == NULL || (imap && j->order == NULL))
        return mp_fail(MP_ENOMEM, "%s: out of memory", what);
    j->task.waited_only = seen_only_by_waiting(j);
    size_t pos = 0;
    for (size_t i = 0; i < j->nchunks; i++) {
        job_chunk *c = &j->chunks[i];
        c->base.task = &j->task;
        c->job = j;
        c->index = i;
        c->first = i * chunksize;
        c->count = j->nitems - c->first < chunksize ? j->nitems - c->first : chunksize;
        if (j->kind == JOB_FIXED)
            c->base.len = c->count * j->in_size;
        else if (j->kind == JOB_APPLY)
            c->base.len = j->items_len;
        else if (c->count < MARK_EVERY)
            c->base.len = walk(j, pos, c->count) - pos;
        else
            c->base.len = item_offset(j, marks, c->first + c->count) - pos;
        c->base.data = j->items + pos;
        pos += c->base.len;
        c->base.next = i + 1 < j->nchunks ? &j->chunks[i + 1].base : NULL;
    }
    if (j->nchunks == 0) {
        j->ready = true;
        return MP_OK;
    }
    atomic_fetch_add(&j->refs, (int)j->nchunks);
    j->pool = pool;
    return mp_pool_submit(pool, &j->chunks[0].base, &j->chunks[j->nchunks - 1].base, j->nchunks);
}

/* How many well-formed values items[0..len) holds, one after another, and
 * the marks (see MARK_EVERY), which the caller frees. */
static int count_items(const void *items, size_t len, size_t *n, size_t **marks, const char *what)
{
    *n = 0;
    *marks = NULL;
    if (items == NULL && len > 0)
        return mp_fail(MP_EINVAL, "%s: NULL items", what);
    const unsigned char *p = items;
    size_t count = 0, cap = 0, span;
    size_t *m = NULL;
    for (size_t pos = 0; pos < len; pos += span, count++) {
        if (count % MARK_EVERY == 0) {
            if (count / MARK_EVERY == cap) {
                size_t *grown = realloc(m, (cap = cap ? 2 * cap : 16) * sizeof *m);
                if (grown == NULL) {
                    free(m);
                    return mp_fail(MP_ENOMEM, "%s: out of memory", what);
                }
                m = grown;
            }
            m[count / MARK_EVERY] = pos;
        }
        span = mp_number_size(p[pos]);
        if (span == 0 || span > len - pos) {
            int rc = mp_value_span(p + pos, len - pos, &span);
            if (rc != MP_OK) {
                free(m);
                return mp_fail(rc, "%s: item %zu: %s", what, count, mp_last_error());
            }
        }
    }
    *n = count;
    *marks = m;
    return MP_OK;
}

/* Python's default: ceil(n / (4 * workers)). */
static size_t default_chunksize(const mp_pool *pool, size_t n)
{
    size_t per = 4 * mp_pool_worker_count(pool);
    size_t c = (n + per - 1) / per;
    return c ? c : 1;
}

static int items_job(job **out, job_kind kind, mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                     const mp_async_options *opts, const char *what)
{
    job *j;
    int rc = job_new(&j, kind, pool, (mp_any_fn)fn, MP_REG_TASK, what);
    if (rc != MP_OK)
        return rc;
    size_t *marks;
    rc = count_items(items, len, &j->nitems, &marks, what);
    if (rc == MP_OK && len && (j->items = malloc(len)) == NULL)
        rc = mp_fail(MP_ENOMEM, "%s: out of memory", what);
    if (rc == MP_OK) {
        if (len)
            memcpy(j->items, items, len);
        j->items_len = len;
        if (opts)
            j->opts = *opts;
        size_t chunksize = j->opts.chunksize;
        if (chunksize == 0)
            chunksize = kind == JOB_IMAP || kind == JOB_IMAP_UNORDERED ? 1 : default_chunksize(pool, j->nitems);
        rc = job_submit(j, pool, chunksize, marks, what);
    }
    free(marks);
    if (rc != MP_OK) {
        job_release(j);
        return rc;
    }
    *out = j;
    return MP_OK;
}

/* ---- AsyncResult ------------------------------------------------------------- */

static int wait_ready(job *j, double timeout, const char *what)
{
    double deadline = mp_deadline(timeout);
    mp_os_mutex_lock(j->lock);
    /* Take the reply from the worker here if the pool lets us. */
    if (!j->ready && j->pool && j->task.waited_only) {
        mp_os_mutex_unlock(j->lock);
        mp_pool_read_reply(j->pool, &j->chunks[0].base, timeout);
        mp_os_mutex_lock(j->lock);
    }
    while (!j->ready) {
        double left = mp_time_left(deadline);
        if (left <= 0) {
            mp_os_mutex_unlock(j->lock);
            return mp_fail(MP_ETIMEDOUT, "%s: not ready after %g s", what, timeout);
        }
        mp_os_cond_wait(j->changed, j->lock, left);
    }
    mp_os_mutex_unlock(j->lock);
    return MP_OK;
}

/* Set the thread's error from a failed chunk's and return its code. */
static int raise_chunk_error(const chunk_result *r)
{
    const mp_remote_error *e = &r->err;
    switch (r->ret) {
    case MP_EREMOTE:
        if (e->pid)
            return mp_fail(MP_EREMOTE, "task '%s' in worker %ld failed: %s: %s", e->task, e->pid,
                           mp_errname(e->code), e->message);
        return mp_fail(MP_EREMOTE, "task '%s' failed: %s: %s", e->task, mp_errname(e->code), e->message);
    case MP_EWORKERDIED:
        return mp_fail(MP_EWORKERDIED, "task '%s': %s", e->task, e->message);
    default:
        return mp_fail(r->ret, "task '%s': %s", e->task, e->message);
    }
}

int mp_async_result_get(mp_async_result *r, double timeout, mp_value **out)
{
    if (out != NULL)
        *out = NULL;
    if (r == NULL || out == NULL)
        return mp_fail(MP_EINVAL, "mp_async_result_get: NULL argument");
    int rc = wait_ready(r, timeout, "mp_async_result_get");
    if (rc != MP_OK)
        return rc;
    if (r->first_failed >= 0)
        return raise_chunk_error(&r->results[r->first_failed]);
    return decode_result(r, out);
}

int mp_async_result_wait(mp_async_result *r, double timeout)
{
    if (r == NULL)
        return mp_fail(MP_EINVAL, "mp_async_result_wait: NULL result");
    return wait_ready(r, timeout, "mp_async_result_wait");
}

bool mp_async_result_ready(mp_async_result *r)
{
    if (r == NULL)
        return false;
    mp_os_mutex_lock(r->lock);
    bool ready = r->ready;
    bool look = !ready && r->pool && r->task.waited_only;
    mp_os_mutex_unlock(r->lock);
    if (look) {
        /* its reply may be waiting in the worker's pipe for us to read */
        mp_pool_read_reply(r->pool, &r->chunks[0].base, 0);
        mp_os_mutex_lock(r->lock);
        ready = r->ready;
        mp_os_mutex_unlock(r->lock);
    }
    return ready;
}

int mp_async_result_successful(mp_async_result *r)
{
    if (r == NULL)
        return mp_fail(MP_EINVAL, "mp_async_result_successful: NULL result");
    if (!mp_async_result_ready(r))
        return mp_fail(MP_ESTATE, "mp_async_result_successful: the result is not ready");
    return r->first_failed < 0 ? 1 : 0;
}

const mp_remote_error *mp_async_result_error(mp_async_result *r)
{
    if (!mp_async_result_ready(r) || r->first_failed < 0)
        return NULL;
    return &r->results[r->first_failed].err;
}

void mp_async_result_free(mp_async_result *r)
{
    if (r != NULL)
        job_release(r);
}

/* ---- the calls ---------------------------------------------------------------- */

int mp_pool_apply_asyncv(mp_pool *pool, mp_task_fn fn, const mp_async_options *opts, mp_async_result **out,
                         const char *fmt, va_list ap)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_apply_async: NULL out");
    job *j;
    int rc = job_new(&j, JOB_APPLY, pool, (mp_any_fn)fn, MP_REG_TASK, "mp_pool_apply_async");
    if (rc != MP_OK)
        return rc;
    const char *items = fmt ? fmt : "";
    size_t flen = strlen(items);
    char *wrapped = malloc(flen + 3);
    mp_buf args = MP_BUF_INIT;
    rc = wrapped ? MP_OK : mp_fail(MP_ENOMEM, "mp_pool_apply_async: out of memory");
    if (rc == MP_OK) {
        wrapped[0] = '(';
        memcpy(wrapped + 1, items, flen);
        memcpy(wrapped + 1 + flen, ")", 2);
        rc = mp_vpack(&args, wrapped, ap);
        if (rc != MP_OK)
            rc = mp_fail(rc, "mp_pool_apply_async: arguments: %s", mp_last_error());
    }
    free(wrapped);
    if (rc == MP_OK) {
        j->items = args.data;
        j->items_len = args.len;
        j->nitems = 1;
        args = (mp_buf)MP_BUF_INIT;
        if (opts)
            j->opts = *opts;
        rc = job_submit(j, pool, 1, NULL, "mp_pool_apply_async");
    }
    mp_buf_free(&args);
    if (rc != MP_OK) {
        job_release(j);
        return rc;
    }
    *out = j;
    return MP_OK;
}

int mp_pool_apply_async(mp_pool *pool, mp_task_fn fn, const mp_async_options *opts, mp_async_result **out,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_pool_apply_asyncv(pool, fn, opts, out, fmt, ap);
    va_end(ap);
    return rc;
}

static int get_and_free(job *j, int rc, mp_value **out)
{
    if (rc != MP_OK)
        return rc;
    rc = mp_async_result_get(j, MP_FOREVER, out);
    mp_async_result_free(j);
    return rc;
}

int mp_pool_apply(mp_pool *pool, mp_task_fn fn, mp_value **out, const char *fmt, ...)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_apply: NULL out");
    *out = NULL;
    job *j = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_pool_apply_asyncv(pool, fn, NULL, &j, fmt, ap);
    va_end(ap);
    return get_and_free(j, rc, out);
}

int mp_pool_map_async(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, const mp_async_options *opts,
                      mp_async_result **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_map_async: NULL out");
    return items_job(out, JOB_MAP, pool, fn, items, len, opts, "mp_pool_map_async");
}

int mp_pool_starmap_async(mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                          const mp_async_options *opts, mp_async_result **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_starmap_async: NULL out");
    return items_job(out, JOB_STARMAP, pool, fn, items, len, opts, "mp_pool_starmap_async");
}

int mp_pool_map(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, size_t chunksize, mp_value **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_map: NULL out");
    *out = NULL;
    job *j = NULL;
    mp_async_options opts = {.chunksize = chunksize};
    int rc = items_job(&j, JOB_MAP, pool, fn, items, len, &opts, "mp_pool_map");
    return get_and_free(j, rc, out);
}

int mp_pool_starmap(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, size_t chunksize,
                    mp_value **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_starmap: NULL out");
    *out = NULL;
    job *j = NULL;
    mp_async_options opts = {.chunksize = chunksize};
    int rc = items_job(&j, JOB_STARMAP, pool, fn, items, len, &opts, "mp_pool_starmap");
    return get_and_free(j, rc, out);
}

int mp_pool_map_fixed(mp_pool *pool, mp_elem_fn fn, const void *in, size_t in_size, void *out, size_t out_size,
                      size_t n, size_t chunksize)
{
    const char *what = "mp_pool_map_fixed";
    if ((in == NULL || out == NULL) && n > 0)
        return mp_fail(MP_EINVAL, "%s: NULL buffer", what);
    if (in_size == 0 || in_size > POOL_MAX_ELEM || out_size == 0 || out_size > POOL_MAX_ELEM)
        return mp_fail(MP_EINVAL, "%s: element sizes are 1 byte to 64 KiB, not %zu and %zu", what, in_size,
                       out_size);
    if (n > SIZE_MAX / POOL_MAX_ELEM)
        return mp_fail(MP_ETOOBIG, "%s: %zu elements", what, n);
    const unsigned char *i0 = in, *o0 = out;
    if (n > 0 && i0 < o0 + n * out_size && o0 < i0 + n * in_size)
        return mp_fail(MP_EINVAL, "%s: in and out overlap", what);
    job *j;
    int rc = job_new(&j, JOB_FIXED, pool, (mp_any_fn)fn, MP_REG_ELEM_TASK, what);
    if (rc != MP_OK)
        return rc;
    j->items = (unsigned char *)(uintptr_t)in;
    j->items_len = n * in_size;
    j->nitems = n;
    j->in_size = in_size;
    j->out_size = out_size;
    j->out = out;
    rc = job_submit(j, pool, chunksize ? chunksize : default_chunksize(pool, n), NULL, what);
    if (rc == MP_OK) {
        rc = wait_ready(j, MP_FOREVER, what);
        if (rc == MP_OK && j->first_failed >= 0)
            rc = raise_chunk_error(&j->results[j->first_failed]);
    }
    job_release(j);
    return rc;
}

/* ---- imap ------------------------------------------------------------------------ */

static int imap_new(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, const mp_async_options *opts,
                    mp_imap_iter **out, job_kind kind, const char *what)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL out", what);
    mp_async_options o = opts ? *opts : (mp_async_options){0};
    o.callback = NULL;
    o.error_callback = NULL;
    return items_job((job **)out, kind, pool, fn, items, len, &o, what);
}

int mp_pool_imap(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, const mp_async_options *opts,
                 mp_imap_iter **out)
{
    return imap_new(pool, fn, items, len, opts, out, JOB_IMAP, "mp_pool_imap");
}

int mp_pool_imap_unordered(mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                           const mp_async_options *opts, mp_imap_iter **out)
{
    return imap_new(pool, fn, items, len, opts, out, JOB_IMAP_UNORDERED, "mp_pool_imap_unordered");
}

/* The chunk next() reads now, once it has ended; SIZE_MAX if none yet. */
static size_t current_chunk_locked(job *j)
{
    if (j->kind == JOB_IMAP)
        return j->results[j->next_chunk].state == PENDING ? SIZE_MAX : j->next_chunk;
    return j->next_chunk < j->norder ? j->order[j->next_chunk] : SIZE_MAX;
}

int mp_imap_next(mp_imap_iter *it, double timeout, mp_value **out)
{
    job *j = (job *)it;
    if (out != NULL)
        *out = NULL;
    if (j == NULL || out == NULL)
        return mp_fail(MP_EINVAL, "mp_imap_next: NULL argument");
    j->last_error = NULL;
    double deadline = mp_deadline(timeout);
    mp_os_mutex_lock(j->lock);
    size_t i;
    for (;;) {
        if (j->next_chunk >= j->nchunks) {
            mp_os_mutex_unlock(j->lock);
            return mp_fail(MP_EEOF, "mp_imap_next: no more results");
        }
        if ((i = current_chunk_locked(j)) != SIZE_MAX)
            break;
        double left = mp_time_left(deadline);
        if (left <= 0) {
            mp_os_mutex_unlock(j->lock);
            return mp_fail(MP_ETIMEDOUT, "mp_imap_next: no result after %g s", timeout);
        }
        mp_os_cond_wait(j->changed, j->lock, left);
    }
    mp_os_mutex_unlock(j->lock);
    /* Chunk i has ended and only this thread reads it from here on. */
    chunk_result *r = &j->results[i];
    if (r->state == FAILED) {
        j->next_chunk++;
        j->next_offset = 0;
        j->last_error = &r->err;
        return raise_chunk_error(r);
    }
    size_t span;
    int rc = mp_value_span(r->data + j->next_offset, r->len - j->next_offset, &span);
    if (rc == MP_OK)
        rc = mp_decode(r->data + j->next_offset, span, &result_limits, out);
    j->next_offset = rc == MP_OK ? j->next_offset + span : r->len;
    if (j->next_offset >= r->len) {
        free(r->block);
        r->block = NULL;
        r->data = NULL;
        r->len = 0;
        j->next_chunk++;
        j->next_offset = 0;
    }
    return rc;
}

const mp_remote_error *mp_imap_error(mp_imap_iter *it)
{
    return it ? ((job *)it)->last_error : NULL;
}

void mp_imap_free(mp_imap_iter *it)
{
    if (it != NULL)
        job_release((job *)it);
}
