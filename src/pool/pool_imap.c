/* pool_imap.c - imap and imap_unordered: a job of one-item chunks by
 * default, and the iterator that gives its results one at a time as their
 * chunks end, in order or in the order they ended. */
#include <stdint.h>
#include <stdlib.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "pack/pack_internal.h"
#include "pool/pool_job.h"

static int imap_new(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, const mp_async_options *opts,
                    mp_imap_iter **out, job_kind kind, const char *what)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL out", what);
    mp_async_options o = opts ? *opts : (mp_async_options){0};
    o.callback = NULL;
    o.error_callback = NULL;
    return mp_pool_items_job((job **)out, kind, pool, fn, items, len, &o, what);
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
        return mp_pool_raise_chunk_error(r);
    }
    size_t span;
    int rc = mp_value_span(r->data + j->next_offset, r->len - j->next_offset, &span);
    if (rc == MP_OK)
        rc = mp_decode(r->data + j->next_offset, span, &mp_pool_result_limits, out);
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
        mp_pool_job_release((job *)it);
}
