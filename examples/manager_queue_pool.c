/* Seeds 002 and 003, "a Manager's Queue used by a Pool": a Queue of
 * multiprocessing cannot be given to a Pool's tasks (Python refuses to
 * pickle it), a manager's can. Each task puts its result on the managed
 * queue, and the parent reads them as they come. The tasks use the queue
 * through the same mp_queue_put a local queue takes.
 *
 *   def work(q, i):
 *       q.put((i, i * i))
 *
 *   if __name__ == '__main__':
 *       with Manager() as manager, Pool(3) as pool:
 *           q = manager.Queue()
 *           pool.starmap(work, [(q, i) for i in range(10)])
 *           results = sorted(q.get() for _ in range(10))
 *           print(results)
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <mproc.h>

#define N 10

static int work(const mp_value *args, mp_buf *result)
{
    (void)result;
    mp_queue *q;
    int64_t i;
    int rc = mp_args(args, "O q", &q, &i);
    return rc != MP_OK ? rc : mp_queue_put(q, MP_FOREVER, "(q q)", i, i * i);
}
MP_TASK(work)

static int fail(const char *what, int rc)
{
    fprintf(stderr, "manager_queue_pool: %s: %s (%s)\n", what, mp_last_error(), mp_errname(rc));
    return 1;
}

int main(int argc, char **argv)
{
    /* First in main(): a spawned worker (and the manager's server)
     * re-enters here and never returns. */
    mp_main(argc, argv);

    mp_manager *manager;
    mp_queue *q;
    int rc = mp_manager_new(&manager, NULL);
    if (rc == MP_OK)
        rc = mp_manager_start(manager);
    if (rc == MP_OK)
        rc = mp_manager_queue(manager, &q, 0);
    if (rc != MP_OK)
        return fail("manager.Queue()", rc);
    mp_pool *pool;
    if ((rc = mp_pool_new(&pool, &(mp_pool_options){.processes = 3})) != MP_OK)
        return fail("Pool(3)", rc);

    mp_async_result *calls[N];
    for (int64_t i = 0; i < N; i++)
        if ((rc = mp_pool_apply_async(pool, work, NULL, &calls[i], "O q", q, i)) != MP_OK)
            return fail("apply_async", rc);
    bool ok = true;
    for (int i = 0; i < N; i++) {
        mp_value *none = NULL;
        if ((rc = mp_async_result_get(calls[i], MP_FOREVER, &none)) != MP_OK)
            ok = fail("a task", rc) == 0;
        mp_value_free(none);
        mp_async_result_free(calls[i]);
    }

    /* sorted(q.get() for _ in range(10)): by index */
    int64_t squares[N];
    bool seen[N] = {false};
    for (int k = 0; k < N; k++) {
        mp_value *item = NULL;
        int64_t i = -1, square = -1;
        if ((rc = mp_queue_get(q, 10.0, &item)) != MP_OK) {
            ok = fail("q.get", rc) == 0;
            break;
        }
        if (mp_unpack(item, "(q q)", &i, &square) == MP_OK && i >= 0 && i < N && !seen[i]) {
            seen[i] = true;
            squares[i] = square;
        } else {
            ok = false;
        }
        mp_value_free(item);
    }
    printf("[");
    for (int i = 0; i < N; i++) {
        ok = seen[i] && squares[i] == (int64_t)i * i && ok;
        printf("%s(%d, %" PRId64 ")", i ? ", " : "", i, seen[i] ? squares[i] : -1);
    }
    printf("]\n");

    mp_pool_free(pool);
    mp_queue_free(q);
    rc = mp_manager_shutdown(manager);
    mp_manager_free(manager);
    if (!ok || rc != MP_OK) {
        fprintf(stderr, "manager_queue_pool: a result is missing or wrong\n");
        return 1;
    }
    return 0;
}
