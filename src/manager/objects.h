/* objects.h - the server's table of objects (objects.c): each object by
 * its oid, with who references it. A process serves at most one table:
 * the server of mp_manager_start's child, or of mp_manager_serve_forever.
 *
 * An oid is unique to one run of one server (its high 32 bits are random
 * for the run), so that a proxy of another server is never taken for one
 * of ours. References are counted per connection (a client's proxies) and
 * per holder inside the server (a dict holding a list proxy); when a
 * connection ends, its references go (mp_objects_drop_conn). */
#ifndef MPROC_MANAGER_OBJECTS_H
#define MPROC_MANAGER_OBJECTS_H

#include <stdint.h>

#include "manager/served.h"

/* Start a table for this process (MP_ESTATE if one is running). */
int mp_objects_open(void);
/* Free every object and the table. */
void mp_objects_close(void);

/* Enter o (whose reference passes to the table) for connection conn:
 * *oid is its oid. The same object entered twice gets the same oid. */
int mp_objects_add(mp_served *o, uint64_t conn, uint64_t *oid);
/* One more reference from conn (0: a holder inside the server).
 * MP_ESTATE (with a message) if the table has no such object. */
int mp_objects_incref(uint64_t oid, uint64_t conn);
/* A reference lent to conn with a value taken out for it (a queue's get
 * of an item holding a proxy): it keeps the object alive until conn's
 * next incref of oid takes it over (the client making its proxy) or conn
 * ends. Without it the object could go between the reply and that incref.
 * MP_ESTATE as mp_objects_incref. */
int mp_objects_lend(uint64_t oid, uint64_t conn);
/* One reference less from conn; the object is freed with its last. */
void mp_objects_decref(uint64_t oid, uint64_t conn);
/* Every reference of conn, gone. */
void mp_objects_drop_conn(uint64_t conn);
/* The object of oid with one more reference for the caller (unref it with
 * mp_served_unref), or NULL with MP_ESTATE's message. */
mp_served *mp_objects_get(uint64_t oid);
/* Whether this process's table holds oid. */
bool mp_objects_has(uint64_t oid);
/* How many objects the table holds (tests: nothing leaks). */
size_t mp_objects_count(void);

#endif
