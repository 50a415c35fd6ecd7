/* builtin_event.c - the manager's "Event" (Python's threading.Event). */
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

typedef struct event {
    mp_os_mutex *m;
    mp_os_cond *changed;
    bool flag;
} event;

static int is_set(void *self, const mp_value *args, mp_served_call *call)
{
    event *e = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Event.is_set");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(e->m);
    bool flag = e->flag;
    mp_os_mutex_unlock(e->m);
    return mp_builtin_bool_result(call, flag);
}

static int set_flag(event *e, const mp_value *args, bool flag, const char *where)
{
    int rc = mp_builtin_nargs(args, 0, 0, where);
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(e->m);
    e->flag = flag;
    if (flag)
        mp_os_cond_broadcast(e->changed);
    mp_os_mutex_unlock(e->m);
    return MP_OK;
}

static int set(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    return set_flag(self, args, true, "Event.set");
}

static int clear(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    return set_flag(self, args, false, "Event.clear");
}

/* wait(timeout=None) -> the flag */
static int wait(void *self, const mp_value *args, mp_served_call *call)
{
    event *e = self;
    double deadline;
    int rc = mp_builtin_nargs(args, 0, 1, "Event.wait");
    if (rc == MP_OK)
        rc = mp_served_timeout_arg(args, 0, &deadline, "Event.wait");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(e->m);
    while (rc == MP_OK && !e->flag)
        rc = mp_served_wait(call, e->changed, e->m, deadline);
    bool flag = e->flag;
    mp_os_mutex_unlock(e->m);
    if (rc == MP_ECONNRESET)
        return rc;
    return mp_builtin_bool_result(call, flag);
}

static void event_free(void *self)
{
    event *e = self;
    mp_os_cond_free(e->changed);
    mp_os_mutex_free(e->m);
    free(e);
}

static const mp_served_method methods[] = {
    {"is_set", is_set, false}, {"set", set, false}, {"clear", clear, false},
    {"wait", wait, true},      {NULL, NULL, false},
};

static const mp_served_type type = {"Event", methods, event_free, true};

int mp_builtin_event(const mp_value *args, mp_served **out)
{
    int rc = mp_builtin_nargs(args, 0, 0, "Event()");
    if (rc != MP_OK)
        return rc;
    event *e = calloc(1, sizeof *e);
    if (e == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    rc = mp_os_mutex_new(&e->m);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&e->changed);
    if (rc != MP_OK) {
        event_free(e);
        return rc;
    }
    return mp_builtin_wrap(out, &type, e);
}
