/* remote_pool.c - what both sides of a pool on Redis share: its settings,
 * its connection and keys, and the envelopes of tasks and replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "platform.h"
#include "redis/remote_pool.h"

#define DEFAULT_TIMEOUT 10.0
#define DEFAULT_LEASE 5.0
#define DEFAULT_DELIVERIES 3
#define DEFAULT_RESULT_TTL 60.0

/* Redis keeps expiry times in milliseconds; a year bounds what a lease
 * or a result's life can sensibly be. */
#define MAX_SECONDS (365 * 86400.0)

static bool seconds_ok(double s)
{
    return s == 0 || (s >= 0.001 && s <= MAX_SECONDS);
}

int mp_backend_settle(const mp_backend_options *opts, mp_backend_options *out, const char *what)
{
    mp_backend_options o = opts ? *opts : (mp_backend_options){0};
    if (!seconds_ok(o.timeout) || !seconds_ok(o.lease) || !seconds_ok(o.result_ttl) || o.max_deliveries < 0)
        return mp_fail(MP_EINVAL,
                       "%s: backend options are 0 (the default) or more; times from 0.001 to %g seconds",
                       what, MAX_SECONDS);
    out->timeout = o.timeout ? o.timeout : DEFAULT_TIMEOUT;
    out->lease = o.lease ? o.lease : DEFAULT_LEASE;
    out->max_deliveries = o.max_deliveries ? o.max_deliveries : DEFAULT_DELIVERIES;
    out->result_ttl = o.result_ttl ? o.result_ttl : DEFAULT_RESULT_TTL;
    return MP_OK;
}

char *mp_backend_key(const char *prefix, const char *suffix)
{
    size_t n = strlen(prefix) + strlen(suffix) + 1;
    char *k = malloc(n);
    if (k != NULL)
        snprintf(k, n, "%s%s", prefix, suffix);
    return k;
}

int mp_backend_open(const char *backend, const mp_backend_options *o, mp_redis **out, char **prefix,
                    const char *what)
{
    *out = NULL;
    *prefix = NULL;
    if (backend == NULL || (strncmp(backend, "redis://", 8) != 0 && strncmp(backend, "rediss://", 9) != 0))
        return mp_fail(MP_EINVAL, "%s: the backend is not a redis:// address", what);
    mp_redis_options ro = {.connect_timeout = o->timeout, .command_timeout = o->timeout};
    mp_redis *c;
    int rc = mp_redis_open(&c, backend, &ro);
    if (rc != MP_OK)
        return rc;
    const char *name = mp_redis_path(c);
    if (name[0] == '\0') {
        mp_redis_free(c);
        return mp_fail(MP_EINVAL, "%s: '%s' names no pool (redis://host:port/db/name)", what, backend);
    }
    size_t n = strlen("mproc:p:{}:") + strlen(name) + 1;
    if ((*prefix = malloc(n)) == NULL) {
        mp_redis_free(c);
        return mp_fail(MP_ENOMEM, "%s: out of memory", what);
    }
    snprintf(*prefix, n, "mproc:p:{%s}:", name);
    *out = c;
    return MP_OK;
}

int mp_backend_id(char id[33])
{
    unsigned char rnd[16];
    int rc = mp_os_random(rnd, sizeof rnd);
    for (size_t i = 0; rc == MP_OK && i < sizeof rnd; i++)
        snprintf(id + 2 * i, 3, "%02x", rnd[i]);
    return rc;
}

int mp_task_envelope_read(const mp_value *v, mp_task_envelope *e)
{
    if (mp_unpack(v, "(s s s y#)", &e->id, &e->caller, &e->reply_key, &e->message, &e->message_len) != MP_OK)
        return mp_fail(MP_EPROTO, "a malformed task in the pool's queue");
    return MP_OK;
}

int mp_reply_envelope_write(mp_buf *out, const mp_reply_envelope *e)
{
    return mp_pack(out, "[s s q ? y#]", e->id, e->host, (int64_t)e->pid, e->died, e->reply, e->reply_len);
}

int mp_reply_envelope_read(const mp_value *v, mp_reply_envelope *e)
{
    int64_t pid;
    if (mp_unpack(v, "(s s q ? y#)", &e->id, &e->host, &pid, &e->died, &e->reply, &e->reply_len) != MP_OK)
        return mp_fail(MP_EPROTO, "a malformed reply from the pool's workers");
    e->pid = (long)pid;
    return MP_OK;
}
