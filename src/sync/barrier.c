/* barrier.c - Barrier (sync.h): threading.Barrier's state machine, kept in
 * the condition's shared state so that every process sees one barrier. */
#include <stdlib.h>
#include <string.h>

#include "sync/condition_internal.h"
#include "base/error_internal.h"
#include "base/registry_internal.h"
#include "base/timeout.h"

enum { FILLING = 0, DRAINING = 1, RESETTING = -1, BROKEN = -2 };

/* Room for the action's name, its NUL included: what fits beside the
 * counters in the condition's shared state. A longer name is refused. */
#define ACTION_NAME_SIZE 160

typedef struct shared {
    int state;
    unsigned count; /* parties inside wait */
    unsigned parties;
    double timeout;   /* default; MP_FOREVER: none */
    char action[ACTION_NAME_SIZE]; /* registered target name, or "" */
} shared;

_Static_assert(sizeof(shared) <= MP_COND_STATE_SIZE, "barrier state fits");

struct mp_barrier {
    mp_cond_object c;
};

static shared *st(const mp_barrier *b)
{
    return b->c.base.block.payload;
}

int mp_barrier_new(mp_barrier **out, unsigned parties, const mp_barrier_options *opts)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "mp_barrier_new: NULL out");
    *out = NULL;
    if (parties == 0)
        return mp_fail(MP_EINVAL, "mp_barrier_new: parties must be at least 1");
    const char *action = "";
    if (opts && opts->action && (action = mp_target_name(opts->action)) == NULL)
        return mp_fail(MP_ENOTREG, "mp_barrier_new: the action must be a registered target (MP_TARGET)");
    if (strlen(action) >= ACTION_NAME_SIZE)
        return mp_fail(MP_EINVAL, "mp_barrier_new: the action's name is too long");
    mp_barrier *b = malloc(sizeof *b);
    if (b == NULL)
        return mp_fail(MP_ENOMEM, "Barrier: out of memory");
    int rc = mp_shcond_init(&b->c, MP_KIND_BARRIER, NULL, false);
    if (rc != MP_OK) {
        free(b);
        return rc;
    }
    shared *s = st(b);
    s->parties = parties;
    s->timeout = opts ? opts->timeout : MP_FOREVER;
    strcpy(s->action, action);
    *out = b;
    return MP_OK;
}

static int lock(mp_barrier *b, const char *where)
{
    int rc = mp_object_check(b, MP_KIND_BARRIER, where);
    if (rc == MP_OK)
        rc = mp_lock_acquire(mp_shcond_lock(&b->c), MP_FOREVER);
    return rc == MP_EOWNERDEAD ? MP_OK : rc;
}

static void unlock(mp_barrier *b)
{
    mp_lock_release(mp_shcond_lock(&b->c));
}

static void break_it(mp_barrier *b)
{
    st(b)->state = BROKEN;
    mp_shcond_notify(&b->c, ~0u);
}

static bool not_passing(void *b)
{
    int s = st(b)->state;
    return s != DRAINING && s != RESETTING;
}

static bool not_filling(void *b)
{
    return st(b)->state != FILLING;
}

static int run_action(mp_barrier *b)
{
    if (st(b)->action[0] == '\0')
        return MP_OK;
    mp_target_fn fn = mp_registry_find(st(b)->action);
    if (fn == NULL)
        return mp_fail(MP_ENOTREG, "Barrier action '%s' is not registered in this process", st(b)->action);
    mp_value no_args = {.type = MP_ARRAY, .as.array = {NULL, 0}};
    int rc = fn(&no_args);
    return rc < 0 ? rc : MP_OK;
}

/* The last party in: run the action and let everyone go. */
static int release_all(mp_barrier *b)
{
    int rc = run_action(b);
    if (rc != MP_OK) {
        break_it(b);
        return MP_EBROKEN;
    }
    st(b)->state = DRAINING;
    mp_shcond_notify(&b->c, ~0u);
    return MP_OK;
}

static void leave(mp_barrier *b)
{
    shared *s = st(b);
    if (--s->count == 0 && (s->state == RESETTING || s->state == DRAINING)) {
        s->state = FILLING;
        mp_shcond_notify(&b->c, ~0u);
    }
}

int mp_barrier_wait(mp_barrier *b, double timeout, unsigned *index)
{
    int rc = lock(b, "mp_barrier_wait");
    if (rc != MP_OK)
        return rc;
    shared *s = st(b);
    if (mp_timeout_forever(timeout))
        timeout = s->timeout;
    rc = mp_shcond_wait_for(&b->c, not_passing, b, MP_FOREVER);
    if (rc == MP_OK && s->state < 0)
        rc = mp_fail(MP_EBROKEN, "mp_barrier_wait: the barrier is broken");
    if (rc != MP_OK) {
        unlock(b);
        return rc;
    }
    unsigned mine = s->count++;
    if (mine + 1 == s->parties) {
        rc = release_all(b);
    } else if (mp_shcond_wait_for(&b->c, not_filling, b, timeout) != MP_OK) {
        break_it(b);
        rc = mp_fail(MP_EBROKEN, "mp_barrier_wait: timed out; the barrier is now broken");
    } else if (s->state < 0) {
        rc = mp_fail(MP_EBROKEN, "mp_barrier_wait: the barrier was broken or reset while waiting");
    }
    leave(b);
    unlock(b);
    if (rc == MP_OK && index != NULL)
        *index = mine;
    return rc;
}

int mp_barrier_reset(mp_barrier *b)
{
    int rc = lock(b, "mp_barrier_reset");
    if (rc != MP_OK)
        return rc;
    shared *s = st(b);
    if (s->count > 0) {
        if (s->state == FILLING || s->state == BROKEN)
            s->state = RESETTING;
    } else {
        s->state = FILLING;
    }
    mp_shcond_notify(&b->c, ~0u);
    unlock(b);
    return MP_OK;
}

int mp_barrier_abort(mp_barrier *b)
{
    int rc = lock(b, "mp_barrier_abort");
    if (rc != MP_OK)
        return rc;
    break_it(b);
    unlock(b);
    return MP_OK;
}

unsigned mp_barrier_parties(mp_barrier *b)
{
    return mp_object_check(b, MP_KIND_BARRIER, "mp_barrier_parties") == MP_OK ? st(b)->parties : 0;
}

unsigned mp_barrier_n_waiting(mp_barrier *b)
{
    if (lock(b, "mp_barrier_n_waiting") != MP_OK)
        return 0;
    unsigned n = st(b)->state == FILLING ? st(b)->count : 0;
    unlock(b);
    return n;
}

bool mp_barrier_broken(mp_barrier *b)
{
    if (lock(b, "mp_barrier_broken") != MP_OK)
        return false;
    bool broken = st(b)->state == BROKEN;
    unlock(b);
    return broken;
}

void mp_barrier_free(mp_barrier *b)
{
    mp_object_free_checked(b, MP_KIND_BARRIER, "mp_barrier_free");
}

const mp_object_ops mp_barrier_ops = {.name = "Barrier",
                                      .export_ = mp_block_object_export,
                                      .import_ = mp_shcond_import,
                                      .free_ = mp_block_object_free};
