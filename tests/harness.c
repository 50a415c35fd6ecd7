/* harness.c - leak-checked cmocka runs shared by every test executable. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

typedef struct snapshot {
    long handles;
    long children;
} snapshot;

static snapshot before;

static int mpt_noop(const mp_value *args)
{
    (void)args;
    return 0;
}
MP_TARGET(mpt_noop)

void mpt_check_code(int got, int want, const char *expr, const char *file, int line)
{
    if (got == want)
        return;
    fail_msg("%s:%d: %s returned %s (%d), expected %s; last error: %s", file, line, expr,
             mp_errname(got), got, mp_errname(want), mp_last_error());
}

size_t mpt_methods(mp_start_method out[3])
{
    return mp_get_all_start_methods(out);
}

const mp_process_options *mpt_opts(mp_start_method method)
{
    static mp_process_options opts[4];
    const mp_context *ctx = NULL;
    if (mp_get_context(method, &ctx) != MP_OK)
        fail_msg("start method %s is not supported here", mp_start_method_name(method));
    opts[method] = (mp_process_options){.context = ctx};
    return &opts[method];
}

int mpt_run_child(mp_process *p)
{
    MPT_OK(mp_process_start(p));
    return mpt_join_child(p);
}

int mpt_join_child(mp_process *p)
{
    int code = -1000;
    MPT_OK(mp_process_join(p, MP_FOREVER));
    MPT_OK(mp_process_exitcode(p, &code));
    MPT_OK(mp_process_close(p));
    return code;
}

static void warm_up(void)
{
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++) {
        mp_process *p = NULL;
        if (mp_process_new(&p, mpt_noop, mpt_opts(methods[i]), NULL) != MP_OK ||
            mp_process_start(p) != MP_OK || mp_process_join(p, MP_FOREVER) != MP_OK) {
            fprintf(stderr, "harness: warm-up child under %s failed: %s\n",
                    mp_start_method_name(methods[i]), mp_last_error());
        }
        mp_process_close(p);
    }
}

int mpt_setup(void **state)
{
    (void)state;
    before.handles = mpt_count_handles();
    before.children = mpt_count_children();
    return 0;
}

int mpt_teardown(void **state)
{
    (void)state;
    snapshot after = {mpt_count_handles(), mpt_count_children()};
    long zombies = mpt_count_zombies();
    if (after.handles != before.handles || after.children != before.children || zombies != 0) {
        fprintf(stderr, "leak check: handles %ld -> %ld, children %ld -> %ld, zombies %ld\n",
                before.handles, after.handles, before.children, after.children, zombies);
        return -1;
    }
    return 0;
}

int mpt_run(const char *group, const struct CMUnitTest *tests, size_t n)
{
    warm_up();
    return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}
