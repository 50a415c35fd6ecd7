/* test_conn.c - Pipe and Connection across processes under every start
 * method: values and bytes both ways, boundaries and empty messages, 64
 * MiB, end of file, maxlength, recv_bytes_into, poll and mp_wait, one-way
 * ends, two sending threads, and bad input. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BIG (64u << 20)

/* Echo every message back until "stop" (not end of file: under fork the
 * child holds a copy of the parent's end too, as in Python). */
static int echo(const mp_value *args)
{
    mp_conn *c;
    int rc = mp_args(args, "O", &c);
    for (;;) {
        void *data;
        size_t len;
        if (rc != MP_OK)
            return rc;
        rc = mp_conn_recv_bytes(c, 0, &data, &len);
        if (rc != MP_OK)
            return rc;
        if (len == 4 && memcmp(data, "stop", 4) == 0) {
            free(data);
            return 0;
        }
        rc = mp_conn_send_bytes(c, data, len);
        free(data);
    }
}
MP_TARGET(echo)

static void start_with(mp_start_method m, mp_target_fn fn, mp_conn *child_end, mp_process **p)
{
    MPT_OK(mp_process_new(p, fn, mpt_opts(m), "O", child_end));
    MPT_OK(mp_process_start(*p));
}

static void round_trips(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_conn *a, *b;
        mp_process *p;
        MPT_OK(mp_pipe(true, &a, &b));
        start_with(methods[k], echo, b, &p);
        MPT_OK(mp_conn_close(b));

        MPT_OK(mp_conn_send(a, "is", 42, "hello"));
        mp_value *v;
        MPT_OK(mp_conn_recv(a, &v));
        int i;
        const char *s;
        MPT_OK(mp_unpack(v, "(is)", &i, &s));
        assert_int_equal(i, 42);
        assert_string_equal(s, "hello");
        mp_value_free(v);

        /* boundaries, including empty messages, in order */
        const char *msgs[] = {"", "a", "", "bcd"};
        for (size_t j = 0; j < 4; j++)
            MPT_OK(mp_conn_send_bytes(a, msgs[j], strlen(msgs[j])));
        for (size_t j = 0; j < 4; j++) {
            void *d;
            size_t len;
            MPT_OK(mp_conn_recv_bytes(a, 0, &d, &len));
            assert_int_equal(len, strlen(msgs[j]));
            assert_memory_equal(d, msgs[j], len);
            free(d);
        }

        /* 64 MiB each way */
        unsigned char *big = malloc(BIG);
        assert_non_null(big);
        for (size_t j = 0; j < BIG; j++)
            big[j] = (unsigned char)(j * 7 + j / 65536);
        MPT_OK(mp_conn_send_bytes(a, big, BIG));
        void *d;
        size_t len;
        MPT_OK(mp_conn_recv_bytes(a, 0, &d, &len));
        assert_int_equal(len, BIG);
        assert_true(memcmp(d, big, BIG) == 0);
        free(d);
        free(big);

        MPT_OK(mp_conn_send_bytes(a, "stop", 4));
        assert_int_equal(mpt_join_child(p), 0);
        MPT_OK(mp_conn_close(a));
    }
}

static int send_three(const mp_value *args)
{
    mp_conn *c;
    int rc = mp_args(args, "O", &c);
    if (rc == MP_OK)
        rc = mp_conn_send_bytes(c, "0123456789", 10);
    if (rc == MP_OK)
        rc = mp_conn_send_bytes(c, "abc", 3);
    if (rc == MP_OK)
        rc = mp_conn_send_bytes(c, "xyz", 3);
    return rc;
}
MP_TARGET(send_three)

static void eof_maxlength_into(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_conn *r, *w;
        mp_process *p;
        MPT_OK(mp_pipe(false, &r, &w));
        start_with(methods[k], send_three, w, &p);
        MPT_OK(mp_conn_close(w));
        assert_int_equal(mpt_join_child(p), 0);

        /* recv_bytes_into: too small keeps the message and says the size */
        char buf[16];
        size_t len = 0;
        MPT_CODE(mp_conn_recv_bytes_into(r, buf, 4, &len), MP_ETOOBIG);
        assert_int_equal(len, 10);
        MPT_OK(mp_conn_poll(r, 0));
        MPT_OK(mp_conn_recv_bytes_into(r, buf, sizeof buf, &len));
        assert_int_equal(len, 10);
        assert_memory_equal(buf, "0123456789", 10);
        MPT_OK(mp_conn_recv_bytes_into(r, buf, sizeof buf, &len));
        assert_memory_equal(buf, "abc", 3);
        /* then the data the writer left, then end of file */
        MPT_OK(mp_conn_recv_bytes_into(r, buf, sizeof buf, &len));
        MPT_CODE(mp_conn_recv_bytes_into(r, buf, sizeof buf, &len), MP_EEOF);
        MPT_OK(mp_conn_poll(r, 0));
        MPT_CODE(mp_conn_send_bytes(r, "x", 1), MP_ESTATE);
        MPT_OK(mp_conn_close(r));
    }

    /* maxlength: too long is an error and the connection is done */
    mp_conn *r, *w;
    MPT_OK(mp_pipe(false, &r, &w));
    MPT_OK(mp_conn_send_bytes(w, "too long", 8));
    void *d;
    size_t len;
    MPT_CODE(mp_conn_recv_bytes(r, 4, &d, &len), MP_ETOOBIG);
    MPT_CODE(mp_conn_recv_bytes(r, 0, &d, &len), MP_ESTATE);
    MPT_CODE(mp_conn_recv(w, NULL), MP_EINVAL);
    MPT_OK(mp_conn_close(r));
    MPT_CODE(mp_conn_send_bytes(w, "x", 1), MP_EEOF);
    MPT_OK(mp_conn_close(w));
}

static int reply_later(const mp_value *args)
{
    mp_conn *c;
    int rc = mp_args(args, "O", &c);
    if (rc != MP_OK)
        return rc;
    mp_value *v;
    if ((rc = mp_conn_recv(c, &v)) != MP_OK)
        return rc;
    mp_value_free(v);
    return mp_conn_send(c, "s", "done");
}
MP_TARGET(reply_later)

static void poll_and_wait(void **state)
{
    (void)state;
    mp_conn *a, *b;
    mp_process *p;
    MPT_OK(mp_pipe(true, &a, &b));
    start_with(MP_START_SPAWN, reply_later, b, &p);
    MPT_OK(mp_conn_close(b));
    MPT_CODE(mp_conn_poll(a, 0), MP_ETIMEDOUT);
    MPT_CODE(mp_conn_poll(a, 0.05), MP_ETIMEDOUT);

    mp_sentinel s[2];
    bool ready[2];
    MPT_OK(mp_conn_fileno(a, &s[0]));
    MPT_OK(mp_process_sentinel(p, &s[1]));
    MPT_CODE(mp_wait(s, 2, 0.05, ready), MP_ETIMEDOUT);
    MPT_OK(mp_conn_send(a, "n"));
    int n = mp_wait(s, 2, 30, ready);
    assert_true(n >= 1);
    assert_true(ready[0]);
    mp_value *v;
    MPT_OK(mp_conn_recv(a, &v));
    const char *text;
    MPT_OK(mp_unpack(v, "s", &text));
    assert_string_equal(text, "done");
    mp_value_free(v);
    assert_int_equal(mpt_join_child(p), 0);
    MPT_OK(mp_conn_close(a));
}

typedef struct sender {
    mp_conn *c;
    char fill;
} sender;

static int send_many(void *arg)
{
    sender *s = arg;
    char msg[100000];
    memset(msg, s->fill, sizeof msg);
    for (int i = 0; i < 50; i++)
        if (mp_conn_send_bytes(s->c, msg, sizeof msg) != MP_OK)
            return 1;
    return 0;
}

/* Two threads sending at once: every message arrives whole. */
static void two_senders(void **state)
{
    (void)state;
    mp_conn *a, *b;
    MPT_OK(mp_pipe(true, &a, &b));
    sender s1 = {b, 'x'}, s2 = {b, 'y'};
    mp_thread *t1, *t2;
    MPT_OK(mp_thread_start(&t1, send_many, &s1, NULL));
    MPT_OK(mp_thread_start(&t2, send_many, &s2, NULL));
    for (int i = 0; i < 100; i++) {
        void *d;
        size_t len;
        MPT_OK(mp_conn_recv_bytes(a, 0, &d, &len));
        assert_int_equal(len, 100000);
        const char *c = d;
        for (size_t j = 1; j < len; j++)
            assert_true(c[j] == c[0]);
        free(d);
    }
    int r1, r2;
    MPT_OK(mp_thread_join(t1, MP_FOREVER, &r1));
    MPT_OK(mp_thread_join(t2, MP_FOREVER, &r2));
    assert_int_equal(r1 + r2, 0);
    MPT_OK(mp_conn_close(a));
    MPT_OK(mp_conn_close(b));
}

static void bad_input(void **state)
{
    (void)state;
    mp_conn *a, *b;
    MPT_CODE(mp_pipe(true, NULL, &b), MP_EINVAL);
    MPT_CODE(mp_conn_send_bytes(NULL, "x", 1), MP_EINVAL);
    MPT_OK(mp_pipe(true, &a, &b));
    MPT_CODE(mp_conn_send(a, "(i", 1), MP_EFORMAT);
    MPT_CODE(mp_conn_send(a, "O", b), MP_EUNSUPPORTED);
    MPT_CODE(mp_conn_send_bytes((mp_conn *)(void *)&state, "x", 1), MP_ETYPE);
    mp_lock *l;
    MPT_OK(mp_lock_new(&l));
    MPT_CODE(mp_conn_send_bytes((mp_conn *)(void *)l, "x", 1), MP_ETYPE);
    mp_lock_free(l);
    /* a malformed message is an error, the connection stays usable */
    MPT_OK(mp_conn_send_bytes(a, "\xc1", 1));
    mp_value *v;
    MPT_CODE(mp_conn_recv(b, &v), MP_EPROTO);
    MPT_OK(mp_conn_send(a, "i", 7));
    MPT_OK(mp_conn_recv(b, &v));
    mp_value_free(v);
    MPT_OK(mp_conn_close(a));
    MPT_OK(mp_conn_close(b));
    MPT_OK(mp_conn_close(NULL));
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(round_trips), MPT_TEST(eof_maxlength_into), MPT_TEST(poll_and_wait),
        MPT_TEST(two_senders), MPT_TEST(bad_input),
    };
    return MPT_RUN(tests);
}
