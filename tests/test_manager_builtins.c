/* test_manager_builtins.c - the manager's built-in served types, called in
 * this process the way the server calls them (no server, no connection):
 * Python's semantics for every type and method, the error codes, waits
 * and timeouts, callers that are gone while they wait, lock holders whose
 * connection ended, and proxies held inside values keeping their objects
 * alive. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "manager/objects.h"
#include "manager/proxy_ref.h"
#include "manager/served.h"
#include "manager/server_conns.h"
#include "platform.h"

static const mp_served_owner me = {1, 1};

static const mp_served_method *method_of(mp_served *o, const char *name)
{
    for (const mp_served_method *m = o->type->methods; m->name != NULL; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    fail_msg("%s has no method %s", o->type->name, name);
    return NULL;
}

/* Call method with the arguments fmt packs (as one array), as who; *res
 * gets the decoded result (NULL for None, written as nil or not at all) if
 * res is not NULL. */
static int vcall(mp_served *o, mp_served_owner who, const volatile bool *gone, mp_value **res, const char *method,
                 const char *fmt, va_list ap)
{
    char f[128];
    snprintf(f, sizeof f, "[%s]", fmt);
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_vpack(&b, f, ap));
    mp_value *args;
    MPT_OK(mp_decode(b.data, b.len, NULL, &args));
    mp_buf_free(&b);
    static const bool never = false;
    mp_served_call call = {.result = MP_BUF_INIT, .owner = who, .abandoned = gone != NULL ? gone : &never};
    const mp_served_method *m = method_of(o, method);
    if (m == NULL) {
        mp_value_free(args);
        fail_msg("no method '%s'", method);
        return MP_EINVAL;
    }
    int rc = m->fn(o->self, args, &call);
    mp_value_free(args);
    if (res != NULL) {
        *res = NULL;
        if (rc == MP_OK && call.result.len > 0)
            MPT_OK(mp_decode(call.result.data, call.result.len, NULL, res));
        /* nil written and nothing written are both None to the client */
        if (*res != NULL && (*res)->type == MP_NIL) {
            mp_value_free(*res);
            *res = NULL;
        }
    }
    if (rc == MP_OK && res == NULL && call.result.len > 0) {
        /* a result nobody reads must still be exactly one value */
        mp_value *v;
        MPT_OK(mp_decode(call.result.data, call.result.len, NULL, &v));
        mp_value_free(v);
    }
    mp_buf_free(&call.result);
    return rc;
}

static int call_as(mp_served *o, mp_served_owner who, const volatile bool *gone, mp_value **res, const char *method,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vcall(o, who, gone, res, method, fmt, ap);
    va_end(ap);
    return rc;
}

/* The call's code; the result is dropped. */
static int code(mp_served *o, const char *method, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vcall(o, me, NULL, NULL, method, fmt, ap);
    va_end(ap);
    return rc;
}

/* A call that must succeed; its result, the caller's to free. */
static mp_value *ok(mp_served *o, const char *method, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mp_value *v;
    MPT_OK(vcall(o, me, NULL, &v, method, fmt, ap));
    va_end(ap);
    return v;
}

static int64_t int_of(mp_value *v)
{
    assert_non_null(v);
    assert_int_equal(v->type, MP_INT);
    int64_t i = v->as.i;
    mp_value_free(v);
    return i;
}

static bool bool_of(mp_value *v)
{
    assert_non_null(v);
    assert_int_equal(v->type, MP_BOOL);
    bool b = v->as.b;
    mp_value_free(v);
    return b;
}

/* v (freed here) packs exactly as fmt's one value does. */
static void assert_packs(mp_value *v, const char *fmt, ...)
{
    assert_non_null(v);
    mp_buf got = MP_BUF_INIT, want = MP_BUF_INIT;
    MPT_OK(mp_pack_value(&got, v));
    va_list ap;
    va_start(ap, fmt);
    MPT_OK(mp_vpack(&want, fmt, ap));
    va_end(ap);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    mp_buf_free(&got);
    mp_buf_free(&want);
    mp_value_free(v);
}

static mp_served *make(const char *typeid, const char *fmt, ...)
{
    mp_buf b = MP_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    char f[128];
    snprintf(f, sizeof f, "[%s]", fmt);
    MPT_OK(mp_vpack(&b, f, ap));
    va_end(ap);
    mp_value *args;
    MPT_OK(mp_decode(b.data, b.len, NULL, &args));
    mp_buf_free(&b);
    mp_typeid_fn fn = mp_builtin_typeid(typeid);
    assert_non_null(fn);
    mp_served *o;
    MPT_OK(fn(args, &o));
    mp_value_free(args);
    assert_string_equal(o->type->name, typeid);
    return o;
}

/* ---- calls on other threads --------------------------------------------- */

typedef struct bg {
    mp_served *o;
    mp_served_owner who;
    volatile bool gone;
    const char *method;
    const char *fmt; /* "", or "d" with arg */
    double arg;
    int rc;
    mp_value *res;
    atomic_bool started;
    mp_thread *t;
} bg;

static int bg_body(void *p)
{
    bg *c = p;
    atomic_store(&c->started, true);
    if (c->fmt[0] == '\0')
        c->rc = call_as(c->o, c->who, &c->gone, &c->res, c->method, "");
    else
        c->rc = call_as(c->o, c->who, &c->gone, &c->res, c->method, c->fmt, c->arg);
    return 0;
}

static void bg_start(bg *c, mp_served *o, mp_served_owner who, const char *method, const char *fmt, double arg)
{
    *c = (bg){.o = o, .who = who, .method = method, .fmt = fmt, .arg = arg};
    MPT_OK(mp_thread_start(&c->t, bg_body, c, NULL));
    while (!atomic_load(&c->started))
        mp_os_sleep(0.001);
    mp_os_sleep(0.05); /* into its wait */
}

/* Whether the call is still blocked after a moment. */
static bool bg_blocked(bg *c)
{
    return mp_thread_join(c->t, 0.1, NULL) == MP_ETIMEDOUT;
}

/* Join the call; its code (its result stays in c->res). */
static int bg_end(bg *c)
{
    MPT_OK(mp_thread_join(c->t, MP_FOREVER, NULL));
    return c->rc;
}

/* ---- the typeids -------------------------------------------------------- */

static void typeids(void **state)
{
    (void)state;
    static const char *names[] = {"Queue",     "JoinableQueue", "dict",      "list",  "Namespace",
                                  "Value",     "Array",         "Lock",      "RLock", "Semaphore",
                                  "BoundedSemaphore", "Condition", "Event",  "Barrier"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null(mp_builtin_typeid(names[i]));
    assert_null(mp_builtin_typeid("queue"));
    assert_null(mp_builtin_typeid(NULL));
    mp_served *o;
    MPT_CODE(mp_served_builtin(&o, "Nope", NULL), MP_ENOTREG);
    MPT_OK(mp_served_builtin(&o, "Queue", "i", 2));
    assert_string_equal(o->type->name, "Queue");
    mp_served_unref(o);
    MPT_CODE(mp_served_builtin(&o, "Queue", "s", "big"), MP_ETYPE);
    MPT_CODE(mp_served_builtin(&o, "dict", "i", 1), MP_EINVAL);
}

/* ---- Queue and JoinableQueue -------------------------------------------- */

static void queue_bounds_and_timeouts(void **state)
{
    (void)state;
    mp_served *q = make("Queue", "i", 2);
    assert_true(bool_of(ok(q, "empty", "")));
    assert_null(ok(q, "put", "i", 1));
    assert_null(ok(q, "put", "s", "two"));
    assert_true(bool_of(ok(q, "full", "")));
    assert_int_equal(int_of(ok(q, "qsize", "")), 2);
    MPT_CODE(code(q, "put_nowait", "i", 3), MP_EFULL);
    MPT_CODE(code(q, "put", "i?", 3, false), MP_EFULL);
    double t0 = mp_os_monotonic();
    MPT_CODE(code(q, "put", "i?d", 3, true, 0.1), MP_EFULL);
    assert_true(mp_os_monotonic() - t0 >= 0.09);
    assert_packs(ok(q, "get", ""), "i", 1);
    assert_packs(ok(q, "get_nowait", ""), "s", "two");
    MPT_CODE(code(q, "get_nowait", ""), MP_EEMPTY);
    MPT_CODE(code(q, "get", "?", false), MP_EEMPTY);
    MPT_CODE(code(q, "get", "?i", true, -1), MP_EEMPTY); /* a negative timeout polls */
    t0 = mp_os_monotonic();
    MPT_CODE(code(q, "get", "?d", true, 0.1), MP_EEMPTY);
    assert_true(mp_os_monotonic() - t0 >= 0.09);
    assert_true(bool_of(ok(q, "empty", "")));
    MPT_CODE(code(q, "put", ""), MP_EINVAL);
    MPT_CODE(code(q, "get", "s", "yes"), MP_ETYPE);
    MPT_CODE(code(q, "get", "?s", true, "soon"), MP_ETYPE);
    mp_served_unref(q);

    /* maxsize 0: no bound; items stay in order through the front moving */
    q = make("Queue", "");
    for (int i = 0; i < 100; i++)
        assert_null(ok(q, "put", "i", i));
    assert_false(bool_of(ok(q, "full", "")));
    for (int i = 0; i < 50; i++)
        assert_int_equal(int_of(ok(q, "get", "")), i);
    for (int i = 100; i < 150; i++)
        assert_null(ok(q, "put_nowait", "i", i));
    for (int i = 50; i < 150; i++)
        assert_int_equal(int_of(ok(q, "get", "")), i);
    mp_served_unref(q);
}

static void queue_blocking_get(void **state)
{
    (void)state;
    mp_served *q = make("Queue", "");
    bg c;
    bg_start(&c, q, me, "get", "", 0);
    assert_true(bg_blocked(&c));
    assert_null(ok(q, "put", "s", "hello"));
    MPT_OK(bg_end(&c));
    assert_packs(c.res, "s", "hello");

    /* a put blocked on a full queue goes in once there is room */
    assert_null(ok(q, "put", "i", 1));
    mp_served *full = make("Queue", "i", 1);
    assert_null(ok(full, "put", "i", 1));
    bg_start(&c, full, me, "put", "d", 2.5);
    assert_true(bg_blocked(&c));
    assert_int_equal(int_of(ok(full, "get", "")), 1);
    MPT_OK(bg_end(&c));
    assert_null(c.res);
    assert_packs(ok(full, "get", ""), "d", 2.5);
    mp_served_unref(full);
    mp_served_unref(q);
}

/* A get whose caller is gone gives up and takes nothing: an item put just
 * as it goes stays for the next get. */
static void queue_abandoned_get(void **state)
{
    (void)state;
    mp_served *q = make("Queue", "");
    bg c;
    bg_start(&c, q, me, "get", "", 0);
    assert_true(bg_blocked(&c));
    c.gone = true;
    assert_null(ok(q, "put", "s", "kept"));
    MPT_CODE(bg_end(&c), MP_ECONNRESET);
    assert_null(c.res);
    assert_int_equal(int_of(ok(q, "qsize", "")), 1);
    assert_packs(ok(q, "get_nowait", ""), "s", "kept");

    /* gone before it starts, with an item there: still nothing taken */
    assert_null(ok(q, "put", "i", 7));
    volatile bool gone = true;
    MPT_CODE(call_as(q, me, &gone, NULL, "get", ""), MP_ECONNRESET);
    assert_int_equal(int_of(ok(q, "get", "")), 7);
    mp_served_unref(q);
}

static void joinable_queue(void **state)
{
    (void)state;
    mp_served *q = make("JoinableQueue", "");
    MPT_CODE(code(q, "task_done", ""), MP_ERANGE);
    assert_null(ok(q, "join", "")); /* nothing unfinished */
    assert_null(ok(q, "put", "i", 1));
    assert_null(ok(q, "put", "i", 2));
    assert_int_equal(int_of(ok(q, "get", "")), 1);
    assert_null(ok(q, "task_done", ""));
    bg c;
    bg_start(&c, q, me, "join", "", 0);
    assert_true(bg_blocked(&c)); /* one item unfinished */
    assert_int_equal(int_of(ok(q, "get", "")), 2);
    assert_true(bg_blocked(&c)); /* got, not done */
    assert_null(ok(q, "task_done", ""));
    MPT_OK(bg_end(&c));
    MPT_CODE(code(q, "task_done", ""), MP_ERANGE);

    /* a join whose caller is gone ends */
    assert_null(ok(q, "put", "i", 3));
    bg_start(&c, q, me, "join", "", 0);
    c.gone = true;
    MPT_CODE(bg_end(&c), MP_ECONNRESET);
    mp_served_unref(q); /* with an item in it */
}

/* ---- dict --------------------------------------------------------------- */

static void dict_methods(void **state)
{
    (void)state;
    mp_served *d = make("dict", "");
    assert_null(ok(d, "__setitem__", "si", "a", 1));
    assert_null(ok(d, "__setitem__", "is", 2, "two"));
    assert_null(ok(d, "__setitem__", "ds", 1.0, "float"));
    assert_int_equal(int_of(ok(d, "__len__", "")), 3);
    /* keys are their packed bytes: 1 is not 1.0 */
    MPT_CODE(code(d, "__getitem__", "i", 1), MP_ERANGE);
    assert_packs(ok(d, "__getitem__", "d", 1.0), "s", "float");
    assert_true(bool_of(ok(d, "__contains__", "i", 2)));
    assert_false(bool_of(ok(d, "__contains__", "s", "b")));
    assert_null(ok(d, "get", "s", "b"));
    assert_int_equal(int_of(ok(d, "get", "si", "b", 5)), 5);
    assert_int_equal(int_of(ok(d, "get", "si", "a", 5)), 1);
    assert_int_equal(int_of(ok(d, "setdefault", "si", "a", 9)), 1);
    assert_null(ok(d, "setdefault", "s", "z"));
    assert_true(bool_of(ok(d, "__contains__", "s", "z")));
    /* replacing keeps the place */
    assert_null(ok(d, "__setitem__", "si", "a", 10));
    assert_packs(ok(d, "keys", ""), "[s i d s]", "a", 2, 1.0, "z");
    assert_packs(ok(d, "values", ""), "[i s s n]", 10, "two", "float");
    assert_packs(ok(d, "items", ""), "[[s i] [i s] [d s] [s n]]", "a", 10, 2, "two", 1.0, "float", "z");
    assert_packs(ok(d, "popitem", ""), "[s n]", "z"); /* LIFO */
    MPT_CODE(code(d, "__delitem__", "s", "z"), MP_ERANGE);
    assert_null(ok(d, "__delitem__", "i", 2));
    assert_int_equal(int_of(ok(d, "pop", "s", "a")), 10);
    MPT_CODE(code(d, "pop", "s", "a"), MP_ERANGE);
    assert_int_equal(int_of(ok(d, "pop", "si", "a", 7)), 7);
    assert_null(ok(d, "pop", "sn", "a"));
    assert_null(ok(d, "update", "{s [i i] s i}", "k", 1, 2, "m", 3));
    assert_packs(ok(d, "copy", ""), "{d s s [i i] s i}", 1.0, "float", "k", 1, 2, "m", 3);
    assert_packs(ok(d, "_getvalue", ""), "{d s s [i i] s i}", 1.0, "float", "k", 1, 2, "m", 3);
    MPT_CODE(code(d, "update", "[i]", 1), MP_ETYPE);
    assert_null(ok(d, "clear", ""));
    assert_int_equal(int_of(ok(d, "__len__", "")), 0);
    MPT_CODE(code(d, "popitem", ""), MP_ERANGE);
    assert_packs(ok(d, "keys", ""), "[]");
    assert_packs(ok(d, "copy", ""), "{}");
    MPT_CODE(code(d, "__getitem__", ""), MP_EINVAL);
    MPT_CODE(code(d, "__setitem__", "s", "only"), MP_EINVAL);
    MPT_CODE(code(d, "keys", "i", 1), MP_EINVAL);
    /* left in it for the free */
    assert_null(ok(d, "__setitem__", "s[s]", "x", "y"));
    mp_served_unref(d);
}

/* ---- list --------------------------------------------------------------- */

static void list_methods(void **state)
{
    (void)state;
    mp_served *l = make("list", "[i i]", 1, 2);
    assert_null(ok(l, "append", "i", 3));
    assert_null(ok(l, "extend", "[i i]", 4, 5));
    MPT_CODE(code(l, "extend", "i", 6), MP_ETYPE);
    assert_int_equal(int_of(ok(l, "__len__", "")), 5);
    assert_int_equal(int_of(ok(l, "__getitem__", "i", -1)), 5);
    assert_int_equal(int_of(ok(l, "__getitem__", "i", -5)), 1);
    MPT_CODE(code(l, "__getitem__", "i", 5), MP_ERANGE);
    MPT_CODE(code(l, "__getitem__", "i", -6), MP_ERANGE);
    MPT_CODE(code(l, "__getitem__", "Q", (uint64_t)1 << 63), MP_ERANGE);
    MPT_CODE(code(l, "__getitem__", "s", "0"), MP_ETYPE);
    assert_null(ok(l, "__setitem__", "is", -2, "x"));
    MPT_CODE(code(l, "__setitem__", "ii", 5, 0), MP_ERANGE);
    assert_packs(ok(l, "_getvalue", ""), "[i i i s i]", 1, 2, 3, "x", 5);
    assert_null(ok(l, "__delitem__", "i", 0));
    MPT_CODE(code(l, "__delitem__", "i", 4), MP_ERANGE);
    assert_null(ok(l, "insert", "ii", 0, 0));     /* [0 2 3 x 5] */
    assert_null(ok(l, "insert", "ii", -1, 9));    /* before the last */
    assert_null(ok(l, "insert", "is", 100, "e")); /* clamped to the end */
    assert_null(ok(l, "insert", "is", -100, "b")); /* clamped to the start */
    assert_packs(ok(l, "_getvalue", ""), "[s i i i s i i s]", "b", 0, 2, 3, "x", 9, 5, "e");
    assert_packs(ok(l, "pop", ""), "s", "e");
    assert_packs(ok(l, "pop", "i", 0), "s", "b");
    MPT_CODE(code(l, "pop", "i", 10), MP_ERANGE);
    assert_true(bool_of(ok(l, "__contains__", "s", "x")));
    assert_false(bool_of(ok(l, "__contains__", "d", 2.0)));
    assert_int_equal(int_of(ok(l, "index", "i", 9)), 4);
    MPT_CODE(code(l, "index", "i", 99), MP_ERANGE);
    assert_null(ok(l, "append", "i", 2));
    assert_int_equal(int_of(ok(l, "count", "i", 2)), 2);
    assert_int_equal(int_of(ok(l, "count", "i", 99)), 0);
    assert_null(ok(l, "remove", "i", 2)); /* the first */
    MPT_CODE(code(l, "remove", "i", 99), MP_ERANGE);
    assert_packs(ok(l, "_getvalue", ""), "[i i s i i i]", 0, 3, "x", 9, 5, 2);
    assert_null(ok(l, "reverse", ""));
    assert_packs(ok(l, "_getvalue", ""), "[i i i s i i]", 2, 5, 9, "x", 3, 0);
    for (int i = 0; i < 6; i++) {
        mp_value *v = ok(l, "pop", "");
        assert_non_null(v);
        mp_value_free(v);
    }
    MPT_CODE(code(l, "pop", ""), MP_ERANGE);
    assert_packs(ok(l, "_getvalue", ""), "[]");
    assert_null(ok(l, "append", "[s]", "left for the free"));
    mp_served_unref(l);
}

/* ---- Namespace, Value, Array -------------------------------------------- */

static void namespace_attributes(void **state)
{
    (void)state;
    mp_served *ns = make("Namespace", "");
    assert_null(ok(ns, "__setattr__", "si", "x", 1));
    assert_null(ok(ns, "__setattr__", "s[i]", "y", 2));
    assert_int_equal(int_of(ok(ns, "__getattribute__", "s", "x")), 1);
    MPT_CODE(code(ns, "__getattribute__", "s", "z"), MP_ERANGE);
    MPT_CODE(code(ns, "__getattribute__", "i", 1), MP_ETYPE);
    assert_null(ok(ns, "__setattr__", "si", "x", 3));
    assert_packs(ok(ns, "_getvalue", ""), "{s i s [i]}", "x", 3, "y", 2);
    assert_null(ok(ns, "__delattr__", "s", "x"));
    MPT_CODE(code(ns, "__delattr__", "s", "x"), MP_ERANGE);
    assert_packs(ok(ns, "_getvalue", ""), "{s [i]}", "y", 2);
    mp_served_unref(ns);
    mp_served *o;
    MPT_CODE(mp_served_builtin(&o, "Namespace", "i", 1), MP_EINVAL);
}

static void value_and_array(void **state)
{
    (void)state;
    mp_served *v = make("Value", "si", "i", 5);
    assert_int_equal(int_of(ok(v, "get", "")), 5);
    assert_null(ok(v, "set", "d", 7.5)); /* kept as given, as Python's */
    assert_packs(ok(v, "get", ""), "d", 7.5);
    MPT_CODE(code(v, "set", ""), MP_EINVAL);
    mp_served_unref(v);
    v = make("Value", "si?", "d", 1, false); /* lock=False, accepted */
    mp_served_unref(v);
    mp_served *o;
    MPT_CODE(mp_served_builtin(&o, "Value", "ii", 1, 2), MP_ETYPE);
    MPT_CODE(mp_served_builtin(&o, "Value", "s", "i"), MP_EINVAL);

    mp_served *a = make("Array", "s[d d d]", "d", 1.0, 2.0, 3.0);
    assert_int_equal(int_of(ok(a, "__len__", "")), 3);
    assert_packs(ok(a, "__getitem__", "i", -1), "d", 3.0);
    MPT_CODE(code(a, "__getitem__", "i", 3), MP_ERANGE);
    assert_null(ok(a, "__setitem__", "id", 0, 9.0));
    MPT_CODE(code(a, "__setitem__", "id", -4, 9.0), MP_ERANGE);
    assert_packs(ok(a, "_getvalue", ""), "[d d d]", 9.0, 2.0, 3.0);
    mp_served_unref(a);
    MPT_CODE(mp_served_builtin(&o, "Array", "si", "i", 3), MP_ETYPE);
}

/* ---- Lock and RLock ----------------------------------------------------- */

static void lock_rules(void **state)
{
    (void)state;
    mp_served_owner other = {1, 2};
    mp_served *l = make("Lock", "");
    assert_true(bool_of(ok(l, "acquire", "")));
    assert_false(bool_of(ok(l, "acquire", "?", false)));
    double t0 = mp_os_monotonic();
    assert_false(bool_of(ok(l, "acquire", "?d", true, 0.1)));
    assert_true(mp_os_monotonic() - t0 >= 0.09);
    /* Python's Lock may be released by another thread */
    MPT_OK(call_as(l, other, NULL, NULL, "release", ""));
    MPT_CODE(code(l, "release", ""), MP_ESTATE);
    MPT_CODE(code(l, "acquire", "s", "yes"), MP_ETYPE);

    /* a blocked acquire goes through on release */
    assert_true(bool_of(ok(l, "acquire", "")));
    bg c;
    bg_start(&c, l, other, "acquire", "", 0);
    assert_true(bg_blocked(&c));
    assert_null(ok(l, "release", ""));
    MPT_OK(bg_end(&c));
    assert_true(bool_of(c.res));
    MPT_OK(call_as(l, other, NULL, NULL, "release", ""));

    /* an acquirer that is gone takes nothing */
    assert_true(bool_of(ok(l, "acquire", "")));
    bg_start(&c, l, other, "acquire", "", 0);
    c.gone = true;
    MPT_CODE(bg_end(&c), MP_ECONNRESET);
    assert_null(ok(l, "release", ""));
    assert_true(bool_of(ok(l, "acquire", "?", false)));
    assert_null(ok(l, "release", ""));
    mp_served_unref(l);
}

static void rlock_rules(void **state)
{
    (void)state;
    mp_served_owner other = {1, 2}, other_conn = {2, 1};
    mp_served *r = make("RLock", "");
    assert_true(bool_of(ok(r, "acquire", "")));
    assert_true(bool_of(ok(r, "acquire", "?", false)));
    mp_value *res;
    MPT_OK(call_as(r, other, NULL, &res, "acquire", "?", false));
    assert_false(bool_of(res));
    MPT_OK(call_as(r, other_conn, NULL, &res, "acquire", "?d", true, 0.05));
    assert_false(bool_of(res));
    MPT_CODE(call_as(r, other, NULL, NULL, "release", ""), MP_ESTATE);
    assert_null(ok(r, "release", ""));
    MPT_CODE(call_as(r, other, NULL, NULL, "release", ""), MP_ESTATE);
    assert_null(ok(r, "release", ""));
    MPT_CODE(code(r, "release", ""), MP_ESTATE);
    MPT_OK(call_as(r, other, NULL, &res, "acquire", "?", false));
    assert_true(bool_of(res));
    MPT_OK(call_as(r, other, NULL, NULL, "release", ""));
    mp_served_unref(r);
}

static void semaphores(void **state)
{
    (void)state;
    mp_served *s = make("Semaphore", "i", 2);
    assert_true(bool_of(ok(s, "acquire", "")));
    assert_true(bool_of(ok(s, "acquire", "?", true)));
    assert_false(bool_of(ok(s, "acquire", "?", false)));
    assert_false(bool_of(ok(s, "acquire", "?d", true, 0.05)));
    assert_int_equal(int_of(ok(s, "get_value", "")), 0);
    bg c;
    bg_start(&c, s, me, "acquire", "", 0);
    assert_true(bg_blocked(&c));
    assert_null(ok(s, "release", ""));
    MPT_OK(bg_end(&c));
    assert_true(bool_of(c.res));
    assert_int_equal(int_of(ok(s, "get_value", "")), 0);
    assert_null(ok(s, "release", "i", 3)); /* a plain Semaphore has no bound */
    assert_int_equal(int_of(ok(s, "get_value", "")), 3);
    MPT_CODE(code(s, "release", "i", 0), MP_ERANGE);
    mp_served_unref(s);

    s = make("Semaphore", "");
    assert_int_equal(int_of(ok(s, "get_value", "")), 1);
    mp_served_unref(s);
    mp_served *o;
    MPT_CODE(mp_served_builtin(&o, "Semaphore", "i", -1), MP_ERANGE);

    s = make("BoundedSemaphore", "i", 1);
    MPT_CODE(code(s, "release", ""), MP_ERANGE);
    assert_true(bool_of(ok(s, "acquire", "")));
    MPT_CODE(code(s, "release", "i", 2), MP_ERANGE);
    assert_null(ok(s, "release", ""));
    MPT_CODE(code(s, "release", ""), MP_ERANGE);
    assert_int_equal(int_of(ok(s, "get_value", "")), 1);
    /* an acquirer that is gone takes nothing */
    assert_true(bool_of(ok(s, "acquire", "")));
    bg_start(&c, s, me, "acquire", "", 0);
    c.gone = true;
    assert_null(ok(s, "release", ""));
    MPT_CODE(bg_end(&c), MP_ECONNRESET);
    assert_int_equal(int_of(ok(s, "get_value", "")), 1);
    mp_served_unref(s);
}

/* ---- Condition ---------------------------------------------------------- */

typedef struct cond_waiter {
    mp_served *c;
    mp_served_owner who;
    atomic_bool holding; /* acquired, about to wait */
    atomic_bool done;
    int rc;
    bool notified;
    mp_thread *t;
} cond_waiter;

static int cond_wait_body(void *p)
{
    cond_waiter *w = p;
    mp_value *res;
    w->rc = call_as(w->c, w->who, NULL, &res, "acquire", "");
    if (w->rc == MP_OK) {
        mp_value_free(res);
        atomic_store(&w->holding, true);
        w->rc = call_as(w->c, w->who, NULL, &res, "wait", "");
    }
    if (w->rc == MP_OK) {
        w->notified = res->type == MP_BOOL && res->as.b;
        mp_value_free(res);
        /* it holds the lock again: release must work */
        w->rc = call_as(w->c, w->who, NULL, NULL, "release", "");
    }
    atomic_store(&w->done, true);
    return 0;
}

static void cond_waiter_start(cond_waiter *w, mp_served *c, uint64_t thread)
{
    *w = (cond_waiter){.c = c, .who = {1, thread}};
    MPT_OK(mp_thread_start(&w->t, cond_wait_body, w, NULL));
    while (!atomic_load(&w->holding))
        mp_os_sleep(0.001);
    /* the lock is ours only once the waiter has let it go in wait */
    assert_true(bool_of(ok(c, "acquire", "")));
    assert_null(ok(c, "release", ""));
}

static void condition_notify(void **state)
{
    (void)state;
    mp_served *c = make("Condition", "");
    MPT_CODE(code(c, "wait", ""), MP_ESTATE);
    MPT_CODE(code(c, "notify", ""), MP_ESTATE);
    MPT_CODE(code(c, "notify_all", ""), MP_ESTATE);
    MPT_CODE(code(c, "release", ""), MP_ESTATE);

    /* a timed-out wait is false and gives the lock back as deep as held */
    assert_true(bool_of(ok(c, "acquire", "")));
    assert_true(bool_of(ok(c, "acquire", "")));
    double t0 = mp_os_monotonic();
    assert_false(bool_of(ok(c, "wait", "d", 0.1)));
    assert_true(mp_os_monotonic() - t0 >= 0.09);
    assert_null(ok(c, "release", ""));
    assert_null(ok(c, "release", ""));
    MPT_CODE(code(c, "release", ""), MP_ESTATE);

    /* notify(1) wakes one waiter, the oldest; notify_all the rest */
    cond_waiter w1, w2, w3;
    cond_waiter_start(&w1, c, 11);
    cond_waiter_start(&w2, c, 12);
    cond_waiter_start(&w3, c, 13);
    assert_true(bool_of(ok(c, "acquire", "")));
    assert_null(ok(c, "notify", ""));
    assert_null(ok(c, "release", ""));
    MPT_OK(mp_thread_join(w1.t, MP_FOREVER, NULL));
    MPT_OK(w1.rc);
    assert_true(w1.notified);
    mp_os_sleep(0.2);
    assert_false(atomic_load(&w2.done));
    assert_false(atomic_load(&w3.done));
    assert_true(bool_of(ok(c, "acquire", "")));
    assert_null(ok(c, "notify_all", ""));
    assert_null(ok(c, "release", ""));
    MPT_OK(mp_thread_join(w2.t, MP_FOREVER, NULL));
    MPT_OK(mp_thread_join(w3.t, MP_FOREVER, NULL));
    MPT_OK(w2.rc);
    MPT_OK(w3.rc);
    assert_true(w2.notified && w3.notified);
    /* nobody left holding it */
    mp_served_owner other = {2, 1};
    mp_value *res;
    MPT_OK(call_as(c, other, NULL, &res, "acquire", "?", false));
    assert_true(bool_of(res));
    MPT_OK(call_as(c, other, NULL, NULL, "release", ""));
    mp_served_unref(c);
}

/* ---- Event -------------------------------------------------------------- */

static void events(void **state)
{
    (void)state;
    mp_served *e = make("Event", "");
    assert_false(bool_of(ok(e, "is_set", "")));
    double t0 = mp_os_monotonic();
    assert_false(bool_of(ok(e, "wait", "d", 0.1)));
    assert_true(mp_os_monotonic() - t0 >= 0.09);
    assert_false(bool_of(ok(e, "wait", "i", 0)));
    bg c;
    bg_start(&c, e, me, "wait", "", 0);
    assert_true(bg_blocked(&c));
    assert_null(ok(e, "set", ""));
    MPT_OK(bg_end(&c));
    assert_true(bool_of(c.res));
    assert_true(bool_of(ok(e, "is_set", "")));
    assert_true(bool_of(ok(e, "wait", "")));
    assert_null(ok(e, "clear", ""));
    assert_false(bool_of(ok(e, "is_set", "")));
    bg_start(&c, e, me, "wait", "", 0);
    c.gone = true;
    MPT_CODE(bg_end(&c), MP_ECONNRESET);
    MPT_CODE(code(e, "wait", "s", "x"), MP_ETYPE);
    mp_served_unref(e);
}

/* ---- Barrier ------------------------------------------------------------ */

static void barrier_rounds(void **state)
{
    (void)state;
    mp_served *b = make("Barrier", "i", 3);
    assert_int_equal(int_of(ok(b, "parties", "")), 3);
    for (int round = 0; round < 2; round++) {
        bg w[2];
        bg_start(&w[0], b, me, "wait", "", 0);
        bg_start(&w[1], b, me, "wait", "", 0);
        assert_int_equal(int_of(ok(b, "n_waiting", "")), 2);
        int64_t mine = int_of(ok(b, "wait", ""));
        MPT_OK(bg_end(&w[0]));
        MPT_OK(bg_end(&w[1]));
        int64_t i0 = int_of(w[0].res), i1 = int_of(w[1].res);
        assert_true(mine == 2);
        assert_true((i0 == 0 && i1 == 1) || (i0 == 1 && i1 == 0));
        assert_int_equal(int_of(ok(b, "n_waiting", "")), 0);
    }
    assert_false(bool_of(ok(b, "broken", "")));

    /* a reset breaks the round in progress; the barrier is whole after */
    bg w;
    bg_start(&w, b, me, "wait", "", 0);
    assert_null(ok(b, "reset", ""));
    MPT_CODE(bg_end(&w), MP_EBROKEN);
    assert_false(bool_of(ok(b, "broken", "")));

    /* a timeout breaks it for everyone */
    bg_start(&w, b, me, "wait", "", 0);
    MPT_CODE(code(b, "wait", "d", 0.1), MP_EBROKEN);
    MPT_CODE(bg_end(&w), MP_EBROKEN);
    assert_true(bool_of(ok(b, "broken", "")));
    MPT_CODE(code(b, "wait", ""), MP_EBROKEN);
    assert_null(ok(b, "reset", ""));

    /* so does a waiter whose caller is gone */
    bg_start(&w, b, me, "wait", "", 0);
    w.gone = true;
    MPT_CODE(bg_end(&w), MP_ECONNRESET);
    assert_true(bool_of(ok(b, "broken", "")));
    assert_null(ok(b, "reset", ""));
    assert_null(ok(b, "abort", ""));
    assert_true(bool_of(ok(b, "broken", "")));
    MPT_CODE(code(b, "wait", ""), MP_EBROKEN);
    mp_served_unref(b);

    /* the constructor's timeout is wait's default */
    b = make("Barrier", "ind", 2, 0.1);
    double t0 = mp_os_monotonic();
    MPT_CODE(code(b, "wait", ""), MP_EBROKEN);
    assert_true(mp_os_monotonic() - t0 >= 0.09);
    mp_served_unref(b);
    mp_served *o;
    MPT_CODE(mp_served_builtin(&o, "Barrier", "i", 0), MP_EINVAL);
    MPT_CODE(mp_served_builtin(&o, "Barrier", "is", 2, "action"), MP_EUNSUPPORTED);
    MPT_CODE(mp_served_builtin(&o, "Barrier", ""), MP_EINVAL);
}

/* ---- proxies held in values --------------------------------------------- */

static mp_value *proxy_value(uint64_t oid)
{
    mp_proxy_ref ref = {"tcp://127.0.0.1:1", "list", oid, (const unsigned char *)"key", 3};
    mp_buf b = MP_BUF_INIT;
    MPT_OK(mp_proxy_ref_pack(&b, &ref));
    mp_value *v;
    MPT_OK(mp_decode(b.data, b.len, NULL, &v));
    mp_buf_free(&b);
    return v;
}

static void nested_proxies_keep_objects(void **state)
{
    (void)state;
    MPT_OK(mp_objects_open());
    uint64_t oid;
    MPT_OK(mp_objects_add(make("list", ""), 3, &oid));
    assert_int_equal(mp_objects_count(), 1);
    mp_value *ref = proxy_value(oid);
    mp_value *foreign = proxy_value(oid + 1000);

    mp_served *d = make("dict", "");
    assert_null(ok(d, "__setitem__", "sV", "l", ref));
    assert_null(ok(d, "__setitem__", "sV", "other", foreign));
    mp_objects_drop_conn(3); /* the client's proxy is gone; the dict's stays */
    assert_int_equal(mp_objects_count(), 1);
    /* replacing the value drops its reference */
    assert_null(ok(d, "__setitem__", "si", "l", 0));
    assert_int_equal(mp_objects_count(), 0);

    /* inside an array in a list, and through a key deleted */
    MPT_OK(mp_objects_add(make("list", ""), 3, &oid));
    mp_value_free(ref);
    ref = proxy_value(oid);
    mp_served *l = make("list", "");
    assert_null(ok(l, "append", "[i V]", 1, ref));
    assert_null(ok(d, "__setitem__", "Vi", ref, 1)); /* as a key */
    mp_objects_drop_conn(3);
    assert_int_equal(mp_objects_count(), 1);
    assert_null(ok(d, "__delitem__", "V", ref));
    assert_int_equal(mp_objects_count(), 1); /* the list still holds it */
    mp_served_unref(l);
    assert_int_equal(mp_objects_count(), 0);

    /* a dict freed with it inside */
    MPT_OK(mp_objects_add(make("Queue", ""), 3, &oid));
    mp_value_free(ref);
    ref = proxy_value(oid);
    assert_null(ok(d, "__setitem__", "sV", "q", ref));
    mp_objects_drop_conn(3);
    assert_int_equal(mp_objects_count(), 1);
    mp_served_unref(d);
    assert_int_equal(mp_objects_count(), 0);

    mp_value_free(ref);
    mp_value_free(foreign);
    mp_objects_close();
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(typeids),          MPT_TEST(queue_bounds_and_timeouts), MPT_TEST(queue_blocking_get),
        MPT_TEST(queue_abandoned_get), MPT_TEST(joinable_queue),         MPT_TEST(dict_methods),
        MPT_TEST(list_methods),     MPT_TEST(namespace_attributes),      MPT_TEST(value_and_array),
        MPT_TEST(lock_rules),       MPT_TEST(rlock_rules),               
        MPT_TEST(semaphores),       MPT_TEST(condition_notify),          MPT_TEST(events),
        MPT_TEST(barrier_rounds),   MPT_TEST(nested_proxies_keep_objects),
    };
    return MPT_RUN(tests);
}
