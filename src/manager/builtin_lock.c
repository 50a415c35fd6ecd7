/* builtin_lock.c - the manager's "Lock" and "RLock", and the owned lock
 * they and the Condition share (builtin.h). A Lock may be released by
 * anyone, as Python's; an RLock only by its holder (connection and
 * thread). A holder whose client has gone is noticed by the next acquirer
 * within one wait slice. */
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

bool mp_owned_lock_mine(const mp_owned_lock *l, const mp_served_call *call)
{
    return l->count > 0 && mp_served_owner_equal(l->owner, mp_served_call_owner(call));
}

int mp_owned_lock_acquire(mp_owned_lock *l, mp_served_call *call, mp_os_cond *cond, mp_os_mutex *m, double deadline,
                          bool *got)
{
    *got = false;
    if (l->recursive && mp_owned_lock_mine(l, call)) {
        l->count++;
        *got = true;
        return MP_OK;
    }
    for (;;) {
        if (mp_served_call_abandoned(call))
            return mp_fail(MP_ECONNRESET, "manager: the caller's connection ended");
        bool abandoned = l->count > 0 && !mp_served_owner_alive(l->owner);
        if (l->count == 0 || abandoned) {
            l->count = 1;
            l->owner = mp_served_call_owner(call);
            *got = true;
            return abandoned ? mp_fail(MP_EOWNERDEAD, "manager: acquired, but its previous holder's client is gone")
                             : MP_OK;
        }
        int rc = mp_served_wait(call, cond, m, deadline);
        if (rc == MP_ETIMEDOUT)
            return MP_OK;
        if (rc != MP_OK)
            return rc;
    }
}

int mp_owned_lock_release(mp_owned_lock *l, mp_served_call *call, mp_os_cond *cond, const char *where)
{
    if (l->count == 0)
        return mp_fail(MP_ESTATE, "manager: %s: release of an unlocked lock", where);
    if (l->recursive && !mp_owned_lock_mine(l, call))
        return mp_fail(MP_ESTATE, "manager: %s: cannot release an un-acquired lock", where);
    if (--l->count == 0)
        mp_os_cond_broadcast(cond);
    return MP_OK;
}

typedef struct lock {
    mp_os_mutex *m;
    mp_os_cond *released;
    mp_owned_lock state;
} lock;

/* acquire(blocking=True, timeout=None) -> bool */
static int acquire(void *self, const mp_value *args, mp_served_call *call)
{
    lock *l = self;
    double deadline;
    int rc = mp_builtin_nargs(args, 0, 2, "Lock.acquire");
    if (rc == MP_OK)
        rc = mp_served_deadline_args(args, 0, &deadline, "Lock.acquire");
    if (rc != MP_OK)
        return rc;
    bool got;
    mp_os_mutex_lock(l->m);
    rc = mp_owned_lock_acquire(&l->state, call, l->released, l->m, deadline, &got);
    mp_os_mutex_unlock(l->m);
    return rc != MP_OK ? rc : mp_builtin_bool_result(call, got);
}

static int release(void *self, const mp_value *args, mp_served_call *call)
{
    lock *l = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Lock.release");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(l->m);
    rc = mp_owned_lock_release(&l->state, call, l->released, l->state.recursive ? "RLock" : "Lock");
    mp_os_mutex_unlock(l->m);
    return rc;
}

static void lock_free(void *self)
{
    lock *l = self;
    mp_os_cond_free(l->released);
    mp_os_mutex_free(l->m);
    free(l);
}

static const mp_served_method methods[] = {
    {"acquire", acquire, true},
    {"release", release, false},
    {NULL, NULL, false},
};

static const mp_served_type lock_type = {"Lock", methods, lock_free, true};
static const mp_served_type rlock_type = {"RLock", methods, lock_free, true};

static int make(const mp_value *args, mp_served **out, const mp_served_type *type, bool recursive)
{
    int rc = mp_builtin_nargs(args, 0, 0, type->name);
    if (rc != MP_OK)
        return rc;
    lock *l = calloc(1, sizeof *l);
    if (l == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    l->state.recursive = recursive;
    rc = mp_os_mutex_new(&l->m);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&l->released);
    if (rc != MP_OK) {
        lock_free(l);
        return rc;
    }
    return mp_builtin_wrap(out, type, l);
}

int mp_builtin_lock(const mp_value *args, mp_served **out)
{
    return make(args, out, &lock_type, false);
}

int mp_builtin_rlock(const mp_value *args, mp_served **out)
{
    return make(args, out, &rlock_type, true);
}
