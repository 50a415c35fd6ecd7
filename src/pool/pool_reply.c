/* pool_reply.c - reading a worker's reply (pool_message.h) on the pool's
 * side: the header is decoded, the values after it are left where they
 * are for the job to keep. */
#include "pack/decode.h"
#include "base/error_internal.h"
#include "pool/pool_reply.h"

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
    if (n == 0 || f[HEAD_KIND].type != MP_INT)
        return;
    switch (f[HEAD_KIND].as.i) {
    case POOL_DONE:
        if (n == DONE_FIELDS && f[DONE_COUNT].type == MP_INT && f[DONE_COUNT].as.i >= 0) {
            r->kind = POOL_DONE;
            r->count = (uint64_t)f[DONE_COUNT].as.i;
            r->payload = (const unsigned char *)msg + used;
            r->payload_len = len - used;
        }
        break;
    case POOL_READY:
        if (n == KIND_ONLY_FIELDS && used == len)
            r->kind = POOL_READY;
        break;
    case POOL_FAILED:
    case POOL_INIT_FAILED:
        if (n == ERROR_FIELDS && f[ERROR_CODE].type == MP_INT && f[ERROR_MESSAGE].type == MP_STR && used == len) {
            r->kind = (int)f[HEAD_KIND].as.i;
            r->code = (int)f[ERROR_CODE].as.i;
            r->message = f[ERROR_MESSAGE].as.str.ptr;
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
