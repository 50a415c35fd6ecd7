/* test_conn_reader.c - a Connection's messages read in bulk (conn_reader.h)
 * and framed in place (conn_internal.h), as the pool and its workers use
 * them: many small messages from one read, messages of every size around
 * the reader's thresholds with and without an allocation of their own,
 * the end of the peer between messages and inside one. */
#include <stdlib.h>
#include <string.h>

#include "ipc/conn_internal.h"
#include "ipc/conn_reader.h"
#include "harness.h"

static const size_t sizes[] = {0,         1,         3,         100,       (32 << 10) - 5, 32 << 10,
                               (32 << 10) + 1, 65535, 65536,     65541,     (1 << 20) + 3,  7};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static unsigned char pattern(size_t message, size_t i)
{
    return (unsigned char)(message * 31 + i * 7);
}

typedef struct writer {
    mp_conn *conn;
    int rounds;
} writer;

static int write_sizes(void *arg)
{
    writer *w = arg;
    unsigned char *m = malloc((1 << 20) + 16);
    if (m == NULL)
        return MP_ENOMEM;
    int rc = MP_OK;
    for (int r = 0; r < w->rounds && rc == MP_OK; r++)
        for (size_t k = 0; k < NSIZES && rc == MP_OK; k++) {
            for (size_t i = 0; i < sizes[k]; i++)
                m[i] = pattern(k, i);
            rc = mp_conn_send_bytes(w->conn, m, sizes[k]);
        }
    free(m);
    mp_conn_close(w->conn);
    return rc;
}

/* Every size, in order and intact, whether or not the reader may hand out
 * allocations; then the end of the peer between messages. */
static void every_size(void **state)
{
    (void)state;
    for (int may_own = 0; may_own < 2; may_own++) {
        mp_conn *a, *b;
        MPT_OK(mp_pipe(true, &a, &b));
        writer w = {b, 3};
        mp_thread *t;
        MPT_OK(mp_thread_start(&t, write_sizes, &w, "writer"));
        mp_conn_reader r;
        mp_conn_reader_init(&r, mp_conn_handle(a));
        for (int round = 0; round < w.rounds; round++)
            for (size_t k = 0; k < NSIZES; k++) {
                mp_message m;
                MPT_OK(mp_conn_reader_next(&r, may_own, &m));
                assert_int_equal(m.len, sizes[k]);
                for (size_t i = 0; i < m.len; i++)
                    if (m.data[i] != pattern(k, i))
                        fail_msg("message %lu, byte %lu differs", (unsigned long)k, (unsigned long)i);
                if (!may_own)
                    assert_null(m.owned);
                free(m.owned);
            }
        mp_message m;
        MPT_CODE(mp_conn_reader_next(&r, true, &m), MP_EEOF);
        int code;
        MPT_OK(mp_thread_join(t, MP_FOREVER, &code));
        MPT_OK(code);
        mp_conn_reader_free(&r);
        mp_conn_close(a);
    }
}

/* Messages that are already there come from one read: after the first,
 * the reader has the rest without asking the pipe again. */
static void small_messages_in_bulk(void **state)
{
    (void)state;
    mp_conn *a, *b;
    MPT_OK(mp_pipe(true, &a, &b));
    for (int i = 0; i < 100; i++)
        MPT_OK(mp_conn_send_bytes(b, &i, sizeof i));
    mp_conn_reader r;
    mp_conn_reader_init(&r, mp_conn_handle(a));
    assert_false(mp_conn_reader_has_message(&r));
    for (int i = 0; i < 100; i++) {
        mp_message m;
        MPT_OK(mp_conn_reader_next(&r, true, &m));
        assert_int_equal(m.len, sizeof i);
        assert_memory_equal(m.data, &i, sizeof i);
        assert_null(m.owned);
        assert_int_equal(mp_conn_reader_has_message(&r), i < 99);
    }
    mp_conn_reader_free(&r);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* Frames built in place and written several at a time read back as the
 * messages they hold. */
static void frames_built_in_place(void **state)
{
    (void)state;
    mp_conn *a, *b;
    MPT_OK(mp_pipe(true, &a, &b));
    mp_buf frames = MP_BUF_INIT;
    for (int i = 0; i < 50; i++) {
        size_t mark;
        MPT_OK(mp_conn_frame_begin(&frames, &mark));
        MPT_OK(mp_pack(&frames, "(is)", i, "frame"));
        MPT_OK(mp_conn_frame_end(&frames, mark));
    }
    MPT_OK(mp_conn_write(b, frames.data, frames.len));
    for (int i = 0; i < 50; i++) {
        mp_value *v;
        MPT_OK(mp_conn_recv(a, &v));
        int n;
        const char *s;
        MPT_OK(mp_unpack(v, "(is)", &n, &s));
        assert_int_equal(n, i);
        assert_string_equal(s, "frame");
        mp_value_free(v);
    }
    mp_buf_free(&frames);
    mp_conn_close(a);
    mp_conn_close(b);
}

/* The frame header's two forms, and a header that has not all arrived. */
static void frame_headers(void **state)
{
    (void)state;
    unsigned char h[MP_CONN_FRAME_MAX_HEADER];
    uint64_t len = 1;
    assert_int_equal(mp_conn_frame_header(h, 300), 4);
    assert_int_equal(mp_conn_frame_length(h, 3, &len), 0);
    assert_int_equal(mp_conn_frame_length(h, 4, &len), 4);
    assert_int_equal(len, 300);
    size_t big = (size_t)1 << 31;
    size_t n = mp_conn_frame_header(h, big);
    assert_int_equal(n, 12);
    assert_int_equal(mp_conn_frame_length(h, 4, &len), 0);
    assert_int_equal(mp_conn_frame_length(h, 11, &len), 0);
    assert_int_equal(mp_conn_frame_length(h, 12, &len), 12);
    assert_int_equal(len, big);
}

/* The peer's end inside a message, in its header or its body, with the
 * message small or long: MP_EPROTO, never a message. */
static void end_inside_a_message(void **state)
{
    (void)state;
    static const unsigned char header_part[] = {0, 0};
    static const unsigned char small_body_part[] = {0, 0, 0, 9, 1, 2, 3};
    unsigned char long_body_part[4 + 1000] = {0, 1, 0, 0};
    const struct {
        const unsigned char *bytes;
        size_t len;
    } cases[] = {{header_part, sizeof header_part},
                 {small_body_part, sizeof small_body_part},
                 {long_body_part, sizeof long_body_part}};
    for (size_t c = 0; c < 3; c++)
        for (int may_own = 0; may_own < 2; may_own++) {
            mp_conn *a, *b;
            MPT_OK(mp_pipe(true, &a, &b));
            MPT_OK(mp_conn_write(b, cases[c].bytes, cases[c].len));
            mp_conn_close(b);
            mp_conn_reader r;
            mp_conn_reader_init(&r, mp_conn_handle(a));
            mp_message m = {NULL, 0, NULL};
            MPT_CODE(mp_conn_reader_next(&r, may_own, &m), MP_EPROTO);
            assert_null(m.owned);
            mp_conn_reader_free(&r);
            mp_conn_close(a);
        }
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(every_size),
        MPT_TEST(small_messages_in_bulk),
        MPT_TEST(frames_built_in_place),
        MPT_TEST(frame_headers),
        MPT_TEST(end_inside_a_message),
    };
    return MPT_RUN(tests);
}
