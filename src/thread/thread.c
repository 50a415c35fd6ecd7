/* thread.c - threads with names and idents, mutexes, condition variables
 * and thread-local slots (thread.h), over the platform's threads. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "mproc/thread.h"
#include "platform.h"
#include "thread/thread_internal.h"
#include "base/timeout.h"

/* A thread's name, its NUL included: a longer one given is cut, as it
 * serves messages and debuggers only. */
#define THREAD_NAME_SIZE 64

struct mp_thread {
    mp_os_thread *os;
    mp_thread_fn fn;
    void *arg;
    char name[THREAD_NAME_SIZE];
    _Atomic uint64_t ident;
    /* join with a timeout: the thread sets done under lock and signals */
    mp_os_mutex *lock;
    mp_os_cond *ended;
    bool done, detached;
    bool counted; /* among the running non-daemon threads */
    int result;
};

static _Atomic unsigned thread_counter, dummy_counter;
static _Atomic uint64_t main_thread; /* the thread that ran mp_main */
static _Thread_local const char *current_name;
static _Thread_local char dummy_name[sizeof "Dummy-4294967295"];

/* The non-daemon threads still running, for a child to wait on after its
 * target returns. Made on the first count under the global lock. */
static mp_os_mutex *running_lock;
static mp_os_cond *running_changed;
static unsigned running;

static int count_running(void)
{
    int rc = MP_OK;
    mp_os_global_lock();
    if (running_lock == NULL) {
        mp_os_mutex *m = NULL;
        mp_os_cond *c = NULL;
        if ((rc = mp_os_mutex_new(&m)) == MP_OK && (rc = mp_os_cond_new(&c)) == MP_OK) {
            running_lock = m;
            running_changed = c;
        } else {
            mp_os_mutex_free(m);
        }
    }
    mp_os_global_unlock();
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(running_lock);
    running++;
    mp_os_mutex_unlock(running_lock);
    return MP_OK;
}

static void uncount_running(void)
{
    mp_os_mutex_lock(running_lock);
    running--;
    mp_os_cond_broadcast(running_changed);
    mp_os_mutex_unlock(running_lock);
}

MP_FORK_PATH void mp_threads_wait_non_daemon(void)
{
    if (running_lock == NULL)
        return;
    mp_os_mutex_lock(running_lock);
    while (running > 0)
        mp_os_cond_wait(running_changed, running_lock, MP_FOREVER);
    mp_os_mutex_unlock(running_lock);
}

MP_FORK_PATH void mp_threads_forget(void)
{
    /* Only when there is something to forget: in a fork child a store
     * copies the page. */
    if (running != 0)
        running = 0;
}

static void thread_free(mp_thread *t)
{
    mp_os_cond_free(t->ended);
    mp_os_mutex_free(t->lock);
    free(t);
}

static void thread_main(void *p)
{
    mp_thread *t = p;
    t->ident = mp_os_thread_id();
    current_name = t->name;
    int result = t->fn(t->arg);
    current_name = NULL;
    mp_os_mutex_lock(t->lock);
    t->result = result;
    t->done = true;
    bool detached = t->detached, counted = t->counted;
    t->counted = false;
    mp_os_cond_broadcast(t->ended);
    mp_os_mutex_unlock(t->lock);
    if (counted)
        uncount_running();
    if (detached)
        thread_free(t);
}

static int start(mp_thread **out, mp_thread_fn fn, void *arg, const char *name, bool daemon)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || fn == NULL)
        return mp_fail(MP_EINVAL, "mp_thread_start: NULL argument");
    mp_thread *t = calloc(1, sizeof *t);
    if (t == NULL)
        return mp_fail(MP_ENOMEM, "mp_thread_start: out of memory");
    t->fn = fn;
    t->arg = arg;
    if (name != NULL)
        snprintf(t->name, sizeof t->name, "%s", name);
    else
        snprintf(t->name, sizeof t->name, "Thread-%u", ++thread_counter);
    int rc = mp_os_mutex_new(&t->lock);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&t->ended);
    if (rc == MP_OK && !daemon && (rc = count_running()) == MP_OK)
        t->counted = true;
    if (rc == MP_OK)
        rc = mp_os_thread_start(&t->os, thread_main, t);
    if (rc != MP_OK) {
        if (t->counted)
            uncount_running();
        thread_free(t);
        return rc;
    }
    *out = t;
    return MP_OK;
}

int mp_thread_start(mp_thread **out, mp_thread_fn fn, void *arg, const char *name)
{
    return start(out, fn, arg, name, false);
}

int mp_thread_start_daemon(mp_thread **out, mp_thread_fn fn, void *arg, const char *name)
{
    return start(out, fn, arg, name, true);
}

int mp_thread_join(mp_thread *t, double timeout, int *result)
{
    if (t == NULL)
        return mp_fail(MP_EINVAL, "mp_thread_join: NULL thread");
    if (t->ident == mp_os_thread_id())
        return mp_fail(MP_ESTATE, "mp_thread_join: a thread cannot join itself");
    double deadline = mp_deadline(timeout);
    mp_os_mutex_lock(t->lock);
    while (!t->done) {
        double left = mp_time_left(deadline);
        if (left <= 0) {
            mp_os_mutex_unlock(t->lock);
            return mp_fail(MP_ETIMEDOUT, "mp_thread_join: %s still running after %g s", t->name, timeout);
        }
        mp_os_cond_wait(t->ended, t->lock, left);
    }
    mp_os_mutex_unlock(t->lock);
    mp_os_thread_join(t->os);
    if (result != NULL)
        *result = t->result;
    thread_free(t);
    return MP_OK;
}

int mp_thread_detach(mp_thread *t)
{
    if (t == NULL)
        return mp_fail(MP_EINVAL, "mp_thread_detach: NULL thread");
    mp_os_thread_detach(t->os);
    mp_os_mutex_lock(t->lock);
    bool done = t->done, counted = t->counted;
    t->detached = true;
    t->counted = false;
    mp_os_mutex_unlock(t->lock);
    if (counted)
        uncount_running();
    if (done)
        thread_free(t);
    return MP_OK;
}

const char *mp_thread_name(const mp_thread *t)
{
    return t ? t->name : NULL;
}

uint64_t mp_thread_ident(const mp_thread *t)
{
    if (t == NULL)
        return 0;
    /* The ident is set by the thread itself; wait the instant it takes. */
    while (t->ident == 0)
        mp_os_sleep(0);
    return t->ident;
}

void mp_thread_note_main(void)
{
    main_thread = mp_os_thread_id();
}

const char *mp_current_thread_name(void)
{
    if (current_name != NULL)
        return current_name;
    if (main_thread == mp_os_thread_id())
        return "MainThread";
    if (dummy_name[0] == '\0')
        snprintf(dummy_name, sizeof dummy_name, "Dummy-%u", ++dummy_counter);
    return dummy_name;
}

uint64_t mp_current_thread_ident(void)
{
    return mp_os_thread_id();
}

/* ---- mutex and condition variable -------------------------------------- */

struct mp_mutex {
    mp_os_mutex *m;
};

struct mp_cond {
    mp_os_cond *c;
};

int mp_mutex_new(mp_mutex **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_mutex_new: NULL out");
    mp_mutex *m = malloc(sizeof *m);
    if (m == NULL)
        return mp_fail(MP_ENOMEM, "mp_mutex_new: out of memory");
    int rc = mp_os_mutex_new(&m->m);
    if (rc != MP_OK) {
        free(m);
        return rc;
    }
    *out = m;
    return MP_OK;
}

void mp_mutex_free(mp_mutex *m)
{
    if (m != NULL) {
        mp_os_mutex_free(m->m);
        free(m);
    }
}

void mp_mutex_lock(mp_mutex *m)
{
    mp_os_mutex_lock(m->m);
}

int mp_mutex_trylock(mp_mutex *m)
{
    return mp_os_mutex_trylock(m->m) ? 1 : 0;
}

void mp_mutex_unlock(mp_mutex *m)
{
    mp_os_mutex_unlock(m->m);
}

int mp_cond_new(mp_cond **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_cond_new: NULL out");
    mp_cond *c = malloc(sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "mp_cond_new: out of memory");
    int rc = mp_os_cond_new(&c->c);
    if (rc != MP_OK) {
        free(c);
        return rc;
    }
    *out = c;
    return MP_OK;
}

void mp_cond_free(mp_cond *c)
{
    if (c != NULL) {
        mp_os_cond_free(c->c);
        free(c);
    }
}

int mp_cond_wait(mp_cond *c, mp_mutex *m, double timeout)
{
    return mp_os_cond_wait(c->c, m->m, timeout);
}

void mp_cond_signal(mp_cond *c)
{
    mp_os_cond_signal(c->c);
}

void mp_cond_broadcast(mp_cond *c)
{
    mp_os_cond_broadcast(c->c);
}

/* ---- thread-local storage ---------------------------------------------- */

struct mp_tls {
    mp_os_tls *k;
};

int mp_tls_new(mp_tls **out, void (*destructor)(void *))
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_tls_new: NULL out");
    mp_tls *k = malloc(sizeof *k);
    if (k == NULL)
        return mp_fail(MP_ENOMEM, "mp_tls_new: out of memory");
    int rc = mp_os_tls_new(&k->k, destructor);
    if (rc != MP_OK) {
        free(k);
        return rc;
    }
    *out = k;
    return MP_OK;
}

void mp_tls_free(mp_tls *k)
{
    if (k != NULL) {
        mp_os_tls_free(k->k);
        free(k);
    }
}

void *mp_tls_get(mp_tls *k)
{
    return k ? mp_os_tls_get(k->k) : NULL;
}

int mp_tls_set(mp_tls *k, void *value)
{
    return k ? mp_os_tls_set(k->k, value) : mp_fail(MP_EINVAL, "mp_tls_set: NULL slot");
}
