/* server_conn.h - one client's connection to the server (server_conn.c):
 * a reader thread that takes requests in order and answers the quick ones
 * itself, and worker threads for methods that may wait, so that a
 * blocking get does not hold up the client's other calls. */
#ifndef MPROC_MANAGER_SERVER_CONN_H
#define MPROC_MANAGER_SERVER_CONN_H

#include "manager/server.h"
#include "manager/served.h"
#include "manager/wire.h"

/* Threads one connection may have waiting in methods at once; requests
 * beyond wait their turn. */
#define MP_SCONN_MAX_WORKERS 64

/* A request for a method that may wait, queued for a worker. */
typedef struct mp_sjob {
    mp_value *tree; /* the decoded request, which req borrows from */
    mp_wire_request req;
    mp_served *object;
    const mp_served_method *method;
    struct mp_sjob *next;
} mp_sjob;

struct mp_sconn {
    mp_server *server;
    mp_conn *conn;
    uint64_t serial;
    volatile bool abandoned; /* the client is gone, or the server stops */
    mp_sconn *next;          /* in the server's list, under its lock */
    mp_os_mutex *lock;       /* what follows */
    mp_os_cond *work;        /* a job came, or a worker ended */
    mp_sjob *jobs, **jobs_tail;
    unsigned workers, idle;
};

/* server_request.c: answer one request (quick ones at once; a call of a
 * blocking method is queued for a worker). Takes tree. */
void mp_sconn_handle(mp_sconn *sc, mp_value *tree);
/* Run a call on the object and send its reply. */
void mp_sconn_run_call(mp_sconn *sc, const mp_wire_request *req, mp_served *o, const mp_served_method *m);
/* Send a reply built in b (MP_OK, or the client is gone). */
void mp_sconn_send(mp_sconn *sc, const mp_buf *b);
/* Queue a job for a worker, starting one if none is idle. */
int mp_sconn_queue(mp_sconn *sc, mp_sjob *job);

#endif
