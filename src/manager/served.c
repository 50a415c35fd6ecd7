/* served.c - objects held by a server (manager.h's mp_served): made,
 * referenced and freed; and what a method sees of its call. */
#include <stdarg.h>
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/served.h"
#include "manager/server_conns.h"
#include "pack/pack_format.h"

int mp_served_new(mp_served **out, const mp_served_type *type, void *self)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_served_new: NULL out");
    *out = NULL;
    if (type == NULL || type->methods == NULL || type->methods[0].name == NULL)
        return mp_fail(MP_EINVAL, "mp_served_new: a type needs methods");
    mp_served *o = calloc(1, sizeof *o);
    if (o == NULL)
        return mp_fail(MP_ENOMEM, "mp_served_new: out of memory");
    int rc = type->concurrent ? MP_OK : mp_os_mutex_new(&o->calls);
    if (rc != MP_OK) {
        free(o);
        return rc;
    }
    o->type = type;
    o->self = self;
    atomic_init(&o->refs, 1);
    *out = o;
    return MP_OK;
}

int mp_served_builtin(mp_served **out, const char *typeid, const char *fmt, ...)
{
    if (out == NULL || typeid == NULL)
        return mp_fail(MP_EINVAL, "mp_served_builtin: NULL argument");
    *out = NULL;
    mp_typeid_fn make = mp_builtin_typeid(typeid);
    if (make == NULL)
        return mp_fail(MP_ENOTREG, "mp_served_builtin: \"%s\" is not a built-in typeid", typeid);
    mp_buf b = MP_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_vpack_array(&b, fmt != NULL ? fmt : "", ap, NULL);
    va_end(ap);
    mp_value *args = NULL;
    if (rc == MP_OK)
        rc = mp_decode(b.data, b.len, NULL, &args);
    mp_buf_free(&b);
    if (rc == MP_OK)
        rc = make(args, out);
    mp_value_free(args);
    return rc;
}

mp_served *mp_served_ref(mp_served *o)
{
    if (o != NULL)
        atomic_fetch_add(&o->refs, 1);
    return o;
}

void mp_served_unref(mp_served *o)
{
    if (o == NULL || atomic_fetch_sub(&o->refs, 1) != 1)
        return;
    if (o->type->free_ != NULL)
        o->type->free_(o->self);
    mp_os_mutex_free(o->calls);
    free(o);
}

mp_buf *mp_served_result(mp_served_call *call)
{
    return call != NULL ? &call->result : NULL;
}

bool mp_served_call_abandoned(const mp_served_call *call)
{
    return call != NULL && call->abandoned != NULL && *call->abandoned;
}

mp_served_owner mp_served_call_owner(const mp_served_call *call)
{
    return call->owner;
}

bool mp_served_owner_alive(mp_served_owner owner)
{
    return mp_server_conn_alive(owner.conn);
}
