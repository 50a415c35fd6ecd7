/* listener.c - Listener (net.h): a listening socket whose accepted
 * sockets become Connections, or a named pipe whose clients do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "ipc/conn_internal.h"
#include "mproc/net.h"
#include "net/address.h"
#include "net/auth.h"
#include "net/options.h"

struct mp_listener {
    mp_os_handle h;             /* a socket's */
    mp_os_npipe_listener *pipe; /* a named pipe's: then h is none */
    mp_net_address bound;       /* what was asked for, to unbind at close */
    mp_net_options opts;        /* authkey: our own copy, or NULL */
    char address[MP_NET_ADDRESS_SIZE];
};

/* Listen on the address parsed into l->bound, and learn what it is. */
static int start_listening(mp_listener *l)
{
    if (l->bound.pipe) {
        int rc = mp_os_npipe_listen(l->bound.text, &l->pipe);
        if (rc == MP_OK)
            snprintf(l->address, sizeof l->address, "pipe:%s", l->bound.text);
        return rc;
    }
    int rc = mp_os_socket_listen(&l->bound.ep, l->opts.backlog, &l->h);
    return rc == MP_OK ? mp_os_socket_address(l->h, l->address, sizeof l->address) : rc;
}

int mp_listener_new(mp_listener **out, const char *address, const mp_net_options *opts)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_listener_new: NULL out");
    *out = NULL;
    mp_listener *l = calloc(1, sizeof *l);
    if (l == NULL)
        return mp_fail(MP_ENOMEM, "mp_listener_new: out of memory");
    l->h = MP_OS_NO_HANDLE;
    int rc = mp_net_options_resolve(opts, "mp_listener_new", &l->opts);
    if (rc != MP_OK)
        l->opts.authkey = NULL; /* still the caller's: not ours to free */
    if (rc == MP_OK && l->opts.authkey != NULL) {
        /* The caller's key need not outlive this call; +1: malloc(0) may be NULL. */
        void *key = malloc(l->opts.authkey_len + 1);
        if (key != NULL)
            memcpy(key, l->opts.authkey, l->opts.authkey_len);
        l->opts.authkey = key;
        if (key == NULL)
            rc = mp_fail(MP_ENOMEM, "mp_listener_new: out of memory");
    }
    if (rc == MP_OK)
        rc = mp_net_address_parse(address, "mp_listener_new", &l->bound);
    if (rc == MP_OK && (rc = start_listening(l)) != MP_OK)
        rc = mp_fail(rc, "mp_listener_new(%s): %s", address, mp_last_error());
    if (rc != MP_OK) {
        mp_listener_close(l);
        return rc;
    }
    *out = l;
    return MP_OK;
}

int mp_listener_accept(mp_listener *l, double timeout, mp_conn **conn)
{
    if (l == NULL || conn == NULL)
        return mp_fail(MP_EINVAL, "mp_listener_accept: NULL argument");
    *conn = NULL;
    mp_os_handle h;
    int rc =
        l->pipe != NULL ? mp_os_npipe_accept(l->pipe, timeout, &h) : mp_os_socket_accept(l->h, timeout, &h);
    if (rc == MP_OK)
        rc = l->pipe != NULL ? mp_conn_from_pipe(h, conn) : mp_conn_from_socket(h, conn);
    if (rc != MP_OK || l->opts.authkey == NULL)
        return rc;
    rc = mp_auth_server(*conn, l->opts.authkey, l->opts.authkey_len, l->opts.timeout, "mp_listener_accept");
    if (rc != MP_OK) {
        (void)mp_conn_close(*conn); /* the error is the handshake's */
        *conn = NULL;
    }
    return rc;
}

const char *mp_listener_address(const mp_listener *l)
{
    return l != NULL ? l->address : NULL;
}

void mp_listener_close(mp_listener *l)
{
    if (l == NULL)
        return;
    mp_os_npipe_close(l->pipe);
    if (l->h != MP_OS_NO_HANDLE) {
        mp_os_socket_close(l->h);
        mp_os_socket_unbind(&l->bound.ep);
    }
    mp_net_address_free(&l->bound);
    free((void *)l->opts.authkey);
    free(l);
}
