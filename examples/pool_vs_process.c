/* Seed 004, "mp.Process or mp.Pool?": the same CPU-bound work done three
 * ways, serially, with one Process per piece returning its result through
 * a Queue, and with Pool.map, each timed.
 *
 *   def work(i):                 # count the primes in [i*K, (i+1)*K)
 *       return count_primes(i * K, (i + 1) * K)
 *
 *   def proc(i, output):
 *       output.put((i, work(i)))
 *
 *   if __name__ == '__main__':
 *       start = time.time()
 *       serial = [work(i) for i in range(N)]
 *       print('serial: %.3f s' % (time.time() - start))
 *
 *       start = time.time()
 *       output = Queue()
 *       processes = [Process(target=proc, args=(i, output)) for i in range(N)]
 *       for p in processes: p.start()
 *       for p in processes: p.join()
 *       results = [output.get() for p in processes]     # in any order
 *       print('Process: %.3f s' % (time.time() - start))
 *
 *       start = time.time()
 *       with Pool(N) as pool:
 *           pooled = pool.map(work, range(N))            # in input order
 *       print('Pool.map: %.3f s' % (time.time() - start))
 *
 * The times include starting the processes (and, in the Pool's case,
 * starting and stopping the pool), which is what the seed measures. Nothing
 * is asserted about them: only the three sets of results must agree.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include <mproc.h>

#define N 4       /* pieces of work, processes, pool workers */
#define K 300000  /* numbers per piece */

/* time.time(), in standard C: C11's timespec_get where the C library has
 * it; MinGW-w64's default runtime (msvcrt) lacks it, but there clock()
 * counts wall time since the process started, in milliseconds, which is as
 * good for measuring an interval. */
static double now(void)
{
#ifdef TIME_UTC
    struct timespec t;
    if (timespec_get(&t, TIME_UTC) != TIME_UTC)
        return 0;
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
#else
    return (double)clock() / CLOCKS_PER_SEC;
#endif
}

/* The CPU-bound part: trial division, deliberately plain. */
static int64_t count_primes(int64_t lo, int64_t hi)
{
    int64_t count = 0;
    for (int64_t n = lo < 2 ? 2 : lo; n < hi; n++) {
        bool prime = true;
        for (int64_t d = 2; d * d <= n; d++)
            if (n % d == 0) {
                prime = false;
                break;
            }
        count += prime;
    }
    return count;
}

static int64_t work_on(int64_t i)
{
    return count_primes(i * K, (i + 1) * K);
}

/* Pool task: work(i). */
static int work(const mp_value *args, mp_buf *result)
{
    int64_t i;
    int rc = mp_args(args, "q", &i);
    return rc ? rc : mp_pack(result, "q", work_on(i));
}
MP_TASK(work)

/* Process target: proc(i, output). */
static int proc(const mp_value *args)
{
    int64_t i;
    mp_queue *output;
    int rc = mp_args(args, "qO", &i, &output);
    if (rc != MP_OK)
        return rc;
    return mp_queue_put(output, MP_FOREVER, "qq", i, work_on(i));
}
MP_TARGET(proc)

static int with_processes(int64_t results[N])
{
    mp_queue *output;
    mp_process *processes[N] = {NULL};
    int rc = mp_queue_new(&output, NULL);
    if (rc != MP_OK)
        return rc;
    for (int i = 0; i < N && rc == MP_OK; i++) {
        rc = mp_process_new(&processes[i], proc, NULL, "qO", (int64_t)i, output);
        if (rc == MP_OK)
            rc = mp_process_start(processes[i]);
    }
    /* Join every process that was started, even after a failure. */
    for (int i = 0; i < N; i++) {
        if (!processes[i] || mp_process_pid(processes[i]) == 0)
            continue;
        int join_rc = mp_process_join(processes[i], MP_FOREVER);
        int code = 1;
        if (join_rc == MP_OK)
            join_rc = mp_process_exitcode(processes[i], &code);
        if (join_rc == MP_OK && code != 0)
            join_rc = mp_raise(MP_ECHILD, "process %d exited with code %d", i, code);
        if (rc == MP_OK)
            rc = join_rc;
    }
    /* put is synchronous: the items are in the queue once the puts have
     * returned, so getting after the joins cannot deadlock. They come in
     * the order the processes finished. */
    for (int n = 0; n < N && rc == MP_OK; n++) {
        mp_value *item;
        int64_t i, count;
        if ((rc = mp_queue_get(output, 10, &item)) != MP_OK)
            break;
        rc = mp_unpack(item, "(qq)", &i, &count);
        mp_value_free(item);
        if (rc == MP_OK && (i < 0 || i >= N))
            rc = mp_raise(MP_ERANGE, "a process sent index %" PRId64, i);
        if (rc == MP_OK)
            results[i] = count;
    }
    for (int i = 0; i < N; i++)
        mp_process_close(processes[i]);
    mp_queue_free(output);
    return rc;
}

static int with_pool(int64_t results[N])
{
    mp_buf items = MP_BUF_INIT;
    mp_pool *pool = NULL;
    mp_value *pooled = NULL;
    int rc = MP_OK;
    for (int64_t i = 0; i < N && rc == MP_OK; i++)
        rc = mp_pack(&items, "q", i);
    if (rc == MP_OK)
        rc = mp_pool_new(&pool, &(mp_pool_options){.processes = N});
    if (rc == MP_OK)
        rc = mp_pool_map(pool, work, items.data, items.len, 0, &pooled);
    if (rc == MP_OK && (pooled->type != MP_ARRAY || pooled->as.array.len != N))
        rc = mp_raise(MP_ETYPE, "map gave no array of %d values", N);
    for (int i = 0; i < N && rc == MP_OK; i++)
        rc = mp_unpack(&pooled->as.array.items[i], "q", &results[i]);
    if (rc == MP_OK)
        rc = mp_pool_close(pool);
    if (rc == MP_OK)
        rc = mp_pool_join(pool, MP_FOREVER);
    mp_pool_free(pool);
    mp_value_free(pooled);
    mp_buf_free(&items);
    return rc;
}

static void print_results(const char *what, double seconds, const int64_t results[N])
{
    printf("%-9s %.3f s  [", what, seconds);
    for (int i = 0; i < N; i++)
        printf("%s%" PRId64, i ? ", " : "", results[i]);
    printf("]\n");
}

int main(int argc, char **argv)
{
    /* First in main(): a spawned child re-enters here and never returns. */
    mp_main(argc, argv);

    printf("Parent process %ld, %d CPUs, %d pieces of %d numbers\n", mp_current_pid(),
           mp_cpu_count(), N, K);

    int64_t serial[N], processed[N] = {0}, pooled[N] = {0};
    double start = now();
    for (int i = 0; i < N; i++)
        serial[i] = work_on(i);
    print_results("serial:", now() - start, serial);

    start = now();
    int rc = with_processes(processed);
    if (rc != MP_OK) {
        fprintf(stderr, "pool_vs_process: Process: %s\n", mp_last_error());
        return 1;
    }
    print_results("Process:", now() - start, processed);

    start = now();
    rc = with_pool(pooled);
    if (rc != MP_OK) {
        fprintf(stderr, "pool_vs_process: Pool: %s\n", mp_last_error());
        return 1;
    }
    print_results("Pool.map:", now() - start, pooled);

    for (int i = 0; i < N; i++)
        if (processed[i] != serial[i] || pooled[i] != serial[i]) {
            fprintf(stderr, "pool_vs_process: piece %d: serial %" PRId64 ", Process %" PRId64
                            ", Pool %" PRId64 "\n", i, serial[i], processed[i], pooled[i]);
            return 1;
        }
    printf("The three agree.\n");
    return 0;
}
