/* conn_object.h - a Connection's fields, for the two files that make up the
 * object: conn.c (messages) and conn_handle.c (handles passed beside or
 * inside them). Everyone else goes through conn.h or conn_internal.h. */
#ifndef MPROC_CONN_OBJECT_H
#define MPROC_CONN_OBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "object/object.h"
#include "platform.h"

struct mp_conn {
    mp_object hdr;
    mp_os_handle h;
    bool readable, writable;
    bool socket; /* from mp_conn_from_socket */
    bool broken; /* out of step: an over-long message refused, or a peer stopped mid-message */
    mp_os_mutex *send_lock, *recv_lock;
    /* A message recv_bytes_into had no room for, kept for the next read. */
    unsigned char *held;
    size_t held_len;
    bool holding;
};

/* MP_OK if c is a live connection, open, and (need_read, need_write) this
 * end receives or sends; else the error, with where in its message. */
int mp_conn_check(const mp_conn *c, const char *where, bool need_read, bool need_write);

#endif
