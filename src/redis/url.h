/* url.h - redis:// addresses taken apart.
 *
 *   redis://[[user]:password@]host[:port][/db[/path]]
 *
 * host is a name, an IPv4 address or an IPv6 address in brackets; port
 * defaults to 6379 and db to 0. A userinfo without ':' is a password alone,
 * as redis-cli reads it. user and password are percent-decoded (%40 for '@',
 * %3A for ':', %2F for '/'); path, whatever follows the db and its '/', is
 * returned as written, for the caller to give a meaning (a Queue's name).
 * "rediss://" (TLS) is MP_EUNSUPPORTED: see redis_client.h. */
#ifndef MPROC_REDIS_URL_H
#define MPROC_REDIS_URL_H

#define MP_REDIS_DEFAULT_PORT 6379u

/* Every string points into one allocation that mp_redis_url_free frees. */
typedef struct mp_redis_url {
    const char *host;     /* without brackets */
    unsigned port;        /* 1 to 65535 */
    unsigned db;          /* 0 to INT32_MAX */
    const char *user;     /* NULL: the default user */
    const char *password; /* NULL: no AUTH */
    const char *path;     /* "" when nothing follows the db */
    char *mem;
} mp_redis_url;

/* MP_EINVAL with a message saying what is wrong, MP_EUNSUPPORTED for
 * rediss://, MP_ENOMEM. *out is all zero on failure. */
int mp_redis_url_parse(const char *url, mp_redis_url *out);
void mp_redis_url_free(mp_redis_url *u);

#endif
