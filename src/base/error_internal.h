/* error_internal.h - setting the calling thread's error (see mproc/error.h). */
#ifndef MPROC_ERROR_INTERNAL_H
#define MPROC_ERROR_INTERNAL_H

#include <stdarg.h>

#include "mproc/error.h"

/* MinGW builds use its C99 printf (__USE_MINGW_ANSI_STDIO), so the format
 * checks follow GNU rules there too (%zu, %lld). */
#if defined(__MINGW32__)
#define MP_PRINTF_(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#define MP_PRINTF_(f, a) __attribute__((format(printf, f, a)))
#else
#define MP_PRINTF_(f, a)
#endif

/* Record code and a printf message for this thread; return code. */
int mp_fail(int code, const char *fmt, ...) MP_PRINTF_(2, 3);
int mp_vfail(int code, const char *fmt, va_list ap) MP_PRINTF_(2, 0);

/* The same, with an OS error: the message gets ": <OS text> (os error N)"
 * appended and mp_last_os_error() returns oserr. */
int mp_fail_os(int code, int oserr, const char *fmt, ...) MP_PRINTF_(3, 4);

#endif
