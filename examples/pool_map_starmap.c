/* Seeds 002 and 004, "Pool.map, Pool.starmap and the thread pool": map one
 * function over a list in a process pool; starmap a two-argument function
 * over zip(list, repeat(x)); and the same map in a ThreadPool
 * (multiprocessing.dummy), whose calls are the same.
 *
 *   from multiprocessing import Pool
 *   from multiprocessing.dummy import Pool as ThreadPool
 *   from itertools import repeat
 *
 *   def f(x):
 *       return x * x
 *
 *   def g(x, y):
 *       return x * y
 *
 *   if __name__ == '__main__':
 *       with Pool(processes=4) as pool:
 *           print(pool.map(f, range(10)))       # [0, 1, 4, ..., 81]
 *           print(pool.starmap(g, zip(range(10), repeat(3))))
 *       with ThreadPool(4) as pool:
 *           print(pool.map(f, range(10)))
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <mproc.h>

#define N 10
#define REPEATED 3

static int f(const mp_value *args, mp_buf *result)
{
    int64_t x;
    int rc = mp_args(args, "q", &x);
    return rc ? rc : mp_pack(result, "q", x * x);
}
MP_TASK(f)

/* starmap calls g(*item): the item (x, y) arrives as two arguments. */
static int g(const mp_value *args, mp_buf *result)
{
    int64_t x, y;
    int rc = mp_args(args, "qq", &x, &y);
    return rc ? rc : mp_pack(result, "q", x * y);
}
MP_TASK(g)

/* Print a result list as Python does, and check it against expected[]. */
static bool print_and_check(const char *what, const mp_value *list, const int64_t *expected)
{
    bool ok = list->type == MP_ARRAY && list->as.array.len == N;
    printf("%s: [", what);
    for (uint32_t i = 0; list->type == MP_ARRAY && i < list->as.array.len; i++) {
        int64_t v = 0;
        ok = mp_unpack(&list->as.array.items[i], "q", &v) == MP_OK && ok && v == expected[i];
        printf("%s%" PRId64, i ? ", " : "", v);
    }
    printf("]\n");
    if (!ok)
        fprintf(stderr, "pool_map_starmap: %s gave a wrong result\n", what);
    return ok;
}

int main(int argc, char **argv)
{
    /* First in main(): a spawned worker re-enters here and never returns. */
    mp_main(argc, argv);

    /* The inputs: range(10) as ten packed values, and zip(range(10),
     * repeat(3)) as ten packed arrays (x, 3). */
    mp_buf numbers = MP_BUF_INIT, pairs = MP_BUF_INIT;
    int64_t squares[N], products[N];
    int rc = MP_OK;
    for (int64_t i = 0; i < N && rc == MP_OK; i++) {
        squares[i] = i * i;
        products[i] = i * REPEATED;
        rc = mp_pack(&numbers, "q", i);
        if (rc == MP_OK)
            rc = mp_pack(&pairs, "(qq)", i, (int64_t)REPEATED);
    }

    bool ok = true;
    mp_pool *pool = NULL;
    mp_value *mapped = NULL, *starmapped = NULL, *thread_mapped = NULL;
    if (rc == MP_OK)
        rc = mp_pool_new(&pool, &(mp_pool_options){.processes = 4});
    if (rc == MP_OK)
        rc = mp_pool_map(pool, f, numbers.data, numbers.len, 0, &mapped);
    if (rc == MP_OK) {
        ok = print_and_check("pool.map(f, range(10))", mapped, squares) && ok;
        rc = mp_pool_starmap(pool, g, pairs.data, pairs.len, 0, &starmapped);
    }
    if (rc == MP_OK)
        ok = print_and_check("pool.starmap(g, zip(range(10), repeat(3)))", starmapped, products) &&
             ok;
    /* The with block's __exit__: terminate and free. */
    mp_pool_free(pool);
    pool = NULL;

    /* multiprocessing.dummy: the same calls, on four threads. */
    if (rc == MP_OK)
        rc = mp_thread_pool_new(&pool, &(mp_pool_options){.processes = 4});
    if (rc == MP_OK)
        rc = mp_pool_map(pool, f, numbers.data, numbers.len, 0, &thread_mapped);
    if (rc == MP_OK)
        ok = print_and_check("ThreadPool.map(f, range(10))", thread_mapped, squares) && ok;
    if (rc != MP_OK)
        fprintf(stderr, "pool_map_starmap: %s\n", mp_last_error());
    mp_pool_free(pool);

    mp_value_free(mapped);
    mp_value_free(starmapped);
    mp_value_free(thread_mapped);
    mp_buf_free(&numbers);
    mp_buf_free(&pairs);
    return rc == MP_OK && ok ? 0 : 1;
}
