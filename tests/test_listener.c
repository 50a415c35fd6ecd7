/* test_listener.c - Listener and Client on every family this system has
 * (Windows: named pipes too): in one process (a client thread) and across
 * processes (a child under every start method connects to the parent's
 * listener); messages both ways, a large one, poll and mp_wait, end of
 * file; accept timeouts; a closed port, a pipe nobody serves, one already
 * served, one whose instances are all taken; malformed addresses and
 * families this system lacks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

#define BIG (6u << 20)
#define MAX_FAMILIES 5

/* Listening addresses of every family this system has. */
static size_t families(char out[MAX_FAMILIES][64])
{
    size_t n = 0;
    snprintf(out[n++], 64, "tcp://127.0.0.1:0");
    snprintf(out[n++], 64, "tcp://[::1]:0");
#ifndef _WIN32
    snprintf(out[n++], 64, "unix:/tmp/mproc-test-listener-%ld", mp_current_pid());
    snprintf(out[n++], 64, "unix:@mproc-test-listener-%ld", mp_current_pid());
#else
    snprintf(out[n++], 64, "pipe:mproc-test-listener-%ld", mp_current_pid());
#endif
    return n;
}

/* A listener on address, or NULL when this machine has no IPv6 loopback
 * (said on stdout, not a failure). */
static mp_listener *listen_on(const char *address)
{
    mp_listener *l = NULL;
    int rc = mp_listener_new(&l, address, NULL);
    if (rc == MP_EOS && strstr(address, "[::1]") != NULL) {
        printf("no IPv6 loopback here (%s): %s skipped\n", mp_last_error(), address);
        return NULL;
    }
    MPT_OK(rc);
    return l;
}

/* Echo every message until "stop". */
static int echo_on(mp_conn *c)
{
    for (;;) {
        void *data;
        size_t len;
        int rc = mp_conn_recv_bytes(c, 0, &data, &len);
        if (rc != MP_OK)
            return rc;
        if (len == 4 && memcmp(data, "stop", 4) == 0) {
            free(data);
            return 0;
        }
        rc = mp_conn_send_bytes(c, data, len);
        free(data);
        if (rc != MP_OK)
            return rc;
    }
}

/* Connect to address and echo: 0 if all went well. */
static int connect_and_echo(const char *address)
{
    mp_conn *c = NULL;
    int rc = mp_client(&c, address, NULL);
    if (rc == MP_OK)
        rc = echo_on(c);
    if (c != NULL)
        mp_conn_close(c);
    return rc == MP_OK ? 0 : 1;
}

/* A child's target: the address is its argument. */
static int echo_client(const mp_value *args)
{
    const char *address;
    return mp_args(args, "s", &address) == MP_OK ? connect_and_echo(address) : 1;
}
MP_TARGET(echo_client)

static int echo_thread(void *address)
{
    return connect_and_echo(address);
}

/* Through an echoing peer: a value, empty and small messages in order, a
 * large message, poll and mp_wait on the connection. */
static void exchange(mp_conn *c)
{
    MPT_OK(mp_conn_send(c, "is", 42, "hello"));
    mp_sentinel s;
    MPT_OK(mp_conn_fileno(c, &s));
    bool ready = false;
    assert_int_equal(mp_wait(&s, 1, 30, &ready), 1);
    assert_true(ready);
    MPT_OK(mp_conn_poll(c, 0));
    mp_value *v;
    MPT_OK(mp_conn_recv(c, &v));
    int i;
    const char *str;
    MPT_OK(mp_unpack(v, "(is)", &i, &str));
    assert_int_equal(i, 42);
    assert_string_equal(str, "hello");
    mp_value_free(v);
    MPT_CODE(mp_conn_poll(c, 0), MP_ETIMEDOUT);

    const char *msgs[] = {"", "a", "", "bcd"};
    for (size_t j = 0; j < 4; j++)
        MPT_OK(mp_conn_send_bytes(c, msgs[j], strlen(msgs[j])));
    for (size_t j = 0; j < 4; j++) {
        void *d;
        size_t len;
        MPT_OK(mp_conn_recv_bytes(c, 0, &d, &len));
        assert_int_equal(len, strlen(msgs[j]));
        assert_memory_equal(d, msgs[j], len);
        free(d);
    }

    unsigned char *big = malloc(BIG);
    assert_non_null(big);
    for (size_t j = 0; j < BIG; j++)
        big[j] = (unsigned char)(j * 7 + j / 65536);
    MPT_OK(mp_conn_send_bytes(c, big, BIG));
    void *back;
    size_t len;
    MPT_OK(mp_conn_recv_bytes(c, 0, &back, &len));
    assert_int_equal(len, BIG);
    assert_memory_equal(back, big, BIG);
    free(back);
    free(big);
    MPT_OK(mp_conn_send_bytes(c, "stop", 4));
}

static void in_one_process(void **state)
{
    (void)state;
    char addr[MAX_FAMILIES][64];
    for (size_t k = 0, n = families(addr); k < n; k++) {
        mp_listener *l = listen_on(addr[k]);
        if (l == NULL)
            continue;
        const char *bound = mp_listener_address(l);
        assert_non_null(bound);
        if (strncmp(addr[k], "tcp:", 4) == 0)
            assert_true(strcmp(strrchr(bound, ':'), ":0") != 0);
        else
            assert_string_equal(bound, addr[k]);
        mp_thread *t;
        MPT_OK(mp_thread_start(&t, echo_thread, (void *)bound, "client"));
        mp_conn *c;
        MPT_OK(mp_listener_accept(l, 30, &c));
        exchange(c);
        int result = -1;
        MPT_OK(mp_thread_join(t, MP_FOREVER, &result));
        assert_int_equal(result, 0);
        /* The client has gone: end of file. */
        void *d;
        size_t len;
        MPT_CODE(mp_conn_recv_bytes(c, 0, &d, &len), MP_EEOF);
        MPT_OK(mp_conn_close(c));
        mp_listener_close(l);
    }
}

static void across_processes(void **state)
{
    (void)state;
    mp_start_method methods[3];
    char addr[MAX_FAMILIES][64];
    size_t nfam = families(addr);
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++)
        for (size_t k = 0; k < nfam; k++) {
            mp_listener *l = listen_on(addr[k]);
            if (l == NULL)
                continue;
            mp_process *p;
            MPT_OK(mp_process_new(&p, echo_client, mpt_opts(methods[m]), "s", mp_listener_address(l)));
            MPT_OK(mp_process_start(p));
            mp_conn *c;
            MPT_OK(mp_listener_accept(l, 60, &c));
            exchange(c);
            assert_int_equal(mpt_join_child(p), 0);
            MPT_OK(mp_conn_close(c));
            mp_listener_close(l);
        }
}

/* Timeouts with no client, then a client: still listening after them. */
static void accept_timeout(void **state)
{
    (void)state;
    char addr[MAX_FAMILIES][64];
    for (size_t k = 0, n = families(addr); k < n; k++) {
        mp_listener *l = listen_on(addr[k]);
        if (l == NULL)
            continue;
        mp_conn *c = (mp_conn *)1;
        MPT_CODE(mp_listener_accept(l, 0, &c), MP_ETIMEDOUT);
        assert_null(c);
        MPT_CODE(mp_listener_accept(l, -1, &c), MP_ETIMEDOUT);
        MPT_CODE(mp_listener_accept(l, (double)NAN, &c), MP_ETIMEDOUT);
        double t0 = mp_os_monotonic();
        MPT_CODE(mp_listener_accept(l, 0.2, &c), MP_ETIMEDOUT);
        double took = mp_os_monotonic() - t0;
        assert_true(took >= 0.15 && took < 10);
        mp_conn *client;
        MPT_OK(mp_client(&client, mp_listener_address(l), NULL));
        MPT_OK(mp_listener_accept(l, 30, &c));
        MPT_OK(mp_conn_send_bytes(client, "hi", 2));
        char buf[4];
        size_t len;
        MPT_OK(mp_conn_recv_bytes_into(c, buf, sizeof buf, &len));
        assert_int_equal(len, 2);
        MPT_OK(mp_conn_close(client));
        MPT_OK(mp_conn_close(c));
        mp_listener_close(l);
    }
}

static void closed_port(void **state)
{
    (void)state;
    mp_listener *l;
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", NULL));
    char address[128];
    snprintf(address, sizeof address, "%s", mp_listener_address(l));
    mp_listener_close(l);
    mp_net_options opts = MP_NET_OPTIONS_INIT;
    opts.timeout = 10;
    mp_conn *c = (mp_conn *)1;
    double t0 = mp_os_monotonic();
    int rc = mp_client(&c, address, &opts);
    assert_true(rc == MP_EOS || rc == MP_ETIMEDOUT);
    assert_null(c);
    assert_true(mp_os_monotonic() - t0 < 10.5);
}

#ifdef _WIN32
/* A pipe name nobody serves is refused at once, with the OS's reason
 * (ERROR_FILE_NOT_FOUND), not waited for. */
static void pipe_nobody_serves(void **state)
{
    (void)state;
    char address[64];
    snprintf(address, sizeof address, "pipe:mproc-test-nobody-%ld", mp_current_pid());
    mp_net_options opts = MP_NET_OPTIONS_INIT;
    opts.timeout = 10;
    mp_conn *c = (mp_conn *)1;
    double t0 = mp_os_monotonic();
    MPT_CODE(mp_client(&c, address, &opts), MP_EOS);
    assert_true(mp_os_monotonic() - t0 < 2);
    assert_null(c);
    assert_non_null(strstr(mp_last_error(), "os error 2)"));
}

/* A name served already is refused (FILE_FLAG_FIRST_PIPE_INSTANCE), and
 * free again once its listener has closed. Wine (8.0) ignores the flag
 * and lets a second server share the name: only the rest is checked there. */
static void pipe_served_already(void **state)
{
    (void)state;
    char address[64];
    snprintf(address, sizeof address, "pipe:mproc-test-served-%ld", mp_current_pid());
    mp_listener *l, *again = (mp_listener *)1;
    MPT_OK(mp_listener_new(&l, address, NULL));
    if (mpt_under_wine()) {
        printf("Wine ignores FILE_FLAG_FIRST_PIPE_INSTANCE: a second listener on %s not checked\n", address);
    } else {
        MPT_CODE(mp_listener_new(&again, address, NULL), MP_EOS);
        assert_null(again);
    }
    mp_listener_close(l);
    MPT_OK(mp_listener_new(&l, address, NULL));
    mp_listener_close(l);
}

/* One instance waits for a client at a time: a second client finds every
 * instance taken and waits (ERROR_PIPE_BUSY, WaitNamedPipe) until an
 * accept makes the next one, or times out. */
static void pipe_busy(void **state)
{
    (void)state;
    char address[64];
    snprintf(address, sizeof address, "pipe:mproc-test-busy-%ld", mp_current_pid());
    mp_listener *l;
    MPT_OK(mp_listener_new(&l, address, NULL));
    mp_conn *first;
    MPT_OK(mp_client(&first, address, NULL));
    mp_net_options brief = MP_NET_OPTIONS_INIT;
    brief.timeout = 0.3;
    mp_conn *c = (mp_conn *)1;
    double t0 = mp_os_monotonic();
    MPT_CODE(mp_client(&c, address, &brief), MP_ETIMEDOUT);
    double took = mp_os_monotonic() - t0;
    assert_true(took >= 0.25 && took < 10);
    assert_null(c);
    mp_thread *t;
    MPT_OK(mp_thread_start(&t, echo_thread, address, "client"));
    mp_conn *a, *b;
    MPT_OK(mp_listener_accept(l, 30, &a));
    MPT_OK(mp_listener_accept(l, 30, &b));
    /* The first accept is the first client's, the second the thread's. */
    MPT_OK(mp_conn_send_bytes(first, "one", 3));
    char buf[8];
    size_t len;
    MPT_OK(mp_conn_recv_bytes_into(a, buf, sizeof buf, &len));
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "one", 3);
    exchange(b);
    int result = -1;
    MPT_OK(mp_thread_join(t, MP_FOREVER, &result));
    assert_int_equal(result, 0);
    /* Each accept left a new instance waiting: a client that only polls
     * finds one. */
    mp_net_options poll = MP_NET_OPTIONS_INIT;
    poll.timeout = 0;
    mp_conn *third;
    MPT_OK(mp_client(&third, address, &poll));
    MPT_OK(mp_conn_close(third));
    MPT_OK(mp_conn_close(first));
    MPT_OK(mp_conn_close(a));
    MPT_OK(mp_conn_close(b));
    mp_listener_close(l);
}
#endif

static void bad_addresses(void **state)
{
    (void)state;
    const char *malformed[] = {
        "",          "tcp:",          "tcp://",       "tcp://host",     "tcp://:80",   "tcp://h:",
        "tcp://h:x", "tcp://h:65536", "tcp://h:-1",   "tcp://::1:80",   "tcp://[::1]", "http://h:80",
        "unix:",     "unix:@",        "127.0.0.1:80", "tcp://h:123456", "pipe:",       "pipe:a\\b",
        "pipe:a/b",  "pipe:\\",       "pipe:/",       "pipe\\x",
    };
    mp_listener *l = (mp_listener *)1;
    mp_conn *c = (mp_conn *)1;
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        if (strncmp(malformed[i], "unix:", 5) == 0) {
#ifdef _WIN32
            continue;
#endif
        }
        MPT_CODE(mp_listener_new(&l, malformed[i], NULL), MP_EINVAL);
        assert_null(l);
        MPT_CODE(mp_client(&c, malformed[i], NULL), MP_EINVAL);
        assert_null(c);
    }
    MPT_CODE(mp_listener_new(&l, NULL, NULL), MP_EINVAL);
    MPT_CODE(mp_listener_new(NULL, "tcp://127.0.0.1:0", NULL), MP_EINVAL);
    MPT_CODE(mp_client(NULL, "tcp://127.0.0.1:1", NULL), MP_EINVAL);
    MPT_CODE(mp_listener_accept(NULL, 0, &c), MP_EINVAL);
    assert_null(mp_listener_address(NULL));
    mp_listener_close(NULL);

    /* A pipe name of 256 bytes is one; of 257, none. */
    char name[5 + 258];
    snprintf(name, sizeof name, "pipe:%0257d", 0);
    MPT_CODE(mp_listener_new(&l, name, NULL), MP_EINVAL);
    assert_null(l);
    assert_non_null(strstr(mp_last_error(), "256"));
    MPT_CODE(mp_client(&c, name, NULL), MP_EINVAL);
    name[5 + 256] = '\0';
    int rc = mp_client(&c, name, NULL);
    assert_true(rc != MP_EINVAL);
    assert_null(c);

    /* Families this system does not have. */
#ifndef _WIN32
    MPT_CODE(mp_listener_new(&l, "pipe:x", NULL), MP_EUNSUPPORTED);
    assert_null(l);
    MPT_CODE(mp_client(&c, "pipe:x", NULL), MP_EUNSUPPORTED);
    assert_null(c);
    assert_non_null(strstr(mp_last_error(), "Windows named pipe"));
    assert_non_null(strstr(mp_last_error(), "unix:"));
#else
    MPT_CODE(mp_listener_new(&l, "unix:/tmp/x", NULL), MP_EUNSUPPORTED);
    MPT_CODE(mp_client(&c, "unix:@x", NULL), MP_EUNSUPPORTED);
    assert_non_null(strstr(mp_last_error(), "unix"));
#endif
    mp_net_options backlog = MP_NET_OPTIONS_INIT;
    backlog.backlog = -1;
    MPT_CODE(mp_listener_new(&l, "tcp://127.0.0.1:0", &backlog), MP_EINVAL);
}

/* A socket connection travels as a process argument, as a pipe's does:
 * the child echoes over the client's end what the parent sends on the
 * accepted one. */
static int echo_over(const mp_value *args)
{
    mp_conn *c;
    mp_value *v = NULL;
    int rc = mp_args(args, "O", &c);
    if (rc == MP_OK)
        rc = mp_conn_recv(c, &v);
    const char *text = NULL;
    if (rc == MP_OK)
        rc = mp_unpack(v, "s", &text);
    if (rc == MP_OK)
        rc = mp_conn_send(c, "s", text);
    mp_value_free(v);
    return rc == MP_OK ? 0 : 1;
}
MP_TARGET(echo_over)

static void socket_as_an_argument(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++) {
        mp_listener *l;
        MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", NULL));
        mp_conn *c;
        MPT_OK(mp_client(&c, mp_listener_address(l), NULL));
        mp_conn *s;
        MPT_OK(mp_listener_accept(l, 30, &s));
        mp_process *p;
        MPT_OK(mp_process_new(&p, echo_over, mpt_opts(methods[i]), "O", c));
        MPT_OK(mp_process_start(p));
        MPT_OK(mp_conn_close(c)); /* the child has its own */
        MPT_OK(mp_conn_send(s, "s", "over a socket"));
        MPT_OK(mp_conn_poll(s, 30.0));
        mp_value *v;
        MPT_OK(mp_conn_recv(s, &v));
        const char *text = NULL;
        MPT_OK(mp_unpack(v, "s", &text));
        assert_string_equal(text, "over a socket");
        mp_value_free(v);
        assert_int_equal(mpt_join_child(p), 0);
        MPT_OK(mp_conn_close(s));
        mp_listener_close(l);
    }
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mpt_start_sockets();
    const struct CMUnitTest tests[] = {
        MPT_TEST(in_one_process),     MPT_TEST(across_processes),    MPT_TEST(accept_timeout),
        MPT_TEST(closed_port),        MPT_TEST(bad_addresses),       MPT_TEST(socket_as_an_argument),
#ifdef _WIN32
        MPT_TEST(pipe_nobody_serves), MPT_TEST(pipe_served_already), MPT_TEST(pipe_busy),
#endif
    };
    return MPT_RUN(tests);
}
