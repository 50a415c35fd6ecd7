/* buf.c - the growable byte buffer of pack.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "pack/pack_internal.h"

void mp_buf_free(mp_buf *b)
{
    if (b == NULL)
        return;
    if (!b->borrowed)
        free(b->data);
    *b = (mp_buf)MP_BUF_INIT;
}

void mp_buf_clear(mp_buf *b)
{
    if (b)
        b->len = 0;
}

int mp_buf_reserve(mp_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return MP_OK;
    if (extra > SIZE_MAX - b->len)
        return mp_fail(MP_ETOOBIG, "buffer: %zu more bytes overflow", extra);
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    unsigned char *p = b->borrowed ? malloc(cap) : realloc(b->data, cap);
    if (p == NULL)
        return mp_fail(MP_ENOMEM, "buffer: out of memory for %zu bytes", cap);
    if (b->borrowed && b->len > 0)
        memcpy(p, b->data, b->len);
    b->data = p;
    b->cap = cap;
    b->borrowed = false;
    return MP_OK;
}

int mp_buf_append(mp_buf *b, const void *data, size_t len)
{
    if (b == NULL || (data == NULL && len > 0))
        return mp_fail(MP_EINVAL, "mp_buf_append: NULL argument");
    int rc = mp_buf_reserve(b, len);
    if (rc != MP_OK)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    return MP_OK;
}
