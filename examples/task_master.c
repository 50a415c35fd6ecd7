/* task_master.c - seed 003's master, over the network: a manager serves a
 * task queue and a result queue on a TCP port with an authkey; the master
 * puts 10 random numbers as tasks and prints the results that workers on
 * any machine (task_worker) put back.
 *
 *   task_master [address]     default tcp://127.0.0.1:5000
 *
 * Python binds ('', 5000) with authkey b'abc'. Here the default address is
 * loopback: a server that other machines can reach needs an authkey of at
 * least MP_MANAGER_MIN_AUTHKEY bytes (or allow_weak_authkey), so pass
 * tcp://0.0.0.0:5000 and a longer key to open it to the network. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <mproc.h>

/* In the server: the two queues, made on first request; every client gets
 * the same ones (Python's callable=lambda: task_queue). */
static mp_served *task_queue, *result_queue;

static int shared_queue(mp_served **q, mp_served **out)
{
    int rc = *q == NULL ? mp_served_builtin(q, "Queue", NULL) : MP_OK;
    if (rc == MP_OK)
        *out = mp_served_ref(*q);
    return rc;
}

static int get_task_queue(const mp_value *args, mp_served **out)
{
    (void)args;
    return shared_queue(&task_queue, out);
}
MP_MANAGED("get_task_queue", get_task_queue)

static int get_result_queue(const mp_value *args, mp_served **out)
{
    (void)args;
    return shared_queue(&result_queue, out);
}
MP_MANAGED("get_result_queue", get_result_queue)

static int fail(const char *what)
{
    fprintf(stderr, "task_master: %s: %s\n", what, mp_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    if (mp_main(argc, argv) != MP_OK)
        return fail("mp_main");
    mp_manager_options o = MP_MANAGER_OPTIONS_INIT;
    o.address = argc > 1 ? argv[1] : "tcp://127.0.0.1:5000";
    o.authkey = "abc";
    o.authkey_len = 3;
    mp_manager *m;
    if (mp_manager_new(&m, &o) != MP_OK || mp_manager_start(m) != MP_OK)
        return fail("starting the manager");
    mp_proxy *task, *result;
    if (mp_manager_create(m, "get_task_queue", &task, NULL) != MP_OK ||
        mp_manager_create(m, "get_result_queue", &result, NULL) != MP_OK)
        return fail("getting the queues");
    srand((unsigned)time(NULL));
    for (int i = 0; i < 10; i++) {
        int n = rand() % 10000;
        printf("Put task %d...\n", n);
        if (mp_proxy_call(task, "put", NULL, "i", n) != MP_OK)
            return fail("put");
    }
    printf("Try get results...\n");
    fflush(stdout);
    int rc = 0;
    for (int i = 0; i < 10; i++) {
        mp_value *r = NULL;
        const char *text;
        /* result.get(timeout=60): workers may start later, or under Wine */
        if (mp_proxy_call(result, "get", &r, "? d", true, 60.0) != MP_OK || mp_unpack(r, "s", &text) != MP_OK) {
            rc = fail("get");
            mp_value_free(r);
            break;
        }
        printf("Result: %s\n", text);
        mp_value_free(r);
    }
    mp_proxy_free(task);
    mp_proxy_free(result);
    if (mp_manager_shutdown(m) != MP_OK)
        rc = fail("shutdown");
    mp_manager_free(m);
    printf("master exit.\n");
    return rc;
}
