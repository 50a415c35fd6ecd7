/* frame.c - the spawn handoff's framing (frame.h). */
#include <string.h>

#include "base/error_internal.h"
#include "process/frame.h"

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

void mp_frame_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t mp_frame_get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void mp_frame_encode_header(unsigned char out[MP_FRAME_HEADER_SIZE], const mp_frame_header *h)
{
    memcpy(out, "MPRC", 4);
    put_u32(out + 4, MP_FRAME_VERSION);
    put_u32(out + 8, h->nhandles);
    put_u32(out + 12, h->nsockets);
    mp_frame_put_u64(out + 16, h->blob_len);
    mp_frame_put_u64(out + 24, h->parent_handle);
}

int mp_frame_decode_header(const unsigned char in[MP_FRAME_HEADER_SIZE], mp_frame_header *h)
{
    if (memcmp(in, "MPRC", 4) != 0)
        return mp_fail(MP_EPROTO, "handoff: bad magic");
    if (get_u32(in + 4) != MP_FRAME_VERSION)
        return mp_fail(MP_EPROTO, "handoff: frame version %u, expected %u", get_u32(in + 4), MP_FRAME_VERSION);
    h->nhandles = get_u32(in + 8);
    h->nsockets = get_u32(in + 12);
    h->blob_len = mp_frame_get_u64(in + 16);
    h->parent_handle = mp_frame_get_u64(in + 24);
    if (h->nhandles > MP_FRAME_MAX_HANDLES)
        return mp_fail(MP_EPROTO, "handoff: %u handles, at most %u", h->nhandles, MP_FRAME_MAX_HANDLES);
    if (h->nsockets > h->nhandles)
        return mp_fail(MP_EPROTO, "handoff: %u shared sockets among %u handles", h->nsockets, h->nhandles);
    if (h->blob_len > MP_FRAME_MAX_BLOB)
        return mp_fail(MP_EPROTO, "handoff: blob of %llu bytes is too large", (unsigned long long)h->blob_len);
    return MP_OK;
}
