/* pool_reply.c - reading a worker's reply (pool_internal.h) on the pool's
 * side: the header is decoded, the values after it are left where they
 * are for the job to keep. */
#include "pack/decode.h"
#include "base/error_internal.h"
#include "pool/pool_internal.h"

void mp_pool_reply_read(pool_reply *r, const void *msg, size_t len)
{
    *r = (pool_reply){.kind = -1, .message = "malformed reply from the worker"};
    size_t used;
    if (mp_decode_first(msg, len, NULL, r->space, sizeof r->space, &r->head, &used) != MP_OK) {
        r->head = NULL;
        return;
    }
    uint32_t n = r->head->type == MP_ARRAY ? r->head->as.array.len : 0;
    const mp_value *f = n ? r->head->as.array.items : NULL;
    if (n == 0 || f[0].type != MP_INT)
        return;
    switch (f[0].as.i) {
    case POOL_DONE:
        if (n == 2 && f[1].type == MP_INT && f[1].as.i >= 0) {
            r->kind = POOL_DONE;
            r->count = (uint64_t)f[1].as.i;
            r->payload = (const unsigned char *)msg + used;
            r->payload_len = len - used;
        }
        break;
    case POOL_READY:
        if (n == 1 && used == len)
            r->kind = POOL_READY;
        break;
    case POOL_FAILED:
    case POOL_INIT_FAILED:
        if (n == 3 && f[1].type == MP_INT && f[2].type == MP_STR && used == len) {
            r->kind = (int)f[0].as.i;
            r->code = (int)f[1].as.i;
            r->message = f[2].as.str.ptr;
        }
        break;
    default:
        break;
    }
}

void mp_pool_reply_release(pool_reply *r)
{
    if (r->head != NULL && r->head != r->space)
        mp_value_free(r->head);
    r->head = NULL;
}
