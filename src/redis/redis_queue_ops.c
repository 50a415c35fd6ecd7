/* redis_queue_ops.c - the mp_queue_* calls on a Queue on Redis
 * (queue_backing.h). Items go in at the left of the items list and come
 * out at the right. A blocking get blocks in Redis (BRPOP, BLMOVE) in
 * slices, so that no exchange outlives the connection's timeout; a put
 * into a full queue and join wait by polling, each poll a little later
 * than the one before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "ipc/queue_backing.h"
#include "redis/redis_queue.h"

/* The longest a blocking get waits in one exchange. */
#define BLOCK_SLICE 5.0
/* Polling waits: from the first to the longest. */
#define POLL_FIRST 0.001
#define POLL_MOST 0.05

static mp_rqueue *rq(mp_queue *q)
{
    return (mp_rqueue *)(void *)q;
}

static int usable(const mp_rqueue *q, const char *where)
{
    return q->closed ? mp_fail(MP_ESTATE, "%s: the queue is closed", where) : MP_OK;
}

static int joinable(const mp_rqueue *q, const char *where)
{
    return q->opts.joinable ? usable(q, where) : mp_fail(MP_ETYPE, "%s: the queue is not joinable", where);
}

/* Sleep before the next poll; false once the deadline has passed. */
static bool poll_again(double deadline, double *pause)
{
    double left = mp_time_left(deadline);
    if (left <= 0)
        return false;
    mp_os_sleep(*pause < left ? *pause : left);
    *pause = *pause * 2 < POLL_MOST ? *pause * 2 : POLL_MOST;
    return true;
}

static int put_packed(mp_queue *qh, double timeout, const void *data, size_t len)
{
    mp_rqueue *q = rq(qh);
    int rc = usable(q, "mp_queue_put");
    if (rc != MP_OK)
        return rc;
    char max[24];
    snprintf(max, sizeof max, "%d", q->opts.maxsize > 0 ? q->opts.maxsize : 0);
    mp_resp_arg eval[] = {mp_resp_text("EVAL"),
                          mp_resp_text(mp_rq_script_put),
                          mp_resp_text("2"),
                          mp_resp_text(q->k_items),
                          mp_resp_text(q->k_unfinished),
                          mp_resp_text(max),
                          mp_resp_text(q->opts.joinable ? "1" : "0"),
                          {data, len}};
    double deadline = mp_deadline(timeout), pause = POLL_FIRST;
    for (;;) {
        mp_resp_reply *r;
        if ((rc = mp_rq_call(q, 0, sizeof eval / sizeof eval[0], eval, &r)) != MP_OK)
            return rc;
        bool put = r->type == MP_RESP_INTEGER && r->integer == 1;
        mp_resp_free(r);
        if (put)
            return MP_OK;
        if (!poll_again(deadline, &pause))
            return mp_fail(MP_EFULL, "mp_queue_put: the queue is full (maxsize %d)", q->opts.maxsize);
    }
}

/* One exchange of get: block seconds at most (0: none). *item NULL when
 * nothing came. */
static int take(mp_rqueue *q, double block, mp_resp_reply **item)
{
    char secs[32];
    snprintf(secs, sizeof secs, "%.3f", block);
    mp_resp_arg argv[6];
    size_t argc;
    if (q->opts.joinable) {
        /* leased: the item waits in this handle's taken list until task_done */
        argv[0] = mp_resp_text(block > 0 ? "BLMOVE" : "LMOVE");
        argv[1] = mp_resp_text(q->k_items);
        argv[2] = mp_resp_text(q->k_taken);
        argv[3] = mp_resp_text("RIGHT");
        argv[4] = mp_resp_text("LEFT");
        argv[5] = mp_resp_text(secs);
        argc = block > 0 ? 6 : 5;
    } else {
        argv[0] = mp_resp_text(block > 0 ? "BRPOP" : "RPOP");
        argv[1] = mp_resp_text(q->k_items);
        argv[2] = mp_resp_text(secs);
        argc = block > 0 ? 3 : 2;
    }
    mp_resp_reply *r;
    int rc = mp_rq_call(q, block, argc, argv, &r);
    if (rc != MP_OK)
        return rc;
    /* BRPOP answers [key, item]; the others the item */
    const mp_resp_reply *v = r->type == MP_RESP_ARRAY && r->len == 2 ? &r->items[1] : r;
    if (v->type != MP_RESP_BULK && v->type != MP_RESP_NIL) {
        mp_resp_free(r);
        return mp_fail(MP_EPROTO, "mp_queue_get: an unexpected reply from Redis");
    }
    *item = r;
    if (v->type == MP_RESP_NIL) {
        mp_resp_free(r);
        *item = NULL;
    }
    return MP_OK;
}

static int get(mp_queue *qh, double timeout, mp_value **out)
{
    mp_rqueue *q = rq(qh);
    int rc = usable(q, "mp_queue_get");
    if (rc != MP_OK)
        return rc;
    double deadline = mp_deadline(timeout);
    mp_resp_reply *r = NULL;
    do {
        double left = mp_time_left(deadline);
        double block = mp_timeout_polls(timeout) || left < 0.001 ? 0
                       : left < BLOCK_SLICE                      ? left
                                                                 : BLOCK_SLICE;
        if ((rc = take(q, block, &r)) != MP_OK)
            return rc;
    } while (r == NULL && mp_time_left(deadline) > 0);
    if (r == NULL)
        return mp_fail(MP_EEMPTY, "mp_queue_get: the queue is empty");
    const mp_resp_reply *v = r->type == MP_RESP_ARRAY ? &r->items[1] : r;
    rc = mp_decode(v->str, v->len, NULL, out);
    mp_resp_free(r);
    return rc == MP_OK ? MP_OK
                       : mp_fail(rc, "mp_queue_get: the item is not MessagePack: %s", mp_last_error());
}

/* The items waiting (not counting those leased to getters). */
static int items_waiting(mp_rqueue *q, const char *where)
{
    int rc = usable(q, where);
    if (rc != MP_OK)
        return rc;
    mp_resp_arg argv[] = {mp_resp_text("LLEN"), mp_resp_text(q->k_items)};
    mp_resp_reply *r;
    if ((rc = mp_rq_call(q, 0, 2, argv, &r)) != MP_OK)
        return rc;
    int64_t n = r->type == MP_RESP_INTEGER ? r->integer : 0;
    mp_resp_free(r);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

static int qsize(mp_queue *q)
{
    return items_waiting(rq(q), "mp_queue_qsize");
}

static int empty(mp_queue *q)
{
    int n = items_waiting(rq(q), "mp_queue_empty");
    return n < 0 ? n : n == 0;
}

static int full(mp_queue *qh)
{
    mp_rqueue *q = rq(qh);
    int n = items_waiting(q, "mp_queue_full");
    return n < 0 ? n : q->opts.maxsize > 0 && n >= q->opts.maxsize;
}

static int close_(mp_queue *q)
{
    rq(q)->closed = true;
    return MP_OK;
}

static int join_thread(mp_queue *q)
{
    return rq(q)->closed ? MP_OK : mp_fail(MP_ESTATE, "mp_queue_join_thread: close the queue first");
}

static int task_done(mp_queue *qh)
{
    mp_rqueue *q = rq(qh);
    int rc = joinable(q, "mp_queue_task_done");
    if (rc != MP_OK)
        return rc;
    mp_resp_arg eval[] = {mp_resp_text("EVAL"), mp_resp_text(mp_rq_script_task_done), mp_resp_text("2"),
                          mp_resp_text(q->k_taken), mp_resp_text(q->k_unfinished)};
    mp_resp_reply *r;
    if ((rc = mp_rq_call(q, 0, sizeof eval / sizeof eval[0], eval, &r)) != MP_OK)
        return rc;
    bool none = r->type == MP_RESP_INTEGER && r->integer < 0;
    mp_resp_free(r);
    return none ? mp_fail(MP_ERANGE, "mp_queue_task_done: called more times than items were put") : MP_OK;
}

static int join(mp_queue *qh, double timeout)
{
    mp_rqueue *q = rq(qh);
    int rc = joinable(q, "mp_queue_join");
    if (rc != MP_OK)
        return rc;
    mp_resp_arg argv[] = {mp_resp_text("GET"), mp_resp_text(q->k_unfinished)};
    double deadline = mp_deadline(timeout), pause = POLL_FIRST;
    for (;;) {
        mp_resp_reply *r;
        if ((rc = mp_rq_call(q, 0, 2, argv, &r)) != MP_OK)
            return rc;
        bool done = r->type == MP_RESP_NIL || (r->type == MP_RESP_BULK && strtoll(r->str, NULL, 10) <= 0);
        mp_resp_free(r);
        if (done)
            return MP_OK;
        if (!poll_again(deadline, &pause))
            return mp_fail(MP_ETIMEDOUT, "mp_queue_join: items are still unfinished");
    }
}

const mp_queue_backing mp_rqueue_backing = {
    .put_packed = put_packed,
    .get = get,
    .qsize = qsize,
    .empty = empty,
    .full = full,
    .close = close_,
    .join_thread = join_thread,
    .task_done = task_done,
    .join = join,
};
