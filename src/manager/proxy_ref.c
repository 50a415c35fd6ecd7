/* proxy_ref.c - a proxy's travelling form (proxy_ref.h). */
#include <string.h>

#include "base/error_internal.h"
#include "manager/proxy_ref.h"
#include "object/object.h"

int mp_proxy_ref_pack(mp_buf *b, const mp_proxy_ref *ref)
{
    mp_buf body = MP_BUF_INIT;
    int rc = mp_pack(&body, "[i [s s Q y#] [] n]", (int)MP_KIND_PROXY, ref->address, ref->typeid, ref->oid,
                     ref->authkey, ref->authkey_len);
    if (rc == MP_OK)
        rc = mp_pack_ext(b, MP_EXT_OBJECT, body.data, body.len);
    mp_buf_free(&body);
    return rc;
}

int mp_proxy_ref_parse(const mp_value *v, bool *is_proxy, mp_proxy_ref *ref, mp_value **body)
{
    *is_proxy = false;
    *body = NULL;
    if (v->type != MP_EXT || v->as.ext.type != MP_EXT_OBJECT)
        return MP_OK;
    mp_value *tree;
    int64_t kind;
    const mp_value *fields;
    if (mp_decode(v->as.ext.ptr, v->as.ext.len, NULL, &tree) != MP_OK)
        return mp_fail(MP_EPROTO, "proxy: a malformed object value");
    if (tree->type != MP_ARRAY || tree->as.array.len != 4 || mp_unpack(&tree->as.array.items[0], "q", &kind) ||
        kind != MP_KIND_PROXY) {
        mp_value_free(tree);
        return MP_OK;
    }
    fields = &tree->as.array.items[1];
    const void *key;
    if (mp_unpack(fields, "(s s Q y#)", &ref->address, &ref->typeid, &ref->oid, &key, &ref->authkey_len) != MP_OK) {
        mp_value_free(tree);
        return mp_fail(MP_EPROTO, "proxy: malformed fields (want [address, typeid, oid, authkey])");
    }
    ref->authkey = key;
    *is_proxy = true;
    *body = tree;
    return MP_OK;
}

int mp_proxy_ref_each(const mp_value *v, int (*fn)(const mp_proxy_ref *ref, void *arg), void *arg)
{
    switch (v->type) {
    case MP_ARRAY:
        for (uint32_t i = 0; i < v->as.array.len; i++) {
            int rc = mp_proxy_ref_each(&v->as.array.items[i], fn, arg);
            if (rc != MP_OK)
                return rc;
        }
        return MP_OK;
    case MP_MAP:
        for (uint32_t i = 0; i < 2 * v->as.map.len; i++) {
            int rc = mp_proxy_ref_each(&v->as.map.items[i], fn, arg);
            if (rc != MP_OK)
                return rc;
        }
        return MP_OK;
    case MP_EXT: {
        bool is_proxy;
        mp_proxy_ref ref;
        mp_value *body;
        int rc = mp_proxy_ref_parse(v, &is_proxy, &ref, &body);
        if (rc == MP_OK && is_proxy)
            rc = fn(&ref, arg);
        mp_value_free(body);
        return rc;
    }
    default:
        return MP_OK;
    }
}
