/* test_redis_pool.c - a pool on Redis (pool.h, "A pool on Redis"): a
 * caller here, workers in child processes (mp_worker_serve), against real
 * redis-server instances of the test's own (redis_server.h), natively and
 * under Wine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"
#include "redis/redis_client.h"
#include "redis_server.h"

static mpt_redis server;
static int pools_made;

/* A pool name of its own for each test, so that no test sees another's
 * tasks. */
static void backend(char *out, size_t size)
{
    snprintf(out, size, "%s/0/pool%d", server.url, ++pools_made);
}

/* ---- the tasks ---------------------------------------------------------------- */

static int square(const mp_value *args, mp_buf *result)
{
    int64_t x;
    int rc = mp_args(args, "q", &x);
    if (rc == MP_OK && x < 0)
        return mp_raise(MP_EINVAL, "negative: %lld", (long long)x);
    return rc ? rc : mp_pack(result, "q", x * x);
}
MP_TASK(square)

static int add(const mp_value *args, mp_buf *result)
{
    int64_t a, b;
    int rc = mp_args(args, "qq", &a, &b);
    return rc ? rc : mp_pack(result, "q", a + b);
}
MP_TASK(add)

static int twice(const void *in, void *out)
{
    *(int *)out = 2 * *(const int *)in;
    return MP_OK;
}
MP_ELEM_TASK(twice)

/* Kills its worker process when asked to. */
static int die_on_zero(const mp_value *args, mp_buf *result)
{
    int64_t x;
    int rc = mp_args(args, "q", &x);
    if (rc == MP_OK && x == 0)
        abort();
    return rc ? rc : mp_pack(result, "q", x);
}
MP_TASK(die_on_zero)

static int pause_for(double seconds)
{
    mp_event *never;
    int rc = mp_event_new(&never);
    if (rc == MP_OK) {
        mp_event_wait(never, seconds);
        mp_event_free(never);
    }
    return rc;
}

/* Sleeps, then gives its worker's pid. */
static int slow_pid(const mp_value *args, mp_buf *result)
{
    double s;
    int rc = mp_args(args, "d", &s);
    if (rc == MP_OK)
        rc = pause_for(s);
    return rc ? rc : mp_pack(result, "q", (int64_t)mp_current_pid());
}
MP_TASK(slow_pid)

/* square, a quarter of a second later */
static int slow_square(const mp_value *args, mp_buf *result)
{
    int rc = pause_for(0.25);
    return rc ? rc : square(args, result);
}
MP_TASK(slow_square)

/* ---- workers ------------------------------------------------------------------- */

static int serve(const mp_value *args)
{
    const char *url;
    int processes;
    double lease;
    int rc = mp_args(args, "sid", &url, &processes, &lease);
    mp_backend_options bo = {.lease = lease};
    mp_worker_options o = {.processes = processes, .backend_options = &bo};
    if (rc == MP_OK)
        rc = mp_worker_serve(url, &o);
    if (rc != MP_OK)
        fprintf(stderr, "serve: %s\n", mp_last_error());
    return rc == MP_OK ? 0 : 1;
}
MP_TARGET(serve)

static mp_process *start_worker(const char *url, int processes, double lease)
{
    mp_process *p;
    MPT_OK(mp_process_new(&p, serve, NULL, "sid", url, processes, lease));
    MPT_OK(mp_process_start(p));
    return p;
}

static void stop_workers(const char *url, mp_process **ps, size_t n)
{
    MPT_OK(mp_worker_stop(url, NULL));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(mpt_join_child(ps[i]), 0);
}

static mp_pool *caller(const char *url, double lease)
{
    mp_backend_options bo = {.lease = lease, .timeout = 5};
    mp_pool *pool = NULL;
    MPT_OK(mp_pool_new(&pool, &(mp_pool_options){.backend = url, .backend_options = &bo}));
    return pool;
}

static void calls_through_redis(void **state)
{
    (void)state;
    char url[160];
    backend(url, sizeof url);
    mp_process *w = start_worker(url, 2, 0);
    mp_pool *pool = caller(url, 0);
    mp_value *v = NULL;
    MPT_OK(mp_pool_apply(pool, square, &v, "q", (int64_t)7));
    assert_int_equal(v->as.i, 49);
    mp_value_free(v);

    enum { N = 1000 };
    mp_buf items = MP_BUF_INIT, pairs = MP_BUF_INIT;
    for (int i = 0; i < N; i++) {
        MPT_OK(mp_pack(&items, "q", (int64_t)i));
        MPT_OK(mp_pack(&pairs, "(qq)", (int64_t)i, (int64_t)1));
    }
    MPT_OK(mp_pool_map(pool, square, items.data, items.len, 0, &v));
    assert_int_equal(v->as.array.len, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(v->as.array.items[i].as.i, (int64_t)i * i);
    mp_value_free(v);
    MPT_OK(mp_pool_starmap(pool, add, pairs.data, pairs.len, 0, &v));
    for (int i = 0; i < N; i++)
        assert_int_equal(v->as.array.items[i].as.i, i + 1);
    mp_value_free(v);
    /* the first 100 items are one byte each (positive fixints) */
    mp_imap_iter *it;
    MPT_OK(mp_pool_imap_unordered(pool, square, items.data, 100, &(mp_async_options){.chunksize = 7}, &it));
    int64_t sum = 0;
    int count = 0;
    while (mp_imap_next(it, 30, &v) == MP_OK) {
        sum += v->as.i;
        count++;
        mp_value_free(v);
    }
    mp_imap_free(it);
    assert_int_equal(count, 100);
    assert_int_equal(sum, 328350);
    mp_buf_free(&items);
    mp_buf_free(&pairs);

    /* a task that raises: its message says where */
    mp_async_result *r;
    MPT_OK(mp_pool_apply_async(pool, square, NULL, &r, "q", (int64_t)-3));
    MPT_CODE(mp_async_result_get(r, 30, &v), MP_EREMOTE);
    const mp_remote_error *e = mp_async_result_error(r);
    assert_int_equal(e->code, MP_EINVAL);
    assert_non_null(strstr(e->message, "negative: -3"));
    assert_non_null(strstr(e->message, "on host"));
    mp_async_result_free(r);
    int in[2] = {1, 2}, out[2];
    MPT_CODE(mp_pool_map_fixed(pool, twice, in, sizeof in[0], out, sizeof out[0], 2, 0), MP_EUNSUPPORTED);

    MPT_OK(mp_pool_close(pool));
    MPT_OK(mp_pool_join(pool, 30));
    mp_pool_free(pool);
    stop_workers(url, &w, 1);
}

/* A name longer than a short fixed buffer holds: workers once cut the
 * caller's key short, found no such caller and dropped every task. */
static void long_pool_name(void **state)
{
    (void)state;
    char url[400];
    snprintf(url, sizeof url, "%s/0/a-pool-whose-name-is-long-%d-%0200d", server.url, ++pools_made, 0);
    mp_process *w = start_worker(url, 1, 0);
    mp_pool *pool = caller(url, 0);
    mp_async_result *r;
    mp_value *v = NULL;
    MPT_OK(mp_pool_apply_async(pool, square, NULL, &r, "q", (int64_t)9));
    MPT_OK(mp_async_result_get(r, 10, &v));
    assert_int_equal(v->as.i, 81);
    mp_value_free(v);
    mp_async_result_free(r);
    mp_pool_free(pool);
    stop_workers(url, &w, 1);
}

static void killer_task_fails_after_three(void **state)
{
    (void)state;
    char url[160];
    backend(url, sizeof url);
    mp_process *w = start_worker(url, 1, 0);
    mp_pool *pool = caller(url, 0);
    mp_value *v = NULL;
    MPT_CODE(mp_pool_apply(pool, die_on_zero, &v, "q", (int64_t)0), MP_EWORKERDIED);
    assert_non_null(strstr(mp_last_error(), "killed 3 workers"));
    MPT_OK(mp_pool_apply(pool, die_on_zero, &v, "q", (int64_t)5));
    assert_int_equal(v->as.i, 5);
    mp_value_free(v);
    mp_pool_free(pool);
    stop_workers(url, &w, 1);
}

static void dead_worker_host_task_comes_back(void **state)
{
    (void)state;
    char url[160];
    backend(url, sizeof url);
    mp_process *first = start_worker(url, 1, 1);
    mp_pool *pool = caller(url, 1);
    mp_async_result *r;
    MPT_OK(mp_pool_apply_async(pool, slow_pid, NULL, &r, "d", 1.5));
    /* wait until the first worker holds it, then kill that whole worker */
    mp_value *v = NULL;
    MPT_CODE(mp_async_result_get(r, 0.5, &v), MP_ETIMEDOUT);
    MPT_OK(mp_process_kill(first));
    assert_int_equal(mpt_join_child(first) != 0, 1);
    mp_process *second = start_worker(url, 1, 1);
    MPT_OK(mp_async_result_get(r, 30, &v));
    assert_true(v->as.i > 0);
    mp_value_free(v);
    mp_async_result_free(r);
    mp_pool_free(pool);
    stop_workers(url, &second, 1);
}

static void redis_stopped_then_back(void **state)
{
    (void)state;
    mpt_redis own;
    mpt_redis_start(&own);
    char url[160];
    snprintf(url, sizeof url, "%s/0/outage", own.url);
    mp_process *w = start_worker(url, 1, 0);
    /* long enough for a loaded machine's Redis to answer, short enough to
     * see the stopped one time out */
    mp_backend_options bo = {.timeout = 3};
    mp_pool *pool = NULL;
    MPT_OK(mp_pool_new(&pool, &(mp_pool_options){.backend = url, .backend_options = &bo}));
    mp_value *v = NULL;
    MPT_OK(mp_pool_apply(pool, square, &v, "q", (int64_t)3));
    mp_value_free(v);
    mpt_redis_do(&own, "stop");
    int rc = mp_pool_apply(pool, square, &v, "q", (int64_t)4);
    assert_true(rc == MP_ETIMEDOUT || rc == MP_ECONNRESET);
    mpt_redis_do(&own, "cont");
    MPT_OK(mp_pool_apply(pool, square, &v, "q", (int64_t)5));
    assert_int_equal(v->as.i, 25);
    mp_value_free(v);
    /* killed: a call fails; restarted empty (no persistence): the first
     * call works, though the caller's presence went with the data */
    mpt_redis_do(&own, "kill");
    rc = mp_pool_apply(pool, square, &v, "q", (int64_t)6);
    assert_true(rc == MP_ETIMEDOUT || rc == MP_ECONNRESET);
    mpt_redis_do(&own, "restart");
    mp_async_result *r;
    MPT_OK(mp_pool_apply_async(pool, square, NULL, &r, "q", (int64_t)7));
    MPT_OK(mp_async_result_get(r, 30, &v));
    assert_int_equal(v->as.i, 49);
    mp_value_free(v);
    mp_async_result_free(r);
    mp_pool_free(pool);
    stop_workers(url, &w, 1);
    mpt_redis_do(&own, "close");
}

/* Says it runs, on the queue on Redis whose address it gets, then takes
 * the seconds it gets to end. */
static int mark(const mp_value *args, mp_buf *result)
{
    const char *address;
    double seconds;
    int rc = mp_args(args, "sd", &address, &seconds);
    mp_queue *q = NULL;
    if (rc == MP_OK)
        rc = mp_queue_open(&q, address, NULL);
    if (rc == MP_OK)
        rc = mp_queue_put(q, 5, "s", "ran");
    mp_queue_free(q);
    if (rc == MP_OK)
        rc = pause_for(seconds);
    return rc ? rc : mp_pack(result, "n");
}
MP_TASK(mark)

/* A caller that queues a task and waits for it, to be killed meanwhile. */
static int doomed_caller(const mp_value *args)
{
    const char *url, *ran;
    double seconds;
    mp_event *queued;
    int rc = mp_args(args, "ssdO", &url, &ran, &seconds, &queued);
    mp_backend_options bo = {.lease = 1, .result_ttl = 1};
    mp_pool *pool = NULL;
    if (rc == MP_OK)
        rc = mp_pool_new(&pool, &(mp_pool_options){.backend = url, .backend_options = &bo});
    mp_async_result *r = NULL;
    if (rc == MP_OK)
        rc = mp_pool_apply_async(pool, mark, NULL, &r, "sd", ran, seconds);
    if (rc != MP_OK)
        return 1;
    /* the test sees the task in Redis, then kills us */
    mp_event_set(queued);
    mp_value *v;
    mp_async_result_get(r, MP_FOREVER, &v);
    return 2;
}
MP_TARGET(doomed_caller)

/* A doomed caller whose task (mark, taking seconds) is queued. */
static mp_process *start_doomed_caller(const char *url, const char *ran, double seconds)
{
    mp_event *queued;
    MPT_OK(mp_event_new(&queued));
    mp_process *p;
    MPT_OK(mp_process_new(&p, doomed_caller, NULL, "ssdO", url, ran, seconds, queued));
    MPT_OK(mp_process_start(p));
    MPT_OK(mp_event_wait(queued, 30));
    mp_event_free(queued);
    return p;
}

static void dead_callers_tasks_are_dropped(void **state)
{
    (void)state;
    char url[160], ran[200];
    backend(url, sizeof url);
    snprintf(ran, sizeof ran, "%s/0/ran-%d", server.url, pools_made);
    mp_queue *marks = NULL;
    MPT_OK(mp_queue_open(&marks, ran, NULL));
    mp_process *p = start_doomed_caller(url, ran, 0);
    /* no worker yet: the task waits in Redis while its caller dies */
    mp_redis *c;
    MPT_OK(mp_redis_open(&c, url, NULL));
    char tasks[200];
    snprintf(tasks, sizeof tasks, "mproc:p:{%s}:tasks", mp_redis_path(c));
    int64_t waiting = 0;
    for (int i = 0; i < 100 && waiting == 0; i++) {
        mp_resp_reply *r;
        MPT_OK(mp_redis_callv(c, &r, "LLEN", tasks, (const char *)NULL));
        waiting = r->integer;
        mp_resp_free(r);
        if (waiting == 0)
            mp_os_sleep(0.05);
    }
    mp_redis_free(c);
    assert_int_equal(waiting, 1);
    mp_value *v = NULL;
    MPT_OK(mp_process_kill(p));
    assert_true(mpt_join_child(p) != 0);
    /* once its presence has expired, a worker drops the task unrun */
    mp_queue *wait = NULL;
    MPT_OK(mp_queue_open(&wait, ran, NULL));
    MPT_CODE(mp_queue_get(wait, 1.5, &v), MP_EEMPTY);
    mp_queue_free(wait);
    mp_process *w = start_worker(url, 1, 1);
    MPT_CODE(mp_queue_get(marks, 3, &v), MP_EEMPTY);
    stop_workers(url, &w, 1);
    mp_queue_free(marks);
}

/* How many keys of the pool whose path a connection has match suffix, a
 * glob. */
static int64_t keys_like(mp_redis *c, const char *suffix)
{
    char pattern[300];
    snprintf(pattern, sizeof pattern, "mproc:p:{%s}:%s", mp_redis_path(c), suffix);
    mp_resp_reply *r;
    MPT_OK(mp_redis_callv(c, &r, "KEYS", pattern, (const char *)NULL));
    int64_t n = r->type == MP_RESP_ARRAY ? (int64_t)r->len : -1;
    mp_resp_free(r);
    return n;
}

/* A caller killed while its task runs: the result is still written, and
 * lives the caller's result_ttl (not the worker's default of a minute);
 * the caller's presence is gone after its lease. */
static void dead_callers_results_expire(void **state)
{
    (void)state;
    char url[160], ran[200];
    backend(url, sizeof url);
    snprintf(ran, sizeof ran, "%s/0/ran-%d", server.url, pools_made);
    mp_queue *marks = NULL;
    MPT_OK(mp_queue_open(&marks, ran, NULL));
    mp_process *w = start_worker(url, 1, 1);
    mp_process *p = start_doomed_caller(url, ran, 1);
    mp_value *v = NULL;
    MPT_OK(mp_queue_get(marks, 30, &v));
    mp_value_free(v);
    MPT_OK(mp_process_kill(p));
    assert_true(mpt_join_child(p) != 0);
    mp_redis *c;
    MPT_OK(mp_redis_open(&c, url, NULL));
    bool written = false, expired = false;
    for (int i = 0; i < 300 && !expired; i++) {
        int64_t n = keys_like(c, "reply:*");
        written = written || n > 0;
        expired = written && n == 0;
        if (!expired)
            mp_os_sleep(0.05);
    }
    assert_true(written);
    assert_true(expired);
    assert_int_equal(keys_like(c, "caller:*"), 0);
    mp_redis_free(c);
    stop_workers(url, &w, 1);
    mp_queue_free(marks);
}

/* square, except that 0 kills its worker process */
static int square_or_die(const mp_value *args, mp_buf *result)
{
    int64_t x;
    int rc = mp_args(args, "q", &x);
    if (rc == MP_OK && x == 0)
        abort();
    return rc ? rc : square(args, result);
}
MP_TASK(square_or_die)

/* imap through Redis: a task that kills its workers and one that raises
 * are errors in their places, the others come in order; with a worker
 * host killed mid-way, every result still comes once, in order. */
static void imap_under_failures(void **state)
{
    (void)state;
    char url[160];
    backend(url, sizeof url);
    mp_process *hosts[2] = {start_worker(url, 2, 1), NULL};
    mp_pool *pool = caller(url, 1);
    const int64_t items[] = {1, 2, 3, 4, 0, 6, 7, -8, 9, 10};
    enum { N = sizeof items / sizeof items[0] };
    mp_buf packed = MP_BUF_INIT;
    for (int i = 0; i < N; i++)
        MPT_OK(mp_pack(&packed, "q", items[i]));
    mp_imap_iter *it;
    MPT_OK(mp_pool_imap(pool, square_or_die, packed.data, packed.len, NULL, &it));
    mp_value *v = NULL;
    for (int i = 0; i < N; i++) {
        int rc = mp_imap_next(it, 60, &v);
        if (items[i] == 0) {
            MPT_CODE(rc, MP_EWORKERDIED);
        } else if (items[i] < 0) {
            MPT_CODE(rc, MP_EREMOTE);
            assert_int_equal(mp_imap_error(it)->code, MP_EINVAL);
        } else {
            MPT_OK(rc);
            assert_int_equal(v->as.i, items[i] * items[i]);
            mp_value_free(v);
        }
    }
    MPT_CODE(mp_imap_next(it, 0, &v), MP_EEOF);
    mp_imap_free(it);

    hosts[1] = start_worker(url, 1, 1);
    MPT_OK(mp_pool_imap(pool, slow_square, packed.data, packed.len, NULL, &it));
    MPT_OK(mp_imap_next(it, 60, &v));
    assert_int_equal(v->as.i, 1);
    mp_value_free(v);
    MPT_OK(mp_process_kill(hosts[0]));
    assert_true(mpt_join_child(hosts[0]) != 0);
    for (int i = 1; i < N; i++) {
        int rc = mp_imap_next(it, 60, &v);
        if (items[i] < 0) {
            MPT_CODE(rc, MP_EREMOTE);
        } else {
            MPT_OK(rc);
            assert_int_equal(v->as.i, items[i] * items[i]);
            mp_value_free(v);
        }
    }
    MPT_CODE(mp_imap_next(it, 0, &v), MP_EEOF);
    mp_imap_free(it);
    mp_buf_free(&packed);
    mp_pool_free(pool);
    stop_workers(url, &hosts[1], 1);
}

static void bad_input(void **state)
{
    (void)state;
    mp_pool *pool = (mp_pool *)1;
    MPT_CODE(mp_pool_new(&pool, &(mp_pool_options){.backend = "tcp://x/0/p"}), MP_EINVAL);
    char url[160];
    snprintf(url, sizeof url, "%s/0", server.url);
    MPT_CODE(mp_pool_new(&pool, &(mp_pool_options){.backend = url}), MP_EINVAL);
    backend(url, sizeof url);
    MPT_CODE(mp_pool_new(&pool, &(mp_pool_options){.backend = url, .maxtasksperchild = 2}), MP_EINVAL);
    const mp_backend_options bad[] = {
        {.lease = -1}, {.lease = 1e-6}, {.result_ttl = 1e12}, {.timeout = 1e300 * 1e300}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        MPT_CODE(mp_pool_new(&pool, &(mp_pool_options){.backend = url, .backend_options = &bad[i]}),
                 MP_EINVAL);
    MPT_CODE(mp_worker_serve(NULL, NULL), MP_EINVAL);
    MPT_CODE(mp_thread_pool_new(&pool, &(mp_pool_options){.backend = url}), MP_EINVAL);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mpt_start_sockets();
    mpt_redis_start(&server);
    const struct CMUnitTest tests[] = {
        MPT_TEST(calls_through_redis),
        MPT_TEST(long_pool_name),
        MPT_TEST(killer_task_fails_after_three),
        MPT_TEST(dead_worker_host_task_comes_back),
        MPT_TEST(redis_stopped_then_back),
        MPT_TEST(dead_callers_tasks_are_dropped),
        MPT_TEST(dead_callers_results_expire),
        MPT_TEST(imap_under_failures),
        MPT_TEST(bad_input),
    };
    int failed = MPT_RUN(tests);
    mpt_redis_do(&server, "close");
    return failed;
}
