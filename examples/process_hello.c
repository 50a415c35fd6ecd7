/* Seed 002, "create a child process": the child prints its argument, its
 * pid and its parent's pid; the parent waits for it.
 *
 *   def func(s): print(s, os.getpid(), os.getppid())
 *   p = Process(target=func, args=('hello',)); p.start(); p.join()
 */
#include <stdio.h>

#include <mproc.h>

static int func(const mp_value *args)
{
    const char *s;
    int rc = mp_args(args, "s", &s);
    if (rc < 0)
        return rc;
    printf("%s %ld %ld\n", s, mp_current_pid(), mp_parent_pid());
    return 0;
}
MP_TARGET(func)

int main(int argc, char **argv)
{
    /* First in main(): a spawned child re-enters here and never returns. */
    mp_main(argc, argv);

    printf("%ld\n", mp_current_pid());
    printf("main process start...\n");
    mp_process *p;
    int rc = mp_process_new(&p, func, NULL, "s", "hello");
    if (rc == MP_OK)
        rc = mp_process_start(p);
    if (rc == MP_OK)
        rc = mp_process_join(p, MP_FOREVER);
    if (rc != MP_OK) {
        fprintf(stderr, "process_hello: %s\n", mp_last_error());
        return 1;
    }
    int code;
    mp_process_exitcode(p, &code);
    mp_process_close(p);
    printf("main process end!\n");
    return code;
}
