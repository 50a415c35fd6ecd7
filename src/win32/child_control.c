/* child_control.c - the parent's side of a started child: its pid and
 * sentinel, waiting for it, terminating it, releasing it. Windows has no
 * zombies: a child's exit code stays readable while its handle is open. */
#include <windows.h>

#include <stdlib.h>

#include "base/error_internal.h"
#include "child.h"
#include "clock.h"

long mp_os_child_pid(const mp_os_child *c)
{
    return c == NULL ? -1 : (long)c->pid;
}

int mp_os_child_sentinel(mp_os_child *c, mp_sentinel *out)
{
    *out = c == NULL ? (mp_sentinel)0 : (mp_sentinel)(uintptr_t)c->process;
    return MP_OK;
}

/* Python's exit codes: terminate reads as SIGTERM and an access violation as
 * SIGSEGV, so that both systems agree. */
static int python_exitcode(DWORD code)
{
    if (code == MP_WIN_TERMINATE_CODE)
        return -15;
    if (code == (DWORD)STATUS_ACCESS_VIOLATION)
        return -11;
    return (int)code;
}

int mp_os_child_wait(mp_os_child *c, double timeout, int *exitcode)
{
    if (c == NULL || exitcode == NULL)
        return mp_fail(MP_EINVAL, "mp_os_child_wait: NULL argument");
    if (!c->ended) {
        int rc = mp_win_wait_one(c->process, timeout);
        if (rc != MP_OK)
            return rc;
        DWORD code;
        if (!GetExitCodeProcess(c->process, &code))
            return mp_fail_os(MP_EOS, (int)GetLastError(), "GetExitCodeProcess of child %lu",
                              (unsigned long)c->pid);
        c->exitcode = python_exitcode(code);
        c->ended = true;
    }
    *exitcode = c->exitcode;
    return MP_OK;
}

/* Windows has one way to stop a process, so kill is terminate. */
int mp_os_child_signal(mp_os_child *c, bool kill)
{
    (void)kill;
    if (c == NULL)
        return mp_fail(MP_EINVAL, "mp_os_child_signal: NULL child");
    if (c->ended || TerminateProcess(c->process, MP_WIN_TERMINATE_CODE))
        return MP_OK;
    /* A process that has ended refuses TerminateProcess (access denied). */
    DWORD err = GetLastError();
    if (WaitForSingleObject(c->process, 0) == WAIT_OBJECT_0)
        return MP_OK;
    return mp_fail_os(MP_EOS, (int)err, "TerminateProcess of child %lu", (unsigned long)c->pid);
}

void mp_os_child_free(mp_os_child *c)
{
    if (c == NULL)
        return;
    CloseHandle(c->process);
    free(c);
}
