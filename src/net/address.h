/* address.h - address strings of net.h taken apart into what the sockets
 * section of platform.h connects to or listens on. */
#ifndef MPROC_NET_ADDRESS_H
#define MPROC_NET_ADDRESS_H

#include "platform.h"

/* An endpoint and the copy of the string its host or path points into. */
typedef struct mp_net_address {
    mp_os_endpoint ep;
    char *text;
} mp_net_address;

/* Parse an address string (net.h). MP_EINVAL when malformed,
 * MP_EUNSUPPORTED for "pipe:", each with a message naming where. */
int mp_net_address_parse(const char *address, const char *where, mp_net_address *out);
void mp_net_address_free(mp_net_address *a);

#endif
