/* Seed 003, multiprocessing as the portable fork(): the parent starts
 * run_proc('test') and waits for it.
 *
 *   def run_proc(name): print('Run child process %s (%s)...' % (name, os.getpid()))
 *   p = Process(target=run_proc, args=('test',)); p.start(); p.join()
 */
#include <stdio.h>

#include <mproc.h>

static int run_proc(const mp_value *args)
{
    const char *name;
    int rc = mp_args(args, "s", &name);
    if (rc < 0)
        return rc;
    printf("Run child process %s (%ld)...\n", name, mp_current_pid());
    return 0;
}
MP_TARGET(run_proc)

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    printf("Parent process %ld.\n", mp_current_pid());
    mp_process *p;
    int rc = mp_process_new(&p, run_proc, NULL, "s", "test");
    if (rc != MP_OK) {
        fprintf(stderr, "process_run_proc: %s\n", mp_last_error());
        return 1;
    }
    printf("Child process will start.\n");
    fflush(stdout);
    if ((rc = mp_process_start(p)) == MP_OK)
        rc = mp_process_join(p, MP_FOREVER);
    int code = 1;
    if (rc == MP_OK)
        mp_process_exitcode(p, &code);
    else
        fprintf(stderr, "process_run_proc: %s\n", mp_last_error());
    mp_process_close(p);
    printf("Child process end.\n");
    return code;
}
