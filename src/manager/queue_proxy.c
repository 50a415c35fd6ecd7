/* queue_proxy.c - the mp_queue_* calls on the proxy of a manager's Queue
 * (queue_backing.h): each is the proxy's method of Python's name, with
 * Python's block and timeout arguments. close is this handle's own, as a
 * local queue's: it makes the handle's later puts and gets MP_ESTATE and
 * leaves the queue to everyone else. */
#include <stdint.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "ipc/queue_backing.h"
#include "manager/proxy.h"

static mp_proxy *proxy_of(mp_queue *q)
{
    return (mp_proxy *)(void *)q;
}

static int open_handle(mp_queue *q, const char *where)
{
    return mp_proxy_handle_closed(proxy_of(q)) ? mp_fail(MP_ESTATE, "%s: the queue is closed", where) : MP_OK;
}

/* queue.h's timeout as Python's (block, timeout). */
static int pack_wait(mp_buf *b, double timeout)
{
    if (mp_timeout_forever(timeout))
        return mp_pack(b, "? n", 1);
    if (mp_timeout_polls(timeout))
        return mp_pack(b, "? n", 0);
    return mp_pack(b, "? d", 1, timeout);
}

static int put_packed(mp_queue *q, double timeout, const void *data, size_t len)
{
    int rc = open_handle(q, "mp_queue_put");
    if (rc != MP_OK)
        return rc;
    mp_buf args = MP_BUF_INIT;
    rc = mp_pack_array(&args, 3);
    if (rc == MP_OK)
        rc = mp_buf_append(&args, data, len);
    if (rc == MP_OK)
        rc = pack_wait(&args, timeout);
    if (rc == MP_OK)
        rc = mp_proxy_call_packed(proxy_of(q), "put", &args, NULL);
    mp_buf_free(&args);
    return rc;
}

static int get(mp_queue *q, double timeout, mp_value **out)
{
    int rc = open_handle(q, "mp_queue_get");
    if (rc != MP_OK)
        return rc;
    mp_buf args = MP_BUF_INIT;
    rc = mp_pack_array(&args, 2);
    if (rc == MP_OK)
        rc = pack_wait(&args, timeout);
    if (rc == MP_OK)
        rc = mp_proxy_call_packed(proxy_of(q), "get", &args, out);
    mp_buf_free(&args);
    return rc;
}

/* A method without arguments whose result is an integer or a bool. */
static int ask(mp_queue *q, const char *method, const char *where)
{
    int rc = open_handle(q, where);
    mp_value *v = NULL;
    if (rc == MP_OK)
        rc = mp_proxy_call(proxy_of(q), method, &v, NULL);
    if (rc != MP_OK)
        return rc;
    int n;
    if (v->type == MP_BOOL)
        n = v->as.b;
    else if (v->type == MP_INT)
        n = v->as.i < 0 ? 0 : v->as.i > INT32_MAX ? INT32_MAX : (int)v->as.i;
    else if (v->type == MP_UINT)
        n = INT32_MAX;
    else
        n = mp_fail(MP_EPROTO, "%s: the manager's %s() gave neither a number nor a bool", where, method);
    mp_value_free(v);
    return n;
}

static int qsize(mp_queue *q)
{
    return ask(q, "qsize", "mp_queue_qsize");
}

static int empty(mp_queue *q)
{
    return ask(q, "empty", "mp_queue_empty");
}

static int full(mp_queue *q)
{
    return ask(q, "full", "mp_queue_full");
}

static int close_(mp_queue *q)
{
    mp_proxy_close_handle(proxy_of(q));
    return MP_OK;
}

static int join_thread(mp_queue *q)
{
    return mp_proxy_handle_closed(proxy_of(q))
               ? MP_OK
               : mp_fail(MP_ESTATE, "mp_queue_join_thread: the queue is not closed");
}

static int task_done(mp_queue *q)
{
    int rc = open_handle(q, "mp_queue_task_done");
    return rc == MP_OK ? mp_proxy_call(proxy_of(q), "task_done", NULL, NULL) : rc;
}

static int join(mp_queue *q, double timeout)
{
    int rc = open_handle(q, "mp_queue_join");
    if (rc != MP_OK)
        return rc;
    if (mp_timeout_forever(timeout))
        return mp_proxy_call(proxy_of(q), "join", NULL, NULL);
    return mp_proxy_call(proxy_of(q), "join", NULL, "d", mp_timeout_polls(timeout) ? 0.0 : timeout);
}

const mp_queue_backing mp_proxy_as_queue_ops = {put_packed, get,         qsize,     empty, full,
                                                close_,     join_thread, task_done, join};
