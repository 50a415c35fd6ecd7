/* bench_manager.c - mproc's side of the manager benchmarks (manager.h), and
 * their raw baseline: a length-framed ping-pong over plain sockets, TCP
 * loopback with TCP_NODELAY and AF_UNIX, between two processes. Python's
 * side (multiprocessing.managers) is manager.py.
 *
 * One line of JSON per variant:
 *   {"name": ..., "median": ..., "unit": ..., "p10": ..., "p90": ..., "samples": N}
 * where each sample is one timed batch and the statistics are over batches.
 * The server (mp_manager_start, fork start method) and every client process
 * are started before the clock runs, and the clients have made one call (so
 * hold their own connection) before they are released.
 *
 *   raw unix/tcp pingpong     a 16-byte message in a 4-byte big-endian
 *                             length frame, there and back to a forked echo
 *                             process (one write per message, two reads:
 *                             the length, then the payload)
 *   raw 8 clients unix pingpong threads/poll
 *                             the same from 8 forked clients, n each, to
 *                             one forked echo server over AF_UNIX, with a
 *                             thread per connection (as mproc's and
 *                             Python's servers) or one thread poll()ing
 *                             them all; the aggregate rate
 *   mproc dict get unix/tcp   d.get("key") on a managed dict, one client,
 *                             the server on the default local address (an
 *                             abstract AF_UNIX name on Linux) or on
 *                             tcp://127.0.0.1:0
 *   mproc get proxy ...       manager.dict() on a started manager, and a
 *                             registered get_task_queue() through a
 *                             connected one (seed 003's worker), on TCP
 *                             loopback with authkey "abc": the proxy made
 *                             and freed
 *   mproc managed queue small a forked producer puts (i, "x") into a managed
 *                             Queue, the parent gets them
 *   mproc 8 clients dict get  8 forked clients, each n calls of d.get("key")
 *                             on one shared dict, released together; the
 *                             aggregate rate
 *
 * Usage: bench_manager [quick] [--cpu N]
 *   quick    sizes ~10x smaller
 *   --cpu N  pin this process (and so the server and every child it forks)
 *            to CPU N
 *
 * POSIX only (the raw sockets, the pinning and the fork start method).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mproc.h>

#include "bench_children.h"
#include "bench_common.h"

#define SMALL_MSG 16
#define MAX_REPS 32
#define CLIENTS 8
#define KEY "abc" /* seed 003's authkey */

static bool quick;
static int reps = 11;
/* The long rows (the managed Queue, the 8 clients) take fewer samples, as
 * manager.py's do. */
#define LONG_REPS 5

/* ---- helpers ---------------------------------------------------------- */

static _Noreturn void die_os(const char *what)
{
    fprintf(stderr, "bench_manager: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* A manager whose server runs in a forked child; address NULL: the default
 * local one; key NULL: this process's authkey. */
static mp_manager *started(const char *address, const char *key)
{
    mp_manager_options o = MP_MANAGER_OPTIONS_INIT;
    o.address = address;
    o.context = bench_fork_context();
    if (key != NULL) {
        o.authkey = key;
        o.authkey_len = strlen(key);
    }
    mp_manager *m;
    bench_ok(mp_manager_new(&m, &o), "mp_manager_new");
    bench_ok(mp_manager_start(m), "mp_manager_start");
    return m;
}

static void stop(mp_manager *m)
{
    bench_ok(mp_manager_shutdown(m), "mp_manager_shutdown");
    mp_manager_free(m);
}

/* A dict proxy holding {"key": 1}. */
static mp_proxy *dict_with_key(mp_manager *m)
{
    mp_proxy *d;
    bench_ok(mp_manager_create(m, "dict", &d, NULL), "manager.dict()");
    bench_ok(mp_proxy_call(d, "__setitem__", NULL, "si", "key", 1), "d['key'] = 1");
    return d;
}

static void dict_get(mp_proxy *d)
{
    mp_value *r;
    int v = 0;
    bench_ok(mp_proxy_call(d, "get", &r, "s", "key"), "d.get('key')");
    if (mp_unpack(r, "i", &v) != MP_OK || v != 1)
        bench_ok(MP_EPROTO, "d.get('key'): not 1");
    mp_value_free(r);
}

/* A child's end of a go/done conversation: MP_OK for a message, MP_EEOF
 * once the parent is finished with it. */
static int wait_message(mp_conn *c)
{
    void *d;
    size_t n;
    int rc = mp_conn_recv_bytes(c, 0, &d, &n);
    if (rc == MP_OK)
        free(d);
    return rc;
}

/* ---- 1. raw baseline: framed ping-pong over sockets ------------------- */

static void write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            die_os("write");
        }
        p += k;
        n -= (size_t)k;
    }
}

/* Reads exactly n bytes; 0 at end of file before the first byte, 1 when
 * read; dies on an error or a truncated message. */
static int read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            die_os("read");
        }
        if (k == 0) {
            if (got == 0)
                return 0;
            errno = EPROTO;
            die_os("read: truncated message");
        }
        got += (size_t)k;
    }
    return 1;
}

/* One framed message: the 4-byte length, then the payload, into buf (of
 * size bytes); returns the payload's length, or -1 at end of file. */
static long read_frame(int fd, unsigned char *buf, size_t size)
{
    uint32_t be;
    if (!read_full(fd, &be, sizeof be))
        return -1;
    uint32_t n = ntohl(be);
    if (n > size) {
        errno = EMSGSIZE;
        die_os("frame too big");
    }
    if (n > 0 && !read_full(fd, buf, n)) {
        errno = EPROTO;
        die_os("read: end of file inside a frame");
    }
    return (long)n;
}

/* The length and the payload in one write, as a Connection sends a small
 * message. */
static void write_frame(int fd, const unsigned char *payload, uint32_t n)
{
    unsigned char out[4 + SMALL_MSG];
    uint32_t be = htonl(n);
    memcpy(out, &be, 4);
    memcpy(out + 4, payload, n);
    write_full(fd, out, 4 + (size_t)n);
}

/* A connected pair of stream sockets through a real listener: TCP on
 * 127.0.0.1 (TCP_NODELAY on both ends), or an abstract AF_UNIX name. */
static void connected_pair(int family, int *client, int *server)
{
    int l = socket(family, SOCK_STREAM, 0);
    int c = socket(family, SOCK_STREAM, 0);
    if (l < 0 || c < 0)
        die_os("socket");
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in->sin_port = 0;
        len = sizeof *in;
    } else {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;
        un->sun_family = AF_UNIX;
        /* abstract: sun_path[0] is NUL */
        int k = snprintf(un->sun_path + 1, sizeof un->sun_path - 1, "mproc-bench-raw-%ld", (long)getpid());
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)k);
    }
    if (bind(l, (struct sockaddr *)&ss, len) != 0 || listen(l, 1) != 0)
        die_os("bind/listen");
    socklen_t got = sizeof ss;
    if (getsockname(l, (struct sockaddr *)&ss, &got) != 0)
        die_os("getsockname");
    if (connect(c, (struct sockaddr *)&ss, got) != 0)
        die_os("connect");
    int s = accept(l, NULL, NULL);
    if (s < 0)
        die_os("accept");
    close(l);
    if (family == AF_INET) {
        int one = 1;
        if (setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
            die_os("TCP_NODELAY");
    }
    *client = c;
    *server = s;
}

static void raw_pingpong(const char *name, int family)
{
    int c, s;
    connected_pair(family, &c, &s);
    pid_t pid = fork();
    if (pid < 0)
        die_os("fork");
    if (pid == 0) {
        close(c);
        unsigned char buf[SMALL_MSG];
        long n;
        while ((n = read_frame(s, buf, sizeof buf)) >= 0)
            write_frame(s, buf, (uint32_t)n);
        _exit(0);
    }
    close(s);

    int n = quick ? 1000 : 10000;
    unsigned char msg[SMALL_MSG], back[SMALL_MSG];
    memset(msg, 'p', sizeof msg);
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) { /* r == -1: warm-up */
        double t0 = bench_now();
        for (int i = 0; i < n; i++) {
            write_frame(c, msg, sizeof msg);
            if (read_frame(c, back, sizeof back) != SMALL_MSG) {
                errno = EPROTO;
                die_os("echo: wrong length");
            }
        }
        if (r >= 0)
            samples[r] = (bench_now() - t0) / n * 1e6;
    }
    close(c);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die_os("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_manager: echo child failed (status %d)\n", status);
        exit(1);
    }
    bench_report(name, "us", samples, reps);
}

/* The echo server of the 8-client baseline: one thread, poll() over the
 * connections, until all of them have ended. */
static _Noreturn void poll_echo_server(const int *fds, int n)
{
    struct pollfd pfd[CLIENTS];
    for (int i = 0; i < n; i++)
        pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    int open_ = n;
    while (open_ > 0) {
        if (poll(pfd, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            die_os("poll");
        }
        for (int i = 0; i < n; i++) {
            if (pfd[i].fd < 0 || pfd[i].revents == 0)
                continue;
            unsigned char buf[SMALL_MSG];
            long k = read_frame(pfd[i].fd, buf, sizeof buf);
            if (k < 0) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                open_--;
            } else {
                write_frame(pfd[i].fd, buf, (uint32_t)k);
            }
        }
    }
    _exit(0);
}

static void *echo_thread(void *arg)
{
    int fd = *(const int *)arg;
    unsigned char buf[SMALL_MSG];
    long k;
    while ((k = read_frame(fd, buf, sizeof buf)) >= 0)
        write_frame(fd, buf, (uint32_t)k);
    close(fd);
    return NULL;
}

/* The same with one thread per connection, as mproc's and Python's
 * servers have. */
static _Noreturn void threaded_echo_server(const int *fds, int n)
{
    pthread_t t[CLIENTS];
    for (int i = 0; i < n; i++)
        if (pthread_create(&t[i], NULL, echo_thread, (void *)&fds[i]) != 0)
            die_os("pthread_create");
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    _exit(0);
}

static void reap_raw(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die_os("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_manager: raw child failed (status %d)\n", status);
        exit(1);
    }
}

static void raw_many_clients(const char *name, bool threaded)
{
    long n = quick ? 1000 : 10000;
    unsigned char msg[SMALL_MSG];
    memset(msg, 'p', sizeof msg);
    double samples[MAX_REPS];
    for (int r = -1; r < LONG_REPS; r++) {
        int ours[CLIENTS], theirs[CLIENTS], ready[2], go[2];
        for (int c = 0; c < CLIENTS; c++) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
                die_os("socketpair");
            ours[c] = sv[0];
            theirs[c] = sv[1];
        }
        if (pipe(ready) != 0 || pipe(go) != 0)
            die_os("pipe");
        pid_t server = fork();
        if (server < 0)
            die_os("fork");
        if (server == 0) {
            for (int c = 0; c < CLIENTS; c++)
                close(ours[c]);
            close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
            if (threaded)
                threaded_echo_server(theirs, CLIENTS);
            poll_echo_server(theirs, CLIENTS);
        }
        for (int c = 0; c < CLIENTS; c++)
            close(theirs[c]);
        pid_t clients[CLIENTS];
        for (int c = 0; c < CLIENTS; c++) {
            if ((clients[c] = fork()) < 0)
                die_os("fork");
            if (clients[c] > 0)
                continue;
            for (int o = 0; o < CLIENTS; o++)
                if (o != c)
                    close(ours[o]);
            close(ready[0]), close(go[1]);
            unsigned char back[SMALL_MSG];
            char b;
            /* One round trip first, as the mproc and Python clients make
             * their first call before they are ready. */
            for (long i = -1; i < n; i++) {
                write_frame(ours[c], msg, sizeof msg);
                if (read_frame(ours[c], back, sizeof back) != SMALL_MSG) {
                    errno = EPROTO;
                    die_os("echo: wrong length");
                }
                if (i == -1) {
                    write_full(ready[1], "r", 1);
                    if (!read_full(go[0], &b, 1))
                        die_os("go");
                }
            }
            write_full(ready[1], "d", 1);
            _exit(0);
        }
        for (int c = 0; c < CLIENTS; c++)
            close(ours[c]);
        close(ready[1]), close(go[0]);
        char b[CLIENTS];
        if (!read_full(ready[0], b, CLIENTS))
            die_os("ready");
        double t0 = bench_now();
        write_full(go[1], "gggggggg", CLIENTS);
        if (!read_full(ready[0], b, CLIENTS))
            die_os("done");
        double dt = bench_now() - t0;
        close(ready[0]), close(go[1]);
        for (int c = 0; c < CLIENTS; c++)
            reap_raw(clients[c]);
        reap_raw(server);
        if (r >= 0)
            samples[r] = (double)n * CLIENTS / dt;
    }
    bench_report(name, "calls/s", samples, LONG_REPS);
}

/* ---- 2. proxy method round trip --------------------------------------- */

static void roundtrip(const char *name, const char *address)
{
    mp_manager *m = started(address, NULL);
    mp_proxy *d = dict_with_key(m);
    int n = quick ? 1000 : 10000;
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (int i = 0; i < n; i++)
            dict_get(d);
        if (r >= 0)
            samples[r] = (bench_now() - t0) / n * 1e6;
    }
    mp_proxy_free(d);
    stop(m);
    bench_report(name, "us", samples, reps);
}

/* ---- 3. getting a proxy ----------------------------------------------- */

/* Seed 003's master: every client gets the same queue. */
static mp_served *task_queue;

static int get_task_queue(const mp_value *args, mp_served **out)
{
    (void)args;
    int rc = task_queue == NULL ? mp_served_builtin(&task_queue, "Queue", NULL) : MP_OK;
    if (rc == MP_OK)
        *out = mp_served_ref(task_queue);
    return rc;
}
MP_MANAGED("get_task_queue", get_task_queue)

/* Proxies of typeid from manager m, made and freed n times per sample. */
static void get_proxy_loop(const char *name, mp_manager *m, const char *typeid)
{
    int n = quick ? 200 : 2000;
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (int i = 0; i < n; i++) {
            mp_proxy *p;
            bench_ok(mp_manager_create(m, typeid, &p, NULL), typeid);
            mp_proxy_free(p);
        }
        if (r >= 0)
            samples[r] = (bench_now() - t0) / n * 1e6;
    }
    bench_report(name, "us", samples, reps);
}

static void get_proxy(void)
{
    /* manager.dict() on a SyncManager started on TCP loopback. */
    mp_manager *m = started("tcp://127.0.0.1:0", KEY);
    get_proxy_loop("mproc get proxy dict tcp", m, "dict");

    /* The worker's side of seed 003: a manager that connects to the
     * master's address and asks for get_task_queue(). */
    mp_manager_options o = MP_MANAGER_OPTIONS_INIT;
    o.address = mp_manager_address(m);
    o.authkey = KEY;
    o.authkey_len = strlen(KEY);
    mp_manager *w;
    bench_ok(mp_manager_new(&w, &o), "mp_manager_new (worker)");
    bench_ok(mp_manager_connect(w), "mp_manager_connect");
    get_proxy_loop("mproc get proxy get_task_queue tcp", w, "get_task_queue");
    mp_manager_free(w);
    stop(m);
}

/* ---- 4. managed Queue, one producer to one consumer ------------------- */

/* Per go message: puts count items (i, "x"). */
static int producer(const mp_value *args)
{
    mp_proxy *q;
    mp_conn *go, *parent_end;
    int count;
    int rc = mp_args(args, "OOOi", &q, &go, &parent_end, &count);
    if (rc != MP_OK)
        return rc;
    mp_conn_close(parent_end);
    while ((rc = wait_message(go)) == MP_OK)
        for (int i = 0; i < count && rc == MP_OK; i++)
            rc = mp_proxy_call(q, "put", NULL, "(is)", i, "x");
    return rc == MP_EEOF ? 0 : rc;
}
MP_TARGET(producer)

static void managed_queue(const char *name)
{
    int count = quick ? 10000 : 100000;
    mp_manager *m = started(NULL, NULL);
    mp_proxy *q;
    bench_ok(mp_manager_create(m, "Queue", &q, NULL), "manager.Queue()");
    mp_conn *ours, *theirs;
    bench_ok(mp_pipe(true, &ours, &theirs), "mp_pipe");
    mp_process *p = bench_start(producer, "OOOi", q, theirs, ours, count);
    mp_conn_close(theirs);
    double samples[MAX_REPS];
    for (int r = -1; r < LONG_REPS; r++) {
        double t0 = bench_now();
        bench_ok(mp_conn_send_bytes(ours, "g", 1), "go");
        mp_value *last = NULL;
        for (int i = 0; i < count; i++) {
            mp_value_free(last);
            bench_ok(mp_proxy_call(q, "get", &last, NULL), "q.get()");
        }
        double dt = bench_now() - t0;
        /* Like Python's side, only the last item is checked. */
        int seq;
        const char *s;
        if (mp_unpack(last, "(is)", &seq, &s) != MP_OK || seq != count - 1 || strcmp(s, "x") != 0)
            bench_ok(MP_EPROTO, "managed queue: bad last item");
        mp_value_free(last);
        if (r >= 0)
            samples[r] = count / dt;
    }
    mp_conn_close(ours);
    bench_finish(p);
    mp_proxy_free(q);
    stop(m);
    bench_report(name, "items/s", samples, LONG_REPS);
}

/* ---- 5. 8 clients against one server ---------------------------------- */

/* One call first (the child's own connection is made then), says ready,
 * waits for the go Event, makes n calls, says done. */
static int client(const mp_value *args)
{
    mp_proxy *d;
    mp_conn *c;
    mp_event *go;
    int64_t n;
    int rc = mp_args(args, "OOOq", &d, &c, &go, &n);
    if (rc != MP_OK)
        return rc;
    dict_get(d);
    if ((rc = mp_conn_send_bytes(c, "r", 1)) != MP_OK || (rc = mp_event_wait(go, MP_FOREVER)) != MP_OK)
        return rc;
    for (int64_t i = 0; i < n; i++)
        dict_get(d);
    return mp_conn_send_bytes(c, "d", 1);
}
MP_TARGET(client)

static void many_clients(const char *name)
{
    int64_t n = quick ? 1000 : 10000;
    mp_manager *m = started(NULL, NULL);
    mp_proxy *d = dict_with_key(m);
    double samples[MAX_REPS];
    for (int r = -1; r < LONG_REPS; r++) {
        mp_event *go;
        mp_process *procs[CLIENTS];
        mp_conn *conns[CLIENTS];
        bench_ok(mp_event_new(&go), "mp_event_new");
        for (int c = 0; c < CLIENTS; c++) {
            mp_conn *theirs;
            bench_ok(mp_pipe(true, &conns[c], &theirs), "mp_pipe");
            procs[c] = bench_start(client, "OOOq", d, theirs, go, n);
            mp_conn_close(theirs);
        }
        for (int c = 0; c < CLIENTS; c++)
            bench_ok(wait_message(conns[c]), "ready");
        double t0 = bench_now();
        bench_ok(mp_event_set(go), "mp_event_set");
        for (int c = 0; c < CLIENTS; c++)
            bench_ok(wait_message(conns[c]), "done");
        double dt = bench_now() - t0;
        for (int c = 0; c < CLIENTS; c++) {
            bench_finish(procs[c]);
            mp_conn_close(conns[c]);
        }
        mp_event_free(go);
        if (r >= 0)
            samples[r] = (double)n * CLIENTS / dt;
    }
    mp_proxy_free(d);
    stop(m);
    bench_report(name, "calls/s", samples, LONG_REPS);
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    quick = bench_options(argc, argv, "bench_manager");
    if (quick)
        reps = 7;
    bench_children_init("bench_manager");

    raw_pingpong("raw unix pingpong", AF_UNIX);
    raw_pingpong("raw tcp pingpong", AF_INET);
    raw_many_clients("raw 8 clients unix pingpong poll", false);
    raw_many_clients("raw 8 clients unix pingpong threads", true);
    roundtrip("mproc dict get unix", NULL);
    roundtrip("mproc dict get tcp", "tcp://127.0.0.1:0");
    get_proxy();
    managed_queue("mproc managed queue small");
    many_clients("mproc 8 clients dict get");
    return 0;
}
