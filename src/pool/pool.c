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

#include "ipc/conn_internal.h"
#include "ipc/conn_reader.h"
#include "base/error_internal.h"
#include "mproc/conn.h"
#include "mproc/thread.h"
#include "pack/pack_internal.h"
#include "platform.h"
#include "pool/pool_internal.h"
#include "thread/thread_internal.h"
#include "base/timeout.h"

/* A worker is sent more chunks while it runs one (so that it never waits
 * for the pool between them, and the pool answers many replies per
 * wake-up) only when every slot has work anyway; only while the chunks
 * waiting in its pipe stay small enough never to fill it (so a send never
 * blocks on a worker that is itself blocked sending its reply); and only
 * as many as it runs in about PIPELINE_SECONDS, so that no chunk waits
 * long behind others at one worker while another worker has none. */
#define MAX_DEPTH 64
#define PIPELINE_SECONDS 1e-3
#define PIPELINE_BYTES ((size_t)16 << 10)
/* Task messages are sent in batches of about this many bytes. */
#define SEND_BATCH ((size_t)64 << 10)

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
    /* the chunks its worker holds, in the order it runs them */
    chunk *first, *last;
    size_t ninflight, inflight_bytes;
    double service;    /* seconds its worker spends on a chunk lately; 0: unknown */
    double busy_since; /* since when its worker owes the pool a reply */
    mp_conn_reader reader;
    mp_buf out; /* task messages on their way */
    /* a ThreadPool's: what its tasks need from one to the next */
    pool_scratch scratch;
    mp_buf reply;
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

/* Put a list of n chunks back at the front, in order. */
static void push_front_locked(mp_pool *p, chunk *first, chunk *last, size_t n)
{
    if (first == NULL)
        return;
    last->next = p->head;
    p->head = first;
    if (p->tail == NULL)
        p->tail = last;
    p->queued += n;
}

static void push_inflight(slot *s, chunk *c)
{
    c->next = NULL;
    if (s->last)
        s->last->next = c;
    else
        s->first = c;
    s->last = c;
    s->ninflight++;
    s->inflight_bytes += c->len;
}

static chunk *shift_inflight(slot *s)
{
    chunk *c = s->first;
    s->first = c->next;
    if (s->first == NULL)
        s->last = NULL;
    c->next = NULL;
    s->ninflight--;
    s->inflight_bytes -= c->len;
    return c;
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
static size_t depth(const slot *s);

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
        push_inflight(s, c);
        s->busy_since = mp_os_monotonic();
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
    mp_conn_reader_init(&s->reader, mp_conn_handle(ours));
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
    mp_conn_reader_free(&s->reader);
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

/* One reply from the worker. The job takes over m's allocation, if any.
 * Whether it answered a chunk. */
static bool on_reply(slot *s, mp_message *m)
{
    bool answered = false;
    mp_pool *p = s->pool;
    pool_reply r;
    mp_pool_reply_read(&r, m->data, m->len);
    if (!s->ready) {
        if (r.kind == POOL_READY) {
            s->ready = true;
        } else {
            char message[400];
            snprintf(message, sizeof message, "the initializer failed in worker %ld: %s", mp_process_pid(s->worker),
                     r.kind == POOL_INIT_FAILED ? r.message : "malformed reply");
            mp_os_mutex_lock(p->lock);
            chunk *lost = break_locked(p, MP_EINITIALIZER, message);
            mp_os_mutex_unlock(p->lock);
            fail_list(lost, MP_EINITIALIZER, message);
        }
    } else if (s->ninflight > 0) {
        chunk *c = shift_inflight(s);
        s->tasks_done++;
        answered = true;
        if (r.kind == POOL_DONE) {
            mp_job_chunk_done(c, r.count, r.payload, r.payload_len, m->owned);
            m->owned = NULL;
        } else {
            mp_remote_error err = {r.kind == POOL_FAILED ? r.code : MP_EPROTO, r.message, mp_job_task_name(c->job),
                                   mp_process_pid(s->worker), 0};
            mp_job_chunk_failed(c, MP_EREMOTE, &err);
        }
    }
    mp_pool_reply_release(&r);
    free(m->owned);
    m->owned = NULL;
    return answered;
}

/* The worker died: fail the chunk it was running, requeue the others. */
static void on_death(slot *s)
{
    mp_pool *p = s->pool;
    long pid = mp_process_pid(s->worker);
    bool was_ready = s->ready;
    /* Killed first in case it still runs: the pipe, not the process, may
     * be what ended (a malformed reply). */
    int code = reap_worker(s, true);
    chunk *running = s->ninflight ? shift_inflight(s) : NULL;
    mp_os_mutex_lock(p->lock);
    int state = p->state;
    chunk *lost = NULL;
    char message[300];
    if (state == RUNNING || state == CLOSED) {
        push_front_locked(p, s->first, s->last, s->ninflight);
        s->first = s->last = NULL;
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

static int flush(slot *s)
{
    int rc = s->out.len ? mp_conn_write(s->conn, s->out.data, s->out.len) : MP_OK;
    mp_buf_clear(&s->out);
    return rc;
}

/* A large chunk goes out as it lies in the job, after its headers: the
 * task header is packed behind room for the longest frame header, which
 * goes right in front of it once the length is known. */
static int send_large(slot *s, const chunk *c)
{
    int rc = mp_buf_reserve(&s->out, MP_CONN_FRAME_MAX_HEADER);
    if (rc != MP_OK)
        return rc;
    s->out.len = MP_CONN_FRAME_MAX_HEADER;
    rc = mp_job_task_header(c, &s->out);
    size_t header_len = s->out.len - MP_CONN_FRAME_MAX_HEADER;
    unsigned char h[MP_CONN_FRAME_MAX_HEADER];
    size_t n = mp_conn_frame_header(h, header_len + c->len);
    unsigned char *start = s->out.data + MP_CONN_FRAME_MAX_HEADER - n;
    memcpy(start, h, n);
    if (rc == MP_OK)
        rc = mp_conn_write(s->conn, start, n + header_len);
    if (rc == MP_OK)
        rc = mp_conn_write(s->conn, c->data, c->len);
    mp_buf_clear(&s->out);
    return rc;
}

/* Send the chunks from c on, the small ones several to a write. A failed
 * send means the worker is gone: its sentinel says so next. */
static void send_chunks(slot *s, const chunk *c)
{
    int rc = MP_OK;
    for (; c != NULL && rc == MP_OK; c = c->next) {
        if (c->len >= SEND_BATCH) {
            if ((rc = flush(s)) == MP_OK)
                rc = send_large(s, c);
            continue;
        }
        size_t mark;
        rc = mp_conn_frame_begin(&s->out, &mark);
        if (rc == MP_OK)
            rc = mp_job_task_message(c, &s->out);
        if (rc == MP_OK)
            rc = mp_conn_frame_end(&s->out, mark);
        if (rc == MP_OK && s->out.len >= SEND_BATCH)
            rc = flush(s);
    }
    if (rc == MP_OK)
        flush(s);
    mp_buf_clear(&s->out);
}

/* Whether the job the next reply is for keeps it: if not, the reader's
 * buffer is where it is best read. */
static bool keeps_reply(const slot *s)
{
    return s->ready && s->first != NULL && mp_job_keeps_replies(s->first->job);
}

/* A reply, or several, came in: how long the worker took for each. */
static void note_service(slot *s, size_t replies)
{
    double now = mp_os_monotonic();
    double each = (now - s->busy_since) / (double)replies;
    s->service = s->service == 0 ? each : s->service + (each - s->service) / 8;
    s->busy_since = now;
}

/* How many chunks the worker may hold: one until its chunks have been
 * timed, then as many as it runs in PIPELINE_SECONDS. */
static size_t depth(const slot *s)
{
    if (s->service == 0)
        return 1;
    double n = PIPELINE_SECONDS / s->service;
    return n >= MAX_DEPTH ? MAX_DEPTH : n <= 1 ? 1 : (size_t)n;
}

/* Send the chunks just taken (from fresh on); then wait for replies or the
 * worker's end, and take every reply that has come. */
static void exchange(slot *s, const chunk *fresh)
{
    send_chunks(s, fresh);
    bool readable = mp_conn_reader_has_message(&s->reader), ended = false;
    if (!readable) {
        mp_sentinel objects[2];
        bool ready[2] = {false, false};
        mp_conn_fileno(s->conn, &objects[0]);
        mp_process_sentinel(s->worker, &objects[1]);
        if (mp_wait(objects, 2, MP_FOREVER, ready) < 0)
            ready[1] = true;
        readable = ready[0];
        ended = ready[1];
    }
    /* Once the worker has ended, what it wrote before that is still to be
     * read: read on until nothing is left. */
    size_t replies = 0;
    while (readable || (ended && mp_os_pipe_poll(mp_conn_handle(s->conn), 0) == MP_OK)) {
        mp_message m;
        if (mp_conn_reader_next(&s->reader, keeps_reply(s), &m) != MP_OK) {
            ended = true;
            break;
        }
        replies += on_reply(s, &m);
        readable = mp_conn_reader_has_message(&s->reader);
    }
    if (replies > 0)
        note_service(s, replies);
    if (ended)
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
    bool ready[2] = {mp_conn_reader_has_message(&s->reader), false};
    mp_conn_fileno(s->conn, &objects[0]);
    mp_process_sentinel(s->worker, &objects[1]);
    if (ready[0] || (mp_wait(objects, 2, timeout, ready) > 0 && ready[0])) {
        mp_message m;
        if (mp_conn_reader_next(&s->reader, keeps_reply(s), &m) == MP_OK)
            on_reply(s, &m);
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
    bool exit = false;
    mp_buf_clear(&s->out);
    mp_buf_clear(&s->reply);
    int rc = mp_job_task_message(c, &s->out);
    if (rc == MP_OK)
        rc = mp_pool_execute(s->out.data, s->out.len, mp_job_direct_fn(c->job), &s->scratch, &s->reply, &exit);
    pool_reply r = {.kind = -1};
    if (rc == MP_OK)
        mp_pool_reply_read(&r, s->reply.data, s->reply.len);
    if (r.kind == POOL_DONE) {
        mp_job_chunk_done(c, r.count, r.payload, r.payload_len, NULL);
    } else {
        mp_remote_error err = {r.kind == POOL_FAILED ? r.code : rc, r.kind == POOL_FAILED ? r.message : mp_last_error(),
                               mp_job_task_name(c->job), 0, 0};
        mp_job_chunk_failed(c, MP_EREMOTE, &err);
    }
    mp_pool_reply_release(&r);
}

/* ---- the slot's loop --------------------------------------------------------- */

static bool can_take_locked(const slot *s)
{
    const mp_pool *p = s->pool;
    if (p->head == NULL)
        return false;
    if (p->maxtasks > 0 && s->tasks_done + (int)s->ninflight >= p->maxtasks)
        return false;
    if (s->ninflight == 0)
        return true;
    return !p->threads && s->ninflight < depth(s) && p->queued >= p->nslots &&
           s->inflight_bytes + p->head->len <= PIPELINE_BYTES;
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
        bool was_idle = s->ninflight == 0;
        chunk *fresh = NULL;
        while (can_take_locked(s)) {
            chunk *c = pop_locked(p);
            push_inflight(s, c);
            if (fresh == NULL)
                fresh = c;
        }
        mp_os_mutex_unlock(p->lock);
        if (p->threads) {
            run_inline(s);
        } else {
            if (was_idle)
                s->busy_since = mp_os_monotonic();
            exchange(s, fresh);
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
    for (size_t i = 0; p->slots && i < p->nslots; i++) {
        mp_os_cond_free(p->slots[i].wake);
        mp_buf_free(&p->slots[i].out);
        mp_buf_free(&p->slots[i].reply);
        mp_pool_scratch_free(&p->slots[i].scratch);
    }
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
        rc = mp_thread_start_daemon(&p->slots[i].thread, slot_main, &p->slots[i], name);
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
    double deadline = mp_deadline(timeout);
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].thread == NULL)
            continue;
        int rc = mp_thread_join(p->slots[i].thread, mp_time_left(deadline), NULL);
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
