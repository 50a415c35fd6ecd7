/* builtin_semaphore.c - the manager's "Semaphore" and "BoundedSemaphore"
 * (Python's threading ones, which SyncManager serves). A semaphore has no
 * owner, so a client that dies holding one does not give it back, as in
 * Python. */
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

typedef struct semaphore {
    mp_os_mutex *m;
    mp_os_cond *released;
    int64_t value;
    int64_t initial; /* the bound of a BoundedSemaphore */
    bool bounded;
} semaphore;

/* acquire(blocking=True, timeout=None) -> bool */
static int acquire(void *self, const mp_value *args, mp_served_call *call)
{
    semaphore *s = self;
    double deadline;
    int rc = mp_builtin_nargs(args, 0, 2, "Semaphore.acquire");
    if (rc == MP_OK)
        rc = mp_served_deadline_args(args, 0, &deadline, "Semaphore.acquire");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(s->m);
    while (rc == MP_OK && s->value == 0)
        rc = mp_served_wait(call, s->released, s->m, deadline);
    if (rc == MP_OK && mp_served_call_abandoned(call))
        rc = mp_fail(MP_ECONNRESET, "manager: the caller's connection ended");
    bool got = rc == MP_OK;
    if (got)
        s->value--;
    mp_os_mutex_unlock(s->m);
    if (rc == MP_ETIMEDOUT)
        rc = MP_OK;
    return rc != MP_OK ? rc : mp_builtin_bool_result(call, got);
}

/* release(n=1) */
static int release(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    semaphore *s = self;
    int64_t n;
    int rc = mp_builtin_nargs(args, 0, 1, "Semaphore.release");
    if (rc == MP_OK)
        rc = mp_builtin_int_arg(args, 0, 1, &n, "Semaphore.release");
    if (rc == MP_OK && n < 1)
        rc = mp_fail(MP_ERANGE, "manager: ValueError: n must be one or more");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(s->m);
    if (s->bounded && n > s->initial - s->value)
        rc = mp_fail(MP_ERANGE, "manager: ValueError: Semaphore released too many times");
    else if (n > INT64_MAX - s->value)
        rc = mp_fail(MP_ERANGE, "manager: Semaphore value too large");
    else {
        s->value += n;
        mp_os_cond_broadcast(s->released);
    }
    mp_os_mutex_unlock(s->m);
    return rc;
}

static int get_value(void *self, const mp_value *args, mp_served_call *call)
{
    semaphore *s = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Semaphore.get_value");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(s->m);
    int64_t v = s->value;
    mp_os_mutex_unlock(s->m);
    return mp_builtin_int_result(call, v);
}

static void semaphore_free(void *self)
{
    semaphore *s = self;
    mp_os_cond_free(s->released);
    mp_os_mutex_free(s->m);
    free(s);
}

static const mp_served_method methods[] = {
    {"acquire", acquire, true},
    {"release", release, false},
    {"get_value", get_value, false},
    {NULL, NULL, false},
};

static const mp_served_type semaphore_type = {"Semaphore", methods, semaphore_free, true};
static const mp_served_type bounded_type = {"BoundedSemaphore", methods, semaphore_free, true};

/* Semaphore(value=1) */
static int make(const mp_value *args, mp_served **out, const mp_served_type *type, bool bounded)
{
    int64_t value;
    int rc = mp_builtin_nargs(args, 0, 1, type->name);
    if (rc == MP_OK)
        rc = mp_builtin_int_arg(args, 0, 1, &value, type->name);
    if (rc == MP_OK && value < 0)
        rc = mp_fail(MP_ERANGE, "manager: ValueError: %s initial value must be >= 0", type->name);
    if (rc != MP_OK)
        return rc;
    semaphore *s = calloc(1, sizeof *s);
    if (s == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    s->value = s->initial = value;
    s->bounded = bounded;
    rc = mp_os_mutex_new(&s->m);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&s->released);
    if (rc != MP_OK) {
        semaphore_free(s);
        return rc;
    }
    return mp_builtin_wrap(out, type, s);
}

int mp_builtin_semaphore(const mp_value *args, mp_served **out)
{
    return make(args, out, &semaphore_type, false);
}

int mp_builtin_bounded_semaphore(const mp_value *args, mp_served **out)
{
    return make(args, out, &bounded_type, true);
}
