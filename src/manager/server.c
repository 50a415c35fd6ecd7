/* server.c - a manager's server: the accept loop, the live connections,
 * and shutdown (server.h). */
#include <stdlib.h>

#include "base/error_internal.h"
#include "manager/objects.h"
#include "manager/server.h"
#include "manager/server_conn.h"
#include "manager/server_conns.h"

/* How often the accept loop looks whether a shutdown was asked for. */
#define ACCEPT_SLICE 0.1

/* The one server of this process, for mp_server_conn_alive. */
static mp_server *running;

bool mp_server_conn_alive(uint64_t serial)
{
    if (serial == 0)
        return true;
    mp_server *s = running;
    /* Outside a server no connection can end (the built-ins' own tests
     * call methods directly): every owner counts as there. */
    if (s == NULL)
        return true;
    mp_os_mutex_lock(s->lock);
    bool alive = false;
    for (mp_sconn *c = s->conns; c != NULL && !alive; c = c->next)
        alive = c->serial == serial && !c->abandoned;
    mp_os_mutex_unlock(s->lock);
    return alive;
}

static void server_free(mp_server *s)
{
    mp_os_cond_free(s->changed);
    mp_os_mutex_free(s->lock);
    mp_os_mutex_free(s->creating);
}

/* End every connection and wait until their threads are done. */
static void stop_all(mp_server *s)
{
    mp_os_mutex_lock(s->lock);
    for (mp_sconn *c = s->conns; c != NULL; c = c->next)
        mp_sconn_stop(c);
    while (s->conns != NULL)
        mp_os_cond_wait(s->changed, s->lock, MP_FOREVER);
    mp_os_mutex_unlock(s->lock);
}

int mp_server_serve(mp_listener *l)
{
    mp_server s = {.listener = l};
    int rc = mp_os_mutex_new(&s.lock);
    if (rc == MP_OK)
        rc = mp_os_mutex_new(&s.creating);
    if (rc == MP_OK)
        rc = mp_os_cond_new(&s.changed);
    if (rc != MP_OK) {
        server_free(&s);
        return mp_fail(rc, "manager: cannot start the server: %s", mp_last_error());
    }
    running = &s;
    while (!s.stopping) {
        mp_conn *c;
        rc = mp_listener_accept(l, ACCEPT_SLICE, &c);
        /* A client that fails to authenticate, or one that cannot be
         * served for want of memory, is dropped; the server goes on. */
        if (rc == MP_OK)
            (void)mp_sconn_start(&s, c);
    }
    stop_all(&s);
    running = NULL;
    server_free(&s);
    return MP_OK;
}
