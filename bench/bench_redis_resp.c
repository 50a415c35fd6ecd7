/* bench_redis_resp.c - the raw ping-pong through Redis (bench_redis_resp.h),
 * RESP by hand over plain TCP sockets: no mproc, no client library. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_redis_resp.h"

static _Noreturn void fail(const char *what)
{
    fprintf(stderr, "bench_redis_resp: %s: %s\n", what, errno ? strerror(errno) : "unexpected reply");
    exit(1);
}

/* ---- a connection: a socket and what has been read from it ---------------- */

typedef struct conn {
    int fd;
    char buf[4096];
    size_t start, end; /* unread bytes: buf[start..end) */
} conn;

static void dial(conn *c, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    c->start = c->end = 0;
    if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        fail("socket");
    /* Redis sets TCP_NODELAY on its side; without it here each request
     * would wait for the ACK of the one before. */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail("connect");
}

static void send_all(conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            fail("send");
        p += k;
        n -= (size_t)k;
    }
}

/* Make at least n unread bytes available. */
static void fill(conn *c, size_t n)
{
    if (c->end - c->start >= n)
        return;
    memmove(c->buf, c->buf + c->start, c->end - c->start);
    c->end -= c->start;
    c->start = 0;
    while (c->end < n) {
        ssize_t k = recv(c->fd, c->buf + c->end, sizeof c->buf - c->end, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            fail("recv");
        c->end += (size_t)k;
    }
}

/* One line of the reply, without its CRLF; the type byte is first. */
static const char *line(conn *c, size_t *len)
{
    for (size_t want = 1;; want = c->end - c->start + 1) {
        fill(c, want);
        char *s = c->buf + c->start;
        char *crlf = memmem(s, c->end - c->start, "\r\n", 2);
        if (crlf != NULL) {
            *len = (size_t)(crlf - s);
            c->start += *len + 2;
            return s;
        }
        if (c->end - c->start >= sizeof c->buf - 1)
            fail("line too long");
    }
}

/* Read one reply: an integer (":n") or an array of bulk strings; anything
 * else (an error) ends the run. Bulk contents are skipped. */
static void reply(conn *c)
{
    size_t len;
    const char *s = line(c, &len);
    errno = 0;
    if (s[0] == ':')
        return;
    if (s[0] != '*')
        fail("reply");
    long items = strtol(s + 1, NULL, 10);
    for (long i = 0; i < items; i++) {
        s = line(c, &len);
        if (s[0] != '$')
            fail("reply");
        size_t n = (size_t)strtol(s + 1, NULL, 10) + 2;
        fill(c, n);
        c->start += n;
    }
}

/* The RESP form of a command of C strings. */
static size_t command(char *out, size_t cap, int argc, const char *const *argv)
{
    size_t n = (size_t)snprintf(out, cap, "*%d\r\n", argc);
    for (int i = 0; i < argc && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    if (n >= cap)
        fail("command too long");
    return n;
}

/* ---- the two sides ---------------------------------------------------------- */

static void ponger(int port, const char *req, const char *resp)
{
    conn c;
    dial(&c, port);
    char pop[256], push[256];
    size_t npop = command(pop, sizeof pop, 3, (const char *[]){"BRPOP", req, "0"});
    size_t npush = command(push, sizeof push, 3, (const char *[]){"LPUSH", resp, "x"});
    for (;;) {
        send_all(&c, pop, npop);
        /* the pinger's last push is "q": peek at the bulk's last byte */
        reply(&c);
        if (c.buf[c.start - 3] == 'q')
            _exit(0);
        send_all(&c, push, npush);
        reply(&c);
    }
}

struct raw_pingpong {
    pid_t ponger;
    conn c;
    char push[256], pop[256], quit[256];
    size_t npush, npop, nquit;
};

raw_pingpong *raw_pingpong_start(int port)
{
    raw_pingpong *p = calloc(1, sizeof *p);
    if (p == NULL)
        fail("calloc");
    char req[64], resp[64];
    snprintf(req, sizeof req, "bench:raw:%d:req", (int)getpid());
    snprintf(resp, sizeof resp, "bench:raw:%d:resp", (int)getpid());
    p->npush = command(p->push, sizeof p->push, 3, (const char *[]){"LPUSH", req, "x"});
    p->npop = command(p->pop, sizeof p->pop, 3, (const char *[]){"BRPOP", resp, "0"});
    /* the ponger ends on "q" */
    p->nquit = command(p->quit, sizeof p->quit, 3, (const char *[]){"LPUSH", req, "q"});
    if ((p->ponger = fork()) < 0)
        fail("fork");
    if (p->ponger == 0)
        ponger(port, req, resp);
    dial(&p->c, port);
    return p;
}

double raw_pingpong_batch(raw_pingpong *p, int rounds)
{
    double t0 = bench_now();
    for (int i = 0; i < rounds; i++) {
        send_all(&p->c, p->push, p->npush);
        reply(&p->c);
        send_all(&p->c, p->pop, p->npop);
        reply(&p->c);
    }
    return (bench_now() - t0) / rounds * 1e6;
}

void raw_pingpong_stop(raw_pingpong *p)
{
    send_all(&p->c, p->quit, p->nquit);
    reply(&p->c);
    close(p->c.fd);
    int status;
    while (waitpid(p->ponger, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_redis_resp: the ponger failed\n");
        exit(1);
    }
    free(p);
}
