/* digest_echo.c - the C side of tests/digest_interop.py. Reads records from
 * stdin until its end, each a key and a message, both as a 4-byte
 * big-endian length and the bytes, and answers each with one line:
 * "sha256(msg) md5(msg) hmac_sha256(key, msg) hmac_md5(key, msg)" in hex. */
#include <stdio.h>
#include <stdlib.h>
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

#include "crypto/digest.h"

/* A field's bytes in *out (malloc'd, NULL when empty, to try that too);
 * 1 at the clean end of the input, -1 if the input stops inside a field. */
static int read_field(unsigned char **out, size_t *len)
{
    unsigned char head[4];
    size_t got = fread(head, 1, 4, stdin);
    if (got == 0 && feof(stdin))
        return 1;
    if (got != 4)
        return -1;
    *len = (size_t)head[0] << 24 | (size_t)head[1] << 16 | (size_t)head[2] << 8 | head[3];
    *out = NULL;
    if (*len == 0)
        return 0;
    *out = malloc(*len);
    if (*out == NULL || fread(*out, 1, *len, stdin) != *len)
        return -1;
    return 0;
}

static void print_hex(const unsigned char *d, size_t n, char end)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", d[i]);
    putchar(end);
}

int main(void)
{
#ifdef _WIN32
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
#endif
    for (;;) {
        unsigned char *key = NULL, *msg = NULL, d[MP_SHA256_SIZE];
        size_t key_len, msg_len;
        int rc = read_field(&key, &key_len);
        if (rc == 1)
            break;
        if (rc != 0 || read_field(&msg, &msg_len) != 0) {
            fprintf(stderr, "digest_echo: truncated or unreadable input\n");
            return 1;
        }
        mp_sha256(msg, msg_len, d);
        print_hex(d, MP_SHA256_SIZE, ' ');
        mp_md5(msg, msg_len, d);
        print_hex(d, MP_MD5_SIZE, ' ');
        mp_hmac(MP_DIGEST_SHA256, key, key_len, msg, msg_len, d);
        print_hex(d, MP_SHA256_SIZE, ' ');
        mp_hmac(MP_DIGEST_MD5, key, key_len, msg, msg_len, d);
        print_hex(d, MP_MD5_SIZE, '\n');
        free(key);
        free(msg);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
