/* Seeds 001, 002 and 004, "Manager(): a dict and a list shared by several
 * processes": each child writes its result into a managed dict under its
 * own index and appends to a managed list. The dict's results are in task
 * order whatever order the children finish in (seed 004: "results in a
 * Manager are ordered"); the list shows the order they finished in.
 *
 *   def f(d, l, i):
 *       d[i] = i * i
 *       l.append(i)
 *
 *   if __name__ == '__main__':
 *       with Manager() as manager:
 *           d = manager.dict()
 *           l = manager.list()
 *           ps = [Process(target=f, args=(d, l, i)) for i in range(5)]
 *           for p in ps: p.start()
 *           for p in ps: p.join()
 *           print(d)           # {0: 0, 1: 1, 2: 4, 3: 9, 4: 16}
 *           print(sorted(l))   # [0, 1, 2, 3, 4]
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <mproc.h>

#define N 5

static int f(const mp_value *args)
{
    mp_proxy *d, *l;
    int64_t i;
    int rc = mp_args(args, "O O q", &d, &l, &i);
    if (rc == MP_OK)
        rc = mp_proxy_call(d, "__setitem__", NULL, "q q", i, i * i);
    if (rc == MP_OK)
        rc = mp_proxy_call(l, "append", NULL, "q", i);
    if (rc != MP_OK)
        fprintf(stderr, "child %" PRId64 ": %s\n", i, mp_last_error());
    return rc == MP_OK ? 0 : 1;
}
MP_TARGET(f)

static int fail(const char *what, int rc)
{
    fprintf(stderr, "manager_dict_list: %s: %s (%s)\n", what, mp_last_error(), mp_errname(rc));
    return 1;
}

int main(int argc, char **argv)
{
    /* First in main(): a spawned child (and the manager's server) re-enters
     * here and never returns. */
    mp_main(argc, argv);

    mp_manager *manager;
    int rc = mp_manager_new(&manager, NULL);
    if (rc == MP_OK)
        rc = mp_manager_start(manager);
    if (rc != MP_OK)
        return fail("Manager()", rc);
    mp_proxy *d, *l;
    if ((rc = mp_manager_create(manager, "dict", &d, NULL)) != MP_OK ||
        (rc = mp_manager_create(manager, "list", &l, NULL)) != MP_OK)
        return fail("manager.dict() / manager.list()", rc);

    mp_process *ps[N];
    for (int64_t i = 0; i < N; i++)
        if ((rc = mp_process_new(&ps[i], f, NULL, "O O q", d, l, i)) != MP_OK ||
            (rc = mp_process_start(ps[i])) != MP_OK)
            return fail("Process.start", rc);
    bool ok = true;
    for (int i = 0; i < N; i++) {
        int code = -1;
        ok = mp_process_join(ps[i], MP_FOREVER) == MP_OK && mp_process_exitcode(ps[i], &code) == MP_OK &&
             code == 0 && ok;
        mp_process_close(ps[i]);
    }

    /* print(d): the keys in task order, whatever order the children ran */
    printf("{");
    for (int64_t i = 0; i < N; i++) {
        mp_value *v = NULL;
        int64_t square = -1;
        ok = mp_proxy_call(d, "__getitem__", &v, "q", i) == MP_OK && mp_unpack(v, "q", &square) == MP_OK &&
             square == i * i && ok;
        mp_value_free(v);
        printf("%s%" PRId64 ": %" PRId64, i ? ", " : "", i, square);
    }
    printf("}\n");

    /* print(sorted(l)): each index once */
    mp_value *items = NULL;
    bool seen[N] = {false};
    ok = mp_proxy_call(l, "_getvalue", &items, NULL) == MP_OK && items->type == MP_ARRAY &&
         items->as.array.len == N && ok;
    for (uint32_t k = 0; items != NULL && items->type == MP_ARRAY && k < items->as.array.len; k++) {
        int64_t i = -1;
        if (mp_unpack(&items->as.array.items[k], "q", &i) == MP_OK && i >= 0 && i < N)
            seen[i] = true;
    }
    mp_value_free(items);
    printf("[");
    for (int i = 0; i < N; i++) {
        printf("%s%d", i ? ", " : "", i);
        ok = seen[i] && ok;
    }
    printf("]\n");

    mp_proxy_free(d);
    mp_proxy_free(l);
    rc = mp_manager_shutdown(manager);
    mp_manager_free(manager);
    if (!ok || rc != MP_OK) {
        fprintf(stderr, "manager_dict_list: the shared dict or list is wrong\n");
        return 1;
    }
    return 0;
}
