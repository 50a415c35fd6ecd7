/* proxy_ref.h - a proxy as it travels: ext 77 (object.h) of kind
 * MP_KIND_PROXY, whose fields are [address, typeid, oid, authkey]. It has
 * no OS handle, so unlike other objects it travels in messages and items
 * as well as in process arguments. docs/protocol.md §9. */
#ifndef MPROC_MANAGER_PROXY_REF_H
#define MPROC_MANAGER_PROXY_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "mproc/pack.h"

typedef struct mp_proxy_ref {
    const char *address;
    const char *typeid;
    uint64_t oid;
    const unsigned char *authkey;
    size_t authkey_len;
} mp_proxy_ref;

/* Pack ref as the whole ext 77 value. */
int mp_proxy_ref_pack(mp_buf *b, const mp_proxy_ref *ref);
/* Whether v is a proxy's ext 77; if so *ref points into *body, the
 * decoded ext (the caller's to free with mp_value_free; NULL when v is no
 * proxy). MP_EPROTO for an ext 77 of kind proxy that is malformed. */
int mp_proxy_ref_parse(const mp_value *v, bool *is_proxy, mp_proxy_ref *ref, mp_value **body);
/* Call fn on every proxy reference in the tree v, depth first; stop at
 * the first non-MP_OK return, which is returned. */
int mp_proxy_ref_each(const mp_value *v, int (*fn)(const mp_proxy_ref *ref, void *arg), void *arg);

#endif
