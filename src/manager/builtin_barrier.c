/* builtin_barrier.c - the manager's "Barrier" (Python's threading.Barrier,
 * which SyncManager serves). Its action cannot travel, so only None is
 * taken for it. parties, n_waiting and broken, properties in Python, are
 * methods here.
 *
 * Each waiter lives on the stack of the thread running its wait and is
 * told its outcome by whoever ends its round: the last arrival (released),
 * or a timeout, abort, reset or a waiter whose caller is gone (broken). A
 * waiter's outcome so never depends on rounds that came after it. */
#include <stdlib.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "manager/builtin.h"

typedef enum outcome { WAITING, RELEASED, BROKEN } outcome;

typedef struct waiter {
    struct waiter *next;
    outcome outcome;
} waiter;

typedef struct barrier {
    mp_os_mutex *m;
    mp_os_cond *changed;
    int64_t parties;
    bool has_timeout;
    double timeout; /* the default of wait, if it has one */
    int64_t count;  /* waiters of this round */
    waiter *waiters;
    bool broken;
} barrier;

/* End the round: every waiter gets how it ended. */
static void end_round(barrier *b, outcome how)
{
    for (waiter *w = b->waiters; w != NULL; w = w->next)
        w->outcome = how;
    b->waiters = NULL;
    b->count = 0;
    mp_os_cond_broadcast(b->changed);
}

static int broken_error(void)
{
    return mp_fail(MP_EBROKEN, "manager: BrokenBarrierError: the barrier is broken");
}

/* wait(timeout=None) -> this arrival's index, 0 .. parties - 1 */
static int wait(void *self, const mp_value *args, mp_served_call *call)
{
    barrier *b = self;
    double deadline;
    int rc = mp_builtin_nargs(args, 0, 1, "Barrier.wait");
    const mp_value *t = mp_builtin_arg(args, 0);
    if (rc == MP_OK && (t == NULL || t->type == MP_NIL) && b->has_timeout)
        deadline = mp_deadline(b->timeout);
    else if (rc == MP_OK)
        rc = mp_served_timeout_arg(args, 0, &deadline, "Barrier.wait");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(b->m);
    if (b->broken) {
        mp_os_mutex_unlock(b->m);
        return broken_error();
    }
    int64_t index = b->count++;
    waiter w = {b->waiters, WAITING};
    if (b->count == b->parties) {
        end_round(b, RELEASED);
        w.outcome = RELEASED;
    } else {
        b->waiters = &w;
    }
    while (rc == MP_OK && w.outcome == WAITING)
        rc = mp_served_wait(call, b->changed, b->m, deadline);
    if (w.outcome == WAITING) {
        /* timed out, or the caller is gone: as a thread killed in wait, it
         * leaves the barrier broken */
        b->broken = true;
        end_round(b, BROKEN);
        if (rc == MP_ETIMEDOUT)
            rc = MP_EBROKEN;
    } else {
        rc = w.outcome == RELEASED ? MP_OK : MP_EBROKEN;
    }
    mp_os_mutex_unlock(b->m);
    if (rc == MP_EBROKEN)
        return broken_error();
    return rc != MP_OK ? rc : mp_builtin_int_result(call, index);
}

/* reset(): waiters of the round are told it broke; the barrier is whole
 * again. */
static int reset(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    barrier *b = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Barrier.reset");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(b->m);
    end_round(b, BROKEN);
    b->broken = false;
    mp_os_mutex_unlock(b->m);
    return MP_OK;
}

static int abort_(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    barrier *b = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Barrier.abort");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(b->m);
    b->broken = true;
    end_round(b, BROKEN);
    mp_os_mutex_unlock(b->m);
    return MP_OK;
}

static int parties(void *self, const mp_value *args, mp_served_call *call)
{
    barrier *b = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Barrier.parties");
    return rc != MP_OK ? rc : mp_builtin_int_result(call, b->parties);
}

static int n_waiting(void *self, const mp_value *args, mp_served_call *call)
{
    barrier *b = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Barrier.n_waiting");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(b->m);
    int64_t n = b->count;
    mp_os_mutex_unlock(b->m);
    return mp_builtin_int_result(call, n);
}

static int broken(void *self, const mp_value *args, mp_served_call *call)
{
    barrier *b = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Barrier.broken");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(b->m);
    bool is_broken = b->broken;
    mp_os_mutex_unlock(b->m);
    return mp_builtin_bool_result(call, is_broken);
}

static void barrier_free(void *self)
{
    barrier *b = self;
    mp_os_cond_free(b->changed);
    mp_os_mutex_free(b->m);
    free(b);
}

static const mp_served_method methods[] = {
    {"wait", wait, true},           {"reset", reset, false},   {"abort", abort_, false},
    {"parties", parties, false},    {"n_waiting", n_waiting, false}, {"broken", broken, false},
    {NULL, NULL, false},
};

static const mp_served_type type = {"Barrier", methods, barrier_free, true};

/* Barrier(parties, action=None, timeout=None) */
int mp_builtin_barrier(const mp_value *args, mp_served **out)
{
    int64_t n;
    int rc = mp_builtin_nargs(args, 1, 3, "Barrier()");
    if (rc == MP_OK)
        rc = mp_builtin_int_arg(args, 0, 0, &n, "Barrier()");
    if (rc == MP_OK && n < 1)
        rc = mp_fail(MP_EINVAL, "manager: Barrier(): parties must be at least 1");
    const mp_value *action = mp_builtin_arg(args, 1);
    if (rc == MP_OK && action != NULL && action->type != MP_NIL)
        rc = mp_fail(MP_EUNSUPPORTED, "manager: Barrier(): an action cannot run in the server (give None)");
    double timeout = 0;
    bool has_timeout = false;
    const mp_value *t = mp_builtin_arg(args, 2);
    if (rc == MP_OK && t != NULL && t->type != MP_NIL) {
        has_timeout = t->type == MP_INT || t->type == MP_DOUBLE;
        if (has_timeout)
            timeout = t->type == MP_INT ? (double)t->as.i : t->as.d;
        if (!has_timeout)
            rc = mp_fail(MP_ETYPE, "manager: Barrier(): the timeout must be a number or None");
    }
    if (rc != MP_OK)
        return rc;
    barrier *b = calloc(1, sizeof *b);
    if (b == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    b->parties = n;
    b->has_timeout = has_timeout;
    b->timeout = timeout;
    rc = mp_os_mutex_new(&b->m);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&b->changed);
    if (rc != MP_OK) {
        barrier_free(b);
        return rc;
    }
    return mp_builtin_wrap(out, &type, b);
}
