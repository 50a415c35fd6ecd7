/* error_internal.h - setting the calling thread's error (see mproc/error.h). */
#ifndef MPROC_ERROR_INTERNAL_H
#define MPROC_ERROR_INTERNAL_H

#include "mproc/error.h"
#include "mproc/registry.h"

/* MinGW builds use its C99 printf (__USE_MINGW_ANSI_STDIO), so the format
 * checks follow GNU rules there too (%zu, %lld). */
#if defined(__MINGW32__)
#define MP_PRINTF_(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#define MP_PRINTF_(f, a) __attribute__((format(printf, f, a)))
#else
#define MP_PRINTF_(f, a)
#endif

/* The size of an error message, its NUL included: a longer one is cut. */
#define MP_ERROR_MESSAGE_SIZE 1024

/* Record code and a printf message for this thread; return code. One
 * function with the public mp_raise (mproc/registry.h), which targets use
 * for their own errors; the core's call sites keep their name for it. */
#define mp_fail mp_raise

/* The same, with an OS error: the message gets ": <OS text> (os error N)"
 * appended and mp_last_os_error() returns oserr. */
int mp_fail_os(int code, int oserr, const char *fmt, ...) MP_PRINTF_(3, 4);

#endif
