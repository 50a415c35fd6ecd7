/* test_shared.c - Value, Array and SharedMemory crossing process
 * boundaries under every start method: every typecode written by a child
 * and read by the parent, zero-initialised and empty arrays, the RLock of a
 * Value shared by several processes, raw values, named, random-named and
 * anonymous SharedMemory attached by name or passed as an argument, sizes
 * from the OS, unlink, EEXIST, bad input, and the names of a killed creator
 * not outliving its process tree. */
#if defined(__linux__)
#define _GNU_SOURCE /* unsetenv */
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "platform.h"

#if defined(__linux__)
#include <signal.h>
#include <unistd.h>
#endif

static const char TYPECODES[] = "bBhHiIlLqQfdc?";
#define NTYPES 14
#define ALEN 5

/* Sizes as Python's array module gives them on LP64 and on Windows alike,
 * written here independently of the library ('l' is 8 bytes in mproc on
 * every system, so both agree). */
static size_t size_of(char tc)
{
    switch (tc) {
    case 'b': case 'B': case 'c': case '?': return 1;
    case 'h': case 'H': return 2;
    case 'i': case 'I': case 'f': return 4;
    default: return 8;
    }
}

/* Element i of a test pattern: the type's extremes, alternating, so that a
 * wrong element size, signedness or offset shows up as a different value. */
static void put(char tc, void *p, size_t i)
{
    bool even = i % 2 == 0;
    int64_t k = (int64_t)i;
    switch (tc) {
    case 'b': ((int8_t *)p)[i] = (int8_t)(even ? INT8_MIN + k : INT8_MAX - k); break;
    case 'B': ((uint8_t *)p)[i] = (uint8_t)(even ? UINT8_MAX - k : k + 1); break;
    case 'h': ((int16_t *)p)[i] = (int16_t)(even ? INT16_MIN + k : INT16_MAX - k); break;
    case 'H': ((uint16_t *)p)[i] = (uint16_t)(even ? UINT16_MAX - k : k + 1); break;
    case 'i': ((int32_t *)p)[i] = (int32_t)(even ? INT32_MIN + k : INT32_MAX - k); break;
    case 'I': ((uint32_t *)p)[i] = (uint32_t)(even ? UINT32_MAX - (uint64_t)k : (uint64_t)k + 1); break;
    case 'l': case 'q': ((int64_t *)p)[i] = even ? INT64_MIN + k : INT64_MAX - k; break;
    case 'L': case 'Q': ((uint64_t *)p)[i] = even ? UINT64_MAX - (uint64_t)k : (uint64_t)k + 1; break;
    case 'f': ((float *)p)[i] = -1.5f * (float)(k + 1); break;
    case 'd': ((double *)p)[i] = 1e300 / (double)(k + 1); break;
    case 'c': ((char *)p)[i] = (char)('a' + k); break;
    case '?': ((bool *)p)[i] = even; break;
    default: break;
    }
}

/* Whether n elements at p hold the pattern. */
static bool holds_pattern(char tc, const void *p, size_t n)
{
    union {
        uint64_t align;
        unsigned char bytes[8 * ALEN];
    } want;
    memset(&want, 0, sizeof want);
    for (size_t i = 0; i < n; i++)
        put(tc, want.bytes, i);
    return memcmp(p, want.bytes, n * size_of(tc)) == 0;
}

static bool all_zero(const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((const unsigned char *)p)[i] != 0)
            return false;
    return true;
}

/* ---- Value and Array of every typecode --------------------------------- */

#define O14 "OOOOOOOOOOOOOO"

/* Checks what the parent made (typecode, length, lock or not, zeroes),
 * then writes the pattern. Each check has its own exit code. */
static int write_every_type(const mp_value *args)
{
    mp_shared *v[NTYPES], *a[NTYPES], *empty;
    int rc = mp_args(args, O14 O14 "O", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
                     &v[10], &v[11], &v[12], &v[13], &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7], &a[8],
                     &a[9], &a[10], &a[11], &a[12], &a[13], &empty);
    if (rc != MP_OK)
        return rc;
    for (int k = 0; k < NTYPES; k++) {
        char tc = TYPECODES[k];
        if (mp_shared_typecode(v[k]) != tc || mp_shared_len(v[k]) != 1)
            return 10 + k;
        if (mp_shared_typecode(a[k]) != tc || mp_shared_len(a[k]) != ALEN)
            return 30 + k;
        if ((mp_shared_get_lock(v[k]) != NULL) != (k % 2 == 0) || (mp_shared_get_lock(a[k]) != NULL) != (k % 2 != 0))
            return 50 + k;
        if (!all_zero(mp_shared_ptr(v[k]), size_of(tc)) || !all_zero(mp_shared_ptr(a[k]), ALEN * size_of(tc)))
            return 70 + k;
        put(tc, mp_shared_ptr(v[k]), 0);
        for (size_t i = 0; i < ALEN; i++)
            put(tc, mp_shared_ptr(a[k]), i);
    }
    if (mp_shared_len(empty) != 0 || mp_shared_typecode(empty) != 'd' || mp_shared_ptr(empty) == NULL)
        return 90;
    return 0;
}
MP_TARGET(write_every_type)

static void every_typecode(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        mp_shared *v[NTYPES], *a[NTYPES], *empty;
        for (int k = 0; k < NTYPES; k++) {
            /* lock on every other one, so that raw and locked both travel */
            MPT_OK(mp_shared_value_new(&v[k], TYPECODES[k], k % 2 == 0));
            MPT_OK(mp_shared_array_new(&a[k], TYPECODES[k], ALEN, k % 2 != 0));
            assert_true(all_zero(mp_shared_ptr(v[k]), size_of(TYPECODES[k])));
            assert_true(all_zero(mp_shared_ptr(a[k]), ALEN * size_of(TYPECODES[k])));
        }
        MPT_OK(mp_shared_array_new(&empty, 'd', 0, true));
        assert_int_equal(mp_shared_len(empty), 0);
        mp_process *p;
        MPT_OK(mp_process_new(&p, write_every_type, mpt_opts(methods[m]), O14 O14 "O", v[0], v[1], v[2], v[3], v[4],
                              v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], a[0], a[1], a[2], a[3], a[4],
                              a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], empty));
        assert_int_equal(mpt_run_child(p), 0);
        for (int k = 0; k < NTYPES; k++) {
            if (!holds_pattern(TYPECODES[k], mp_shared_ptr(v[k]), 1))
                fail_msg("%s: Value('%c') does not hold what the child wrote", mp_start_method_name(methods[m]),
                         TYPECODES[k]);
            if (!holds_pattern(TYPECODES[k], mp_shared_ptr(a[k]), ALEN))
                fail_msg("%s: Array('%c') does not hold what the child wrote", mp_start_method_name(methods[m]),
                         TYPECODES[k]);
            mp_shared_free(v[k]);
            mp_shared_free(a[k]);
        }
        mp_shared_free(empty);
    }
}

static void array_zeroed_and_sized(void **state)
{
    (void)state;
    /* large enough to span several pages, so fresh pages are checked too */
    mp_shared *a;
    MPT_OK(mp_shared_array_new(&a, 'Q', 100000, false));
    assert_int_equal(mp_shared_len(a), 100000);
    assert_int_equal(mp_shared_typecode(a), 'Q');
    assert_true(all_zero(mp_shared_ptr(a), 100000 * 8));
    ((uint64_t *)mp_shared_ptr(a))[99999] = UINT64_MAX; /* the last element is really there */
    mp_shared_free(a);

    mp_shared *empty;
    MPT_OK(mp_shared_array_new(&empty, 'b', 0, false));
    assert_int_equal(mp_shared_len(empty), 0);
    assert_int_equal(mp_shared_typecode(empty), 'b');
    assert_null(mp_shared_get_lock(empty));
    mp_shared_free(empty);
}

/* ---- the lock of a Value ----------------------------------------------- */

#define CHILDREN 4
#define ROUNDS 1000

static int add_rounds(mp_shared *counter)
{
    mp_lock *l = mp_shared_get_lock(counter);
    if (l == NULL || mp_shared_get_lock(counter) != l)
        return 3;
    volatile int64_t *n = mp_shared_ptr(counter);
    for (int i = 0; i < ROUNDS; i++) {
        if (mp_lock_acquire(l, 30) != MP_OK)
            return 4;
        /* an RLock: the holder may take it again */
        if (i == 0 && (mp_lock_acquire(l, 0) != MP_OK || mp_lock_release(l) != MP_OK))
            return 5;
        int64_t seen = *n;
        *n = seen + 1;
        if (mp_lock_release(l) != MP_OK)
            return 6;
    }
    return 0;
}

static int increment(const mp_value *args)
{
    mp_shared *counter;
    int rc = mp_args(args, "O", &counter);
    return rc == MP_OK ? add_rounds(counter) : rc;
}
MP_TARGET(increment)

static void value_lock_counts(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        mp_shared *counter;
        MPT_OK(mp_shared_value_new(&counter, 'q', true));
        mp_process *p[CHILDREN];
        for (int i = 0; i < CHILDREN; i++) {
            MPT_OK(mp_process_new(&p[i], increment, mpt_opts(methods[m]), "O", counter));
            MPT_OK(mp_process_start(p[i]));
        }
        assert_int_equal(add_rounds(counter), 0);
        for (int i = 0; i < CHILDREN; i++)
            assert_int_equal(mpt_join_child(p[i]), 0);
        assert_int_equal(*(int64_t *)mp_shared_ptr(counter), (CHILDREN + 1) * ROUNDS);
        mp_shared_free(counter);
    }
}

/* ---- raw values -------------------------------------------------------- */

static int write_raw(const mp_value *args)
{
    mp_shared *v, *a;
    int rc = mp_args(args, "OO", &v, &a);
    if (rc != MP_OK)
        return rc;
    if (mp_shared_get_lock(v) != NULL || mp_shared_get_lock(a) != NULL)
        return 3;
    *(double *)mp_shared_ptr(v) = 2.5;
    ((int16_t *)mp_shared_ptr(a))[2] = -7;
    return 0;
}
MP_TARGET(write_raw)

static void raw_values(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        mp_shared *v, *a;
        MPT_OK(mp_shared_value_new(&v, 'd', false));
        MPT_OK(mp_shared_array_new(&a, 'h', 3, false));
        /* get_lock fails with MP_ESTATE, which only the message shows */
        assert_null(mp_shared_get_lock(v));
        assert_non_null(strstr(mp_last_error(), "raw value has no lock"));
        mp_process *p;
        MPT_OK(mp_process_new(&p, write_raw, mpt_opts(methods[m]), "OO", v, a));
        assert_int_equal(mpt_run_child(p), 0);
        assert_true(*(double *)mp_shared_ptr(v) == 2.5);
        assert_int_equal(((int16_t *)mp_shared_ptr(a))[2], -7);
        assert_int_equal(((int16_t *)mp_shared_ptr(a))[0], 0);
        mp_shared_free(v);
        mp_shared_free(a);
    }
}

/* ---- bad input --------------------------------------------------------- */

static void value_bad_input(void **state)
{
    (void)state;
    mp_shared *v = (mp_shared *)(uintptr_t)1; /* must be reset to NULL on failure */
    MPT_CODE(mp_shared_value_new(NULL, 'i', true), MP_EINVAL);
    MPT_CODE(mp_shared_array_new(NULL, 'i', 3, false), MP_EINVAL);
    const char bad[] = {'x', 'z', 'u', 'D', '\0', 'O'};
    for (size_t i = 0; i < sizeof bad; i++) {
        MPT_CODE(mp_shared_value_new(&v, bad[i], true), MP_EINVAL);
        assert_null(v);
        v = (mp_shared *)(uintptr_t)1;
        MPT_CODE(mp_shared_array_new(&v, bad[i], 4, false), MP_EINVAL);
        assert_null(v);
    }
    MPT_CODE(mp_shared_array_new(&v, 'd', SIZE_MAX / 4, false), MP_ETOOBIG);
    assert_null(v);

    assert_null(mp_shared_ptr(NULL));
    assert_int_equal(mp_shared_len(NULL), 0);
    assert_int_equal(mp_shared_typecode(NULL), '\0');
    assert_null(mp_shared_get_lock(NULL));
    mp_shared_free(NULL);

    /* another kind of object where a Value is expected, and back */
    mp_lock *l;
    MPT_OK(mp_lock_new(&l));
    mp_shared *wrong = (mp_shared *)(void *)l;
    assert_null(mp_shared_ptr(wrong));
    assert_int_equal(mp_shared_len(wrong), 0);
    assert_int_equal(mp_shared_typecode(wrong), '\0');
    assert_null(mp_shared_get_lock(wrong));
    mp_shared_free(wrong); /* refused: the lock must still work */
    MPT_OK(mp_lock_acquire(l, 0));
    MPT_OK(mp_lock_release(l));

    mp_shm *as_shm = (mp_shm *)(void *)l;
    assert_null(mp_shm_buf(as_shm));
    assert_int_equal(mp_shm_size(as_shm), 0);
    assert_null(mp_shm_name(as_shm));
    MPT_CODE(mp_shm_unlink(as_shm), MP_ETYPE);
    MPT_CODE(mp_shm_close(as_shm), MP_ETYPE);
    mp_lock_free(l);

    MPT_OK(mp_shared_value_new(&v, 'i', false));
    MPT_CODE(mp_shm_close((mp_shm *)(void *)v), MP_ETYPE);
    assert_non_null(mp_shared_ptr(v));
    mp_shared_free(v);
}

static void shm_bad_input(void **state)
{
    (void)state;
    mp_shm *s = (mp_shm *)(uintptr_t)1;
    MPT_CODE(mp_shm_create(NULL, "mproc_never", 16), MP_EINVAL);
    MPT_CODE(mp_shm_create(NULL, NULL, 16), MP_EINVAL);
    MPT_CODE(mp_shm_create(&s, NULL, 0), MP_EINVAL);
    assert_null(s);
    MPT_CODE(mp_shm_create(&s, "mproc_zero", 0), MP_EINVAL);
    MPT_CODE(mp_shm_create(&s, "", 16), MP_EINVAL);
    MPT_CODE(mp_shm_create(&s, "mproc/slash", 16), MP_EINVAL);
    MPT_CODE(mp_shm_create(&s, "//mproc_two_slashes", 16), MP_EINVAL);
    MPT_CODE(mp_shm_create(&s, "/", 16), MP_EINVAL);
    MPT_CODE(mp_shm_create(&s, "mproc\\backslash", 16), MP_EINVAL);
    char longname[400];
    memset(longname, 'm', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    MPT_CODE(mp_shm_create(&s, longname, 16), MP_EINVAL);
    MPT_CODE(mp_shm_create_anonymous(NULL, 16), MP_EINVAL);
    MPT_CODE(mp_shm_create_anonymous(&s, 0), MP_EINVAL);
    assert_null(s);
    MPT_CODE(mp_shm_attach(&s, NULL), MP_EINVAL);
    MPT_CODE(mp_shm_attach(NULL, "mproc_never"), MP_EINVAL);
    MPT_CODE(mp_shm_attach(&s, ""), MP_EINVAL);
    MPT_CODE(mp_shm_attach(&s, "mproc_test_no_such_name"), MP_EOS);
    assert_null(s);
    assert_null(mp_shm_buf(NULL));
    assert_int_equal(mp_shm_size(NULL), 0);
    assert_null(mp_shm_name(NULL));
    MPT_CODE(mp_shm_unlink(NULL), MP_EINVAL);
    MPT_OK(mp_shm_close(NULL));
}

/* ---- SharedMemory ------------------------------------------------------ */

static void unique_name(char *out, size_t size, const char *what, mp_start_method m)
{
    snprintf(out, size, "mproc_test_%ld_%s_%s", mp_current_pid(), what, mp_start_method_name(m));
}

/* What attach reports for a block made with want bytes: exactly that on
 * POSIX (fstat); whole pages on Windows (VirtualQuery's region). */
static bool attach_size_ok(size_t got, size_t want)
{
#ifdef _WIN32
    return got >= want && got % 4096 == 0;
#else
    return got == want;
#endif
}

#define GREETING "from the parent"
#define REPLY "from the child"
#define REPLY_AT 700

/* Attach by name twice: the two mappings are one memory. */
static int attach_and_write(const mp_value *args)
{
    const char *name;
    uint64_t size;
    int rc = mp_args(args, "sQ", &name, &size);
    if (rc != MP_OK)
        return rc;
    mp_shm *a, *b;
    if (mp_shm_attach(&a, name) != MP_OK)
        return 3;
    if (mp_shm_attach(&b, name) != MP_OK)
        return 4;
    rc = 0;
    if (!attach_size_ok(mp_shm_size(a), (size_t)size))
        rc = 5;
    else if (strcmp(mp_shm_name(a), name) != 0)
        rc = 6;
    else if (memcmp(mp_shm_buf(a), GREETING, sizeof GREETING) != 0)
        rc = 7;
    if (rc == 0) {
        memcpy((char *)mp_shm_buf(a) + REPLY_AT, REPLY, sizeof REPLY);
        if (memcmp((char *)mp_shm_buf(b) + REPLY_AT, REPLY, sizeof REPLY) != 0)
            rc = 8;
    }
    mp_shm_close(b);
    mp_shm_close(a);
    return rc;
}
MP_TARGET(attach_and_write)

static void shm_named(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        char name[128];
        unique_name(name, sizeof name, "named", methods[m]);
        mp_shm *s, *again = (mp_shm *)(uintptr_t)1;
        MPT_OK(mp_shm_create(&s, name, 1000));
        assert_string_equal(mp_shm_name(s), name);
        assert_int_equal(mp_shm_size(s), 1000);
        assert_true(all_zero(mp_shm_buf(s), 1000));
        MPT_CODE(mp_shm_create(&again, name, 1000), MP_EEXIST);
        assert_null(again);
        MPT_CODE(mp_shm_create(&again, name, 50), MP_EEXIST);
        memcpy(mp_shm_buf(s), GREETING, sizeof GREETING);

        mp_process *p;
        MPT_OK(mp_process_new(&p, attach_and_write, mpt_opts(methods[m]), "sQ", name, (uint64_t)1000));
        assert_int_equal(mpt_run_child(p), 0);
        assert_memory_equal((char *)mp_shm_buf(s) + REPLY_AT, REPLY, sizeof REPLY);

        /* attaching in the creator's own process: the size comes from the OS */
        mp_shm *self;
        MPT_OK(mp_shm_attach(&self, name));
        assert_true(attach_size_ok(mp_shm_size(self), 1000));
        assert_memory_equal(mp_shm_buf(self), GREETING, sizeof GREETING);
        MPT_OK(mp_shm_close(self));

        /* unlink removes the name; the memory lives on while mapped */
        MPT_OK(mp_shm_unlink(s));
        mp_shm *late = NULL;
        int rc = mp_shm_attach(&late, name);
#ifdef _WIN32
        /* shm.h: on Windows a named block lives while any process has it
         * open, and unlink does nothing */
        MPT_OK(rc);
        MPT_OK(mp_shm_close(late));
#else
        MPT_CODE(rc, MP_EOS);
        assert_null(late);
        assert_true(mp_shm_unlink(s) < 0);
#endif
        memcpy(mp_shm_buf(s), REPLY, sizeof REPLY);
        assert_memory_equal(mp_shm_buf(s), REPLY, sizeof REPLY);
        MPT_OK(mp_shm_close(s));
        /* closed and unlinked: gone on both systems */
        MPT_CODE(mp_shm_attach(&late, name), MP_EOS);
        assert_null(late);
    }
}

static bool in_dev_shm(const char *name)
{
#if defined(__linux__)
    char path[300];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    return access(path, F_OK) == 0;
#else
    (void)name;
    return true;
#endif
}

static bool is_random_name(const char *name)
{
    if (name == NULL || strncmp(name, "psm_", 4) != 0 || strlen(name) != 4 + 16)
        return false;
    for (const char *c = name + 4; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return false;
    return true;
}

/* One leading '/' is Python's POSIX spelling of the same name. */
static void shm_leading_slash(void **state)
{
    (void)state;
    char name[128], slashed[130];
    unique_name(name, sizeof name, "slash", MP_START_DEFAULT);
    snprintf(slashed, sizeof slashed, "/%s", name);
    mp_shm *s, *a, *again = NULL;
    MPT_OK(mp_shm_create(&s, slashed, 64));
    assert_string_equal(mp_shm_name(s), name);
    MPT_OK(mp_shm_attach(&a, name));
    MPT_CODE(mp_shm_create(&again, name, 64), MP_EEXIST);
    assert_null(again);
    memcpy(mp_shm_buf(s), GREETING, sizeof GREETING);
    assert_memory_equal(mp_shm_buf(a), GREETING, sizeof GREETING);
    MPT_OK(mp_shm_close(a));
    MPT_OK(mp_shm_attach(&a, slashed));
    assert_string_equal(mp_shm_name(a), name);
    MPT_OK(mp_shm_close(a));
    MPT_OK(mp_shm_unlink(s));
    MPT_OK(mp_shm_close(s));
}

static void shm_random_name(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        mp_shm *s, *t;
        MPT_OK(mp_shm_create(&s, NULL, 5000));
        MPT_OK(mp_shm_create(&t, NULL, 5000));
        assert_true(is_random_name(mp_shm_name(s)));
        assert_true(is_random_name(mp_shm_name(t)));
        assert_string_not_equal(mp_shm_name(s), mp_shm_name(t));
        assert_true(in_dev_shm(mp_shm_name(s)));
        memcpy(mp_shm_buf(s), GREETING, sizeof GREETING);

        mp_process *p;
        MPT_OK(mp_process_new(&p, attach_and_write, mpt_opts(methods[m]), "sQ", mp_shm_name(s), (uint64_t)5000));
        assert_int_equal(mpt_run_child(p), 0);
        assert_memory_equal((char *)mp_shm_buf(s) + REPLY_AT, REPLY, sizeof REPLY);
        assert_true(all_zero(mp_shm_buf(t), 5000));

        char name[64];
        snprintf(name, sizeof name, "%s", mp_shm_name(s));
        MPT_OK(mp_shm_unlink(s));
        MPT_OK(mp_shm_close(s));
        MPT_OK(mp_shm_unlink(t));
        MPT_OK(mp_shm_close(t));
#if defined(__linux__)
        assert_false(in_dev_shm(name));
#endif
    }
}

/* A SharedMemory as an argument ('O'): the same memory, name and size. */
static int write_through_argument(const mp_value *args)
{
    mp_shm *s;
    const char *name;
    uint64_t size;
    int rc = mp_args(args, "OzQ", &s, &name, &size);
    if (rc != MP_OK)
        return rc;
    if (mp_shm_size(s) != size)
        return 3;
    if ((name == NULL) != (mp_shm_name(s) == NULL) || (name != NULL && strcmp(name, mp_shm_name(s)) != 0))
        return 4;
    if (memcmp(mp_shm_buf(s), GREETING, sizeof GREETING) != 0)
        return 5;
    unsigned char *last = (unsigned char *)mp_shm_buf(s) + size - 1;
    if (*last != 0)
        return 6;
    *last = 0xA5;
    memcpy((char *)mp_shm_buf(s) + REPLY_AT, REPLY, sizeof REPLY);
    return 0;
}
MP_TARGET(write_through_argument)

static void shm_argument(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        char name[128];
        unique_name(name, sizeof name, "argument", methods[m]);
        mp_shm *anon, *named;
        MPT_OK(mp_shm_create_anonymous(&anon, 3000));
        assert_null(mp_shm_name(anon));
        assert_int_equal(mp_shm_size(anon), 3000);
        assert_true(all_zero(mp_shm_buf(anon), 3000));
        MPT_CODE(mp_shm_unlink(anon), MP_ESTATE);
        MPT_OK(mp_shm_create(&named, name, 9000));

        mp_shm *both[2] = {anon, named};
        for (int i = 0; i < 2; i++) {
            size_t size = mp_shm_size(both[i]);
            memcpy(mp_shm_buf(both[i]), GREETING, sizeof GREETING);
            mp_process *p;
            MPT_OK(mp_process_new(&p, write_through_argument, mpt_opts(methods[m]), "OzQ", both[i],
                                  mp_shm_name(both[i]), (uint64_t)size));
            assert_int_equal(mpt_run_child(p), 0);
            assert_memory_equal((char *)mp_shm_buf(both[i]) + REPLY_AT, REPLY, sizeof REPLY);
            assert_int_equal(((unsigned char *)mp_shm_buf(both[i]))[size - 1], 0xA5);
        }
        MPT_OK(mp_shm_close(anon));
        MPT_OK(mp_shm_unlink(named));
        MPT_OK(mp_shm_close(named));
    }
}

/* ---- a creator killed before it unlinks -------------------------------- */

/* Create a name, say so, and wait to be killed. */
static int create_and_hang(const mp_value *args)
{
    const char *name;
    mp_event *ready, *never;
    int rc = mp_args(args, "sOO", &name, &ready, &never);
    mp_shm *s;
    if (rc == MP_OK)
        rc = mp_shm_create(&s, name, 4096);
    if (rc != MP_OK)
        return rc;
    ((char *)mp_shm_buf(s))[0] = 'k';
    mp_event_set(ready);
    mp_event_wait(never, 60);
    return 3;
}
MP_TARGET(create_and_hang)

/* mp_process_kill's exit code: SIGKILL, or terminate's on Windows */
#ifdef _WIN32
#define KILLED (-15)
#else
#define KILLED (-9)
#endif

/* Start create_and_hang under method, wait until its name exists and kill
 * it. 0 or a distinct failure code. */
static int start_and_kill_creator(mp_start_method method, const char *name)
{
    const mp_context *ctx;
    mp_event *ready, *never;
    mp_process *p = NULL;
    int rc = 10, code = 0;
    if (mp_get_context(method, &ctx) != MP_OK || mp_event_new(&ready) != MP_OK)
        return 11;
    if (mp_event_new(&never) != MP_OK) {
        mp_event_free(ready);
        return 12;
    }
    mp_process_options opts = {.context = ctx};
    mp_shm *seen = NULL;
    if (mp_process_new(&p, create_and_hang, &opts, "sOO", name, ready, never) != MP_OK)
        rc = 13;
    else if (mp_process_start(p) != MP_OK)
        rc = 14;
    else if (mp_event_wait(ready, 30) != MP_OK)
        rc = 15;
    else if (mp_shm_attach(&seen, name) != MP_OK || ((char *)mp_shm_buf(seen))[0] != 'k')
        rc = 16;
    else
        rc = 0;
    mp_shm_close(seen);
    if (p != NULL && mp_process_pid(p) > 0) {
        mp_process_kill(p);
        mp_process_join(p, MP_FOREVER);
        mp_process_exitcode(p, &code);
        if (rc == 0 && code != KILLED)
            rc = 17;
    }
    mp_process_close(p);
    mp_event_free(never);
    mp_event_free(ready);
    return rc;
}

#if defined(__linux__)

#define TREE_FLAG "--tracker-tree"

/* Run as a program of its own (mpt_exec_self): a process tree with a
 * resource tracker of its own, since the test executable's tracker unlinks
 * only when the test executable ends. The tree holds two names: own_name,
 * made here and kept open, and child_name, made by a child that is then
 * killed. While this process lives the tracker keeps both (one of the
 * tree's processes is still running). On success it SIGKILLs itself while
 * still holding own_name; once it is gone, both names must go. */
static int tracker_tree(const char *method_name, const char *child_name, const char *own_name)
{
    unsetenv("MPROC_TRACKER");
    mp_start_method method;
    if (mp_start_method_parse(method_name, &method) != MP_OK)
        return 20;
    mp_shm *own;
    if (mp_shm_create(&own, own_name, 4096) != MP_OK)
        return 21;
    int rc = start_and_kill_creator(method, child_name);
    mp_shm *still = NULL;
    if (rc == 0 && mp_shm_attach(&still, child_name) != MP_OK)
        rc = 22;
    mp_shm_close(still);
    if (rc == 0)
        raise(SIGKILL);
    mp_shm_close(own);
    return rc;
}

static void killed_creator(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        char child_name[128], own_name[128];
        unique_name(child_name, sizeof child_name, "killed", methods[m]);
        unique_name(own_name, sizeof own_name, "tree", methods[m]);
        const char *args[] = {TREE_FLAG, mp_start_method_name(methods[m]), child_name, own_name};
        assert_int_equal(mpt_exec_self(NULL, args, 4, 60), -9);
        /* The tree has ended; its tracker unlinks on its own schedule. */
        for (int i = 0; i < 1000 && (in_dev_shm(child_name) || in_dev_shm(own_name)); i++)
            mp_os_sleep(0.02);
        if (in_dev_shm(child_name))
            fail_msg("%s: the killed child's %s outlived its tree", mp_start_method_name(methods[m]), child_name);
        if (in_dev_shm(own_name))
            fail_msg("%s: %s outlived its tree", mp_start_method_name(methods[m]), own_name);
    }
}

#else

/* Windows has no tracker to wait for: the section goes with the killed
 * creator's last handle. */
static void killed_creator(void **state)
{
    (void)state;
    mp_start_method methods[3];
    for (size_t m = 0, n = mpt_methods(methods); m < n; m++) {
        char name[128];
        unique_name(name, sizeof name, "killed", methods[m]);
        assert_int_equal(start_and_kill_creator(methods[m], name), 0);
        mp_shm *late = NULL;
        MPT_CODE(mp_shm_attach(&late, name), MP_EOS);
    }
}

#endif

/* The parent's first named block starts the resource tracker and keeps a
 * connection to it for good; do that before the leak checks count fds. */
static void warm_up_tracker(void)
{
    char name[64];
    snprintf(name, sizeof name, "mproc_test_%ld_warm", mp_current_pid());
    mp_shm *s;
    if (mp_shm_create(&s, name, 64) == MP_OK) {
        mp_shm_unlink(s);
        mp_shm_close(s);
    }
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
#if defined(__linux__)
    if (argc == 5 && strcmp(argv[1], TREE_FLAG) == 0)
        return tracker_tree(argv[2], argv[3], argv[4]);
#endif
    warm_up_tracker();
    const struct CMUnitTest tests[] = {
        MPT_TEST(every_typecode), MPT_TEST(array_zeroed_and_sized), MPT_TEST(value_lock_counts),
        MPT_TEST(raw_values),     MPT_TEST(value_bad_input),        MPT_TEST(shm_bad_input),
        MPT_TEST(shm_named),      MPT_TEST(shm_leading_slash),      MPT_TEST(shm_random_name),        MPT_TEST(shm_argument),
        MPT_TEST(killed_creator),
    };
    return MPT_RUN(tests);
}
