/* forkserver.c - Windows has no forkserver (mp_os_supports says so); a
 * command line that asks for one ends the process with a message. */
#include <stdio.h>
#include <stdlib.h>

#include "platform.h"

_Noreturn void mp_os_forkserver_main(const char *token, mp_os_child_entry entry)
{
    (void)token;
    (void)entry;
    fputs("mproc: the forkserver start method does not exist on Windows\n", stderr);
    exit(1);
}
