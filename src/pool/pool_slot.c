/* pool_slot.c - a slot's thread: the loop that waits for work or a change
 * of the pool's state, takes chunks from the queue, has them run, and at
 * the end fails what its worker still held and lets the worker go; and
 * the list of the chunks its worker holds. */
#include "pool/pool_internal.h"

void mp_pool_slot_push(pool_slot *s, pool_chunk *c)
{
    c->next = NULL;
    if (s->last)
        s->last->next = c;
    else
        s->first = c;
    s->last = c;
    s->ninflight++;
    s->inflight_bytes += c->len;
}

pool_chunk *mp_pool_slot_shift(pool_slot *s)
{
    pool_chunk *c = s->first;
    s->first = c->next;
    if (s->first == NULL)
        s->last = NULL;
    c->next = NULL;
    s->ninflight--;
    s->inflight_bytes -= c->len;
    return c;
}

/* Take every chunk the slot may have now; the first of them, or NULL. */
static pool_chunk *take_locked(pool_slot *s)
{
    pool_chunk *fresh = NULL;
    while (mp_pool_slot_can_take_locked(s)) {
        pool_chunk *c = mp_pool_pop_locked(s->pool);
        mp_pool_slot_push(s, c);
        if (fresh == NULL)
            fresh = c;
    }
    return fresh;
}

/* Send what was taken (from fresh on) to the worker and take its replies. */
static void run_on_worker(pool_slot *s, const pool_chunk *fresh, bool was_idle)
{
    const mp_pool *p = s->pool;
    if (was_idle)
        s->busy_since = mp_os_monotonic();
    mp_pool_exchange(s, fresh);
    if (s->worker && p->maxtasks > 0 && s->tasks_done >= p->maxtasks && s->ninflight == 0)
        mp_pool_reap_worker(s, false); /* it exits by itself after its last task */
}

static void slot_end(pool_slot *s, int state)
{
    pool_chunk *held = s->first;
    s->first = s->last = NULL;
    s->ninflight = 0;
    s->inflight_bytes = 0;
    mp_pool_fail_stopped(s->pool, state, held);
    if (state == CLOSED)
        mp_pool_retire_worker(s);
    else
        mp_pool_reap_worker(s, true);
}

int mp_pool_slot_main(void *arg)
{
    pool_slot *s = arg;
    mp_pool *p = s->pool;
    if (p->threads && mp_pool_thread_slot_begin(s) != MP_OK)
        return 0;
    mp_os_mutex_lock(p->lock);
    for (;;) {
        if (s->caller_reads) {
            mp_os_cond_wait(s->wake, p->lock, MP_FOREVER);
            continue;
        }
        if (p->state == TERMINATED || p->state == BROKEN)
            break;
        if (s->ninflight == 0 && p->head == NULL) {
            if (p->state == CLOSED)
                break;
            /* A program is started, and awaited, before any task comes:
             * its start-up may be long. */
            if (p->programs && mp_pool_tend_worker_locked(s))
                continue;
            s->idle = true;
            mp_os_cond_wait(s->wake, p->lock, MP_FOREVER);
            s->idle = false;
            continue;
        }
        if (!p->threads && mp_pool_tend_worker_locked(s))
            continue;
        s->handed = NULL;
        bool was_idle = s->ninflight == 0;
        pool_chunk *fresh = take_locked(s);
        mp_os_mutex_unlock(p->lock);
        if (p->threads)
            mp_pool_thread_slot_run(s);
        else if (p->programs)
            mp_pool_program_run(s);
        else if (p->remote)
            mp_pool_remote_run(s);
        else
            run_on_worker(s, fresh, was_idle);
        mp_os_mutex_lock(p->lock);
    }
    int state = p->state;
    mp_os_mutex_unlock(p->lock);
    slot_end(s, state);
    return 0;
}
