/* Seed 002, "synchronisation with a Lock": five processes print under one
 * shared Lock, so no two lines mix.
 *
 *   def func(lc, num):
 *       lc.acquire()
 *       print('process num: ', num)
 *       lc.release()
 *   lock = Lock()
 *   for i in range(5):
 *       Process(target=func, args=(lock, i)).start()
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#endif
#include <stdbool.h>
#include <stdint.h>
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

#define NPROC 5

static int func(const mp_value *args)
{
    mp_lock *lc;
    mp_shared *inside;
    int num;
    int rc = mp_args(args, "OiO", &lc, &num, &inside);
    if (rc < 0)
        return rc;
    rc = mp_lock_acquire(lc, MP_FOREVER);
    if (rc < 0 && rc != MP_EOWNERDEAD)
        return rc;
    /* Python's print writes its arguments one by one; so does this, and
     * the pause widens the window another process would print into. */
    int32_t *count = mp_shared_ptr(inside);
    bool alone = ++*count == 1;
    printf("process num: ");
    fflush(stdout);
    sleep_ms(20);
    printf(" %d\n", num);
    fflush(stdout);
    --*count;
    mp_lock_release(lc);
    return alone ? 0 : mp_raise(MP_ESTATE, "process %d was not alone under the lock", num);
}
MP_TARGET(func)

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    /* Not part of the seed: counts the processes holding the lock, so that
     * each one can check it is alone. The lock guards it; it needs none. */
    mp_shared *inside;
    mp_lock *lock;
    int rc = mp_shared_value_new(&inside, 'i', false);
    if (rc == MP_OK)
        rc = mp_lock_new(&lock);
    if (rc != MP_OK) {
        fprintf(stderr, "lock_printing: %s\n", mp_last_error());
        return 1;
    }

    mp_process *p[NPROC] = {NULL};
    for (int i = 0; i < NPROC && rc == MP_OK; i++) {
        rc = mp_process_new(&p[i], func, NULL, "OiO", lock, i, inside);
        if (rc == MP_OK)
            rc = mp_process_start(p[i]);
    }
    if (rc != MP_OK)
        fprintf(stderr, "lock_printing: %s\n", mp_last_error());

    /* Python joins non-daemonic children at exit; C says so. */
    bool ok = rc == MP_OK;
    for (int i = 0; i < NPROC; i++) {
        int code = 1;
        if (p[i] != NULL && mp_process_join(p[i], MP_FOREVER) == MP_OK)
            mp_process_exitcode(p[i], &code);
        ok = ok && code == 0;
        mp_process_close(p[i]);
    }
    mp_lock_free(lock);
    mp_shared_free(inside);
    return ok ? 0 : 1;
}
