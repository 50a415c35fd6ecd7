/* program.c - this program's argv, read from the real UTF-16 command line:
 * MinGW's narrow argv is in the ANSI code page and mangles UTF-8. */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "base/error_internal.h"
#include "platform.h"

int mp_os_own_argv(int argc, char **argv, int *out_argc, char ***out_argv)
{
    (void)argc;
    (void)argv;
    if (out_argc == NULL || out_argv == NULL)
        return mp_fail(MP_EINVAL, "mp_os_own_argv: NULL output");
    return mp_win_cmdline_parse(GetCommandLineW(), out_argc, out_argv);
}

/* A spawned child's command line is exactly: <exe> <marker> <token>. */
bool mp_os_cmdline_has(const char *marker)
{
    int argc;
    char **argv;
    if (marker == NULL || mp_win_cmdline_parse(GetCommandLineW(), &argc, &argv) != MP_OK)
        return false;
    bool has = argc >= 2 && strcmp(argv[1], marker) == 0;
    free(argv);
    return has;
}
