/* test_process_exit.c - exit codes, join with a timeout, terminate and kill,
 * under every start method this system has. */
#include <signal.h>
#include <stdlib.h>

#include "harness.h"
#include "platform.h"

static int return_arg(const mp_value *args)
{
    int code;
    int rc = mp_args(args, "i", &code);
    return rc < 0 ? rc : code;
}
MP_TARGET(return_arg)

static int raise_error(const mp_value *args)
{
    (void)args;
    return mp_raise(MP_ERANGE, "the child raises on purpose");
}
MP_TARGET(raise_error)

static int die_by_signal(const mp_value *args)
{
    (void)args;
#ifdef _WIN32
    abort(); /* Windows has no signals; abort exits with 3. */
#else
    raise(SIGKILL);
#endif
    return 0;
}
MP_TARGET(die_by_signal)

#ifdef _WIN32
#include <windows.h>

/* Crash the way a bad pointer does. No error dialog: the test runs unattended. */
static int access_violation(const mp_value *args)
{
    (void)args;
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    RaiseException(EXCEPTION_ACCESS_VIOLATION, EXCEPTION_NONCONTINUABLE, 0, NULL);
    return 0;
}
MP_TARGET(access_violation)
#endif

static int sleep_arg(const mp_value *args)
{
    double seconds;
    int rc = mp_args(args, "d", &seconds);
    if (rc < 0)
        return rc;
    mp_os_sleep(seconds);
    return 0;
}
MP_TARGET(sleep_arg)

static void for_each_method(void (*check)(mp_start_method))
{
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++)
        check(methods[i]);
}

static void returns_code(mp_start_method m)
{
    static const int codes[] = {0, 1, 7, 42, 255};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        mp_process *p;
        MPT_OK(mp_process_new(&p, return_arg, mpt_opts(m), "i", codes[i]));
        assert_int_equal(mpt_run_child(p), codes[i]);
    }
}

static void exit_code_is_return_value(void **state)
{
    (void)state;
    for_each_method(returns_code);
}

static void raises(mp_start_method m)
{
    mp_process *p;
    MPT_OK(mp_process_new(&p, raise_error, mpt_opts(m), NULL));
    assert_int_equal(mpt_run_child(p), 1);
    /* Bad arguments are an error raised in the child too. */
    MPT_OK(mp_process_new(&p, return_arg, mpt_opts(m), "s", "not an int"));
    assert_int_equal(mpt_run_child(p), 1);
}

static void error_in_child_exits_1(void **state)
{
    (void)state;
    for_each_method(raises);
}

static void signalled(mp_start_method m)
{
    mp_process *p;
    MPT_OK(mp_process_new(&p, die_by_signal, mpt_opts(m), NULL));
#ifdef _WIN32
    assert_int_equal(mpt_run_child(p), 3);
#else
    assert_int_equal(mpt_run_child(p), -SIGKILL);
#endif
}

static void killed_by_signal_is_minus_n(void **state)
{
    (void)state;
    for_each_method(signalled);
}

/* Windows: an access violation reads as -11, as SIGSEGV does on POSIX. On
 * POSIX, signals are covered above (a raised SIGSEGV would be caught by
 * ASan in the sanitizer build). */
static void crash_reads_as_sigsegv(void **state)
{
    (void)state;
#ifdef _WIN32
    mp_process *p;
    MPT_OK(mp_process_new(&p, access_violation, NULL, NULL));
    assert_int_equal(mpt_run_child(p), -11);
#else
    skip();
#endif
}

static void stop_sleeper(mp_start_method m, bool kill, int expected)
{
    mp_process *p;
    int code = 0;
    MPT_OK(mp_process_new(&p, sleep_arg, mpt_opts(m), "d", 60.0));
    MPT_OK(mp_process_start(p));
    assert_int_equal(mp_process_is_alive(p), 1);
    MPT_OK(kill ? mp_process_kill(p) : mp_process_terminate(p));
    MPT_OK(mp_process_join(p, MP_FOREVER));
    assert_int_equal(mp_process_is_alive(p), 0);
    MPT_OK(mp_process_exitcode(p, &code));
    assert_int_equal(code, expected);
    /* Stopping an ended process is harmless. */
    MPT_OK(mp_process_terminate(p));
    MPT_OK(mp_process_kill(p));
    MPT_OK(mp_process_close(p));
}

static void terminated(mp_start_method m)
{
    stop_sleeper(m, false, -15);
}

static void killed(mp_start_method m)
{
#ifdef _WIN32
    stop_sleeper(m, true, -15); /* kill is terminate on Windows, as in Python */
#else
    stop_sleeper(m, true, -9);
#endif
}

static void terminate_reads_minus_15(void **state)
{
    (void)state;
    for_each_method(terminated);
}

static void kill_reads_minus_9(void **state)
{
    (void)state;
    for_each_method(killed);
}

static void join_times_out(mp_start_method m)
{
    mp_process *p;
    int code = -1;
    MPT_OK(mp_process_new(&p, sleep_arg, mpt_opts(m), "d", 1.5));
    MPT_OK(mp_process_start(p));
    MPT_CODE(mp_process_join(p, 0.05), MP_ETIMEDOUT);
    MPT_CODE(mp_process_join(p, 0), MP_ETIMEDOUT);
    MPT_CODE(mp_process_exitcode(p, &code), MP_ERUNNING);
    assert_int_equal(code, -1);
    assert_int_equal(mp_process_is_alive(p), 1);
    MPT_CODE(mp_process_close(p), MP_ESTATE);
    /* Still joinable, and joinable twice. */
    MPT_OK(mp_process_join(p, MP_FOREVER));
    MPT_OK(mp_process_join(p, 0));
    MPT_OK(mp_process_exitcode(p, &code));
    assert_int_equal(code, 0);
    MPT_OK(mp_process_close(p));
}

static void join_with_timeout(void **state)
{
    (void)state;
    for_each_method(join_times_out);
}

static void exitcode_without_join(mp_start_method m)
{
    mp_process *p;
    int code = -1;
    MPT_OK(mp_process_new(&p, return_arg, mpt_opts(m), "i", 9));
    MPT_OK(mp_process_start(p));
    mp_sentinel s;
    bool ready = false;
    MPT_OK(mp_process_sentinel(p, &s));
    assert_int_equal(mp_wait(&s, 1, MP_FOREVER, &ready), 1);
    assert_true(ready);
    /* Python's exitcode polls: no join needed once the sentinel fired. */
    MPT_OK(mp_process_exitcode(p, &code));
    assert_int_equal(code, 9);
    MPT_OK(mp_process_close(p));
}

static void exitcode_polls(void **state)
{
    (void)state;
    for_each_method(exitcode_without_join);
}

/* A sentinel asked for only after the join (a fork child's is made on
 * first use) is ready at once, and stays the same. */
static void sentinel_after_join(mp_start_method m)
{
    mp_process *p;
    MPT_OK(mp_process_new(&p, return_arg, mpt_opts(m), "i", 4));
    MPT_OK(mp_process_start(p));
    MPT_OK(mp_process_join(p, MP_FOREVER));
    mp_sentinel s, again;
    bool ready = false;
    MPT_OK(mp_process_sentinel(p, &s));
    assert_int_equal(mp_wait(&s, 1, 0, &ready), 1);
    assert_true(ready);
    MPT_OK(mp_process_sentinel(p, &again));
    assert_true(s == again);
    MPT_OK(mp_process_close(p));
}

static void sentinel_of_joined(void **state)
{
    (void)state;
    for_each_method(sentinel_after_join);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(exit_code_is_return_value), MPT_TEST(error_in_child_exits_1),
        MPT_TEST(killed_by_signal_is_minus_n), MPT_TEST(crash_reads_as_sigsegv),
        MPT_TEST(terminate_reads_minus_15),
        MPT_TEST(kill_reads_minus_9),          MPT_TEST(join_with_timeout),
        MPT_TEST(exitcode_polls),              MPT_TEST(sentinel_of_joined),
    };
    return MPT_RUN(tests);
}
