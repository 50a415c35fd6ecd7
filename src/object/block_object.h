/* block_object.h - the objects whose state is one shared block (block.h):
 * Lock, RLock, Semaphore, Condition, Event, Barrier, Queue and Value. Each
 * kind's struct starts with mp_block_object, so one export, one free and
 * the common part of import serve them all. */
#ifndef MPROC_BLOCK_OBJECT_H
#define MPROC_BLOCK_OBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "object/block.h"
#include "object/object.h"

typedef struct mp_block_object {
    mp_object hdr;
    mp_block block;
    /* The object this one uses and travels with (a Condition's lock, a
     * Value's), or NULL; freed with this one when owned. */
    mp_object *nested;
    bool owns_nested;
} mp_block_object;

/* export_ and free_ of these kinds (mp_object_ops): the block's handles,
 * its size as the fields "(Q)", and the nested object. */
int mp_block_object_export(const mp_object *o, mp_export *e);
void mp_block_object_free(mp_object *o);

/* What their import_ shares: *out, an object of that kind and size bytes
 * (the kind's struct, zeroed), with the block that fields and h describe,
 * which check accepts (MP_OK, or the kind's MP_EPROTO), and nested as its
 * owned nested object. Takes ownership of h and nested, also on failure. */
int mp_block_object_import(mp_kind kind, size_t size, const mp_value *fields, const mp_os_handle *h, size_t n,
                           mp_object *nested, int (*check)(const mp_block_object *o), mp_object **out);

#endif
