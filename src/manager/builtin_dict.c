/* builtin_dict.c - the manager's "dict" (Python's DictProxy methods).
 *
 * Keys are compared by their MessagePack bytes, so 1 and 1.0 (or 1 and
 * true) are different keys, unlike Python's; any value may be a key. The
 * order is insertion order, as Python's since 3.7. Lookups are linear
 * (mp_held_map): O(n) per call. Calls come one at a time (the type is not
 * concurrent), so the scratch buffer needs no lock. */
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

typedef struct dict {
    mp_held_map map;
    mp_buf key; /* the packed key of the call being served */
} dict;

static const mp_value nil = {.type = MP_NIL};

/* The position of args[0] as a key, d->map.len if absent. */
static int find_key(dict *d, const mp_value *args, size_t *at)
{
    int rc = mp_builtin_packed(&d->key, mp_builtin_arg(args, 0));
    if (rc == MP_OK)
        *at = mp_held_map_find(&d->map, d->key.data, d->key.len);
    return rc;
}

static int key_error(const char *where)
{
    return mp_fail(MP_ERANGE, "manager: KeyError: dict.%s: no such key", where);
}

/* Take the entry at position at out; its value becomes the call's
 * result. */
static int pop_at(dict *d, size_t at, mp_served_call *call)
{
    mp_held k, v;
    mp_held_map_take(&d->map, at, &k, &v);
    int rc = mp_held_write(&v, mp_served_result(call));
    mp_held_release(&k);
    mp_held_release_to(&v, call);
    return rc;
}

static int getitem(void *self, const mp_value *args, mp_served_call *call)
{
    dict *d = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 1, "dict.__getitem__");
    if (rc == MP_OK)
        rc = find_key(d, args, &at);
    if (rc != MP_OK)
        return rc;
    if (at == d->map.len)
        return key_error("__getitem__");
    return mp_held_write(&d->map.values[at], mp_served_result(call));
}

static int setitem(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    dict *d = self;
    int rc = mp_builtin_nargs(args, 2, 2, "dict.__setitem__");
    return rc != MP_OK ? rc : mp_held_map_set(&d->map, mp_builtin_arg(args, 0), mp_builtin_arg(args, 1));
}

static int delitem(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    dict *d = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 1, "dict.__delitem__");
    if (rc == MP_OK)
        rc = find_key(d, args, &at);
    if (rc != MP_OK)
        return rc;
    if (at == d->map.len)
        return key_error("__delitem__");
    mp_held k, v;
    mp_held_map_take(&d->map, at, &k, &v);
    mp_held_release(&k);
    mp_held_release(&v);
    return MP_OK;
}

static int contains(void *self, const mp_value *args, mp_served_call *call)
{
    dict *d = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 1, "dict.__contains__");
    if (rc == MP_OK)
        rc = find_key(d, args, &at);
    return rc != MP_OK ? rc : mp_builtin_bool_result(call, at < d->map.len);
}

static int len(void *self, const mp_value *args, mp_served_call *call)
{
    dict *d = self;
    int rc = mp_builtin_nargs(args, 0, 0, "dict.__len__");
    return rc != MP_OK ? rc : mp_builtin_int_result(call, (int64_t)d->map.len);
}

/* get(k, default=None) */
static int get(void *self, const mp_value *args, mp_served_call *call)
{
    dict *d = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 2, "dict.get");
    if (rc == MP_OK)
        rc = find_key(d, args, &at);
    if (rc != MP_OK)
        return rc;
    if (at < d->map.len)
        return mp_held_write(&d->map.values[at], mp_served_result(call));
    const mp_value *dflt = mp_builtin_arg(args, 1);
    return dflt != NULL ? mp_pack_value(mp_served_result(call), dflt) : MP_OK;
}

/* setdefault(k, default=None) */
static int setdefault(void *self, const mp_value *args, mp_served_call *call)
{
    dict *d = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 2, "dict.setdefault");
    if (rc == MP_OK)
        rc = find_key(d, args, &at);
    if (rc != MP_OK)
        return rc;
    if (at == d->map.len) {
        rc = mp_held_map_set(&d->map, mp_builtin_arg(args, 0),
                             mp_builtin_argc(args) > 1 ? mp_builtin_arg(args, 1) : &nil);
        if (rc != MP_OK)
            return rc;
    }
    return mp_held_write(&d->map.values[at], mp_served_result(call));
}

/* pop(k[, default]) */
static int pop(void *self, const mp_value *args, mp_served_call *call)
{
    dict *d = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 2, "dict.pop");
    if (rc == MP_OK)
        rc = find_key(d, args, &at);
    if (rc != MP_OK)
        return rc;
    if (at < d->map.len)
        return pop_at(d, at, call);
    const mp_value *dflt = mp_builtin_arg(args, 1);
    return dflt != NULL ? mp_pack_value(mp_served_result(call), dflt) : key_error("pop");
}

/* popitem(): the last entry, as [key, value] (LIFO, as Python's). */
static int popitem(void *self, const mp_value *args, mp_served_call *call)
{
    dict *d = self;
    int rc = mp_builtin_nargs(args, 0, 0, "dict.popitem");
    if (rc != MP_OK)
        return rc;
    if (d->map.len == 0)
        return mp_fail(MP_ERANGE, "manager: KeyError: popitem(): dictionary is empty");
    mp_buf *out = mp_served_result(call);
    rc = mp_pack_array(out, 2);
    if (rc == MP_OK)
        rc = mp_held_write(&d->map.keys[d->map.len - 1], out);
    return rc != MP_OK ? rc : pop_at(d, d->map.len - 1, call);
}

/* keys(), values(), items(): arrays, in order. */
static int write_column(dict *d, const mp_value *args, mp_served_call *call, const char *where, bool keys,
                        bool values)
{
    int rc = mp_builtin_nargs(args, 0, 0, where);
    mp_buf *out = mp_served_result(call);
    if (rc == MP_OK)
        rc = d->map.len > UINT32_MAX ? mp_fail(MP_ETOOBIG, "manager: too many entries to send")
                                     : mp_pack_array(out, (uint32_t)d->map.len);
    for (size_t i = 0; i < d->map.len && rc == MP_OK; i++) {
        if (keys && values)
            rc = mp_pack_array(out, 2);
        if (rc == MP_OK && keys)
            rc = mp_held_write(&d->map.keys[i], out);
        if (rc == MP_OK && values)
            rc = mp_held_write(&d->map.values[i], out);
    }
    return rc;
}

static int keys(void *self, const mp_value *args, mp_served_call *call)
{
    return write_column(self, args, call, "dict.keys", true, false);
}

static int values(void *self, const mp_value *args, mp_served_call *call)
{
    return write_column(self, args, call, "dict.values", false, true);
}

static int items(void *self, const mp_value *args, mp_served_call *call)
{
    return write_column(self, args, call, "dict.items", true, true);
}

static int clear(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    dict *d = self;
    int rc = mp_builtin_nargs(args, 0, 0, "dict.clear");
    if (rc == MP_OK)
        mp_held_map_clear(&d->map);
    return rc;
}

/* update(map): entry by entry, so a failure midway leaves the earlier
 * ones set, as Python's. */
static int update(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    dict *d = self;
    int rc = mp_builtin_nargs(args, 1, 1, "dict.update");
    if (rc != MP_OK)
        return rc;
    const mp_value *m = mp_builtin_arg(args, 0);
    if (m->type != MP_MAP)
        return mp_fail(MP_ETYPE, "manager: TypeError: dict.update wants a map");
    for (uint32_t i = 0; i < m->as.map.len && rc == MP_OK; i++)
        rc = mp_held_map_set(&d->map, &m->as.map.items[2 * i], &m->as.map.items[2 * i + 1]);
    return rc;
}

/* copy() and _getvalue(): the whole dict as a map. */
static int copy(void *self, const mp_value *args, mp_served_call *call)
{
    dict *d = self;
    int rc = mp_builtin_nargs(args, 0, 0, "dict.copy");
    return rc != MP_OK ? rc : mp_held_map_write(&d->map, mp_served_result(call));
}

static void dict_free(void *self)
{
    dict *d = self;
    mp_held_map_clear(&d->map);
    mp_buf_free(&d->key);
    free(d);
}

static const mp_served_method methods[] = {
    {"__getitem__", getitem, false}, {"__setitem__", setitem, false}, {"__delitem__", delitem, false},
    {"__contains__", contains, false}, {"__len__", len, false}, {"get", get, false},
    {"setdefault", setdefault, false}, {"pop", pop, false}, {"popitem", popitem, false},
    {"keys", keys, false}, {"values", values, false}, {"items", items, false},
    {"clear", clear, false}, {"update", update, false}, {"copy", copy, false},
    {"_getvalue", copy, false}, {NULL, NULL, false},
};

static const mp_served_type type = {"dict", methods, dict_free, false};

int mp_builtin_dict(const mp_value *args, mp_served **out)
{
    int rc = mp_builtin_nargs(args, 0, 0, "dict()");
    if (rc != MP_OK)
        return rc;
    dict *d = calloc(1, sizeof *d);
    if (d == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    return mp_builtin_wrap(out, &type, d);
}
