/* pool_send.c - writing task messages to a worker: the small ones several
 * to a write, a large one without copying its bytes. */
#include <string.h>

#include "ipc/conn_internal.h"
#include "pack/pack_internal.h"
#include "pool/pool_internal.h"

/* Task messages are sent in batches of about this many bytes. */
#define SEND_BATCH ((size_t)64 << 10)

static int flush(pool_slot *s)
{
    int rc = s->out.len ? mp_conn_write(s->conn, s->out.data, s->out.len) : MP_OK;
    mp_buf_clear(&s->out);
    return rc;
}

/* A large chunk's bytes go out where they lie, after its headers: the
 * task header is packed behind room for the longest frame header, which
 * goes right in front of it once the length is known. */
static int send_large(pool_slot *s, const pool_chunk *c)
{
    int rc = mp_buf_reserve(&s->out, MP_CONN_FRAME_MAX_HEADER);
    if (rc != MP_OK)
        return rc;
    s->out.len = MP_CONN_FRAME_MAX_HEADER;
    rc = c->task->header(c, &s->out);
    size_t header_len = s->out.len - MP_CONN_FRAME_MAX_HEADER;
    unsigned char h[MP_CONN_FRAME_MAX_HEADER];
    size_t n = mp_conn_frame_header(h, header_len + c->len);
    unsigned char *start = s->out.data + MP_CONN_FRAME_MAX_HEADER - n;
    memcpy(start, h, n);
    if (rc == MP_OK)
        rc = mp_conn_write(s->conn, start, n + header_len);
    if (rc == MP_OK)
        rc = mp_conn_write(s->conn, c->data, c->len);
    mp_buf_clear(&s->out);
    return rc;
}

/* A failed send means the worker is gone: its sentinel says so next. */
void mp_pool_send_chunks(pool_slot *s, const pool_chunk *c)
{
    int rc = MP_OK;
    for (; c != NULL && rc == MP_OK; c = c->next) {
        if (c->len >= SEND_BATCH) {
            if ((rc = flush(s)) == MP_OK)
                rc = send_large(s, c);
            continue;
        }
        size_t mark;
        rc = mp_conn_frame_begin(&s->out, &mark);
        if (rc == MP_OK)
            rc = mp_pool_chunk_message(c, &s->out);
        if (rc == MP_OK)
            rc = mp_conn_frame_end(&s->out, mark);
        if (rc == MP_OK && s->out.len >= SEND_BATCH)
            rc = flush(s);
    }
    if (rc == MP_OK)
        flush(s);
    mp_buf_clear(&s->out);
}
