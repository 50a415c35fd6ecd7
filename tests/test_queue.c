/* test_queue.c - Queue, SimpleQueue and JoinableQueue across processes and
 * threads under every start method: Full and Empty with and without
 * timeouts, order of items from a child, task_done called too many times,
 * many producers and consumers (FIFO per producer), a child that puts a
 * 10 MiB item and exits before anyone reads it, large items that wrap
 * around the ring's end or are copied by several threads at once, a
 * producer or consumer killed while it copies, and bad input. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BIG_ITEM ((size_t)10 << 20)

static int get_int(mp_queue *q, double timeout, int *out)
{
    mp_value *v;
    int rc = mp_queue_get(q, timeout, &v);
    if (rc != MP_OK)
        return rc;
    rc = mp_unpack(v, "i", out);
    mp_value_free(v);
    return rc;
}

/* ---- in one process ------------------------------------------------------ */

static void full_and_empty(void **state)
{
    (void)state;
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, &(mp_queue_options){.maxsize = 2}));
    MPT_CODE(mp_queue_get_nowait(q, &(mp_value *){NULL}), MP_EEMPTY);
    MPT_CODE(mp_queue_get(q, 0.05, &(mp_value *){NULL}), MP_EEMPTY);
    assert_int_equal(mp_queue_empty(q), 1);
    assert_int_equal(mp_queue_full(q), 0);
    MPT_OK(mp_queue_put(q, MP_FOREVER, "i", 1));
    MPT_OK(mp_queue_put_nowait(q, "si", "two", 2));
    assert_int_equal(mp_queue_qsize(q), 2);
    assert_int_equal(mp_queue_full(q), 1);
    assert_int_equal(mp_queue_empty(q), 0);
    MPT_CODE(mp_queue_put_nowait(q, "i", 3), MP_EFULL);
    MPT_CODE(mp_queue_put(q, 0.05, "i", 3), MP_EFULL);
    int x;
    MPT_OK(get_int(q, MP_FOREVER, &x));
    assert_int_equal(x, 1);
    mp_value *v;
    MPT_OK(mp_queue_get_nowait(q, &v));
    const char *s;
    MPT_OK(mp_args(v, "si", &s, &x));
    assert_string_equal(s, "two");
    assert_int_equal(x, 2);
    mp_value_free(v);
    assert_int_equal(mp_queue_qsize(q), 0);
    mp_queue_free(q);

    /* an unbounded queue is never full by count */
    MPT_OK(mp_simple_queue_new(&q, NULL));
    for (int i = 0; i < 10000; i++)
        MPT_OK(mp_queue_put_nowait(q, "i", i));
    assert_int_equal(mp_queue_full(q), 0);
    assert_int_equal(mp_queue_qsize(q), 10000);
    for (int i = 0; i < 10000; i++) {
        MPT_OK(get_int(q, 0, &x));
        assert_int_equal(x, i);
    }
    mp_queue_free(q);
}

static void ring_limits(void **state)
{
    (void)state;
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, &(mp_queue_options){.capacity = 4096}));
    static char blob[8192];
    MPT_CODE(mp_queue_put(q, MP_FOREVER, "y#", blob, sizeof blob), MP_ETOOBIG);
    /* room for one 3000-byte item at a time: the second waits for room */
    MPT_OK(mp_queue_put(q, 0, "y#", blob, (size_t)3000));
    MPT_CODE(mp_queue_put(q, 0, "y#", blob, (size_t)3000), MP_EFULL);
    MPT_CODE(mp_queue_put(q, 0.05, "y#", blob, (size_t)3000), MP_EFULL);
    mp_value *v;
    MPT_OK(mp_queue_get(q, 0, &v));
    mp_value_free(v);
    /* wrapping around the end of the ring keeps items whole */
    for (int i = 0; i < 50; i++) {
        memset(blob, i, 1500);
        MPT_OK(mp_queue_put(q, 0, "y#", blob, (size_t)1500));
        MPT_OK(mp_queue_put(q, 0, "y#", blob, (size_t)1500));
        for (int k = 0; k < 2; k++) {
            const void *data;
            size_t len;
            MPT_OK(mp_queue_get(q, 0, &v));
            MPT_OK(mp_unpack(v, "y#", &data, &len));
            assert_int_equal(len, 1500);
            assert_memory_equal(data, blob, len);
            mp_value_free(v);
        }
    }
    mp_queue_free(q);
}

/* Bytes for item seq of producer who, recognisable wherever they end up. */
static void fill_item(unsigned char *b, size_t len, int who, int seq)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)(who * 31 + seq * 7 + i / 251);
}

static void check_item(const void *data, size_t len, size_t want_len, int who, int seq)
{
    assert_int_equal(len, want_len);
    unsigned char *want = malloc(want_len);
    assert_non_null(want);
    fill_item(want, want_len, who, seq);
    assert_memory_equal(data, want, want_len);
    free(want);
}

/* Item seq's size in ring_starts_over: sizes that put the ring's end
 * anywhere, up to 1000 bytes so that two always fit a 4 KiB ring. */
static size_t wrapping_size(int seq)
{
    return 1 + (size_t)seq * 389 % 1000;
}

static int wrapping_putter_thread(void *arg)
{
    mp_queue *q = arg;
    unsigned char b[1000];
    int rc = MP_OK;
    for (int seq = 0; rc == MP_OK && seq < 3000; seq++) {
        fill_item(b, wrapping_size(seq), 3, seq);
        rc = mp_queue_put(q, MP_FOREVER, "iy#", seq, b, wrapping_size(seq));
    }
    return rc;
}

static void get_wrapping_item(mp_queue *q, int seq)
{
    mp_value *v;
    int got;
    const void *data;
    size_t len;
    MPT_OK(mp_queue_get(q, 30, &v));
    MPT_OK(mp_unpack(v, "(iy#)", &got, &data, &len));
    assert_int_equal(got, seq);
    check_item(data, len, wrapping_size(seq), 3, seq);
    mp_value_free(v);
}

/* Items of every size through a 4 KiB ring, one or two waiting at a time
 * and then streamed from a thread: a put that starts over at the ring's
 * beginning, skipping its end, and one whose item the end cuts in two
 * keep every item whole and in order. */
static void ring_starts_over(void **state)
{
    (void)state;
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, &(mp_queue_options){.capacity = 4096}));
    unsigned char b[1000];
    for (int seq = 0; seq < 3000; seq++) {
        fill_item(b, wrapping_size(seq), 3, seq);
        MPT_OK(mp_queue_put(q, 0, "iy#", seq, b, wrapping_size(seq)));
        if (seq % 3 == 0)
            continue;
        get_wrapping_item(q, seq - 1);
        if (seq % 3 == 2)
            get_wrapping_item(q, seq);
    }
    MPT_CODE(mp_queue_get_nowait(q, &(mp_value *){NULL}), MP_EEMPTY);
    mp_thread *t;
    MPT_OK(mp_thread_start(&t, wrapping_putter_thread, q, NULL));
    for (int seq = 0; seq < 3000; seq++)
        get_wrapping_item(q, seq);
    int rc = -1;
    MPT_OK(mp_thread_join(t, MP_FOREVER, &rc));
    MPT_OK(rc);
    mp_queue_free(q);
}

#define LARGE ((size_t)100 << 10)

/* Items large enough to be copied outside the queue's mutex, from a format
 * with large payloads among small values, the ring's end falling inside
 * them; and more large payloads in one item than are taken by reference. */
static void large_items_wrap(void **state)
{
    (void)state;
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, &(mp_queue_options){.capacity = 256 << 10}));
    unsigned char *blob = malloc(LARGE);
    char *text = malloc(LARGE + 1);
    assert_non_null(blob);
    assert_non_null(text);
    for (size_t i = 0; i < LARGE; i++)
        text[i] = (char)('a' + i % 26);
    text[LARGE] = '\0';
    /* one item always stays in, so the places move on round the ring */
    fill_item(blob, LARGE, 0, 0);
    MPT_OK(mp_queue_put(q, 0, "(iy#)", 0, blob, LARGE));
    for (int seq = 1; seq < 20; seq++) {
        size_t n = LARGE - (size_t)seq * 1000;
        fill_item(blob, n, 0, seq);
        MPT_OK(mp_queue_put(q, 0, "iy#s#i", seq, blob, n, text, (size_t)5000 + seq, -seq));
        mp_value *v;
        MPT_OK(mp_queue_get(q, 0, &v));
        int got, tail = 0;
        const void *data;
        size_t len, slen = 0;
        const char *s;
        if (seq == 1) {
            MPT_OK(mp_unpack(v, "(iy#)", &got, &data, &len));
            check_item(data, len, LARGE, 0, 0);
        } else {
            MPT_OK(mp_unpack(v, "(iy#s#i)", &got, &data, &len, &s, &slen, &tail));
            check_item(data, len, LARGE - (size_t)got * 1000, 0, got);
            assert_int_equal(slen, 5000 + got);
            assert_memory_equal(s, text, slen);
            assert_int_equal(tail, -got);
        }
        assert_int_equal(got, seq - 1);
        mp_value_free(v);
    }
    mp_value *v;
    int got;
    const void *data;
    size_t len;
    MPT_OK(mp_queue_get(q, 0, &v));
    MPT_OK(mp_unpack(v, "(iy#s#i)", &got, &data, &len, &(const char *){NULL}, &(size_t){0}, &(int){0}));
    assert_int_equal(got, 19);
    check_item(data, len, LARGE - (size_t)got * 1000, 0, got);
    mp_value_free(v);
    /* ten payloads of 5000 bytes: the last ones are packed as copies */
    unsigned char *p[10];
    for (int i = 0; i < 10; i++) {
        p[i] = blob + (size_t)i * 5000;
        fill_item(p[i], 5000, 1, i);
    }
    MPT_OK(mp_queue_put(q, 0, "y#y#y#y#y#y#y#y#y#y#", p[0], (size_t)5000, p[1], (size_t)5000, p[2], (size_t)5000,
                        p[3], (size_t)5000, p[4], (size_t)5000, p[5], (size_t)5000, p[6], (size_t)5000, p[7],
                        (size_t)5000, p[8], (size_t)5000, p[9], (size_t)5000));
    MPT_OK(mp_queue_get(q, 0, &v));
    const void *d[10];
    size_t l[10];
    MPT_OK(mp_unpack(v, "(y#y#y#y#y#y#y#y#y#y#)", &d[0], &l[0], &d[1], &l[1], &d[2], &l[2], &d[3], &l[3], &d[4],
                     &l[4], &d[5], &l[5], &d[6], &l[6], &d[7], &l[7], &d[8], &l[8], &d[9], &l[9]));
    for (int i = 0; i < 10; i++)
        check_item(d[i], l[i], 5000, 1, i);
    mp_value_free(v);
    /* an item packed already goes in the same way, in one piece */
    mp_buf packed = MP_BUF_INIT;
    fill_item(blob, LARGE, 2, 0);
    MPT_OK(mp_pack_bin(&packed, blob, LARGE));
    MPT_OK(mp_queue_put_packed(q, 0, packed.data, packed.len));
    mp_buf_free(&packed);
    MPT_OK(mp_queue_get(q, 0, &v));
    MPT_OK(mp_unpack(v, "y#", &data, &len));
    check_item(data, len, LARGE, 2, 0);
    mp_value_free(v);
    /* a string that is not UTF-8 is refused, taken by reference or not */
    text[6000] = (char)0xff;
    MPT_CODE(mp_queue_put(q, 0, "s", text), MP_EINVAL);
    MPT_CODE(mp_queue_get_nowait(q, &(mp_value *){NULL}), MP_EEMPTY);
    free(text);
    free(blob);
    mp_queue_free(q);
}

#define LARGE_PER_THREAD 40

static int large_putter_thread(void *arg)
{
    mp_queue *q = *(mp_queue **)arg;
    int who = (int)(((mp_queue **)arg)[1] != NULL);
    unsigned char *b = malloc(LARGE);
    int rc = b != NULL ? MP_OK : MP_ENOMEM;
    for (int seq = 0; rc == MP_OK && seq < LARGE_PER_THREAD; seq++) {
        fill_item(b, LARGE, who, seq);
        rc = mp_queue_put(q, MP_FOREVER, "iiy#", who, seq, b, LARGE);
    }
    free(b);
    return rc;
}

static int large_getter_thread(void *arg)
{
    mp_queue *q = arg;
    int next[2] = {0, 0};
    for (int i = 0; i < LARGE_PER_THREAD; i++) {
        mp_value *v;
        int who, seq, rc = mp_queue_get(q, 30, &v);
        const void *data;
        size_t len;
        if (rc == MP_OK)
            rc = mp_unpack(v, "(iiy#)", &who, &seq, &data, &len);
        if (rc != MP_OK)
            return rc;
        unsigned char *want = malloc(LARGE);
        if (want != NULL)
            fill_item(want, LARGE, who, seq);
        /* each producer's items come out in its order */
        bool ok = want != NULL && len == LARGE && memcmp(data, want, LARGE) == 0 && seq >= next[who & 1];
        next[who & 1] = seq + 1;
        free(want);
        mp_value_free(v);
        if (!ok)
            return 99;
    }
    return 0;
}

/* Two threads put large items while two get them, through a ring that
 * holds three: the copies outside the mutex take turns, and every item
 * comes out whole. */
static void large_items_threads(void **state)
{
    (void)state;
    mp_queue *q;
    MPT_OK(mp_queue_new(&q, &(mp_queue_options){.capacity = 3 * (LARGE + 64)}));
    mp_queue *args[2][2] = {{q, NULL}, {q, q}};
    mp_thread *t[4];
    MPT_OK(mp_thread_start(&t[0], large_putter_thread, args[0], NULL));
    MPT_OK(mp_thread_start(&t[1], large_putter_thread, args[1], NULL));
    MPT_OK(mp_thread_start(&t[2], large_getter_thread, q, NULL));
    MPT_OK(mp_thread_start(&t[3], large_getter_thread, q, NULL));
    for (int i = 0; i < 4; i++) {
        int result;
        MPT_OK(mp_thread_join(t[i], MP_FOREVER, &result));
        assert_int_equal(result, 0);
    }
    MPT_CODE(mp_queue_get_nowait(q, &(mp_value *){NULL}), MP_EEMPTY);
    mp_queue_free(q);
}

static void bad_input(void **state)
{
    (void)state;
    mp_queue *q;
    MPT_CODE(mp_queue_new(NULL, NULL), MP_EINVAL);
    MPT_CODE(mp_queue_new(&q, &(mp_queue_options){.capacity = 100}), MP_EINVAL);
    MPT_CODE(mp_queue_put(NULL, 0, "i", 1), MP_EINVAL);
    MPT_CODE(mp_queue_get(NULL, 0, &(mp_value *){NULL}), MP_EINVAL);
    MPT_CODE(mp_queue_qsize(NULL), MP_EINVAL);
    mp_lock *l;
    MPT_OK(mp_lock_new(&l));
    MPT_CODE(mp_queue_put((mp_queue *)(void *)l, 0, "i", 1), MP_ETYPE);
    MPT_CODE(mp_queue_get_nowait((mp_queue *)(void *)l, &(mp_value *){NULL}), MP_ETYPE);

    MPT_OK(mp_queue_new(&q, NULL));
    MPT_CODE(mp_queue_get(q, 0, NULL), MP_EINVAL);
    MPT_CODE(mp_queue_put(q, 0, "i(", 1), MP_EFORMAT);
    /* no silent drops: an item that cannot be packed is put's error */
    MPT_CODE(mp_queue_put(q, 0, "O", l), MP_EUNSUPPORTED);
    assert_int_equal(mp_queue_qsize(q), 0);
    MPT_CODE(mp_queue_task_done(q), MP_ETYPE);
    MPT_CODE(mp_queue_join(q, 0), MP_ETYPE);
    /* a malformed packed item is dropped by get with MP_EPROTO */
    MPT_OK(mp_queue_put_packed(q, 0, "\xc1", 1));
    MPT_OK(mp_queue_put(q, 0, "i", 7));
    MPT_CODE(mp_queue_get(q, 0, &(mp_value *){NULL}), MP_EPROTO);
    int x;
    MPT_OK(get_int(q, 0, &x));
    assert_int_equal(x, 7);

    MPT_CODE(mp_queue_join_thread(q), MP_ESTATE);
    MPT_OK(mp_queue_cancel_join_thread(q));
    MPT_OK(mp_queue_close(q));
    MPT_OK(mp_queue_join_thread(q));
    MPT_CODE(mp_queue_put(q, 0, "i", 1), MP_ESTATE);
    MPT_CODE(mp_queue_get(q, 0, &(mp_value *){NULL}), MP_ESTATE);
    mp_queue_free(q);
    mp_lock_free(l);
}

static int putter_thread(void *arg)
{
    mp_queue *q = arg;
    for (int i = 0; i < 1000; i++) {
        int rc = mp_queue_put(q, MP_FOREVER, "i", i);
        if (rc != MP_OK)
            return rc;
    }
    return 0;
}

static void threads(void **state)
{
    (void)state;
    mp_queue *q;
    /* a small bound makes the threads block on each other */
    MPT_OK(mp_queue_new(&q, &(mp_queue_options){.maxsize = 8}));
    mp_thread *t[4];
    for (int i = 0; i < 4; i++)
        MPT_OK(mp_thread_start(&t[i], putter_thread, q, NULL));
    int seen = 0, x;
    long sum = 0;
    while (seen < 4000) {
        MPT_OK(get_int(q, 30, &x));
        sum += x;
        seen++;
    }
    for (int i = 0; i < 4; i++) {
        int result;
        MPT_OK(mp_thread_join(t[i], MP_FOREVER, &result));
        assert_int_equal(result, 0);
    }
    assert_int_equal(sum, 4L * 999 * 1000 / 2);
    MPT_CODE(mp_queue_get_nowait(q, &(mp_value *){NULL}), MP_EEMPTY);
    mp_queue_free(q);
}

/* ---- across processes ---------------------------------------------------- */

static int put_sequence(const mp_value *args)
{
    mp_queue *q;
    int n, rc = mp_args(args, "Oi", &q, &n);
    for (int i = 0; rc == MP_OK && i < n; i++)
        rc = mp_queue_put(q, MP_FOREVER, "i", i);
    if (rc == MP_OK)
        rc = mp_queue_put(q, MP_FOREVER, "s", "done");
    return rc;
}
MP_TARGET(put_sequence)

/* Gets n ints and checks they are 0..n-1 in order. */
static int get_sequence(const mp_value *args)
{
    mp_queue *q;
    int n, rc = mp_args(args, "Oi", &q, &n), x;
    for (int i = 0; rc == MP_OK && i < n; i++)
        if ((rc = get_int(q, 30, &x)) == MP_OK && x != i)
            return 10;
    return rc == MP_OK ? 0 : 11;
}
MP_TARGET(get_sequence)

static void order_from_child(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_queue *q;
        MPT_OK(mp_queue_new(&q, NULL));
        mp_process *p;
        MPT_OK(mp_process_new(&p, put_sequence, mpt_opts(methods[k]), "Oi", q, 2000));
        MPT_OK(mp_process_start(p));
        int x;
        for (int i = 0; i < 2000; i++) {
            MPT_OK(get_int(q, 30, &x));
            assert_int_equal(x, i);
        }
        mp_value *v;
        MPT_OK(mp_queue_get(q, 30, &v));
        const char *s;
        MPT_OK(mp_unpack(v, "s", &s));
        assert_string_equal(s, "done");
        mp_value_free(v);
        assert_int_equal(mpt_join_child(p), 0);

        /* and the other way, through a bound that makes the parent wait */
        mp_queue *bounded;
        MPT_OK(mp_queue_new(&bounded, &(mp_queue_options){.maxsize = 3}));
        MPT_OK(mp_process_new(&p, get_sequence, mpt_opts(methods[k]), "Oi", bounded, 500));
        MPT_OK(mp_process_start(p));
        for (int i = 0; i < 500; i++)
            MPT_OK(mp_queue_put(bounded, 30, "i", i));
        assert_int_equal(mpt_join_child(p), 0);
        assert_int_equal(mp_queue_qsize(bounded), 0);
        mp_queue_free(bounded);
        mp_queue_free(q);
    }
}

static int put_big_and_exit(const mp_value *args)
{
    mp_queue *q;
    int rc = mp_args(args, "O", &q);
    unsigned char *big = malloc(BIG_ITEM);
    if (rc != MP_OK || big == NULL)
        return 20;
    for (size_t i = 0; i < BIG_ITEM; i++)
        big[i] = (unsigned char)(i * 7 + i / 4096);
    rc = mp_queue_put(q, MP_FOREVER, "y#", big, BIG_ITEM);
    free(big);
    if (rc == MP_OK)
        rc = mp_queue_put(q, MP_FOREVER, "i", 42);
    return rc == MP_OK ? 0 : 21;
}
MP_TARGET(put_big_and_exit)

/* Seed 002's warning: joining a child before reading what it put deadlocks
 * in Python. Here the child is joined first and nothing is lost. */
static void exit_without_drain(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_queue *q;
        MPT_OK(mp_queue_new(&q, NULL));
        mp_process *p;
        MPT_OK(mp_process_new(&p, put_big_and_exit, mpt_opts(methods[k]), "O", q));
        assert_int_equal(mpt_run_child(p), 0);
        assert_int_equal(mp_queue_qsize(q), 2);
        mp_value *v;
        MPT_OK(mp_queue_get(q, 0, &v));
        const unsigned char *data;
        size_t len;
        MPT_OK(mp_unpack(v, "y#", &data, &len));
        assert_int_equal(len, BIG_ITEM);
        size_t bad = 0;
        for (size_t i = 0; i < len; i++)
            bad += data[i] != (unsigned char)(i * 7 + i / 4096);
        assert_int_equal(bad, 0);
        mp_value_free(v);
        int x;
        MPT_OK(get_int(q, 0, &x));
        assert_int_equal(x, 42);
        mp_queue_free(q);
    }
}

static int work_and_mark_done(const mp_value *args)
{
    mp_queue *q;
    int n, rc = mp_args(args, "Oi", &q, &n), x;
    for (int i = 0; rc == MP_OK && i < n; i++)
        if ((rc = get_int(q, 30, &x)) == MP_OK)
            rc = mp_queue_task_done(q);
    return rc == MP_OK ? 0 : 30;
}
MP_TARGET(work_and_mark_done)

static void joinable(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_queue *q;
        MPT_OK(mp_joinable_queue_new(&q, NULL));
        MPT_OK(mp_queue_join(q, 0));
        MPT_CODE(mp_queue_task_done(q), MP_ERANGE);
        for (int i = 0; i < 50; i++)
            MPT_OK(mp_queue_put(q, 0, "i", i));
        MPT_CODE(mp_queue_join(q, 0.05), MP_ETIMEDOUT);
        mp_process *p;
        MPT_OK(mp_process_new(&p, work_and_mark_done, mpt_opts(methods[k]), "Oi", q, 50));
        MPT_OK(mp_process_start(p));
        MPT_OK(mp_queue_join(q, 60));
        assert_int_equal(mpt_join_child(p), 0);
        assert_int_equal(mp_queue_empty(q), 1);
        /* task_done called too many times */
        MPT_CODE(mp_queue_task_done(q), MP_ERANGE);
        mp_queue_free(q);
    }
}

#define RACED_ITEMS 20000

static int put_ints_thread(void *arg)
{
    for (int i = 0; i < RACED_ITEMS; i++)
        if (mp_queue_put(arg, MP_FOREVER, "i", i) != MP_OK)
            return 1;
    return 0;
}

/* An item is unfinished before any get can take it: a task_done right
 * after the get, racing the put that is still finishing, always counts. */
static void task_done_right_after_get(void **state)
{
    (void)state;
    mp_queue *q;
    MPT_OK(mp_joinable_queue_new(&q, NULL));
    mp_thread *t;
    MPT_OK(mp_thread_start(&t, put_ints_thread, q, NULL));
    for (int i = 0; i < RACED_ITEMS; i++) {
        int x;
        MPT_OK(get_int(q, 30, &x));
        assert_int_equal(x, i);
        MPT_OK(mp_queue_task_done(q));
    }
    int code = -1;
    MPT_OK(mp_thread_join(t, 30, &code));
    assert_int_equal(code, 0);
    MPT_OK(mp_queue_join(q, 0));
    MPT_CODE(mp_queue_task_done(q), MP_ERANGE);
    mp_queue_free(q);
}

#define PRODUCERS 3
#define PER_PRODUCER 300

static int produce(const mp_value *args)
{
    mp_queue *q;
    int id, rc = mp_args(args, "Oi", &q, &id);
    for (int i = 0; rc == MP_OK && i < PER_PRODUCER; i++)
        rc = mp_queue_put(q, 30, "ii", id, i);
    return rc == MP_OK ? 0 : 40;
}
MP_TARGET(produce)

/* Gets until nil; checks each producer's items come in order and reports
 * how many it got on `results`. */
static int consume(mp_queue *q, mp_queue *results)
{
    int next[PRODUCERS + 1] = {0}, got = 0;
    for (;;) {
        mp_value *v;
        int rc = mp_queue_get(q, 60, &v);
        if (rc != MP_OK)
            return 50;
        if (v->type == MP_NIL) {
            mp_value_free(v);
            break;
        }
        int id, seq;
        rc = mp_args(v, "ii", &id, &seq);
        mp_value_free(v);
        if (rc != MP_OK || id < 0 || id > PRODUCERS || seq < next[id])
            return 51;
        next[id] = seq + 1;
        got++;
    }
    return mp_queue_put(results, 30, "i", got) == MP_OK ? 0 : 52;
}

static int consumer_child(const mp_value *args)
{
    mp_queue *q, *results;
    int rc = mp_args(args, "OO", &q, &results);
    return rc == MP_OK ? consume(q, results) : 53;
}
MP_TARGET(consumer_child)

typedef struct pair {
    mp_queue *q, *results;
    int id;
} pair;

static int consumer_thread(void *arg)
{
    pair *pr = arg;
    return consume(pr->q, pr->results);
}

static int producer_thread(void *arg)
{
    pair *pr = arg;
    for (int i = 0; i < PER_PRODUCER; i++)
        if (mp_queue_put(pr->q, 30, "ii", pr->id, i) != MP_OK)
            return 41;
    return 0;
}

static void many_producers_and_consumers(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_queue *q, *results;
        MPT_OK(mp_queue_new(&q, &(mp_queue_options){.maxsize = 16}));
        MPT_OK(mp_queue_new(&results, NULL));
        mp_process *producers[PRODUCERS - 1], *consumer;
        for (int i = 0; i < PRODUCERS - 1; i++) {
            MPT_OK(mp_process_new(&producers[i], produce, mpt_opts(methods[k]), "Oi", q, i));
            MPT_OK(mp_process_start(producers[i]));
        }
        MPT_OK(mp_process_new(&consumer, consumer_child, mpt_opts(methods[k]), "OO", q, results));
        MPT_OK(mp_process_start(consumer));
        pair prod = {q, results, PRODUCERS - 1}, cons = {q, results, 0};
        mp_thread *tp, *tc;
        MPT_OK(mp_thread_start(&tp, producer_thread, &prod, NULL));
        MPT_OK(mp_thread_start(&tc, consumer_thread, &cons, NULL));
        for (int i = 0; i < PRODUCERS - 1; i++)
            assert_int_equal(mpt_join_child(producers[i]), 0);
        int result;
        MPT_OK(mp_thread_join(tp, MP_FOREVER, &result));
        assert_int_equal(result, 0);
        MPT_OK(mp_queue_put(q, 30, "n"));
        MPT_OK(mp_queue_put(q, 30, "n"));
        assert_int_equal(mpt_join_child(consumer), 0);
        MPT_OK(mp_thread_join(tc, MP_FOREVER, &result));
        assert_int_equal(result, 0);
        int a, b;
        MPT_OK(get_int(results, 0, &a));
        MPT_OK(get_int(results, 0, &b));
        assert_int_equal(a + b, PRODUCERS * PER_PRODUCER);
        mp_queue_free(results);
        mp_queue_free(q);
    }
}

static int get_forever(const mp_value *args)
{
    mp_queue *q;
    int rc = mp_args(args, "O", &q), x;
    return rc == MP_OK ? get_int(q, MP_FOREVER, &x) : rc;
}
MP_TARGET(get_forever)

/* A consumer killed while it waits in get leaves the queue working. */
static void killed_consumer(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_queue *q;
        MPT_OK(mp_queue_new(&q, NULL));
        mp_process *p;
        MPT_OK(mp_process_new(&p, get_forever, mpt_opts(methods[k]), "O", q));
        MPT_OK(mp_process_start(p));
        MPT_CODE(mp_process_join(p, 0.3), MP_ETIMEDOUT);
        MPT_OK(mp_process_kill(p));
        assert_int_not_equal(mpt_join_child(p), 0);
        MPT_OK(mp_queue_put(q, 0, "i", 5));
        int x;
        MPT_OK(get_int(q, 5, &x));
        assert_int_equal(x, 5);
        /* a second consumer still gets woken by a put */
        MPT_OK(mp_process_new(&p, get_forever, mpt_opts(methods[k]), "O", q));
        MPT_OK(mp_process_start(p));
        MPT_OK(mp_queue_put(q, 0, "i", 6));
        assert_int_equal(mpt_join_child(p), 0);
        mp_queue_free(q);
    }
}

static int put_through_both(const mp_value *args)
{
    mp_queue *a, *b;
    int rc = mp_args(args, "OO", &a, &b);
    if (rc == MP_OK)
        rc = mp_queue_put(a, 10, "i", 1);
    mp_queue_free(a); /* the other copy must keep working */
    if (rc == MP_OK)
        rc = mp_queue_put(b, 10, "i", 2);
    return rc == MP_OK ? 0 : 60;
}
MP_TARGET(put_through_both)

/* One queue passed twice: each copy has handles of its own. */
static void passed_twice(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_queue *q;
        MPT_OK(mp_queue_new(&q, NULL));
        mp_process *p;
        MPT_OK(mp_process_new(&p, put_through_both, mpt_opts(methods[k]), "OO", q, q));
        assert_int_equal(mpt_run_child(p), 0);
        int x;
        MPT_OK(get_int(q, 0, &x));
        assert_int_equal(x, 1);
        MPT_OK(get_int(q, 0, &x));
        assert_int_equal(x, 2);
        mp_queue_free(q);
    }
}

#define CHUNK ((size_t)16 << 20)

/* A chunk of CHUNK bytes in a pattern, or NULL (out of memory). */
static unsigned char *new_chunk(void)
{
    unsigned char *b = malloc(CHUNK);
    for (size_t i = 0; b != NULL && i < CHUNK; i += 64)
        memset(b + i, (unsigned char)(i / 64), 64);
    return b;
}

static int put_chunks_forever(const mp_value *args)
{
    mp_queue *q;
    int rc = mp_args(args, "O", &q);
    unsigned char *b = new_chunk();
    for (int seq = 0; rc == MP_OK && b != NULL; seq++)
        rc = mp_queue_put(q, MP_FOREVER, "iy#", seq, b, CHUNK);
    return 70;
}
MP_TARGET(put_chunks_forever)

/* A queue of room for three chunks, and a child started on it running
 * target under method. */
static mp_process *child_on_new_queue(mp_target_fn target, mp_start_method method, mp_queue **q)
{
    MPT_OK(mp_queue_new(q, &(mp_queue_options){.capacity = 3 * CHUNK}));
    mp_process *p;
    MPT_OK(mp_process_new(&p, target, mpt_opts(method), "O", *q));
    MPT_OK(mp_process_start(p));
    return p;
}

/* One (seq, bytes) item: get's code and, while *v lives, its fields. */
static int get_chunk(mp_queue *q, double timeout, mp_value **v, int *seq, const void **data, size_t *len)
{
    int rc = mp_queue_get(q, timeout, v);
    if (rc == MP_OK)
        MPT_OK(mp_args(*v, "iy#", seq, data, len));
    return rc;
}

/* A producer killed at any moment, often inside put with the queue's lock
 * held: what it put before is whole, and the queue keeps working. */
static void killed_producer(void **state)
{
    (void)state;
    unsigned char *want = new_chunk();
    assert_non_null(want);
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_queue *q;
        mp_process *p = child_on_new_queue(put_chunks_forever, methods[k], &q);
        int next = 0;
        for (int round = 0; round < 3; round++) {
            mp_value *v;
            int seq;
            const void *data;
            size_t len;
            MPT_OK(get_chunk(q, 30, &v, &seq, &data, &len));
            assert_int_equal(seq, next++);
            mp_value_free(v);
        }
        /* Room for one more item was just made: the producer is most
         * likely copying it in, holding the lock, when it dies. */
        MPT_CODE(mp_process_join(p, 0.005), MP_ETIMEDOUT);
        MPT_OK(mp_process_kill(p));
        assert_int_not_equal(mpt_join_child(p), 0);
        for (;;) {
            mp_value *v;
            int seq;
            const void *data;
            size_t len;
            int rc = get_chunk(q, 0, &v, &seq, &data, &len);
            if (rc == MP_EEMPTY)
                break;
            MPT_OK(rc);
            assert_int_equal(seq, next++);
            assert_int_equal(len, CHUNK);
            assert_memory_equal(data, want, CHUNK);
            mp_value_free(v);
        }
        MPT_OK(mp_queue_put(q, 0, "i", 9));
        int x;
        MPT_OK(get_int(q, 0, &x));
        assert_int_equal(x, 9);
        mp_queue_free(q);
    }
    free(want);
}

static int get_chunks_forever(const mp_value *args)
{
    mp_queue *q;
    int rc = mp_args(args, "O", &q);
    while (rc == MP_OK) {
        mp_value *v;
        if ((rc = mp_queue_get(q, MP_FOREVER, &v)) == MP_OK)
            mp_value_free(v);
    }
    return 71;
}
MP_TARGET(get_chunks_forever)

/* A consumer killed at any moment, most often while it decodes a large
 * item outside the queue's lock: the items after it are whole and come out
 * in order, also to gets that do not wait, and the queue keeps working. */
static void killed_large_consumer(void **state)
{
    (void)state;
    unsigned char *chunk = new_chunk();
    assert_non_null(chunk);
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_queue *q;
        mp_process *p = child_on_new_queue(get_chunks_forever, methods[k], &q);
        for (int seq = 0; seq < 6; seq++)
            MPT_OK(mp_queue_put(q, 30, "iy#", seq, chunk, CHUNK));
        MPT_OK(mp_process_kill(p));
        assert_int_not_equal(mpt_join_child(p), 0);
        int last = -1;
        for (;;) {
            mp_value *v;
            int seq;
            const void *data;
            size_t len;
            int rc = get_chunk(q, 0, &v, &seq, &data, &len);
            if (rc == MP_EEMPTY)
                break;
            MPT_OK(rc);
            assert_true(seq > last);
            last = seq;
            assert_int_equal(len, CHUNK);
            assert_memory_equal(data, chunk, CHUNK);
            mp_value_free(v);
        }
        assert_true(last <= 5);
        MPT_OK(mp_queue_put(q, 0, "iy#", 6, chunk, CHUNK));
        mp_value *v;
        MPT_OK(mp_queue_get(q, 0, &v));
        mp_value_free(v);
        mp_queue_free(q);
    }
    free(chunk);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(full_and_empty),     MPT_TEST(ring_limits), MPT_TEST(ring_starts_over), MPT_TEST(bad_input),
        MPT_TEST(threads),            MPT_TEST(order_from_child),
        MPT_TEST(exit_without_drain), MPT_TEST(joinable), MPT_TEST(task_done_right_after_get),
        MPT_TEST(many_producers_and_consumers), MPT_TEST(killed_consumer), MPT_TEST(passed_twice), MPT_TEST(killed_producer),
        MPT_TEST(large_items_wrap), MPT_TEST(large_items_threads), MPT_TEST(killed_large_consumer),
    };
    return MPT_RUN(tests);
}
