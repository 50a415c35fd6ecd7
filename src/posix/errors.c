/* errors.c - the OS error code and its text.
 *
 * mp_fail_os calls mp_os_error_text while it builds the thread's message,
 * so nothing here may record an error of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "platform.h"

int mp_os_last_error(void)
{
    return errno;
}

void mp_os_error_text(int oserr, char *buf, size_t size)
{
#if defined(__GLIBC__)
    const char *text = strerror_r(oserr, buf, size);
    if (text != buf)
        snprintf(buf, size, "%s", text);
#else
    if (strerror_r(oserr, buf, size) != 0)
        snprintf(buf, size, "error %d", oserr);
#endif
}
