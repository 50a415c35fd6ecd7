/* harness.c - leak-checked cmocka runs shared by every test executable. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

typedef struct snapshot {
    long handles;
    long children;
} snapshot;

static snapshot before;

/* ---- named shared memory left behind ----------------------------------- */

typedef struct name_set {
    char **names;
    size_t n;
} name_set;

static name_set shm_before;

static void name_set_clear(name_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    *s = (name_set){NULL, 0};
}

static bool name_set_has(const name_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return true;
    return false;
}

static void add_name(const char *name, void *ctx)
{
    name_set *out = ctx;
    char **grown = realloc(out->names, (out->n + 1) * sizeof *grown);
    if (grown == NULL)
        return;
    out->names = grown;
    char *copy = malloc(strlen(name) + 1);
    if (copy == NULL)
        return;
    strcpy(copy, name);
    out->names[out->n++] = copy;
}

static void list_shm(name_set *out)
{
    *out = (name_set){NULL, 0};
    mpt_each_shm_name(add_name, out);
}

/* Entries made since setup and still there. Another test executable that
 * ctest runs alongside may hold a name for a moment, and a resource tracker
 * unlinks asynchronously, so a new entry gets three seconds to go before it
 * counts as left behind. Returns how many are left; prints them. */
static long shm_left_behind(void)
{
    long left = 0;
    for (int tries = 0; tries < 150; tries++) {
        name_set now;
        list_shm(&now);
        left = 0;
        for (size_t i = 0; i < now.n; i++)
            if (!name_set_has(&shm_before, now.names[i]))
                left++;
        if (left == 0 || tries == 149) {
            for (size_t i = 0; i < now.n && left > 0; i++)
                if (!name_set_has(&shm_before, now.names[i]))
                    fprintf(stderr, "leak check: /dev/shm/%s left behind\n", now.names[i]);
            name_set_clear(&now);
            break;
        }
        name_set_clear(&now);
        mp_os_sleep(0.02);
    }
    return left;
}

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

bool mpt_wait_pid_gone(long pid, double timeout)
{
    double deadline = mp_os_monotonic() + timeout;
    while (mp_os_pid_alive(pid) == 1) {
        if (mp_os_monotonic() >= deadline)
            return false;
        mp_os_sleep(0.01);
    }
    return true;
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
    name_set_clear(&shm_before);
    list_shm(&shm_before);
    return 0;
}

int mpt_teardown(void **state)
{
    (void)state;
    snapshot after = {mpt_count_handles(), mpt_count_children()};
    long zombies = mpt_count_zombies();
    long shm_left = shm_left_behind();
    name_set_clear(&shm_before);
    if (after.handles != before.handles || after.children != before.children || zombies != 0 || shm_left != 0) {
        fprintf(stderr, "leak check: handles %ld -> %ld, children %ld -> %ld, zombies %ld, /dev/shm entries %ld\n",
                before.handles, after.handles, before.children, after.children, zombies, shm_left);
        return -1;
    }
    return 0;
}

int mpt_skip_program(const char *why)
{
    printf("skipped: %s\n", why);
    fflush(stdout);
    return MPT_SKIP_CODE;
}

int mpt_run(const char *group, const struct CMUnitTest *tests, size_t n)
{
    warm_up();
    /* MPT_ONLY=name runs one test, for reproducing a flaky one alone */
    const char *only = getenv("MPT_ONLY");
    if (only != NULL && only[0] != '\0')
        cmocka_set_test_filter(only);
    return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

void mpt_start_sockets(void)
{
    mp_listener *l;
    if (mp_listener_new(&l, "tcp://127.0.0.1:0", NULL) == MP_OK)
        mp_listener_close(l);
}
