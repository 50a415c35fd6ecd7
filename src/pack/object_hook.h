/* object_hook.h - the format letter 'O': an object of a layer above this
 * one (an mproc object, which travels as a process argument). That layer
 * installs how such objects pack and unpack; this one only calls it, and
 * knows nothing of what an object is. */
#ifndef MPROC_OBJECT_HOOK_H
#define MPROC_OBJECT_HOOK_H

#include "mproc/pack.h"

typedef struct mp_object_hook {
    /* Pack object as one value. ctx is what the caller gave mp_vpack_array
     * (pack_format.h), or NULL where no object can travel: mp_pack and
     * messages. */
    int (*pack)(mp_buf *b, const void *object, void *ctx);
    /* *out: the object that v stands for. */
    int (*unpack)(const mp_value *v, void **out);
} mp_object_hook;

/* Use hook for every 'O' from now on, in any thread. Until one is
 * installed no object exists to pack or import, and 'O' says so. */
void mp_pack_set_object_hook(const mp_object_hook *hook);

#endif
