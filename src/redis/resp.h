/* resp.h - RESP2, the Redis protocol: commands encoded, replies parsed.
 *
 * A command is an array of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
 * so every argument is binary-safe. A reply is parsed incrementally from a
 * buffer that grows as bytes arrive: the parser remembers how far it got,
 * so each call scans only what is new, and it trusts no length it reads.
 * Nothing is allocated until the whole reply has arrived and been checked;
 * the tree then comes in one allocation (mp_resp_free).
 *
 * RESP3 (HELLO 3, push messages) is not spoken: its type bytes are
 * malformed here (MP_EPROTO).
 *
 * Thread safety: a parser is used by one thread at a time; a reply tree is
 * plain memory.
 */
#ifndef MPROC_REDIS_RESP_H
#define MPROC_REDIS_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mproc/pack.h"

/* ---- commands ---------------------------------------------------------- */

/* One argument of a command: len bytes at data, any bytes at all. */
typedef struct mp_resp_arg {
    const void *data;
    size_t len;
} mp_resp_arg;

/* A C string as an argument. */
static inline mp_resp_arg mp_resp_text(const char *s)
{
    return (mp_resp_arg){s, strlen(s)};
}

/* Append the command argv[0..argc) to out. MP_EINVAL for argc 0 or an
 * argument with NULL data and a nonzero length; MP_ENOMEM, MP_ETOOBIG. */
int mp_resp_command(mp_buf *out, size_t argc, const mp_resp_arg *argv);

/* ---- replies ----------------------------------------------------------- */

typedef enum mp_resp_type {
    MP_RESP_STATUS,  /* +OK: str, len */
    MP_RESP_ERROR,   /* -ERR message: str, len (the server's message) */
    MP_RESP_INTEGER, /* :42: integer */
    MP_RESP_BULK,    /* $3 abc: str, len (binary; a NUL follows the bytes) */
    MP_RESP_ARRAY,   /* *2 ...: items[0..len) */
    MP_RESP_NIL,     /* $-1 or *-1: RESP2's two nulls are one here */
} mp_resp_type;

typedef struct mp_resp_reply {
    mp_resp_type type;
    size_t len; /* bytes of str, or elements of items */
    union {
        int64_t integer;
        const char *str; /* NUL-terminated after its len bytes */
        const struct mp_resp_reply *items;
    };
} mp_resp_reply;

/* Free a reply tree (NULL too). */
void mp_resp_free(mp_resp_reply *r);

/* True if r is an error reply whose message starts with the word prefix
 * ("NOSCRIPT", "WRONGTYPE", "BUSYGROUP"). */
bool mp_resp_is_error(const mp_resp_reply *r, const char *prefix);

/* Bounds on one reply; a zero field takes the default. Exceeding one is
 * MP_ETOOBIG. */
typedef struct mp_resp_limits {
    size_t max_bulk;     /* bytes of one bulk string; default 512 MiB (Redis's proto-max-bulk-len) */
    size_t max_line;     /* bytes of a status, error or number line; default 64 KiB */
    size_t max_reply;    /* bytes of the whole reply as it came; default 1 GiB */
    size_t max_elements; /* values in the reply, arrays and their items all counted; default 16 Mi */
    unsigned max_depth;  /* arrays within arrays; default 16, at most MP_RESP_DEPTH_MAX */
} mp_resp_limits;

#define MP_RESP_DEPTH_MAX 64

/* mp_resp_parse's answer when the reply is not all there yet: not an
 * error, and not an MP_E* code. */
#define MP_RESP_MORE 1

/* Where the parse of one reply has got to. Set it up with
 * mp_resp_parser_init; its fields are the parser's, except want. */
typedef struct mp_resp_parser {
    mp_resp_limits limits;           /* with the defaults filled in */
    size_t pos;                      /* bytes of whole values (and array headers) scanned */
    size_t want;                     /* after MP_RESP_MORE: the reply needs at least this many bytes */
    size_t nodes;                    /* values counted so far */
    size_t text;                     /* bytes of strings counted so far, a NUL each */
    unsigned depth;                  /* arrays open at pos */
    int64_t left[MP_RESP_DEPTH_MAX]; /* items still to come in each of them */
} mp_resp_parser;

/* Start a parse with these limits (NULL: all defaults). MP_EINVAL for a
 * max_depth above MP_RESP_DEPTH_MAX. */
int mp_resp_parser_init(mp_resp_parser *p, const mp_resp_limits *limits);

/* Parse the reply that starts at data[0]; len bytes have arrived so far.
 *   MP_OK         the reply is whole: *out is its tree, *used the bytes it
 *                 took (more replies may follow them);
 *   MP_RESP_MORE  it is not whole yet: call again with the same bytes at
 *                 the start of data (the buffer may have moved) and more
 *                 after them; p->want says how many the reply needs at
 *                 least, which a buffer should grow towards as bytes come,
 *                 not allocate on trust;
 *   MP_EPROTO     malformed: the stream can never be in step again;
 *   MP_ETOOBIG    a limit is exceeded; MP_ENOMEM.
 * After any answer but MP_RESP_MORE the parser is ready for the next
 * reply. *out is NULL unless MP_OK. */
int mp_resp_parse(mp_resp_parser *p, const void *data, size_t len, mp_resp_reply **out, size_t *used);

#endif
