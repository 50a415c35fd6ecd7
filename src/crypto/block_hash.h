/* block_hash.h - what SHA-256 and MD5 share: both are Merkle-Damgard hashes
 * over 64-byte blocks of 32-bit words, padded with 0x80, zeros and the
 * message's length in bits as 64 bits. They differ in their compression
 * function, their initial state, how many state words make the digest and
 * the byte order of words and length, which a mp_block_hash_algo says.
 *
 * The byte order is written out byte by byte, so the code is right on any
 * host, whatever its own order. */
#ifndef MPROC_CRYPTO_BLOCK_HASH_H
#define MPROC_CRYPTO_BLOCK_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MP_HASH_BLOCK 64

typedef struct mp_block_hash_algo {
    void (*compress)(uint32_t state[8], const unsigned char block[MP_HASH_BLOCK]);
    uint32_t initial[8];
    unsigned words;  /* state words that make the digest: 8 or 4 */
    bool big_endian; /* of the words, of the length in the padding */
} mp_block_hash_algo;

extern const mp_block_hash_algo mp_sha256_algo;
extern const mp_block_hash_algo mp_md5_algo;

/* A hash being computed, for callers that have their input in pieces. */
typedef struct mp_block_hash {
    const mp_block_hash_algo *algo;
    uint32_t state[8];
    uint64_t total; /* bytes added so far */
    unsigned char block[MP_HASH_BLOCK];
    size_t fill; /* bytes of block waiting for the rest of it */
} mp_block_hash;

void mp_block_hash_begin(mp_block_hash *h, const mp_block_hash_algo *algo);
void mp_block_hash_add(mp_block_hash *h, const void *data, size_t len);
/* Writes algo->words * 4 bytes to out and wipes h. */
void mp_block_hash_end(mp_block_hash *h, unsigned char *out);

/* Zero n bytes in a way the compiler may not drop as a dead store: key
 * material must not outlive the call that used it. */
void mp_wipe(void *p, size_t n);

static inline uint32_t mp_load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint32_t mp_load_le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | (uint32_t)p[0];
}

#endif
