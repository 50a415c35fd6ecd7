/* md5.c - MD5 (RFC 1321 §3.3-3.4): the compression of one block; the
 * padding is block_hash.c's. Here for the handshake of Python <= 3.11 only,
 * which answers a challenge with HMAC-MD5. */
#include "crypto/block_hash.h"
#include "crypto/digest.h"

/* §3.4: T[i] is the integer part of 2^32 * |sin(i + 1)|. */
static const uint32_t T[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* The rotation of each of a round's steps repeats every four steps. */
static const unsigned SHIFT[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static uint32_t rotl(uint32_t x, unsigned n)
{
    return x << n | x >> (32 - n);
}

/* The round's auxiliary function (F, G, H, I) of x, y, z. */
static uint32_t mix(int round, uint32_t x, uint32_t y, uint32_t z)
{
    switch (round) {
    case 0:
        return (x & y) | (~x & z);
    case 1:
        return (x & z) | (y & ~z);
    case 2:
        return x ^ y ^ z;
    default:
        return y ^ (x | ~z);
    }
}

/* Which word of the block step i (0..15) of the round reads: each round
 * walks the 16 words with its own stride from its own start. */
static int word_index(int round, int i)
{
    static const int start[4] = {0, 1, 5, 0}, stride[4] = {1, 5, 3, 7};
    return (start[round] + stride[round] * i) % 16;
}

static void compress(uint32_t state[8], const unsigned char block[MP_HASH_BLOCK])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = mp_load_le32(block + 4 * i);

    /* The RFC's steps update a, d, c, b in turn; here the registers move
     * instead, so the step always updates the first one. */
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 16; i++) {
            uint32_t sum = a + mix(round, b, c, d) + x[word_index(round, i)] + T[16 * round + i];
            uint32_t next = b + rotl(sum, SHIFT[round][i % 4]);
            a = d;
            d = c;
            c = b;
            b = next;
        }
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    /* Under HMAC the block may be the key's. */
    mp_wipe(x, sizeof x);
}

/* §3.3: the words A, B, C, D; the state's other four are unused. */
const mp_block_hash_algo mp_md5_algo = {
    .compress = compress,
    .initial = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476},
    .words = 4,
    .big_endian = false,
};

void mp_md5(const void *data, size_t len, unsigned char out[MP_MD5_SIZE])
{
    mp_block_hash h;
    mp_block_hash_begin(&h, &mp_md5_algo);
    mp_block_hash_add(&h, data, len);
    mp_block_hash_end(&h, out);
}
