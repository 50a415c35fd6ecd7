/* redis_queue.c - a Queue on Redis as an object (mp_queue_open): opening
 * one, its connections, its end, and its travel to a child as a process
 * argument, where it is opened anew. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "ipc/queue_backing.h"
#include "redis/redis_queue.h"

#define DEFAULT_TIMEOUT 10.0
#define DEFAULT_LEASE 5.0

int mp_rq_conn(mp_rqueue *q, mp_redis **out, bool *was_idle)
{
    mp_os_mutex_lock(q->lock);
    mp_redis *c = q->nidle > 0 ? q->idle[--q->nidle] : NULL;
    mp_os_mutex_unlock(q->lock);
    *was_idle = c != NULL;
    if (c != NULL) {
        *out = c;
        return MP_OK;
    }
    return mp_redis_open(out, q->address, &q->ropts);
}

void mp_rq_release(mp_rqueue *q, mp_redis *c)
{
    mp_os_mutex_lock(q->lock);
    bool kept = q->nidle < MP_RQ_IDLE_CONNS;
    if (kept)
        q->idle[q->nidle++] = c;
    mp_os_mutex_unlock(q->lock);
    if (!kept)
        mp_redis_free(c);
}

int mp_rq_call(mp_rqueue *q, double extra, size_t argc, const mp_resp_arg *argv, mp_resp_reply **reply)
{
    *reply = NULL;
    mp_redis *c;
    bool idle;
    int rc = mp_rq_conn(q, &c, &idle);
    if (rc != MP_OK)
        return rc;
    rc = mp_redis_call_within(c, q->opts.timeout + extra, argc, argv, reply);
    /* A connection that sat idle while Redis restarted fails its first
     * call: the call goes once more, on a connection made anew. */
    if (rc == MP_ECONNRESET && idle)
        rc = mp_redis_call_within(c, q->opts.timeout + extra, argc, argv, reply);
    mp_rq_release(q, c);
    return rc;
}

/* ---- the keys ------------------------------------------------------------- */

static char *key(const char *prefix, const char *suffix)
{
    size_t n = strlen(prefix) + strlen(suffix) + 1;
    char *k = malloc(n);
    if (k != NULL)
        snprintf(k, n, "%s%s", prefix, suffix);
    return k;
}

static int make_keys(mp_rqueue *q, const char *name)
{
    size_t n = strlen("mproc:q:{}:") + strlen(name) + 1;
    if ((q->prefix = malloc(n)) == NULL)
        return mp_fail(MP_ENOMEM, "mp_queue_open: out of memory");
    snprintf(q->prefix, n, "mproc:q:{%s}:", name);
    unsigned char rnd[16];
    int rc = mp_os_random(rnd, sizeof rnd);
    if (rc != MP_OK)
        return rc;
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(q->id + 2 * i, 3, "%02x", rnd[i]);
    char taken[64], alive[64];
    snprintf(taken, sizeof taken, "taken:%s", q->id);
    snprintf(alive, sizeof alive, "alive:%s", q->id);
    q->k_items = key(q->prefix, "items");
    q->k_mode = key(q->prefix, "mode");
    q->k_unfinished = key(q->prefix, "unfinished");
    q->k_getters = key(q->prefix, "getters");
    q->k_taken = key(q->prefix, taken);
    q->k_alive = key(q->prefix, alive);
    if (!q->k_items || !q->k_mode || !q->k_unfinished || !q->k_getters || !q->k_taken || !q->k_alive)
        return mp_fail(MP_ENOMEM, "mp_queue_open: out of memory");
    return MP_OK;
}

/* The first open says whether the queue is joinable; a later one must
 * agree. */
static int settle_mode(mp_rqueue *q)
{
    const char *mode = q->opts.joinable ? "joinable" : "plain";
    mp_resp_arg set[] = {{"SET", 3}, {q->k_mode, strlen(q->k_mode)}, {mode, strlen(mode)}, {"NX", 2}};
    mp_resp_reply *r;
    int rc = mp_rq_call(q, 0, 4, set, &r);
    if (rc != MP_OK)
        return rc;
    mp_resp_free(r);
    mp_resp_arg get[] = {{"GET", 3}, {q->k_mode, strlen(q->k_mode)}};
    if ((rc = mp_rq_call(q, 0, 2, get, &r)) != MP_OK)
        return rc;
    bool same = r->type == MP_RESP_BULK && r->len == strlen(mode) && memcmp(r->str, mode, r->len) == 0;
    mp_resp_free(r);
    return same ? MP_OK
                : mp_fail(MP_ETYPE, "mp_queue_open: the queue on %s is %s", q->address,
                          q->opts.joinable ? "not joinable" : "joinable");
}

/* ---- opening and ending ------------------------------------------------------ */

static void rqueue_release(mp_rqueue *q)
{
    if (q->lease_thread != NULL)
        mp_rq_lease_stop(q);
    for (size_t i = 0; i < q->nidle; i++)
        mp_redis_free(q->idle[i]);
    q->nidle = 0;
    mp_os_cond_free(q->wake);
    mp_os_mutex_free(q->lock);
    free(q->address);
    free(q->prefix);
    free(q->k_items);
    free(q->k_mode);
    free(q->k_unfinished);
    free(q->k_getters);
    free(q->k_taken);
    free(q->k_alive);
}

static int check_options(const mp_queue_open_options *o)
{
    if (!(o->timeout >= 0) || !(o->lease >= 0))
        return mp_fail(MP_EINVAL, "mp_queue_open: timeout and lease are 0 (the default) or more seconds");
    return MP_OK;
}

int mp_queue_open(mp_queue **out, const char *address, const mp_queue_open_options *opts)
{
    if (out == NULL || address == NULL)
        return mp_fail(MP_EINVAL, "mp_queue_open: NULL %s", out == NULL ? "out" : "address");
    *out = NULL;
    mp_queue_open_options o = opts ? *opts : (mp_queue_open_options){0};
    int rc = check_options(&o);
    if (rc != MP_OK)
        return rc;
    if (strncmp(address, "redis://", 8) != 0 && strncmp(address, "rediss://", 9) != 0)
        return mp_fail(MP_EINVAL, "mp_queue_open: '%s' is not a redis:// address", address);
    o.timeout = o.timeout ? o.timeout : DEFAULT_TIMEOUT;
    o.lease = o.lease ? o.lease : DEFAULT_LEASE;
    mp_rqueue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return mp_fail(MP_ENOMEM, "mp_queue_open: out of memory");
    q->opts = o;
    q->ropts = (mp_redis_options){.connect_timeout = o.timeout, .command_timeout = o.timeout};
    mp_redis *first = NULL;
    rc = (q->address = mp_strdup(address)) ? mp_os_mutex_new(&q->lock) : mp_fail(MP_ENOMEM, "out of memory");
    if (rc == MP_OK)
        rc = mp_os_cond_new(&q->wake);
    if (rc == MP_OK)
        rc = mp_redis_open(&first, address, &q->ropts);
    if (rc == MP_OK && mp_redis_path(first)[0] == '\0')
        rc = mp_fail(MP_EINVAL, "mp_queue_open: '%s' names no queue (redis://host:port/db/name)", address);
    if (rc == MP_OK)
        rc = make_keys(q, mp_redis_path(first));
    if (first != NULL)
        mp_rq_release(q, first);
    if (rc == MP_OK)
        rc = settle_mode(q);
    if (rc == MP_OK && o.joinable)
        rc = mp_rq_lease_start(q);
    if (rc != MP_OK) {
        rqueue_release(q);
        free(q);
        return rc;
    }
    mp_object_init(&q->hdr, MP_KIND_REDIS_QUEUE);
    *out = (mp_queue *)(void *)q;
    return MP_OK;
}

static void rqueue_free(mp_object *o)
{
    rqueue_release((mp_rqueue *)(void *)o);
    mp_object_discard(o);
}

/* ---- as a process argument ------------------------------------------------------ */

static int rqueue_export(const mp_object *o, mp_export *e)
{
    const mp_rqueue *q = (const mp_rqueue *)(const void *)o;
    return mp_pack(&e->fields, "[s i ? d d]", q->address, q->opts.maxsize, q->opts.joinable, q->opts.timeout,
                   q->opts.lease);
}

static int rqueue_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n,
                         mp_object *nested, mp_object **out)
{
    (void)kind;
    (void)h;
    (void)n;
    if (nested != NULL)
        mp_object_free(nested);
    const char *address;
    mp_queue_open_options o;
    if (mp_unpack(fields, "(s i ? d d)", &address, &o.maxsize, &o.joinable, &o.timeout, &o.lease) != MP_OK)
        return mp_fail(MP_EPROTO, "Queue on Redis argument: malformed fields");
    mp_queue *q;
    int rc = mp_queue_open(&q, address, &o);
    if (rc == MP_OK)
        *out = (mp_object *)(void *)q;
    return rc;
}

const mp_object_ops mp_rqueue_ops = {.name = "Queue",
                                     .export_ = rqueue_export,
                                     .import_ = rqueue_import,
                                     .free_ = rqueue_free,
                                     .as_queue = &mp_rqueue_backing};
