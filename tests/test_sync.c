/* test_sync.c - Lock, RLock, Semaphore, BoundedSemaphore, Condition,
 * Event and Barrier crossing process boundaries under every start method:
 * Python's release rules, semaphore values, notify counts and wait
 * timeouts, event set/clear/wait, barrier lockstep, action, abort, reset
 * and timeout, and a holder that dies (MP_EOWNERDEAD). */
#include <stdint.h>
#include <stdlib.h>

#include "object/block.h"
#include "harness.h"

static int join(mp_process *p)
{
    return mpt_join_child(p);
}

/* ---- Lock and RLock ---------------------------------------------------- */

static int release_it(const mp_value *args)
{
    mp_lock *l;
    int rc = mp_args(args, "O", &l);
    return rc == MP_OK ? mp_lock_release(l) : rc;
}
MP_TARGET(release_it)

static int acquire_and_die(const mp_value *args)
{
    mp_lock *l;
    int rc = mp_args(args, "O", &l);
    if (rc == MP_OK)
        rc = mp_lock_acquire(l, MP_FOREVER);
    return rc; /* exits holding it */
}
MP_TARGET(acquire_and_die)

static int rlock_other_thread(void *l)
{
    return mp_lock_release(l);
}

/* Takes the RLock twice and ends holding it. */
static int rlock_and_end(void *l)
{
    int rc = mp_lock_acquire(l, 0);
    return rc == MP_OK ? mp_lock_acquire(l, 0) : rc;
}

static void lock_rules(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_lock *l;
        MPT_OK(mp_lock_new(&l));
        MPT_CODE(mp_lock_release(l), MP_ESTATE);
        MPT_OK(mp_lock_acquire(l, MP_FOREVER));
        MPT_CODE(mp_lock_acquire(l, 0), MP_ETIMEDOUT);
        MPT_CODE(mp_lock_acquire(l, 0.05), MP_ETIMEDOUT);
        /* any process may release a Lock */
        mp_process *p;
        MPT_OK(mp_process_new(&p, release_it, mpt_opts(methods[k]), "O", l));
        assert_int_equal(mpt_run_child(p), 0);
        MPT_OK(mp_lock_acquire(l, 0));
        MPT_OK(mp_lock_release(l));

        /* a holder that dies */
        MPT_OK(mp_process_new(&p, acquire_and_die, mpt_opts(methods[k]), "O", l));
        assert_int_equal(mpt_run_child(p), 0);
        MPT_CODE(mp_lock_acquire(l, 10), MP_EOWNERDEAD);
        MPT_OK(mp_lock_release(l));
        mp_lock_free(l);

        mp_lock *r;
        MPT_OK(mp_rlock_new(&r));
        MPT_CODE(mp_lock_release(r), MP_ESTATE);
        MPT_OK(mp_lock_acquire(r, 0));
        MPT_OK(mp_lock_acquire(r, 0));
        mp_thread *t;
        int result;
        MPT_OK(mp_thread_start(&t, rlock_other_thread, r, NULL));
        MPT_OK(mp_thread_join(t, MP_FOREVER, &result));
        assert_int_equal(result, MP_ESTATE);
        MPT_OK(mp_process_new(&p, release_it, mpt_opts(methods[k]), "O", r));
        assert_int_not_equal(mpt_run_child(p), 0);
        MPT_OK(mp_lock_release(r));
        MPT_OK(mp_lock_release(r));
        MPT_CODE(mp_lock_release(r), MP_ESTATE);

        MPT_OK(mp_process_new(&p, acquire_and_die, mpt_opts(methods[k]), "O", r));
        assert_int_equal(mpt_run_child(p), 0);
        MPT_CODE(mp_lock_acquire(r, 10), MP_EOWNERDEAD);
        MPT_OK(mp_lock_acquire(r, 0));
        MPT_OK(mp_lock_release(r));
        MPT_OK(mp_lock_release(r));

        /* a holding thread that ends, its process living on: count 1 */
        MPT_OK(mp_thread_start(&t, rlock_and_end, r, NULL));
        MPT_OK(mp_thread_join(t, MP_FOREVER, &result));
        MPT_OK(result);
        MPT_CODE(mp_lock_release(r), MP_ESTATE);
        MPT_CODE(mp_lock_acquire(r, 10), MP_EOWNERDEAD);
        MPT_OK(mp_lock_release(r));
        MPT_CODE(mp_lock_release(r), MP_ESTATE);
        mp_lock_free(r);
    }
}

/* A Lock taken and given back without a system call unless contended:
 * processes and threads contending count exactly, and a holder that dies
 * while others sleep on the Lock is taken over from (they were counted as
 * sleepers, and what they leave behind must not break the Lock). */
#define CONTENDED_ROUNDS 20000

static int count_under(mp_lock *l, mp_shared *counter)
{
    int64_t *n = mp_shared_ptr(counter);
    for (int i = 0; i < CONTENDED_ROUNDS; i++) {
        int rc = mp_lock_acquire(l, MP_FOREVER);
        if (rc != MP_OK)
            return rc;
        ++*n;
        if ((rc = mp_lock_release(l)) != MP_OK)
            return rc;
    }
    return 0;
}

static int count_in_child(const mp_value *args)
{
    mp_lock *l;
    mp_shared *counter;
    int rc = mp_args(args, "OO", &l, &counter);
    return rc == MP_OK ? count_under(l, counter) : rc;
}
MP_TARGET(count_in_child)

struct counting {
    mp_lock *l;
    mp_shared *counter;
};

/* One acquire and release; the acquire's code, MP_OK or MP_EOWNERDEAD. */
static int acquire_once(void *l)
{
    int rc = mp_lock_acquire(l, 10);
    if (rc != MP_OK && rc != MP_EOWNERDEAD)
        return rc;
    int released = mp_lock_release(l);
    return released == MP_OK ? rc : released;
}

static int count_in_thread(void *arg)
{
    struct counting *c = arg;
    return count_under(c->l, c->counter);
}

static int hold_and_die(const mp_value *args)
{
    mp_lock *l;
    mp_event *held, *never;
    int rc = mp_args(args, "OOO", &l, &held, &never);
    if (rc == MP_OK)
        rc = mp_lock_acquire(l, MP_FOREVER);
    if (rc == MP_OK)
        rc = mp_event_set(held);
    if (rc == MP_OK)
        mp_event_wait(never, 0.3); /* the parent is asleep on the Lock by now */
    return rc; /* exits holding it */
}
MP_TARGET(hold_and_die)

static void lock_contended(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_lock *l;
        mp_shared *counter;
        MPT_OK(mp_lock_new(&l));
        MPT_OK(mp_shared_value_new(&counter, 'q', false));
        mp_process *p[2];
        for (int i = 0; i < 2; i++) {
            MPT_OK(mp_process_new(&p[i], count_in_child, mpt_opts(methods[k]), "OO", l, counter));
            MPT_OK(mp_process_start(p[i]));
        }
        struct counting c = {l, counter};
        mp_thread *t;
        int result;
        MPT_OK(mp_thread_start(&t, count_in_thread, &c, NULL));
        assert_int_equal(count_under(l, counter), 0);
        MPT_OK(mp_thread_join(t, MP_FOREVER, &result));
        assert_int_equal(result, 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(join(p[i]), 0);
        assert_int_equal(*(int64_t *)mp_shared_ptr(counter), 4 * CONTENDED_ROUNDS);

        mp_event *held, *never;
        MPT_OK(mp_event_new(&held));
        MPT_OK(mp_event_new(&never));
        MPT_OK(mp_process_new(&p[0], hold_and_die, mpt_opts(methods[k]), "OOO", l, held, never));
        MPT_OK(mp_process_start(p[0]));
        MPT_OK(mp_event_wait(held, 10));
        /* two sleepers: one of them is told the holder died */
        MPT_OK(mp_thread_start(&t, acquire_once, l, NULL));
        int mine = acquire_once(l);
        MPT_OK(mp_thread_join(t, MP_FOREVER, &result));
        assert_int_equal(join(p[0]), 0);
        assert_true((mine == MP_EOWNERDEAD && result == MP_OK) || (mine == MP_OK && result == MP_EOWNERDEAD));
        /* nothing the sleepers left lets two hold it */
        MPT_OK(mp_lock_acquire(l, 0));
        MPT_CODE(mp_lock_acquire(l, 0.05), MP_ETIMEDOUT);
        MPT_OK(mp_lock_release(l));
        MPT_CODE(mp_lock_release(l), MP_ESTATE);
        mp_event_free(held);
        mp_event_free(never);
        mp_shared_free(counter);
        mp_lock_free(l);
    }
}

/* ---- Semaphore --------------------------------------------------------- */

static int take_two(const mp_value *args)
{
    mp_semaphore *s;
    int rc = mp_args(args, "O", &s);
    if (rc == MP_OK)
        rc = mp_semaphore_acquire(s, 10);
    if (rc == MP_OK)
        rc = mp_semaphore_acquire(s, 10);
    return rc;
}
MP_TARGET(take_two)

static void semaphores(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_semaphore *s;
        int v;
        MPT_OK(mp_semaphore_new(&s, 3));
        MPT_OK(mp_semaphore_get_value(s, &v));
        assert_int_equal(v, 3);
        mp_process *p;
        MPT_OK(mp_process_new(&p, take_two, mpt_opts(methods[k]), "O", s));
        assert_int_equal(mpt_run_child(p), 0);
        MPT_OK(mp_semaphore_get_value(s, &v));
        assert_int_equal(v, 1);
        MPT_OK(mp_semaphore_acquire(s, 0));
        MPT_CODE(mp_semaphore_acquire(s, 0.05), MP_ETIMEDOUT);
        for (int i = 0; i < 5; i++)
            MPT_OK(mp_semaphore_release(s)); /* unbounded */
        MPT_OK(mp_semaphore_get_value(s, &v));
        assert_int_equal(v, 5);
        mp_semaphore_free(s);
    }
    mp_semaphore *b;
    MPT_OK(mp_bounded_semaphore_new(&b, 2));
    MPT_CODE(mp_semaphore_release(b), MP_ERANGE);
    MPT_OK(mp_semaphore_acquire(b, 0));
    MPT_OK(mp_semaphore_release(b));
    MPT_CODE(mp_semaphore_release(b), MP_ERANGE);
    mp_semaphore_free(b);
    MPT_CODE(mp_semaphore_new(NULL, 1), MP_EINVAL);
}

/* ---- Condition --------------------------------------------------------- */

/* Wait on the condition once; count in the shared value whether notified. */
static int cond_waiter(const mp_value *args)
{
    mp_condition *c;
    mp_shared *woken;
    mp_semaphore *ready;
    int rc = mp_args(args, "OOO", &c, &woken, &ready);
    if (rc == MP_OK)
        rc = mp_condition_acquire(c, MP_FOREVER);
    if (rc != MP_OK)
        return rc;
    mp_semaphore_release(ready);
    rc = mp_condition_wait(c, 20);
    if (rc == MP_OK)
        ++*(int32_t *)mp_shared_ptr(woken);
    mp_condition_release(c);
    return rc == MP_OK ? 0 : 2;
}
MP_TARGET(cond_waiter)

/* Wait (up to 20 s) until the shared count is want; the condition's wait
 * lets the waiters through the lock meanwhile. */
static void wait_until(mp_condition *c, mp_shared *v, int32_t want)
{
    MPT_OK(mp_condition_acquire(c, MP_FOREVER));
    for (int i = 0; i < 2000 && *(int32_t *)mp_shared_ptr(v) != want; i++)
        mp_condition_wait(c, 0.01);
    assert_int_equal(*(int32_t *)mp_shared_ptr(v), want);
    MPT_OK(mp_condition_release(c));
}

static void condition_notify(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_condition *c;
        mp_shared *woken;
        mp_semaphore *ready;
        MPT_OK(mp_condition_new(&c, NULL));
        MPT_OK(mp_shared_value_new(&woken, 'i', false));
        MPT_OK(mp_semaphore_new(&ready, 0));
        mp_process *p[3];
        for (int i = 0; i < 3; i++) {
            MPT_OK(mp_process_new(&p[i], cond_waiter, mpt_opts(methods[k]), "OOO", c, woken, ready));
            MPT_OK(mp_process_start(p[i]));
        }
        for (int i = 0; i < 3; i++)
            MPT_OK(mp_semaphore_acquire(ready, 30));
        /* each waiter released the lock by waiting once it posted ready */
        MPT_OK(mp_condition_acquire(c, MP_FOREVER));
        MPT_OK(mp_condition_notify(c, 1));
        MPT_OK(mp_condition_release(c));
        wait_until(c, woken, 1);
        MPT_OK(mp_condition_acquire(c, MP_FOREVER));
        MPT_OK(mp_condition_notify_all(c));
        MPT_OK(mp_condition_release(c));
        wait_until(c, woken, 3);
        for (int i = 0; i < 3; i++)
            assert_int_equal(join(p[i]), 0);

        /* wait with a timeout, and without the lock */
        MPT_CODE(mp_condition_wait(c, 0.01), MP_ESTATE);
        MPT_CODE(mp_condition_notify(c, 1), MP_ESTATE);
        MPT_OK(mp_condition_acquire(c, MP_FOREVER));
        MPT_CODE(mp_condition_wait(c, 0.05), MP_ETIMEDOUT);
        MPT_OK(mp_condition_release(c));
        mp_semaphore_free(ready);
        mp_shared_free(woken);
        mp_condition_free(c);
    }
}

/* ---- Event ------------------------------------------------------------- */

static int event_setter(const mp_value *args)
{
    mp_event *go, *done;
    int rc = mp_args(args, "OO", &go, &done);
    if (rc == MP_OK)
        rc = mp_event_wait(go, 20);
    if (rc == MP_OK)
        rc = mp_event_set(done);
    return rc;
}
MP_TARGET(event_setter)

static void events(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_event *go, *done;
        MPT_OK(mp_event_new(&go));
        MPT_OK(mp_event_new(&done));
        assert_int_equal(mp_event_is_set(go), 0);
        MPT_CODE(mp_event_wait(go, 0.05), MP_ETIMEDOUT);
        mp_process *p;
        MPT_OK(mp_process_new(&p, event_setter, mpt_opts(methods[k]), "OO", go, done));
        MPT_OK(mp_process_start(p));
        MPT_CODE(mp_event_wait(done, 0.05), MP_ETIMEDOUT);
        MPT_OK(mp_event_set(go));
        MPT_OK(mp_event_wait(done, 20));
        assert_int_equal(mp_event_is_set(done), 1);
        assert_int_equal(join(p), 0);
        MPT_OK(mp_event_clear(done));
        assert_int_equal(mp_event_is_set(done), 0);
        MPT_OK(mp_event_wait(go, 0));
        mp_event_free(go);
        mp_event_free(done);
    }
}

/* ---- Barrier ----------------------------------------------------------- */

static mp_shared *action_count_here;

static int barrier_action(const mp_value *args)
{
    (void)args;
    ++*(int32_t *)mp_shared_ptr(action_count_here);
    return 0;
}
MP_TARGET(barrier_action)

#define PASSES 10
#define PARTIES 5

/* Ten passes in lockstep, two waits a pass. The action runs once per wait,
 * in whichever process arrives last, so after the first wait of pass i
 * every party sees the count 2i+1; indices of a pass are unique (each slot
 * of the hits array is hit once). 0 on success. */
static int run_lockstep(mp_barrier *b, mp_shared *count, mp_shared *hits)
{
    action_count_here = count;
    int32_t *h = mp_shared_ptr(hits);
    for (int pass = 0; pass < PASSES; pass++) {
        unsigned index;
        int rc = mp_barrier_wait(b, 30, &index);
        if (rc != MP_OK)
            return rc;
        if (*(int32_t *)mp_shared_ptr(count) != 2 * pass + 1)
            return 3;
        mp_lock_acquire(mp_shared_get_lock(hits), MP_FOREVER);
        h[pass * PARTIES + (int)index]++;
        mp_lock_release(mp_shared_get_lock(hits));
        if ((rc = mp_barrier_wait(b, 30, NULL)) != MP_OK)
            return rc;
    }
    return 0;
}

static int lockstep(const mp_value *args)
{
    mp_barrier *b;
    mp_shared *count, *hits;
    int rc = mp_args(args, "OOO", &b, &count, &hits);
    return rc == MP_OK ? run_lockstep(b, count, hits) : rc;
}
MP_TARGET(lockstep)

static void barrier_lockstep(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t k = 0, n = mpt_methods(methods); k < n; k++) {
        mp_barrier *b;
        mp_shared *count, *hits;
        mp_barrier_options opts = MP_BARRIER_OPTIONS_INIT;
        opts.action = barrier_action;
        MPT_OK(mp_barrier_new(&b, PARTIES, &opts));
        MPT_OK(mp_shared_value_new(&count, 'i', false));
        MPT_OK(mp_shared_array_new(&hits, 'i', PASSES * PARTIES, true));
        assert_int_equal(mp_barrier_parties(b), PARTIES);
        mp_process *p[PARTIES - 1];
        for (int i = 0; i < PARTIES - 1; i++) {
            MPT_OK(mp_process_new(&p[i], lockstep, mpt_opts(methods[k]), "OOO", b, count, hits));
            MPT_OK(mp_process_start(p[i]));
        }
        assert_int_equal(run_lockstep(b, count, hits), 0);
        for (int i = 0; i < PARTIES - 1; i++)
            assert_int_equal(join(p[i]), 0);
        assert_int_equal(*(int32_t *)mp_shared_ptr(count), 2 * PASSES);
        for (int i = 0; i < PASSES * PARTIES; i++)
            assert_int_equal(((int32_t *)mp_shared_ptr(hits))[i], 1);
        mp_barrier_free(b);
        mp_shared_free(count);
        mp_shared_free(hits);
    }
}

static void barrier_abort_reset_timeout(void **state)
{
    (void)state;
    mp_barrier *b;
    MPT_OK(mp_barrier_new(&b, 2, NULL));
    assert_int_equal(mp_barrier_n_waiting(b), 0);
    MPT_CODE(mp_barrier_wait(b, 0.05, NULL), MP_EBROKEN);
    assert_true(mp_barrier_broken(b));
    MPT_CODE(mp_barrier_wait(b, 0.05, NULL), MP_EBROKEN);
    MPT_OK(mp_barrier_reset(b));
    assert_false(mp_barrier_broken(b));
    MPT_OK(mp_barrier_abort(b));
    assert_true(mp_barrier_broken(b));
    MPT_CODE(mp_barrier_wait(b, 1, NULL), MP_EBROKEN);
    MPT_OK(mp_barrier_reset(b));
    mp_barrier_free(b);
    MPT_CODE(mp_barrier_new(&b, 0, NULL), MP_EINVAL);
}

/* A shared block whose header promises more sync slots than its memory
 * holds (a Lock's semaphore in a 64-byte block) is refused, not read past
 * its end. */
static void short_block_refused(void **state)
{
    (void)state;
    mp_os_shm shm;
    MPT_OK(mp_os_shm_create(NULL, 64, &shm));
    uint32_t *w = shm.addr;
    w[0] = 0x6d70426cu; /* the block magic, "mpBl" */
    w[1] = 1;           /* one semaphore */
    w[2] = 0;           /* no mutex */
    *(uint64_t *)(void *)(w + 4) = 64;
    mp_os_handle h[3] = {shm.handle, MP_OS_NO_HANDLE, MP_OS_NO_HANDLE};
    shm.handle = MP_OS_NO_HANDLE; /* the import owns it now */
    mp_block b;
    size_t used = 0;
    MPT_CODE(mp_block_import(&b, 64, h, 3, &used), MP_EPROTO);
    mp_os_shm_close(&shm);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(lock_rules), MPT_TEST(lock_contended), MPT_TEST(semaphores), MPT_TEST(condition_notify), MPT_TEST(events),
        MPT_TEST(barrier_lockstep), MPT_TEST(barrier_abort_reset_timeout), MPT_TEST(short_block_refused),
    };
    return MPT_RUN(tests);
}
