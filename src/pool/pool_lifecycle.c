/* pool_lifecycle.c - a Pool's worker processes: starting one with the
 * initializer, its first reply (ready, or the initializer failed),
 * replacing one that died or reached maxtasksperchild, what its death
 * means for the chunks it held, and its end. */
#include <stdio.h>

#include "ipc/conn_internal.h"
#include "pool/pool_internal.h"

/* How long a retired worker has to exit by itself before it is killed. */
#define RETIRE_SECONDS 5

int mp_pool_start_worker(pool_slot *s)
{
    mp_pool *p = s->pool;
    if (p->programs)
        return mp_pool_program_start(s);
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

int mp_pool_reap_worker(pool_slot *s, bool kill)
{
    mp_pool *p = s->pool;
    if (p->remote)
        return 0;
    if (p->programs) {
        mp_pool_program_end(s, !kill);
        return 0;
    }
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

void mp_pool_retire_worker(pool_slot *s)
{
    if (s->pool->remote)
        return;
    if (s->pool->programs) {
        mp_pool_program_end(s, true);
        return;
    }
    mp_buf msg = MP_BUF_INIT;
    if (s->conn && mp_pack(&msg, "(i)", POOL_EXIT) == MP_OK)
        mp_conn_send_bytes(s->conn, msg.data, msg.len);
    mp_buf_free(&msg);
    if (s->worker && mp_process_join(s->worker, RETIRE_SECONDS) != MP_OK)
        mp_process_kill(s->worker);
    mp_pool_reap_worker(s, false);
}

bool mp_pool_tend_worker_locked(pool_slot *s)
{
    mp_pool *p = s->pool;
    if (p->remote)
        return false;
    if (p->programs)
        return mp_pool_program_tend_locked(s);
    if (s->worker == NULL) {
        mp_os_mutex_unlock(p->lock);
        int rc = mp_pool_start_worker(s);
        if (rc != MP_OK)
            mp_pool_break(p, rc, "a replacement worker could not start: %s", mp_last_error());
        mp_os_mutex_lock(p->lock);
        return true;
    }
    /* An idle worker's pipe has nothing to read: readable, it has ended.
     * That is seen as soon as the worker's end closes, before a forkserver
     * child's exit status has come back to say so. */
    bool ended = s->ninflight == 0 && s->ready &&
                 (mp_process_is_alive(s->worker) == 0 || mp_os_pipe_poll(mp_conn_handle(s->conn), 0) == MP_OK);
    if (ended) {
        /* it died while idle (killed from outside): no task was lost */
        mp_os_mutex_unlock(p->lock);
        mp_pool_reap_worker(s, false);
        mp_os_mutex_lock(p->lock);
        return true;
    }
    return false;
}

void mp_pool_kill_workers_locked(mp_pool *p)
{
    for (size_t i = 0; i < p->nslots; i++) {
        if (p->slots[i].worker)
            mp_process_kill(p->slots[i].worker);
        if (p->slots[i].program)
            mp_program_kill(p->slots[i].program);
    }
}

void mp_pool_on_first_reply(pool_slot *s, const pool_reply *r)
{
    if (r->kind == POOL_READY)
        s->ready = true;
    else
        mp_pool_break(s->pool, MP_EINITIALIZER, "the initializer failed in worker %ld: %s",
                      mp_process_pid(s->worker), r->kind == POOL_INIT_FAILED ? r->message : "malformed reply");
}

void mp_pool_on_worker_death(pool_slot *s)
{
    mp_pool *p = s->pool;
    long pid = mp_process_pid(s->worker);
    bool was_ready = s->ready;
    /* Killed first in case it still runs: the pipe, not the process, may
     * be what ended (a malformed reply). */
    int code = mp_pool_reap_worker(s, true);
    pool_chunk *running = s->ninflight ? mp_pool_slot_shift(s) : NULL;
    char message[MP_ERROR_MESSAGE_SIZE];
    mp_os_mutex_lock(p->lock);
    int state = p->state;
    bool serving = state == RUNNING || state == CLOSED;
    pool_chunk *lost = NULL;
    if (serving) {
        mp_pool_push_front_locked(p, s->first, s->last, s->ninflight);
        s->first = s->last = NULL;
        s->ninflight = 0;
        s->inflight_bytes = 0;
        if (!was_ready) {
            snprintf(message, sizeof message, "worker %ld died with exit code %d before its initializer finished", pid,
                     code);
            lost = mp_pool_break_locked(p, MP_EINITIALIZER, message);
        }
        mp_pool_wake_all_locked(p);
    }
    mp_os_mutex_unlock(p->lock);
    if (serving && !was_ready) {
        if (running) {
            running->next = lost;
            lost = running;
        }
        mp_pool_fail_chunks(lost, MP_EINITIALIZER, message);
        return;
    }
    if (running == NULL)
        return;
    if (!serving) {
        mp_pool_fail_stopped(p, state, running);
        return;
    }
    snprintf(message, sizeof message, "worker %ld died with exit code %d while running the task", pid, code);
    mp_remote_error err = {MP_EWORKERDIED, message, running->task->name, pid, code};
    running->task->failed(running, MP_EWORKERDIED, &err);
}
