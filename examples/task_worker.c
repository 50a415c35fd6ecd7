/* task_worker.c - seed 003's worker: connects to task_master's manager,
 * which may be on another machine, takes tasks, squares them after a short
 * sleep and puts the results back.
 *
 *   task_worker [address]     default tcp://127.0.0.1:5000
 *
 * As in the seed, the worker registers the typeids by name only; it gets
 * the master's queues, not queues of its own. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#endif
#include <stdio.h>
#include <time.h>

#include <mproc.h>

#ifdef _WIN32
#include <windows.h>
static void sleep_ms(unsigned ms)
{
    Sleep(ms);
}
#else
static void sleep_ms(unsigned ms)
{
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}
#endif

static int fail(const char *what)
{
    fprintf(stderr, "task_worker: %s: %s\n", what, mp_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (mp_main(argc, argv) != MP_OK)
        return fail("mp_main");
    mp_manager_register("get_task_queue", NULL);
    mp_manager_register("get_result_queue", NULL);
    const char *address = argc > 1 ? argv[1] : "tcp://127.0.0.1:5000";
    printf("Connect to server %s...\n", address);
    mp_manager_options o = MP_MANAGER_OPTIONS_INIT;
    o.address = address;
    o.authkey = "abc";
    o.authkey_len = 3;
    mp_manager *m;
    if (mp_manager_new(&m, &o) != MP_OK || mp_manager_connect(m) != MP_OK)
        return fail("connect");
    mp_proxy *task, *result;
    if (mp_manager_create(m, "get_task_queue", &task, NULL) != MP_OK ||
        mp_manager_create(m, "get_result_queue", &result, NULL) != MP_OK)
        return fail("getting the queues");
    int rc = 0;
    for (int i = 0; i < 10; i++) {
        mp_value *t = NULL;
        int n;
        int got = mp_proxy_call(task, "get", &t, "? d", true, 1.0);
        if (got == MP_EEMPTY) {
            printf("task queue is empty.\n");
            continue;
        }
        if (got != MP_OK || mp_unpack(t, "i", &n) != MP_OK) {
            rc = fail("get");
            mp_value_free(t);
            break;
        }
        mp_value_free(t);
        printf("run task %d * %d...\n", n, n);
        fflush(stdout);
        sleep_ms(100); /* the seed's time.sleep(1), shortened */
        char r[64];
        snprintf(r, sizeof r, "%d * %d = %lld", n, n, (long long)n * n);
        if (mp_proxy_call(result, "put", NULL, "s", r) != MP_OK) {
            rc = fail("put");
            break;
        }
    }
    mp_proxy_free(task);
    mp_proxy_free(result);
    mp_manager_free(m);
    printf("worker done.\n");
    return rc;
}
