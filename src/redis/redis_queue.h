/* redis_queue.h - what the files of a Queue on Redis share
 * (mproc/queue.h's mp_queue_open; docs/redis.md has the key layout).
 *
 * A handle keeps a few idle connections for its calls (one connection
 * serves one thread at a time), and a joinable handle has a lease thread
 * that renews its leases and gives back those of getters that died
 * (redis_lease.c). */
#ifndef MPROC_REDIS_QUEUE_H
#define MPROC_REDIS_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/queue.h"
#include "mproc/thread.h"
#include "object/object.h"
#include "platform.h"
#include "redis/redis_client.h"

/* Idle connections a handle keeps for later calls. */
#define MP_RQ_IDLE_CONNS 4

typedef struct mp_rqueue {
    mp_object hdr;
    char *address;
    mp_queue_open_options opts;
    mp_redis_options ropts;
    bool closed;
    /* keys: mproc:q:{name}:items and the like; the {name} hash tag keeps
     * one queue's keys in one slot of a Redis Cluster */
    char *prefix;
    char *k_items, *k_mode, *k_unfinished, *k_getters, *k_taken, *k_alive;
    char id[33]; /* this handle's, for its leases */
    mp_os_mutex *lock;
    mp_redis *idle[MP_RQ_IDLE_CONNS];
    size_t nidle;
    /* joinable: the lease thread */
    mp_thread *lease_thread;
    mp_os_cond *wake;
    bool stopping;
} mp_rqueue;

/* A connection for one call (*was_idle: one kept from an earlier call),
 * and back when done (redis_queue.c). */
int mp_rq_conn(mp_rqueue *q, mp_redis **out, bool *was_idle);
void mp_rq_release(mp_rqueue *q, mp_redis *c);

/* One command on a connection of q's, in its timeout plus extra seconds
 * (a blocking command's block time). *reply as mp_redis_call's. */
int mp_rq_call(mp_rqueue *q, double extra, size_t argc, const mp_resp_arg *argv, mp_resp_reply **reply);

/* The lease thread (redis_lease.c): start it (its first renewal done
 * before it returns), and stop it and give this handle's leased items
 * back to the queue. */
int mp_rq_lease_start(mp_rqueue *q);
void mp_rq_lease_stop(mp_rqueue *q);

/* The mp_queue_* calls on a Queue on Redis (redis_queue_ops.c). */
extern const struct mp_queue_backing mp_rqueue_backing;

/* The Lua scripts (redis_scripts.c). */
extern const char mp_rq_script_put[], mp_rq_script_task_done[], mp_rq_script_reclaim[],
    mp_rq_script_give_back[];

#endif
