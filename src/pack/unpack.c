/* unpack.c - taking a decoded value apart by format string (pack.h). The
 * format is checked whole before any output pointer is read. On failure
 * the outputs of the items before the failing one have been written. */
#include <limits.h>
#include <string.h>

#include "base/error_internal.h"
#include "pack/pack_format.h"
#include "pack/pack_internal.h"

typedef struct unpacker {
    const char *fmt;
    size_t pos;
    /* A pointer, not a copy: copying the caller's fresh va_list stalls on
     * the stores that just made it. */
    va_list *ap;
} unpacker;

static int unpack_items(unpacker *k, const mp_value *array, char close);

static int wrong_type(const char *where, size_t item, const char *want, const mp_value *v)
{
    return mp_fail(MP_ETYPE, "%s: item %zu: expected %s, got %s", where, item, want, mp_type_name(v->type));
}

static int out_of_range(const char *where, size_t item, const char *want)
{
    return mp_fail(MP_ERANGE, "%s: item %zu: does not fit %s", where, item, want);
}

/* Integers as a sign and magnitude, to range-check them in one place. */
static bool as_integer(const mp_value *v, bool *negative, uint64_t *magnitude)
{
    if (v->type == MP_INT) {
        *negative = v->as.i < 0;
        *magnitude = *negative ? (uint64_t)0 - (uint64_t)v->as.i : (uint64_t)v->as.i;
        return true;
    }
    if (v->type == MP_UINT) {
        *negative = false;
        *magnitude = v->as.u;
        return true;
    }
    return false;
}

static int signed_in(const mp_value *v, int64_t lo, int64_t hi, int64_t *out, size_t item, const char *want)
{
    bool neg;
    uint64_t mag;
    if (!as_integer(v, &neg, &mag))
        return wrong_type("mp_unpack", item, want, v);
    if (v->type == MP_UINT || v->as.i < lo || v->as.i > hi)
        return out_of_range("mp_unpack", item, want);
    *out = v->as.i;
    return MP_OK;
}

static int unsigned_in(const mp_value *v, uint64_t hi, uint64_t *out, size_t item, const char *want)
{
    bool neg;
    uint64_t mag;
    if (!as_integer(v, &neg, &mag))
        return wrong_type("mp_unpack", item, want, v);
    if (neg || mag > hi)
        return out_of_range("mp_unpack", item, want);
    *out = mag;
    return MP_OK;
}

static int real(const mp_value *v, double *out, size_t item)
{
    if (v->type == MP_DOUBLE)
        *out = v->as.d;
    else if (v->type == MP_INT)
        *out = (double)v->as.i;
    else if (v->type == MP_UINT)
        *out = (double)v->as.u;
    else
        return wrong_type("mp_unpack", item, "float", v);
    return MP_OK;
}

static int string(unpacker *k, const mp_value *v, size_t item, bool nullable)
{
    const char **out = va_arg(*k->ap, const char **);
    bool with_len = k->fmt[k->pos] == '#';
    size_t *len = NULL;
    if (with_len) {
        k->pos++;
        len = va_arg(*k->ap, size_t *);
    }
    if (nullable && v->type == MP_NIL) {
        *out = NULL;
        return MP_OK;
    }
    if (v->type != MP_STR)
        return wrong_type("mp_unpack", item, nullable ? "str or nil" : "str", v);
    if (!with_len && memchr(v->as.str.ptr, '\0', v->as.str.len))
        return mp_fail(MP_ETYPE, "mp_unpack: item %zu: the str holds a NUL byte; use 's#' for it", item);
    *out = v->as.str.ptr;
    if (len)
        *len = v->as.str.len;
    return MP_OK;
}

static int unpack_one(unpacker *k, char c, const mp_value *v, size_t item)
{
    int64_t s = 0;
    uint64_t u = 0;
    double d = 0;
    int rc = MP_OK;
    switch (c) {
    case 'n':
        return v->type == MP_NIL ? MP_OK : wrong_type("mp_unpack", item, "nil", v);
    case '?': {
        bool *out = va_arg(*k->ap, bool *);
        if (v->type != MP_BOOL)
            return wrong_type("mp_unpack", item, "bool", v);
        *out = v->as.b;
        return MP_OK;
    }
    case 'i': {
        int *out = va_arg(*k->ap, int *);
        if ((rc = signed_in(v, INT_MIN, INT_MAX, &s, item, "int")) == MP_OK)
            *out = (int)s;
        return rc;
    }
    case 'I': {
        unsigned *out = va_arg(*k->ap, unsigned *);
        if ((rc = unsigned_in(v, UINT_MAX, &u, item, "unsigned int")) == MP_OK)
            *out = (unsigned)u;
        return rc;
    }
    case 'q': {
        int64_t *out = va_arg(*k->ap, int64_t *);
        if ((rc = signed_in(v, INT64_MIN, INT64_MAX, &s, item, "int64")) == MP_OK)
            *out = s;
        return rc;
    }
    case 'Q': {
        uint64_t *out = va_arg(*k->ap, uint64_t *);
        if ((rc = unsigned_in(v, UINT64_MAX, &u, item, "uint64")) == MP_OK)
            *out = u;
        return rc;
    }
    case 'd': {
        double *out = va_arg(*k->ap, double *);
        if ((rc = real(v, &d, item)) == MP_OK)
            *out = d;
        return rc;
    }
    case 'f': {
        /* Doubles beyond float's range become infinities, as C converts. */
        float *out = va_arg(*k->ap, float *);
        if ((rc = real(v, &d, item)) == MP_OK)
            *out = (float)d;
        return rc;
    }
    case 's':
        return string(k, v, item, false);
    case 'z':
        return string(k, v, item, true);
    case 'y': {
        k->pos++; /* '#' */
        const void **out = va_arg(*k->ap, const void **);
        size_t *len = va_arg(*k->ap, size_t *);
        if (v->type != MP_BIN)
            return wrong_type("mp_unpack", item, "bin", v);
        *out = v->as.bin.ptr;
        *len = v->as.bin.len;
        return MP_OK;
    }
    case 'e': {
        int8_t *type = va_arg(*k->ap, int8_t *);
        const void **out = va_arg(*k->ap, const void **);
        size_t *len = va_arg(*k->ap, size_t *);
        if (v->type != MP_EXT)
            return wrong_type("mp_unpack", item, "ext", v);
        *type = v->as.ext.type;
        *out = v->as.ext.ptr;
        *len = v->as.ext.len;
        return MP_OK;
    }
    case 'V':
        *va_arg(*k->ap, const mp_value **) = v;
        return MP_OK;
    case 'O':
        return mp_unpack_object(v, va_arg(*k->ap, void **));
    default: /* '(' or '[' */
        if (v->type != MP_ARRAY)
            return wrong_type("mp_unpack", item, "array", v);
        return unpack_items(k, v, c == '(' ? ')' : ']');
    }
}

/* Skip the rest of an optional part whose values are missing: the format
 * was checked, so only brackets need counting. */
static void skip_to(unpacker *k, char close)
{
    int depth = 0;
    for (char c; (c = k->fmt[k->pos]) != '\0'; k->pos++) {
        if (depth == 0 && c == close)
            break;
        if (c == '(' || c == '[')
            depth++;
        else if (c == ')' || c == ']')
            depth--;
    }
}

/* The count error names how many items the format wanted: counted only
 * then, from the array's first item, since the format is known good. */
static int wrong_count(const unpacker *k, size_t first, char close, uint32_t have)
{
    uint32_t wanted;
    mp_format_scan(k->fmt, &first, close, MP_FORMAT_UNPACK | MP_FORMAT_OPTIONAL, 0, &wanted);
    return mp_fail(MP_ETYPE, "mp_unpack: expected an array of %u items, got %u", wanted, have);
}

static int unpack_items(unpacker *k, const mp_value *array, char close)
{
    size_t first = k->pos;
    uint32_t have = array->as.array.len;
    size_t item = 0;
    bool optional = false;
    for (;;) {
        char c = k->fmt[k->pos];
        if (c == close || c == '\0') {
            if (c != '\0')
                k->pos++;
            break;
        }
        k->pos++;
        if (mp_letter_of(c) == MP_LETTER_IGNORED)
            continue;
        if (c == '|') {
            optional = true;
            continue;
        }
        if (item == have) {
            if (!optional)
                return wrong_count(k, first, close, have);
            k->pos--;
            skip_to(k, close);
            continue;
        }
        int rc = unpack_one(k, c, &array->as.array.items[item], item);
        if (rc != MP_OK)
            return rc;
        item++;
    }
    if (item < have)
        return wrong_count(k, first, close, have);
    return MP_OK;
}

static int unpack(const mp_value *v, const char *fmt, va_list *ap)
{
    if (v == NULL || fmt == NULL)
        return mp_fail(MP_EINVAL, "mp_unpack: NULL value or format");
    size_t pos = 0;
    uint32_t n;
    int rc = mp_format_scan(fmt, &pos, '\0', MP_FORMAT_UNPACK, 0, &n);
    if (rc != MP_OK)
        return rc;
    if (n != 1)
        return mp_fail(MP_EFORMAT, "mp_unpack: format \"%s\" describes %u values, not one", fmt, n);
    unpacker k = {.fmt = fmt, .ap = ap};
    while (mp_letter_of(fmt[k.pos]) == MP_LETTER_IGNORED)
        k.pos++;
    char c = fmt[k.pos++];
    return unpack_one(&k, c, v, 0);
}

int mp_vunpack(const mp_value *v, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int rc = unpack(v, fmt, &copy);
    va_end(copy);
    return rc;
}

int mp_unpack(const mp_value *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = unpack(v, fmt, &ap);
    va_end(ap);
    return rc;
}

/* A target's arguments: the whole format checked, then item by item. */
static int args_format(const mp_value *args, const char *fmt, va_list *ap)
{
    int rc = mp_format_check(fmt, MP_FORMAT_UNPACK | MP_FORMAT_OPTIONAL);
    if (rc != MP_OK)
        return rc;
    if (args->type != MP_ARRAY)
        return wrong_type("mp_args", 0, "array", args);
    unpacker k = {.fmt = fmt, .ap = ap};
    return unpack_items(&k, args, '\0');
}

int mp_args(const mp_value *args, const char *fmt, ...)
{
    if (args == NULL || fmt == NULL)
        return mp_fail(MP_EINVAL, "mp_args: NULL arguments or format");
    va_list ap;
    va_start(ap, fmt);
    int rc;
    /* One plain letter for one argument, a pool task's usual call: nothing
     * to check or count, so straight to the item. Anything else, mismatched
     * counts included, takes the general path and its messages. */
    if (mp_letter_of(fmt[0]) == MP_LETTER_PLAIN && fmt[1] == '\0' && args->type == MP_ARRAY &&
        args->as.array.len == 1) {
        const mp_value *item = &args->as.array.items[0];
        if (fmt[0] == 'q' && item->type == MP_INT) {
            *va_arg(ap, int64_t *) = item->as.i;
            rc = MP_OK;
        } else {
            unpacker k = {.fmt = fmt, .pos = 1, .ap = &ap};
            rc = unpack_one(&k, fmt[0], item, 0);
        }
    } else {
        rc = args_format(args, fmt, &ap);
    }
    va_end(ap);
    return rc;
}

const mp_value *mp_map_get(const mp_value *map, const char *key)
{
    if (map == NULL || key == NULL || map->type != MP_MAP)
        return NULL;
    size_t len = strlen(key);
    for (uint32_t i = 0; i < map->as.map.len; i++) {
        const mp_value *k = &map->as.map.items[2 * i];
        if (k->type == MP_STR && k->as.str.len == len && memcmp(k->as.str.ptr, key, len) == 0)
            return &map->as.map.items[2 * i + 1];
    }
    return NULL;
}
