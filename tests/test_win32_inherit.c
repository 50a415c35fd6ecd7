/* test_win32_inherit.c - what a spawned child inherits on Windows: the
 * handles that travel and its std handles, and nothing else, even handles
 * this process made inheritable. */
#include <stdint.h>

#include "harness.h"

#ifdef _WIN32
#include <windows.h>

#include "platform.h"
#include "process/process_internal.h"

/* Inherited handles keep their values, so had the event leaked, this would
 * signal the parent's event. */
static int set_event_by_value(const mp_value *args)
{
    int64_t value;
    int rc = mp_args(args, "q", &value);
    if (rc < 0)
        return rc;
    SetEvent((HANDLE)(intptr_t)value);
    return 0;
}
MP_TARGET(set_event_by_value)

static int set_travelling_event(const mp_value *args)
{
    (void)args;
    size_t n;
    const mp_os_handle *handles = mp_os_child_handles(&n);
    if (n != 1)
        return 10;
    return SetEvent((HANDLE)handles[0]) ? 0 : 11;
}
MP_TARGET(set_travelling_event)

static int stderr_type(const mp_value *args)
{
    int64_t parent_type;
    int rc = mp_args(args, "q", &parent_type);
    if (rc < 0)
        return rc;
    HANDLE h = GetStdHandle(STD_ERROR_HANDLE);
    if (h == NULL || h == INVALID_HANDLE_VALUE)
        return 10;
    return GetFileType(h) == (DWORD)parent_type ? 0 : 11;
}
MP_TARGET(stderr_type)

static int parent_alive(const mp_value *args)
{
    (void)args;
    return 10 + mp_parent_is_alive();
}
MP_TARGET(parent_alive)

static void inheritable_handle_stays_here(void **state)
{
    (void)state;
    SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
    HANDLE event = CreateEventW(&inherit, TRUE, FALSE, NULL);
    assert_non_null(event);
    mp_process *p;
    MPT_OK(mp_process_new(&p, set_event_by_value, NULL, "q", (int64_t)(intptr_t)event));
    assert_int_equal(mpt_run_child(p), 0);
    DWORD seen = WaitForSingleObject(event, 0);
    CloseHandle(event);
    assert_int_equal(seen, WAIT_TIMEOUT);
}

/* The control for the test above: a handle that travels is the same object
 * in the child. */
static void travelling_handle_reaches_child(void **state)
{
    (void)state;
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(event);
    mp_process *p;
    size_t index;
    MPT_OK(mp_process_new(&p, set_travelling_event, NULL, NULL));
    MPT_OK(mp_process_pass_handle(p, (mp_os_handle)event, &index));
    assert_int_equal(index, 0);
    assert_int_equal(mpt_run_child(p), 0);
    DWORD seen = WaitForSingleObject(event, 0);
    CloseHandle(event);
    assert_int_equal(seen, WAIT_OBJECT_0);
}

static void std_handles_reach_child(void **state)
{
    (void)state;
    HANDLE h = GetStdHandle(STD_ERROR_HANDLE);
    if (h == NULL || h == INVALID_HANDLE_VALUE) {
        print_message("this test runs without a stderr to pass on\n");
        skip();
    }
    mp_process *p;
    MPT_OK(mp_process_new(&p, stderr_type, NULL, "q", (int64_t)GetFileType(h)));
    assert_int_equal(mpt_run_child(p), 0);
}

/* The child watches its parent through the process handle the frame gave. */
static void child_sees_parent_alive(void **state)
{
    (void)state;
    mp_process *p;
    MPT_OK(mp_process_new(&p, parent_alive, NULL, NULL));
    assert_int_equal(mpt_run_child(p), 11);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(inheritable_handle_stays_here),
        MPT_TEST(travelling_handle_reaches_child),
        MPT_TEST(std_handles_reach_child),
        MPT_TEST(child_sees_parent_alive),
    };
    return MPT_RUN(tests);
}

#else

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    return mpt_skip_program("Windows only: handle inheritance lists are Windows'");
}

#endif
