/* Seed 001, "multiple processes with a Pool": five tasks submitted with
 * apply_async to a pool, each printing its worker's pid and how long it
 * slept; the parent closes the pool and waits for the workers.
 *
 *   def long_time_task(name):
 *       print 'Run task %s (%s)...' % (name, os.getpid())
 *       start = time.time()
 *       time.sleep(random.random() * 3)
 *       end = time.time()
 *       print 'Task %s runs %0.2f seconds.' % (name, (end - start))
 *
 *   if __name__=='__main__':
 *       p = Pool(multiprocessing.cpu_count())
 *       for i in range(5):
 *           p.apply_async(long_time_task, args=(i,))
 *       print 'Waiting for all subprocesses done...'
 *       p.close()
 *       p.join()
 *       print 'All subprocesses done.'
 *
 * Pool(4) here rather than cpu_count(), so that with five tasks one worker
 * always runs two of them, whatever the machine.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <mproc.h>

#define NTASKS 5

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

/* time.sleep(seconds) with the public API only: wait on an event that no one
 * ever sets. */
static int sleep_seconds(double seconds)
{
    mp_event *never;
    int rc = mp_event_new(&never);
    if (rc != MP_OK)
        return rc;
    rc = mp_event_wait(never, seconds);
    mp_event_free(never);
    return rc == MP_ETIMEDOUT ? MP_OK : mp_raise(MP_ESTATE, "the event was set");
}

/* random.random(), seeded per call: srand() with nearby seeds gives nearby
 * first values in some C libraries, so mix the seed first (splitmix64). */
static double random_fraction(uint64_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0; /* [0, 1) */
}

static int long_time_task(const mp_value *args, mp_buf *result)
{
    int64_t name;
    int rc = mp_args(args, "q", &name);
    if (rc != MP_OK)
        return rc;
    (void)result; /* returns None */
    printf("Run task %" PRId64 " (%ld)...\n", name, mp_current_pid());
    fflush(stdout);
    double start = now();
    /* The seed sleeps up to 3 s; 0.1 to 0.3 s keeps the example quick. */
    double r = random_fraction((uint64_t)mp_current_pid() << 32 ^ (uint64_t)name ^
                               (uint64_t)time(NULL) << 8);
    if ((rc = sleep_seconds(0.1 + r * 0.2)) != MP_OK)
        return rc;
    double end = now();
    printf("Task %" PRId64 " runs %0.2f seconds.\n", name, end - start);
    fflush(stdout);
    return MP_OK;
}
MP_TASK(long_time_task)

int main(int argc, char **argv)
{
    /* First in main(): a spawned worker re-enters here and never returns. */
    mp_main(argc, argv);

    printf("Parent process %ld.\n", mp_current_pid());
    mp_pool *p;
    int rc = mp_pool_new(&p, &(mp_pool_options){.processes = 4});
    if (rc != MP_OK) {
        fprintf(stderr, "pool_long_time_task: %s\n", mp_last_error());
        return 1;
    }
    mp_async_result *results[NTASKS] = {NULL};
    for (int i = 0; i < NTASKS && rc == MP_OK; i++)
        rc = mp_pool_apply_async(p, long_time_task, NULL, &results[i], "q", (int64_t)i);
    if (rc == MP_OK) {
        printf("Waiting for all subprocesses done...\n");
        fflush(stdout);
        rc = mp_pool_close(p);
    }
    if (rc == MP_OK)
        rc = mp_pool_join(p, MP_FOREVER);
    if (rc != MP_OK) {
        fprintf(stderr, "pool_long_time_task: %s\n", mp_last_error());
        for (int i = 0; i < NTASKS; i++)
            if (results[i])
                mp_async_result_free(results[i]);
        mp_pool_free(p);
        return 1;
    }
    printf("All subprocesses done.\n");

    /* Not in the seed (Python drops a failed task's exception silently):
     * every task must have ended well. */
    int failed = 0;
    for (int i = 0; i < NTASKS; i++) {
        mp_value *v = NULL;
        if (mp_async_result_get(results[i], 0, &v) != MP_OK) {
            fprintf(stderr, "pool_long_time_task: task %d: %s\n", i, mp_last_error());
            failed = 1;
        }
        mp_value_free(v);
        mp_async_result_free(results[i]);
    }
    mp_pool_free(p);
    return failed;
}
