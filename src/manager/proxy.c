/* proxy.c - proxies (manager.h): calls, references, travelling. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "manager/link.h"
#include "manager/proxy.h"
#include "manager/proxy_ref.h"
#include "object/object.h"
#include "pack/pack_format.h"

struct mp_proxy {
    mp_object hdr;
    mp_link *link;
    uint64_t oid;
    char *typeid;
    long pid; /* the process whose connection holds the reference */
    atomic_bool closed; /* mp_queue_close on the proxy of a Queue */
};

static int check(const mp_proxy *p, const char *where)
{
    return mp_object_check(p, MP_KIND_PROXY, where);
}

/* Ask the server for one more reference, on this process's connection. */
static int incref(mp_link *l, uint64_t oid)
{
    mp_buf f = MP_BUF_INIT;
    mp_value *tree = NULL;
    const mp_value *v;
    int rc = mp_pack_uint(&f, oid);
    if (rc == MP_OK)
        rc = mp_link_call(l, MP_WIRE_INCREF, &f, &tree, &v);
    mp_value_free(tree);
    mp_buf_free(&f);
    return rc;
}

int mp_proxy_make(mp_link *link, uint64_t oid, const char *typeid, bool take_ref, mp_proxy **out)
{
    mp_proxy *p = calloc(1, sizeof *p);
    char *t = mp_strdup(typeid);
    int rc = p != NULL && t != NULL ? MP_OK : mp_fail(MP_ENOMEM, "manager: out of memory for a proxy");
    if (rc == MP_OK && take_ref)
        rc = incref(link, oid);
    if (rc != MP_OK) {
        free(p);
        free(t);
        mp_link_put(link);
        return rc;
    }
    mp_object_init(&p->hdr, MP_KIND_PROXY);
    p->link = link;
    p->oid = oid;
    p->typeid = t;
    p->pid = mp_current_pid();
    atomic_init(&p->closed, false);
    *out = p;
    return MP_OK;
}

/* A proxy inherited through fork: its reference is the parent's, so the
 * child takes its own before the first call. */
static int own(mp_proxy *p)
{
    long me = mp_current_pid();
    if (p->pid == me)
        return MP_OK;
    int rc = incref(p->link, p->oid);
    if (rc == MP_OK)
        p->pid = me;
    return rc;
}

/* The start of a call's fields: the object and the method; its arguments
 * come next. */
static int begin_call(mp_proxy *p, const char *method, mp_value **result, mp_buf *f)
{
    if (result != NULL)
        *result = NULL;
    int rc = check(p, "mp_proxy_call");
    if (rc == MP_OK && method == NULL)
        rc = mp_fail(MP_EINVAL, "mp_proxy_call: NULL method");
    if (rc == MP_OK)
        rc = own(p);
    if (rc == MP_OK && (rc = mp_pack(f, "Q s", p->oid, method)) != MP_OK)
        rc = mp_fail(rc, "mp_proxy_call(%s): %s", method, mp_last_error());
    return rc;
}

/* The end of a call's fields (the calling thread), the call and its
 * result. */
static int end_call(mp_proxy *p, const char *method, mp_value **result, mp_buf *f)
{
    int rc = mp_pack_uint(f, mp_os_thread_id());
    if (rc != MP_OK)
        return mp_fail(rc, "mp_proxy_call(%s): %s", method, mp_last_error());
    mp_value *tree = NULL;
    const mp_value *v = NULL;
    rc = mp_link_call(p->link, MP_WIRE_CALL, f, &tree, &v);
    if (rc == MP_OK && result != NULL) {
        /* The caller frees a tree of its own: the value alone, anew. */
        mp_buf b = MP_BUF_INIT;
        rc = mp_pack_value(&b, v);
        if (rc == MP_OK)
            rc = mp_decode(b.data, b.len, NULL, result);
        mp_buf_free(&b);
    }
    mp_value_free(tree);
    return rc;
}

int mp_proxy_vcall(mp_proxy *p, const char *method, mp_value **result, const char *fmt, va_list ap)
{
    mp_buf f = MP_BUF_INIT;
    int rc = begin_call(p, method, result, &f);
    if (rc == MP_OK && (rc = mp_vpack_array(&f, fmt != NULL ? fmt : "", ap, NULL)) != MP_OK)
        rc = mp_fail(rc, "mp_proxy_call(%s): the arguments: %s", method, mp_last_error());
    if (rc == MP_OK)
        rc = end_call(p, method, result, &f);
    mp_buf_free(&f);
    return rc;
}

int mp_proxy_call_packed(mp_proxy *p, const char *method, const mp_buf *args, mp_value **result)
{
    mp_buf f = MP_BUF_INIT;
    int rc = begin_call(p, method, result, &f);
    if (rc == MP_OK)
        rc = mp_buf_append(&f, args->data, args->len);
    if (rc == MP_OK)
        rc = end_call(p, method, result, &f);
    mp_buf_free(&f);
    return rc;
}

void mp_proxy_close_handle(mp_proxy *p)
{
    atomic_store(&p->closed, true);
}

bool mp_proxy_handle_closed(const mp_proxy *p)
{
    return atomic_load(&p->closed);
}

int mp_proxy_call(mp_proxy *p, const char *method, mp_value **result, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_proxy_vcall(p, method, result, fmt, ap);
    va_end(ap);
    return rc;
}

/* A proxy of what ref names, with a reference of this process's own. */
static int from_ref(const mp_proxy_ref *ref, mp_proxy **out)
{
    mp_link *l;
    int rc = mp_link_get(ref->address, ref->authkey, ref->authkey_len, MP_MANAGER_DEFAULT_TIMEOUT, &l);
    return rc == MP_OK ? mp_proxy_make(l, ref->oid, ref->typeid, true, out) : rc;
}

int mp_proxy_from_value(const mp_value *v, mp_proxy **out)
{
    if (out == NULL || v == NULL)
        return mp_fail(MP_EINVAL, "mp_proxy_from_value: NULL argument");
    *out = NULL;
    bool is_proxy;
    mp_proxy_ref ref;
    mp_value *body;
    int rc = mp_proxy_ref_parse(v, &is_proxy, &ref, &body);
    if (rc == MP_OK && !is_proxy)
        rc = mp_fail(MP_ETYPE, "mp_proxy_from_value: the value is not a proxy");
    if (rc == MP_OK)
        rc = from_ref(&ref, out);
    mp_value_free(body);
    return rc;
}

const char *mp_proxy_typeid(const mp_proxy *p)
{
    return p != NULL ? p->typeid : NULL;
}

static void proxy_free(mp_object *o)
{
    mp_proxy *p = (mp_proxy *)(void *)o;
    if (p->pid == mp_current_pid()) {
        mp_buf f = MP_BUF_INIT;
        if (mp_pack_uint(&f, p->oid) == MP_OK)
            mp_link_post(p->link, MP_WIRE_DECREF, &f);
        mp_buf_free(&f);
    }
    mp_link_put(p->link);
    free(p->typeid);
    mp_object_discard(o);
}

void mp_proxy_free(mp_proxy *p)
{
    (void)mp_object_free_checked(p, MP_KIND_PROXY, "mp_proxy_free");
}

static int proxy_export(const mp_object *o, mp_export *e)
{
    const mp_proxy *p = (const mp_proxy *)(const void *)o;
    size_t key_len;
    const unsigned char *key = mp_link_key(p->link, &key_len);
    return mp_pack(&e->fields, "[s s Q y#]", mp_link_address(p->link), p->typeid, p->oid, key, key_len);
}

static int proxy_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n, mp_object *nested,
                        mp_object **out)
{
    (void)kind;
    (void)h;
    (void)n;
    if (nested != NULL)
        mp_object_free(nested);
    mp_proxy_ref ref;
    const void *key;
    if (mp_unpack(fields, "(s s Q y#)", &ref.address, &ref.typeid, &ref.oid, &key, &ref.authkey_len) != MP_OK)
        return mp_fail(MP_EPROTO, "proxy argument: malformed fields");
    ref.authkey = key;
    mp_proxy *p;
    int rc = from_ref(&ref, &p);
    if (rc == MP_OK)
        *out = &p->hdr;
    return rc;
}

const mp_object_ops mp_proxy_ops = {.name = "proxy",
                                    .export_ = proxy_export,
                                    .import_ = proxy_import,
                                    .free_ = proxy_free,
                                    .as_queue = &mp_proxy_as_queue_ops,
                                    .as_lock = &mp_proxy_as_lock_ops};
