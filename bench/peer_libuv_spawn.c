/* peer_libuv_spawn.c - the C peer of the process start benchmark: libuv's
 * uv_spawn of the same trivial child as bench_process_start's raw
 * posix_spawn row (that program, re-entered with its --raw-child flag,
 * exits at once), reaped through libuv's exit callback. One JSON line, as
 * bench_process_start prints them.
 *
 * Usage: peer_libuv_spawn BENCH_PROCESS_START [iterations]
 */
#define _GNU_SOURCE /* uv.h needs the pthread types of POSIX 2008 */
#include <stdio.h>
#include <stdlib.h>

#include <uv.h>

#include "bench_common.h"

static void child_ended(uv_process_t *child, int64_t status, int signal)
{
    if (status != 0 || signal != 0) {
        fprintf(stderr, "peer_libuv_spawn: the child ended with %lld, signal %d\n", (long long)status,
                signal);
        exit(1);
    }
    uv_close((uv_handle_t *)child, NULL);
}

static void spawn_once(uv_loop_t *loop, char *program)
{
    char flag[] = "--raw-child";
    char *args[] = {program, flag, NULL};
    uv_process_options_t o = {.exit_cb = child_ended, .file = program, .args = args};
    uv_process_t child;
    int rc = uv_spawn(loop, &child, &o);
    if (rc != 0) {
        fprintf(stderr, "peer_libuv_spawn: uv_spawn: %s\n", uv_strerror(rc));
        exit(1);
    }
    uv_run(loop, UV_RUN_DEFAULT);
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: peer_libuv_spawn BENCH_PROCESS_START [iterations]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 300;
    if (n < 10)
        n = 10;
    double *samples = calloc((size_t)n, sizeof *samples);
    uv_loop_t *loop = uv_default_loop();
    spawn_once(loop, argv[1]); /* warm-up */
    for (int i = 0; i < n; i++) {
        double t0 = bench_now();
        spawn_once(loop, argv[1]);
        samples[i] = bench_now() - t0;
    }
    qsort(samples, (size_t)n, sizeof *samples, by_double);
    printf("{\"name\": \"libuv uv_spawn\", \"n\": %d, \"median_ms\": %.4f, \"p10_ms\": %.4f, \"p90_ms\": "
           "%.4f}\n",
           n, samples[n / 2] * 1e3, samples[n / 10] * 1e3, samples[n * 9 / 10] * 1e3);
    uv_loop_close(loop);
    free(samples);
    return 0;
}
