/* served.h - what the server's objects are made of (manager.h's
 * mp_served), and what the built-in types (builtin_*.c) use to wait, to
 * know their callers and to keep values that may hold proxies. */
#ifndef MPROC_MANAGER_SERVED_H
#define MPROC_MANAGER_SERVED_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mproc/manager.h"
#include "platform.h"

struct mp_served {
    const mp_served_type *type;
    void *self;
    uint64_t oid; /* 0 until the server's table holds it */
    _Atomic long refs;
    mp_os_mutex *calls; /* one call at a time, unless type->concurrent */
};

/* Who made a call: the connection (its serial number, never reused in a
 * server's life) and the client thread on it. Lock and RLock own by it. */
typedef struct mp_served_owner {
    uint64_t conn;
    uint64_t thread;
} mp_served_owner;

/* How long a waiting method sleeps at most before it looks again whether
 * its caller (or a lock's holder) is still there. */
#define MP_SERVED_WAIT_SLICE 0.05

struct mp_served_call {
    mp_buf result;
    mp_served_owner owner;
    const volatile bool *abandoned; /* set when the caller's connection ends */
};

mp_served_owner mp_served_call_owner(const mp_served_call *call);
/* False once the owner's connection has ended. */
bool mp_served_owner_alive(mp_served_owner owner);
static inline bool mp_served_owner_equal(mp_served_owner a, mp_served_owner b)
{
    return a.conn == b.conn && a.thread == b.thread;
}

/* Wait on cond (m held) until signalled, deadline (mp_os_monotonic time;
 * INFINITY: none) or one slice, whichever is first. MP_OK: look again;
 * MP_ETIMEDOUT: the deadline passed; MP_ECONNRESET: the caller is gone
 * (with a message). */
int mp_served_wait(mp_served_call *call, mp_os_cond *cond, mp_os_mutex *m, double deadline);

/* Python's (block=True, timeout=None) pair of a get, put or acquire at
 * args[first] and args[first + 1], either absent: the deadline it means
 * (INFINITY for none; now for block=False). MP_ETYPE for wrong types. */
int mp_served_deadline_args(const mp_value *args, uint32_t first, double *deadline, const char *where);
/* A (timeout=None) argument alone, at args[at]. */
int mp_served_timeout_arg(const mp_value *args, uint32_t at, double *deadline, const char *where);

/* A value kept by a built-in object (a dict's key or value, a list's item,
 * a queue's item): its bytes, and a reference to every object of this
 * server that it holds a proxy of, so that a list stored in a dict lives
 * as long as the dict holds it. */
typedef struct mp_held {
    unsigned char *data;
    size_t len;
    uint64_t *oids;
    size_t noids;
} mp_held;

/* Keep v (packed anew). MP_ENOMEM. */
int mp_held_keep(mp_held *h, const mp_value *v);
/* Append the value's bytes (one packed value) to b. */
int mp_held_write(const mp_held *h, mp_buf *b);
/* A decoded copy of the value, the caller's to free. */
int mp_held_decode(const mp_held *h, mp_value **out);
/* Whether the held value packs to exactly the bytes of v's packing: a
 * dict's key equality (so 1 and 1.0 are different keys; see
 * python-mapping.md). */
bool mp_held_equals(const mp_held *h, const unsigned char *packed, size_t len);
/* Drop the bytes and the references. */
void mp_held_release(mp_held *h);
/* The same for a value taken out and written into call's result (a get, a
 * pop): its references are lent to the caller's connection first
 * (objects.h), so that the client can still make proxies of them. */
void mp_held_release_to(mp_held *h, const mp_served_call *call);

/* The built-in typeids (manager.h's list): the callable of typeid, or
 * NULL. builtins.c. */
mp_typeid_fn mp_builtin_typeid(const char *typeid);

/* Each built-in's callable, in its own file. */
int mp_builtin_queue(const mp_value *args, mp_served **out);
int mp_builtin_joinable_queue(const mp_value *args, mp_served **out);
int mp_builtin_dict(const mp_value *args, mp_served **out);
int mp_builtin_list(const mp_value *args, mp_served **out);
int mp_builtin_namespace(const mp_value *args, mp_served **out);
int mp_builtin_value(const mp_value *args, mp_served **out);
int mp_builtin_array(const mp_value *args, mp_served **out);
int mp_builtin_lock(const mp_value *args, mp_served **out);
int mp_builtin_rlock(const mp_value *args, mp_served **out);
int mp_builtin_semaphore(const mp_value *args, mp_served **out);
int mp_builtin_bounded_semaphore(const mp_value *args, mp_served **out);
int mp_builtin_condition(const mp_value *args, mp_served **out);
int mp_builtin_event(const mp_value *args, mp_served **out);
int mp_builtin_barrier(const mp_value *args, mp_served **out);

#endif
