/* mproc/error.h - error codes and error messages.
 *
 * Every mproc call that can fail returns an int: MP_OK (0) or a negative
 * MP_E* code. Bad input never aborts or crashes; it returns a code.
 *
 * Besides the code, a failing call leaves a message for the calling thread
 * (mp_last_error) that says what went wrong in words, and, when the cause
 * was the operating system, the raw OS error (errno or GetLastError) in
 * mp_last_os_error. Both are per thread and are overwritten by the next
 * failing call in that thread; successful calls leave them alone.
 *
 * Thread safety: all functions here are safe from any thread.
 */
#ifndef MPROC_ERROR_H
#define MPROC_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* The one list of codes: X(name, value, description). Codes are stable:
 * new ones are appended, none is renumbered. */
#define MP_ERROR_LIST(X)                                                       \
    X(OK, 0, "success")                                                        \
    X(EINVAL, -1, "invalid argument")                                          \
    X(ENOMEM, -2, "out of memory")                                             \
    X(ESTATE, -3, "operation not valid in the object's current state")         \
    X(ETIMEDOUT, -4, "timed out")                                              \
    X(EUNSUPPORTED, -5, "not supported on this system")                        \
    X(ENOTREG, -6, "not registered")                                           \
    X(EEXIST, -7, "already registered or already exists")                      \
    X(EPROTO, -8, "malformed message")                                         \
    X(ETOOBIG, -9, "too large")                                                \
    X(EFORMAT, -10, "bad format string")                                       \
    X(ETYPE, -11, "value has the wrong type")                                  \
    X(ERANGE, -12, "value out of range")                                       \
    X(EOS, -13, "operating system error")                                      \
    X(ERUNNING, -14, "process has not exited yet")                             \
    X(EBOOTSTRAP, -15, "process is still bootstrapping")                       \
    X(ECHILD, -16, "child process failed to start")                            \
    X(EEOF, -17, "end of file")                                                \
    X(EOWNERDEAD, -18, "acquired, but its previous owner died holding it")     \
    X(EEMPTY, -19, "empty (queue.Empty)")                                      \
    X(EFULL, -20, "full (queue.Full)")                                         \
    X(EBROKEN, -21, "barrier is broken (BrokenBarrierError)")                 \
    X(EREMOTE, -22, "a pool task raised an error")                             \
    X(EWORKERDIED, -23, "the pool worker running the task died")               \
    X(EINITIALIZER, -24, "the pool's worker initializer failed")            \
    X(EAUTH, -25, "authentication failed")                                     \
    X(ECONNRESET, -26, "the connection to the peer was lost")               \
    X(ENOENT, -27, "no such file or directory (FileNotFoundError)")          \
    X(EPERM, -28, "permission denied (PermissionError)")                     \
    X(ECALLEDPROCESS, -29, "the program exited with a non-zero code (CalledProcessError)")

enum {
#define MP_ERROR_ENUM_(name, value, text) MP_##name = value,
    MP_ERROR_LIST(MP_ERROR_ENUM_)
#undef MP_ERROR_ENUM_
};

/* A short description of a code ("timed out"). Never NULL; unknown codes
 * give "unknown error". The string is static: valid for the life of the
 * program. */
const char *mp_strerror(int code);

/* The code's name as written in C ("MP_ETIMEDOUT"). Never NULL; unknown
 * codes give "MP_E?". Static, as mp_strerror's. */
const char *mp_errname(int code);

/* The message of the last failure in this thread: what failed and why, in
 * words ("mp_process_start: target 'work' is not registered; add
 * MP_TARGET(work)"). Empty string if nothing failed yet. The pointer stays
 * valid until the next failing mproc call in this thread. */
const char *mp_last_error(void);

/* The raw OS error of the last MP_EOS (or OS-caused) failure in this thread:
 * errno on POSIX, GetLastError() on Windows; 0 if the last failure had no
 * OS cause. For diagnostics only. */
int mp_last_os_error(void);

#ifdef __cplusplus
}
#endif

#endif
