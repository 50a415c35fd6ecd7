/* bench_pool.c - mproc's side of the Pool benchmarks: map (packed and
 * fixed-size elements), map with chunksize 1, the apply_async + get round
 * trip, Pool(2) create + teardown under spawn, a CPU-bound map against the
 * serial loop, and a ThreadPool map. pool.py times the same with Python's
 * multiprocessing.Pool(2) and ThreadPool(2); the raw pipe ping-pong that the
 * round trip is read against is measured here too.
 *
 * One line of JSON per variant:
 *   {"name": ..., "median": ..., "unit": ..., "p10": ..., "p90": ..., "samples": N}
 * where each sample is one timed batch and the statistics are over batches.
 * Pools are started before the clock runs (except in the create + teardown
 * row), with the fork start method as on Python's side, processes=2.
 *
 * Usage: bench_pool [quick] [--cpu N]
 *   quick    sizes smaller, fewer samples
 *   --cpu N  pin this process (and so every child it forks) to CPU N
 *
 * POSIX only (the pinning, the raw pipe ping-pong, the fork start method).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mproc.h>

#include "bench_common.h"

#define MAX_REPS 32
#define WORKERS 2
#define SMALL_MSG 16

static bool quick;
static int reps = 11;
static const mp_context *fork_ctx, *spawn_ctx;

/* ---- helpers ---------------------------------------------------------- */

static _Noreturn void die(const char *what, int rc)
{
    fprintf(stderr, "bench_pool: %s: %s (%s)\n", what, mp_last_error(), mp_errname(rc));
    exit(1);
}

static void ok(int rc, const char *what)
{
    if (rc != MP_OK)
        die(what, rc);
}

static mp_pool *fork_pool(void)
{
    mp_pool_options opts = {.processes = WORKERS, .context = fork_ctx};
    mp_pool *pool;
    ok(mp_pool_new(&pool, &opts), "mp_pool_new");
    return pool;
}

/* ---- tasks ------------------------------------------------------------ */

static int square(const mp_value *args, mp_buf *result)
{
    int64_t x;
    int rc = mp_args(args, "q", &x);
    return rc ? rc : mp_pack(result, "q", x * x);
}
MP_TASK(square)

static int square_elem(const void *in, void *out)
{
    int64_t x;
    memcpy(&x, in, sizeof x);
    x *= x;
    memcpy(out, &x, sizeof x);
    return MP_OK;
}
MP_ELEM_TASK(square_elem)

/* About 100 us of arithmetic for the calibrated iteration count: a chain of
 * dependent multiply-adds the compiler cannot fold. */
static int64_t burn_loop(int64_t iters)
{
    uint64_t x = (uint64_t)iters | 1;
    for (int64_t i = 0; i < iters; i++)
        x = x * 6364136223846793005u + 1442695040888963407u + (x >> 29);
    return (int64_t)(x >> 1);
}

static int burn(const mp_value *args, mp_buf *result)
{
    int64_t iters;
    int rc = mp_args(args, "q", &iters);
    return rc ? rc : mp_pack(result, "q", burn_loop(iters));
}
MP_TASK(burn)

/* ---- 1./2. map over integers ------------------------------------------ */

static void check_squares(const mp_value *v, size_t n)
{
    if (v->type != MP_ARRAY || v->as.array.len != n)
        die("map: wrong result length", MP_EPROTO);
    for (size_t i = 0; i < n; i += n / 7 + 1) {
        const mp_value *e = &v->as.array.items[i];
        if (e->type != MP_INT || e->as.i != (int64_t)(i * i))
            die("map: wrong result", MP_EPROTO);
    }
}

/* Timed: packing the items, the map, freeing the result. */
static void map_packed(mp_pool *pool, const char *name, size_t n, size_t chunksize)
{
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        mp_buf b = MP_BUF_INIT;
        mp_value *v;
        double t0 = bench_now();
        for (size_t i = 0; i < n; i++)
            ok(mp_pack(&b, "q", (int64_t)i), "mp_pack");
        ok(mp_pool_map(pool, square, b.data, b.len, chunksize, &v), "mp_pool_map");
        double dt = bench_now() - t0;
        check_squares(v, n);
        mp_value_free(v);
        mp_buf_free(&b);
        if (r >= 0)
            samples[r] = (double)n / dt;
    }
    bench_report(name, "tasks/s", samples, reps);
}

static void map_fixed(mp_pool *pool, const char *name, size_t n)
{
    int64_t *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    if (in == NULL || out == NULL)
        die("malloc", MP_ENOMEM);
    for (size_t i = 0; i < n; i++)
        in[i] = (int64_t)i;
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        memset(out, 0, n * sizeof *out);
        double t0 = bench_now();
        ok(mp_pool_map_fixed(pool, square_elem, in, sizeof *in, out, sizeof *out, n, 0), "mp_pool_map_fixed");
        double dt = bench_now() - t0;
        for (size_t i = 0; i < n; i++)
            if (out[i] != (int64_t)(i * i))
                die("map_fixed: wrong result", MP_EPROTO);
        if (r >= 0)
            samples[r] = (double)n / dt;
    }
    free(in);
    free(out);
    bench_report(name, "tasks/s", samples, reps);
}

/* ---- 3. apply_async + get round trip, and the raw pipe ping-pong ------- */

static void roundtrip(mp_pool *pool, const char *name)
{
    int n = quick ? 2000 : 10000;
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (int i = 0; i < n; i++) {
            mp_async_result *ar;
            mp_value *v;
            ok(mp_pool_apply_async(pool, square, NULL, &ar, "q", (int64_t)7), "mp_pool_apply_async");
            ok(mp_async_result_get(ar, MP_FOREVER, &v), "mp_async_result_get");
            if (v->type != MP_INT || v->as.i != 49)
                die("apply_async: wrong result", MP_EPROTO);
            mp_value_free(v);
            mp_async_result_free(ar);
        }
        if (r >= 0)
            samples[r] = (bench_now() - t0) / n * 1e6;
    }
    bench_report(name, "us", samples, reps);
}

static void write_full(int fd, const void *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            perror("bench_pool: write");
            exit(1);
        }
        p = (const char *)p + k;
        n -= (size_t)k;
    }
}

/* 1 at end of file, else 0. */
static int read_exact(int fd, void *p, size_t n)
{
    while (n > 0) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            perror("bench_pool: read");
            exit(1);
        }
        if (k == 0)
            return 1;
        p = (char *)p + k;
        n -= (size_t)k;
    }
    return 0;
}

/* As bench_ipc_raw.c's "raw pipe pingpong": 16 bytes there and back over
 * two pipes to a forked echo child. */
static void raw_pipe_pingpong(const char *name)
{
    int p2c[2], c2p[2];
    if (pipe(p2c) != 0 || pipe(c2p) != 0) {
        perror("bench_pool: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench_pool: fork");
        exit(1);
    }
    if (pid == 0) {
        close(p2c[1]);
        close(c2p[0]);
        char buf[SMALL_MSG];
        while (read_exact(p2c[0], buf, sizeof buf) == 0)
            write_full(c2p[1], buf, sizeof buf);
        _exit(0);
    }
    close(p2c[0]);
    close(c2p[1]);
    int n = quick ? 2000 : 10000;
    char msg[SMALL_MSG], back[SMALL_MSG];
    memset(msg, 'p', sizeof msg);
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (int i = 0; i < n; i++) {
            write_full(p2c[1], msg, sizeof msg);
            if (read_exact(c2p[0], back, sizeof back))
                die("raw pingpong: early end of file", MP_EPROTO);
        }
        if (r >= 0)
            samples[r] = (bench_now() - t0) / n * 1e6;
    }
    close(p2c[1]);
    close(c2p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    bench_report(name, "us", samples, reps);
}

/* ---- 4. Pool(2) create + teardown under spawn ------------------------- */

static void spawn_pool_lifecycle(const char *name)
{
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        mp_pool_options opts = {.processes = WORKERS, .context = spawn_ctx};
        mp_pool *pool;
        double t0 = bench_now();
        ok(mp_pool_new(&pool, &opts), "mp_pool_new(spawn)");
        ok(mp_pool_close(pool), "mp_pool_close");
        ok(mp_pool_join(pool, MP_FOREVER), "mp_pool_join");
        mp_pool_free(pool);
        if (r >= 0)
            samples[r] = (bench_now() - t0) * 1e3;
    }
    bench_report(name, "ms", samples, reps);
}

/* ---- 5. CPU-bound map against the serial loop ------------------------- */

/* The iteration count that makes burn_loop take about 100 us here. */
static int64_t calibrate(void)
{
    int64_t iters = 10000;
    for (;;) {
        double t0 = bench_now();
        volatile int64_t sink = 0;
        for (int i = 0; i < 100; i++)
            sink += burn_loop(iters);
        double per = (bench_now() - t0) / 100;
        if (per >= 20e-6)
            return (int64_t)((double)iters * 100e-6 / per);
        iters *= 4;
    }
}

static void cpu_bound(mp_pool *pool, size_t n, int cpu_reps)
{
    int64_t iters = calibrate();
    mp_buf b = MP_BUF_INIT;
    for (size_t i = 0; i < n; i++)
        ok(mp_pack(&b, "q", iters), "mp_pack");
    int64_t expect = burn_loop(iters);
    double serial[MAX_REPS], pooled[MAX_REPS];
    for (int r = -1; r < cpu_reps; r++) {
        double t0 = bench_now();
        volatile int64_t sink = 0;
        for (size_t i = 0; i < n; i++)
            sink += burn_loop(iters);
        double ts = bench_now() - t0;
        mp_value *v;
        t0 = bench_now();
        ok(mp_pool_map(pool, burn, b.data, b.len, 0, &v), "mp_pool_map(burn)");
        double tp = bench_now() - t0;
        if (v->type != MP_ARRAY || v->as.array.len != n || v->as.array.items[n - 1].as.i != expect)
            die("cpu map: wrong result", MP_EPROTO);
        mp_value_free(v);
        if (r >= 0) {
            serial[r] = ts;
            pooled[r] = tp;
        }
    }
    mp_buf_free(&b);
    bench_report("mproc cpu map serial", "s", serial, cpu_reps);
    bench_report("mproc cpu map pool", "s", pooled, cpu_reps);
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    quick = bench_options(argc, argv, "bench_pool");
    if (quick)
        reps = 5;
    ok(mp_get_context(MP_START_FORK, &fork_ctx), "mp_get_context(fork)");
    ok(mp_get_context(MP_START_SPAWN, &spawn_ctx), "mp_get_context(spawn)");

    mp_pool *pool = fork_pool();
    map_packed(pool, "mproc map 1M packed", 1000000, 0);
    map_fixed(pool, "mproc map 1M fixed", 1000000);
    map_packed(pool, "mproc map chunksize 1", quick ? 20000 : 100000, 1);
    roundtrip(pool, "mproc apply_async roundtrip");
    cpu_bound(pool, quick ? 5000 : 20000, quick ? 3 : 5);
    ok(mp_pool_close(pool), "mp_pool_close");
    ok(mp_pool_join(pool, MP_FOREVER), "mp_pool_join");
    mp_pool_free(pool);

    raw_pipe_pingpong("raw pipe pingpong");
    spawn_pool_lifecycle("mproc spawn pool create+teardown");

    mp_pool_options topts = {.processes = WORKERS};
    ok(mp_thread_pool_new(&pool, &topts), "mp_thread_pool_new");
    map_packed(pool, "mproc threadpool map", 100000, 0);
    ok(mp_pool_close(pool), "mp_pool_close(thread)");
    ok(mp_pool_join(pool, MP_FOREVER), "mp_pool_join(thread)");
    mp_pool_free(pool);
    return 0;
}
