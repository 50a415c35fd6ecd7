/* manager_start.c - start(): the server in a child process, which tells
 * its parent where it listens over a pipe, then serves. */
#include <stdlib.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "manager/manager_internal.h"
#include "manager/objects.h"
#include "manager/server.h"

/* The child: [address or "", authkey, timeout, allow_weak, pipe end]. It
 * answers [0, address] once listening, or [code, message]. */
static int manager_server(const mp_value *args)
{
    const char *address;
    const void *key;
    size_t key_len;
    double timeout;
    bool allow_weak;
    mp_conn *report;
    int rc = mp_args(args, "s y# d ? O", &address, &key, &key_len, &timeout, &allow_weak, &report);
    if (rc != MP_OK)
        return rc;
    mp_listener *l = NULL;
    rc = mp_manager_listen(address, key, key_len, timeout, allow_weak, &l);
    if (rc == MP_OK && (rc = mp_objects_open()) != MP_OK)
        mp_listener_close(l);
    if (rc != MP_OK) {
        (void)mp_conn_send(report, "[i s]", rc, mp_last_error());
        return 1;
    }
    rc = mp_conn_send(report, "[i s]", 0, mp_listener_address(l));
    (void)mp_conn_close(report);
    if (rc == MP_OK)
        rc = mp_server_serve(l);
    mp_objects_close();
    mp_listener_close(l);
    return rc == MP_OK ? 0 : rc;
}
MP_TARGET_NAMED(manager_server, "mproc.manager_server")

/* The server's word on where it listens, within the timeout. */
static int await_address(mp_manager *m, mp_conn *r, char **address)
{
    int rc = mp_conn_poll(r, m->opts.timeout);
    mp_value *v = NULL;
    if (rc == MP_OK)
        rc = mp_conn_recv(r, &v);
    int64_t code;
    const char *text;
    if (rc == MP_OK && mp_unpack(v, "(q s)", &code, &text) != MP_OK)
        rc = mp_fail(MP_EPROTO, "mp_manager_start: the server sent a malformed report");
    if (rc == MP_OK && code != MP_OK)
        rc = mp_fail((int)code, "mp_manager_start: the server could not listen: %s", text);
    else if (rc == MP_OK)
        rc = (*address = mp_strdup(text)) != NULL ? MP_OK : mp_fail(MP_ENOMEM, "mp_manager_start: out of memory");
    else if (rc == MP_ETIMEDOUT)
        rc = mp_fail(MP_ETIMEDOUT, "mp_manager_start: the server did not listen within %g s", m->opts.timeout);
    else if (rc == MP_EEOF)
        rc = mp_fail(MP_ECHILD, "mp_manager_start: the server process ended before it listened");
    mp_value_free(v);
    return rc;
}

int mp_manager_start_server(mp_manager *m)
{
    mp_conn *r, *w;
    int rc = mp_pipe(false, &r, &w);
    if (rc != MP_OK)
        return rc;
    mp_process_options po = {.name = "SyncManager", .daemon = true, .context = m->opts.context};
    const char *address = m->opts.address != NULL ? m->opts.address : "";
    mp_process *p = NULL;
    rc = mp_process_new(&p, manager_server, &po, "s y# d ? O", address, m->opts.authkey, m->opts.authkey_len,
                        m->opts.timeout, m->opts.allow_weak_authkey, w);
    if (rc == MP_OK)
        rc = mp_process_start(p);
    (void)mp_conn_close(w); /* the child's copy is the one that reports */
    char *bound = NULL;
    if (rc == MP_OK)
        rc = await_address(m, r, &bound);
    (void)mp_conn_close(r);
    if (rc == MP_OK) {
        m->server = p;
        rc = mp_link_get(bound, m->opts.authkey, m->opts.authkey_len, m->opts.timeout, &m->link);
        if (rc == MP_OK)
            rc = mp_link_connect(m->link);
        m->address = bound;
        if (rc == MP_OK) {
            m->state = MP_MANAGER_STARTED;
            return MP_OK;
        }
        m->server = NULL;
        mp_link_put(m->link);
        m->link = NULL;
        free(m->address);
        m->address = NULL;
    }
    if (p != NULL && mp_process_is_alive(p) == 1) {
        (void)mp_process_kill(p);
        (void)mp_process_join(p, MP_FOREVER);
    }
    (void)mp_process_close(p);
    return rc;
}
