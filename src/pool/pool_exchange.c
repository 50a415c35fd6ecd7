/* pool_exchange.c - a slot's round with its worker: send the chunks just
 * taken, wait for the pipe or the worker's end, then read every reply that
 * has come, in bulk, each ending the chunk it answers. */
#include <stdlib.h>

#include "ipc/conn_internal.h"
#include "pool/pool_internal.h"

/* If the chunk the next reply answers does not keep it, the reader's
 * buffer is where it is best read. */
bool mp_pool_slot_keeps_reply(const pool_slot *s)
{
    return s->ready && s->first != NULL && s->first->task->keeps_replies;
}

void mp_pool_slot_sentinels(const pool_slot *s, mp_sentinel objects[WAIT_OBJECTS])
{
    mp_conn_fileno(s->conn, &objects[WAIT_PIPE]);
    mp_process_sentinel(s->worker, &objects[WAIT_WORKER]);
}

bool mp_pool_on_reply(pool_slot *s, mp_message *m)
{
    bool answered = false;
    pool_reply r;
    mp_pool_reply_read(&r, m->data, m->len);
    if (!s->ready) {
        mp_pool_on_first_reply(s, &r);
    } else if (s->ninflight > 0) {
        pool_chunk *c = mp_pool_slot_shift(s);
        s->tasks_done++;
        answered = true;
        mp_pool_chunk_replied(c, &r, m->owned, MP_EPROTO, r.message, mp_process_pid(s->worker));
        if (r.kind == POOL_DONE)
            m->owned = NULL;
    }
    mp_pool_reply_release(&r);
    free(m->owned);
    m->owned = NULL;
    return answered;
}

void mp_pool_exchange(pool_slot *s, const pool_chunk *fresh)
{
    mp_pool_send_chunks(s, fresh);
    bool readable = mp_conn_reader_has_message(&s->reader), ended = false;
    if (!readable) {
        mp_sentinel objects[WAIT_OBJECTS];
        bool ready[WAIT_OBJECTS] = {false, false};
        mp_pool_slot_sentinels(s, objects);
        if (mp_wait(objects, WAIT_OBJECTS, MP_FOREVER, ready) < 0)
            ready[WAIT_WORKER] = true;
        readable = ready[WAIT_PIPE];
        ended = ready[WAIT_WORKER];
    }
    /* Once the worker has ended, what it wrote before that is still to be
     * read: read on until nothing is left. */
    size_t replies = 0;
    while (readable || (ended && mp_os_pipe_poll(mp_conn_handle(s->conn), 0) == MP_OK)) {
        mp_message m;
        if (mp_conn_reader_next(&s->reader, mp_pool_slot_keeps_reply(s), &m) != MP_OK) {
            ended = true;
            break;
        }
        replies += mp_pool_on_reply(s, &m);
        readable = mp_conn_reader_has_message(&s->reader);
    }
    if (replies > 0)
        mp_pool_note_service(s, replies);
    if (ended)
        mp_pool_on_worker_death(s);
}
