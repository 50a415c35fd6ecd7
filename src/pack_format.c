/* pack_format.c - mp_pack: values described by a format string (pack.h).
 * The whole format is checked before any argument is read, so a malformed
 * format never consumes a vararg. */
#include <string.h>

#include "errors.h"
#include "object.h"
#include "pack_format.h"
#include "pack_internal.h"

static bool ignored(char c)
{
    return c == ' ' || c == '\t' || c == ',' || c == ':';
}

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
        if (ignored(c))
            continue;
        switch (c) {
        case 'n': case '?': case 'i': case 'I': case 'q': case 'Q': case 'd': case 'f':
        case 'z': case 'e': case 'V': case 'O':
            break;
        case 's':
            if (fmt[*pos] == '#')
                (*pos)++;
            break;
        case 'y':
            if (fmt[*pos] != '#')
                return mp_fail(MP_EFORMAT, "format \"%s\": 'y' needs '#' (pointer and length)", fmt);
            (*pos)++;
            break;
        case '(': case '[': case '{': {
            if (depth + 1 > MP_MAX_DEPTH)
                return mp_fail(MP_EFORMAT, "format \"%s\": nested deeper than %d", fmt, MP_MAX_DEPTH);
            if (c == '{' && (flags & MP_FORMAT_UNPACK))
                return mp_fail(MP_EFORMAT, "format \"%s\": maps cannot be unpacked by format; use 'V'", fmt);
            unsigned inner_flags = flags & MP_FORMAT_UNPACK ? MP_FORMAT_UNPACK | MP_FORMAT_OPTIONAL : 0;
            uint32_t inner;
            int rc = mp_format_scan(fmt, pos, closing(c), inner_flags, depth + 1, &inner);
            if (rc != MP_OK)
                return rc;
            if (c == '{' && inner % 2)
                return mp_fail(MP_EFORMAT, "format \"%s\": a map needs key, value pairs", fmt);
            break;
        }
        case '|':
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
    va_list ap;
    mp_handle_list *objects; /* NULL: 'O' is refused */
} packer;

static int pack_items(packer *k, char close);

static int pack_string(packer *k, bool nullable)
{
    const char *s = va_arg(k->ap, const char *);
    size_t len;
    if (k->fmt[k->pos] == '#') {
        k->pos++;
        len = va_arg(k->ap, size_t);
    } else {
        len = s ? strlen(s) : 0;
    }
    if (s == NULL && nullable)
        return mp_pack_nil(k->b);
    if (s == NULL)
        return mp_fail(MP_EINVAL, "mp_pack: NULL string for 's' (use 'z' for a string or nil)");
    return mp_pack_str(k->b, s, len);
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
    switch (c) {
    case 'n': return mp_pack_nil(k->b);
    case '?': return mp_pack_bool(k->b, va_arg(k->ap, int) != 0);
    case 'i': return mp_pack_int(k->b, va_arg(k->ap, int));
    case 'I': return mp_pack_uint(k->b, va_arg(k->ap, unsigned int));
    case 'q': return mp_pack_int(k->b, va_arg(k->ap, int64_t));
    case 'Q': return mp_pack_uint(k->b, va_arg(k->ap, uint64_t));
    case 'd': return mp_pack_double(k->b, va_arg(k->ap, double));
    case 'f': return mp_pack_float(k->b, (float)va_arg(k->ap, double));
    case 's': return pack_string(k, false);
    case 'z': return pack_string(k, true);
    case 'y': {
        k->pos++; /* '#' */
        const void *data = va_arg(k->ap, const void *);
        size_t len = va_arg(k->ap, size_t);
        return mp_pack_bin(k->b, data, len);
    }
    case 'e': {
        int type = va_arg(k->ap, int);
        const void *data = va_arg(k->ap, const void *);
        size_t len = va_arg(k->ap, size_t);
        if (type < -128 || type > 127)
            return mp_fail(MP_ERANGE, "mp_pack: ext type %d is not an int8", type);
        return mp_pack_ext(k->b, (int8_t)type, data, len);
    }
    case 'V': return mp_pack_value(k->b, va_arg(k->ap, const mp_value *));
    case 'O': return mp_object_pack(k->b, va_arg(k->ap, const void *), k->objects);
    default: return pack_container(k, c);
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
        if (ignored(c))
            continue;
        int rc = pack_one(k, c);
        if (rc != MP_OK)
            return rc;
    }
}

int mp_vpack_objects(mp_buf *b, const char *fmt, va_list ap, mp_handle_list *objects)
{
    if (b == NULL || fmt == NULL)
        return mp_fail(MP_EINVAL, "mp_pack: NULL buffer or format");
    size_t pos = 0;
    uint32_t n;
    int rc = mp_format_scan(fmt, &pos, '\0', 0, 0, &n);
    if (rc != MP_OK)
        return rc;
    packer k = {.b = b, .fmt = fmt, .objects = objects};
    va_copy(k.ap, ap);
    size_t start = b->len;
    rc = pack_items(&k, '\0');
    va_end(k.ap);
    if (rc != MP_OK)
        b->len = start;
    return rc;
}

int mp_vpack(mp_buf *b, const char *fmt, va_list ap)
{
    return mp_vpack_objects(b, fmt, ap, NULL);
}

int mp_pack(mp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_vpack(b, fmt, ap);
    va_end(ap);
    return rc;
}
