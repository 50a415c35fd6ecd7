/* bench_ipc_raw.c - raw-syscall baselines for the IPC benchmarks: what plain
 * read/write on a socketpair or pipes, and a process-shared pthread mutex in
 * anonymous shared memory, achieve between two processes on this machine.
 * mproc's figures (bench_ipc.c) and Python's (ipc.py) are read against these.
 *
 * One line of JSON per variant:
 *   {"name": ..., "median": ..., "unit": ..., "p10": ..., "p90": ..., "samples": N}
 * where each sample is one timed batch and the statistics are over batches.
 * Children are forked before the timed region and released by a message, so
 * only the operation itself is timed.
 *
 * Usage: bench_ipc_raw [quick] [--cpu N]
 *   quick    sizes ~10x smaller
 *   --cpu N  pin this process (and so every child it forks) to CPU N
 *
 * Linux/POSIX only; needs nothing from mproc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

#define MIB ((size_t)1 << 20)
#define SMALL_MSG 16
#define MAX_REPS 32

static bool quick;
static int reps = 11;

/* ---- helpers ---------------------------------------------------------- */

static void die(const char *what)
{
    fprintf(stderr, "bench_ipc_raw: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        p += k;
        n -= (size_t)k;
    }
}

/* Reads exactly n bytes; returns 0 at end of file before the first byte,
 * 1 on success, and dies on an error or a truncated message. */
static int read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            die("read");
        }
        if (k == 0) {
            if (got == 0)
                return 0;
            errno = EPROTO;
            die("read: truncated message");
        }
        got += (size_t)k;
    }
    return 1;
}

static void read_exact(int fd, void *buf, size_t n)
{
    if (!read_full(fd, buf, n)) {
        errno = EPIPE;
        die("read: unexpected end of file");
    }
}

static void put_byte(int fd, char c)
{
    write_full(fd, &c, 1);
}

static char get_byte(int fd)
{
    char c;
    read_exact(fd, &c, 1);
    return c;
}

static void make_socketpair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        die("socketpair");
}

static void make_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        die("pipe");
}

static pid_t fork_or_die(void)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    return pid;
}

static void reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            die("waitpid");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_ipc_raw: child %d failed (status %d)\n", (int)pid, status);
        exit(1);
    }
}

/* ---- 1. ping-pong ----------------------------------------------------- */

/* Echoes fixed-size messages until the other side closes. */
static void echo_child(int rd, int wr)
{
    char buf[SMALL_MSG];
    while (read_full(rd, buf, sizeof buf))
        write_full(wr, buf, sizeof buf);
    _exit(0);
}

static void pingpong(const char *name, int use_pipes)
{
    int rd, wr, child_rd, child_wr;
    if (use_pipes) {
        int p2c[2], c2p[2];
        make_pipe(p2c);
        make_pipe(c2p);
        rd = c2p[0], wr = p2c[1], child_rd = p2c[0], child_wr = c2p[1];
    } else {
        int sv[2];
        make_socketpair(sv);
        rd = wr = sv[0];
        child_rd = child_wr = sv[1];
    }
    pid_t pid = fork_or_die();
    if (pid == 0) {
        close(rd);
        if (wr != rd)
            close(wr);
        echo_child(child_rd, child_wr);
    }
    close(child_rd);
    if (child_wr != child_rd)
        close(child_wr);

    int n = quick ? 1000 : 10000;
    char msg[SMALL_MSG], back[SMALL_MSG];
    memset(msg, 'p', sizeof msg);
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) { /* r == -1: warm-up */
        double t0 = bench_now();
        for (int i = 0; i < n; i++) {
            write_full(wr, msg, sizeof msg);
            read_exact(rd, back, sizeof back);
        }
        if (r >= 0)
            samples[r] = (bench_now() - t0) / n * 1e6;
    }
    close(rd);
    if (wr != rd)
        close(wr);
    reap(pid);
    bench_report(name, "us", samples, reps);
}

/* ---- 2./4. length-prefixed messages, child to parent ------------------ */

/* Per go byte from the parent: sends count messages of size bytes, each a
 * 4-byte length then the payload. Exits at end of file. */
static void sender_child(int fd, size_t size, int count)
{
    char *payload = malloc(size);
    if (!payload)
        die("malloc");
    memset(payload, 0xab, size);
    char go;
    while (read_full(fd, &go, 1)) {
        uint32_t len = (uint32_t)size;
        for (int i = 0; i < count; i++) {
            write_full(fd, &len, sizeof len);
            write_full(fd, payload, size);
        }
    }
    free(payload);
    _exit(0);
}

/* fresh_buffer == 0: the receiver reads every message into one buffer (the
 * bandwidth figure); fresh_buffer == 1: it allocates, fills and frees a new
 * buffer per message, as a queue handing out owned items would. */
static void transfer(const char *name, size_t size, size_t total, int fresh_buffer)
{
    int sv[2];
    make_socketpair(sv);
    int count = (int)(total / size);
    pid_t pid = fork_or_die();
    if (pid == 0) {
        close(sv[0]);
        sender_child(sv[1], size, count);
    }
    close(sv[1]);
    int fd = sv[0];
    char *buf = fresh_buffer ? NULL : malloc(size);
    if (!fresh_buffer && !buf)
        die("malloc");
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        put_byte(fd, 'g');
        for (int i = 0; i < count; i++) {
            uint32_t len;
            read_exact(fd, &len, sizeof len);
            if (len != size) {
                errno = EPROTO;
                die("bad length prefix");
            }
            char *dst = buf;
            if (fresh_buffer && !(dst = malloc(len)))
                die("malloc");
            read_exact(fd, dst, len);
            if (fresh_buffer)
                free(dst);
        }
        if (r >= 0)
            samples[r] = (double)size * count / (bench_now() - t0) / 1e6;
    }
    close(fd);
    free(buf);
    reap(pid);
    bench_report(name, "MB/s", samples, reps);
}

/* ---- 3. many small records -------------------------------------------- */

struct record {
    uint32_t len;
    unsigned char payload[16];
};

static void record_child(int fd, int count)
{
    char go;
    while (read_full(fd, &go, 1)) {
        for (int i = 0; i < count; i++) {
            struct record rec = {.len = sizeof rec.payload};
            memcpy(rec.payload, &i, sizeof i);
            write_full(fd, &rec, sizeof rec);
        }
    }
    _exit(0);
}

static void queue_small(const char *name)
{
    int sv[2];
    make_socketpair(sv);
    int count = quick ? 10000 : 100000;
    pid_t pid = fork_or_die();
    if (pid == 0) {
        close(sv[0]);
        record_child(sv[1], count);
    }
    close(sv[1]);
    int fd = sv[0];
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        put_byte(fd, 'g');
        for (int i = 0; i < count; i++) {
            uint32_t len;
            unsigned char payload[16];
            int seq;
            read_exact(fd, &len, sizeof len);
            if (len != sizeof payload) {
                errno = EPROTO;
                die("bad length prefix");
            }
            read_exact(fd, payload, len);
            memcpy(&seq, payload, sizeof seq);
            if (seq != i) {
                errno = EPROTO;
                die("record out of sequence");
            }
        }
        if (r >= 0)
            samples[r] = count / (bench_now() - t0);
    }
    close(fd);
    reap(pid);
    bench_report(name, "items/s", samples, reps);
}

/* ---- 5./6. process-shared mutex --------------------------------------- */

struct shared {
    pthread_mutex_t mutex;
    long value;
};

static struct shared *shared_new(void)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED)
        die("mmap");
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    int rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutex_init(&s->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        die("pthread_mutex_init");
    }
    s->value = 0;
    return s;
}

static void shared_free(struct shared *s)
{
    pthread_mutex_destroy(&s->mutex);
    munmap(s, sizeof *s);
}

static void lock_loop(struct shared *s, long n, int increment)
{
    if (increment) {
        for (long i = 0; i < n; i++) {
            pthread_mutex_lock(&s->mutex);
            s->value++;
            pthread_mutex_unlock(&s->mutex);
        }
    } else {
        for (long i = 0; i < n; i++) {
            pthread_mutex_lock(&s->mutex);
            pthread_mutex_unlock(&s->mutex);
        }
    }
}

/* nproc == 1: the loop runs here; otherwise nproc children, forked before the
 * clock starts, each run it at once after a go byte. ops/s = all pairs / wall
 * time. With increment, the final count must be exact. */
static void mutex_bench(const char *name, int nproc, long n, int increment)
{
    struct shared *s = shared_new();
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        s->value = 0;
        double dt;
        if (nproc == 1) {
            double t0 = bench_now();
            lock_loop(s, n, increment);
            dt = bench_now() - t0;
        } else {
            int ready[2], go[2];
            make_pipe(ready);
            make_pipe(go);
            pid_t pids[2];
            for (int c = 0; c < nproc; c++) {
                pids[c] = fork_or_die();
                if (pids[c] == 0) {
                    close(ready[0]);
                    close(go[1]);
                    put_byte(ready[1], 'r');
                    get_byte(go[0]);
                    lock_loop(s, n, increment);
                    put_byte(ready[1], 'd');
                    _exit(0);
                }
            }
            close(ready[1]);
            close(go[0]);
            for (int c = 0; c < nproc; c++)
                get_byte(ready[0]);
            double t0 = bench_now();
            for (int c = 0; c < nproc; c++)
                put_byte(go[1], 'g');
            for (int c = 0; c < nproc; c++)
                get_byte(ready[0]);
            dt = bench_now() - t0;
            close(ready[0]);
            close(go[1]);
            for (int c = 0; c < nproc; c++)
                reap(pids[c]);
        }
        if (increment && s->value != n * nproc) {
            fprintf(stderr, "bench_ipc_raw: %s: count %ld, expected %ld\n", name, s->value, n * nproc);
            exit(1);
        }
        if (r >= 0)
            samples[r] = (double)n * nproc / dt;
    }
    shared_free(s);
    bench_report(name, "ops/s", samples, reps);
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
    quick = bench_options(argc, argv, "bench_ipc_raw");
    if (quick)
        reps = 7;

    size_t bw_total = (quick ? 32 : 256) * MIB;
    pingpong("raw socketpair pingpong", 0);
    pingpong("raw pipe pingpong", 1);
    transfer("raw socketpair bw 1MiB", MIB, bw_total, 0);
    transfer("raw socketpair bw 16MiB", 16 * MIB, bw_total, 0);
    queue_small("raw socketpair queue small");
    transfer("raw socketpair queue 1MiB", MIB, (quick ? 32 : 256) * MIB, 1);

    long lock_n = quick ? 2000000 : 20000000;
    mutex_bench("raw pshared mutex 1proc", 1, lock_n, 0);
    mutex_bench("raw pshared mutex 2proc", 2, lock_n / 2, 0);
    mutex_bench("raw pshared value incr 1proc", 1, lock_n, 1);
    mutex_bench("raw pshared value incr 2proc", 2, lock_n / 2, 1);
    return 0;
}
