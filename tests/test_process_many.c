/* test_process_many.c - many processes: 100 one after another, 50 at once,
 * and mp_wait over 100 sentinels (more than Windows' 64-handle limit). */
#include "harness.h"
#include "platform.h"

static int return_arg(const mp_value *args)
{
    int code;
    int rc = mp_args(args, "i", &code);
    return rc < 0 ? rc : code;
}
MP_TARGET(return_arg)

static int sleep_then_return(const mp_value *args)
{
    double seconds;
    int code;
    int rc = mp_args(args, "di", &seconds, &code);
    if (rc < 0)
        return rc;
    mp_os_sleep(seconds);
    return code;
}
MP_TARGET(sleep_then_return)

static void hundred_sequential(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        for (int i = 0; i < 100; i++) {
            mp_process *p;
            MPT_OK(mp_process_new(&p, return_arg, mpt_opts(methods[m]), "i", i));
            assert_int_equal(mpt_run_child(p), i);
        }
    }
}

static void fifty_concurrent(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        mp_process *p[50];
        for (int i = 0; i < 50; i++) {
            MPT_OK(mp_process_new(&p[i], sleep_then_return, mpt_opts(methods[m]), "di", 0.2, i + 1));
            MPT_OK(mp_process_start(p[i]));
        }
        size_t alive;
        MPT_OK(mp_active_children(NULL, 0, &alive));
        assert_true(alive <= 50);
        for (int i = 0; i < 50; i++) {
            int code;
            MPT_OK(mp_process_join(p[i], MP_FOREVER));
            MPT_OK(mp_process_exitcode(p[i], &code));
            assert_int_equal(code, i + 1);
            MPT_OK(mp_process_close(p[i]));
        }
        MPT_OK(mp_active_children(NULL, 0, &alive));
        assert_int_equal(alive, 0);
    }
}

/* 100 children; only the one at index `quick` ends soon. mp_wait must see it
 * wherever it is, also beyond the 64th handle. */
static void wait_finds(mp_start_method m, size_t quick)
{
    enum { N = 100 };
    mp_process *p[N];
    mp_sentinel s[N];
    bool ready[N];
    for (size_t i = 0; i < N; i++) {
        MPT_OK(mp_process_new(&p[i], sleep_then_return, mpt_opts(m), "di", i == quick ? 0.0 : 60.0, 0));
        MPT_OK(mp_process_start(p[i]));
        MPT_OK(mp_process_sentinel(p[i], &s[i]));
    }
    assert_int_equal(mp_wait(s, N, MP_FOREVER, ready), 1);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(ready[i], i == quick);

    for (size_t i = 0; i < N; i++)
        MPT_OK(mp_process_terminate(p[i]));
    /* All ended now: every one of them is reported ready. */
    for (size_t i = 0; i < N; i++)
        MPT_OK(mp_process_join(p[i], MP_FOREVER));
    assert_int_equal(mp_wait(s, N, 0, ready), N);
    for (size_t i = 0; i < N; i++) {
        assert_true(ready[i]);
        MPT_OK(mp_process_close(p[i]));
    }
}

static void wait_on_100_sentinels(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t m = 0; m < n; m++) {
        wait_finds(methods[m], 90);
        wait_finds(methods[m], 3);
    }
}

static void wait_times_out(void **state)
{
    (void)state;
    mp_process *p;
    mp_sentinel s;
    bool ready = true;
    MPT_OK(mp_process_new(&p, sleep_then_return, NULL, "di", 60.0, 0));
    MPT_OK(mp_process_start(p));
    MPT_OK(mp_process_sentinel(p, &s));
    MPT_CODE(mp_wait(&s, 1, 0.05, &ready), MP_ETIMEDOUT);
    assert_false(ready);
    MPT_CODE(mp_wait(&s, 1, 0, &ready), MP_ETIMEDOUT);
    MPT_OK(mp_process_kill(p));
    MPT_OK(mp_process_join(p, MP_FOREVER));
    MPT_OK(mp_process_close(p));
    MPT_CODE(mp_wait(NULL, 1, 0, &ready), MP_EINVAL);
    MPT_CODE(mp_wait(&s, 0, 0, &ready), MP_EINVAL);
    MPT_CODE(mp_wait(&s, 1, 0, NULL), MP_EINVAL);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(hundred_sequential),
        MPT_TEST(fifty_concurrent),
        MPT_TEST(wait_on_100_sentinels),
        MPT_TEST(wait_times_out),
    };
    return MPT_RUN(tests);
}
