/* shared_value.c - Value, Array, RawValue and RawArray (shm.h). */
#include <stdint.h>
#include <stdlib.h>

#include "object/block_object.h"
#include "base/error_internal.h"
#include "mproc/shm.h"

typedef struct layout {
    char typecode;
    uint64_t length;
} layout;

/* The elements start after the layout, 16-byte aligned. */
#define DATA_OFFSET 16
_Static_assert(sizeof(layout) <= DATA_OFFSET, "layout fits");

/* The nested object is the lock, owned; none for a raw value. */
struct mp_shared {
    mp_block_object base;
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
    return v->base.block.payload;
}

static mp_lock *lock_of(const mp_shared *v)
{
    return (mp_lock *)(void *)v->base.nested; /* an mp_lock starts with its header */
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
    mp_object_init(&v->base.hdr, MP_KIND_VALUE);
    mp_lock *l = NULL;
    int rc = mp_block_create(&v->base.block, 0, NULL, DATA_OFFSET + length * size);
    if (rc == MP_OK && lock)
        rc = mp_rlock_new(&l);
    if (rc != MP_OK) {
        mp_block_close(&v->base.block);
        free(v);
        return rc;
    }
    v->base.nested = (mp_object *)(void *)l;
    v->base.owns_nested = l != NULL;
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
    return (char *)v->base.block.payload + DATA_OFFSET;
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
    if (lock_of(v) == NULL)
        mp_fail(MP_ESTATE, "mp_shared_get_lock: a raw value has no lock");
    return lock_of(v);
}

void mp_shared_free(mp_shared *v)
{
    mp_object_free_checked(v, MP_KIND_VALUE, "mp_shared_free");
}

/* An imported layout must describe no more than the mapping holds. */
static int check_import(const mp_block_object *o)
{
    size_t room = mp_block_payload_size(&o->block);
    const layout *l = o->block.payload;
    size_t size = room >= DATA_OFFSET ? element_size(l->typecode) : 0;
    bool fits = size > 0 && l->length <= (room - DATA_OFFSET) / size;
    return fits ? MP_OK : mp_fail(MP_EPROTO, "Value argument: malformed");
}

static int shared_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n,
                         mp_object *nested, mp_object **out)
{
    return mp_block_object_import(kind, sizeof(mp_shared), fields, h, n, nested, check_import, out);
}

const mp_object_ops mp_value_ops = {.name = "Value",
                                    .export_ = mp_block_object_export,
                                    .import_ = shared_import,
                                    .free_ = mp_block_object_free};
