/* url.c - redis:// addresses (url.h). Messages never repeat the URL: it
 * may hold a password. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/str.h"
#include "redis/url.h"

#define FORM "redis://[[user]:password@]host[:port][/db[/path]]"

static int bad(const char *why)
{
    return mp_fail(MP_EINVAL, "redis URL: %s (expected " FORM ")", why);
}

static bool has_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    for (size_t i = 0; i < n; i++)
        if (url[i] == '\0' || tolower((unsigned char)url[i]) != scheme[i])
            return false;
    return true;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s in place; %00 is refused, as the result is a C string. */
static int decode(char *s, const char *what)
{
    char *w = s;
    for (const char *r = s; *r != '\0';) {
        if (*r != '%') {
            *w++ = *r++;
            continue;
        }
        int hi = hex(r[1]), lo = hi < 0 ? -1 : hex(r[2]);
        if (lo < 0 || (hi == 0 && lo == 0))
            return mp_fail(MP_EINVAL, "redis URL: a bad %%-escape in the %s", what);
        *w++ = (char)(hi * 16 + lo);
        r += 3;
    }
    *w = '\0';
    return MP_OK;
}

/* A decimal number of 1 to digits digits, at most max. */
static bool decimal(const char *s, size_t digits, unsigned long max, unsigned long *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > digits || strspn(s, "0123456789") != n)
        return false;
    *out = strtoul(s, NULL, 10);
    return *out <= max;
}

/* "user:password" or "password", in place. */
static int userinfo(char *s, mp_redis_url *u)
{
    char *colon = strchr(s, ':');
    char *password = s;
    if (colon != NULL) {
        *colon = '\0';
        password = colon + 1;
        if (*s != '\0') {
            int rc = decode(s, "user");
            if (rc != MP_OK)
                return rc;
            u->user = s;
        }
    }
    int rc = decode(password, "password");
    if (rc != MP_OK)
        return rc;
    /* "redis://:@host" asks for no AUTH; a user with an empty password is
     * a user all the same (an ACL user with nopass). */
    if (u->user != NULL || *password != '\0')
        u->password = password;
    return MP_OK;
}

/* "host", "host:port", "[v6]" or "[v6]:port", in place. */
static int host_port(char *s, mp_redis_url *u)
{
    char *port = NULL;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':'))
            return bad("an IPv6 address goes in brackets: [::1]:6379");
        *close = '\0';
        port = close[1] == ':' ? close + 2 : NULL;
        s++;
    } else {
        char *colon = strchr(s, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL)
            return bad("an IPv6 address goes in brackets: [::1]:6379");
        if (colon != NULL) {
            *colon = '\0';
            port = colon + 1;
        }
    }
    if (*s == '\0')
        return bad("the host is empty");
    for (const char *c = s; *c != '\0'; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return bad("the host has a space or a control character");
    unsigned long n = MP_REDIS_DEFAULT_PORT;
    if (port != NULL && (!decimal(port, 5, 65535, &n) || n == 0))
        return bad("the port must be a number from 1 to 65535");
    u->host = s;
    u->port = (unsigned)n;
    return MP_OK;
}

/* "db" or "db/path" (what follows the host's '/', NULL if none), in place. */
static int db_path(char *s, mp_redis_url *u)
{
    u->path = "";
    if (s == NULL || *s == '\0')
        return MP_OK;
    char *slash = strchr(s, '/');
    if (slash != NULL) {
        *slash = '\0';
        u->path = slash + 1;
    }
    unsigned long db = 0;
    if (!decimal(s, 10, INT32_MAX, &db))
        return bad("the db must be a number (0 to 2147483647) before any path");
    u->db = (unsigned)db;
    return MP_OK;
}

static int parse(char *s, mp_redis_url *u)
{
    char *rest = strchr(s, '/');
    if (rest != NULL)
        *rest++ = '\0';
    char *at = strrchr(s, '@'); /* a raw '@' in a password is forgiven */
    char *host = s;
    int rc = MP_OK;
    if (at != NULL) {
        *at = '\0';
        host = at + 1;
        rc = userinfo(s, u);
    }
    if (rc == MP_OK)
        rc = host_port(host, u);
    if (rc == MP_OK)
        rc = db_path(rest, u);
    return rc;
}

int mp_redis_url_parse(const char *url, mp_redis_url *out)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "redis URL: NULL output");
    *out = (mp_redis_url){0};
    if (url == NULL)
        return bad("NULL");
    if (has_scheme(url, "rediss://"))
        return mp_fail(MP_EUNSUPPORTED,
                       "redis URL: rediss:// (TLS) is not supported; reach a TLS server "
                       "through a local tunnel (stunnel, spiped) and give its redis:// address");
    if (!has_scheme(url, "redis://"))
        return bad("the scheme must be redis://");
    char *mem = mp_strdup(url + sizeof "redis://" - 1);
    if (mem == NULL)
        return mp_fail(MP_ENOMEM, "redis URL: out of memory");
    int rc = parse(mem, out);
    if (rc != MP_OK) {
        free(mem);
        *out = (mp_redis_url){0};
        return rc;
    }
    out->mem = mem;
    return MP_OK;
}

void mp_redis_url_free(mp_redis_url *u)
{
    if (u == NULL)
        return;
    free(u->mem);
    *u = (mp_redis_url){0};
}
