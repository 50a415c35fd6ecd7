/* program.c - this program's argv and real command line. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "platform.h"

int mp_os_own_argv(int argc, char **argv, int *out_argc, char ***out_argv)
{
    if (argc < 0 || (argc > 0 && argv == NULL))
        return mp_fail(MP_EINVAL, "mp_main: bad argc/argv");
    size_t bytes = ((size_t)argc + 1) * sizeof(char *);
    for (int i = 0; i < argc; i++)
        bytes += strlen(argv[i] ? argv[i] : "") + 1;
    char **block = malloc(bytes);
    if (block == NULL)
        return mp_fail(MP_ENOMEM, "mp_main: out of memory for argv");
    char *text = (char *)(block + argc + 1);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i] ? argv[i] : "";
        size_t len = strlen(arg) + 1;
        memcpy(text, arg, len);
        block[i] = text;
        text += len;
    }
    block[argc] = NULL;
    *out_argc = argc;
    *out_argv = block;
    return MP_OK;
}

bool mp_os_cmdline_has(const char *marker)
{
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[4096];
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
