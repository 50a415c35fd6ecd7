/* conn_handle.c - send_handle and recv_handle (conn.h): an OS handle passed
 * over a Connection, as Python's multiprocessing.reduction does.
 *
 * A handle message is an ordinary frame (conn.c's framing, under the
 * connection's locks, after any held message), so it takes its place among
 * the other messages in order. Its body (protocol.md §8) starts with 0xc1,
 * the one byte MessagePack never uses, so neither side can take it for a
 * value, and it is read whole even when it is refused, so the connection
 * stays in step. How the handle itself travels is the platform's
 * (platform.h, handle_pass.c): beside the frame on POSIX, as a value
 * duplicated into the receiver on Windows.
 *
 * There is no acknowledgement: once the message is written the handle is
 * the receiver's (in flight on POSIX, already in the receiver on Windows),
 * and the sender may close its own at once. Waiting for one would make the
 * sender read, and take an ordinary message meant for someone else. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "ipc/conn_internal.h"
#include "ipc/conn_object.h"
#include "mproc/conn.h"

#define MAGIC "\xc1mpH"
#define MAGIC_LEN 4
/* magic, the number of handles (1), the destination pid, the value */
#define BODY_LEN (MAGIC_LEN + 1 + 8 + 8)
/* More descriptors than a handle message has are received and closed. */
#define MAX_FDS 16

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int mp_conn_send_handle(mp_conn *c, intptr_t handle, long destination_pid)
{
    const char *where = "mp_conn_send_handle";
    int rc = mp_conn_check(c, where, false, true);
    if (rc != MP_OK)
        return rc;
    uint64_t value = 0;
    rc = mp_os_handle_carrier(c->h, c->readable && c->writable);
    if (rc == MP_OK)
        rc = mp_os_handle_export(handle, destination_pid, &value);
    if (rc != MP_OK)
        return mp_fail(rc, "%s: %s", where, mp_last_error());
    unsigned char frame[MP_CONN_FRAME_MAX_HEADER + BODY_LEN];
    size_t n = mp_conn_frame_header(frame, BODY_LEN);
    unsigned char *body = frame + n;
    memcpy(body, MAGIC, MAGIC_LEN);
    body[MAGIC_LEN] = 1;
    put64(body + MAGIC_LEN + 1, (uint64_t)(int64_t)destination_pid);
    put64(body + MAGIC_LEN + 9, value);
    mp_os_mutex_lock(c->send_lock);
    rc = mp_os_handle_write(c->h, c->socket, frame, n + BODY_LEN, handle);
    mp_os_mutex_unlock(c->send_lock);
    if (rc != MP_OK) {
        rc = mp_fail(rc, "%s: %s", where, mp_last_error());
        mp_os_handle_unexport(destination_pid, value);
    }
    return rc;
}

/* Read len bytes of the frame, keeping what came beside them. */
static int read_part(mp_conn *c, void *buf, size_t len, mp_os_handle *fds, size_t *n)
{
    return mp_os_handle_read(c->h, c->socket, buf, len, fds, MAX_FDS, n);
}

/* The next frame off the wire: its first BODY_LEN bytes into body (*len is
 * its whole length), the rest read and dropped, so that a message that is
 * not a handle message is gone too, as recv's malformed ones are. */
static int read_frame(mp_conn *c, unsigned char body[BODY_LEN], uint64_t *len, mp_os_handle *fds, size_t *n)
{
    unsigned char h[MP_CONN_FRAME_MAX_HEADER];
    *len = 0;
    int rc = read_part(c, h, 4, fds, n);
    if (rc != MP_OK)
        return rc; /* MP_EEOF here: the peer closed between messages */
    if (mp_conn_frame_length(h, 4, len) == 0 && (rc = read_part(c, h + 4, 8, fds, n)) == MP_OK)
        mp_conn_frame_length(h, 12, len);
    size_t first = *len < BODY_LEN ? (size_t)*len : BODY_LEN;
    if (rc == MP_OK)
        rc = read_part(c, body, first, fds, n);
    unsigned char scrap[4096];
    for (uint64_t left = *len - first; rc == MP_OK && left > 0;) {
        size_t k = left < sizeof scrap ? (size_t)left : sizeof scrap;
        rc = read_part(c, scrap, k, fds, n);
        left -= k;
    }
    return rc == MP_EEOF ? mp_fail(MP_EPROTO, "the peer closed inside a message") : rc;
}

/* The frame, or the message recv_bytes_into held back (on POSIX nothing
 * came beside that one: it was read as plain bytes). */
static int next_frame(mp_conn *c, unsigned char body[BODY_LEN], uint64_t *len, mp_os_handle *fds, size_t *n)
{
    if (!c->holding)
        return read_frame(c, body, len, fds, n);
    *len = c->held_len;
    memcpy(body, c->held, c->held_len < BODY_LEN ? c->held_len : BODY_LEN);
    free(c->held);
    c->held = NULL;
    c->holding = false;
    return MP_OK;
}

int mp_conn_recv_handle(mp_conn *c, intptr_t *handle)
{
    const char *where = "mp_conn_recv_handle";
    int rc = mp_conn_check(c, where, true, false);
    if (rc == MP_OK && handle == NULL)
        rc = mp_fail(MP_EINVAL, "%s: NULL handle", where);
    if (rc != MP_OK)
        return rc;
    if ((rc = mp_os_handle_carrier(c->h, c->readable && c->writable)) != MP_OK)
        return mp_fail(rc, "%s: %s", where, mp_last_error());

    unsigned char body[BODY_LEN];
    uint64_t len = 0;
    mp_os_handle fds[MAX_FDS];
    size_t n = 0;
    mp_os_mutex_lock(c->recv_lock);
    rc = next_frame(c, body, &len, fds, &n);
    mp_os_mutex_unlock(c->recv_lock);
    mp_os_handle got = MP_OS_NO_HANDLE;
    if (rc == MP_OK && (len != BODY_LEN || memcmp(body, MAGIC, MAGIC_LEN) != 0 || body[MAGIC_LEN] != 1))
        rc = mp_fail(MP_EPROTO, "a %llu-byte message that is not a handle message came instead (the peer sent "
                                "ordinary bytes)",
                     (unsigned long long)len);
    else if (rc == MP_OK)
        rc = mp_os_handle_import((long)(int64_t)get64(body + MAGIC_LEN + 1), get64(body + MAGIC_LEN + 9), fds, n,
                                 &got);
    for (size_t i = 0; i < n; i++)
        if (fds[i] != got)
            mp_os_handle_close(fds[i]);
    if (rc != MP_OK)
        return mp_fail(rc, "%s: %s", where, mp_last_error());
    *handle = got;
    return MP_OK;
}
