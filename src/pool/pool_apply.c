/* pool_apply.c - apply and apply_async: one call of the task, its
 * arguments packed from a format. */
#include <stdarg.h>
#include <string.h>

#include "base/error_internal.h"
#include "pack/pack_format.h"
#include "pool/pool_job.h"

/* A program's task is the one value the format packed: the argument
 * array is taken off it. */
static int program_task(const mp_pool *pool, mp_buf *args)
{
    const unsigned char one_item_array = 0x91;
    if (args->len < 2 || args->data[0] != one_item_array)
        return mp_fail(MP_EINVAL,
                       "mp_pool_apply_async: a program's task is one value; the format packs another "
                       "number of them");
    memmove(args->data, args->data + 1, --args->len);
    return mp_pool_check_task(pool, args->data, args->len, "mp_pool_apply_async");
}

int mp_pool_apply_asyncv(mp_pool *pool, mp_task_fn fn, const mp_async_options *opts, mp_async_result **out,
                         const char *fmt, va_list ap)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_apply_async: NULL out");
    job *j;
    int rc = mp_pool_job_new(&j, JOB_APPLY, pool, (mp_any_fn)fn, MP_REG_TASK, "mp_pool_apply_async");
    if (rc != MP_OK)
        return rc;
    mp_buf args = MP_BUF_INIT;
    rc = mp_vpack_array(&args, fmt, ap, NULL);
    if (rc != MP_OK)
        rc = mp_fail(rc, "mp_pool_apply_async: arguments: %s", mp_last_error());
    if (rc == MP_OK && mp_pool_program_name(pool) != NULL)
        rc = program_task(pool, &args);
    if (rc == MP_OK) {
        j->items = args.data;
        j->items_len = args.len;
        j->nitems = 1;
        args = (mp_buf)MP_BUF_INIT;
        if (opts)
            j->opts = *opts;
        rc = mp_pool_job_submit(j, pool, 1, NULL, "mp_pool_apply_async");
    }
    mp_buf_free(&args);
    if (rc != MP_OK) {
        mp_pool_job_release(j);
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
    return mp_pool_get_and_free(j, rc, out);
}
