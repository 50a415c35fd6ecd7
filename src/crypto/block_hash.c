/* block_hash.c - buffering into 64-byte blocks, and the final padding, for
 * SHA-256 (FIPS 180-4 §5.1.1) and MD5 (RFC 1321 §3.1-3.2), which pad alike
 * but for the byte order of the length. */
#include "crypto/block_hash.h"

#include <string.h>

/* Bytes of the last block before the 8-byte length. */
#define LENGTH_AT (MP_HASH_BLOCK - 8)

void mp_block_hash_begin(mp_block_hash *h, const mp_block_hash_algo *algo)
{
    h->algo = algo;
    memcpy(h->state, algo->initial, sizeof h->state);
    h->total = 0;
    h->fill = 0;
}

void mp_block_hash_add(mp_block_hash *h, const void *data, size_t len)
{
    /* Nothing to add may come as (NULL, 0), where even p + 0 is undefined. */
    if (len == 0)
        return;
    const unsigned char *p = data;
    h->total += len;
    if (h->fill > 0) {
        size_t take = MP_HASH_BLOCK - h->fill;
        if (take > len)
            take = len;
        memcpy(h->block + h->fill, p, take);
        h->fill += take;
        p += take;
        len -= take;
        if (h->fill < MP_HASH_BLOCK)
            return;
        h->algo->compress(h->state, h->block);
        h->fill = 0;
    }
    /* Whole blocks are compressed where they lie, without a copy. */
    for (; len >= MP_HASH_BLOCK; p += MP_HASH_BLOCK, len -= MP_HASH_BLOCK)
        h->algo->compress(h->state, p);
    if (len > 0)
        memcpy(h->block, p, len);
    h->fill = len;
}

static void store32(unsigned char *p, uint32_t v, bool big_endian)
{
    for (int i = 0; i < 4; i++)
        p[big_endian ? 3 - i : i] = (unsigned char)(v >> (8 * i));
}

void mp_block_hash_end(mp_block_hash *h, unsigned char *out)
{
    bool be = h->algo->big_endian;
    uint64_t bits = h->total * 8; /* both standards take the length mod 2^64 */
    h->block[h->fill++] = 0x80;
    /* No room for the length after the 0x80: it goes in one more block. */
    if (h->fill > LENGTH_AT) {
        memset(h->block + h->fill, 0, MP_HASH_BLOCK - h->fill);
        h->algo->compress(h->state, h->block);
        h->fill = 0;
    }
    memset(h->block + h->fill, 0, LENGTH_AT - h->fill);
    store32(h->block + LENGTH_AT + (be ? 0 : 4), (uint32_t)(bits >> 32), be);
    store32(h->block + LENGTH_AT + (be ? 4 : 0), (uint32_t)bits, be);
    h->algo->compress(h->state, h->block);
    for (unsigned i = 0; i < h->algo->words; i++)
        store32(out + 4 * i, h->state[i], be);
    mp_wipe(h, sizeof *h);
}

void mp_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}
