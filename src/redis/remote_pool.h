/* remote_pool.h - what the two sides of a pool on Redis share (pool.h, "A
 * pool on Redis"): the callers (src/pool/pool_remote*.c) and the workers
 * (worker_serve.c, worker_lease.c). docs/redis.md has the key layout:
 *
 *   <p>tasks           list: task envelopes, pushed at the left, taken at
 *                      the right into <p>taken:<worker>
 *   <p>taken:<worker>  list: the envelopes a worker holds
 *   <p>alive:<worker>  a worker's presence (PX lease), <p>workers the set
 *   <p>deliveries      hash: task id -> how many workers it has killed
 *   <p>dead            list: envelopes that killed max_deliveries workers,
 *                      waiting for a worker to tell their callers
 *   <p>caller:<id>     a caller's presence (PX lease)
 *   <p>reply:<id>:<n>  list: the results for slot n of caller id (EXPIRE
 *                      result_ttl)
 *   <p>stop            a counter mp_worker_stop increments
 * with <p> = "mproc:p:{name}:".
 *
 * A task envelope is [id, caller, reply key, message], message being the
 * pool's task message (pool_message.h) as bytes; a reply envelope is [id,
 * host, pid, died, reply], reply the pool's reply message as bytes. */
#ifndef MPROC_REDIS_REMOTE_POOL_H
#define MPROC_REDIS_REMOTE_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/pool.h"
#include "redis/redis_client.h"

/* Settings with the defaults filled in (opts may be NULL). MP_EINVAL for
 * a negative one. */
int mp_backend_settle(const mp_backend_options *opts, mp_backend_options *out, const char *what);

/* Open a connection for backend, whose path is the pool's name, and make
 * the key prefix (malloc'd, into *prefix). */
int mp_backend_open(const char *backend, const mp_backend_options *o, mp_redis **out, char **prefix,
                    const char *what);

/* prefix + suffix, malloc'd; NULL when out of memory. */
char *mp_backend_key(const char *prefix, const char *suffix);

/* A random id of 32 hex digits and its NUL. */
int mp_backend_id(char id[33]);

/* Parse a task envelope (pointers into v). */
typedef struct mp_task_envelope {
    const char *id, *caller, *reply_key;
    const void *message;
    size_t message_len;
} mp_task_envelope;
int mp_task_envelope_read(const mp_value *v, mp_task_envelope *e);

/* A reply envelope. */
typedef struct mp_reply_envelope {
    const char *id, *host;
    long pid;
    bool died;
    const void *reply;
    size_t reply_len;
} mp_reply_envelope;
int mp_reply_envelope_write(mp_buf *out, const mp_reply_envelope *e);
int mp_reply_envelope_read(const mp_value *v, mp_reply_envelope *e);

#endif
