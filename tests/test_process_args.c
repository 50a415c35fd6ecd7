/* test_process_args.c - what a child receives: arguments of every type, a
 * 10 MiB argument, registered globals as the parent has them at start,
 * child-init hooks, and the parent's argv, under every start method. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* ---- arguments --------------------------------------------------------- */

static const unsigned char some_bytes[] = {0, 1, 2, 0xff, 0x80, 0};
static const char utf8_text[] = "h\xc3\xa9llo \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80";

/* Exit code 0 if every argument is what the parent sent, else the number of
 * the first that is not. */
static int check_every_type(const mp_value *args)
{
    bool b;
    int i;
    unsigned int u;
    int64_t q;
    uint64_t uq;
    double d;
    float f;
    const char *s, *z, *sn;
    size_t sn_len, y_len, e_len;
    const void *y, *e;
    int8_t e_type;
    int a0, a1;
    const char *a2;
    const mp_value *map;
    int rc = mp_args(args, "n ? i I q Q d f s z s# y# e (ii[s]) V", &b, &i, &u, &q, &uq, &d, &f, &s, &z, &sn,
                     &sn_len, &y, &y_len, &e_type, &e, &e_len, &a0, &a1, &a2, &map);
    if (rc < 0)
        return rc;
    if (!b)
        return 2;
    if (i != -123456)
        return 3;
    if (u != 4000000000u)
        return 4;
    if (q != INT64_MIN)
        return 5;
    if (uq != UINT64_MAX)
        return 6;
    if (d != -1.5e300)
        return 7;
    if (f != 0.25f)
        return 8;
    if (strcmp(s, utf8_text) != 0)
        return 9;
    if (z != NULL)
        return 10;
    if (sn_len != 3 || memcmp(sn, "a\0b", 3) != 0)
        return 11;
    if (y_len != sizeof some_bytes || memcmp(y, some_bytes, y_len) != 0)
        return 12;
    if (e_type != 5 || e_len != 2 || memcmp(e, "xy", 2) != 0)
        return 13;
    if (a0 != 1 || a1 != 2 || strcmp(a2, "three") != 0)
        return 14;
    const mp_value *v = mp_map_get(map, "key");
    if (map->type != MP_MAP || v == NULL || v->type != MP_ARRAY || v->as.array.len != 0)
        return 15;
    return 0;
}
MP_TARGET(check_every_type)

static void every_type_round_trips(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_buf map = MP_BUF_INIT;
        mp_value *map_value;
        MPT_OK(mp_pack(&map, "{s[]}", "key"));
        MPT_OK(mp_decode(map.data, map.len, NULL, &map_value));
        mp_process *p;
        MPT_OK(mp_process_new(&p, check_every_type, mpt_opts(methods[m]), "n ? i I q Q d f s z s# y# e (ii[s]) V",
                              1, -123456, 4000000000u, INT64_MIN, UINT64_MAX, -1.5e300, 0.25, utf8_text,
                              (const char *)NULL, "a\0b", (size_t)3, some_bytes, sizeof some_bytes, 5, "xy",
                              (size_t)2, 1, 2, "three", map_value));
        mp_value_free(map_value);
        mp_buf_free(&map);
        assert_int_equal(mpt_run_child(p), 0);
    }
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

static int check_big(const mp_value *args)
{
    const void *data;
    size_t len;
    int rc = mp_args(args, "y#", &data, &len);
    if (rc < 0)
        return rc;
    if (len != (size_t)10 << 20)
        return 2;
    for (size_t i = 0; i < len; i++)
        if (((const uint8_t *)data)[i] != pattern(i))
            return 3;
    return 0;
}
MP_TARGET(check_big)

static void ten_mib_argument(void **state)
{
    (void)state;
    size_t len = (size_t)10 << 20;
    uint8_t *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = pattern(i);
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_process *p;
        MPT_OK(mp_process_new(&p, check_big, mpt_opts(methods[m]), "y#", data, len));
        assert_int_equal(mpt_run_child(p), 0);
    }
    free(data);
}

/* ---- globals and child-init hooks ------------------------------------- */

typedef struct settings {
    int level;
    char label[16];
    double ratio;
} settings;

static int counter = 1;
MP_GLOBAL(counter)
static settings config = {1, "initial", 0.5};
MP_GLOBAL(config)

/* Set by the hook from the parent's argv: not shipped, rebuilt. */
static int hook_saw_argc = -1;
static int hook_runs;

static int rebuild_from_argv(void *arg)
{
    int argc;
    const char *const *argv;
    int rc = mp_parent_argv(&argc, &argv);
    if (rc < 0)
        return rc;
    hook_saw_argc = argc;
    hook_runs += *(const int *)arg;
    return MP_OK;
}

static const int one = 1;

static int report_globals(const mp_value *args)
{
    int expected_argc;
    int rc = mp_args(args, "i", &expected_argc);
    if (rc < 0)
        return rc;
    if (config.level != 7 || strcmp(config.label, "changed") != 0 || config.ratio != 2.25)
        return 200;
    if (hook_saw_argc != expected_argc || hook_runs != 1)
        return 201;
    return counter;
}
MP_TARGET(report_globals)

static void globals_seen_as_at_start(void **state)
{
    (void)state;
    int argc;
    const char *const *argv;
    MPT_OK(mp_parent_argv(&argc, &argv));
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        /* Changed after start-up: the child must see these values. */
        counter = 40 + (int)m;
        config = (settings){7, "changed", 2.25};
        mp_process *p;
        MPT_OK(mp_process_new(&p, report_globals, mpt_opts(methods[m]), "i", argc));
        assert_int_equal(mpt_run_child(p), 40 + (int)m);
    }
    counter = 1;
}

static void registration_errors(void **state)
{
    (void)state;
    static int other;
    MPT_CODE(mp_global("counter", &other, sizeof other), MP_EEXIST);
    MPT_CODE(mp_global("counter", &counter, 2), MP_EEXIST);
    MPT_OK(mp_global("counter", &counter, sizeof counter));
    MPT_CODE(mp_global(NULL, &other, sizeof other), MP_EINVAL);
    MPT_CODE(mp_global("x", NULL, 4), MP_EINVAL);
    MPT_CODE(mp_global("x", &other, 0), MP_EINVAL);
    MPT_CODE(mp_global("", &other, sizeof other), MP_EINVAL);
    MPT_CODE(mp_global("bad\xff", &other, sizeof other), MP_EINVAL);

    MPT_CODE(mp_register("report_globals", check_big), MP_EEXIST);
    MPT_OK(mp_register("report_globals", report_globals));
    MPT_CODE(mp_register("x", NULL), MP_EINVAL);
    MPT_CODE(mp_register(NULL, check_big), MP_EINVAL);
    assert_string_equal(mp_target_name(check_big), "check_big");
    MPT_CODE(mp_on_child_init(NULL, NULL), MP_EINVAL);
    MPT_CODE(mp_parent_argv(NULL, NULL), MP_EINVAL);
}

/* ---- the parent's argv ------------------------------------------------- */

static const char *const odd_args[] = {
    "--argv-check",
    "plain",
    "with space",
    "with\ttab",
    "",
    "quote\"inside",
    "\"quoted\"",
    "back\\slash",
    "trailing\\",
    "trailing two\\\\",
    "\\\"",
    "\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80",
    "",
};
#define N_ODD (sizeof odd_args / sizeof odd_args[0])

static int argv_matches(int argc, const char *const *argv)
{
    if (argc != (int)N_ODD + 1)
        return 0;
    for (size_t i = 0; i < N_ODD; i++)
        if (strcmp(argv[i + 1], odd_args[i]) != 0)
            return 0;
    return 1;
}

static int check_parent_argv(const mp_value *args)
{
    (void)args;
    int argc;
    const char *const *argv;
    int rc = mp_parent_argv(&argc, &argv);
    if (rc < 0)
        return rc;
    return argv_matches(argc, argv) ? 0 : 2;
}
MP_TARGET(check_parent_argv)

/* Runs in this executable started again with odd_args: its own argv must be
 * intact, and so must its children's view of it. */
static int argv_check_main(void)
{
    int argc;
    const char *const *argv;
    if (mp_parent_argv(&argc, &argv) != MP_OK || !argv_matches(argc, argv))
        return 10;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_process *p;
        int code = -1;
        if (mp_process_new(&p, check_parent_argv, mpt_opts(methods[m]), NULL) != MP_OK ||
            mp_process_start(p) != MP_OK || mp_process_join(p, MP_FOREVER) != MP_OK ||
            mp_process_exitcode(p, &code) != MP_OK || mp_process_close(p) != MP_OK)
            return 11;
        if (code != 0)
            return 20 + code;
    }
    return 0;
}

static void parent_argv_reaches_child(void **state)
{
    (void)state;
    assert_int_equal(mpt_exec_self(NULL, odd_args, N_ODD, 60), 0);
}

static void exe_path_with_spaces(void **state)
{
    (void)state;
    char tmp[512], dir[768], exe[1024];
    mpt_temp_dir(tmp, sizeof tmp);
    snprintf(dir, sizeof dir, "%s dir with spaces \xc3\xa9", tmp);
#ifdef _WIN32
    const char *name = "copy of test \xc3\xa9.exe";
#else
    const char *name = "copy of test \xc3\xa9";
#endif
    assert_int_equal(mpt_copy_self(dir, name, exe, sizeof exe), 0);
    int code = mpt_exec_self(exe, odd_args, N_ODD, 60);
    mpt_remove_copy(dir, exe);
    assert_int_equal(code, 0);
}

int main(int argc, char **argv)
{
    /* Hooks are registered before mp_main, so that a spawned child has them
     * when its mp_main runs them. */
    mp_on_child_init(rebuild_from_argv, (void *)&one);
    mp_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "--argv-check") == 0)
        return argv_check_main();
    const struct CMUnitTest tests[] = {
        MPT_TEST(every_type_round_trips),   MPT_TEST(ten_mib_argument),
        MPT_TEST(globals_seen_as_at_start), MPT_TEST(registration_errors),
        MPT_TEST(parent_argv_reaches_child), MPT_TEST(exe_path_with_spaces),
    };
    return MPT_RUN(tests);
}
