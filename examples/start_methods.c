/* Seed 002, start methods: set the global method once, in main, and pick a
 * method per process with a context (get_context).
 *
 *   multiprocessing.set_start_method('spawn')
 *   ctx = multiprocessing.get_context('forkserver'); p = ctx.Process(...)
 */
#include <stdio.h>

#include <mproc.h>

static int show(const mp_value *args)
{
    const char *how;
    int rc = mp_args(args, "s", &how);
    if (rc < 0)
        return rc;
    printf("  %-10s child %ld of parent %ld, named %s\n", how, mp_current_pid(), mp_parent_pid(),
           mp_current_process_name());
    return 0;
}
MP_TARGET(show)

static int run(const mp_process_options *opts, const char *how)
{
    mp_process *p;
    int rc = mp_process_new(&p, show, opts, "s", how);
    if (rc == MP_OK)
        rc = mp_process_start(p);
    if (rc == MP_OK)
        rc = mp_process_join(p, MP_FOREVER);
    if (rc != MP_OK)
        fprintf(stderr, "start_methods: %s\n", mp_last_error());
    mp_process_close(p);
    return rc;
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);

    mp_start_method all[3];
    size_t n = mp_get_all_start_methods(all);
    printf("start methods here:");
    for (size_t i = 0; i < n; i++)
        printf(" %s", mp_start_method_name(all[i]));
    printf(" (default %s)\n", mp_start_method_name(all[0]));

    /* set_start_method: once, before starting anything. */
    int rc = mp_set_start_method(all[n - 1], false);
    printf("set_start_method(%s): %s\n", mp_start_method_name(all[n - 1]), mp_strerror(rc));
    fflush(stdout);
    if (rc != MP_OK || run(NULL, "global") != MP_OK)
        return 1;
    rc = mp_set_start_method(all[0], false);
    printf("set_start_method(%s) again: %s\n", mp_start_method_name(all[0]), mp_errname(rc));

    /* get_context: a method per process. */
    for (size_t i = 0; i < n; i++) {
        const mp_context *ctx;
        if (mp_get_context(all[i], &ctx) != MP_OK)
            return 1;
        fflush(stdout);
        if (run(&(mp_process_options){.context = ctx}, mp_start_method_name(all[i])) != MP_OK)
            return 1;
    }
    const mp_context *ctx;
    if (mp_get_context(MP_START_FORK, &ctx) == MP_EUNSUPPORTED)
        printf("get_context(fork): %s\n", mp_last_error());
    return 0;
}
