/* conn_reader.c - a Connection's messages read in bulk (conn_reader.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn_internal.h"
#include "conn_reader.h"
#include "errors.h"

#define READ_SIZE ((size_t)64 << 10)
/* A message this long that has not arrived whole may go into an
 * allocation of its own, read there directly: the caller may keep it,
 * uncopied. */
#define OWN_FROM ((size_t)32 << 10)

void mp_conn_reader_init(mp_conn_reader *r, mp_os_handle h)
{
    *r = (mp_conn_reader){.h = h};
}

void mp_conn_reader_free(mp_conn_reader *r)
{
    free(r->buf);
    *r = (mp_conn_reader){.h = MP_OS_NO_HANDLE};
}

bool mp_conn_reader_has_message(const mp_conn_reader *r)
{
    uint64_t len;
    size_t avail = r->end - r->start;
    size_t header = avail ? mp_conn_frame_length(r->buf + r->start, avail, &len) : 0;
    return header != 0 && len <= avail - header;
}

/* Read what has arrived, with room for need bytes from start. */
static int fill(mp_conn_reader *r, size_t need)
{
    if (r->start > 0 && r->cap - r->start < need) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap < need) {
        size_t cap = need > READ_SIZE ? need : READ_SIZE;
        unsigned char *grown = realloc(r->buf, cap);
        if (grown == NULL)
            return mp_fail(MP_ENOMEM, "recv: no memory for a %zu-byte buffer", cap);
        r->buf = grown;
        r->cap = cap;
    }
    size_t got;
    int rc = mp_os_pipe_read_some(r->h, r->buf + r->end, r->cap - r->end, &got);
    if (rc == MP_OK)
        r->end += got;
    return rc;
}

static int read_owned(mp_conn_reader *r, size_t header, size_t len, mp_message *m)
{
    unsigned char *block = malloc(len);
    if (block == NULL)
        return mp_fail(MP_ENOMEM, "recv: no memory for a %zu-byte message", len);
    size_t have = r->end - r->start - header;
    memcpy(block, r->buf + r->start + header, have);
    r->start = r->end = 0;
    int rc = mp_os_pipe_read(r->h, block + have, len - have);
    if (rc != MP_OK) {
        free(block);
        return rc == MP_EEOF ? mp_fail(MP_EPROTO, "recv: the peer closed inside a message") : rc;
    }
    *m = (mp_message){block, len, block};
    return MP_OK;
}

int mp_conn_reader_next(mp_conn_reader *r, bool may_own, mp_message *m)
{
    for (;;) {
        size_t avail = r->end - r->start;
        uint64_t len = 0;
        size_t header = avail ? mp_conn_frame_length(r->buf + r->start, avail, &len) : 0;
        if (header != 0 && len > SIZE_MAX - READ_SIZE)
            return mp_fail(MP_ETOOBIG, "recv: a %llu-byte message does not fit in memory", (unsigned long long)len);
        if (header != 0 && len <= avail - header) {
            *m = (mp_message){r->buf + r->start + header, (size_t)len, NULL};
            r->start += header + (size_t)len;
            if (r->start == r->end)
                r->start = r->end = 0;
            return MP_OK;
        }
        if (may_own && header != 0 && len >= OWN_FROM)
            return read_owned(r, header, (size_t)len, m);
        int rc = fill(r, header != 0 ? header + (size_t)len : MP_CONN_FRAME_MAX_HEADER);
        if (rc == MP_EEOF && avail > 0)
            return mp_fail(MP_EPROTO, "recv: the peer closed inside a message");
        if (rc != MP_OK)
            return rc;
    }
}
