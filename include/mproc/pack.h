/* mproc/pack.h - MessagePack values, packed and unpacked by format string.
 *
 * Everything that crosses a process boundary is standard MessagePack, so any
 * implementation (Python's msgpack, for one) reads and writes it.
 *
 * Writing: append values to an mp_buf, one at a time (mp_pack_int, ...) or
 * several by format string (mp_pack), in the manner of Py_BuildValue.
 *
 * Reading: mp_decode checks a whole message and turns it into a tree of
 * mp_value nodes held in one allocation. Read the tree directly, or take
 * it apart by format string (mp_unpack, mp_args), in the manner of
 * PyArg_ParseTuple. The decoder never reads past its input, bounds depth and
 * node count, checks UTF-8, and returns MP_EPROTO for anything malformed.
 *
 * Format strings (mp_pack / mp_unpack):
 *
 *   letter  MessagePack     mp_pack argument         mp_unpack argument
 *   n       nil             (none)                   (none; value must be nil)
 *   ?       bool            int                      bool *
 *   i       int             int                      int *
 *   I       int             unsigned int             unsigned int *
 *   q       int             int64_t                  int64_t *
 *   Q       int             uint64_t                 uint64_t *
 *   d       float 64        double                   double * (ints convert)
 *   f       float 32        double (from float)      float *  (ints convert)
 *   s       str             const char * (non-NULL)  const char ** (NUL-ended,
 *                                                    borrowed; no embedded NUL)
 *   z       str or nil      const char * or NULL     const char ** (NULL if nil)
 *   s#      str             const char *, size_t     const char **, size_t *
 *   y#      bin             const void *, size_t     const void **, size_t *
 *   e       ext             int type, const void *,  int8_t *, const void **,
 *                           size_t                   size_t *
 *   V       any             const mp_value *         const mp_value ** (borrowed)
 *   O       ext 77          an mproc object          a pointer to the object
 *                           (mp_conn *, mp_queue *,  type's pointer (mp_queue
 *                           mp_lock *, ...)          **, ...), see below
 *   ( )     array           the items' arguments     the items' arguments
 *   [ ]     array           same as ( )              same as ( )
 *   { }     map             key, value, key, ...     (not supported: use V)
 *   |       -               -                        the rest is optional
 *
 * Spaces, tabs, commas and colons in a format are ignored. A malformed format
 * (unknown letter, unbalanced brackets, odd item count in a map) gives
 * MP_EFORMAT. Unpacking checks types (MP_ETYPE), integer ranges (MP_ERANGE)
 * and counts: an array in the format must match the value's length exactly,
 * unless '|' marks the rest as optional; optional targets that have no value
 * are left unchanged.
 *
 * The O letter is for process arguments only: mp_process_new's format may
 * pass a Connection, Queue, Lock, RLock, Semaphore, Condition, Event,
 * Barrier, Value/Array or SharedMemory to the child, whose target takes it
 * with mp_args(args, "O", &q). The child's object belongs to the child's
 * runtime (freeing it is allowed, not required) and stays valid until the
 * child ends. Anywhere else (mp_pack into a buffer, a Connection's send, a
 * queue item, a pool task's arguments) O is MP_EUNSUPPORTED, except for a
 * manager's proxy (manager.h), which has no OS handle and travels
 * anywhere (turn it back into a proxy with mp_proxy_from_value); a pointer
 * that is not a live mproc object is MP_ETYPE. Unpacking O from a value that
 * is not such an argument is MP_ETYPE; a wrong kind (a Lock where a Queue is
 * expected) is MP_ETYPE when the object is first used.
 *
 * Lifetimes: what unpacking yields through s, z, s#, y#, e and V borrows
 * from the decoded tree and is valid until mp_value_free of that tree;
 * copy what must outlive it.
 *
 * Bulk data: y# copies the bytes once, with no per-element encoding; the
 * decoded bytes are 16-byte aligned, so an array of doubles packed as y# can
 * be read in place.
 *
 * Thread safety: an mp_buf or a decoded tree is used by one thread at a time;
 * distinct ones are independent. A decoded tree is read-only and may be read
 * from several threads at once.
 */
#ifndef MPROC_PACK_H
#define MPROC_PACK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- building ---------------------------------------------------------- */

/* A growable byte buffer. Zero-initialise it (MP_BUF_INIT); free it with
 * mp_buf_free. Its fields may be read; change them only through these
 * functions. */
typedef struct mp_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
    bool borrowed; /* internal: data is storage the library lent itself */
} mp_buf;

#define MP_BUF_INIT {NULL, 0, 0, false}

void mp_buf_free(mp_buf *b);
/* Forget the contents, keep the memory. */
void mp_buf_clear(mp_buf *b);
/* Append raw bytes, e.g. an already packed value. */
int mp_buf_append(mp_buf *b, const void *data, size_t len);

/* Append one value. MP_ENOMEM, MP_ETOOBIG (a length beyond 2^32-1) or
 * MP_EINVAL (NULL buffer, NULL data with a nonzero length, invalid UTF-8 in
 * a str). On failure the buffer is left as it was. */
int mp_pack_nil(mp_buf *b);
int mp_pack_bool(mp_buf *b, bool v);
int mp_pack_int(mp_buf *b, int64_t v);
int mp_pack_uint(mp_buf *b, uint64_t v);
int mp_pack_double(mp_buf *b, double v);
int mp_pack_float(mp_buf *b, float v);
int mp_pack_str(mp_buf *b, const char *s, size_t len);
int mp_pack_bin(mp_buf *b, const void *data, size_t len);
int mp_pack_ext(mp_buf *b, int8_t type, const void *data, size_t len);
/* Headers: the next n values (2n for a map: key, value, ...) are the items. */
int mp_pack_array(mp_buf *b, uint32_t n);
int mp_pack_map(mp_buf *b, uint32_t n);

/* Append the values a format describes (see the table above). A format of
 * several values appends them one after another, not as an array. On failure
 * the buffer is left as it was. */
int mp_pack(mp_buf *b, const char *fmt, ...);
int mp_vpack(mp_buf *b, const char *fmt, va_list ap);

/* ---- decoded values ---------------------------------------------------- */

typedef enum mp_type {
    MP_NIL,
    MP_BOOL,
    MP_INT,    /* fits in int64_t: as.i */
    MP_UINT,   /* above INT64_MAX: as.u */
    MP_DOUBLE, /* float 32 or float 64: as.d */
    MP_STR,    /* valid UTF-8, NUL-terminated, may hold NULs: as.str */
    MP_BIN,    /* 16-byte aligned: as.bin */
    MP_ARRAY,  /* as.array.items[0 .. len-1] */
    MP_MAP,    /* as.map.items[0 .. 2*len-1]: key, value, key, value, ... */
    MP_EXT     /* as.ext */
} mp_type;

/* The extension type mproc uses for its own objects (connections, queues,
 * locks, ...) travelling as arguments. Application types are 0..127; this one
 * is reserved. */
#define MP_EXT_OBJECT 77

typedef struct mp_value {
    mp_type type;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        struct { const char *ptr; uint32_t len; } str;
        struct { const unsigned char *ptr; uint32_t len; } bin;
        struct { struct mp_value *items; uint32_t len; } array;
        struct { struct mp_value *items; uint32_t len; } map;
        struct { const unsigned char *ptr; uint32_t len; int8_t type; } ext;
    } as;
} mp_value;

/* Decoder bounds. Zero fields take the defaults. */
typedef struct mp_limits {
    size_t max_depth; /* nesting of arrays and maps; default 64, at most 1000 */
    size_t max_nodes; /* values in the whole message; default 4 194 304 */
    size_t max_bytes; /* input size; default 2^32 - 1 */
} mp_limits;

/* Decode exactly one value that fills data[0..len). The tree is one
 * allocation owned by the caller: free it with mp_value_free. The input is
 * copied; it may be freed after the call.
 * Errors: MP_EINVAL (NULL out, NULL data with len > 0), MP_EPROTO (malformed,
 * truncated, trailing bytes, invalid UTF-8, reserved byte 0xc1), MP_ETOOBIG
 * (a limit exceeded), MP_ENOMEM. On failure *out is NULL. */
int mp_decode(const void *data, size_t len, const mp_limits *limits, mp_value **out);
void mp_value_free(mp_value *v);

/* Re-encode a decoded value (or any acyclic tree built by hand) as
 * MessagePack, in the smallest forms. Floats are written as float 64, so a
 * float 32 grows by 4 bytes; everything else comes out byte for byte as a
 * smallest-form encoder wrote it. */
int mp_pack_value(mp_buf *b, const mp_value *v);

/* Take one value apart by a format that describes exactly one value. */
int mp_unpack(const mp_value *v, const char *fmt, ...);
int mp_vunpack(const mp_value *v, const char *fmt, va_list ap);

/* Take an array apart item by item: mp_args(args, "si", &s, &n) is
 * mp_unpack(args, "(si)", &s, &n). This is how a target reads its arguments.
 * The pointers it yields borrow from the tree. */
int mp_args(const mp_value *args, const char *fmt, ...);

/* Map lookup by string key; NULL if v is not a map or has no such key. */
const mp_value *mp_map_get(const mp_value *map, const char *key);

#ifdef __cplusplus
}
#endif

#endif
