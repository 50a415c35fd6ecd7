/* client.c - Client (net.h): a connected socket or named pipe as a
 * Connection. */
#include "base/error_internal.h"
#include "ipc/conn_internal.h"
#include "mproc/net.h"
#include "net/address.h"
#include "net/auth.h"
#include "net/options.h"

int mp_client(mp_conn **conn, const char *address, const mp_net_options *opts)
{
    if (conn == NULL)
        return mp_fail(MP_EINVAL, "mp_client: NULL conn");
    *conn = NULL;
    mp_net_options o;
    mp_net_address a;
    int rc = mp_net_options_resolve(opts, "mp_client", &o);
    if (rc != MP_OK || (rc = mp_net_address_parse(address, "mp_client", &a)) != MP_OK)
        return rc;
    double started = mp_os_monotonic();
    bool pipe = a.pipe;
    mp_os_handle h;
    rc = pipe ? mp_os_npipe_connect(a.text, o.timeout, &h) : mp_os_socket_connect(&a.ep, o.timeout, &h);
    mp_net_address_free(&a);
    if (rc != MP_OK)
        return mp_fail(rc, "mp_client(%s): %s", address, mp_last_error());
    rc = pipe ? mp_conn_from_pipe(h, conn) : mp_conn_from_socket(h, conn);
    if (rc != MP_OK || o.authkey == NULL)
        return rc;
    /* One timeout for connecting and the handshake together. */
    rc = mp_auth_client(*conn, o.authkey, o.authkey_len, o.timeout - (mp_os_monotonic() - started), "mp_client");
    if (rc != MP_OK) {
        (void)mp_conn_close(*conn); /* the error is the handshake's */
        *conn = NULL;
    }
    return rc;
}
