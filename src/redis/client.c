/* client.c - a connection to a Redis server (redis_client.h): connecting
 * and the handshake, calls and pipelines, and what a failure does to the
 * connection.
 *
 * Every exchange is: encode all its commands into one buffer, write it
 * within the deadline, read the replies. Reads go into an input buffer that
 * grows by doubling only when it is full, so a length a server announces is
 * never allocated before its bytes arrive; the parser (resp.h) keeps its
 * place between reads. A buffer that grew past KEEP for a large reply is
 * given back once the call is over. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error_internal.h"
#include "base/timeout.h"
#include "platform.h"
#include "redis/redis_client.h"
#include "redis/url.h"

#define DEFAULT_CONNECT 10.0
#define DEFAULT_COMMAND 30.0
#define IN_FIRST ((size_t)64 << 10)
#define KEEP ((size_t)1 << 20)

struct mp_redis {
    mp_redis_url url;
    mp_redis_options opts;
    mp_os_handle sock; /* MP_OS_NO_HANDLE: not connected; the next call connects */
    long pid;          /* the process that connected it */
    mp_resp_parser parser;
    mp_buf out;        /* the commands of the exchange under way */
    unsigned char *in; /* replies read: in[start..len) is not parsed yet */
    size_t in_start, in_len, in_cap;
};

static mp_resp_arg arg(const char *s)
{
    return (mp_resp_arg){s, strlen(s)};
}

/* Close the connection and forget what was under way on it. */
static void drop(mp_redis *c)
{
    if (c->sock != MP_OS_NO_HANDLE)
        mp_os_socket_close(c->sock);
    c->sock = MP_OS_NO_HANDLE;
    c->in_start = c->in_len = 0;
    mp_resp_parser_init(&c->parser, &c->opts.limits); /* checked at open: cannot fail */
}

/* A failure after the exchange's first byte went: the connection is out
 * of step, so it goes. The message keeps the cause. */
static int broken(mp_redis *c, int code)
{
    drop(c);
    const char *host = c->url.host;
    unsigned port = c->url.port;
    if (code == MP_ETIMEDOUT)
        return mp_fail(MP_ETIMEDOUT,
                       "redis %s:%u: timed out (%s); the connection is closed and the next call "
                       "connects again",
                       host, port, mp_last_error());
    if (code == MP_EEOF || code == MP_EOS || code == MP_ECONNRESET)
        return mp_fail(MP_ECONNRESET,
                       "redis %s:%u: the connection is lost (%s); the next call connects again", host, port,
                       mp_last_error());
    return mp_fail(code, "redis %s:%u: %s; the connection is closed", host, port, mp_last_error());
}

/* Bytes from the server into the input buffer, waiting until deadline. */
static int fill(mp_redis *c, double deadline)
{
    if (c->in_start > 0) {
        memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
        c->in_len -= c->in_start;
        c->in_start = 0;
    }
    size_t room = c->in_cap - c->in_len;
    if (room == 0 || (c->parser.want > c->in_cap && room < IN_FIRST / 4)) {
        size_t cap = c->in_cap == 0 ? IN_FIRST : c->in_cap * 2;
        unsigned char *in = realloc(c->in, cap);
        if (in == NULL)
            return mp_fail(MP_ENOMEM, "out of memory for a reply of %zu bytes or more", c->parser.want);
        c->in = in;
        c->in_cap = cap;
    }
    int rc = mp_os_socket_poll(c->sock, mp_time_left(deadline));
    if (rc == MP_ETIMEDOUT)
        return mp_fail(MP_ETIMEDOUT, "no reply came");
    size_t got = 0;
    if (rc == MP_OK)
        rc = mp_os_socket_read_some(c->sock, c->in + c->in_len, c->in_cap - c->in_len, &got);
    c->in_len += got;
    return rc;
}

static int read_reply(mp_redis *c, double deadline, mp_resp_reply **reply)
{
    for (;;) {
        if (c->in_len > c->in_start) {
            size_t used = 0;
            int rc = mp_resp_parse(&c->parser, c->in + c->in_start, c->in_len - c->in_start, reply, &used);
            if (rc == MP_OK)
                c->in_start += used;
            if (rc != MP_RESP_MORE)
                return rc;
        }
        int rc = fill(c, deadline);
        if (rc != MP_OK)
            return rc;
    }
}

/* Give back buffers that a large exchange grew. */
static void tidy(mp_redis *c)
{
    if (c->in_cap > KEEP && c->in_len == c->in_start) {
        free(c->in);
        c->in = NULL;
        c->in_cap = c->in_start = c->in_len = 0;
    }
    if (c->out.cap > KEEP)
        mp_buf_free(&c->out);
}

/* Send cmds[0..n) and read their replies on the connection there is. */
static int exchange(mp_redis *c, size_t n, const mp_redis_cmd *cmds, double deadline, mp_resp_reply **replies)
{
    mp_buf_clear(&c->out);
    for (size_t i = 0; i < n; i++) {
        int rc = mp_resp_command(&c->out, cmds[i].argc, cmds[i].argv);
        if (rc != MP_OK)
            return rc; /* nothing sent: the connection is as it was */
    }
    size_t written = 0;
    int rc = mp_os_socket_write_within(c->sock, c->out.data, c->out.len, mp_time_left(deadline), &written);
    for (size_t i = 0; i < n && rc == MP_OK; i++)
        rc = read_reply(c, deadline, &replies[i]);
    /* Nothing comes unasked in RESP2: more bytes mean a stream out of step. */
    if (rc == MP_OK && c->in_len > c->in_start)
        rc = mp_fail(MP_EPROTO, "%zu bytes came after the last reply", c->in_len - c->in_start);
    if (rc != MP_OK) {
        for (size_t i = 0; i < n; i++) {
            mp_resp_free(replies[i]);
            replies[i] = NULL;
        }
        rc = broken(c, rc);
    }
    c->in_start = c->in_len = 0;
    tidy(c);
    return rc;
}

/* AUTH and SELECT as the URL asks, or a PING that finds out whether the
 * server wants a password, in one round trip. */
static int handshake(mp_redis *c, double deadline)
{
    mp_resp_arg auth[3] = {arg("AUTH")}, select[2] = {arg("SELECT")}, ping[1] = {arg("PING")};
    size_t nauth = 1, n = 0;
    if (c->url.user != NULL)
        auth[nauth++] = arg(c->url.user);
    if (c->url.password != NULL)
        auth[nauth++] = arg(c->url.password);
    char db[16];
    snprintf(db, sizeof db, "%u", c->url.db);
    select[1] = arg(db);
    mp_redis_cmd cmds[2];
    if (c->url.password != NULL)
        cmds[n++] = (mp_redis_cmd){nauth, auth};
    if (c->url.db != 0)
        cmds[n++] = (mp_redis_cmd){2, select};
    if (n == 0)
        cmds[n++] = (mp_redis_cmd){1, ping};
    mp_resp_reply *replies[2] = {NULL, NULL};
    int rc = exchange(c, n, cmds, deadline, replies);
    for (size_t i = 0; i < n && rc == MP_OK; i++) {
        if (replies[i]->type != MP_RESP_ERROR)
            continue;
        const char *what = cmds[i].argv == auth ? "AUTH" : cmds[i].argv == select ? "SELECT" : "PING";
        bool refused = cmds[i].argv == auth || mp_resp_is_error(replies[i], "NOAUTH");
        rc = mp_fail(refused ? MP_EAUTH : MP_EREMOTE, "redis %s:%u: %s %s: %s", c->url.host, c->url.port,
                     what, refused ? "refused" : "failed", replies[i]->str);
    }
    for (size_t i = 0; i < n; i++)
        mp_resp_free(replies[i]);
    return rc;
}

/* Connect, authenticate and select, within the connect timeout and the
 * call's deadline both. */
static int connect_now(mp_redis *c, double call_deadline)
{
    double deadline = mp_deadline(c->opts.connect_timeout);
    if (call_deadline < deadline)
        deadline = call_deadline;
    mp_os_endpoint ep = {.family = MP_OS_TCP, .host = c->url.host, .port = c->url.port};
    int rc = mp_os_socket_connect(&ep, mp_time_left(deadline), &c->sock);
    if (rc == MP_ETIMEDOUT)
        return mp_fail(MP_ETIMEDOUT, "redis %s:%u: no connection in time", c->url.host, c->url.port);
    if (rc != MP_OK) {
        c->sock = MP_OS_NO_HANDLE;
        return mp_fail(rc == MP_EOS ? MP_ECONNRESET : rc, "redis %s:%u: cannot connect (%s)", c->url.host,
                       c->url.port, mp_last_error());
    }
    c->pid = mp_os_getpid();
    rc = handshake(c, deadline);
    if (rc != MP_OK)
        drop(c);
    return rc;
}

/* A connection to send on: the one there is, unless it was lost or came
 * through fork (its copy is closed here, the parent's stays), else a new
 * one. Nothing of this call has been sent yet. */
static int ready(mp_redis *c, double deadline)
{
    if (c->sock != MP_OS_NO_HANDLE && c->pid != mp_os_getpid())
        drop(c);
    return c->sock != MP_OS_NO_HANDLE ? MP_OK : connect_now(c, deadline);
}

int mp_redis_open(mp_redis **out, const char *url, const mp_redis_options *opts)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_redis_open: NULL output");
    *out = NULL;
    mp_redis *c = calloc(1, sizeof *c);
    if (c == NULL)
        return mp_fail(MP_ENOMEM, "mp_redis_open: out of memory");
    c->sock = MP_OS_NO_HANDLE;
    c->opts = opts != NULL ? *opts : (mp_redis_options){0};
    if (c->opts.connect_timeout == 0)
        c->opts.connect_timeout = DEFAULT_CONNECT;
    if (c->opts.command_timeout == 0)
        c->opts.command_timeout = DEFAULT_COMMAND;
    int rc = mp_resp_parser_init(&c->parser, &c->opts.limits);
    if (rc == MP_OK)
        rc = mp_redis_url_parse(url, &c->url);
    if (rc == MP_OK)
        rc = connect_now(c, MP_FOREVER);
    if (rc != MP_OK) {
        mp_redis_free(c);
        return rc;
    }
    *out = c;
    return MP_OK;
}

void mp_redis_free(mp_redis *c)
{
    if (c == NULL)
        return;
    drop(c);
    mp_redis_url_free(&c->url);
    mp_buf_free(&c->out);
    free(c->in);
    free(c);
}

const char *mp_redis_path(const mp_redis *c)
{
    return c != NULL && c->url.path != NULL ? c->url.path : "";
}

int mp_redis_check(const mp_resp_reply *r)
{
    if (r == NULL)
        return mp_fail(MP_EINVAL, "mp_redis_check: NULL reply");
    if (r->type != MP_RESP_ERROR)
        return MP_OK;
    bool auth = mp_resp_is_error(r, "NOAUTH") || mp_resp_is_error(r, "WRONGPASS");
    return mp_fail(auth ? MP_EAUTH : MP_EREMOTE, "%s", r->str);
}

int mp_redis_pipeline(mp_redis *c, size_t n, const mp_redis_cmd *cmds, double timeout,
                      mp_resp_reply **replies)
{
    for (size_t i = 0; replies != NULL && i < n; i++)
        replies[i] = NULL;
    if (c == NULL || n == 0 || cmds == NULL || replies == NULL)
        return mp_fail(MP_EINVAL, "mp_redis_pipeline: NULL argument or no command");
    double deadline = mp_deadline(timeout);
    int rc = ready(c, deadline);
    return rc == MP_OK ? exchange(c, n, cmds, deadline, replies) : rc;
}

int mp_redis_call_within(mp_redis *c, double timeout, size_t argc, const mp_resp_arg *argv,
                         mp_resp_reply **reply)
{
    if (reply == NULL || c == NULL)
        return mp_fail(MP_EINVAL, "mp_redis_call: NULL argument");
    mp_redis_cmd cmd = {argc, argv};
    int rc = mp_redis_pipeline(c, 1, &cmd, timeout, reply);
    if (rc == MP_OK && (rc = mp_redis_check(*reply)) != MP_OK) {
        mp_resp_free(*reply);
        *reply = NULL;
    }
    return rc;
}

int mp_redis_call(mp_redis *c, size_t argc, const mp_resp_arg *argv, mp_resp_reply **reply)
{
    return mp_redis_call_within(c, c != NULL ? c->opts.command_timeout : 0, argc, argv, reply);
}

int mp_redis_run(mp_redis *c, size_t n, const mp_redis_cmd *cmds, double timeout)
{
    mp_resp_reply *stack[8];
    mp_resp_reply **replies = n <= 8 ? stack : malloc(n * sizeof *replies);
    if (replies == NULL)
        return mp_fail(MP_ENOMEM, "mp_redis_run: out of memory");
    int rc = mp_redis_pipeline(c, n, cmds, timeout, replies);
    bool came = rc == MP_OK;
    for (size_t i = 0; rc == MP_OK && i < n; i++)
        rc = mp_redis_check(replies[i]);
    for (size_t i = 0; came && i < n; i++)
        mp_resp_free(replies[i]);
    if (replies != stack)
        free(replies);
    return rc;
}

int mp_redis_callv(mp_redis *c, mp_resp_reply **reply, const char *arg0, ...)
{
    if (reply != NULL)
        *reply = NULL;
    va_list ap;
    va_start(ap, arg0);
    size_t n = 0;
    for (const char *a = arg0; a != NULL; a = va_arg(ap, const char *))
        n++;
    va_end(ap);
    if (n == 0)
        return mp_fail(MP_EINVAL, "mp_redis_callv: no arguments");
    mp_resp_arg *argv = malloc(n * sizeof *argv);
    if (argv == NULL)
        return mp_fail(MP_ENOMEM, "mp_redis_callv: out of memory");
    va_start(ap, arg0);
    argv[0] = arg(arg0);
    for (size_t i = 1; i < n; i++)
        argv[i] = arg(va_arg(ap, const char *));
    va_end(ap);
    int rc = mp_redis_call(c, n, argv, reply);
    free(argv);
    return rc;
}
