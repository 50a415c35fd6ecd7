/* test_child_exit.c - a child ends as Python's do (process.h, "How a child
 * ends"), under every start method this system has: the atexit handlers the
 * target registers run, last registered first, whether the target returns
 * or calls exit() itself; handlers a fork or forkserver child inherited do
 * not run, while a spawned child runs those of its own start-up; the child
 * waits for its non-daemon threads and not for detached ones, nor for the
 * threads of a ThreadPool it never freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

/* Each child appends marks to a log file named by its argument; the parent
 * reads the log once the child has been joined. The path is set only in
 * children, so the handlers do nothing in the main process. */
static char log_path[512];

static void mark(const char *what)
{
    if (log_path[0] == '\0')
        return;
    FILE *f = fopen(log_path, "a");
    if (f != NULL) {
        fputs(what, f);
        fclose(f);
    }
}

static void handler_1(void)
{
    mark("1");
}

static void handler_2(void)
{
    mark("2");
}

/* Registered before mp_main: spawned children register it again in their
 * own start-up; the forkserver has it, and its children inherit it. */
static void startup_handler(void)
{
    mark("S");
}

/* Registered by the main process after mp_main: only fork children inherit
 * it. */
static void inherited_handler(void)
{
    mark("P");
}

static int take_log_path(const mp_value *args, int *how)
{
    const char *path;
    int rc = mp_args(args, "si", &path, how);
    if (rc < 0)
        return rc;
    snprintf(log_path, sizeof log_path, "%s", path);
    return MP_OK;
}

/* args: the log path, and how to end: 0 return 5, 1 exit(6). */
static int register_and_end(const mp_value *args)
{
    int how;
    int rc = take_log_path(args, &how);
    if (rc < 0)
        return rc;
    if (atexit(handler_1) != 0 || atexit(handler_2) != 0)
        return 100;
    if (how == 1)
        exit(6);
    return 5;
}
MP_TARGET(register_and_end)

static void log_file_for(mp_start_method m, const char *test, char *out, size_t size)
{
    char dir[400];
    mpt_temp_dir(dir, sizeof dir);
    snprintf(out, size, "%s-%s-%s.log", dir, test, mp_start_method_name(m));
    remove(out);
}

/* What a child's log holds at its end: its own marks, then the mark of the
 * handler that a spawned child's own start-up registered. */
static void expected_log(mp_start_method m, const char *own, char *out, size_t size)
{
    snprintf(out, size, "%s%s", own, m == MP_START_SPAWN ? "S" : "");
}

/* The log's content, and the file removed. */
static void read_log(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
    remove(path);
}

static void run_handlers_case(mp_start_method m, int how, int want_code)
{
    char path[512], got[64], want[8];
    log_file_for(m, "atexit", path, sizeof path);
    mp_process *p;
    MPT_OK(mp_process_new(&p, register_and_end, mpt_opts(m), "si", path, how));
    assert_int_equal(mpt_run_child(p), want_code);
    read_log(path, got, sizeof got);
    /* The child's own handlers, last first; never the inherited one. */
    expected_log(m, "21", want, sizeof want);
    if (strcmp(got, want) != 0)
        fail_msg("%s child, %s: handlers ran as \"%s\", expected \"%s\"", mp_start_method_name(m),
                 how ? "exit(6)" : "return 5", got, want);
}

static void atexit_handlers_run_in_child(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++) {
        run_handlers_case(methods[i], 0, 5);
        run_handlers_case(methods[i], 1, 6);
    }
}

/* ---- threads ----------------------------------------------------------- */

static int mark_later(void *arg)
{
    mp_os_sleep(*(const double *)arg);
    mark("T");
    return 0;
}

/* Never joined; held here, as a program would, so that LeakSanitizer at
 * the child's exit sees it reachable. */
static mp_thread *left_running;

/* args: the log path, and 0 for a thread left running, 1 for a detached
 * one. */
static int leave_a_thread(const mp_value *args)
{
    int detached;
    int rc = take_log_path(args, &detached);
    if (rc < 0)
        return rc;
    /* Long enough that a child that does not wait ends first; a detached
     * thread would keep the join waiting for a minute. */
    static const double soon = 0.3, much_later = 60;
    if ((rc = mp_thread_start(&left_running, mark_later, (void *)(detached ? &much_later : &soon), NULL)) < 0)
        return rc;
    if (detached)
        mp_thread_detach(left_running);
    return 0;
}
MP_TARGET(leave_a_thread)

static void non_daemon_threads_are_waited_for(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++) {
        char path[512], got[64], want[8];
        log_file_for(methods[i], "thread", path, sizeof path);
        expected_log(methods[i], "T", want, sizeof want);
        mp_process *p;
        MPT_OK(mp_process_new(&p, leave_a_thread, mpt_opts(methods[i]), "si", path, 0));
        assert_int_equal(mpt_run_child(p), 0);
        read_log(path, got, sizeof got);
        if (strcmp(got, want) != 0)
            fail_msg("%s child ended before its thread: log \"%s\"", mp_start_method_name(methods[i]), got);
    }
}

static void join_within(mp_process *p, double seconds, const char *what)
{
    int rc = mp_process_join(p, seconds);
    if (rc != MP_OK) {
        mp_process_kill(p);
        mp_process_join(p, MP_FOREVER);
        mp_process_close(p);
        fail_msg("%s: the child still ran after %g s", what, seconds);
    }
    int code = -1;
    MPT_OK(mp_process_exitcode(p, &code));
    assert_int_equal(code, 0);
    MPT_OK(mp_process_close(p));
}

static void detached_threads_are_not_waited_for(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++) {
        char path[512], got[64], want[8];
        log_file_for(methods[i], "detached", path, sizeof path);
        expected_log(methods[i], "", want, sizeof want);
        mp_process *p;
        MPT_OK(mp_process_new(&p, leave_a_thread, mpt_opts(methods[i]), "si", path, 1));
        MPT_OK(mp_process_start(p));
        join_within(p, 30, "a detached thread");
        read_log(path, got, sizeof got);
        assert_string_equal(got, want);
    }
}

static int square(const mp_value *args, mp_buf *result)
{
    int64_t x;
    int rc = mp_args(args, "q", &x);
    return rc < 0 ? rc : mp_pack(result, "q", x * x);
}
MP_TASK(square)

/* A ThreadPool's threads are the library's, daemonic as Python's: a child
 * that never frees its pool still ends. */
static int leave_a_thread_pool(const mp_value *args)
{
    (void)args;
    mp_pool *pool;
    int rc = mp_thread_pool_new(&pool, &(mp_pool_options){.processes = 2});
    if (rc < 0)
        return rc;
    mp_value *v = NULL;
    if ((rc = mp_pool_apply(pool, square, &v, "q", (int64_t)7)) < 0)
        return rc;
    mp_value_free(v);
    return 0;
}
MP_TARGET(leave_a_thread_pool)

static void pool_threads_are_not_waited_for(void **state)
{
    (void)state;
    mp_start_method methods[3];
    size_t n = mpt_methods(methods);
    for (size_t i = 0; i < n; i++) {
        mp_process *p;
        MPT_OK(mp_process_new(&p, leave_a_thread_pool, mpt_opts(methods[i]), NULL));
        MPT_OK(mp_process_start(p));
        join_within(p, 30, "a ThreadPool never freed");
    }
}

int main(int argc, char **argv)
{
    atexit(startup_handler);
    mp_main(argc, argv);
    atexit(inherited_handler);
    const struct CMUnitTest tests[] = {
        MPT_TEST(atexit_handlers_run_in_child),
        MPT_TEST(non_daemon_threads_are_waited_for),
        MPT_TEST(detached_threads_are_not_waited_for),
        MPT_TEST(pool_threads_are_not_waited_for),
    };
    return MPT_RUN(tests);
}
