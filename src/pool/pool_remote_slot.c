/* pool_remote_slot.c - a slot of a pool on Redis: it queues its chunk's
 * task message in Redis for the workers, then waits on its own reply list
 * for the result, taking only the one that answers this chunk (a chunk
 * delivered twice may be answered twice), in short waits so that it sees
 * the pool terminated. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "pool/pool_internal.h"

/* The longest one wait for a result lasts. */
#define WAIT_SLICE 0.5

static void fail(pool_chunk *c, int code, const char *message, long pid)
{
    mp_remote_error err = {code, message, c->task->name, pid, 0};
    c->task->failed(c, code, &err);
}

/* The slot's connection and reply key, made on its first chunk. */
static int prepare(pool_slot *s)
{
    pool_remote *r = s->pool->remote;
    if (s->reply_key == NULL) {
        char suffix[80];
        snprintf(suffix, sizeof suffix, "reply:%s:%zu", r->id, (size_t)(s - s->pool->slots));
        if ((s->reply_key = mp_backend_key(r->prefix, suffix)) == NULL)
            return mp_fail(MP_ENOMEM, "a pool on Redis: out of memory");
    }
    if (s->redis != NULL)
        return MP_OK;
    mp_redis_options ro = {.connect_timeout = r->o.timeout, .command_timeout = r->o.timeout};
    return mp_redis_open(&s->redis, r->backend, &ro);
}

/* Queue chunk c as task id. */
static int send_task(pool_slot *s, const pool_chunk *c, const char *id)
{
    pool_remote *r = s->pool->remote;
    mp_buf_clear(&s->out);
    mp_buf_clear(&s->reply);
    int rc = mp_pool_chunk_message(c, &s->out);
    if (rc == MP_OK)
        rc = mp_pack(&s->reply, "[s s s y#]", id, r->id, s->reply_key, s->out.data, s->out.len);
    if (rc != MP_OK)
        return rc;
    /* The presence goes with the task: after a Redis restart lost it, a
     * worker would otherwise drop the task as a gone caller's until the
     * next renewal. */
    mp_resp_arg presence[5];
    mp_redis_cmd cmds[2];
    mp_pool_remote_presence(r, presence, &cmds[0]);
    mp_resp_arg push[] = {mp_resp_text("LPUSH"), mp_resp_text(r->k_tasks), {s->reply.data, s->reply.len}};
    cmds[1] = (mp_redis_cmd){3, push};
    rc = mp_redis_run(s->redis, 2, cmds, r->o.timeout);
    /* The slot's connection may have sat idle while Redis restarted: its
     * first call fails, and goes once more on a connection made anew. */
    if (rc == MP_ECONNRESET)
        rc = mp_redis_run(s->redis, 2, cmds, r->o.timeout);
    return rc;
}

/* End c as the reply envelope e says. */
static void settle(pool_chunk *c, const mp_reply_envelope *e)
{
    char message[MP_ERROR_MESSAGE_SIZE];
    if (e->died) {
        pool_reply r;
        mp_pool_reply_read(&r, e->reply, e->reply_len);
        snprintf(message, sizeof message, "%s", r.kind == POOL_FAILED ? r.message : "its workers died");
        mp_pool_reply_release(&r);
        mp_remote_error err = {MP_EWORKERDIED, message, c->task->name, e->pid, 0};
        c->task->failed(c, MP_EWORKERDIED, &err);
        return;
    }
    pool_reply r;
    mp_pool_reply_read(&r, e->reply, e->reply_len);
    if (r.kind == POOL_FAILED) {
        snprintf(message, sizeof message, "%s (on host %s, worker %ld)", r.message, e->host, e->pid);
        r.message = message;
    }
    mp_pool_chunk_replied(c, &r, NULL, MP_EPROTO, r.message, e->pid);
    mp_pool_reply_release(&r);
}

/* Wait for the reply to task id. MP_OK once c has ended; else the error
 * that ends it. */
static int await_reply(pool_slot *s, pool_chunk *c, const char *id)
{
    mp_pool *p = s->pool;
    char secs[16];
    snprintf(secs, sizeof secs, "%.3f", WAIT_SLICE);
    mp_resp_arg pop[] = {mp_resp_text("BLPOP"), mp_resp_text(s->reply_key), mp_resp_text(secs)};
    for (;;) {
        mp_os_mutex_lock(p->lock);
        int state = p->state;
        mp_os_mutex_unlock(p->lock);
        if (state == TERMINATED || state == BROKEN) {
            mp_pool_fail_stopped(p, state, c);
            return MP_OK;
        }
        mp_resp_reply *reply;
        int rc = mp_redis_call_within(s->redis, p->remote->o.timeout + WAIT_SLICE, 3, pop, &reply);
        if (rc != MP_OK)
            return rc;
        if (reply->type != MP_RESP_ARRAY || reply->len != 2) {
            mp_resp_free(reply);
            continue; /* nothing yet */
        }
        mp_value *v = NULL;
        mp_reply_envelope e;
        const mp_resp_reply *b = &reply->items[1];
        rc = mp_decode(b->str, b->len, NULL, &v);
        mp_resp_free(reply);
        if (rc == MP_OK)
            rc = mp_reply_envelope_read(v, &e);
        bool ours = rc == MP_OK && strcmp(e.id, id) == 0;
        if (ours)
            settle(c, &e);
        mp_value_free(v);
        if (ours)
            return MP_OK;
        /* an answer to an earlier chunk of this slot, delivered twice */
    }
}

void mp_pool_remote_run(pool_slot *s)
{
    mp_pool *p = s->pool;
    pool_chunk *c = mp_pool_slot_shift(s);
    char id[80];
    mp_os_mutex_lock(p->lock);
    uint64_t n = ++p->remote->issued;
    mp_os_mutex_unlock(p->lock);
    snprintf(id, sizeof id, "%s:%" PRIu64, p->remote->id, n);
    int rc = prepare(s);
    if (rc == MP_OK)
        rc = send_task(s, c, id);
    if (rc == MP_OK)
        rc = await_reply(s, c, id);
    if (rc != MP_OK) {
        char message[MP_ERROR_MESSAGE_SIZE];
        snprintf(message, sizeof message, "the pool's Redis: %s", mp_last_error());
        fail(c, rc, message, 0);
    }
}
