/* pack_int.h - the encoders of integers, inline: behind mp_pack_int and
 * mp_pack_uint, and behind mp_pack for a format of one integer (a pool's
 * usual item and result), so that each costs a store or two and no
 * further call when the buffer has room. */
#ifndef MPROC_PACK_INT_H
#define MPROC_PACK_INT_H

#include <string.h>

#include "base/error_internal.h"
#include "pack/pack_internal.h"

/* The low `size` bytes of v, most significant first. The eight bytes are
 * spelled out because compilers merge them into one byte-swapped store,
 * where a shifting loop of 8 is left as a loop at -O2. */
static inline void mp_store_be(unsigned char *p, uint64_t v, size_t size)
{
    const unsigned char be[8] = {
        (unsigned char)(v >> 56), (unsigned char)(v >> 48), (unsigned char)(v >> 40), (unsigned char)(v >> 32),
        (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),  (unsigned char)v,
    };
    memcpy(p, be + 8 - size, size);
}

/* A type byte followed by a big-endian integer of `size` bytes. Inline, so
 * that each caller's constant size makes it a store or two and a buffer
 * with room costs no call. */
static inline int mp_pack_put(mp_buf *b, unsigned char type, uint64_t v, size_t size)
{
    if (b == NULL)
        return mp_fail(MP_EINVAL, "mp_pack: NULL buffer");
    int rc = mp_buf_room(b, 1 + size);
    if (rc != MP_OK)
        return rc;
    unsigned char *p = b->data + b->len;
    p[0] = type;
    mp_store_be(p + 1, v, size);
    b->len += 1 + size;
    return MP_OK;
}

/* The smallest form of v. */
static inline int mp_pack_uint_inline(mp_buf *b, uint64_t v)
{
    if (v < 0x80)
        return mp_pack_put(b, (unsigned char)v, 0, 0);
    if (v <= 0xff)
        return mp_pack_put(b, 0xcc, v, 1);
    if (v <= 0xffff)
        return mp_pack_put(b, 0xcd, v, 2);
    if (v <= 0xffffffffu)
        return mp_pack_put(b, 0xce, v, 4);
    return mp_pack_put(b, 0xcf, v, 8);
}

static inline int mp_pack_int_inline(mp_buf *b, int64_t v)
{
    if (v >= 0)
        return mp_pack_uint_inline(b, (uint64_t)v);
    if (v >= -32)
        return mp_pack_put(b, (unsigned char)(0xe0 | (v & 0x1f)), 0, 0);
    if (v >= INT8_MIN)
        return mp_pack_put(b, 0xd0, (uint64_t)v, 1);
    if (v >= INT16_MIN)
        return mp_pack_put(b, 0xd1, (uint64_t)v, 2);
    if (v >= INT32_MIN)
        return mp_pack_put(b, 0xd2, (uint64_t)v, 4);
    return mp_pack_put(b, 0xd3, (uint64_t)v, 8);
}

#endif
