/* bench_redis_pool.c - mproc's side of the Redis pool benchmarks (issue 16
 * §5): a caller here (mp_pool_new with a redis:// backend) and worker hosts
 * (mp_worker_serve) in child processes of its own, started by spawn, on a
 * Redis server that bench/run started. redis_peers.py times RQ and Celery
 * on the same server.
 *
 *   - map: MAP_N ints through mp_pool_map (default chunksize) to one host
 *     of 2 worker processes; tasks/s, packing the items included;
 *   - apply_async: APPLY_N calls made, then all their results got; tasks/s;
 *   - round trip: RTT_N apply_async + get, one after the other; us each;
 *     its batches alternate with those of the raw LPUSH + BRPOP ping-pong
 *     (bench_redis_resp.h), so that both see the same load;
 *   - a host killed: two hosts of 2 processes serve a caller with the
 *     given lease; a task that reports its host is killed there with its
 *     whole process group (SIGKILL), and the time from the kill to its
 *     result reaching the caller from the other host is taken, KILL_ROUNDS
 *     times. The task sleeps only on its first delivery (it takes a token
 *     from a queue of its own; the run it is delivered again for finds none
 *     and returns at once), so the figure is the redelivery alone.
 *
 * Usage: bench_redis_pool PORT MAP_N APPLY_N RTT_N REPS KILL_ROUNDS LEASE
 *   one JSON line per variant (bench_common.h); REPS timed batches after
 *   one untimed batch, for map, apply_async and the round trip.
 *
 * POSIX only (process groups, PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <mproc.h>

#include "bench_common.h"
#include "bench_redis_resp.h"

#define MAX_REPS 64
#define HOST_PROCESSES 2

static char base[64]; /* redis://127.0.0.1:PORT */
static const mp_context *spawn_ctx;

static void ok(int rc, const char *what)
{
    if (rc == MP_OK)
        return;
    fprintf(stderr, "bench_redis_pool: %s: %s (%s)\n", what, mp_last_error(), mp_errname(rc));
    exit(1);
}

/* ---- tasks -------------------------------------------------------------------- */

static int inc(const mp_value *args, mp_buf *result)
{
    int64_t x;
    int rc = mp_args(args, "q", &x);
    return rc ? rc : mp_pack(result, "q", x + 1);
}
MP_TASK(inc)

/* On its first delivery (a token waits in the queue tokens) it says which
 * host runs it (the host's process group, which is the host's pid) on the
 * queue marks, then sleeps until it is killed; delivered again, it finds
 * no token and returns that host at once. */
static int first_run_sleeps(const mp_value *args, mp_buf *result)
{
    const char *marks, *tokens;
    int rc = mp_args(args, "ss", &marks, &tokens);
    mp_queue *t = NULL, *m = NULL;
    mp_value *token = NULL;
    if (rc == MP_OK)
        rc = mp_queue_open(&t, tokens, NULL);
    int got = rc == MP_OK ? mp_queue_get(t, 0, &token) : rc;
    mp_value_free(token);
    mp_queue_free(t);
    if (got == MP_OK) {
        rc = mp_queue_open(&m, marks, NULL);
        if (rc == MP_OK)
            rc = mp_queue_put(m, 10, "q", (int64_t)getpgrp());
        mp_queue_free(m);
        if (rc == MP_OK)
            sleep(60); /* killed long before */
    } else if (got != MP_EEMPTY) {
        rc = got;
    }
    return rc ? rc : mp_pack(result, "q", (int64_t)getpgrp());
}
MP_TASK(first_run_sleeps)

/* Holds its worker a while and says which host it ran on. */
static int where(const mp_value *args, mp_buf *result)
{
    (void)args;
    usleep(50000);
    return mp_pack(result, "q", (int64_t)getpgrp());
}
MP_TASK(where)

/* ---- worker hosts ---------------------------------------------------------------- */

static int serve(const mp_value *args)
{
    const char *url;
    int processes;
    double lease;
    int rc = mp_args(args, "sid", &url, &processes, &lease);
    /* A process group of its own, which its local workers join, so that
     * one killpg ends the whole host; and gone with the benchmark if that
     * dies first. */
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    mp_backend_options bo = {.lease = lease};
    mp_worker_options o = {.processes = processes, .backend_options = &bo};
    if (rc == MP_OK)
        rc = mp_worker_serve(url, &o);
    if (rc != MP_OK)
        fprintf(stderr, "bench_redis_pool: serve: %s\n", mp_last_error());
    return rc == MP_OK ? 0 : 1;
}
MP_TARGET(serve)

static mp_process *start_host(const char *url, double lease)
{
    mp_process_options po = {.context = spawn_ctx};
    mp_process *p;
    ok(mp_process_new(&p, serve, &po, "sid", url, HOST_PROCESSES, lease), "mp_process_new");
    ok(mp_process_start(p), "mp_process_start");
    return p;
}

static void stop_hosts(const char *url, mp_process **hosts, size_t n)
{
    ok(mp_worker_stop(url, NULL), "mp_worker_stop");
    for (size_t i = 0; i < n; i++) {
        int code = -1;
        ok(mp_process_join(hosts[i], 30), "mp_process_join");
        ok(mp_process_exitcode(hosts[i], &code), "mp_process_exitcode");
        if (code != 0) {
            fprintf(stderr, "bench_redis_pool: a worker host exited with %d\n", code);
            exit(1);
        }
        mp_process_close(hosts[i]);
    }
}

static mp_pool *caller(const char *url, double lease)
{
    mp_backend_options bo = {.lease = lease};
    mp_pool *pool;
    ok(mp_pool_new(&pool, &(mp_pool_options){.backend = url, .backend_options = &bo}), "mp_pool_new");
    return pool;
}

static void check(const mp_value *v, int64_t want, const char *what)
{
    if (v->type != MP_INT || v->as.i != want) {
        fprintf(stderr, "bench_redis_pool: %s: wrong result\n", what);
        exit(1);
    }
}

/* ---- throughput and round trip ------------------------------------------------------ */

static void map(mp_pool *pool, int n, int reps)
{
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        mp_buf b = MP_BUF_INIT;
        mp_value *v;
        double t0 = bench_now();
        for (int i = 0; i < n; i++)
            ok(mp_pack(&b, "q", (int64_t)i), "mp_pack");
        ok(mp_pool_map(pool, inc, b.data, b.len, 0, &v), "mp_pool_map");
        double dt = bench_now() - t0;
        if (v->type != MP_ARRAY || v->as.array.len != (size_t)n)
            check(v, -1, "map");
        for (int i = 0; i < n; i += n / 7 + 1)
            check(&v->as.array.items[i], i + 1, "map");
        mp_value_free(v);
        mp_buf_free(&b);
        if (r >= 0)
            samples[r] = n / dt;
    }
    bench_report("mproc redis map", "tasks/s", samples, reps);
}

static void apply_many(mp_pool *pool, int n, int reps)
{
    mp_async_result **rs = malloc((size_t)n * sizeof *rs);
    if (rs == NULL)
        ok(MP_ENOMEM, "malloc");
    double samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (int i = 0; i < n; i++)
            ok(mp_pool_apply_async(pool, inc, NULL, &rs[i], "q", (int64_t)i), "mp_pool_apply_async");
        for (int i = 0; i < n; i++) {
            mp_value *v;
            ok(mp_async_result_get(rs[i], MP_FOREVER, &v), "mp_async_result_get");
            check(v, i + 1, "apply_async");
            mp_value_free(v);
            mp_async_result_free(rs[i]);
        }
        if (r >= 0)
            samples[r] = n / (bench_now() - t0);
    }
    free(rs);
    bench_report("mproc redis apply_async", "tasks/s", samples, reps);
}

static void roundtrip(mp_pool *pool, raw_pingpong *raw, int n, int reps)
{
    double samples[MAX_REPS], raw_samples[MAX_REPS];
    for (int r = -1; r < reps; r++) {
        double t0 = bench_now();
        for (int i = 0; i < n; i++) {
            mp_async_result *ar;
            mp_value *v;
            ok(mp_pool_apply_async(pool, inc, NULL, &ar, "q", (int64_t)7), "mp_pool_apply_async");
            ok(mp_async_result_get(ar, MP_FOREVER, &v), "mp_async_result_get");
            check(v, 8, "round trip");
            mp_value_free(v);
            mp_async_result_free(ar);
        }
        double dt = bench_now() - t0;
        double raw_us = raw_pingpong_batch(raw, n);
        if (r >= 0) {
            samples[r] = dt / n * 1e6;
            raw_samples[r] = raw_us;
        }
    }
    bench_report("mproc redis apply_async roundtrip", "us", samples, reps);
    bench_report("raw redis lpush brpop pingpong", "us", raw_samples, reps);
}

/* ---- a host killed ------------------------------------------------------------------ */

/* Wait until host serves: tasks that each hold a worker a while spread
 * over every serving worker, so one reaches it once it serves. Without
 * this a round could start while a new host (started by spawn on a loaded
 * machine) is still starting, and time its start as well. */
static void wait_serving(mp_pool *pool, pid_t host)
{
    enum { N = 4 };
    for (double deadline = bench_now() + 60; bench_now() < deadline;) {
        mp_async_result *rs[N];
        bool seen = false;
        for (int i = 0; i < N; i++)
            ok(mp_pool_apply_async(pool, where, NULL, &rs[i], ""), "mp_pool_apply_async");
        for (int i = 0; i < N; i++) {
            mp_value *v;
            ok(mp_async_result_get(rs[i], 30, &v), "mp_async_result_get");
            seen |= v->as.i == host;
            mp_value_free(v);
            mp_async_result_free(rs[i]);
        }
        if (seen)
            return;
    }
    fprintf(stderr, "bench_redis_pool: a new worker host is not serving after 60 s\n");
    exit(1);
}

static void kill_latency(int rounds, double lease)
{
    char url[128], marks_url[128], tokens_url[128];
    snprintf(url, sizeof url, "%s/0/bench-kill-%d", base, (int)getpid());
    snprintf(marks_url, sizeof marks_url, "%s/0/bench-kill-%d-marks", base, (int)getpid());
    snprintf(tokens_url, sizeof tokens_url, "%s/0/bench-kill-%d-tokens", base, (int)getpid());
    mp_process *hosts[2] = {start_host(url, lease), start_host(url, lease)};
    mp_pool *pool = caller(url, lease);
    mp_queue *marks, *tokens;
    ok(mp_queue_open(&marks, marks_url, NULL), "mp_queue_open");
    ok(mp_queue_open(&tokens, tokens_url, NULL), "mp_queue_open");
    mp_value *v;
    wait_serving(pool, (pid_t)mp_process_pid(hosts[0]));
    wait_serving(pool, (pid_t)mp_process_pid(hosts[1]));
    srand((unsigned)getpid());
    double samples[MAX_REPS];
    for (int r = 0; r < rounds; r++) {
        ok(mp_queue_put(tokens, 10, "i", 1), "mp_queue_put");
        mp_async_result *ar;
        ok(mp_pool_apply_async(pool, first_run_sleeps, NULL, &ar, "ss", marks_url, tokens_url),
           "mp_pool_apply_async");
        ok(mp_queue_get(marks, 30, &v), "mp_queue_get (the task's host)");
        pid_t victim = (pid_t)v->as.i;
        mp_value_free(v);
        /* The hosts renew their leases every lease / 3 from when they
         * started, and one round follows the last: kill at a random phase
         * of those ticks, or the rounds would sample one phase only. */
        usleep((useconds_t)(rand() / (RAND_MAX + 1.0) * lease / 3 * 1e6));
        double t0 = bench_now();
        if (killpg(victim, SIGKILL) != 0) {
            perror("bench_redis_pool: killpg");
            exit(1);
        }
        ok(mp_async_result_get(ar, 30, &v), "mp_async_result_get (after the kill)");
        samples[r] = bench_now() - t0;
        if (v->as.i == victim) {
            fprintf(stderr, "bench_redis_pool: the result came from the killed host\n");
            exit(1);
        }
        mp_value_free(v);
        mp_async_result_free(ar);
        /* a new host in the dead one's place, serving before the next round */
        int i = mp_process_pid(hosts[0]) == victim ? 0 : 1;
        mp_process_join(hosts[i], 30);
        mp_process_close(hosts[i]);
        hosts[i] = start_host(url, lease);
        wait_serving(pool, (pid_t)mp_process_pid(hosts[i]));
    }
    mp_queue_free(marks);
    mp_queue_free(tokens);
    mp_pool_free(pool);
    stop_hosts(url, hosts, 2);
    bench_report("mproc redis kill to result", "s", samples, rounds);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    if (argc != 8) {
        fprintf(stderr, "usage: bench_redis_pool PORT MAP_N APPLY_N RTT_N REPS KILL_ROUNDS LEASE\n");
        return 2;
    }
    int port = atoi(argv[1]), map_n = atoi(argv[2]), apply_n = atoi(argv[3]), rtt_n = atoi(argv[4]);
    int reps = atoi(argv[5]), rounds = atoi(argv[6]);
    double lease = atof(argv[7]);
    if (port <= 0 || map_n <= 0 || apply_n <= 0 || rtt_n <= 0 || reps <= 0 || reps > MAX_REPS ||
        rounds <= 0 || rounds > MAX_REPS || !(lease > 0)) {
        fprintf(stderr, "bench_redis_pool: bad arguments\n");
        return 2;
    }
    snprintf(base, sizeof base, "redis://127.0.0.1:%d", port);
    ok(mp_get_context(MP_START_SPAWN, &spawn_ctx), "mp_get_context");
    raw_pingpong *raw = raw_pingpong_start(port); /* forks: before any thread */

    char url[128];
    snprintf(url, sizeof url, "%s/0/bench-%d", base, (int)getpid());
    mp_process *host = start_host(url, 0);
    mp_pool *pool = caller(url, 0);
    map(pool, map_n, reps);
    apply_many(pool, apply_n, reps);
    roundtrip(pool, raw, rtt_n, reps);
    mp_pool_free(pool);
    stop_hosts(url, &host, 1);
    raw_pingpong_stop(raw);

    kill_latency(rounds, lease);
    return 0;
}
