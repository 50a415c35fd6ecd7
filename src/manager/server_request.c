/* server_request.c - what the server does for each request (wire.h):
 * create, call, incref, decref, ping, shutdown. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/registry_internal.h"
#include "manager/objects.h"
#include "manager/server_conn.h"
#include "manager/typeids.h"

void mp_sconn_send(mp_sconn *sc, const mp_buf *b)
{
    (void)mp_conn_send_bytes(sc->conn, b->data, b->len); /* a client that left gets nothing */
}

/* The reply of a request that failed with rc (its message in mp_last_error). */
static void send_error(mp_sconn *sc, uint64_t id, int rc)
{
    if (id == 0)
        return;
    mp_buf b = MP_BUF_INIT;
    if (mp_wire_error(&b, id, rc, mp_last_error()) == MP_OK)
        mp_sconn_send(sc, &b);
    mp_buf_free(&b);
}

/* An ok reply whose value is the packed bytes v (nil when empty). */
static void send_ok(mp_sconn *sc, uint64_t id, const mp_buf *v)
{
    if (id == 0)
        return;
    mp_buf b = MP_BUF_INIT;
    int rc = mp_wire_begin_ok(&b, id);
    if (rc == MP_OK)
        rc = v != NULL && v->len > 0 ? mp_buf_append(&b, v->data, v->len) : mp_pack_nil(&b);
    if (rc == MP_OK)
        mp_sconn_send(sc, &b);
    else
        send_error(sc, id, rc);
    mp_buf_free(&b);
}

static void create(mp_sconn *sc, const mp_wire_request *req)
{
    mp_typeid_fn make = mp_typeid_find(req->name);
    if (make == NULL) {
        send_error(sc, req->id, mp_fail(MP_ENOTREG, "manager: the server knows no typeid \"%s\"", req->name));
        return;
    }
    mp_served *o = NULL;
    mp_os_mutex_lock(sc->server->creating);
    int rc = make(req->args, &o);
    mp_os_mutex_unlock(sc->server->creating);
    if (rc == MP_OK && o == NULL)
        rc = mp_fail(MP_ESTATE, "manager: the callable of \"%s\" returned no object", req->name);
    uint64_t oid = 0;
    if (rc == MP_OK)
        rc = mp_objects_add(o, sc->serial, &oid);
    mp_buf v = MP_BUF_INIT;
    if (rc == MP_OK && (rc = mp_pack(&v, "[Q s]", oid, req->name)) != MP_OK)
        mp_objects_decref(oid, sc->serial);
    if (rc == MP_OK)
        send_ok(sc, req->id, &v);
    else
        send_error(sc, req->id, rc);
    mp_buf_free(&v);
}

static const mp_served_method *find_method(const mp_served *o, const char *name)
{
    for (const mp_served_method *m = o->type->methods; m->name != NULL; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

void mp_sconn_run_call(mp_sconn *sc, const mp_wire_request *req, mp_served *o, const mp_served_method *m)
{
    mp_served_call call = {
        .result = MP_BUF_INIT, .owner = {sc->serial, req->thread}, .abandoned = &sc->abandoned};
    if (!o->type->concurrent)
        mp_os_mutex_lock(o->calls);
    int rc = m->fn(o->self, req->args, &call);
    if (!o->type->concurrent)
        mp_os_mutex_unlock(o->calls);
    if (rc == MP_OK)
        send_ok(sc, req->id, &call.result);
    else
        send_error(sc, req->id, rc);
    mp_buf_free(&call.result);
}

/* A call: the quick ones at once, one that may wait by a worker. */
static void call(mp_sconn *sc, mp_value *tree, const mp_wire_request *req)
{
    mp_served *o = mp_objects_get(req->oid);
    const mp_served_method *m = o != NULL ? find_method(o, req->name) : NULL;
    int rc = MP_OK;
    if (o == NULL)
        rc = MP_ESTATE;
    else if (m == NULL)
        rc = mp_fail(MP_EINVAL, "manager: a %s has no method \"%s\"", o->type->name, req->name);
    if (m != NULL && !m->blocks) {
        mp_sconn_run_call(sc, req, o, m);
    } else if (m != NULL) {
        mp_sjob *j = malloc(sizeof *j);
        if (j == NULL) {
            rc = mp_fail(MP_ENOMEM, "manager: out of memory");
        } else {
            *j = (mp_sjob){.tree = tree, .req = *req, .object = o, .method = m};
            if ((rc = mp_sconn_queue(sc, j)) == MP_OK)
                return; /* the job owns the tree and the reference now */
            free(j);
        }
    }
    if (rc != MP_OK)
        send_error(sc, req->id, rc);
    mp_served_unref(o);
    mp_value_free(tree);
}

void mp_sconn_handle(mp_sconn *sc, mp_value *tree)
{
    mp_wire_request req;
    int rc = mp_wire_parse_request(tree, &req);
    if (rc != MP_OK) {
        uint64_t id = 0;
        if (tree->type == MP_ARRAY && tree->as.array.len > 0)
            (void)mp_unpack(&tree->as.array.items[0], "Q", &id);
        send_error(sc, id, rc);
        mp_value_free(tree);
        return;
    }
    switch (req.op) {
    case MP_WIRE_CALL:
        call(sc, tree, &req);
        return; /* call frees the tree, or hands it on */
    case MP_WIRE_CREATE:
        create(sc, &req);
        break;
    case MP_WIRE_INCREF:
        rc = mp_objects_incref(req.oid, sc->serial);
        break;
    case MP_WIRE_DECREF:
        mp_objects_decref(req.oid, sc->serial);
        break;
    case MP_WIRE_SHUTDOWN:
        /* Answer first: once stopping, the server ends every connection. */
        send_ok(sc, req.id, NULL);
        sc->server->stopping = true;
        mp_value_free(tree);
        return;
    case MP_WIRE_PING:
        break;
    }
    if (req.op != MP_WIRE_CREATE) {
        if (rc == MP_OK)
            send_ok(sc, req.id, NULL);
        else
            send_error(sc, req.id, rc);
    }
    mp_value_free(tree);
}
