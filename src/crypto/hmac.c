/* hmac.c - HMAC (RFC 2104) over SHA-256 or MD5:
 * H((K ^ opad) || H((K ^ ipad) || msg)), K the key padded with zeros to the
 * block size, or its digest if it is longer than a block. */
#include "crypto/block_hash.h"
#include "crypto/digest.h"

#include <string.h>

#define IPAD 0x36
#define OPAD 0x5c

static const mp_block_hash_algo *algo_of(mp_digest d)
{
    return d == MP_DIGEST_MD5 ? &mp_md5_algo : &mp_sha256_algo;
}

/* H(pad-xored key || data) */
static void hash_keyed(const mp_block_hash_algo *algo, const unsigned char key[MP_HASH_BLOCK],
                       unsigned char pad, const void *data, size_t len, unsigned char *out)
{
    unsigned char block[MP_HASH_BLOCK];
    for (int i = 0; i < MP_HASH_BLOCK; i++)
        block[i] = key[i] ^ pad;
    mp_block_hash h;
    mp_block_hash_begin(&h, algo);
    mp_block_hash_add(&h, block, sizeof block);
    mp_block_hash_add(&h, data, len);
    mp_block_hash_end(&h, out);
    mp_wipe(block, sizeof block);
}

void mp_hmac(mp_digest d, const void *key, size_t key_len, const void *msg, size_t msg_len,
             unsigned char *out)
{
    const mp_block_hash_algo *algo = algo_of(d);
    unsigned char k[MP_HASH_BLOCK] = {0};
    if (key_len > MP_HASH_BLOCK) {
        mp_block_hash h;
        mp_block_hash_begin(&h, algo);
        mp_block_hash_add(&h, key, key_len);
        mp_block_hash_end(&h, k);
    } else if (key_len > 0) {
        memcpy(k, key, key_len);
    }
    unsigned char inner[MP_SHA256_SIZE];
    hash_keyed(algo, k, IPAD, msg, msg_len, inner);
    hash_keyed(algo, k, OPAD, inner, mp_digest_size(d), out);
    mp_wipe(k, sizeof k);
    mp_wipe(inner, sizeof inner);
}
