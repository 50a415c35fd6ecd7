/* resp.c - RESP2 commands and replies (resp.h).
 *
 * A reply is parsed in two passes. The scan walks it trusting nothing:
 * every line must end in CRLF within max_line, every number is checked for
 * its digits and range, every bulk string for the CRLF after its bytes, and
 * the counts, depth and size are bounded before anything is kept. It stops
 * where the bytes run out and goes on from there on the next call, with
 * the arrays still open on a small stack. Once the reply is whole, the
 * build walks it again into one block laid out as [nodes][strings, each
 * NUL-ended], which cannot fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "pack/pack_internal.h"
#include "redis/resp.h"

#define DEFAULT_BULK ((size_t)512 << 20)
#define DEFAULT_LINE ((size_t)64 << 10)
#define DEFAULT_REPLY ((size_t)1 << 30)
#define DEFAULT_ELEMENTS ((size_t)16 << 20)
#define DEFAULT_DEPTH 16u
/* Sizes above this could overflow the scan's arithmetic: none is useful. */
#define SIZE_CAP (SIZE_MAX / 4)

/* ---- commands ---------------------------------------------------------- */

/* "*<n>\r\n" or "$<n>\r\n" into p (room for 24 bytes): its length. */
static size_t header(char *p, char type, size_t n)
{
    return (size_t)snprintf(p, 24, "%c%zu\r\n", type, n);
}

int mp_resp_command(mp_buf *out, size_t argc, const mp_resp_arg *argv)
{
    if (out == NULL || argc == 0 || argv == NULL)
        return mp_fail(MP_EINVAL, "redis command: no arguments");
    char tmp[24];
    size_t total = header(tmp, '*', argc);
    for (size_t i = 0; i < argc; i++) {
        if (argv[i].data == NULL && argv[i].len > 0)
            return mp_fail(MP_EINVAL, "redis command: argument %zu has NULL data", i);
        size_t one = header(tmp, '$', argv[i].len) + 2;
        if (argv[i].len > SIZE_CAP || one + argv[i].len > SIZE_CAP - total)
            return mp_fail(MP_ETOOBIG, "redis command: %zu arguments too large to encode", argc);
        total += one + argv[i].len;
    }
    int rc = mp_buf_reserve(out, total);
    if (rc != MP_OK)
        return rc;
    char *p = (char *)out->data + out->len;
    p += header(p, '*', argc);
    for (size_t i = 0; i < argc; i++) {
        p += header(p, '$', argv[i].len);
        if (argv[i].len > 0)
            memcpy(p, argv[i].data, argv[i].len);
        p += argv[i].len;
        *p++ = '\r';
        *p++ = '\n';
    }
    out->len += total;
    return MP_OK;
}

/* ---- replies ----------------------------------------------------------- */

void mp_resp_free(mp_resp_reply *r)
{
    free(r);
}

bool mp_resp_is_error(const mp_resp_reply *r, const char *prefix)
{
    if (r == NULL || r->type != MP_RESP_ERROR || prefix == NULL)
        return false;
    size_t n = strlen(prefix);
    return r->len >= n && memcmp(r->str, prefix, n) == 0 && (r->len == n || r->str[n] == ' ');
}

int mp_resp_parser_init(mp_resp_parser *p, const mp_resp_limits *limits)
{
    mp_resp_limits l = limits != NULL ? *limits : (mp_resp_limits){0};
    if (l.max_depth > MP_RESP_DEPTH_MAX)
        return mp_fail(MP_EINVAL, "redis reply limits: max_depth %u is above %d", l.max_depth,
                       MP_RESP_DEPTH_MAX);
    l.max_bulk = l.max_bulk == 0 ? DEFAULT_BULK : l.max_bulk > SIZE_CAP ? SIZE_CAP : l.max_bulk;
    l.max_line = l.max_line == 0 ? DEFAULT_LINE : l.max_line > SIZE_CAP ? SIZE_CAP : l.max_line;
    l.max_reply = l.max_reply == 0 ? DEFAULT_REPLY : l.max_reply > SIZE_CAP ? SIZE_CAP : l.max_reply;
    l.max_elements = l.max_elements == 0         ? DEFAULT_ELEMENTS
                     : l.max_elements > SIZE_CAP ? SIZE_CAP
                                                 : l.max_elements;
    l.max_depth = l.max_depth == 0 ? DEFAULT_DEPTH : l.max_depth;
    *p = (mp_resp_parser){.limits = l};
    return MP_OK;
}

/* Forget the reply, keep the limits. */
static void reset(mp_resp_parser *p)
{
    *p = (mp_resp_parser){.limits = p->limits};
}

/* A failed reply: the parser starts afresh, the code goes up. */
static int failed(mp_resp_parser *p, int code)
{
    reset(p);
    return code;
}

/* A decimal int64 in s[0..n): optional '-', 1 to 19 digits. */
static bool number(const unsigned char *s, size_t n, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    size_t i = neg ? 1 : 0;
    if (i == n || n - i > 19)
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
        return false;
    *out = !neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return true;
}

/* The line at d[p->pos]: a type byte, then content up to the CRLF whose
 * CR is at *cr (the line's first CR). MP_RESP_MORE while its end has not
 * arrived. */
static int scan_line(mp_resp_parser *p, const unsigned char *d, size_t len, size_t *cr)
{
    size_t start = p->pos + 1;
    size_t limit = start + p->limits.max_line + 1; /* the CR comes before it */
    size_t have = len < limit ? len : limit;
    const unsigned char *at = have > start ? memchr(d + start, '\r', have - start) : NULL;
    /* No line has an LF of its own (a status or error must not; a number
     * cannot): one before the CR is malformed however the bytes came. */
    size_t end = at != NULL ? (size_t)(at - d) : have;
    if (end > start && memchr(d + start, '\n', end - start) != NULL)
        return mp_fail(MP_EPROTO, "redis reply: an LF inside a line at offset %zu", p->pos);
    if (at == NULL) {
        if (len >= limit)
            return mp_fail(MP_ETOOBIG, "redis reply: a line longer than %zu bytes at offset %zu",
                           p->limits.max_line, p->pos);
        p->want = len + 1;
        return MP_RESP_MORE;
    }
    *cr = (size_t)(at - d);
    if (*cr + 1 == len) {
        p->want = len + 1;
        return MP_RESP_MORE;
    }
    if (d[*cr + 1] != '\n')
        return mp_fail(MP_EPROTO, "redis reply: a line not ended by CRLF at offset %zu", p->pos);
    return MP_OK;
}

static int malformed(const mp_resp_parser *p, const char *what)
{
    return mp_fail(MP_EPROTO, "redis reply: %s at offset %zu", what, p->pos);
}

/* The b bytes of a bulk string at *next, and its CRLF. */
static int scan_bulk(mp_resp_parser *p, const unsigned char *d, size_t len, size_t b, size_t *next,
                     size_t *text)
{
    if (*next > p->limits.max_reply || b + 2 > p->limits.max_reply - *next)
        return mp_fail(MP_ETOOBIG, "redis reply: larger than the limit of %zu bytes", p->limits.max_reply);
    if (len - *next < b + 2) {
        p->want = *next + b + 2;
        return MP_RESP_MORE;
    }
    if (d[*next + b] != '\r' || d[*next + b + 1] != '\n')
        return malformed(p, "a bulk string not ended by CRLF");
    *text = b + 1;
    *next += b + 2;
    return MP_OK;
}

/* Scan the value at p->pos. On MP_OK, *next is where the bytes after it
 * (or after an array's header) start, *text its string bytes with a NUL,
 * and *open the items of an array that follow it (0 for anything else). */
static int scan_value(mp_resp_parser *p, const unsigned char *d, size_t len, size_t *next, size_t *text,
                      int64_t *open)
{
    if (strchr("+-:$*", d[p->pos]) == NULL || d[p->pos] == '\0')
        return malformed(p, "an unknown type byte");
    size_t cr = 0;
    int rc = scan_line(p, d, len, &cr);
    if (rc != MP_OK)
        return rc;
    const unsigned char *s = d + p->pos + 1;
    size_t n = cr - p->pos - 1;
    int64_t v = 0;
    *next = cr + 2;
    *text = 0;
    *open = 0;
    switch (d[p->pos]) {
    case '+':
    case '-':
        *text = n + 1;
        return MP_OK;
    case ':':
        return number(s, n, &v) ? MP_OK : malformed(p, "a bad integer");
    case '$':
        if (!number(s, n, &v) || v < -1)
            return malformed(p, "a bad bulk string length");
        if (v < 0)
            return MP_OK;
        if ((uint64_t)v > p->limits.max_bulk)
            return mp_fail(MP_ETOOBIG, "redis reply: a bulk string of %lld bytes is above the limit of %zu",
                           (long long)v, p->limits.max_bulk);
        return scan_bulk(p, d, len, (size_t)v, next, text);
    default: /* '*', the one type left */
        if (!number(s, n, &v) || v < -1)
            return malformed(p, "a bad array length");
        if (v > 0 && p->depth == p->limits.max_depth)
            return mp_fail(MP_ETOOBIG, "redis reply: arrays nested deeper than %u", p->limits.max_depth);
        if (v > 0 &&
            (p->nodes >= p->limits.max_elements || (uint64_t)v > p->limits.max_elements - p->nodes - 1))
            return mp_fail(MP_ETOOBIG, "redis reply: more than %zu values", p->limits.max_elements);
        *open = v > 0 ? v : 0;
        return MP_OK;
    }
}

typedef struct builder {
    const unsigned char *d;
    size_t pos, end;
    mp_resp_reply *nodes;
    size_t next_node;
    char *text;
} builder;

static const char *keep(builder *b, const unsigned char *s, size_t n)
{
    char *out = b->text;
    if (n > 0)
        memcpy(out, s, n);
    out[n] = '\0';
    b->text += n + 1;
    return out;
}

/* Fill r from the value at b->pos, which the scan has checked. Recursion
 * is bounded by max_depth. */
static void build(builder *b, mp_resp_reply *r)
{
    const unsigned char *s = b->d + b->pos + 1;
    /* The scan found no CR inside a line: the first one ends it. */
    size_t n = (size_t)((const unsigned char *)memchr(s, '\r', b->end - b->pos - 1) - s);
    unsigned char type = b->d[b->pos];
    int64_t v = 0;
    b->pos += n + 3;
    if (type == '+' || type == '-') {
        *r = (mp_resp_reply){.type = type == '+' ? MP_RESP_STATUS : MP_RESP_ERROR, .len = n};
        r->str = keep(b, s, n);
        return;
    }
    number(s, n, &v);
    if (type == ':') {
        *r = (mp_resp_reply){.type = MP_RESP_INTEGER, .integer = v};
    } else if (v < 0) {
        *r = (mp_resp_reply){.type = MP_RESP_NIL};
    } else if (type == '$') {
        *r = (mp_resp_reply){.type = MP_RESP_BULK, .len = (size_t)v};
        r->str = keep(b, b->d + b->pos, (size_t)v);
        b->pos += (size_t)v + 2;
    } else {
        mp_resp_reply *items = v > 0 ? b->nodes + b->next_node : NULL;
        b->next_node += (size_t)v;
        *r = (mp_resp_reply){.type = MP_RESP_ARRAY, .len = (size_t)v};
        r->items = items;
        for (int64_t i = 0; i < v; i++)
            build(b, &items[i]);
    }
}

int mp_resp_parse(mp_resp_parser *p, const void *data, size_t len, mp_resp_reply **out, size_t *used)
{
    if (out != NULL)
        *out = NULL;
    if (p == NULL || out == NULL || used == NULL || (data == NULL && len > 0))
        return mp_fail(MP_EINVAL, "mp_resp_parse: NULL argument");
    const unsigned char *d = data;
    for (;;) {
        if (len <= p->pos) {
            p->want = p->pos + 1;
            return MP_RESP_MORE;
        }
        size_t next = 0, text = 0;
        int64_t open = 0;
        int rc = scan_value(p, d, len, &next, &text, &open);
        if (rc == MP_RESP_MORE)
            return rc;
        if (rc == MP_OK && ++p->nodes > p->limits.max_elements)
            rc = mp_fail(MP_ETOOBIG, "redis reply: more than %zu values", p->limits.max_elements);
        if (rc == MP_OK && next > p->limits.max_reply)
            rc = mp_fail(MP_ETOOBIG, "redis reply: larger than the limit of %zu bytes", p->limits.max_reply);
        if (rc != MP_OK)
            return failed(p, rc);
        p->pos = next;
        p->text += text;
        if (open > 0) {
            p->left[p->depth++] = open;
            continue;
        }
        /* A value ended: so do the arrays it was the last item of. */
        while (p->depth > 0 && --p->left[p->depth - 1] == 0)
            p->depth--;
        if (p->depth == 0)
            break;
    }
    mp_resp_reply *tree = NULL;
    if (p->nodes <= (SIZE_MAX - p->text) / sizeof *tree)
        tree = malloc(p->nodes * sizeof *tree + p->text);
    if (tree == NULL)
        return failed(p, mp_fail(MP_ENOMEM, "redis reply: out of memory for %zu values", p->nodes));
    builder b = {.d = d, .end = p->pos, .nodes = tree, .next_node = 1, .text = (char *)(tree + p->nodes)};
    build(&b, tree);
    *out = tree;
    *used = p->pos;
    reset(p);
    return MP_OK;
}
