/* worker_serve.c - mp_worker_serve: a local Pool, and one fetcher thread
 * per local worker that takes a task from Redis (moving it into this
 * worker's taken list in the same step), hands its task message to the
 * local Pool unchanged (pool_chunk.h's seam, as a call's job would) and
 * sends the local reply back to the caller's reply list. A local worker
 * that dies on a task counts as one delivery of it: below max_deliveries
 * the task goes back to the queue, at it the caller hears MP_EWORKERDIED. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "pack/pack_internal.h"
#include "pool/pool_chunk.h"
#include "pool/pool_message.h"
#include "redis/worker_serve.h"
#include "thread/thread_internal.h"

/* The longest one wait for a task lasts. */
#define TAKE_SLICE 1.0
/* After Redis failed us, wait this long before trying again. */
#define OUTAGE_PAUSE 0.5

int mp_serve_caller(serve *sv, mp_redis *c, const char *caller, mp_serve_caller_seen *seen)
{
    seen->present = false;
    seen->ttl_ms = (long long)(sv->o.result_ttl * 1000);
    seen->lives = 0;
    size_t n = strlen(sv->prefix) + strlen("caller:") + strlen(caller) + 1;
    char *key = malloc(n);
    if (key == NULL)
        return mp_fail(MP_ENOMEM, "mp_worker_serve: out of memory");
    snprintf(key, n, "%scaller:%s", sv->prefix, caller);
    mp_resp_arg get[] = {mp_resp_text("GET"), mp_resp_text(key)};
    mp_resp_arg pttl[] = {mp_resp_text("PTTL"), mp_resp_text(key)};
    mp_redis_cmd cmds[] = {{2, get}, {2, pttl}};
    mp_resp_reply *r[2];
    int rc = mp_redis_pipeline(c, 2, cmds, sv->o.timeout, r);
    free(key);
    if (rc != MP_OK)
        return rc;
    if (r[0]->type == MP_RESP_BULK) {
        seen->present = true;
        char ms[24];
        snprintf(ms, sizeof ms, "%.*s", (int)(r[0]->len < sizeof ms ? r[0]->len : sizeof ms - 1), r[0]->str);
        char *end;
        long long v = strtoll(ms, &end, 10);
        if (*end == '\0' && v > 0)
            seen->ttl_ms = v;
        if (r[1]->type == MP_RESP_INTEGER && r[1]->integer > 0)
            seen->lives = (double)r[1]->integer / 1000;
    }
    mp_resp_free(r[0]);
    mp_resp_free(r[1]);
    return MP_OK;
}

/* Send the reply envelope e to the task's caller, to live ttl_ms there,
 * and forget the task. */
static int answer(serve *sv, mp_redis *c, const mp_task_envelope *t, const void *env, size_t env_len,
                  const mp_reply_envelope *e, long long ttl_ms)
{
    mp_buf out = MP_BUF_INIT;
    int rc = mp_reply_envelope_write(&out, e);
    char ttl[32];
    snprintf(ttl, sizeof ttl, "%lld", ttl_ms);
    mp_resp_arg push[] = {mp_resp_text("LPUSH"), mp_resp_text(t->reply_key), {out.data, out.len}};
    mp_resp_arg expire[] = {mp_resp_text("PEXPIRE"), mp_resp_text(t->reply_key), mp_resp_text(ttl)};
    mp_resp_arg forget[] = {
        mp_resp_text("LREM"), mp_resp_text(sv->k_taken), mp_resp_text("1"), {env, env_len}};
    mp_resp_arg count[] = {mp_resp_text("HDEL"), mp_resp_text(sv->k_deliveries), mp_resp_text(t->id)};
    mp_redis_cmd cmds[] = {{3, push}, {3, expire}, {4, forget}, {3, count}};
    if (rc == MP_OK)
        rc = mp_redis_run(c, 4, cmds, sv->o.timeout);
    mp_buf_free(&out);
    return rc;
}

int mp_serve_fail_task(serve *sv, mp_redis *c, const void *env, size_t env_len, bool died, int code,
                       const char *message, long pid)
{
    mp_value *v = NULL;
    mp_task_envelope t;
    int rc = mp_decode(env, env_len, NULL, &v);
    if (rc == MP_OK)
        rc = mp_task_envelope_read(v, &t);
    mp_serve_caller_seen seen;
    if (rc == MP_OK)
        rc = mp_serve_caller(sv, c, t.caller, &seen);
    mp_buf reply = MP_BUF_INIT;
    if (rc == MP_OK)
        rc = mp_pack(&reply, "(iis)", POOL_FAILED, code, message);
    if (rc == MP_OK)
        rc = answer(sv, c, &t, env, env_len,
                    &(mp_reply_envelope){t.id, sv->host, pid, died, reply.data, reply.len}, seen.ttl_ms);
    mp_buf_free(&reply);
    mp_value_free(v);
    return rc;
}

/* ---- a fetcher ----------------------------------------------------------------- */

typedef struct fetcher {
    serve *sv;
    mp_thread *thread;
    mp_redis *c;
    /* the task in the local Pool */
    pool_task task;
    pool_chunk chunk;
    mp_os_mutex *lock;
    mp_os_cond *ended;
    bool done;
    /* The caller last found present, until when its presence lives for
     * sure (its PTTL then), and its result_ttl: tasks of that caller until
     * then need no look in Redis. Callers only ever extend their presence,
     * never delete it. */
    char seen_caller[40];
    double seen_until;
    mp_serve_caller_seen seen;
    int ret;
    int code;
    long pid;
    mp_buf reply; /* DONE: the reply message; else the error's message */
} fetcher;

static fetcher *fetcher_of(pool_chunk *c)
{
    return (fetcher *)(void *)((char *)c - offsetof(fetcher, chunk));
}

/* The task message is whole in the chunk's bytes: nothing goes before. */
static int no_header(const pool_chunk *c, mp_buf *msg)
{
    (void)c;
    (void)msg;
    return MP_OK;
}

static void end_task(fetcher *f)
{
    mp_os_mutex_lock(f->lock);
    f->done = true;
    mp_os_cond_signal(f->ended);
    mp_os_mutex_unlock(f->lock);
}

static void task_done(pool_chunk *c, uint64_t count, const unsigned char *data, size_t len, void *owned)
{
    fetcher *f = fetcher_of(c);
    mp_buf_clear(&f->reply);
    f->ret = mp_pack(&f->reply, "(iQ)", POOL_DONE, count);
    if (f->ret == MP_OK)
        f->ret = mp_buf_append(&f->reply, data, len);
    f->pid = mp_current_pid();
    free(owned);
    end_task(f);
}

static void task_failed(pool_chunk *c, int ret, const mp_remote_error *err)
{
    fetcher *f = fetcher_of(c);
    mp_buf_clear(&f->reply);
    f->ret = ret;
    f->code = err->code;
    f->pid = err->pid;
    mp_buf_append(&f->reply, err->message, strlen(err->message) + 1);
    end_task(f);
}

/* The local worker died on the task: count it, and either queue the task
 * again or tell its caller. */
static int on_death(fetcher *f, const mp_task_envelope *t, const void *env, size_t env_len)
{
    serve *sv = f->sv;
    mp_resp_arg incr[] = {mp_resp_text("HINCRBY"), mp_resp_text(sv->k_deliveries), mp_resp_text(t->id),
                          mp_resp_text("1")};
    mp_resp_reply *r;
    int rc = mp_redis_call_within(f->c, sv->o.timeout, 4, incr, &r);
    if (rc != MP_OK)
        return rc;
    int64_t deaths = r->type == MP_RESP_INTEGER ? r->integer : 0;
    mp_resp_free(r);
    if (deaths >= sv->o.max_deliveries) {
        char message[MP_ERROR_MESSAGE_SIZE];
        snprintf(message, sizeof message, "the task killed %lld workers; the last: %s on host %s",
                 (long long)deaths, (const char *)f->reply.data, sv->host);
        return mp_serve_fail_task(sv, f->c, env, env_len, true, MP_EWORKERDIED, message, f->pid);
    }
    mp_resp_arg again[] = {mp_resp_text("RPUSH"), mp_resp_text(sv->k_tasks), {env, env_len}};
    mp_resp_arg forget[] = {
        mp_resp_text("LREM"), mp_resp_text(sv->k_taken), mp_resp_text("1"), {env, env_len}};
    mp_redis_cmd cmds[] = {{3, again}, {4, forget}};
    return mp_redis_run(f->c, 2, cmds, sv->o.timeout);
}

/* The task's caller as its presence says, into f->seen. */
static int look_up_caller(fetcher *f, const mp_task_envelope *t)
{
    double now = mp_os_monotonic();
    if (strcmp(f->seen_caller, t->caller) == 0 && now < f->seen_until)
        return MP_OK;
    f->seen_caller[0] = '\0';
    int rc = mp_serve_caller(f->sv, f->c, t->caller, &f->seen);
    if (rc == MP_OK && f->seen.lives > 0 && strlen(t->caller) < sizeof f->seen_caller) {
        snprintf(f->seen_caller, sizeof f->seen_caller, "%s", t->caller);
        f->seen_until = now + f->seen.lives; /* now: before Redis answered */
    }
    return rc;
}

/* Run one task through the local Pool and answer its caller. */
static int run_task(fetcher *f, const void *env, size_t env_len)
{
    serve *sv = f->sv;
    mp_value *v = NULL;
    mp_task_envelope t;
    int rc = mp_decode(env, env_len, NULL, &v);
    if (rc == MP_OK)
        rc = mp_task_envelope_read(v, &t);
    if (rc != MP_OK) {
        /* not ours to run, nor to answer: drop it */
        mp_resp_arg forget[] = {
            mp_resp_text("LREM"), mp_resp_text(sv->k_taken), mp_resp_text("1"), {env, env_len}};
        mp_resp_reply *r;
        if (mp_redis_call_within(f->c, sv->o.timeout, 4, forget, &r) == MP_OK)
            mp_resp_free(r);
        mp_value_free(v);
        return MP_OK;
    }
    if ((rc = look_up_caller(f, &t)) != MP_OK) {
        mp_value_free(v);
        return rc;
    }
    if (!f->seen.present) {
        /* its caller is gone: nobody would read the result */
        mp_resp_arg forget[] = {
            mp_resp_text("LREM"), mp_resp_text(sv->k_taken), mp_resp_text("1"), {env, env_len}};
        mp_resp_reply *r;
        if ((rc = mp_redis_call_within(f->c, sv->o.timeout, 4, forget, &r)) == MP_OK)
            mp_resp_free(r);
        mp_value_free(v);
        return rc;
    }
    f->chunk = (pool_chunk){.task = &f->task, .data = t.message, .len = t.message_len};
    f->done = false;
    rc = mp_pool_submit(sv->local, &f->chunk, &f->chunk, 1);
    /* The task went straight to an idle worker: read its reply here, with
     * no slot thread woken on either side (pool_caller_reads.c); after a
     * lease of waiting, or should the worker end, the slot thread does. */
    if (rc == MP_OK)
        mp_pool_read_reply(sv->local, &f->chunk, sv->o.lease);
    mp_os_mutex_lock(f->lock);
    while (rc == MP_OK && !f->done)
        mp_os_cond_wait(f->ended, f->lock, MP_FOREVER);
    mp_os_mutex_unlock(f->lock);
    if (rc == MP_OK && f->ret == MP_OK)
        rc = answer(sv, f->c, &t, env, env_len,
                    &(mp_reply_envelope){t.id, sv->host, f->pid, false, f->reply.data, f->reply.len},
                    f->seen.ttl_ms);
    else if (rc == MP_OK && f->ret == MP_EREMOTE)
        rc = mp_serve_fail_task(sv, f->c, env, env_len, false, f->code, (const char *)f->reply.data, f->pid);
    else if (rc == MP_OK && f->ret == MP_EWORKERDIED)
        rc = on_death(f, &t, env, env_len);
    else if (rc == MP_OK) {
        /* the local Pool is broken: the task goes back for another worker */
        sv->failure = f->ret;
        atomic_store(&sv->stopping, true);
        mp_resp_arg again[] = {mp_resp_text("RPUSH"), mp_resp_text(sv->k_tasks), {env, env_len}};
        mp_resp_arg forget[] = {
            mp_resp_text("LREM"), mp_resp_text(sv->k_taken), mp_resp_text("1"), {env, env_len}};
        mp_redis_cmd cmds[] = {{3, again}, {4, forget}};
        rc = mp_redis_run(f->c, 2, cmds, sv->o.timeout);
    }
    mp_value_free(v);
    return rc;
}

static int fetcher_main(void *arg)
{
    fetcher *f = arg;
    serve *sv = f->sv;
    char secs[16];
    snprintf(secs, sizeof secs, "%.3f", TAKE_SLICE);
    mp_redis_options ro = {.connect_timeout = sv->o.timeout, .command_timeout = sv->o.timeout};
    mp_resp_arg take[] = {mp_resp_text("BLMOVE"), mp_resp_text(sv->k_tasks), mp_resp_text(sv->k_taken),
                          mp_resp_text("RIGHT"),  mp_resp_text("LEFT"),      mp_resp_text(secs)};
    while (!atomic_load(&sv->stopping)) {
        mp_resp_reply *r = NULL;
        int rc = f->c != NULL ? MP_OK : mp_redis_open(&f->c, sv->backend, &ro);
        if (rc == MP_OK)
            rc = mp_redis_call_within(f->c, sv->o.timeout + TAKE_SLICE, 6, take, &r);
        if (rc == MP_OK && r->type == MP_RESP_BULK)
            rc = run_task(f, r->str, r->len);
        mp_resp_free(r);
        if (rc != MP_OK)
            mp_os_sleep(OUTAGE_PAUSE); /* Redis is away: wait it out */
    }
    return 0;
}

/* ---- serving ---------------------------------------------------------------------- */

static int make_keys(serve *sv)
{
    char taken[64], alive[64];
    snprintf(taken, sizeof taken, "taken:%s", sv->id);
    snprintf(alive, sizeof alive, "alive:%s", sv->id);
    sv->k_tasks = mp_backend_key(sv->prefix, "tasks");
    sv->k_taken = mp_backend_key(sv->prefix, taken);
    sv->k_alive = mp_backend_key(sv->prefix, alive);
    sv->k_workers = mp_backend_key(sv->prefix, "workers");
    sv->k_deliveries = mp_backend_key(sv->prefix, "deliveries");
    sv->k_dead = mp_backend_key(sv->prefix, "dead");
    sv->k_stop = mp_backend_key(sv->prefix, "stop");
    if (!sv->k_tasks || !sv->k_taken || !sv->k_alive || !sv->k_workers || !sv->k_deliveries || !sv->k_dead ||
        !sv->k_stop)
        return mp_fail(MP_ENOMEM, "mp_worker_serve: out of memory");
    return MP_OK;
}

static void serve_free(serve *sv)
{
    mp_pool_free(sv->local);
    mp_os_cond_free(sv->wake);
    mp_os_mutex_free(sv->lock);
    free(sv->backend);
    free(sv->prefix);
    free(sv->k_tasks);
    free(sv->k_taken);
    free(sv->k_alive);
    free(sv->k_workers);
    free(sv->k_deliveries);
    free(sv->k_dead);
    free(sv->k_stop);
}

static int serve_begin(serve *sv, const char *backend, const mp_worker_options *o)
{
    const char *what = "mp_worker_serve";
    mp_redis *c = NULL;
    int rc = mp_backend_settle(o->backend_options, &sv->o, what);
    if (rc == MP_OK)
        rc = mp_backend_open(backend, &sv->o, &c, &sv->prefix, what);
    mp_redis_free(c);
    if (rc == MP_OK)
        rc = (sv->backend = mp_strdup(backend)) ? mp_backend_id(sv->id) : mp_fail(MP_ENOMEM, "out of memory");
    if (rc == MP_OK)
        rc = make_keys(sv);
    mp_os_hostname(sv->host, sizeof sv->host);
    if (rc == MP_OK)
        rc = mp_os_mutex_new(&sv->lock);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&sv->wake);
    mp_pool_options po = {.processes = o->processes,
                          .initializer = o->initializer,
                          .initargs = o->initargs,
                          .initargs_len = o->initargs_len,
                          .maxtasksperchild = o->maxtasksperchild,
                          .context = o->context};
    if (rc == MP_OK)
        rc = mp_pool_new(&sv->local, &po);
    if (rc == MP_OK)
        rc = mp_serve_lease_start(sv);
    return rc;
}

int mp_worker_serve(const char *backend, const mp_worker_options *opts)
{
    mp_worker_options o = opts ? *opts : (mp_worker_options){0};
    serve sv = {.failure = MP_OK};
    atomic_init(&sv.stopping, false);
    int rc = serve_begin(&sv, backend, &o);
    size_t n = rc == MP_OK ? mp_pool_worker_count(sv.local) : 0;
    fetcher *fs = n ? calloc(n, sizeof *fs) : NULL;
    if (rc == MP_OK && fs == NULL)
        rc = mp_fail(MP_ENOMEM, "mp_worker_serve: out of memory");
    size_t started = 0;
    for (; rc == MP_OK && started < n; started++) {
        fetcher *f = &fs[started];
        f->sv = &sv;
        f->reply = (mp_buf)MP_BUF_INIT;
        f->task = (pool_task){
            .header = no_header,
            .done = task_done,
            .failed = task_failed,
            .name = "(a task from Redis)",
            .waited_only = true, /* only this fetcher waits for it */
        };
        rc = mp_os_mutex_new(&f->lock);
        if (rc == MP_OK)
            rc = mp_os_cond_new(&f->ended);
        if (rc == MP_OK)
            rc = mp_thread_start_daemon(&f->thread, fetcher_main, f, "mproc-worker-fetch");
        if (rc != MP_OK)
            break;
    }
    if (rc != MP_OK)
        atomic_store(&sv.stopping, true);
    for (size_t i = 0; fs && i < n; i++) {
        if (fs[i].thread != NULL)
            mp_thread_join(fs[i].thread, MP_FOREVER, NULL);
        mp_redis_free(fs[i].c);
        mp_buf_free(&fs[i].reply);
        mp_os_cond_free(fs[i].ended);
        mp_os_mutex_free(fs[i].lock);
    }
    free(fs);
    if (sv.lease_thread != NULL)
        mp_serve_lease_stop(&sv);
    if (sv.local != NULL) {
        mp_pool_close(sv.local);
        mp_pool_join(sv.local, MP_FOREVER);
    }
    if (rc == MP_OK && sv.failure != MP_OK)
        rc = mp_fail(sv.failure, "mp_worker_serve: the local Pool failed");
    serve_free(&sv);
    return rc;
}

int mp_worker_stop(const char *backend, const mp_backend_options *opts)
{
    mp_backend_options o;
    int rc = mp_backend_settle(opts, &o, "mp_worker_stop");
    mp_redis *c = NULL;
    char *prefix = NULL, *key = NULL;
    if (rc == MP_OK)
        rc = mp_backend_open(backend, &o, &c, &prefix, "mp_worker_stop");
    if (rc == MP_OK && (key = mp_backend_key(prefix, "stop")) == NULL)
        rc = mp_fail(MP_ENOMEM, "mp_worker_stop: out of memory");
    mp_resp_reply *r;
    if (rc == MP_OK)
        rc = mp_redis_callv(c, &r, "INCR", key, (const char *)NULL);
    if (rc == MP_OK)
        mp_resp_free(r);
    free(key);
    free(prefix);
    mp_redis_free(c);
    return rc;
}
