/* test_pool.c - Pool and ThreadPool: map, starmap, imap and imap_unordered
 * against a serial loop with chunksizes 1, 20 and 100, empty inputs,
 * apply and callbacks, get(timeout), errors raised in tasks, workers that
 * die in every way under every start method, maxtasksperchild, initializer
 * failure, terminate with 10 000 queued tasks, Pool(100), the fixed-size
 * element path, items and results of the sizes where transport changes,
 * and bad input. */
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MPT_ASAN 1
#endif
#endif

/* ---- tasks --------------------------------------------------------------- */

static int square(const mp_value *args, mp_buf *result)
{
    int64_t x;
    int rc = mp_args(args, "q", &x);
    return rc ? rc : mp_pack(result, "q", x * x);
}
MP_TASK(square)

static int add(const mp_value *args, mp_buf *result)
{
    int64_t x, y;
    int rc = mp_args(args, "qq", &x, &y);
    return rc ? rc : mp_pack(result, "q", x + y);
}
MP_TASK(add)

/* Returns MP_OK having written something other than one value: bytes that
 * are not MessagePack (mode 0), two values (1), or a truncated str (2). */
static int bad_result(const mp_value *args, mp_buf *result)
{
    int64_t mode;
    int rc = mp_args(args, "q", &mode);
    if (rc != MP_OK)
        return rc;
    static const unsigned char never_used = 0xc1, short_str[] = {0xa5, 'a'};
    switch (mode) {
    case 0: return mp_buf_append(result, &never_used, 1);
    case 1: return mp_pack(result, "qq", (int64_t)1, (int64_t)2);
    default: return mp_buf_append(result, short_str, sizeof short_str);
    }
}
MP_TASK(bad_result)

/* Raises for 13. */
static int unlucky(const mp_value *args, mp_buf *result)
{
    int64_t x;
    int rc = mp_args(args, "q", &x);
    if (rc == MP_OK && x == 13)
        return mp_raise(MP_ERANGE, "13 is unlucky");
    return rc ? rc : mp_pack(result, "q", x);
}
MP_TASK(unlucky)

static int sleep_then(const mp_value *args, mp_buf *result)
{
    double seconds;
    int64_t x;
    int rc = mp_args(args, "dq", &seconds, &x);
    if (rc == MP_OK)
        mp_os_sleep(seconds);
    return rc ? rc : mp_pack(result, "q", x);
}
MP_TASK(sleep_then)

/* sleep_then for one item [seconds, x], as map and imap pass it. */
static int sleep_item(const mp_value *args, mp_buf *result)
{
    const mp_value *item;
    int rc = mp_args(args, "V", &item);
    return rc ? rc : sleep_then(item, result);
}
MP_TASK(sleep_item)

static int my_pid(const mp_value *args, mp_buf *result)
{
    (void)args;
    return mp_pack(result, "q", (int64_t)mp_current_pid());
}
MP_TASK(my_pid)

/* Dies as told: 0 exit(3), 1 abort(), 2 a segfault; other values return
 * themselves. */
static int die(const mp_value *args, mp_buf *result)
{
    int how;
    (void)result;
    int rc = mp_args(args, "i", &how);
    if (rc != MP_OK)
        return rc;
    switch (how) {
    case 0:
        exit(3);
    case 1:
        abort();
    case 2:
        raise(SIGSEGV);
        return MP_OK;
    default:
        return mp_pack(result, "i", how);
    }
}
MP_TASK(die)

/* Writes this worker's pid to the file named by its argument, then waits
 * to be killed: the test kills the worker that is running a task. The pid
 * goes to a file of another name first, so that the file never holds part
 * of it. */
static int wait_to_be_killed(const mp_value *args, mp_buf *result)
{
    (void)result;
    const char *path;
    int rc = mp_args(args, "s", &path);
    if (rc != MP_OK)
        return rc;
    char partial[600];
    snprintf(partial, sizeof partial, "%s.partial", path);
    FILE *f = fopen(partial, "w");
    if (f == NULL || fprintf(f, "%ld\n", mp_current_pid()) < 0 || fclose(f) != 0 || rename(partial, path) != 0)
        return mp_raise(MP_EOS, "cannot write %s", path);
    mp_os_sleep(60);
    return MP_OK;
}
MP_TASK(wait_to_be_killed)

/* Returns its one argument as it came. */
static int echo(const mp_value *args, mp_buf *result)
{
    const mp_value *v;
    int rc = mp_args(args, "V", &v);
    return rc ? rc : mp_pack(result, "V", v);
}
MP_TASK(echo)

static int worker_initialized;

static int init_worker(const mp_value *args)
{
    int value;
    int rc = mp_args(args, "i", &value);
    if (rc == MP_OK)
        worker_initialized = value;
    return rc;
}
MP_TARGET(init_worker)

static int init_fails(const mp_value *args)
{
    (void)args;
    return mp_raise(MP_EINVAL, "no database today");
}
MP_TARGET(init_fails)

static int pid_and_init(const mp_value *args, mp_buf *result)
{
    (void)args;
    return mp_pack(result, "(qi)", (int64_t)mp_current_pid(), worker_initialized);
}
MP_TASK(pid_and_init)

static int triple(const void *in, void *out)
{
    *(int64_t *)out = 3 * *(const int32_t *)in;
    return MP_OK;
}
MP_ELEM_TASK(triple)

static int reject_negative(const void *in, void *out)
{
    int32_t x = *(const int32_t *)in;
    if (x < 0)
        return mp_raise(MP_ERANGE, "negative: %d", (int)x);
    *(int64_t *)out = x;
    return MP_OK;
}
MP_ELEM_TASK(reject_negative)

/* ---- helpers -------------------------------------------------------------- */

static void pack_ints(mp_buf *b, int n)
{
    mp_buf_clear(b);
    for (int i = 0; i < n; i++)
        MPT_OK(mp_pack(b, "q", (int64_t)i));
}

static void new_pool(mp_pool **p, bool threads, int n, mp_start_method method)
{
    mp_pool_options o = {.processes = n};
    if (threads) {
        MPT_OK(mp_thread_pool_new(p, &o));
        return;
    }
    o.context = mpt_opts(method)->context;
    MPT_OK(mp_pool_new(p, &o));
}

static void end_pool(mp_pool *p)
{
    MPT_OK(mp_pool_close(p));
    MPT_OK(mp_pool_join(p, MP_FOREVER));
    mp_pool_free(p);
}

static void expect_squares(const mp_value *v, int n)
{
    assert_int_equal(v->type, MP_ARRAY);
    assert_int_equal(v->as.array.len, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(v->as.array.items[i].as.i, (int64_t)i * i);
}

/* ---- map and friends match a serial loop --------------------------------- */

static void took_squares(const mp_value *v, void *arg)
{
    bool right = v->type == MP_ARRAY && v->as.array.len == 250;
    for (uint32_t i = 0; right && i < v->as.array.len; i++)
        right = v->as.array.items[i].as.i == (int64_t)i * i;
    atomic_store((atomic_int *)arg, right ? 1 : -1);
}

/* A map's results are decoded chunk by chunk as they come in while they
 * are numbers only: one chunk of other values sends it back to decoding
 * them all, and each get of a map_async, and its callback, has them. */
static void map_results_decoded_early(mp_pool *p, const mp_buf *items, int n)
{
    mp_buf mixed = MP_BUF_INIT;
    for (int i = 0; i < n; i++)
        MPT_OK(i == 177 ? mp_pack(&mixed, "s", "x") : mp_pack(&mixed, "q", (int64_t)i));
    mp_value *v;
    MPT_OK(mp_pool_map(p, echo, mixed.data, mixed.len, 20, &v));
    assert_int_equal(v->as.array.len, n);
    for (int i = 0; i < n; i++)
        if (i == 177)
            assert_string_equal(v->as.array.items[i].as.str.ptr, "x");
        else
            assert_int_equal(v->as.array.items[i].as.i, i);
    mp_value_free(v);
    mp_buf_free(&mixed);

    atomic_int callback_saw = 0;
    mp_async_options o = {.chunksize = 20, .callback = took_squares, .arg = &callback_saw};
    mp_async_result *r;
    MPT_OK(mp_pool_map_async(p, square, items->data, items->len, &o, &r));
    for (int k = 0; k < 2; k++) {
        MPT_OK(mp_async_result_get(r, 30, &v));
        expect_squares(v, n);
        mp_value_free(v);
    }
    for (int i = 0; i < 1000 && atomic_load(&callback_saw) == 0; i++)
        mp_os_sleep(0.01);
    assert_int_equal(atomic_load(&callback_saw), 1);
    mp_async_result_free(r);
}

static void map_family(mp_pool *p)
{
    mp_buf items = MP_BUF_INIT, pairs = MP_BUF_INIT;
    const int n = 250;
    pack_ints(&items, n);
    for (int i = 0; i < n; i++)
        MPT_OK(mp_pack(&pairs, "(qq)", (int64_t)i, (int64_t)(2 * i)));
    const size_t chunksizes[] = {0, 1, 20, 100};
    for (size_t c = 0; c < 4; c++) {
        mp_value *v;
        MPT_OK(mp_pool_map(p, square, items.data, items.len, chunksizes[c], &v));
        expect_squares(v, n);
        mp_value_free(v);

        MPT_OK(mp_pool_starmap(p, add, pairs.data, pairs.len, chunksizes[c], &v));
        assert_int_equal(v->as.array.len, n);
        for (int i = 0; i < n; i++)
            assert_int_equal(v->as.array.items[i].as.i, 3 * i);
        mp_value_free(v);

        mp_async_options o = {.chunksize = chunksizes[c]};
        mp_imap_iter *it;
        MPT_OK(mp_pool_imap(p, square, items.data, items.len, &o, &it));
        for (int i = 0; i < n; i++) {
            MPT_OK(mp_imap_next(it, 30, &v));
            assert_int_equal(v->as.i, (int64_t)i * i);
            mp_value_free(v);
        }
        MPT_CODE(mp_imap_next(it, 30, &v), MP_EEOF);
        mp_imap_free(it);

        MPT_OK(mp_pool_imap_unordered(p, square, items.data, items.len, &o, &it));
        char seen[250] = {0};
        for (int i = 0; i < n; i++) {
            MPT_OK(mp_imap_next(it, 30, &v));
            int64_t root = 0;
            while (root * root < v->as.i)
                root++;
            assert_true(root < n && root * root == v->as.i && !seen[root]);
            seen[root] = 1;
            mp_value_free(v);
        }
        MPT_CODE(mp_imap_next(it, 30, &v), MP_EEOF);
        mp_imap_free(it);
    }
    map_results_decoded_early(p, &items, n);
    /* empty inputs */
    mp_value *v;
    MPT_OK(mp_pool_map(p, square, NULL, 0, 0, &v));
    assert_int_equal(v->type, MP_ARRAY);
    assert_int_equal(v->as.array.len, 0);
    mp_value_free(v);
    MPT_OK(mp_pool_starmap(p, add, NULL, 0, 7, &v));
    assert_int_equal(v->as.array.len, 0);
    mp_value_free(v);
    mp_imap_iter *it;
    MPT_OK(mp_pool_imap(p, square, NULL, 0, NULL, &it));
    MPT_CODE(mp_imap_next(it, 0, &v), MP_EEOF);
    mp_imap_free(it);
    mp_buf_free(&items);
    mp_buf_free(&pairs);
}

static void map_every_method(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        mp_pool *p;
        new_pool(&p, false, 2, methods[m]);
        map_family(p);
        end_pool(p);
    }
}

static void thread_pool_map(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, true, 3, MP_START_SPAWN);
    map_family(p);
    end_pool(p);
}

/* ---- apply, callbacks, get(timeout) -------------------------------------- */

typedef struct outcome {
    mp_mutex *m;
    int64_t value;
    int code;
    long pid;
    int calls;
} outcome;

static void on_result(const mp_value *v, void *arg)
{
    outcome *o = arg;
    mp_mutex_lock(o->m);
    o->value = v->as.i;
    o->calls++;
    mp_mutex_unlock(o->m);
}

static void on_error(const mp_remote_error *e, void *arg)
{
    outcome *o = arg;
    mp_mutex_lock(o->m);
    o->code = e->code;
    o->pid = e->pid;
    o->calls++;
    mp_mutex_unlock(o->m);
}

static void apply_and_callbacks(mp_pool *p, bool threads)
{
    mp_value *v;
    MPT_OK(mp_pool_apply(p, add, &v, "qq", (int64_t)40, (int64_t)2));
    assert_int_equal(v->as.i, 42);
    mp_value_free(v);

    outcome o = {NULL, 0, 0, 0, 0};
    MPT_OK(mp_mutex_new(&o.m));
    mp_async_options cb = {.callback = on_result, .error_callback = on_error, .arg = &o};
    mp_async_result *r;
    MPT_OK(mp_pool_apply_async(p, square, &cb, &r, "q", (int64_t)9));
    MPT_OK(mp_async_result_get(r, 30, &v));
    assert_int_equal(v->as.i, 81);
    mp_value_free(v);
    assert_int_equal(mp_async_result_successful(r), 1);
    assert_null(mp_async_result_error(r));
    mp_async_result_free(r);

    /* an error raised in the task: MP_EREMOTE with the details */
    MPT_OK(mp_pool_apply_async(p, unlucky, &cb, &r, "q", (int64_t)13));
    MPT_OK(mp_async_result_wait(r, 30));
    MPT_CODE(mp_async_result_get(r, 0, &v), MP_EREMOTE);
    assert_non_null(strstr(mp_last_error(), "13 is unlucky"));
    assert_non_null(strstr(mp_last_error(), "unlucky"));
    assert_int_equal(mp_async_result_successful(r), 0);
    const mp_remote_error *e = mp_async_result_error(r);
    assert_non_null(e);
    assert_int_equal(e->code, MP_ERANGE);
    assert_string_equal(e->task, "unlucky");
    assert_non_null(strstr(e->message, "13 is unlucky"));
    if (!threads)
        assert_true(e->pid > 0 && e->pid != mp_current_pid());
    mp_async_result_free(r);
    /* callbacks ran: one result, one error */
    for (int i = 0; i < 1000 && o.calls < 2; i++)
        mp_os_sleep(0.01);
    assert_int_equal(o.calls, 2);
    assert_int_equal(o.value, 81);
    assert_int_equal(o.code, MP_ERANGE);

    /* the pool keeps working, and map reports a failing item */
    mp_buf items = MP_BUF_INIT;
    pack_ints(&items, 40);
    MPT_CODE(mp_pool_map(p, unlucky, items.data, items.len, 5, &v), MP_EREMOTE);
    assert_null(v);
    assert_non_null(strstr(mp_last_error(), "13 is unlucky"));
    MPT_OK(mp_pool_map(p, square, items.data, items.len, 5, &v));
    expect_squares(v, 40);
    mp_value_free(v);
    /* imap: the failed item is an error in its place, then it goes on */
    mp_imap_iter *it;
    MPT_OK(mp_pool_imap(p, unlucky, items.data, items.len, NULL, &it));
    for (int i = 0; i < 40; i++) {
        if (i == 13) {
            MPT_CODE(mp_imap_next(it, 30, &v), MP_EREMOTE);
            assert_int_equal(mp_imap_error(it)->code, MP_ERANGE);
            continue;
        }
        MPT_OK(mp_imap_next(it, 30, &v));
        assert_int_equal(v->as.i, i);
        mp_value_free(v);
    }
    MPT_CODE(mp_imap_next(it, 30, &v), MP_EEOF);
    mp_imap_free(it);

    /* get(timeout) on a slow task, then the result */
    MPT_OK(mp_pool_apply_async(p, sleep_then, NULL, &r, "dq", 0.5, (int64_t)7));
    MPT_CODE(mp_async_result_get(r, 0.05, &v), MP_ETIMEDOUT);
    assert_false(mp_async_result_ready(r));
    MPT_CODE(mp_async_result_successful(r), MP_ESTATE);
    MPT_CODE(mp_async_result_wait(r, 0), MP_ETIMEDOUT);
    MPT_OK(mp_async_result_get(r, 30, &v));
    assert_int_equal(v->as.i, 7);
    mp_value_free(v);
    MPT_OK(mp_async_result_get(r, 0, &v)); /* again */
    assert_int_equal(v->as.i, 7);
    mp_value_free(v);
    mp_async_result_free(r);
    mp_buf_free(&items);
    mp_mutex_free(o.m);
}

static void apply_process_pool(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, false, 2, mp_get_start_method());
    apply_and_callbacks(p, false);
    end_pool(p);
}

static void apply_thread_pool(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, true, 2, MP_START_SPAWN);
    apply_and_callbacks(p, true);
    end_pool(p);
}

/* What pool.h promises for a task that writes a malformed result: the
 * error of a task that raised MP_EPROTO; the pool goes on serving. */
static void malformed_results(mp_pool *p)
{
    for (int64_t mode = 0; mode < 3; mode++) {
        mp_async_result *r;
        mp_value *v = NULL;
        MPT_OK(mp_pool_apply_async(p, bad_result, NULL, &r, "q", mode));
        int rc = mp_async_result_get(r, 30, &v);
        if (rc != MP_EREMOTE)
            fail_msg("mode %d: a malformed result gave %s, expected MP_EREMOTE", (int)mode, mp_errname(rc));
        const mp_remote_error *e = mp_async_result_error(r);
        assert_non_null(e);
        assert_int_equal(e->code, MP_EPROTO);
        assert_string_equal(e->task, "bad_result");
        assert_null(v);
        mp_async_result_free(r);
    }
    mp_value *v;
    MPT_OK(mp_pool_apply(p, square, &v, "q", (int64_t)5));
    assert_int_equal(v->as.i, 25);
    mp_value_free(v);
}

static void malformed_result(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, false, 1, mp_get_start_method());
    malformed_results(p);
    end_pool(p);
    new_pool(&p, true, 1, MP_START_SPAWN);
    malformed_results(p);
    end_pool(p);
}

/* ---- worker death ---------------------------------------------------------- */

/* Generous: only a pool that never fails a dead worker's task waits this
 * long, and the test then says so instead of hanging. */
#define DEATH_LIMIT 30.0

/* r ran on a worker that died: it must fail with MP_EWORKERDIED within
 * DEATH_LIMIT. If not, the pool is freed (terminated) before the test
 * fails, so that no worker outlives it. */
static void expect_worker_died(mp_pool *p, mp_async_result *r, const char *what)
{
    mp_value *v = NULL;
    int rc = mp_async_result_get(r, DEATH_LIMIT, &v);
    if (rc == MP_EWORKERDIED)
        return;
    char error[300];
    snprintf(error, sizeof error, "%s", mp_last_error());
    mp_value_free(v);
    mp_async_result_free(r);
    mp_pool_free(p);
    if (rc == MP_ETIMEDOUT)
        fail_msg("%s: task on a dead worker not failed with MP_EWORKERDIED within %g s", what, DEATH_LIMIT);
    fail_msg("%s: task on a dead worker got %s (%s), not MP_EWORKERDIED", what, mp_errname(rc), error);
}

/* r's value (the caller's to free) within DEATH_LIMIT; r is freed. If r
 * fails, the pool is freed before the test fails. */
static mp_value *result_within(mp_pool *p, mp_async_result *r, const char *what)
{
    mp_value *v = NULL;
    int rc = mp_async_result_get(r, DEATH_LIMIT, &v);
    mp_async_result_free(r);
    if (rc == MP_OK)
        return v;
    char error[300];
    snprintf(error, sizeof error, "%s", mp_last_error());
    mp_pool_free(p);
    if (rc == MP_ETIMEDOUT)
        fail_msg("%s: a call after it was not answered within %g s", what, DEATH_LIMIT);
    fail_msg("%s: a call after it got %s (%s)", what, mp_errname(rc), error);
    return NULL;
}

/* The pid the task wait_to_be_killed wrote to path, once it is there. */
static long running_worker(const char *path)
{
    double deadline = mp_os_monotonic() + DEATH_LIMIT;
    long pid = 0;
    while (pid <= 0 && mp_os_monotonic() < deadline) {
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            mp_os_sleep(0.01);
            continue;
        }
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    remove(path);
    return pid;
}

static void one_death(mp_pool *p, int how, const char *method)
{
    char what[64];
    snprintf(what, sizeof what, "%s, death %d", method, how);
    mp_async_result *r;
    if (how == 3) {
        /* killed from outside while it runs the task */
        char dir[400], path[512];
        mpt_temp_dir(dir, sizeof dir);
        snprintf(path, sizeof path, "%s-running-%s.pid", dir, method);
        remove(path);
        MPT_OK(mp_pool_apply_async(p, wait_to_be_killed, NULL, &r, "s", path));
        long pid = running_worker(path);
        if (pid <= 0) {
            mp_async_result_free(r);
            mp_pool_free(p);
            fail_msg("%s: the task did not start within %g s", what, DEATH_LIMIT);
        }
        assert_int_equal(mpt_kill_pid(pid), 0);
    } else {
        MPT_OK(mp_pool_apply_async(p, die, NULL, &r, "i", how));
    }
    expect_worker_died(p, r, what);
    mp_async_result_free(r);
    assert_non_null(strstr(mp_last_error(), "exit code"));
    /* replaced: the pool serves */
    mp_buf items = MP_BUF_INIT;
    pack_ints(&items, 30);
    MPT_OK(mp_pool_map_async(p, square, items.data, items.len, &(mp_async_options){.chunksize = 3}, &r));
    mp_buf_free(&items);
    mp_value *v = result_within(p, r, what);
    expect_squares(v, 30);
    mp_value_free(v);
}

static void worker_death(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        mp_pool *p;
        /* one worker: the one killed from outside is the one running */
        new_pool(&p, false, 1, methods[m]);
        for (int how = 0; how < 4; how++)
            one_death(p, how, mp_start_method_name(methods[m]));
        end_pool(p);
    }
}

/* A call without callbacks sent straight to an idle worker leaves its
 * reply for the thread that waits on it: ready() alone must still see it
 * end, and so must close and join with nobody asking. */
static void results_seen_without_get(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, false, 2, mp_get_start_method());
    mp_value *v;
    MPT_OK(mp_pool_apply(p, square, &v, "q", (int64_t)2)); /* the workers are ready */
    mp_value_free(v);
    for (int round = 0; round < 20; round++) {
        mp_async_result *r;
        MPT_OK(mp_pool_apply_async(p, square, NULL, &r, "q", (int64_t)round));
        int polls = 0;
        while (!mp_async_result_ready(r) && polls++ < 30000)
            mp_os_sleep(0.001);
        assert_true(mp_async_result_ready(r));
        MPT_OK(mp_async_result_get(r, 0, &v));
        assert_int_equal(v->as.i, (int64_t)round * round);
        mp_value_free(v);
        mp_async_result_free(r);
    }
    mp_async_result *left[4];
    for (int i = 0; i < 4; i++)
        MPT_OK(mp_pool_apply_async(p, square, NULL, &left[i], "q", (int64_t)i + 10));
    MPT_OK(mp_pool_close(p));
    MPT_OK(mp_pool_join(p, 30));
    for (int i = 0; i < 4; i++) {
        MPT_OK(mp_async_result_get(left[i], 0, &v));
        assert_int_equal(v->as.i, (int64_t)(i + 10) * (i + 10));
        mp_value_free(v);
        mp_async_result_free(left[i]);
    }
    mp_pool_free(p);
}

/* The pid of the worker that runs a call, within DEATH_LIMIT. */
static long worker_pid(mp_pool *p, const char *method)
{
    mp_async_result *r;
    MPT_OK(mp_pool_apply_async(p, my_pid, NULL, &r, ""));
    char what[80];
    snprintf(what, sizeof what, "%s, an idle worker killed", method);
    mp_value *v = result_within(p, r, what);
    long pid = (long)v->as.i;
    mp_value_free(v);
    return pid;
}

/* A worker killed while idle loses no task: the next call, which the
 * submitting thread tries to hand straight to that worker's pipe, runs on
 * its replacement instead of failing with MP_EWORKERDIED. */
static void idle_worker_killed(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        const char *method = mp_start_method_name(methods[m]);
        mp_pool *p;
        new_pool(&p, false, 1, methods[m]);
        long pid = worker_pid(p, method);
        for (int round = 0; round < 3; round++) {
            assert_int_equal(mpt_kill_pid(pid), 0);
            /* Dead, so its pipe is closed, before the next call. */
            if (!mpt_wait_pid_gone(pid, DEATH_LIMIT)) {
                mp_pool_free(p);
                fail_msg("%s: worker %ld still ran %g s after SIGKILL", method, pid, DEATH_LIMIT);
            }
            long next = worker_pid(p, method);
            assert_true(next != pid);
            pid = next;
        }
        end_pool(p);
    }
}

/* A map whose chunk kills its worker fails with MP_EWORKERDIED; the error
 * names the worker and its exit code. */
static void death_in_map(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, false, 2, mp_get_start_method());
    mp_buf items = MP_BUF_INIT;
    for (int i = 0; i < 20; i++)
        MPT_OK(mp_pack(&items, "(dq)", i == 11 ? -1.0 : 0.0, (int64_t)i));
    /* sleep_then with a negative time is harmless; item 11 goes to die */
    mp_async_result *r;
    MPT_OK(mp_pool_starmap_async(p, sleep_then, items.data, items.len, &(mp_async_options){.chunksize = 4}, &r));
    mp_value_free(result_within(p, r, "starmap before a death"));
    mp_buf_clear(&items);
    for (int i = 0; i < 20; i++)
        MPT_OK(mp_pack(&items, "i", i == 11 ? 0 : 4));
    MPT_OK(mp_pool_map_async(p, die, items.data, items.len, &(mp_async_options){.chunksize = 1}, &r));
    expect_worker_died(p, r, "map");
    mp_async_result_free(r);
    MPT_OK(mp_pool_apply_async(p, die, NULL, &r, "i", 0));
    expect_worker_died(p, r, "apply_async");
    const mp_remote_error *e = mp_async_result_error(r);
    assert_non_null(e);
    assert_int_equal(e->code, MP_EWORKERDIED);
#if !defined(__SANITIZE_ADDRESS__) && !defined(MPT_ASAN)
    /* (LeakSanitizer turns an exit with leaks into exit code 23) */
    assert_int_equal(e->exitcode, 3);
#endif
    char code[32];
    snprintf(code, sizeof code, "exit code %d", e->exitcode);
    assert_non_null(strstr(e->message, code));
    assert_true(e->pid > 0);
    assert_string_equal(e->task, "die");
    mp_async_result_free(r);
    mp_buf_free(&items);
    end_pool(p);
}

/* Items 150 and 300 kill their worker; the others come back as i + 4. */
static bool item_kills(int i)
{
    return i == 150 || i == 300;
}

/* Read n items of die's imap; -1 if each is as it should be, else the first
 * item that is not, with why. */
static int first_wrong_item(mp_imap_iter *it, int n, char *why, size_t size)
{
    for (int i = 0; i < n; i++) {
        mp_value *v = NULL;
        int rc = mp_imap_next(it, DEATH_LIMIT, &v);
        if (item_kills(i) && rc == MP_ETIMEDOUT)
            snprintf(why, size, "task on a dead worker not failed with MP_EWORKERDIED within %g s", DEATH_LIMIT);
        else if (item_kills(i) && rc != MP_EWORKERDIED)
            snprintf(why, size, "got %s, not MP_EWORKERDIED", mp_errname(rc));
        else if (!item_kills(i) && rc != MP_OK)
            snprintf(why, size, "got %s (%s)", mp_errname(rc), mp_last_error());
        else if (!item_kills(i) && v->as.i != i + 4)
            snprintf(why, size, "got %lld", (long long)v->as.i);
        else
            why[0] = '\0';
        mp_value_free(v);
        if (why[0] != '\0')
            return i;
    }
    return -1;
}

/* Small chunks go to a worker several at a time, and its replies come back
 * in bulk; a worker that dies must still fail exactly the item it was
 * running, and every other item must be answered once, in order. */
static void pipelined_death(void **state)
{
    (void)state;
    enum { N = 400 };
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        mp_pool *p;
        new_pool(&p, false, 2, methods[m]);
        mp_buf items = MP_BUF_INIT;
        for (int i = 0; i < N; i++)
            MPT_OK(mp_pack(&items, "i", item_kills(i) ? 0 : i + 4));
        mp_imap_iter *it;
        MPT_OK(mp_pool_imap(p, die, items.data, items.len, NULL, &it));
        char why[300];
        int wrong = first_wrong_item(it, N, why, sizeof why);
        mp_value *v;
        int end = wrong < 0 ? mp_imap_next(it, 0, &v) : MP_EEOF;
        mp_imap_free(it);
        mp_buf_free(&items);
        if (wrong >= 0) {
            mp_pool_free(p);
            fail_msg("%s: item %d %s", mp_start_method_name(methods[m]), wrong, why);
        }
        MPT_CODE(end, MP_EEOF);
        end_pool(p);
    }
}

/* A worker is sent chunks ahead only once its chunks have been timed
 * short: none of the quick items waits behind the slow first one, which a
 * fresh pool has not timed; the other worker takes them all. */
static void nothing_waits_behind_a_slow_chunk(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, false, 2, mp_get_start_method());
    enum { N = 12 };
    mp_buf items = MP_BUF_INIT;
    for (int i = 0; i < N; i++)
        MPT_OK(mp_pack(&items, "(dq)", i == 0 ? 1.5 : 0.0, (int64_t)i));
    mp_imap_iter *it;
    MPT_OK(mp_pool_imap_unordered(p, sleep_item, items.data, items.len, NULL, &it));
    for (int k = 0; k < N; k++) {
        mp_value *v;
        MPT_OK(mp_imap_next(it, 60, &v));
        if (k < N - 1 && v->as.i == 0)
            fail_msg("the slow item ended %dth; %d quick ones were held behind it", k + 1, N - 1 - k);
        mp_value_free(v);
    }
    mp_imap_free(it);
    mp_buf_free(&items);
    end_pool(p);
}

/* Items and results around the sizes where the pool changes how it moves
 * them: several messages to a write or read, a message read into its own
 * allocation, a chunk written from where it lies. */
static void large_items_and_results(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 100, 31 << 10, 33 << 10, 70 << 10, 300 << 10, 5};
    enum { ROUNDS = 3, N = ROUNDS * (int)(sizeof sizes / sizeof sizes[0]) };
    unsigned char *blob = malloc((300 << 10) + N);
    assert_non_null(blob);
    for (size_t i = 0; i < (300 << 10) + N; i++)
        blob[i] = (unsigned char)(i * 7 + 1);
    mp_buf items = MP_BUF_INIT;
    for (int i = 0; i < N; i++)
        MPT_OK(mp_pack(&items, "y#", blob + i, sizes[i % (N / ROUNDS)] - (sizes[i % (N / ROUNDS)] && i ? 1 : 0)));
    mp_pool *p;
    new_pool(&p, false, 2, mp_get_start_method());
    const size_t chunksizes[] = {1, 2, 0};
    for (size_t c = 0; c < 3; c++) {
        mp_value *v;
        MPT_OK(mp_pool_map(p, echo, items.data, items.len, chunksizes[c], &v));
        assert_int_equal(v->as.array.len, N);
        for (int i = 0; i < N; i++) {
            size_t want = sizes[i % (N / ROUNDS)] - (sizes[i % (N / ROUNDS)] && i ? 1 : 0);
            const mp_value *e = &v->as.array.items[i];
            assert_int_equal(e->type, MP_BIN);
            assert_int_equal(e->as.bin.len, want);
            assert_memory_equal(e->as.bin.ptr, blob + i, want);
        }
        mp_value_free(v);
    }
    mp_value *v;
    MPT_OK(mp_pool_apply(p, echo, &v, "y#", blob, (size_t)(300 << 10)));
    assert_int_equal(v->as.bin.len, 300 << 10);
    assert_memory_equal(v->as.bin.ptr, blob, 300 << 10);
    mp_value_free(v);
    end_pool(p);
    mp_buf_free(&items);
    free(blob);
}

/* ---- maxtasksperchild and initializers ------------------------------------ */

static void maxtasks_and_initializer(void **state)
{
    (void)state;
    mp_buf initargs = MP_BUF_INIT;
    MPT_OK(mp_pack(&initargs, "(i)", 5));
    mp_pool_options o = {.processes = 2, .maxtasksperchild = 2, .initializer = init_worker,
                         .initargs = initargs.data, .initargs_len = initargs.len};
    mp_pool *p;
    MPT_OK(mp_pool_new(&p, &o));
    long seen[12];
    size_t nseen = 0;
    for (int i = 0; i < 12; i++) {
        mp_value *v;
        int64_t pid;
        int init;
        MPT_OK(mp_pool_apply(p, pid_and_init, &v, ""));
        MPT_OK(mp_unpack(v, "(qi)", &pid, &init));
        mp_value_free(v);
        assert_int_equal(init, 5);
        bool known = false;
        for (size_t k = 0; k < nseen; k++)
            known |= seen[k] == pid;
        if (!known)
            seen[nseen++] = (long)pid;
    }
    /* 12 tasks, 2 per worker: at least 6 workers */
    assert_true(nseen >= 6);
    end_pool(p);
    mp_buf_free(&initargs);
}

static void initializer_failure(void **state)
{
    (void)state;
    mp_pool_options o = {.processes = 2, .initializer = init_fails};
    mp_pool *p;
    MPT_OK(mp_pool_new(&p, &o));
    mp_value *v;
    MPT_CODE(mp_pool_apply(p, square, &v, "q", (int64_t)2), MP_EINITIALIZER);
    if (strstr(mp_last_error(), "no database today") == NULL)
        fail_msg("the initializer's message is missing: %s", mp_last_error());
    MPT_CODE(mp_pool_apply(p, square, &v, "q", (int64_t)2), MP_EINITIALIZER);
    MPT_OK(mp_pool_terminate(p));
    MPT_OK(mp_pool_join(p, MP_FOREVER));
    mp_pool_free(p);

    MPT_OK(mp_thread_pool_new(&p, &o));
    MPT_CODE(mp_pool_apply(p, square, &v, "q", (int64_t)2), MP_EINITIALIZER);
    mp_pool_free(p);
}

/* ---- terminate, large pools --------------------------------------------------- */

static void terminate_with_queue(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, false, 2, mp_get_start_method());
    mp_buf items = MP_BUF_INIT;
    for (int i = 0; i < 10000; i++)
        MPT_OK(mp_pack(&items, "(dq)", 5.0, (int64_t)i));
    mp_async_result *r;
    MPT_OK(mp_pool_starmap_async(p, sleep_then, items.data, items.len, &(mp_async_options){.chunksize = 1}, &r));
    mp_os_sleep(0.2);
    double t0 = mp_os_monotonic();
    MPT_OK(mp_pool_terminate(p));
    MPT_OK(mp_pool_join(p, 30));
    assert_true(mp_os_monotonic() - t0 < 5);
    mp_value *v;
    MPT_CODE(mp_async_result_get(r, 5, &v), MP_ESTATE);
    mp_async_result_free(r);
    MPT_CODE(mp_pool_apply(p, square, &v, "q", (int64_t)1), MP_ESTATE);
    mp_pool_free(p);
    mp_buf_free(&items);
}

static void hundred_workers(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, false, 100, mp_get_start_method());
    long pids[100];
    assert_int_equal(mp_pool_pids(p, pids, 100), 100);
    mp_buf items = MP_BUF_INIT;
    pack_ints(&items, 1000);
    mp_value *v;
    MPT_OK(mp_pool_map(p, square, items.data, items.len, 1, &v));
    expect_squares(v, 1000);
    mp_value_free(v);
    mp_buf_free(&items);
    end_pool(p);
}

/* ---- the fixed-size path --------------------------------------------------------- */

static void fixed_path(mp_pool *p)
{
    enum { N = 10007 };
    int32_t *in = malloc(N * sizeof *in);
    int64_t *out = malloc(N * sizeof *out);
    assert_non_null(in);
    assert_non_null(out);
    for (int i = 0; i < N; i++)
        in[i] = i - 5;
    MPT_CODE(mp_pool_map_fixed(p, reject_negative, in, 4, out, 8, N, 100), MP_EREMOTE);
    assert_non_null(strstr(mp_last_error(), "negative"));
    const size_t chunksizes[] = {0, 1, 777};
    for (size_t c = 0; c < 3; c++) {
        memset(out, 0, N * sizeof *out);
        MPT_OK(mp_pool_map_fixed(p, triple, in, 4, out, 8, N, chunksizes[c]));
        for (int i = 0; i < N; i++)
            assert_int_equal(out[i], 3 * (int64_t)(i - 5));
    }
    MPT_OK(mp_pool_map_fixed(p, triple, in, 4, out, 8, 0, 0));
    MPT_CODE(mp_pool_map_fixed(p, triple, in, 0, out, 8, N, 0), MP_EINVAL);
    MPT_CODE(mp_pool_map_fixed(p, triple, in, 4, out, (size_t)1 << 20, N, 0), MP_EINVAL);
    MPT_CODE(mp_pool_map_fixed(p, triple, in, 4, in + 1, 8, N, 0), MP_EINVAL);
    free(in);
    free(out);
}

static void fixed_size_elements(void **state)
{
    (void)state;
    mp_pool *p;
    new_pool(&p, false, 2, mp_get_start_method());
    fixed_path(p);
    end_pool(p);
    new_pool(&p, true, 2, MP_START_SPAWN);
    fixed_path(p);
    end_pool(p);
}

/* ---- bad input ------------------------------------------------------------------- */

static int not_registered(const mp_value *args, mp_buf *result)
{
    (void)args;
    return mp_pack(result, "i", 1);
}

static void bad_input(void **state)
{
    (void)state;
    mp_pool *p;
    MPT_CODE(mp_pool_new(NULL, NULL), MP_EINVAL);
    MPT_CODE(mp_pool_new(&p, &(mp_pool_options){.processes = -1}), MP_EINVAL);
    assert_null(p);
    MPT_CODE(mp_pool_new(&p, &(mp_pool_options){.maxtasksperchild = -2}), MP_EINVAL);
    MPT_CODE(mp_thread_pool_new(&p, &(mp_pool_options){.maxtasksperchild = 2}), MP_EINVAL);
    static const unsigned char not_array[] = {0x01};
    MPT_CODE(mp_pool_new(&p, &(mp_pool_options){.initializer = init_worker, .initargs = not_array,
                                                 .initargs_len = 1}),
             MP_EPROTO);
    MPT_CODE(mp_pool_new(&p, &(mp_pool_options){.initargs_len = 3}), MP_EINVAL);

    new_pool(&p, false, 1, mp_get_start_method());
    mp_value *v;
    MPT_CODE(mp_pool_apply(p, not_registered, &v, ""), MP_ENOTREG);
    MPT_CODE(mp_pool_apply(p, NULL, &v, ""), MP_EINVAL);
    MPT_CODE(mp_pool_apply(p, square, NULL, "q", (int64_t)1), MP_EINVAL);
    MPT_CODE(mp_pool_apply(NULL, square, &v, "q", (int64_t)1), MP_EINVAL);
    static const unsigned char truncated[] = {0x01, 0x92, 0x01};
    MPT_CODE(mp_pool_map(p, square, truncated, sizeof truncated, 0, &v), MP_EPROTO);
    MPT_CODE(mp_pool_apply(p, square, &v, "q)", (int64_t)1), MP_EFORMAT);
    /* wrong argument types are the task's error */
    MPT_CODE(mp_pool_apply(p, square, &v, "s", "x"), MP_EREMOTE);
    /* starmap items must be arrays */
    mp_buf items = MP_BUF_INIT;
    pack_ints(&items, 3);
    MPT_CODE(mp_pool_starmap(p, add, items.data, items.len, 1, &v), MP_EREMOTE);
    mp_buf_free(&items);
    MPT_CODE(mp_pool_join(p, 0), MP_ESTATE);
    MPT_OK(mp_pool_close(p));
    MPT_CODE(mp_pool_apply(p, square, &v, "q", (int64_t)1), MP_ESTATE);
    MPT_OK(mp_pool_join(p, MP_FOREVER));
    mp_pool_free(p);
    mp_pool_free(NULL);
    MPT_CODE(mp_async_result_get(NULL, 0, &v), MP_EINVAL);
    MPT_CODE(mp_imap_next(NULL, 0, &v), MP_EINVAL);

    /* a ThreadPool needs no registration */
    MPT_OK(mp_thread_pool_new(&p, &(mp_pool_options){.processes = 1}));
    MPT_OK(mp_pool_apply(p, not_registered, &v, ""));
    assert_int_equal(v->as.i, 1);
    mp_value_free(v);
    mp_pool_free(p); /* running: terminated, joined, freed */
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(map_every_method),
        MPT_TEST(thread_pool_map),
        MPT_TEST(apply_process_pool),
        MPT_TEST(apply_thread_pool),
        MPT_TEST(malformed_result),
        MPT_TEST(worker_death),
        MPT_TEST(idle_worker_killed),
        MPT_TEST(results_seen_without_get),
        MPT_TEST(death_in_map),
        MPT_TEST(pipelined_death),
        MPT_TEST(nothing_waits_behind_a_slow_chunk),
        MPT_TEST(large_items_and_results),
        MPT_TEST(maxtasks_and_initializer),
        MPT_TEST(initializer_failure),
        MPT_TEST(terminate_with_queue),
        MPT_TEST(hundred_workers),
        MPT_TEST(fixed_size_elements),
        MPT_TEST(bad_input),
    };
    return MPT_RUN(tests);
}
