/* manager_internal.h - a manager's state (manager.c), shared with its
 * start (manager_start.c) and its server's listening side (listen.c). */
#ifndef MPROC_MANAGER_INTERNAL_H
#define MPROC_MANAGER_INTERNAL_H

#include "manager/link.h"
#include "mproc/manager.h"
#include "mproc/net.h"

typedef enum mp_manager_state { MP_MANAGER_NEW, MP_MANAGER_STARTED, MP_MANAGER_CONNECTED, MP_MANAGER_SHUT } mp_manager_state;

struct mp_manager {
    mp_manager_options opts; /* address and authkey: our copies */
    mp_manager_state state;
    char *address;      /* where the server is, once started or connected */
    mp_link *link;
    mp_process *server; /* a started manager's */
};

/* listen.c: the server's Listener on address (NULL or "": a fresh local
 * one), with key, after checking that a non-loopback address has a key of
 * MP_MANAGER_MIN_AUTHKEY bytes unless allow_weak. */
int mp_manager_listen(const char *address, const void *key, size_t key_len, double timeout, bool allow_weak,
                      mp_listener **out);

/* manager_start.c */
int mp_manager_start_server(mp_manager *m);

#endif
