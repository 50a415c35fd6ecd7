/* mproc/program_pool.h - a pool of long-lived external programs (seed
 * 000): m programs, each started once (their start-up may be expensive),
 * kept alive, and fed tasks over their stdin/stdout pipes, with the calls
 * and failure rules of a Pool.
 *
 * A program pool *is* an mp_pool: every call of pool.h works on it, with
 * the same AsyncResult and imap iterator, except as said here. The task
 * function argument must be NULL, because the program is the task:
 *
 *     const char *solver[] = {"./solver", "--model", "big.bin", NULL};
 *     mp_program_pool_options o = {.argv = solver, .programs = 4, .ready_line = "ready"};
 *     mp_pool *pool;
 *     mp_program_pool_new(&pool, &o);
 *     mp_value *r;
 *     mp_pool_apply(pool, NULL, &r, "s", "3 4");       // one line out, one line back
 *     mp_pool_map(pool, NULL, items, len, 0, &r);      // items: packed str values
 *     mp_pool_free(pool);
 *
 * Tasks and replies. Each task is one value and gets one reply, framed on
 * the program's pipes as the framing option says:
 *   - MP_FRAME_LINE: a task is a str or bin without '\n', written with a
 *     '\n' after it; a reply is one line, given without its '\n' (and
 *     without a '\r' before it) as a str, or as a bin if it is not valid
 *     UTF-8;
 *   - MP_FRAME_LENGTH: a 4-byte big-endian length, then that many bytes;
 *     a task is a str or bin, a reply is a bin;
 *   - MP_FRAME_MSGPACK: one MessagePack value each way, any value (a
 *     Python program reads them with msgpack.Unpacker on stdin).
 * apply takes exactly one value (fmt packs one); map, imap and
 * imap_unordered take the task values as items. A task value the framing
 * cannot carry is MP_EINVAL at the call. starmap and map_fixed are
 * MP_EUNSUPPORTED. A program answers its tasks in order; each program runs
 * one chunk at a time, and the tasks of a chunk are written to it while
 * its replies are read (so map streams through the pipes, and chunksize
 * means what it means for a Pool).
 *
 * Errors of a call (mp_async_result_get, mp_imap_next; the details in
 * mp_async_result_error with the program's pid and, for a death, its exit
 * code; message ends with the last lines of the program's stderr):
 *   - MP_EWORKERDIED: the program ended while it held the task; it is
 *     replaced and the pool keeps serving;
 *   - MP_EPROTO: its reply is not in the framing (not a MessagePack value,
 *     a length or line longer than max_reply, end of file in the middle of
 *     one); the program's stream is out of step, so it is killed and
 *     replaced;
 *   - MP_ETIMEDOUT: no reply within task_timeout; the program is killed and
 *     replaced. Unlike the same code from get's own timeout, the call is
 *     then over: mp_async_result_ready says true and
 *     mp_async_result_error says why;
 *   - MP_EINITIALIZER, for every pending and later call: max_start_failures
 *     programs in a row could not start, or ended (or timed out) before
 *     their ready line (without a ready line: before their first reply).
 *     The pool restarts no more and is broken, as a Pool whose initializer
 *     fails;
 *   - MP_ESTATE: the pool was terminated.
 * A failed task of a chunk fails its whole chunk, as in a Pool; the tasks
 * the program held after it go back to the queue.
 *
 * stderr. Each program's stderr is read whenever the pool waits for that
 * program (its start-up, its tasks, its end), so a program that writes
 * much of it does not stall; the last MP_PROGRAM_STDERR_TAIL bytes are kept
 * for error messages and, with pass_stderr, everything is copied to this
 * process's stderr. A program that writes stderr while it has no task
 * blocks once its pipe is full, until its next task.
 *
 * Ending. mp_pool_close, then mp_pool_join: the queued tasks are done, then
 * each program is sent quit (if set) and its stdin is closed, and it has
 * quit_grace seconds to exit before it is terminated, then killed.
 * mp_pool_terminate kills the programs at once. No program outlives
 * mp_pool_free; each is reaped.
 *
 * The programs are started as mp_popen_new starts a program
 * (subprocess.h): the same argv lookup, quoting, inheritance (nothing but
 * the three pipes) and errors. Thread safety: as for every mp_pool. */
#ifndef MPROC_PROGRAM_POOL_H
#define MPROC_PROGRAM_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/pool.h"
#include "mproc/subprocess.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How tasks and replies are framed on a program's pipes (see above). */
typedef enum mp_program_framing { MP_FRAME_LINE = 0, MP_FRAME_LENGTH, MP_FRAME_MSGPACK } mp_program_framing;

/* How much of a program's stderr is kept for error messages. */
#define MP_PROGRAM_STDERR_TAIL 4096

typedef struct mp_program_pool_options {
    /* The program and its arguments, NULL-terminated (as mp_popen_new's);
     * copied. Required. */
    const char *const *argv;
    /* As in mp_popen_options: working directory, environment. */
    const char *cwd;
    mp_env_mode env_mode;
    const char *const *env;
    /* How many programs; 0 is the CPU count. */
    int programs;
    mp_program_framing framing;
    /* A line (without its '\n') the program prints on stdout once it is
     * ready for tasks; no task is sent before it. NULL: a program is ready
     * once started. */
    const char *ready_line;
    /* Seconds a program has to print its ready line; 0 is 60. */
    double start_timeout;
    /* Seconds a program has for each reply once it holds the task; 0 is no
     * limit. */
    double task_timeout;
    /* The longest reply, in bytes (a line without its '\n'); 0 is 16 MiB. */
    size_t max_reply;
    /* A program is replaced after this many chunks (tasks, for apply and
     * imap), as Pool's maxtasksperchild; 0 is never. */
    int maxtasksperchild;
    /* Bytes written to a program to ask it to quit at close, as they are
     * (e.g. "quit\n"); NULL: none, closing stdin is the request. */
    const void *quit;
    size_t quit_len;
    /* Seconds a program has to exit once asked; 0 is 5. */
    double quit_grace;
    /* Copy every program's stderr to this process's stderr. */
    bool pass_stderr;
    /* Failed starts in a row that break the pool; 0 is 3. */
    int max_start_failures;
} mp_program_pool_options;

/* Start the programs (each as mp_popen_new would, so a program that cannot
 * be started is its error here: MP_ENOENT, MP_EPERM, MP_ECHILD,
 * MP_EUNSUPPORTED) and the pool's threads; the ready lines are waited for
 * in the background. On failure nothing is left running and *out is NULL.
 * Errors: MP_EINVAL (NULL argv or out, a negative number, a ready line
 * with '\n'), those of mp_popen_new, MP_ENOMEM. */
int mp_program_pool_new(mp_pool **out, const mp_program_pool_options *opts);

#ifdef __cplusplus
}
#endif

#endif
