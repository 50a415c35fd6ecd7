/* pool_exec.c - running one task message (pool_internal.h): in a worker
 * process, or in a ThreadPool's thread. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "pack_internal.h"
#include "pool_internal.h"

/* Chunks hold up to millions of items; the message comes from our own
 * pool, so the node limit is memory's. */
static const mp_limits task_limits = {.max_nodes = SIZE_MAX / 64};

int mp_pool_reply_error(mp_buf *reply, int kind, int code, const char *message)
{
    mp_buf_clear(reply);
    return mp_pack(reply, "(iis)", kind, code, message ? message : "");
}

/* A bin header of exactly len bytes to follow (bin 32: always valid). */
static int bin_header(mp_buf *b, size_t len)
{
    if (len > UINT32_MAX)
        return mp_fail(MP_ETOOBIG, "pool: a reply of %zu bytes is over 4 GiB", len);
    unsigned char h[5] = {0xc6, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                          (unsigned char)len};
    return mp_buf_append(b, h, sizeof h);
}

/* Call fn once; its output must be one packed value (none: nil). */
static int call_one(mp_task_fn fn, const char *name, const mp_value *args, mp_buf *out)
{
    size_t start = out->len;
    int rc = fn(args, out);
    if (rc > 0)
        rc = mp_fail(MP_EINVAL, "task '%s' returned %d; a task returns MP_OK or a negative MP_E* code", name, rc);
    if (rc != MP_OK)
        return rc;
    if (out->len == start)
        return mp_pack_nil(out);
    size_t span;
    if (mp_value_span(out->data + start, out->len - start, &span) != MP_OK || span != out->len - start)
        return mp_fail(MP_EPROTO, "task '%s' must write exactly one packed value into its result", name);
    return MP_OK;
}

static int done_reply(mp_buf *reply, const mp_buf *values)
{
    mp_buf_clear(reply);
    int rc = mp_pack_array(reply, 2);
    if (rc == MP_OK)
        rc = mp_pack_int(reply, POOL_DONE);
    if (rc == MP_OK)
        rc = bin_header(reply, values->len);
    if (rc == MP_OK)
        rc = mp_buf_append(reply, values->data, values->len);
    return rc;
}

static int run_items(mp_task_fn fn, const char *name, bool star, const mp_value *items, mp_buf *values)
{
    for (uint32_t i = 0; i < items->as.array.len; i++) {
        mp_value *item = &items->as.array.items[i];
        mp_value wrapped = {.type = MP_ARRAY, .as.array = {item, 1}};
        if (star && item->type != MP_ARRAY)
            return mp_fail(MP_ETYPE, "starmap: item %u is not an array of arguments", i);
        int rc = call_one(fn, name, star ? item : &wrapped, values);
        if (rc != MP_OK)
            return rc;
    }
    return MP_OK;
}

static int run_fixed(mp_elem_fn fn, const char *name, const mp_value *task, mp_buf *reply)
{
    uint64_t in_size, out_size;
    const void *in;
    size_t in_len;
    int rc = mp_unpack(task, "(i s Q Q y#)", &(int){0}, &(const char *){NULL}, &in_size, &out_size, &in, &in_len);
    if (rc != MP_OK)
        return rc;
    if (in_size == 0 || in_size > POOL_MAX_ELEM || out_size == 0 || out_size > POOL_MAX_ELEM ||
        in_len % in_size != 0)
        return mp_fail(MP_EPROTO, "pool: malformed fixed-size chunk");
    size_t n = in_len / in_size, out_len = n * out_size;
    /* The elements are written to malloc's alignment, then copied after the
     * reply's header, which would leave them misaligned. */
    unsigned char *out = malloc(out_len ? out_len : 1);
    if (out == NULL)
        return mp_fail(MP_ENOMEM, "pool: out of memory for %zu bytes of output", out_len);
    for (size_t i = 0; i < n; i++) {
        rc = fn((const unsigned char *)in + i * in_size, out + i * out_size);
        if (rc != MP_OK) {
            free(out);
            if (rc > 0)
                return mp_fail(MP_EINVAL, "element task '%s' returned %d; it returns MP_OK or a negative MP_E* code",
                               name, rc);
            return rc;
        }
    }
    mp_buf_clear(reply);
    rc = mp_pack_array(reply, 2);
    if (rc == MP_OK)
        rc = mp_pack_int(reply, POOL_DONE);
    if (rc == MP_OK)
        rc = bin_header(reply, out_len);
    if (rc == MP_OK)
        rc = mp_buf_append(reply, out, out_len);
    free(out);
    return rc;
}

static mp_any_fn find(mp_registry_kind kind, const char *name, mp_any_fn direct)
{
    return direct ? direct : mp_registry_lookup(kind, name);
}

int mp_pool_execute(const void *msg, size_t len, mp_any_fn direct, mp_buf *reply, bool *exit)
{
    *exit = false;
    mp_value *task;
    int rc = mp_decode(msg, len, &task_limits, &task);
    if (rc != MP_OK)
        return rc;
    const mp_value *f = task->type == MP_ARRAY ? task->as.array.items : NULL;
    uint32_t n = f ? task->as.array.len : 0;
    if (n == 1 && f[0].type == MP_INT && f[0].as.i == POOL_EXIT) {
        *exit = true;
        mp_value_free(task);
        return MP_OK;
    }
    if (n < 3 || f[0].type != MP_INT || f[1].type != MP_STR) {
        mp_value_free(task);
        return mp_fail(MP_EPROTO, "pool: malformed task message");
    }
    const char *name = f[1].as.str.ptr;
    int64_t kind = f[0].as.i;
    mp_buf values = MP_BUF_INIT;
    if (kind == POOL_FIXED) {
        mp_elem_fn fn = (mp_elem_fn)find(MP_REG_ELEM_TASK, name, direct);
        rc = fn ? run_fixed(fn, name, task, reply)
                : mp_fail(MP_ENOTREG, "element task '%s' is not registered in the worker", name);
    } else {
        mp_task_fn fn = (mp_task_fn)find(MP_REG_TASK, name, direct);
        if (fn == NULL)
            rc = mp_fail(MP_ENOTREG, "task '%s' is not registered in the worker", name);
        else if (kind == POOL_ARGS && n == 3 && f[2].type == MP_ARRAY)
            rc = call_one(fn, name, &f[2], &values);
        else if (kind == POOL_ITEMS && n == 4 && f[2].type == MP_BOOL && f[3].type == MP_ARRAY)
            rc = run_items(fn, name, f[2].as.b, &f[3], &values);
        else
            rc = mp_fail(MP_EPROTO, "pool: malformed task message");
        if (rc == MP_OK)
            rc = done_reply(reply, &values);
    }
    if (rc != MP_OK && rc != MP_ENOMEM)
        rc = mp_pool_reply_error(reply, POOL_FAILED, rc, mp_last_error());
    mp_buf_free(&values);
    mp_value_free(task);
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
