/* pool_handoff.c - the direct hand-off: the submitting thread writes a
 * small chunk to an idle worker itself, so that the worker starts on it at
 * once rather than after its slot thread wakes. That takes one thread
 * wake-up off an apply_async round trip, and the slot thread's wake-up
 * overlaps the task. */
#include "pool/pool_internal.h"

/* An idle slot thread is in its condition wait, so while we hold the lock
 * nothing else writes to its pipe; its pipe is empty, and only chunks too
 * small to block the write go this way. A chunk whose send fails stays
 * queued for the slot thread, which finds its worker dead. A waited_only
 * call wakes no slot thread at all: the thread that waits for it reads the
 * reply (pool_caller_reads.c), and any later wake-up of the slot (more
 * work, close, terminate) has the slot thread read it instead. */
void mp_pool_hand_to_idle_locked(mp_pool *p)
{
    if (p->threads || p->programs || p->remote)
        return;
    mp_buf msg = MP_BUF_INIT;
    for (size_t i = 0; i < p->nslots && p->head && p->head->len <= POOL_PIPE_BYTES; i++) {
        pool_slot *s = &p->slots[i];
        if (!s->idle || s->worker == NULL || !mp_pool_slot_can_take_locked(s))
            continue;
        mp_buf_clear(&msg);
        if (mp_pool_chunk_message(p->head, &msg) != MP_OK || mp_conn_send_bytes(s->conn, msg.data, msg.len) != MP_OK)
            break;
        pool_chunk *c = mp_pool_pop_locked(p);
        mp_pool_slot_push(s, c);
        s->busy_since = mp_os_monotonic();
        s->idle = false;
        s->handed = c;
        if (!(p->maxtasks == 0 && s->ready && c->task->waited_only))
            mp_os_cond_signal(s->wake);
    }
    mp_buf_free(&msg);
}
