/* child.h - a started child as the parent holds it. Shared by starting
 * children (child_start.c) and watching them (child_control.c). */
#ifndef MPROC_WIN32_CHILD_H
#define MPROC_WIN32_CHILD_H

#include <windows.h>

#include <stdbool.h>

#include "platform.h"

/* The exit code TerminateProcess gives; read back as -15 (SIGTERM), as
 * Python does. */
#define MP_WIN_TERMINATE_CODE 0x10000u

struct mp_os_child {
    HANDLE process; /* the sentinel; full access, as CreateProcessW gave it */
    DWORD pid;
    bool ended;
    int exitcode; /* Python's convention, once ended */
};

#endif
