/* proxy.h - making proxies (proxy.c), for the manager that creates
 * objects. */
#ifndef MPROC_MANAGER_PROXY_H
#define MPROC_MANAGER_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "manager/link.h"
#include "mproc/manager.h"

/* A proxy of object oid over link, whose reference passes to the proxy
 * (put back if this fails). take_ref: ask the server for a reference of
 * its own first; false when it has one already (a create's). */
int mp_proxy_make(mp_link *link, uint64_t oid, const char *typeid, bool take_ref, mp_proxy **out);

/* mp_proxy_call with the arguments already packed: args holds one
 * MessagePack array. */
int mp_proxy_call_packed(mp_proxy *p, const char *method, const mp_buf *args, mp_value **result);

/* Queue.close() of mp_queue_close on a proxy: this handle is done with the
 * queue (queue_proxy.c); the object lives on. */
void mp_proxy_close_handle(mp_proxy *p);
bool mp_proxy_handle_closed(const mp_proxy *p);

/* How the mp_queue_* and mp_lock_* calls are done on a proxy
 * (queue_proxy.c, lock_proxy.c). */
extern const struct mp_queue_backing mp_proxy_as_queue_ops;
extern const struct mp_lock_backing mp_proxy_as_lock_ops;

#endif
