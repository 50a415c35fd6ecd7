/* typeids.c - BaseManager.register (manager.h) on the core's registry,
 * and finding a typeid's callable (typeids.h). */
#include <string.h>

#include "base/error_internal.h"
#include "base/registry_internal.h"
#include "manager/served.h"
#include "manager/typeids.h"

int mp_manager_register(const char *typeid, mp_typeid_fn callable)
{
    if (typeid == NULL || typeid[0] == '\0' || strlen(typeid) > 255)
        return mp_fail(MP_EINVAL, "mp_manager_register: a typeid is 1 to 255 bytes");
    if (mp_builtin_typeid(typeid) != NULL)
        return mp_fail(MP_EEXIST, "mp_manager_register: \"%s\" is a built-in typeid", typeid);
    /* A name only: the client's side of seed 003, which creates typeids
     * its server knows and needs nothing registered for that. */
    if (callable == NULL)
        return MP_OK;
    return mp_registry_add(MP_REG_TYPEID, "mp_manager_register", typeid, (mp_any_fn)callable);
}

void mp_manager_register_at_load(const char *typeid, mp_typeid_fn callable)
{
    if (callable != NULL)
        mp_registry_add_at_load(MP_REG_TYPEID, "MP_MANAGED", typeid, (mp_any_fn)callable);
}

mp_typeid_fn mp_typeid_find(const char *typeid)
{
    mp_typeid_fn f = (mp_typeid_fn)mp_registry_lookup(MP_REG_TYPEID, typeid);
    return f != NULL ? f : mp_builtin_typeid(typeid);
}
