/* solver.c - the external program of examples/program_pool_solver.c: a
 * stand-in for seed 000's solver, a program whose start-up is expensive
 * and which then answers one task per line. It is a plain program, not
 * linked with mproc, as the seed's was.
 *
 * Start-up: a sieve of the primes below LIMIT (the "model" it loads), then
 * "ready" on stdout. A task is a line "lo hi"; the reply is one line
 * "lo hi count", the number of primes in [lo, hi). "quit" ends it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 20000000

int main(void)
{
    unsigned char *composite = calloc(LIMIT, 1);
    if (composite == NULL)
        return 1;
    composite[0] = composite[1] = 1;
    for (long i = 2; i * i < LIMIT; i++)
        if (!composite[i])
            for (long j = i * i; j < LIMIT; j += i)
                composite[j] = 1;
    puts("ready");
    fflush(stdout);
    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL) {
        if (strncmp(line, "quit", 4) == 0)
            break;
        long lo, hi, count = 0;
        if (sscanf(line, "%ld %ld", &lo, &hi) != 2 || lo < 0 || hi > LIMIT || lo > hi) {
            printf("bad task\n");
        } else {
            for (long k = lo; k < hi; k++)
                count += !composite[k];
            printf("%ld %ld %ld\n", lo, hi, count);
        }
        fflush(stdout);
    }
    free(composite);
    return 0;
}
