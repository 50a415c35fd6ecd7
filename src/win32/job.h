/* job.h - the job object that ties daemonic children to this process. A
 * helper of starting children (child_start.c). */
#ifndef MPROC_WIN32_JOB_H
#define MPROC_WIN32_JOB_H

#include <windows.h>

/* Make the job if it does not exist yet. */
int mp_win_job_prepare(void);

/* Put a (suspended) child in the job: it is killed when this process ends,
 * however it ends. */
int mp_win_job_adopt(HANDLE process, DWORD pid);

#endif
