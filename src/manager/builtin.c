/* builtin.c - the helpers the built-in served types share (builtin.h). */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

uint32_t mp_builtin_argc(const mp_value *args)
{
    return args != NULL && args->type == MP_ARRAY ? args->as.array.len : 0;
}

const mp_value *mp_builtin_arg(const mp_value *args, uint32_t at)
{
    return at < mp_builtin_argc(args) ? &args->as.array.items[at] : NULL;
}

int mp_builtin_nargs(const mp_value *args, uint32_t min, uint32_t max, const char *where)
{
    uint32_t n = mp_builtin_argc(args);
    if (n >= min && n <= max)
        return MP_OK;
    if (min == max)
        return mp_fail(MP_EINVAL, "manager: %s takes %u argument(s) (%u given)", where, min, n);
    return mp_fail(MP_EINVAL, "manager: %s takes %u to %u arguments (%u given)", where, min, max, n);
}

int mp_builtin_int_arg(const mp_value *args, uint32_t at, int64_t dflt, int64_t *out, const char *where)
{
    const mp_value *v = mp_builtin_arg(args, at);
    if (v == NULL) {
        *out = dflt;
        return MP_OK;
    }
    if (v->type == MP_INT) {
        *out = v->as.i;
        return MP_OK;
    }
    if (v->type == MP_UINT)
        return mp_fail(MP_ERANGE, "manager: %s: %llu is too large", where, (unsigned long long)v->as.u);
    return mp_fail(MP_ETYPE, "manager: %s: argument %u must be an integer", where, at + 1);
}

int mp_builtin_index(const mp_value *arg, size_t len, size_t *at, const char *where)
{
    if (arg->type == MP_UINT)
        return mp_fail(MP_ERANGE, "manager: IndexError: %s index out of range", where);
    if (arg->type != MP_INT)
        return mp_fail(MP_ETYPE, "manager: TypeError: %s indices must be integers", where);
    int64_t i = arg->as.i;
    if (i < 0)
        i += (int64_t)len;
    if (i < 0 || (uint64_t)i >= len)
        return mp_fail(MP_ERANGE, "manager: IndexError: %s index out of range", where);
    *at = (size_t)i;
    return MP_OK;
}

int mp_builtin_bool_result(mp_served_call *call, bool v)
{
    return mp_pack_bool(mp_served_result(call), v);
}

int mp_builtin_int_result(mp_served_call *call, int64_t v)
{
    return mp_pack_int(mp_served_result(call), v);
}

int mp_builtin_wrap(mp_served **out, const mp_served_type *type, void *self)
{
    int rc = mp_served_new(out, type, self);
    if (rc != MP_OK)
        type->free_(self);
    return rc;
}

int mp_builtin_packed(mp_buf *packed, const mp_value *v)
{
    mp_buf_clear(packed);
    return mp_pack_value(packed, v);
}

/* ---- the sequence ------------------------------------------------------- */

/* Room for one more item at the end: the items slide back to the start of
 * the memory first if the front has been taken from. */
static int seq_room(mp_held_seq *s)
{
    if (s->head + s->len < s->cap)
        return MP_OK;
    if (s->head > 0) {
        memmove(s->items, s->items + s->head, s->len * sizeof *s->items);
        s->head = 0;
        return MP_OK;
    }
    size_t more = s->cap ? 2 * s->cap : 8;
    mp_held *grown = realloc(s->items, more * sizeof *grown);
    if (grown == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    s->items = grown;
    s->cap = more;
    return MP_OK;
}

int mp_held_seq_put(mp_held_seq *s, size_t at, mp_held *h)
{
    int rc = seq_room(s);
    if (rc != MP_OK)
        return rc;
    mp_held *base = s->items + s->head;
    memmove(base + at + 1, base + at, (s->len - at) * sizeof *base);
    base[at] = *h;
    s->len++;
    return MP_OK;
}

int mp_held_seq_insert(mp_held_seq *s, size_t at, const mp_value *v)
{
    mp_held h;
    int rc = mp_held_keep(&h, v);
    if (rc == MP_OK)
        rc = mp_held_seq_put(s, at, &h);
    if (rc != MP_OK)
        mp_held_release(&h);
    return rc;
}

void mp_held_seq_take(mp_held_seq *s, size_t at, mp_held *out)
{
    mp_held *base = s->items + s->head;
    *out = base[at];
    if (at == 0)
        s->head++;
    else
        memmove(base + at, base + at + 1, (s->len - at - 1) * sizeof *base);
    if (--s->len == 0)
        s->head = 0;
}

int mp_held_seq_extend(mp_held_seq *s, const mp_value *v, const char *where)
{
    if (v->type != MP_ARRAY)
        return mp_fail(MP_ETYPE, "manager: TypeError: %s wants an array", where);
    size_t before = s->len;
    for (uint32_t i = 0; i < v->as.array.len; i++) {
        int rc = mp_held_seq_insert(s, s->len, &v->as.array.items[i]);
        if (rc != MP_OK) {
            while (s->len > before) {
                mp_held h;
                mp_held_seq_take(s, s->len - 1, &h);
                mp_held_release(&h);
            }
            return rc;
        }
    }
    return MP_OK;
}

int mp_held_seq_write(const mp_held_seq *s, mp_buf *b)
{
    if (s->len > UINT32_MAX)
        return mp_fail(MP_ETOOBIG, "manager: too many items to send");
    int rc = mp_pack_array(b, (uint32_t)s->len);
    for (size_t i = 0; i < s->len && rc == MP_OK; i++)
        rc = mp_held_write(mp_held_seq_at(s, i), b);
    return rc;
}

size_t mp_held_seq_find(const mp_held_seq *s, size_t from, const unsigned char *packed, size_t len)
{
    for (size_t i = from; i < s->len; i++)
        if (mp_held_equals(mp_held_seq_at(s, i), packed, len))
            return i;
    return s->len;
}

void mp_held_seq_clear(mp_held_seq *s)
{
    for (size_t i = 0; i < s->len; i++)
        mp_held_release(mp_held_seq_at(s, i));
    free(s->items);
    *s = (mp_held_seq){NULL, 0, 0, 0};
}

/* ---- the ordered map ---------------------------------------------------- */

size_t mp_held_map_find(const mp_held_map *m, const unsigned char *packed, size_t len)
{
    for (size_t i = 0; i < m->len; i++)
        if (mp_held_equals(&m->keys[i], packed, len))
            return i;
    return m->len;
}

static int map_room(mp_held_map *m)
{
    if (m->len < m->cap)
        return MP_OK;
    size_t more = m->cap ? 2 * m->cap : 8;
    mp_held *keys = realloc(m->keys, more * sizeof *keys);
    if (keys == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    m->keys = keys;
    mp_held *values = realloc(m->values, more * sizeof *values);
    if (values == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    m->values = values;
    m->cap = more;
    return MP_OK;
}

int mp_held_map_set(mp_held_map *m, const mp_value *key, const mp_value *value)
{
    mp_held k, v;
    int rc = mp_held_keep(&v, value);
    if (rc != MP_OK)
        return rc;
    rc = mp_held_keep(&k, key);
    if (rc != MP_OK) {
        mp_held_release(&v);
        return rc;
    }
    size_t at = mp_held_map_find(m, k.data, k.len);
    if (at < m->len) {
        mp_held_release(&m->values[at]);
        m->values[at] = v;
        mp_held_release(&k); /* Python keeps the first key too */
        return MP_OK;
    }
    rc = map_room(m);
    if (rc != MP_OK) {
        mp_held_release(&k);
        mp_held_release(&v);
        return rc;
    }
    m->keys[m->len] = k;
    m->values[m->len] = v;
    m->len++;
    return MP_OK;
}

void mp_held_map_take(mp_held_map *m, size_t at, mp_held *key, mp_held *value)
{
    *key = m->keys[at];
    *value = m->values[at];
    size_t after = m->len - at - 1;
    memmove(m->keys + at, m->keys + at + 1, after * sizeof *m->keys);
    memmove(m->values + at, m->values + at + 1, after * sizeof *m->values);
    m->len--;
}

int mp_held_map_write(const mp_held_map *m, mp_buf *b)
{
    if (m->len > UINT32_MAX)
        return mp_fail(MP_ETOOBIG, "manager: too many entries to send");
    int rc = mp_pack_map(b, (uint32_t)m->len);
    for (size_t i = 0; i < m->len && rc == MP_OK; i++) {
        rc = mp_held_write(&m->keys[i], b);
        if (rc == MP_OK)
            rc = mp_held_write(&m->values[i], b);
    }
    return rc;
}

void mp_held_map_clear(mp_held_map *m)
{
    for (size_t i = 0; i < m->len; i++) {
        mp_held_release(&m->keys[i]);
        mp_held_release(&m->values[i]);
    }
    free(m->keys);
    free(m->values);
    *m = (mp_held_map){NULL, NULL, 0, 0};
}
