/* server.h - a manager's server (server.c): accepts clients on a
 * Listener, serves each connection on threads of its own
 * (server_conn.c), until a client asks it to shut down. */
#ifndef MPROC_MANAGER_SERVER_H
#define MPROC_MANAGER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "mproc/net.h"
#include "platform.h"

typedef struct mp_sconn mp_sconn;

typedef struct mp_server {
    mp_listener *listener;
    volatile bool stopping;
    mp_os_mutex *lock; /* conns, next_serial */
    mp_os_cond *changed; /* a connection ended */
    mp_sconn *conns;
    uint64_t next_serial;
    mp_os_mutex *creating; /* typeid callables run one at a time */
} mp_server;

/* Serve on l (whose authkey authenticates clients) until a shutdown
 * request; then end every connection and free every object. This process's
 * object table must be open (objects.h). */
int mp_server_serve(mp_listener *l);

/* server_conn.c: take c (an accepted Connection) and serve it on a thread
 * of its own, which ends when the client goes or the server stops. */
int mp_sconn_start(mp_server *s, mp_conn *c);
/* Wake the connection's thread so that it ends (server shutting down). */
void mp_sconn_stop(mp_sconn *sc);

#endif
