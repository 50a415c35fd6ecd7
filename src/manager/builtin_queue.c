/* builtin_queue.c - the manager's "Queue" and "JoinableQueue". Both are
 * Python's queue.Queue in SyncManager, so both have task_done and join.
 *
 * A get whose caller has gone takes nothing: the caller is checked after
 * every wait and just before an item is taken, so the item stays for the
 * next get (a client killed while blocked in get loses no item). */
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

typedef struct queue {
    mp_os_mutex *m;
    mp_os_cond *changed; /* broadcast on every put, get and task_done */
    mp_held_seq items;
    int64_t maxsize;    /* 0 or less: no bound, as Python's */
    int64_t unfinished; /* puts not yet matched by task_done */
} queue;

static bool is_full(const queue *q)
{
    return q->maxsize > 0 && q->items.len >= (uint64_t)q->maxsize;
}

static int gone(void)
{
    return mp_fail(MP_ECONNRESET, "manager: the caller's connection ended");
}

/* put(item, block=True, timeout=None) */
static int put(void *self, const mp_value *args, mp_served_call *call)
{
    queue *q = self;
    double deadline;
    mp_held item;
    int rc = mp_builtin_nargs(args, 1, 3, "Queue.put");
    if (rc == MP_OK)
        rc = mp_served_deadline_args(args, 1, &deadline, "Queue.put");
    if (rc == MP_OK)
        rc = mp_held_keep(&item, mp_builtin_arg(args, 0));
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(q->m);
    while (rc == MP_OK && is_full(q))
        rc = mp_served_wait(call, q->changed, q->m, deadline);
    if (rc == MP_ETIMEDOUT)
        rc = mp_fail(MP_EFULL, "manager: queue.Full");
    if (rc == MP_OK)
        rc = mp_held_seq_put(&q->items, q->items.len, &item);
    if (rc == MP_OK) {
        q->unfinished++;
        mp_os_cond_broadcast(q->changed);
    }
    mp_os_mutex_unlock(q->m);
    if (rc != MP_OK)
        mp_held_release(&item);
    return rc;
}

/* get(block=True, timeout=None) */
static int get(void *self, const mp_value *args, mp_served_call *call)
{
    queue *q = self;
    double deadline;
    int rc = mp_builtin_nargs(args, 0, 2, "Queue.get");
    if (rc == MP_OK)
        rc = mp_served_deadline_args(args, 0, &deadline, "Queue.get");
    if (rc != MP_OK)
        return rc;
    mp_held item;
    mp_os_mutex_lock(q->m);
    while (rc == MP_OK && q->items.len == 0)
        rc = mp_served_wait(call, q->changed, q->m, deadline);
    if (rc == MP_ETIMEDOUT)
        rc = mp_fail(MP_EEMPTY, "manager: queue.Empty");
    if (rc == MP_OK && mp_served_call_abandoned(call))
        rc = gone();
    if (rc == MP_OK) {
        mp_held_seq_take(&q->items, 0, &item);
        mp_os_cond_broadcast(q->changed);
    }
    mp_os_mutex_unlock(q->m);
    if (rc != MP_OK)
        return rc;
    /* Released outside the lock: dropping a proxy may free another object. */
    rc = mp_held_write(&item, mp_served_result(call));
    mp_held_release_to(&item, call);
    return rc;
}

static int put_nowait(void *self, const mp_value *args, mp_served_call *call)
{
    int rc = mp_builtin_nargs(args, 1, 1, "Queue.put_nowait");
    if (rc != MP_OK)
        return rc;
    mp_value a[2] = {args->as.array.items[0], {.type = MP_BOOL, .as.b = false}};
    mp_value poll = {.type = MP_ARRAY, .as.array = {a, 2}};
    return put(self, &poll, call);
}

static int get_nowait(void *self, const mp_value *args, mp_served_call *call)
{
    int rc = mp_builtin_nargs(args, 0, 0, "Queue.get_nowait");
    if (rc != MP_OK)
        return rc;
    mp_value a[1] = {{.type = MP_BOOL, .as.b = false}};
    mp_value poll = {.type = MP_ARRAY, .as.array = {a, 1}};
    return get(self, &poll, call);
}

static int qsize(void *self, const mp_value *args, mp_served_call *call)
{
    queue *q = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Queue.qsize");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(q->m);
    size_t n = q->items.len;
    mp_os_mutex_unlock(q->m);
    return mp_builtin_int_result(call, (int64_t)n);
}

static int empty(void *self, const mp_value *args, mp_served_call *call)
{
    queue *q = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Queue.empty");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(q->m);
    bool e = q->items.len == 0;
    mp_os_mutex_unlock(q->m);
    return mp_builtin_bool_result(call, e);
}

static int full(void *self, const mp_value *args, mp_served_call *call)
{
    queue *q = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Queue.full");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(q->m);
    bool f = is_full(q);
    mp_os_mutex_unlock(q->m);
    return mp_builtin_bool_result(call, f);
}

static int task_done(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    queue *q = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Queue.task_done");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(q->m);
    if (q->unfinished == 0)
        rc = mp_fail(MP_ERANGE, "manager: ValueError: task_done() called too many times");
    else if (--q->unfinished == 0)
        mp_os_cond_broadcast(q->changed);
    mp_os_mutex_unlock(q->m);
    return rc;
}

/* join(timeout=None): until every item put has had its task_done. Python's
 * has no timeout; mproc's mp_queue_join has one, and a proxy passes it. */
static int join(void *self, const mp_value *args, mp_served_call *call)
{
    queue *q = self;
    double deadline;
    int rc = mp_builtin_nargs(args, 0, 1, "Queue.join");
    if (rc == MP_OK)
        rc = mp_served_timeout_arg(args, 0, &deadline, "Queue.join");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(q->m);
    while (rc == MP_OK && q->unfinished > 0)
        rc = mp_served_wait(call, q->changed, q->m, deadline);
    int64_t unfinished = q->unfinished;
    mp_os_mutex_unlock(q->m);
    if (rc == MP_ETIMEDOUT)
        rc = mp_fail(MP_ETIMEDOUT, "manager: JoinableQueue.join: %lld items are still unfinished",
                     (long long)unfinished);
    return rc;
}

static void queue_free(void *self)
{
    queue *q = self;
    mp_held_seq_clear(&q->items);
    mp_os_cond_free(q->changed);
    mp_os_mutex_free(q->m);
    free(q);
}

static const mp_served_method methods[] = {
    {"put", put, true},          {"get", get, true},     {"put_nowait", put_nowait, false},
    {"get_nowait", get_nowait, false}, {"qsize", qsize, false}, {"empty", empty, false},
    {"full", full, false},       {"task_done", task_done, false}, {"join", join, true},
    {NULL, NULL, false},
};

static const mp_served_type queue_type = {"Queue", methods, queue_free, true};
static const mp_served_type joinable_type = {"JoinableQueue", methods, queue_free, true};

/* Queue(maxsize=0) */
static int make(const mp_value *args, mp_served **out, const mp_served_type *type)
{
    int64_t maxsize;
    int rc = mp_builtin_nargs(args, 0, 1, type->name);
    if (rc == MP_OK)
        rc = mp_builtin_int_arg(args, 0, 0, &maxsize, type->name);
    if (rc != MP_OK)
        return rc;
    queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    q->maxsize = maxsize;
    rc = mp_os_mutex_new(&q->m);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&q->changed);
    if (rc != MP_OK) {
        queue_free(q);
        return rc;
    }
    return mp_builtin_wrap(out, type, q);
}

int mp_builtin_queue(const mp_value *args, mp_served **out)
{
    return make(args, out, &queue_type);
}

int mp_builtin_joinable_queue(const mp_value *args, mp_served **out)
{
    return make(args, out, &joinable_type);
}
