/* builtin.h - what the built-in served types (builtin_*.c) share: reading
 * a call's arguments, packing simple results, and the two stores of held
 * values (a sequence for lists, arrays and queues; an ordered map for
 * dicts and namespaces). */
#ifndef MPROC_MANAGER_BUILTIN_H
#define MPROC_MANAGER_BUILTIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manager/served.h"

/* ---- arguments ---------------------------------------------------------- */

/* How many arguments a call (or constructor) has: 0 unless args is an
 * array. */
uint32_t mp_builtin_argc(const mp_value *args);
/* args[at], or NULL when absent. */
const mp_value *mp_builtin_arg(const mp_value *args, uint32_t at);
/* MP_EINVAL unless min <= argc <= max. */
int mp_builtin_nargs(const mp_value *args, uint32_t min, uint32_t max, const char *where);
/* An integer argument at args[at]; dflt when absent. MP_ETYPE. */
int mp_builtin_int_arg(const mp_value *args, uint32_t at, int64_t dflt, int64_t *out, const char *where);
/* Python's index into a sequence of len items: negative counts from the
 * end. MP_ETYPE for a non-integer, MP_ERANGE ("IndexError") outside. */
int mp_builtin_index(const mp_value *arg, size_t len, size_t *at, const char *where);

/* ---- results ------------------------------------------------------------ */

int mp_builtin_bool_result(mp_served_call *call, bool v);
int mp_builtin_int_result(mp_served_call *call, int64_t v);

/* Wrap self as a served object of type; on failure self is freed with
 * type->free_. */
int mp_builtin_wrap(mp_served **out, const mp_served_type *type, void *self);

/* ---- a sequence of held values ------------------------------------------ */

/* items[head .. head + len): taking from the front (a queue's get) moves
 * head instead of the items, so it costs O(1). */
typedef struct mp_held_seq {
    mp_held *items;
    size_t head, len, cap;
} mp_held_seq;

static inline mp_held *mp_held_seq_at(const mp_held_seq *s, size_t i)
{
    return &s->items[s->head + i];
}
/* Keep v at position at (0..len); MP_ENOMEM. */
int mp_held_seq_insert(mp_held_seq *s, size_t at, const mp_value *v);
/* Put *h, already kept, at position at; the sequence owns it on success
 * only. MP_ENOMEM. */
int mp_held_seq_put(mp_held_seq *s, size_t at, mp_held *h);
/* Take the item at position at out of the sequence, into *out (the
 * caller's to release). */
void mp_held_seq_take(mp_held_seq *s, size_t at, mp_held *out);
/* Keep every item of the array v at the end; all or nothing. MP_ETYPE if v
 * is no array. */
int mp_held_seq_extend(mp_held_seq *s, const mp_value *v, const char *where);
/* Pack the whole sequence as one array into b (on failure b may hold part
 * of it: a failed method's result is not sent). */
int mp_held_seq_write(const mp_held_seq *s, mp_buf *b);
/* The first position at or after from whose item packs as packed, or
 * s->len. */
size_t mp_held_seq_find(const mp_held_seq *s, size_t from, const unsigned char *packed, size_t len);
/* Release every item; the sequence is empty and usable again. */
void mp_held_seq_clear(mp_held_seq *s);

/* ---- an ordered map of held keys and values ------------------------------ */

/* Keys are equal when they pack to the same bytes (so 1 and 1.0 are two
 * keys); entries stay in insertion order, as Python's dict. Lookups are a
 * linear search: O(n), fine for the small maps managers usually hold. */
typedef struct mp_held_map {
    mp_held *keys, *values;
    size_t len, cap;
} mp_held_map;

/* The position of the key that packs as packed, or map->len. */
size_t mp_held_map_find(const mp_held_map *m, const unsigned char *packed, size_t len);
/* Set key to value: replaced in place if present, else appended. */
int mp_held_map_set(mp_held_map *m, const mp_value *key, const mp_value *value);
/* Remove the entry at position at, keeping the order of the others; its
 * key and value go to *key and *value (the caller's to release). */
void mp_held_map_take(mp_held_map *m, size_t at, mp_held *key, mp_held *value);
/* Pack the whole map as one MessagePack map into b. */
int mp_held_map_write(const mp_held_map *m, mp_buf *b);
void mp_held_map_clear(mp_held_map *m);

/* Pack v into *packed (cleared first): how a key or an item is compared
 * with the held ones. */
int mp_builtin_packed(mp_buf *packed, const mp_value *v);

#endif

/* ---- a lock owned by a caller (builtin_lock.c) ---------------------------- */

/* The state of a Lock, an RLock or a Condition's lock, kept under its
 * object's mutex. A holder whose connection has ended has abandoned it:
 * the next acquirer takes it and is told MP_EOWNERDEAD. */
typedef struct mp_owned_lock {
    bool recursive; /* RLock: the holder may take it again, only it releases */
    long count;     /* 0: free */
    mp_served_owner owner;
} mp_owned_lock;

/* Acquire l for the call's owner, m held, waiting on cond (signalled when
 * l is released) until deadline. MP_OK with *got true, or false once the
 * deadline passed; MP_EOWNERDEAD with *got true (the caller holds it);
 * MP_ECONNRESET (the caller is gone; nothing taken). */
int mp_owned_lock_acquire(mp_owned_lock *l, mp_served_call *call, mp_os_cond *cond, mp_os_mutex *m, double deadline,
                          bool *got);
/* Whether the call's owner holds l. */
bool mp_owned_lock_mine(const mp_owned_lock *l, const mp_served_call *call);
/* Release once, m held; cond is broadcast when l becomes free. MP_ESTATE if
 * l is free, or (recursive) held by another. */
int mp_owned_lock_release(mp_owned_lock *l, mp_served_call *call, mp_os_cond *cond, const char *where);
