/* platform.h - the one seam between the portable core and the OS.
 *
 * The core (the .c files directly in src/) includes no OS header; whatever it
 * needs from the OS it asks for here. src/posix/ and src/win32/ each implement
 * every function below. Platform code may use the core's internal helpers
 * (errors.h, frame.h, pack.h), never the other way round.
 *
 * Conventions: functions return MP_OK or a negative MP_E* code and, on
 * failure, set the thread's error message with mp_fail / mp_fail_os
 * (errors.h). Handles are intptr_t: a file descriptor on POSIX, a HANDLE on
 * Windows. Timeouts are seconds, negative meaning forever.
 */
#ifndef MPROC_PLATFORM_H
#define MPROC_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/error.h"
#include "mproc/pack.h"
#include "mproc/process.h"

typedef intptr_t mp_os_handle;

/* ---- errors ------------------------------------------------------------ */

/* The calling thread's last OS error (errno / GetLastError()). */
int mp_os_last_error(void);
/* Describe an OS error code in UTF-8 into buf (always NUL-terminated). */
void mp_os_error_text(int oserr, char *buf, size_t size);

/* ---- time, identity, machine ------------------------------------------- */

double mp_os_monotonic(void); /* seconds, monotonic clock */
void mp_os_sleep(double seconds);
long mp_os_getpid(void);
int mp_os_cpu_count(void); /* >= 1 */
int mp_os_random(void *buf, size_t len); /* cryptographic quality */

/* One process-wide lock for the core's registries. On POSIX it is held
 * across fork (pthread_atfork) so a forked child finds it unlocked. */
void mp_os_global_lock(void);
void mp_os_global_unlock(void);

/* ---- this program ------------------------------------------------------ */

/* This process's argv in UTF-8, as a NULL-terminated array in one malloc'd
 * block (free with free()). POSIX copies argv; Windows ignores it and parses
 * GetCommandLineW() by the MSVCRT rules. */
int mp_os_own_argv(int argc, char **argv, int *out_argc, char ***out_argv);

/* True if this process's real command line (not argv as the program may
 * have changed it) carries the spawn child marker; lets the core refuse
 * process starts in a spawned child before mp_main ran. */
bool mp_os_cmdline_has(const char *marker);

bool mp_os_supports(mp_start_method method);

/* ---- starting and watching children (parent side) ---------------------- */

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

long mp_os_child_pid(const mp_os_child *c);
/* Ready when the child ends; owned by c. A grandchild holding inherited
 * descriptors must not delay it. */
mp_sentinel mp_os_child_sentinel(const mp_os_child *c);

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

/* Wait for any of n sentinels (see mp_wait). */
int mp_os_wait(const mp_sentinel *s, size_t n, double timeout, bool *ready);

/* ---- the child side ---------------------------------------------------- */

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

/* The forkserver process: serve requests on the channel named by token
 * until the parent goes away; each forked child calls entry with its
 * handoff blob. Never returns. POSIX only. */
typedef void (*mp_os_child_entry)(const unsigned char *handoff, size_t len);
void mp_os_forkserver_main(const char *token, mp_os_child_entry entry);

#endif
