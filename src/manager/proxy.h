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

#endif
