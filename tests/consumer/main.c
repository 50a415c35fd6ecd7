/* An installed mproc, used as a user would: start one child, check its exit
 * code. Exit code 0 on success. */
#include <stdio.h>

#include <mproc.h>

static int answer(const mp_value *args)
{
    int n;
    int rc = mp_args(args, "i", &n);
    return rc < 0 ? rc : n + 1;
}
MP_TARGET(answer)

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mp_process *p;
    int code = -1;
    if (mp_process_new(&p, answer, NULL, "i", 41) != MP_OK || mp_process_start(p) != MP_OK ||
        mp_process_join(p, MP_FOREVER) != MP_OK || mp_process_exitcode(p, &code) != MP_OK) {
        fprintf(stderr, "consumer: %s\n", mp_last_error());
        return 1;
    }
    mp_process_close(p);
    printf("consumer: child exited with %d\n", code);
    return code == 42 ? 0 : 1;
}
