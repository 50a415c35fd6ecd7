/* decode.c - MessagePack to an mp_value tree in one allocation.
 *
 * Two passes. The first walks the input trusting nothing: every length is
 * checked against the bytes that remain, depth and node count are bounded,
 * strings are checked for UTF-8, and it adds up the exact size of the tree.
 * The second fills one block laid out as
 *     [nodes][bin and ext data, each 16-byte aligned][strings, NUL-ended]
 * and cannot fail. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "pack/decode.h"
#include "pack/pack_internal.h"
#include "base/utf8.h"

#define DEFAULT_NODES ((size_t)4 << 20)
#define DEFAULT_BYTES ((size_t)0xffffffffu)

/* nil, bool and the numbers: fixints 0x00-0x7f and 0xe0-0xff, 0xc0 nil,
 * 0xc2/0xc3 bool, 0xca/0xcb float32/64, 0xcc-0xd3 uint8..int64. */
const unsigned char mp_number_sizes[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x10 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0x70 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0x90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0xa0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0xb0 */
    1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 5, 9, 2, 3, 5, 9,  /* 0xc0 */
    2, 3, 5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* 0xd0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xe0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,  /* 0xf0 */
};

typedef struct input {
    const unsigned char *p;
    size_t len;
    size_t pos;
    bool cut; /* the error was that the data ended too soon */
} input;

typedef struct totals {
    size_t nodes;
    size_t aligned; /* bin and ext bytes, each rounded up to 16 */
    size_t text;    /* string bytes, each with its NUL */
    size_t max_nodes;
    size_t max_depth;
} totals;

static int truncated(input *in, const char *what)
{
    in->cut = true;
    return mp_fail(MP_EPROTO, "mp_decode: truncated %s at offset %zu", what, in->pos);
}

/* The shape of the value that starts at the current byte. */
typedef struct head {
    mp_type type;
    size_t size;   /* bytes after the head (str, bin, ext) or items (array, map) */
    size_t extra;  /* width of the length or value field after the type byte */
    int8_t ext_type;
} head;

/* Read the type byte and its fixed fields; leaves in->pos after them. */
static int read_head(input *in, head *h, uint64_t *scalar)
{
    *h = (head){MP_NIL, 0, 0, 0};
    *scalar = 0;
    if (in->pos >= in->len)
        return truncated(in, "value");
    unsigned char c = in->p[in->pos++];
    size_t width = 0;
    if (c <= 0x7f || c >= 0xe0) {
        h->type = MP_INT;
        *scalar = c <= 0x7f ? c : (uint64_t)(int64_t)(int8_t)c;
        return MP_OK;
    }
    if ((c & 0xf0) == 0x80 || (c & 0xf0) == 0x90) {
        h->type = (c & 0xf0) == 0x80 ? MP_MAP : MP_ARRAY;
        h->size = c & 0x0f;
        return MP_OK;
    }
    if ((c & 0xe0) == 0xa0) {
        h->type = MP_STR;
        h->size = c & 0x1f;
        return MP_OK;
    }
    switch (c) {
    case 0xc0: h->type = MP_NIL; return MP_OK;
    case 0xc2: case 0xc3: h->type = MP_BOOL; *scalar = c == 0xc3; return MP_OK;
    case 0xc4: case 0xc5: case 0xc6: h->type = MP_BIN; width = (size_t)1 << (c - 0xc4); break;
    case 0xc7: case 0xc8: case 0xc9: h->type = MP_EXT; width = (size_t)1 << (c - 0xc7); break;
    case 0xca: h->type = MP_DOUBLE; width = 4; break;
    case 0xcb: h->type = MP_DOUBLE; width = 8; break;
    case 0xcc: case 0xcd: case 0xce: case 0xcf: h->type = MP_UINT; width = (size_t)1 << (c - 0xcc); break;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: h->type = MP_INT; width = (size_t)1 << (c - 0xd0); break;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        h->type = MP_EXT;
        h->size = (size_t)1 << (c - 0xd4);
        width = 0;
        break;
    case 0xd9: case 0xda: case 0xdb: h->type = MP_STR; width = (size_t)1 << (c - 0xd9); break;
    case 0xdc: case 0xdd: h->type = MP_ARRAY; width = c == 0xdc ? 2 : 4; break;
    case 0xde: case 0xdf: h->type = MP_MAP; width = c == 0xde ? 2 : 4; break;
    default: /* 0xc1 */
        return mp_fail(MP_EPROTO, "mp_decode: reserved byte 0x%02x at offset %zu", c, in->pos - 1);
    }
    bool is_ext = h->type == MP_EXT;
    if (in->len - in->pos < width + is_ext)
        return truncated(in, mp_type_name(h->type));
    uint64_t field = mp_be_field(in->p + in->pos, width);
    in->pos += width;
    switch (h->type) {
    case MP_DOUBLE:
    case MP_UINT:
        *scalar = field;
        break;
    case MP_INT: /* sign-extend int8..int64 */
        *scalar = width == 8 ? field : (uint64_t)((int64_t)(field << (64 - 8 * width)) >> (64 - 8 * width));
        break;
    case MP_EXT:
        if (width)
            h->size = (size_t)field;
        h->ext_type = (int8_t)in->p[in->pos++];
        break;
    default:
        h->size = (size_t)field;
    }
    h->extra = width;
    return MP_OK;
}

static int scan(input *in, totals *t, size_t depth)
{
    if (++t->nodes > t->max_nodes)
        return mp_fail(MP_ETOOBIG, "mp_decode: more than %zu values", t->max_nodes);
    /* Most values are numbers, whose first byte says all there is to check. */
    size_t n = in->pos < in->len ? mp_number_size(in->p[in->pos]) : 0;
    if (n != 0 && n <= in->len - in->pos) {
        in->pos += n;
        return MP_OK;
    }
    head h;
    uint64_t scalar;
    int rc = read_head(in, &h, &scalar);
    if (rc != MP_OK)
        return rc;
    size_t left = in->len - in->pos;
    switch (h.type) {
    case MP_STR:
    case MP_BIN:
    case MP_EXT:
        if (h.size > left) {
            in->cut = true;
            return mp_fail(MP_EPROTO, "mp_decode: %s of %zu bytes at offset %zu has only %zu", mp_type_name(h.type),
                           h.size, in->pos, left);
        }
        if (h.type == MP_STR && !mp_utf8_valid(in->p + in->pos, h.size))
            return mp_fail(MP_EPROTO, "mp_decode: str at offset %zu is not valid UTF-8", in->pos);
        if (h.type == MP_STR)
            t->text += h.size + 1;
        else
            t->aligned += (h.size + 15) & ~(size_t)15;
        in->pos += h.size;
        return MP_OK;
    case MP_ARRAY:
    case MP_MAP: {
        if (depth + 1 > t->max_depth)
            return mp_fail(MP_ETOOBIG, "mp_decode: nested deeper than %zu at offset %zu", t->max_depth, in->pos);
        /* Every item takes at least one byte. */
        if (h.size > (h.type == MP_MAP ? left / 2 : left)) {
            in->cut = true;
            return mp_fail(MP_EPROTO, "mp_decode: %s of %zu items at offset %zu has only %zu bytes",
                           mp_type_name(h.type), h.size, in->pos, left);
        }
        size_t items = h.type == MP_MAP ? 2 * h.size : h.size;
        for (size_t i = 0; i < items; i++)
            if ((rc = scan(in, t, depth + 1)) != MP_OK)
                return rc;
        return MP_OK;
    }
    default:
        return MP_OK;
    }
}

typedef struct filler {
    input in;
    mp_value *next_node;
    unsigned char *next_aligned;
    char *next_text;
} filler;

static void fill(filler *f, mp_value *v)
{
    const unsigned char *p = f->in.p + f->in.pos;
    size_t n = mp_number_size(*p);
    if (n != 0) {
        mp_number_value(p, v);
        f->in.pos += n;
        return;
    }
    head h;
    uint64_t scalar = 0;
    read_head(&f->in, &h, &scalar);
    const unsigned char *data = f->in.p + f->in.pos;
    v->type = h.type;
    switch (h.type) {
    case MP_STR:
        memcpy(f->next_text, data, h.size);
        f->next_text[h.size] = '\0';
        v->as.str.ptr = f->next_text;
        v->as.str.len = (uint32_t)h.size;
        f->next_text += h.size + 1;
        f->in.pos += h.size;
        break;
    case MP_BIN:
    case MP_EXT:
        memcpy(f->next_aligned, data, h.size);
        if (h.type == MP_BIN) {
            v->as.bin.ptr = f->next_aligned;
            v->as.bin.len = (uint32_t)h.size;
        } else {
            v->as.ext.ptr = f->next_aligned;
            v->as.ext.len = (uint32_t)h.size;
            v->as.ext.type = h.ext_type;
        }
        f->next_aligned += (h.size + 15) & ~(size_t)15;
        f->in.pos += h.size;
        break;
    case MP_ARRAY:
    case MP_MAP: {
        size_t items = h.type == MP_MAP ? 2 * h.size : h.size;
        mp_value *children = f->next_node;
        f->next_node += items;
        for (size_t i = 0; i < items; i++)
            fill(f, &children[i]);
        v->as.array.items = children;
        v->as.array.len = (uint32_t)h.size;
        break;
    }
    default: /* numbers, nil and bool: number_value */
        break;
    }
}

static bool add(size_t *total, size_t more)
{
    if (more > SIZE_MAX - *total)
        return false;
    *total += more;
    return true;
}

static totals totals_for(const mp_limits *limits, size_t default_nodes)
{
    mp_limits lim = limits ? *limits : (mp_limits){0};
    totals t = {.max_depth = lim.max_depth ? lim.max_depth : MP_DEFAULT_DEPTH,
                .max_nodes = lim.max_nodes ? lim.max_nodes : default_nodes};
    if (t.max_depth > MP_MAX_DEPTH)
        t.max_depth = MP_MAX_DEPTH;
    return t;
}

static int check_bytes(const mp_limits *limits, size_t len)
{
    size_t max_bytes = limits && limits->max_bytes ? limits->max_bytes : DEFAULT_BYTES;
    if (len > max_bytes)
        return mp_fail(MP_ETOOBIG, "mp_decode: %zu bytes, at most %zu", len, max_bytes);
    return MP_OK;
}

/* The block for a tree of these totals, laid out as the top comment says:
 * space if it is big enough, else a new allocation. */
static int tree_block(const totals *t, void *space, size_t space_size, filler *f, mp_value **root)
{
    size_t nodes_size = t->nodes * sizeof(mp_value);
    size_t aligned_start = (nodes_size + 15) & ~(size_t)15;
    size_t total = aligned_start;
    if (t->nodes > SIZE_MAX / sizeof(mp_value) || total < nodes_size || !add(&total, t->aligned) ||
        !add(&total, t->text))
        return mp_fail(MP_ETOOBIG, "mp_decode: the tree does not fit in memory");
    unsigned char *block = space;
    if (space == NULL || total > space_size) {
        block = malloc(total ? total : 1);
        if (block == NULL)
            return mp_fail(MP_ENOMEM, "mp_decode: out of memory for %zu bytes", total);
    }
    *root = (mp_value *)(void *)block;
    f->next_node = *root + 1;
    f->next_aligned = block + aligned_start;
    f->next_text = (char *)f->next_aligned + t->aligned;
    return MP_OK;
}

/* One value at the start of data[0..len); whole: it must fill all of it. */
static int decode_value(const void *data, size_t len, const mp_limits *limits, bool whole, void *space,
                        size_t space_size, mp_value **out, size_t *used)
{
    if (out == NULL || (data == NULL && len > 0))
        return mp_fail(MP_EINVAL, "mp_decode: NULL argument");
    /* A number needs neither the scan nor a block. */
    size_t n = len ? mp_number_size(*(const unsigned char *)data) : 0;
    if (n != 0 && n <= len && (!whole || n == len) && space != NULL && space_size >= sizeof(mp_value)) {
        mp_number_value(data, space);
        *out = space;
        if (used)
            *used = n;
        return MP_OK;
    }
    *out = NULL;
    int rc = check_bytes(limits, len);
    if (rc != MP_OK)
        return rc;
    if (len == 0)
        return mp_fail(MP_EPROTO, "mp_decode: empty input");
    totals t = totals_for(limits, DEFAULT_NODES);
    input in = {data, len, 0, false};
    if ((rc = scan(&in, &t, 0)) != MP_OK)
        return rc;
    if (whole && in.pos != len)
        return mp_fail(MP_EPROTO, "mp_decode: %zu trailing bytes after the value", len - in.pos);
    filler f = {.in = {data, in.pos, 0, false}};
    mp_value *root;
    if ((rc = tree_block(&t, space, space_size, &f, &root)) != MP_OK)
        return rc;
    fill(&f, root);
    *out = root;
    if (used)
        *used = in.pos;
    return MP_OK;
}

int mp_decode(const void *data, size_t len, const mp_limits *limits, mp_value **out)
{
    return decode_value(data, len, limits, true, NULL, 0, out, NULL);
}

int mp_decode_first(const void *data, size_t len, const mp_limits *limits, void *space, size_t space_size,
                    mp_value **out, size_t *used)
{
    return decode_value(data, len, limits, false, space, space_size, out, used);
}

size_t mp_decode_numbers(const unsigned char *data, size_t len, mp_value *items, size_t max)
{
    if (len == 0)
        return 0; /* data may be NULL */
    const unsigned char *p = data, *stop = data + len;
    size_t n = 0;
    for (; p < stop; n++) {
        size_t size = mp_number_size(*p);
        if (size == 0 || size > (size_t)(stop - p) || n == max)
            return SIZE_MAX;
        mp_number_value(p, &items[n]);
        p += size;
    }
    return n;
}

/* The usual map's results, numbers only, in one pass: each node is written
 * as its bytes are checked. NULL, having cost at most that pass, if any
 * value is something else, or the count is wrong, or there is no memory:
 * the general path then decides. */
static mp_value *numbers_array(const mp_bytes *parts, size_t nparts, size_t count)
{
    mp_value *root = malloc((count + 1) * sizeof *root);
    if (root == NULL)
        return NULL;
    size_t filled = 0;
    for (size_t i = 0; i < nparts && filled != SIZE_MAX; i++) {
        size_t n = mp_decode_numbers(parts[i].data, parts[i].len, root + 1 + filled, count - filled);
        filled = n == SIZE_MAX ? SIZE_MAX : filled + n;
    }
    if (filled != count) {
        free(root);
        return NULL;
    }
    mp_array_root(root, root + 1, count);
    return root;
}

int mp_decode_array_of(const mp_bytes *parts, size_t nparts, size_t count, const mp_limits *limits, mp_value **out)
{
    if (out == NULL || (parts == NULL && nparts > 0))
        return mp_fail(MP_EINVAL, "mp_decode: NULL argument");
    *out = NULL;
    if (count > UINT32_MAX)
        return mp_fail(MP_ETOOBIG, "mp_decode: an array of %zu values", count);
    size_t bytes = 0;
    for (size_t i = 0; i < nparts; i++)
        if (!add(&bytes, parts[i].len))
            return mp_fail(MP_ETOOBIG, "mp_decode: the parts overflow");
    int rc = check_bytes(limits, bytes);
    if (rc != MP_OK)
        return rc;
    totals t = totals_for(limits, DEFAULT_NODES);
    if (count < t.max_nodes && (*out = numbers_array(parts, nparts, count)) != NULL)
        return MP_OK;
    t.nodes = 1;
    size_t found = 0;
    for (size_t i = 0; i < nparts; i++) {
        input in = {parts[i].data, parts[i].len, 0, false};
        for (; in.pos < in.len; found++)
            if ((rc = scan(&in, &t, 1)) != MP_OK)
                return rc;
    }
    if (found != count)
        return mp_fail(MP_EPROTO, "mp_decode: %zu values where %zu were expected", found, count);
    filler f = {0};
    mp_value *root;
    if ((rc = tree_block(&t, NULL, 0, &f, &root)) != MP_OK)
        return rc;
    mp_array_root(root, f.next_node, count);
    f.next_node += count;
    mp_value *item = root->as.array.items;
    for (size_t i = 0; i < nparts; i++)
        for (f.in = (input){parts[i].data, parts[i].len, 0, false}; f.in.pos < f.in.len;)
            fill(&f, item++);
    *out = root;
    return MP_OK;
}

int mp_value_span(const void *data, size_t len, size_t *size)
{
    size_t n = len ? mp_number_size(*(const unsigned char *)data) : 0;
    if (n != 0 && n <= len) {
        *size = n;
        return MP_OK;
    }
    totals t = {.max_depth = MP_DEFAULT_DEPTH, .max_nodes = SIZE_MAX};
    input in = {data, len, 0, false};
    int rc = scan(&in, &t, 0);
    if (rc == MP_OK)
        *size = in.pos;
    return rc;
}

int mp_value_span_stream(const void *data, size_t len, size_t *size)
{
    totals t = {.max_depth = MP_DEFAULT_DEPTH, .max_nodes = SIZE_MAX};
    input in = {data, len, 0, false};
    int rc = scan(&in, &t, 0);
    *size = rc == MP_OK ? in.pos : 0;
    return in.cut ? MP_OK : rc;
}

void mp_value_free(mp_value *v)
{
    free(v);
}
