/* client.c - Client (net.h): a connected socket as a Connection. */
#include "base/error_internal.h"
#include "ipc/conn_internal.h"
#include "mproc/net.h"
#include "net/address.h"
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
    mp_os_handle s;
    rc = mp_os_socket_connect(&a.ep, o.timeout, &s);
    mp_net_address_free(&a);
    if (rc != MP_OK)
        return mp_fail(rc, "mp_client(%s): %s", address, mp_last_error());
    return mp_conn_from_socket(s, conn);
}
