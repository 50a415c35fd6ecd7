/* server_conn.c - one client's connection: its reader thread, its
 * workers, and its end (server_conn.h). */
#include <stdlib.h>

#include "base/error_internal.h"
#include "ipc/conn_internal.h"
#include "manager/objects.h"
#include "manager/server_conn.h"

static void sconn_free(mp_sconn *sc)
{
    (void)mp_conn_close(sc->conn);
    mp_os_cond_free(sc->work);
    mp_os_mutex_free(sc->lock);
    free(sc);
}

static void job_free(mp_sjob *j)
{
    mp_served_unref(j->object);
    mp_value_free(j->tree);
    free(j);
}

static void worker(void *arg)
{
    mp_sconn *sc = arg;
    mp_os_mutex_lock(sc->lock);
    for (;;) {
        while (sc->jobs == NULL && !sc->abandoned)
            mp_os_cond_wait(sc->work, sc->lock, MP_FOREVER);
        mp_sjob *j = sc->jobs;
        if (j == NULL)
            break;
        sc->jobs = j->next;
        if (sc->jobs == NULL)
            sc->jobs_tail = &sc->jobs;
        sc->idle--;
        mp_os_mutex_unlock(sc->lock);
        mp_sconn_run_call(sc, &j->req, j->object, j->method);
        job_free(j);
        mp_os_mutex_lock(sc->lock);
        sc->idle++;
    }
    sc->workers--;
    sc->idle--;
    mp_os_cond_broadcast(sc->work);
    mp_os_mutex_unlock(sc->lock);
}

int mp_sconn_queue(mp_sconn *sc, mp_sjob *job)
{
    mp_os_mutex_lock(sc->lock);
    job->next = NULL;
    *sc->jobs_tail = job;
    sc->jobs_tail = &job->next;
    int rc = MP_OK;
    if (sc->idle == 0 && sc->workers < MP_SCONN_MAX_WORKERS) {
        mp_os_thread *t;
        rc = mp_os_thread_start(&t, worker, sc);
        if (rc == MP_OK) {
            mp_os_thread_detach(t);
            sc->workers++;
            sc->idle++;
        }
    }
    mp_os_cond_signal(sc->work);
    mp_os_mutex_unlock(sc->lock);
    /* Without a new worker the job still runs once a busy one is free;
     * with none at all it would wait forever, so that is an error. */
    return rc == MP_OK || sc->workers > 0 ? MP_OK : rc;
}

/* The client is gone: let waiting methods give up, wait for the workers,
 * drop the client's references, leave the server's list. */
static void end(mp_sconn *sc)
{
    mp_os_mutex_lock(sc->lock);
    sc->abandoned = true;
    mp_os_cond_broadcast(sc->work);
    while (sc->workers > 0)
        mp_os_cond_wait(sc->work, sc->lock, MP_FOREVER);
    for (mp_sjob *j = sc->jobs, *next; j != NULL; j = next) {
        next = j->next;
        job_free(j);
    }
    sc->jobs = NULL;
    mp_os_mutex_unlock(sc->lock);
    mp_objects_drop_conn(sc->serial);
    mp_server *s = sc->server;
    mp_os_mutex_lock(s->lock);
    mp_sconn **p = &s->conns;
    while (*p != sc)
        p = &(*p)->next;
    *p = sc->next;
    mp_os_cond_broadcast(s->changed);
    mp_os_mutex_unlock(s->lock);
    sconn_free(sc);
}

static void reader(void *arg)
{
    mp_sconn *sc = arg;
    for (;;) {
        void *data;
        size_t len;
        if (mp_conn_recv_bytes(sc->conn, MP_WIRE_MAX_MESSAGE, &data, &len) != MP_OK)
            break;
        mp_value *tree;
        int rc = mp_decode(data, len, NULL, &tree);
        free(data);
        if (rc != MP_OK)
            break; /* a client that sends garbage is out of step: drop it */
        mp_sconn_handle(sc, tree);
        if (sc->server->stopping)
            break;
    }
    end(sc);
}

int mp_sconn_start(mp_server *s, mp_conn *c)
{
    mp_sconn *sc = calloc(1, sizeof *sc);
    int rc = sc != NULL ? MP_OK : mp_fail(MP_ENOMEM, "manager: out of memory");
    if (rc == MP_OK && (rc = mp_os_mutex_new(&sc->lock)) == MP_OK)
        rc = mp_os_cond_new(&sc->work);
    if (rc != MP_OK) {
        if (sc != NULL)
            mp_os_mutex_free(sc->lock);
        free(sc);
        (void)mp_conn_close(c);
        return rc;
    }
    sc->server = s;
    sc->conn = c;
    sc->jobs_tail = &sc->jobs;
    mp_os_mutex_lock(s->lock);
    sc->serial = ++s->next_serial;
    sc->next = s->conns;
    s->conns = sc;
    mp_os_mutex_unlock(s->lock);
    mp_os_thread *t;
    rc = mp_os_thread_start(&t, reader, sc);
    if (rc != MP_OK) {
        end(sc);
        return rc;
    }
    mp_os_thread_detach(t);
    return MP_OK;
}

void mp_sconn_stop(mp_sconn *sc)
{
    sc->abandoned = true;
    mp_conn_shutdown(sc->conn);
}
