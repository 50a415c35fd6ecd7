/* test_daemon_at_exit.c - a process that ends normally takes its daemonic
 * children with it, as Python's do (process.h, "How a child ends"): its
 * exit terminates and joins them. Seen from outside, under every start
 * method this system has: a child whose target returns or calls exit(),
 * and the main process of a program returning from main(), each leave a
 * daemonic child that would sleep on for minutes; once the parent has ended
 * without hanging, that child must be gone too.
 *
 * On POSIX a daemonic child also dies by SIGKILL when its parent is gone
 * (Linux's death signal; the forkserver kills those of a requester that
 * went away). So the daemonic child here leaves a mark when SIGTERM comes,
 * and the test asks for the mark: the parent's exit terminated it, a net
 * did not merely kill it. On Windows the job object is that net; there the
 * test shows the exit does not hang on a daemonic child it failed to end. */
#ifndef _WIN32
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#endif

#include "harness.h"
#include "platform.h"

/* Far longer than the test runs: only its parent's exit ends it early. */
#define DAEMON_SLEEP 300.0
/* Generous bounds; only a broken build waits this long. */
#define PARENT_LIMIT 30.0
#define GONE_LIMIT 10.0
#define MAIN_FLAG "--leave-daemonic-child"

#ifndef _WIN32
static int mark_fd = -1;

static void mark_terminated(int sig)
{
    ssize_t n = write(mark_fd, "T", 1);
    (void)n;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Write a mark to path when SIGTERM comes, then die of it all the same. */
static int mark_on_sigterm(const char *path)
{
    mark_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (mark_fd < 0)
        return mp_raise(MP_EOS, "cannot open %s", path);
    struct sigaction sa = {.sa_handler = mark_terminated};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0)
        return mp_raise(MP_EOS, "sigaction(SIGTERM) failed");
    return MP_OK;
}

/* Whether the daemonic child left its mark; the file is removed. */
static bool marked(const char *path)
{
    char got = 0;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fread(&got, 1, 1, f) != 1)
            got = 0;
        fclose(f);
    }
    remove(path);
    return got == 'T';
}
#endif

/* The daemonic child: arm the mark, say its pid, sleep. */
static int sleep_on(const mp_value *args)
{
    mp_conn *to_parent;
    const char *mark_path;
    int rc = mp_args(args, "Os", &to_parent, &mark_path);
#ifndef _WIN32
    if (rc == MP_OK)
        rc = mark_on_sigterm(mark_path);
#endif
    if (rc < 0 || (rc = mp_conn_send(to_parent, "q", (int64_t)mp_current_pid())) < 0)
        return rc;
    mp_os_sleep(DAEMON_SLEEP);
    return 0;
}
MP_TARGET(sleep_on)

/* Receive a pid from c within PARENT_LIMIT seconds. */
static int receive_pid(mp_conn *c, long *pid)
{
    int rc = mp_conn_poll(c, PARENT_LIMIT);
    mp_value *v = NULL;
    int64_t got = 0;
    if (rc == MP_OK && (rc = mp_conn_recv(c, &v)) == MP_OK)
        rc = mp_unpack(v, "q", &got);
    mp_value_free(v);
    *pid = (long)got;
    return rc;
}

/* Start a daemonic child under method and return its pid once it is ready
 * to leave its mark. The process object is left to this process's exit,
 * which is what is tested. */
static int start_daemonic_child(mp_start_method method, const char *mark_path, long *pid)
{
    mp_process_options opts = {.daemon = true};
    int rc = mp_get_context(method, &opts.context);
    mp_conn *from_child = NULL, *to_parent = NULL;
    if (rc == MP_OK)
        rc = mp_pipe(false, &from_child, &to_parent);
    mp_process *child = NULL;
    if (rc == MP_OK && (rc = mp_process_new(&child, sleep_on, &opts, "Os", to_parent, mark_path)) == MP_OK &&
        (rc = mp_process_start(child)) != MP_OK)
        mp_process_close(child);
    mp_conn_close(to_parent);
    if (rc == MP_OK)
        rc = receive_pid(from_child, pid);
    mp_conn_close(from_child);
    return rc;
}

/* A file name of this test's for one case and one purpose. */
static void case_file(mp_start_method m, const char *tag, const char *purpose, char *out, size_t size)
{
    char dir[400];
    mpt_temp_dir(dir, sizeof dir);
    snprintf(out, size, "%s-daemon-%s-%s.%s", dir, mp_start_method_name(m), tag, purpose);
    remove(out);
}

/* The daemonic child of a parent that ended normally must be gone, and
 * (POSIX) terminated by that parent's exit; killed if still there. */
static void expect_terminated(long pid, const char *mark_path, const char *what)
{
    if (!mpt_wait_pid_gone(pid, GONE_LIMIT)) {
        mpt_kill_pid(pid);
        remove(mark_path);
        fail_msg("%s: its daemonic child %ld still ran %g s after it ended normally", what, pid, GONE_LIMIT);
    }
#ifndef _WIN32
    if (!marked(mark_path))
        fail_msg("%s: its daemonic child %ld was killed, not terminated: it never got SIGTERM", what, pid);
#endif
}

/* ---- a child that ends normally ----------------------------------------- */

#define RETURNED 0
#define EXITED 3

/* The parent, a child of the test: start a daemonic child under the same
 * method, pass its pid on to the test, then end as told: 0 returns
 * RETURNED, 1 calls exit(EXITED). */
static int leave_daemonic_child(const mp_value *args)
{
    mp_conn *to_test;
    const char *mark_path;
    int method, how;
    long pid = 0;
    int rc = mp_args(args, "Osii", &to_test, &mark_path, &method, &how);
    if (rc < 0 || (rc = start_daemonic_child((mp_start_method)method, mark_path, &pid)) < 0 ||
        (rc = mp_conn_send(to_test, "q", (int64_t)pid)) < 0)
        return rc;
    if (how == 1)
        exit(EXITED);
    return RETURNED;
}
MP_TARGET(leave_daemonic_child)

static void child_case(mp_start_method m, int how)
{
    char what[64], mark_path[512];
    snprintf(what, sizeof what, "%s child %s", mp_start_method_name(m), how ? "calling exit()" : "returning");
    case_file(m, how ? "exit" : "return", "mark", mark_path, sizeof mark_path);
    mp_conn *from_parent, *to_test;
    MPT_OK(mp_pipe(false, &from_parent, &to_test));
    mp_process *parent;
    MPT_OK(mp_process_new(&parent, leave_daemonic_child, mpt_opts(m), "Osii", to_test, mark_path, (int)m, how));
    MPT_OK(mp_process_start(parent));
    MPT_OK(mp_conn_close(to_test));
    long pid = 0;
    int got = receive_pid(from_parent, &pid);
    MPT_OK(mp_conn_close(from_parent));
    int joined = got == MP_OK ? mp_process_join(parent, PARENT_LIMIT) : got;
    if (joined != MP_OK) {
        mp_process_kill(parent);
        mp_process_join(parent, MP_FOREVER);
        mp_process_close(parent);
        if (pid > 0)
            mpt_kill_pid(pid);
        remove(mark_path);
        if (got != MP_OK)
            fail_msg("%s: did not report its daemonic child's pid: %s", what, mp_errname(got));
        fail_msg("%s: still ran %g s after its target ended; its exit waits for a daemonic child it did not "
                 "terminate?",
                 what, PARENT_LIMIT);
    }
    int code = -1;
    MPT_OK(mp_process_exitcode(parent, &code));
    MPT_OK(mp_process_close(parent));
    expect_terminated(pid, mark_path, what);
    assert_int_equal(code, how ? EXITED : RETURNED);
}

static void child_takes_daemonic_child_along(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++) {
        child_case(methods[i], 0);
        child_case(methods[i], 1);
    }
}

/* ---- a main process returning from main() -------------------------------- */

/* Run as a program of its own (mpt_exec_self): start a daemonic child,
 * write its pid to pid_file, return from main. */
static int main_leaves_daemonic_child(const char *method_name, const char *mark_path, const char *pid_file)
{
    mp_start_method method;
    long pid = 0;
    if (mp_start_method_parse(method_name, &method) != MP_OK)
        return 20;
    if (start_daemonic_child(method, mark_path, &pid) != MP_OK)
        return 21;
    FILE *f = fopen(pid_file, "w");
    if (f == NULL)
        return 22;
    fprintf(f, "%ld\n", pid);
    return fclose(f) == 0 ? 0 : 23;
}

static long read_pid(const char *path)
{
    long pid = 0;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    remove(path);
    return pid;
}

static void main_case(mp_start_method m)
{
    char what[64], mark_path[512], pid_file[512];
    snprintf(what, sizeof what, "a %s program returning from main()", mp_start_method_name(m));
    case_file(m, "main", "mark", mark_path, sizeof mark_path);
    case_file(m, "main", "pid", pid_file, sizeof pid_file);
    const char *args[] = {MAIN_FLAG, mp_start_method_name(m), mark_path, pid_file};
    int code = mpt_exec_self(NULL, args, 4, PARENT_LIMIT);
    long pid = read_pid(pid_file);
    if (code == MPT_EXEC_TIMEDOUT) {
        if (pid > 0)
            mpt_kill_pid(pid);
        remove(mark_path);
        fail_msg("%s: still ran %g s after; its exit waits for a daemonic child it did not terminate?", what,
                 PARENT_LIMIT);
    }
    if (code != 0 || pid <= 0) {
        remove(mark_path);
        fail_msg("%s: exit code %d, daemonic child's pid %ld", what, code, pid);
    }
    expect_terminated(pid, mark_path, what);
}

static void main_takes_daemonic_child_along(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++)
        main_case(methods[i]);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    if (argc == 5 && strcmp(argv[1], MAIN_FLAG) == 0)
        return main_leaves_daemonic_child(argv[2], argv[3], argv[4]);
    const struct CMUnitTest tests[] = {
        MPT_TEST(child_takes_daemonic_child_along),
        MPT_TEST(main_takes_daemonic_child_along),
    };
    return MPT_RUN(tests);
}
