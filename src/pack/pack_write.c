/* pack_write.c - MessagePack encoders, one value each, always in the
 * smallest form. */
#include <string.h>

#include "base/error_internal.h"
#include "pack/pack_int.h"
#include "pack/pack_internal.h"
#include "base/utf8.h"

/* A header whose length field takes 1, 2 or 4 bytes. */
static int put_sized(mp_buf *b, const unsigned char types[3], uint64_t n)
{
    if (n <= 0xff)
        return mp_pack_put(b, types[0], n, 1);
    if (n <= 0xffff)
        return mp_pack_put(b, types[1], n, 2);
    return mp_pack_put(b, types[2], n, 4);
}

static int check_len(const char *what, size_t len)
{
    if (len > 0xffffffffu)
        return mp_fail(MP_ETOOBIG, "%s: %zu bytes, MessagePack allows 2^32 - 1", what, len);
    return MP_OK;
}

/* Header and payload together, so a failure leaves the buffer unchanged. */
static int put_with_payload(mp_buf *b, size_t header_start, const void *data, size_t len)
{
    int rc = mp_buf_append(b, data, len);
    if (rc != MP_OK)
        b->len = header_start;
    return rc;
}

int mp_pack_nil(mp_buf *b)
{
    return mp_pack_put(b, 0xc0, 0, 0);
}

int mp_pack_bool(mp_buf *b, bool v)
{
    return mp_pack_put(b, v ? 0xc3 : 0xc2, 0, 0);
}

int mp_pack_uint(mp_buf *b, uint64_t v)
{
    return mp_pack_uint_inline(b, v);
}

int mp_pack_int(mp_buf *b, int64_t v)
{
    return mp_pack_int_inline(b, v);
}

int mp_pack_double(mp_buf *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return mp_pack_put(b, 0xcb, bits, 8);
}

int mp_pack_float(mp_buf *b, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return mp_pack_put(b, 0xca, bits, 4);
}

int mp_pack_str_header(mp_buf *b, const char *s, size_t len)
{
    if (b == NULL || (s == NULL && len > 0))
        return mp_fail(MP_EINVAL, "mp_pack_str: NULL argument");
    int rc = check_len("mp_pack_str", len);
    if (rc != MP_OK)
        return rc;
    if (!mp_utf8_valid(s, len))
        return mp_fail(MP_EINVAL, "mp_pack_str: the string is not valid UTF-8");
    static const unsigned char types[3] = {0xd9, 0xda, 0xdb};
    return len < 32 ? mp_pack_put(b, (unsigned char)(0xa0 | len), 0, 0) : put_sized(b, types, len);
}

int mp_pack_str(mp_buf *b, const char *s, size_t len)
{
    size_t start = b != NULL ? b->len : 0;
    int rc = mp_pack_str_header(b, s, len);
    return rc == MP_OK ? put_with_payload(b, start, s, len) : rc;
}

int mp_pack_bin_header(mp_buf *b, const void *data, size_t len)
{
    if (b == NULL || (data == NULL && len > 0))
        return mp_fail(MP_EINVAL, "mp_pack_bin: NULL argument");
    int rc = check_len("mp_pack_bin", len);
    if (rc != MP_OK)
        return rc;
    static const unsigned char types[3] = {0xc4, 0xc5, 0xc6};
    return put_sized(b, types, len);
}

int mp_pack_bin(mp_buf *b, const void *data, size_t len)
{
    size_t start = b != NULL ? b->len : 0;
    int rc = mp_pack_bin_header(b, data, len);
    return rc == MP_OK ? put_with_payload(b, start, data, len) : rc;
}

int mp_pack_ext(mp_buf *b, int8_t type, const void *data, size_t len)
{
    if (b == NULL || (data == NULL && len > 0))
        return mp_fail(MP_EINVAL, "mp_pack_ext: NULL argument");
    int rc = check_len("mp_pack_ext", len);
    if (rc != MP_OK)
        return rc;
    size_t start = b->len;
    unsigned char t = (unsigned char)type;
    switch (len) {
    case 1: rc = mp_pack_put(b, 0xd4, t, 1); break;
    case 2: rc = mp_pack_put(b, 0xd5, t, 1); break;
    case 4: rc = mp_pack_put(b, 0xd6, t, 1); break;
    case 8: rc = mp_pack_put(b, 0xd7, t, 1); break;
    case 16: rc = mp_pack_put(b, 0xd8, t, 1); break;
    default: {
        static const unsigned char types[3] = {0xc7, 0xc8, 0xc9};
        rc = put_sized(b, types, len);
        if (rc == MP_OK)
            rc = put_with_payload(b, start, &t, 1);
    }
    }
    return rc == MP_OK ? put_with_payload(b, start, data, len) : rc;
}

int mp_pack_array(mp_buf *b, uint32_t n)
{
    if (n < 16)
        return mp_pack_put(b, (unsigned char)(0x90 | n), 0, 0);
    return n <= 0xffff ? mp_pack_put(b, 0xdc, n, 2) : mp_pack_put(b, 0xdd, n, 4);
}

int mp_pack_map(mp_buf *b, uint32_t n)
{
    if (n < 16)
        return mp_pack_put(b, (unsigned char)(0x80 | n), 0, 0);
    return n <= 0xffff ? mp_pack_put(b, 0xde, n, 2) : mp_pack_put(b, 0xdf, n, 4);
}

const char *mp_type_name(mp_type t)
{
    static const char *const names[] = {"nil", "bool", "int", "uint", "float", "str", "bin", "array", "map", "ext"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static int pack_value(mp_buf *b, const mp_value *v, size_t depth)
{
    if (v == NULL)
        return mp_fail(MP_EINVAL, "mp_pack_value: NULL value");
    if (depth > MP_MAX_DEPTH)
        return mp_fail(MP_EINVAL, "mp_pack_value: nested deeper than %d (a cycle?)", MP_MAX_DEPTH);
    size_t start = b->len;
    int rc;
    switch (v->type) {
    case MP_NIL: return mp_pack_nil(b);
    case MP_BOOL: return mp_pack_bool(b, v->as.b);
    case MP_INT: return mp_pack_int(b, v->as.i);
    case MP_UINT: return mp_pack_uint(b, v->as.u);
    case MP_DOUBLE: return mp_pack_double(b, v->as.d);
    case MP_STR: return mp_pack_str(b, v->as.str.ptr, v->as.str.len);
    case MP_BIN: return mp_pack_bin(b, v->as.bin.ptr, v->as.bin.len);
    case MP_EXT: return mp_pack_ext(b, v->as.ext.type, v->as.ext.ptr, v->as.ext.len);
    case MP_ARRAY:
        rc = mp_pack_array(b, v->as.array.len);
        for (uint32_t i = 0; i < v->as.array.len && rc == MP_OK; i++)
            rc = pack_value(b, &v->as.array.items[i], depth + 1);
        break;
    case MP_MAP:
        rc = mp_pack_map(b, v->as.map.len);
        for (uint32_t i = 0; i < 2 * (uint64_t)v->as.map.len && rc == MP_OK; i++)
            rc = pack_value(b, &v->as.map.items[i], depth + 1);
        break;
    default:
        rc = mp_fail(MP_EINVAL, "mp_pack_value: unknown type %d", (int)v->type);
    }
    if (rc != MP_OK)
        b->len = start;
    return rc;
}

int mp_pack_value(mp_buf *b, const mp_value *v)
{
    if (b == NULL)
        return mp_fail(MP_EINVAL, "mp_pack_value: NULL buffer");
    return pack_value(b, v, 0);
}
