/* bench_common.c - see bench_common.h. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

double bench_now(void)
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

void bench_report(const char *name, const char *unit, double *samples, int n)
{
    qsort(samples, (size_t)n, sizeof *samples, by_double);
    double median = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
    printf(
        "{\"name\": \"%s\", \"median\": %.3f, \"unit\": \"%s\", \"p10\": %.3f, \"p90\": %.3f, \"max\": %.3f, "
        "\"samples\": %d}\n",
        name, median, unit, samples[n / 10], samples[n * 9 / 10], samples[n - 1], n);
    fflush(stdout);
}

static _Noreturn void usage(const char *program)
{
    fprintf(stderr, "usage: %s [quick] [--cpu N]\n", program);
    exit(2);
}

bool bench_options(int argc, char **argv, const char *program)
{
    bool quick = false;
    int cpu = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--cpu") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end != '\0' || v < 0 || v >= CPU_SETSIZE)
                usage(program);
            cpu = (int)v;
        } else {
            usage(program);
        }
    }
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            fprintf(stderr, "%s: ", program);
            perror("sched_setaffinity");
            exit(1);
        }
    }
    return quick;
}
