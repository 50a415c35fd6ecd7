/* listen.c - where and how a manager's server listens (manager_internal.h). */
#include <stdio.h>
#include <string.h>

#include "base/error_internal.h"
#include "manager/manager_internal.h"
#include "platform.h"

/* Whether clients of address can only be on this machine. */
static bool local_only(const char *address)
{
    static const char *const local[] = {"unix:", "pipe:", "tcp://127.", "tcp://[::1]:", "tcp://localhost:"};
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
        if (strncmp(address, local[i], strlen(local[i])) == 0)
            return true;
    return false;
}

static int listen_on(const char *address, const void *key, size_t key_len, double timeout, mp_listener **out)
{
    mp_net_options o = MP_NET_OPTIONS_INIT;
    o.authkey = key;
    o.authkey_len = key_len;
    o.timeout = timeout;
    return mp_listener_new(out, address, &o);
}

int mp_manager_listen(const char *address, const void *key, size_t key_len, double timeout, bool allow_weak,
                      mp_listener **out)
{
    if (address != NULL && address[0] != '\0') {
        if (!allow_weak && !local_only(address) && key_len < MP_MANAGER_MIN_AUTHKEY)
            return mp_fail(MP_EINVAL, "manager: serving %s, which other machines can reach, needs an authkey of "
                                      "at least %d bytes (this one has %zu); set allow_weak_authkey to serve it "
                                      "anyway", address, MP_MANAGER_MIN_AUTHKEY, key_len);
        return listen_on(address, key, key_len, timeout, out);
    }
    /* A name nobody else has, of the first local family the system has:
     * a named pipe (Windows), an abstract AF_UNIX name (nothing to remove
     * after a crash), else TCP loopback. */
    unsigned char r[8];
    int rc = mp_os_random(r, sizeof r);
    if (rc != MP_OK)
        return rc;
    char name[96];
    static const char *const families[] = {"pipe:", "unix:@"};
    rc = MP_EUNSUPPORTED;
    for (size_t i = 0; i < 2 && rc == MP_EUNSUPPORTED; i++) {
        snprintf(name, sizeof name, "%smproc-manager-%ld-%02x%02x%02x%02x%02x%02x%02x%02x", families[i],
                 mp_current_pid(), r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
        rc = listen_on(name, key, key_len, timeout, out);
    }
    if (rc == MP_EUNSUPPORTED)
        rc = listen_on("tcp://127.0.0.1:0", key, key_len, timeout, out);
    return rc;
}
