/* mproc/pool.h - Pool and ThreadPool: multiprocessing.Pool,
 * multiprocessing.pool.ThreadPool (multiprocessing.dummy.Pool) and their
 * AsyncResult and imap iterators.
 *
 * Tasks. A pool calls a task function, registered by name like a process
 * target (a function pointer means nothing in a spawned worker):
 *
 *     static int square(const mp_value *args, mp_buf *result)
 *     {
 *         int64_t x;
 *         int rc = mp_args(args, "q", &x);
 *         return rc ? rc : mp_pack(result, "q", x * x);
 *     }
 *     MP_TASK(square)
 *
 * args is the call's argument array: apply's arguments, map's item as the
 * only argument, starmap's item taken apart (f(*item)). The task writes its
 * return value into result as one packed value (nothing written: nil) and
 * returns MP_OK, or returns a negative MP_E* code, ideally through mp_raise
 * to say why: that is raising an exception. A ThreadPool calls the same kind
 * of function; there registration is not needed.
 *
 * Inputs. apply takes a format and values (as mp_process_new). map, imap and
 * starmap take their items as n consecutive MessagePack values in
 * items[0..len): one mp_pack(&buf, ...) call per item. An item that is not
 * well-formed MessagePack is MP_EPROTO at the call. The fixed-size element
 * path (mp_pool_map_fixed) skips encoding altogether.
 *
 * Results. Every call gives one result or one error:
 *   - apply: the task's value; map and starmap: an array of the values in
 *     input order; imap: one value per next();
 *   - a task that raised: MP_EREMOTE, with mp_last_error() saying
 *     "task 'square' in worker 1234 failed: MP_EINVAL: ..." and the details
 *     in mp_async_result_error();
 *   - a task that returned MP_OK but wrote anything other than one
 *     well-formed value into result (invalid MessagePack, two values, a
 *     truncated one): the same as if it had raised MP_EPROTO (MP_EREMOTE,
 *     details code MP_EPROTO); a positive return is taken as MP_EINVAL;
 *   - a worker that died (killed, crashed, exit() inside a task) while it
 *     held the task: MP_EWORKERDIED, naming the worker's pid and exit code.
 *     The worker is replaced and the pool keeps serving; no call hangs.
 *   - an initializer that fails (returns an error, or the worker dies before
 *     it is ready): MP_EINITIALIZER for every pending and later call. The
 *     pool does not restart workers in a loop as Python's does; it is
 *     broken and can only be terminated and freed.
 *
 * map with a failing item: the first error (in input order of the chunks
 * that failed) is the call's error, reported as soon as the chunk holding
 * it fails; chunks still running finish in the background and are dropped.
 * Python waits for every chunk before raising.
 *
 * Workers. Each worker process has a private pipe to the pool, and one
 * thread of the pool tends each worker. The pool therefore always knows which
 * task a worker holds: that is what lets it fail exactly that task when the
 * worker dies, where Python's pool waits forever (CPython issue 66587).
 * There is no limit of 63 or 64 workers on Windows.
 *
 * Thread safety: every function may be called from any thread, including
 * from callbacks, except mp_pool_free and the *_free functions of results
 * and iterators, which must not race with other calls on the same object.
 * Callbacks run in one of the pool's threads; a callback must not block on
 * the result of another task of the same pool.
 */
#ifndef MPROC_POOL_H
#define MPROC_POOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "mproc/pack.h"
#include "mproc/process.h"
#include "mproc/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- task functions ------------------------------------------------------ */

/* A task (see above). result is empty on entry and owned by the pool. */
typedef int (*mp_task_fn)(const mp_value *args, mp_buf *result);

/* A fixed-size element task for mp_pool_map_fixed: read one element of the
 * input at in, write one element of the output at out (the sizes are the
 * call's). Return MP_OK or a negative MP_E* code. */
typedef int (*mp_elem_fn)(const void *in, void *out);

/* Register a task function under name: the rules of mp_register (registry.h)
 * and the same namespace. MP_EEXIST if the name is taken. */
int mp_register_task(const char *name, mp_task_fn fn);
int mp_register_elem_task(const char *name, mp_elem_fn fn);
/* The name a function was registered under, or NULL. The registry keeps
 * its copy for the life of the program. */
const char *mp_task_name(mp_task_fn fn);

void mp_register_task_at_load(const char *name, mp_task_fn fn);
void mp_register_elem_task_at_load(const char *name, mp_elem_fn fn);

/* MP_TASK(fn), MP_ELEM_TASK(fn): register at load time under fn's own name,
 * at file scope after fn (see MP_TARGET for static libraries). */
#define MP_TASK(fn) MP_TASK_NAMED(fn, #fn)
#define MP_TASK_NAMED(fn, name) \
    MP_AT_LOAD_(MP_CAT_(mp_reg_task_, MP_CAT_(fn, __LINE__))) { mp_register_task_at_load((name), (fn)); }
#define MP_ELEM_TASK(fn) \
    MP_AT_LOAD_(MP_CAT_(mp_reg_elem_, MP_CAT_(fn, __LINE__))) { mp_register_elem_task_at_load(#fn, (fn)); }

/* ---- creating and ending a pool ----------------------------------------- */

typedef struct mp_pool mp_pool;

typedef struct mp_pool_options {
    /* Pool(processes): 0 is mp_cpu_count(); negative is MP_EINVAL. */
    int processes;
    /* Run once in each worker before its first task, with initargs (one
     * packed MessagePack array, as mp_process_new_packed takes; NULL: no
     * arguments). A registered target; a negative return fails the pool
     * with MP_EINITIALIZER. */
    mp_target_fn initializer;
    const void *initargs;
    size_t initargs_len;
    /* A worker is replaced after this many tasks (chunks, for map); 0 is
     * never, negative is MP_EINVAL. Python's maxtasksperchild. */
    int maxtasksperchild;
    /* The start method; NULL is the global one. */
    const mp_context *context;
    /* A pool whose workers are elsewhere (below, "A pool on Redis"):
     * "redis://[user:password@]host:port/db/name". NULL: workers of this
     * process's own. */
    const char *backend;
    /* The backend's settings; NULL: the defaults. */
    const struct mp_backend_options *backend_options;
} mp_pool_options;

/* Pool(): start the workers. On failure nothing is left running and *out is
 * NULL. Errors: MP_EINVAL, MP_ENOTREG (initializer), MP_EPROTO (initargs),
 * MP_EUNSUPPORTED (start method), process start errors, MP_ENOMEM. */
int mp_pool_new(mp_pool **out, const mp_pool_options *opts);

/* ThreadPool(): the same API over threads of this process. processes is
 * the number of threads; initializer runs in each thread; maxtasksperchild
 * and context must be 0 and NULL. Task functions need no registration. */
int mp_thread_pool_new(mp_pool **out, const mp_pool_options *opts);

/* close(): accept no more calls; workers exit when the queued tasks are
 * done. Like Python's, close does not end the object: mp_pool_free does
 * (docs/ARCHITECTURE.md, "Ending objects"). */
int mp_pool_close(mp_pool *pool);
/* terminate(): stop the workers now. Calls not yet finished fail with
 * MP_ESTATE ("pool terminated"). Returns promptly; no process outlives it.
 * A ThreadPool cannot stop a running task: its threads finish the task at
 * hand and take no other. */
int mp_pool_terminate(mp_pool *pool);
/* join(): wait for the workers to exit. MP_FOREVER blocks, 0 or any
 * negative value (and NaN) polls; MP_ETIMEDOUT if one still runs. MP_ESTATE
 * unless closed or terminated (Python's ValueError). */
int mp_pool_join(mp_pool *pool, double timeout);
/* Terminate (if still running), join and free: Python's __exit__. NULL is
 * a no-op. */
void mp_pool_free(mp_pool *pool);

/* Workers, and their pids now (Pool only; 0 for a ThreadPool's). Returns the
 * number of workers; fills at most cap pids. */
size_t mp_pool_pids(mp_pool *pool, long *pids, size_t cap);

/* ---- a pool on Redis ---------------------------------------------------------
 *
 * mp_pool_new with .backend = "redis://host:6379/0/name" makes a pool whose
 * calls (apply, apply_async, map, starmap, imap, imap_unordered and their
 * AsyncResults; not map_fixed) are queued in Redis under name, and run by
 * mp_worker_serve in any program, on any host and system, that registered
 * the same task functions. Results come back to the caller that asked.
 *
 *   caller:  mp_pool_new(&pool, &(mp_pool_options){.backend = url});
 *            mp_pool_map(pool, square, items, len, 0, &out);
 *   worker:  mp_main(argc, argv); mp_worker_serve(url, NULL);
 *
 * processes is how many chunks the caller keeps in flight at once (0: 16),
 * and what chunksize's default counts as workers. initializer,
 * maxtasksperchild and context are the workers' (mp_worker_options), and
 * must be 0/NULL here.
 *
 * Failure semantics:
 *   - a worker process, or a whole worker host, that dies holding a chunk:
 *     the chunk is delivered again once its lease runs out (the worker
 *     renews it every lease / 3 while it lives), and its result reaches the
 *     caller exactly once (the caller drops a repeated one);
 *   - a chunk that has killed max_deliveries workers fails with
 *     MP_EWORKERDIED, and the pool goes on with the others;
 *   - a task that raises: MP_EREMOTE, the error's message naming the
 *     worker's host and pid, as for a local pool;
 *   - Redis stopped or gone: a call that cannot reach it fails with
 *     MP_ETIMEDOUT or MP_ECONNRESET after timeout, and later calls work
 *     again once it is back;
 *   - a caller that dies: its tasks are not run (workers see that it no
 *     longer renews its presence) and its results expire after result_ttl.
 * terminate fails the queued calls with MP_ESTATE at once and those a
 * slot has sent to Redis within half a second (its wait for a result is
 * cut that fine); the workers may still run them, and their results
 * expire unread. */
typedef struct mp_backend_options {
    /* Each time is 0 (its default) or from 0.001 to 365 days; else
     * MP_EINVAL. */
    /* Seconds for connecting and each exchange with Redis; 0 is 10. */
    double timeout;
    /* Seconds a chunk stays with a worker that stopped renewing it, and
     * that a caller stays known after its last renewal; 0 is 5. */
    double lease;
    /* Deliveries after which a chunk that killed its workers fails; 0 is
     * 3. */
    int max_deliveries;
    /* Seconds an unread result of this caller lives in Redis; 0 is 60.
     * The caller's own setting: it travels with the caller's presence. A
     * worker's is for the results of callers whose presence has lapsed. */
    double result_ttl;
} mp_backend_options;

typedef struct mp_worker_options {
    /* Local worker processes: 0 is mp_cpu_count(). */
    int processes;
    /* As mp_pool_options's, for the local workers. */
    mp_target_fn initializer;
    const void *initargs;
    size_t initargs_len;
    int maxtasksperchild;
    const mp_context *context;
    /* timeout, lease and max_deliveries must match the callers' where
     * they set them; NULL: the defaults. */
    const mp_backend_options *backend_options;
} mp_worker_options;

/* Serve the pool on backend with a local Pool of processes workers until
 * mp_worker_stop is called for it (from any process on any host), then
 * finish the chunks in hand and return MP_OK. Call it after mp_main.
 * Errors: MP_EINVAL, the local Pool's (MP_EINITIALIZER...), and Redis's
 * when it is unreachable at the start (later outages are waited out). */
int mp_worker_serve(const char *backend, const mp_worker_options *opts);
/* Tell every mp_worker_serve on backend to stop. */
int mp_worker_stop(const char *backend, const mp_backend_options *opts);

/* ---- results ------------------------------------------------------------- */

typedef struct mp_async_result mp_async_result;

/* An error raised in a task, or the death of its worker. */
typedef struct mp_remote_error {
    int code;            /* the task's code; MP_EWORKERDIED; MP_EINITIALIZER */
    const char *message; /* the worker's mp_last_error(), or what happened */
    const char *task;    /* the task function's name */
    long pid;            /* the worker's pid (0 in a ThreadPool) */
    int exitcode;        /* a dead worker's exit code (-N: signal N) */
} mp_remote_error;

/* Called in a pool thread when a call ends: with the result (borrowed: do
 * not free it) or with the error. */
typedef void (*mp_result_callback)(const mp_value *result, void *arg);
typedef void (*mp_error_callback)(const mp_remote_error *error, void *arg);

typedef struct mp_async_options {
    mp_result_callback callback;
    mp_error_callback error_callback;
    void *arg; /* passed to both */
    /* map, starmap: items per chunk; 0 is Python's default,
     * ceil(n / (4 * workers)). imap: 0 is 1. */
    size_t chunksize;
} mp_async_options;

/* get(timeout): wait (timeout as mp_pool_join's) and give the result:
 * *out is a new tree the caller frees with mp_value_free (each get gives
 * its own). MP_ETIMEDOUT leaves the call running; get again later. A failed
 * call returns its error (MP_EREMOTE, MP_EWORKERDIED, MP_EINITIALIZER,
 * MP_ESTATE after terminate), each time. */
int mp_async_result_get(mp_async_result *r, double timeout, mp_value **out);
/* wait(timeout): MP_OK when ready, else MP_ETIMEDOUT (timeout as get's). */
int mp_async_result_wait(mp_async_result *r, double timeout);
bool mp_async_result_ready(mp_async_result *r);
/* successful(): 1 or 0; MP_ESTATE before it is ready (Python's ValueError). */
int mp_async_result_successful(mp_async_result *r);
/* The error of a failed call (valid until the result is freed), or NULL. */
const mp_remote_error *mp_async_result_error(mp_async_result *r);
/* Free the handle; the call itself runs on (its callbacks still run). */
void mp_async_result_free(mp_async_result *r);

/* ---- calls ----------------------------------------------------------------- */

/* apply(fn, args): run fn once with the arguments fmt describes; *out as
 * mp_async_result_get. Calls on a closed or terminated pool: MP_ESTATE.
 * An unregistered fn on a process Pool: MP_ENOTREG. */
int mp_pool_apply(mp_pool *pool, mp_task_fn fn, mp_value **out, const char *fmt, ...);
int mp_pool_apply_async(mp_pool *pool, mp_task_fn fn, const mp_async_options *opts,
                        mp_async_result **out, const char *fmt, ...);
int mp_pool_apply_asyncv(mp_pool *pool, mp_task_fn fn, const mp_async_options *opts,
                         mp_async_result **out, const char *fmt, va_list ap);

/* map(fn, items, chunksize): *out is an array of fn(item) in input order.
 * Zero items give an empty array. */
int mp_pool_map(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, size_t chunksize,
                mp_value **out);
int mp_pool_map_async(mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                      const mp_async_options *opts, mp_async_result **out);
/* starmap: each item is an array, spread as fn's arguments. */
int mp_pool_starmap(mp_pool *pool, mp_task_fn fn, const void *items, size_t len, size_t chunksize,
                    mp_value **out);
int mp_pool_starmap_async(mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                          const mp_async_options *opts, mp_async_result **out);

/* The fixed-size element path: out[i] = fn(in[i]) for n elements of in_size
 * bytes into elements of out_size bytes (each at most 64 KiB), with no
 * encoding: chunks travel as raw bytes. in and out must not overlap; out is
 * written only by this call and is complete when it returns MP_OK. */
int mp_pool_map_fixed(mp_pool *pool, mp_elem_fn fn, const void *in, size_t in_size, void *out,
                      size_t out_size, size_t n, size_t chunksize);

/* ---- imap ------------------------------------------------------------------ */

typedef struct mp_imap_iter mp_imap_iter;

/* imap(fn, items, chunksize) and imap_unordered: an iterator over fn(item),
 * in input order or as they finish. opts: chunksize (0 is 1); callbacks are
 * ignored. */
int mp_pool_imap(mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                 const mp_async_options *opts, mp_imap_iter **out);
int mp_pool_imap_unordered(mp_pool *pool, mp_task_fn fn, const void *items, size_t len,
                           const mp_async_options *opts, mp_imap_iter **out);
/* next(timeout): timeout as mp_pool_join's. The next value (a new tree the
 * caller frees), MP_EEOF after the last (StopIteration), MP_ETIMEDOUT, or
 * the item's error: a failed item does not end the iteration, as in
 * Python. */
int mp_imap_next(mp_imap_iter *it, double timeout, mp_value **out);
/* The error of the item next just failed with, or NULL. Valid until
 * mp_imap_free of the iterator. */
const mp_remote_error *mp_imap_error(mp_imap_iter *it);
void mp_imap_free(mp_imap_iter *it);

#ifdef __cplusplus
}
#endif

#endif
