/* conn_reader.c - a Connection's messages read in bulk (conn_reader.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc/conn_internal.h"
#include "ipc/conn_reader.h"
#include "base/error_internal.h"
#include "pack/pack_internal.h"

#define READ_SIZE ((size_t)64 << 10)
/* A message this long that has not arrived whole may go into an
 * allocation of its own, read there directly: the caller may keep it,
 * uncopied. */
#define OWN_FROM ((size_t)32 << 10)

void mp_conn_reader_init(mp_conn_reader *r, mp_os_handle h)
{
    *r = (mp_conn_reader){.h = h, .buf = MP_BUF_INIT};
}

void mp_conn_reader_free(mp_conn_reader *r)
{
    mp_buf_free(&r->buf);
    *r = (mp_conn_reader){.h = MP_OS_NO_HANDLE, .buf = MP_BUF_INIT};
}

/* The frame header at the start of what is buffered: its size, or 0 if
 * it has not all arrived. */
static size_t header_at(const mp_conn_reader *r, uint64_t *len)
{
    size_t avail = r->buf.len - r->start;
    return avail ? mp_conn_frame_length(r->buf.data + r->start, avail, len) : 0;
}

bool mp_conn_reader_has_message(const mp_conn_reader *r)
{
    uint64_t len;
    size_t header = header_at(r, &len);
    return header != 0 && len <= r->buf.len - r->start - header;
}

/* Read what has arrived, with room for need bytes from start (and at
 * least READ_SIZE, so that one read takes many small messages). */
static int fill(mp_conn_reader *r, size_t need)
{
    size_t avail = r->buf.len - r->start;
    if (r->start > 0 && r->buf.cap - r->start < need) {
        memmove(r->buf.data, r->buf.data + r->start, avail);
        r->buf.len = avail;
        r->start = 0;
    }
    int rc = mp_buf_reserve(&r->buf, (need > READ_SIZE ? need : READ_SIZE) - avail);
    if (rc != MP_OK)
        return rc;
    size_t got;
    rc = mp_os_pipe_read_some(r->h, r->buf.data + r->buf.len, r->buf.cap - r->buf.len, &got);
    if (rc == MP_OK)
        r->buf.len += got;
    return rc;
}

static int read_owned(mp_conn_reader *r, size_t header, size_t len, mp_message *m)
{
    unsigned char *block = malloc(len);
    if (block == NULL)
        return mp_fail(MP_ENOMEM, "recv: no memory for a %zu-byte message", len);
    size_t have = r->buf.len - r->start - header;
    memcpy(block, r->buf.data + r->start + header, have);
    r->start = r->buf.len = 0;
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
        size_t avail = r->buf.len - r->start;
        uint64_t len = 0;
        size_t header = header_at(r, &len);
        if (header != 0 && len > SIZE_MAX - READ_SIZE)
            return mp_fail(MP_ETOOBIG, "recv: a %llu-byte message does not fit in memory", (unsigned long long)len);
        if (header != 0 && len <= avail - header) {
            *m = (mp_message){r->buf.data + r->start + header, (size_t)len, NULL};
            r->start += header + (size_t)len;
            if (r->start == r->buf.len)
                r->start = r->buf.len = 0;
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
