/* semaphore.c - Semaphore and BoundedSemaphore (sync.h). */
#include <stdlib.h>

#include "object/block.h"
#include "base/error_internal.h"
#include "mproc/sync.h"

typedef struct bounds {
    int max; /* 0: unbounded */
} bounds;

struct mp_semaphore {
    mp_object hdr;
    mp_block block;
};

static int make(mp_semaphore **out, unsigned value, bool bounded)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_semaphore_new: NULL out");
    *out = NULL;
    if (value > 0x7fffffff)
        return mp_fail(MP_ERANGE, "mp_semaphore_new: value %u is too large", value);
    mp_semaphore *s = malloc(sizeof *s);
    if (s == NULL)
        return mp_fail(MP_ENOMEM, "Semaphore: out of memory");
    mp_object_init(&s->hdr, MP_KIND_SEMAPHORE);
    int rc = mp_block_create(&s->block, 1, &value, false, sizeof(bounds));
    if (rc != MP_OK) {
        free(s);
        return rc;
    }
    ((bounds *)s->block.payload)->max = bounded ? (int)value : 0;
    *out = s;
    return MP_OK;
}

int mp_semaphore_new(mp_semaphore **out, unsigned value)
{
    return make(out, value, false);
}

int mp_bounded_semaphore_new(mp_semaphore **out, unsigned value)
{
    return make(out, value, true);
}

int mp_semaphore_acquire(mp_semaphore *s, double timeout)
{
    int rc = mp_object_check(s, MP_KIND_SEMAPHORE, "mp_semaphore_acquire");
    return rc == MP_OK ? mp_os_sem_wait(s->block.sems[0], timeout) : rc;
}

int mp_semaphore_release(mp_semaphore *s)
{
    int rc = mp_object_check(s, MP_KIND_SEMAPHORE, "mp_semaphore_release");
    if (rc != MP_OK)
        return rc;
    int max = ((bounds *)s->block.payload)->max, value;
    if (max > 0 && mp_os_sem_value(s->block.sems[0], &value) == MP_OK && value >= max)
        return mp_fail(MP_ERANGE, "mp_semaphore_release: BoundedSemaphore released too many times");
    return mp_os_sem_post(s->block.sems[0]);
}

int mp_semaphore_get_value(mp_semaphore *s, int *value)
{
    int rc = mp_object_check(s, MP_KIND_SEMAPHORE, "mp_semaphore_get_value");
    if (rc == MP_OK && value == NULL)
        rc = mp_fail(MP_EINVAL, "mp_semaphore_get_value: NULL value");
    return rc == MP_OK ? mp_os_sem_value(s->block.sems[0], value) : rc;
}

static void semaphore_free(mp_object *o)
{
    mp_semaphore *s = (mp_semaphore *)(void *)o;
    mp_block_close(&s->block);
    mp_object_kill(o);
    if (!o->imported)
        free(s);
}

void mp_semaphore_free(mp_semaphore *s)
{
    if (s != NULL && mp_object_check(s, MP_KIND_SEMAPHORE, "mp_semaphore_free") == MP_OK)
        semaphore_free(&s->hdr);
}

static int semaphore_export(const mp_object *o, mp_export *e)
{
    return mp_export_block_object(&((const mp_semaphore *)(const void *)o)->block, e);
}

static int semaphore_import(const mp_value *fields, const mp_os_handle *h, size_t n, mp_object *nested,
                            mp_object **out)
{
    (void)nested;
    mp_semaphore *s = malloc(sizeof *s);
    if (s == NULL)
        return mp_fail(MP_ENOMEM, "Semaphore: out of memory");
    int rc = mp_import_block_object(fields, h, n, &s->block);
    if (rc != MP_OK || s->block.nsems != 1) {
        if (rc == MP_OK)
            mp_block_close(&s->block);
        free(s);
        return rc == MP_OK ? mp_fail(MP_EPROTO, "Semaphore argument: malformed") : rc;
    }
    mp_object_init(&s->hdr, MP_KIND_SEMAPHORE);
    *out = &s->hdr;
    return MP_OK;
}

const mp_object_ops mp_semaphore_ops = {"Semaphore", semaphore_export, semaphore_import, semaphore_free};
