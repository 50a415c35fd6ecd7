/* test_timeouts.c - a negative timeout (-0.5, and -1.0, which once meant
 * forever) and NaN poll in every call that takes a timeout, as 0 does:
 * they return the call's timeout result while what is waited for is not
 * ready. MP_FOREVER still waits until it is.
 *
 * What a poll meets is held by a child or a thread that lets go after
 * HOLD seconds on its own. A call that waits instead of polling therefore
 * returns success after HOLD seconds, not the timeout result, and the test
 * fails then instead of hanging. */
#include <math.h>
#include <stdbool.h>

#include "harness.h"
#include "platform.h"

#define HOLD 5.0 /* long enough for every poll of a test to run first */
#define SOON 0.2 /* when a MP_FOREVER wait's thing becomes ready */

static const double bad_timeouts[] = {-0.5, -1.0, (double)NAN};
#define NBAD (sizeof bad_timeouts / sizeof bad_timeouts[0])

/* ---- what the checks share ------------------------------------------------ */

static int sleep_for(const mp_value *args)
{
    double seconds;
    int rc = mp_args(args, "d", &seconds);
    if (rc == MP_OK)
        mp_os_sleep(seconds);
    return rc;
}
MP_TARGET(sleep_for)

/* The same as a pool task: for apply the argument, for imap the item. */
static int sleep_task(const mp_value *args, mp_buf *result)
{
    (void)result;
    return sleep_for(args);
}
MP_TASK(sleep_task)

/* A thread that holds something: hold(ctx) first (for what only its owner
 * may release), then give(ctx) after `seconds`, or as soon as the test
 * stops it. hold and give do not assert (cmocka's failures belong to the
 * test's thread); nor does the test while a holder runs, since the holder
 * lives on its stack: it records what it got, stops the holder, then
 * checks. */
typedef struct holder {
    void (*hold)(void *ctx);
    void (*give)(void *ctx);
    void *ctx;
    double seconds;
    mp_mutex *m;
    mp_cond *c;
    bool holding, stop;
    mp_thread *t; /* NULL once joined */
} holder;

static int holder_main(void *arg)
{
    holder *h = arg;
    if (h->hold)
        h->hold(h->ctx);
    mp_mutex_lock(h->m);
    h->holding = true;
    mp_cond_broadcast(h->c);
    double end = mp_os_monotonic() + h->seconds;
    while (!h->stop && mp_os_monotonic() < end)
        mp_cond_wait(h->c, h->m, end - mp_os_monotonic());
    mp_mutex_unlock(h->m);
    if (h->give)
        h->give(h->ctx);
    return 0;
}

static void holder_start(holder *h, double seconds, void (*hold)(void *), void (*give)(void *), void *ctx)
{
    *h = (holder){.hold = hold, .give = give, .ctx = ctx, .seconds = seconds};
    MPT_OK(mp_mutex_new(&h->m));
    MPT_OK(mp_cond_new(&h->c));
    MPT_OK(mp_thread_start(&h->t, holder_main, h, "holder"));
    mp_mutex_lock(h->m);
    while (!h->holding)
        mp_cond_wait(h->c, h->m, MP_FOREVER);
    mp_mutex_unlock(h->m);
}

static void holder_stop(holder *h)
{
    mp_mutex_lock(h->m);
    h->stop = true;
    mp_cond_broadcast(h->c);
    mp_mutex_unlock(h->m);
    /* Gone before its stack frame is, even should MP_FOREVER not wait. */
    while (h->t != NULL && mp_thread_join(h->t, MP_FOREVER, NULL) != MP_OK)
        mp_os_sleep(0.01);
    mp_cond_free(h->c);
    mp_mutex_free(h->m);
}

typedef struct outcome {
    int rc;         /* the first code that was not the one wanted */
    double timeout; /* and the timeout that gave it */
    bool wrong;
} outcome;

/* call(ctx, t) for each timeout that must poll, up to the first that does
 * not give want: a call that waited has made the thing ready (or, for a
 * thread join, gone). Asserting comes later, once nothing holds anything. */
static outcome polls(int (*call)(void *ctx, double timeout), void *ctx, int want)
{
    for (size_t i = 0; i < NBAD; i++) {
        int rc = call(ctx, bad_timeouts[i]);
        if (rc != want)
            return (outcome){rc, bad_timeouts[i], true};
    }
    return (outcome){want, 0, false};
}

static void expect(outcome o, int want, const char *what)
{
    if (o.wrong)
        fail_msg("%s with timeout %g returned %d (%s), expected %s at once; last error: %s", what, o.timeout,
                 o.rc, mp_errname(o.rc), mp_errname(want), mp_last_error());
}

/* Hold, poll, let go, then check: the usual shape of a case. Each case
 * has its own object, so that one that fails leaves the next unchanged. */
static void check_held(void (*hold)(void *), void (*give)(void *), int (*call)(void *, double), void *ctx,
                       int want, const char *what)
{
    holder h;
    holder_start(&h, HOLD, hold, give, ctx);
    outcome o = polls(call, ctx, want);
    holder_stop(&h);
    expect(o, want, what);
}

/* ---- processes and mp_wait ------------------------------------------------ */

static int join_process(void *p, double timeout)
{
    return mp_process_join(p, timeout);
}

static int wait_sentinel(void *s, double timeout)
{
    bool ready = false;
    return mp_wait(s, 1, timeout, &ready);
}

/* A child that sleeps HOLD seconds, polled through join or its sentinel. */
static void check_sleeper(mp_start_method m, bool by_sentinel)
{
    mp_process *p;
    MPT_OK(mp_process_new(&p, sleep_for, mpt_opts(m), "d", HOLD));
    MPT_OK(mp_process_start(p));
    mp_sentinel s;
    MPT_OK(mp_process_sentinel(p, &s));
    outcome o = by_sentinel ? polls(wait_sentinel, &s, MP_ETIMEDOUT) : polls(join_process, p, MP_ETIMEDOUT);
    MPT_OK(mp_process_terminate(p));
    MPT_OK(mp_process_join(p, MP_FOREVER));
    MPT_OK(mp_process_close(p));
    expect(o, MP_ETIMEDOUT, by_sentinel ? "mp_wait on a process sentinel" : "mp_process_join");
}

static void process_polls(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        check_sleeper(methods[k], false);
        check_sleeper(methods[k], true);
    }
}

/* ---- connections ------------------------------------------------------------ */

typedef struct pipe_ends {
    mp_conn *r, *w;
    mp_sentinel s;
} pipe_ends;

static void send_one(void *ctx)
{
    mp_conn_send(((pipe_ends *)ctx)->w, "i", 1);
}

static int poll_conn(void *ctx, double timeout)
{
    return mp_conn_poll(((pipe_ends *)ctx)->r, timeout);
}

static int wait_conn(void *ctx, double timeout)
{
    return wait_sentinel(&((pipe_ends *)ctx)->s, timeout);
}

static void check_pipe(int (*call)(void *, double), const char *what)
{
    pipe_ends e;
    MPT_OK(mp_pipe(false, &e.r, &e.w));
    MPT_OK(mp_conn_fileno(e.r, &e.s));
    holder h;
    holder_start(&h, HOLD, NULL, send_one, &e);
    outcome o = polls(call, &e, MP_ETIMEDOUT);
    holder_stop(&h);
    MPT_OK(mp_conn_close(e.r));
    MPT_OK(mp_conn_close(e.w));
    expect(o, MP_ETIMEDOUT, what);
}

static void connection_polls(void **state)
{
    (void)state;
    check_pipe(poll_conn, "mp_conn_poll");
    check_pipe(wait_conn, "mp_wait on a connection");
}

/* ---- queues ----------------------------------------------------------------- */

static void put_one(void *q)
{
    mp_queue_put(q, MP_FOREVER, "i", 1);
}

static void get_one(void *q)
{
    mp_value *v = NULL;
    mp_queue_get(q, MP_FOREVER, &v);
    mp_value_free(v);
}

static void get_and_finish(void *q)
{
    get_one(q);
    mp_queue_task_done(q);
}

static int get_item(void *q, double timeout)
{
    mp_value *v = NULL;
    int rc = mp_queue_get(q, timeout, &v);
    mp_value_free(v);
    return rc;
}

static int put_item(void *q, double timeout)
{
    return mp_queue_put(q, timeout, "i", 2);
}

static int join_queue(void *q, double timeout)
{
    return mp_queue_join(q, timeout);
}

/* A JoinableQueue of maxsize 1 holding `items` unfinished items. */
static mp_queue *queue_with(int items)
{
    mp_queue *q;
    MPT_OK(mp_joinable_queue_new(&q, &(mp_queue_options){.maxsize = 1}));
    for (int i = 0; i < items; i++)
        MPT_OK(mp_queue_put(q, MP_FOREVER, "i", 1));
    return q;
}

static void queue_polls(void **state)
{
    (void)state;
    mp_queue *q = queue_with(0);
    check_held(NULL, put_one, get_item, q, MP_EEMPTY, "mp_queue_get on an empty queue");
    mp_queue_free(q);
    q = queue_with(1);
    check_held(NULL, get_one, put_item, q, MP_EFULL, "mp_queue_put on a full queue");
    mp_queue_free(q);
    q = queue_with(1);
    check_held(NULL, get_and_finish, join_queue, q, MP_ETIMEDOUT, "mp_queue_join");
    mp_queue_free(q);
}

/* ---- locks and semaphores ------------------------------------------------- */

static void acquire_lock(void *l)
{
    mp_lock_acquire(l, MP_FOREVER);
}

static void release_lock(void *l)
{
    mp_lock_release(l);
}

static int try_lock(void *l, double timeout)
{
    int rc = mp_lock_acquire(l, timeout);
    if (rc == MP_OK)
        mp_lock_release(l);
    return rc;
}

static void release_semaphore(void *s)
{
    mp_semaphore_release(s);
}

static int try_semaphore(void *s, double timeout)
{
    return mp_semaphore_acquire(s, timeout);
}

static void acquire_condition(void *c)
{
    mp_condition_acquire(c, MP_FOREVER);
}

static void release_condition(void *c)
{
    mp_condition_release(c);
}

static int try_condition(void *c, double timeout)
{
    int rc = mp_condition_acquire(c, timeout);
    if (rc == MP_OK)
        mp_condition_release(c);
    return rc;
}

static void lock_polls(void **state)
{
    (void)state;
    mp_lock *l;
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_lock_acquire(l, MP_FOREVER)); /* the holder releases it */
    check_held(NULL, release_lock, try_lock, l, MP_ETIMEDOUT, "mp_lock_acquire of a held Lock");
    mp_lock_free(l);

    MPT_OK(mp_rlock_new(&l));
    check_held(acquire_lock, release_lock, try_lock, l, MP_ETIMEDOUT, "mp_lock_acquire of a held RLock");
    mp_lock_free(l);

    mp_semaphore *s;
    MPT_OK(mp_semaphore_new(&s, 0));
    check_held(NULL, release_semaphore, try_semaphore, s, MP_ETIMEDOUT, "mp_semaphore_acquire at 0");
    mp_semaphore_free(s);

    mp_condition *c;
    MPT_OK(mp_condition_new(&c, NULL));
    check_held(acquire_condition, release_condition, try_condition, c, MP_ETIMEDOUT,
               "mp_condition_acquire of a held Condition");
    mp_condition_free(c);
}

/* ---- Condition, Event, Barrier ------------------------------------------ */

typedef struct flagged {
    mp_condition *c;
    bool flag;
} flagged;

static void notify_condition(void *ctx)
{
    flagged *f = ctx;
    if (mp_condition_acquire(f->c, MP_FOREVER) != MP_OK)
        return;
    f->flag = true;
    mp_condition_notify_all(f->c);
    mp_condition_release(f->c);
}

static int wait_condition(void *ctx, double timeout)
{
    flagged *f = ctx;
    int rc = mp_condition_acquire(f->c, MP_FOREVER);
    if (rc != MP_OK)
        return rc;
    rc = mp_condition_wait(f->c, timeout);
    mp_condition_release(f->c);
    return rc;
}

static bool flag_set(void *ctx)
{
    return ((flagged *)ctx)->flag;
}

static int wait_for_flag(void *ctx, double timeout)
{
    flagged *f = ctx;
    int rc = mp_condition_acquire(f->c, MP_FOREVER);
    if (rc != MP_OK)
        return rc;
    rc = mp_condition_wait_for(f->c, flag_set, f, timeout);
    mp_condition_release(f->c);
    return rc;
}

static void set_event(void *e)
{
    mp_event_set(e);
}

static int wait_event(void *e, double timeout)
{
    return mp_event_wait(e, timeout);
}

/* The other party: in time to complete a pass with a waiting test. */
static void arrive(void *b)
{
    mp_barrier_wait(b, 1.0, NULL);
}

/* A lone party's poll breaks the barrier; reset it for the next. */
static int wait_barrier(void *b, double timeout)
{
    int rc = mp_barrier_wait(b, timeout, NULL);
    int reset = mp_barrier_reset(b);
    return reset != MP_OK ? reset : rc;
}

static void condition_polls(void **state)
{
    (void)state;
    flagged f = {NULL, false};
    MPT_OK(mp_condition_new(&f.c, NULL));
    check_held(NULL, notify_condition, wait_condition, &f, MP_ETIMEDOUT, "mp_condition_wait");
    mp_condition_free(f.c);
    f = (flagged){NULL, false};
    MPT_OK(mp_condition_new(&f.c, NULL));
    check_held(NULL, notify_condition, wait_for_flag, &f, MP_ETIMEDOUT, "mp_condition_wait_for");
    mp_condition_free(f.c);

    mp_event *e;
    MPT_OK(mp_event_new(&e));
    check_held(NULL, set_event, wait_event, e, MP_ETIMEDOUT, "mp_event_wait");
    mp_event_free(e);

    mp_barrier *b;
    MPT_OK(mp_barrier_new(&b, 2, NULL));
    check_held(NULL, arrive, wait_barrier, b, MP_EBROKEN, "mp_barrier_wait of a lone party");
    mp_barrier_free(b);
}

/* A default timeout that polls makes a wait given MP_FOREVER poll; were it
 * to block, the other party would arrive and complete the pass. */
static void barrier_default_polls(void **state)
{
    (void)state;
    static const double polling[] = {0.0, -0.5, -1.0, (double)NAN};
    for (size_t i = 0; i < sizeof polling / sizeof polling[0]; i++) {
        mp_barrier_options opts = MP_BARRIER_OPTIONS_INIT;
        opts.timeout = polling[i];
        mp_barrier *b;
        MPT_OK(mp_barrier_new(&b, 2, &opts));
        holder h;
        holder_start(&h, HOLD, NULL, arrive, b);
        int rc = mp_barrier_wait(b, MP_FOREVER, NULL);
        holder_stop(&h);
        mp_barrier_free(b);
        if (rc != MP_EBROKEN)
            fail_msg("mp_barrier_wait(MP_FOREVER) with a default timeout of %g returned %s, expected MP_EBROKEN "
                     "at once",
                     polling[i], mp_errname(rc));
    }
}

/* ---- threads ------------------------------------------------------------- */

static int join_holder(void *h, double timeout)
{
    holder *held = h;
    int rc = mp_thread_join(held->t, timeout, NULL);
    if (rc == MP_OK)
        held->t = NULL;
    return rc;
}

typedef struct signalled {
    mp_mutex *m;
    mp_cond *c;
} signalled;

static void signal_cond(void *ctx)
{
    signalled *s = ctx;
    mp_mutex_lock(s->m);
    mp_cond_signal(s->c);
    mp_mutex_unlock(s->m);
}

static int wait_cond(void *ctx, double timeout)
{
    signalled *s = ctx;
    mp_mutex_lock(s->m);
    int rc = mp_cond_wait(s->c, s->m, timeout);
    mp_mutex_unlock(s->m);
    return rc;
}

static void thread_polls(void **state)
{
    (void)state;
    holder h;
    holder_start(&h, HOLD, NULL, NULL, NULL);
    outcome joined = polls(join_holder, &h, MP_ETIMEDOUT);
    holder_stop(&h);
    expect(joined, MP_ETIMEDOUT, "mp_thread_join of a running thread");

    signalled s;
    MPT_OK(mp_mutex_new(&s.m));
    MPT_OK(mp_cond_new(&s.c));
    check_held(NULL, signal_cond, wait_cond, &s, MP_ETIMEDOUT, "mp_cond_wait");
    mp_cond_free(s.c);
    mp_mutex_free(s.m);
}

/* ---- Pool ------------------------------------------------------------------ */

static int get_result(void *r, double timeout)
{
    mp_value *v = NULL;
    int rc = mp_async_result_get(r, timeout, &v);
    mp_value_free(v);
    return rc;
}

static int wait_result(void *r, double timeout)
{
    return mp_async_result_wait(r, timeout);
}

static int next_item(void *it, double timeout)
{
    mp_value *v = NULL;
    int rc = mp_imap_next(it, timeout, &v);
    mp_value_free(v);
    return rc;
}

static int join_pool(void *p, double timeout)
{
    return mp_pool_join(p, timeout);
}

/* A Pool of one worker, busy for HOLD seconds with an apply, in which the
 * call chosen must poll. Terminating the pool ends the apply at once. */
typedef enum { GET, WAIT, NEXT, JOIN } pool_call;

static void check_busy_pool(pool_call call, const char *what)
{
    mp_pool *p;
    MPT_OK(mp_pool_new(&p, &(mp_pool_options){.processes = 1}));
    mp_async_result *r;
    MPT_OK(mp_pool_apply_async(p, sleep_task, NULL, &r, "d", HOLD));
    mp_buf items = MP_BUF_INIT;
    mp_imap_iter *it = NULL;
    outcome o = {0};
    switch (call) {
    case GET:
        o = polls(get_result, r, MP_ETIMEDOUT);
        break;
    case WAIT:
        o = polls(wait_result, r, MP_ETIMEDOUT);
        break;
    case NEXT:
        /* its one item waits behind the apply */
        MPT_OK(mp_pack(&items, "d", 0.0));
        MPT_OK(mp_pool_imap(p, sleep_task, items.data, items.len, NULL, &it));
        o = polls(next_item, it, MP_ETIMEDOUT);
        break;
    case JOIN:
        MPT_OK(mp_pool_close(p));
        o = polls(join_pool, p, MP_ETIMEDOUT);
        break;
    }
    MPT_OK(mp_pool_terminate(p));
    MPT_OK(mp_pool_join(p, MP_FOREVER));
    mp_imap_free(it);
    mp_async_result_free(r);
    mp_pool_free(p);
    mp_buf_free(&items);
    expect(o, MP_ETIMEDOUT, what);
}

static void pool_polls(void **state)
{
    (void)state;
    check_busy_pool(GET, "mp_async_result_get");
    check_busy_pool(WAIT, "mp_async_result_wait");
    check_busy_pool(NEXT, "mp_imap_next");
    check_busy_pool(JOIN, "mp_pool_join of a busy pool");
}

/* ---- MP_FOREVER ------------------------------------------------------------ */

static void arrive_forever(void *b)
{
    mp_barrier_wait(b, MP_FOREVER, NULL);
}

static int poll_conn_forever(void *ctx)
{
    return mp_conn_poll(((pipe_ends *)ctx)->r, MP_FOREVER);
}

static int get_forever(void *q)
{
    mp_value *v = NULL;
    int rc = mp_queue_get(q, MP_FOREVER, &v);
    mp_value_free(v);
    return rc;
}

static int lock_forever(void *l)
{
    return mp_lock_acquire(l, MP_FOREVER);
}

static int event_forever(void *e)
{
    return mp_event_wait(e, MP_FOREVER);
}

static int barrier_forever(void *b)
{
    return mp_barrier_wait(b, MP_FOREVER, NULL);
}

/* wait(ctx) with MP_FOREVER while a holder gives SOON after: a wait that
 * polled would give its timeout result instead of MP_OK. */
static void check_forever(void (*give)(void *), int (*wait)(void *), void *ctx, const char *what)
{
    holder h;
    holder_start(&h, SOON, NULL, give, ctx);
    int rc = wait(ctx);
    holder_stop(&h);
    if (rc != MP_OK)
        fail_msg("%s with MP_FOREVER returned %s; last error: %s", what, mp_errname(rc), mp_last_error());
}

static void forever_waits(void **state)
{
    (void)state;
    assert_true(isinf(MP_FOREVER) && MP_FOREVER > 0);

    mp_process *p;
    MPT_OK(mp_process_new(&p, sleep_for, NULL, "d", SOON));
    MPT_OK(mp_process_start(p));
    mp_sentinel s;
    MPT_OK(mp_process_sentinel(p, &s));
    bool ready = false;
    assert_int_equal(mp_wait(&s, 1, MP_FOREVER, &ready), 1);
    assert_true(ready);
    assert_int_equal(mpt_join_child(p), 0);

    MPT_OK(mp_process_new(&p, sleep_for, NULL, "d", SOON));
    MPT_OK(mp_process_start(p));
    MPT_OK(mp_process_join(p, MP_FOREVER));
    MPT_OK(mp_process_close(p));

    pipe_ends e;
    MPT_OK(mp_pipe(false, &e.r, &e.w));
    check_forever(send_one, poll_conn_forever, &e, "mp_conn_poll");
    MPT_OK(mp_conn_close(e.r));
    MPT_OK(mp_conn_close(e.w));

    mp_queue *q;
    MPT_OK(mp_queue_new(&q, NULL));
    check_forever(put_one, get_forever, q, "mp_queue_get");
    mp_queue_free(q);

    mp_lock *l;
    MPT_OK(mp_lock_new(&l));
    MPT_OK(mp_lock_acquire(l, MP_FOREVER));
    check_forever(release_lock, lock_forever, l, "mp_lock_acquire");
    MPT_OK(mp_lock_release(l));
    mp_lock_free(l);

    mp_event *ev;
    MPT_OK(mp_event_new(&ev));
    check_forever(set_event, event_forever, ev, "mp_event_wait");
    mp_event_free(ev);

    /* MP_FOREVER in the options is no default timeout: the wait blocks. */
    mp_barrier *b;
    MPT_OK(mp_barrier_new(&b, 2, &(mp_barrier_options)MP_BARRIER_OPTIONS_INIT));
    check_forever(arrive_forever, barrier_forever, b, "mp_barrier_wait");
    mp_barrier_free(b);

    holder h;
    holder_start(&h, SOON, NULL, NULL, NULL);
    int rc = mp_thread_join(h.t, MP_FOREVER, NULL);
    if (rc == MP_OK)
        h.t = NULL;
    holder_stop(&h);
    MPT_OK(rc);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(process_polls),   MPT_TEST(connection_polls), MPT_TEST(queue_polls), MPT_TEST(lock_polls),
        MPT_TEST(condition_polls), MPT_TEST(barrier_default_polls), MPT_TEST(thread_polls),     MPT_TEST(pool_polls),  MPT_TEST(forever_waits),
    };
    return MPT_RUN(tests);
}
