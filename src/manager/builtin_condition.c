/* builtin_condition.c - the manager's "Condition": Python's
 * Condition(lock=None), whose lock is an RLock of its own. wait_for is not
 * offered: its predicate cannot travel.
 *
 * Waiters queue in arrival order and notify(n) wakes the n oldest, as
 * Python's. A waiter lives on the stack of the thread running its wait;
 * whoever notifies it takes it off the queue. */
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

typedef struct waiter {
    struct waiter *next;
    bool notified;
} waiter;

typedef struct condition {
    mp_os_mutex *m;
    mp_os_cond *changed; /* broadcast when the lock is freed or a waiter notified */
    mp_owned_lock lock;
    waiter *first, *last;
} condition;

/* Notify the n oldest waiters (all for n < 0). */
static void notify_some(condition *c, int64_t n)
{
    for (; c->first != NULL && n != 0; n--) {
        waiter *w = c->first;
        c->first = w->next;
        w->notified = true;
    }
    if (c->first == NULL)
        c->last = NULL;
    mp_os_cond_broadcast(c->changed);
}

static void unlink_waiter(condition *c, waiter *w)
{
    waiter **at = &c->first, *before = NULL;
    while (*at != NULL && *at != w) {
        before = *at;
        at = &(*at)->next;
    }
    if (*at == NULL)
        return;
    *at = w->next;
    if (c->last == w)
        c->last = before;
}

/* acquire(blocking=True, timeout=None) -> bool */
static int acquire(void *self, const mp_value *args, mp_served_call *call)
{
    condition *c = self;
    double deadline;
    int rc = mp_builtin_nargs(args, 0, 2, "Condition.acquire");
    if (rc == MP_OK)
        rc = mp_served_deadline_args(args, 0, &deadline, "Condition.acquire");
    if (rc != MP_OK)
        return rc;
    bool got;
    mp_os_mutex_lock(c->m);
    rc = mp_owned_lock_acquire(&c->lock, call, c->changed, c->m, deadline, &got);
    mp_os_mutex_unlock(c->m);
    return rc != MP_OK ? rc : mp_builtin_bool_result(call, got);
}

static int release(void *self, const mp_value *args, mp_served_call *call)
{
    condition *c = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Condition.release");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(c->m);
    rc = mp_owned_lock_release(&c->lock, call, c->changed, "Condition");
    mp_os_mutex_unlock(c->m);
    return rc;
}

/* wait(timeout=None) -> false if it timed out. The lock is released
 * however deep it is held, and taken back to the same depth before
 * returning, timed out or not (waiting for it as long as it takes). */
static int wait(void *self, const mp_value *args, mp_served_call *call)
{
    condition *c = self;
    double deadline;
    int rc = mp_builtin_nargs(args, 0, 1, "Condition.wait");
    if (rc == MP_OK)
        rc = mp_served_timeout_arg(args, 0, &deadline, "Condition.wait");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(c->m);
    if (!mp_owned_lock_mine(&c->lock, call)) {
        mp_os_mutex_unlock(c->m);
        return mp_fail(MP_ESTATE, "manager: Condition.wait: cannot wait on an un-acquired lock");
    }
    waiter w = {NULL, false};
    if (c->last != NULL)
        c->last->next = &w;
    else
        c->first = &w;
    c->last = &w;
    long depth = c->lock.count;
    c->lock.count = 0;
    mp_os_cond_broadcast(c->changed);
    while (rc == MP_OK && !w.notified)
        rc = mp_served_wait(call, c->changed, c->m, deadline);
    if (!w.notified)
        unlink_waiter(c, &w);
    else if (rc == MP_ECONNRESET)
        notify_some(c, 1); /* the notification goes to the next waiter, not lost */
    bool got;
    if (rc != MP_ECONNRESET)
        rc = mp_owned_lock_acquire(&c->lock, call, c->changed, c->m, MP_FOREVER, &got);
    if (rc == MP_OK || rc == MP_EOWNERDEAD)
        c->lock.count = depth;
    mp_os_mutex_unlock(c->m);
    return rc != MP_OK ? rc : mp_builtin_bool_result(call, w.notified);
}

/* notify(n=1), notify_all(): the caller must hold the lock. */
static int notify_checked(condition *c, int64_t n, mp_served_call *call, const char *where)
{
    mp_os_mutex_lock(c->m);
    bool mine = mp_owned_lock_mine(&c->lock, call);
    if (mine)
        notify_some(c, n);
    mp_os_mutex_unlock(c->m);
    return mine ? MP_OK : mp_fail(MP_ESTATE, "manager: %s: cannot notify on an un-acquired lock", where);
}

static int notify(void *self, const mp_value *args, mp_served_call *call)
{
    int64_t n;
    int rc = mp_builtin_nargs(args, 0, 1, "Condition.notify");
    if (rc == MP_OK)
        rc = mp_builtin_int_arg(args, 0, 1, &n, "Condition.notify");
    if (rc != MP_OK)
        return rc;
    return n > 0 ? notify_checked(self, n, call, "Condition.notify") : MP_OK;
}

static int notify_all(void *self, const mp_value *args, mp_served_call *call)
{
    int rc = mp_builtin_nargs(args, 0, 0, "Condition.notify_all");
    return rc != MP_OK ? rc : notify_checked(self, -1, call, "Condition.notify_all");
}

static void condition_free(void *self)
{
    condition *c = self;
    mp_os_cond_free(c->changed);
    mp_os_mutex_free(c->m);
    free(c);
}

static const mp_served_method methods[] = {
    {"acquire", acquire, true}, {"release", release, false},       {"wait", wait, true},
    {"notify", notify, false},  {"notify_all", notify_all, false}, {NULL, NULL, false},
};

static const mp_served_type type = {"Condition", methods, condition_free, true};

int mp_builtin_condition(const mp_value *args, mp_served **out)
{
    int rc = mp_builtin_nargs(args, 0, 0, "Condition()");
    if (rc != MP_OK)
        return rc;
    condition *c = calloc(1, sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    c->lock.recursive = true;
    rc = mp_os_mutex_new(&c->m);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&c->changed);
    if (rc != MP_OK) {
        condition_free(c);
        return rc;
    }
    return mp_builtin_wrap(out, &type, c);
}
