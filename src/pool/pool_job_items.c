/* pool_job_items.c - a job's input: the MessagePack items of map, starmap
 * and imap counted and checked, every job cut into chunks and submitted. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pack/decode.h"
#include "base/error_internal.h"
#include "pack/pack_internal.h"
#include "pool/pool_job.h"

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

/* True if nothing but a thread waiting on the job (get, wait, ready) can
 * see it end: one call, no callbacks. */
static bool seen_only_by_waiting(const job *j)
{
    return j->kind == JOB_APPLY && !j->opts.callback && !j->opts.error_callback;
}

int mp_pool_job_submit(job *j, mp_pool *pool, size_t chunksize, const size_t *marks, const char *what)
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
    if ((j->kind == JOB_MAP || j->kind == JOB_STARMAP) && j->nitems < mp_pool_result_limits.max_nodes &&
        j->nitems <= UINT32_MAX)
        atomic_store(&j->numbers, malloc((j->nitems + 1) * sizeof(mp_value)));
    atomic_fetch_add(&j->refs, (int)j->nchunks);
    j->pool = pool;
    return mp_pool_submit(pool, &j->chunks[0].base, &j->chunks[j->nchunks - 1].base, j->nchunks);
}

/* How many well-formed values items[0..len) holds, one after another, and
 * the marks (see MARK_EVERY), which the caller frees. A program pool's
 * items are checked against its framing too. */
static int count_items(const mp_pool *pool, const void *items, size_t len, size_t *n, size_t **marks,
                       const char *what)
{
    bool program = mp_pool_program_name(pool) != NULL;
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
        if (program && mp_pool_check_task(pool, p + pos, span, what) != MP_OK) {
            free(m);
            return mp_fail(MP_EINVAL, "%s (item %zu)", mp_last_error(), count);
        }
    }
    *n = count;
    *marks = m;
    return MP_OK;
}

size_t mp_pool_default_chunksize(const mp_pool *pool, size_t n)
{
    size_t per = 4 * mp_pool_worker_count(pool);
    size_t c = (n + per - 1) / per;
    return c ? c : 1;
}

int mp_pool_items_job(job **out, job_kind kind, mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                      const mp_async_options *opts, const char *what)
{
    job *j;
    int rc = mp_pool_job_new(&j, kind, pool, (mp_any_fn)fn, MP_REG_TASK, what);
    if (rc != MP_OK)
        return rc;
    size_t *marks;
    rc = count_items(pool, items, len, &j->nitems, &marks, what);
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
            chunksize =
                kind == JOB_IMAP || kind == JOB_IMAP_UNORDERED ? 1 : mp_pool_default_chunksize(pool, j->nitems);
        rc = mp_pool_job_submit(j, pool, chunksize, marks, what);
    }
    free(marks);
    if (rc != MP_OK) {
        mp_pool_job_release(j);
        return rc;
    }
    *out = j;
    return MP_OK;
}
