/* pool_program_slot.c - a program pool's slot: it starts its program,
 * waits for its ready line, has it answer one chunk at a time through the
 * framing, and replaces it when it dies, falls out of step or times out.
 * Starts that fail in a row break the pool rather than loop. */
#include <stdio.h>
#include <string.h>

#include "base/error_internal.h"
#include "pack/pack_internal.h"
#include "pool/pool_internal.h"

/* Forget the slot's program (under the lock, so nobody kills it after it
 * is freed) and hand it over. */
static mp_program *take_program(pool_slot *s)
{
    mp_os_mutex_lock(s->pool->lock);
    mp_program *prog = s->program;
    s->program = NULL;
    s->ready = false;
    mp_os_mutex_unlock(s->pool->lock);
    return prog;
}

/* What went wrong, with the end of the program's stderr. */
static void describe(char *out, size_t size, const pool_programs *pp, long pid, const char *what,
                     int exitcode, const char *tail)
{
    size_t tail_len = strlen(tail);
    const size_t shown = 400;
    int n = snprintf(out, size, "program '%s' (pid %ld) %s; exit code %d", pp->argv[0], pid, what, exitcode);
    if (tail_len > 0 && n > 0 && (size_t)n < size)
        snprintf(out + n, size - (size_t)n, "; its stderr ends: %s",
                 tail_len > shown ? tail + tail_len - shown : tail);
}

/* A start that failed: count it, and break the pool at the limit. */
static void start_failed(pool_slot *s, const char *message)
{
    mp_pool *p = s->pool;
    mp_os_mutex_lock(p->lock);
    bool serving = p->state == RUNNING || p->state == CLOSED;
    bool broke = serving && ++p->programs->failures >= p->programs->max_failures;
    int failures = p->programs->failures;
    mp_os_mutex_unlock(p->lock);
    if (broke)
        mp_pool_break(p, MP_EINITIALIZER, "%d programs in a row failed to start; the last: %s", failures,
                      message);
}

static void proven(pool_slot *s)
{
    if (s->proven)
        return;
    s->proven = true;
    mp_os_mutex_lock(s->pool->lock);
    s->pool->programs->failures = 0;
    mp_os_mutex_unlock(s->pool->lock);
}

int mp_pool_program_start(pool_slot *s)
{
    mp_pool *p = s->pool;
    mp_program *prog;
    int rc = mp_program_start(&prog, &p->programs->spec);
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(p->lock);
    s->program = prog;
    s->ready = p->programs->ready_line == NULL;
    s->proven = false;
    s->tasks_done = 0;
    if (p->state == TERMINATED || p->state == BROKEN)
        mp_program_kill(prog);
    mp_os_mutex_unlock(p->lock);
    return MP_OK;
}

/* The slot's program has failed (ended, timed out, out of step, or never
 * ready): reap it and say why in message. */
static void lose_program(pool_slot *s, const char *what, char *message, size_t size, long *pid, int *exitcode)
{
    mp_program *prog = take_program(s);
    *pid = mp_program_pid(prog);
    *exitcode = mp_program_reap(prog);
    describe(message, size, s->pool->programs, *pid, what, *exitcode, mp_program_stderr_tail(prog));
    mp_program_free(prog);
}

/* Start a program, or wait for the ready line of the one just started. */
static void bring_up(pool_slot *s)
{
    char message[MP_ERROR_MESSAGE_SIZE];
    if (s->program == NULL) {
        if (mp_pool_program_start(s) != MP_OK) {
            snprintf(message, sizeof message, "program '%s' could not start: %s", s->pool->programs->argv[0],
                     mp_last_error());
            start_failed(s, message);
        }
        return;
    }
    const pool_programs *pp = s->pool->programs;
    if (mp_program_await_line(s->program, pp->ready_line, pp->start_timeout) == MP_OK) {
        s->ready = true;
        proven(s);
        return;
    }
    char what[MP_ERROR_MESSAGE_SIZE];
    snprintf(what, sizeof what, "was not ready: %s", mp_last_error());
    long pid;
    int exitcode;
    lose_program(s, what, message, sizeof message, &pid, &exitcode);
    start_failed(s, message);
}

bool mp_pool_program_tend_locked(pool_slot *s)
{
    mp_pool *p = s->pool;
    if (p->state == TERMINATED || p->state == BROKEN)
        return false;
    if (s->program != NULL && s->ready) {
        /* Ended while it had no task (killed from outside): replaced, and
         * no task is blamed. */
        if (mp_program_running(s->program))
            return false;
        mp_os_mutex_unlock(p->lock);
        mp_pool_program_end(s, false);
        mp_os_mutex_lock(p->lock);
        return true;
    }
    mp_os_mutex_unlock(p->lock);
    bring_up(s);
    mp_os_mutex_lock(p->lock);
    return true;
}

/* The chunk's values, framed, into s->out; how many. */
static int frame_chunk(pool_slot *s, const pool_chunk *c, size_t *count)
{
    mp_program_framing f = s->pool->programs->spec.framing;
    mp_buf_clear(&s->out);
    *count = 0;
    int rc = MP_OK;
    for (size_t pos = 0, n; pos < c->len && rc == MP_OK; pos += n, (*count)++) {
        rc = mp_value_span(c->data + pos, c->len - pos, &n);
        if (rc == MP_OK)
            rc = mp_frame_task(f, c->data + pos, n, &s->out, "a program's task");
    }
    return rc;
}

void mp_pool_program_run(pool_slot *s)
{
    mp_pool *p = s->pool;
    pool_chunk *c = mp_pool_slot_shift(s);
    size_t count;
    mp_buf_clear(&s->reply);
    int rc = frame_chunk(s, c, &count);
    if (rc == MP_OK)
        rc = mp_program_exchange(s->program, s->out.data, s->out.len, count, p->programs->task_timeout,
                                 &s->reply);
    if (rc == MP_OK) {
        proven(s);
        s->tasks_done++;
        pool_reply r = {
            .kind = POOL_DONE, .count = count, .payload = s->reply.data, .payload_len = s->reply.len};
        mp_pool_chunk_replied(c, &r, NULL, MP_OK, NULL, mp_program_pid(s->program));
        if (p->maxtasks > 0 && s->tasks_done >= p->maxtasks)
            mp_pool_program_end(s, true);
        return;
    }
    /* Its stream is out of step, or it is gone: it is replaced. */
    int ret = rc == MP_EEOF ? MP_EWORKERDIED : rc;
    bool first = !s->proven;
    char what[MP_ERROR_MESSAGE_SIZE], message[MP_ERROR_MESSAGE_SIZE];
    snprintf(what, sizeof what, "failed the task: %s", mp_last_error());
    long pid;
    int exitcode;
    lose_program(s, what, message, sizeof message, &pid, &exitcode);
    mp_os_mutex_lock(p->lock);
    int state = p->state;
    mp_os_mutex_unlock(p->lock);
    if (state == TERMINATED || state == BROKEN) {
        /* killed by the pool itself: the task fails with the pool's reason */
        mp_pool_fail_stopped(p, state, c);
        return;
    }
    mp_remote_error err = {ret, message, c->task->name, pid, exitcode};
    c->task->failed(c, ret, &err);
    if (first)
        start_failed(s, message);
}

void mp_pool_program_end(pool_slot *s, bool retire)
{
    mp_program *prog = take_program(s);
    if (prog == NULL)
        return;
    const pool_programs *pp = s->pool->programs;
    if (retire)
        mp_program_retire(prog, pp->quit, pp->quit_len, pp->quit_grace);
    else
        mp_program_reap(prog);
    mp_program_free(prog);
}
