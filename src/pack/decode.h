/* decode.h - decoding beyond mp_decode, for messages that carry a header
 * followed by many values (the pool's chunks and replies): a value at a
 * time without a tree for all of them, and many values from several
 * buffers into one tree. Both check their input as mp_decode does. */
#ifndef MPROC_DECODE_H
#define MPROC_DECODE_H

#include <stddef.h>

#include "mproc/pack.h"

/* Decode the one value at the start of data[0..len); more may follow, and
 * *used says where it ended. The tree goes into space (space_size bytes,
 * aligned for mp_value) when it fits, else into a new allocation: free *out
 * with mp_value_free only if it is not space. Errors as mp_decode's. */
int mp_decode_first(const void *data, size_t len, const mp_limits *limits, void *space, size_t space_size,
                    mp_value **out, size_t *used);

/* The size of a value that its first byte alone describes (nil, bool and
 * numbers), or 0: how walks over many values step over the usual ones
 * without a call. */
static inline size_t mp_number_size(unsigned char c)
{
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 1;
    if (c >= 0xcc && c <= 0xd3)
        return 1 + ((size_t)1 << (c & 3));
    if (c == 0xca || c == 0xcb)
        return c == 0xca ? 5 : 9;
    return 0;
}

typedef struct mp_bytes {
    const unsigned char *data;
    size_t len;
} mp_bytes;

/* Decode the values laid one after another in parts[0..nparts), exactly
 * count of them in all, as one array in one allocation (mp_value_free).
 * A value may not straddle two parts. MP_EPROTO if the count differs. */
int mp_decode_array_of(const mp_bytes *parts, size_t nparts, size_t count, const mp_limits *limits,
                       mp_value **out);

#endif
