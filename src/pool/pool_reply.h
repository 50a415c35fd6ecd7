/* pool_reply.h - a worker's reply (pool_message.h) as the pool reads it
 * (pool_reply.c): the header decoded, the values left where they are. */
#ifndef MPROC_POOL_REPLY_H
#define MPROC_POOL_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "mproc/pack.h"
#include "pool/pool_message.h"

typedef struct pool_reply {
    int kind;        /* POOL_DONE, POOL_FAILED, ...; -1 if malformed */
    uint64_t count;  /* DONE: the values (FIXED: bytes) in the payload */
    const unsigned char *payload; /* DONE: borrowed from the message */
    size_t payload_len;
    int code;        /* FAILED, INIT_FAILED */
    const char *message; /* FAILED, INIT_FAILED; or what was malformed */
    mp_value *head;
    mp_value space[POOL_HEADER_NODES];
} pool_reply;

void mp_pool_reply_read(pool_reply *r, const void *msg, size_t len);
void mp_pool_reply_release(pool_reply *r);

#endif
