/* thread.c - native threads, SRW-lock mutexes, condition variables and
 * fiber-local slots (whose destructor runs when a thread ends). There is
 * no fork on Windows, so nothing needs resetting. */
#include <windows.h>

#include <process.h>
#include <stdlib.h>

#include "clock.h"
#include "base/error_internal.h"
#include "platform.h"
#include "base/timeout.h"

struct mp_os_thread {
    HANDLE h;
};

typedef struct start_block {
    void (*fn)(void *);
    void *arg;
} start_block;

struct mp_os_mutex {
    SRWLOCK lock;
};

struct mp_os_cond {
    CONDITION_VARIABLE cv;
};

struct mp_os_tls {
    DWORD index;
    void (*dtor)(void *);
};

static unsigned __stdcall thread_main(void *p)
{
    start_block b = *(start_block *)p;
    free(p);
    b.fn(b.arg);
    return 0;
}

int mp_os_thread_start(mp_os_thread **out, void (*fn)(void *arg), void *arg)
{
    mp_os_thread *t = malloc(sizeof *t);
    start_block *b = malloc(sizeof *b);
    if (t == NULL || b == NULL) {
        free(t);
        free(b);
        return mp_fail(MP_ENOMEM, "thread: out of memory");
    }
    *b = (start_block){fn, arg};
    uintptr_t h = _beginthreadex(NULL, 0, thread_main, b, 0, NULL);
    if (h == 0) {
        free(t);
        free(b);
        return mp_fail_os(MP_EOS, (int)GetLastError(), "_beginthreadex");
    }
    t->h = (HANDLE)h;
    *out = t;
    return MP_OK;
}

void mp_os_thread_join(mp_os_thread *t)
{
    WaitForSingleObject(t->h, INFINITE);
    CloseHandle(t->h);
    free(t);
}

void mp_os_thread_detach(mp_os_thread *t)
{
    CloseHandle(t->h);
    free(t);
}

uint64_t mp_os_thread_id(void)
{
    return GetCurrentThreadId();
}

uint64_t mp_os_thread_native_id(void)
{
    return GetCurrentThreadId();
}

/* Thread ids are reused across processes: the thread found must be pid's. */
bool mp_os_thread_alive(long pid, uint64_t thread)
{
    HANDLE h = OpenThread(SYNCHRONIZE | THREAD_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)thread);
    if (h == NULL)
        return GetLastError() != ERROR_INVALID_PARAMETER;
    bool alive = GetProcessIdOfThread(h) == (DWORD)pid && WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
    CloseHandle(h);
    return alive;
}

int mp_os_mutex_new(mp_os_mutex **out)
{
    mp_os_mutex *m = malloc(sizeof *m);
    if (m == NULL)
        return mp_fail(MP_ENOMEM, "mutex: out of memory");
    InitializeSRWLock(&m->lock);
    *out = m;
    return MP_OK;
}

void mp_os_mutex_free(mp_os_mutex *m)
{
    free(m);
}

void mp_os_mutex_lock(mp_os_mutex *m)
{
    AcquireSRWLockExclusive(&m->lock);
}

bool mp_os_mutex_trylock(mp_os_mutex *m)
{
    return TryAcquireSRWLockExclusive(&m->lock) != 0;
}

void mp_os_mutex_unlock(mp_os_mutex *m)
{
    ReleaseSRWLockExclusive(&m->lock);
}

int mp_os_cond_new(mp_os_cond **out)
{
    mp_os_cond *c = malloc(sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "condition variable: out of memory");
    InitializeConditionVariable(&c->cv);
    *out = c;
    return MP_OK;
}

void mp_os_cond_free(mp_os_cond *c)
{
    free(c);
}

/* A sleep can end a little before its time; that is reported as a spurious
 * wake-up (MP_OK), not a timeout, so callers never see MP_ETIMEDOUT early.
 * Sleeping again here instead could miss a signal sent meanwhile. */
int mp_os_cond_wait(mp_os_cond *c, mp_os_mutex *m, double timeout)
{
    double deadline = mp_deadline(timeout);
    if (SleepConditionVariableSRW(&c->cv, &m->lock, mp_win_wait_ms(deadline), 0))
        return MP_OK;
    if (GetLastError() == ERROR_TIMEOUT && mp_os_monotonic() >= deadline)
        return MP_ETIMEDOUT;
    return MP_OK;
}

void mp_os_cond_signal(mp_os_cond *c)
{
    WakeConditionVariable(&c->cv);
}

void mp_os_cond_broadcast(mp_os_cond *c)
{
    WakeAllConditionVariable(&c->cv);
}

/* FlsFree calls the slot's callback on every thread's value, but a freed
 * mp_tls leaves its values alone, and the callback gets only the value. So
 * a slot holds a cell that names its key and destructor, and the thread
 * inside mp_os_tls_free marks which key it is freeing: callbacks for that
 * key only free their cells. A cell is made on a thread's first set. */
typedef struct tls_cell {
    const mp_os_tls *key; /* compared, never followed */
    void (*dtor)(void *);
    void *value;
} tls_cell;

static _Thread_local const mp_os_tls *freeing;

static void WINAPI cell_done(void *p)
{
    tls_cell *cell = p;
    if (cell->key != freeing && cell->dtor != NULL && cell->value != NULL)
        cell->dtor(cell->value);
    free(cell);
}

int mp_os_tls_new(mp_os_tls **out, void (*dtor)(void *))
{
    mp_os_tls *k = malloc(sizeof *k);
    if (k == NULL)
        return mp_fail(MP_ENOMEM, "thread-local: out of memory");
    k->dtor = dtor;
    k->index = FlsAlloc(cell_done);
    if (k->index == FLS_OUT_OF_INDEXES) {
        free(k);
        return mp_fail_os(MP_EOS, (int)GetLastError(), "FlsAlloc");
    }
    *out = k;
    return MP_OK;
}

void mp_os_tls_free(mp_os_tls *k)
{
    if (k == NULL)
        return;
    freeing = k;
    FlsFree(k->index);
    freeing = NULL;
    free(k);
}

void *mp_os_tls_get(mp_os_tls *k)
{
    tls_cell *cell = FlsGetValue(k->index);
    return cell != NULL ? cell->value : NULL;
}

int mp_os_tls_set(mp_os_tls *k, void *value)
{
    tls_cell *cell = FlsGetValue(k->index);
    if (cell != NULL) {
        cell->value = value;
        return MP_OK;
    }
    if (value == NULL)
        return MP_OK;
    cell = malloc(sizeof *cell);
    if (cell == NULL)
        return mp_fail(MP_ENOMEM, "thread-local: out of memory");
    *cell = (tls_cell){.key = k, .dtor = k->dtor, .value = value};
    if (!FlsSetValue(k->index, cell)) {
        DWORD err = GetLastError();
        free(cell);
        return mp_fail_os(MP_EOS, (int)err, "FlsSetValue");
    }
    return MP_OK;
}
