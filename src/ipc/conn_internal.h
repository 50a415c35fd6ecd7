/* conn_internal.h - a Connection's framing and handle, for code of ours
 * that owns one end of a pipe outright (the pool and its workers): it sends
 * several messages in one system call and reads them in bulk
 * (conn_reader.h). A frame is Python's: a 4-byte big-endian length, or
 * 0xffffffff and an 8-byte length, then the message. */
#ifndef MPROC_CONN_INTERNAL_H
#define MPROC_CONN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mproc/conn.h"
#include "platform.h"

#define MP_CONN_FRAME_MAX_HEADER 12

/* A duplex Connection over a connected socket (net/), which it owns from
 * now on: closed with it, or at once if this fails. */
int mp_conn_from_socket(mp_os_handle s, mp_conn **out);
/* A duplex Connection over a pipe end made elsewhere than mp_pipe (a named
 * pipe of net/: a pipe end as the pipe functions take), owned the same way. */
int mp_conn_from_pipe(mp_os_handle h, mp_conn **out);

/* Write the header of a len-byte message; returns its size, 4 or 12. */
size_t mp_conn_frame_header(unsigned char h[MP_CONN_FRAME_MAX_HEADER], size_t len);
/* The size of the frame header at p, with *len its message's length, or 0
 * if avail bytes do not hold the whole header yet. */
size_t mp_conn_frame_length(const unsigned char *p, size_t avail, uint64_t *len);

/* Build a frame in place: begin reserves the header, end fills it in once
 * the message has been appended after it. */
int mp_conn_frame_begin(mp_buf *b, size_t *mark);
int mp_conn_frame_end(mp_buf *b, size_t mark);

/* Write bytes that the caller has framed (whole frames as built above, or
 * a frame's header and its message in two calls) under the send lock. */
int mp_conn_write(mp_conn *c, const void *frames, size_t len);

/* recv_bytes with a deadline for the whole message: MP_ETIMEDOUT if the
 * peer sends nothing within timeout (the connection stays usable), and
 * also if it stops in the middle of a message, which leaves the
 * connection unusable (MP_ESTATE from then on), since it is out of step.
 * For peers that may stall: a handshake, a manager's server. */
int mp_conn_recv_bytes_by(mp_conn *c, size_t maxlength, double timeout, void **data, size_t *len);

/* Wake a thread blocked reading the connection (it sees end of file or
 * an error); the connection must still be closed. */
void mp_conn_shutdown(mp_conn *c);

/* The pipe end itself, for a reader that owns it (pipes only: a socket
 * connection is read through conn.c). */
mp_os_handle mp_conn_handle(const mp_conn *c);

#endif
