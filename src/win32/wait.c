/* wait.c - waiting for any of many handles (mp_wait).
 *
 * WaitForMultipleObjects takes at most 64 handles, each at most once. So the
 * handles are made distinct first; up to 64 are waited for directly. Beyond
 * that they are split into groups of 63, each waited for together with one
 * shared manual-reset stop event: this thread takes the first group, a
 * helper thread each other group. Whoever sees a handle ready sets stop,
 * which wakes everyone. Every handle is then polled, so that all the ready
 * ones are reported, not just the first.
 *
 * Waiting must not change the objects: process and thread handles and
 * manual-reset events qualify; an auto-reset event, a mutex or a semaphore
 * would be taken by the wait. A pipe end or a socket cannot be waited for
 * at all: it is stood in for by the event of a zero-byte read (a socket: a
 * one-byte peek) on it (pipe_probe.h), which completes when it becomes
 * readable, so pipes and sockets add no latency. */
#include <windows.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "clock.h"
#include "pipe_probe.h"
#include "platform.h"

#define GROUP_SIZE (MAXIMUM_WAIT_OBJECTS - 1)
#define HELPER_STACK (64 * 1024)

typedef struct group {
    HANDLE handles[MAXIMUM_WAIT_OBJECTS]; /* up to GROUP_SIZE, then stop */
    DWORD n;
    HANDLE thread;
    DWORD error; /* of a failed wait, else 0 */
} group;

static int wait_failed(DWORD err)
{
    return mp_fail_os(err == ERROR_INVALID_HANDLE ? MP_EINVAL : MP_EOS, (int)err, "mp_wait: cannot wait");
}

/* MP_OK once one of h is ready or the deadline has passed. */
static int wait_any(const HANDLE *h, DWORD n, double deadline)
{
    for (;;) {
        DWORD r = WaitForMultipleObjects(n, h, FALSE, mp_win_wait_ms(deadline));
        if (r == WAIT_FAILED)
            return wait_failed(GetLastError());
        if (r != WAIT_TIMEOUT || mp_os_monotonic() >= deadline)
            return MP_OK;
    }
}

static DWORD WINAPI helper(LPVOID arg)
{
    group *g = arg;
    if (WaitForMultipleObjects(g->n, g->handles, FALSE, INFINITE) == WAIT_FAILED)
        g->error = GetLastError();
    SetEvent(g->handles[g->n - 1]);
    return 0;
}

static int wait_groups(const HANDLE *h, size_t n, double deadline)
{
    size_t ngroups = (n + GROUP_SIZE - 1) / GROUP_SIZE;
    group *g = calloc(ngroups, sizeof *g);
    HANDLE stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    int rc = MP_OK;
    if (g == NULL)
        rc = mp_fail(MP_ENOMEM, "out of memory");
    else if (stop == NULL)
        rc = mp_fail_os(MP_EOS, (int)GetLastError(), "mp_wait: CreateEvent");
    for (size_t i = 0; rc == MP_OK && i < ngroups; i++) {
        size_t first = i * GROUP_SIZE;
        g[i].n = (DWORD)(n - first < GROUP_SIZE ? n - first : GROUP_SIZE);
        for (DWORD k = 0; k < g[i].n; k++)
            g[i].handles[k] = h[first + k];
        g[i].handles[g[i].n++] = stop;
    }
    for (size_t i = 1; rc == MP_OK && i < ngroups; i++) {
        g[i].thread =
            CreateThread(NULL, HELPER_STACK, helper, &g[i], STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
        if (g[i].thread == NULL)
            rc = mp_fail_os(MP_EOS, (int)GetLastError(), "mp_wait: CreateThread");
    }
    if (rc == MP_OK)
        rc = wait_any(g[0].handles, g[0].n, deadline);
    if (stop != NULL)
        SetEvent(stop);
    for (size_t i = 1; g != NULL && i < ngroups; i++) {
        if (g[i].thread == NULL)
            continue;
        WaitForSingleObject(g[i].thread, INFINITE);
        CloseHandle(g[i].thread);
        if (rc == MP_OK && g[i].error != 0)
            rc = wait_failed(g[i].error);
    }
    if (stop != NULL)
        CloseHandle(stop);
    free(g);
    return rc;
}

static int compare_handles(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const HANDLE *)a, y = (uintptr_t) * (const HANDLE *)b;
    return (x > y) - (x < y);
}

/* Windows gives a socket the file type of a pipe; a stack that says
 * "unknown" instead is asked by Winsock. Both are probed (pipe_probe.h). */
static bool is_pipe(mp_sentinel s)
{
    DWORD type = GetFileType((HANDLE)s);
    return type == FILE_TYPE_PIPE || (type == FILE_TYPE_UNKNOWN && mp_win_is_socket((HANDLE)s));
}

/* The number of ready handles in h, or an error. */
static int poll_all(const HANDLE *h, size_t n, bool *ready)
{
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        DWORD r = WaitForSingleObject(h[i], 0);
        if (r == WAIT_FAILED)
            return wait_failed(GetLastError());
        ready[i] = r != WAIT_TIMEOUT;
        count += ready[i];
    }
    return count;
}

/* Wait for any of the n waitable handles h until deadline; the number of
 * ready ones, 0 if none by the deadline, or an error. */
static int wait_handles(const HANDLE *h, size_t n, double deadline, bool *ready)
{
    HANDLE *distinct = malloc(n * sizeof *distinct);
    if (distinct == NULL)
        return mp_fail(MP_ENOMEM, "out of memory");
    memcpy(distinct, h, n * sizeof *distinct);
    qsort(distinct, n, sizeof *distinct, compare_handles);
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        if (distinct[i] != distinct[m - 1])
            distinct[m++] = distinct[i];
    int rc;
    do {
        rc = m <= MAXIMUM_WAIT_OBJECTS ? wait_any(distinct, (DWORD)m, deadline)
                                       : wait_groups(distinct, m, deadline);
        if (rc == MP_OK)
            rc = poll_all(h, n, ready);
    } while (rc == 0 && mp_os_monotonic() < deadline);
    free(distinct);
    return rc;
}

/* A pipe cannot be waited for, but a probe's event can (pipe_probe.h): each pipe
 * sentinel is replaced by the event of a zero-byte read on it, and its
 * readiness is what the probe saw by the time it is stopped. */
int mp_os_wait(const mp_sentinel *s, size_t n, double timeout, bool *ready)
{
    if (s == NULL || ready == NULL || n == 0)
        return mp_fail(MP_EINVAL, "mp_wait: no objects to wait for");
    if (n > INT_MAX)
        return mp_fail(MP_ETOOBIG, "mp_wait: too many objects");
    double deadline = mp_deadline(timeout);
    HANDLE *h = malloc(n * sizeof *h);
    mp_win_probe *probes = calloc(n, sizeof *probes);
    int rc = h != NULL && probes != NULL ? MP_OK : mp_fail(MP_ENOMEM, "out of memory");
    size_t started = 0;
    for (; rc == MP_OK && started < n; started++) {
        h[started] = (HANDLE)s[started];
        if (is_pipe(s[started])) {
            rc = mp_win_probe_start(&probes[started], (HANDLE)s[started], &ready[started]);
            h[started] = probes[started].ov.hEvent;
        }
    }
    if (rc == MP_OK)
        rc = wait_handles(h, n, deadline, ready);
    for (size_t i = 0; i < started; i++)
        if (probes[i].ov.hEvent != NULL)
            ready[i] = mp_win_probe_end(&probes[i]);
    free(probes);
    free(h);
    if (rc < 0)
        return rc;
    int count = 0;
    for (size_t i = 0; i < n; i++)
        count += ready[i];
    return count > 0 ? count : MP_ETIMEDOUT;
}
