/* test_decode.c - decoding a value at a time (mp_decode_first) and many
 * values from several buffers into one array (mp_decode_array_of), as the
 * pool reads its chunks and replies: sizes used, trees in the caller's
 * room or allocated, counts, values cut across buffers, malformed input. */
#include <string.h>

#include "pack/decode.h"
#include "harness.h"
#include "pack/pack_internal.h"

/* Numbers are told by their first byte: the inline size agrees with
 * mp_value_span for every first byte. */
static void number_sizes(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        unsigned char v[16] = {(unsigned char)c};
        size_t n = mp_number_size((unsigned char)c), span = 0;
        if (n == 0)
            continue;
        MPT_OK(mp_value_span(v, sizeof v, &span));
        if (span != n)
            fail_msg("first byte 0x%02x: %lu, span %lu", c, (unsigned long)n, (unsigned long)span);
    }
    assert_int_equal(mp_number_size(0xc1), 0);
    assert_int_equal(mp_number_size(0xa3), 0);
    assert_int_equal(mp_number_size(0x91), 0);
}

static void first_of_many(void **state)
{
    (void)state;
    mp_buf b = MP_BUF_INIT;
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    MPT_OK(mp_pack(&b, "q", (int64_t)1 << 40));
    MPT_OK(mp_pack(&b, "(si)", "two", 2));
    MPT_OK(mp_pack(&b, "s", big));
    MPT_OK(mp_pack(&b, "i", -3));
    mp_value space[8], *v;
    size_t pos = 0, used;

    MPT_OK(mp_decode_first(b.data, b.len, NULL, space, sizeof space, &v, &used));
    assert_ptr_equal(v, space);
    assert_int_equal(v->as.i, (int64_t)1 << 40);
    assert_int_equal(used, 9);
    pos += used;

    MPT_OK(mp_decode_first(b.data + pos, b.len - pos, NULL, space, sizeof space, &v, &used));
    assert_ptr_equal(v, space);
    const char *s;
    int i;
    MPT_OK(mp_unpack(v, "(si)", &s, &i));
    assert_string_equal(s, "two");
    assert_int_equal(i, 2);
    pos += used;

    /* too big for the room: allocated */
    MPT_OK(mp_decode_first(b.data + pos, b.len - pos, NULL, space, sizeof space, &v, &used));
    assert_ptr_not_equal(v, space);
    assert_string_equal(v->as.str.ptr, big);
    mp_value_free(v);
    pos += used;

    /* no room at all: allocated too */
    MPT_OK(mp_decode_first(b.data + pos, b.len - pos, NULL, NULL, 0, &v, &used));
    assert_int_equal(v->as.i, -3);
    mp_value_free(v);
    assert_int_equal(pos + used, b.len);

    /* truncated, and nothing */
    v = space;
    MPT_CODE(mp_decode_first(b.data + 9, 3, NULL, space, sizeof space, &v, &used), MP_EPROTO);
    assert_null(v);
    MPT_CODE(mp_decode_first(b.data, 0, NULL, space, sizeof space, &v, &used), MP_EPROTO);
    MPT_CODE(mp_decode_first(b.data, 8, NULL, space, sizeof space, &v, &used), MP_EPROTO);
    MPT_CODE(mp_decode_first(NULL, 1, NULL, space, sizeof space, &v, &used), MP_EINVAL);
    mp_buf_free(&b);
}

static void array_of_parts(void **state)
{
    (void)state;
    mp_buf one = MP_BUF_INIT, two = MP_BUF_INIT;
    for (int i = 0; i < 5; i++)
        MPT_OK(mp_pack(&one, "i", i));
    MPT_OK(mp_pack(&two, "(s[y#])", "five", "\x01\x02", (size_t)2));
    MPT_OK(mp_pack(&two, "d", 6.5));
    mp_bytes parts[3] = {{one.data, one.len}, {NULL, 0}, {two.data, two.len}};
    mp_value *v;
    MPT_OK(mp_decode_array_of(parts, 3, 7, NULL, &v));
    assert_int_equal(v->type, MP_ARRAY);
    assert_int_equal(v->as.array.len, 7);
    for (int i = 0; i < 5; i++)
        assert_int_equal(v->as.array.items[i].as.i, i);
    const char *s;
    const void *bin;
    size_t len;
    MPT_OK(mp_unpack(&v->as.array.items[5], "(s[y#])", &s, &bin, &len));
    assert_string_equal(s, "five");
    assert_int_equal(len, 2);
    assert_memory_equal(bin, "\x01\x02", 2);
    assert_true(v->as.array.items[6].as.d == 6.5);
    mp_value_free(v);

    /* the count must be exact */
    MPT_CODE(mp_decode_array_of(parts, 3, 6, NULL, &v), MP_EPROTO);
    assert_null(v);
    MPT_CODE(mp_decode_array_of(parts, 3, 8, NULL, &v), MP_EPROTO);
    /* a value may not run from one part into the next */
    mp_bytes cut[2] = {{two.data, 3}, {two.data + 3, two.len - 3}};
    MPT_CODE(mp_decode_array_of(cut, 2, 2, NULL, &v), MP_EPROTO);
    /* none */
    MPT_OK(mp_decode_array_of(NULL, 0, 0, NULL, &v));
    assert_int_equal(v->type, MP_ARRAY);
    assert_int_equal(v->as.array.len, 0);
    mp_value_free(v);
    /* numbers only, the one-pass path: exact counts and whole values too */
    MPT_OK(mp_pack(&one, "qd?n", (int64_t)1 << 40, -2.5, true));
    mp_bytes numbers[1] = {{one.data, one.len}};
    MPT_OK(mp_decode_array_of(numbers, 1, 9, NULL, &v));
    assert_int_equal(v->as.array.items[5].as.i, (int64_t)1 << 40);
    assert_true(v->as.array.items[6].as.d == -2.5);
    assert_int_equal(v->as.array.items[7].type, MP_BOOL);
    assert_int_equal(v->as.array.items[8].type, MP_NIL);
    mp_value_free(v);
    MPT_CODE(mp_decode_array_of(numbers, 1, 8, NULL, &v), MP_EPROTO);
    MPT_CODE(mp_decode_array_of(numbers, 1, 10, NULL, &v), MP_EPROTO);
    mp_bytes split[2] = {{one.data, 7}, {one.data + 7, one.len - 7}};
    MPT_CODE(mp_decode_array_of(split, 2, 9, NULL, &v), MP_EPROTO);
    assert_null(v);
    one.len = 5;
    /* the limits count the whole array */
    mp_limits limits = {.max_nodes = 5};
    MPT_CODE(mp_decode_array_of(parts, 1, 5, &limits, &v), MP_ETOOBIG);
    limits.max_nodes = 6;
    MPT_OK(mp_decode_array_of(parts, 1, 5, &limits, &v));
    mp_value_free(v);
    mp_buf_free(&one);
    mp_buf_free(&two);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(number_sizes),
        MPT_TEST(first_of_many),
        MPT_TEST(array_of_parts),
    };
    return MPT_RUN(tests);
}
