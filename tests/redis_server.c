/* redis_server.c - asking the test supervisor for Redis servers
 * (redis_server.h), over the platform's sockets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"
#include "redis_server.h"

static unsigned supervisor_port(void)
{
    FILE *f = fopen(MPT_REDIS_STATE_FILE, "r");
    unsigned port = 0;
    if (f == NULL || fscanf(f, "%u", &port) != 1)
        fail_msg(
            "no Redis supervisor: %s is missing from the working directory. Run this test through ctest, "
            "whose redis fixture (tests/redis.cmake) starts it; it needs Debian's redis-server",
            MPT_REDIS_STATE_FILE);
    fclose(f);
    return port;
}

/* One request line, one reply line, over a socket of its own. */
static void request(const char *line, char *reply, size_t size)
{
    mp_os_endpoint ep = {.family = MP_OS_TCP, .host = "127.0.0.1", .port = supervisor_port()};
    mp_os_handle s = MP_OS_NO_HANDLE;
    MPT_OK(mp_os_socket_connect(&ep, 10.0, &s));
    char out[128];
    int n = snprintf(out, sizeof out, "%s\n", line);
    MPT_OK(mp_os_socket_write(s, out, (size_t)n));
    size_t len = 0;
    while (len == 0 || reply[len - 1] != '\n') {
        size_t got = 0;
        assert_true(len + 1 < size);
        MPT_OK(mp_os_socket_poll(s, 60.0));
        MPT_OK(mp_os_socket_read_some(s, reply + len, size - 1 - len, &got));
        len += got;
    }
    mp_os_socket_close(s);
    reply[len - 1] = '\0';
    if (strncmp(reply, "ok", 2) != 0)
        fail_msg("Redis supervisor: \"%s\" -> \"%s\"", line, reply);
}

void mpt_redis_start(mpt_redis *r)
{
    char reply[256];
    request("new", reply, sizeof reply);
    assert_int_equal(sscanf(reply, "ok %u", &r->port), 1);
    snprintf(r->url, sizeof r->url, "redis://127.0.0.1:%u", r->port);
}

void mpt_redis_do(const mpt_redis *r, const char *verb)
{
    char line[64], reply[256];
    snprintf(line, sizeof line, "%s %u", verb, r->port);
    request(line, reply, sizeof reply);
}
