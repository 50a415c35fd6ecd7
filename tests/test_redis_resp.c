/* test_redis_resp.c - the Redis client's parts that need no server: RESP2
 * commands byte for byte, replies of every type whole and a byte at a time,
 * malformed replies (MP_EPROTO) and replies beyond each limit (MP_ETOOBIG,
 * told from the first bytes, before the rest arrives), and redis:// URLs. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "redis/resp.h"
#include "redis/url.h"

#define S(lit) lit, sizeof lit - 1

static void command_bytes(void **state)
{
    (void)state;
    mp_buf b = MP_BUF_INIT;
    mp_resp_arg argv[] = {{"SET", 3}, {"k", 1}, {"a\0\r\nb", 5}, {NULL, 0}};
    MPT_OK(mp_resp_command(&b, 4, argv));
    static const char want[] = "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0\r\nb\r\n$0\r\n\r\n";
    assert_int_equal(b.len, sizeof want - 1);
    assert_memory_equal(b.data, want, sizeof want - 1);
    MPT_CODE(mp_resp_command(&b, 0, argv), MP_EINVAL);
    mp_resp_arg null_data = {NULL, 3};
    MPT_CODE(mp_resp_command(&b, 1, &null_data), MP_EINVAL);
    assert_int_equal(b.len, sizeof want - 1); /* a refused command adds nothing */
    mp_buf_free(&b);
}

/* Parse data whole: the code, and the tree on MP_OK. */
static int parse(const char *data, size_t len, const mp_resp_limits *limits, mp_resp_reply **out)
{
    mp_resp_parser p;
    MPT_OK(mp_resp_parser_init(&p, limits));
    size_t used = 0;
    int rc = mp_resp_parse(&p, data, len, out, &used);
    if (rc == MP_OK)
        assert_int_equal(used, len);
    return rc;
}

static void every_type(void **state)
{
    (void)state;
    mp_resp_reply *r;
    MPT_OK(parse(S("+OK\r\n"), NULL, &r));
    assert_int_equal(r->type, MP_RESP_STATUS);
    assert_string_equal(r->str, "OK");
    mp_resp_free(r);

    MPT_OK(parse(S("-WRONGTYPE Operation against a key\r\n"), NULL, &r));
    assert_int_equal(r->type, MP_RESP_ERROR);
    assert_true(mp_resp_is_error(r, "WRONGTYPE"));
    assert_false(mp_resp_is_error(r, "WRONG"));
    mp_resp_free(r);

    MPT_OK(parse(S(":-9223372036854775808\r\n"), NULL, &r));
    assert_int_equal(r->type, MP_RESP_INTEGER);
    assert_true(r->integer == INT64_MIN);
    mp_resp_free(r);
    MPT_OK(parse(S(":9223372036854775807\r\n"), NULL, &r));
    assert_true(r->integer == INT64_MAX);
    mp_resp_free(r);

    MPT_OK(parse(S("$5\r\na\0\r\nb\r\n"), NULL, &r));
    assert_int_equal(r->type, MP_RESP_BULK);
    assert_int_equal(r->len, 5);
    assert_memory_equal(r->str, "a\0\r\nb", 6); /* and the NUL after */
    mp_resp_free(r);

    MPT_OK(parse(S("$0\r\n\r\n"), NULL, &r));
    assert_int_equal(r->type, MP_RESP_BULK);
    assert_int_equal(r->len, 0);
    assert_string_equal(r->str, "");
    mp_resp_free(r);

    const char *nils[] = {"$-1\r\n", "*-1\r\n"};
    for (size_t i = 0; i < 2; i++) {
        MPT_OK(parse(nils[i], strlen(nils[i]), NULL, &r));
        assert_int_equal(r->type, MP_RESP_NIL);
        mp_resp_free(r);
    }

    MPT_OK(parse(S("*0\r\n"), NULL, &r));
    assert_int_equal(r->type, MP_RESP_ARRAY);
    assert_int_equal(r->len, 0);
    mp_resp_free(r);
}

static const char nested[] = "*4\r\n*2\r\n:1\r\n*1\r\n$1\r\nx\r\n*0\r\n$-1\r\n+end\r\n";

static void check_nested(const mp_resp_reply *r)
{
    assert_int_equal(r->type, MP_RESP_ARRAY);
    assert_int_equal(r->len, 4);
    const mp_resp_reply *a = &r->items[0];
    assert_int_equal(a->type, MP_RESP_ARRAY);
    assert_int_equal(a->len, 2);
    assert_true(a->items[0].integer == 1);
    assert_int_equal(a->items[1].type, MP_RESP_ARRAY);
    assert_string_equal(a->items[1].items[0].str, "x");
    assert_int_equal(r->items[1].type, MP_RESP_ARRAY);
    assert_int_equal(r->items[1].len, 0);
    assert_int_equal(r->items[2].type, MP_RESP_NIL);
    assert_string_equal(r->items[3].str, "end");
}

/* The reply a byte at a time, in a buffer that moves on every call (as a
 * growing one may): MP_RESP_MORE until the last byte, then the same tree;
 * two replies back to back come apart at the first one's end. */
static void incremental(void **state)
{
    (void)state;
    mp_resp_parser p;
    MPT_OK(mp_resp_parser_init(&p, NULL));
    size_t n = sizeof nested - 1, used = 0;
    mp_resp_reply *r = NULL;
    for (size_t have = 0; have < n; have++) {
        char *moving = malloc(have + 1);
        memcpy(moving, nested, have);
        int rc = mp_resp_parse(&p, moving, have, &r, &used);
        free(moving);
        assert_int_equal(rc, MP_RESP_MORE);
        assert_null(r);
        assert_true(p.want > have && p.want <= n);
    }
    MPT_OK(mp_resp_parse(&p, nested, n, &r, &used));
    assert_int_equal(used, n);
    check_nested(r);
    mp_resp_free(r);

    char two[2 * sizeof nested];
    memcpy(two, nested, n);
    memcpy(two + n, "+OK\r\n", 5);
    MPT_OK(mp_resp_parse(&p, two, n + 5, &r, &used));
    assert_int_equal(used, n);
    mp_resp_free(r);
    MPT_OK(mp_resp_parse(&p, two + used, 5, &r, &used));
    assert_string_equal(r->str, "OK");
    mp_resp_free(r);

    /* A bulk string's header tells how much is needed. */
    MPT_CODE(mp_resp_parse(&p, S("$1000\r\nabc"), &r, &used), MP_RESP_MORE);
    assert_int_equal(p.want, 7 + 1000 + 2);
}

static void malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "?x\r\n",
        "+a\rb\r\n",
        ":12a\r\n",
        ":\r\n",
        ":-\r\n",
        ":+1\r\n",
        ":99999999999999999999\r\n",
        "$-2\r\n",
        "$\r\n",
        "$3\r\nabcd\r\n",
        "+a\nb\r\n",
        "*-2\r\n",
        "*x\r\n",
        "+ok\n",
        "\n",
        "%1\r\n",
        "_\r\n",
        ",1.5\r\n",
        "*2\r\n:1\r\n!\r\n",
        ">1\r\n",
        "$2\r\nab\r\r",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mp_resp_reply *r = (mp_resp_reply *)1;
        int rc = parse(bad[i], strlen(bad[i]), NULL, &r);
        if (rc != MP_EPROTO)
            fail_msg("\"%s\": %s, not MP_EPROTO", bad[i], mp_errname(rc));
        assert_null(r);
    }
}

/* Each bound, told as soon as the bytes show it. */
static void limits(void **state)
{
    (void)state;
    mp_resp_reply *r;
    mp_resp_limits small = {
        .max_bulk = 10, .max_line = 8, .max_reply = 64, .max_elements = 4, .max_depth = 2};
    MPT_OK(parse(S("$10\r\n0123456789\r\n"), &small, &r));
    mp_resp_free(r);
    MPT_CODE(parse(S("$11\r\n"), &small, &r), MP_ETOOBIG);
    MPT_CODE(parse(S("$999999999999\r\n"), NULL, &r), MP_ETOOBIG); /* above 512 MiB, by default */
    MPT_OK(parse(S("+12345678\r\n"), &small, &r));
    mp_resp_free(r);
    MPT_CODE(parse(S("+123456789"), &small, &r), MP_ETOOBIG); /* no CRLF in sight */
    MPT_CODE(parse(S("*2\r\n*1\r\n*1\r\n:1\r\n"), &small, &r), MP_ETOOBIG);
    MPT_OK(parse(S("*2\r\n*1\r\n:1\r\n:2\r\n"), &small, &r));
    mp_resp_free(r);
    MPT_CODE(parse(S("*4\r\n"), &small, &r), MP_ETOOBIG); /* five values */
    MPT_CODE(parse(S("*1000000000\r\n"), NULL, &r), MP_ETOOBIG);
    mp_resp_limits short_reply = {.max_reply = 40};
    MPT_CODE(
        parse(S("*3\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n"), &short_reply, &r),
        MP_ETOOBIG); /* 55 bytes */

    /* A deep nest, by default (16). */
    char deep[17 * 4 + 8] = "";
    for (int i = 0; i < 17; i++)
        strcat(deep, "*1\r\n");
    strcat(deep, ":1\r\n");
    MPT_CODE(parse(deep, strlen(deep), NULL, &r), MP_ETOOBIG);
    mp_resp_limits deeper = {.max_depth = 17};
    MPT_OK(parse(deep, strlen(deep), &deeper, &r));
    mp_resp_free(r);
    mp_resp_parser p;
    mp_resp_limits too_deep = {.max_depth = MP_RESP_DEPTH_MAX + 1};
    MPT_CODE(mp_resp_parser_init(&p, &too_deep), MP_EINVAL);
}

static void good_urls(void **state)
{
    (void)state;
    mp_redis_url u;
    MPT_OK(mp_redis_url_parse("redis://localhost", &u));
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_null(u.user);
    assert_null(u.password);
    assert_string_equal(u.path, "");
    mp_redis_url_free(&u);

    MPT_OK(mp_redis_url_parse("REDIS://alice:p%40ss%3Aw%2Frd@10.0.0.1:6380/3/jobs/high", &u));
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "p@ss:w/rd");
    assert_string_equal(u.host, "10.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.path, "jobs/high");
    mp_redis_url_free(&u);

    MPT_OK(mp_redis_url_parse("redis://secret@[::1]:7000/", &u)); /* a password alone, as redis-cli */
    assert_null(u.user);
    assert_string_equal(u.password, "secret");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    mp_redis_url_free(&u);

    MPT_OK(mp_redis_url_parse("redis://:pw@h/0/", &u));
    assert_null(u.user);
    assert_string_equal(u.password, "pw");
    assert_string_equal(u.path, "");
    mp_redis_url_free(&u);

    MPT_OK(mp_redis_url_parse("redis://:@h/15", &u)); /* no AUTH at all */
    assert_null(u.password);
    assert_int_equal(u.db, 15);
    mp_redis_url_free(&u);

    MPT_OK(mp_redis_url_parse("redis://bob:@h", &u)); /* a nopass ACL user */
    assert_string_equal(u.user, "bob");
    assert_string_equal(u.password, "");
    mp_redis_url_free(&u);
}

static void bad_urls(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "tcp://h:1",
        "redis:/h",
        "redis://",
        "redis://:6379",
        "redis://h:",
        "redis://h:0",
        "redis://h:65536",
        "redis://h:12x",
        "redis://::1:6379",
        "redis://[::1",
        "redis://[::1]x",
        "redis://h/x",
        "redis://h//name",
        "redis://h/-1",
        "redis://h/99999999999",
        "redis://a b",
        "redis://u:%zz@h",
        "redis://u:%4@h",
        "redis://%00:p@h",
        "redis://u:p%00@h",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mp_redis_url u = {.host = "x"};
        int rc = mp_redis_url_parse(bad[i], &u);
        if (rc != MP_EINVAL)
            fail_msg("\"%s\": %s, not MP_EINVAL", bad[i], mp_errname(rc));
        assert_null(u.host);
        assert_null(u.mem);
    }
    mp_redis_url u;
    MPT_CODE(mp_redis_url_parse(NULL, &u), MP_EINVAL);
    MPT_CODE(mp_redis_url_parse("rediss://h:6380", &u), MP_EUNSUPPORTED);
    assert_non_null(strstr(mp_last_error(), "stunnel"));
    /* No message repeats a password. */
    MPT_CODE(mp_redis_url_parse("redis://u:hunter2@h:x", &u), MP_EINVAL);
    assert_null(strstr(mp_last_error(), "hunter2"));
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(command_bytes), MPT_TEST(every_type), MPT_TEST(incremental), MPT_TEST(malformed),
        MPT_TEST(limits),        MPT_TEST(good_urls),  MPT_TEST(bad_urls),
    };
    return MPT_RUN(tests);
}
