/* object.c - mproc objects as process arguments: export to ext 77 with
 * their handles, import in the child (object.h). */
#include <stdlib.h>

#include "base/error_internal.h"
#include "base/fork_path.h"
#include "object/object.h"
#include "pack/object_hook.h"
#include "pack/pack_format.h"

static const mp_object_ops *const ops_of[MP_KIND_COUNT_] = {
    [MP_KIND_CONN] = &mp_conn_ops,           [MP_KIND_LOCK] = &mp_lock_ops,
    [MP_KIND_RLOCK] = &mp_lock_ops,          [MP_KIND_SEMAPHORE] = &mp_semaphore_ops,
    [MP_KIND_CONDITION] = &mp_condition_ops, [MP_KIND_EVENT] = &mp_event_ops,
    [MP_KIND_BARRIER] = &mp_barrier_ops,     [MP_KIND_QUEUE] = &mp_queue_ops,
    [MP_KIND_VALUE] = &mp_value_ops,         [MP_KIND_SHM] = &mp_shm_ops,
    [MP_KIND_PROXY] = &mp_proxy_ops,         [MP_KIND_REDIS_QUEUE] = &mp_rqueue_ops,
};

static const char *kind_name(mp_kind k)
{
    static const char *const names[MP_KIND_COUNT_] = {
        [MP_KIND_CONN] = "Connection",     [MP_KIND_LOCK] = "Lock",           [MP_KIND_RLOCK] = "RLock",
        [MP_KIND_SEMAPHORE] = "Semaphore", [MP_KIND_CONDITION] = "Condition", [MP_KIND_EVENT] = "Event",
        [MP_KIND_BARRIER] = "Barrier",     [MP_KIND_QUEUE] = "Queue",         [MP_KIND_VALUE] = "Value",
        [MP_KIND_SHM] = "SharedMemory",    [MP_KIND_PROXY] = "proxy",         [MP_KIND_REDIS_QUEUE] = "Queue",
    };
    return k > 0 && k < MP_KIND_COUNT_ ? names[k] : "object";
}

void mp_object_init(mp_object *o, mp_kind kind)
{
    mp_object_install_hook();
    *o = (mp_object){.magic = MP_OBJECT_MAGIC, .kind = kind, .imported = false};
}

int mp_object_refuse(const void *p, mp_kind kind, const char *where)
{
    const mp_object *o = p;
    if (o == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL %s", where, kind_name(kind));
    if (o->magic != MP_OBJECT_MAGIC)
        return mp_fail(MP_ETYPE, "%s: not a live mproc object (freed, or not made by mproc)", where);
    return mp_fail(MP_ETYPE, "%s: wants a %s, got a %s", where, kind_name(kind), kind_name(o->kind));
}

const mp_object_ops *mp_object_ops_of(const void *p)
{
    const mp_object *o = p;
    if (o == NULL || o->magic != MP_OBJECT_MAGIC || o->kind <= 0 || o->kind >= MP_KIND_COUNT_)
        return NULL;
    return ops_of[o->kind];
}

void mp_object_free(mp_object *o)
{
    ops_of[o->kind]->free_(o);
}

int mp_object_free_checked(void *o, mp_kind kind, const char *where)
{
    if (o == NULL)
        return MP_OK;
    int rc = mp_object_check(o, kind, where);
    if (rc == MP_OK)
        mp_object_free(o);
    return rc;
}

void mp_object_discard(mp_object *o)
{
    o->magic = 0;
    if (!o->imported)
        free(o);
}

void mp_handle_list_free(mp_handle_list *l)
{
    free(l->items);
    *l = (mp_handle_list){NULL, 0, 0};
}

void mp_handles_close(const mp_os_handle *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mp_os_handle_close(h[i]);
}

/* No deduplication: each import in the child takes ownership of its
 * handles, so an object passed twice must bring two of them. */
static int list_add(mp_handle_list *l, mp_os_handle h, int64_t *index)
{
    if (h == MP_OS_NO_HANDLE) {
        *index = -1;
        return MP_OK;
    }
    if (l->len == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        mp_os_handle *more = realloc(l->items, cap * sizeof *more);
        if (more == NULL)
            return mp_fail(MP_ENOMEM, "object argument: out of memory");
        l->items = more;
        l->cap = cap;
    }
    *index = (int64_t)l->len;
    l->items[l->len++] = h;
    return MP_OK;
}

/* The array [kind, fields, [indices], nested], without the ext wrapper. */
static int export_body(mp_buf *b, const mp_object *o, mp_handle_list *l)
{
    mp_export e = {.fields = MP_BUF_INIT};
    int rc = ops_of[o->kind]->export_(o, &e);
    if (rc == MP_OK)
        rc = mp_pack_array(b, 4);
    if (rc == MP_OK)
        rc = mp_pack_int(b, o->kind);
    if (rc == MP_OK)
        rc = mp_buf_append(b, e.fields.data, e.fields.len);
    if (rc == MP_OK)
        rc = mp_pack_array(b, (uint32_t)e.nhandles);
    for (size_t i = 0; rc == MP_OK && i < e.nhandles; i++) {
        int64_t index = 0;
        rc = list_add(l, e.handles[i], &index);
        if (rc == MP_OK)
            rc = mp_pack_int(b, index);
    }
    if (rc == MP_OK)
        rc = e.nested ? export_body(b, e.nested, l) : mp_pack_nil(b);
    mp_buf_free(&e.fields);
    return rc;
}

static int pack_object(mp_buf *b, const void *p, void *handles)
{
    const mp_object *o = p;
    mp_handle_list *l = handles;
    if (o == NULL || o->magic != MP_OBJECT_MAGIC || o->kind <= 0 || o->kind >= MP_KIND_COUNT_)
        return mp_fail(MP_ETYPE, "mp_pack 'O': not a live mproc object");
    /* In a message there is no list for handles: only an object without
     * any (a manager's proxy) can travel there. */
    mp_handle_list none = {0};
    mp_buf body = MP_BUF_INIT;
    int rc = export_body(&body, o, l != NULL ? l : &none);
    if (rc == MP_OK && l == NULL && none.len > 0)
        rc = mp_fail(MP_EUNSUPPORTED, "mp_pack 'O': a %s travels only as a process argument, not in a message",
                     kind_name(o->kind));
    mp_handle_list_free(&none);
    if (rc == MP_OK)
        rc = mp_pack_ext(b, MP_EXT_OBJECT, body.data, body.len);
    mp_buf_free(&body);
    return rc;
}

int mp_object_pack_args(mp_buf *b, const char *fmt, va_list ap, mp_handle_list *l)
{
    return mp_vpack_array(b, fmt, ap, l);
}

/* ---- the child's side -------------------------------------------------- */

typedef struct imported {
    const mp_value *node;
    mp_object *object;
} imported;

static imported *cache;
static size_t ncache, cache_cap;

static int import_body(const mp_value *v, mp_object **out)
{
    const mp_value *fields, *indices, *nested_v;
    int64_t kind;
    int rc = mp_unpack(v, "(qVVV)", &kind, &fields, &indices, &nested_v);
    if (rc != MP_OK || kind <= 0 || kind >= MP_KIND_COUNT_ || indices->type != MP_ARRAY ||
        indices->as.array.len > MP_OBJECT_MAX_HANDLES)
        return mp_fail(MP_EPROTO, "object argument: malformed");
    size_t have;
    const mp_os_handle *travelled = mp_os_child_handles(&have);
    mp_os_handle handles[MP_OBJECT_MAX_HANDLES];
    size_t n = indices->as.array.len;
    for (size_t i = 0; i < n; i++) {
        const mp_value *x = &indices->as.array.items[i];
        if (x->type != MP_INT || x->as.i < -1 || x->as.i >= (int64_t)have)
            return mp_fail(MP_EPROTO, "object argument: handle index out of range");
        handles[i] = x->as.i < 0 ? MP_OS_NO_HANDLE : travelled[x->as.i];
    }
    mp_object *nested = NULL;
    if (nested_v->type != MP_NIL && (rc = import_body(nested_v, &nested)) != MP_OK)
        return rc;
    return ops_of[kind]->import_((mp_kind)kind, fields, handles, n, nested, out);
}

static int import_object(const mp_value *v, void **out)
{
    if (v->type != MP_EXT || v->as.ext.type != MP_EXT_OBJECT)
        return mp_fail(MP_ETYPE, "mp_unpack 'O': the value is not an mproc object");
    for (size_t i = 0; i < ncache; i++) {
        if (cache[i].node == v) {
            *out = cache[i].object;
            return MP_OK;
        }
    }
    if (ncache == cache_cap) {
        size_t cap = cache_cap ? 2 * cache_cap : 8;
        imported *more = realloc(cache, cap * sizeof *more);
        if (more == NULL)
            return mp_fail(MP_ENOMEM, "object argument: out of memory");
        cache = more;
        cache_cap = cap;
    }
    mp_value *body = NULL;
    int rc = mp_decode(v->as.ext.ptr, v->as.ext.len, NULL, &body);
    mp_object *o = NULL;
    if (rc == MP_OK)
        rc = import_body(body, &o);
    mp_value_free(body);
    if (rc != MP_OK)
        return rc;
    o->imported = true;
    cache[ncache++] = (imported){v, o};
    *out = o;
    return MP_OK;
}

static const mp_object_hook hook = {pack_object, import_object};

MP_FORK_PATH void mp_object_install_hook(void)
{
    mp_pack_set_object_hook(&hook);
}
