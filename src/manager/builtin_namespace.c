/* builtin_namespace.c - the manager's "Namespace": attributes by name
 * (Python's NamespaceProxy reaches them through __getattribute__,
 * __setattr__ and __delattr__). Calls come one at a time. */
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

typedef struct namespace_ {
    mp_held_map attrs; /* keys are str values */
    mp_buf name;       /* the packed name of the call being served */
} namespace_;

/* The position of the attribute named by args[0] (ns->attrs.len if
 * none). */
static int find_name(namespace_ *ns, const mp_value *args, size_t nargs, const char *where, size_t *at)
{
    int rc = mp_builtin_nargs(args, (uint32_t)nargs, (uint32_t)nargs, where);
    if (rc != MP_OK)
        return rc;
    const mp_value *name = mp_builtin_arg(args, 0);
    if (name->type != MP_STR)
        return mp_fail(MP_ETYPE, "manager: TypeError: %s: attribute name must be a string", where);
    rc = mp_builtin_packed(&ns->name, name);
    if (rc == MP_OK)
        *at = mp_held_map_find(&ns->attrs, ns->name.data, ns->name.len);
    return rc;
}

static int no_attribute(const mp_value *args)
{
    return mp_fail(MP_ERANGE, "manager: AttributeError: 'Namespace' object has no attribute '%s'",
                   mp_builtin_arg(args, 0)->as.str.ptr);
}

static int getattribute(void *self, const mp_value *args, mp_served_call *call)
{
    namespace_ *ns = self;
    size_t at = 0;
    int rc = find_name(ns, args, 1, "Namespace.__getattribute__", &at);
    if (rc != MP_OK)
        return rc;
    return at == ns->attrs.len ? no_attribute(args) : mp_held_write(&ns->attrs.values[at], mp_served_result(call));
}

static int setattr_(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    namespace_ *ns = self;
    size_t at = 0;
    int rc = find_name(ns, args, 2, "Namespace.__setattr__", &at);
    return rc != MP_OK ? rc : mp_held_map_set(&ns->attrs, mp_builtin_arg(args, 0), mp_builtin_arg(args, 1));
}

static int delattr_(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    namespace_ *ns = self;
    size_t at = 0;
    int rc = find_name(ns, args, 1, "Namespace.__delattr__", &at);
    if (rc != MP_OK)
        return rc;
    if (at == ns->attrs.len)
        return no_attribute(args);
    mp_held k, v;
    mp_held_map_take(&ns->attrs, at, &k, &v);
    mp_held_release(&k);
    mp_held_release(&v);
    return MP_OK;
}

/* _getvalue(): every attribute, as a map from name to value. */
static int getvalue(void *self, const mp_value *args, mp_served_call *call)
{
    namespace_ *ns = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Namespace._getvalue");
    return rc != MP_OK ? rc : mp_held_map_write(&ns->attrs, mp_served_result(call));
}

static void namespace_free(void *self)
{
    namespace_ *ns = self;
    mp_held_map_clear(&ns->attrs);
    mp_buf_free(&ns->name);
    free(ns);
}

static const mp_served_method methods[] = {
    {"__getattribute__", getattribute, false},
    {"__setattr__", setattr_, false},
    {"__delattr__", delattr_, false},
    {"_getvalue", getvalue, false},
    {NULL, NULL, false},
};

static const mp_served_type type = {"Namespace", methods, namespace_free, false};

int mp_builtin_namespace(const mp_value *args, mp_served **out)
{
    int rc = mp_builtin_nargs(args, 0, 0, "Namespace()");
    if (rc != MP_OK)
        return rc;
    namespace_ *ns = calloc(1, sizeof *ns);
    if (ns == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    return mp_builtin_wrap(out, &type, ns);
}
