/* platform.h - the one seam between the portable core and the OS.
 *
 * The core (every folder of src/ but posix/ and win32/) includes no OS
 * header; whatever it needs from the OS it asks for here. src/posix/ and
 * src/win32/ each implement every function below. Platform code may use the
 * core's internal helpers (base/error_internal.h, base/timeout.h,
 * process/frame.h), never the other way round.
 *
 * One section, one file: each section below names, in its heading, the file
 * that implements it, and that file has the same name in src/posix/ and in
 * src/win32/. Every function of a section lives in that file on both sides.
 * The other files of a platform folder are that side's helpers; each says
 * at its top which section it serves.
 *
 * Conventions: functions return MP_OK or a negative MP_E* code and, on
 * failure, set the thread's error message with mp_fail / mp_fail_os
 * (base/error_internal.h). Handles are intptr_t: a file descriptor on POSIX,
 * a HANDLE on Windows. Timeouts are seconds, as in the API: MP_FOREVER
 * blocks, and 0, a negative value or NaN polls (base/timeout.h says how to
 * wait for one).
 */
#ifndef MPROC_PLATFORM_H
#define MPROC_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/error.h"
#include "mproc/pack.h"
#include "mproc/process.h"
#include "mproc/subprocess.h"

typedef intptr_t mp_os_handle;

/* ---- handles: handle.c ------------------------------------------------- */

#define MP_OS_NO_HANDLE ((mp_os_handle)-1)

void mp_os_handle_close(mp_os_handle h);

/* ---- errors: errors.c -------------------------------------------------- */

/* The calling thread's last OS error (errno / GetLastError()). */
int mp_os_last_error(void);
/* Describe an OS error code in UTF-8 into buf (always NUL-terminated). */
void mp_os_error_text(int oserr, char *buf, size_t size);

/* ---- the clock: clock.c ------------------------------------------------ */

double mp_os_monotonic(void); /* seconds, monotonic clock */
void mp_os_sleep(double seconds);
/* Let another thread that is ready to run have this CPU first, if any. */
void mp_os_yield(void);

/* ---- randomness: random.c ---------------------------------------------- */

int mp_os_random(void *buf, size_t len); /* cryptographic quality */

/* ---- processes and the machine: system.c ------------------------------- */

long mp_os_getpid(void);

/* 1 if a process with this pid exists and has not ended (a zombie counts as
 * ended), 0 if not. */
int mp_os_pid_alive(long pid);

int mp_os_cpu_count(void); /* >= 1 */

/* This machine's name (UTF-8), for messages that say where something ran;
 * "unknown" if the system will not say. Always NUL-terminated. */
void mp_os_hostname(char *buf, size_t size);

/* ---- the global lock: global_lock.c ------------------------------------ */

/* One process-wide lock for the core's registries. On POSIX it is held
 * across fork (pthread_atfork) so a forked child finds it unlocked. */
void mp_os_global_lock(void);
void mp_os_global_unlock(void);

/* ---- this program: program.c ------------------------------------------- */

/* This process's argv in UTF-8, as a NULL-terminated array in one malloc'd
 * block (free with free()). POSIX copies argv; Windows ignores it and parses
 * GetCommandLineW() by the MSVCRT rules. */
int mp_os_own_argv(int argc, char **argv, int *out_argc, char ***out_argv);

/* True if this process's real command line (not argv as the program may
 * have changed it) carries the spawn child marker; lets the core refuse
 * process starts in a spawned child before mp_main ran. */
bool mp_os_cmdline_has(const char *marker);

/* ---- starting children: child_start.c ---------------------------------- */

bool mp_os_supports(mp_start_method method);

typedef struct mp_os_child mp_os_child;

typedef struct mp_os_start {
    mp_start_method method; /* FORK, SPAWN or FORKSERVER, never DEFAULT */
    bool daemon;            /* dies with this process, even if it is killed */
    /* fork: called in the child after fork(); must not return. */
    void (*fork_entry)(void *ctx);
    void *fork_ctx;
    /* spawn and forkserver: the core's handoff blob (handoff.h), delivered
     * to the child's mp_os_read_handoff, together with the handles. */
    const unsigned char *handoff;
    size_t handoff_len;
    /* Handles that travel to the child, in this order; nothing else is
     * inherited. The child finds them with mp_os_child_handles. */
    const mp_os_handle *handles;
    size_t nhandles;
} mp_os_start;

/* Start a child. Returns when the child exists and, for spawn/forkserver,
 * its handoff has been written. MP_ECHILD if it could not start or died
 * before reading the handoff. The spawn child runs the program's own
 * executable with command line: <exe> MP_CHILD_MARKER <token>. */
int mp_os_child_start(const mp_os_start *req, mp_os_child **out);

/* ---- watching children (parent side): child_control.c ------------------ */

long mp_os_child_pid(const mp_os_child *c);
/* Ready when the child ends; owned by c, the same one on every call. A
 * grandchild holding inherited descriptors must not delay it. POSIX makes
 * it on first use (MP_EOS if it cannot). */
int mp_os_child_sentinel(mp_os_child *c, mp_sentinel *out);

/* Wait up to timeout for the child to end and reap it. MP_OK with *exitcode
 * in Python's convention (code, or -signal; Windows' terminate code and
 * access violation mapped to -15 and -11); MP_ETIMEDOUT. Once reaped, further
 * calls return the same code at once. */
int mp_os_child_wait(mp_os_child *c, double timeout, int *exitcode);

/* SIGTERM (kill false) or SIGKILL (kill true); Windows: TerminateProcess.
 * MP_OK if the child has already ended. */
int mp_os_child_signal(mp_os_child *c, bool kill);

/* Release c. A child still running is left running (not killed); it is
 * reaped if it has ended. */
void mp_os_child_free(mp_os_child *c);

/* ---- the child side: child_side.c -------------------------------------- */

#define MP_CHILD_MARKER "--mproc-child"
#define MP_FORKSERVER_MARKER "--mproc-forkserver"

/* In a spawned child: read the handoff named by the token of the command
 * line into *blob (MP_BUF_INIT on entry) and take the travelling handles. */
int mp_os_read_handoff(const char *token, mp_buf *blob);

/* The handles that travelled with this child, in the parent's order. Valid
 * in children of every start method; n = 0 in the main process. */
const mp_os_handle *mp_os_child_handles(size_t *n);

/* Called once in every child, before anything else of the child runs:
 * remember the parent (for mp_os_parent_alive) and, for a daemonic child on
 * Linux, arrange to die with it (PR_SET_PDEATHSIG; exits at once if the
 * parent is already gone). */
void mp_os_child_init(long parent_pid, bool daemon);

/* 1 if the parent recorded by mp_os_child_init is alive, 0 if not. */
int mp_os_parent_alive(void);

/* Arrange how this child's exit() ends, before any of the child's own code
 * runs: the atexit handlers registered from now on (the child's own) run
 * first, then cleanup. After it, a child made by fork, directly or by the
 * forkserver, ends with exit()'s status, so that the handlers and
 * destructors it inherited with its parent's memory do not run twice (for
 * a forkserver child, the status goes to its requester first: the child
 * outlives its server). A spawned child's exit goes on with the handlers
 * of its own start-up. Acts only in the process that called it. */
int mp_os_child_at_exit(void (*cleanup)(void));

/* ---- the forkserver process: forkserver.c ------------------------------ */

/* Serve requests on the channel named by token until the parent goes away;
 * each forked child calls entry with its handoff blob. Never returns. POSIX
 * only: on Windows it says so and exits. */
typedef void (*mp_os_child_entry)(const unsigned char *handoff, size_t len);
void mp_os_forkserver_main(const char *token, mp_os_child_entry entry);

/* ---- threads, mutexes, condition variables, TLS: thread.c -------------- */

typedef struct mp_os_thread mp_os_thread;

/* Run fn(arg) on a new native thread. MP_ENOMEM, MP_EOS. */
int mp_os_thread_start(mp_os_thread **out, void (*fn)(void *arg), void *arg);
/* Wait for the thread to end, then free t. */
void mp_os_thread_join(mp_os_thread *t);
/* Let the thread's resources go when it ends; frees t. */
void mp_os_thread_detach(mp_os_thread *t);
/* The calling thread's id: never 0, unique among the live threads of the
 * process (pthread_self / GetCurrentThreadId). */
uint64_t mp_os_thread_id(void);
/* The calling thread's id among all the system's live threads (the
 * kernel's thread id / GetCurrentThreadId): never 0, read without a system
 * call, what a lock in shared memory records of its holder. */
uint64_t mp_os_thread_native_id(void);
/* False once the thread of native id `thread` in process pid has ended
 * (or was never there); true while it lives or when that cannot be told. */
bool mp_os_thread_alive(long pid, uint64_t thread);

/* A non-recursive mutex for the threads of one process. In a child made by
 * fork every mutex and condition variable is reset to its initial state
 * (their holders and waiters are threads the child does not have). */
typedef struct mp_os_mutex mp_os_mutex;
int mp_os_mutex_new(mp_os_mutex **out);
void mp_os_mutex_free(mp_os_mutex *m);
void mp_os_mutex_lock(mp_os_mutex *m);
bool mp_os_mutex_trylock(mp_os_mutex *m);
void mp_os_mutex_unlock(mp_os_mutex *m);

typedef struct mp_os_cond mp_os_cond;
int mp_os_cond_new(mp_os_cond **out);
void mp_os_cond_free(mp_os_cond *c);
/* MP_OK (signalled, or spuriously woken) or MP_ETIMEDOUT; m is held again
 * on return. Deadlines on the monotonic clock. */
int mp_os_cond_wait(mp_os_cond *c, mp_os_mutex *m, double timeout);
void mp_os_cond_signal(mp_os_cond *c);
void mp_os_cond_broadcast(mp_os_cond *c);

/* Thread-local slot; dtor (may be NULL) runs on a thread's non-NULL value
 * when that thread ends. */
typedef struct mp_os_tls mp_os_tls;
int mp_os_tls_new(mp_os_tls **out, void (*dtor)(void *));
void mp_os_tls_free(mp_os_tls *k);
void *mp_os_tls_get(mp_os_tls *k);
int mp_os_tls_set(mp_os_tls *k, void *value);

/* ---- shared memory: shm.c ---------------------------------------------- */

/* A mapping of a shared memory object. Every handle made here is closed on
 * exec / not inheritable: it reaches a child only when passed. */
typedef struct mp_os_shm {
    void *addr;
    size_t size;
    mp_os_handle handle;
} mp_os_shm;

/* Create and map a zero-filled object of size bytes (> 0). name NULL: an
 * anonymous object that dies with its last handle and mapping (memfd /
 * pagefile-backed section). A name is a portable short name without '/'
 * or '\\' ("psm_1a2b"): POSIX shm_open("/name"), Windows "Local\\name";
 * MP_EEXIST if it exists. POSIX registers a created name with this process
 * tree's resource tracker, which unlinks it if every process of the tree
 * ends without unlinking it. Memory is committed lazily where the OS can. */
int mp_os_shm_create(const char *name, size_t size, mp_os_shm *out);
/* Map an existing named object; its size comes from the OS (Windows: the
 * section's size, which is rounded up to a page). MP_EOS with the OS error
 * when it does not exist. */
int mp_os_shm_open(const char *name, mp_os_shm *out);
/* Map a handle that was passed to this process; takes ownership of it. */
int mp_os_shm_adopt(mp_os_handle h, size_t size, mp_os_shm *out);
/* Unmap and close the handle. */
void mp_os_shm_close(mp_os_shm *s);
/* Remove a name (POSIX shm_unlink, and unregister it from the tracker;
 * Windows: nothing to do, MP_OK). */
int mp_os_shm_unlink(const char *name);
/* Give back the memory of [off, off+len) (page-aligned inside). May be a
 * no-op (Windows); where it is not, the range reads as zeroes afterwards
 * in every process. Callers overwrite the range before reading it. */
void mp_os_shm_discard(mp_os_shm *s, size_t off, size_t len);

/* ---- cross-process semaphores: sync.c ------------------------------------ */

/* Each lives in MP_OS_SYNC_SLOT bytes of shared memory, 8-byte aligned,
 * that the core lays out in a mapping (POSIX: a process-shared sem_t lives
 * there). Windows keeps a kernel object whose handle travels next to the
 * mapping; POSIX has no handle (MP_OS_NO_HANDLE). */
#define MP_OS_SYNC_SLOT 64
/* The last MP_OS_SYNC_SPARE bytes of each slot are the core's: state kept
 * there (a lock word) shares a cache line with its semaphore. */
#define MP_OS_SYNC_SPARE 24

typedef struct mp_os_sem mp_os_sem;
int mp_os_sem_create(void *slot, unsigned value, mp_os_sem **out);
/* Use a semaphore made by another process: h is what its creator's
 * mp_os_sem_handle gave (duplicated into this process); takes ownership. */
int mp_os_sem_attach(void *slot, mp_os_handle h, mp_os_sem **out);
mp_os_handle mp_os_sem_handle(const mp_os_sem *s);
/* MP_OK, or MP_ETIMEDOUT (timeout 0 polls). */
int mp_os_sem_wait(mp_os_sem *s, double timeout);
int mp_os_sem_post(mp_os_sem *s);
/* The current count (a snapshot). */
int mp_os_sem_value(mp_os_sem *s, int *value);
/* Free this process's use of it (closes the handle; the semaphore itself
 * lives as long as its memory or its last handle). */
void mp_os_sem_free(mp_os_sem *s);

/* ---- pipes: pipe.c ----------------------------------------------------- */

/* Two connected, not inheritable handles. duplex: both ends read and write
 * (socketpair; Windows: a duplex overlapped named pipe with a unique name
 * and FILE_FLAG_FIRST_PIPE_INSTANCE). Otherwise *r only reads and *w only
 * writes (pipe; Windows: an inbound named pipe). */
int mp_os_pipe(bool duplex, mp_os_handle *r, mp_os_handle *w);
/* Write all len bytes. MP_EEOF if the peer has closed its end; MP_EOS. Two
 * threads may write to one handle only if the caller serialises them. */
int mp_os_pipe_write(mp_os_handle h, const void *buf, size_t len);
/* Read exactly len bytes. MP_EEOF if the peer closed before the first
 * byte, MP_EPROTO if it closed in the middle; MP_EOS. */
int mp_os_pipe_read(mp_os_handle h, void *buf, size_t len);
/* Read what is there, 1 to cap bytes, waiting only while there is nothing:
 * *got is the count. For a reader that takes several small messages in one
 * system call. MP_EEOF if the peer has closed and nothing is left; MP_EOS. */
int mp_os_pipe_read_some(mp_os_handle h, void *buf, size_t cap, size_t *got);
/* MP_OK when a read would not block (data, or the peer closed), else
 * MP_ETIMEDOUT after timeout. */
int mp_os_pipe_poll(mp_os_handle h, double timeout);
/* Wake a thread blocked reading h, which then fails or sees end of file
 * (shutdown of a socketpair; a named pipe disconnected, or its pending
 * I/O cancelled for a client end). h must still be closed. */
void mp_os_pipe_shutdown(mp_os_handle h);

/* ---- sockets: socket.c ------------------------------------------------ */

/* Stream sockets for Listener/Client, and for what will speak over them
 * later (managers, a Redis client). The core parses address strings; this
 * section resolves, binds, connects and moves bytes. Every socket made here
 * is not inheritable (SOCK_CLOEXEC; WSA_FLAG_NO_HANDLE_INHERIT) and a TCP
 * one has TCP_NODELAY: small request/reply messages must not wait for
 * Nagle and delayed ACKs.
 *
 * On POSIX a socket is an fd like the ends of mp_os_pipe: the pipe
 * functions and mp_os_wait work on it, and the functions below that move
 * bytes are the pipe's. On Windows a SOCKET is not a named pipe (its end is
 * a zero-byte read, not ERROR_BROKEN_PIPE, and it is closed by closesocket),
 * so whoever holds one must use these functions on it; mp_os_wait tells a
 * socket from a pipe by itself. */

/* Room for any address string mp_os_socket_address makes ("unix:" and a
 * 108-byte path at most; "tcp://[" an IPv6 address "]:" a port). */
#define MP_OS_ADDRESS_SIZE 128

typedef enum mp_os_family {
    MP_OS_TCP,  /* IPv4 or IPv6, whichever host resolves to */
    MP_OS_UNIX, /* AF_UNIX; POSIX only (MP_EUNSUPPORTED on Windows) */
} mp_os_family;

typedef struct mp_os_endpoint {
    mp_os_family family;
    const char *host; /* TCP: a name or a numeric address, no brackets */
    unsigned port;    /* TCP: 0 to listen on a port the system picks */
    const char *path; /* UNIX: a path, or '@' and an abstract name (Linux) */
} mp_os_endpoint;

/* Bind and listen. A UNIX path must not exist yet. */
int mp_os_socket_listen(const mp_os_endpoint *ep, int backlog, mp_os_handle *out);
/* The next connection on a listening socket: MP_ETIMEDOUT when none came
 * within timeout. */
int mp_os_socket_accept(mp_os_handle listener, double timeout, mp_os_handle *out);
/* Connect to ep, trying each address it resolves to, within timeout.
 * MP_EOS (with the OS's message) when refused or unreachable,
 * MP_ETIMEDOUT when no answer came in time. */
int mp_os_socket_connect(const mp_os_endpoint *ep, double timeout, mp_os_handle *out);
/* The address a socket is bound to, as an address string of the API, in a
 * buffer of at least MP_OS_ADDRESS_SIZE bytes:
 * "tcp://127.0.0.1:5000", "tcp://[::1]:5000", "unix:/path", "unix:@name". */
int mp_os_socket_address(mp_os_handle s, char *buf, size_t size);
/* Remove the file a UNIX listener was bound to (nothing for an abstract
 * name or TCP). */
void mp_os_socket_unbind(const mp_os_endpoint *ep);
/* As the pipe functions of the same names. */
int mp_os_socket_write(mp_os_handle s, const void *buf, size_t len);
int mp_os_socket_read(mp_os_handle s, void *buf, size_t len);
int mp_os_socket_read_some(mp_os_handle s, void *buf, size_t cap, size_t *got);
int mp_os_socket_poll(mp_os_handle s, double timeout);
/* Write len bytes within timeout, for a client whose every request has a
 * deadline (redis/): *written says how many went. MP_ETIMEDOUT once the
 * peer has taken no more for that long (the stream is then cut at an
 * unknown point: the caller gives the connection up), MP_EEOF once it has
 * closed (never SIGPIPE), MP_EOS. */
int mp_os_socket_write_within(mp_os_handle s, const void *buf, size_t len, double timeout, size_t *written);
/* Stop both directions of a connected socket: a thread blocked reading it
 * wakes with end of file. The socket stays open until closed. */
void mp_os_socket_shutdown(mp_os_handle s);
void mp_os_socket_close(mp_os_handle s);

/* ---- named pipes: npipe.c --------------------------------------------- */

/* Windows named pipes for "pipe:name" addresses (net.h), \\.\pipe\name, as
 * Python's PipeListener and PipeClient make them. What accept and connect
 * give is a pipe end of the kind mp_os_pipe makes on Windows (duplex,
 * byte mode, overlapped, not inheritable), so the pipe functions,
 * mp_os_wait and mp_os_handle_close work on it. POSIX has no such pipes:
 * there every function is MP_EUNSUPPORTED. name is what follows "pipe:",
 * in UTF-8, already checked by the core (not empty, no '\\' or '/'). */
typedef struct mp_os_npipe_listener mp_os_npipe_listener;
/* Create the pipe's first instance: MP_EOS when the name is taken. */
int mp_os_npipe_listen(const char *name, mp_os_npipe_listener **out);
/* The next client to connect: MP_ETIMEDOUT when none came within
 * timeout. Two threads may accept at once; each gets its own client. */
int mp_os_npipe_accept(mp_os_npipe_listener *l, double timeout, mp_os_handle *out);
/* Stop listening and free l; pipe ends accepted stay open. */
void mp_os_npipe_close(mp_os_npipe_listener *l);
/* Connect, waiting within timeout while every instance is taken. MP_EOS
 * (with the OS's message) when nothing listens there, MP_ETIMEDOUT. */
int mp_os_npipe_connect(const char *name, double timeout, mp_os_handle *out);

/* ---- passing handles over a connection: handle_pass.c ----------------- */

/* Python's reduction.send_handle and recv_handle. The core frames a handle
 * message (ipc/conn_handle.c, protocol.md §8); how the handle itself gets
 * to the other process is the system's:
 *   POSIX    the descriptor rides beside the message's bytes (SCM_RIGHTS),
 *            which only an AF_UNIX stream socket carries; the message says
 *            nothing more about it.
 *   Windows  the handle is duplicated into the destination process before
 *            the message goes, and the message carries its value there. */

/* MP_OK if conn (an end of mp_os_pipe, or a socket) can carry a handle.
 * POSIX: only a duplex AF_UNIX stream socket; duplex false, an end of a
 * one-way pipe, is refused, as its contract is a plain pipe's (above).
 * Otherwise MP_EUNSUPPORTED with a message. Windows: every connection. */
int mp_os_handle_carrier(mp_os_handle conn, bool duplex);

/* Get h ready to travel to process pid; *value is what the message carries.
 * POSIX: MP_EINVAL unless h is an open descriptor; *value = 0, pid unused.
 * Windows: duplicate h into pid (MP_EINVAL for what is not a handle, MP_EOS
 * if pid cannot be opened or does not exist); *value is the duplicate's
 * value in pid. h stays the caller's either way. */
int mp_os_handle_export(mp_os_handle h, long pid, uint64_t *value);
/* Undo an export whose message could not be sent: Windows closes the
 * duplicate in pid; nothing on POSIX, where export made nothing. */
void mp_os_handle_unexport(long pid, uint64_t value);

/* Write the frame of a handle message whole on conn (socket: a socket,
 * else a pipe end). POSIX: h goes beside its bytes; Windows: a plain
 * write, h is already in the frame. Errors as mp_os_pipe_write's. */
int mp_os_handle_write(mp_os_handle conn, bool socket, const void *frame, size_t len, mp_os_handle h);
/* Read exactly len bytes, as mp_os_pipe_read does, and keep the
 * descriptors that came beside them (POSIX, close-on-exec) in fds[*n..cap),
 * adding to *n; those past cap are closed. Windows: a plain read. */
int mp_os_handle_read(mp_os_handle conn, bool socket, void *buf, size_t len, mp_os_handle *fds, size_t cap,
                      size_t *n);

/* The handle a handle message stands for, the caller's from now on: POSIX,
 * the one descriptor that came beside it (pid and value unused); Windows,
 * value, which must have been duplicated into this very process. MP_EPROTO
 * otherwise. Closes nothing: the caller closes each of fds[0..n) that is not
 * *out. */
int mp_os_handle_import(long pid, uint64_t value, const mp_os_handle *fds, size_t n, mp_os_handle *out);

/* ---- external programs: popen.c -------------------------------------- */

/* Programs that are not this one (mproc/subprocess.h): started with exactly
 * three standard handles, watched through the process (a pidfd, or waitpid;
 * the process handle), never through end of file. The core checks the
 * options and buffers; this section starts, moves bytes and waits. */
typedef struct mp_os_program mp_os_program;

typedef struct mp_os_program_req {
    const char *const *argv; /* argv[0] is looked up in PATH when it has no separator */
    mp_stdio stdio[3];       /* stdin, stdout, stderr; MP_STDIO_STDOUT for stderr only */
    const char *cwd;
    mp_env_mode env_mode;
    const char *const *env;
    bool new_session;
} mp_os_program_req;

/* Signal numbers the core names (the same on every Linux and in Python). */
#define MP_OS_SIGTERM 15
#define MP_OS_SIGKILL 9

/* Start the program; pipes[i] is this process's end of stream i when
 * stdio[i] is MP_STDIO_PIPE (stdin's writes, the others read), else
 * MP_OS_NO_HANDLE. Those ends are not inheritable and are only for the
 * mp_os_stream_* calls below (and mp_os_wait for the read ends); close them
 * with mp_os_handle_close. MP_ENOENT, MP_EPERM, MP_EUNSUPPORTED (Windows
 * batch files), MP_ECHILD when the program cannot run; nothing runs then. */
int mp_os_program_start(const mp_os_program_req *req, mp_os_program **out, mp_os_handle pipes[3]);
long mp_os_program_pid(const mp_os_program *p);
/* MP_EUNSUPPORTED when the system gives nothing to wait for (no pidfd). */
int mp_os_program_sentinel(const mp_os_program *p, mp_sentinel *out);
/* MP_OK with the returncode (Python's convention) once it has ended and
 * been reaped, MP_ETIMEDOUT. Safe from several threads. */
int mp_os_program_wait(mp_os_program *p, double timeout, int *returncode);
/* Send sig (POSIX: any; Windows: MP_OS_SIGTERM and MP_OS_SIGKILL end it
 * and it reads back as -15; others MP_EUNSUPPORTED). MP_OK once it has
 * ended. */
int mp_os_program_signal(mp_os_program *p, int sig);
/* Kill it and its process group (job) if it still runs, reap it, free. */
void mp_os_program_free(mp_os_program *p);

/* Write len bytes to a stdin end within timeout; *written says how many
 * went. MP_EEOF once the program's end is closed (never SIGPIPE). */
int mp_os_stream_write(mp_os_handle h, const void *data, size_t len, double timeout, size_t *written);
/* Read 1..cap bytes from a stdout/stderr end, waiting up to timeout for
 * the first. MP_EEOF at end of file, MP_ETIMEDOUT. */
int mp_os_stream_read(mp_os_handle h, void *buf, size_t cap, double timeout, size_t *got);

/* communicate's pump: write input to in while reading out[0] and out[1],
 * all at once, until in is done (all written, or the program closed it:
 * that is no error) and both outputs are at end of file, or timeout.
 * A handle that is MP_OS_NO_HANDLE, or whose eof / in_done is already set,
 * takes no part. What is read goes to sink(ctx, 0 or 1, data, n), which may
 * fail (MP_ENOMEM) and so end the pump. MP_OK or MP_ETIMEDOUT, with
 * input_done, in_done and eof brought up to date either way. Once in is
 * done the pump closes it (so that the program sees end of file) and sets
 * it to MP_OS_NO_HANDLE; the output handles stay open.
 *
 * A program pool's exchange pumps the same way with three differences:
 * keep_in leaves in open once input is written (in_done then says only
 * that nothing is left to write, or that the program closed its end), and
 * the end of out[0] alone ends the pump (the replies can come no more); a
 * sink that returns a positive number ends the pump at once with MP_OK;
 * and watch, a program's sentinel (NULL: none), ends it with MP_ECHILD
 * once that program has ended and its outputs hold nothing more to read,
 * even while a grandchild keeps them open. coalesce (seconds, 0: none)
 * lets out[0]'s output gather after a small read before it is read
 * again, while the sink asks for more: a program that writes a reply at a
 * time then wakes us once per many replies, not once per reply. */
typedef struct mp_os_pump {
    mp_os_handle in;
    const unsigned char *input;
    size_t input_len, input_done;
    bool in_done;
    mp_os_handle out[2];
    bool eof[2];
    int (*sink)(void *ctx, int which, const void *data, size_t n);
    void *ctx;
    bool keep_in;
    const mp_sentinel *watch;
    double coalesce;
} mp_os_pump;

/* A read of out[0] this short makes the pump coalesce. */
#define MP_OS_PUMP_SMALL_READ 4096
int mp_os_stream_pump(mp_os_pump *p, double timeout);

/* ---- waiting for sentinels: wait.c ------------------------------------- */

/* Wait for any of n sentinels (see mp_wait): process sentinels, and read
 * ends of mp_os_pipe, named pipes (npipe.c) and connected sockets, ready
 * when a read would not block. */
int mp_os_wait(const mp_sentinel *s, size_t n, double timeout, bool *ready);

#endif
