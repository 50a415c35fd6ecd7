/* shared_value.c - Value, Array, RawValue and RawArray (shm.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "object/block.h"
#include "base/error_internal.h"
#include "mproc/shm.h"

typedef struct layout {
    char typecode;
    uint64_t length;
} layout;

/* The elements start after the layout, 16-byte aligned. */
#define DATA_OFFSET 16
_Static_assert(sizeof(layout) <= DATA_OFFSET, "layout fits");

struct mp_shared {
    mp_object hdr;
    mp_block block;
    mp_lock *lock; /* NULL for raw */
};

static size_t element_size(char typecode)
{
    switch (typecode) {
    case 'b': case 'B': case 'c': case '?': return 1;
    case 'h': case 'H': return 2;
    case 'i': case 'I': case 'f': return 4;
    case 'l': case 'L': case 'q': case 'Q': case 'd': return 8;
    default: return 0;
    }
}

static layout *info(const mp_shared *v)
{
    return v->block.payload;
}

int mp_shared_array_new(mp_shared **out, char typecode, size_t length, bool lock)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_shared_array_new: NULL out");
    *out = NULL;
    size_t size = element_size(typecode);
    if (size == 0)
        return mp_fail(MP_EINVAL, "mp_shared_array_new: unknown typecode '%c'", typecode);
    if (length > (SIZE_MAX - DATA_OFFSET - 4096) / size)
        return mp_fail(MP_ETOOBIG, "mp_shared_array_new: %zu elements are too many", length);
    mp_shared *v = calloc(1, sizeof *v);
    if (v == NULL)
        return mp_fail(MP_ENOMEM, "Array: out of memory");
    mp_object_init(&v->hdr, MP_KIND_VALUE);
    int rc = mp_block_create(&v->block, 0, NULL, false, DATA_OFFSET + length * size);
    if (rc == MP_OK && lock)
        rc = mp_rlock_new(&v->lock);
    if (rc != MP_OK) {
        mp_block_close(&v->block);
        free(v);
        return rc;
    }
    *info(v) = (layout){typecode, length};
    *out = v;
    return MP_OK;
}

int mp_shared_value_new(mp_shared **out, char typecode, bool lock)
{
    return mp_shared_array_new(out, typecode, 1, lock);
}

void *mp_shared_ptr(mp_shared *v)
{
    if (mp_object_check(v, MP_KIND_VALUE, "mp_shared_ptr") != MP_OK)
        return NULL;
    return (char *)v->block.payload + DATA_OFFSET;
}

size_t mp_shared_len(const mp_shared *v)
{
    return mp_object_check(v, MP_KIND_VALUE, "mp_shared_len") == MP_OK ? (size_t)info(v)->length : 0;
}

char mp_shared_typecode(const mp_shared *v)
{
    return mp_object_check(v, MP_KIND_VALUE, "mp_shared_typecode") == MP_OK ? info(v)->typecode : '\0';
}

mp_lock *mp_shared_get_lock(mp_shared *v)
{
    if (mp_object_check(v, MP_KIND_VALUE, "mp_shared_get_lock") != MP_OK)
        return NULL;
    if (v->lock == NULL)
        mp_fail(MP_ESTATE, "mp_shared_get_lock: a raw value has no lock");
    return v->lock;
}

static void shared_free(mp_object *o)
{
    mp_shared *v = (mp_shared *)(void *)o;
    mp_block_close(&v->block);
    mp_lock_free(v->lock);
    mp_object_kill(o);
    if (!o->imported)
        free(v);
}

void mp_shared_free(mp_shared *v)
{
    if (v != NULL && mp_object_check(v, MP_KIND_VALUE, "mp_shared_free") == MP_OK)
        shared_free(&v->hdr);
}

static int shared_export(const mp_object *o, mp_export *e)
{
    const mp_shared *v = (const mp_shared *)(const void *)o;
    e->nested = (const mp_object *)v->lock; /* an mp_lock starts with its header */
    return mp_export_block_object(&v->block, e);
}

/* An imported layout must describe no more than the mapping holds. */
static bool fits(const mp_shared *v)
{
    size_t room = v->block.shm.size - (size_t)((char *)v->block.payload - (char *)v->block.shm.addr);
    size_t size = room >= DATA_OFFSET ? element_size(info(v)->typecode) : 0;
    return size > 0 && info(v)->length <= (room - DATA_OFFSET) / size;
}

static int shared_import(const mp_value *fields, const mp_os_handle *h, size_t n, mp_object *nested,
                         mp_object **out)
{
    mp_shared *v = calloc(1, sizeof *v);
    int rc = v ? mp_import_block_object(fields, h, n, &v->block) : mp_fail(MP_ENOMEM, "out of memory");
    if (rc == MP_OK && !fits(v)) {
        mp_block_close(&v->block);
        rc = mp_fail(MP_EPROTO, "Value argument: malformed");
    }
    if (rc != MP_OK) {
        free(v);
        mp_lock_free((mp_lock *)(void *)nested);
        return rc;
    }
    mp_object_init(&v->hdr, MP_KIND_VALUE);
    v->lock = (mp_lock *)(void *)nested;
    *out = &v->hdr;
    return MP_OK;
}

const mp_object_ops mp_value_ops = {"Value", shared_export, shared_import, shared_free};
