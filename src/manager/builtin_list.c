/* builtin_list.c - the manager's "list" (Python's ListProxy methods, less
 * slices, sort and the operators). Items compare by their MessagePack
 * bytes (__contains__, index, count, remove), so 1 and 1.0 differ. Calls
 * come one at a time (the type is not concurrent). */
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/builtin.h"

typedef struct list {
    mp_held_seq items;
    mp_buf probe; /* the packed value of the call being served */
} list;

static int getitem(void *self, const mp_value *args, mp_served_call *call)
{
    list *l = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 1, "list.__getitem__");
    if (rc == MP_OK)
        rc = mp_builtin_index(mp_builtin_arg(args, 0), l->items.len, &at, "list");
    return rc != MP_OK ? rc : mp_held_write(mp_held_seq_at(&l->items, at), mp_served_result(call));
}

static int setitem(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    list *l = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 2, 2, "list.__setitem__");
    if (rc == MP_OK)
        rc = mp_builtin_index(mp_builtin_arg(args, 0), l->items.len, &at, "list assignment");
    mp_held h;
    if (rc == MP_OK)
        rc = mp_held_keep(&h, mp_builtin_arg(args, 1));
    if (rc != MP_OK)
        return rc;
    mp_held_release(mp_held_seq_at(&l->items, at));
    *mp_held_seq_at(&l->items, at) = h;
    return MP_OK;
}

static int delitem(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    list *l = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 1, "list.__delitem__");
    if (rc == MP_OK)
        rc = mp_builtin_index(mp_builtin_arg(args, 0), l->items.len, &at, "list assignment");
    if (rc != MP_OK)
        return rc;
    mp_held h;
    mp_held_seq_take(&l->items, at, &h);
    mp_held_release(&h);
    return MP_OK;
}

static int len(void *self, const mp_value *args, mp_served_call *call)
{
    list *l = self;
    int rc = mp_builtin_nargs(args, 0, 0, "list.__len__");
    return rc != MP_OK ? rc : mp_builtin_int_result(call, (int64_t)l->items.len);
}

/* The first position of args[0] at or after from (l->items.len if
 * none). */
static int find(list *l, const mp_value *args, size_t from, size_t *at)
{
    int rc = mp_builtin_packed(&l->probe, mp_builtin_arg(args, 0));
    if (rc == MP_OK)
        *at = mp_held_seq_find(&l->items, from, l->probe.data, l->probe.len);
    return rc;
}

static int contains(void *self, const mp_value *args, mp_served_call *call)
{
    list *l = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 1, "list.__contains__");
    if (rc == MP_OK)
        rc = find(l, args, 0, &at);
    return rc != MP_OK ? rc : mp_builtin_bool_result(call, at < l->items.len);
}

static int append(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    list *l = self;
    int rc = mp_builtin_nargs(args, 1, 1, "list.append");
    return rc != MP_OK ? rc : mp_held_seq_insert(&l->items, l->items.len, mp_builtin_arg(args, 0));
}

static int extend(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    list *l = self;
    int rc = mp_builtin_nargs(args, 1, 1, "list.extend");
    return rc != MP_OK ? rc : mp_held_seq_extend(&l->items, mp_builtin_arg(args, 0), "list.extend");
}

/* insert(i, v): an index past either end clamps to it, as Python's. */
static int insert(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    list *l = self;
    int64_t i;
    int rc = mp_builtin_nargs(args, 2, 2, "list.insert");
    if (rc == MP_OK && mp_builtin_arg(args, 0)->type == MP_UINT)
        i = INT64_MAX;
    else if (rc == MP_OK)
        rc = mp_builtin_int_arg(args, 0, 0, &i, "list.insert");
    if (rc != MP_OK)
        return rc;
    int64_t n = (int64_t)l->items.len;
    if (i < 0)
        i = i + n < 0 ? 0 : i + n;
    if (i > n)
        i = n;
    return mp_held_seq_insert(&l->items, (size_t)i, mp_builtin_arg(args, 1));
}

/* pop(i=-1) */
static int pop(void *self, const mp_value *args, mp_served_call *call)
{
    list *l = self;
    static const mp_value last = {.type = MP_INT, .as.i = -1};
    int rc = mp_builtin_nargs(args, 0, 1, "list.pop");
    if (rc != MP_OK)
        return rc;
    if (l->items.len == 0)
        return mp_fail(MP_ERANGE, "manager: IndexError: pop from empty list");
    const mp_value *i = mp_builtin_argc(args) > 0 ? mp_builtin_arg(args, 0) : &last;
    size_t at;
    rc = mp_builtin_index(i, l->items.len, &at, "pop");
    if (rc != MP_OK)
        return rc;
    mp_held h;
    mp_held_seq_take(&l->items, at, &h);
    rc = mp_held_write(&h, mp_served_result(call));
    mp_held_release_to(&h, call);
    return rc;
}

static int not_in_list(void)
{
    return mp_fail(MP_ERANGE, "manager: ValueError: the value is not in the list");
}

static int remove_(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    list *l = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 1, "list.remove");
    if (rc == MP_OK)
        rc = find(l, args, 0, &at);
    if (rc != MP_OK)
        return rc;
    if (at == l->items.len)
        return not_in_list();
    mp_held h;
    mp_held_seq_take(&l->items, at, &h);
    mp_held_release(&h);
    return MP_OK;
}

static int index_(void *self, const mp_value *args, mp_served_call *call)
{
    list *l = self;
    size_t at;
    int rc = mp_builtin_nargs(args, 1, 1, "list.index");
    if (rc == MP_OK)
        rc = find(l, args, 0, &at);
    if (rc != MP_OK)
        return rc;
    return at == l->items.len ? not_in_list() : mp_builtin_int_result(call, (int64_t)at);
}

static int count(void *self, const mp_value *args, mp_served_call *call)
{
    list *l = self;
    size_t at, n = 0;
    int rc = mp_builtin_nargs(args, 1, 1, "list.count");
    if (rc == MP_OK)
        rc = find(l, args, 0, &at);
    while (rc == MP_OK && at < l->items.len) {
        n++;
        at = mp_held_seq_find(&l->items, at + 1, l->probe.data, l->probe.len);
    }
    return rc != MP_OK ? rc : mp_builtin_int_result(call, (int64_t)n);
}

static int reverse(void *self, const mp_value *args, mp_served_call *call)
{
    (void)call;
    list *l = self;
    int rc = mp_builtin_nargs(args, 0, 0, "list.reverse");
    for (size_t i = 0, j = l->items.len; rc == MP_OK && i + 1 < j; i++, j--) {
        mp_held t = *mp_held_seq_at(&l->items, i);
        *mp_held_seq_at(&l->items, i) = *mp_held_seq_at(&l->items, j - 1);
        *mp_held_seq_at(&l->items, j - 1) = t;
    }
    return rc;
}

/* _getvalue(): the whole list, as an array. */
static int getvalue(void *self, const mp_value *args, mp_served_call *call)
{
    list *l = self;
    int rc = mp_builtin_nargs(args, 0, 0, "list._getvalue");
    return rc != MP_OK ? rc : mp_held_seq_write(&l->items, mp_served_result(call));
}

static void list_free(void *self)
{
    list *l = self;
    mp_held_seq_clear(&l->items);
    mp_buf_free(&l->probe);
    free(l);
}

static const mp_served_method methods[] = {
    {"__getitem__", getitem, false}, {"__setitem__", setitem, false}, {"__delitem__", delitem, false},
    {"__len__", len, false},         {"__contains__", contains, false}, {"append", append, false},
    {"extend", extend, false},       {"insert", insert, false},       {"pop", pop, false},
    {"remove", remove_, false},      {"index", index_, false},        {"count", count, false},
    {"reverse", reverse, false},     {"_getvalue", getvalue, false},  {NULL, NULL, false},
};

static const mp_served_type type = {"list", methods, list_free, false};

/* list() or list(sequence), as Python's. */
int mp_builtin_list(const mp_value *args, mp_served **out)
{
    int rc = mp_builtin_nargs(args, 0, 1, "list()");
    if (rc != MP_OK)
        return rc;
    list *l = calloc(1, sizeof *l);
    if (l == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    if (mp_builtin_argc(args) == 1) {
        rc = mp_held_seq_extend(&l->items, mp_builtin_arg(args, 0), "list()");
        if (rc != MP_OK) {
            list_free(l);
            return rc;
        }
    }
    return mp_builtin_wrap(out, &type, l);
}
