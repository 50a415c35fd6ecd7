/* test_redis_queue.c - Queues on Redis (mp_queue_open, mproc/queue.h)
 * against real redis-server instances of the test's own (redis_server.h),
 * natively and as a Windows .exe under Wine, whose sockets are the host's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "redis_server.h"

static mpt_redis server;

/* The address of queue name on the test's server. */
static const char *address(const char *name)
{
    static char buf[160];
    snprintf(buf, sizeof buf, "%s/0/%s", server.url, name);
    return buf;
}

static mp_queue *open_queue(const char *name, mp_queue_open_options o)
{
    mp_queue *q = NULL;
    MPT_OK(mp_queue_open(&q, address(name), &o));
    assert_non_null(q);
    return q;
}

static int64_t get_int(mp_queue *q, double timeout)
{
    mp_value *v = NULL;
    MPT_OK(mp_queue_get(q, timeout, &v));
    int64_t n = v->as.i;
    mp_value_free(v);
    return n;
}

static void fifo_across_handles(void **state)
{
    (void)state;
    mp_queue *a = open_queue("fifo", (mp_queue_open_options){0});
    mp_queue *b = open_queue("fifo", (mp_queue_open_options){0});
    for (int i = 0; i < 100; i++)
        MPT_OK(mp_queue_put(a, MP_FOREVER, "i", i));
    MPT_OK(mp_queue_put(a, 0, "(s y# n)", "text", "\0\1", (size_t)2));
    assert_int_equal(mp_queue_qsize(b), 101);
    assert_int_equal(mp_queue_empty(b), 0);
    assert_int_equal(mp_queue_full(b), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(get_int(b, 5), i);
    mp_value *v = NULL;
    MPT_OK(mp_queue_get(b, 5, &v));
    const char *s;
    const void *bytes;
    size_t n;
    MPT_OK(mp_args(v, "sy#n", &s, &bytes, &n));
    assert_string_equal(s, "text");
    assert_int_equal(n, 2);
    mp_value_free(v);
    assert_int_equal(mp_queue_empty(a), 1);
    MPT_CODE(mp_queue_get_nowait(a, &v), MP_EEMPTY);
    MPT_CODE(mp_queue_get(a, 0.2, &v), MP_EEMPTY);
    /* not joinable */
    MPT_CODE(mp_queue_task_done(a), MP_ETYPE);
    MPT_CODE(mp_queue_join(a, 0), MP_ETYPE);
    MPT_OK(mp_queue_close(a));
    MPT_CODE(mp_queue_put(a, 0, "i", 1), MP_ESTATE);
    MPT_CODE(mp_queue_get(a, 0, &v), MP_ESTATE);
    MPT_OK(mp_queue_join_thread(a));
    mp_queue_free(a);
    mp_queue_free(b);
}

static void maxsize_is_the_handles(void **state)
{
    (void)state;
    mp_queue *q = open_queue("bounded", (mp_queue_open_options){.maxsize = 3});
    mp_queue *unbounded = open_queue("bounded", (mp_queue_open_options){0});
    for (int i = 0; i < 3; i++)
        MPT_OK(mp_queue_put_nowait(q, "i", i));
    assert_int_equal(mp_queue_full(q), 1);
    MPT_CODE(mp_queue_put_nowait(q, "i", 3), MP_EFULL);
    MPT_CODE(mp_queue_put(q, 0.2, "i", 3), MP_EFULL);
    MPT_OK(mp_queue_put_nowait(unbounded, "i", 3));
    assert_int_equal(get_int(q, 1), 0);
    assert_int_equal(get_int(q, 1), 1);
    MPT_OK(mp_queue_put(q, 1, "i", 4));
    for (int want = 2; want <= 4; want++)
        assert_int_equal(get_int(q, 1), want);
    mp_queue_free(q);
    mp_queue_free(unbounded);
}

static void joinable_task_done_join(void **state)
{
    (void)state;
    mp_queue_open_options jo = {.joinable = true};
    mp_queue *q = open_queue("jobs", jo);
    mp_queue *other = NULL;
    MPT_CODE(mp_queue_open(&other, address("jobs"), &(mp_queue_open_options){0}), MP_ETYPE);
    assert_null(other);
    mp_queue *plain = open_queue("plain-one", (mp_queue_open_options){0});
    MPT_CODE(mp_queue_open(&other, address("plain-one"), &jo), MP_ETYPE);
    mp_queue_free(plain);
    MPT_OK(mp_queue_join(q, 0));
    for (int i = 0; i < 5; i++)
        MPT_OK(mp_queue_put(q, 0, "i", i));
    MPT_CODE(mp_queue_join(q, 0.1), MP_ETIMEDOUT);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(get_int(q, 1), i);
        MPT_OK(mp_queue_task_done(q));
    }
    MPT_OK(mp_queue_join(q, 5));
    MPT_CODE(mp_queue_task_done(q), MP_ERANGE);
    mp_queue_free(q);
}

/* A worker: gets an item of the queue (an argument, 'O'), says so on the
 * event got, and then waits on never (never set) to be killed before its
 * task_done. */
static int take_and_hang(const mp_value *args)
{
    mp_queue *q;
    mp_event *got, *never;
    int rc = mp_args(args, "OOO", &q, &got, &never);
    mp_value *v = NULL;
    if (rc == MP_OK)
        rc = mp_queue_get(q, 10, &v);
    mp_value_free(v);
    if (rc != MP_OK)
        return 3;
    mp_event_set(got);
    mp_event_wait(never, MP_FOREVER);
    return 4;
}
MP_TARGET(take_and_hang)

static void dead_getters_items_come_back(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        for (int joinable = 0; joinable < 2; joinable++) {
            char name[32];
            snprintf(name, sizeof name, "lease-%zu-%d", k, joinable);
            mp_queue *q = open_queue(name, (mp_queue_open_options){.joinable = joinable, .lease = 1});
            MPT_OK(mp_queue_put(q, 0, "s", "the task"));
            mp_event *got, *never;
            MPT_OK(mp_event_new(&got));
            MPT_OK(mp_event_new(&never));
            mp_process *p;
            MPT_OK(mp_process_new(&p, take_and_hang, mpt_opts(methods[k]), "OOO", q, got, never));
            MPT_OK(mp_process_start(p));
            MPT_OK(mp_event_wait(got, 30));
            MPT_OK(mp_process_kill(p));
            MPT_OK(mp_process_join(p, 30));
            mp_process_close(p);
            mp_event_free(got);
            mp_event_free(never);
            mp_value *v = NULL;
            if (joinable) {
                /* the lease runs out and the item is back: at least once */
                MPT_OK(mp_queue_get(q, 10, &v));
                assert_string_equal(v->as.str.ptr, "the task");
                mp_value_free(v);
                MPT_OK(mp_queue_task_done(q));
                MPT_OK(mp_queue_join(q, 5));
            } else {
                /* a plain get took it for good: at most once */
                MPT_CODE(mp_queue_get(q, 2, &v), MP_EEMPTY);
            }
            mp_queue_free(q);
        }
    }
}

static void freed_handle_gives_back_at_once(void **state)
{
    (void)state;
    mp_queue *a = open_queue("give-back", (mp_queue_open_options){.joinable = true, .lease = 30});
    mp_queue *b = open_queue("give-back", (mp_queue_open_options){.joinable = true, .lease = 30});
    MPT_OK(mp_queue_put(a, 0, "i", 7));
    assert_int_equal(get_int(a, 1), 7);
    mp_queue_free(a);
    /* well within the lease */
    assert_int_equal(get_int(b, 2), 7);
    MPT_OK(mp_queue_task_done(b));
    MPT_OK(mp_queue_join(b, 1));
    mp_queue_free(b);
}

static int put_from_child(const mp_value *args)
{
    mp_queue *q;
    int n;
    int rc = mp_args(args, "Oi", &q, &n);
    for (int i = 0; rc == MP_OK && i < n; i++)
        rc = mp_queue_put(q, MP_FOREVER, "i", i);
    return rc == MP_OK ? 0 : 1;
}
MP_TARGET(put_from_child)

static void travels_to_children(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_queue *q = open_queue("travel", (mp_queue_open_options){0});
        mp_process *p;
        MPT_OK(mp_process_new(&p, put_from_child, mpt_opts(methods[k]), "Oi", q, 50));
        assert_int_equal(mpt_run_child(p), 0);
        for (int i = 0; i < 50; i++)
            assert_int_equal(get_int(q, 5), i);
        mp_queue_free(q);
    }
}

static void bad_input(void **state)
{
    (void)state;
    mp_queue *q = (mp_queue *)1;
    MPT_CODE(mp_queue_open(NULL, address("x"), NULL), MP_EINVAL);
    MPT_CODE(mp_queue_open(&q, NULL, NULL), MP_EINVAL);
    MPT_CODE(mp_queue_open(&q, "tcp://127.0.0.1:1/0/x", NULL), MP_EINVAL);
    MPT_CODE(mp_queue_open(&q, "rediss://127.0.0.1:1/0/x", NULL), MP_EUNSUPPORTED);
    char url[160];
    snprintf(url, sizeof url, "%s/0", server.url);
    MPT_CODE(mp_queue_open(&q, url, NULL), MP_EINVAL);
    MPT_CODE(mp_queue_open(&q, address("x"), &(mp_queue_open_options){.timeout = -1}), MP_EINVAL);
    assert_null(q);
}

static void server_stopped_killed_and_back(void **state)
{
    (void)state;
    mpt_redis own;
    mpt_redis_start(&own);
    char url[160];
    snprintf(url, sizeof url, "%s/0/outage", own.url);
    mp_queue *q = NULL;
    MPT_OK(mp_queue_open(&q, url, &(mp_queue_open_options){.timeout = 0.5}));
    MPT_OK(mp_queue_put(q, 0, "i", 1));
    mpt_redis_do(&own, "stop");
    MPT_CODE(mp_queue_put(q, 0, "i", 2), MP_ETIMEDOUT);
    mpt_redis_do(&own, "cont");
    assert_int_equal(get_int(q, 2), 1);
    mpt_redis_do(&own, "kill");
    mp_value *v = NULL;
    int rc = mp_queue_get(q, 0, &v);
    assert_true(rc == MP_ECONNRESET || rc == MP_ETIMEDOUT);
    mpt_redis_do(&own, "restart");
    MPT_OK(mp_queue_put(q, 0, "i", 3));
    assert_int_equal(get_int(q, 2), 3);
    mp_queue_free(q);
    mpt_redis_do(&own, "close");
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mpt_start_sockets();
    mpt_redis_start(&server);
    const struct CMUnitTest tests[] = {
        MPT_TEST(fifo_across_handles),
        MPT_TEST(maxsize_is_the_handles),
        MPT_TEST(joinable_task_done_join),
        MPT_TEST(dead_getters_items_come_back),
        MPT_TEST(freed_handle_gives_back_at_once),
        MPT_TEST(travels_to_children),
        MPT_TEST(bad_input),
        MPT_TEST(server_stopped_killed_and_back),
    };
    int failed = MPT_RUN(tests);
    mpt_redis_do(&server, "close");
    return failed;
}
