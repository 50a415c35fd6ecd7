/* job.c - daemonic children die with this process, even when it is killed:
 * they run in a job object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE whose only
 * handle is this process's, so the system closes it, and kills the job, when
 * this process ends. The handle is not inheritable, so no child keeps the job
 * alive. It is made once and lives as long as the process. A helper of
 * starting children (child_start.c). */
#include <windows.h>

#include "base/error_internal.h"
#include "job.h"

static INIT_ONCE job_once = INIT_ONCE_STATIC_INIT;
static HANDLE job;

static BOOL CALLBACK make_job(PINIT_ONCE once, PVOID error, PVOID *context)
{
    (void)once;
    (void)context;
    HANDLE h = CreateJobObjectW(NULL, NULL);
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    if (h == NULL || !SetInformationJobObject(h, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
        *(DWORD *)error = GetLastError();
        if (h != NULL)
            CloseHandle(h);
        return FALSE;
    }
    job = h;
    return TRUE;
}

int mp_win_job_prepare(void)
{
    DWORD error = 0;
    if (!InitOnceExecuteOnce(&job_once, make_job, &error, NULL))
        return mp_fail_os(MP_EOS, (int)error,
                          "mp_process_start: cannot make the job object for daemonic children");
    return MP_OK;
}

int mp_win_job_adopt(HANDLE process, DWORD pid)
{
    int rc = mp_win_job_prepare();
    if (rc != MP_OK)
        return rc;
    if (!AssignProcessToJobObject(job, process))
        return mp_fail_os(MP_EOS, (int)GetLastError(),
                          "mp_process_start: cannot put daemonic child %lu in this process's job",
                          (unsigned long)pid);
    return MP_OK;
}
