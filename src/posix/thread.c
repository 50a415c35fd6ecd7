/* thread.c - threads, mutexes, condition variables and thread-local slots
 * on pthreads. Every mutex and condition variable made here is listed, so
 * that a child made by fork can reset them all: the threads that held or
 * waited on them do not exist in the child. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "posix.h"
#include "base/timeout.h"

struct mp_os_thread {
    pthread_t id;
};

/* What the new thread runs; it frees this itself, so a detached thread
 * needs nothing of its mp_os_thread. */
typedef struct start_block {
    void (*fn)(void *);
    void *arg;
} start_block;

/* Mutexes and condition variables share one list node layout. */
typedef struct listed {
    struct listed *prev, *next;
    bool is_cond;
} listed;

struct mp_os_mutex {
    listed node;
    pthread_mutex_t m;
};

struct mp_os_cond {
    listed node;
    pthread_cond_t c;
};

struct mp_os_tls {
    pthread_key_t key;
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static listed list_head = {&list_head, &list_head, false};
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void init_cond(pthread_cond_t *c)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(c, &attr);
    pthread_condattr_destroy(&attr);
}

static void list_before_fork(void)
{
    pthread_mutex_lock(&list_lock);
}

static void list_after_fork_parent(void)
{
    pthread_mutex_unlock(&list_lock);
}

static MP_FORK_PATH void list_after_fork_child(void)
{
    for (listed *n = list_head.next; n != &list_head; n = n->next) {
        if (n->is_cond)
            init_cond(&((mp_os_cond *)(void *)n)->c);
        else
            pthread_mutex_init(&((mp_os_mutex *)(void *)n)->m, NULL);
    }
    pthread_mutex_init(&list_lock, NULL);
}

static void install_atfork(void)
{
    pthread_atfork(list_before_fork, list_after_fork_parent, list_after_fork_child);
}

static void list_add(listed *n, bool is_cond)
{
    pthread_once(&atfork_once, install_atfork);
    n->is_cond = is_cond;
    pthread_mutex_lock(&list_lock);
    n->next = list_head.next;
    n->prev = &list_head;
    list_head.next->prev = n;
    list_head.next = n;
    pthread_mutex_unlock(&list_lock);
}

static void list_remove(listed *n)
{
    pthread_mutex_lock(&list_lock);
    n->prev->next = n->next;
    n->next->prev = n->prev;
    pthread_mutex_unlock(&list_lock);
}

/* ---- threads ----------------------------------------------------------- */

static void *thread_main(void *p)
{
    start_block b = *(start_block *)p;
    free(p);
    b.fn(b.arg);
    return NULL;
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
    int err = pthread_create(&t->id, NULL, thread_main, b);
    if (err != 0) {
        free(t);
        free(b);
        return mp_fail_os(MP_EOS, err, "pthread_create");
    }
    *out = t;
    return MP_OK;
}

void mp_os_thread_join(mp_os_thread *t)
{
    pthread_join(t->id, NULL);
    free(t);
}

void mp_os_thread_detach(mp_os_thread *t)
{
    pthread_detach(t->id);
    free(t);
}

uint64_t mp_os_thread_id(void)
{
    return (uint64_t)pthread_self();
}

/* gettid() is a system call; locks ask on every acquire. The forking
 * thread's cache is forgotten in the child, whose only thread it is and
 * which has an id of its own. */
static _Thread_local pid_t native_id;
static pthread_once_t native_once = PTHREAD_ONCE_INIT;

static void forget_native_id(void)
{
    native_id = 0;
}

static void watch_forks(void)
{
    pthread_atfork(NULL, NULL, forget_native_id);
}

uint64_t mp_os_thread_native_id(void)
{
    if (native_id == 0) {
        pthread_once(&native_once, watch_forks);
        native_id = gettid();
    }
    return (uint64_t)native_id;
}

bool mp_os_thread_alive(long pid, uint64_t thread)
{
    return tgkill((pid_t)pid, (pid_t)thread, 0) == 0 || errno != ESRCH;
}

/* ---- mutex and condition variable -------------------------------------- */

int mp_os_mutex_new(mp_os_mutex **out)
{
    mp_os_mutex *m = malloc(sizeof *m);
    if (m == NULL)
        return mp_fail(MP_ENOMEM, "mutex: out of memory");
    pthread_mutex_init(&m->m, NULL);
    list_add(&m->node, false);
    *out = m;
    return MP_OK;
}

void mp_os_mutex_free(mp_os_mutex *m)
{
    if (m == NULL)
        return;
    list_remove(&m->node);
    pthread_mutex_destroy(&m->m);
    free(m);
}

void mp_os_mutex_lock(mp_os_mutex *m)
{
    pthread_mutex_lock(&m->m);
}

bool mp_os_mutex_trylock(mp_os_mutex *m)
{
    return pthread_mutex_trylock(&m->m) == 0;
}

void mp_os_mutex_unlock(mp_os_mutex *m)
{
    pthread_mutex_unlock(&m->m);
}

int mp_os_cond_new(mp_os_cond **out)
{
    mp_os_cond *c = malloc(sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "condition variable: out of memory");
    init_cond(&c->c);
    list_add(&c->node, true);
    *out = c;
    return MP_OK;
}

void mp_os_cond_free(mp_os_cond *c)
{
    if (c == NULL)
        return;
    list_remove(&c->node);
    pthread_cond_destroy(&c->c);
    free(c);
}

int mp_os_cond_wait(mp_os_cond *c, mp_os_mutex *m, double timeout)
{
    if (mp_timeout_forever(timeout)) {
        pthread_cond_wait(&c->c, &m->m);
        return MP_OK;
    }
    struct timespec at = mp_posix_abstime(timeout);
    return pthread_cond_timedwait(&c->c, &m->m, &at) == ETIMEDOUT ? MP_ETIMEDOUT : MP_OK;
}

void mp_os_cond_signal(mp_os_cond *c)
{
    pthread_cond_signal(&c->c);
}

void mp_os_cond_broadcast(mp_os_cond *c)
{
    pthread_cond_broadcast(&c->c);
}

/* ---- thread-local slots ------------------------------------------------ */

int mp_os_tls_new(mp_os_tls **out, void (*dtor)(void *))
{
    mp_os_tls *k = malloc(sizeof *k);
    if (k == NULL)
        return mp_fail(MP_ENOMEM, "thread-local: out of memory");
    int err = pthread_key_create(&k->key, dtor);
    if (err != 0) {
        free(k);
        return mp_fail_os(MP_EOS, err, "pthread_key_create");
    }
    *out = k;
    return MP_OK;
}

void mp_os_tls_free(mp_os_tls *k)
{
    if (k == NULL)
        return;
    pthread_key_delete(k->key);
    free(k);
}

void *mp_os_tls_get(mp_os_tls *k)
{
    return pthread_getspecific(k->key);
}

int mp_os_tls_set(mp_os_tls *k, void *value)
{
    int err = pthread_setspecific(k->key, value);
    return err == 0 ? MP_OK : mp_fail_os(MP_ENOMEM, err, "pthread_setspecific");
}
