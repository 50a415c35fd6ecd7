/* mproc/process.h - Python's Process, start methods, mp_main (freeze_support)
 * and the process-level functions of the multiprocessing module.
 *
 * A child runs a registered target (see registry.h) with arguments packed by
 * format string (see pack.h). How it starts depends on the start method:
 *
 *   fork        POSIX. The child is a copy of the parent made by fork().
 *   spawn       POSIX and Windows. The program's own executable is started
 *               again (exec / CreateProcessW); its mp_main() receives
 *               the target, the arguments and the registered globals over an
 *               inherited pipe, runs the target and exits.
 *   forkserver  POSIX. A single-threaded server, spawned on first use, forks
 *               the children. It is restarted if it dies.
 *
 * The default is fork on POSIX and spawn on Windows. Asking for fork or
 * forkserver on Windows gives MP_EUNSUPPORTED.
 *
 * Exit codes follow Python: the target's return value; 1 when the target
 * raised an error (returned a negative MP_E* code; the message goes to
 * stderr); -N when killed by signal N; -15 after terminate, on Windows too.
 * On Windows, a crash by access violation reads as -11 (SIGSEGV) so that
 * both systems agree; other Windows crash codes read as the NTSTATUS value.
 *
 * How a child ends (Python 3.13's rules, under every start method): when
 * the target returns, the child waits for its non-daemon threads (those
 * started with mp_thread_start and not detached; not those of a Pool or
 * ThreadPool), then calls exit() with the exit code. The atexit handlers the
 * child registered run, last registered first; then mproc's own handler
 * terminates the child's daemonic children, joins the others and flushes
 * stdio. A target that calls exit(n) itself ends the same way with code n,
 * except that no thread is waited for.
 *   - fork and forkserver: the child then ends with _exit, so the atexit
 *     handlers and destructors it inherited with the memory of the process
 *     it was forked from (the parent, or the forkserver's start-up before
 *     mp_main) do not run a second time. Python clears them at fork for the
 *     same reason.
 *   - spawn (and Windows): the child is a fresh run of the program; exit
 *     goes on with the handlers its own start-up registered before mp_main,
 *     as a spawned Python child runs the ones its main module registers.
 * A child that fails before its target runs (a bad handoff, a child-init
 * hook that fails) ends at once with code 1 and runs no handler.
 *
 * Forkserver: the server ignores SIGINT (a Ctrl-C reaches the whole
 * foreground process group); its children get SIGINT as the server found
 * it. A non-daemonic child outlives a server that is killed: it is still
 * joined, signalled and terminated as usual, and its exit code is its own;
 * only one that is killed by a signal (or calls _exit) after its server
 * died reads as 255, as in Python, since nobody saw how it ended. A
 * daemonic child dies with the server too (its exit code then reads 255).
 * The next start brings up a new server.
 *
 * Thread safety: a process object is used by one thread at a time. The
 * module-level functions are safe from any thread. Starting processes from
 * several threads at once is safe.
 */
#ifndef MPROC_PROCESS_H
#define MPROC_PROCESS_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pack.h"
#include "registry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Blocking calls take a timeout in seconds: MP_FOREVER (Python's None)
 * blocks; t > 0 waits up to t seconds; 0, any negative value and NaN poll,
 * as Python treats a negative timeout as 0. MP_FOREVER is +infinity, which
 * no `deadline - now()` reaches by accident: a deadline that has passed
 * polls instead of blocking forever. */
#define MP_FOREVER ((double)INFINITY)

/* ---- mp_main: the C form of freeze_support() --------------------------- */

/* Call first in main(): int main(int c, char **v) { mp_main(c, v); ... }
 *
 * In a child started by spawn (or the forkserver) it never returns: it reads
 * the handoff, restores the registered globals, runs the child-init hooks
 * and the target, and exits with the target's exit code.
 *
 * In the main process it records argv (on Windows it reads the real UTF-16
 * command line instead, since the narrow argv is in the ANSI code page) and
 * returns MP_OK, or an error a load-time registration left behind
 * (MP_EEXIST for a duplicate target name). Calling it again is harmless. */
int mp_main(int argc, char **argv);

/* ---- start methods and contexts ---------------------------------------- */

typedef enum mp_start_method {
    MP_START_DEFAULT = 0, /* whatever mp_get_start_method() says */
    MP_START_FORK,
    MP_START_SPAWN,
    MP_START_FORKSERVER
} mp_start_method;

/* Set the global start method, once, as in Python: a second call gives
 * MP_ESTATE unless force is true. MP_EUNSUPPORTED for a method this system
 * lacks; MP_EINVAL for MP_START_DEFAULT or an unknown value. */
int mp_set_start_method(mp_start_method method, bool force);

/* The global start method. Like Python's get_start_method(), asking fixes the
 * default: a later mp_set_start_method without force is refused. */
mp_start_method mp_get_start_method(void);

/* The methods this system supports, the default first. Returns how many were
 * written (at most 3). */
size_t mp_get_all_start_methods(mp_start_method out[3]);

/* "fork", "spawn", "forkserver"; "default" for MP_START_DEFAULT; NULL for an
 * unknown value. The strings are static. */
const char *mp_start_method_name(mp_start_method method);

/* Parse a name as above. MP_EINVAL for an unknown name. */
int mp_start_method_parse(const char *name, mp_start_method *out);

/* A context picks the start method for the objects made with it (Python's
 * get_context). Contexts are static: never freed, safe to share. */
typedef struct mp_context mp_context;

/* MP_START_DEFAULT gives the context of the global method.
 * MP_EUNSUPPORTED for a method this system lacks. */
int mp_get_context(mp_start_method method, const mp_context **out);
mp_start_method mp_context_start_method(const mp_context *ctx);

/* ---- Process ----------------------------------------------------------- */

typedef struct mp_process mp_process;

typedef struct mp_process_options {
    const char *name;          /* NULL: "Process-N", or "Process-I:N" in a child */
    bool daemon;               /* killed with its parent, may not have children */
    const mp_context *context; /* NULL: the global start method */
} mp_process_options;

/* Create a process object (not started) that will run target with the
 * arguments described by fmt (see pack.h), e.g.
 *     mp_process_new(&p, work, NULL, "si", "hello", 3)
 * A NULL or empty fmt means no arguments. The arguments are packed now:
 * pointers in them need not outlive the call.
 * Errors: MP_EINVAL (NULL out or target), MP_ENOTREG (target not
 * registered), MP_EFORMAT, MP_EUNSUPPORTED (the context's method),
 * MP_ENOMEM. On failure *out is NULL. */
int mp_process_new(mp_process **out, mp_target_fn target,
                   const mp_process_options *opts, const char *fmt, ...);
int mp_process_newv(mp_process **out, mp_target_fn target,
                    const mp_process_options *opts, const char *fmt, va_list ap);

/* The same with arguments already packed: args holds one MessagePack array
 * (args_len bytes). It is checked here (MP_EPROTO) and copied. */
int mp_process_new_packed(mp_process **out, mp_target_fn target,
                          const mp_process_options *opts,
                          const void *args, size_t args_len);

/* Start the child. Errors:
 *   MP_ESTATE       started already; or this process is daemonic (daemonic
 *                   processes may not have children); or spawn/forkserver
 *                   before mp_main ran in this program;
 *   MP_EBOOTSTRAP   called in a child before its target started (from a
 *                   child-init hook, or before mp_main in a spawned child),
 *                   or before mp_main in the forkserver process;
 *   MP_ECHILD       the child could not be started or died before it read
 *                   its handoff; MP_EOS, MP_ENOMEM. */
int mp_process_start(mp_process *p);

/* Wait for the child to end: MP_FOREVER blocks, 0 or any negative value
 * (and NaN) polls. MP_OK once it has ended; MP_ETIMEDOUT if it is still
 * running after timeout seconds (it can be joined again later); MP_ESTATE
 * before start. Joining an ended process again returns MP_OK. */
int mp_process_join(mp_process *p, double timeout);

/* 1 if started and not ended, 0 if not started or ended, <0 on error. */
int mp_process_is_alive(mp_process *p);

/* The exit code once the child ended (see the top of this file).
 * MP_ERUNNING while it runs; MP_ESTATE before start. */
int mp_process_exitcode(mp_process *p, int *code);

/* terminate: SIGTERM on POSIX, TerminateProcess on Windows (reads as -15).
 * kill: SIGKILL on POSIX (reads as -9); on Windows the same as terminate.
 * A child that already ended is left alone (MP_OK). MP_ESTATE before start. */
int mp_process_terminate(mp_process *p);
int mp_process_kill(mp_process *p);

/* close(): release the object and what it holds (reaping the child); the
 * pointer may not be used again, and there is no separate free (as
 * mp_conn_close). MP_ESTATE while the child runs: the object stays valid;
 * join or terminate it first. A NULL p is MP_OK. A process never started
 * can always be closed. */
int mp_process_close(mp_process *p);

/* Attributes. pid is 0 before start; -1 for a NULL p. The name belongs to
 * the object: it stays valid until the next mp_process_set_name on it or
 * mp_process_close; set_name copies its argument. */
long mp_process_pid(const mp_process *p);
const char *mp_process_name(const mp_process *p);
int mp_process_set_name(mp_process *p, const char *name);
bool mp_process_daemon(const mp_process *p);
int mp_process_set_daemon(mp_process *p, bool daemon); /* MP_ESTATE after start */

/* An OS object that becomes ready when the child ends, for mp_wait:
 * a file descriptor on POSIX, a process HANDLE on Windows. It belongs to the
 * process object. MP_ESTATE before start. */
typedef intptr_t mp_sentinel;
int mp_process_sentinel(const mp_process *p, mp_sentinel *out);

/* ---- waiting ----------------------------------------------------------- */

/* Wait until at least one of n sentinels is ready, or timeout (MP_FOREVER
 * blocks, 0 or any negative value and NaN polls). ready[i] is
 * set to whether objects[i] is ready. Returns the number ready (>0),
 * MP_ETIMEDOUT, or an error (MP_EINVAL for NULL or n == 0). Any n works; on
 * Windows there is no 64-handle limit. */
int mp_wait(const mp_sentinel *objects, size_t n, double timeout, bool *ready);

/* ---- this process ------------------------------------------------------ */

/* current_process().name / .pid / .daemon. "MainProcess" in the main
 * process. The name is valid for the life of the process. */
const char *mp_current_process_name(void);
long mp_current_pid(void);
bool mp_current_process_daemon(void);

/* parent_process(): the pid of the process that started this one, 0 in the
 * main process (Python's None). Under forkserver this is the requesting
 * process, not the server. */
long mp_parent_pid(void);
/* parent_process().name: the parent's name as it was when it started this
 * process ("MainProcess", "Process-1", ...); NULL in the main process
 * (Python's None). Under forkserver, the requesting process's name. Valid
 * for the life of the process. */
const char *mp_parent_process_name(void);
/* 1 if the parent is alive, 0 if it has ended, MP_ESTATE in the main process. */
int mp_parent_is_alive(void);

/* current_process().authkey: the key that Listener/Client and managers use
 * when given none. The main process makes 32 random bytes; a child inherits
 * its parent's key as it was when the child started, under every start
 * method. *len (if not NULL) gets its length. The bytes stay valid until
 * the next mp_set_authkey. */
const unsigned char *mp_authkey(size_t *len);
/* current_process().authkey = key: this process's key from now on, and its
 * children's from their start. len is 0 to 256 bytes (MP_ERANGE beyond;
 * Python has no limit); the bytes are copied. MP_EINVAL: NULL key with a
 * length. Not safe against other threads reading the key or starting
 * children at the same time, as in Python. */
int mp_set_authkey(const void *key, size_t len);

/* active_children(): the started children of this process that are still
 * alive. Ended children are reaped as a side effect. Writes up to cap
 * pointers (borrowed) and the total count to *n. */
int mp_active_children(mp_process **out, size_t cap, size_t *n);

/* The number of CPUs (os.cpu_count()), at least 1. */
int mp_cpu_count(void);

#ifdef __cplusplus
}
#endif

#endif
