/* fuzz_resp.c - libFuzzer target for the Redis client's parsers: RESP2
 * replies (redis/resp.h) and redis:// URLs (redis/url.h).
 *
 * The input is read as a stream of replies, once whole and once fed in
 * pieces whose sizes come from the input itself: both must give the same
 * codes, trees and lengths, MP_RESP_MORE only for a reply that is not all
 * there, and never anything but MP_EPROTO or MP_ETOOBIG for a bad one.
 * Each tree is written back as RESP and must parse to the same tree. The
 * input as the rest of a redis:// URL must parse or fail cleanly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mproc.h>

#include "redis/resp.h"
#include "redis/url.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const mp_resp_limits limits = {
    .max_bulk = 1 << 16, .max_line = 1 << 10, .max_reply = 1 << 20, .max_elements = 4096, .max_depth = 8};

static bool same(const mp_resp_reply *a, const mp_resp_reply *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case MP_RESP_NIL:
        return true;
    case MP_RESP_INTEGER:
        return a->integer == b->integer;
    case MP_RESP_ARRAY:
        if (a->len != b->len)
            return false;
        for (size_t i = 0; i < a->len; i++)
            if (!same(&a->items[i], &b->items[i]))
                return false;
        return true;
    default:
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0 && b->str[b->len] == '\0';
    }
}

/* The tree as RESP again (a nil as "$-1"). */
static void write_back(mp_buf *b, const mp_resp_reply *r)
{
    char head[32];
    int n = 0;
    switch (r->type) {
    case MP_RESP_NIL:
        mp_buf_append(b, "$-1\r\n", 5);
        return;
    case MP_RESP_INTEGER:
        n = snprintf(head, sizeof head, ":%lld\r\n", (long long)r->integer);
        mp_buf_append(b, head, (size_t)n);
        return;
    case MP_RESP_ARRAY:
        n = snprintf(head, sizeof head, "*%zu\r\n", r->len);
        mp_buf_append(b, head, (size_t)n);
        for (size_t i = 0; i < r->len; i++)
            write_back(b, &r->items[i]);
        return;
    case MP_RESP_BULK:
        n = snprintf(head, sizeof head, "$%zu\r\n", r->len);
        break;
    default:
        n = snprintf(head, sizeof head, "%c", r->type == MP_RESP_STATUS ? '+' : '-');
        break;
    }
    mp_buf_append(b, head, (size_t)n);
    mp_buf_append(b, r->str, r->len);
    mp_buf_append(b, "\r\n", 2);
}

static void round_trip(const mp_resp_reply *r)
{
    mp_buf b = MP_BUF_INIT;
    write_back(&b, r);
    mp_resp_parser p;
    mp_resp_parser_init(&p, &limits);
    mp_resp_reply *again = NULL;
    size_t used = 0;
    /* Writing back never grows a reply but for nils ("*-1" -> "$-1"). */
    if (mp_resp_parse(&p, b.data, b.len, &again, &used) != MP_OK || used != b.len || !same(r, again))
        abort();
    mp_resp_free(again);
    mp_buf_free(&b);
}

typedef struct outcome {
    int rc;
    size_t used;
    mp_resp_reply *tree;
} outcome;

enum { MAX_REPLIES = 32 };

/* Parse the replies of data[0..size), fed in pieces of step(k) bytes. */
static size_t parse_all(const unsigned char *data, size_t size,
                        size_t (*step)(const unsigned char *, size_t, size_t), outcome *out)
{
    mp_resp_parser p;
    mp_resp_parser_init(&p, &limits);
    size_t n = 0, start = 0, have = 0, k = 0;
    while (n < MAX_REPLIES && start < size) {
        have += step(data, size, k++);
        if (have > size - start)
            have = size - start;
        mp_resp_reply *tree = (mp_resp_reply *)1;
        size_t used = 0;
        int rc = mp_resp_parse(&p, data + start, have, &tree, &used);
        if (rc == MP_RESP_MORE) {
            if (tree != NULL || p.want <= have)
                abort();
            if (have == size - start) {
                out[n++] = (outcome){rc, 0, NULL};
                break;
            }
            continue;
        }
        if (rc != MP_OK && (tree != NULL || (rc != MP_EPROTO && rc != MP_ETOOBIG)))
            abort();
        if (rc == MP_OK && (used == 0 || used > have))
            abort();
        out[n++] = (outcome){rc, used, rc == MP_OK ? tree : NULL};
        if (rc != MP_OK)
            break;
        start += used;
        have = 0;
    }
    return n;
}

static size_t whole(const unsigned char *data, size_t size, size_t k)
{
    (void)data, (void)k;
    return size;
}

static size_t pieces(const unsigned char *data, size_t size, size_t k)
{
    return size == 0 ? 1 : (size_t)data[k % size] % 17 + 1;
}

static void replies(const unsigned char *data, size_t size)
{
    outcome a[MAX_REPLIES], b[MAX_REPLIES];
    size_t na = parse_all(data, size, whole, a), nb = parse_all(data, size, pieces, b);
    if (na != nb)
        abort();
    for (size_t i = 0; i < na; i++) {
        if (a[i].rc != b[i].rc || a[i].used != b[i].used ||
            (a[i].tree != NULL && (b[i].tree == NULL || !same(a[i].tree, b[i].tree))))
            abort();
        if (a[i].tree != NULL)
            round_trip(a[i].tree);
        mp_resp_free(a[i].tree);
        mp_resp_free(b[i].tree);
    }
}

static void url(const unsigned char *data, size_t size)
{
    char *s = malloc(size + sizeof "redis://");
    memcpy(s, "redis://", 8);
    memcpy(s + 8, data, size);
    s[size + 8] = '\0';
    mp_redis_url u;
    int rc = mp_redis_url_parse(s, &u);
    if (rc == MP_OK) {
        if (u.host == NULL || u.host[0] == '\0' || u.port == 0 || u.port > 65535 || u.path == NULL ||
            (u.user != NULL && u.password == NULL))
            abort();
        mp_redis_url_free(&u);
    } else if (rc != MP_EINVAL || u.mem != NULL || u.host != NULL) {
        abort();
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    replies(data, size);
    url(data, size);
    return 0;
}
