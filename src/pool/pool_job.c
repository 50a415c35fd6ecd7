/* pool_job.c - a call's job (pool_job.h): making and releasing it, and how
 * its chunks end. The scheduler ends each chunk through the callbacks of
 * the job's task (the section "a chunk's task"); the last one to end, or
 * the first to fail, makes the job ready and runs the user's callbacks. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "pack/decode.h"
#include "pool/pool_job.h"
#include "pool/pool_message.h"

const mp_limits mp_pool_result_limits = {.max_nodes = POOL_MAX_NODES};

void mp_pool_job_release(job *j)
{
    if (atomic_fetch_sub(&j->refs, 1) != 1)
        return;
    for (size_t i = 0; i < j->nchunks; i++) {
        free(j->results[i].block);
        free(j->results[i].msg);
    }
    free(atomic_load(&j->numbers));
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

static bool fills_numbers(const job *j)
{
    return j->kind == JOB_MAP || j->kind == JOB_STARMAP;
}

int mp_pool_job_decode_result(job *j, mp_value **out)
{
    /* Filled as the chunks came in: the first taker has it, anyone after
     * (a get after the callback) decodes again. */
    mp_value *root = fills_numbers(j) && !atomic_load(&j->numbers_off) ? atomic_exchange(&j->numbers, NULL) : NULL;
    if (root != NULL) {
        mp_array_root(root, root + 1, j->nitems);
        *out = root;
        return MP_OK;
    }
    if (j->kind == JOB_APPLY)
        return mp_decode(j->results[0].data, j->results[0].len, &mp_pool_result_limits, out);
    if (j->kind == JOB_FIXED)
        return mp_decode_array_of(NULL, 0, 0, &mp_pool_result_limits, out);
    mp_bytes *parts = malloc((j->nchunks ? j->nchunks : 1) * sizeof *parts);
    if (parts == NULL)
        return mp_fail(MP_ENOMEM, "map: out of memory for the results");
    for (size_t i = 0; i < j->nchunks; i++)
        parts[i] = (mp_bytes){j->results[i].data, j->results[i].len};
    int rc = mp_decode_array_of(parts, j->nchunks, j->nitems, &mp_pool_result_limits, out);
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
    if (j->opts.callback && mp_pool_job_decode_result(j, &v) == MP_OK) {
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
    mp_pool_job_release(j);
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
    char *msg = mp_strdup(err->message);
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
    /* Decoded here, in the thread that got the reply, while the workers go
     * on with the other chunks; the bytes are kept for a decode of them all
     * should another chunk hold more than numbers. */
    mp_value *numbers = fills_numbers(j) && !atomic_load(&j->numbers_off) ? atomic_load(&j->numbers) : NULL;
    if (numbers != NULL && mp_decode_numbers(data, len, numbers + 1 + c->first, c->count) != c->count)
        atomic_store(&j->numbers_off, true);
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

/* ---- making a job ------------------------------------------------------------ */

int mp_pool_job_new(job **out, job_kind kind, mp_pool *pool, mp_any_fn fn, mp_registry_kind reg,
                    const char *what)
{
    *out = NULL;
    int rc = mp_pool_check_open(pool, what);
    if (rc != MP_OK)
        return rc;
    const char *name = mp_pool_program_name(pool);
    if (name != NULL) {
        if (fn != NULL)
            return mp_fail(MP_EINVAL, "%s: a program pool's task is its program; pass NULL as the function",
                           what);
        if (kind == JOB_STARMAP || kind == JOB_FIXED)
            return mp_fail(MP_EUNSUPPORTED, "%s: a program takes one value per task", what);
    } else if (fn == NULL) {
        return mp_fail(MP_EINVAL, "%s: NULL task function", what);
    } else if (kind == JOB_FIXED && mp_pool_is_remote(pool)) {
        return mp_fail(MP_EUNSUPPORTED, "%s: a pool on Redis has no map_fixed", what);
    } else if ((name = mp_registry_name(reg, fn)) == NULL) {
        if (!mp_pool_uses_threads(pool))
            return mp_fail(MP_ENOTREG, "%s: the task function is not registered; add %s(fn)", what,
                           reg == MP_REG_TASK ? "MP_TASK" : "MP_ELEM_TASK");
        name = "(unregistered task)";
    }
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
    atomic_init(&j->numbers, NULL);
    atomic_init(&j->numbers_off, false);
    j->name = mp_strdup(name);
    j->task.name = j->name;
    rc = j->name ? mp_os_mutex_new(&j->lock) : mp_fail(MP_ENOMEM, "%s: out of memory", what);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&j->changed);
    if (rc != MP_OK) {
        mp_pool_job_release(j);
        return rc;
    }
    *out = j;
    return MP_OK;
}
