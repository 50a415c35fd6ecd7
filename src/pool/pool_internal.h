/* pool_internal.h - the scheduler's own state and what its files share.
 *
 * A pool is a queue of chunks (pool_chunk.h) and one slot per worker. A
 * slot is one thread of the pool; in a Pool it tends one worker process
 * over a private pipe, so it always knows which chunks its worker holds.
 * The worker runs them in order, so when it dies the first chunk it held
 * is the one that killed it (that one fails) and the rest had not started
 * (they go back to the queue). A slot replaces its worker after a death or
 * after maxtasksperchild chunks. In a ThreadPool the slot runs the chunk
 * itself. In a program pool (mproc/program_pool.h) the slot tends one
 * external program instead of a worker process and has it answer one
 * chunk at a time (pool_program_slot.c). In a pool on Redis (pool.h) a
 * slot has no worker: it queues one chunk at a time in Redis for workers
 * elsewhere and waits for its result (pool_remote_slot.c).
 *
 * The scheduler is every file that includes this header. It reaches a job
 * only through the task its chunks carry (pool_chunk.h); the job's files
 * (pool_job.h) include pool_chunk.h, never this one, and no file of the
 * scheduler includes pool_job.h. */
#ifndef MPROC_POOL_INTERNAL_H
#define MPROC_POOL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error_internal.h"
#include "ipc/conn_reader.h"
#include "mproc/conn.h"
#include "mproc/thread.h"
#include "platform.h"
#include "pool/pool_chunk.h"
#include "pool/pool_exec.h"
#include "pool/pool_reply.h"
#include "redis/remote_pool.h"
#include "subprocess/program.h"

/* The chunks waiting in a worker's pipe stay this small, so that a send
 * never blocks on a worker that is itself blocked sending its reply. */
#define POOL_PIPE_BYTES ((size_t)16 << 10)

enum { RUNNING, CLOSED, TERMINATED, BROKEN };

typedef struct pool_slot {
    mp_pool *pool;
    mp_thread *thread;
    mp_process *worker; /* written under the pool's lock */
    mp_program *program; /* a program pool's, instead; written under the lock */
    mp_redis *redis;     /* a pool on Redis's: this slot's connection, */
    char *reply_key;     /* and where its chunks' results come */
    mp_conn *conn;
    bool ready;
    bool proven; /* its program has printed its ready line or answered */
    bool idle; /* in the condition wait with nothing in flight */
    pool_chunk *handed; /* sent by a submitting thread; nobody reads its reply yet */
    bool caller_reads;  /* a thread waiting for that chunk reads the pipe */
    mp_os_cond *wake; /* its thread waits here for work or a change of state */
    int tasks_done;
    /* the chunks its worker holds, in the order it runs them */
    pool_chunk *first, *last;
    size_t ninflight, inflight_bytes;
    double service;    /* seconds its worker spends on a chunk lately; 0: unknown */
    double busy_since; /* since when its worker owes the pool a reply */
    mp_conn_reader reader;
    mp_buf out; /* task messages on their way */
    /* a ThreadPool's: what its tasks need from one to the next */
    pool_scratch scratch;
    mp_buf reply;
} pool_slot;

/* A program pool's options, copied, and its count of failed starts. */
typedef struct pool_programs {
    mp_program_spec spec;
    char **argv, **env;
    char *cwd, *ready_line;
    double start_timeout, task_timeout, quit_grace;
    unsigned char *quit;
    size_t quit_len;
    int max_failures;
    int failures; /* in a row, under the pool's lock */
} pool_programs;

/* A pool on Redis's caller side (pool_remote.c). */
typedef struct pool_remote {
    char *backend;
    mp_backend_options o;
    char *prefix, *k_tasks, *k_caller;
    char id[33];     /* this caller's */
    /* The presence's SET (mp_pool_remote_presence), its strings made once */
    char lease_ms[24], ttl_ms[24];
    uint64_t issued; /* task ids, under the pool's lock */
    mp_thread *presence;
    mp_os_mutex *lock;
    mp_os_cond *wake;
    bool stopping;
} pool_remote;

/* The SET that says r's caller is here for another lease, into cmd (args
 * of 5). */
void mp_pool_remote_presence(const pool_remote *r, mp_resp_arg args[5], mp_redis_cmd *cmd);

struct mp_pool {
    mp_os_mutex *lock;
    bool threads;
    pool_programs *programs; /* NULL unless a program pool */
    pool_remote *remote;     /* NULL unless a pool on Redis */
    int state;
    bool joined;
    int broken_code;
    char broken_message[MP_ERROR_MESSAGE_SIZE];
    pool_chunk *head, *tail;
    size_t queued;
    pool_slot *slots;
    size_t nslots;
    /* the options */
    mp_target_fn initializer;
    const char *initializer_name;
    unsigned char *initargs;
    size_t initargs_len;
    int maxtasks;
    const mp_context *context;
};

/* ---- the pool's states (pool.c) ----------------------------------------- */

/* Make a pool of worker processes, of threads, of programs (programs not
 * NULL) or on Redis (remote not NULL); it owns programs and remote, also
 * on failure. */
int mp_pool_create(mp_pool **out, const mp_pool_options *opts, bool threads, pool_programs *programs,
                   pool_remote *remote, const char *what);

void mp_pool_wake_all_locked(mp_pool *p);
/* Break the pool: every queued and later call fails with code. Called with
 * the lock held; returns the chunks to fail once it is released. */
pool_chunk *mp_pool_break_locked(mp_pool *p, int code, const char *message);
/* The same from outside the lock, failing those chunks too; the message is
 * printf's. */
void mp_pool_break(mp_pool *p, int code, const char *fmt, ...) MP_PRINTF_(3, 4);
/* Fail a list of chunks with why the pool, seen in state, stopped: its
 * break if it is BROKEN, else its termination. */
void mp_pool_fail_stopped(mp_pool *p, int state, pool_chunk *list);

/* ---- the queue (pool_queue.c) ------------------------------------------- */

pool_chunk *mp_pool_pop_locked(mp_pool *p);
/* Put a list of n chunks back at the front, in order. */
void mp_pool_push_front_locked(mp_pool *p, pool_chunk *first, pool_chunk *last, size_t n);
pool_chunk *mp_pool_take_all_locked(mp_pool *p);

/* ---- a chunk's message and end, through its task (pool_chunk.c) --------- */

/* Append c's whole task message: the task's header, then c's bytes. */
int mp_pool_chunk_message(const pool_chunk *c, mp_buf *msg);
/* End c as its reply r says: with its values (owned as in pool_task's
 * done; the caller keeps it if r is no POOL_DONE), or with the task's
 * error. A reply that is neither fails with code and message. pid: the
 * worker's, 0 for a ThreadPool. */
void mp_pool_chunk_replied(pool_chunk *c, const pool_reply *r, void *owned, int code, const char *message,
                           long pid);
/* Fail each chunk of a list with ret and message. */
void mp_pool_fail_chunks(pool_chunk *list, int ret, const char *message);

/* ---- a slot: its loop and what its worker holds (pool_slot.c) ------------ */

int mp_pool_slot_main(void *slot);
void mp_pool_slot_push(pool_slot *s, pool_chunk *c);
pool_chunk *mp_pool_slot_shift(pool_slot *s);

/* ---- pipelining: how much a slot takes (pool_pipeline.c) ----------------- */

/* Whether slot s takes the chunk at the head of the queue now. Called with
 * the lock held. */
bool mp_pool_slot_can_take_locked(const pool_slot *s);
/* replies came in: how long the worker took for each. */
void mp_pool_note_service(pool_slot *s, size_t replies);

/* ---- talking to a worker ------------------------------------------------- */

/* Send the chunks from c on, the small ones several to a write
 * (pool_send.c). */
void mp_pool_send_chunks(pool_slot *s, const pool_chunk *c);
/* Send the chunks just taken (from fresh on); then wait for replies or the
 * worker's end, and take every reply that has come (pool_exchange.c). */
void mp_pool_exchange(pool_slot *s, const pool_chunk *fresh);
/* What a slot waits on, by position: its worker's pipe and the worker's
 * end (mp_wait's sentinels, pool_exchange.c). */
enum { WAIT_PIPE, WAIT_WORKER, WAIT_OBJECTS };
void mp_pool_slot_sentinels(const pool_slot *s, mp_sentinel objects[WAIT_OBJECTS]);
/* Whether the chunk the next reply answers keeps it (pool_exchange.c). */
bool mp_pool_slot_keeps_reply(const pool_slot *s);
/* One reply from the worker; the job takes over m's allocation, if any.
 * Whether it answered a chunk (pool_exchange.c). */
bool mp_pool_on_reply(pool_slot *s, mp_message *m);

/* ---- a worker's life (pool_lifecycle.c) ---------------------------------- */

/* These serve a program pool too, through the program slot's calls
 * below. */
/* Kill every worker now (break, terminate). Called with the lock held. */
void mp_pool_kill_workers_locked(mp_pool *p);

int mp_pool_start_worker(pool_slot *s);
/* Reap the worker (it has exited or is about to) and forget it; its exit
 * code. */
int mp_pool_reap_worker(pool_slot *s, bool kill);
/* Ask an idle worker to exit and reap it. */
void mp_pool_retire_worker(pool_slot *s);
/* Called with the lock held before the slot takes work: start a worker if
 * the slot has none, reap one that died while idle. Whether it did either
 * (it released the lock meanwhile, so the slot looks at its state again). */
bool mp_pool_tend_worker_locked(pool_slot *s);
/* The first reply of a new worker, r: ready, or the initializer failed. */
void mp_pool_on_first_reply(pool_slot *s, const pool_reply *r);
/* The worker died: fail the chunk it was running, requeue the others. */
void mp_pool_on_worker_death(pool_slot *s);

/* ---- the submitting thread's hand-off (pool_handoff.c) ------------------- */

/* Send queued chunks to idle workers from the submitting thread. Called
 * with the lock held. */
void mp_pool_hand_to_idle_locked(mp_pool *p);

/* ---- a program pool's slot (pool_program_slot.c) ------------------------- */

/* Start the slot's program. */
int mp_pool_program_start(pool_slot *s);
/* As mp_pool_tend_worker_locked, for the slot's program: start one if
 * there is none, wait for its ready line, replace one that has ended. */
bool mp_pool_program_tend_locked(pool_slot *s);
/* Have the program answer the slot's one chunk. */
void mp_pool_program_run(pool_slot *s);
/* Ask the program to quit (retire true) or kill it, reap it, forget it. */
void mp_pool_program_end(pool_slot *s, bool retire);
void mp_pool_programs_free(pool_programs *pp);

/* ---- a pool on Redis (pool_remote.c, pool_remote_slot.c) ----------------- */

/* mp_pool_new with a backend. */
int mp_pool_remote_new(mp_pool **out, const mp_pool_options *opts);
/* Queue the slot's one chunk in Redis and wait for its result. */
void mp_pool_remote_run(pool_slot *s);
/* Stop the caller's presence and free what the pool and its slots hold
 * of Redis. */
void mp_pool_remote_free(mp_pool *p);

/* ---- a ThreadPool's slot (pool_thread_slot.c) ---------------------------- */

/* Run the initializer in the slot's thread; MP_OK, or the pool is broken. */
int mp_pool_thread_slot_begin(pool_slot *s);
/* Run the slot's one chunk in this thread. */
void mp_pool_thread_slot_run(pool_slot *s);

#endif
