/* block_object.c - export, import and free of the objects whose state is
 * one shared block (block_object.h). */
#include <stdlib.h>

#include "base/error_internal.h"
#include "object/block_object.h"

int mp_block_object_export(const mp_object *o, mp_export *e)
{
    const mp_block_object *b = (const mp_block_object *)(const void *)o;
    e->nested = b->nested;
    int rc = mp_block_export(&b->block, e);
    return rc == MP_OK ? mp_pack(&e->fields, "(Q)", (uint64_t)b->block.shm.size) : rc;
}

static int import_block(const mp_value *fields, const mp_os_handle *h, size_t n, mp_block *block)
{
    uint64_t size;
    size_t used;
    if (mp_unpack(fields, "(Q)", &size) != MP_OK) {
        mp_handles_close(h, n);
        return mp_fail(MP_EPROTO, "object argument: malformed");
    }
    return mp_block_import(block, size, h, n, &used);
}

int mp_block_object_import(mp_kind kind, size_t size, const mp_value *fields, const mp_os_handle *h, size_t n,
                           mp_object *nested, int (*check)(const mp_block_object *o), mp_object **out)
{
    mp_block_object *o = calloc(1, size);
    int rc = o ? import_block(fields, h, n, &o->block) : mp_fail(MP_ENOMEM, "object argument: out of memory");
    if (o == NULL)
        mp_handles_close(h, n);
    if (rc == MP_OK) {
        mp_object_init(&o->hdr, kind);
        if ((rc = check(o)) != MP_OK)
            mp_block_close(&o->block);
    }
    if (rc != MP_OK) {
        free(o);
        if (nested != NULL)
            mp_object_free(nested);
        return rc;
    }
    o->nested = nested;
    o->owns_nested = nested != NULL;
    *out = &o->hdr;
    return MP_OK;
}

void mp_block_object_free(mp_object *o)
{
    mp_block_object *b = (mp_block_object *)(void *)o;
    mp_block_close(&b->block);
    if (b->owns_nested)
        mp_object_free(b->nested);
    mp_object_discard(o);
}
