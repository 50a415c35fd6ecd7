/* test_win32_wait.c - mp_wait on Windows past WaitForMultipleObjects' limit of
 * 64 handles: every ready object is reported, wherever it sits. */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

#ifdef _WIN32
#include <windows.h>

#include "platform.h"
#include "process/process_internal.h"

#define NEVENTS 200
#define NCHILDREN 100

static HANDLE *make_events(size_t n, mp_sentinel *s)
{
    HANDLE *events = calloc(n, sizeof *events);
    assert_non_null(events);
    for (size_t i = 0; i < n; i++) {
        events[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
        assert_non_null(events[i]);
        s[i] = (mp_sentinel)events[i];
    }
    return events;
}

static void close_events(HANDLE *events, size_t n)
{
    for (size_t i = 0; i < n; i++)
        CloseHandle(events[i]);
    free(events);
}

static void assert_ready_exactly(const bool *ready, size_t n, const size_t *which, size_t k)
{
    for (size_t i = 0, j = 0; i < n; i++) {
        bool want = j < k && which[j] == i;
        if (ready[i] != want)
            fail_msg("object %lu is %sready", (unsigned long)i, ready[i] ? "" : "not ");
        j += want;
    }
}

static void each_ready_event_is_found(void **state)
{
    (void)state;
    mp_sentinel s[NEVENTS];
    bool ready[NEVENTS];
    HANDLE *events = make_events(NEVENTS, s);
    for (size_t i = 0; i < NEVENTS; i++) {
        SetEvent(events[i]);
        assert_int_equal(mp_wait(s, NEVENTS, MP_FOREVER, ready), 1);
        assert_ready_exactly(ready, NEVENTS, &i, 1);
        ResetEvent(events[i]);
    }
    static const size_t some[] = {0, 63, 64, 126, 127, 199};
    for (size_t i = 0; i < 6; i++)
        SetEvent(events[some[i]]);
    assert_int_equal(mp_wait(s, NEVENTS, MP_FOREVER, ready), 6);
    assert_ready_exactly(ready, NEVENTS, some, 6);
    close_events(events, NEVENTS);
}

static void nothing_ready_times_out(void **state)
{
    (void)state;
    mp_sentinel s[NEVENTS];
    bool ready[NEVENTS];
    HANDLE *events = make_events(NEVENTS, s);
    MPT_CODE(mp_wait(s, NEVENTS, 0, ready), MP_ETIMEDOUT);
    MPT_CODE(mp_wait(s, NEVENTS, 0.05, ready), MP_ETIMEDOUT);
    MPT_CODE(mp_wait(s, 10, 0.05, ready), MP_ETIMEDOUT);
    close_events(events, NEVENTS);
}

/* WaitForMultipleObjects refuses a handle named twice; mp_wait may not. */
static void repeated_objects_are_reported_each_time(void **state)
{
    (void)state;
    mp_sentinel s[NEVENTS];
    bool ready[NEVENTS];
    HANDLE *events = make_events(NEVENTS, s);
    for (size_t i = 100; i < NEVENTS; i++)
        s[i] = s[i % 3];
    SetEvent(events[1]);
    int n = mp_wait(s, NEVENTS, MP_FOREVER, ready);
    int want = 0;
    for (size_t i = 0; i < NEVENTS; i++) {
        bool is_event_1 = s[i] == (mp_sentinel)events[1];
        assert_int_equal(ready[i], is_event_1);
        want += is_event_1;
    }
    assert_int_equal(n, want);
    close_events(events, NEVENTS);
}

static void bad_handle_is_an_error(void **state)
{
    (void)state;
    mp_sentinel s[NEVENTS];
    bool ready[NEVENTS];
    HANDLE *events = make_events(NEVENTS, s);
    /* Above any handle value in use, so waited for by a helper thread. */
    s[150] = (mp_sentinel)(intptr_t)0x7ffffffc;
    int rc = mp_wait(s, NEVENTS, 10.0, ready);
    if (rc >= 0 || rc == MP_ETIMEDOUT)
        fail_msg("mp_wait over a bad handle returned %s (%d)", mp_errname(rc), rc);
    s[0] = s[150];
    rc = mp_wait(s, 10, 10.0, ready);
    if (rc >= 0 || rc == MP_ETIMEDOUT)
        fail_msg("mp_wait over a bad handle returned %s (%d)", mp_errname(rc), rc);
    close_events(events, NEVENTS);
}

static int wait_for_event(const mp_value *args)
{
    (void)args;
    size_t n;
    const mp_os_handle *handles = mp_os_child_handles(&n);
    if (n != 1 || WaitForSingleObject((HANDLE)handles[0], INFINITE) != WAIT_OBJECT_0)
        return 10;
    return 3;
}
MP_TARGET(wait_for_event)

static int return_five(const mp_value *args)
{
    (void)args;
    return 5;
}
MP_TARGET(return_five)

static void sentinels_of_many_children(void **state)
{
    (void)state;
    enum { QUICK = 57 };
    HANDLE release = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(release);
    mp_process *p[NCHILDREN];
    mp_sentinel s[NCHILDREN];
    bool ready[NCHILDREN];
    for (size_t i = 0; i < NCHILDREN; i++) {
        size_t index;
        MPT_OK(mp_process_new(&p[i], i == QUICK ? return_five : wait_for_event, NULL, NULL));
        MPT_OK(mp_process_pass_handle(p[i], (mp_os_handle)release, &index));
        MPT_OK(mp_process_start(p[i]));
        MPT_OK(mp_process_sentinel(p[i], &s[i]));
    }
    /* The others wait for release, so the quick one alone can end. */
    assert_int_equal(mp_wait(s, NCHILDREN, MP_FOREVER, ready), 1);
    size_t quick = QUICK;
    assert_ready_exactly(ready, NCHILDREN, &quick, 1);

    SetEvent(release);
    int n;
    do {
        n = mp_wait(s, NCHILDREN, MP_FOREVER, ready);
        assert_true(n >= 1);
    } while (n < NCHILDREN);
    CloseHandle(release);
    for (size_t i = 0; i < NCHILDREN; i++) {
        int code;
        MPT_OK(mp_process_join(p[i], MP_FOREVER));
        MPT_OK(mp_process_exitcode(p[i], &code));
        assert_int_equal(code, i == QUICK ? 5 : 3);
        MPT_OK(mp_process_close(p[i]));
    }
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(each_ready_event_is_found),
        MPT_TEST(nothing_ready_times_out),
        MPT_TEST(repeated_objects_are_reported_each_time),
        MPT_TEST(bad_handle_is_an_error),
        MPT_TEST(sentinels_of_many_children),
    };
    return MPT_RUN(tests);
}

#else

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    return mpt_skip_program("Windows only: it tests the way around WaitForMultipleObjects' 64-handle limit");
}

#endif
