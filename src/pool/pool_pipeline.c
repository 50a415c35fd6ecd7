/* pool_pipeline.c - how many chunks a worker holds at once. A worker is
 * sent more chunks while it runs one (so that it never waits for the pool
 * between them, and the pool answers many replies per wake-up) only when
 * every slot has work anyway; only while the chunks waiting in its pipe
 * stay within POOL_PIPE_BYTES; and only as many as it runs in about
 * PIPELINE_SECONDS, so that no chunk waits long behind others at one
 * worker while another worker has none. */
#include "pool/pool_internal.h"

#define MAX_DEPTH 64
#define PIPELINE_SECONDS 1e-3

/* A new timing moves the service time 1/SERVICE_SMOOTHING of the way
 * towards it, so that one slow chunk does not upset the depth. */
#define SERVICE_SMOOTHING 8

void mp_pool_note_service(pool_slot *s, size_t replies)
{
    double now = mp_os_monotonic();
    double each = (now - s->busy_since) / (double)replies;
    s->service = s->service == 0 ? each : s->service + (each - s->service) / SERVICE_SMOOTHING;
    s->busy_since = now;
}

/* How many chunks the worker may hold: one until its chunks have been
 * timed, then as many as it runs in PIPELINE_SECONDS. */
static size_t depth(const pool_slot *s)
{
    if (s->service == 0)
        return 1;
    double n = PIPELINE_SECONDS / s->service;
    return n >= MAX_DEPTH ? MAX_DEPTH : n <= 1 ? 1 : (size_t)n;
}

bool mp_pool_slot_can_take_locked(const pool_slot *s)
{
    const mp_pool *p = s->pool;
    if (p->head == NULL)
        return false;
    if (p->maxtasks > 0 && s->tasks_done + (int)s->ninflight >= p->maxtasks)
        return false;
    if (s->ninflight == 0)
        return true;
    return !p->threads && !p->programs && !p->remote && s->ninflight < depth(s) && p->queued >= p->nslots &&
           s->inflight_bytes + p->head->len <= POOL_PIPE_BYTES;
}
