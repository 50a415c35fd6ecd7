/* worker_serve.h - what the files of mp_worker_serve share: the serving
 * process's state (worker_serve.c runs its fetchers, worker_lease.c its
 * lease thread). remote_pool.h has the keys. */
#ifndef MPROC_REDIS_WORKER_SERVE_H
#define MPROC_REDIS_WORKER_SERVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mproc/pool.h"
#include "mproc/thread.h"
#include "platform.h"
#include "redis/remote_pool.h"

typedef struct serve {
    char *backend;
    mp_backend_options o;
    char *prefix;
    char *k_tasks, *k_taken, *k_alive, *k_workers, *k_deliveries, *k_dead, *k_stop;
    char id[33];
    char host[256];
    mp_pool *local;
    atomic_bool stopping;
    int64_t stop_seen; /* <p>stop when serving began, */
    bool stop_known;   /* once read */
    int failure;       /* why it stopped early (the local pool broke), or MP_OK */
    mp_os_mutex *lock;
    mp_os_cond *wake;
    mp_thread *lease_thread;
} serve;

/* A task's caller, as its presence says. */
typedef struct mp_serve_caller_seen {
    bool present;     /* still there */
    long long ttl_ms; /* how long its results are to live (its result_ttl,
                       * which its presence holds; this worker's own once
                       * the presence has lapsed) */
    double lives;     /* seconds the presence lives for sure (0: unknown) */
} mp_serve_caller_seen;
int mp_serve_caller(serve *sv, mp_redis *c, const char *caller, mp_serve_caller_seen *seen);

/* Tell the caller of the task in env (an envelope as it lay in Redis)
 * that it failed with code and message, and forget the task. */
int mp_serve_fail_task(serve *sv, mp_redis *c, const void *env, size_t env_len, bool died, int code,
                       const char *message, long pid);

/* The lease thread (worker_lease.c): renew this worker's presence, take
 * back the tasks of dead workers, tell the callers of those that killed
 * too many, and notice mp_worker_stop. start does the first round before
 * it returns. */
int mp_serve_lease_start(serve *sv);
void mp_serve_lease_stop(serve *sv);

#endif
