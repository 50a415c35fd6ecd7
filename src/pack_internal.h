/* pack_internal.h - what the MessagePack files share. */
#ifndef MPROC_PACK_INTERNAL_H
#define MPROC_PACK_INTERNAL_H

#include "mproc/pack.h"

/* Make room for extra more bytes. MP_ENOMEM or MP_ETOOBIG. */
int mp_buf_reserve(mp_buf *b, size_t extra);

/* Nesting depth the format functions allow: the decoder's ceiling. */
#define MP_MAX_DEPTH 1000

/* The name of a type, for messages ("int", "str", ...). */
const char *mp_type_name(mp_type t);

#endif
