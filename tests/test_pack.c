/* test_pack.c - MessagePack: exact bytes at every size boundary, round trips
 * of every type through pack -> decode -> unpack, and every error path. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pack/pack_format.h"
#include "pack/pack_internal.h"

/* Pack with fmt, compare the bytes with want. */
#define EXPECT_BYTES(want, ...)                                                                                   \
    do {                                                                                                          \
        mp_buf b_ = MP_BUF_INIT;                                                                                  \
        MPT_OK(mp_pack(&b_, __VA_ARGS__));                                                                        \
        assert_int_equal(b_.len, sizeof(want));                                                                   \
        assert_memory_equal(b_.data, want, sizeof(want));                                                         \
        mp_buf_free(&b_);                                                                                         \
    } while (0)

static mp_value *decode_ok(const mp_buf *b)
{
    mp_value *v = NULL;
    MPT_OK(mp_decode(b->data, b->len, NULL, &v));
    return v;
}

/* ---- exact bytes ------------------------------------------------------- */

static void integers_take_the_smallest_form(void **state)
{
    (void)state;
    static const unsigned char zero[] = {0x00}, pos127[] = {0x7f}, u8_128[] = {0xcc, 0x80},
                               u8_255[] = {0xcc, 0xff}, u16_256[] = {0xcd, 0x01, 0x00},
                               u16_max[] = {0xcd, 0xff, 0xff}, u32_min[] = {0xce, 0x00, 0x01, 0x00, 0x00},
                               u32_max[] = {0xce, 0xff, 0xff, 0xff, 0xff},
                               u64_min[] = {0xcf, 0, 0, 0, 1, 0, 0, 0, 0},
                               u64_max[] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
                               neg1[] = {0xff}, neg32[] = {0xe0}, i8_33[] = {0xd0, 0xdf},
                               i8_min[] = {0xd0, 0x80}, i16_129[] = {0xd1, 0xff, 0x7f},
                               i16_min[] = {0xd1, 0x80, 0x00}, i32_min16[] = {0xd2, 0xff, 0xff, 0x7f, 0xff},
                               i32_min[] = {0xd2, 0x80, 0, 0, 0}, i64_big[] = {0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff},
                               i64_min[] = {0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_BYTES(zero, "i", 0);
    EXPECT_BYTES(pos127, "i", 127);
    EXPECT_BYTES(u8_128, "i", 128);
    EXPECT_BYTES(u8_255, "I", 255u);
    EXPECT_BYTES(u16_256, "i", 256);
    EXPECT_BYTES(u16_max, "i", 65535);
    EXPECT_BYTES(u32_min, "i", 65536);
    EXPECT_BYTES(u32_max, "Q", (uint64_t)UINT32_MAX);
    EXPECT_BYTES(u64_min, "q", (int64_t)1 << 32);
    EXPECT_BYTES(u64_max, "Q", UINT64_MAX);
    EXPECT_BYTES(neg1, "i", -1);
    EXPECT_BYTES(neg32, "i", -32);
    EXPECT_BYTES(i8_33, "i", -33);
    EXPECT_BYTES(i8_min, "i", -128);
    EXPECT_BYTES(i16_129, "i", -129);
    EXPECT_BYTES(i16_min, "i", -32768);
    EXPECT_BYTES(i32_min16, "i", -32769);
    EXPECT_BYTES(i32_min, "i", INT32_MIN);
    EXPECT_BYTES(i64_big, "q", (int64_t)INT32_MIN - 1);
    EXPECT_BYTES(i64_min, "q", INT64_MIN);
}

static void scalars_and_headers(void **state)
{
    (void)state;
    static const unsigned char nil[] = {0xc0}, t[] = {0xc3}, f[] = {0xc2},
                               f64[] = {0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, f32[] = {0xca, 0x3f, 0xc0, 0, 0},
                               fixstr[] = {0xa2, 'h', 'i'}, empty_str[] = {0xa0}, bin[] = {0xc4, 0x02, 0x00, 0xff},
                               fixarray[] = {0x92, 0x01, 0xa1, 'x'}, fixmap[] = {0x81, 0xa1, 'k', 0xc0},
                               fixext1[] = {0xd4, 0x05, 0x41}, ext3[] = {0xc7, 0x03, 0x05, 1, 2, 3},
                               neg_ext[] = {0xd5, 0xff, 1, 2};
    EXPECT_BYTES(nil, "n");
    EXPECT_BYTES(t, "?", 1);
    EXPECT_BYTES(f, "?", 0);
    EXPECT_BYTES(f64, "d", 1.5);
    EXPECT_BYTES(f32, "f", 1.5);
    EXPECT_BYTES(fixstr, "s", "hi");
    EXPECT_BYTES(empty_str, "s", "");
    EXPECT_BYTES(bin, "y#", "\0\xff", (size_t)2);
    EXPECT_BYTES(fixarray, "[is]", 1, "x");
    EXPECT_BYTES(fixarray, "(i, s)", 1, "x");
    EXPECT_BYTES(fixmap, "{s:n}", "k");
    EXPECT_BYTES(fixext1, "e", 5, "A", (size_t)1);
    EXPECT_BYTES(ext3, "e", 5, "\1\2\3", (size_t)3);
    EXPECT_BYTES(neg_ext, "e", -1, "\1\2", (size_t)2);
}

/* The header bytes of a value of size n, packed by the given encoder. */
static void header_of(int (*pack)(mp_buf *, size_t), size_t n, const unsigned char *want, size_t want_len)
{
    mp_buf b = MP_BUF_INIT;
    MPT_OK(pack(&b, n));
    assert_true(b.len >= want_len);
    assert_memory_equal(b.data, want, want_len);
    mp_value *v = decode_ok(&b);
    mp_value_free(v);
    mp_buf_free(&b);
}

static char *filler(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, 'a', n);
    s[n] = '\0';
    return s;
}

static int pack_str_n(mp_buf *b, size_t n)
{
    char *s = filler(n);
    int rc = mp_pack_str(b, s, n);
    free(s);
    return rc;
}

static int pack_bin_n(mp_buf *b, size_t n)
{
    char *s = filler(n);
    int rc = mp_pack_bin(b, s, n);
    free(s);
    return rc;
}

static int pack_ext_n(mp_buf *b, size_t n)
{
    char *s = filler(n);
    int rc = mp_pack_ext(b, 9, s, n);
    free(s);
    return rc;
}

static int pack_array_n(mp_buf *b, size_t n)
{
    int rc = mp_pack_array(b, (uint32_t)n);
    for (size_t i = 0; i < n && rc == MP_OK; i++)
        rc = mp_pack_nil(b);
    return rc;
}

static int pack_map_n(mp_buf *b, size_t n)
{
    int rc = mp_pack_map(b, (uint32_t)n);
    for (size_t i = 0; i < 2 * n && rc == MP_OK; i++)
        rc = i % 2 ? mp_pack_nil(b) : mp_pack_int(b, (int64_t)i);
    return rc;
}

static void size_classes(void **state)
{
    (void)state;
    header_of(pack_str_n, 31, (const unsigned char[]){0xbf}, 1);
    header_of(pack_str_n, 32, (const unsigned char[]){0xd9, 32}, 2);
    header_of(pack_str_n, 255, (const unsigned char[]){0xd9, 0xff}, 2);
    header_of(pack_str_n, 256, (const unsigned char[]){0xda, 0x01, 0x00}, 3);
    header_of(pack_str_n, 65535, (const unsigned char[]){0xda, 0xff, 0xff}, 3);
    header_of(pack_str_n, 65536, (const unsigned char[]){0xdb, 0, 1, 0, 0}, 5);
    header_of(pack_bin_n, 0, (const unsigned char[]){0xc4, 0}, 2);
    header_of(pack_bin_n, 255, (const unsigned char[]){0xc4, 0xff}, 2);
    header_of(pack_bin_n, 256, (const unsigned char[]){0xc5, 1, 0}, 3);
    header_of(pack_bin_n, 65536, (const unsigned char[]){0xc6, 0, 1, 0, 0}, 5);
    header_of(pack_ext_n, 1, (const unsigned char[]){0xd4, 9}, 2);
    header_of(pack_ext_n, 2, (const unsigned char[]){0xd5, 9}, 2);
    header_of(pack_ext_n, 4, (const unsigned char[]){0xd6, 9}, 2);
    header_of(pack_ext_n, 8, (const unsigned char[]){0xd7, 9}, 2);
    header_of(pack_ext_n, 16, (const unsigned char[]){0xd8, 9}, 2);
    header_of(pack_ext_n, 0, (const unsigned char[]){0xc7, 0, 9}, 3);
    header_of(pack_ext_n, 3, (const unsigned char[]){0xc7, 3, 9}, 3);
    header_of(pack_ext_n, 256, (const unsigned char[]){0xc8, 1, 0, 9}, 4);
    header_of(pack_ext_n, 65536, (const unsigned char[]){0xc9, 0, 1, 0, 0, 9}, 6);
    header_of(pack_array_n, 15, (const unsigned char[]){0x9f}, 1);
    header_of(pack_array_n, 16, (const unsigned char[]){0xdc, 0, 16}, 3);
    header_of(pack_array_n, 65535, (const unsigned char[]){0xdc, 0xff, 0xff}, 3);
    header_of(pack_array_n, 65536, (const unsigned char[]){0xdd, 0, 1, 0, 0}, 5);
    header_of(pack_map_n, 15, (const unsigned char[]){0x8f}, 1);
    header_of(pack_map_n, 16, (const unsigned char[]){0xde, 0, 16}, 3);
    header_of(pack_map_n, 65536, (const unsigned char[]){0xdf, 0, 1, 0, 0}, 5);
}

/* ---- round trips -------------------------------------------------------- */

static void every_type_round_trips(void **state)
{
    (void)state;
    static const unsigned char raw[] = {1, 2, 3, 0, 255};
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack(&b, "[n ? i I q Q d f s z z s# y# e [i[i]] {s i s [] }]", 1, -7, 4000000000u, INT64_MIN,
                   UINT64_MAX, -0.125, 3.5, "\xc3\xa9t\xc3\xa9", (const char *)NULL, "zz", "a\0b", (size_t)3, raw,
                   sizeof raw, -3, "ext", (size_t)3, 1, 2, "one", 1, "two"));
    mp_value *v = decode_ok(&b);
    bool t;
    int i;
    unsigned u;
    int64_t q;
    uint64_t uq;
    double d;
    float f;
    const char *s, *z1, *z2, *sn;
    size_t sn_len, y_len, e_len;
    const void *y, *e;
    int8_t e_type;
    int a, bb;
    const mp_value *map;
    MPT_OK(mp_unpack(v, "[n ? i I q Q d f s z z s# y# e [i[i]] V]", &t, &i, &u, &q, &uq, &d, &f, &s, &z1, &z2,
                     &sn, &sn_len, &y, &y_len, &e_type, &e, &e_len, &a, &bb, &map));
    assert_true(t);
    assert_int_equal(i, -7);
    assert_int_equal(u, 4000000000u);
    assert_true(q == INT64_MIN);
    assert_true(uq == UINT64_MAX);
    assert_true(d == -0.125);
    assert_true(f == 3.5f);
    assert_string_equal(s, "\xc3\xa9t\xc3\xa9");
    assert_null(z1);
    assert_string_equal(z2, "zz");
    assert_int_equal(sn_len, 3);
    assert_memory_equal(sn, "a\0b", 3);
    assert_int_equal(y_len, sizeof raw);
    assert_memory_equal(y, raw, sizeof raw);
    assert_int_equal((uintptr_t)y % 16, 0);
    assert_int_equal(e_type, -3);
    assert_int_equal(e_len, 3);
    assert_memory_equal(e, "ext", 3);
    assert_int_equal(a, 1);
    assert_int_equal(bb, 2);
    assert_int_equal(map->type, MP_MAP);
    assert_int_equal(mp_map_get(map, "one")->as.i, 1);
    assert_int_equal(mp_map_get(map, "two")->type, MP_ARRAY);
    assert_null(mp_map_get(map, "three"));
    assert_null(mp_map_get(v, "one"));

    /* Re-encoding gives the same bytes, but for the float 32, which comes
     * back as a float 64 (4 bytes more). */
    mp_buf again = MP_BUF_INIT;
    MPT_OK(mp_pack_value(&again, v));
    assert_int_equal(again.len, b.len + 4);
    mp_buf_free(&again);
    mp_buf_clear(&b);
    MPT_OK(mp_pack(&b, "[i s {s [y#]} e]", -70000, "x", "k", "ab", (size_t)2, 1, "", (size_t)0));
    mp_value_free(v);
    v = decode_ok(&b);
    MPT_OK(mp_pack_value(&again, v));
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    mp_buf_free(&again);
    mp_value_free(v);
    mp_buf_free(&b);
}

static void integers_decode_by_value(void **state)
{
    (void)state;
    /* A small value in a wide encoding is an MP_INT; only values above
     * INT64_MAX are MP_UINT. */
    static const unsigned char wide_small[] = {0xcf, 0, 0, 0, 0, 0, 0, 0, 5};
    static const unsigned char huge[] = {0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char f32[] = {0xca, 0x40, 0x20, 0, 0};
    mp_value *v;
    MPT_OK(mp_decode(wide_small, sizeof wide_small, NULL, &v));
    assert_int_equal(v->type, MP_INT);
    assert_int_equal(v->as.i, 5);
    mp_value_free(v);
    MPT_OK(mp_decode(huge, sizeof huge, NULL, &v));
    assert_int_equal(v->type, MP_UINT);
    assert_true(v->as.u == (uint64_t)1 << 63);
    int64_t q;
    MPT_CODE(mp_unpack(v, "q", &q), MP_ERANGE);
    mp_value_free(v);
    MPT_OK(mp_decode(f32, sizeof f32, NULL, &v));
    assert_int_equal(v->type, MP_DOUBLE);
    assert_true(v->as.d == 2.5);
    mp_value_free(v);
}

static void optional_items(void **state)
{
    (void)state;
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack(&b, "[is]", 7, "x"));
    mp_value *v = decode_ok(&b);
    int n = 0, extra = 99;
    const char *s = NULL;
    MPT_OK(mp_args(v, "is|i", &n, &s, &extra));
    assert_int_equal(n, 7);
    assert_string_equal(s, "x");
    assert_int_equal(extra, 99); /* absent: left as it was */
    MPT_OK(mp_args(v, "i|s(ii)", &n, &s, NULL, NULL));
    MPT_CODE(mp_args(v, "i", &n), MP_ETYPE);      /* too many items */
    MPT_CODE(mp_args(v, "isi", &n, &s, &n), MP_ETYPE); /* too few */
    mp_value_free(v);
    mp_buf_free(&b);
}

/* ---- errors ------------------------------------------------------------ */

static void unpack_type_and_range_errors(void **state)
{
    (void)state;
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack(&b, "[q i s s# n]", (int64_t)1 << 40, -1, "str", "a\0b", (size_t)3));
    mp_value *v = decode_ok(&b);
    const mp_value *items = v->as.array.items;
    int i;
    unsigned u;
    uint64_t uq;
    bool flag;
    const char *s;
    double d;
    MPT_CODE(mp_unpack(&items[0], "i", &i), MP_ERANGE);
    assert_non_null(strstr(mp_last_error(), "int"));
    MPT_CODE(mp_unpack(&items[1], "I", &u), MP_ERANGE);
    MPT_CODE(mp_unpack(&items[1], "Q", &uq), MP_ERANGE);
    MPT_CODE(mp_unpack(&items[2], "i", &i), MP_ETYPE);
    assert_non_null(strstr(mp_last_error(), "expected int, got str"));
    MPT_CODE(mp_unpack(&items[2], "?", &flag), MP_ETYPE);
    MPT_CODE(mp_unpack(&items[2], "d", &d), MP_ETYPE);
    MPT_CODE(mp_unpack(&items[3], "s", &s), MP_ETYPE); /* embedded NUL */
    assert_non_null(strstr(mp_last_error(), "NUL"));
    MPT_CODE(mp_unpack(&items[4], "s", &s), MP_ETYPE);
    MPT_OK(mp_unpack(&items[4], "z", &s));
    assert_null(s);
    MPT_CODE(mp_unpack(&items[0], "n"), MP_ETYPE);
    MPT_CODE(mp_unpack(v, "(i)", &i), MP_ERANGE);
    MPT_OK(mp_unpack(&items[1], "d", &d)); /* ints convert to floats */
    assert_true(d == -1.0);
    MPT_CODE(mp_args(&items[0], "i", &i), MP_ETYPE); /* not an array */
    mp_value_free(v);
    mp_buf_free(&b);
}

static void malformed_formats_read_no_argument(void **state)
{
    (void)state;
    mp_buf b = MP_BUF_INIT;
    /* The NULL pointers would crash if the packer read them as strings. */
    static const char *const bad[] = {"s)", "(s", "[s)", "{s}", "sx", "y", "s|s", "{s", "q#", "((s)"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        MPT_CODE(mp_pack(&b, bad[k], NULL, NULL, NULL), MP_EFORMAT);
        assert_int_equal(b.len, 0);
    }
    MPT_CODE(mp_pack(NULL, "i", 1), MP_EINVAL);
    MPT_CODE(mp_pack(&b, NULL), MP_EINVAL);
    MPT_OK(mp_pack(&b, "[i]", 1));
    mp_value *v = decode_ok(&b);
    static const char *const bad_unpack[] = {"(i", "i)", "{i}", "ii", "", "|i", "(i||i)", "y", "(s#"};
    for (size_t k = 0; k < sizeof bad_unpack / sizeof bad_unpack[0]; k++)
        MPT_CODE(mp_unpack(v, bad_unpack[k], NULL, NULL), MP_EFORMAT);
    MPT_CODE(mp_args(v, "i)", NULL), MP_EFORMAT);
    MPT_CODE(mp_unpack(NULL, "i", NULL), MP_EINVAL);
    MPT_CODE(mp_args(NULL, "i", NULL), MP_EINVAL);
    mp_value_free(v);
    mp_buf_free(&b);
}

static void failed_pack_leaves_buffer_unchanged(void **state)
{
    (void)state;
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack(&b, "s", "kept"));
    size_t len = b.len;
    MPT_CODE(mp_pack(&b, "[i s i]", 1, (const char *)NULL, 2), MP_EINVAL);
    assert_int_equal(b.len, len);
    MPT_CODE(mp_pack(&b, "[i s]", 1, "\xff"), MP_EINVAL); /* not UTF-8 */
    assert_int_equal(b.len, len);
    MPT_CODE(mp_pack(&b, "e", 200, "x", (size_t)1), MP_ERANGE);
    assert_int_equal(b.len, len);
    MPT_CODE(mp_pack_str(&b, NULL, 3), MP_EINVAL);
    MPT_CODE(mp_pack_bin(&b, NULL, 3), MP_EINVAL);
    MPT_CODE(mp_pack_ext(&b, 1, NULL, 3), MP_EINVAL);
    MPT_CODE(mp_pack_value(&b, NULL), MP_EINVAL);
    MPT_CODE(mp_buf_append(&b, NULL, 1), MP_EINVAL);
    assert_int_equal(b.len, len);
    mp_buf_free(&b);
    mp_buf_free(NULL);
    mp_buf_clear(NULL);
}

/* A buffer that starts on borrowed storage moves to the heap when it
 * grows, keeping what it held; mp_buf_free frees only that. */
static void borrowed_buffer_moves_when_it_grows(void **state)
{
    (void)state;
    unsigned char small[16];
    mp_buf b;
    mp_buf_borrow(&b, small, sizeof small);
    MPT_OK(mp_pack(&b, "s", "0123456789"));
    assert_ptr_equal(b.data, small);
    char big[100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    MPT_OK(mp_pack(&b, "s", big));
    assert_ptr_not_equal(b.data, small);
    assert_memory_equal(b.data, "\xaa" "0123456789", 11);
    mp_value *v = NULL;
    MPT_OK(mp_decode(b.data + 11, b.len - 11, NULL, &v));
    assert_string_equal(v->as.str.ptr, big);
    mp_value_free(v);
    mp_buf_free(&b);
    mp_buf_borrow(&b, small, sizeof small);
    MPT_OK(mp_pack(&b, "i", 1));
    mp_buf_free(&b); /* nothing allocated: nothing freed */
    assert_null(b.data);
}

static int message_of(mp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_pack_message(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* A message of several items is an array, which takes one level of the
 * nesting limit; a message of one item is not, and may use it. */
static void message_nesting_counts_its_array(void **state)
{
    (void)state;
    /* nested(depth, tail): depth arrays one in the other, then tail */
    static char one[2 * MP_MAX_DEPTH + 1], two[2 * MP_MAX_DEPTH + 2], fits[2 * MP_MAX_DEPTH + 2];
    for (int i = 0; i < MP_MAX_DEPTH; i++) {
        one[i] = two[i] = '[';
        one[MP_MAX_DEPTH + i] = two[MP_MAX_DEPTH + i] = ']';
    }
    two[2 * MP_MAX_DEPTH] = 'i';
    for (int i = 0; i < MP_MAX_DEPTH - 1; i++) {
        fits[i] = '[';
        fits[MP_MAX_DEPTH - 1 + i] = ']';
    }
    fits[2 * MP_MAX_DEPTH - 2] = 'i';
    mp_buf b = MP_BUF_INIT;
    MPT_OK(message_of(&b, one));
    assert_int_equal(b.len, MP_MAX_DEPTH);
    mp_buf_clear(&b);
    MPT_CODE(message_of(&b, two, 7), MP_EFORMAT);
    assert_int_equal(b.len, 0);
    MPT_OK(message_of(&b, fits, 7));
    mp_value *v = NULL;
    MPT_OK(mp_decode(b.data, b.len, &(mp_limits){.max_depth = MP_MAX_DEPTH}, &v));
    assert_int_equal(v->type, MP_ARRAY);
    assert_int_equal(v->as.array.len, 2);
    mp_value_free(v);
    mp_buf_free(&b);
}

static void decode(const void *data, size_t len, int want)
{
    mp_value *v = (mp_value *)&v;
    MPT_CODE(mp_decode(data, len, NULL, &v), want);
    if (want == MP_OK)
        mp_value_free(v);
    else
        assert_null(v);
}

static void every_truncation_is_refused(void **state)
{
    (void)state;
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack(&b, "[i q d s y# {s [n ? f]} e]", 300, (int64_t)-70000, 2.5, "hello world", "bytes", (size_t)5,
                   "key", 1, 7.0, 4, "abcdef", (size_t)6));
    decode(b.data, b.len, MP_OK);
    for (size_t len = 0; len < b.len; len++)
        decode(b.data, len, MP_EPROTO);
    /* And a trailing byte is refused too. */
    MPT_OK(mp_buf_append(&b, "\xc0", 1));
    decode(b.data, b.len, MP_EPROTO);
    mp_buf_free(&b);
}

static void malformed_input(void **state)
{
    (void)state;
    decode("\xc1", 1, MP_EPROTO);                         /* reserved */
    decode("\x91\xc1", 2, MP_EPROTO);
    decode("\xa2\xc0\x80", 3, MP_EPROTO);                 /* overlong NUL */
    decode("\xa3\xe0\x80\xaf", 4, MP_EPROTO);             /* overlong '/' */
    decode("\xa3\xed\xa0\x80", 4, MP_EPROTO);             /* surrogate U+D800 */
    decode("\xa4\xf4\x90\x80\x80", 5, MP_EPROTO);         /* above U+10FFFF */
    decode("\xa2\xe2\x82", 3, MP_EPROTO);                 /* truncated sequence */
    decode("\xa1\x80", 2, MP_EPROTO);                     /* stray continuation */
    decode("\xa1\xff", 2, MP_EPROTO);
    decode("\xa4\xf0\x9f\x98\x80", 5, MP_OK);             /* U+1F600 is fine */
    decode("\xdb\xff\xff\xff\xff" "abc", 8, MP_EPROTO);   /* huge str, short input */
    decode("\xc6\xff\xff\xff\xff", 5, MP_EPROTO);         /* huge bin */
    decode("\xdd\xff\xff\xff\xff\xc0", 6, MP_EPROTO);     /* huge array */
    assert_non_null(strstr(mp_last_error(), "4294967295 items"));
    decode("\xdf\x80\x00\x00\x00\xc0\xc0", 7, MP_EPROTO); /* huge map */
    decode("\xc9\xff\xff\xff\xff\x01", 6, MP_EPROTO);     /* huge ext */
    decode("", 0, MP_EPROTO);
    mp_value *v;
    MPT_CODE(mp_decode(NULL, 1, NULL, &v), MP_EINVAL);
    MPT_CODE(mp_decode("\xc0", 1, NULL, NULL), MP_EINVAL);
    mp_value_free(NULL);
}

static void limits_are_enforced(void **state)
{
    (void)state;
    /* n nested one-item arrays around a nil: n + 1 bytes. */
    unsigned char deep[200], at_limit[65], over[66];
    memset(deep, 0x91, sizeof deep);
    deep[sizeof deep - 1] = 0xc0;
    memcpy(at_limit, deep + sizeof deep - sizeof at_limit, sizeof at_limit);
    memcpy(over, deep + sizeof deep - sizeof over, sizeof over);
    decode(at_limit, sizeof at_limit, MP_OK); /* the default depth, 64 */
    mp_value *v;
    MPT_CODE(mp_decode(over, sizeof over, NULL, &v), MP_ETOOBIG);
    MPT_OK(mp_decode(deep, sizeof deep, &(mp_limits){.max_depth = 199}, &v));
    mp_value_free(v);
    MPT_CODE(mp_decode(deep, sizeof deep, &(mp_limits){.max_depth = 198}, &v), MP_ETOOBIG);

    unsigned char wide[1 + 100];
    wide[0] = 0xdc;
    wide[1] = 0;
    wide[2] = 98;
    memset(wide + 3, 0xc0, 98);
    MPT_OK(mp_decode(wide, sizeof wide, &(mp_limits){.max_nodes = 99}, &v));
    mp_value_free(v);
    MPT_CODE(mp_decode(wide, sizeof wide, &(mp_limits){.max_nodes = 98}, &v), MP_ETOOBIG);
    MPT_CODE(mp_decode(wide, sizeof wide, &(mp_limits){.max_bytes = 100}, &v), MP_ETOOBIG);
}

static void cyclic_tree_is_refused(void **state)
{
    (void)state;
    mp_value cycle = {.type = MP_ARRAY};
    cycle.as.array.items = &cycle;
    cycle.as.array.len = 1;
    mp_buf b = MP_BUF_INIT;
    MPT_CODE(mp_pack_value(&b, &cycle), MP_EINVAL);
    assert_int_equal(b.len, 0);
    mp_buf_free(&b);
}

static void large_bin_round_trips(void **state)
{
    (void)state;
    size_t n = (size_t)3 << 20;
    unsigned char *data = malloc(n);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7);
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack(&b, "y#", data, n));
    mp_value *v = decode_ok(&b);
    const void *out;
    size_t len;
    MPT_OK(mp_unpack(v, "y#", &out, &len));
    assert_int_equal(len, n);
    assert_memory_equal(out, data, n);
    mp_value_free(v);
    mp_buf_free(&b);
    free(data);
}

/* ---- short formats: one letter, letters alone --------------------------- */

/* The one-letter format and the same letter inside an array (the general
 * packer) write the same bytes: the shortcut hands each letter its own
 * arguments. mp_vpack takes the shortcut as mp_pack does. */
static void same_as_general(const char *letter, ...)
{
    char wrapped[4] = {'[', letter[0], ']', '\0'};
    mp_buf one = MP_BUF_INIT, general = MP_BUF_INIT;
    va_list ap, again;
    va_start(ap, letter);
    va_copy(again, ap);
    MPT_OK(mp_vpack(&one, letter, ap));
    MPT_OK(mp_vpack(&general, wrapped, again));
    va_end(again);
    va_end(ap);
    assert_int_equal(general.len, one.len + 1);
    assert_memory_equal(general.data + 1, one.data, one.len);
    mp_buf_free(&one);
    mp_buf_free(&general);
}

static void one_letter_packs_as_the_general_path(void **state)
{
    (void)state;
    static const unsigned char raw[] = {1, 2, 3};
    mp_value half = {.type = MP_DOUBLE, .as.d = 0.5};
    same_as_general("n");
    same_as_general("?", 1);
    same_as_general("i", INT_MIN);
    same_as_general("I", UINT_MAX);
    same_as_general("q", INT64_MIN);
    same_as_general("Q", UINT64_MAX);
    same_as_general("d", -2.25);
    same_as_general("f", 1.5);
    same_as_general("z", "\xc3\xa9t\xc3\xa9");
    same_as_general("z", (const char *)NULL);
    same_as_general("e", -7, raw, sizeof raw);
    same_as_general("V", &half);

    /* Ignored characters around a letter change nothing. */
    static const unsigned char seven[] = {0x07};
    EXPECT_BYTES(seven, " q", (int64_t)7);
    EXPECT_BYTES(seven, "q ", (int64_t)7);
    EXPECT_BYTES(seven, ",q:", (int64_t)7);
}

/* What a one-letter integer format wrote: the smallest form, as
 * mp_pack_int writes it, decoding to want. */
static void expect_int(mp_buf *one, int64_t want)
{
    mp_buf direct = MP_BUF_INIT;
    MPT_OK(mp_pack_int(&direct, want));
    assert_int_equal(one->len, direct.len);
    assert_memory_equal(one->data, direct.data, direct.len);
    mp_value *v = decode_ok(one);
    assert_int_equal(v->type, MP_INT);
    assert_true(v->as.i == want);
    mp_value_free(v);
    mp_buf_free(&direct);
    mp_buf_clear(one);
}

/* Integers at both ends of every encoded width, packed by each integer
 * letter that holds them, and read back by mp_args through the one-letter
 * path and the general one (a trailing space). */
static void boundary_integers_round_trip(void **state)
{
    (void)state;
    static const int64_t edges[] = {
        0, 1, 127, 128, 255, 256, 65535, 65536, (int64_t)UINT32_MAX, (int64_t)UINT32_MAX + 1, INT64_MAX,
        -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN,
    };
    mp_buf one = MP_BUF_INIT;
    for (size_t k = 0; k < sizeof edges / sizeof edges[0]; k++) {
        int64_t want = edges[k];
        MPT_OK(mp_pack(&one, "q", want));
        expect_int(&one, want);
        bool fits_int = want >= INT_MIN && want <= INT_MAX, fits_unsigned = want >= 0 && (uint64_t)want <= UINT_MAX;
        if (fits_int) {
            MPT_OK(mp_pack(&one, "i", (int)want));
            expect_int(&one, want);
        }
        if (fits_unsigned) {
            MPT_OK(mp_pack(&one, "I", (unsigned)want));
            expect_int(&one, want);
        }
        if (want >= 0) {
            MPT_OK(mp_pack(&one, "Q", (uint64_t)want));
            expect_int(&one, want);
        }

        MPT_OK(mp_pack(&one, "(q)", want));
        mp_value *v = decode_ok(&one);
        int64_t fast = ~want, general = ~want;
        MPT_OK(mp_args(v, "q", &fast));
        MPT_OK(mp_args(v, "q ", &general));
        assert_true(fast == want);
        assert_true(general == want);
        int i = 0;
        unsigned u = 0;
        uint64_t uq = 0;
        MPT_CODE(mp_args(v, "i", &i), fits_int ? MP_OK : MP_ERANGE);
        MPT_CODE(mp_args(v, "I", &u), fits_unsigned ? MP_OK : MP_ERANGE);
        MPT_CODE(mp_args(v, "Q", &uq), want >= 0 ? MP_OK : MP_ERANGE);
        assert_true(!fits_int || i == want);
        assert_true(!fits_unsigned || u == (uint64_t)want);
        assert_true(want < 0 || uq == (uint64_t)want);
        mp_value_free(v);
        mp_buf_clear(&one);
    }

    /* Above INT64_MAX: only Q holds it. */
    static const uint64_t high[] = {(uint64_t)INT64_MAX + 1, UINT64_MAX};
    for (size_t k = 0; k < sizeof high / sizeof high[0]; k++) {
        MPT_OK(mp_pack(&one, "Q", high[k]));
        static const unsigned char u64[] = {0xcf};
        assert_int_equal(one.len, 9);
        assert_memory_equal(one.data, u64, 1);
        mp_value *v = decode_ok(&one);
        uint64_t uq = 0;
        int64_t q = 7;
        assert_true(v->type == MP_UINT && v->as.u == high[k]);
        mp_value_free(v);
        mp_buf_clear(&one);
        MPT_OK(mp_pack(&one, "(Q)", high[k]));
        v = decode_ok(&one);
        MPT_OK(mp_args(v, "Q", &uq));
        assert_true(uq == high[k]);
        MPT_CODE(mp_args(v, "q", &q), MP_ERANGE);
        assert_int_equal(q, 7);
        mp_value_free(v);
        mp_buf_clear(&one);
    }
    mp_buf_free(&one);
}

/* mp_args with one integer letter (fmt[0]) into the output of its type. */
static int args_integer(const mp_value *v, const char *fmt, int *i, unsigned *u, int64_t *q, uint64_t *uq)
{
    switch (fmt[0]) {
    case 'i': return mp_args(v, fmt, i);
    case 'I': return mp_args(v, fmt, u);
    case 'q': return mp_args(v, fmt, q);
    default: return mp_args(v, fmt, uq);
    }
}

/* A value one past a letter's range (packed by the (X) format given): MP_ERANGE
 * from the one-letter path and the general one, with the same message, and
 * the output left alone. */
static void out_of_range_for(const char *letter, const char *general, const char *fmt, ...)
{
    mp_buf b = MP_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    MPT_OK(mp_vpack(&b, fmt, ap));
    va_end(ap);
    mp_value *v = decode_ok(&b);
    int i = 7;
    unsigned u = 7;
    int64_t q = 7;
    uint64_t uq = 7;
    MPT_CODE(args_integer(v, letter, &i, &u, &q, &uq), MP_ERANGE);
    char message[256];
    snprintf(message, sizeof message, "%s", mp_last_error());
    assert_non_null(strstr(message, "does not fit"));
    MPT_CODE(args_integer(v, general, &i, &u, &q, &uq), MP_ERANGE);
    assert_string_equal(message, mp_last_error());
    assert_true(i == 7 && u == 7 && q == 7 && uq == 7);
    mp_value_free(v);
    mp_buf_free(&b);
}

static void one_letter_args_check_ranges(void **state)
{
    (void)state;
    out_of_range_for("i", "i ", "(q)", (int64_t)INT_MAX + 1);
    out_of_range_for("i", "i ", "(q)", (int64_t)INT_MIN - 1);
    out_of_range_for("I", "I ", "(q)", (int64_t)-1);
    out_of_range_for("I", "I ", "(q)", (int64_t)UINT_MAX + 1);
    out_of_range_for("Q", "Q ", "(q)", (int64_t)-1);
    out_of_range_for("q", "q ", "(Q)", (uint64_t)INT64_MAX + 1);
}

static void one_letter_args_check_types_and_counts(void **state)
{
    (void)state;
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack(&b, "[[] [q] [q q] [s] [n] q [i [i i i]] [i [i i i i]]]", (int64_t)5, (int64_t)1, (int64_t)2,
                   "str", (int64_t)9, 1, 1, 2, 3, 1, 1, 2, 3, 4));
    mp_value *v = decode_ok(&b);
    const mp_value *none = &v->as.array.items[0], *one = &v->as.array.items[1], *two = &v->as.array.items[2],
                   *str = &v->as.array.items[3], *nil = &v->as.array.items[4], *bare = &v->as.array.items[5];
    int64_t x = 42, y = 43;
    MPT_OK(mp_args(one, "q", &x));
    assert_int_equal(x, 5);

    x = 42;
    MPT_CODE(mp_args(none, "q", &x), MP_ETYPE);
    assert_non_null(strstr(mp_last_error(), "expected an array of 1 items, got 0"));
    assert_int_equal(x, 42);
    /* Too many: item 0 is written before the count is found wrong, as
     * unpack.c documents. */
    MPT_CODE(mp_args(two, "q", &x), MP_ETYPE);
    assert_non_null(strstr(mp_last_error(), "expected an array of 1 items, got 2"));
    x = 42;
    MPT_CODE(mp_args(str, "q", &x), MP_ETYPE);
    assert_non_null(strstr(mp_last_error(), "item 0: expected int64, got str"));
    MPT_CODE(mp_args(bare, "q", &x), MP_ETYPE);
    assert_non_null(strstr(mp_last_error(), "mp_args: item 0: expected array, got int"));
    assert_int_equal(x, 42);

    const char *z = "untouched";
    MPT_OK(mp_args(nil, "z", &z));
    assert_null(z);
    MPT_OK(mp_args(nil, "n"));
    MPT_CODE(mp_args(one, "n"), MP_ETYPE);
    assert_non_null(strstr(mp_last_error(), "expected nil, got int"));

    /* '|' keeps mp_args off the one-letter path; counts still include the
     * optional items. */
    MPT_OK(mp_args(one, "q|", &x));
    MPT_OK(mp_args(one, "q|q", &x, &y));
    assert_int_equal(y, 43);
    MPT_CODE(mp_args(two, "|", NULL), MP_ETYPE);
    assert_non_null(strstr(mp_last_error(), "expected an array of 0 items, got 2"));

    /* The count of a nested array is its own, not its parent's. */
    int a, c1, c2, c3;
    MPT_CODE(mp_unpack(&v->as.array.items[6], "[i(ii)]", &a, &c1, &c2), MP_ETYPE);
    assert_non_null(strstr(mp_last_error(), "expected an array of 2 items, got 3"));
    MPT_CODE(mp_unpack(&v->as.array.items[7], "[i(i|ii)]", &a, &c1, &c2, &c3), MP_ETYPE);
    assert_non_null(strstr(mp_last_error(), "expected an array of 3 items, got 4"));
    mp_value_free(v);
    mp_buf_free(&b);
}

/* Formats that start like a short one but are malformed further on: the
 * whole format is refused before any argument is read, and the buffer keeps
 * its bytes. */
static void short_lookalikes_are_checked_whole(void **state)
{
    (void)state;
    static const char *const bad_pack[] = {"qx", "q)", "q]", "q}", "q(", "q[", "q{", "q#", "q|", "qy", "yq", "qyq", "qy#q)",
                                           "z#", "e#", "n(", "V)", "q s#y", "s#q#", "#"};
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack(&b, "s", "kept"));
    const size_t len = b.len;
    for (size_t k = 0; k < sizeof bad_pack / sizeof bad_pack[0]; k++) {
        MPT_CODE(mp_pack(&b, bad_pack[k], NULL, NULL, NULL), MP_EFORMAT);
        assert_int_equal(b.len, len);
        assert_memory_equal(b.data, "\xa4kept", len);
    }
    /* Letters alone with their '#', for contrast, are fine. */
    MPT_OK(mp_pack(&b, "q s#y#", (int64_t)1, "ab", (size_t)2, "c", (size_t)1));

    mp_buf_clear(&b);
    MPT_OK(mp_pack(&b, "[q]", (int64_t)3));
    mp_value *v = decode_ok(&b);
    static const char *const bad_args[] = {"qx", "q)", "q(", "q#", "q{i}", "q||", "z#", "qy", "yq", "|q|"};
    for (size_t k = 0; k < sizeof bad_args / sizeof bad_args[0]; k++) {
        int64_t x = 42;
        MPT_CODE(mp_args(v, bad_args[k], &x, &x, &x), MP_EFORMAT);
        assert_int_equal(x, 42);
    }
    mp_value_free(v);
    mp_buf_free(&b);
}

static void one_letter_failures_leave_buffer_unchanged(void **state)
{
    (void)state;
    mp_value cycle = {.type = MP_ARRAY};
    cycle.as.array.items = &cycle;
    cycle.as.array.len = 1;
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack(&b, "s", "kept"));
    const size_t len = b.len;
    MPT_CODE(mp_pack(&b, "z", "\xff"), MP_EINVAL);
    assert_int_equal(b.len, len);
    MPT_CODE(mp_pack(&b, "V", &cycle), MP_EINVAL);
    assert_int_equal(b.len, len);
    MPT_CODE(mp_pack(&b, "O", NULL), MP_ETYPE);
    assert_int_equal(b.len, len);
    MPT_CODE(mp_pack(&b, "e", -129, "x", (size_t)1), MP_ERANGE);
    assert_int_equal(b.len, len);
    MPT_CODE(mp_pack(NULL, "q", (int64_t)1), MP_EINVAL);
    assert_memory_equal(b.data, "\xa4kept", len);
    mp_buf_free(&b);
}

/* Integers of every width appended one by one, so that writes meet the end
 * of the buffer's room at every offset; then a write that fills the room
 * exactly, which must not grow the buffer. */
static void buffer_room_at_every_offset(void **state)
{
    (void)state;
    static const int64_t widths[] = {1, -1, 200, -100, 60000, -30000, 4000000000, -2000000000, INT64_MIN};
    const uint32_t n = 3000;
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_pack_array(&b, n));
    for (uint32_t k = 0; k < n; k++)
        MPT_OK(mp_pack(&b, "q", widths[k % (sizeof widths / sizeof widths[0])] + k % 3));
    mp_value *v = decode_ok(&b);
    for (uint32_t k = 0; k < n; k++)
        assert_true(v->as.array.items[k].as.i == widths[k % (sizeof widths / sizeof widths[0])] + k % 3);
    mp_value_free(v);

    mp_buf_clear(&b);
    MPT_OK(mp_buf_append(&b, "x", 1));
    const size_t cap = b.cap;
    const unsigned char *data = b.data;
    while (b.len < cap - 9)
        MPT_OK(mp_buf_append(&b, "x", 1));
    MPT_OK(mp_pack(&b, "q", INT64_MIN));
    assert_int_equal(b.len, cap);
    assert_int_equal(b.cap, cap);
    assert_ptr_equal(b.data, data);
    assert_memory_equal(b.data + cap - 9, "\xd3\x80\0\0\0\0\0\0\0", 9);
    MPT_OK(mp_pack(&b, "n"));
    assert_true(b.cap > cap);
    assert_int_equal(b.data[cap], 0xc0);
    mp_buf_free(&b);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(integers_take_the_smallest_form),
        MPT_TEST(scalars_and_headers),
        MPT_TEST(size_classes),
        MPT_TEST(every_type_round_trips),
        MPT_TEST(integers_decode_by_value),
        MPT_TEST(optional_items),
        MPT_TEST(unpack_type_and_range_errors),
        MPT_TEST(malformed_formats_read_no_argument),
        MPT_TEST(failed_pack_leaves_buffer_unchanged),
        MPT_TEST(borrowed_buffer_moves_when_it_grows),
        MPT_TEST(message_nesting_counts_its_array),
        MPT_TEST(every_truncation_is_refused),
        MPT_TEST(malformed_input),
        MPT_TEST(limits_are_enforced),
        MPT_TEST(cyclic_tree_is_refused),
        MPT_TEST(large_bin_round_trips),
        MPT_TEST(one_letter_packs_as_the_general_path),
        MPT_TEST(boundary_integers_round_trip),
        MPT_TEST(one_letter_args_check_ranges),
        MPT_TEST(one_letter_args_check_types_and_counts),
        MPT_TEST(short_lookalikes_are_checked_whole),
        MPT_TEST(one_letter_failures_leave_buffer_unchanged),
        MPT_TEST(buffer_room_at_every_offset),
    };
    return MPT_RUN(tests);
}
