/* redis_tasks.c - seed 003's master and workers again, with a Redis server
 * where the master's manager was: the master's Pool is on Redis (pool.h,
 * "A pool on Redis"), and any number of workers, on any host and system,
 * serve it.
 *
 *   redis_tasks master redis://127.0.0.1:6379/0/tasks
 *       puts 10 random numbers as tasks, prints each result once, then
 *       tells the workers to stop
 *   redis_tasks worker redis://127.0.0.1:6379/0/tasks
 *       runs the tasks in 2 local processes until the master says stop
 *
 * A worker killed mid-task loses nothing: its task comes back to another
 * worker once its lease (2 s here) runs out, and the master still gets
 * each result once. ci/examples runs a master with a worker on Linux and
 * one under Wine, and kills one of them mid-run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mproc.h>

/* Master and workers must agree on the lease. */
static const mp_backend_options backend_options = {.lease = 2};

/* time.sleep(seconds) with the public API only: wait on an event that no
 * one sets. */
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

/* The worker's part of the seed: n * n, after a second's work. */
static int square_task(const mp_value *args, mp_buf *result)
{
    int n;
    int rc = mp_args(args, "i", &n);
    if (rc != MP_OK)
        return rc;
    printf("run task %d * %d... (process %ld)\n", n, n, mp_current_pid());
    fflush(stdout);
    if ((rc = sleep_seconds(1)) != MP_OK)
        return rc;
    char text[64];
    snprintf(text, sizeof text, "%d * %d = %lld", n, n, (long long)n * n);
    return mp_pack(result, "s", text);
}
MP_TASK(square_task)

static int fail(const char *what)
{
    fprintf(stderr, "redis_tasks: %s: %s\n", what, mp_last_error());
    return 1;
}

enum { TASKS = 10 };

static int master(const char *backend)
{
    mp_pool *pool;
    if (mp_pool_new(&pool, &(mp_pool_options){.backend = backend, .backend_options = &backend_options}) != MP_OK)
        return fail("the pool");
    srand((unsigned)time(NULL));
    mp_async_result *results[TASKS];
    for (int i = 0; i < TASKS; i++) {
        int n = rand() % 10000;
        printf("Put task %d...\n", n);
        if (mp_pool_apply_async(pool, square_task, NULL, &results[i], "i", n) != MP_OK)
            return fail("apply_async");
    }
    printf("Try get results...\n");
    fflush(stdout);
    int rc = 0;
    for (int i = 0; i < TASKS; i++) {
        mp_value *v = NULL;
        const char *text;
        /* workers may start later, or under Wine, or die and be replaced */
        if (mp_async_result_get(results[i], 120, &v) != MP_OK || mp_unpack(v, "s", &text) != MP_OK)
            rc = fail("get");
        else
            printf("Result: %s\n", text);
        fflush(stdout);
        mp_value_free(v);
        mp_async_result_free(results[i]);
    }
    mp_pool_free(pool);
    if (mp_worker_stop(backend, &backend_options) != MP_OK)
        rc = fail("stopping the workers");
    printf("master exit.\n");
    return rc;
}

static int worker(const char *backend)
{
    printf("Connect to server %s...\n", backend);
    fflush(stdout);
    mp_worker_options o = {.processes = 2, .backend_options = &backend_options};
    if (mp_worker_serve(backend, &o) != MP_OK)
        return fail("serving");
    printf("worker done.\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (mp_main(argc, argv) != MP_OK)
        return fail("mp_main");
    if (argc == 3 && strcmp(argv[1], "master") == 0)
        return master(argv[2]);
    if (argc == 3 && strcmp(argv[1], "worker") == 0)
        return worker(argv[2]);
    fprintf(stderr, "usage: redis_tasks master|worker redis://host:port/db/name\n");
    return 2;
}
