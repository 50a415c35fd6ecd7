/* pool_thread_slot.c - a ThreadPool's slot: no worker process, the slot's
 * thread runs the initializer once and then each chunk itself, through the
 * same task messages a worker would read. */
#include "pool/pool_internal.h"

int mp_pool_thread_slot_begin(pool_slot *s)
{
    mp_pool *p = s->pool;
    int rc = mp_pool_run_initializer(p->initializer, p->initargs, p->initargs_len);
    if (rc != MP_OK)
        mp_pool_break(p, MP_EINITIALIZER, "the initializer failed in a ThreadPool thread: %s", mp_last_error());
    return rc;
}

void mp_pool_thread_slot_run(pool_slot *s)
{
    pool_chunk *c = mp_pool_slot_shift(s);
    bool exit = false;
    mp_buf_clear(&s->out);
    mp_buf_clear(&s->reply);
    int rc = mp_pool_chunk_message(c, &s->out);
    if (rc == MP_OK)
        rc = mp_pool_execute(s->out.data, s->out.len, c->task->direct, &s->scratch, &s->reply, &exit);
    pool_reply r = {.kind = -1};
    if (rc == MP_OK)
        mp_pool_reply_read(&r, s->reply.data, s->reply.len);
    mp_pool_chunk_replied(c, &r, NULL, rc, mp_last_error(), 0);
    mp_pool_reply_release(&r);
}
