/* pool_remote.c - a pool on Redis, the caller's side (pool.h, "A pool on
 * Redis"): making one, and the presence it renews so that workers know
 * its tasks are still wanted. Its slots are in pool_remote_slot.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "pool/pool_internal.h"
#include "thread/thread_internal.h"

#define DEFAULT_IN_FLIGHT 16

/* The presence holds how long this caller's results are to live: the
 * workers set that on its reply lists. */
void mp_pool_remote_presence(const pool_remote *r, mp_resp_arg args[5], mp_redis_cmd *cmd)
{
    args[0] = mp_resp_text("SET");
    args[1] = mp_resp_text(r->k_caller);
    args[2] = mp_resp_text(r->ttl_ms);
    args[3] = mp_resp_text("PX");
    args[4] = mp_resp_text(r->lease_ms);
    *cmd = (mp_redis_cmd){5, args};
}

/* Say this caller is here for another lease. */
static int renew(pool_remote *r, mp_redis *c)
{
    mp_resp_arg args[5];
    mp_redis_cmd set;
    mp_pool_remote_presence(r, args, &set);
    return mp_redis_run(c, 1, &set, r->o.timeout);
}

static int presence_main(void *arg)
{
    pool_remote *r = arg;
    mp_redis *c = NULL;
    mp_redis_options ro = {.connect_timeout = r->o.timeout, .command_timeout = r->o.timeout};
    mp_os_mutex_lock(r->lock);
    while (!r->stopping) {
        mp_os_cond_wait(r->wake, r->lock, r->o.lease / 3);
        if (r->stopping)
            break;
        mp_os_mutex_unlock(r->lock);
        /* A renewal that fails is tried again next time. */
        if (c != NULL || mp_redis_open(&c, r->backend, &ro) == MP_OK)
            renew(r, c);
        mp_os_mutex_lock(r->lock);
    }
    mp_os_mutex_unlock(r->lock);
    mp_redis_free(c);
    return 0;
}

void mp_pool_remote_free(mp_pool *p)
{
    pool_remote *r = p->remote;
    for (size_t i = 0; p->slots && i < p->nslots; i++) {
        mp_redis_free(p->slots[i].redis);
        free(p->slots[i].reply_key);
    }
    if (r == NULL)
        return;
    if (r->presence != NULL) {
        mp_os_mutex_lock(r->lock);
        r->stopping = true;
        mp_os_cond_signal(r->wake);
        mp_os_mutex_unlock(r->lock);
        mp_thread_join(r->presence, MP_FOREVER, NULL);
    }
    mp_os_cond_free(r->wake);
    mp_os_mutex_free(r->lock);
    free(r->backend);
    free(r->prefix);
    free(r->k_tasks);
    free(r->k_caller);
    free(r);
}

static int make_remote(pool_remote *r, const mp_pool_options *opts)
{
    const char *what = "mp_pool_new";
    int rc = mp_backend_settle(opts->backend_options, &r->o, what);
    mp_redis *c = NULL;
    if (rc == MP_OK)
        rc = mp_backend_open(opts->backend, &r->o, &c, &r->prefix, what);
    if (rc == MP_OK)
        rc = mp_backend_id(r->id);
    if (rc == MP_OK) {
        char caller[64];
        snprintf(caller, sizeof caller, "caller:%s", r->id);
        snprintf(r->lease_ms, sizeof r->lease_ms, "%lld", (long long)(r->o.lease * 1000));
        snprintf(r->ttl_ms, sizeof r->ttl_ms, "%lld", (long long)(r->o.result_ttl * 1000));
        r->backend = mp_strdup(opts->backend);
        r->k_tasks = mp_backend_key(r->prefix, "tasks");
        r->k_caller = mp_backend_key(r->prefix, caller);
        if (!r->backend || !r->k_tasks || !r->k_caller)
            rc = mp_fail(MP_ENOMEM, "%s: out of memory", what);
    }
    if (rc == MP_OK)
        rc = renew(r, c);
    mp_redis_free(c);
    if (rc == MP_OK)
        rc = mp_os_mutex_new(&r->lock);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&r->wake);
    if (rc == MP_OK)
        rc = mp_thread_start_daemon(&r->presence, presence_main, r, "mproc-pool-presence");
    return rc;
}

int mp_pool_remote_new(mp_pool **out, const mp_pool_options *opts)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_new: NULL out");
    *out = NULL;
    if (opts->initializer != NULL || opts->initargs != NULL || opts->maxtasksperchild != 0 ||
        opts->context != NULL)
        return mp_fail(MP_EINVAL, "mp_pool_new: a pool on Redis takes no initializer, maxtasksperchild or "
                                  "context: its workers do (mp_worker_options)");
    if (opts->processes < 0)
        return mp_fail(MP_EINVAL, "mp_pool_new: processes is %d; it must be at least 1 (0: %d)",
                       opts->processes, DEFAULT_IN_FLIGHT);
    pool_remote *r = calloc(1, sizeof *r);
    if (r == NULL)
        return mp_fail(MP_ENOMEM, "mp_pool_new: out of memory");
    int rc = make_remote(r, opts);
    if (rc != MP_OK) {
        char message[MP_ERROR_MESSAGE_SIZE];
        snprintf(message, sizeof message, "%s", mp_last_error());
        mp_pool p = {.remote = r};
        mp_pool_remote_free(&p);
        return mp_fail(rc, "%s", message);
    }
    mp_pool_options po = {.processes = opts->processes ? opts->processes : DEFAULT_IN_FLIGHT};
    return mp_pool_create(out, &po, false, NULL, r, "mp_pool_new");
}

bool mp_pool_is_remote(const mp_pool *pool)
{
    return pool->remote != NULL;
}
