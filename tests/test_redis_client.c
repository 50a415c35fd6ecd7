/* test_redis_client.c - the Redis client against real servers (each test
 * gets fresh ones from the redis fixture, redis_server.h) and against a
 * hostile fake one in a thread: replies of every type, binary and large
 * values, pipelines and MULTI/EXEC, AUTH with a password and with ACL
 * users, SELECT, command and connect timeouts (a BLPOP, a server stopped
 * with SIGSTOP, a write that cannot go), a server killed and restarted
 * (MP_ECONNRESET, then the next call connects again), a fork child that
 * inherits a connection, malformed and oversized replies (MP_EPROTO,
 * MP_ETOOBIG) and bad URLs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"
#include "redis/redis_client.h"
#include "redis_server.h"

static const mp_redis_options quick = {.connect_timeout = 5, .command_timeout = 5};

static mp_redis *open_url(const char *url, const mp_redis_options *opts)
{
    mp_redis *c = NULL;
    MPT_OK(mp_redis_open(&c, url, opts));
    return c;
}

/* url with suffix appended ("/3", or a userinfo put in front of the host). */
static const char *with(const mpt_redis *srv, const char *userinfo, const char *suffix)
{
    static char url[256];
    snprintf(url, sizeof url, "redis://%s127.0.0.1:%u%s", userinfo, srv->port, suffix);
    return url;
}

/* A command of C strings; want is the code it must give. */
#define CALL(c, want, ...) call_((c), (want), (const char *[]){__VA_ARGS__, NULL}, __LINE__)
static mp_resp_reply *call_(mp_redis *c, int want, const char *const *args, int line)
{
    mp_resp_arg argv[16] = {{NULL, 0}};
    size_t n = 0;
    for (; args[n] != NULL && n < 16; n++)
        argv[n] = (mp_resp_arg){args[n], strlen(args[n])};
    mp_resp_reply *r = NULL;
    int rc = mp_redis_call(c, n, argv, &r);
    if (rc != want)
        fail_msg("line %d: %s %s gave %s, not %s: %s", line, args[0], n > 1 ? args[1] : "", mp_errname(rc),
                 mp_errname(want), mp_last_error());
    if (rc != MP_OK)
        assert_null(r);
    return r;
}

static void expect(mp_resp_reply *r, mp_resp_type type, const char *str)
{
    assert_non_null(r);
    assert_int_equal(r->type, type);
    if (str != NULL) {
        assert_int_equal(r->len, strlen(str));
        assert_string_equal(r->str, str);
    }
    mp_resp_free(r);
}

static void expect_int(mp_resp_reply *r, int64_t v)
{
    assert_non_null(r);
    assert_int_equal(r->type, MP_RESP_INTEGER);
    assert_true(r->integer == v);
    mp_resp_free(r);
}

static void every_reply_type(void **state)
{
    (void)state;
    mpt_redis srv;
    mpt_redis_start(&srv);
    mp_redis *c = open_url(srv.url, NULL);
    assert_string_equal(mp_redis_path(c), "");
    expect(CALL(c, MP_OK, "PING"), MP_RESP_STATUS, "PONG");
    expect(CALL(c, MP_OK, "SET", "k", "v"), MP_RESP_STATUS, "OK");
    expect(CALL(c, MP_OK, "GET", "k"), MP_RESP_BULK, "v");
    expect(CALL(c, MP_OK, "GET", "missing"), MP_RESP_NIL, NULL);
    expect_int(CALL(c, MP_OK, "INCR", "n"), 1);
    expect_int(CALL(c, MP_OK, "RPUSH", "l", "a", "b", "c"), 3);

    mp_resp_reply *r = CALL(c, MP_OK, "LRANGE", "l", "0", "-1");
    assert_int_equal(r->type, MP_RESP_ARRAY);
    assert_int_equal(r->len, 3);
    assert_string_equal(r->items[2].str, "c");
    mp_resp_free(r);
    expect(CALL(c, MP_OK, "LRANGE", "missing", "0", "-1"), MP_RESP_ARRAY, NULL);

    /* Nested arrays, a status and a nil among them, from Lua. */
    r = CALL(c, MP_OK, "EVAL", "return {1, {2, 'x'}, redis.status_reply('fine'), false}", "0");
    assert_int_equal(r->type, MP_RESP_ARRAY);
    assert_int_equal(r->len, 4);
    assert_true(r->items[0].integer == 1);
    assert_int_equal(r->items[1].type, MP_RESP_ARRAY);
    assert_string_equal(r->items[1].items[1].str, "x");
    assert_int_equal(r->items[2].type, MP_RESP_STATUS);
    assert_int_equal(r->items[3].type, MP_RESP_NIL);
    mp_resp_free(r);

    /* An error reply is MP_EREMOTE with the server's message, and the
     * connection stays good. */
    CALL(c, MP_EREMOTE, "INCR", "k");
    assert_true(strncmp(mp_last_error(), "ERR value is not an integer", 27) == 0);
    CALL(c, MP_EREMOTE, "LPUSH", "k", "x");
    assert_true(strncmp(mp_last_error(), "WRONGTYPE ", 10) == 0);
    CALL(c, MP_EREMOTE, "NOSUCHCOMMAND");
    expect(CALL(c, MP_OK, "GET", "k"), MP_RESP_BULK, "v");

    MPT_OK(mp_redis_callv(c, &r, "ECHO", "hi", (const char *)NULL));
    expect(r, MP_RESP_BULK, "hi");
    MPT_CODE(mp_redis_call(c, 0, NULL, &r), MP_EINVAL);
    MPT_CODE(mp_redis_call(c, 1, NULL, &r), MP_EINVAL);
    MPT_CODE(mp_redis_pipeline(c, 0, NULL, 1.0, &r), MP_EINVAL);
    expect(CALL(c, MP_OK, "PING"), MP_RESP_STATUS, "PONG");
    mp_redis_free(c);
    mp_redis_free(NULL);
    mpt_redis_do(&srv, "close");
}

static void binary_and_large_values(void **state)
{
    (void)state;
    mpt_redis srv;
    mpt_redis_start(&srv);
    mp_redis *c = open_url(srv.url, NULL);
    unsigned char every[256];
    for (int i = 0; i < 256; i++)
        every[i] = (unsigned char)i;
    mp_resp_arg set[] = {{"SET", 3}, {"k\0\r\n", 4}, {every, sizeof every}};
    mp_resp_arg get[] = {{"GET", 3}, {"k\0\r\n", 4}};
    mp_resp_reply *r;
    MPT_OK(mp_redis_call(c, 3, set, &r));
    mp_resp_free(r);
    MPT_OK(mp_redis_call(c, 2, get, &r));
    assert_int_equal(r->len, sizeof every);
    assert_memory_equal(r->str, every, sizeof every);
    mp_resp_free(r);

    set[2] = (mp_resp_arg){"", 0};
    MPT_OK(mp_redis_call(c, 3, set, &r));
    mp_resp_free(r);
    MPT_OK(mp_redis_call(c, 2, get, &r));
    expect(r, MP_RESP_BULK, "");

    /* 24 MiB each way: the input buffer grows as the bytes come. */
    size_t big = (size_t)24 << 20;
    unsigned char *value = malloc(big);
    for (size_t i = 0; i < big; i++)
        value[i] = (unsigned char)(i * 7 + (i >> 20));
    set[2] = (mp_resp_arg){value, big};
    MPT_OK(mp_redis_call(c, 3, set, &r));
    mp_resp_free(r);
    MPT_OK(mp_redis_call(c, 2, get, &r));
    assert_int_equal(r->type, MP_RESP_BULK);
    assert_int_equal(r->len, big);
    assert_memory_equal(r->str, value, big);
    mp_resp_free(r);

    /* The same against a client whose limit is below it. */
    mp_redis_options small = {.limits = {.max_bulk = big - 1}};
    mp_redis *s = open_url(srv.url, &small);
    MPT_CODE(mp_redis_call(s, 2, get, &r), MP_ETOOBIG);
    assert_null(r);
    expect(CALL(s, MP_OK, "PING"), MP_RESP_STATUS, "PONG"); /* connected again */
    mp_redis_free(s);
    free(value);
    mp_redis_free(c);
    mpt_redis_do(&srv, "close");
}

static void pipelines(void **state)
{
    (void)state;
    mpt_redis srv;
    mpt_redis_start(&srv);
    mp_redis *c = open_url(srv.url, NULL);
    enum { N = 1000 };
    static mp_redis_cmd cmds[N];
    static mp_resp_reply *replies[N];
    static const mp_resp_arg incr[] = {{"INCR", 4}, {"ctr", 3}};
    for (size_t i = 0; i < N; i++)
        cmds[i] = (mp_redis_cmd){2, incr};
    MPT_OK(mp_redis_pipeline(c, N, cmds, 10.0, replies));
    for (size_t i = 0; i < N; i++)
        expect_int(replies[i], (int64_t)i + 1);

    /* An error among the replies is that reply's, not the pipeline's. */
    const mp_resp_arg set[] = {{"SET", 3}, {"s", 1}, {"x", 1}}, bad[] = {{"INCR", 4}, {"s", 1}},
                      get[] = {{"GET", 3}, {"s", 1}};
    mp_redis_cmd mixed[] = {{3, set}, {2, bad}, {2, get}};
    MPT_OK(mp_redis_pipeline(c, 3, mixed, 10.0, replies));
    MPT_OK(mp_redis_check(replies[0]));
    MPT_CODE(mp_redis_check(replies[1]), MP_EREMOTE);
    assert_true(strncmp(mp_last_error(), "ERR ", 4) == 0);
    expect(replies[0], MP_RESP_STATUS, "OK");
    expect(replies[1], MP_RESP_ERROR, NULL);
    expect(replies[2], MP_RESP_BULK, "x");

    /* MULTI/EXEC: the queued commands' replies come in EXEC's array. */
    const mp_resp_arg multi[] = {{"MULTI", 5}}, add[] = {{"INCR", 4}, {"t", 1}}, exec[] = {{"EXEC", 4}};
    mp_redis_cmd tx[] = {{1, multi}, {2, add}, {2, add}, {1, exec}};
    MPT_OK(mp_redis_pipeline(c, 4, tx, 10.0, replies));
    expect(replies[0], MP_RESP_STATUS, "OK");
    expect(replies[1], MP_RESP_STATUS, "QUEUED");
    expect(replies[2], MP_RESP_STATUS, "QUEUED");
    assert_int_equal(replies[3]->type, MP_RESP_ARRAY);
    assert_int_equal(replies[3]->len, 2);
    assert_true(replies[3]->items[1].integer == 2);
    mp_resp_free(replies[3]);
    mp_redis_free(c);
    mpt_redis_do(&srv, "close");
}

static void auth_with_a_password(void **state)
{
    (void)state;
    mpt_redis srv;
    mpt_redis_start(&srv);
    mp_redis *admin = open_url(srv.url, NULL);
    expect(CALL(admin, MP_OK, "CONFIG", "SET", "requirepass", "s3cret:@/"), MP_RESP_STATUS, "OK");
    mp_redis *c = NULL;
    MPT_CODE(mp_redis_open(&c, srv.url, NULL), MP_EAUTH);
    assert_non_null(strstr(mp_last_error(), "NOAUTH"));
    assert_null(c);
    MPT_CODE(mp_redis_open(&c, with(&srv, ":wrong@", ""), NULL), MP_EAUTH);
    assert_non_null(strstr(mp_last_error(), "WRONGPASS"));
    MPT_CODE(mp_redis_open(&c, with(&srv, "s3cret@", ""), NULL), MP_EAUTH); /* a password alone, wrong */
    c = open_url(with(&srv, ":s3cret%3A%40%2F@", "/0/q"), NULL);
    expect(CALL(c, MP_OK, "PING"), MP_RESP_STATUS, "PONG");
    assert_string_equal(mp_redis_path(c), "q");
    mp_redis_free(c);
    c = open_url(with(&srv, ":s3cret%3A@%2F@", ""), NULL); /* a raw '@', as redis-cli allows */
    mp_redis_free(c);

    /* A refused AUTH as a command is MP_EAUTH too; the connection keeps
     * the user it had. */
    CALL(admin, MP_EAUTH, "AUTH", "nope");
    assert_non_null(strstr(mp_last_error(), "WRONGPASS"));
    expect(CALL(admin, MP_OK, "CONFIG", "SET", "requirepass", ""), MP_RESP_STATUS, "OK");
    c = open_url(srv.url, NULL);
    mp_redis_free(c);
    mp_redis_free(admin);
    mpt_redis_do(&srv, "close");
}

static void auth_with_acl_users(void **state)
{
    (void)state;
    mpt_redis srv;
    mpt_redis_start(&srv);
    mp_redis *admin = open_url(srv.url, NULL);
    expect(CALL(admin, MP_OK, "ACL", "SETUSER", "alice", "on", ">wonder%land", "~*", "&*", "+@all"),
           MP_RESP_STATUS, "OK");
    expect(CALL(admin, MP_OK, "ACL", "SETUSER", "carol", "on", ">pw", "~carol:*", "+get", "+set", "+ping"),
           MP_RESP_STATUS, "OK");

    mp_redis *c = open_url(with(&srv, "alice:wonder%25land@", "/2"), NULL);
    expect(CALL(c, MP_OK, "ACL", "WHOAMI"), MP_RESP_BULK, "alice");
    mp_redis_free(c);
    MPT_CODE(mp_redis_open(&c, with(&srv, "alice:nope@", ""), NULL), MP_EAUTH);
    assert_non_null(strstr(mp_last_error(), "WRONGPASS"));
    MPT_CODE(mp_redis_open(&c, with(&srv, "nobody:x@", ""), NULL), MP_EAUTH);

    /* What an ACL forbids is the server's error, not an AUTH failure. */
    c = open_url(with(&srv, "carol:pw@", ""), NULL);
    expect(CALL(c, MP_OK, "SET", "carol:1", "x"), MP_RESP_STATUS, "OK");
    CALL(c, MP_EREMOTE, "SET", "other", "x");
    assert_true(strncmp(mp_last_error(), "NOPERM ", 7) == 0);
    mp_redis_free(c);

    expect_int(CALL(admin, MP_OK, "ACL", "DELUSER", "alice", "carol"), 2);
    MPT_CODE(mp_redis_open(&c, with(&srv, "alice:wonder%25land@", ""), NULL), MP_EAUTH);
    mp_redis_free(admin);
    mpt_redis_do(&srv, "close");
}

static void select_db(void **state)
{
    (void)state;
    mpt_redis srv;
    mpt_redis_start(&srv);
    mp_redis *c3 = open_url(with(&srv, "", "/3"), NULL);
    expect(CALL(c3, MP_OK, "SET", "k", "three"), MP_RESP_STATUS, "OK");
    mp_redis *c0 = open_url(with(&srv, "", "/"), NULL);
    expect(CALL(c0, MP_OK, "GET", "k"), MP_RESP_NIL, NULL);
    mp_redis *again = open_url(with(&srv, "", "/3/some/name"), NULL);
    expect(CALL(again, MP_OK, "GET", "k"), MP_RESP_BULK, "three");
    assert_string_equal(mp_redis_path(again), "some/name");
    mp_redis *c = NULL;
    MPT_CODE(mp_redis_open(&c, with(&srv, "", "/99"), NULL), MP_EREMOTE);
    assert_non_null(strstr(mp_last_error(), "out of range"));

    /* A connection made again selects its db again. */
    mpt_redis_do(&srv, "kill");
    CALL(c3, MP_ECONNRESET, "GET", "k");
    mpt_redis_do(&srv, "restart");
    expect(CALL(c3, MP_OK, "SET", "k", "again"), MP_RESP_STATUS, "OK");
    CALL(c0, MP_ECONNRESET, "GET", "k");
    expect(CALL(c0, MP_OK, "GET", "k"), MP_RESP_NIL, NULL);
    CALL(again, MP_ECONNRESET, "GET", "k");
    expect(CALL(again, MP_OK, "GET", "k"), MP_RESP_BULK, "again");
    mp_redis_free(again);
    mp_redis_free(c3);
    mp_redis_free(c0);
    mpt_redis_do(&srv, "close");
}

static double since(double t0)
{
    return mp_os_monotonic() - t0;
}

static void timeouts(void **state)
{
    (void)state;
    mpt_redis srv;
    mpt_redis_start(&srv);
    mp_redis_options opts = {.connect_timeout = 0.5, .command_timeout = 0.3};
    mp_redis *c = open_url(srv.url, &opts), *writer = open_url(srv.url, &opts);
    double t0 = mp_os_monotonic();
    CALL(c, MP_ETIMEDOUT, "BLPOP", "nothing", "5");
    assert_true(since(t0) >= 0.25 && since(t0) < 3);
    /* Connected again: PING's reply, not BLPOP's late one. */
    expect(CALL(c, MP_OK, "PING"), MP_RESP_STATUS, "PONG");

    /* A pipeline's own timeout lets a blocking command block. */
    const mp_resp_arg blpop[] = {{"BLPOP", 5}, {"nothing", 7}, {"0.5", 3}};
    mp_redis_cmd cmd = {3, blpop};
    mp_resp_reply *r;
    MPT_OK(mp_redis_pipeline(c, 1, &cmd, 5.0, &r));
    expect(r, MP_RESP_NIL, NULL);

    /* A server that hangs: calls and connects time out, and all is well
     * once it goes on. */
    mpt_redis_do(&srv, "stop");
    t0 = mp_os_monotonic();
    CALL(c, MP_ETIMEDOUT, "PING");
    assert_true(since(t0) < 3);
    mp_redis *other = NULL;
    t0 = mp_os_monotonic();
    MPT_CODE(mp_redis_open(&other, srv.url, &opts), MP_ETIMEDOUT);
    assert_true(since(t0) >= 0.4 && since(t0) < 3);
    /* A write the server never takes: 64 MiB fill every buffer on the way. */
    size_t big = (size_t)64 << 20;
    char *value = calloc(1, big);
    const mp_resp_arg set[] = {{"SET", 3}, {"big", 3}, {value, big}};
    cmd = (mp_redis_cmd){3, set};
    t0 = mp_os_monotonic();
    MPT_CODE(mp_redis_pipeline(writer, 1, &cmd, 1.0, &r), MP_ETIMEDOUT);
    assert_non_null(strstr(mp_last_error(), "send: timed out"));
    assert_true(since(t0) >= 0.9 && since(t0) < 5);
    free(value);
    mpt_redis_do(&srv, "cont");
    expect(CALL(c, MP_OK, "PING"), MP_RESP_STATUS, "PONG");
    expect_int(CALL(writer, MP_OK, "EXISTS", "big"), 0); /* the cut command never ran */
    mp_redis_free(writer);
    mp_redis_free(c);
    mpt_redis_do(&srv, "close");
}

static void killed_and_restarted(void **state)
{
    (void)state;
    mpt_redis srv;
    mpt_redis_start(&srv);
    mp_redis *c = open_url(srv.url, &quick);
    expect(CALL(c, MP_OK, "SET", "k", "v"), MP_RESP_STATUS, "OK");
    mpt_redis_do(&srv, "kill");
    CALL(c, MP_ECONNRESET, "GET", "k"); /* the connection dropped under it */
    CALL(c, MP_ECONNRESET, "GET", "k"); /* nothing to connect to */
    assert_non_null(strstr(mp_last_error(), "cannot connect"));
    mp_redis *other = NULL;
    MPT_CODE(mp_redis_open(&other, srv.url, &quick), MP_ECONNRESET);
    mpt_redis_do(&srv, "restart");
    expect(CALL(c, MP_OK, "GET", "k"), MP_RESP_NIL, NULL); /* a new server: persistence is off */
    expect(CALL(c, MP_OK, "PING"), MP_RESP_STATUS, "PONG");
    mp_redis_free(c);
    mpt_redis_do(&srv, "close");
}

/* ---- a child made by fork ---------------------------------------------- */

static mp_redis *inherited;

/* Use the parent's connection: it must connect anew, and leave the
 * parent's alone. */
static int use_inherited(const mp_value *args)
{
    int64_t parent_id = 0;
    int rc = mp_args(args, "q", &parent_id);
    mp_resp_reply *r = NULL;
    if (rc == MP_OK)
        rc = mp_redis_callv(inherited, &r, "CLIENT", "ID", (const char *)NULL);
    int ok = rc == MP_OK && r->type == MP_RESP_INTEGER && r->integer != parent_id;
    mp_resp_free(r);
    mp_redis_free(inherited);
    return ok ? 0 : 1;
}
MP_TARGET(use_inherited)

static void fork_child_connects_anew(void **state)
{
    (void)state;
    mp_start_method methods[3];
    bool has_fork = false;
    for (size_t i = 0, n = mpt_methods(methods); i < n; i++)
        has_fork = has_fork || methods[i] == MP_START_FORK;
    if (!has_fork) {
        printf("no fork on this system: nothing to inherit\n");
        return;
    }
    mpt_redis srv;
    mpt_redis_start(&srv);
    inherited = open_url(srv.url, &quick);
    mp_resp_reply *r = CALL(inherited, MP_OK, "CLIENT", "ID");
    int64_t id = r->integer;
    mp_resp_free(r);
    mp_process *p;
    MPT_OK(mp_process_new(&p, use_inherited, mpt_opts(MP_START_FORK), "q", id));
    assert_int_equal(mpt_run_child(p), 0);
    expect_int(CALL(inherited, MP_OK, "CLIENT", "ID"), id);
    mp_redis_free(inherited);
    mpt_redis_do(&srv, "close");
}

/* ---- a hostile server -------------------------------------------------- */

/* A fake server: it answers each request with the next script entry,
 * then, unless hang_up, waits for the client to go. */
typedef struct fake {
    mp_os_handle listener;
    unsigned port;
    const mp_resp_arg *script;
    size_t n;
    bool hang_up;
    mp_thread *thread;
} fake;

static int fake_serve(void *arg)
{
    fake *f = arg;
    mp_os_handle s;
    if (mp_os_socket_accept(f->listener, 10.0, &s) != MP_OK)
        return 1;
    char buf[4096];
    size_t got;
    for (size_t i = 0; i < f->n; i++)
        if (mp_os_socket_poll(s, 10.0) != MP_OK ||
            mp_os_socket_read_some(s, buf, sizeof buf, &got) != MP_OK ||
            mp_os_socket_write(s, f->script[i].data, f->script[i].len) != MP_OK)
            break;
    while (!f->hang_up && mp_os_socket_poll(s, 10.0) == MP_OK &&
           mp_os_socket_read_some(s, buf, sizeof buf, &got) == MP_OK)
        ;
    mp_os_socket_close(s);
    return 0;
}

static void fake_start(fake *f, const mp_resp_arg *script, size_t n, bool hang_up)
{
    *f = (fake){.script = script, .n = n, .hang_up = hang_up};
    mp_os_endpoint ep = {.family = MP_OS_TCP, .host = "127.0.0.1", .port = 0};
    MPT_OK(mp_os_socket_listen(&ep, 4, &f->listener));
    char address[MP_OS_ADDRESS_SIZE];
    MPT_OK(mp_os_socket_address(f->listener, address, sizeof address));
    assert_int_equal(sscanf(address, "tcp://127.0.0.1:%u", &f->port), 1);
    MPT_OK(mp_thread_start(&f->thread, fake_serve, f, "fake redis"));
}

static void fake_end(fake *f)
{
    int result = -1;
    MPT_OK(mp_thread_join(f->thread, 30.0, &result));
    assert_int_equal(result, 0);
    mp_os_socket_close(f->listener);
}

/* Open a client on a fake server with this script: the open's code, and
 * with a first reply "+PONG", the code of a GET after it. */
static void against(const mp_resp_arg *script, size_t n, bool hang_up, int want_open, int want_call,
                    const mp_redis_options *opts)
{
    fake f;
    fake_start(&f, script, n, hang_up);
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%u", f.port);
    mp_redis *c = NULL;
    int rc = mp_redis_open(&c, url, opts);
    if (rc != want_open)
        fail_msg("open on \"%.20s\": %s, not %s: %s", (const char *)script[0].data, mp_errname(rc),
                 mp_errname(want_open), mp_last_error());
    if (c != NULL) {
        mp_resp_reply *r = (mp_resp_reply *)1;
        const mp_resp_arg get[] = {{"GET", 3}, {"k", 1}};
        rc = mp_redis_call(c, 2, get, &r);
        if (rc != want_call)
            fail_msg("call on \"%.20s\": %s, not %s: %s", (const char *)script[n - 1].data, mp_errname(rc),
                     mp_errname(want_call), mp_last_error());
        assert_null(r);
        mp_redis_free(c);
    }
    fake_end(&f);
}

#define A(lit)                                                                                               \
    {                                                                                                        \
        lit, sizeof lit - 1                                                                                  \
    }
static const mp_resp_arg pong = A("+PONG\r\n");

static void hostile_server(void **state)
{
    (void)state;
    mp_redis_options opts = {.connect_timeout = 2, .command_timeout = 0.5};
    static const struct {
        mp_resp_arg reply;
        int code;
    } at_open[] = {
        {A("hello\r\n"), MP_EPROTO},
        {A("$99999999999\r\n"), MP_ETOOBIG},
        {A("*1000000000\r\n"), MP_ETOOBIG},
        {A("$3\r\nabcXY"), MP_EPROTO},
        {A("+PONG\r\n+PONG\r\n"), MP_EPROTO},
        {A(">2\r\n+pubsub\r\n+x\r\n"), MP_EPROTO},
        {A("-NOAUTH Authentication required.\r\n"), MP_EAUTH},
        {A("-ERR unknown command 'PING'\r\n"), MP_EREMOTE},
        {A("*2\r\n:1\r\n"), MP_ECONNRESET}, /* then it hangs up */
    };
    for (size_t i = 0; i < sizeof at_open / sizeof at_open[0]; i++)
        against(&at_open[i].reply, 1, at_open[i].code == MP_ECONNRESET, at_open[i].code, 0, &opts);

    char *nest = malloc(100 * 4 + 1), *line = malloc(100 << 10);
    nest[0] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(nest, "*1\r\n");
    line[0] = '+';
    memset(line + 1, 'a', (100 << 10) - 1);
    const mp_resp_arg deep = {nest, strlen(nest)}, long_line = {line, 100 << 10};
    against(&deep, 1, false, MP_ETOOBIG, 0, &opts);
    against(&long_line, 1, false, MP_ETOOBIG, 0, &opts);
    free(nest);
    free(line);

    const mp_resp_arg stalls[] = {pong, A("$10\r\nabc")}, bad_int[] = {pong, A(":12x\r\n")},
                      over[] = {pong, A("$17\r\n01234567890123456\r\n")};
    against(stalls, 2, false, MP_OK, MP_ETIMEDOUT, &opts);
    against(stalls, 2, true, MP_OK, MP_ECONNRESET, &opts);
    against(bad_int, 2, false, MP_OK, MP_EPROTO, &opts);
    mp_redis_options tight = {.command_timeout = 5, .limits = {.max_bulk = 16}};
    against(over, 2, false, MP_OK, MP_ETOOBIG, &tight);
}

static void bad_urls(void **state)
{
    (void)state;
    mp_redis *c = (mp_redis *)1;
    MPT_CODE(mp_redis_open(&c, "http://127.0.0.1:6379", NULL), MP_EINVAL);
    assert_null(c);
    MPT_CODE(mp_redis_open(&c, "redis://127.0.0.1:99999", NULL), MP_EINVAL);
    MPT_CODE(mp_redis_open(&c, "redis://127.0.0.1/zero", NULL), MP_EINVAL);
    MPT_CODE(mp_redis_open(&c, NULL, NULL), MP_EINVAL);
    MPT_CODE(mp_redis_open(NULL, "redis://127.0.0.1", NULL), MP_EINVAL);
    MPT_CODE(mp_redis_open(&c, "rediss://127.0.0.1:6380", NULL), MP_EUNSUPPORTED);
    mp_redis_options deep = {.limits = {.max_depth = MP_RESP_DEPTH_MAX + 1}};
    MPT_CODE(mp_redis_open(&c, "redis://127.0.0.1", &deep), MP_EINVAL);
    assert_null(c);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mpt_start_sockets();
    const struct CMUnitTest tests[] = {
        MPT_TEST(every_reply_type),
        MPT_TEST(binary_and_large_values),
        MPT_TEST(pipelines),
        MPT_TEST(auth_with_a_password),
        MPT_TEST(auth_with_acl_users),
        MPT_TEST(select_db),
        MPT_TEST(timeouts),
        MPT_TEST(killed_and_restarted),
        MPT_TEST(fork_child_connects_anew),
        MPT_TEST(hostile_server),
        MPT_TEST(bad_urls),
    };
    return MPT_RUN(tests);
}
