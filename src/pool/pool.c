/* pool.c - Pool and ThreadPool (mproc/pool.h): making one, its states
 * (running, closed, terminated, broken) and its end. pool_internal.h says
 * how the scheduler's files divide the rest. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool/pool_internal.h"
#include "thread/thread_internal.h"
#include "base/timeout.h"

/* Each slot has its own condition, so that a task handed to one slot wakes
 * that slot's thread only. */
void mp_pool_wake_all_locked(mp_pool *p)
{
    for (size_t i = 0; i < p->nslots; i++)
        if (p->slots[i].wake)
            mp_os_cond_signal(p->slots[i].wake);
}

size_t mp_pool_worker_count(const mp_pool *pool)
{
    return pool->nslots;
}

bool mp_pool_uses_threads(const mp_pool *pool)
{
    return pool->threads;
}

int mp_pool_check_open(mp_pool *pool, const char *what)
{
    if (pool == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL pool", what);
    mp_os_mutex_lock(pool->lock);
    int state = pool->state;
    mp_os_mutex_unlock(pool->lock);
    switch (state) {
    case RUNNING:
        return MP_OK;
    case BROKEN:
        return mp_fail(pool->broken_code, "%s: %s", what, pool->broken_message);
    case CLOSED:
        return mp_fail(MP_ESTATE, "%s: the pool is closed", what);
    default:
        return mp_fail(MP_ESTATE, "%s: the pool is terminated", what);
    }
}

/* ---- breaking and stopping ----------------------------------------------- */

pool_chunk *mp_pool_break_locked(mp_pool *p, int code, const char *message)
{
    if (p->state == BROKEN || p->state == TERMINATED)
        return NULL;
    p->state = BROKEN;
    p->broken_code = code;
    snprintf(p->broken_message, sizeof p->broken_message, "%s", message);
    mp_pool_kill_workers_locked(p);
    mp_pool_wake_all_locked(p);
    return mp_pool_take_all_locked(p);
}

void mp_pool_break(mp_pool *p, int code, const char *fmt, ...)
{
    char message[MP_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    mp_os_mutex_lock(p->lock);
    pool_chunk *lost = mp_pool_break_locked(p, code, message);
    mp_os_mutex_unlock(p->lock);
    mp_pool_fail_chunks(lost, code, message);
}

/* A broken pool's message is written once, when it breaks, so it may be
 * read without the lock. */
void mp_pool_fail_stopped(mp_pool *p, int state, pool_chunk *list)
{
    if (state == BROKEN)
        mp_pool_fail_chunks(list, p->broken_code, p->broken_message);
    else
        mp_pool_fail_chunks(list, MP_ESTATE, "the pool was terminated");
}

/* ---- creating and ending ------------------------------------------------------ */

static void pool_free_memory(mp_pool *p)
{
    for (size_t i = 0; p->slots && i < p->nslots; i++) {
        mp_os_cond_free(p->slots[i].wake);
        mp_buf_free(&p->slots[i].out);
        mp_buf_free(&p->slots[i].reply);
        mp_pool_scratch_free(&p->slots[i].scratch);
    }
    mp_pool_remote_free(p);
    free(p->slots);
    free(p->initargs);
    mp_pool_programs_free(p->programs);
    mp_os_mutex_free(p->lock);
    free(p);
}

static int check_options(const mp_pool_options *o, bool threads, const char *what)
{
    if (o->processes < 0)
        return mp_fail(MP_EINVAL, "%s: processes is %d; it must be at least 1 (0: the CPU count)", what,
                       o->processes);
    if (o->maxtasksperchild < 0)
        return mp_fail(MP_EINVAL, "%s: maxtasksperchild is %d; it must be at least 1 (0: no limit)", what,
                       o->maxtasksperchild);
    if (threads && (o->maxtasksperchild != 0 || o->context != NULL))
        return mp_fail(MP_EINVAL, "%s: a ThreadPool takes no maxtasksperchild or context", what);
    if (o->initargs == NULL && o->initargs_len != 0)
        return mp_fail(MP_EINVAL, "%s: NULL initargs with a length", what);
    if (o->initargs != NULL) {
        mp_value *v;
        int rc = mp_decode(o->initargs, o->initargs_len, NULL, &v);
        if (rc != MP_OK)
            return mp_fail(rc, "%s: initargs: %s", what, mp_last_error());
        bool array = v->type == MP_ARRAY;
        mp_value_free(v);
        if (!array)
            return mp_fail(MP_EPROTO, "%s: initargs must be one packed array", what);
    }
    return MP_OK;
}

int mp_pool_create(mp_pool **out, const mp_pool_options *opts, bool threads, pool_programs *programs,
                   pool_remote *remote, const char *what)
{
    if (out != NULL)
        *out = NULL;
    mp_pool_options o = opts ? *opts : (mp_pool_options){0};
    int rc = out != NULL ? check_options(&o, threads, what) : mp_fail(MP_EINVAL, "%s: NULL out", what);
    mp_pool *p = rc == MP_OK ? calloc(1, sizeof *p) : NULL;
    if (p == NULL) {
        mp_pool_programs_free(programs);
        mp_pool unmade = {.remote = remote};
        mp_pool_remote_free(&unmade);
        return rc != MP_OK ? rc : mp_fail(MP_ENOMEM, "%s: out of memory", what);
    }
    p->threads = threads;
    p->programs = programs;
    p->remote = remote;
    p->nslots = o.processes ? (size_t)o.processes : (size_t)mp_cpu_count();
    if (p->nslots == 0)
        p->nslots = 1;
    p->initializer = o.initializer;
    p->maxtasks = o.maxtasksperchild;
    p->context = o.context;
    if (o.initializer && !threads && (p->initializer_name = mp_target_name(o.initializer)) == NULL)
        rc = mp_fail(MP_ENOTREG, "%s: the initializer is not registered; add MP_TARGET(fn)", what);
    if (rc == MP_OK && o.initargs_len && (p->initargs = malloc(o.initargs_len)) == NULL)
        rc = mp_fail(MP_ENOMEM, "%s: out of memory", what);
    if (rc == MP_OK && p->initargs) {
        memcpy(p->initargs, o.initargs, o.initargs_len);
        p->initargs_len = o.initargs_len;
    }
    if (rc == MP_OK && (p->slots = calloc(p->nslots, sizeof *p->slots)) == NULL)
        rc = mp_fail(MP_ENOMEM, "%s: out of memory", what);
    if (rc == MP_OK)
        rc = mp_os_mutex_new(&p->lock);
    for (size_t i = 0; rc == MP_OK && i < p->nslots; i++) {
        p->slots[i].pool = p;
        rc = mp_os_cond_new(&p->slots[i].wake);
    }
    for (size_t i = 0; rc == MP_OK && i < p->nslots; i++) {
        if (!threads && !remote)
            rc = mp_pool_start_worker(&p->slots[i]);
    }
    for (size_t i = 0; rc == MP_OK && i < p->nslots; i++) {
        char name[sizeof "ProgramPool-18446744073709551615"];
        snprintf(name, sizeof name, "%s-%zu",
                 threads    ? "ThreadPool"
                 : programs ? "ProgramPool"
                 : remote   ? "RedisPool"
                            : "PoolWorker",
                 i + 1);
        rc = mp_thread_start_daemon(&p->slots[i].thread, mp_pool_slot_main, &p->slots[i], name);
    }
    if (rc != MP_OK) {
        char message[MP_ERROR_MESSAGE_SIZE];
        snprintf(message, sizeof message, "%s", mp_last_error());
        if (p->lock) {
            mp_pool_terminate(p);
            mp_pool_join(p, MP_FOREVER);
        }
        for (size_t i = 0; p->slots && i < p->nslots; i++)
            if (p->slots[i].thread == NULL)
                mp_pool_reap_worker(&p->slots[i], true);
        pool_free_memory(p);
        return mp_fail(rc, "%s", message);
    }
    *out = p;
    return MP_OK;
}

int mp_pool_new(mp_pool **out, const mp_pool_options *opts)
{
    if (opts != NULL && opts->backend != NULL)
        return mp_pool_remote_new(out, opts);
    return mp_pool_create(out, opts, false, NULL, NULL, "mp_pool_new");
}

int mp_thread_pool_new(mp_pool **out, const mp_pool_options *opts)
{
    if (opts != NULL && opts->backend != NULL)
        return mp_fail(MP_EINVAL, "mp_thread_pool_new: a ThreadPool has no backend");
    return mp_pool_create(out, opts, true, NULL, NULL, "mp_thread_pool_new");
}

int mp_pool_close(mp_pool *p)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_close: NULL pool");
    mp_os_mutex_lock(p->lock);
    if (p->state == RUNNING)
        p->state = CLOSED;
    mp_pool_wake_all_locked(p);
    mp_os_mutex_unlock(p->lock);
    return MP_OK;
}

int mp_pool_terminate(mp_pool *p)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_terminate: NULL pool");
    mp_os_mutex_lock(p->lock);
    pool_chunk *lost = NULL;
    if (p->state != TERMINATED) {
        p->state = TERMINATED;
        lost = mp_pool_take_all_locked(p);
        mp_pool_kill_workers_locked(p);
    }
    mp_pool_wake_all_locked(p);
    mp_os_mutex_unlock(p->lock);
    mp_pool_fail_chunks(lost, MP_ESTATE, "the pool was terminated");
    return MP_OK;
}

int mp_pool_join(mp_pool *p, double timeout)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_join: NULL pool");
    mp_os_mutex_lock(p->lock);
    int state = p->state;
    mp_os_mutex_unlock(p->lock);
    if (state == RUNNING)
        return mp_fail(MP_ESTATE, "mp_pool_join: close or terminate the pool first");
    double deadline = mp_deadline(timeout);
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].thread == NULL)
            continue;
        int rc = mp_thread_join(p->slots[i].thread, mp_time_left(deadline), NULL);
        if (rc != MP_OK)
            return rc;
        p->slots[i].thread = NULL;
    }
    p->joined = true;
    return MP_OK;
}

void mp_pool_free(mp_pool *p)
{
    if (p == NULL)
        return;
    if (!p->joined) {
        mp_pool_terminate(p);
        mp_pool_join(p, MP_FOREVER);
    }
    pool_free_memory(p);
}

size_t mp_pool_pids(mp_pool *p, long *pids, size_t cap)
{
    if (p == NULL)
        return 0;
    mp_os_mutex_lock(p->lock);
    for (size_t i = 0; i < p->nslots && i < cap; i++)
        pids[i] = p->slots[i].worker    ? mp_process_pid(p->slots[i].worker)
                  : p->slots[i].program ? mp_program_pid(p->slots[i].program)
                                        : 0;
    mp_os_mutex_unlock(p->lock);
    return p->nslots;
}
