/* children.c - the started children of this process: active_children() and
 * what happens to them when this process exits. */
#include "base/error_internal.h"
#include "process/process_internal.h"

static mp_process *head;

void mp_children_add(mp_process *p)
{
    mp_os_global_lock();
    p->prev = NULL;
    p->next = head;
    if (head)
        head->prev = p;
    head = p;
    mp_os_global_unlock();
}

void mp_children_remove(mp_process *p)
{
    mp_os_global_lock();
    if (p->prev)
        p->prev->next = p->next;
    else if (head == p)
        head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
    mp_os_global_unlock();
}

void mp_children_forget(void)
{
    head = NULL;
}

int mp_active_children(mp_process **out, size_t cap, size_t *n)
{
    if (n == NULL || (out == NULL && cap > 0))
        return mp_fail(MP_EINVAL, "mp_active_children: NULL argument");
    size_t alive = 0;
    mp_os_global_lock();
    for (mp_process *p = head; p; p = p->next) {
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

void mp_children_finish(void)
{
    mp_os_global_lock();
    mp_process *list = head;
    mp_os_global_unlock();
    for (mp_process *p = list; p; p = p->next)
        if (p->daemon && p->parent_pid == mp_os_getpid() && mp_process_is_alive(p) == 1)
            mp_process_terminate(p);
    for (mp_process *p = list; p; p = p->next)
        if (p->parent_pid == mp_os_getpid())
            mp_process_join(p, MP_FOREVER);
}
