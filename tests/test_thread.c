/* test_thread.c - threads, mutexes, condition variables and thread-local
 * slots (thread.h): names and idents (MainThread, Thread-N, given names,
 * Dummy-N for threads mproc did not make), join with a timeout, a thread
 * joining itself, bad input, mutual exclusion, condition hand-offs and
 * timeouts, per-thread values with destructors, seed 003's ThreadLocal, and
 * fork children that find the library's locks usable while another thread
 * of the parent was using them at the moment of the fork. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

/* ---- names and idents --------------------------------------------------- */

typedef struct seen {
    char name[64];
    uint64_t ident;
} seen;

static int note_self(void *arg)
{
    seen *s = arg;
    snprintf(s->name, sizeof s->name, "%s", mp_current_thread_name());
    s->ident = mp_current_thread_ident();
    return 7;
}

static void names_and_idents(void **state)
{
    (void)state;
    assert_string_equal(mp_current_thread_name(), "MainThread");
    uint64_t main_ident = mp_current_thread_ident();
    assert_true(main_ident != 0);

    seen a = {{0}, 0}, b = {{0}, 0};
    mp_thread *ta, *tb;
    MPT_OK(mp_thread_start(&ta, note_self, &a, NULL));
    MPT_OK(mp_thread_start(&tb, note_self, &b, "worker-b"));
    assert_memory_equal(mp_thread_name(ta), "Thread-", 7);
    assert_string_equal(mp_thread_name(tb), "worker-b");
    uint64_t ia = mp_thread_ident(ta), ib = mp_thread_ident(tb);
    int result = 0;
    MPT_OK(mp_thread_join(ta, MP_FOREVER, &result));
    assert_int_equal(result, 7);
    MPT_OK(mp_thread_join(tb, MP_FOREVER, NULL));

    assert_memory_equal(a.name, "Thread-", 7);
    assert_string_equal(b.name, "worker-b");
    assert_true(ia != 0 && ib != 0);
    assert_true(ia == a.ident && ib == b.ident);
    assert_true(ia != main_ident && ib != main_ident);
    assert_string_equal(mp_current_thread_name(), "MainThread");

    /* default names count up */
    seen c = {{0}, 0};
    mp_thread *tc;
    MPT_OK(mp_thread_start(&tc, note_self, &c, NULL));
    MPT_OK(mp_thread_join(tc, MP_FOREVER, NULL));
    unsigned na = 0, nc = 0;
    assert_int_equal(sscanf(a.name, "Thread-%u", &na), 1);
    assert_int_equal(sscanf(c.name, "Thread-%u", &nc), 1);
    assert_true(nc > na);
}

static void note_self_raw(void *arg)
{
    note_self(arg);
}

/* A thread made by other code (here the platform's threads, as a user's own
 * pthread or CreateThread would be) is "Dummy-N", as in Python. */
static void dummy_names(void **state)
{
    (void)state;
    seen s = {{0}, 0};
    mp_os_thread *t;
    MPT_OK(mp_os_thread_start(&t, note_self_raw, &s));
    mp_os_thread_join(t);
    assert_memory_equal(s.name, "Dummy-", 6);
    assert_true(s.ident != 0 && s.ident != mp_current_thread_ident());
}

/* ---- join ---------------------------------------------------------------- */

typedef struct gate {
    mp_mutex *m;
    mp_cond *c;
    bool open;
    mp_thread *self; /* for the self-join test */
    int self_join;
} gate;

static void gate_init(gate *g)
{
    memset(g, 0, sizeof *g);
    MPT_OK(mp_mutex_new(&g->m));
    MPT_OK(mp_cond_new(&g->c));
}

static void gate_free(gate *g)
{
    mp_cond_free(g->c);
    mp_mutex_free(g->m);
}

static void gate_open(gate *g)
{
    mp_mutex_lock(g->m);
    g->open = true;
    mp_cond_broadcast(g->c);
    mp_mutex_unlock(g->m);
}

static void gate_pass(gate *g)
{
    mp_mutex_lock(g->m);
    while (!g->open)
        mp_cond_wait(g->c, g->m, MP_FOREVER);
    mp_mutex_unlock(g->m);
}

static int wait_at_gate(void *arg)
{
    gate *g = arg;
    gate_pass(g);
    g->self_join = mp_thread_join(g->self, MP_FOREVER, NULL);
    return 42;
}

static void join_timeout_and_self(void **state)
{
    (void)state;
    gate g;
    gate_init(&g);
    mp_thread *t;
    MPT_OK(mp_thread_start(&t, wait_at_gate, &g, "gated"));
    mp_mutex_lock(g.m);
    g.self = t;
    mp_mutex_unlock(g.m);
    MPT_CODE(mp_thread_join(t, 0, NULL), MP_ETIMEDOUT);
    double t0 = mp_os_monotonic();
    MPT_CODE(mp_thread_join(t, 0.1, NULL), MP_ETIMEDOUT);
    assert_true(mp_os_monotonic() - t0 >= 0.09);
    assert_non_null(strstr(mp_last_error(), "gated"));
    gate_open(&g);
    int result = 0;
    MPT_OK(mp_thread_join(t, MP_FOREVER, &result));
    assert_int_equal(result, 42);
    assert_int_equal(g.self_join, MP_ESTATE);
    gate_free(&g);
}

static int return_zero(void *arg)
{
    (void)arg;
    return 0;
}

static void bad_input(void **state)
{
    (void)state;
    mp_thread *t;
    MPT_CODE(mp_thread_start(NULL, return_zero, NULL, NULL), MP_EINVAL);
    MPT_CODE(mp_thread_start(&t, NULL, NULL, NULL), MP_EINVAL);
    assert_null(t);
    MPT_CODE(mp_thread_join(NULL, MP_FOREVER, NULL), MP_EINVAL);
    MPT_CODE(mp_thread_detach(NULL), MP_EINVAL);
    assert_null(mp_thread_name(NULL));
    assert_int_equal(mp_thread_ident(NULL), 0);
    MPT_CODE(mp_mutex_new(NULL), MP_EINVAL);
    MPT_CODE(mp_cond_new(NULL), MP_EINVAL);
    MPT_CODE(mp_tls_new(NULL, NULL), MP_EINVAL);
    mp_mutex_free(NULL);
    mp_cond_free(NULL);
    mp_tls_free(NULL);
    /* a long name is cut, not overflowed */
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    MPT_OK(mp_thread_start(&t, return_zero, NULL, longname));
    assert_true(strlen(mp_thread_name(t)) < sizeof longname - 1);
    MPT_OK(mp_thread_join(t, MP_FOREVER, NULL));
}

/* What the detach test's threads share with it, in static storage, so that
 * nothing they touch can be freed under them. */
static atomic_bool past_gate, returned;

static int pass_gate(void *arg)
{
    gate_pass(arg);
    /* The gate is not touched after this: the test frees it once it sees
     * the flag. */
    atomic_store(&past_gate, true);
    return 0;
}

static int note_return(void *arg)
{
    (void)arg;
    atomic_store(&returned, true);
    return 0;
}

/* Generous: only a broken build waits this long for a thread. */
#define FLAG_LIMIT 30.0

/* Wait up to FLAG_LIMIT seconds for a flag a thread sets. */
static bool flag_set(atomic_bool *flag)
{
    double deadline = mp_os_monotonic() + FLAG_LIMIT;
    while (!atomic_load(flag)) {
        if (mp_os_monotonic() >= deadline)
            return false;
        mp_os_sleep(0.001);
    }
    return true;
}

/* A detached thread frees itself, whether it ends after the detach (held
 * at the gate) or before it (detached once its function has returned, so
 * mostly after the thread ended). */
static void detach(void **state)
{
    (void)state;
    atomic_store(&past_gate, false);
    atomic_store(&returned, false);
    gate g;
    gate_init(&g);
    mp_thread *t;
    MPT_OK(mp_thread_start(&t, pass_gate, &g, NULL));
    MPT_OK(mp_thread_detach(t));
    gate_open(&g);
    MPT_OK(mp_thread_start(&t, note_return, NULL, NULL));
    if (!flag_set(&returned))
        fail_msg("a thread did not run its function within %g s", FLAG_LIMIT);
    MPT_OK(mp_thread_detach(t));
    if (!flag_set(&past_gate))
        fail_msg("a detached thread did not pass its open gate within %g s", FLAG_LIMIT);
    gate_free(&g);
}

/* ---- mutex and condition variable --------------------------------------- */

#define THREADS 4
#define ROUNDS 20000

typedef struct counter {
    mp_mutex *m;
    long value; /* plain: only the mutex protects it */
} counter;

static int count_up(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < ROUNDS; i++) {
        mp_mutex_lock(c->m);
        long v = c->value;
        if (i % 1000 == 0)
            mp_os_sleep(0);
        c->value = v + 1;
        mp_mutex_unlock(c->m);
    }
    return 0;
}

static int try_once(void *arg)
{
    return mp_mutex_trylock(arg);
}

static void mutex_excludes(void **state)
{
    (void)state;
    counter c = {NULL, 0};
    MPT_OK(mp_mutex_new(&c.m));
    mp_thread *t[THREADS];
    for (int i = 0; i < THREADS; i++)
        MPT_OK(mp_thread_start(&t[i], count_up, &c, NULL));
    for (int i = 0; i < THREADS; i++)
        MPT_OK(mp_thread_join(t[i], MP_FOREVER, NULL));
    assert_int_equal(c.value, (long)THREADS * ROUNDS);

    /* trylock fails while another thread holds the mutex */
    mp_mutex_lock(c.m);
    int got = -1;
    mp_thread *other;
    MPT_OK(mp_thread_start(&other, try_once, c.m, NULL));
    MPT_OK(mp_thread_join(other, MP_FOREVER, &got));
    assert_int_equal(got, 0);
    mp_mutex_unlock(c.m);
    assert_int_equal(mp_mutex_trylock(c.m), 1);
    mp_mutex_unlock(c.m);
    mp_mutex_free(c.m);
}

/* A one-slot mailbox: the producer waits for room, the consumer for an
 * item, on one condition variable. */
typedef struct mailbox {
    mp_mutex *m;
    mp_cond *c;
    int item; /* 0: empty */
    long sum;
} mailbox;

static int produce(void *arg)
{
    mailbox *b = arg;
    for (int i = 1; i <= 2000; i++) {
        mp_mutex_lock(b->m);
        while (b->item != 0)
            mp_cond_wait(b->c, b->m, MP_FOREVER);
        b->item = i;
        mp_cond_broadcast(b->c);
        mp_mutex_unlock(b->m);
    }
    return 0;
}

static int consume(void *arg)
{
    mailbox *b = arg;
    for (int i = 1; i <= 2000; i++) {
        mp_mutex_lock(b->m);
        while (b->item == 0)
            mp_cond_wait(b->c, b->m, MP_FOREVER);
        if (b->item != i) {
            mp_mutex_unlock(b->m);
            return i;
        }
        b->sum += b->item;
        b->item = 0;
        mp_cond_signal(b->c);
        mp_mutex_unlock(b->m);
    }
    return 0;
}

static void cond_hand_off_and_timeout(void **state)
{
    (void)state;
    mailbox b = {NULL, NULL, 0, 0};
    MPT_OK(mp_mutex_new(&b.m));
    MPT_OK(mp_cond_new(&b.c));
    mp_thread *p, *c;
    MPT_OK(mp_thread_start(&c, consume, &b, NULL));
    MPT_OK(mp_thread_start(&p, produce, &b, NULL));
    int out_of_order = -1;
    MPT_OK(mp_thread_join(p, MP_FOREVER, NULL));
    MPT_OK(mp_thread_join(c, MP_FOREVER, &out_of_order));
    assert_int_equal(out_of_order, 0);
    assert_int_equal(b.sum, 2000L * 2001 / 2);

    /* nobody signals: the wait times out, with the mutex held again */
    mp_mutex_lock(b.m);
    double t0 = mp_os_monotonic();
    MPT_CODE(mp_cond_wait(b.c, b.m, 0.1), MP_ETIMEDOUT);
    assert_true(mp_os_monotonic() - t0 >= 0.09);
    MPT_CODE(mp_cond_wait(b.c, b.m, 0), MP_ETIMEDOUT);
    assert_int_equal(mp_mutex_trylock(b.m), 0);
    mp_mutex_unlock(b.m);
    mp_cond_free(b.c);
    mp_mutex_free(b.m);
}

/* ---- thread-local storage ------------------------------------------------ */

static atomic_int destroyed;
static atomic_long destroyed_sum;

static void destroy(void *value)
{
    destroyed++;
    destroyed_sum += *(long *)value;
}

typedef struct tls_job {
    mp_tls *key;
    long value;
    gate *all_set;
    atomic_int *set_count;
} tls_job;

/* Set this thread's value, wait until every thread has set its own, then
 * check this thread still sees its own. */
static int use_slot(void *arg)
{
    tls_job *j = arg;
    if (mp_tls_get(j->key) != NULL)
        return 1;
    if (mp_tls_set(j->key, &j->value) != MP_OK)
        return 2;
    if (++*j->set_count == THREADS)
        gate_open(j->all_set);
    gate_pass(j->all_set);
    long *mine = mp_tls_get(j->key);
    return mine == &j->value ? 0 : 3;
}

static void tls_per_thread(void **state)
{
    (void)state;
    destroyed = 0;
    destroyed_sum = 0;
    mp_tls *key;
    MPT_OK(mp_tls_new(&key, destroy));
    assert_null(mp_tls_get(key));
    long main_value = 1000;
    MPT_OK(mp_tls_set(key, &main_value));

    gate all_set;
    gate_init(&all_set);
    atomic_int set_count = 0;
    tls_job jobs[THREADS];
    mp_thread *t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (tls_job){key, i + 1, &all_set, &set_count};
        MPT_OK(mp_thread_start(&t[i], use_slot, &jobs[i], NULL));
    }
    for (int i = 0; i < THREADS; i++) {
        int rc = -1;
        MPT_OK(mp_thread_join(t[i], MP_FOREVER, &rc));
        assert_int_equal(rc, 0);
    }
    /* each thread's value was destroyed as it ended; the main thread's is
     * untouched */
    assert_int_equal(destroyed, THREADS);
    assert_int_equal(destroyed_sum, 1 + 2 + 3 + 4);
    assert_ptr_equal(mp_tls_get(key), &main_value);

    /* a thread that set nothing (or set NULL) gets no destructor call */
    destroyed = 0;
    mp_thread *idle;
    MPT_OK(mp_thread_start(&idle, return_zero, NULL, NULL));
    MPT_OK(mp_thread_join(idle, MP_FOREVER, NULL));
    assert_int_equal(destroyed, 0);

    MPT_OK(mp_tls_set(key, NULL));
    mp_tls_free(key);
    gate_free(&all_set);
}

/* Seed 003: one global ThreadLocal; each thread binds its own student and a
 * nested function, given nothing, finds it. */
static mp_tls *local_school;

static const char *process_student(void)
{
    return mp_tls_get(local_school);
}

typedef struct student_job {
    const char *name;
    gate *both_bound;
    atomic_int *bound;
    char greeting[96];
} student_job;

static int process_thread(void *arg)
{
    student_job *j = arg;
    mp_tls_set(local_school, (void *)j->name);
    if (++*j->bound == 2)
        gate_open(j->both_bound);
    gate_pass(j->both_bound);
    snprintf(j->greeting, sizeof j->greeting, "Hello, %s (in %s)", process_student(), mp_current_thread_name());
    return 0;
}

static void seed_thread_local(void **state)
{
    (void)state;
    MPT_OK(mp_tls_new(&local_school, NULL));
    gate both;
    gate_init(&both);
    atomic_int bound = 0;
    student_job alice = {"Alice", &both, &bound, ""}, bob = {"Bob", &both, &bound, ""};
    mp_thread *t1, *t2;
    MPT_OK(mp_thread_start(&t1, process_thread, &alice, "Thread-A"));
    MPT_OK(mp_thread_start(&t2, process_thread, &bob, "Thread-B"));
    MPT_OK(mp_thread_join(t1, MP_FOREVER, NULL));
    MPT_OK(mp_thread_join(t2, MP_FOREVER, NULL));
    assert_string_equal(alice.greeting, "Hello, Alice (in Thread-A)");
    assert_string_equal(bob.greeting, "Hello, Bob (in Thread-B)");
    assert_null(process_student());
    mp_tls_free(local_school);
    gate_free(&both);
}

/* ---- fork safety ---------------------------------------------------------- */

/* While these run in the parent, the registry's lock and the list of
 * mutexes are held at almost any instant, so a fork without the library's
 * atfork handling would copy one of them locked. */
static atomic_bool churning;

static int use_library(const mp_value *args);

static int churn_registry(void *arg)
{
    (void)arg;
    while (churning)
        mp_target_name(use_library);
    return 0;
}

static int churn_mutexes(void *arg)
{
    (void)arg;
    while (churning) {
        mp_mutex *m;
        if (mp_mutex_new(&m) == MP_OK)
            mp_mutex_free(m);
    }
    return 0;
}

/* In the child: the same library calls, which take the same locks. */
static int use_library(const mp_value *args)
{
    (void)args;
    if (mp_target_name(use_library) == NULL)
        return 2;
    mp_thread *t;
    int result = -1;
    if (mp_thread_start(&t, return_zero, NULL, NULL) != MP_OK || mp_thread_join(t, 10, &result) != MP_OK)
        return 3;
    mp_conn *a, *b;
    if (mp_pipe(true, &a, &b) != MP_OK)
        return 4;
    int rc = mp_conn_send(a, "i", 5);
    mp_value *v = NULL;
    if (rc == MP_OK)
        rc = mp_conn_recv(b, &v);
    mp_value_free(v);
    mp_conn_close(a);
    mp_conn_close(b);
    return rc == MP_OK ? result : 5;
}
MP_TARGET(use_library)

static void fork_while_threads_hold_locks(void **state)
{
    (void)state;
    churning = true;
    mp_thread *churners[2];
    MPT_OK(mp_thread_start(&churners[0], churn_registry, NULL, NULL));
    MPT_OK(mp_thread_start(&churners[1], churn_mutexes, NULL, NULL));
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        for (int i = 0; i < 20; i++) {
            mp_process *p;
            MPT_OK(mp_process_new(&p, use_library, mpt_opts(methods[m]), ""));
            MPT_OK(mp_process_start(p));
            int rc = mp_process_join(p, 10);
            if (rc != MP_OK) {
                mp_process_kill(p);
                mp_process_join(p, MP_FOREVER);
                mp_process_close(p);
                churning = false;
                mp_thread_join(churners[0], MP_FOREVER, NULL);
                mp_thread_join(churners[1], MP_FOREVER, NULL);
                fail_msg("%s child %d hung on a lock the parent's thread held at the fork",
                         mp_start_method_name(methods[m]), i);
            }
            int code = -1;
            MPT_OK(mp_process_exitcode(p, &code));
            assert_int_equal(code, 0);
            mp_process_close(p);
        }
    }
    churning = false;
    MPT_OK(mp_thread_join(churners[0], MP_FOREVER, NULL));
    MPT_OK(mp_thread_join(churners[1], MP_FOREVER, NULL));
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(names_and_idents),
        MPT_TEST(dummy_names),
        MPT_TEST(join_timeout_and_self),
        MPT_TEST(bad_input),
        MPT_TEST(detach),
        MPT_TEST(mutex_excludes),
        MPT_TEST(cond_hand_off_and_timeout),
        MPT_TEST(tls_per_thread),
        MPT_TEST(seed_thread_local),
        MPT_TEST(fork_while_threads_hold_locks),
    };
    return MPT_RUN(tests);
}
