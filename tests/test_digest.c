/* test_digest.c - SHA-256, MD5 and HMAC against the standards' own vectors
 * (FIPS 180-4's examples, RFC 1321's suite, RFC 4231, RFC 2202), lengths
 * either side of every padding boundary, keys either side of the block
 * size, input given in pieces, and the constant-time comparison.
 * digest_interop (digest_echo.c, digest_interop.py) adds random inputs
 * against Python's hashlib and hmac. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "crypto/block_hash.h"
#include "crypto/digest.h"

static void to_hex(const unsigned char *d, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

static void expect_sha256(const void *data, size_t len, const char *want)
{
    unsigned char d[MP_SHA256_SIZE];
    char hex[2 * MP_SHA256_SIZE + 1];
    mp_sha256(data, len, d);
    to_hex(d, sizeof d, hex);
    assert_string_equal(hex, want);
}

static void expect_md5(const void *data, size_t len, const char *want)
{
    unsigned char d[MP_MD5_SIZE];
    char hex[2 * MP_MD5_SIZE + 1];
    mp_md5(data, len, d);
    to_hex(d, sizeof d, hex);
    assert_string_equal(hex, want);
}

/* want may be shorter than the digest: a truncated HMAC compares its prefix. */
static void expect_hmac(mp_digest dg, const void *key, size_t key_len, const void *msg, size_t msg_len,
                        const char *want)
{
    unsigned char d[MP_SHA256_SIZE];
    char hex[2 * MP_SHA256_SIZE + 1];
    mp_hmac(dg, key, key_len, msg, msg_len, d);
    to_hex(d, mp_digest_size(dg), hex);
    hex[strlen(want)] = '\0';
    assert_string_equal(hex, want);
}

#define STR(s) s, sizeof(s) - 1

/* 251 is prime, so the pattern never lines up with a block. */
static unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i % 251);
    return p;
}

static void sha256_fips_examples(void **state)
{
    (void)state;
    expect_sha256(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_sha256(STR("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect_sha256(STR("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    expect_sha256(
        STR("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopq"
            "rsmnopqrstnopqrstu"),
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    char *million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    expect_sha256(million, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

static void md5_rfc1321_suite(void **state)
{
    (void)state;
    expect_md5(NULL, 0, "d41d8cd98f00b204e9800998ecf8427e");
    expect_md5(STR("a"), "0cc175b9c0f1b6a831c399e269772661");
    expect_md5(STR("abc"), "900150983cd24fb0d6963f7d28e17f72");
    expect_md5(STR("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
    expect_md5(STR("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
    expect_md5(STR("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
               "d174ab98d277d9f5a5611c2c9f419d9f");
    expect_md5(STR("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
               "57edf4a22be3c955ac49da2e2107b67a");
}

/* Around 55/56 the length still fits in the last block or needs one more;
 * around 64 the message fills a block exactly; then the same a block later,
 * and a few MiB. The answers are Python's hashlib's. */
static const struct {
    size_t len;
    const char *sha256, *md5;
} BOUNDARIES[] = {
    {55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59",
     "6912ee65fff2d9f9ce2508cddf8bcda0"},
    {56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562",
     "51fdd1acda72405dfdfa03fcb85896d7"},
    {57, "2fe741af801cc238602ac0ec6a7b0c3a8a87c7fc7d7f02a3fe03d1c12eac4d8f",
     "5320ef4c17ef34a0cf2db763338d25eb"},
    {63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488",
     "48a6295221902e8e0938f773a7185e72"},
    {64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108",
     "b2d3f56bc197fd985d5965079b5e7148"},
    {65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781",
     "8bd7053801c768420faf816fadba971c"},
    {119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6",
     "1c772251899a7ff007400b888d6b2042"},
    {120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c",
     "b7ba1efc6022e9ed272f00b8831e26e6"},
    {127, "92ca0fa6651ee2f97b884b7246a562fa71250fedefe5ebf270d31c546bfea976",
     "8402b21e7bc7906493bae0dac017f1f9"},
    {128, "471fb943aa23c511f6f72f8d1652d9c880cfa392ad80503120547703e56a2be5",
     "37eff01866ba3f538421b30b7cbefcac"},
    {129, "5099c6a56203f9687f7d33f4bfdf576d31dc91f6b695ecea38b2770c87631135",
     "46f986692847558fc38b0cece591c20f"},
    {3 * 1024 * 1024 + 7, "f578a61853ca2f4272dba551bd868420e22302fbb6d6dfc0cc80da1d2c7b779f",
     "62a22cb245a4cfdb1a8a8ba579b2f38a"},
};

static void lengths_around_block_boundaries(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BOUNDARIES / sizeof BOUNDARIES[0]; i++) {
        unsigned char *p = pattern(BOUNDARIES[i].len);
        expect_sha256(p, BOUNDARIES[i].len, BOUNDARIES[i].sha256);
        expect_md5(p, BOUNDARIES[i].len, BOUNDARIES[i].md5);
        free(p);
    }
}

/* Every way of cutting a message in two, and byte by byte, gives the digest
 * of the whole: the buffering of partial blocks is right. */
static void pieces_make_the_whole(void **state)
{
    (void)state;
    enum { N = 200 };
    unsigned char *p = pattern(N);
    const mp_block_hash_algo *algos[] = {&mp_sha256_algo, &mp_md5_algo};
    for (size_t a = 0; a < 2; a++) {
        unsigned char whole[MP_SHA256_SIZE], part[MP_SHA256_SIZE];
        size_t size = algos[a]->words * 4;
        mp_block_hash h;
        mp_block_hash_begin(&h, algos[a]);
        mp_block_hash_add(&h, p, N);
        mp_block_hash_end(&h, whole);
        for (size_t cut = 0; cut <= N; cut++) {
            mp_block_hash_begin(&h, algos[a]);
            mp_block_hash_add(&h, p, cut);
            mp_block_hash_add(&h, NULL, 0);
            mp_block_hash_add(&h, p + cut, N - cut);
            mp_block_hash_end(&h, part);
            assert_memory_equal(part, whole, size);
        }
        mp_block_hash_begin(&h, algos[a]);
        for (size_t i = 0; i < N; i++)
            mp_block_hash_add(&h, p + i, 1);
        mp_block_hash_end(&h, part);
        assert_memory_equal(part, whole, size);
    }
    free(p);
}

static void hmac_sha256_rfc4231(void **state)
{
    (void)state;
    unsigned char k20[20], d50[50], k25[25], k131[131];
    memset(k20, 0x0b, sizeof k20);
    expect_hmac(MP_DIGEST_SHA256, k20, 20, STR("Hi There"),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    expect_hmac(MP_DIGEST_SHA256, STR("Jefe"), STR("what do ya want for nothing?"),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(k20, 0xaa, sizeof k20);
    memset(d50, 0xdd, sizeof d50);
    expect_hmac(MP_DIGEST_SHA256, k20, 20, d50, 50,
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    for (int i = 0; i < 25; i++)
        k25[i] = (unsigned char)(i + 1);
    memset(d50, 0xcd, sizeof d50);
    expect_hmac(MP_DIGEST_SHA256, k25, 25, d50, 50,
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    memset(k20, 0x0c, sizeof k20);
    expect_hmac(MP_DIGEST_SHA256, k20, 20, STR("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b");
    memset(k131, 0xaa, sizeof k131);
    expect_hmac(MP_DIGEST_SHA256, k131, 131, STR("Test Using Larger Than Block-Size Key - Hash Key First"),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    expect_hmac(
        MP_DIGEST_SHA256, k131, 131,
        STR("This is a test using a larger than block-size key and a larger than block-size data. The key "
            "needs to be hashed before being used by the HMAC algorithm."),
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void hmac_md5_rfc2202(void **state)
{
    (void)state;
    unsigned char k16[16], d50[50], k25[25], k80[80];
    memset(k16, 0x0b, sizeof k16);
    expect_hmac(MP_DIGEST_MD5, k16, 16, STR("Hi There"), "9294727a3638bb1c13f48ef8158bfc9d");
    expect_hmac(MP_DIGEST_MD5, STR("Jefe"), STR("what do ya want for nothing?"),
                "750c783e6ab0b503eaa86e310a5db738");
    memset(k16, 0xaa, sizeof k16);
    memset(d50, 0xdd, sizeof d50);
    expect_hmac(MP_DIGEST_MD5, k16, 16, d50, 50, "56be34521d144c88dbb8c733f0e8b3f6");
    for (int i = 0; i < 25; i++)
        k25[i] = (unsigned char)(i + 1);
    memset(d50, 0xcd, sizeof d50);
    expect_hmac(MP_DIGEST_MD5, k25, 25, d50, 50, "697eaf0aca3a3aea3a75164746ffaa79");
    memset(k16, 0x0c, sizeof k16);
    expect_hmac(MP_DIGEST_MD5, k16, 16, STR("Test With Truncation"), "56461ef2342edc00f9bab995690efd4c");
    memset(k80, 0xaa, sizeof k80);
    expect_hmac(MP_DIGEST_MD5, k80, 80, STR("Test Using Larger Than Block-Size Key - Hash Key First"),
                "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd");
    expect_hmac(MP_DIGEST_MD5, k80, 80,
                STR("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
                "6f630fad67cda0ee1fb1f562db3aa53e");
}

/* Keys of no byte, of one, and either side of the 64-byte block, where a
 * key stops being padded and starts being hashed. Python's hmac's answers,
 * for the key bytes (7i + 3) mod 256 and pattern(100). */
static void hmac_keys_around_the_block_size(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        const char *sha256, *md5;
    } keys[] = {
        {0, "0da5d92cccf6bc8e19bf718cc7299a5c4ac87f62d2258662241fd5642759eb03",
         "7ccb1f813d5fdea645f6f1c62a30c15f"},
        {1, "49faa221a74cdb90ff35cecaeed7bd28abcb0c7bdbef239590b21707fdd1895d",
         "52526ab99c4a26721ec597819447c4cb"},
        {63, "4cc13c18682f56c29dcea29f68c732bfd6b1dabd5221e7475fe74d78efcaa421",
         "5d4ba74b724f7141b5ed235f4f3bed70"},
        {64, "54069e3083a71ea5ccbc79d5c883ef94be99bfeae090c5ebe2185065f29a7579",
         "f62ea1ff8388c28ae00c92929b90ddbc"},
        {65, "5bb548366eee480dfe2263e2d31bb51e29f4fc7f430aa0f024b4e5a72436e9f3",
         "ad4ceb9ea6ca1da3ee4465677071b113"},
        {200, "1275c8335465852cab01d2e08c6443fc17456337cf2fac9f797dad6f991d258c",
         "02bf91d93c8d384ac4397e0753bd77c4"},
    };
    unsigned char key[200];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (unsigned char)(i * 7 + 3);
    unsigned char *msg = pattern(100);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        expect_hmac(MP_DIGEST_SHA256, keys[i].len ? key : NULL, keys[i].len, msg, 100, keys[i].sha256);
        expect_hmac(MP_DIGEST_MD5, keys[i].len ? key : NULL, keys[i].len, msg, 100, keys[i].md5);
    }
    free(msg);
    expect_hmac(MP_DIGEST_SHA256, NULL, 0, NULL, 0,
                "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    expect_hmac(MP_DIGEST_MD5, NULL, 0, NULL, 0, "74e6f7298a9c2d168935f58c001bad88");
}

/* Issue 14's known answer: what a Python >= 3.12 client answers, under the
 * authkey "abc", to a challenge whose 40 random bytes are 0..39. The HMAC
 * covers the "{sha256}" prefix as well as the 40 bytes (issue 14 §1, step
 * 2); of the 40 bytes alone it would be 38a1e7fd.... */
static void hmac_handshake_known_answer(void **state)
{
    (void)state;
    unsigned char msg[8 + 40];
    memcpy(msg, "{sha256}", 8);
    for (int i = 0; i < 40; i++)
        msg[8 + i] = (unsigned char)i;
    expect_hmac(MP_DIGEST_SHA256, STR("abc"), msg, sizeof msg,
                "ee2b4cd766c1e0f5eb564525d250361f729d00e3948c83c5651d1cefdb97de31");
}

static void sizes(void **state)
{
    (void)state;
    assert_int_equal(mp_digest_size(MP_DIGEST_SHA256), 32);
    assert_int_equal(mp_digest_size(MP_DIGEST_MD5), 16);
}

static void equal_compares_every_byte(void **state)
{
    (void)state;
    unsigned char a[32], b[32];
    for (int i = 0; i < 32; i++)
        a[i] = b[i] = (unsigned char)(i * 9);
    assert_true(mp_digest_equal(a, b, 32));
    assert_true(mp_digest_equal(NULL, NULL, 0));
    assert_true(mp_digest_equal(a, "x", 0));
    for (int i = 0; i < 32; i++) {
        for (int bit = 0; bit < 8; bit++) {
            b[i] ^= (unsigned char)(1u << bit);
            assert_false(mp_digest_equal(a, b, 32));
            assert_true(mp_digest_equal(a, b, (size_t)i));
            b[i] ^= (unsigned char)(1u << bit);
        }
    }
    assert_true(mp_digest_equal(a, b, 32));
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(sha256_fips_examples),
        MPT_TEST(md5_rfc1321_suite),
        MPT_TEST(lengths_around_block_boundaries),
        MPT_TEST(pieces_make_the_whole),
        MPT_TEST(hmac_sha256_rfc4231),
        MPT_TEST(hmac_md5_rfc2202),
        MPT_TEST(hmac_keys_around_the_block_size),
        MPT_TEST(hmac_handshake_known_answer),
        MPT_TEST(sizes),
        MPT_TEST(equal_compares_every_byte),
    };
    return MPT_RUN(tests);
}
