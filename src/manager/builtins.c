/* builtins.c - the typeids every manager's server knows (manager.h's list
 * at mp_manager_create), by name. */
#include <string.h>

#include "manager/served.h"

static const struct {
    const char *typeid;
    mp_typeid_fn make;
} builtins[] = {
    {"Queue", mp_builtin_queue},
    {"JoinableQueue", mp_builtin_joinable_queue},
    {"dict", mp_builtin_dict},
    {"list", mp_builtin_list},
    {"Namespace", mp_builtin_namespace},
    {"Value", mp_builtin_value},
    {"Array", mp_builtin_array},
    {"Lock", mp_builtin_lock},
    {"RLock", mp_builtin_rlock},
    {"Semaphore", mp_builtin_semaphore},
    {"BoundedSemaphore", mp_builtin_bounded_semaphore},
    {"Condition", mp_builtin_condition},
    {"Event", mp_builtin_event},
    {"Barrier", mp_builtin_barrier},
};

mp_typeid_fn mp_builtin_typeid(const char *typeid)
{
    for (size_t i = 0; typeid != NULL && i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(builtins[i].typeid, typeid) == 0)
            return builtins[i].make;
    return NULL;
}
