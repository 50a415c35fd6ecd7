/* pool_chunk.c - what the scheduler's files do with a chunk through its
 * task (pool_chunk.h) in more than one place: write its whole message, end
 * it as a reply says, fail a list of them. */
#include "pool/pool_internal.h"

int mp_pool_chunk_message(const pool_chunk *c, mp_buf *msg)
{
    int rc = c->task->header(c, msg);
    return rc == MP_OK ? mp_buf_append(msg, c->data, c->len) : rc;
}

void mp_pool_chunk_replied(pool_chunk *c, const pool_reply *r, void *owned, int code, const char *message,
                           long pid)
{
    if (r->kind == POOL_DONE) {
        c->task->done(c, r->count, r->payload, r->payload_len, owned);
        return;
    }
    if (r->kind == POOL_FAILED) {
        code = r->code;
        message = r->message;
    }
    mp_remote_error err = {code, message, c->task->name, pid, 0};
    c->task->failed(c, MP_EREMOTE, &err);
}

void mp_pool_fail_chunks(pool_chunk *c, int ret, const char *message)
{
    while (c) {
        pool_chunk *next = c->next;
        mp_remote_error err = {ret, message, c->task->name, 0, 0};
        c->task->failed(c, ret, &err);
        c = next;
    }
}
