/* task_registry.c - registering pool task functions (pool.h) in the
 * registry's one namespace. */
#include "mproc/pool.h"
#include "base/registry_internal.h"

int mp_register_task(const char *name, mp_task_fn fn)
{
    return mp_registry_add(MP_REG_TASK, "mp_register_task", name, (mp_any_fn)fn);
}

int mp_register_elem_task(const char *name, mp_elem_fn fn)
{
    return mp_registry_add(MP_REG_ELEM_TASK, "mp_register_elem_task", name, (mp_any_fn)fn);
}

const char *mp_task_name(mp_task_fn fn)
{
    return mp_registry_name(MP_REG_TASK, (mp_any_fn)fn);
}

void mp_register_task_at_load(const char *name, mp_task_fn fn)
{
    mp_registry_add_at_load(MP_REG_TASK, "MP_TASK", name, (mp_any_fn)fn);
}

void mp_register_elem_task_at_load(const char *name, mp_elem_fn fn)
{
    mp_registry_add_at_load(MP_REG_ELEM_TASK, "MP_ELEM_TASK", name, (mp_any_fn)fn);
}
