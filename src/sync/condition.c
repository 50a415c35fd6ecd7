/* condition.c - Condition (sync.h) and the condition variable Event and
 * Barrier are built on.
 *
 * The scheme works with nothing but semaphores, so it crosses processes
 * on every system. A waiter counts itself in `sleeping`, releases the lock
 * and waits on `wakeup`; once woken (or timed out) it posts `woken`. A
 * notifier first discounts waiters that timed out since the last notify
 * (one `woken` and one `sleeping` token each), then posts `wakeup` once per
 * sleeper it wakes and waits for each of them to post `woken`, so the woken
 * have left before it releases the lock; wake-ups nobody took are then
 * withdrawn. */
#include <stdlib.h>

#include "sync/condition_internal.h"
#include "sync/lock_backing.h"
#include "base/error_internal.h"
#include "base/timeout.h"

enum { SLEEPING, WOKEN, WAKEUP };

int mp_shcond_init(mp_cond_object *c, mp_kind kind, mp_lock *lock, bool rlock)
{
    mp_object_init(&c->base.hdr, kind);
    bool owns = lock == NULL;
    int rc = lock ? MP_OK : rlock ? mp_rlock_new(&lock) : mp_lock_new(&lock);
    if (rc != MP_OK)
        return rc;
    c->base.nested = (mp_object *)(void *)lock;
    c->base.owns_nested = owns;
    rc = mp_block_create(&c->base.block, 3, (unsigned[]){0, 0, 0}, MP_COND_STATE_SIZE);
    if (rc != MP_OK && owns)
        mp_lock_free(lock);
    return rc;
}

static int need_lock(mp_cond_object *c, const char *where)
{
    if (!mp_lock_is_mine(mp_shcond_lock(c)))
        return mp_fail(MP_ESTATE, "%s: the condition's lock is not held by this thread", where);
    return MP_OK;
}

int mp_shcond_wait(mp_cond_object *c, double timeout)
{
    int rc = need_lock(c, "wait");
    if (rc != MP_OK)
        return rc;
    mp_os_sem **s = c->base.block.sems;
    /* Counted as a sleeper before the lock goes, so that no notify can
     * run in between and miss this waiter. */
    mp_os_sem_post(s[SLEEPING]);
    int depth;
    if ((rc = mp_lock_release_all(mp_shcond_lock(c), &depth)) != MP_OK)
        return rc;
    int waited = mp_os_sem_wait(s[WAKEUP], timeout);
    mp_os_sem_post(s[WOKEN]);
    rc = mp_lock_restore(mp_shcond_lock(c), depth);
    return rc != MP_OK ? rc : waited;
}

int mp_shcond_notify(mp_cond_object *c, unsigned n)
{
    int rc = need_lock(c, "notify");
    if (rc != MP_OK)
        return rc;
    mp_os_sem **s = c->base.block.sems;
    while (mp_os_sem_wait(s[WOKEN], 0) == MP_OK)
        mp_os_sem_wait(s[SLEEPING], 0);
    unsigned woken = 0;
    while (woken < n && mp_os_sem_wait(s[SLEEPING], 0) == MP_OK) {
        mp_os_sem_post(s[WAKEUP]);
        woken++;
    }
    for (unsigned i = 0; i < woken; i++)
        mp_os_sem_wait(s[WOKEN], MP_FOREVER);
    while (woken > 0 && mp_os_sem_wait(s[WAKEUP], 0) == MP_OK)
        ;
    return MP_OK;
}

int mp_shcond_wait_for(mp_cond_object *c, bool (*pred)(void *), void *arg, double timeout)
{
    double deadline = mp_deadline(timeout);
    while (!pred(arg)) {
        double left = mp_time_left(deadline);
        if (left <= 0)
            return MP_ETIMEDOUT;
        int rc = mp_shcond_wait(c, left);
        if (rc != MP_OK && rc != MP_ETIMEDOUT)
            return rc;
    }
    return MP_OK;
}

/* ---- travel and lifetime ----------------------------------------------- */

static int check_import(const mp_block_object *o)
{
    return o->block.nsems == 3 ? MP_OK : mp_fail(MP_EPROTO, "condition argument: malformed");
}

int mp_shcond_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n, mp_object *nested,
                     mp_object **out)
{
    if (nested == NULL || mp_object_check(nested, MP_KIND_LOCK, "condition argument") != MP_OK) {
        mp_handles_close(h, n);
        return mp_fail(MP_EPROTO, "condition argument: no lock");
    }
    return mp_block_object_import(kind, sizeof(mp_cond_object), fields, h, n, nested, check_import, out);
}

/* ---- Condition --------------------------------------------------------- */

struct mp_condition {
    mp_cond_object c;
};

int mp_condition_new(mp_condition **out, mp_lock *lock)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_condition_new: NULL out");
    *out = NULL;
    if (mp_lock_backing_of(lock) != NULL)
        return mp_fail(MP_EUNSUPPORTED, "mp_condition_new: a lock held elsewhere (a manager's) cannot be a local "
                                        "Condition's; make the Condition where the lock is (the manager's "
                                        "\"Condition\")");
    int rc = lock ? mp_object_check(lock, MP_KIND_LOCK, "mp_condition_new") : MP_OK;
    if (rc != MP_OK)
        return rc;
    mp_condition *c = malloc(sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "Condition: out of memory");
    rc = mp_shcond_init(&c->c, MP_KIND_CONDITION, lock, true);
    if (rc != MP_OK) {
        free(c);
        return rc;
    }
    *out = c;
    return MP_OK;
}

static int check(mp_condition *c, const char *where)
{
    return mp_object_check(c, MP_KIND_CONDITION, where);
}

mp_lock *mp_condition_lock(mp_condition *c)
{
    return check(c, "mp_condition_lock") == MP_OK ? mp_shcond_lock(&c->c) : NULL;
}

int mp_condition_acquire(mp_condition *c, double timeout)
{
    int rc = check(c, "mp_condition_acquire");
    return rc == MP_OK ? mp_lock_acquire(mp_shcond_lock(&c->c), timeout) : rc;
}

int mp_condition_release(mp_condition *c)
{
    int rc = check(c, "mp_condition_release");
    return rc == MP_OK ? mp_lock_release(mp_shcond_lock(&c->c)) : rc;
}

int mp_condition_wait(mp_condition *c, double timeout)
{
    int rc = check(c, "mp_condition_wait");
    return rc == MP_OK ? mp_shcond_wait(&c->c, timeout) : rc;
}

int mp_condition_wait_for(mp_condition *c, bool (*pred)(void *arg), void *arg, double timeout)
{
    int rc = check(c, "mp_condition_wait_for");
    if (rc == MP_OK && pred == NULL)
        rc = mp_fail(MP_EINVAL, "mp_condition_wait_for: NULL predicate");
    return rc == MP_OK ? mp_shcond_wait_for(&c->c, pred, arg, timeout) : rc;
}

int mp_condition_notify(mp_condition *c, unsigned n)
{
    int rc = check(c, "mp_condition_notify");
    return rc == MP_OK ? mp_shcond_notify(&c->c, n) : rc;
}

int mp_condition_notify_all(mp_condition *c)
{
    int rc = check(c, "mp_condition_notify_all");
    return rc == MP_OK ? mp_shcond_notify(&c->c, ~0u) : rc;
}

void mp_condition_free(mp_condition *c)
{
    mp_object_free_checked(c, MP_KIND_CONDITION, "mp_condition_free");
}

const mp_object_ops mp_condition_ops = {.name = "Condition",
                                        .export_ = mp_block_object_export,
                                        .import_ = mp_shcond_import,
                                        .free_ = mp_block_object_free};
