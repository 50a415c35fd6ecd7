/* redis_client.h - a connection to one Redis server, for the core's queues
 * and pools on Redis (internal: no public header).
 *
 * Open it with a redis:// URL (url.h): it connects within the connect
 * timeout, authenticates (AUTH password, or AUTH user password for an ACL
 * user) and selects the URL's db, in one round trip. Then every call sends
 * its commands and waits for their replies within a deadline.
 *
 * What a call returns:
 *   MP_OK          the replies came;
 *   MP_EREMOTE     the server answered with an error: mp_last_error() is
 *                  exactly its message ("WRONGTYPE Operation against ..."),
 *                  so the first word tells the kind; the connection stays
 *                  good;
 *   MP_EAUTH       AUTH was refused (a wrong password or user) or the
 *                  server wants one (NOAUTH), with Redis's message;
 *   MP_ETIMEDOUT   no whole reply within the timeout;
 *   MP_ECONNRESET  the connection is lost, or cannot be made (refused,
 *                  unreachable, a name that does not resolve);
 *   MP_EPROTO      the server's bytes are not RESP2; MP_ETOOBIG a reply is
 *                  beyond the limits (resp.h);
 *   MP_EINVAL, MP_ENOMEM.
 * After MP_ETIMEDOUT, MP_ECONNRESET, MP_EPROTO or MP_ETOOBIG the connection
 * is out of step with the server, so it is closed; the NEXT call connects
 * again (and authenticates and selects again) before it sends anything. A
 * call never reconnects once it has sent a byte: a command that may have
 * run is never sent twice. Whether it ran is unknown, as with any client.
 * A child made by fork that inherits a connection connects anew on its
 * first call, and leaves the parent's alone.
 *
 * Not supported: TLS (rediss://) - run a local tunnel (stunnel, or spiped
 * on both ends) and give its redis://127.0.0.1:port; RESP3 and pub/sub
 * (their push messages); Redis Cluster redirections (MOVED/ASK come back as
 * MP_EREMOTE); unix socket paths.
 *
 * Thread safety: a connection is used by one thread at a time (one
 * connection per thread); different connections are independent.
 */
#ifndef MPROC_REDIS_CLIENT_H
#define MPROC_REDIS_CLIENT_H

#include <stddef.h>

#include "redis/resp.h"

typedef struct mp_redis mp_redis;

/* Zero fields take the defaults. A timeout follows DESIGN.md: MP_FOREVER
 * waits forever, a negative one polls. */
typedef struct mp_redis_options {
    double connect_timeout; /* TCP connect and the AUTH/SELECT round trip; default 10 s */
    double command_timeout; /* each mp_redis_call; default 30 s */
    mp_resp_limits limits;  /* every reply's bounds */
} mp_redis_options;

/* Parse url (MP_EINVAL, MP_EUNSUPPORTED for rediss://) and connect; the
 * other errors are a call's. On failure *out is NULL. */
int mp_redis_open(mp_redis **out, const char *url, const mp_redis_options *opts);
/* Close the connection and free c (NULL too). */
void mp_redis_free(mp_redis *c);

/* What followed the db in the URL, without its '/' ("" if nothing): the
 * name of a queue in "redis://host:6379/0/name". Not percent-decoded.
 * Valid until mp_redis_free. */
const char *mp_redis_path(const mp_redis *c);

/* One command, argv[0..argc), within the command timeout. On MP_OK *reply
 * is its reply, never an error one; free it with mp_resp_free. On any
 * failure *reply is NULL. */
int mp_redis_call(mp_redis *c, size_t argc, const mp_resp_arg *argv, mp_resp_reply **reply);
/* The same within timeout seconds rather than the command timeout (a
 * blocking command wants its own block time and a margin). */
int mp_redis_call_within(mp_redis *c, double timeout, size_t argc, const mp_resp_arg *argv,
                         mp_resp_reply **reply);
/* The same with C strings for arguments, NULL after the last one. */
int mp_redis_callv(mp_redis *c, mp_resp_reply **reply, const char *arg, ...)
#if defined(__GNUC__)
    __attribute__((sentinel))
#endif
    ;

/* One of a pipeline's commands. */
typedef struct mp_redis_cmd {
    size_t argc;
    const mp_resp_arg *argv;
} mp_redis_cmd;

/* Send n commands in one write and read their n replies, all within
 * timeout (a blocking command such as BLMOVE wants its own block time and
 * a margin). On MP_OK replies[i] is command i's reply, which may be an
 * error reply: look at each (mp_redis_check). On failure every replies[i]
 * is NULL. MULTI ... EXEC goes through here as n commands. */
int mp_redis_pipeline(mp_redis *c, size_t n, const mp_redis_cmd *cmds, double timeout,
                      mp_resp_reply **replies);

/* mp_redis_pipeline for commands whose replies matter only as errors:
 * MP_OK once all n came and none is an error reply; the replies are
 * dropped. */
int mp_redis_run(mp_redis *c, size_t n, const mp_redis_cmd *cmds, double timeout);

/* MP_OK for a reply that is not an error; MP_EREMOTE (MP_EAUTH for NOAUTH)
 * with the server's message as mp_last_error() for one that is. */
int mp_redis_check(const mp_resp_reply *r);

#endif
