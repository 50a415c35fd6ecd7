/* Seed 003, "ThreadLocal": each thread binds its own student to one global
 * thread-local, and a nested function finds it there without being passed
 * it.
 *
 *   local_school = threading.local()
 *   def process_student():
 *       std = local_school.student
 *       print('Hello, %s (in %s)' % (std, threading.current_thread().name))
 *   def process_thread(name):
 *       local_school.student = name
 *       process_student()
 *   t1 = threading.Thread(target=process_thread, args=('Alice',), name='Thread-A')
 *   t2 = threading.Thread(target=process_thread, args=('Bob',), name='Thread-B')
 *   t1.start(); t2.start(); t1.join(); t2.join()
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mproc.h>

static mp_tls *local_school;

/* Not part of the seed: holds each thread until both have bound their
 * student, so each read below happens while the other thread's value is
 * set too. */
static mp_barrier *both_bound;

static char alice[] = "Alice", bob[] = "Bob";

static const char *process_student(void)
{
    const char *std = mp_tls_get(local_school);
    printf("Hello, %s (in %s)\n", std ? std : "(nobody)", mp_current_thread_name());
    return std;
}

static int process_thread(void *arg)
{
    const char *name = arg;
    int rc = mp_tls_set(local_school, arg);
    if (rc == MP_OK)
        rc = mp_barrier_wait(both_bound, MP_FOREVER, NULL);
    if (rc != MP_OK)
        return rc;
    const char *std = process_student();
    return std != NULL && strcmp(std, name) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    int rc = mp_tls_new(&local_school, NULL);
    if (rc == MP_OK)
        rc = mp_barrier_new(&both_bound, 2, &(mp_barrier_options){.timeout = 10});
    mp_thread *t1 = NULL, *t2 = NULL;
    if (rc == MP_OK)
        rc = mp_thread_start(&t1, process_thread, alice, "Thread-A");
    if (rc == MP_OK)
        rc = mp_thread_start(&t2, process_thread, bob, "Thread-B");
    if (rc != MP_OK) {
        fprintf(stderr, "thread_local: %s\n", mp_last_error());
        return 1;
    }
    int r1 = 1, r2 = 1;
    mp_thread_join(t1, MP_FOREVER, &r1);
    mp_thread_join(t2, MP_FOREVER, &r2);

    /* The main thread never bound a student: it sees none. */
    bool ok = r1 == 0 && r2 == 0 && mp_tls_get(local_school) == NULL;
    mp_barrier_free(both_bound);
    mp_tls_free(local_school);
    return ok ? 0 : 1;
}
