/* Seed 000, "globals in the child": on Windows a child starts the program
 * afresh, so globals the parent changed are back to their initial values.
 * The seed gives two ways out, and mproc provides both:
 *   1. ship the value over IPC: mp_global() registers plain data that every
 *      child receives by value, under every start method;
 *   2. rebuild from sys.argv: a child-init hook reads the parent's argv
 *      (mp_parent_argv) and redoes what main() did with it.
 *
 * Try: globals_reinit --data=results.csv
 */
#include <stdio.h>
#include <string.h>

#include <mproc.h>

/* Way 1: computed by the parent at run time, shipped to each child. */
static int work_units = 1;
MP_GLOBAL(work_units)

/* Way 2: derived from the command line, rebuilt in each child. */
static char data_file[128] = "(unset)";

static void parse_args(int argc, const char *const *argv)
{
    snprintf(data_file, sizeof data_file, "%s", "data.txt");
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--data=", 7) == 0)
            snprintf(data_file, sizeof data_file, "%s", argv[i] + 7);
}

static int rebuild_from_argv(void *unused)
{
    (void)unused;
    int argc;
    const char *const *argv;
    int rc = mp_parent_argv(&argc, &argv);
    if (rc == MP_OK)
        parse_args(argc, argv);
    return rc;
}

static int worker(const mp_value *args)
{
    (void)args;
    printf("child %ld: work_units = %d (shipped), data_file = %s (rebuilt from argv)\n", mp_current_pid(),
           work_units, data_file);
    return 0;
}
MP_TARGET(worker)

int main(int argc, char **argv)
{
    /* Hooks are registered before mp_main, which runs them in a child. */
    mp_on_child_init(rebuild_from_argv, NULL);
    mp_main(argc, argv);

    int own_argc;
    const char *const *own_argv;
    mp_parent_argv(&own_argc, &own_argv);
    parse_args(own_argc, own_argv);
    work_units = 8 * mp_cpu_count();
    printf("parent %ld: work_units = %d, data_file = %s\n", mp_current_pid(), work_units, data_file);

    mp_start_method all[3];
    size_t n = mp_get_all_start_methods(all);
    for (size_t i = 0; i < n; i++) {
        const mp_context *ctx;
        mp_process *p;
        mp_get_context(all[i], &ctx);
        printf("%s:\n", mp_start_method_name(all[i]));
        fflush(stdout);
        int rc = mp_process_new(&p, worker, &(mp_process_options){.context = ctx}, NULL);
        if (rc == MP_OK)
            rc = mp_process_start(p);
        if (rc == MP_OK)
            rc = mp_process_join(p, MP_FOREVER);
        mp_process_close(p);
        if (rc != MP_OK) {
            fprintf(stderr, "globals_reinit: %s\n", mp_last_error());
            return 1;
        }
    }
    return 0;
}
