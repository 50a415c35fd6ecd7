/* mproc/conn.h - Pipe and Connection (multiprocessing.Pipe).
 *
 * A message is one MessagePack value (send/recv) or raw bytes (send_bytes /
 * recv_bytes). On the wire each message is framed as Python frames it: a
 * 4-byte big-endian length, or 0xFFFFFFFF and an 8-byte length for 2 GiB
 * and more. Boundaries are kept; zero-length messages are legal; any size
 * works.
 *
 * A connection travels to a child as a process argument ('O'); its handle
 * is duplicated into the child. It cannot be sent inside a message.
 *
 * Thread safety: send, send_bytes and recv/recv_bytes may be called from
 * several threads at once: whole messages are sent and received under a
 * per-direction lock, so messages never interleave. poll and recv from two
 * threads at once are safe, but which thread gets the next message is
 * unspecified. close must not race with other calls on the same object.
 *
 * Errors: MP_EINVAL (NULL), MP_ETYPE (not a Connection), MP_ESTATE (closed,
 * or the wrong direction of a one-way pipe), MP_EEOF (the other end is
 * closed and nothing is left to read; writing to a closed peer), MP_ETOOBIG
 * (recv_bytes: longer than maxlength; the connection is then unusable, as in
 * Python), MP_EPROTO (a malformed message), MP_EOS.
 */
#ifndef MPROC_CONN_H
#define MPROC_CONN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mproc/pack.h"
#include "mproc/process.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mp_conn mp_conn;

/* Pipe(duplex): duplex gives two ends that both send and receive;
 * otherwise *a only receives and *b only sends. Free both with
 * mp_conn_close. */
int mp_pipe(bool duplex, mp_conn **a, mp_conn **b);

/* send(obj): pack the values of fmt as one message (a format of several
 * values sends an array of them, as mp_process_new's arguments). */
int mp_conn_send(mp_conn *c, const char *fmt, ...);
int mp_conn_vsend(mp_conn *c, const char *fmt, va_list ap);
/* recv(): the next message, decoded. *out is the caller's to free with
 * mp_value_free. */
int mp_conn_recv(mp_conn *c, mp_value **out);

/* send_bytes(buf). */
int mp_conn_send_bytes(mp_conn *c, const void *data, size_t len);
/* recv_bytes(maxlength): *data is malloc'd (free with free(); non-NULL even
 * for an empty message). maxlength 0 means no limit. */
int mp_conn_recv_bytes(mp_conn *c, size_t maxlength, void **data, size_t *len);
/* recv_bytes_into(buf): if the message fits, it is copied and *len is its
 * size. If not, MP_ETOOBIG with *len the size needed, and the message stays
 * to be read by the next call (Python raises BufferTooShort holding it). */
int mp_conn_recv_bytes_into(mp_conn *c, void *buf, size_t size, size_t *len);

/* poll(timeout): MP_OK if a message (or end of file) is there to read,
 * MP_ETIMEDOUT if not. MP_FOREVER waits until there is; 0 or any negative
 * value (and NaN) checks without waiting. */
int mp_conn_poll(mp_conn *c, double timeout);

/* fileno(): a sentinel for mp_wait, ready when recv would not block. */
int mp_conn_fileno(const mp_conn *c, mp_sentinel *out);
/* readable, writable, closed. A live connection is never closed (close
 * frees it); mp_conn_closed is true for NULL or a pointer that is not a
 * connection, where the other two are false. */
bool mp_conn_readable(const mp_conn *c);
bool mp_conn_writable(const mp_conn *c);
bool mp_conn_closed(const mp_conn *c);

/* close(): the end is closed and the object freed, so the pointer may not
 * be used again (not even for mp_conn_closed): Python's close() leaves an
 * object whose only use is to say it is closed, which C code does not need.
 * There is no separate free (docs/ARCHITECTURE.md, "Ending objects"). NULL
 * is accepted. */
int mp_conn_close(mp_conn *c);

/* ---- passing an OS handle (multiprocessing.reduction) ---------------------
 *
 * send_handle(conn, handle, destination_pid) and recv_handle(conn): an open
 * file descriptor (POSIX) or HANDLE (Windows), as intptr_t, goes to the
 * process at the other end of the connection, which gets its own handle to
 * the same file, pipe, socket or other object. Handle messages take their
 * place in order among the ordinary messages of the connection, under the
 * same locks (the thread safety above holds), and the receiver must expect
 * one where the sender sent one: docs/protocol.md §8 gives the bytes.
 *
 * Which connections carry one: on POSIX the descriptor travels as
 * SCM_RIGHTS, so only a duplex Pipe (a socketpair) and a unix: Listener or
 * Client connection can; a one-way Pipe or a tcp:// connection gives
 * MP_EUNSUPPORTED on both ends. On Windows the handle is duplicated into
 * destination_pid and its value sent, so every connection can.
 *
 * Not Python's bytes: a Python peer's send_handle cannot be received here,
 * nor ours there (Python writes a bare byte on POSIX, a pickle on Windows).
 *
 * Ownership: the caller of send keeps its handle and still closes it; it may
 * do so as soon as send returns. The handle recv gives is the caller's, to
 * close with close() or CloseHandle(); it is not inherited by children
 * (close-on-exec; not inheritable) unless passed to them.
 *
 * Errors, besides those of the header above: MP_EINVAL (NULL connection or
 * out, a handle that is not an open descriptor or handle), MP_ESTATE (this
 * end does not send, or does not receive), MP_EUNSUPPORTED (a connection that
 * cannot carry a descriptor, POSIX), MP_EOS (Windows: no process
 * destination_pid, or one that may not be opened), MP_EPROTO (recv: the next
 * message is not a handle message; it is consumed, and any descriptor that
 * came with it closed, so the connection stays usable). */

/* send_handle: destination_pid is the receiving process (mp_process_pid of
 * a child, mp_current_pid() for this process); POSIX ignores it. Windows:
 * the handle exists in the destination from the moment this returns, so if
 * that process never calls recv_handle it stays open there until the
 * process ends (Python's DupHandle behaves the same); no acknowledgement is
 * awaited. */
int mp_conn_send_handle(mp_conn *c, intptr_t handle, long destination_pid);
/* recv_handle: the next message, which must be a handle message; *handle is
 * the caller's. Windows: the message must name this process as its
 * destination (MP_EPROTO otherwise). */
int mp_conn_recv_handle(mp_conn *c, intptr_t *handle);

#ifdef __cplusplus
}
#endif

#endif
