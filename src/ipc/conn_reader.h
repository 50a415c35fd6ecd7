/* conn_reader.h - reading a Connection's messages in bulk: each system call
 * takes whatever has arrived, so a stream of small messages costs one read
 * for many, where mp_conn_recv_bytes costs two reads each. For the one
 * thread at a time that owns the receiving end: nothing else may read it,
 * and mp_wait on its handle does not see what the reader has buffered
 * (ask mp_conn_reader_has_message first). */
#ifndef MPROC_CONN_READER_H
#define MPROC_CONN_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/pack.h"
#include "platform.h"

typedef struct mp_conn_reader {
    mp_os_handle h;
    mp_buf buf;
    size_t start; /* buffered bytes: buf.data[start..buf.len) */
} mp_conn_reader;

/* A message. data is borrowed from the reader until its next call, unless
 * owned is set: then the message has an allocation of its own, which is
 * the caller's to free (data points into it). */
typedef struct mp_message {
    const unsigned char *data;
    size_t len;
    void *owned;
} mp_message;

void mp_conn_reader_init(mp_conn_reader *r, mp_os_handle h);
void mp_conn_reader_free(mp_conn_reader *r);
/* Whether a whole message is buffered: the next call will not block. */
bool mp_conn_reader_has_message(const mp_conn_reader *r);
/* The next message, waiting for it if need be. may_own: a long message
 * that has not arrived whole may go into an allocation of its own (for a
 * caller that keeps it); otherwise the reader's buffer grows to hold it,
 * and keeps that size for the next ones (for a caller that copies it, or
 * is done with it soon, and would rather not pay for fresh memory each
 * time). MP_EEOF if the peer closed between messages, MP_EPROTO inside
 * one; MP_ENOMEM; MP_EOS. */
int mp_conn_reader_next(mp_conn_reader *r, bool may_own, mp_message *m);

#endif
