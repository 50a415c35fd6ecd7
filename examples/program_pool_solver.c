/* Seed 000, "multiprocessing with subprocess": a master program starts m
 * external solver programs whose start-up is expensive, keeps them alive
 * as a pool, and splits n >> m tasks among them over their stdin/stdout
 * pipes, the programs working in parallel.
 *
 *   for index in xrange(proc_size):
 *       procs.append(subprocess.Popen(solver, stdin=PIPE, stdout=PIPE))
 *       locks.append(threading.Lock())
 *   for i in xrange(task_size):
 *       t = threading.Thread(target=call_method, args=(i, tasks[i]))
 *       ...
 *   def call_method(i, task):
 *       lock = locks[i % proc_size]; lock.acquire()
 *       procs[i % proc_size].stdin.write(task); result = ...stdout.readline()
 *       lock.release()
 *
 * The threads, the locks and the modulo are what a program pool does:
 * here 4 solvers (examples/solver/solver.c, a sieve of 20 million numbers
 * at start-up, then one "lo hi" line per task) take 100 tasks, and map
 * gives the replies in input order. The program checks each reply against
 * its own count and prints the total.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mproc.h>

#define NPROGRAMS 4
#define NTASKS 100
#define SPAN 200000

/* The solver lies next to this program. */
static void solver_path(const char *self, char *out, size_t size)
{
    const char *slash = strrchr(self, '/'), *backslash = strrchr(self, '\\');
    const char *end = backslash > slash ? backslash : slash;
    size_t dir = end ? (size_t)(end - self) + 1 : 0;
#ifdef _WIN32
    const char *name = "solver.exe";
#else
    const char *name = "solver";
#endif
    snprintf(out, size, "%.*s%s", (int)dir, self, name);
}

static long primes_in(long lo, long hi)
{
    long count = 0;
    for (long k = lo < 2 ? 2 : lo; k < hi; k++) {
        int prime = 1;
        for (long d = 2; d * d <= k && prime; d++)
            prime = k % d != 0;
        count += prime;
    }
    return count;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    char solver[4096];
    solver_path(argv[0], solver, sizeof solver);
    const char *cmd[] = {solver, NULL};
    mp_program_pool_options o = {
        .argv = cmd, .programs = NPROGRAMS, .ready_line = "ready", .quit = "quit\n", .quit_len = 5};
    mp_pool *pool;
    int rc = mp_program_pool_new(&pool, &o);
    if (rc != MP_OK) {
        fprintf(stderr, "cannot start the solvers: %s\n", mp_last_error());
        return 1;
    }
    printf("%d solvers started\n", NPROGRAMS);

    mp_buf tasks = MP_BUF_INIT;
    char line[64];
    for (int i = 0; i < NTASKS; i++) {
        snprintf(line, sizeof line, "%ld %ld", (long)i * SPAN, (long)(i + 1) * SPAN);
        mp_pack(&tasks, "s", line);
    }
    mp_value *replies;
    rc = mp_pool_map(pool, NULL, tasks.data, tasks.len, 1, &replies);
    mp_buf_free(&tasks);
    if (rc != MP_OK) {
        fprintf(stderr, "map failed: %s\n", mp_last_error());
        mp_pool_free(pool);
        return 1;
    }
    long total = 0;
    int wrong = 0;
    for (int i = 0; i < NTASKS; i++) {
        const mp_value *r = &replies->as.array.items[i];
        long lo, hi, count;
        if (r->type != MP_STR || sscanf(r->as.str.ptr, "%ld %ld %ld", &lo, &hi, &count) != 3 ||
            lo != (long)i * SPAN) {
            wrong++;
            continue;
        }
        /* a few spot checks against a count of our own */
        if (i % 50 == 0 && primes_in(lo, hi) != count)
            wrong++;
        if (i < 3 || i == NTASKS - 1)
            printf("task %d: %s\n", i, r->as.str.ptr);
        total += count;
    }
    mp_value_free(replies);
    mp_pool_close(pool);
    mp_pool_join(pool, MP_FOREVER);
    mp_pool_free(pool);
    printf("primes below %ld: %ld\n", (long)NTASKS * SPAN, total);
    if (wrong) {
        printf("%d replies were wrong\n", wrong);
        return 1;
    }
    printf("All %d tasks done in input order.\n", NTASKS);
    return 0;
}
