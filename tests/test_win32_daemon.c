/* test_win32_daemon.c - on Windows a daemonic child dies with its parent even
 * when the parent is killed by TerminateProcess (the job object), and a
 * non-daemonic one outlives it. */
#include <stdint.h>

#include "harness.h"

#ifdef _WIN32
#include <windows.h>

#include "platform.h"
#include "process/process_internal.h"

/* Generous: only a broken build waits this long. */
#define GRACE_MS 60000

static int sleep_forever(const mp_value *args)
{
    (void)args;
    Sleep(INFINITE);
    return 0;
}
MP_TARGET(sleep_forever)

static int wait_for_orphanhood(const mp_value *args)
{
    (void)args;
    while (mp_parent_is_alive() == 1)
        Sleep(10);
    return 7;
}
MP_TARGET(wait_for_orphanhood)

/* The middle process: start a grandchild, tell the test its pid over the
 * travelling pipe, and wait to be killed. */
static int start_and_hang(const mp_value *args)
{
    bool daemon;
    int rc = mp_args(args, "?", &daemon);
    size_t n;
    const mp_os_handle *handles = mp_os_child_handles(&n);
    if (rc < 0 || n != 1)
        return 20;
    mp_process_options opts = {.daemon = daemon};
    mp_process *child;
    if ((rc = mp_process_new(&child, daemon ? sleep_forever : wait_for_orphanhood, &opts, NULL)) < 0 ||
        (rc = mp_process_start(child)) < 0)
        return rc;
    DWORD pid = (DWORD)mp_process_pid(child), done;
    if (!WriteFile((HANDLE)handles[0], &pid, sizeof pid, &done, NULL))
        return 21;
    CloseHandle((HANDLE)handles[0]);
    Sleep(INFINITE);
    return 0;
}
MP_TARGET(start_and_hang)

/* Start the middle process, open its child, kill the middle process; return
 * the grandchild's handle. */
static HANDLE kill_middle_process(bool daemon)
{
    HANDLE read_end, write_end;
    assert_true(CreatePipe(&read_end, &write_end, NULL, 0));
    mp_process *middle;
    size_t index;
    MPT_OK(mp_process_new(&middle, start_and_hang, NULL, "?", daemon));
    MPT_OK(mp_process_pass_handle(middle, (mp_os_handle)write_end, &index));
    MPT_OK(mp_process_start(middle));
    CloseHandle(write_end);

    DWORD pid = 0, got = 0;
    BOOL read = ReadFile(read_end, &pid, sizeof pid, &got, NULL);
    CloseHandle(read_end);
    HANDLE grandchild =
        read && got == sizeof pid
            ? OpenProcess(SYNCHRONIZE | PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid)
            : NULL;
    MPT_OK(mp_process_kill(middle));
    int code = 0;
    MPT_OK(mp_process_join(middle, MP_FOREVER));
    MPT_OK(mp_process_exitcode(middle, &code));
    MPT_OK(mp_process_close(middle));
    if (grandchild == NULL)
        fail_msg("the middle process did not start its child (exit code %d)", code);
    assert_int_equal(code, -15);
    return grandchild;
}

static void daemonic_child_dies_with_killed_parent(void **state)
{
    (void)state;
    HANDLE grandchild = kill_middle_process(true);
    DWORD ended = WaitForSingleObject(grandchild, GRACE_MS);
    if (ended != WAIT_OBJECT_0)
        TerminateProcess(grandchild, 1);
    CloseHandle(grandchild);
    assert_int_equal(ended, WAIT_OBJECT_0);
}

static void plain_child_outlives_killed_parent(void **state)
{
    (void)state;
    HANDLE grandchild = kill_middle_process(false);
    DWORD ended = WaitForSingleObject(grandchild, GRACE_MS);
    DWORD code = 0;
    if (ended != WAIT_OBJECT_0)
        TerminateProcess(grandchild, 1);
    else
        GetExitCodeProcess(grandchild, &code);
    CloseHandle(grandchild);
    assert_int_equal(ended, WAIT_OBJECT_0);
    /* 7: it ran on, saw its parent gone and returned. */
    assert_int_equal(code, 7);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(daemonic_child_dies_with_killed_parent),
        MPT_TEST(plain_child_outlives_killed_parent),
    };
    return MPT_RUN(tests);
}

#else

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    return mpt_skip_program("Windows only: it tests the job object that ties daemonic children to their "
                            "parent");
}

#endif
