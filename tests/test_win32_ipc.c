/* test_win32_ipc.c - the Windows side of the platform seam for IPC, in one
 * process: threads, mutexes, condition variables and thread-local slots;
 * shared memory sections; semaphores and abandonable mutexes; overlapped
 * named pipes, their readiness and mp_wait over them. One child shows the
 * kernel objects working across processes. Elsewhere the program reports
 * itself skipped: test_posix_platform.c and the core's tests cover POSIX. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifdef _WIN32
#include <windows.h>

#include <stdatomic.h>
#include <stdio.h>

#include "platform.h"
#include "process/process_internal.h"

/* Timed waits may overrun but must not end early. */
#define SHORT 0.05

static double since(double start)
{
    return mp_os_monotonic() - start;
}

static void start_thread(mp_os_thread **t, void (*fn)(void *), void *arg)
{
    MPT_OK(mp_os_thread_start(t, fn, arg));
}

/* ---- threads ----------------------------------------------------------- */

typedef struct counter {
    mp_os_mutex *m;
    mp_os_cond *c;
    int value;
    uint64_t id;
} counter;

static void bump(void *arg)
{
    counter *k = arg;
    mp_os_mutex_lock(k->m);
    k->value++;
    k->id = mp_os_thread_id();
    mp_os_cond_signal(k->c);
    mp_os_mutex_unlock(k->m);
}

/* Set by a detached bump once it is done with its counter (static: nothing
 * it touches after bumping can be freed under it). */
static atomic_bool bump_done;

static void bump_then_say_so(void *arg)
{
    bump(arg);
    atomic_store(&bump_done, true);
}

/* Generous: only a broken build waits this long for a thread. */
#define THREAD_LIMIT 30.0

/* Wait up to THREAD_LIMIT seconds for the detached bump to be done with its
 * counter, then for its handles to go; false if either takes longer. */
static bool detached_bump_gone(long handles_before)
{
    double deadline = mp_os_monotonic() + THREAD_LIMIT;
    while (!atomic_load(&bump_done) || mpt_count_handles() > handles_before) {
        if (mp_os_monotonic() >= deadline)
            return false;
        mp_os_sleep(0.01);
    }
    return true;
}

static void threads_start_and_join(void **state)
{
    (void)state;
    counter k = {0};
    MPT_OK(mp_os_mutex_new(&k.m));
    MPT_OK(mp_os_cond_new(&k.c));
    mp_os_thread *t[4];
    for (int i = 0; i < 4; i++)
        start_thread(&t[i], bump, &k);
    for (int i = 0; i < 4; i++)
        mp_os_thread_join(t[i]);
    assert_int_equal(k.value, 4);
    assert_true(k.id != 0);
    assert_true(k.id != mp_os_thread_id());
    assert_true(mp_os_thread_id() != 0);

    /* A detached thread is waited for through the condition variable. */
    atomic_store(&bump_done, false);
    long handles = mpt_count_handles();
    mp_os_mutex_lock(k.m);
    mp_os_thread *d;
    start_thread(&d, bump_then_say_so, &k);
    mp_os_thread_detach(d);
    while (k.value < 5)
        MPT_OK(mp_os_cond_wait(k.c, k.m, MP_FOREVER));
    mp_os_mutex_unlock(k.m);
    if (!detached_bump_gone(handles))
        fail_msg("a detached thread still ran, or held handles, %g s after its work", THREAD_LIMIT);
    mp_os_cond_free(k.c);
    mp_os_mutex_free(k.m);
}

static void mutex_trylock_and_cond_timeout(void **state)
{
    (void)state;
    mp_os_mutex *m;
    mp_os_cond *c;
    MPT_OK(mp_os_mutex_new(&m));
    MPT_OK(mp_os_cond_new(&c));
    assert_true(mp_os_mutex_trylock(m));
    assert_false(mp_os_mutex_trylock(m));
    double start = mp_os_monotonic();
    MPT_CODE(mp_os_cond_wait(c, m, SHORT), MP_ETIMEDOUT);
    assert_true(since(start) >= SHORT);
    /* Still held by this thread after the timeout. */
    assert_false(mp_os_mutex_trylock(m));
    start = mp_os_monotonic();
    MPT_CODE(mp_os_cond_wait(c, m, 0), MP_ETIMEDOUT);
    assert_true(since(start) < 1.0);
    mp_os_mutex_unlock(m);
    assert_true(mp_os_mutex_trylock(m));
    mp_os_mutex_unlock(m);
    mp_os_cond_free(c);
    mp_os_mutex_free(m);
}

static void cond_signal_wakes_waiter(void **state)
{
    (void)state;
    counter k = {0};
    MPT_OK(mp_os_mutex_new(&k.m));
    MPT_OK(mp_os_cond_new(&k.c));
    mp_os_mutex_lock(k.m);
    mp_os_thread *t;
    start_thread(&t, bump, &k);
    double start = mp_os_monotonic();
    while (k.value == 0)
        assert_int_equal(mp_os_cond_wait(k.c, k.m, 10.0), MP_OK);
    assert_true(since(start) < 5.0);
    mp_os_mutex_unlock(k.m);
    mp_os_thread_join(t);
    mp_os_cond_free(k.c);
    mp_os_mutex_free(k.m);
}

/* cmocka's checks belong to the test's thread: other threads record what
 * they saw, and the test checks it after joining them. */
static volatile LONG destroyed;
static void *destroyed_value;
static void destroy(void *value)
{
    destroyed_value = value;
    InterlockedIncrement(&destroyed);
}

static mp_os_tls *slot;
static bool slot_worked;
static void set_slot(void *arg)
{
    void *before = mp_os_tls_get(slot);
    slot_worked = before == NULL && mp_os_tls_set(slot, arg) == MP_OK && mp_os_tls_get(slot) == arg;
}

static void tls_values_per_thread_and_destructor(void **state)
{
    (void)state;
    destroyed = 0;
    MPT_OK(mp_os_tls_new(&slot, destroy));
    assert_null(mp_os_tls_get(slot));
    MPT_OK(mp_os_tls_set(slot, (void *)(intptr_t)7));
    mp_os_thread *t;
    start_thread(&t, set_slot, (void *)(intptr_t)42);
    mp_os_thread_join(t);
    assert_true(slot_worked);
    assert_int_equal(destroyed, 1);
    assert_ptr_equal(destroyed_value, (void *)(intptr_t)42);
    assert_ptr_equal(mp_os_tls_get(slot), (void *)(intptr_t)7);
    /* A NULL value is not destroyed. */
    start_thread(&t, set_slot, NULL);
    mp_os_thread_join(t);
    assert_true(slot_worked);
    assert_int_equal(destroyed, 1);
    /* Freeing the slot destroys no value. */
    mp_os_tls_free(slot);
    assert_int_equal(destroyed, 1);

    MPT_OK(mp_os_tls_new(&slot, NULL));
    start_thread(&t, set_slot, (void *)(intptr_t)5);
    mp_os_thread_join(t);
    assert_true(slot_worked);
    mp_os_tls_free(slot);
}

/* ---- handles and shared memory ----------------------------------------- */

static void pid_alive(void **state)
{
    (void)state;
    assert_int_equal(mp_os_pid_alive(mp_os_getpid()), 1);
    assert_int_equal(mp_os_pid_alive(0x7ffffff8), 0);
    mp_os_handle_close(MP_OS_NO_HANDLE);
    mp_os_handle_close(0);
}

static void unique_name(char *out, size_t size)
{
    unsigned r;
    MPT_OK(mp_os_random(&r, sizeof r));
    snprintf(out, size, "mpt_%ld_%08x", mp_os_getpid(), r);
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void shm_anonymous(void **state)
{
    (void)state;
    mp_os_shm s;
    MPT_CODE(mp_os_shm_create(NULL, 0, &s), MP_EINVAL);
    MPT_OK(mp_os_shm_create(NULL, 100000, &s));
    assert_int_equal(s.size, 100000);
    assert_true(s.handle != MP_OS_NO_HANDLE);
    assert_true(all_zero(s.addr, s.size));
    memset(s.addr, 0xab, s.size);
    mp_os_shm_discard(&s, 0, 65536);

    /* The handle is what travels to a child; a copy maps the same memory. */
    HANDLE copy;
    assert_true(DuplicateHandle(GetCurrentProcess(), (HANDLE)s.handle, GetCurrentProcess(), &copy, 0, FALSE,
                                DUPLICATE_SAME_ACCESS));
    mp_os_shm t;
    MPT_OK(mp_os_shm_adopt((mp_os_handle)copy, s.size, &t));
    assert_ptr_not_equal(t.addr, s.addr);
    ((unsigned char *)s.addr)[99999] = 7;
    assert_int_equal(((unsigned char *)t.addr)[99999], 7);
    mp_os_shm_close(&t);
    mp_os_shm_close(&s);
    assert_null(s.addr);
}

static void shm_named(void **state)
{
    (void)state;
    char name[64];
    unique_name(name, sizeof name);
    mp_os_shm a, b, c;
    MPT_CODE(mp_os_shm_open(name, &b), MP_EOS);
    MPT_OK(mp_os_shm_create(name, 5000, &a));
    assert_int_equal(a.size, 5000);
    MPT_CODE(mp_os_shm_create(name, 5000, &c), MP_EEXIST);
    MPT_OK(mp_os_shm_open(name, &b));
    /* Sizes come back rounded up to a page. */
    assert_true(b.size >= 5000 && b.size % 4096 == 0);
    strcpy(a.addr, "same memory");
    assert_string_equal(b.addr, "same memory");
    MPT_OK(mp_os_shm_unlink(name));
    mp_os_shm_close(&a);
    /* Still there while b maps it; gone with the last handle. */
    MPT_CODE(mp_os_shm_create(name, 5000, &c), MP_EEXIST);
    mp_os_shm_close(&b);
    MPT_OK(mp_os_shm_create(name, 5000, &c));
    assert_true(all_zero(c.addr, c.size));
    mp_os_shm_close(&c);

    /* A name taken by an object of another kind is taken. */
    char event_name[80];
    snprintf(event_name, sizeof event_name, "Local\\%s", name);
    HANDLE event = CreateEventA(NULL, TRUE, FALSE, event_name);
    assert_non_null(event);
    MPT_CODE(mp_os_shm_create(name, 5000, &c), MP_EEXIST);
    CloseHandle(event);

    MPT_CODE(mp_os_shm_create("a/b", 10, &c), MP_EINVAL);
    MPT_CODE(mp_os_shm_create("a\\b", 10, &c), MP_EINVAL);
    MPT_CODE(mp_os_shm_open("a\\b", &c), MP_EINVAL);
    MPT_CODE(mp_os_shm_create("", 10, &c), MP_EINVAL);
}

/* ---- semaphores and abandonable mutexes --------------------------------- */

static void sem_counts_and_times_out(void **state)
{
    (void)state;
    uint64_t slot_memory[MP_OS_SYNC_SLOT / 8];
    mp_os_sem *s;
    int value;
    MPT_OK(mp_os_sem_create(slot_memory, 0, &s));
    MPT_CODE(mp_os_sem_wait(s, 0), MP_ETIMEDOUT);
    double start = mp_os_monotonic();
    MPT_CODE(mp_os_sem_wait(s, SHORT), MP_ETIMEDOUT);
    assert_true(since(start) >= SHORT);
    MPT_OK(mp_os_sem_value(s, &value));
    assert_int_equal(value, 0);
    MPT_OK(mp_os_sem_post(s));
    MPT_OK(mp_os_sem_post(s));
    MPT_OK(mp_os_sem_value(s, &value));
    assert_int_equal(value, 2);

    /* Another user of the same semaphore, as a child would have it. */
    HANDLE copy;
    assert_true(DuplicateHandle(GetCurrentProcess(), (HANDLE)mp_os_sem_handle(s), GetCurrentProcess(), &copy, 0,
                                FALSE, DUPLICATE_SAME_ACCESS));
    mp_os_sem *other;
    MPT_OK(mp_os_sem_attach(slot_memory, (mp_os_handle)copy, &other));
    MPT_OK(mp_os_sem_wait(other, MP_FOREVER));
    MPT_OK(mp_os_sem_value(s, &value));
    assert_int_equal(value, 1);
    MPT_OK(mp_os_sem_wait(s, 0));
    MPT_OK(mp_os_sem_value(other, &value));
    assert_int_equal(value, 0);
    mp_os_sem_free(other);

    mp_os_sem *three;
    MPT_OK(mp_os_sem_create(slot_memory, 3, &three));
    MPT_OK(mp_os_sem_value(three, &value));
    assert_int_equal(value, 3);
    mp_os_sem_free(three);
    mp_os_sem_free(s);
}

static void post_later(void *arg)
{
    mp_os_sleep(SHORT);
    mp_os_sem_post(arg);
}

static void sem_post_wakes_waiter(void **state)
{
    (void)state;
    uint64_t slot_memory[MP_OS_SYNC_SLOT / 8];
    mp_os_sem *s;
    MPT_OK(mp_os_sem_create(slot_memory, 0, &s));
    mp_os_thread *t;
    start_thread(&t, post_later, s);
    MPT_OK(mp_os_sem_wait(s, 10.0));
    mp_os_thread_join(t);
    mp_os_sem_free(s);
}

/* ---- pipes ------------------------------------------------------------- */

static void round_trip(mp_os_handle from, mp_os_handle to)
{
    char buf[6] = {0};
    MPT_OK(mp_os_pipe_write(from, "hello", 6));
    MPT_OK(mp_os_pipe_read(to, buf, 6));
    assert_string_equal(buf, "hello");
}

static void pipe_round_trips(void **state)
{
    (void)state;
    mp_os_handle r, w;
    MPT_OK(mp_os_pipe(true, &r, &w));
    round_trip(w, r);
    round_trip(r, w);
    assert_int_equal(GetFileType((HANDLE)r), FILE_TYPE_PIPE);
    DWORD flags;
    assert_true(GetHandleInformation((HANDLE)r, &flags) && !(flags & HANDLE_FLAG_INHERIT));
    assert_true(GetHandleInformation((HANDLE)w, &flags) && !(flags & HANDLE_FLAG_INHERIT));
    mp_os_handle_close(r);
    mp_os_handle_close(w);

    MPT_OK(mp_os_pipe(false, &r, &w));
    round_trip(w, r);
    /* One-way: the read end does not write. */
    assert_int_not_equal(mp_os_pipe_write(r, "x", 1), MP_OK);
    mp_os_handle_close(r);
    mp_os_handle_close(w);
}

#define BIG (64u << 20)

typedef struct big_write {
    mp_os_handle h;
    unsigned char *data;
    int rc;
} big_write;

static void write_big(void *arg)
{
    big_write *b = arg;
    b->rc = mp_os_pipe_write(b->h, b->data, BIG);
}

static void pipe_64_mib_message(void **state)
{
    (void)state;
    big_write b = {.data = malloc(BIG)};
    unsigned char *in = malloc(BIG);
    assert_non_null(b.data);
    assert_non_null(in);
    for (size_t i = 0; i < BIG; i++)
        b.data[i] = (unsigned char)(i * 131 + (i >> 16));
    mp_os_handle r;
    MPT_OK(mp_os_pipe(true, &r, &b.h));
    mp_os_thread *t;
    start_thread(&t, write_big, &b);
    MPT_OK(mp_os_pipe_read(r, in, BIG));
    mp_os_thread_join(t);
    MPT_OK(b.rc);
    assert_memory_equal(in, b.data, BIG);
    mp_os_handle_close(r);
    mp_os_handle_close(b.h);
    free(in);
    free(b.data);
}

static void pipe_end_of_file(void **state)
{
    (void)state;
    mp_os_handle r, w;
    char buf[8];
    MPT_OK(mp_os_pipe(true, &r, &w));
    MPT_OK(mp_os_pipe_write(w, "abc", 3));
    mp_os_handle_close(w);
    MPT_CODE(mp_os_pipe_read(r, buf, 5), MP_EPROTO);
    MPT_CODE(mp_os_pipe_read(r, buf, 1), MP_EEOF);
    MPT_CODE(mp_os_pipe_write(r, "x", 1), MP_EEOF);
    MPT_OK(mp_os_pipe_poll(r, 0));
    mp_os_handle_close(r);

    MPT_OK(mp_os_pipe(false, &r, &w));
    mp_os_handle_close(r);
    MPT_CODE(mp_os_pipe_write(w, "x", 1), MP_EEOF);
    mp_os_handle_close(w);
}

typedef struct later {
    mp_os_handle h;
    double delay;
    int rc;
} later;

static void write_later(void *arg)
{
    later *l = arg;
    mp_os_sleep(l->delay);
    l->rc = mp_os_pipe_write(l->h, "z", 1);
}

static void close_later(void *arg)
{
    later *l = arg;
    mp_os_sleep(l->delay);
    mp_os_handle_close(l->h);
}

static void pipe_poll(void **state)
{
    (void)state;
    mp_os_handle r, w;
    char c;
    MPT_OK(mp_os_pipe(true, &r, &w));
    MPT_CODE(mp_os_pipe_poll(r, 0), MP_ETIMEDOUT);
    double start = mp_os_monotonic();
    MPT_CODE(mp_os_pipe_poll(r, SHORT), MP_ETIMEDOUT);
    assert_true(since(start) >= SHORT);
    /* Polling consumed nothing and left the pipe usable. */
    round_trip(w, r);
    MPT_OK(mp_os_pipe_write(w, "y", 1));
    MPT_OK(mp_os_pipe_poll(r, 0));
    MPT_OK(mp_os_pipe_poll(r, SHORT));
    MPT_OK(mp_os_pipe_read(r, &c, 1));
    assert_int_equal(c, 'y');

    /* A wait in progress sees the byte when it comes. */
    later l = {w, SHORT, -1};
    mp_os_thread *t;
    start_thread(&t, write_later, &l);
    start = mp_os_monotonic();
    MPT_OK(mp_os_pipe_poll(r, MP_FOREVER));
    assert_true(since(start) < 5.0);
    mp_os_thread_join(t);
    MPT_OK(l.rc);
    MPT_OK(mp_os_pipe_read(r, &c, 1));
    assert_int_equal(c, 'z');

    /* ... and the peer going away. */
    start_thread(&t, close_later, &l);
    MPT_OK(mp_os_pipe_poll(r, 10.0));
    mp_os_thread_join(t);
    MPT_CODE(mp_os_pipe_read(r, &c, 1), MP_EEOF);
    mp_os_handle_close(r);
}

typedef struct reader {
    mp_os_handle h;
    char buf[4];
    int rc;
} reader;

static void read_four(void *arg)
{
    reader *x = arg;
    x->rc = mp_os_pipe_read(x->h, x->buf, 4);
}

/* A read blocked in one thread holds up neither a write in another thread
 * on the same duplex handle nor a poll. */
static void pipe_read_and_write_at_once(void **state)
{
    (void)state;
    mp_os_handle a, b;
    MPT_OK(mp_os_pipe(true, &a, &b));
    reader x = {.h = a};
    mp_os_thread *t;
    start_thread(&t, read_four, &x);
    mp_os_sleep(SHORT);
    char buf[3];
    MPT_OK(mp_os_pipe_write(a, "abc", 3));
    MPT_OK(mp_os_pipe_read(b, buf, 3));
    assert_memory_equal(buf, "abc", 3);
    MPT_CODE(mp_os_pipe_poll(a, SHORT), MP_ETIMEDOUT);
    MPT_OK(mp_os_pipe_write(b, "wxyz", 4));
    mp_os_thread_join(t);
    MPT_OK(x.rc);
    assert_memory_equal(x.buf, "wxyz", 4);
    mp_os_handle_close(a);
    mp_os_handle_close(b);
}

#define NEVENTS 100

static void wait_on_pipes_and_events(void **state)
{
    (void)state;
    mp_os_handle r, w, r2, w2;
    MPT_OK(mp_os_pipe(true, &r, &w));
    MPT_OK(mp_os_pipe(false, &r2, &w2));
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(event);
    mp_sentinel s[3] = {(mp_sentinel)event, (mp_sentinel)r, (mp_sentinel)r2};
    bool ready[3];
    double start = mp_os_monotonic();
    MPT_CODE(mp_wait(s, 3, SHORT, ready), MP_ETIMEDOUT);
    assert_true(since(start) >= SHORT);
    MPT_CODE(mp_wait(s, 3, 0, ready), MP_ETIMEDOUT);

    MPT_OK(mp_os_pipe_write(w2, "q", 1));
    assert_int_equal(mp_wait(s, 3, MP_FOREVER, ready), 1);
    assert_true(!ready[0] && !ready[1] && ready[2]);
    SetEvent(event);
    assert_int_equal(mp_wait(s, 3, 0, ready), 2);
    assert_true(ready[0] && !ready[1] && ready[2]);
    ResetEvent(event);
    char c;
    MPT_OK(mp_os_pipe_read(r2, &c, 1));

    /* A wait in progress wakes for a pipe. */
    later l = {w, SHORT, -1};
    mp_os_thread *t;
    start_thread(&t, write_later, &l);
    start = mp_os_monotonic();
    assert_int_equal(mp_wait(s, 3, 10.0, ready), 1);
    assert_true(!ready[0] && ready[1] && !ready[2]);
    assert_true(since(start) < 5.0);
    mp_os_thread_join(t);
    MPT_OK(l.rc);

    /* Past 64 objects, a pipe named twice among many events. */
    mp_sentinel many[NEVENTS + 2];
    bool many_ready[NEVENTS + 2];
    HANDLE events[NEVENTS];
    for (size_t i = 0; i < NEVENTS; i++) {
        events[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
        assert_non_null(events[i]);
        many[i] = (mp_sentinel)events[i];
    }
    many[NEVENTS] = (mp_sentinel)r2;
    many[NEVENTS + 1] = (mp_sentinel)r;
    assert_int_equal(mp_wait(many, NEVENTS + 2, 1.0, many_ready), 1);
    assert_true(many_ready[NEVENTS + 1]);
    MPT_OK(mp_os_pipe_read(r, &c, 1));
    MPT_CODE(mp_wait(many, NEVENTS + 2, SHORT, many_ready), MP_ETIMEDOUT);
    mp_os_handle_close(w2);
    many[5] = (mp_sentinel)r2;
    SetEvent(events[90]);
    assert_int_equal(mp_wait(many, NEVENTS + 2, 1.0, many_ready), 3);
    assert_true(many_ready[5] && many_ready[90] && many_ready[NEVENTS]);
    for (size_t i = 0; i < NEVENTS; i++)
        CloseHandle(events[i]);

    CloseHandle(event);
    mp_os_handle_close(r);
    mp_os_handle_close(w);
    mp_os_handle_close(r2);
}

/* ---- across processes --------------------------------------------------- */

/* The child gets, in order: a pipe's write end, a section of 4096 bytes and
 * a semaphore. It writes to each. */
static int use_objects(const mp_value *args)
{
    (void)args;
    size_t n;
    const mp_os_handle *h = mp_os_child_handles(&n);
    if (n != 3)
        return 10;
    mp_os_shm shm;
    mp_os_sem *sem;
    if (mp_os_shm_adopt(h[1], 4096, &shm) != MP_OK || mp_os_sem_attach(NULL, h[2], &sem) != MP_OK)
        return 11;
    strcpy(shm.addr, "from the child");
    if (mp_os_sem_post(sem) != MP_OK)
        return 12;
    if (mp_os_pipe_write(h[0], "done", 4) != MP_OK)
        return 13;
    return 0;
}
MP_TARGET(use_objects)

static void objects_reach_a_child(void **state)
{
    (void)state;
    mp_os_handle r, w;
    mp_os_shm shm;
    mp_os_sem *sem;
    MPT_OK(mp_os_pipe(false, &r, &w));
    MPT_OK(mp_os_shm_create(NULL, 4096, &shm));
    MPT_OK(mp_os_sem_create(NULL, 0, &sem));
    mp_process *p;
    MPT_OK(mp_process_new(&p, use_objects, NULL, NULL));
    mp_os_handle pass[3] = {w, shm.handle, mp_os_sem_handle(sem)};
    for (size_t i = 0; i < 3; i++) {
        size_t index;
        MPT_OK(mp_process_pass_handle(p, pass[i], &index));
        assert_int_equal(index, i);
    }
    MPT_OK(mp_process_start(p));
    mp_os_handle_close(w);
    char buf[4];
    MPT_OK(mp_os_pipe_read(r, buf, 4));
    assert_memory_equal(buf, "done", 4);
    assert_string_equal(shm.addr, "from the child");
    MPT_OK(mp_os_sem_wait(sem, 0));
    assert_int_equal(mpt_join_child(p), 0);
    MPT_CODE(mp_os_pipe_read(r, buf, 1), MP_EEOF);
    mp_os_sem_free(sem);
    mp_os_shm_close(&shm);
    mp_os_handle_close(r);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const struct CMUnitTest tests[] = {
        MPT_TEST(threads_start_and_join),
        MPT_TEST(mutex_trylock_and_cond_timeout),
        MPT_TEST(cond_signal_wakes_waiter),
        MPT_TEST(tls_values_per_thread_and_destructor),
        MPT_TEST(pid_alive),
        MPT_TEST(shm_anonymous),
        MPT_TEST(shm_named),
        MPT_TEST(sem_counts_and_times_out),
        MPT_TEST(sem_post_wakes_waiter),
        MPT_TEST(pipe_round_trips),
        MPT_TEST(pipe_64_mib_message),
        MPT_TEST(pipe_end_of_file),
        MPT_TEST(pipe_poll),
        MPT_TEST(pipe_read_and_write_at_once),
        MPT_TEST(wait_on_pipes_and_events),
        MPT_TEST(objects_reach_a_child),
    };
    return MPT_RUN(tests);
}

#else

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    return mpt_skip_program("Windows only: the Windows platform layer; test_posix_platform and the core's "
                            "tests cover POSIX");
}

#endif
