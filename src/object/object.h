/* object.h - what every mproc object that can travel to a child shares:
 * a header with its kind (checked by every public function, so a wrong
 * pointer type gives MP_ETYPE, not a crash), and how it is exported as an
 * MP_EXT_OBJECT argument and imported again in the child.
 *
 * On the wire an object is ext 77 holding the array
 *   [kind, fields, [handle index or -1, ...], nested]
 * where fields is the kind's own value, each index names a handle that
 * travelled with the process (mp_os_child_handles), and nested is nil or
 * one more object of this form that the object uses (a Condition's lock, a
 * Value's lock). docs/protocol.md §5. */
#ifndef MPROC_OBJECT_H
#define MPROC_OBJECT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "mproc/pack.h"
#include "platform.h"

typedef enum mp_kind {
    MP_KIND_CONN = 1,
    MP_KIND_LOCK,
    MP_KIND_RLOCK,
    MP_KIND_SEMAPHORE,
    MP_KIND_CONDITION,
    MP_KIND_EVENT,
    MP_KIND_BARRIER,
    MP_KIND_QUEUE,
    MP_KIND_VALUE,
    MP_KIND_SHM,
    MP_KIND_PROXY,       /* a manager's proxy (manager/): no handle, so it also travels in messages */
    MP_KIND_REDIS_QUEUE, /* a Queue on Redis (redis/): opened anew where it travels */
    MP_KIND_COUNT_
} mp_kind;

#define MP_OBJECT_MAGIC 0x6d704f62u /* "mpOb" */
#define MP_OBJECT_MAX_HANDLES 16

typedef struct mp_object {
    unsigned magic;
    mp_kind kind;
    /* Made by importing an argument in a child: the child's runtime owns
     * the memory; freeing it only releases its OS resources. */
    bool imported;
} mp_object;

/* What a kind exports: its fields (one packed value) and its handles. */
typedef struct mp_export {
    mp_buf fields;
    mp_os_handle handles[MP_OBJECT_MAX_HANDLES];
    size_t nhandles;
    const mp_object *nested; /* or NULL */
} mp_export;

struct mp_queue_backing; /* ipc/queue_backing.h */
struct mp_lock_backing;  /* sync/lock_backing.h */

typedef struct mp_object_ops {
    const char *name; /* Python's name: "Queue", "RLock", ... */
    int (*export_)(const mp_object *o, mp_export *e);
    /* Build the object of that kind (the one on the wire, one that these
     * ops serve) from what export_ wrote; takes ownership of the handles
     * (MP_OS_NO_HANDLE where none travelled). */
    int (*import_)(mp_kind kind, const mp_value *fields, const mp_os_handle *handles, size_t n,
                   mp_object *nested, mp_object **out);
    /* Release OS resources (and, unless imported, the memory). */
    void (*free_)(mp_object *o);
    /* Objects of a kind held elsewhere (a manager's proxy) that the
     * mp_queue_* or mp_lock_* calls take as well as their own kind: how
     * those calls are done for them. NULL for the others. */
    const struct mp_queue_backing *as_queue;
    const struct mp_lock_backing *as_lock;
} mp_object_ops;

/* Each kind's table, defined in its own file. */
extern const mp_object_ops mp_conn_ops, mp_lock_ops, mp_semaphore_ops, mp_condition_ops, mp_event_ops,
    mp_barrier_ops, mp_queue_ops, mp_value_ops, mp_shm_ops, mp_proxy_ops, mp_rqueue_ops;

void mp_object_init(mp_object *o, mp_kind kind);
/* The error of a failed mp_object_check: MP_EINVAL (NULL) or MP_ETYPE,
 * with a message naming the function. */
int mp_object_refuse(const void *o, mp_kind kind, const char *where);
/* MP_OK if o is a live object of that kind, else mp_object_refuse's error.
 * Inline: it guards every call, locks' acquire and release included. */
static inline int mp_object_check(const void *p, mp_kind kind, const char *where)
{
    const mp_object *o = p;
    if (o != NULL && o->magic == MP_OBJECT_MAGIC &&
        (o->kind == kind || (kind == MP_KIND_LOCK && o->kind == MP_KIND_RLOCK)))
        return MP_OK;
    return mp_object_refuse(p, kind, where);
}

/* The ops of a live object's kind; NULL for NULL or anything else. */
const mp_object_ops *mp_object_ops_of(const void *p);

/* Free o through its kind's ops (free_). */
void mp_object_free(mp_object *o);
/* What every public mp_X_free and mp_X_close does: NULL is MP_OK, with no
 * error; a live object of that kind is freed (MP_OK); anything else is
 * mp_object_check's error. */
int mp_object_free_checked(void *o, mp_kind kind, const char *where);
/* The last step of every free_: mark o freed, so that a later use is
 * MP_ETYPE, and free its memory unless it was imported (the child's
 * runtime keeps that). */
void mp_object_discard(mp_object *o);

/* Collects the handles of objects packed as process arguments. */
typedef struct mp_handle_list {
    mp_os_handle *items;
    size_t len, cap;
} mp_handle_list;

void mp_handle_list_free(mp_handle_list *l);

/* Close h[0..n): the handles an import owns and cannot use. */
void mp_handles_close(const mp_os_handle *h, size_t n);

/* A process's arguments: fmt's items as one array, with 'O' allowed; the
 * handles of its objects are appended to l in the order of their indices. */
int mp_object_pack_args(mp_buf *b, const char *fmt, va_list ap, mp_handle_list *l);

/* Let 'O' pack and import objects in this process (pack/object_hook.h):
 * an object does it when it is made, a child before its target reads its
 * arguments. 'O' packs an object as ext 77, its handles appended to the
 * list mp_object_pack_args gave (with none, where no object can travel:
 * MP_EUNSUPPORTED), and imports an ext 77 node on its first use, the same
 * object on every later use of the same node. */
void mp_object_install_hook(void);

#endif
