/* held.c - values kept by the built-in objects (served.h's mp_held): their
 * packed bytes, plus a reference to every object of this server's table
 * that the value holds a proxy of. A proxy of another server (or of an
 * object already gone) is kept as bytes only: nothing here can keep it
 * alive. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "manager/objects.h"
#include "manager/proxy_ref.h"
#include "manager/served.h"

static int take_ref(const mp_proxy_ref *ref, void *arg)
{
    mp_held *h = arg;
    if (!mp_objects_has(ref->oid))
        return MP_OK;
    uint64_t *grown = realloc(h->oids, (h->noids + 1) * sizeof *grown);
    if (grown == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    h->oids = grown;
    int rc = mp_objects_incref(ref->oid, 0);
    /* Freed between the look and the reference: as good as a foreign one. */
    if (rc == MP_ESTATE)
        return MP_OK;
    if (rc == MP_OK)
        h->oids[h->noids++] = ref->oid;
    return rc;
}

int mp_held_keep(mp_held *h, const mp_value *v)
{
    *h = (mp_held){NULL, 0, NULL, 0};
    mp_buf b = MP_BUF_INIT;
    int rc = mp_pack_value(&b, v);
    if (rc != MP_OK) {
        mp_buf_free(&b);
        return rc;
    }
    h->data = b.data; /* the buffer's memory is the held value's now */
    h->len = b.len;
    rc = mp_proxy_ref_each(v, take_ref, h);
    if (rc != MP_OK)
        mp_held_release(h);
    return rc;
}

int mp_held_write(const mp_held *h, mp_buf *b)
{
    return mp_buf_append(b, h->data, h->len);
}

int mp_held_decode(const mp_held *h, mp_value **out)
{
    return mp_decode(h->data, h->len, NULL, out);
}

bool mp_held_equals(const mp_held *h, const unsigned char *packed, size_t len)
{
    return h->len == len && memcmp(h->data, packed, len) == 0;
}

void mp_held_release_to(mp_held *h, const mp_served_call *call)
{
    for (size_t i = 0; i < h->noids; i++)
        (void)mp_objects_lend(h->oids[i], mp_served_call_owner(call).conn);
    mp_held_release(h);
}

void mp_held_release(mp_held *h)
{
    for (size_t i = 0; i < h->noids; i++)
        mp_objects_decref(h->oids[i], 0);
    free(h->oids);
    free(h->data);
    *h = (mp_held){NULL, 0, NULL, 0};
}
