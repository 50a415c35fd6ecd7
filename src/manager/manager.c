/* manager.c - BaseManager/SyncManager (manager.h): the client's side, and
 * serving in the foreground. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "manager/manager_internal.h"
#include "manager/objects.h"
#include "manager/proxy.h"
#include "manager/server.h"
#include "pack/pack_format.h"

static int check(const mp_manager *m, const char *where)
{
    return m != NULL ? MP_OK : mp_fail(MP_EINVAL, "%s: NULL manager", where);
}

int mp_manager_new(mp_manager **out, const mp_manager_options *opts)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_manager_new: NULL out");
    *out = NULL;
    mp_manager *m = calloc(1, sizeof *m);
    if (m == NULL)
        return mp_fail(MP_ENOMEM, "mp_manager_new: out of memory");
    m->opts = opts != NULL ? *opts : (mp_manager_options)MP_MANAGER_OPTIONS_INIT;
    const void *key = m->opts.authkey;
    size_t key_len = m->opts.authkey_len;
    if (key == NULL)
        key = mp_authkey(&key_len);
    unsigned char *key_copy = malloc(key_len + 1);
    char *address = m->opts.address != NULL ? mp_strdup(m->opts.address) : NULL;
    if (key_copy == NULL || (m->opts.address != NULL && address == NULL)) {
        free(key_copy);
        free(address);
        free(m);
        return mp_fail(MP_ENOMEM, "mp_manager_new: out of memory");
    }
    if (key_len > 0)
        memcpy(key_copy, key, key_len);
    m->opts.authkey = key_copy;
    m->opts.authkey_len = key_len;
    m->opts.address = address;
    *out = m;
    return MP_OK;
}

/* Use the server at address from now on. */
static int attach(mp_manager *m, const char *address)
{
    m->address = mp_strdup(address);
    if (m->address == NULL)
        return mp_fail(MP_ENOMEM, "manager: out of memory");
    int rc = mp_link_get(address, m->opts.authkey, m->opts.authkey_len, m->opts.timeout, &m->link);
    return rc == MP_OK ? mp_link_connect(m->link) : rc;
}

static void detach(mp_manager *m)
{
    mp_link_put(m->link);
    m->link = NULL;
    free(m->address);
    m->address = NULL;
}

int mp_manager_start(mp_manager *m)
{
    int rc = check(m, "mp_manager_start");
    if (rc == MP_OK && m->state != MP_MANAGER_NEW)
        rc = mp_fail(MP_ESTATE, "mp_manager_start: the manager was started or connected already");
    if (rc == MP_OK)
        rc = mp_manager_start_server(m);
    return rc;
}

int mp_manager_connect(mp_manager *m)
{
    int rc = check(m, "mp_manager_connect");
    if (rc == MP_OK && m->state != MP_MANAGER_NEW)
        rc = mp_fail(MP_ESTATE, "mp_manager_connect: the manager was started or connected already");
    if (rc == MP_OK && m->opts.address == NULL)
        rc = mp_fail(MP_EINVAL, "mp_manager_connect: the options name no address to connect to");
    if (rc != MP_OK)
        return rc;
    if ((rc = attach(m, m->opts.address)) != MP_OK) {
        detach(m);
        return rc;
    }
    m->state = MP_MANAGER_CONNECTED;
    return MP_OK;
}

int mp_manager_serve_forever(mp_manager *m)
{
    int rc = check(m, "mp_manager_serve_forever");
    if (rc == MP_OK && m->state != MP_MANAGER_NEW)
        rc = mp_fail(MP_ESTATE, "mp_manager_serve_forever: the manager was started or connected already");
    mp_listener *l = NULL;
    if (rc == MP_OK)
        rc = mp_manager_listen(m->opts.address, m->opts.authkey, m->opts.authkey_len, m->opts.timeout,
                               m->opts.allow_weak_authkey, &l);
    if (rc == MP_OK && (rc = mp_objects_open()) != MP_OK)
        mp_listener_close(l);
    if (rc != MP_OK)
        return rc;
    m->address = mp_strdup(mp_listener_address(l));
    rc = mp_server_serve(l);
    mp_objects_close();
    mp_listener_close(l);
    m->state = MP_MANAGER_SHUT;
    return rc;
}

const char *mp_manager_address(const mp_manager *m)
{
    return m != NULL ? m->address : NULL;
}

int mp_manager_shutdown(mp_manager *m)
{
    int rc = check(m, "mp_manager_shutdown");
    if (rc == MP_OK && m->state != MP_MANAGER_STARTED && m->state != MP_MANAGER_CONNECTED)
        rc = mp_fail(MP_ESTATE, "mp_manager_shutdown: the manager is not started or connected");
    if (rc != MP_OK)
        return rc;
    mp_value *tree = NULL;
    const mp_value *v;
    rc = mp_link_call(m->link, MP_WIRE_SHUTDOWN, NULL, &tree, &v);
    mp_value_free(tree);
    if (m->server != NULL) {
        /* The server ends once its clients are gone; one that does not
         * within the timeout (stopped, or stuck in a method) is ended. */
        int joined = mp_process_join(m->server, m->opts.timeout);
        if (joined != MP_OK || mp_process_is_alive(m->server) == 1) {
            (void)mp_process_terminate(m->server);
            (void)mp_process_join(m->server, MP_FOREVER);
        }
        (void)mp_process_close(m->server);
        m->server = NULL;
        rc = MP_OK; /* it is stopped either way */
    }
    m->state = MP_MANAGER_SHUT;
    return rc;
}

void mp_manager_free(mp_manager *m)
{
    if (m == NULL)
        return;
    if (m->state == MP_MANAGER_STARTED)
        (void)mp_manager_shutdown(m);
    detach(m);
    free((void *)m->opts.address);
    free((void *)m->opts.authkey);
    free(m);
}

int mp_manager_create(mp_manager *m, const char *typeid, mp_proxy **out, const char *fmt, ...)
{
    int rc = check(m, "mp_manager_create");
    if (rc == MP_OK && (typeid == NULL || out == NULL))
        rc = mp_fail(MP_EINVAL, "mp_manager_create: NULL argument");
    if (rc == MP_OK)
        *out = NULL;
    if (rc == MP_OK && m->state != MP_MANAGER_STARTED && m->state != MP_MANAGER_CONNECTED)
        rc = mp_fail(MP_ESTATE, "mp_manager_create: the manager is not started or connected");
    if (rc != MP_OK)
        return rc;
    mp_buf f = MP_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    rc = mp_pack_str(&f, typeid, strlen(typeid));
    if (rc == MP_OK)
        rc = mp_vpack_array(&f, fmt != NULL ? fmt : "", ap, NULL);
    va_end(ap);
    if (rc != MP_OK) {
        mp_buf_free(&f);
        return mp_fail(rc, "mp_manager_create(%s): the arguments: %s", typeid, mp_last_error());
    }
    mp_value *tree = NULL;
    const mp_value *v;
    rc = mp_link_call(m->link, MP_WIRE_CREATE, &f, &tree, &v);
    mp_buf_free(&f);
    uint64_t oid;
    const char *made;
    if (rc == MP_OK && mp_unpack(v, "(Q s)", &oid, &made) != MP_OK)
        rc = mp_fail(MP_EPROTO, "manager: a malformed reply to create (want [oid, typeid])");
    if (rc == MP_OK)
        rc = mp_proxy_make(mp_link_ref(m->link), oid, made, false, out);
    mp_value_free(tree);
    return rc;
}
