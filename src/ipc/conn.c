/* conn.c - Pipe and Connection (conn.h): Python's framing over the
 * platform's pipe ends (mp_os_pipe's, or a named pipe's of Listener and
 * Client) or over a socket (Listener/Client).
 *
 * A connection knows which of the two it has: on Windows a socket is not a
 * named pipe (another end of file, another close), so its bytes go through
 * the platform's socket functions. One flag here costs less than the pipe
 * functions asking the OS what each handle is on every call, which the
 * pool's hot path would pay for. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "ipc/conn_internal.h"
#include "ipc/conn_object.h"
#include "mproc/conn.h"
#include "object/object.h"
#include "pack/pack_format.h"
#include "pack/pack_internal.h"

/* Messages up to this size go out in one write together with their
 * header: one system call per small message. */
#define SMALL_MESSAGE 65536

int mp_conn_check(const mp_conn *c, const char *where, bool need_read, bool need_write)
{
    int rc = mp_object_check(c, MP_KIND_CONN, where);
    if (rc != MP_OK)
        return rc;
    if (c->h == MP_OS_NO_HANDLE)
        return mp_fail(MP_ESTATE, "%s: the connection is closed", where);
    if (need_read && !c->readable)
        return mp_fail(MP_ESTATE, "%s: this end of the pipe only sends", where);
    if (need_write && !c->writable)
        return mp_fail(MP_ESTATE, "%s: this end of the pipe only receives", where);
    if (need_read && c->broken)
        return mp_fail(MP_ESTATE, "%s: the connection is unusable after an over-long or unfinished message", where);
    return MP_OK;
}

static int conn_make(mp_os_handle h, bool readable, bool writable, mp_conn **out)
{
    mp_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "Connection: out of memory");
    mp_object_init(&c->hdr, MP_KIND_CONN);
    c->h = h;
    c->readable = readable;
    c->writable = writable;
    int rc = mp_os_mutex_new(&c->send_lock);
    if (rc == MP_OK)
        rc = mp_os_mutex_new(&c->recv_lock);
    if (rc != MP_OK) {
        mp_os_mutex_free(c->send_lock);
        free(c);
        return rc;
    }
    *out = c;
    return MP_OK;
}

int mp_conn_from_socket(mp_os_handle s, mp_conn **out)
{
    mp_conn *c = NULL;
    int rc = conn_make(s, true, true, &c);
    if (rc == MP_OK && c != NULL) {
        c->socket = true;
        *out = c;
    } else
        mp_os_socket_close(s);
    return rc;
}

int mp_conn_from_pipe(mp_os_handle h, mp_conn **out)
{
    int rc = conn_make(h, true, true, out);
    if (rc != MP_OK)
        mp_os_handle_close(h);
    return rc;
}

static int io_write(const mp_conn *c, const void *buf, size_t len)
{
    return c->socket ? mp_os_socket_write(c->h, buf, len) : mp_os_pipe_write(c->h, buf, len);
}

static int io_read(const mp_conn *c, void *buf, size_t len)
{
    return c->socket ? mp_os_socket_read(c->h, buf, len) : mp_os_pipe_read(c->h, buf, len);
}

int mp_pipe(bool duplex, mp_conn **a, mp_conn **b)
{
    if (a == NULL || b == NULL)
        return mp_fail(MP_EINVAL, "mp_pipe: NULL argument");
    *a = *b = NULL;
    mp_os_handle r, w;
    int rc = mp_os_pipe(duplex, &r, &w);
    if (rc != MP_OK)
        return rc;
    rc = conn_make(r, true, duplex, a);
    if (rc != MP_OK) {
        mp_os_handle_close(r);
        mp_os_handle_close(w);
        return rc;
    }
    rc = conn_make(w, duplex, true, b);
    if (rc != MP_OK) {
        mp_conn_close(*a);
        *a = NULL;
        mp_os_handle_close(w);
    }
    return rc;
}

/* ---- sending ----------------------------------------------------------- */

size_t mp_conn_frame_header(unsigned char h[MP_CONN_FRAME_MAX_HEADER], size_t len)
{
    if (len < 0x7fffffffu) {
        for (int i = 0; i < 4; i++)
            h[i] = (unsigned char)(len >> (24 - 8 * i));
        return 4;
    }
    memset(h, 0xff, 4);
    for (int i = 0; i < 8; i++)
        h[4 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 12;
}

size_t mp_conn_frame_length(const unsigned char *p, size_t avail, uint64_t *len)
{
    if (avail < 4)
        return 0;
    uint64_t n = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
    if (n != 0xffffffffu) {
        *len = n;
        return 4;
    }
    if (avail < 12)
        return 0;
    n = 0;
    for (int i = 4; i < 12; i++)
        n = n << 8 | p[i];
    *len = n;
    return 12;
}

int mp_conn_frame_begin(mp_buf *b, size_t *mark)
{
    *mark = b->len;
    int rc = mp_buf_reserve(b, 4);
    if (rc == MP_OK)
        b->len += 4;
    return rc;
}

int mp_conn_frame_end(mp_buf *b, size_t mark)
{
    size_t len = b->len - mark - 4;
    unsigned char h[MP_CONN_FRAME_MAX_HEADER];
    size_t n = mp_conn_frame_header(h, len);
    if (n > 4) {
        int rc = mp_buf_reserve(b, n - 4);
        if (rc != MP_OK)
            return rc;
        memmove(b->data + mark + n, b->data + mark + 4, len);
        b->len += n - 4;
    }
    memcpy(b->data + mark, h, n);
    return MP_OK;
}

static int send_frame(mp_conn *c, const void *data, size_t len)
{
    unsigned char small[4 + SMALL_MESSAGE];
    size_t n = mp_conn_frame_header(small, len);
    mp_os_mutex_lock(c->send_lock);
    int rc;
    if (len <= SMALL_MESSAGE) {
        if (len > 0)
            memcpy(small + n, data, len);
        rc = io_write(c, small, n + len);
    } else {
        rc = io_write(c, small, n);
        if (rc == MP_OK)
            rc = io_write(c, data, len);
    }
    mp_os_mutex_unlock(c->send_lock);
    return rc;
}

int mp_conn_write(mp_conn *c, const void *frames, size_t len)
{
    mp_os_mutex_lock(c->send_lock);
    int rc = io_write(c, frames, len);
    mp_os_mutex_unlock(c->send_lock);
    return rc;
}

mp_os_handle mp_conn_handle(const mp_conn *c)
{
    return c->h;
}

int mp_conn_send_bytes(mp_conn *c, const void *data, size_t len)
{
    int rc = mp_conn_check(c, "mp_conn_send_bytes", false, true);
    if (rc == MP_OK && data == NULL && len > 0)
        rc = mp_fail(MP_EINVAL, "mp_conn_send_bytes: NULL data");
    return rc == MP_OK ? send_frame(c, data, len) : rc;
}

int mp_conn_vsend(mp_conn *c, const char *fmt, va_list ap)
{
    int rc = mp_conn_check(c, "mp_conn_send", false, true);
    if (rc != MP_OK)
        return rc;
    mp_buf b = MP_BUF_INIT;
    rc = mp_pack_message(&b, fmt, ap);
    if (rc == MP_OK)
        rc = send_frame(c, b.data, b.len);
    else
        rc = mp_fail(rc, "mp_conn_send: %s", mp_last_error());
    mp_buf_free(&b);
    return rc;
}

int mp_conn_send(mp_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_conn_vsend(c, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- receiving --------------------------------------------------------- */

static int read_length(mp_conn *c, size_t *len)
{
    unsigned char h[MP_CONN_FRAME_MAX_HEADER];
    int rc = io_read(c, h, 4);
    if (rc != MP_OK)
        return rc;
    uint64_t n;
    if (mp_conn_frame_length(h, 4, &n) == 0) {
        if ((rc = io_read(c, h + 4, 8)) != MP_OK)
            return rc == MP_EEOF ? mp_fail(MP_EPROTO, "recv: the peer closed inside a message header") : rc;
        mp_conn_frame_length(h, 12, &n);
    }
    if (n > SIZE_MAX - 16)
        return mp_fail(MP_ETOOBIG, "recv: a %llu-byte message does not fit in memory", (unsigned long long)n);
    *len = (size_t)n;
    return MP_OK;
}

/* The len bytes of a message whose length was just read. */
static int read_body(mp_conn *c, size_t len, unsigned char **data)
{
    *data = malloc(len ? len : 1);
    if (*data == NULL)
        return mp_fail(MP_ENOMEM, "recv: no memory for a %zu-byte message", len);
    int rc = io_read(c, *data, len);
    if (rc != MP_OK) {
        free(*data);
        *data = NULL;
        return rc == MP_EEOF ? mp_fail(MP_EPROTO, "recv: the peer closed inside a message") : rc;
    }
    return MP_OK;
}

/* Take the next whole message (the held one first), under recv_lock. */
static int next_message(mp_conn *c, size_t maxlength, unsigned char **data, size_t *len)
{
    if (c->holding) {
        *data = c->held;
        *len = c->held_len;
        c->held = NULL;
        c->holding = false;
        return MP_OK;
    }
    int rc = read_length(c, len);
    if (rc != MP_OK)
        return rc;
    if (maxlength > 0 && *len > maxlength) {
        c->broken = true;
        return mp_fail(MP_ETOOBIG, "recv_bytes: a %zu-byte message is longer than maxlength %zu; the connection "
                                   "can no longer be read",
                       *len, maxlength);
    }
    return read_body(c, *len, data);
}

int mp_conn_recv_bytes(mp_conn *c, size_t maxlength, void **data, size_t *len)
{
    int rc = mp_conn_check(c, "mp_conn_recv_bytes", true, false);
    if (rc == MP_OK && (data == NULL || len == NULL))
        rc = mp_fail(MP_EINVAL, "mp_conn_recv_bytes: NULL argument");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(c->recv_lock);
    unsigned char *d;
    rc = next_message(c, maxlength, &d, len);
    mp_os_mutex_unlock(c->recv_lock);
    if (rc == MP_OK)
        *data = d;
    return rc;
}

int mp_conn_recv_bytes_into(mp_conn *c, void *buf, size_t size, size_t *len)
{
    int rc = mp_conn_check(c, "mp_conn_recv_bytes_into", true, false);
    if (rc == MP_OK && (len == NULL || (buf == NULL && size > 0)))
        rc = mp_fail(MP_EINVAL, "mp_conn_recv_bytes_into: NULL argument");
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(c->recv_lock);
    if (!c->holding && (rc = read_length(c, len)) == MP_OK && *len <= size) {
        /* It fits: straight into the caller's buffer. */
        rc = io_read(c, buf, *len);
        mp_os_mutex_unlock(c->recv_lock);
        return rc == MP_EEOF ? mp_fail(MP_EPROTO, "recv: the peer closed inside a message") : rc;
    }
    unsigned char *d = NULL;
    if (rc == MP_OK)
        rc = c->holding ? next_message(c, 0, &d, len) : read_body(c, *len, &d);
    if (rc == MP_OK && *len > size) {
        c->held = d;
        c->held_len = *len;
        c->holding = true;
        rc = mp_fail(MP_ETOOBIG, "recv_bytes_into: the message needs %zu bytes, the buffer has %zu", *len, size);
    } else if (rc == MP_OK) {
        if (*len > 0)
            memcpy(buf, d, *len);
        free(d);
    }
    mp_os_mutex_unlock(c->recv_lock);
    return rc;
}

/* ---- receiving by a deadline ------------------------------------------- */

static int poll_handle(const mp_conn *c, double timeout)
{
    return c->socket ? mp_os_socket_poll(c->h, timeout) : mp_os_pipe_poll(c->h, timeout);
}

/* len bytes by the deadline; *done tells how far it got. */
static int read_by(const mp_conn *c, unsigned char *buf, size_t len, double deadline, size_t *done)
{
    *done = 0;
    while (*done < len) {
        int rc = poll_handle(c, mp_time_left(deadline));
        size_t got = 0;
        if (rc == MP_OK)
            rc = c->socket ? mp_os_socket_read_some(c->h, buf + *done, len - *done, &got)
                           : mp_os_pipe_read_some(c->h, buf + *done, len - *done, &got);
        if (rc != MP_OK)
            return rc;
        *done += got;
    }
    return MP_OK;
}

/* A frame by the deadline: header, then body. *started: some of it came. */
static int frame_by(mp_conn *c, size_t maxlength, double deadline, unsigned char **data, size_t *len, bool *started)
{
    unsigned char h[MP_CONN_FRAME_MAX_HEADER];
    size_t done;
    int rc = read_by(c, h, 4, deadline, &done);
    *started = done > 0;
    uint64_t n = 0;
    if (rc == MP_OK && mp_conn_frame_length(h, 4, &n) == 0 && (rc = read_by(c, h + 4, 8, deadline, &done)) == MP_OK)
        mp_conn_frame_length(h, 12, &n);
    if (rc != MP_OK)
        return rc == MP_EEOF && *started ? mp_fail(MP_EPROTO, "recv: the peer closed inside a message header") : rc;
    if (n > SIZE_MAX - 16 || (maxlength > 0 && n > maxlength))
        return mp_fail(MP_ETOOBIG, "recv_bytes: a %llu-byte message is longer than the %zu allowed",
                       (unsigned long long)n, maxlength > 0 ? maxlength : SIZE_MAX - 16);
    *data = malloc(n ? (size_t)n : 1);
    if (*data == NULL)
        return mp_fail(MP_ENOMEM, "recv: no memory for a %llu-byte message", (unsigned long long)n);
    rc = read_by(c, *data, (size_t)n, deadline, &done);
    if (rc != MP_OK) {
        free(*data);
        *data = NULL;
        return rc == MP_EEOF ? mp_fail(MP_EPROTO, "recv: the peer closed inside a message") : rc;
    }
    *len = (size_t)n;
    return MP_OK;
}

int mp_conn_recv_bytes_by(mp_conn *c, size_t maxlength, double timeout, void **data, size_t *len)
{
    int rc = mp_conn_check(c, "mp_conn_recv_bytes", true, false);
    if (rc != MP_OK)
        return rc;
    mp_os_mutex_lock(c->recv_lock);
    unsigned char *d = NULL;
    bool started = false;
    if (c->holding)
        rc = next_message(c, maxlength, &d, len);
    else
        rc = frame_by(c, maxlength, mp_deadline(timeout), &d, len, &started);
    if (rc == MP_ETIMEDOUT && started) {
        c->broken = true;
        rc = mp_fail(MP_ETIMEDOUT, "recv: the peer stopped in the middle of a message; the connection can no "
                                   "longer be read");
    } else if (rc == MP_ETOOBIG) {
        c->broken = true;
    }
    mp_os_mutex_unlock(c->recv_lock);
    if (rc == MP_OK)
        *data = d;
    return rc;
}

void mp_conn_shutdown(mp_conn *c)
{
    if (c->h == MP_OS_NO_HANDLE)
        return;
    if (c->socket)
        mp_os_socket_shutdown(c->h);
    else
        mp_os_pipe_shutdown(c->h);
}

int mp_conn_recv(mp_conn *c, mp_value **out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_conn_recv: NULL out");
    *out = NULL;
    void *data;
    size_t len;
    int rc = mp_conn_recv_bytes(c, 0, &data, &len);
    if (rc != MP_OK)
        return rc;
    rc = mp_decode(data, len, NULL, out);
    free(data);
    return rc == MP_OK ? rc : mp_fail(rc, "mp_conn_recv: %s", mp_last_error());
}

int mp_conn_poll(mp_conn *c, double timeout)
{
    int rc = mp_conn_check(c, "mp_conn_poll", true, false);
    if (rc != MP_OK)
        return rc;
    if (c->holding)
        return MP_OK;
    return c->socket ? mp_os_socket_poll(c->h, timeout) : mp_os_pipe_poll(c->h, timeout);
}

int mp_conn_fileno(const mp_conn *c, mp_sentinel *out)
{
    int rc = mp_conn_check(c, "mp_conn_fileno", false, false);
    if (rc == MP_OK && out == NULL)
        rc = mp_fail(MP_EINVAL, "mp_conn_fileno: NULL out");
    if (rc == MP_OK)
        *out = (mp_sentinel)c->h;
    return rc;
}

bool mp_conn_readable(const mp_conn *c)
{
    return mp_object_check(c, MP_KIND_CONN, "mp_conn_readable") == MP_OK && c->readable;
}

bool mp_conn_writable(const mp_conn *c)
{
    return mp_object_check(c, MP_KIND_CONN, "mp_conn_writable") == MP_OK && c->writable;
}

bool mp_conn_closed(const mp_conn *c)
{
    return mp_object_check(c, MP_KIND_CONN, "mp_conn_closed") != MP_OK || c->h == MP_OS_NO_HANDLE;
}

/* ---- lifetime and travel ----------------------------------------------- */

static void conn_free(mp_object *o)
{
    mp_conn *c = (mp_conn *)(void *)o;
    if (c->socket)
        mp_os_socket_close(c->h);
    else
        mp_os_handle_close(c->h);
    c->h = MP_OS_NO_HANDLE;
    mp_os_mutex_free(c->send_lock);
    mp_os_mutex_free(c->recv_lock);
    free(c->held);
    mp_object_discard(o);
}

int mp_conn_close(mp_conn *c)
{
    return mp_object_free_checked(c, MP_KIND_CONN, "mp_conn_close");
}

static int conn_export(const mp_object *o, mp_export *e)
{
    const mp_conn *c = (const mp_conn *)(const void *)o;
    if (c->h == MP_OS_NO_HANDLE)
        return mp_fail(MP_ESTATE, "a closed Connection cannot be passed");
    e->handles[e->nhandles++] = c->h;
    return mp_pack(&e->fields, "(? ? ?)", c->readable, c->writable, c->socket);
}

static int conn_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n,
                       mp_object *nested, mp_object **out)
{
    (void)kind;
    bool readable, writable, socket = false;
    if (n != 1 || nested != NULL || mp_unpack(fields, "(? ? | ?)", &readable, &writable, &socket) != MP_OK)
        return mp_fail(MP_EPROTO, "Connection argument: malformed");
    mp_conn *c = NULL;
    int rc = socket ? mp_conn_from_socket(h[0], &c) : conn_make(h[0], readable, writable, &c);
    if (rc == MP_OK)
        *out = &c->hdr;
    return rc;
}

const mp_object_ops mp_conn_ops = {
    .name = "Connection", .export_ = conn_export, .import_ = conn_import, .free_ = conn_free};
