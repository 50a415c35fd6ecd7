/* server_conns.h - the server's connections as others see them: alive or
 * not, by serial number (server.c). A lock's holder is remembered by its
 * connection's serial; the lock asks here whether that client is still
 * there. */
#ifndef MPROC_MANAGER_SERVER_CONNS_H
#define MPROC_MANAGER_SERVER_CONNS_H

#include <stdbool.h>
#include <stdint.h>

/* Whether the connection with this serial is still open. Serial 0 is the
 * server itself (a holder inside it), always alive; so is every serial in
 * a process that runs no server. */
bool mp_server_conn_alive(uint64_t serial);

#endif
