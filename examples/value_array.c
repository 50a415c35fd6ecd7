/* Seed 002, "shared memory: Value and Array": the child sets a double and
 * negates every element of an int array; the parent sees both changes.
 *
 *   def func(n, a):
 *       n.value = 3.333
 *       for i in range(len(a)):
 *           a[i] = -a[i]
 *   num = Value('d', 0.0)
 *   arr = Array('i', range(6))
 *   p = Process(target=func, args=(num, arr)); p.start(); p.join()
 *   print(num.value)
 *   print(arr[:])
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <mproc.h>

static int func(const mp_value *args)
{
    mp_shared *n, *a;
    int rc = mp_args(args, "OO", &n, &a);
    if (rc < 0)
        return rc;

    /* Python's synchronized wrappers take the lock on every access; here
     * the user takes it, once around each update. */
    mp_lock *lock = mp_shared_get_lock(n);
    if ((rc = mp_lock_acquire(lock, MP_FOREVER)) < 0 && rc != MP_EOWNERDEAD)
        return rc;
    *(double *)mp_shared_ptr(n) = 3.333;
    mp_lock_release(lock);

    lock = mp_shared_get_lock(a);
    if ((rc = mp_lock_acquire(lock, MP_FOREVER)) < 0 && rc != MP_EOWNERDEAD)
        return rc;
    int32_t *items = mp_shared_ptr(a);
    for (size_t i = 0; i < mp_shared_len(a); i++)
        items[i] = -items[i];
    mp_lock_release(lock);
    return 0;
}
MP_TARGET(func)

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    mp_shared *num, *arr;
    int rc = mp_shared_value_new(&num, 'd', true);
    if (rc == MP_OK)
        rc = mp_shared_array_new(&arr, 'i', 6, true);
    if (rc != MP_OK) {
        fprintf(stderr, "value_array: %s\n", mp_last_error());
        return 1;
    }
    int32_t *items = mp_shared_ptr(arr);
    for (int32_t i = 0; i < 6; i++)
        items[i] = i;

    mp_process *p;
    rc = mp_process_new(&p, func, NULL, "OO", num, arr);
    if (rc == MP_OK)
        rc = mp_process_start(p);
    if (rc == MP_OK)
        rc = mp_process_join(p, MP_FOREVER);
    int code = 1;
    if (rc == MP_OK)
        mp_process_exitcode(p, &code);
    else
        fprintf(stderr, "value_array: %s\n", mp_last_error());
    mp_process_close(p);

    double value = *(double *)mp_shared_ptr(num);
    printf("%g\n", value);
    bool ok = code == 0 && value == 3.333;
    printf("[");
    for (int32_t i = 0; i < 6; i++) {
        printf("%s%d", i ? ", " : "", (int)items[i]);
        ok = ok && items[i] == -i;
    }
    printf("]\n");

    mp_shared_free(arr);
    mp_shared_free(num);
    return ok ? 0 : 1;
}
