/* test_handoff.c - the handoff map and the frame a spawned child reads:
 * what the parent writes is what the child parses, and anything malformed
 * is MP_EPROTO with a message, never a crash. */
#include <stdlib.h>
#include <string.h>

#include "process/frame.h"
#include "process/handoff.h"
#include "harness.h"

static const unsigned char key[MP_AUTHKEY_SIZE] = {1, 2, 3};
static const char *const argv_in[] = {"prog", "a b", "\xc3\xa9"};

static void encode_sample(mp_buf *out)
{
    mp_buf args = MP_BUF_INIT;
    MPT_OK(mp_pack(&args, "(is)", 7, "x"));
    mp_handoff h = {
        .parent_pid = 1234,
        .method = MP_START_SPAWN,
        .target = "work",
        .args_packed = args.data,
        .args_len = args.len,
        .argc = 3,
        .argv = argv_in,
        .name = "Process-2:5",
        .parent_name = "Process-2",
        .ident = {2, 5},
        .ident_len = 2,
        .daemon = true,
        .authkey = key,
        .authkey_len = sizeof key,
        .nhandles = 3,
    };
    MPT_OK(mp_handoff_encode(out, &h));
    mp_buf_free(&args);
}

static void round_trip(void **state)
{
    (void)state;
    mp_buf blob = MP_BUF_INIT;
    encode_sample(&blob);
    mp_value *tree;
    MPT_OK(mp_decode(blob.data, blob.len, NULL, &tree));
    mp_handoff h;
    MPT_OK(mp_handoff_parse(tree, &h));
    assert_int_equal(h.parent_pid, 1234);
    assert_int_equal(h.method, MP_START_SPAWN);
    assert_string_equal(h.target, "work");
    int n;
    const char *s;
    MPT_OK(mp_args(h.args, "is", &n, &s));
    assert_int_equal(n, 7);
    assert_string_equal(s, "x");
    assert_string_equal(h.name, "Process-2:5");
    assert_string_equal(h.parent_name, "Process-2");
    assert_int_equal(h.ident_len, 2);
    assert_int_equal(h.ident[1], 5);
    assert_true(h.daemon);
    assert_int_equal(h.authkey_len, sizeof key);
    assert_memory_equal(h.authkey, key, sizeof key);
    assert_int_equal(h.nhandles, 3);
    assert_int_equal(h.globals->type, MP_MAP);

    int argc;
    char **argv;
    MPT_OK(mp_handoff_copy_argv(h.argv_value, &argc, &argv));
    assert_int_equal(argc, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(argv[i], argv_in[i]);
    assert_null(argv[3]);
    free(argv);
    mp_value_free(tree);
    mp_buf_free(&blob);
}

/* Re-encode the sample with one field replaced (or removed, when packed is
 * NULL) and check the parse is refused. */
static void refused_with(const char *field, const char *fmt, ...)
{
    mp_buf blob = MP_BUF_INIT;
    encode_sample(&blob);
    mp_value *tree;
    MPT_OK(mp_decode(blob.data, blob.len, NULL, &tree));

    mp_buf patched = MP_BUF_INIT;
    uint32_t n = tree->as.map.len;
    MPT_OK(mp_pack_map(&patched, fmt ? n : n - 1));
    for (uint32_t i = 0; i < n; i++) {
        const mp_value *k = &tree->as.map.items[2 * i];
        if (strcmp(k->as.str.ptr, field) == 0) {
            if (fmt == NULL)
                continue;
            MPT_OK(mp_pack_value(&patched, k));
            va_list ap;
            va_start(ap, fmt);
            MPT_OK(mp_vpack(&patched, fmt, ap));
            va_end(ap);
        } else {
            MPT_OK(mp_pack_value(&patched, k));
            MPT_OK(mp_pack_value(&patched, &tree->as.map.items[2 * i + 1]));
        }
    }
    mp_value *bad;
    MPT_OK(mp_decode(patched.data, patched.len, NULL, &bad));
    mp_handoff h;
    MPT_CODE(mp_handoff_parse(bad, &h), MP_EPROTO);
    assert_true(strlen(mp_last_error()) > 0);
    mp_value_free(bad);
    mp_value_free(tree);
    mp_buf_free(&patched);
    mp_buf_free(&blob);
}

static void malformed_fields(void **state)
{
    (void)state;
    static const char *const required[] = {"v",    "ppid",  "method", "target", "args",    "globals", "argv",
                                           "name", "pname", "ident",  "daemon", "authkey", "handles"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        refused_with(required[i], NULL);
    refused_with("v", "i", 1);
    refused_with("v", "i", 3);
    refused_with("pname", "i", 7);
    refused_with("v", "s", "1");
    refused_with("ppid", "i", 0);
    refused_with("method", "s", "vfork");
    refused_with("method", "s", "default");
    refused_with("target", "i", 5);
    refused_with("args", "{}");
    refused_with("globals", "[]");
    refused_with("argv", "[si]", "x", 1);
    refused_with("ident", "[]");
    refused_with("ident", "[i]", -1);
    refused_with("ident", "[q]", (int64_t)1 << 40);
    refused_with("daemon", "i", 1);
    static const unsigned char long_key[257];
    refused_with("authkey", "y#", long_key, sizeof long_key);
    refused_with("authkey", "s", "text");
    refused_with("handles", "i", -1);

    mp_value *not_map;
    static const unsigned char one[] = {0x01};
    MPT_OK(mp_decode(one, 1, NULL, &not_map));
    mp_handoff h;
    MPT_CODE(mp_handoff_parse(not_map, &h), MP_EPROTO);
    mp_value_free(not_map);
}

static void frame_header(void **state)
{
    (void)state;
    unsigned char raw[MP_FRAME_HEADER_SIZE];
    mp_frame_header in = {.nhandles = 3, .nsockets = 2, .blob_len = 123456789, .parent_handle = 0x1234}, out;
    mp_frame_encode_header(raw, &in);
    assert_memory_equal(raw, "MPRC", 4);
    MPT_OK(mp_frame_decode_header(raw, &out));
    assert_int_equal(out.nhandles, 3);
    assert_int_equal(out.nsockets, 2);
    assert_int_equal(out.blob_len, 123456789);
    assert_int_equal(out.parent_handle, 0x1234);

    unsigned char bad[MP_FRAME_HEADER_SIZE];
    memcpy(bad, raw, sizeof bad);
    bad[0] = 'X';
    MPT_CODE(mp_frame_decode_header(bad, &out), MP_EPROTO);
    memcpy(bad, raw, sizeof bad);
    bad[4] = 2; /* version */
    MPT_CODE(mp_frame_decode_header(bad, &out), MP_EPROTO);
    memcpy(bad, raw, sizeof bad);
    bad[12] = 4; /* more shared sockets than handles */
    MPT_CODE(mp_frame_decode_header(bad, &out), MP_EPROTO);
    in.nhandles = MP_FRAME_MAX_HANDLES + 1;
    mp_frame_encode_header(bad, &in);
    MPT_CODE(mp_frame_decode_header(bad, &out), MP_EPROTO);
    in.nhandles = 0;
    in.blob_len = (uint64_t)MP_FRAME_MAX_BLOB + 1;
    mp_frame_encode_header(bad, &in);
    MPT_CODE(mp_frame_decode_header(bad, &out), MP_EPROTO);
    mp_frame_put_u64(bad, UINT64_MAX - 5);
    assert_true(mp_frame_get_u64(bad) == UINT64_MAX - 5);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(round_trip),
        MPT_TEST(malformed_fields),
        MPT_TEST(frame_header),
    };
    return MPT_RUN(tests);
}
