/* pack_echo.c - the C side of tests/pack_interop.py.
 *   pack_echo emit   write a fixed list of values packed by format strings,
 *                    one after another, to stdout;
 *   pack_echo echo   read messages from stdin (4-byte big-endian length,
 *                    then MessagePack), decode each, re-encode it with
 *                    mp_pack_value and write it back framed the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

#include <mproc.h>

static int emit_n(mp_buf *b, const char *fmt, size_t n, char fill)
{
    char *s = malloc(n ? n : 1);
    if (s == NULL)
        return MP_ENOMEM;
    memset(s, fill, n);
    int rc = fmt[0] == 'e' ? mp_pack(b, fmt, 5, s, n) : mp_pack(b, fmt, s, n);
    free(s);
    return rc;
}

static int emit_nils(mp_buf *b, int (*header)(mp_buf *, uint32_t), uint32_t n, int pairs)
{
    int rc = header(b, n);
    for (uint32_t i = 0; i < n && rc == MP_OK; i++)
        rc = pairs ? mp_pack(b, "in", (int)i) : mp_pack_nil(b);
    return rc;
}

/* Keep in step with EXPECTED in pack_interop.py. */
static int emit(mp_buf *b)
{
    int rc = mp_pack(b, "n ? ?", 1, 0);
    static const int64_t ints[] = {0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, INT64_MAX,
                                   -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN,
                                   (int64_t)INT32_MIN - 1, INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0] && rc == MP_OK; i++)
        rc = mp_pack(b, "q", ints[i]);
    if (rc == MP_OK)
        rc = mp_pack(b, "Q d d f s s", UINT64_MAX, 1.5, -0.0, 0.25, "", "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80");
    static const size_t str_sizes[] = {31, 32, 255, 256, 65535, 65536};
    for (size_t i = 0; i < 6 && rc == MP_OK; i++)
        rc = emit_n(b, "s#", str_sizes[i], 'a');
    static const size_t bin_sizes[] = {0, 255, 256, 65535, 65536};
    for (size_t i = 0; i < 5 && rc == MP_OK; i++)
        rc = emit_n(b, "y#", bin_sizes[i], 'b');
    static const size_t ext_sizes[] = {1, 2, 4, 8, 16, 0, 3, 256, 65536};
    for (size_t i = 0; i < 9 && rc == MP_OK; i++)
        rc = emit_n(b, "e", ext_sizes[i], 'c');
    static const uint32_t counts[] = {0, 15, 16, 65535, 65536};
    for (size_t i = 0; i < 5 && rc == MP_OK; i++)
        rc = emit_nils(b, mp_pack_array, counts[i], 0);
    for (size_t i = 0; i < 5 && rc == MP_OK; i++)
        rc = emit_nils(b, mp_pack_map, counts[i], 1);
    if (rc == MP_OK)
        rc = mp_pack(b, "[i[i[s]]] {s[i s] s{}}", 1, 2, "three", "k", 1, "x", "empty");
    return rc;
}

static int read_exact(void *p, size_t n)
{
    return fread(p, 1, n, stdin) == n ? 0 : -1;
}

/* Exit code when stdin was empty from the start: the test always sends
 * something, so this is the pipe failing us (seen once under Wine), which
 * pack_interop.py tells from a wrong answer. */
#define NO_INPUT 3

static int echo(void)
{
    unsigned char head[4];
    int c = getc(stdin);
    if (c == EOF) {
        fprintf(stderr, "pack_echo: stdin was empty\n");
        return NO_INPUT;
    }
    ungetc(c, stdin);
    while (read_exact(head, 4) == 0) {
        size_t len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
        unsigned char *msg = malloc(len ? len : 1);
        mp_value *v = NULL;
        mp_buf out = MP_BUF_INIT;
        if (msg == NULL || read_exact(msg, len) != 0 || mp_decode(msg, len, &(mp_limits){.max_nodes = len + 1}, &v) ||
            mp_pack_value(&out, v)) {
            fprintf(stderr, "pack_echo: %s\n", mp_last_error());
            return 1;
        }
        unsigned char olen[4] = {(unsigned char)(out.len >> 24), (unsigned char)(out.len >> 16),
                                 (unsigned char)(out.len >> 8), (unsigned char)out.len};
        fwrite(olen, 1, 4, stdout);
        fwrite(out.data, 1, out.len, stdout);
        mp_buf_free(&out);
        mp_value_free(v);
        free(msg);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
#ifdef _WIN32
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
#endif
    if (argc == 2 && strcmp(argv[1], "echo") == 0)
        return echo();
    if (argc == 2 && strcmp(argv[1], "emit") == 0) {
        mp_buf b = MP_BUF_INIT;
        if (emit(&b) != MP_OK) {
            fprintf(stderr, "pack_echo: %s\n", mp_last_error());
            return 1;
        }
        fwrite(b.data, 1, b.len, stdout);
        mp_buf_free(&b);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    fprintf(stderr, "usage: pack_echo emit|echo\n");
    return 2;
}
