/* pool_exec.c - running one task message (pool_message.h): in a worker
 * process, or in a ThreadPool's thread. The items of a chunk are decoded
 * one at a time, each into room on the stack, so a chunk of a million items
 * never becomes one tree of a million nodes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pack/decode.h"
#include "base/error_internal.h"
#include "pack/pack_internal.h"
#include "pool/pool_exec.h"
#include "pool/pool_message.h"

/* Chunks hold up to millions of items. */
static const mp_limits task_limits = {.max_nodes = POOL_MAX_NODES};

/* Stack room for the tree of one usual item (larger ones are allocated). */
#define ITEM_NODES 64

/* malloc's alignment on the systems we build for: the fixed path's
 * elements are read at it. */
#define ELEM_ALIGN 16

int mp_pool_reply_error(mp_buf *reply, int kind, int code, const char *message)
{
    return mp_pack(reply, "(iis)", kind, code, message ? message : "");
}

static int done_header(mp_buf *reply, uint64_t count)
{
    int rc = mp_pack_array(reply, DONE_FIELDS);
    if (rc == MP_OK)
        rc = mp_pack_int(reply, POOL_DONE);
    if (rc == MP_OK)
        rc = mp_pack_uint(reply, count);
    return rc;
}

/* Call fn once and append its value (none: nil) to out. fn writes into
 * one, which it receives empty as the contract says. */
static int call_one(mp_task_fn fn, const char *name, const mp_value *args, mp_buf *one, mp_buf *out)
{
    mp_buf_clear(one);
    int rc = fn(args, one);
    if (rc > 0)
        rc = mp_fail(MP_EINVAL, "task '%s' returned %d; a task returns MP_OK or a negative MP_E* code", name, rc);
    if (rc != MP_OK)
        return rc;
    if (one->len == 0)
        return mp_pack_nil(out);
    size_t span = mp_number_size(one->data[0]);
    if (span != one->len && (mp_value_span(one->data, one->len, &span) != MP_OK || span != one->len))
        return mp_fail(MP_EPROTO, "task '%s' must write exactly one packed value into its result", name);
    if ((rc = mp_buf_room(out, one->len)) != MP_OK)
        return rc;
    unsigned char *to = out->data + out->len;
    const unsigned char *from = one->data;
    size_t n = one->len;
    /* The usual result, an int64 of 9 bytes, was just written as a type
     * byte and an 8-byte field: read back the same way, each load is
     * served from its store, where a call to memcpy (or one 8-byte load
     * across both) waits for them to reach the cache. */
    if (n == 9) {
        to[0] = from[0];
        memcpy(to + 1, from + 1, 8);
    } else {
        memcpy(to, from, n);
    }
    out->len += n;
    return MP_OK;
}

static int run_args(mp_task_fn fn, const char *name, const unsigned char *payload, size_t len, mp_buf *one,
                    mp_buf *out)
{
    mp_value space[ITEM_NODES], *args;
    size_t used;
    int rc = mp_decode_first(payload, len, &task_limits, space, sizeof space, &args, &used);
    if (rc != MP_OK)
        return rc;
    rc = args->type == MP_ARRAY && used == len ? done_header(out, 1) : mp_fail(MP_EPROTO, "pool: malformed arguments");
    if (rc == MP_OK)
        rc = call_one(fn, name, args, one, out);
    if (args != space)
        mp_value_free(args);
    return rc;
}

static int run_item(mp_task_fn fn, const char *name, bool star, const mp_value *item, uint64_t i, mp_buf *one,
                    mp_buf *out)
{
    if (star && item->type != MP_ARRAY)
        return mp_fail(MP_ETYPE, "starmap: item %llu is not an array of arguments", (unsigned long long)i);
    mp_value wrapped = {.type = MP_ARRAY, .as.array = {(mp_value *)item, 1}};
    return call_one(fn, name, star ? item : &wrapped, one, out);
}

static int run_items(mp_task_fn fn, const char *name, bool star, uint64_t count, const unsigned char *payload,
                     size_t len, mp_buf *one, mp_buf *out)
{
    int rc = done_header(out, count);
    size_t pos = 0;
    for (uint64_t i = 0; rc == MP_OK && i < count; i++) {
        mp_value space[ITEM_NODES], *item = space;
        size_t used = pos < len ? mp_number_size(payload[pos]) : 0;
        if (used != 0 && used <= len - pos)
            mp_number_value(payload + pos, space);
        else if ((rc = mp_decode_first(payload + pos, len - pos, &task_limits, space, sizeof space, &item,
                                       &used)) != MP_OK)
            break;
        pos += used;
        rc = run_item(fn, name, star, item, i, one, out);
        if (item != space)
            mp_value_free(item);
    }
    if (rc == MP_OK && pos != len)
        rc = mp_fail(MP_EPROTO, "pool: %zu bytes after a chunk's items", len - pos);
    return rc;
}

static int run_fixed(mp_elem_fn fn, const char *name, uint64_t in_size, uint64_t out_size,
                     const unsigned char *payload, size_t len, pool_scratch *scratch, mp_buf *out)
{
    if (in_size == 0 || in_size > POOL_MAX_ELEM || out_size == 0 || out_size > POOL_MAX_ELEM || len % in_size != 0)
        return mp_fail(MP_EPROTO, "pool: malformed fixed-size chunk");
    size_t n = len / in_size, out_len = n * out_size;
    /* Elements are read and written at malloc's alignment, as if they were
     * arrays: the payload sits wherever the message put it. */
    const unsigned char *in = payload;
    int rc = MP_OK;
    if ((uintptr_t)payload % ELEM_ALIGN != 0) {
        mp_buf_clear(&scratch->in);
        rc = mp_buf_append(&scratch->in, payload, len);
        in = scratch->in.data;
    }
    mp_buf_clear(&scratch->out);
    if (rc == MP_OK)
        rc = mp_buf_reserve(&scratch->out, out_len ? out_len : 1);
    unsigned char *outs = scratch->out.data;
    for (size_t i = 0; rc == MP_OK && i < n; i++) {
        rc = fn(in + i * in_size, outs + i * out_size);
        if (rc > 0)
            rc = mp_fail(MP_EINVAL, "element task '%s' returned %d; it returns MP_OK or a negative MP_E* code", name,
                         rc);
    }
    if (rc == MP_OK)
        rc = done_header(out, out_len);
    if (rc == MP_OK)
        rc = mp_buf_append(out, outs, out_len);
    return rc;
}

void mp_pool_scratch_free(pool_scratch *s)
{
    mp_buf_free(&s->one);
    mp_buf_free(&s->in);
    mp_buf_free(&s->out);
}

static mp_any_fn find(mp_registry_kind kind, const char *name, mp_any_fn direct)
{
    return direct ? direct : mp_registry_lookup(kind, name);
}

/* Run a task whose header fields f[0..n) (already checked to start with
 * the kind and the name) came before payload. */
static int run_task(const mp_value *f, uint32_t n, const unsigned char *payload, size_t len, mp_any_fn direct,
                    pool_scratch *scratch, mp_buf *reply)
{
    const char *name = f[TASK_NAME].as.str.ptr;
    int64_t kind = f[HEAD_KIND].as.i;
    if (kind == POOL_FIXED) {
        if (n != FIXED_FIELDS || f[FIXED_IN_SIZE].type != MP_INT || f[FIXED_OUT_SIZE].type != MP_INT)
            return mp_fail(MP_EPROTO, "pool: malformed task message");
        mp_elem_fn fn = (mp_elem_fn)find(MP_REG_ELEM_TASK, name, direct);
        if (fn == NULL)
            return mp_fail(MP_ENOTREG, "element task '%s' is not registered in the worker", name);
        return run_fixed(fn, name, (uint64_t)f[FIXED_IN_SIZE].as.i, (uint64_t)f[FIXED_OUT_SIZE].as.i, payload, len,
                         scratch, reply);
    }
    mp_task_fn fn = (mp_task_fn)find(MP_REG_TASK, name, direct);
    if (fn == NULL)
        return mp_fail(MP_ENOTREG, "task '%s' is not registered in the worker", name);
    if (kind == POOL_ARGS && n == ARGS_FIELDS)
        return run_args(fn, name, payload, len, &scratch->one, reply);
    if (kind == POOL_ITEMS && n == ITEMS_FIELDS && f[ITEMS_STAR].type == MP_BOOL && f[ITEMS_COUNT].type == MP_INT &&
        f[ITEMS_COUNT].as.i >= 0)
        return run_items(fn, name, f[ITEMS_STAR].as.b, (uint64_t)f[ITEMS_COUNT].as.i, payload, len, &scratch->one,
                         reply);
    return mp_fail(MP_EPROTO, "pool: malformed task message");
}

int mp_pool_execute(const void *msg, size_t len, mp_any_fn direct, pool_scratch *scratch, mp_buf *reply,
                    bool *exit)
{
    *exit = false;
    mp_value space[POOL_HEADER_NODES], *head;
    size_t used;
    int rc = mp_decode_first(msg, len, NULL, space, sizeof space, &head, &used);
    if (rc != MP_OK)
        return rc;
    const mp_value *f = head->type == MP_ARRAY ? head->as.array.items : NULL;
    uint32_t n = f ? head->as.array.len : 0;
    size_t start = reply->len;
    if (n == KIND_ONLY_FIELDS && f[HEAD_KIND].type == MP_INT && f[HEAD_KIND].as.i == POOL_EXIT && used == len)
        *exit = true;
    else if (n <= TASK_NAME || f[HEAD_KIND].type != MP_INT || f[TASK_NAME].type != MP_STR)
        rc = mp_fail(MP_EPROTO, "pool: malformed task message");
    else
        rc = run_task(f, n, (const unsigned char *)msg + used, len - used, direct, scratch, reply);
    if (rc != MP_OK && rc != MP_ENOMEM) {
        reply->len = start;
        rc = mp_pool_reply_error(reply, POOL_FAILED, rc, mp_last_error());
    }
    if (head != space)
        mp_value_free(head);
    return rc;
}

int mp_pool_run_initializer(mp_target_fn fn, const void *initargs, size_t len)
{
    if (fn == NULL)
        return MP_OK;
    static const unsigned char empty[] = {0x90};
    mp_value *args;
    int rc = len ? mp_decode(initargs, len, NULL, &args) : mp_decode(empty, 1, NULL, &args);
    if (rc != MP_OK)
        return rc;
    rc = fn(args);
    mp_value_free(args);
    if (rc > 0)
        rc = mp_fail(MP_EINVAL, "initializer returned %d; it returns MP_OK or a negative MP_E* code", rc);
    return rc;
}
