/* mproc/subprocess.h - external programs (Python's subprocess.Popen and
 * subprocess.run): start a program that is not this one, talk to it over
 * its standard streams, wait for it.
 *
 * argv[0] is the program: a path, or a name looked up in PATH as
 * execvp does on POSIX and as CreateProcessW does on Windows (".exe" added
 * when missing). argv is UTF-8 and reaches the program unchanged: on
 * Windows it is quoted by the MSVCRT rules, so a program that parses its
 * command line with them (every C program) sees the same strings. Batch
 * files (.bat, .cmd) are refused with MP_EUNSUPPORTED: cmd.exe's quoting
 * cannot be made safe for arbitrary arguments.
 *
 * How it differs from Python, on purpose (docs/python-mapping.md):
 *   - a program that cannot be started (no such file, not executable) is
 *     an error from mp_popen_new (MP_ENOENT, MP_EPERM, or MP_ECHILD with
 *     the OS's message), as Python raises; never a child that exits 127;
 *   - the child inherits only its three standard handles: nothing of
 *     mproc's, no other descriptor or handle of this process (Python's
 *     close_fds=True; on Windows a handle list, which Python lacks);
 *   - exit is seen through the process (a pidfd or waitpid on POSIX, the
 *     process handle on Windows), never through end of file, so a
 *     grandchild that keeps stdout open does not hold up wait;
 *   - writing to a program that has gone is MP_EEOF, never a SIGPIPE that
 *     kills this process;
 *   - freeing a Popen that still runs kills it and its process group (a
 *     job object on Windows) and reaps it: no zombie, no orphan;
 *   - timeouts everywhere: read, readline, write, communicate, wait.
 *
 * returncode: the exit status (0..255 on POSIX; the exit code on Windows),
 * -N when killed by signal N (POSIX), -15 after mp_popen_terminate on
 * Windows too, as mproc's processes.
 *
 * Thread safety: one Popen may be used from several threads at once for
 * different streams (one thread writes stdin while another reads stdout);
 * two threads must not read the same stream at once. mp_popen_free must not
 * race with other calls on the same object.
 *
 * Errors: MP_EINVAL (NULL, empty argv, bad option), MP_ENOENT and MP_EPERM
 * (the program: Python's FileNotFoundError and PermissionError), MP_ECHILD
 * (any other failure to start it), MP_ECALLEDPROCESS (mp_run's check), MP_EUNSUPPORTED (.bat/.cmd), MP_ESTATE (a stream that is
 * not a pipe, or closed), MP_ETIMEDOUT, MP_EEOF (the program closed the
 * stream), MP_ETOOBIG (a line longer than the caller's limit), MP_ENOMEM,
 * MP_EOS.
 */
#ifndef MPROC_SUBPROCESS_H
#define MPROC_SUBPROCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/process.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mp_popen mp_popen;

/* What one standard stream of the program is. */
typedef enum mp_stdio {
    MP_STDIO_INHERIT = 0, /* this process's own (Python's None) */
    MP_STDIO_PIPE,        /* a pipe to this process (subprocess.PIPE) */
    MP_STDIO_DEVNULL,     /* the null device (subprocess.DEVNULL) */
    MP_STDIO_STDOUT       /* stderr only: into the same place as stdout (subprocess.STDOUT) */
} mp_stdio;

/* The program's environment. */
typedef enum mp_env_mode {
    MP_ENV_INHERIT = 0, /* this process's environment */
    MP_ENV_EXTEND,      /* this process's, with env's entries set on top */
    MP_ENV_REPLACE      /* env's entries only */
} mp_env_mode;

typedef struct mp_popen_options {
    mp_stdio stdin_, stdout_, stderr_;
    /* The working directory (UTF-8); NULL: this process's. */
    const char *cwd;
    mp_env_mode env_mode;
    /* "NAME=value" strings, NULL-terminated; NULL is none. */
    const char *const *env;
    /* start_new_session / process_group=0 (POSIX: setsid; Windows:
     * CREATE_NEW_PROCESS_GROUP). The program is always in a group of its
     * own for mp_popen_free's kill. */
    bool new_session;
} mp_popen_options;

#define MP_POPEN_OPTIONS_INIT {MP_STDIO_INHERIT, MP_STDIO_INHERIT, MP_STDIO_INHERIT, NULL, MP_ENV_INHERIT, NULL, false}

/* Popen(argv, ...): start the program. argv ends with NULL. On failure
 * nothing runs and *out is NULL. A console program started on Windows
 * opens no console window. */
int mp_popen_new(mp_popen **out, const char *const *argv, const mp_popen_options *opts);

/* The program's pid (Popen.pid). */
long mp_popen_pid(const mp_popen *p);

/* Write all len bytes to the program's stdin (a pipe), waiting up to
 * timeout for room. MP_ETIMEDOUT with *written (if not NULL) saying how
 * much went; MP_EEOF once the program has closed its stdin or ended. */
int mp_popen_write(mp_popen *p, const void *data, size_t len, double timeout, size_t *written);
/* Close stdin: the program sees end of file. Idempotent. */
int mp_popen_close_stdin(mp_popen *p);

/* Which output stream to read. */
typedef enum mp_popen_stream { MP_POPEN_STDOUT = 1, MP_POPEN_STDERR = 2 } mp_popen_stream;

/* Read what is there (up to cap bytes, at least one), waiting up to
 * timeout for the first. MP_EEOF at end of file (*got 0). */
int mp_popen_read(mp_popen *p, mp_popen_stream s, void *buf, size_t cap, double timeout, size_t *got);
/* One line, with its '\n' if it has one (the last line may lack it),
 * NUL-terminated in buf; *len is its length without the NUL. MP_ETOOBIG
 * when cap - 1 bytes came without a '\n' (they stay for the next read);
 * MP_ETIMEDOUT when no whole line came in time (what came stays);
 * MP_EEOF at end of file with nothing left. */
int mp_popen_readline(mp_popen *p, mp_popen_stream s, char *buf, size_t cap, double timeout, size_t *len);

/* communicate(input, timeout): write input (len bytes, may be 0; NULL with
 * 0) and close stdin, read stdout and stderr to their end, all three at
 * once so that nothing deadlocks, and wait for the program. *out and *err
 * (either may be NULL: that stream's output is then read and dropped) are
 * malloc'd, NUL-terminated (the caller frees them with free), their
 * lengths in *out_len and *err_len. On MP_ETIMEDOUT the program still runs,
 * as in Python, and what came so far is kept: a later communicate goes on
 * from there (its input is ignored) and gives everything. */
int mp_popen_communicate(mp_popen *p, const void *input, size_t len, double timeout, char **out, size_t *out_len,
                         char **err, size_t *err_len);

/* poll(): MP_OK with *returncode once the program has ended, MP_ETIMEDOUT
 * while it runs. */
int mp_popen_poll(mp_popen *p, int *returncode);
/* wait(timeout): MP_OK with *returncode, or MP_ETIMEDOUT. returncode may be
 * NULL. */
int mp_popen_wait(mp_popen *p, double timeout, int *returncode);
/* send_signal(sig) (POSIX: any signal; Windows: SIGTERM and SIGKILL
 * terminate, others are MP_EUNSUPPORTED), terminate(), kill(). Nothing
 * happens (MP_OK) once the program has ended. */
int mp_popen_send_signal(mp_popen *p, int sig);
int mp_popen_terminate(mp_popen *p);
int mp_popen_kill(mp_popen *p);
/* A sentinel for mp_wait, ready once the program has ended (a pidfd on
 * Linux: MP_EUNSUPPORTED on a kernel without pidfd_open, where wait still
 * works by polling waitpid). */
int mp_popen_sentinel(const mp_popen *p, mp_sentinel *out);

/* Kill the program and its process group if it still runs, reap it,
 * close the pipes, free. NULL is accepted. */
void mp_popen_free(mp_popen *p);

/* ---- run() ---------------------------------------------------------------- */

typedef struct mp_completed {
    int returncode;
    char *out, *err; /* NUL-terminated, malloc'd; NULL unless captured */
    size_t out_len, err_len;
} mp_completed;

typedef struct mp_run_options {
    mp_popen_options popen; /* its stdout_ and stderr_ are set by capture */
    /* capture_output=True: stdout and stderr are pipes, kept in the result. */
    bool capture_output;
    /* check=True: a returncode other than 0 is MP_ECALLEDPROCESS
     * (CalledProcessError: "<program> exited with N") after the result
     * was filled in. */
    bool check;
} mp_run_options;

/* run(argv, input=..., timeout=...): start, communicate, wait. On
 * MP_ETIMEDOUT the program is killed and reaped (Python's TimeoutExpired)
 * and *result holds what came. *result is the caller's: mp_completed_free. */
int mp_run(const char *const *argv, const mp_run_options *opts, const void *input, size_t len, double timeout,
           mp_completed *result);
void mp_completed_free(mp_completed *c);

#ifdef __cplusplus
}
#endif

#endif
