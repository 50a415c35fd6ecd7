/* address.h - address strings of net.h taken apart into what the sockets
 * or the named pipes section of platform.h connects to or listens on. */
#ifndef MPROC_NET_ADDRESS_H
#define MPROC_NET_ADDRESS_H

#include "platform.h"

/* The longest name of a "pipe:name" address, in bytes. */
#define MP_NET_PIPE_NAME_MAX 256

/* Room for any address string a listener tells: a socket's
 * (MP_OS_ADDRESS_SIZE) or "pipe:" and a name. */
#define MP_NET_ADDRESS_SIZE (sizeof "pipe:" + MP_NET_PIPE_NAME_MAX)
_Static_assert(MP_NET_ADDRESS_SIZE >= MP_OS_ADDRESS_SIZE, "a socket's address fits");

/* A socket's endpoint and the copy of the string its host or path points
 * into; or, pipe true, a named pipe whose name is text (ep unused). */
typedef struct mp_net_address {
    bool pipe;
    mp_os_endpoint ep;
    char *text;
} mp_net_address;

/* Parse an address string (net.h). MP_EINVAL when malformed, with a
 * message naming where. Whether the system has the family is for the
 * platform to say. */
int mp_net_address_parse(const char *address, const char *where, mp_net_address *out);
void mp_net_address_free(mp_net_address *a);

#endif
