/* event.c - Event (sync.h): a flag in the condition's shared state, read
 * and written under its Lock. */
#include <stdlib.h>

#include "sync/condition_internal.h"
#include "base/error_internal.h"

struct mp_event {
    mp_cond_object c;
};

static int *flag(mp_event *e)
{
    return e->c.base.block.payload;
}

int mp_event_new(mp_event **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_event_new: NULL out");
    *out = NULL;
    mp_event *e = malloc(sizeof *e);
    if (e == NULL)
        return mp_fail(MP_ENOMEM, "Event: out of memory");
    int rc = mp_shcond_init(&e->c, MP_KIND_EVENT, NULL, false);
    if (rc != MP_OK) {
        free(e);
        return rc;
    }
    *out = e;
    return MP_OK;
}

/* Take the event's lock; a dead holder's lock is simply taken over, as the
 * flag is always consistent. */
static int lock(mp_event *e, const char *where)
{
    int rc = mp_object_check(e, MP_KIND_EVENT, where);
    if (rc == MP_OK)
        rc = mp_lock_acquire(mp_shcond_lock(&e->c), MP_FOREVER);
    return rc == MP_EOWNERDEAD ? MP_OK : rc;
}

int mp_event_set(mp_event *e)
{
    int rc = lock(e, "mp_event_set");
    if (rc != MP_OK)
        return rc;
    *flag(e) = 1;
    rc = mp_shcond_notify(&e->c, ~0u);
    mp_lock_release(mp_shcond_lock(&e->c));
    return rc;
}

int mp_event_clear(mp_event *e)
{
    int rc = lock(e, "mp_event_clear");
    if (rc != MP_OK)
        return rc;
    *flag(e) = 0;
    return mp_lock_release(mp_shcond_lock(&e->c));
}

int mp_event_is_set(mp_event *e)
{
    int rc = lock(e, "mp_event_is_set");
    if (rc != MP_OK)
        return rc;
    int set = *flag(e);
    mp_lock_release(mp_shcond_lock(&e->c));
    return set;
}

static bool is_set(void *e)
{
    return *flag(e) != 0;
}

int mp_event_wait(mp_event *e, double timeout)
{
    int rc = lock(e, "mp_event_wait");
    if (rc != MP_OK)
        return rc;
    rc = mp_shcond_wait_for(&e->c, is_set, e, timeout);
    mp_lock_release(mp_shcond_lock(&e->c));
    return rc;
}

void mp_event_free(mp_event *e)
{
    mp_object_free_checked(e, MP_KIND_EVENT, "mp_event_free");
}

const mp_object_ops mp_event_ops = {.name = "Event",
                                    .export_ = mp_block_object_export,
                                    .import_ = mp_shcond_import,
                                    .free_ = mp_block_object_free};
