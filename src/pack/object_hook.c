/* object_hook.c - the letter 'O' handed to the installed hook
 * (object_hook.h). */
#include <stdatomic.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "pack/object_hook.h"
#include "pack/pack_internal.h"

/* Installed from any thread, possibly again with the same hook. */
static _Atomic(const mp_object_hook *) installed;

MP_FORK_PATH void mp_pack_set_object_hook(const mp_object_hook *hook)
{
    /* Read first: in a fork child a store would copy the page. */
    if (atomic_load_explicit(&installed, memory_order_acquire) != hook)
        atomic_store_explicit(&installed, hook, memory_order_release);
}

int mp_pack_object(mp_buf *b, const void *object, void *ctx)
{
    const mp_object_hook *hook = atomic_load_explicit(&installed, memory_order_acquire);
    if (hook == NULL)
        return mp_fail(MP_ETYPE, "mp_pack 'O': not a live mproc object");
    return hook->pack(b, object, ctx);
}

int mp_unpack_object(const mp_value *v, void **out)
{
    const mp_object_hook *hook = atomic_load_explicit(&installed, memory_order_acquire);
    if (hook != NULL)
        return hook->unpack(v, out);
    if (v->type != MP_EXT || v->as.ext.type != MP_EXT_OBJECT)
        return mp_fail(MP_ETYPE, "mp_unpack 'O': the value is not an mproc object");
    return mp_fail(MP_EPROTO, "mp_unpack 'O': no object travelled to this process");
}
