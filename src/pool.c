/* pool.c - Pool and ThreadPool: the queue of chunks and the slots that run
 * them. A slot is one thread of the pool; in a Pool it tends one worker
 * process over a private pipe, so it always knows which chunks its worker
 * holds. The worker runs them in order, so when it dies the first chunk it
 * held is the one that killed it (that one fails) and the rest had not
 * started (they go back to the queue). A slot replaces its worker after a
 * death or after maxtasksperchild chunks. In a ThreadPool the slot runs the
 * chunk itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "mproc/conn.h"
#include "mproc/thread.h"
#include "platform.h"
#include "pool_internal.h"

/* A worker is sent more chunks while it runs one only when every slot has
 * work anyway, and only while the chunks waiting in its pipe stay small
 * enough never to fill it (so a send never blocks on a worker that is
 * itself blocked sending its reply). */
#define MAX_INFLIGHT 4
#define PIPELINE_BYTES ((size_t)16 << 10)

enum { RUNNING, CLOSED, TERMINATED, BROKEN };

typedef struct slot {
    mp_pool *pool;
    mp_thread *thread;
    mp_process *worker; /* written under the pool's lock */
    mp_conn *conn;
    bool ready;
    bool idle; /* in the condition wait with nothing in flight */
    chunk *handed;     /* sent by a submitting thread; nobody reads its reply yet */
    bool caller_reads; /* a thread waiting for that chunk reads the pipe */
    mp_os_cond *wake; /* its thread waits here for work or a change of state */
    int tasks_done;
    chunk *inflight[MAX_INFLIGHT];
    size_t ninflight, inflight_bytes;
} slot;

struct mp_pool {
    mp_os_mutex *lock;
    bool threads;
    int state;
    bool joined;
    int broken_code;
    char broken_message[512];
    chunk *head, *tail;
    size_t queued;
    slot *slots;
    size_t nslots;
    /* the options */
    mp_target_fn initializer;
    const char *initializer_name;
    unsigned char *initargs;
    size_t initargs_len;
    int maxtasks;
    const mp_context *context;
};

/* Each slot has its own condition, so that a task handed to one slot wakes
 * that slot's thread only. */
static void wake_all_locked(mp_pool *p)
{
    for (size_t i = 0; i < p->nslots; i++)
        if (p->slots[i].wake)
            mp_os_cond_signal(p->slots[i].wake);
}

size_t mp_pool_worker_count(const mp_pool *pool)
{
    return pool->nslots;
}

bool mp_pool_uses_threads(const mp_pool *pool)
{
    return pool->threads;
}

/* ---- the queue ------------------------------------------------------------ */

static chunk *pop_locked(mp_pool *p)
{
    chunk *c = p->head;
    if (c) {
        p->head = c->next;
        if (p->head == NULL)
            p->tail = NULL;
        c->next = NULL;
        p->queued--;
    }
    return c;
}

/* Put chunks back at the front, in order. */
static void push_front_locked(mp_pool *p, chunk **cs, size_t n)
{
    for (size_t i = n; i-- > 0;) {
        cs[i]->next = p->head;
        p->head = cs[i];
        if (p->tail == NULL)
            p->tail = cs[i];
        p->queued++;
    }
}

static chunk *take_all_locked(mp_pool *p)
{
    chunk *all = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    return all;
}

static void fail_list(chunk *c, int ret, const char *message)
{
    while (c) {
        chunk *next = c->next;
        mp_remote_error err = {ret, message, mp_job_task_name(c->job), 0, 0};
        mp_job_chunk_failed(c, ret, &err);
        c = next;
    }
}

int mp_pool_check_open(mp_pool *pool, const char *what)
{
    if (pool == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL pool", what);
    mp_os_mutex_lock(pool->lock);
    int state = pool->state;
    mp_os_mutex_unlock(pool->lock);
    switch (state) {
    case RUNNING:
        return MP_OK;
    case BROKEN:
        return mp_fail(pool->broken_code, "%s: %s", what, pool->broken_message);
    case CLOSED:
        return mp_fail(MP_ESTATE, "%s: the pool is closed", what);
    default:
        return mp_fail(MP_ESTATE, "%s: the pool is terminated", what);
    }
}

static bool can_take_locked(const slot *s);

/* Send queued chunks to idle workers from the submitting thread, so that a
 * worker starts on a task at once rather than after its slot thread wakes:
 * that takes one thread wake-up off an apply_async round trip, and the slot
 * thread's wake-up overlaps the task. An idle slot thread is in its
 * condition wait, so while we hold the lock nothing else writes to its pipe;
 * its pipe is empty, and only chunks too small to block the write go this
 * way. A chunk whose send fails stays queued for the slot thread, which
 * finds its worker dead. A call that only a waiting thread can see end
 * wakes no slot thread at all: that thread reads the reply
 * (mp_pool_read_reply), and any later wake-up of the slot (more work,
 * close, terminate) has the slot thread read it instead. */
static void hand_to_idle_locked(mp_pool *p)
{
    if (p->threads)
        return;
    mp_buf msg = MP_BUF_INIT;
    for (size_t i = 0; i < p->nslots && p->head && p->head->len <= PIPELINE_BYTES; i++) {
        slot *s = &p->slots[i];
        if (!s->idle || s->worker == NULL || !can_take_locked(s))
            continue;
        mp_buf_clear(&msg);
        if (mp_job_task_message(p->head, &msg) != MP_OK || mp_conn_send_bytes(s->conn, msg.data, msg.len) != MP_OK)
            break;
        chunk *c = pop_locked(p);
        s->inflight[0] = c;
        s->ninflight = 1;
        s->inflight_bytes = c->len;
        s->idle = false;
        s->handed = c;
        if (!(p->maxtasks == 0 && s->ready && mp_job_seen_only_by_waiting(c->job)))
            mp_os_cond_signal(s->wake);
    }
    mp_buf_free(&msg);
}

int mp_pool_submit(mp_pool *p, chunk *first, chunk *last, size_t n)
{
    mp_os_mutex_lock(p->lock);
    if (p->state != RUNNING) {
        int state = p->state;
        mp_os_mutex_unlock(p->lock);
        fail_list(first, state == BROKEN ? p->broken_code : MP_ESTATE, "the pool is not running");
        return MP_OK;
    }
    if (p->tail)
        p->tail->next = first;
    else
        p->head = first;
    p->tail = last;
    p->queued += n;
    hand_to_idle_locked(p);
    if (p->head)
        wake_all_locked(p);
    mp_os_mutex_unlock(p->lock);
    return MP_OK;
}

/* Break the pool: every queued and later call fails with code. Called with
 * the lock held; returns the chunks to fail once it is released. */
static chunk *break_locked(mp_pool *p, int code, const char *message)
{
    if (p->state == BROKEN || p->state == TERMINATED)
        return NULL;
    p->state = BROKEN;
    p->broken_code = code;
    snprintf(p->broken_message, sizeof p->broken_message, "%s", message);
    for (size_t i = 0; i < p->nslots; i++)
        if (p->slots[i].worker)
            mp_process_kill(p->slots[i].worker);
    wake_all_locked(p);
    return take_all_locked(p);
}

/* ---- a worker process ------------------------------------------------------- */

static int start_worker(slot *s)
{
    mp_pool *p = s->pool;
    mp_conn *ours, *theirs;
    int rc = mp_pipe(true, &ours, &theirs);
    if (rc != MP_OK)
        return rc;
    mp_process_options opts = {.context = p->context, .daemon = true};
    mp_process *w;
    rc = mp_process_new(&w, mp_pool_worker_main, &opts, "O z y# i", theirs, p->initializer_name,
                        p->initargs ? (const void *)p->initargs : (const void *)"", p->initargs_len,
                        p->maxtasks);
    if (rc == MP_OK && (rc = mp_process_start(w)) != MP_OK)
        mp_process_close(w);
    mp_conn_close(theirs);
    if (rc != MP_OK) {
        mp_conn_close(ours);
        return rc;
    }
    mp_os_mutex_lock(p->lock);
    s->worker = w;
    s->conn = ours;
    s->ready = false;
    s->tasks_done = 0;
    if (p->state == TERMINATED || p->state == BROKEN)
        mp_process_kill(w);
    mp_os_mutex_unlock(p->lock);
    return MP_OK;
}

/* Reap the worker (it has exited or is about to) and forget it. */
static int reap_worker(slot *s, bool kill)
{
    mp_pool *p = s->pool;
    mp_os_mutex_lock(p->lock);
    mp_process *w = s->worker;
    s->worker = NULL;
    mp_os_mutex_unlock(p->lock);
    if (w == NULL)
        return 0;
    if (kill)
        mp_process_kill(w);
    int code = 0;
    mp_process_join(w, MP_FOREVER);
    mp_process_exitcode(w, &code);
    mp_process_close(w);
    mp_conn_close(s->conn);
    s->conn = NULL;
    return code;
}

/* Ask an idle worker to exit and reap it. */
static void retire_worker(slot *s)
{
    mp_buf msg = MP_BUF_INIT;
    if (s->conn && mp_pack(&msg, "(i)", POOL_EXIT) == MP_OK)
        mp_conn_send_bytes(s->conn, msg.data, msg.len);
    mp_buf_free(&msg);
    if (s->worker && mp_process_join(s->worker, 5) != MP_OK)
        mp_process_kill(s->worker);
    reap_worker(s, false);
}

static chunk *shift_inflight(slot *s)
{
    chunk *c = s->inflight[0];
    s->ninflight--;
    memmove(s->inflight, s->inflight + 1, s->ninflight * sizeof *s->inflight);
    s->inflight_bytes -= c->len;
    return c;
}

/* One reply from the worker. */
static void on_reply(slot *s, const void *data, size_t len)
{
    mp_pool *p = s->pool;
    mp_value *r = NULL;
    int kind = -1;
    if (mp_decode(data, len, NULL, &r) == MP_OK && r->type == MP_ARRAY && r->as.array.len >= 1 &&
        r->as.array.items[0].type == MP_INT)
        kind = (int)r->as.array.items[0].as.i;
    const mp_value *f = r ? r->as.array.items : NULL;
    if (!s->ready) {
        if (kind == POOL_READY) {
            s->ready = true;
        } else {
            char message[400];
            snprintf(message, sizeof message, "the initializer failed in worker %ld: %s",
                     mp_process_pid(s->worker), kind == POOL_INIT_FAILED && r->as.array.len == 3 &&
                     f[2].type == MP_STR ? f[2].as.str.ptr : "malformed reply");
            mp_os_mutex_lock(p->lock);
            chunk *lost = break_locked(p, MP_EINITIALIZER, message);
            mp_os_mutex_unlock(p->lock);
            fail_list(lost, MP_EINITIALIZER, message);
        }
        mp_value_free(r);
        return;
    }
    if (s->ninflight == 0) {
        mp_value_free(r);
        return;
    }
    chunk *c = shift_inflight(s);
    s->tasks_done++;
    if (kind == POOL_DONE && r->as.array.len == 2 && f[1].type == MP_BIN) {
        mp_job_chunk_done(c, f[1].as.bin.ptr, f[1].as.bin.len);
    } else {
        bool well_formed = kind == POOL_FAILED && r->as.array.len == 3 && f[1].type == MP_INT && f[2].type == MP_STR;
        mp_remote_error err = {well_formed ? (int)f[1].as.i : MP_EPROTO,
                               well_formed ? f[2].as.str.ptr : "malformed reply from the worker",
                               mp_job_task_name(c->job), mp_process_pid(s->worker), 0};
        mp_job_chunk_failed(c, MP_EREMOTE, &err);
    }
    mp_value_free(r);
}

/* The worker died: fail the chunk it was running, requeue the others. */
static void on_death(slot *s)
{
    mp_pool *p = s->pool;
    long pid = mp_process_pid(s->worker);
    bool was_ready = s->ready;
    int code = reap_worker(s, false);
    chunk *running = s->ninflight ? shift_inflight(s) : NULL;
    mp_os_mutex_lock(p->lock);
    int state = p->state;
    chunk *lost = NULL;
    char message[300];
    if (state == RUNNING || state == CLOSED) {
        push_front_locked(p, s->inflight, s->ninflight);
        s->ninflight = 0;
        s->inflight_bytes = 0;
        if (!was_ready) {
            snprintf(message, sizeof message, "worker %ld died with exit code %d before its initializer finished", pid,
                     code);
            lost = break_locked(p, MP_EINITIALIZER, message);
        }
        wake_all_locked(p);
    }
    mp_os_mutex_unlock(p->lock);
    if (lost || (running && !was_ready && (state == RUNNING || state == CLOSED))) {
        if (running) {
            running->next = lost;
            lost = running;
        }
        fail_list(lost, MP_EINITIALIZER, message);
        return;
    }
    if (running == NULL)
        return;
    if (state == TERMINATED || state == BROKEN) {
        running->next = NULL;
        fail_list(running, state == BROKEN ? p->broken_code : MP_ESTATE,
                  state == BROKEN ? p->broken_message : "the pool was terminated");
        return;
    }
    snprintf(message, sizeof message, "worker %ld died with exit code %d while running the task", pid, code);
    mp_remote_error err = {MP_EWORKERDIED, message, mp_job_task_name(running->job), pid, code};
    mp_job_chunk_failed(running, MP_EWORKERDIED, &err);
}

/* Send the chunks just taken; then wait for one reply or the worker's end. */
static void exchange(slot *s, size_t fresh_from)
{
    mp_buf msg = MP_BUF_INIT;
    for (size_t i = fresh_from; i < s->ninflight; i++) {
        mp_buf_clear(&msg);
        if (mp_job_task_message(s->inflight[i], &msg) != MP_OK ||
            mp_conn_send_bytes(s->conn, msg.data, msg.len) != MP_OK)
            break; /* the worker is gone: its sentinel says so below */
    }
    mp_buf_free(&msg);
    mp_sentinel objects[2];
    bool ready[2] = {false, false};
    mp_conn_fileno(s->conn, &objects[0]);
    mp_process_sentinel(s->worker, &objects[1]);
    if (mp_wait(objects, 2, MP_FOREVER, ready) < 0)
        ready[1] = true;
    /* A reply written before the end is still in the pipe: read it first.
     * (When the wait saw the pipe readable, it needs no second look.) */
    bool readable = ready[0];
    while (readable || mp_conn_poll(s->conn, 0) == MP_OK) {
        readable = false;
        void *data;
        size_t len;
        if (mp_conn_recv_bytes(s->conn, SIZE_MAX, &data, &len) != MP_OK) {
            ready[1] = true;
            break;
        }
        on_reply(s, data, len);
        free(data);
        if (!ready[1])
            return;
    }
    if (ready[1] || mp_process_is_alive(s->worker) == 0)
        on_death(s);
}

/* The caller's side of a hand-off (hand_to_idle_locked): it waits on the
 * worker's pipe itself, so the reply wakes it directly, with no slot thread
 * in between. Only for workers past their initializer and without
 * maxtasksperchild, whose replies are one per task. The slot thread keeps
 * off the slot meanwhile; afterwards it is idle again, or woken to go on.
 * If the worker ends or the time runs out, the slot thread takes over. */
void mp_pool_read_reply(mp_pool *p, chunk *c, double timeout)
{
    if (p->threads || p->maxtasks > 0)
        return;
    mp_os_mutex_lock(p->lock);
    slot *s = NULL;
    for (size_t i = 0; i < p->nslots && s == NULL; i++)
        if (p->slots[i].handed == c)
            s = &p->slots[i];
    bool ours = s && s->ready && p->state != TERMINATED && p->state != BROKEN;
    if (ours) {
        s->handed = NULL;
        s->caller_reads = true;
    }
    mp_os_mutex_unlock(p->lock);
    if (!ours)
        return;
    mp_sentinel objects[2];
    bool ready[2] = {false, false};
    mp_conn_fileno(s->conn, &objects[0]);
    mp_process_sentinel(s->worker, &objects[1]);
    if (mp_wait(objects, 2, timeout, ready) > 0 && ready[0]) {
        void *data;
        size_t len;
        if (mp_conn_recv_bytes(s->conn, SIZE_MAX, &data, &len) == MP_OK) {
            on_reply(s, data, len);
            free(data);
        }
    }
    mp_os_mutex_lock(p->lock);
    s->caller_reads = false;
    if (s->ninflight == 0 && p->head == NULL && p->state == RUNNING)
        s->idle = true; /* its thread is, or is about to be, waiting for work */
    else
        mp_os_cond_signal(s->wake);
    mp_os_mutex_unlock(p->lock);
}

/* ---- a ThreadPool's slot ---------------------------------------------------- */

static void run_inline(slot *s)
{
    chunk *c = shift_inflight(s);
    mp_buf msg = MP_BUF_INIT, reply = MP_BUF_INIT;
    bool exit = false;
    int rc = mp_job_task_message(c, &msg);
    if (rc == MP_OK)
        rc = mp_pool_execute(msg.data, msg.len, mp_job_direct_fn(c->job), &reply, &exit);
    mp_value *r = NULL;
    if (rc == MP_OK)
        rc = mp_decode(reply.data, reply.len, NULL, &r);
    if (rc == MP_OK && r->as.array.items[0].as.i == POOL_DONE) {
        mp_job_chunk_done(c, r->as.array.items[1].as.bin.ptr, r->as.array.items[1].as.bin.len);
    } else {
        bool raised = rc == MP_OK;
        mp_remote_error err = {raised ? (int)r->as.array.items[1].as.i : rc,
                               raised ? r->as.array.items[2].as.str.ptr : mp_last_error(),
                               mp_job_task_name(c->job), 0, 0};
        mp_job_chunk_failed(c, MP_EREMOTE, &err);
    }
    mp_value_free(r);
    mp_buf_free(&reply);
    mp_buf_free(&msg);
}

/* ---- the slot's loop --------------------------------------------------------- */

static bool can_take_locked(const slot *s)
{
    const mp_pool *p = s->pool;
    if (p->head == NULL || s->ninflight == MAX_INFLIGHT)
        return false;
    if (p->maxtasks > 0 && s->tasks_done + (int)s->ninflight >= p->maxtasks)
        return false;
    if (s->ninflight == 0)
        return true;
    return !p->threads && p->queued >= p->nslots && s->inflight_bytes + p->head->len <= PIPELINE_BYTES;
}

static void slot_fail_inflight(slot *s, int ret, const char *message)
{
    while (s->ninflight) {
        chunk *c = shift_inflight(s);
        c->next = NULL;
        fail_list(c, ret, message);
    }
}

static int slot_main(void *arg)
{
    slot *s = arg;
    mp_pool *p = s->pool;
    if (p->threads && mp_pool_run_initializer(p->initializer, p->initargs, p->initargs_len) != MP_OK) {
        char message[400];
        snprintf(message, sizeof message, "the initializer failed in a ThreadPool thread: %s", mp_last_error());
        mp_os_mutex_lock(p->lock);
        chunk *lost = break_locked(p, MP_EINITIALIZER, message);
        mp_os_mutex_unlock(p->lock);
        fail_list(lost, MP_EINITIALIZER, message);
        return 0;
    }
    mp_os_mutex_lock(p->lock);
    for (;;) {
        if (s->caller_reads) {
            mp_os_cond_wait(s->wake, p->lock, MP_FOREVER);
            continue;
        }
        if (p->state == TERMINATED || p->state == BROKEN)
            break;
        if (s->ninflight == 0 && p->head == NULL) {
            if (p->state == CLOSED)
                break;
            s->idle = true;
            mp_os_cond_wait(s->wake, p->lock, MP_FOREVER);
            s->idle = false;
            continue;
        }
        if (!p->threads && s->worker == NULL) {
            mp_os_mutex_unlock(p->lock);
            int rc = start_worker(s);
            mp_os_mutex_lock(p->lock);
            if (rc != MP_OK) {
                char message[400];
                snprintf(message, sizeof message, "a replacement worker could not start: %s", mp_last_error());
                chunk *lost = break_locked(p, rc, message);
                mp_os_mutex_unlock(p->lock);
                fail_list(lost, rc, message);
                mp_os_mutex_lock(p->lock);
            }
            continue;
        }
        if (!p->threads && s->ninflight == 0 && s->ready && mp_process_is_alive(s->worker) == 0) {
            /* it died while idle (killed from outside): no task was lost */
            mp_os_mutex_unlock(p->lock);
            reap_worker(s, false);
            mp_os_mutex_lock(p->lock);
            continue;
        }
        s->handed = NULL;
        size_t fresh_from = s->ninflight;
        while (can_take_locked(s)) {
            chunk *c = pop_locked(p);
            s->inflight[s->ninflight++] = c;
            s->inflight_bytes += c->len;
        }
        mp_os_mutex_unlock(p->lock);
        if (p->threads) {
            run_inline(s);
        } else {
            exchange(s, fresh_from);
            if (s->worker && p->maxtasks > 0 && s->tasks_done >= p->maxtasks && s->ninflight == 0)
                reap_worker(s, false); /* it exits by itself after its last task */
        }
        mp_os_mutex_lock(p->lock);
    }
    int state = p->state;
    mp_os_mutex_unlock(p->lock);
    slot_fail_inflight(s, state == BROKEN ? p->broken_code : MP_ESTATE,
                       state == BROKEN ? p->broken_message : "the pool was terminated");
    if (state == CLOSED)
        retire_worker(s);
    else
        reap_worker(s, true);
    return 0;
}

/* ---- creating and ending ------------------------------------------------------ */

static void pool_free_memory(mp_pool *p)
{
    for (size_t i = 0; p->slots && i < p->nslots; i++)
        mp_os_cond_free(p->slots[i].wake);
    free(p->slots);
    free(p->initargs);
    mp_os_mutex_free(p->lock);
    free(p);
}

static int check_options(const mp_pool_options *o, bool threads, const char *what)
{
    if (o->processes < 0)
        return mp_fail(MP_EINVAL, "%s: processes is %d; it must be at least 1 (0: the CPU count)", what,
                       o->processes);
    if (o->maxtasksperchild < 0)
        return mp_fail(MP_EINVAL, "%s: maxtasksperchild is %d; it must be at least 1 (0: no limit)", what,
                       o->maxtasksperchild);
    if (threads && (o->maxtasksperchild != 0 || o->context != NULL))
        return mp_fail(MP_EINVAL, "%s: a ThreadPool takes no maxtasksperchild or context", what);
    if (o->initargs == NULL && o->initargs_len != 0)
        return mp_fail(MP_EINVAL, "%s: NULL initargs with a length", what);
    if (o->initargs != NULL) {
        mp_value *v;
        int rc = mp_decode(o->initargs, o->initargs_len, NULL, &v);
        if (rc != MP_OK)
            return mp_fail(rc, "%s: initargs: %s", what, mp_last_error());
        bool array = v->type == MP_ARRAY;
        mp_value_free(v);
        if (!array)
            return mp_fail(MP_EPROTO, "%s: initargs must be one packed array", what);
    }
    return MP_OK;
}

static int pool_new(mp_pool **out, const mp_pool_options *opts, bool threads, const char *what)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL out", what);
    *out = NULL;
    mp_pool_options o = opts ? *opts : (mp_pool_options){0};
    int rc = check_options(&o, threads, what);
    if (rc != MP_OK)
        return rc;
    mp_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return mp_fail(MP_ENOMEM, "%s: out of memory", what);
    p->threads = threads;
    p->nslots = o.processes ? (size_t)o.processes : (size_t)mp_cpu_count();
    if (p->nslots == 0)
        p->nslots = 1;
    p->initializer = o.initializer;
    p->maxtasks = o.maxtasksperchild;
    p->context = o.context;
    if (o.initializer && !threads && (p->initializer_name = mp_target_name(o.initializer)) == NULL)
        rc = mp_fail(MP_ENOTREG, "%s: the initializer is not registered; add MP_TARGET(fn)", what);
    if (rc == MP_OK && o.initargs_len && (p->initargs = malloc(o.initargs_len)) == NULL)
        rc = mp_fail(MP_ENOMEM, "%s: out of memory", what);
    if (rc == MP_OK && p->initargs) {
        memcpy(p->initargs, o.initargs, o.initargs_len);
        p->initargs_len = o.initargs_len;
    }
    if (rc == MP_OK && (p->slots = calloc(p->nslots, sizeof *p->slots)) == NULL)
        rc = mp_fail(MP_ENOMEM, "%s: out of memory", what);
    if (rc == MP_OK)
        rc = mp_os_mutex_new(&p->lock);
    for (size_t i = 0; rc == MP_OK && i < p->nslots; i++) {
        p->slots[i].pool = p;
        rc = mp_os_cond_new(&p->slots[i].wake);
    }
    for (size_t i = 0; rc == MP_OK && i < p->nslots; i++) {
        if (!threads)
            rc = start_worker(&p->slots[i]);
    }
    for (size_t i = 0; rc == MP_OK && i < p->nslots; i++) {
        char name[48];
        snprintf(name, sizeof name, "%s-%zu", threads ? "ThreadPool" : "PoolWorker", i + 1);
        rc = mp_thread_start(&p->slots[i].thread, slot_main, &p->slots[i], name);
    }
    if (rc != MP_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", mp_last_error());
        if (p->lock) {
            mp_pool_terminate(p);
            mp_pool_join(p, MP_FOREVER);
        }
        for (size_t i = 0; p->slots && i < p->nslots; i++)
            if (p->slots[i].thread == NULL)
                reap_worker(&p->slots[i], true);
        pool_free_memory(p);
        return mp_fail(rc, "%s", message);
    }
    *out = p;
    return MP_OK;
}

int mp_pool_new(mp_pool **out, const mp_pool_options *opts)
{
    return pool_new(out, opts, false, "mp_pool_new");
}

int mp_thread_pool_new(mp_pool **out, const mp_pool_options *opts)
{
    return pool_new(out, opts, true, "mp_thread_pool_new");
}

int mp_pool_close(mp_pool *p)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_close: NULL pool");
    mp_os_mutex_lock(p->lock);
    if (p->state == RUNNING)
        p->state = CLOSED;
    wake_all_locked(p);
    mp_os_mutex_unlock(p->lock);
    return MP_OK;
}

int mp_pool_terminate(mp_pool *p)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_terminate: NULL pool");
    mp_os_mutex_lock(p->lock);
    chunk *lost = NULL;
    if (p->state != TERMINATED) {
        p->state = TERMINATED;
        lost = take_all_locked(p);
        for (size_t i = 0; i < p->nslots; i++)
            if (p->slots[i].worker)
                mp_process_kill(p->slots[i].worker);
    }
    wake_all_locked(p);
    mp_os_mutex_unlock(p->lock);
    fail_list(lost, MP_ESTATE, "the pool was terminated");
    return MP_OK;
}

int mp_pool_join(mp_pool *p, double timeout)
{
    if (p == NULL)
        return mp_fail(MP_EINVAL, "mp_pool_join: NULL pool");
    mp_os_mutex_lock(p->lock);
    int state = p->state;
    mp_os_mutex_unlock(p->lock);
    if (state == RUNNING)
        return mp_fail(MP_ESTATE, "mp_pool_join: close or terminate the pool first");
    double deadline = mp_os_monotonic() + timeout;
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].thread == NULL)
            continue;
        double left = timeout < 0 ? MP_FOREVER : deadline - mp_os_monotonic();
        int rc = mp_thread_join(p->slots[i].thread, left < 0 && timeout >= 0 ? 0 : left, NULL);
        if (rc != MP_OK)
            return rc;
        p->slots[i].thread = NULL;
    }
    p->joined = true;
    return MP_OK;
}

void mp_pool_free(mp_pool *p)
{
    if (p == NULL)
        return;
    if (!p->joined) {
        mp_pool_terminate(p);
        mp_pool_join(p, MP_FOREVER);
    }
    pool_free_memory(p);
}

size_t mp_pool_pids(mp_pool *p, long *pids, size_t cap)
{
    if (p == NULL)
        return 0;
    mp_os_mutex_lock(p->lock);
    for (size_t i = 0; i < p->nslots && i < cap; i++)
        pids[i] = p->slots[i].worker ? mp_process_pid(p->slots[i].worker) : 0;
    mp_os_mutex_unlock(p->lock);
    return p->nslots;
}
