/* digest.c - what every digest has: its size, and the comparison of two
 * digests that tells a guessing peer nothing about how close it came. */
#include "crypto/digest.h"

size_t mp_digest_size(mp_digest d)
{
    return d == MP_DIGEST_MD5 ? MP_MD5_SIZE : MP_SHA256_SIZE;
}

bool mp_digest_equal(const void *a, const void *b, size_t len)
{
    const unsigned char *x = a, *y = b;
    /* volatile, so that the compiler cannot stop at the first difference */
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= x[i] ^ y[i];
    return diff == 0;
}
