/* test_program_pool.c - a pool of long-lived external programs
 * (mproc/program_pool.h) with a real program: pp_worker
 * (subprocess_helpers/pp_worker.c), built next to this executable,
 * natively and as a Windows .exe run under Wine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"


static char worker[4200];

#ifdef _WIN32
#define ON_WINDOWS true
#else
#define ON_WINDOWS false
#endif

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* A pool of n pp_worker programs with these options after argv[0]. */
static mp_pool *start_pool(int n, const char *const *args, mp_program_pool_options o)
{
    const char *argv[16] = {worker};
    size_t i = 0;
    for (; args[i] != NULL; i++)
        argv[i + 1] = args[i];
    argv[i + 1] = NULL;
    o.argv = argv;
    o.programs = n;
    mp_pool *pool = NULL;
    MPT_OK(mp_program_pool_new(&pool, &o));
    assert_non_null(pool);
    return pool;
}

static void end_pool(mp_pool *pool)
{
    MPT_OK(mp_pool_close(pool));
    MPT_OK(mp_pool_join(pool, 60));
    mp_pool_free(pool);
}

/* apply(task) must give the str want. */
static void expect_reply(mp_pool *pool, const char *task, const char *want)
{
    mp_value *v = NULL;
    MPT_OK(mp_pool_apply(pool, NULL, &v, "s", task));
    assert_int_equal(v->type, MP_STR);
    assert_int_equal(v->as.str.len, strlen(want));
    assert_memory_equal(v->as.str.ptr, want, strlen(want));
    mp_value_free(v);
}

static long program_pid(mp_pool *pool)
{
    mp_value *v = NULL;
    MPT_OK(mp_pool_apply(pool, NULL, &v, "s", "pid"));
    assert_int_equal(v->type, MP_STR);
    long pid = strtol(v->as.str.ptr, NULL, 10);
    mp_value_free(v);
    assert_true(pid > 0);
    return pid;
}

/* apply(task) must fail with code; its error is copied to *err. */
static void expect_failure(mp_pool *pool, const char *task, int code, mp_remote_error *err, char *message,
                           size_t size)
{
    mp_async_result *r = NULL;
    MPT_OK(mp_pool_apply_async(pool, NULL, NULL, &r, "s", task));
    mp_value *v = NULL;
    MPT_CODE(mp_async_result_get(r, 60, &v), code);
    assert_null(v);
    assert_true(mp_async_result_ready(r));
    const mp_remote_error *e = mp_async_result_error(r);
    assert_non_null(e);
    assert_int_equal(e->code, code);
    *err = *e;
    snprintf(message, size, "%s", e->message);
    err->message = message;
    mp_async_result_free(r);
}

static void echo_apply_map_imap(void **state)
{
    (void)state;
    mp_pool *pool = start_pool(2, ARGS("--ready", "ready", "--startup", "0.2"),
                               (mp_program_pool_options){.ready_line = "ready"});
    long pids[4];
    assert_int_equal(mp_pool_pids(pool, pids, 4), 2);
    assert_true(pids[0] > 0 && pids[1] > 0 && pids[0] != pids[1]);
    expect_reply(pool, "hello, world", "hello, world");
    expect_reply(pool, "", "");
    expect_reply(pool, "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac");

    enum { N = 300 };
    mp_buf items = MP_BUF_INIT;
    char text[32];
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "task %d", i);
        MPT_OK(mp_pack(&items, "s", text));
    }
    mp_value *all = NULL;
    MPT_OK(mp_pool_map(pool, NULL, items.data, items.len, 7, &all));
    assert_int_equal(all->type, MP_ARRAY);
    assert_int_equal(all->as.array.len, N);
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "task %d", i);
        assert_int_equal(all->as.array.items[i].as.str.len, strlen(text));
        assert_memory_equal(all->as.array.items[i].as.str.ptr, text, strlen(text));
    }
    mp_value_free(all);

    for (int unordered = 0; unordered < 2; unordered++) {
        mp_imap_iter *it = NULL;
        MPT_OK(unordered ? mp_pool_imap_unordered(pool, NULL, items.data, items.len, NULL, &it)
                         : mp_pool_imap(pool, NULL, items.data, items.len, NULL, &it));
        bool seen[N] = {false};
        for (int i = 0; i < N; i++) {
            mp_value *v = NULL;
            MPT_OK(mp_imap_next(it, 60, &v));
            int k = atoi(v->as.str.ptr + 5);
            assert_true(k >= 0 && k < N && !seen[k]);
            if (!unordered)
                assert_int_equal(k, i);
            seen[k] = true;
            mp_value_free(v);
        }
        mp_value *v = NULL;
        MPT_CODE(mp_imap_next(it, 60, &v), MP_EEOF);
        mp_imap_free(it);
    }
    mp_buf_free(&items);
    end_pool(pool);
}

static void framings_round_trip(void **state)
{
    (void)state;
    /* A length prefix carries any bytes, '\n' and NUL among them. */
    mp_pool *pool =
        start_pool(1, ARGS("--frame", "length"), (mp_program_pool_options){.framing = MP_FRAME_LENGTH});
    const unsigned char blob[] = {'a', '\n', 0, 0xff, '\r', '\n'};
    mp_value *v = NULL;
    MPT_OK(mp_pool_apply(pool, NULL, &v, "y#", blob, sizeof blob));
    assert_int_equal(v->type, MP_BIN);
    assert_int_equal(v->as.bin.len, sizeof blob);
    assert_memory_equal(v->as.bin.ptr, blob, sizeof blob);
    mp_value_free(v);
    /* 1 MiB each way at once: the replies are read while tasks are written. */
    size_t big = (size_t)1 << 20;
    unsigned char *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (unsigned char)(i * 7);
    mp_buf items = MP_BUF_INIT;
    for (int i = 0; i < 4; i++)
        MPT_OK(mp_pack(&items, "y#", data, big));
    MPT_OK(mp_pool_map(pool, NULL, items.data, items.len, 4, &v));
    assert_int_equal(v->as.array.len, 4);
    for (int i = 0; i < 4; i++)
        assert_memory_equal(v->as.array.items[i].as.bin.ptr, data, big);
    mp_value_free(v);
    mp_buf_free(&items);
    free(data);
    end_pool(pool);

    /* MessagePack carries any value. */
    pool = start_pool(2, ARGS("--frame", "msgpack"), (mp_program_pool_options){.framing = MP_FRAME_MSGPACK});
    MPT_OK(mp_pool_apply(pool, NULL, &v, "(qs[id])", (int64_t)-5, "x", 3, 2.5));
    int64_t q;
    const char *s;
    mp_value *list;
    assert_int_equal(v->type, MP_ARRAY);
    MPT_OK(mp_args(v, "qsV", &q, &s, &list));
    assert_int_equal(q, -5);
    assert_string_equal(s, "x");
    assert_int_equal(list->as.array.len, 2);
    mp_value_free(v);
    expect_reply(pool, "pid and more", "pid and more");
    for (int i = 0; i < 1000; i++)
        MPT_OK(mp_pack(&items, "i", i * 1000));
    MPT_OK(mp_pool_map(pool, NULL, items.data, items.len, 0, &v));
    for (int i = 0; i < 1000; i++)
        assert_int_equal(v->as.array.items[i].as.i, i * 1000);
    mp_value_free(v);
    mp_buf_free(&items);
    end_pool(pool);
}

static void bad_input(void **state)
{
    (void)state;
    mp_pool *out = (mp_pool *)1;
    mp_program_pool_options o = {0};
    MPT_CODE(mp_program_pool_new(&out, &o), MP_EINVAL);
    assert_null(out);
    MPT_CODE(mp_program_pool_new(NULL, &o), MP_EINVAL);
    MPT_CODE(mp_program_pool_new(&out, NULL), MP_EINVAL);
    const char *missing[] = {"/no/such/dir/solver", NULL};
    o.argv = missing;
    MPT_CODE(mp_program_pool_new(&out, &o), MP_ENOENT);
    assert_null(out);
    const char *argv[] = {worker, NULL};
    o.argv = argv;
    o.task_timeout = -1;
    MPT_CODE(mp_program_pool_new(&out, &o), MP_EINVAL);
    o.task_timeout = 0;
    o.ready_line = "two\nlines";
    MPT_CODE(mp_program_pool_new(&out, &o), MP_EINVAL);
    o.ready_line = NULL;
    o.programs = -2;
    MPT_CODE(mp_program_pool_new(&out, &o), MP_EINVAL);
    o.programs = 0;
    o.framing = (mp_program_framing)9;
    MPT_CODE(mp_program_pool_new(&out, &o), MP_EINVAL);

    mp_pool *pool = start_pool(1, ARGS("--frame", "line"), (mp_program_pool_options){0});
    mp_value *v = (mp_value *)1;
    MPT_CODE(mp_pool_apply(pool, NULL, &v, "s", "two\nlines"), MP_EINVAL);
    assert_null(v);
    MPT_CODE(mp_pool_apply(pool, NULL, &v, "i", 5), MP_EINVAL);
    MPT_CODE(mp_pool_apply(pool, NULL, &v, "ss", "a", "b"), MP_EINVAL);
    MPT_CODE(mp_pool_apply(pool, NULL, &v, ""), MP_EINVAL);
    mp_buf items = MP_BUF_INIT;
    MPT_OK(mp_pack(&items, "s", "fine"));
    MPT_OK(mp_pack(&items, "i", 3));
    MPT_CODE(mp_pool_map(pool, NULL, items.data, items.len, 0, &v), MP_EINVAL);
    assert_non_null(strstr(mp_last_error(), "item 1"));
    MPT_CODE(mp_pool_starmap(pool, NULL, items.data, items.len, 0, &v), MP_EUNSUPPORTED);
    int in[2] = {1, 2}, res[2];
    MPT_CODE(mp_pool_map_fixed(pool, NULL, in, sizeof in[0], res, sizeof res[0], 2, 0), MP_EUNSUPPORTED);
    mp_buf_free(&items);
    /* The pool is still whole. */
    expect_reply(pool, "still here", "still here");
    end_pool(pool);
}

static void death_mid_task(void **state)
{
    (void)state;
    mp_pool *pool = start_pool(1, ARGS("--ready", "up"), (mp_program_pool_options){.ready_line = "up"});
    long first = program_pid(pool);
    mp_remote_error err;
    char message[1024];
    expect_failure(pool, "exit 3", MP_EWORKERDIED, &err, message, sizeof message);
    assert_int_equal(err.exitcode, 3);
    assert_int_equal(err.pid, first);
    long second = program_pid(pool);
    assert_true(second != first);
    /* The end of its stderr is in the message. */
    expect_failure(pool, "stderr the model file is corrupt", MP_EWORKERDIED, &err, message, sizeof message);
    assert_int_equal(err.exitcode, 4);
    assert_non_null(strstr(message, "the model file is corrupt"));
    expect_failure(pool, "crash", MP_EWORKERDIED, &err, message, sizeof message);
    assert_true(err.exitcode != 0);
    /* A map whose chunk holds the crash fails, and the pool serves on. */
    mp_buf items = MP_BUF_INIT;
    MPT_OK(mp_pack(&items, "s", "a"));
    MPT_OK(mp_pack(&items, "s", "exit 9"));
    MPT_OK(mp_pack(&items, "s", "c"));
    mp_value *v = NULL;
    MPT_CODE(mp_pool_map(pool, NULL, items.data, items.len, 1, &v), MP_EWORKERDIED);
    mp_buf_free(&items);
    expect_reply(pool, "after", "after");
    end_pool(pool);
}

static void out_of_framing(void **state)
{
    (void)state;
    const char *frames[] = {"line", "length", "msgpack"};
    for (int f = 0; f < 3; f++) {
        mp_pool *pool =
            start_pool(1, ARGS("--frame", frames[f]),
                       (mp_program_pool_options){.framing = (mp_program_framing)f, .max_reply = 1000});
        mp_remote_error err;
        char message[1024];
        mp_value *v = NULL;
        long pid = 0;
        for (int bad = 0; bad < 2; bad++) {
            if (f == MP_FRAME_LINE) {
                pid = program_pid(pool);
            } else {
                if (f == MP_FRAME_LENGTH)
                    MPT_OK(mp_pool_apply(pool, NULL, &v, "y#", "pid", (size_t)3));
                else
                    MPT_OK(mp_pool_apply(pool, NULL, &v, "s", "pid"));
                char digits[32] = "";
                size_t n = v->type == MP_BIN ? v->as.bin.len : v->as.str.len;
                memcpy(digits, v->type == MP_BIN ? (const void *)v->as.bin.ptr : (const void *)v->as.str.ptr,
                       n < sizeof digits - 1 ? n : sizeof digits - 1);
                pid = strtol(digits, NULL, 10);
                mp_value_free(v);
            }
            expect_failure(pool, bad ? "half" : "garbage", MP_EPROTO, &err, message, sizeof message);
            assert_int_equal(err.pid, pid);
        }
        /* Each bad reply cost its program its place: a new one answers. */
        if (f == MP_FRAME_LINE)
            assert_true(program_pid(pool) != pid);
        end_pool(pool);
    }
}

static void task_timeout(void **state)
{
    (void)state;
    mp_pool *pool = start_pool(1, ARGS("--ready", "ok"),
                               (mp_program_pool_options){.ready_line = "ok", .task_timeout = 0.5});
    long pid = program_pid(pool);
    mp_remote_error err;
    char message[1024];
    expect_failure(pool, "sleep 30", MP_ETIMEDOUT, &err, message, sizeof message);
    assert_int_equal(err.pid, pid);
    assert_true(mpt_wait_pid_gone(pid, 10));
    assert_true(program_pid(pool) != pid);
    end_pool(pool);
    /* A program that never flushes never answers. */
    pool = start_pool(1, ARGS("--noflush"), (mp_program_pool_options){.task_timeout = 0.5});
    expect_failure(pool, "anything", MP_ETIMEDOUT, &err, message, sizeof message);
    end_pool(pool);
}

static void start_failures_break_the_pool(void **state)
{
    (void)state;
    struct {
        const char *const *args;
        mp_program_pool_options o;
        const char *says;
    } cases[] = {
        {ARGS("--fail-start", "--ready", "ready"), {.ready_line = "ready"}, "cannot load the model"},
        {ARGS("--wrong-ready"), {.ready_line = "ready"}, "hello"},
        {ARGS("--startup", "30", "--ready", "ready"),
         {.ready_line = "ready", .start_timeout = 0.3},
         "no ready line"},
        {ARGS("--fail-start"), {.max_start_failures = 2}, "cannot load the model"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mp_pool *pool = start_pool(2, cases[i].args, cases[i].o);
        mp_async_result *r = NULL;
        mp_value *v = NULL;
        int rc = mp_pool_apply_async(pool, NULL, NULL, &r, "s", "task");
        if (rc == MP_OK) {
            rc = mp_async_result_get(r, 60, &v);
            /* Without a ready line the first tasks meet the dying
             * programs; the pool breaks after max_start_failures. */
            while (rc == MP_EWORKERDIED) {
                mp_async_result_free(r);
                r = NULL;
                rc = mp_pool_apply_async(pool, NULL, NULL, &r, "s", "task");
                if (rc == MP_OK)
                    rc = mp_async_result_get(r, 60, &v);
            }
            mp_async_result_free(r);
        }
        MPT_CODE(rc, MP_EINITIALIZER);
        assert_non_null(strstr(mp_last_error(), cases[i].says));
        MPT_CODE(mp_pool_apply(pool, NULL, &v, "s", "later"), MP_EINITIALIZER);
        MPT_OK(mp_pool_terminate(pool));
        MPT_OK(mp_pool_join(pool, 30));
        mp_pool_free(pool);
    }
}

static void stderr_is_drained(void **state)
{
    (void)state;
    mp_pool *pool = start_pool(1, ARGS("--ready", "r"), (mp_program_pool_options){.ready_line = "r"});
    expect_reply(pool, "flood 1048576", "flooded");
    expect_reply(pool, "flood 1048576", "flooded");
    mp_remote_error err;
    char message[1024];
    expect_failure(pool, "stderr last words", MP_EWORKERDIED, &err, message, sizeof message);
    assert_non_null(strstr(message, "last words"));
    end_pool(pool);
}

static void grandchild_holding_stdout(void **state)
{
    (void)state;
    mp_pool *pool = start_pool(1, ARGS("--ready", "r"), (mp_program_pool_options){.ready_line = "r"});
    mp_remote_error err;
    char message[1024];
    expect_failure(pool, "grandchild", MP_EWORKERDIED, &err, message, sizeof message);
    assert_int_equal(err.exitcode, 7);
    expect_reply(pool, "after", "after");
    end_pool(pool);
}

static void close_asks_then_forces(void **state)
{
    (void)state;
    /* A program that quits when asked. */
    mp_pool *pool = start_pool(2, ARGS("--ready", "r"),
                               (mp_program_pool_options){.ready_line = "r", .quit = "quit\n", .quit_len = 5});
    long pids[2];
    mp_pool_pids(pool, pids, 2);
    expect_reply(pool, "x", "x");
    end_pool(pool);
    assert_true(mpt_wait_pid_gone(pids[0], 0) && mpt_wait_pid_gone(pids[1], 0));
    /* One that ignores it, and end of file, and SIGTERM: killed after the grace. */
    pool = start_pool(1, ARGS("--ignore-quit"),
                      (mp_program_pool_options){.quit = "quit\n", .quit_len = 5, .quit_grace = 0.3});
    expect_reply(pool, "x", "x");
    end_pool(pool);
    /* terminate: calls in flight fail with MP_ESTATE, nothing waits. */
    pool = start_pool(1, ARGS("--ready", "r"), (mp_program_pool_options){.ready_line = "r"});
    mp_async_result *r = NULL;
    MPT_OK(mp_pool_apply_async(pool, NULL, NULL, &r, "s", "sleep 30"));
    mp_value *v = NULL;
    MPT_CODE(mp_async_result_wait(r, 0.3), MP_ETIMEDOUT);
    MPT_OK(mp_pool_terminate(pool));
    MPT_CODE(mp_async_result_get(r, 30, &v), MP_ESTATE);
    mp_async_result_free(r);
    MPT_OK(mp_pool_join(pool, 30));
    mp_pool_free(pool);
}

static void maxtasks_and_outside_kill(void **state)
{
    (void)state;
    mp_pool *pool = start_pool(1, ARGS("--ready", "r"),
                               (mp_program_pool_options){.ready_line = "r", .maxtasksperchild = 2});
    long a = program_pid(pool), b = program_pid(pool), c = program_pid(pool), d = program_pid(pool);
    assert_int_equal(a, b);
    assert_int_equal(c, d);
    assert_true(b != c);
    end_pool(pool);
    /* A program killed while it has no task is replaced; no task fails. */
    pool = start_pool(1, ARGS("--ready", "r"), (mp_program_pool_options){.ready_line = "r"});
    long pid = program_pid(pool);
    assert_int_equal(mpt_kill_pid(pid), 0);
    assert_true(mpt_wait_pid_gone(pid, 10));
    assert_true(program_pid(pool) != pid);
    end_pool(pool);
}

static void env_cwd_args(void **state)
{
    (void)state;
    /* The directory the worker lies in, "tests" in the build tree. */
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", worker);
    *strrchr(dir, ON_WINDOWS ? '\\' : '/') = '\0';
    const char *env[] = {"PP_VALUE=two words", NULL};
    mp_pool *pool = start_pool(1, ARGS("an \"arg\" with spaces", ""),
                               (mp_program_pool_options){.env_mode = MP_ENV_EXTEND, .env = env, .cwd = dir});
    expect_reply(pool, "env PP_VALUE", "two words");
    expect_reply(pool, "arg 1", "an \"arg\" with spaces");
    expect_reply(pool, "arg 2", "");
    mp_value *v = NULL;
    MPT_OK(mp_pool_apply(pool, NULL, &v, "s", "cwd"));
    /* The same directory, whatever the spelling of the rest of its path. */
    const char *tail = v->as.str.ptr + v->as.str.len - strlen("tests");
    assert_true(v->as.str.len >= strlen("tests") && strcmp(tail, "tests") == 0);
    mp_value_free(v);
    end_pool(pool);
}

static void many_tasks_streamed(void **state)
{
    (void)state;
    mp_pool *pool = start_pool(2, ARGS("--ready", "r"), (mp_program_pool_options){.ready_line = "r"});
    enum { N = 20000 };
    mp_buf items = MP_BUF_INIT;
    char text[64];
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "item number %d of many", i);
        MPT_OK(mp_pack(&items, "s", text));
    }
    mp_value *v = NULL;
    MPT_OK(mp_pool_map(pool, NULL, items.data, items.len, 0, &v));
    assert_int_equal(v->as.array.len, N);
    for (int i = 0; i < N; i += 997) {
        snprintf(text, sizeof text, "item number %d of many", i);
        assert_memory_equal(v->as.array.items[i].as.str.ptr, text, strlen(text));
    }
    mp_value_free(v);
    mp_buf_free(&items);
    end_pool(pool);
}

/* Run as "test_program_pool pass-stderr": a pool whose program's stderr is
 * copied to this process's, for pass_stderr_reaches_ours. */
static int pass_stderr_main(void)
{
    const char *argv[] = {worker, NULL};
    mp_program_pool_options o = {.argv = argv, .programs = 1, .pass_stderr = true};
    mp_pool *pool;
    if (mp_program_pool_new(&pool, &o) != MP_OK)
        return 1;
    mp_value *v = NULL;
    int rc = mp_pool_apply(pool, NULL, &v, "s", "stderr passed through to the pool's owner");
    mp_pool_free(pool);
    return rc == MP_EWORKERDIED ? 0 : 1;
}

static char self_path[4200];

static void pass_stderr_reaches_ours(void **state)
{
    (void)state;
    const char *argv[] = {self_path, "pass-stderr", NULL};
    mp_run_options o = {.capture_output = true};
    mp_completed done;
    MPT_OK(mp_run(argv, &o, NULL, 0, 60, &done));
    assert_int_equal(done.returncode, 0);
    assert_non_null(strstr(done.err, "passed through to the pool's owner"));
    mp_completed_free(&done);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mpt_sibling_path(PP_WORKER_NAME, worker, sizeof worker);
    if (argc > 1 && strcmp(argv[1], "pass-stderr") == 0)
        return pass_stderr_main();
    snprintf(self_path, sizeof self_path, "%s", argv[0]);
    const struct CMUnitTest tests[] = {
        MPT_TEST(echo_apply_map_imap),
        MPT_TEST(framings_round_trip),
        MPT_TEST(bad_input),
        MPT_TEST(death_mid_task),
        MPT_TEST(out_of_framing),
        MPT_TEST(task_timeout),
        MPT_TEST(start_failures_break_the_pool),
        MPT_TEST(stderr_is_drained),
        MPT_TEST(grandchild_holding_stdout),
        MPT_TEST(close_asks_then_forces),
        MPT_TEST(maxtasks_and_outside_kill),
        MPT_TEST(env_cwd_args),
        MPT_TEST(many_tasks_streamed),
        MPT_TEST(pass_stderr_reaches_ours),
    };
    return MPT_RUN(tests);
}
