/* children.c - the started children of this process: active_children() and
 * what happens to them when this process exits. */
#include "base/error_internal.h"
#include "base/fork_path.h"
#include "process/process_internal.h"

void mp_children_add(mp_process *p)
{
    mp_os_global_lock();
    p->prev = NULL;
    p->next = mp_self.children;
    if (mp_self.children)
        mp_self.children->prev = p;
    mp_self.children = p;
    mp_os_global_unlock();
}

void mp_children_remove(mp_process *p)
{
    mp_os_global_lock();
    if (p->prev)
        p->prev->next = p->next;
    else if (mp_self.children == p)
        mp_self.children = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
    mp_os_global_unlock();
}

MP_FORK_PATH void mp_children_forget(void)
{
    mp_self.children = NULL;
}

int mp_active_children(mp_process **out, size_t cap, size_t *n)
{
    if (n == NULL || (out == NULL && cap > 0))
        return mp_fail(MP_EINVAL, "mp_active_children: NULL argument");
    size_t alive = 0;
    mp_os_global_lock();
    for (mp_process *p = mp_self.children; p; p = p->next) {
        if (mp_process_is_alive(p) != 1)
            continue;
        if (alive < cap)
            out[alive] = p;
        alive++;
    }
    mp_os_global_unlock();
    *n = alive;
    return MP_OK;
}

MP_FORK_PATH void mp_children_finish(void)
{
    mp_os_global_lock();
    mp_process *list = mp_self.children;
    mp_os_global_unlock();
    for (mp_process *p = list; p; p = p->next)
        if (p->daemon && p->parent_pid == mp_os_getpid() && mp_process_is_alive(p) == 1)
            mp_process_terminate(p);
    for (mp_process *p = list; p; p = p->next)
        if (p->parent_pid == mp_os_getpid())
            mp_process_join(p, MP_FOREVER);
}
