/* fuzz_decode.c - libFuzzer target for the MessagePack decoder: decoding
 * any input must fail cleanly or give a tree that re-encodes and decodes to
 * the same tree; unpacking by format must never misbehave, nor must the
 * manager's readers of requests, replies and proxies (manager/wire.h,
 * manager/proxy_ref.h) on whatever tree comes out. The input read
 * as a stream of values (mp_decode_first, then mp_decode_array_of over the
 * same bytes cut in two) must give the trees mp_decode gives each value. */
#include <stdlib.h>
#include <string.h>

#include <mproc.h>

#include "manager/proxy_ref.h"
#include "manager/wire.h"
#include "pack/decode.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static bool same(const mp_value *a, const mp_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case MP_NIL: return true;
    case MP_BOOL: return a->as.b == b->as.b;
    case MP_INT: return a->as.i == b->as.i;
    case MP_UINT: return a->as.u == b->as.u;
    case MP_DOUBLE: return memcmp(&a->as.d, &b->as.d, sizeof a->as.d) == 0;
    case MP_STR:
        return a->as.str.len == b->as.str.len && memcmp(a->as.str.ptr, b->as.str.ptr, a->as.str.len) == 0 &&
               b->as.str.ptr[b->as.str.len] == '\0';
    case MP_BIN:
        return a->as.bin.len == b->as.bin.len && memcmp(a->as.bin.ptr, b->as.bin.ptr, a->as.bin.len) == 0 &&
               (uintptr_t)b->as.bin.ptr % 16 == 0;
    case MP_EXT:
        return a->as.ext.type == b->as.ext.type && a->as.ext.len == b->as.ext.len &&
               memcmp(a->as.ext.ptr, b->as.ext.ptr, a->as.ext.len) == 0;
    case MP_ARRAY:
    case MP_MAP: {
        if (a->as.array.len != b->as.array.len)
            return false;
        size_t n = (size_t)a->as.array.len * (a->type == MP_MAP ? 2 : 1);
        for (size_t i = 0; i < n; i++)
            if (!same(&a->as.array.items[i], &b->as.array.items[i]))
                return false;
        return true;
    }
    }
    return false;
}

static void unpack_every_way(const mp_value *v)
{
    int i;
    unsigned u;
    int64_t q;
    uint64_t uq;
    double d;
    float f;
    bool b;
    const char *s;
    const void *p;
    size_t len;
    int8_t t;
    const mp_value *any;
    mp_unpack(v, "i", &i);
    mp_unpack(v, "I", &u);
    mp_unpack(v, "q", &q);
    mp_unpack(v, "Q", &uq);
    mp_unpack(v, "d", &d);
    mp_unpack(v, "f", &f);
    mp_unpack(v, "?", &b);
    mp_unpack(v, "s", &s);
    mp_unpack(v, "z", &s);
    mp_unpack(v, "s#", &s, &len);
    mp_unpack(v, "y#", &p, &len);
    mp_unpack(v, "e", &t, &p, &len);
    mp_unpack(v, "V", &any);
    mp_unpack(v, "n");
    mp_args(v, "i|s y# (d[?]) V", &i, &s, &p, &len, &d, &b, &any);
    mp_args(v, "|q Q z e", &q, &uq, &s, &t, &p, &len);
    mp_map_get(v, "key");
}

static int check_ref(const mp_proxy_ref *ref, void *arg)
{
    (void)arg;
    if (ref->address == NULL || ref->typeid == NULL || (ref->authkey == NULL && ref->authkey_len > 0))
        abort();
    return MP_OK;
}

/* What a server and a client make of the tree as a message. */
static void manager_messages(const unsigned char *data, size_t size, const mp_value *v)
{
    mp_wire_request req;
    if (mp_wire_parse_request(v, &req) == MP_OK) {
        bool named = req.op == MP_WIRE_CREATE || req.op == MP_WIRE_CALL;
        if (req.op > MP_WIRE_SHUTDOWN || (named && (req.name == NULL || req.args == NULL ||
                                                    req.args->type != MP_ARRAY)))
            abort();
    }
    mp_wire_reply rep;
    if (mp_wire_parse_reply(v, &rep) == MP_OK) {
        /* The id reader takes the encodings packers write (a fixarray);
         * where it reads one, it is the reply's. */
        uint64_t id = 0;
        if ((rep.code == MP_OK && rep.value == NULL) || (rep.code != MP_OK && rep.message == NULL) ||
            (mp_wire_reply_id(data, size, &id) == MP_OK && id != rep.id))
            abort();
    }
    bool is_proxy = false;
    mp_proxy_ref ref;
    mp_value *body = NULL;
    if (mp_proxy_ref_parse(v, &is_proxy, &ref, &body) == MP_OK && is_proxy)
        check_ref(&ref, NULL);
    mp_value_free(body);
    mp_proxy_ref_each(v, check_ref, NULL);
}

/* The values one after another: each must decode alone as mp_decode does;
 * then all of them, from two parts cut at a value's end, as one array. */
static void stream(const unsigned char *data, size_t size, const mp_limits *limits)
{
    enum { MAX_VALUES = 64 };
    mp_value *each[MAX_VALUES];
    size_t n = 0, pos = 0, cut = 0;
    while (pos < size && n < MAX_VALUES) {
        mp_value space[8], *v = NULL;
        size_t used = 0;
        if (mp_decode_first(data + pos, size - pos, limits, space, sizeof space, &v, &used) != MP_OK) {
            if (v != NULL)
                abort();
            break;
        }
        if (used == 0 || used > size - pos || mp_decode(data + pos, used, limits, &each[n]) != MP_OK ||
            !same(v, each[n]))
            abort();
        if (v != space)
            mp_value_free(v);
        pos += used;
        if (++n == (data[0] % MAX_VALUES) / 2 + 1)
            cut = pos;
    }
    mp_bytes parts[2] = {{data, cut}, {data + cut, pos - cut}};
    mp_value *all = NULL;
    int rc = mp_decode_array_of(parts, 2, n, limits, &all);
    if (rc == MP_OK) {
        if (all->as.array.len != n)
            abort();
        for (size_t i = 0; i < n; i++)
            if (!same(&all->as.array.items[i], each[i]))
                abort();
        mp_value_free(all);
    } else if (all != NULL || rc != MP_ETOOBIG) {
        abort(); /* only the limits, which count the whole array, may refuse */
    }
    for (size_t i = 0; i < n; i++)
        mp_value_free(each[i]);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    mp_limits limits = {.max_depth = 32, .max_nodes = 20000};
    stream(data, size, &limits);
    mp_value *v = NULL;
    if (mp_decode(data, size, &limits, &v) != MP_OK) {
        if (v != NULL)
            abort();
        return 0;
    }
    unpack_every_way(v);
    manager_messages(data, size, v);
    if (v->type == MP_ARRAY || v->type == MP_MAP)
        for (size_t k = 0; k < v->as.array.len && k < 8; k++)
            unpack_every_way(&v->as.array.items[k]);

    mp_buf again = MP_BUF_INIT;
    if (mp_pack_value(&again, v) != MP_OK)
        abort();
    mp_value *w = NULL;
    if (mp_decode(again.data, again.len, &limits, &w) != MP_OK || !same(v, w))
        abort();
    mp_value_free(w);
    mp_value_free(v);
    mp_buf_free(&again);
    return 0;
}
