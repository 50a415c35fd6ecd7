/* pool_queue.c - the pool's queue of chunks waiting for a slot, and
 * submitting to it. */
#include "pool/pool_internal.h"

pool_chunk *mp_pool_pop_locked(mp_pool *p)
{
    pool_chunk *c = p->head;
    if (c) {
        p->head = c->next;
        if (p->head == NULL)
            p->tail = NULL;
        c->next = NULL;
        p->queued--;
    }
    return c;
}

void mp_pool_push_front_locked(mp_pool *p, pool_chunk *first, pool_chunk *last, size_t n)
{
    if (first == NULL)
        return;
    last->next = p->head;
    p->head = first;
    if (p->tail == NULL)
        p->tail = last;
    p->queued += n;
}

pool_chunk *mp_pool_take_all_locked(mp_pool *p)
{
    pool_chunk *all = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    return all;
}

int mp_pool_submit(mp_pool *p, pool_chunk *first, pool_chunk *last, size_t n)
{
    mp_os_mutex_lock(p->lock);
    if (p->state != RUNNING) {
        int state = p->state;
        mp_os_mutex_unlock(p->lock);
        mp_pool_fail_chunks(first, state == BROKEN ? p->broken_code : MP_ESTATE, "the pool is not running");
        return MP_OK;
    }
    if (p->tail)
        p->tail->next = first;
    else
        p->head = first;
    p->tail = last;
    p->queued += n;
    mp_pool_hand_to_idle_locked(p);
    if (p->head)
        mp_pool_wake_all_locked(p);
    mp_os_mutex_unlock(p->lock);
    return MP_OK;
}
