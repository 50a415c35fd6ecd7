/* semaphore.c - Semaphore and BoundedSemaphore (sync.h). */
#include <stdlib.h>

#include "object/block_object.h"
#include "base/error_internal.h"
#include "mproc/sync.h"

typedef struct bounds {
    int max; /* 0: unbounded */
} bounds;

struct mp_semaphore {
    mp_block_object base;
};

static int make(mp_semaphore **out, unsigned value, bool bounded)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_semaphore_new: NULL out");
    *out = NULL;
    if (value > 0x7fffffff)
        return mp_fail(MP_ERANGE, "mp_semaphore_new: value %u is too large", value);
    mp_semaphore *s = calloc(1, sizeof *s);
    if (s == NULL)
        return mp_fail(MP_ENOMEM, "Semaphore: out of memory");
    mp_object_init(&s->base.hdr, MP_KIND_SEMAPHORE);
    int rc = mp_block_create(&s->base.block, 1, &value, sizeof(bounds));
    if (rc != MP_OK) {
        free(s);
        return rc;
    }
    ((bounds *)s->base.block.payload)->max = bounded ? (int)value : 0;
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
    return rc == MP_OK ? mp_os_sem_wait(s->base.block.sems[0], timeout) : rc;
}

int mp_semaphore_release(mp_semaphore *s)
{
    int rc = mp_object_check(s, MP_KIND_SEMAPHORE, "mp_semaphore_release");
    if (rc != MP_OK)
        return rc;
    int max = ((bounds *)s->base.block.payload)->max, value;
    if (max > 0 && mp_os_sem_value(s->base.block.sems[0], &value) == MP_OK && value >= max)
        return mp_fail(MP_ERANGE, "mp_semaphore_release: BoundedSemaphore released too many times");
    return mp_os_sem_post(s->base.block.sems[0]);
}

int mp_semaphore_get_value(mp_semaphore *s, int *value)
{
    int rc = mp_object_check(s, MP_KIND_SEMAPHORE, "mp_semaphore_get_value");
    if (rc == MP_OK && value == NULL)
        rc = mp_fail(MP_EINVAL, "mp_semaphore_get_value: NULL value");
    return rc == MP_OK ? mp_os_sem_value(s->base.block.sems[0], value) : rc;
}

void mp_semaphore_free(mp_semaphore *s)
{
    mp_object_free_checked(s, MP_KIND_SEMAPHORE, "mp_semaphore_free");
}

static int check_import(const mp_block_object *o)
{
    return o->block.nsems == 1 ? MP_OK : mp_fail(MP_EPROTO, "Semaphore argument: malformed");
}

static int semaphore_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n,
                            mp_object *nested, mp_object **out)
{
    (void)nested;
    return mp_block_object_import(kind, sizeof(mp_semaphore), fields, h, n, NULL, check_import, out);
}

const mp_object_ops mp_semaphore_ops = {.name = "Semaphore",
                                        .export_ = mp_block_object_export,
                                        .import_ = semaphore_import,
                                        .free_ = mp_block_object_free};
