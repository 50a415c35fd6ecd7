/* pack_format.c - mp_pack: values described by a format string (pack.h).
 * The whole format is checked before any argument is read, so a malformed
 * format never consumes a vararg. */
#include <string.h>

#include "base/error_internal.h"
#include "pack/pack_format.h"
#include "pack/pack_gather.h"
#include "pack/pack_int.h"
#include "pack/pack_internal.h"

const unsigned char mp_letters[UCHAR_MAX + 1] = {
    [' '] = MP_LETTER_IGNORED, ['\t'] = MP_LETTER_IGNORED, [','] = MP_LETTER_IGNORED, [':'] = MP_LETTER_IGNORED,
    ['n'] = MP_LETTER_PLAIN, ['?'] = MP_LETTER_PLAIN, ['i'] = MP_LETTER_PLAIN, ['I'] = MP_LETTER_PLAIN,
    ['q'] = MP_LETTER_PLAIN, ['Q'] = MP_LETTER_PLAIN, ['d'] = MP_LETTER_PLAIN, ['f'] = MP_LETTER_PLAIN,
    ['z'] = MP_LETTER_PLAIN, ['e'] = MP_LETTER_PLAIN, ['V'] = MP_LETTER_PLAIN, ['O'] = MP_LETTER_PLAIN,
    ['s'] = MP_LETTER_STR, ['y'] = MP_LETTER_BIN,
    ['('] = MP_LETTER_OPEN, ['['] = MP_LETTER_OPEN, ['{'] = MP_LETTER_OPEN,
    ['|'] = MP_LETTER_OPTIONAL,
};

static char closing(char open)
{
    return open == '(' ? ')' : open == '[' ? ']' : '}';
}

int mp_format_scan(const char *fmt, size_t *pos, char close, unsigned flags, size_t depth, uint32_t *count)
{
    uint32_t n = 0;
    bool optional_seen = false;
    for (;;) {
        char c = fmt[*pos];
        if (c == close) {
            if (close != '\0')
                (*pos)++;
            *count = n;
            return MP_OK;
        }
        if (c == '\0')
            return mp_fail(MP_EFORMAT, "format \"%s\": missing '%c'", fmt, close);
        (*pos)++;
        switch (mp_letter_of(c)) {
        case MP_LETTER_IGNORED:
            continue;
        case MP_LETTER_PLAIN:
            break;
        case MP_LETTER_STR:
            if (fmt[*pos] == '#')
                (*pos)++;
            break;
        case MP_LETTER_BIN:
            if (fmt[*pos] != '#')
                return mp_fail(MP_EFORMAT, "format \"%s\": 'y' needs '#' (pointer and length)", fmt);
            (*pos)++;
            break;
        case MP_LETTER_OPEN: {
            if (depth + 1 > MP_MAX_DEPTH)
                return mp_fail(MP_EFORMAT, "format \"%s\": nested deeper than %d", fmt, MP_MAX_DEPTH);
            if (c == '{' && (flags & MP_FORMAT_UNPACK))
                return mp_fail(MP_EFORMAT, "format \"%s\": maps cannot be unpacked by format; use 'V'", fmt);
            unsigned inner_flags = flags & MP_FORMAT_UNPACK ? MP_FORMAT_UNPACK | MP_FORMAT_OPTIONAL : 0;
            uint32_t inner = 0;
            int rc = mp_format_scan(fmt, pos, closing(c), inner_flags, depth + 1, &inner);
            if (rc != MP_OK)
                return rc;
            if (c == '{' && inner % 2)
                return mp_fail(MP_EFORMAT, "format \"%s\": a map needs key, value pairs", fmt);
            break;
        }
        case MP_LETTER_OPTIONAL:
            if (!(flags & MP_FORMAT_OPTIONAL) || optional_seen)
                return mp_fail(MP_EFORMAT, "format \"%s\": '|' only when unpacking, once per array", fmt);
            optional_seen = true;
            continue;
        default:
            return mp_fail(MP_EFORMAT, "format \"%s\": unknown letter '%c' at %zu", fmt, c, *pos - 1);
        }
        n++;
    }
}

typedef struct packer {
    mp_buf *b;
    const char *fmt;
    size_t pos;
    /* A pointer, not a copy: copying the caller's fresh va_list stalls on
     * the stores that just made it. */
    va_list *ap;
    void *objects; /* for the object hook; NULL: no object can travel */
    mp_gather *gather; /* NULL: every payload is copied into b */
} packer;

static int pack_items(packer *k, char close);

/* The letters that take their arguments and nothing else from the format
 * (MP_LETTER_PLAIN): shared by the packer and the one-letter fast path. */
static int pack_plain(mp_buf *b, char c, va_list *ap, void *objects)
{
    switch (c) {
    case 'n': return mp_pack_nil(b);
    case '?': return mp_pack_bool(b, va_arg(*ap, int) != 0);
    case 'i': return mp_pack_int(b, va_arg(*ap, int));
    case 'I': return mp_pack_uint(b, va_arg(*ap, unsigned int));
    case 'q': return mp_pack_int(b, va_arg(*ap, int64_t));
    case 'Q': return mp_pack_uint(b, va_arg(*ap, uint64_t));
    case 'd': return mp_pack_double(b, va_arg(*ap, double));
    case 'f': return mp_pack_float(b, (float)va_arg(*ap, double));
    case 'z': {
        const char *s = va_arg(*ap, const char *);
        return s ? mp_pack_str(b, s, strlen(s)) : mp_pack_nil(b);
    }
    case 'e': {
        int type = va_arg(*ap, int);
        const void *data = va_arg(*ap, const void *);
        size_t len = va_arg(*ap, size_t);
        if (type < -128 || type > 127)
            return mp_fail(MP_ERANGE, "mp_pack: ext type %d is not an int8", type);
        return mp_pack_ext(b, (int8_t)type, data, len);
    }
    case 'V': return mp_pack_value(b, va_arg(*ap, const mp_value *));
    default: return mp_pack_object(b, va_arg(*ap, const void *), objects); /* 'O' */
    }
}

/* A payload that the gather takes by reference, if it does: only its
 * header is packed, by header(b, data, len). */
static bool referenced(packer *k, int (*header)(mp_buf *, const char *, size_t), const char *data, size_t len,
                       int *rc)
{
    mp_gather *g = k->gather;
    if (g == NULL || len < MP_GATHER_MIN_PIECE || g->npieces == MP_GATHER_PIECES)
        return false;
    if ((*rc = header(k->b, data, len)) == MP_OK)
        g->pieces[g->npieces++] = (mp_gather_piece){.at = k->b->len, .data = data, .len = len};
    return true;
}

static int bin_header(mp_buf *b, const char *data, size_t len)
{
    return mp_pack_bin_header(b, data, len);
}

static int pack_string(packer *k)
{
    const char *s = va_arg(*k->ap, const char *);
    size_t len;
    if (k->fmt[k->pos] == '#') {
        k->pos++;
        len = va_arg(*k->ap, size_t);
    } else {
        len = s ? strlen(s) : 0;
    }
    if (s == NULL)
        return mp_fail(MP_EINVAL, "mp_pack: NULL string for 's' (use 'z' for a string or nil)");
    int rc;
    return referenced(k, mp_pack_str_header, s, len, &rc) ? rc : mp_pack_str(k->b, s, len);
}

static int pack_container(packer *k, char open)
{
    size_t at = k->pos;
    uint32_t n;
    int rc = mp_format_scan(k->fmt, &at, closing(open), 0, 0, &n);
    if (rc != MP_OK)
        return rc;
    rc = open == '{' ? mp_pack_map(k->b, n / 2) : mp_pack_array(k->b, n);
    return rc == MP_OK ? pack_items(k, closing(open)) : rc;
}

static int pack_one(packer *k, char c)
{
    switch (mp_letter_of(c)) {
    case MP_LETTER_STR:
        return pack_string(k);
    case MP_LETTER_BIN: {
        k->pos++; /* '#' */
        const void *data = va_arg(*k->ap, const void *);
        size_t len = va_arg(*k->ap, size_t);
        int rc;
        return referenced(k, bin_header, data, len, &rc) ? rc : mp_pack_bin(k->b, data, len);
    }
    case MP_LETTER_OPEN:
        return pack_container(k, c);
    default:
        return pack_plain(k->b, c, k->ap, k->objects);
    }
}

static int pack_items(packer *k, char close)
{
    for (;;) {
        char c = k->fmt[k->pos];
        if (c == close) {
            if (close != '\0')
                k->pos++;
            return MP_OK;
        }
        k->pos++;
        if (mp_letter_of(c) == MP_LETTER_IGNORED)
            continue;
        int rc = pack_one(k, c);
        if (rc != MP_OK)
            return rc;
    }
}

/* A format already checked, item by item. */
static int pack_checked(mp_buf *b, const char *fmt, va_list *ap, mp_gather *gather)
{
    packer k = {.b = b, .fmt = fmt, .ap = ap, .gather = gather};
    return pack_items(&k, '\0');
}

/* Any format: checked whole, then packed. */
static int pack_format(mp_buf *b, const char *fmt, va_list *ap, mp_gather *gather)
{
    int rc = mp_format_check(fmt, 0);
    return rc == MP_OK ? pack_checked(b, fmt, ap, gather) : rc;
}

/* Small enough to inline into mp_pack, so the commonest format, one plain
 * letter (a pool's item or result), costs one call to its encoder: it is
 * well-formed at a glance and needs no packer. */
static inline int pack(mp_buf *b, const char *fmt, va_list *ap, mp_gather *gather)
{
    if (b == NULL || fmt == NULL)
        return mp_fail(MP_EINVAL, "mp_pack: NULL buffer or format");
    size_t start = b->len;
    bool one_letter = mp_letter_of(fmt[0]) == MP_LETTER_PLAIN && fmt[1] == '\0';
    int rc = one_letter ? pack_plain(b, fmt[0], ap, NULL) : pack_format(b, fmt, ap, gather);
    if (rc != MP_OK)
        b->len = start;
    return rc;
}

int mp_vpack(mp_buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int rc = pack(b, fmt, &copy, NULL);
    va_end(copy);
    return rc;
}

int mp_pack(mp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc;
    /* One integer: its encoder, inline, leaves the buffer as it was when it
     * fails, as pack does. */
    if (b != NULL && fmt != NULL && (fmt[0] == 'q' || fmt[0] == 'i') && fmt[1] == '\0')
        rc = mp_pack_int_inline(b, fmt[0] == 'q' ? va_arg(ap, int64_t) : va_arg(ap, int));
    else
        rc = pack(b, fmt, &ap, NULL);
    va_end(ap);
    return rc;
}

/* The items of fmt, checked at the depth given, and how many there are. */
static int count_items(const char *fmt, size_t depth, uint32_t *n)
{
    size_t pos = 0;
    return mp_format_scan(fmt, &pos, '\0', 0, depth, n);
}

/* The n items of fmt, already checked, as one array. */
static int vpack_array(mp_buf *b, const char *items, uint32_t n, va_list ap, void *objects, mp_gather *gather)
{
    int rc;
    va_list copy;
    va_copy(copy, ap);
    size_t start = b->len;
    packer k = {.b = b, .fmt = items, .ap = &copy, .objects = objects, .gather = gather};
    rc = mp_pack_array(b, n);
    if (rc == MP_OK)
        rc = pack_items(&k, '\0');
    if (rc != MP_OK)
        b->len = start;
    va_end(copy);
    return rc;
}

int mp_vpack_array(mp_buf *b, const char *fmt, va_list ap, void *objects)
{
    const char *items = fmt ? fmt : "";
    uint32_t n = 0;
    /* One level down, inside the array, as in "(fmt)". */
    int rc = count_items(items, 1, &n);
    return rc == MP_OK ? vpack_array(b, items, n, ap, objects, NULL) : rc;
}

static int pack_message(mp_buf *b, const char *fmt, va_list ap, mp_gather *gather)
{
    if (fmt == NULL)
        return mp_fail(MP_EINVAL, "NULL format");
    uint32_t n = 0;
    /* Checked as the items of an array, one level down, as in "(fmt)"; a
     * single item, which is not put in an array, may use that level. */
    int rc = count_items(fmt, 1, &n);
    if (rc != MP_OK) {
        int single = count_items(fmt, 0, &n);
        if (single != MP_OK)
            return single;
        if (n != 1)
            return rc;
    }
    if (n != 1)
        return vpack_array(b, fmt, n, ap, NULL, gather);
    va_list copy;
    va_copy(copy, ap);
    size_t start = b->len;
    if ((rc = pack_checked(b, fmt, &copy, gather)) != MP_OK)
        b->len = start;
    va_end(copy);
    return rc;
}

int mp_pack_message(mp_buf *b, const char *fmt, va_list ap)
{
    return pack_message(b, fmt, ap, NULL);
}

int mp_pack_message_gather(mp_gather *g, const char *fmt, va_list ap)
{
    int rc = pack_message(&g->packed, fmt, ap, g);
    if (rc != MP_OK) {
        g->npieces = 0;
        return rc;
    }
    g->total = g->packed.len;
    for (size_t i = 0; i < g->npieces; i++)
        g->total += g->pieces[i].len;
    return MP_OK;
}
