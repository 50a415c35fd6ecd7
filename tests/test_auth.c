/* test_auth.c - the authkey handshake of Listener and Client (net.h):
 * right keys in a thread (over every family: Windows' named pipes too)
 * and in children; wrong keys (over a named pipe too), caught by either
 * side; one side without a key; fake peers that speak Python <= 3.11's
 * legacy form, welcome anything, send oversized, short, cut or no
 * messages. The fakes write the bytes by hand and check ours byte for
 * byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/digest.h"
#include "harness.h"
#include "ipc/conn_internal.h"
#include "platform.h"

#define KEY "the right key"
#define CHALLENGE "#CHALLENGE#"
#define WELCOME "#WELCOME#"
#define FAILURE "#FAILURE#"
#define MODERN_LEN (11 + 8 + 40) /* "#CHALLENGE#{sha256}" and 40 bytes */

static mp_net_options keyed(const char *key, double timeout)
{
    mp_net_options o = MP_NET_OPTIONS_INIT;
    o.authkey = key;
    o.authkey_len = key != NULL ? strlen(key) : 0;
    o.timeout = timeout;
    return o;
}

/* Our Client under test, in a thread: rc is mp_client's; when it is
 * MP_OK the client echoes one message. */
typedef struct client_run {
    const char *address;
    const char *key;
    double timeout;
    int rc;
    double took;
} client_run;

static int client_thread(void *arg)
{
    client_run *r = arg;
    mp_net_options o = keyed(r->key, r->timeout);
    mp_conn *c = NULL;
    double t0 = mp_os_monotonic();
    r->rc = mp_client(&c, r->address, &o);
    r->took = mp_os_monotonic() - t0;
    if (r->rc != MP_OK)
        return c == NULL ? 0 : 1;
    void *d;
    size_t len;
    int rc = mp_conn_recv_bytes(c, 0, &d, &len);
    if (rc == MP_OK) {
        rc = mp_conn_send_bytes(c, d, len);
        free(d);
    }
    mp_conn_close(c);
    return rc == MP_OK ? 0 : 1;
}

static mp_thread *start_client(client_run *r)
{
    mp_thread *t;
    MPT_OK(mp_thread_start(&t, client_thread, r, "client"));
    return t;
}

static void join(mp_thread *t)
{
    int result = -1;
    MPT_OK(mp_thread_join(t, MP_FOREVER, &result));
    assert_int_equal(result, 0);
}

/* One message through an echoing peer. */
static void ping(mp_conn *c)
{
    MPT_OK(mp_conn_send_bytes(c, "ping", 4));
    char buf[8];
    size_t len;
    MPT_OK(mp_conn_recv_bytes_into(c, buf, sizeof buf, &len));
    assert_int_equal(len, 4);
    assert_memory_equal(buf, "ping", 4);
}

static size_t recv_message(mp_conn *c, unsigned char buf[512])
{
    size_t len;
    MPT_OK(mp_conn_poll(c, 30));
    MPT_OK(mp_conn_recv_bytes_into(c, buf, 512, &len));
    return len;
}

static void expect(mp_conn *c, const char *want)
{
    unsigned char buf[512];
    size_t len = recv_message(c, buf);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
}

/* The answer Python gives to a challenge payload: "{name}" + HMAC for a
 * modern one, a bare HMAC-MD5 for a legacy one. */
static size_t python_answer(const char *key, const unsigned char *payload, size_t len, bool modern,
                            unsigned char *out)
{
    if (!modern) {
        mp_hmac(MP_DIGEST_MD5, key, strlen(key), payload, len, out);
        return MP_MD5_SIZE;
    }
    memcpy(out, "{sha256}", 8);
    mp_hmac(MP_DIGEST_SHA256, key, strlen(key), payload, len, out + 8);
    return 8 + MP_SHA256_SIZE;
}

/* Receive our side's challenge, check its form, answer it with key as
 * Python 3.12 (modern) or 3.11 would. */
static void answer_ours(mp_conn *c, const char *key, bool modern)
{
    unsigned char m[512], a[64];
    size_t len = recv_message(c, m);
    assert_int_equal(len, MODERN_LEN);
    assert_memory_equal(m, CHALLENGE "{sha256}", 19);
    MPT_OK(mp_conn_send_bytes(c, a, python_answer(key, m + 11, len - 11, modern, a)));
}

/* Challenge our side as Python would, check its answer byte for byte. */
static void challenge_ours(mp_conn *c, bool modern)
{
    unsigned char m[11 + 8 + 40], a[64], got[512];
    memcpy(m, CHALLENGE "{sha256}", 19);
    MPT_OK(mp_os_random(m + 19, 40));
    /* The legacy challenge is 20 random bytes, no prefix. */
    size_t len = modern ? sizeof m : 11 + 20;
    MPT_OK(mp_conn_send_bytes(c, m, len));
    size_t want = python_answer(KEY, m + 11, len - 11, modern, a);
    assert_int_equal(recv_message(c, got), want);
    assert_memory_equal(got, a, want);
}

/* A TCP address and one of this system's local family, which the
 * handshake must not tell apart: only Connection calls are made. */
static void addresses(char out[2][64])
{
    snprintf(out[0], 64, "tcp://127.0.0.1:0");
#ifndef _WIN32
    snprintf(out[1], 64, "unix:@mproc-test-auth-%ld", mp_current_pid());
#else
    snprintf(out[1], 64, "pipe:mproc-test-auth-%ld", mp_current_pid());
#endif
}

static void right_key_thread(void **state)
{
    (void)state;
    char address[2][64];
    addresses(address);
    for (size_t i = 0; i < 2; i++) {
        /* The listener keeps a copy of the key. */
        char key[32];
        snprintf(key, sizeof key, "%s", KEY);
        mp_net_options o = keyed(key, 30);
        mp_listener *l;
        MPT_OK(mp_listener_new(&l, address[i], &o));
        memset(key, 'x', sizeof key - 1);
        client_run r = {mp_listener_address(l), KEY, 30, -1, 0};
        mp_thread *t = start_client(&r);
        mp_conn *c;
        MPT_OK(mp_listener_accept(l, 30, &c));
        ping(c);
        join(t);
        MPT_OK(r.rc);
        MPT_OK(mp_conn_close(c));
        mp_listener_close(l);
    }
}

static int keyed_echo_client(const mp_value *args)
{
    const char *address, *key;
    if (mp_args(args, "ss", &address, &key) != MP_OK)
        return 1;
    client_run r = {address, key, 30, -1, 0};
    return client_thread(&r) == 0 && r.rc == MP_OK ? 0 : 1;
}
MP_TARGET(keyed_echo_client)

static void right_key_child(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        mp_net_options o = keyed(KEY, 60);
        mp_listener *l;
        MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", &o));
        mp_process *p;
        MPT_OK(mp_process_new(&p, keyed_echo_client, mpt_opts(methods[m]), "ss", mp_listener_address(l), KEY));
        MPT_OK(mp_process_start(p));
        mp_conn *c;
        MPT_OK(mp_listener_accept(l, 60, &c));
        ping(c);
        assert_int_equal(mpt_join_child(p), 0);
        MPT_OK(mp_conn_close(c));
        mp_listener_close(l);
    }
}

/* Different keys: the listener's challenge fails, and both ends say so. */
static void wrong_key(void **state)
{
    (void)state;
    char address[2][64];
    addresses(address);
    for (size_t i = 0; i < 2; i++) {
        mp_net_options o = keyed(KEY, 30);
        mp_listener *l;
        MPT_OK(mp_listener_new(&l, address[i], &o));
        client_run r = {mp_listener_address(l), "another key", 30, -1, 0};
        mp_thread *t = start_client(&r);
        mp_conn *c = (mp_conn *)1;
        MPT_CODE(mp_listener_accept(l, 30, &c), MP_EAUTH);
        assert_null(c);
        assert_non_null(strstr(mp_last_error(), "authentication failed"));
        join(t);
        MPT_CODE(r.rc, MP_EAUTH);
        mp_listener_close(l);
    }
    assert_string_equal(mp_errname(MP_EAUTH), "MP_EAUTH");
    assert_string_equal(mp_strerror(MP_EAUTH), "authentication failed");
}

/* A fake server that welcomes any answer, then answers our client's
 * challenge with a wrong key: the client's own check catches it. */
static void wrong_key_caught_by_client(void **state)
{
    (void)state;
    mp_listener *l;
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", NULL));
    client_run r = {mp_listener_address(l), KEY, 30, -1, 0};
    mp_thread *t = start_client(&r);
    mp_conn *c;
    MPT_OK(mp_listener_accept(l, 30, &c));
    challenge_ours(c, true);
    MPT_OK(mp_conn_send_bytes(c, WELCOME, 9));
    answer_ours(c, "another key", true);
    expect(c, FAILURE);
    join(t);
    MPT_CODE(r.rc, MP_EAUTH);
    MPT_OK(mp_conn_close(c));
    mp_listener_close(l);
}

/* A fake client that answers the listener's challenge with a wrong key:
 * the listener says #FAILURE#. */
static int wrong_answer_thread(void *address)
{
    mp_conn *c;
    if (mp_client(&c, address, NULL) != MP_OK)
        return 1;
    answer_ours(c, "another key", true);
    expect(c, FAILURE);
    mp_conn_close(c);
    return 0;
}

static void wrong_key_caught_by_listener(void **state)
{
    (void)state;
    mp_net_options o = keyed(KEY, 30);
    mp_listener *l;
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", &o));
    mp_thread *t;
    MPT_OK(mp_thread_start(&t, wrong_answer_thread, (void *)mp_listener_address(l), "fake"));
    mp_conn *c = (mp_conn *)1;
    MPT_CODE(mp_listener_accept(l, 30, &c), MP_EAUTH);
    assert_null(c);
    join(t);
    mp_listener_close(l);
}

/* Python <= 3.11 as the client: it answers our modern challenge with a
 * bare HMAC-MD5 and challenges with 20 bytes. */
static int legacy_client_thread(void *address)
{
    mp_conn *c;
    if (mp_client(&c, address, NULL) != MP_OK)
        return 1;
    answer_ours(c, KEY, false);
    expect(c, WELCOME);
    challenge_ours(c, false);
    MPT_OK(mp_conn_send_bytes(c, WELCOME, 9));
    ping(c);
    mp_conn_close(c);
    return 0;
}

static void legacy_peers(void **state)
{
    (void)state;
    /* Our listener against a legacy client. */
    mp_net_options o = keyed(KEY, 30);
    mp_listener *l;
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", &o));
    mp_thread *t;
    MPT_OK(mp_thread_start(&t, legacy_client_thread, (void *)mp_listener_address(l), "fake"));
    mp_conn *c;
    MPT_OK(mp_listener_accept(l, 30, &c));
    void *d;
    size_t len;
    MPT_OK(mp_conn_recv_bytes(c, 0, &d, &len));
    MPT_OK(mp_conn_send_bytes(c, d, len));
    free(d);
    join(t);
    MPT_OK(mp_conn_close(c));
    mp_listener_close(l);

    /* Our client against a legacy listener. */
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", NULL));
    client_run r = {mp_listener_address(l), KEY, 30, -1, 0};
    t = start_client(&r);
    MPT_OK(mp_listener_accept(l, 30, &c));
    challenge_ours(c, false);
    MPT_OK(mp_conn_send_bytes(c, WELCOME, 9));
    answer_ours(c, KEY, false);
    expect(c, WELCOME);
    ping(c);
    join(t);
    MPT_OK(r.rc);
    MPT_OK(mp_conn_close(c));
    mp_listener_close(l);
}

/* One end with a key, the other without. */
static void one_side_keyed(void **state)
{
    (void)state;
    /* A keyed listener takes the keyless client's first message for an
     * answer. */
    mp_net_options o = keyed(KEY, 30);
    mp_listener *l;
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", &o));
    mp_conn *k, *c = (mp_conn *)1;
    MPT_OK(mp_client(&k, mp_listener_address(l), NULL));
    MPT_OK(mp_conn_send_bytes(k, "hello", 5));
    MPT_CODE(mp_listener_accept(l, 30, &c), MP_EAUTH);
    assert_null(c);
    MPT_OK(mp_conn_close(k));
    mp_listener_close(l);

    /* A keyed client gets a message that is not a challenge. */
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", NULL));
    client_run r = {mp_listener_address(l), KEY, 30, -1, 0};
    mp_thread *t = start_client(&r);
    MPT_OK(mp_listener_accept(l, 30, &c));
    MPT_OK(mp_conn_send_bytes(c, "hello", 5));
    join(t);
    MPT_CODE(r.rc, MP_EAUTH);
    MPT_OK(mp_conn_close(c));
    mp_listener_close(l);
}

/* What a fake server sends our client first, and the code it must get. */
static void bad_challenge(const void *frames, size_t len, int want)
{
    mp_listener *l;
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", NULL));
    client_run r = {mp_listener_address(l), KEY, 30, -1, 0};
    mp_thread *t = start_client(&r);
    mp_conn *c;
    MPT_OK(mp_listener_accept(l, 30, &c));
    MPT_OK(mp_conn_write(c, frames, len));
    /* Closing now cuts a message short, and cannot hang one that is too
     * long or too short: the client decides on what it has. */
    MPT_OK(mp_conn_close(c));
    join(t);
    MPT_CODE(r.rc, want);
    assert_true(r.took < 20);
    mp_listener_close(l);
}

static void bad_challenges(void **state)
{
    (void)state;
    unsigned char m[4 + 400];
    /* 257 bytes: over Python's cap of 256. */
    size_t h = mp_conn_frame_header(m, 257);
    memcpy(m + h, CHALLENGE, 11);
    memset(m + h + 11, '{', 246);
    bad_challenge(m, h + 257, MP_EPROTO);
    /* Cut: the header says 59 bytes, 20 come. */
    h = mp_conn_frame_header(m, MODERN_LEN);
    memcpy(m + h, CHALLENGE "{sha256}", 19);
    bad_challenge(m, h + 20, MP_EPROTO);
    /* Too short to be a challenge, a digest we lack, no prefix. */
    const char *garbled[] = {CHALLENGE "12345", CHALLENGE "{sha384}0123456789012345678901234567890123456789",
                             CHALLENGE "0123456789012345678901234567890123456789", "#CHALLENGE", ""};
    for (size_t i = 0; i < sizeof garbled / sizeof garbled[0]; i++) {
        size_t len = strlen(garbled[i]);
        h = mp_conn_frame_header(m, len);
        memcpy(m + h, garbled[i], len);
        bad_challenge(m, h + len, MP_EAUTH);
    }
}

/* Peers that say nothing: MP_ETIMEDOUT once the timeout is spent. */
static void silent_peers(void **state)
{
    (void)state;
    mp_net_options o = keyed(KEY, 0.5);
    mp_listener *l;
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", &o));
    mp_conn *k, *c = (mp_conn *)1;
    MPT_OK(mp_client(&k, mp_listener_address(l), NULL));
    double t0 = mp_os_monotonic();
    MPT_CODE(mp_listener_accept(l, 30, &c), MP_ETIMEDOUT);
    double took = mp_os_monotonic() - t0;
    assert_true(took >= 0.4 && took < 10);
    assert_null(c);
    MPT_OK(mp_conn_close(k));
    mp_listener_close(l);

    /* A peer that starts its answer and stops: a frame header of 40 bytes
     * and 3 of them. The listener must not wait for the rest. */
    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", &o));
    MPT_OK(mp_client(&k, mp_listener_address(l), NULL));
    static const unsigned char partial[] = {0, 0, 0, 40, '{', 's', 'h'};
    MPT_OK(mp_conn_write(k, partial, sizeof partial));
    t0 = mp_os_monotonic();
    MPT_CODE(mp_listener_accept(l, 30, &c), MP_ETIMEDOUT);
    took = mp_os_monotonic() - t0;
    assert_true(took >= 0.4 && took < 10);
    MPT_OK(mp_conn_close(k));
    mp_listener_close(l);

    MPT_OK(mp_listener_new(&l, "tcp://127.0.0.1:0", NULL));
    client_run r = {mp_listener_address(l), KEY, 0.5, -1, 0};
    mp_thread *t = start_client(&r);
    MPT_OK(mp_listener_accept(l, 30, &c));
    join(t);
    MPT_CODE(r.rc, MP_ETIMEDOUT);
    assert_true(r.took >= 0.4 && r.took < 10);
    MPT_OK(mp_conn_close(c));
    mp_listener_close(l);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mpt_start_sockets();
    const struct CMUnitTest tests[] = {
        MPT_TEST(right_key_thread),
        MPT_TEST(right_key_child),
        MPT_TEST(wrong_key),
        MPT_TEST(wrong_key_caught_by_client),
        MPT_TEST(wrong_key_caught_by_listener),
        MPT_TEST(legacy_peers),
        MPT_TEST(one_side_keyed),
        MPT_TEST(bad_challenges),
        MPT_TEST(silent_peers),
    };
    return MPT_RUN(tests);
}
