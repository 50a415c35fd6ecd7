/* pool_caller_reads.c - the caller's side of a hand-off (pool_handoff.c):
 * the thread that waits for a waited_only chunk waits on the worker's pipe
 * itself, so the reply wakes it directly, with no slot thread in between. */
#include "pool/pool_internal.h"

/* Only for workers past their initializer and without maxtasksperchild,
 * whose replies are one per task. The slot thread keeps off the slot
 * meanwhile; afterwards it is idle again, or woken to go on. If the worker
 * ends or the time runs out, the slot thread takes over. */
void mp_pool_read_reply(mp_pool *p, pool_chunk *c, double timeout)
{
    if (p->threads || p->programs || p->remote || p->maxtasks > 0)
        return;
    mp_os_mutex_lock(p->lock);
    pool_slot *s = NULL;
    for (size_t i = 0; i < p->nslots && s == NULL; i++)
        if (p->slots[i].handed == c)
            s = &p->slots[i];
    bool ours = s && s->ready && p->state != TERMINATED && p->state != BROKEN;
    if (ours) {
        s->handed = NULL;
        s->caller_reads = true;
    }
    mp_os_mutex_unlock(p->lock);
    if (!ours)
        return;
    mp_sentinel objects[WAIT_OBJECTS];
    bool ready[WAIT_OBJECTS] = {[WAIT_PIPE] = mp_conn_reader_has_message(&s->reader)};
    mp_pool_slot_sentinels(s, objects);
    if (ready[WAIT_PIPE] || (mp_wait(objects, WAIT_OBJECTS, timeout, ready) > 0 && ready[WAIT_PIPE])) {
        mp_message m;
        if (mp_conn_reader_next(&s->reader, mp_pool_slot_keeps_reply(s), &m) == MP_OK)
            mp_pool_on_reply(s, &m);
    }
    mp_os_mutex_lock(p->lock);
    s->caller_reads = false;
    if (s->ninflight == 0 && p->head == NULL && p->state == RUNNING)
        s->idle = true; /* its thread is, or is about to be, waiting for work */
    else
        mp_os_cond_signal(s->wake);
    mp_os_mutex_unlock(p->lock);
}
