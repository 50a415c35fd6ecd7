/* program_framing.c - a program pool's tasks framed for a program's stdin,
 * and its replies taken off its stdout (mproc/program_pool.h says the
 * framings). */
#include <stdint.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/utf8.h"
#include "pack/pack_internal.h"
#include "subprocess/program.h"

/* The payload of a packed str or bin; false for any other value. */
static bool text_or_bytes(const unsigned char *v, size_t len, const unsigned char **payload, size_t *n)
{
    size_t width;
    unsigned char c = v[0];
    if (c >= 0xa0 && c <= 0xbf) {
        *payload = v + 1;
        *n = c & 0x1f;
        return true;
    }
    switch (c) {
    case 0xd9:
    case 0xc4:
        width = 1;
        break;
    case 0xda:
    case 0xc5:
        width = 2;
        break;
    case 0xdb:
    case 0xc6:
        width = 4;
        break;
    default:
        return false;
    }
    size_t size = 0;
    for (size_t i = 0; i < width; i++)
        size = size << 8 | v[1 + i];
    *payload = v + 1 + width;
    *n = size;
    return 1 + width + size <= len;
}

int mp_frame_task(mp_program_framing f, const unsigned char *v, size_t len, mp_buf *out, const char *what)
{
    if (f == MP_FRAME_MSGPACK)
        return out ? mp_buf_append(out, v, len) : MP_OK;
    const unsigned char *payload;
    size_t n;
    if (len == 0 || !text_or_bytes(v, len, &payload, &n))
        return mp_fail(MP_EINVAL, "%s: a program's task is a str or bin in this framing", what);
    if (f == MP_FRAME_LINE && memchr(payload, '\n', n) != NULL)
        return mp_fail(MP_EINVAL, "%s: a task line holds a '\\n'", what);
    if (f == MP_FRAME_LENGTH && (uint64_t)n > UINT32_MAX)
        return mp_fail(MP_EINVAL, "%s: a task of %zu bytes is more than a 4-byte length says", what, n);
    if (out == NULL)
        return MP_OK;
    unsigned char prefix[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                               (unsigned char)n};
    int rc = f == MP_FRAME_LENGTH ? mp_buf_append(out, prefix, sizeof prefix) : MP_OK;
    if (rc == MP_OK)
        rc = mp_buf_append(out, payload, n);
    if (rc == MP_OK && f == MP_FRAME_LINE)
        rc = mp_buf_append(out, "\n", 1);
    return rc;
}

void mp_frame_reader_init(mp_frame_reader *r, mp_program_framing f, size_t max)
{
    *r = (mp_frame_reader){.framing = f, .max = max, .pending = MP_BUF_INIT};
}

void mp_frame_reader_free(mp_frame_reader *r)
{
    mp_buf_free(&r->pending);
}

bool mp_frame_reader_midway(const mp_frame_reader *r)
{
    return r->pending.len > 0;
}

/* One reply at the start of p[0..n) into values: *used is its size with
 * its framing, 0 while it is incomplete. A line's first skip bytes are
 * known to hold no '\n'. */
static int take_one(const mp_frame_reader *r, const unsigned char *p, size_t n, size_t skip, mp_buf *values,
                    size_t *used)
{
    *used = 0;
    if (r->framing == MP_FRAME_LINE) {
        const unsigned char *nl = memchr(p + skip, '\n', n - skip);
        size_t line = nl ? (size_t)(nl - p) : n;
        if (line > r->max)
            return mp_fail(MP_EPROTO, "the program wrote a line longer than max_reply (%zu bytes)", r->max);
        if (nl == NULL)
            return MP_OK;
        *used = line + 1;
        if (line > 0 && p[line - 1] == '\r')
            line--;
        return mp_utf8_valid(p, line) ? mp_pack(values, "s#", (const char *)p, line)
                                      : mp_pack(values, "y#", (const void *)p, line);
    }
    if (r->framing == MP_FRAME_LENGTH) {
        if (n < 4)
            return MP_OK;
        size_t size = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (size > r->max)
            return mp_fail(MP_EPROTO, "the program announced a reply of %zu bytes, more than max_reply (%zu)",
                           size, r->max);
        if (n - 4 < size)
            return MP_OK;
        *used = 4 + size;
        return mp_pack(values, "y#", (const void *)(p + 4), size);
    }
    size_t size;
    int rc = mp_value_span_stream(p, n, &size);
    if (rc != MP_OK)
        return mp_fail(MP_EPROTO, "the program wrote something that is not MessagePack: %s", mp_last_error());
    if (size > r->max || (size == 0 && n > r->max))
        return mp_fail(MP_EPROTO, "the program wrote a value longer than max_reply (%zu bytes)", r->max);
    *used = size;
    return size ? mp_buf_append(values, p, size) : MP_OK;
}

int mp_frame_reader_feed(mp_frame_reader *r, const void *data, size_t n, mp_buf *values, size_t *count)
{
    /* Replies that came whole are taken where they lie; only the start
     * of one still coming is kept. */
    const unsigned char *p = data;
    mp_buf *pend = &r->pending;
    int rc = MP_OK;
    if (pend->len > 0) {
        if ((rc = mp_buf_append(pend, data, n)) != MP_OK)
            return rc;
        p = pend->data;
        n = pend->len;
    }
    size_t pos = 0, used = 0, skip = r->seen;
    while (pos < n && (rc = take_one(r, p + pos, n - pos, skip, values, &used)) == MP_OK && used > 0) {
        pos += used;
        skip = 0;
        (*count)++;
    }
    if (rc != MP_OK)
        return rc;
    /* What is left is a line without its '\n', if lines they are. */
    r->seen = r->framing == MP_FRAME_LINE ? n - pos : 0;
    if (p == pend->data) {
        memmove(pend->data, pend->data + pos, n - pos);
        pend->len = n - pos;
        return MP_OK;
    }
    pend->len = 0;
    return n > pos ? mp_buf_append(pend, p + pos, n - pos) : MP_OK;
}
