/* Seed 004, two processes at once: p1 and p2 print their name and pid,
 * sleep a random while and end; the parent joins p1, then p2.
 *
 *   p1 = Process(target=proc1, args=('p1',)); p2 = Process(target=proc2, args=('p2',))
 *   p1.start(); p2.start(); p1.join(); p2.join()
 */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <mproc.h>

#ifdef _WIN32
#include <windows.h>
static void sleep_seconds(double seconds)
{
    Sleep((DWORD)(seconds * 1000));
}
#else
static void sleep_seconds(double seconds)
{
    struct timespec t = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&t, NULL);
}
#endif

static int proc(const mp_value *args)
{
    const char *name;
    unsigned seed;
    int rc = mp_args(args, "sI", &name, &seed);
    if (rc < 0)
        return rc;
    printf("Run child process %s (%ld)\n", name, mp_current_pid());
    fflush(stdout);
    srand(seed);
    sleep_seconds((double)rand() / RAND_MAX * 0.5);
    printf("%s end\n", name);
    return 0;
}
MP_TARGET(proc)

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    printf("Parent process %ld\n", mp_current_pid());
    mp_process *p1, *p2;
    unsigned seed = (unsigned)time(NULL);
    if (mp_process_new(&p1, proc, NULL, "sI", "p1", seed) != MP_OK ||
        mp_process_new(&p2, proc, NULL, "sI", "p2", seed + 1) != MP_OK) {
        fprintf(stderr, "process_two_children: %s\n", mp_last_error());
        return 1;
    }
    printf("child processes will start.\n");
    fflush(stdout);
    int rc = mp_process_start(p1);
    if (rc == MP_OK)
        rc = mp_process_start(p2);
    /* p1.join() returns when p1 ends; only then does p2.join() begin. */
    if (rc == MP_OK)
        rc = mp_process_join(p1, MP_FOREVER);
    if (rc == MP_OK)
        rc = mp_process_join(p2, MP_FOREVER);
    if (rc != MP_OK) {
        fprintf(stderr, "process_two_children: %s\n", mp_last_error());
        return 1;
    }
    mp_process_close(p1);
    mp_process_close(p2);
    printf("child processes end.\n");
    return 0;
}
