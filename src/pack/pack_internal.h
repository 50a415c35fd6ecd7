/* pack_internal.h - what the MessagePack files share. */
#ifndef MPROC_PACK_INTERNAL_H
#define MPROC_PACK_INTERNAL_H

#include "mproc/pack.h"

/* Make room for extra more bytes. MP_ENOMEM or MP_ETOOBIG. */
int mp_buf_reserve(mp_buf *b, size_t extra);

/* The length of the one well-formed value that starts data[0..len), checked
 * as mp_decode checks (default depth, no node limit). MP_EPROTO. */
int mp_value_span(const void *data, size_t len, size_t *size);
/* The same for a stream that is still coming in: MP_OK with *size 0 when
 * data[0..len) is the start of a value that goes on beyond it. */
int mp_value_span_stream(const void *data, size_t len, size_t *size);

/* The header of mp_pack_str and mp_pack_bin alone, checked as they check
 * (s must be valid UTF-8): the caller puts the len bytes after it. */
int mp_pack_str_header(mp_buf *b, const char *s, size_t len);
int mp_pack_bin_header(mp_buf *b, const void *data, size_t len);

/* Nesting depth the format functions allow: the decoder's ceiling. */
#define MP_MAX_DEPTH 1000
/* The decoder's depth when mp_limits leaves it 0 (mproc/pack.h). */
#define MP_DEFAULT_DEPTH 64

/* The name of a type, for messages ("int", "str", ...). */
const char *mp_type_name(mp_type t);

/* The letter 'O', through the installed object hook (object_hook.h). */
int mp_pack_object(mp_buf *b, const void *object, void *ctx);
int mp_unpack_object(const mp_value *v, void **out);

/* ---- the buffer's fast path -------------------------------------------- */

#include "mproc/error.h"

/* b starts on storage of the caller's (a small stack array), so that a
 * message that fits costs no allocation; it moves to the heap if it grows
 * beyond. mp_buf_free is still called, and frees only what was allocated. */
static inline void mp_buf_borrow(mp_buf *b, void *storage, size_t size)
{
    *b = (mp_buf){.data = storage, .len = 0, .cap = size, .borrowed = true};
}

/* mp_buf_reserve with the common case inline: only a buffer that must grow
 * pays for a call. */
static inline int mp_buf_room(mp_buf *b, size_t extra)
{
    return extra <= b->cap - b->len ? MP_OK : mp_buf_reserve(b, extra);
}

#endif
