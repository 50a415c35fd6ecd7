/* bench_common.h - what the C benchmarks share: the clock, one JSON line of
 * statistics per variant, and the command line "[quick] [--cpu N]". */
#ifndef MPROC_BENCH_COMMON_H
#define MPROC_BENCH_COMMON_H

#include <stdbool.h>

/* Seconds on the monotonic clock. */
double bench_now(void);

/* Print {"name", "median", "unit", "p10", "p90", "max", "samples"} for n samples
 * (sorted in place), one line, flushed. */
void bench_report(const char *name, const char *unit, double *samples, int n);

/* Read "[quick] [--cpu N]": pin this process (and so every child it forks)
 * to CPU N, and return whether "quick" was given. Bad arguments print the
 * usage and exit with 2; a failed pinning exits with 1. */
bool bench_options(int argc, char **argv, const char *program);

#endif
