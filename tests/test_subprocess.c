/* test_subprocess.c - Popen and run (mproc/subprocess.h) with a real
 * external program: sp_helper (subprocess_helpers/sp_helper.c), built next
 * to this executable, natively and as a Windows .exe run under Wine. */
#ifndef _WIN32
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix/posix.h"
#endif

/* The path without pidfd (Linux kernels before 5.3) is forced with a
 * seccomp filter that makes pidfd_open fail with ENOSYS, as such a kernel
 * does: no hook in the library. */
#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#ifdef SYS_pidfd_open
#define NO_PIDFD_TEST 1
#endif
#endif

static char helper[4200];

#ifdef _WIN32
#define ON_WINDOWS true
#else
#define ON_WINDOWS false
#endif

static mp_popen *start(const char *const *args, mp_stdio in, mp_stdio out, mp_stdio err)
{
    const char *argv[16] = {helper};
    size_t i = 0;
    for (; args[i] != NULL; i++)
        argv[i + 1] = args[i];
    argv[i + 1] = NULL;
    mp_popen_options o = MP_POPEN_OPTIONS_INIT;
    o.stdin_ = in;
    o.stdout_ = out;
    o.stderr_ = err;
    mp_popen *p = NULL;
    MPT_OK(mp_popen_new(&p, argv, &o));
    assert_non_null(p);
    return p;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void not_found_is_enoent(void **state)
{
    (void)state;
    mp_popen *p = (mp_popen *)1;
    const char *missing[] = {"/no/such/dir/program", NULL};
    MPT_CODE(mp_popen_new(&p, missing, NULL), MP_ENOENT);
    assert_null(p);
    const char *unknown[] = {"mproc-no-such-program-x7", NULL};
    MPT_CODE(mp_popen_new(&p, unknown, NULL), MP_ENOENT);
    assert_non_null(strstr(mp_last_error(), "mproc-no-such-program-x7"));
    const char *argv[] = {helper, "exit", "0", NULL};
    mp_popen_options o = MP_POPEN_OPTIONS_INIT;
    o.cwd = "/no/such/dir";
    MPT_CODE(mp_popen_new(&p, argv, &o), MP_ENOENT);
    const char *empty[] = {NULL};
    MPT_CODE(mp_popen_new(&p, empty, NULL), MP_EINVAL);
    o = (mp_popen_options)MP_POPEN_OPTIONS_INIT;
    o.stdout_ = MP_STDIO_STDOUT;
    MPT_CODE(mp_popen_new(&p, argv, &o), MP_EINVAL);
#ifndef _WIN32
    char path[256];
    snprintf(path, sizeof path, "/tmp/mproc-sp-noexec-%ld", (long)getpid());
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
    close(fd);
    const char *noexec[] = {path, NULL};
    MPT_CODE(mp_popen_new(&p, noexec, NULL), MP_EPERM);
    unlink(path);
#endif
}

static void echo_lines(void **state)
{
    (void)state;
    mp_popen *p = start(ARGS("echo"), MP_STDIO_PIPE, MP_STDIO_PIPE, MP_STDIO_INHERIT);
    assert_true(mp_popen_pid(p) > 0);
    char line[64];
    size_t len;
    for (int i = 0; i < 50; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "hello %d\n", i);
        size_t written;
        MPT_OK(mp_popen_write(p, msg, (size_t)n, 5, &written));
        assert_int_equal(written, n);
        MPT_OK(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 5, &len));
        assert_string_equal(line, msg);
        assert_int_equal(len, n);
    }
    int rc;
    MPT_CODE(mp_popen_poll(p, &rc), MP_ETIMEDOUT);
    MPT_OK(mp_popen_close_stdin(p));
    MPT_OK(mp_popen_close_stdin(p));
    MPT_CODE(mp_popen_write(p, "x", 1, 1, NULL), MP_ESTATE);
    MPT_CODE(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 5, &len), MP_EEOF);
    MPT_CODE(mp_popen_read(p, MP_POPEN_STDERR, line, sizeof line, 5, &len), MP_ESTATE);
    MPT_OK(mp_popen_wait(p, 10, &rc));
    assert_int_equal(rc, 0);
    MPT_OK(mp_popen_poll(p, &rc));
    assert_int_equal(rc, 0);
    mp_popen_free(p);
}

static void write_to_dead_program_is_eeof(void **state)
{
    (void)state;
    mp_popen *p = start(ARGS("exit", "0"), MP_STDIO_PIPE, MP_STDIO_INHERIT, MP_STDIO_INHERIT);
    int rc;
    MPT_OK(mp_popen_wait(p, 10, &rc));
    size_t big = 1 << 20;
    char *data = calloc(1, big);
    size_t written = 1;
    MPT_CODE(mp_popen_write(p, data, big, 5, &written), MP_EEOF);
    assert_true(written < big);
    MPT_CODE(mp_popen_write(p, data, 10, 5, &written), MP_EEOF);
    free(data);
    mp_popen_free(p);
}

static void flood_does_not_deadlock(void **state)
{
    (void)state;
    enum { N = 256 * 1024 };
    mp_popen *p = start(ARGS("flood", "262144"), MP_STDIO_PIPE, MP_STDIO_PIPE, MP_STDIO_PIPE);
    char *input = malloc(N);
    memset(input, 'i', N);
    char *out, *err;
    size_t out_len, err_len;
    MPT_OK(mp_popen_communicate(p, input, N, 60, &out, &out_len, &err, &err_len));
    assert_int_equal(err_len, N);
    assert_int_equal(strspn(err, "e"), N);
    assert_true(out_len > N);
    assert_int_equal(strspn(out, "o"), N);
    assert_string_equal(out + N, "\nin=262144\n");
    int rc;
    MPT_OK(mp_popen_poll(p, &rc));
    assert_int_equal(rc, 0);
    free(out);
    free(err);
    free(input);
    mp_popen_free(p);
}

static void communicate_ten_megabytes(void **state)
{
    (void)state;
    size_t n = 10u << 20;
    unsigned char *input = malloc(n);
    for (size_t i = 0; i < n; i++)
        input[i] = (unsigned char)(i * 7 + (i >> 12));
    mp_popen *p = start(ARGS("cat"), MP_STDIO_PIPE, MP_STDIO_PIPE, MP_STDIO_INHERIT);
    char *out;
    size_t out_len;
    MPT_OK(mp_popen_communicate(p, input, n, 120, &out, &out_len, NULL, NULL));
    assert_int_equal(out_len, n);
    assert_true(memcmp(out, input, n) == 0);
    assert_int_equal(out[n], '\0');
    free(out);
    free(input);
    mp_popen_free(p);
}

static void communicate_timeout_then_again(void **state)
{
    (void)state;
    size_t n = 1u << 20;
    unsigned char *input = malloc(n);
    for (size_t i = 0; i < n; i++)
        input[i] = (unsigned char)(i % 251);
    unsigned char *copy = malloc(n);
    memcpy(copy, input, n);
    mp_popen *p = start(ARGS("sleepcat", "1"), MP_STDIO_PIPE, MP_STDIO_PIPE, MP_STDIO_PIPE);
    char *out = (char *)1, *err = (char *)1;
    size_t out_len, err_len;
    double t0 = mp_os_monotonic();
    MPT_CODE(mp_popen_communicate(p, input, n, 0.2, &out, &out_len, &err, &err_len), MP_ETIMEDOUT);
    assert_true(mp_os_monotonic() - t0 < 0.9);
    assert_null(out);
    int rc;
    MPT_CODE(mp_popen_poll(p, &rc), MP_ETIMEDOUT);
    memset(input, 0, n); /* the second call must not need it */
    free(input);
    MPT_OK(mp_popen_communicate(p, NULL, 0, 60, &out, &out_len, &err, &err_len));
    assert_int_equal(out_len, n);
    assert_true(memcmp(out, copy, n) == 0);
    assert_int_equal(err_len, 0);
    assert_string_equal(err, "");
    MPT_OK(mp_popen_poll(p, &rc));
    assert_int_equal(rc, 0);
    free(out);
    free(err);
    free(copy);
    mp_popen_free(p);
}

static void read_and_readline_timeouts(void **state)
{
    (void)state;
    mp_popen *p = start(ARGS("slowline"), MP_STDIO_PIPE, MP_STDIO_PIPE, MP_STDIO_INHERIT);
    char line[64];
    size_t len = 99;
    double t0 = mp_os_monotonic();
    MPT_CODE(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 0.2, &len), MP_ETIMEDOUT);
    assert_true(mp_os_monotonic() - t0 < 0.9);
    assert_int_equal(len, 0);
    /* What came ("part") stays for the next call; a small buffer is too big a line. */
    char small[4];
    MPT_CODE(mp_popen_readline(p, MP_POPEN_STDOUT, small, sizeof small, 0.05, &len), MP_ETOOBIG);
    MPT_OK(mp_popen_read(p, MP_POPEN_STDOUT, small, 2, 0, &len));
    assert_int_equal(len, 2);
    assert_memory_equal(small, "pa", 2);
    MPT_OK(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 10, &len));
    assert_string_equal(line, "rtial\n");
    MPT_CODE(mp_popen_read(p, MP_POPEN_STDOUT, line, sizeof line, 0.1, &len), MP_ETIMEDOUT);
    MPT_CODE(mp_popen_read(p, MP_POPEN_STDOUT, line, sizeof line, 0, &len), MP_ETIMEDOUT);
    MPT_OK(mp_popen_close_stdin(p));
    MPT_CODE(mp_popen_read(p, MP_POPEN_STDOUT, line, sizeof line, 10, &len), MP_EEOF);
    int rc;
    MPT_OK(mp_popen_wait(p, 10, &rc));
    assert_int_equal(rc, 0);
    mp_popen_free(p);
}

static void last_line_without_newline(void **state)
{
    (void)state;
    mp_popen *p = start(ARGS("cat"), MP_STDIO_PIPE, MP_STDIO_PIPE, MP_STDIO_INHERIT);
    MPT_OK(mp_popen_write(p, "one\ntwo", 7, 5, NULL));
    MPT_OK(mp_popen_close_stdin(p));
    char line[16];
    size_t len;
    MPT_OK(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 10, &len));
    assert_string_equal(line, "one\n");
    MPT_OK(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 10, &len));
    assert_string_equal(line, "two");
    assert_int_equal(len, 3);
    MPT_CODE(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 10, &len), MP_EEOF);
    mp_popen_free(p);
}

static void returncodes(void **state)
{
    (void)state;
    int rc;
    mp_popen *p = start(ARGS("exit", "3"), MP_STDIO_INHERIT, MP_STDIO_INHERIT, MP_STDIO_INHERIT);
    MPT_OK(mp_popen_wait(p, 10, &rc));
    assert_int_equal(rc, 3);
    MPT_OK(mp_popen_terminate(p)); /* ended: nothing happens */
    MPT_OK(mp_popen_wait(p, 0, &rc));
    assert_int_equal(rc, 3);
    mp_popen_free(p);

    p = start(ARGS("sleep", "30"), MP_STDIO_INHERIT, MP_STDIO_INHERIT, MP_STDIO_INHERIT);
    double t0 = mp_os_monotonic();
    MPT_CODE(mp_popen_wait(p, 0.2, &rc), MP_ETIMEDOUT);
    assert_true(mp_os_monotonic() - t0 >= 0.19);
    MPT_CODE(mp_popen_poll(p, &rc), MP_ETIMEDOUT);
    MPT_OK(mp_popen_terminate(p));
    MPT_OK(mp_popen_wait(p, 10, &rc));
    assert_int_equal(rc, -15);
    mp_popen_free(p);

    p = start(ARGS("sleep", "30"), MP_STDIO_INHERIT, MP_STDIO_INHERIT, MP_STDIO_INHERIT);
    MPT_OK(mp_popen_kill(p));
    MPT_OK(mp_popen_wait(p, 10, &rc));
    assert_int_equal(rc, ON_WINDOWS ? -15 : -9);
    mp_popen_free(p);

    p = start(ARGS("sleep", "30"), MP_STDIO_INHERIT, MP_STDIO_INHERIT, MP_STDIO_INHERIT);
#ifdef _WIN32
    MPT_CODE(mp_popen_send_signal(p, 2), MP_EUNSUPPORTED);
#else
    MPT_OK(mp_popen_send_signal(p, 2));
    MPT_OK(mp_popen_wait(p, 10, &rc));
    assert_int_equal(rc, -2);
#endif
    mp_popen_free(p);
}

static void sentinel_with_a_connection(void **state)
{
    (void)state;
    mp_conn *a, *b;
    MPT_OK(mp_pipe(false, &a, &b));
    mp_popen *p = start(ARGS("sleep", "0.3"), MP_STDIO_INHERIT, MP_STDIO_INHERIT, MP_STDIO_INHERIT);
    mp_sentinel s[2];
    MPT_OK(mp_conn_fileno(a, &s[0]));
    MPT_OK(mp_popen_sentinel(p, &s[1]));
    bool ready[2];
    MPT_CODE(mp_wait(s, 2, 0.05, ready), MP_ETIMEDOUT);
    assert_int_equal(mp_wait(s, 2, 20, ready), 1);
    assert_false(ready[0]);
    assert_true(ready[1]);
    int rc;
    MPT_OK(mp_popen_poll(p, &rc));
    assert_int_equal(rc, 0);
    mp_popen_free(p);
    mp_conn_close(a);
    mp_conn_close(b);
}

static long read_pid(mp_popen *p)
{
    char line[32];
    size_t len;
    MPT_OK(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 20, &len));
    long pid = atol(line);
    assert_true(pid > 0);
    return pid;
}

static void grandchild_does_not_hold_up_wait(void **state)
{
    (void)state;
    mp_popen *p = start(ARGS("grandchild"), MP_STDIO_INHERIT, MP_STDIO_PIPE, MP_STDIO_INHERIT);
    long gc = read_pid(p);
    int rc;
    double t0 = mp_os_monotonic();
    MPT_OK(mp_popen_wait(p, 20, &rc));
    assert_int_equal(rc, 0);
    assert_true(mp_os_monotonic() - t0 < 10);
    /* The pipe stays open in the grandchild. */
    char buf[8];
    size_t got;
    MPT_CODE(mp_popen_read(p, MP_POPEN_STDOUT, buf, sizeof buf, 0.1, &got), MP_ETIMEDOUT);
    mpt_kill_pid(gc);
    assert_true(mpt_wait_pid_gone(gc, 10));
    mp_popen_free(p);
}

static void free_kills_the_group(void **state)
{
    (void)state;
    mp_popen *p = start(ARGS("tree"), MP_STDIO_INHERIT, MP_STDIO_PIPE, MP_STDIO_INHERIT);
    long gc = read_pid(p);
    long pid = mp_popen_pid(p);
    mp_popen_free(p);
    assert_true(mpt_wait_pid_gone(pid, 10));
    assert_true(mpt_wait_pid_gone(gc, 10));
}

static char *lines_of(const char *const *v)
{
    size_t n = 1;
    for (size_t i = 0; v[i] != NULL; i++)
        n += strlen(v[i]) + 1;
    char *s = malloc(n);
    s[0] = '\0';
    for (size_t i = 0; v[i] != NULL; i++) {
        strcat(s, v[i]);
        strcat(s, "\n");
    }
    return s;
}

static void argv_round_trips(void **state)
{
    (void)state;
    const char *const args[] = {"args", "plain", "with space", "", "\"quoted\"", "a\\b", "trailing\\",
                                "\\\"mixed\\\\\" x", "tab\there", "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93", "*", "",
                                NULL};
    mp_popen *p = start(args, MP_STDIO_INHERIT, MP_STDIO_PIPE, MP_STDIO_INHERIT);
    char *out;
    size_t len;
    MPT_OK(mp_popen_communicate(p, NULL, 0, 20, &out, &len, NULL, NULL));
    char *want = lines_of(args + 1);
    assert_string_equal(out, want);
    free(want);
    free(out);
    mp_popen_free(p);
}

static char *run_out(const char *const *argv, const mp_popen_options *po)
{
    mp_run_options o = {*po, true, true};
    mp_completed c;
    MPT_OK(mp_run(argv, &o, NULL, 0, 20, &c));
    char *out = c.out;
    c.out = NULL;
    mp_completed_free(&c);
    return out;
}

static void env_and_cwd(void **state)
{
    (void)state;
    mp_popen_options po = MP_POPEN_OPTIONS_INIT;
    const char *extend[] = {"SP_TEST_VAR=v\xc3\xa4rde x", "SP_TEST_OTHER=1", "SP_TEST_OTHER=2", NULL};
    po.env_mode = MP_ENV_EXTEND;
    po.env = extend;
    /* One of this process's own variables that every run has: PATH on
     * POSIX. Under Wine the helper does not always see a PATH even when
     * started directly (Wine derives it from the host's); SystemRoot is
     * always there. */
#ifdef _WIN32
    const char *inherited = "SystemRoot";
#else
    const char *inherited = "PATH";
#endif
    const char *argv[] = {helper, "env", "SP_TEST_VAR", "SP_TEST_OTHER", inherited, NULL};
    char *out = run_out(argv, &po);
    assert_non_null(strstr(out, "SP_TEST_VAR=v\xc3\xa4rde x\n"));
    assert_non_null(strstr(out, "SP_TEST_OTHER=2\n"));
    char unset[64];
    snprintf(unset, sizeof unset, "%s unset", inherited);
    assert_null(strstr(out, unset));
    free(out);

    char sysroot[1024] = "SystemRoot=C:\\windows";
    const char *sr = getenv("SystemRoot");
    if (sr != NULL)
        snprintf(sysroot, sizeof sysroot, "SystemRoot=%s", sr);
    const char *replace[] = {"SP_ONLY=1", sysroot, NULL};
    po.env_mode = MP_ENV_REPLACE;
    po.env = replace;
    const char *argv2[] = {helper, "env", "SP_ONLY", "PATH", "SP_TEST_VAR", NULL};
    out = run_out(argv2, &po);
    assert_string_equal(out, "SP_ONLY=1\nPATH unset\nSP_TEST_VAR unset\n");
    free(out);

    char dir[1024];
    mpt_temp_dir(dir, sizeof dir);
    po = (mp_popen_options)MP_POPEN_OPTIONS_INIT;
    po.cwd = dir;
#ifdef _WIN32
    CreateDirectoryA(dir, NULL);
#else
    mkdir(dir, 0700);
#endif
    const char *argv3[] = {helper, "cwd", NULL};
    out = run_out(argv3, &po);
    const char *base = strrchr(dir, ON_WINDOWS ? '\\' : '/');
    assert_non_null(base);
    assert_non_null(strstr(out, base + 1));
    free(out);
#ifdef _WIN32
    RemoveDirectoryA(dir);
#else
    rmdir(dir);
#endif
}

/* Only the three standard descriptors reach the program: not one this
 * process left inheritable, nor mproc's own (a Pipe's). */
static void only_std_handles_inherited(void **state)
{
    (void)state;
    mp_conn *a, *b;
    MPT_OK(mp_pipe(true, &a, &b));
#ifndef _WIN32
    int loose = dup(2); /* no close-on-exec */
    assert_true(loose > 2);
#endif
    mp_popen_options po = MP_POPEN_OPTIONS_INIT;
    const char *argv[] = {helper, "fds", NULL};
    char *out = run_out(argv, &po);
    assert_string_equal(out, "0\n");
    free(out);
#ifndef _WIN32
    close(loose);
#endif
    mp_conn_close(a);
    mp_conn_close(b);
}

#ifdef _WIN32
/* Have the "setevent" helper SetEvent the handle value v; its answer. */
static void set_in_program(mp_popen *p, HANDLE v, char *answer, size_t cap)
{
    char line[40];
    int n = snprintf(line, sizeof line, "%llu\n", (unsigned long long)(uintptr_t)v);
    MPT_OK(mp_popen_write(p, line, (size_t)n, 10, NULL));
    size_t len;
    MPT_OK(mp_popen_readline(p, MP_POPEN_STDOUT, answer, cap, 20, &len));
}
#endif

/* Windows: a handle this process made inheritable, created so or
 * duplicated so, does not reach the program; only the three standard
 * handles do (the handle list). An inherited handle keeps its value in the
 * child, so had one of ours leaked, the program's SetEvent on that value
 * would signal our very event. Had it not, the value is invalid there or
 * names an object of the program's own, and ours stays unsignaled: the
 * check cannot be fooled by what the value happens to name in the child.
 * The control: a handle DuplicateHandle'd into the program, which its
 * SetEvent does reach. */
static void only_std_handles_reach_the_program(void **state)
{
    (void)state;
#ifdef _WIN32
    SECURITY_ATTRIBUTES inheritable = {sizeof inheritable, NULL, TRUE};
    HANDLE created = CreateEventW(&inheritable, TRUE, FALSE, NULL);
    HANDLE plain = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(created);
    assert_non_null(plain);
    HANDLE self = GetCurrentProcess(), duplicated = NULL, remote = NULL;
    assert_true(DuplicateHandle(self, plain, self, &duplicated, 0, TRUE, DUPLICATE_SAME_ACCESS));
    DWORD flags = 0;
    assert_true(GetHandleInformation(created, &flags) && (flags & HANDLE_FLAG_INHERIT));
    assert_true(GetHandleInformation(duplicated, &flags) && (flags & HANDLE_FLAG_INHERIT));

    mp_popen *p = start(ARGS("setevent"), MP_STDIO_PIPE, MP_STDIO_PIPE, MP_STDIO_INHERIT);
    char answer[64];
    set_in_program(p, created, answer, sizeof answer);
    assert_int_equal(WaitForSingleObject(created, 0), WAIT_TIMEOUT);
    set_in_program(p, duplicated, answer, sizeof answer);
    assert_int_equal(WaitForSingleObject(plain, 0), WAIT_TIMEOUT);

    HANDLE program = OpenProcess(PROCESS_DUP_HANDLE, FALSE, (DWORD)mp_popen_pid(p));
    assert_non_null(program);
    assert_true(DuplicateHandle(self, created, program, &remote, EVENT_MODIFY_STATE, FALSE, 0));
    CloseHandle(program);
    set_in_program(p, remote, answer, sizeof answer);
    assert_string_equal(answer, "set\n");
    assert_int_equal(WaitForSingleObject(created, 0), WAIT_OBJECT_0);

    MPT_OK(mp_popen_close_stdin(p));
    int rc;
    MPT_OK(mp_popen_wait(p, 20, &rc));
    assert_int_equal(rc, 0);
    mp_popen_free(p);
    CloseHandle(duplicated);
    CloseHandle(plain);
    CloseHandle(created);
#endif
}

#ifndef _WIN32
/* POSIX: the fork path of the start (every system but Linux, where the
 * child borrows this process's memory instead): failures reported through
 * the report pipe, pipes, exit codes. */
static void fork_start_path(void **state)
{
    (void)state;
    mp_posix_use_fork_exec(true);
    mp_popen *p = NULL;
    const char *unknown[] = {"mproc-no-such-program-x7", NULL};
    MPT_CODE(mp_popen_new(&p, unknown, NULL), MP_ENOENT);
    const char *argv[] = {helper, "exit", "0", NULL};
    mp_popen_options o = MP_POPEN_OPTIONS_INIT;
    o.cwd = "/no/such/dir";
    MPT_CODE(mp_popen_new(&p, argv, &o), MP_ENOENT);
    p = start(ARGS("echo"), MP_STDIO_PIPE, MP_STDIO_PIPE, MP_STDIO_INHERIT);
    mp_posix_use_fork_exec(false);
    MPT_OK(mp_popen_write(p, "fork\n", 5, 10, NULL));
    char line[16];
    size_t len;
    MPT_OK(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 20, &len));
    assert_string_equal(line, "fork\n");
    MPT_OK(mp_popen_close_stdin(p));
    int rc;
    MPT_OK(mp_popen_wait(p, 20, &rc));
    assert_int_equal(rc, 0);
    mp_popen_free(p);
}
#endif

#ifdef NO_PIDFD_TEST
enum { NO_PIDFD_SKIP = 77 };

/* Make pidfd_open fail with ENOSYS in this process and what it starts from
 * now on. false if seccomp filters are not allowed here. */
static bool deny_pidfd_open(void)
{
#ifdef __x86_64__
    const unsigned arch = AUDIT_ARCH_X86_64;
#else
    const unsigned arch = AUDIT_ARCH_AARCH64;
#endif
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof filter / sizeof filter[0], filter};
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/* In a forked child, since the filter cannot be taken off again: cmocka's
 * asserts would jump back into the child's copy of the runner, so a failed
 * check says which on stderr and the child exits with 10. */
#define NP_CHECK(cond)                                                                                       \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            fprintf(stderr, "without_pidfd: line %d: %s (last error: %s)\n", __LINE__, #cond,                \
                    mp_last_error());                                                                        \
            return 10;                                                                                       \
        }                                                                                                    \
    } while (0)

static int without_pidfd(const mp_value *args)
{
    (void)args;
    if (!deny_pidfd_open())
        return NO_PIDFD_SKIP;
    errno = 0;
    NP_CHECK(syscall(SYS_pidfd_open, getpid(), 0) == -1 && errno == ENOSYS);
    int rc = -1;
    mp_popen *p;

    /* wait and poll, by waitpid: timeouts, then the exit soon after it. */
    const char *sleeper[] = {helper, "sleep", "0.5", NULL};
    double t0 = mp_os_monotonic();
    NP_CHECK(mp_popen_new(&p, sleeper, NULL) == MP_OK);
    mp_sentinel s;
    NP_CHECK(mp_popen_sentinel(p, &s) == MP_EUNSUPPORTED); /* the path is the one without pidfd */
    NP_CHECK(mp_popen_poll(p, &rc) == MP_ETIMEDOUT);
    double t1 = mp_os_monotonic();
    NP_CHECK(mp_popen_wait(p, 0, &rc) == MP_ETIMEDOUT);
    NP_CHECK(mp_popen_wait(p, -1, &rc) == MP_ETIMEDOUT);
    NP_CHECK(mp_os_monotonic() - t1 < 0.1);
    t1 = mp_os_monotonic();
    NP_CHECK(mp_popen_wait(p, 0.1, &rc) == MP_ETIMEDOUT);
    double waited = mp_os_monotonic() - t1;
    NP_CHECK(waited >= 0.099 && waited < 0.4);
    NP_CHECK(mp_popen_wait(p, 20, &rc) == MP_OK && rc == 0);
    waited = mp_os_monotonic() - t0;
    NP_CHECK(waited >= 0.49 && waited < 5);
    NP_CHECK(mp_popen_poll(p, &rc) == MP_OK && rc == 0);
    mp_popen_free(p);

    /* returncodes */
    const char *three[] = {helper, "exit", "3", NULL};
    NP_CHECK(mp_popen_new(&p, three, NULL) == MP_OK);
    NP_CHECK(mp_popen_wait(p, 20, &rc) == MP_OK && rc == 3);
    mp_popen_free(p);
    const char *forever[] = {helper, "sleep", "30", NULL};
    NP_CHECK(mp_popen_new(&p, forever, NULL) == MP_OK);
    NP_CHECK(mp_popen_terminate(p) == MP_OK);
    NP_CHECK(mp_popen_wait(p, 20, &rc) == MP_OK && rc == -15);
    NP_CHECK(mp_popen_kill(p) == MP_OK); /* ended: nothing happens */
    mp_popen_free(p);
    NP_CHECK(mp_popen_new(&p, forever, NULL) == MP_OK);
    NP_CHECK(mp_popen_kill(p) == MP_OK);
    NP_CHECK(mp_popen_wait(p, 20, &rc) == MP_OK && rc == -9);
    mp_popen_free(p);

    /* A grandchild holding stdout does not hold up wait. */
    mp_popen_options o = MP_POPEN_OPTIONS_INIT;
    o.stdout_ = MP_STDIO_PIPE;
    const char *grandchild[] = {helper, "grandchild", NULL};
    NP_CHECK(mp_popen_new(&p, grandchild, &o) == MP_OK);
    char line[32];
    size_t len;
    NP_CHECK(mp_popen_readline(p, MP_POPEN_STDOUT, line, sizeof line, 20, &len) == MP_OK);
    long gc = atol(line);
    NP_CHECK(gc > 0);
    rc = mp_popen_wait(p, 20, &rc) == MP_OK && rc == 0 ? 0 : -1;
    mpt_kill_pid(gc);
    NP_CHECK(rc == 0);
    NP_CHECK(mpt_wait_pid_gone(gc, 10));
    mp_popen_free(p);

    /* communicate, and run's timeout: killed and reaped. */
    o.stdin_ = MP_STDIO_PIPE;
    const char *cat[] = {helper, "cat", NULL};
    NP_CHECK(mp_popen_new(&p, cat, &o) == MP_OK);
    char *out = NULL;
    NP_CHECK(mp_popen_communicate(p, "no pidfd", 8, 20, &out, &len, NULL, NULL) == MP_OK);
    NP_CHECK(len == 8 && strcmp(out, "no pidfd") == 0);
    free(out);
    NP_CHECK(mp_popen_poll(p, &rc) == MP_OK && rc == 0);
    mp_popen_free(p);
    mp_run_options ro = {MP_POPEN_OPTIONS_INIT, true, false};
    mp_completed c;
    t0 = mp_os_monotonic();
    NP_CHECK(mp_run(forever, &ro, NULL, 0, 0.3, &c) == MP_ETIMEDOUT);
    waited = mp_os_monotonic() - t0;
    NP_CHECK(waited >= 0.29 && waited < 10 && c.returncode == -9);
    mp_completed_free(&c);
    return 0;
}
MP_TARGET(without_pidfd)
#endif

/* POSIX: wait, poll, timeouts and returncodes where the kernel has no
 * pidfd_open (popen.c polls waitpid then), in a child of this test that a
 * seccomp filter denies pidfd_open. Skipped where seccomp is not allowed. */
static void wait_without_pidfd(void **state)
{
    (void)state;
#ifdef NO_PIDFD_TEST
    mp_process *p;
    MPT_OK(mp_process_new(&p, without_pidfd, mpt_opts(MP_START_FORK), NULL));
    int code = mpt_run_child(p);
    if (code == NO_PIDFD_SKIP)
        skip();
    assert_int_equal(code, 0);
#endif
}

static void stdio_modes(void **state)
{
    (void)state;
    mp_popen *p = start(ARGS("both"), MP_STDIO_DEVNULL, MP_STDIO_PIPE, MP_STDIO_STDOUT);
    char *out, *err = (char *)1;
    size_t len;
    MPT_OK(mp_popen_communicate(p, NULL, 0, 20, &out, &len, &err, NULL));
    assert_string_equal(out, "to stdout\nto stderr\n");
    assert_null(err);
    free(out);
    mp_popen_free(p);

    p = start(ARGS("cat"), MP_STDIO_DEVNULL, MP_STDIO_PIPE, MP_STDIO_DEVNULL);
    MPT_CODE(mp_popen_communicate(p, "x", 1, 20, &out, &len, NULL, NULL), MP_ESTATE);
    MPT_OK(mp_popen_communicate(p, NULL, 0, 20, &out, &len, NULL, NULL));
    assert_int_equal(len, 0);
    assert_string_equal(out, "");
    free(out);
    mp_popen_free(p);
}

static void run_capture_check_timeout(void **state)
{
    (void)state;
    mp_run_options o = {MP_POPEN_OPTIONS_INIT, true, false};
    mp_completed c;
    const char *both[] = {helper, "both", NULL};
    MPT_OK(mp_run(both, &o, NULL, 0, 20, &c));
    assert_int_equal(c.returncode, 0);
    assert_string_equal(c.out, "to stdout\n");
    assert_string_equal(c.err, "to stderr\n");
    mp_completed_free(&c);

    const char *cat[] = {helper, "cat", NULL};
    MPT_OK(mp_run(cat, &o, "in and out", 10, 20, &c));
    assert_string_equal(c.out, "in and out");
    assert_int_equal(c.out_len, 10);
    mp_completed_free(&c);

    o.check = true;
    const char *fail[] = {helper, "exit", "3", NULL};
    MPT_CODE(mp_run(fail, &o, NULL, 0, 20, &c), MP_ECALLEDPROCESS);
    assert_int_equal(c.returncode, 3);
    assert_non_null(strstr(mp_last_error(), "exited with 3"));
    mp_completed_free(&c);

    o.capture_output = false;
    const char *ok[] = {helper, "exit", "0", NULL};
    MPT_OK(mp_run(ok, &o, NULL, 0, 20, &c));
    assert_null(c.out);
    assert_null(c.err);
    mp_completed_free(&c);

    o.capture_output = true;
    const char *slow[] = {helper, "sleep", "30", NULL};
    double t0 = mp_os_monotonic();
    MPT_CODE(mp_run(slow, &o, NULL, 0, 0.3, &c), MP_ETIMEDOUT);
    assert_true(mp_os_monotonic() - t0 < 10);
    assert_int_equal(c.returncode, ON_WINDOWS ? -15 : -9);
    mp_completed_free(&c);
}

static void batch_files_are_refused(void **state)
{
    (void)state;
#ifdef _WIN32
    char dir[1024], path[1100];
    mpt_temp_dir(dir, sizeof dir);
    CreateDirectoryA(dir, NULL);
    snprintf(path, sizeof path, "%s\\x.bat", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("@echo off\r\n", f);
    fclose(f);
    mp_popen *p;
    const char *argv[] = {path, NULL};
    MPT_CODE(mp_popen_new(&p, argv, NULL), MP_EUNSUPPORTED);
    snprintf(path, sizeof path, "%s\\X.CMD", dir);
    f = fopen(path, "w");
    fputs("@echo off\r\n", f);
    fclose(f);
    MPT_CODE(mp_popen_new(&p, argv, NULL), MP_EUNSUPPORTED);
    DeleteFileA(path);
    snprintf(path, sizeof path, "%s\\x.bat", dir);
    DeleteFileA(path);
    RemoveDirectoryA(dir);
#endif
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mpt_sibling_path(SP_HELPER_NAME, helper, sizeof helper);
    const struct CMUnitTest tests[] = {
        MPT_TEST(not_found_is_enoent),
        MPT_TEST(echo_lines),
        MPT_TEST(write_to_dead_program_is_eeof),
        MPT_TEST(flood_does_not_deadlock),
        MPT_TEST(communicate_ten_megabytes),
        MPT_TEST(communicate_timeout_then_again),
        MPT_TEST(read_and_readline_timeouts),
        MPT_TEST(last_line_without_newline),
        MPT_TEST(returncodes),
        MPT_TEST(sentinel_with_a_connection),
        MPT_TEST(grandchild_does_not_hold_up_wait),
        MPT_TEST(free_kills_the_group),
        MPT_TEST(argv_round_trips),
        MPT_TEST(env_and_cwd),
        MPT_TEST(only_std_handles_inherited),
        MPT_TEST(only_std_handles_reach_the_program),
#ifndef _WIN32
        MPT_TEST(fork_start_path),
#endif
        MPT_TEST(wait_without_pidfd),
        MPT_TEST(stdio_modes),
        MPT_TEST(run_capture_check_timeout),
        MPT_TEST(batch_files_are_refused),
    };
    return MPT_RUN(tests);
}
