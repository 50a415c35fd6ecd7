/* mproc/net.h - Listener and Client (multiprocessing.connection).
 *
 * A Listener waits for connections on an address; Client connects to one.
 * Both ends are then ordinary Connections (conn.h): send/recv, poll,
 * mp_wait and close work on them as on a Pipe's, with Python's framing, so
 * a Python program's Listener or Client can talk to ours over tcp:// and
 * unix: (not over pipe:, see below).
 *
 * Addresses are strings:
 *   "tcp://host:port"  IPv4 or IPv6 ("tcp://[::1]:5000"), a name or a
 *                      number; port 0 listens on a port the system picks,
 *                      which mp_listener_address then tells.
 *   "unix:/path"       an AF_UNIX socket (POSIX); the Listener removes the
 *                      file when closed, as Python's does.
 *   "unix:@name"       Linux's abstract namespace: no file at all.
 *   "pipe:name"        a Windows named pipe, \\.\pipe\name, as Python's
 *                      PipeListener makes: a new instance for each client,
 *                      the first made so that a name another process
 *                      serves is refused (MP_EOS); local clients only. The
 *                      name is 1 to 256 bytes of UTF-8 without '\\' or '/'.
 *                      A client waits, within its timeout, while every
 *                      instance is taken (MP_ETIMEDOUT); a name nobody
 *                      serves is MP_EOS at once. The backlog is unused.
 *                      The pipe is in byte mode with our framing, where
 *                      Python's is in message mode without it, so a
 *                      Python peer cannot use it: give it tcp://.
 * A family this system does not have ("unix:" on Windows, "pipe:" on
 * POSIX) is MP_EUNSUPPORTED, with a message; an address that is not one of
 * these forms is MP_EINVAL.
 *
 * Sockets and pipes are never inherited by children, and TCP sockets send
 * at once (TCP_NODELAY): a small message is one write, header and payload.
 * A Connection over a socket cannot be passed to a child as an argument
 * yet (MP_EUNSUPPORTED); the child connects to the address itself.
 *
 * Thread safety: one thread may accept while others use the connections
 * already accepted; accept from two threads at once is safe (each gets its
 * own connection). close must not race with other calls on the listener.
 *
 * Authentication (an authkey) is Python's mutual challenge, byte for byte,
 * each step one message: the Listener challenges first (deliver_challenge),
 * then the Client challenges back (answer_challenge, then deliver):
 *   challenger -> "#CHALLENGE#{sha256}" and 40 random bytes
 *   answerer   -> "{sha256}" and HMAC-SHA256(authkey, "{sha256}" + bytes)
 *   challenger -> "#WELCOME#" or "#FAILURE#"
 * The HMAC covers everything after "#CHALLENGE#", prefix included. We
 * always send this form (Python 3.12's): Python 3.12+ answers it the same
 * way, and Python <= 3.11, which knows no prefixes, takes the whole thing
 * as its challenge and answers with a bare 16-byte HMAC-MD5 of it, which we
 * accept as 3.12 does. As the answerer we also take the legacy challenge of
 * Python <= 3.11 (exactly 20 bytes after "#CHALLENGE#"), answered with the
 * bare 16-byte HMAC-MD5 it expects, and a "{md5}" prefix. So either side
 * talks to Python 3.11 and 3.12+ peers. Every handshake message received
 * over 256 bytes is refused, as in Python, and digests are compared in
 * constant time.
 *
 * Errors: MP_EINVAL (NULL, a malformed address), MP_EUNSUPPORTED (see
 * above), MP_ETIMEDOUT (nothing within the timeout, a peer silent during
 * the handshake), MP_EAUTH (authentication failed: a wrong key on either
 * side, a peer that does not speak the handshake, such as one without an
 * authkey that sends a message of its own), MP_EPROTO (a handshake message
 * over 256 bytes, or the peer closing in the middle), MP_EOS (with the
 * OS's message: refused, address in use, unreachable...). When the
 * handshake fails, the connection is closed and nothing is returned.
 */
#ifndef MPROC_NET_H
#define MPROC_NET_H

#include <stddef.h>

#include "mproc/conn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mp_listener mp_listener;

/* The timeout of NULL options and of MP_NET_OPTIONS_INIT, in seconds. */
#define MP_NET_DEFAULT_TIMEOUT 60.0

typedef struct mp_net_options {
    /* authkey: the shared secret of Python's challenge and response (see
     * above); both ends need the same one. NULL (Python's None): no
     * authentication. authkey_len bytes of it are used; it is copied, so it
     * need not outlive the call. A peer with a key against one without
     * fails: MP_EAUTH or MP_ETIMEDOUT (one waits for a challenge that
     * never comes), on the side that has one. */
    const void *authkey;
    size_t authkey_len;
    /* Seconds that connecting and the handshake (Client) or the handshake
     * after accepting (Listener) may take. MP_FOREVER waits; 0, a negative value or NaN
     * polls, as every timeout (a connect that is not done at once fails). A
     * zeroed struct therefore polls: start from MP_NET_OPTIONS_INIT. */
    double timeout;
    /* Listener: connections the system may queue before they are
     * accepted. 0: 64 (Python's 1 refuses a burst of clients). */
    int backlog;
} mp_net_options;

/* The defaults: no authentication, MP_NET_DEFAULT_TIMEOUT, backlog 64. */
#define MP_NET_OPTIONS_INIT {NULL, 0, MP_NET_DEFAULT_TIMEOUT, 0}

/* Listener(address, authkey=..., backlog=...). NULL opts:
 * MP_NET_OPTIONS_INIT. */
int mp_listener_new(mp_listener **out, const char *address, const mp_net_options *opts);

/* accept(): the next connection, within timeout (MP_FOREVER waits, 0 or
 * less polls: MP_ETIMEDOUT if none is waiting). With an authkey the
 * handshake follows, within the options' timeout; if it fails the
 * connection is closed and the error returned (MP_EAUTH...): the listener
 * goes on listening. *conn is a duplex Connection, the caller's to close. */
int mp_listener_accept(mp_listener *l, double timeout, mp_conn **conn);

/* address: the address bound, as an address string with the port the
 * system picked ("tcp://127.0.0.1:40513"). Valid until mp_listener_close;
 * NULL for NULL. */
const char *mp_listener_address(const mp_listener *l);

/* close(): stops listening and frees the listener (the pointer may not be
 * used again), as mp_conn_close does; connections already accepted stay
 * open. NULL is accepted. */
void mp_listener_close(mp_listener *l);

/* Client(address, authkey=...): a duplex Connection to a Listener's
 * address, the caller's to close, authenticated first if opts has an
 * authkey. Nothing listening there: MP_EOS (refused), and never a wait
 * beyond the timeout. */
int mp_client(mp_conn **conn, const char *address, const mp_net_options *opts);

#ifdef __cplusplus
}
#endif

#endif
