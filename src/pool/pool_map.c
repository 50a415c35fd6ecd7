/* pool_map.c - map and starmap, blocking and async, over MessagePack
 * items; map_fixed over raw fixed-size elements, always blocking. */
#include <stdint.h>

#include "base/error_internal.h"
#include "pool/pool_job.h"
#include "pool/pool_message.h"

int mp_pool_map_async(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, const mp_async_options *opts,
                      mp_async_result **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_map_async: NULL out");
    return mp_pool_items_job(out, JOB_MAP, pool, fn, items, len, opts, "mp_pool_map_async");
}

int mp_pool_starmap_async(mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                          const mp_async_options *opts, mp_async_result **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_starmap_async: NULL out");
    return mp_pool_items_job(out, JOB_STARMAP, pool, fn, items, len, opts, "mp_pool_starmap_async");
}

int mp_pool_map(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, size_t chunksize, mp_value **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_map: NULL out");
    *out = NULL;
    job *j = NULL;
    mp_async_options opts = {.chunksize = chunksize};
    int rc = mp_pool_items_job(&j, JOB_MAP, pool, fn, items, len, &opts, "mp_pool_map");
    return mp_pool_get_and_free(j, rc, out);
}

int mp_pool_starmap(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, size_t chunksize,
                    mp_value **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_starmap: NULL out");
    *out = NULL;
    job *j = NULL;
    mp_async_options opts = {.chunksize = chunksize};
    int rc = mp_pool_items_job(&j, JOB_STARMAP, pool, fn, items, len, &opts, "mp_pool_starmap");
    return mp_pool_get_and_free(j, rc, out);
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
    int rc = mp_pool_job_new(&j, JOB_FIXED, pool, (mp_any_fn)fn, MP_REG_ELEM_TASK, what);
    if (rc != MP_OK)
        return rc;
    j->items = (unsigned char *)(uintptr_t)in;
    j->items_len = n * in_size;
    j->nitems = n;
    j->in_size = in_size;
    j->out_size = out_size;
    j->out = out;
    rc = mp_pool_job_submit(j, pool, chunksize ? chunksize : mp_pool_default_chunksize(pool, n), NULL, what);
    if (rc == MP_OK) {
        rc = mp_pool_job_wait_ready(j, MP_FOREVER, what);
        if (rc == MP_OK && j->first_failed >= 0)
            rc = mp_pool_raise_chunk_error(&j->results[j->first_failed]);
    }
    mp_pool_job_release(j);
    return rc;
}
