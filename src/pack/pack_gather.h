/* pack_gather.h - a message packed without copying its large payloads, for
 * a caller that writes the message somewhere else at once (the queue's
 * ring): the packed bytes with the payloads left out, and where each one
 * goes and is. Writing it out then copies a 1 MiB payload once, from the
 * caller's memory to its destination, instead of through a pack buffer. */
#ifndef MPROC_PACK_GATHER_H
#define MPROC_PACK_GATHER_H

#include <stdarg.h>
#include <stddef.h>

#include "mproc/pack.h"

/* Payloads of 's' and 'y#' from this size on are referenced, not copied:
 * below it a copy costs less than a piece does. */
#define MP_GATHER_MIN_PIECE ((size_t)4 << 10)
/* Referenced payloads per message; any beyond are copied. */
#define MP_GATHER_PIECES 8

typedef struct mp_gather_piece {
    size_t at; /* the offset in packed where this payload goes */
    const void *data;
    size_t len;
} mp_gather_piece;

typedef struct mp_gather {
    mp_buf packed; /* every byte of the message but the pieces' */
    mp_gather_piece pieces[MP_GATHER_PIECES];
    size_t npieces;
    size_t total; /* the message's length: packed.len plus the pieces' */
} mp_gather;

/* mp_pack_message into g, which must be zeroed, but for a packed buffer that
 * may start on borrowed storage (mp_buf_borrow); the pieces point into the
 * caller's arguments, which must stay as they are until g is written out.
 * Free g.packed with mp_buf_free, also after a failure. */
int mp_pack_message_gather(mp_gather *g, const char *fmt, va_list ap);

#endif
