/* digest.h - SHA-256, MD5 and their HMACs, for the connection handshake
 * (Python's multiprocessing.connection authentication). Written here because
 * no crypto library exists for every system mproc builds on (Debian ships
 * none for MinGW). Not a general-purpose crypto API: one-shot functions over
 * bytes in memory, no secrets kept between calls.
 *
 * Thread safety: every function is reentrant. */
#ifndef MPROC_CRYPTO_DIGEST_H
#define MPROC_CRYPTO_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define MP_SHA256_SIZE 32
#define MP_MD5_SIZE 16

typedef enum mp_digest { MP_DIGEST_SHA256, MP_DIGEST_MD5 } mp_digest;

/* The digest's size in bytes. */
size_t mp_digest_size(mp_digest d);

/* The digest of data[0..len) (FIPS 180-4, RFC 1321) into out. */
void mp_sha256(const void *data, size_t len, unsigned char out[MP_SHA256_SIZE]);
void mp_md5(const void *data, size_t len, unsigned char out[MP_MD5_SIZE]);

/* HMAC (RFC 2104) of msg under key with digest d; out gets
 * mp_digest_size(d) bytes. Any key length, 0 included. */
void mp_hmac(mp_digest d, const void *key, size_t key_len, const void *msg, size_t msg_len, unsigned char *out);

/* a[0..len) == b[0..len), in time that depends only on len. */
bool mp_digest_equal(const void *a, const void *b, size_t len);

#endif
