/* program.c - this program's argv and real command line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "platform.h"

static const char *arg_at(const void *argv, size_t i)
{
    const char *arg = ((char *const *)argv)[i];
    return arg ? arg : "";
}

int mp_os_own_argv(int argc, char **argv, int *out_argc, char ***out_argv)
{
    if (argc < 0 || (argc > 0 && argv == NULL))
        return mp_fail(MP_EINVAL, "mp_main: bad argc/argv");
    char **block = mp_strv_dup((size_t)argc, arg_at, argv);
    if (block == NULL)
        return mp_fail(MP_ENOMEM, "mp_main: out of memory for argv");
    *out_argc = argc;
    *out_argv = block;
    return MP_OK;
}

/* /proc/self/cmdline is read this far: the markers sit near the start. */
#define CMDLINE_READ_SIZE 4096

bool mp_os_cmdline_has(const char *marker)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[CMDLINE_READ_SIZE];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && ((n = read(fd, buf + len, sizeof buf - 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    close(fd);
    buf[len] = '\0';
    for (size_t at = 0; at < len; at += strlen(buf + at) + 1)
        if (strcmp(buf + at, marker) == 0)
            return true;
    return false;
}
