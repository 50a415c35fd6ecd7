/* bench_process_start.c - process start+join latency, one line of JSON per
 * variant: mproc under each start method, raw fork+_exit+waitpid, and raw
 * posix_spawn of this executable re-entering and exiting at once.
 *
 * Usage: bench_process_start [iterations]
 */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mproc.h>

extern char **environ;

#define RAW_CHILD_FLAG "--raw-child"

static int trivial(const mp_value *args)
{
    (void)args;
    return 0;
}
MP_TARGET(trivial)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, double *samples, int n)
{
    qsort(samples, (size_t)n, sizeof *samples, by_double);
    printf("{\"name\": \"%s\", \"n\": %d, \"median_ms\": %.4f, \"p10_ms\": %.4f, \"p90_ms\": %.4f}\n", name, n,
           samples[n / 2] * 1e3, samples[n / 10] * 1e3, samples[n * 9 / 10] * 1e3);
    fflush(stdout);
}

static int mproc_once(const mp_process_options *opts)
{
    mp_process *p;
    int code = -1;
    if (mp_process_new(&p, trivial, opts, NULL) != MP_OK || mp_process_start(p) != MP_OK ||
        mp_process_join(p, MP_FOREVER) != MP_OK || mp_process_exitcode(p, &code) != MP_OK) {
        fprintf(stderr, "bench: %s\n", mp_last_error());
        exit(1);
    }
    mp_process_close(p);
    return code;
}

static void raw_fork_once(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int status;
    waitpid(pid, &status, 0);
}

static void raw_spawn_once(const char *self)
{
    char *argv[] = {(char *)self, (char *)RAW_CHILD_FLAG, NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0) {
        perror("posix_spawn");
        exit(1);
    }
    int status;
    waitpid(pid, &status, 0);
}

int main(int argc, char **argv)
{
    /* The raw re-entry baseline: exit before anything else runs. */
    if (argc > 1 && strcmp(argv[1], RAW_CHILD_FLAG) == 0)
        return 0;
    mp_main(argc, argv);
    int n = argc > 1 ? atoi(argv[1]) : 300;
    if (n < 10)
        n = 10;
    double *samples = calloc((size_t)n, sizeof *samples);

    static const mp_start_method methods[] = {MP_START_FORK, MP_START_SPAWN, MP_START_FORKSERVER};
    static const char *const names[] = {"mproc fork", "mproc spawn", "mproc forkserver"};
    for (size_t m = 0; m < 3; m++) {
        const mp_context *ctx;
        mp_get_context(methods[m], &ctx);
        mp_process_options opts = {.context = ctx};
        mproc_once(&opts); /* the forkserver starts on first use: not timed */
        for (int i = 0; i < n; i++) {
            double t0 = now();
            mproc_once(&opts);
            samples[i] = now() - t0;
        }
        report(names[m], samples, n);
    }
    for (int i = 0; i < n; i++) {
        double t0 = now();
        raw_fork_once();
        samples[i] = now() - t0;
    }
    report("raw fork", samples, n);
    for (int i = 0; i < n; i++) {
        double t0 = now();
        raw_spawn_once(argv[0]);
        samples[i] = now() - t0;
    }
    report("raw posix_spawn", samples, n);
    free(samples);
    return 0;
}
