/* auth_peer.c - the C side of tests/auth_interop.py: our Listener or
 * Client with an authkey, against Python's.
 *   auth_peer listen KEY        print the address, accept one connection
 *   auth_peer connect ADDR KEY  connect
 * Then print the result code's name; when MP_OK, send "from C", receive
 * one message and print it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mproc/error.h"
#include "mproc/net.h"
#include "mproc/process.h"

static int talk(mp_conn *c)
{
    void *d;
    size_t len;
    int rc = mp_conn_send_bytes(c, "from C", 6);
    if (rc == MP_OK && (rc = mp_conn_recv_bytes(c, 256, &d, &len)) == MP_OK) {
        printf(" %.*s", (int)len, (const char *)d);
        free(d);
    }
    mp_conn_close(c);
    return rc;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    bool listen = argc == 3 && strcmp(argv[1], "listen") == 0;
    if (!listen && !(argc == 4 && strcmp(argv[1], "connect") == 0)) {
        fprintf(stderr, "usage: auth_peer listen KEY | auth_peer connect ADDR KEY\n");
        return 2;
    }
    const char *key = argv[argc - 1];
    mp_net_options o = MP_NET_OPTIONS_INIT;
    o.authkey = key;
    o.authkey_len = strlen(key);
    o.timeout = 30;
    mp_conn *c = NULL;
    int rc;
    if (listen) {
        mp_listener *l;
        rc = mp_listener_new(&l, "tcp://127.0.0.1:0", &o);
        if (rc != MP_OK) {
            fprintf(stderr, "%s\n", mp_last_error());
            return 1;
        }
        printf("%s\n", mp_listener_address(l));
        fflush(stdout);
        rc = mp_listener_accept(l, 60, &c);
        printf("%s", mp_errname(rc));
        if (rc == MP_OK)
            rc = talk(c);
        mp_listener_close(l);
    } else {
        rc = mp_client(&c, argv[2], &o);
        printf("%s", mp_errname(rc));
        if (rc == MP_OK)
            rc = talk(c);
    }
    printf("\n");
    return 0;
}
