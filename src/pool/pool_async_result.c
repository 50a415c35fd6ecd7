/* pool_async_result.c - AsyncResult: waiting for a job, its result or
 * error, its handle. */
#include "base/error_internal.h"
#include "base/timeout.h"
#include "pool/pool_job.h"

int mp_pool_job_wait_ready(job *j, double timeout, const char *what)
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

int mp_pool_raise_chunk_error(const chunk_result *r)
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
    int rc = mp_pool_job_wait_ready(r, timeout, "mp_async_result_get");
    if (rc != MP_OK)
        return rc;
    if (r->first_failed >= 0)
        return mp_pool_raise_chunk_error(&r->results[r->first_failed]);
    return mp_pool_job_decode_result(r, out);
}

int mp_async_result_wait(mp_async_result *r, double timeout)
{
    if (r == NULL)
        return mp_fail(MP_EINVAL, "mp_async_result_wait: NULL result");
    return mp_pool_job_wait_ready(r, timeout, "mp_async_result_wait");
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
        mp_pool_job_release(r);
}

int mp_pool_get_and_free(job *j, int rc, mp_value **out)
{
    if (rc != MP_OK)
        return rc;
    rc = mp_async_result_get(j, MP_FOREVER, out);
    mp_async_result_free(j);
    return rc;
}
