/* test_process_guards.c - bad input and wrong states give the right MP_E*
 * code, never a crash; the fork-bomb guards; what a child knows about
 * itself and its parent; start methods and contexts. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

static int return_zero(const mp_value *args)
{
    (void)args;
    return 0;
}
MP_TARGET(return_zero)

static int never_registered(const mp_value *args)
{
    (void)args;
    return 0;
}

static int sleep_a_while(const mp_value *args)
{
    (void)args;
    mp_os_sleep(60);
    return 0;
}
MP_TARGET(sleep_a_while)

/* ---- bad input --------------------------------------------------------- */

static void null_and_bad_arguments(void **state)
{
    (void)state;
    mp_process *p = (mp_process *)&p;
    MPT_CODE(mp_process_new(NULL, return_zero, NULL, NULL), MP_EINVAL);
    MPT_CODE(mp_process_new(&p, NULL, NULL, NULL), MP_EINVAL);
    assert_null(p);
    MPT_CODE(mp_process_new(&p, never_registered, NULL, NULL), MP_ENOTREG);
    assert_null(p);
    assert_non_null(strstr(mp_last_error(), "MP_TARGET"));
    MPT_CODE(mp_process_new(&p, return_zero, NULL, "i)", 1), MP_EFORMAT);
    MPT_CODE(mp_process_new(&p, return_zero, NULL, "w", 1), MP_EFORMAT);
    MPT_CODE(mp_process_new(&p, return_zero, NULL, "[i", 1), MP_EFORMAT);
    MPT_CODE(mp_process_new(&p, return_zero, NULL, "s", (const char *)NULL), MP_EINVAL);
    MPT_CODE(mp_process_new(&p, return_zero, NULL, "s", "\xc3\x28"), MP_EINVAL);
    assert_null(p);

    MPT_CODE(mp_process_start(NULL), MP_EINVAL);
    MPT_CODE(mp_process_join(NULL, 0), MP_EINVAL);
    assert_true(mp_process_is_alive(NULL) < 0);
    int code;
    MPT_CODE(mp_process_exitcode(NULL, &code), MP_EINVAL);
    MPT_CODE(mp_process_terminate(NULL), MP_EINVAL);
    MPT_CODE(mp_process_kill(NULL), MP_EINVAL);
    MPT_OK(mp_process_close(NULL));
    assert_int_equal(mp_process_pid(NULL), -1);
    assert_null(mp_process_name(NULL));
    MPT_CODE(mp_process_set_name(NULL, "x"), MP_EINVAL);
    MPT_CODE(mp_process_set_daemon(NULL, true), MP_EINVAL);
    mp_sentinel s;
    MPT_CODE(mp_process_sentinel(NULL, &s), MP_EINVAL);
}

static void malformed_packed_arguments(void **state)
{
    (void)state;
    mp_process *p;
    static const unsigned char array_of_one[] = {0x91, 0x01};
    static const unsigned char not_an_array[] = {0x01};
    static const unsigned char truncated[] = {0x92, 0x01};
    static const unsigned char bad_str[] = {0x91, 0xa2, 0xc3, 0x28};
    static const unsigned char trailing[] = {0x90, 0x00};
    static const unsigned char reserved[] = {0x91, 0xc1};
    static const unsigned char huge_len[] = {0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, 'x'};
    MPT_CODE(mp_process_new_packed(&p, return_zero, NULL, not_an_array, sizeof not_an_array), MP_EPROTO);
    MPT_CODE(mp_process_new_packed(&p, return_zero, NULL, truncated, sizeof truncated), MP_EPROTO);
    MPT_CODE(mp_process_new_packed(&p, return_zero, NULL, bad_str, sizeof bad_str), MP_EPROTO);
    MPT_CODE(mp_process_new_packed(&p, return_zero, NULL, trailing, sizeof trailing), MP_EPROTO);
    MPT_CODE(mp_process_new_packed(&p, return_zero, NULL, reserved, sizeof reserved), MP_EPROTO);
    MPT_CODE(mp_process_new_packed(&p, return_zero, NULL, huge_len, sizeof huge_len), MP_EPROTO);
    MPT_CODE(mp_process_new_packed(&p, return_zero, NULL, NULL, 0), MP_EPROTO);
    MPT_CODE(mp_process_new_packed(&p, return_zero, NULL, NULL, 3), MP_EINVAL);
    assert_null(p);
    MPT_OK(mp_process_new_packed(&p, return_zero, NULL, array_of_one, sizeof array_of_one));
    assert_int_equal(mpt_run_child(p), 0);
}

static void wrong_states(void **state)
{
    (void)state;
    mp_process *p;
    int code = 0;
    mp_sentinel s;
    MPT_OK(mp_process_new(&p, sleep_a_while, NULL, NULL));
    /* Before start. */
    MPT_CODE(mp_process_join(p, 0), MP_ESTATE);
    MPT_CODE(mp_process_exitcode(p, &code), MP_ESTATE);
    MPT_CODE(mp_process_terminate(p), MP_ESTATE);
    MPT_CODE(mp_process_kill(p), MP_ESTATE);
    MPT_CODE(mp_process_sentinel(p, &s), MP_ESTATE);
    assert_int_equal(mp_process_is_alive(p), 0);
    assert_int_equal(mp_process_pid(p), 0);
    MPT_OK(mp_process_set_daemon(p, true));
    assert_true(mp_process_daemon(p));
    MPT_OK(mp_process_set_daemon(p, false));
    MPT_OK(mp_process_set_name(p, "renamed"));
    assert_string_equal(mp_process_name(p), "renamed");
    /* Running. */
    MPT_OK(mp_process_start(p));
    assert_true(mp_process_pid(p) > 0);
    MPT_CODE(mp_process_start(p), MP_ESTATE);
    MPT_CODE(mp_process_set_daemon(p, true), MP_ESTATE);
    MPT_CODE(mp_process_close(p), MP_ESTATE);
    MPT_CODE(mp_process_exitcode(p, &code), MP_ERUNNING);
    MPT_OK(mp_process_terminate(p));
    MPT_OK(mp_process_join(p, MP_FOREVER));
    /* Ended. */
    MPT_CODE(mp_process_start(p), MP_ESTATE);
    MPT_OK(mp_process_close(p));

    /* A process never started can always be closed. */
    MPT_OK(mp_process_new(&p, return_zero, NULL, NULL));
    MPT_OK(mp_process_close(p));
}

/* ---- guards against recursion and fork bombs --------------------------- */

/* Code that runs before mp_main in a spawned child or in the forkserver.
 * Simulated: this program started with the child's or the server's marker
 * and a token of its own, which main() checks so that real children and
 * servers still go straight to mp_main. */
#define BEFORE_MAIN_TOKEN "simulated-before-main"
static int start_before_main(void)
{
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_process *p;
        if (mp_process_new(&p, return_zero, mpt_opts(methods[m]), NULL) != MP_OK)
            return 2;
        int rc = mp_process_start(p);
        mp_process_close(p);
        if (rc != MP_EBOOTSTRAP)
            return 3;
    }
    return 0;
}

/* A program that never called mp_main may fork but not spawn. */
static int start_without_main(void)
{
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_process *p;
        if (mp_process_new(&p, return_zero, mpt_opts(methods[m]), NULL) != MP_OK)
            return 2;
        int rc = mp_process_start(p);
        int want = methods[m] == MP_START_FORK ? MP_OK : MP_ESTATE;
        if (rc == MP_OK)
            mp_process_join(p, MP_FOREVER);
        mp_process_close(p);
        if (rc != want)
            return 3;
        if (rc == MP_ESTATE && strstr(mp_last_error(), "mp_main") == NULL)
            return 4;
    }
    return 0;
}

static void spawn_without_mp_main_is_refused(void **state)
{
    (void)state;
    const char *args[] = {"--without-main"};
    assert_int_equal(mpt_exec_self(NULL, args, 1, 60), 0);
}

static void start_before_mp_main_in_child_is_refused(void **state)
{
    (void)state;
    const char *args[] = {MP_CHILD_MARKER, BEFORE_MAIN_TOKEN};
    assert_int_equal(mpt_exec_self(NULL, args, 2, 60), 0);
}

static void start_before_mp_main_in_forkserver_is_refused(void **state)
{
    (void)state;
    const char *args[] = {MP_FORKSERVER_MARKER, BEFORE_MAIN_TOKEN};
    assert_int_equal(mpt_exec_self(NULL, args, 2, 60), 0);
}

/* The child-init hook tries to start a process when asked to. */
static int hook_starts_process;
MP_GLOBAL(hook_starts_process)
static int hook_result = 1;

static int hook(void *arg)
{
    (void)arg;
    if (!hook_starts_process)
        return MP_OK;
    mp_process *p;
    if (mp_process_new(&p, return_zero, NULL, NULL) != MP_OK)
        return MP_OK;
    hook_result = mp_process_start(p);
    mp_process_close(p);
    return MP_OK;
}

static int report_hook_result(const mp_value *args)
{
    (void)args;
    return hook_result == MP_EBOOTSTRAP ? 0 : 2;
}
MP_TARGET(report_hook_result)

static void start_from_child_init_hook_is_refused(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    hook_starts_process = 1;
    for (size_t m = 0; m < n; m++) {
        mp_process *p;
        MPT_OK(mp_process_new(&p, report_hook_result, mpt_opts(methods[m]), NULL));
        assert_int_equal(mpt_run_child(p), 0);
    }
    hook_starts_process = 0;
}

static int daemon_tries_to_start(const mp_value *args)
{
    (void)args;
    mp_process *p;
    int rc = mp_process_new(&p, return_zero, NULL, NULL);
    if (rc == MP_OK)
        rc = mp_process_start(p);
    mp_process_close(p);
    if (rc != MP_ESTATE || strstr(mp_last_error(), "daemonic") == NULL)
        return 2;
    return mp_current_process_daemon() ? 0 : 3;
}
MP_TARGET(daemon_tries_to_start)

static void daemon_may_not_have_children(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_process_options opts = *mpt_opts(methods[m]);
        opts.daemon = true;
        mp_process *p;
        MPT_OK(mp_process_new(&p, daemon_tries_to_start, &opts, NULL));
        assert_true(mp_process_daemon(p));
        assert_int_equal(mpt_run_child(p), 0);
    }
}

/* ---- who am I ---------------------------------------------------------- */

/* Exit code 0 if the parent's name is args[0]. */
static int parent_name_is(const mp_value *args)
{
    const char *want;
    int rc = mp_args(args, "s", &want);
    if (rc < 0)
        return rc;
    const char *name = mp_parent_process_name();
    return name != NULL && strcmp(name, want) == 0 ? 0 : 2;
}
MP_TARGET(parent_name_is)

/* args: the expected name (nil: the default Process-N), the parent's pid and
 * authkey. */
static int check_identity(const mp_value *args)
{
    const char *name;
    int64_t ppid;
    const void *key;
    size_t key_len;
    int rc = mp_args(args, "z q y#", &name, &ppid, &key, &key_len);
    if (rc < 0)
        return rc;
    const char *mine = mp_current_process_name();
    if (name ? strcmp(mine, name) != 0 : strncmp(mine, "Process-", 8) != 0)
        return 2;
    if (mp_parent_pid() != ppid || mp_parent_is_alive() != 1)
        return 3;
    const char *parent_name = mp_parent_process_name();
    if (parent_name == NULL || strcmp(parent_name, "MainProcess") != 0)
        return 9;
    if (mp_current_pid() == ppid || mp_current_pid() <= 0)
        return 4;
    size_t len;
    const unsigned char *my_key = mp_authkey(&len);
    if (len != key_len || memcmp(my_key, key, len) != 0)
        return 5;
    if (mp_current_process_daemon())
        return 6;
    if (name)
        return 0;
    /* A grandchild is named after this child's identity: Process-N:1. */
    mp_process *p;
    if (mp_process_new(&p, return_zero, NULL, NULL) != MP_OK)
        return 7;
    char expected[80];
    snprintf(expected, sizeof expected, "%s:1", mine);
    int ok = strcmp(mp_process_name(p), expected) == 0;
    mp_process_close(p);
    if (!ok)
        return 8;
    /* The grandchild's parent is this child, by name. */
    if (mp_process_new(&p, parent_name_is, NULL, "s", mine) != MP_OK || mp_process_start(p) != MP_OK ||
        mp_process_join(p, MP_FOREVER) != MP_OK)
        return 10;
    int code = -1;
    mp_process_exitcode(p, &code);
    mp_process_close(p);
    return code == 0 ? 0 : 11;
}
MP_TARGET(check_identity)

static void child_knows_itself_and_parent(void **state)
{
    (void)state;
    assert_string_equal(mp_current_process_name(), "MainProcess");
    assert_int_equal(mp_parent_pid(), 0);
    assert_null(mp_parent_process_name());
    MPT_CODE(mp_parent_is_alive(), MP_ESTATE);
    assert_false(mp_current_process_daemon());
    assert_true(mp_cpu_count() >= 1);
    size_t len;
    const unsigned char *key = mp_authkey(&len);
    assert_int_equal(len, 32);
    int64_t me = mp_current_pid();

    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_process *p;
        MPT_OK(mp_process_new(&p, check_identity, mpt_opts(methods[m]), "z q y#", (const char *)NULL, me, key,
                              len));
        assert_int_equal(strncmp(mp_process_name(p), "Process-", 8), 0);
        assert_int_equal(mpt_run_child(p), 0);

        const char *custom = "worker \xc3\xa9";
        mp_process_options opts = *mpt_opts(methods[m]);
        opts.name = custom;
        MPT_OK(mp_process_new(&p, check_identity, &opts, "z q y#", custom, me, key, len));
        assert_string_equal(mp_process_name(p), custom);
        assert_int_equal(mpt_run_child(p), 0);
    }
}

/* A key set with mp_set_authkey is what children get, whatever its length,
 * under every start method; the main process's own comes back after. */
static void set_authkey_reaches_children(void **state)
{
    (void)state;
    size_t len;
    const unsigned char *key = mp_authkey(&len);
    unsigned char original[32];
    assert_int_equal(len, sizeof original);
    memcpy(original, key, len);
    static const char mine[] = "seed 003's abc, longer";
    MPT_OK(mp_set_authkey(mine, sizeof mine - 1));
    key = mp_authkey(&len);
    assert_int_equal(len, sizeof mine - 1);
    assert_memory_equal(key, mine, len);
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_process *p;
        MPT_OK(mp_process_new(&p, check_identity, mpt_opts(methods[m]), "z q y#", (const char *)NULL,
                              (int64_t)mp_current_pid(), mine, sizeof mine - 1));
        assert_int_equal(mpt_run_child(p), 0);
    }
    MPT_OK(mp_set_authkey("", 0));
    mp_authkey(&len);
    assert_int_equal(len, 0);
    unsigned char big[257] = {0};
    MPT_CODE(mp_set_authkey(big, sizeof big), MP_ERANGE);
    MPT_CODE(mp_set_authkey(NULL, 3), MP_EINVAL);
    MPT_OK(mp_set_authkey(original, sizeof original));
    key = mp_authkey(&len);
    assert_int_equal(len, sizeof original);
    assert_memory_equal(key, original, len);
}

static void active_children_lists_the_living(void **state)
{
    (void)state;
    mp_process *p[3];
    for (int i = 0; i < 3; i++) {
        MPT_OK(mp_process_new(&p[i], i == 0 ? return_zero : sleep_a_while, NULL, NULL));
        MPT_OK(mp_process_start(p[i]));
    }
    MPT_OK(mp_process_join(p[0], MP_FOREVER));
    mp_process *alive[3] = {NULL, NULL, NULL};
    size_t n = 0;
    MPT_OK(mp_active_children(alive, 1, &n));
    assert_int_equal(n, 2);
    assert_true(alive[0] == p[1] || alive[0] == p[2]);
    assert_null(alive[1]);
    MPT_CODE(mp_active_children(NULL, 1, &n), MP_EINVAL);
    MPT_CODE(mp_active_children(alive, 3, NULL), MP_EINVAL);
    for (int i = 0; i < 3; i++) {
        MPT_OK(mp_process_kill(p[i]));
        MPT_OK(mp_process_join(p[i], MP_FOREVER));
        MPT_OK(mp_process_close(p[i]));
    }
    MPT_OK(mp_active_children(alive, 3, &n));
    assert_int_equal(n, 0);
}

/* ---- start methods ----------------------------------------------------- */

static void start_methods_and_contexts(void **state)
{
    (void)state;
    mp_start_method all[3];
    size_t n = mp_get_all_start_methods(all);
#ifdef _WIN32
    assert_int_equal(n, 1);
    assert_int_equal(all[0], MP_START_SPAWN);
    const mp_context *ctx = (const mp_context *)&ctx;
    MPT_CODE(mp_get_context(MP_START_FORK, &ctx), MP_EUNSUPPORTED);
    assert_null(ctx);
    MPT_CODE(mp_get_context(MP_START_FORKSERVER, &ctx), MP_EUNSUPPORTED);
    MPT_CODE(mp_set_start_method(MP_START_FORK, true), MP_EUNSUPPORTED);
    assert_non_null(strstr(mp_last_error(), "Windows"));
#else
    assert_int_equal(n, 3);
    assert_int_equal(all[0], MP_START_FORK);
#endif
    for (size_t i = 0; i < n; i++) {
        mp_start_method parsed;
        MPT_OK(mp_start_method_parse(mp_start_method_name(all[i]), &parsed));
        assert_int_equal(parsed, all[i]);
        const mp_context *c;
        MPT_OK(mp_get_context(all[i], &c));
        assert_int_equal(mp_context_start_method(c), all[i]);
    }
    mp_start_method parsed;
    MPT_CODE(mp_start_method_parse("vfork", &parsed), MP_EINVAL);
    MPT_CODE(mp_start_method_parse(NULL, &parsed), MP_EINVAL);
    assert_null(mp_start_method_name((mp_start_method)42));
    MPT_CODE(mp_set_start_method(MP_START_DEFAULT, false), MP_EINVAL);
    MPT_CODE(mp_set_start_method((mp_start_method)42, false), MP_EINVAL);
    MPT_CODE(mp_get_context((mp_start_method)42, NULL), MP_EINVAL);

    /* Once only, as in Python; asking fixes the default. */
    mp_start_method before = mp_get_start_method();
    assert_int_equal(before, all[0]);
    MPT_CODE(mp_set_start_method(all[n - 1], false), MP_ESTATE);
    MPT_OK(mp_set_start_method(all[n - 1], true));
    assert_int_equal(mp_get_start_method(), all[n - 1]);
    const mp_context *def;
    MPT_OK(mp_get_context(MP_START_DEFAULT, &def));
    mp_process *p;
    MPT_OK(mp_process_new(&p, return_zero, &(mp_process_options){.context = def}, NULL));
    assert_int_equal(mpt_run_child(p), 0);
    MPT_OK(mp_set_start_method(before, true));
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--without-main") == 0)
        return start_without_main();
    if (argc == 3 && (strcmp(argv[1], MP_CHILD_MARKER) == 0 || strcmp(argv[1], MP_FORKSERVER_MARKER) == 0) &&
        strcmp(argv[2], BEFORE_MAIN_TOKEN) == 0)
        return start_before_main();
    mp_on_child_init(hook, NULL);
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(null_and_bad_arguments),
        MPT_TEST(set_authkey_reaches_children),
        MPT_TEST(malformed_packed_arguments),
        MPT_TEST(wrong_states),
        MPT_TEST(spawn_without_mp_main_is_refused),
        MPT_TEST(start_before_mp_main_in_child_is_refused),
        MPT_TEST(start_before_mp_main_in_forkserver_is_refused),
        MPT_TEST(start_from_child_init_hook_is_refused),
        MPT_TEST(daemon_may_not_have_children),
        MPT_TEST(child_knows_itself_and_parent),
        MPT_TEST(active_children_lists_the_living),
        MPT_TEST(start_methods_and_contexts),
    };
    return MPT_RUN(tests);
}
