/* auth.h - Python's authentication handshake (net.h) on a fresh
 * connection: the challenge and response of multiprocessing.connection's
 * deliver_challenge and answer_challenge. */
#ifndef MPROC_NET_AUTH_H
#define MPROC_NET_AUTH_H

#include <stddef.h>

#include "mproc/conn.h"

/* Python's cap on every handshake message received. */
#define MP_AUTH_MAX_MESSAGE 256

/* The Listener's side: challenge the peer, then answer its challenge; all
 * within timeout seconds (MP_FOREVER waits). MP_OK, or MP_EAUTH,
 * MP_ETIMEDOUT, MP_EPROTO... with a message naming where; the caller
 * closes the connection on failure. */
int mp_auth_server(mp_conn *c, const void *key, size_t key_len, double timeout, const char *where);
/* The Client's side: the same two steps the other way round. */
int mp_auth_client(mp_conn *c, const void *key, size_t key_len, double timeout, const char *where);

#endif
