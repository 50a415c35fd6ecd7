/* decode.h - decoding beyond mp_decode, for messages that carry a header
 * followed by many values (the pool's chunks and replies): a value at a
 * time without a tree for all of them, and many values from several
 * buffers into one tree. Both check their input as mp_decode does. */
#ifndef MPROC_DECODE_H
#define MPROC_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mproc/pack.h"

/* Decode the one value at the start of data[0..len); more may follow, and
 * *used says where it ended. The tree goes into space (space_size bytes,
 * aligned for mp_value) when it fits, else into a new allocation: free *out
 * with mp_value_free only if it is not space. Errors as mp_decode's. */
int mp_decode_first(const void *data, size_t len, const mp_limits *limits, void *space, size_t space_size,
                    mp_value **out, size_t *used);

/* mp_number_size's answers, by first byte (decode.c). */
extern const unsigned char mp_number_sizes[256];

/* The size of a value that its first byte alone describes (nil, bool and
 * numbers), or 0: how walks over many values step over the usual ones
 * without a call, by a table, without a branch. */
static inline size_t mp_number_size(unsigned char c)
{
    return mp_number_sizes[c];
}

/* A big-endian field of n bytes, n one of 0, 1, 2, 4, 8: spelled out, so
 * that each becomes one load and a byte swap. */
static inline uint64_t mp_be_field(const unsigned char *p, size_t n)
{
    switch (n) {
    case 0:
        return 0;
    case 1:
        return p[0];
    case 2:
        return (uint64_t)p[0] << 8 | p[1];
    case 4:
        return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
    default:
        return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
               (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | p[7];
    }
}

/* The value of the number, nil or bool at p, whose mp_number_size bytes
 * the caller has checked are there. */
static inline void mp_number_value(const unsigned char *p, mp_value *v)
{
    unsigned char c = p[0];
    if (c <= 0x7f || c >= 0xe0) {
        v->type = MP_INT;
        v->as.i = c <= 0x7f ? (int64_t)c : (int64_t)(int8_t)c;
    } else if (c == 0xc0) {
        v->type = MP_NIL;
    } else if (c == 0xc2 || c == 0xc3) {
        v->type = MP_BOOL;
        v->as.b = c == 0xc3;
    } else if (c == 0xca) {
        uint32_t bits = (uint32_t)mp_be_field(p + 1, 4);
        float x;
        memcpy(&x, &bits, sizeof x);
        v->type = MP_DOUBLE;
        v->as.d = (double)x;
    } else if (c == 0xcb) {
        uint64_t bits = mp_be_field(p + 1, 8);
        v->type = MP_DOUBLE;
        memcpy(&v->as.d, &bits, sizeof v->as.d);
    } else {
        size_t width = (size_t)1 << (c & 3);
        uint64_t x = mp_be_field(p + 1, width);
        bool is_signed = c >= 0xd0;
        if (is_signed && width < 8) /* sign-extend int8..int32 */
            x = (uint64_t)((int64_t)(x << (64 - 8 * width)) >> (64 - 8 * width));
        v->type = !is_signed && x > INT64_MAX ? MP_UINT : MP_INT;
        v->as.u = x;
    }
}

/* Decode the numbers, nils and bools that fill data[0..len) into items,
 * at most max of them: how many there were, or SIZE_MAX if anything else
 * is there or there are more than max. For values that arrive in parts
 * and go into one array. */
size_t mp_decode_numbers(const unsigned char *data, size_t len, mp_value *items, size_t max);

/* root made the array of the count values at items (count < 2^32). */
static inline void mp_array_root(mp_value *root, mp_value *items, size_t count)
{
    root->type = MP_ARRAY;
    root->as.array.items = items;
    root->as.array.len = (uint32_t)count;
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
