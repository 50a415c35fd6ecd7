/* address.c - address strings (net.h) into endpoints (address.h). The
 * forms are checked here, the same on both systems; whether the system
 * has the family is the platform's answer. */
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "net/address.h"

static int bad(const char *where, const char *address, const char *why)
{
    return mp_fail(MP_EINVAL, "%s: address \"%s\": %s", where, address, why);
}

/* "host:port" or "[v6]:port", in place: host ends up NUL-terminated. */
static int parse_tcp(char *s, const char *where, const char *address, mp_net_address *out)
{
    char *colon = strrchr(s, ':');
    if (colon == NULL)
        return bad(where, address, "expected tcp://host:port");
    *colon = '\0';
    const char *port = colon + 1;
    if (*port == '\0' || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
        return bad(where, address, "the port must be a number from 0 to 65535");
    unsigned long n = strtoul(port, NULL, 10);
    if (n > 65535)
        return bad(where, address, "the port must be a number from 0 to 65535");
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        s[len - 1] = '\0';
        s++;
    } else if (strchr(s, ':') != NULL || strchr(s, '[') != NULL) {
        return bad(where, address, "an IPv6 address goes in brackets: tcp://[::1]:port");
    }
    if (*s == '\0')
        return bad(where, address, "the host is empty");
    out->ep = (mp_os_endpoint){.family = MP_OS_TCP, .host = s, .port = (unsigned)n};
    return MP_OK;
}

/* A named pipe's name is one component of \\.\pipe\: no separators. */
static int check_pipe_name(const char *name, const char *where, const char *address)
{
    if (*name == '\0')
        return bad(where, address, "the pipe name is empty");
    if (strpbrk(name, "\\/") != NULL)
        return bad(where, address, "a pipe name has no '\\' or '/'");
    if (strlen(name) > MP_NET_PIPE_NAME_MAX)
        return bad(where, address, "a pipe name has at most 256 bytes");
    return MP_OK;
}

int mp_net_address_parse(const char *address, const char *where, mp_net_address *out)
{
    *out = (mp_net_address){0};
    if (address == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL address", where);
    static const char tcp[] = "tcp://", unix_[] = "unix:", pipe[] = "pipe:";
    bool is_tcp = strncmp(address, tcp, sizeof tcp - 1) == 0;
    bool is_unix = strncmp(address, unix_, sizeof unix_ - 1) == 0;
    bool is_pipe = strncmp(address, pipe, sizeof pipe - 1) == 0;
    if (!is_tcp && !is_unix && !is_pipe)
        return bad(where, address, "expected tcp://host:port, unix:/path, unix:@name or pipe:name");
    size_t prefix = is_tcp ? sizeof tcp - 1 : is_unix ? sizeof unix_ - 1 : sizeof pipe - 1;
    out->text = mp_strdup(address + prefix);
    if (out->text == NULL)
        return mp_fail(MP_ENOMEM, "%s: out of memory", where);
    int rc;
    if (is_tcp) {
        rc = parse_tcp(out->text, where, address, out);
    } else if (is_pipe) {
        out->pipe = true;
        rc = check_pipe_name(out->text, where, address);
    } else if (out->text[0] == '\0' || strcmp(out->text, "@") == 0) {
        rc = bad(where, address, "the path is empty");
    } else {
        out->ep = (mp_os_endpoint){.family = MP_OS_UNIX, .path = out->text};
        rc = MP_OK;
    }
    if (rc != MP_OK)
        mp_net_address_free(out);
    return rc;
}

void mp_net_address_free(mp_net_address *a)
{
    free(a->text);
    *a = (mp_net_address){0};
}
