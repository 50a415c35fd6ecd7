/* auth.c - the challenge and response of Python's Listener and Client
 * (auth.h), in both of Python's forms: the "{digest}" one of 3.12 and the
 * bare HMAC-MD5 one of 3.11 and before. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "crypto/digest.h"
#include "ipc/conn_internal.h"
#include "net/auth.h"
#include "platform.h"

#define CHALLENGE "#CHALLENGE#"
#define CHALLENGE_LEN (sizeof CHALLENGE - 1)
#define WELCOME "#WELCOME#"
#define FAILURE "#FAILURE#"
/* The random bytes of the challenges we send, as Python 3.12's. */
#define NONCE_LEN 40
/* The prefix we send: SHA-256, as Python 3.12's default. */
#define OUR_PREFIX "{sha256}"
/* Python <= 3.11 sends 20 random bytes and answers with a bare HMAC-MD5
 * (16 bytes); no prefixed message has either length, which is how 3.12
 * (and we) tell the legacy form. */
#define LEGACY_CHALLENGE_LEN 20

typedef struct step {
    mp_conn *c;
    double deadline;
    const char *where;
} step;

/* Receive one handshake message into buf (MP_AUTH_MAX_MESSAGE bytes), by
 * the deadline. */
static int recv_message(const step *s, const char *what, unsigned char *buf, size_t *len)
{
    void *data;
    int rc = mp_conn_recv_bytes_by(s->c, MP_AUTH_MAX_MESSAGE, mp_time_left(s->deadline), &data, len);
    if (rc == MP_OK) {
        memcpy(buf, data, *len);
        free(data);
    }
    if (rc == MP_ETIMEDOUT)
        return mp_fail(MP_ETIMEDOUT, "%s: authentication: no whole %s from the peer within the timeout", s->where,
                       what);
    if (rc == MP_ETOOBIG)
        return mp_fail(MP_EPROTO, "%s: authentication: the %s is over the %d bytes allowed", s->where, what,
                       MP_AUTH_MAX_MESSAGE);
    if (rc == MP_EEOF)
        return mp_fail(MP_EPROTO, "%s: authentication: the peer closed the connection before its %s", s->where,
                       what);
    if (rc != MP_OK)
        return mp_fail(rc, "%s: authentication: receiving the %s: %s", s->where, what, mp_last_error());
    return MP_OK;
}

static int send_message(const step *s, const void *data, size_t len)
{
    int rc = mp_conn_send_bytes(s->c, data, len);
    if (rc != MP_OK)
        return mp_fail(rc, "%s: authentication: sending: %s", s->where, mp_last_error());
    return MP_OK;
}

/* A message's "{name}" prefix: true with *d and *prefix_len if it names a
 * digest we have. Python accepts a few more (sha384, sha3_*); a peer that
 * picks one of those fails to authenticate with us. */
static bool parse_prefix(const unsigned char *m, size_t len, mp_digest *d, size_t *prefix_len)
{
    static const struct {
        const char *prefix;
        mp_digest d;
    } known[] = {{"{sha256}", MP_DIGEST_SHA256}, {"{md5}", MP_DIGEST_MD5}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i].prefix);
        if (len >= n && memcmp(m, known[i].prefix, n) == 0) {
            *d = known[i].d;
            *prefix_len = n;
            return true;
        }
    }
    return false;
}

/* deliver_challenge: send a challenge, check the answer, say which. */
static int deliver(const step *s, const void *key, size_t key_len)
{
    unsigned char out[CHALLENGE_LEN + sizeof OUR_PREFIX - 1 + NONCE_LEN];
    unsigned char *payload = out + CHALLENGE_LEN;
    size_t payload_len = sizeof out - CHALLENGE_LEN;
    memcpy(out, CHALLENGE OUR_PREFIX, CHALLENGE_LEN + sizeof OUR_PREFIX - 1);
    int rc = mp_os_random(out + sizeof out - NONCE_LEN, NONCE_LEN);
    if (rc != MP_OK)
        return mp_fail(rc, "%s: authentication: no random bytes: %s", s->where, mp_last_error());
    if ((rc = send_message(s, out, sizeof out)) != MP_OK)
        return rc;
    unsigned char answer[MP_AUTH_MAX_MESSAGE];
    size_t len;
    if ((rc = recv_message(s, "answer to our challenge", answer, &len)) != MP_OK)
        return rc;
    /* A bare 16 bytes is Python <= 3.11's HMAC-MD5 of the whole payload,
     * which it took for a legacy challenge; otherwise the answer names its
     * digest. The HMAC covers our prefix, so naming a weaker one than we
     * asked for changes nothing an attacker could use. */
    mp_digest d = MP_DIGEST_MD5;
    size_t prefix_len = 0;
    bool known = len == MP_MD5_SIZE || parse_prefix(answer, len, &d, &prefix_len);
    unsigned char expected[MP_SHA256_SIZE];
    if (known)
        mp_hmac(d, key, key_len, payload, payload_len, expected);
    if (!known || len - prefix_len != mp_digest_size(d) ||
        !mp_digest_equal(answer + prefix_len, expected, mp_digest_size(d))) {
        (void)mp_conn_send_bytes(s->c, FAILURE, sizeof FAILURE - 1); /* the peer may be gone already */
        return mp_fail(MP_EAUTH, "%s: authentication failed: the peer's answer to our challenge is wrong "
                                 "(another authkey, or none)", s->where);
    }
    return send_message(s, WELCOME, sizeof WELCOME - 1);
}

/* answer_challenge: answer the peer's challenge, learn whether it took. */
static int answer(const step *s, const void *key, size_t key_len)
{
    unsigned char m[MP_AUTH_MAX_MESSAGE];
    size_t len;
    int rc = recv_message(s, "challenge", m, &len);
    if (rc != MP_OK)
        return rc;
    if (len < CHALLENGE_LEN || memcmp(m, CHALLENGE, CHALLENGE_LEN) != 0)
        return mp_fail(MP_EAUTH, "%s: authentication failed: the peer sent no challenge (it has no authkey?)",
                       s->where);
    const unsigned char *payload = m + CHALLENGE_LEN;
    size_t payload_len = len - CHALLENGE_LEN;
    /* Python 3.12's rules: a legacy challenge is exactly 20 bytes (answered
     * bare); anything else must name its digest, which our answer repeats;
     * the HMAC covers the whole payload, prefix included. */
    mp_digest d = MP_DIGEST_MD5;
    size_t prefix_len = 0;
    bool legacy = payload_len == LEGACY_CHALLENGE_LEN;
    if (payload_len < LEGACY_CHALLENGE_LEN || (!legacy && !parse_prefix(payload, payload_len, &d, &prefix_len)))
        return mp_fail(MP_EAUTH, "%s: authentication failed: a challenge of %zu bytes that is neither Python's "
                                 "legacy one nor names a digest we have (sha256, md5)", s->where, payload_len);
    unsigned char reply[sizeof "{sha256}" - 1 + MP_SHA256_SIZE];
    memcpy(reply, payload, prefix_len);
    mp_hmac(d, key, key_len, payload, payload_len, reply + prefix_len);
    if ((rc = send_message(s, reply, prefix_len + mp_digest_size(d))) != MP_OK)
        return rc;
    if ((rc = recv_message(s, "verdict on our answer", m, &len)) != MP_OK)
        return rc;
    if (len != sizeof WELCOME - 1 || memcmp(m, WELCOME, len) != 0)
        return mp_fail(MP_EAUTH, "%s: authentication failed: the peer rejected our answer (another authkey?)",
                       s->where);
    return MP_OK;
}

static step start(mp_conn *c, double timeout, const char *where)
{
    return (step){c, mp_deadline(timeout), where};
}

int mp_auth_server(mp_conn *c, const void *key, size_t key_len, double timeout, const char *where)
{
    step s = start(c, timeout, where);
    int rc = deliver(&s, key, key_len);
    return rc != MP_OK ? rc : answer(&s, key, key_len);
}

int mp_auth_client(mp_conn *c, const void *key, size_t key_len, double timeout, const char *where)
{
    step s = start(c, timeout, where);
    int rc = answer(&s, key, key_len);
    return rc != MP_OK ? rc : deliver(&s, key, key_len);
}
