/* builtin_value.c - the manager's "Value" and "Array". As in Python's
 * SyncManager, neither converts anything to its typecode: the typecode is
 * checked to be a string and kept, the value (or each item) is kept as
 * given. The lock argument Python accepts (and ignores) may follow. Calls
 * come one at a time. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

static int typecode_arg(const mp_value *args, char *typecode, const char *where)
{
    const mp_value *t = mp_builtin_arg(args, 0);
    if (t->type != MP_STR || t->as.str.len == 0 || t->as.str.len > 7)
        return mp_fail(MP_ETYPE, "manager: %s: the typecode must be a short string (\"i\", \"d\")", where);
    memcpy(typecode, t->as.str.ptr, t->as.str.len + 1);
    return MP_OK;
}

/* ---- Value -------------------------------------------------------------- */

typedef struct value {
    char typecode[8];
    mp_held v;
} value;

static int value_get(void *self, const mp_value *args, mp_served_call *call)
{
    value *x = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Value.get");
    return rc != MP_OK ? rc : mp_held_write(&x->v, mp_served_result(call));
}

static int value_set(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    value *x = self;
    mp_held h;
    int rc = mp_builtin_nargs(args, 1, 1, "Value.set");
    if (rc == MP_OK)
        rc = mp_held_keep(&h, mp_builtin_arg(args, 0));
    if (rc != MP_OK)
        return rc;
    mp_held_release(&x->v);
    x->v = h;
    return MP_OK;
}

static void value_free(void *self)
{
    value *x = self;
    mp_held_release(&x->v);
    free(x);
}

static const mp_served_method value_methods[] = {
    {"get", value_get, false},
    {"set", value_set, false},
    {NULL, NULL, false},
};

static const mp_served_type value_type = {"Value", value_methods, value_free, false};

/* Value(typecode, value, lock=True) */
int mp_builtin_value(const mp_value *args, mp_served **out)
{
    int rc = mp_builtin_nargs(args, 2, 3, "Value()");
    value *x = rc == MP_OK ? calloc(1, sizeof *x) : NULL;
    if (rc != MP_OK)
        return rc;
    if (x == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    rc = typecode_arg(args, x->typecode, "Value()");
    if (rc == MP_OK)
        rc = mp_held_keep(&x->v, mp_builtin_arg(args, 1));
    if (rc != MP_OK) {
        value_free(x);
        return rc;
    }
    return mp_builtin_wrap(out, &value_type, x);
}

/* ---- Array -------------------------------------------------------------- */

typedef struct array {
    char typecode[8];
    mp_held_seq items;
} array;

static int array_len(void *self, const mp_value *args, mp_served_call *call)
{
    array *a = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Array.__len__");
    return rc != MP_OK ? rc : mp_builtin_int_result(call, (int64_t)a->items.len);
}

static int array_getitem(void *self, const mp_value *args, mp_served_call *call)
{
    array *a = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 1, "Array.__getitem__");
    if (rc == MP_OK)
        rc = mp_builtin_index(mp_builtin_arg(args, 0), a->items.len, &at, "array");
    return rc != MP_OK ? rc : mp_held_write(mp_held_seq_at(&a->items, at), mp_served_result(call));
}

static int array_setitem(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    array *a = self;
    size_t at;
    mp_held h;
    int rc = mp_builtin_nargs(args, 2, 2, "Array.__setitem__");
    if (rc == MP_OK)
        rc = mp_builtin_index(mp_builtin_arg(args, 0), a->items.len, &at, "array assignment");
    if (rc == MP_OK)
        rc = mp_held_keep(&h, mp_builtin_arg(args, 1));
    if (rc != MP_OK)
        return rc;
    mp_held_release(mp_held_seq_at(&a->items, at));
    *mp_held_seq_at(&a->items, at) = h;
    return MP_OK;
}

static int array_getvalue(void *self, const mp_value *args, mp_served_call *call)
{
    array *a = self;
    int rc = mp_builtin_nargs(args, 0, 0, "Array._getvalue");
    return rc != MP_OK ? rc : mp_held_seq_write(&a->items, mp_served_result(call));
}

static void array_free(void *self)
{
    array *a = self;
    mp_held_seq_clear(&a->items);
    free(a);
}

static const mp_served_method array_methods[] = {
    {"__len__", array_len, false},
    {"__getitem__", array_getitem, false},
    {"__setitem__", array_setitem, false},
    {"_getvalue", array_getvalue, false},
    {NULL, NULL, false},
};

static const mp_served_type array_type = {"Array", array_methods, array_free, false};

/* Array(typecode, sequence, lock=True) */
int mp_builtin_array(const mp_value *args, mp_served **out)
{
    int rc = mp_builtin_nargs(args, 2, 3, "Array()");
    array *a = rc == MP_OK ? calloc(1, sizeof *a) : NULL;
    if (rc != MP_OK)
        return rc;
    if (a == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    rc = typecode_arg(args, a->typecode, "Array()");
    if (rc == MP_OK)
        rc = mp_held_seq_extend(&a->items, mp_builtin_arg(args, 1), "Array()");
    if (rc != MP_OK) {
        array_free(a);
        return rc;
    }
    return mp_builtin_wrap(out, &array_type, a);
}
