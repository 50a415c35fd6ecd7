/* queue.c - Queue, SimpleQueue and JoinableQueue (queue.h).
 *
 * The items live in a byte ring in the queue's shared block, each one as
 * an 8-byte length and its packed bytes, or a length that says the rest
 * of the ring is skipped. Producers and consumers each have
 * a mutex of their own, a lock word in the block that is taken over from a
 * process that died holding it: a put takes only the put mutex and a get
 * only the get mutex, so that a producer and a consumer never wait for
 * each other, and each side's state sits on cache lines of its own. The
 * sides meet in two positions: put publishes an item by moving tail, which
 * get reads, and get frees its room by moving head, which put reads. put
 * copies the item in before it returns, so nothing depends on the putting
 * process staying alive.
 *
 * Each large item is copied once on each side: put packs around its large
 * payloads and writes them straight from the caller's memory into the ring
 * (pack_gather.h), and get decodes straight from the ring. A put or get
 * records what it is about to publish or take before it moves a position,
 * so that whoever takes its mutex over after its death finishes the step:
 * an item is published whole or not at all, and an item being taken when
 * its getter died is dropped as gotten.
 *
 * Sleeping uses semaphores as condition variables. A sleeper counts itself
 * in `waiting`, looks once more at the position it waits on, and sleeps on
 * its semaphore; a waker moves the position first and then looks at
 * `waiting` (both sequentially consistent, so one of the two sees the
 * other). A waker posts only for sleepers not yet covered by an earlier post
 * (waiting > posted), so the semaphore's tokens match `posted`, a token
 * nobody took merely wakes the next sleeper early, and every sleeper
 * re-checks its condition. Sleeps are cut into slices so that bookkeeping
 * spoiled by a process killed mid-sleep costs latency, never a hang. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "object/block_object.h"
#include "base/error_internal.h"
#include "mproc/queue.h"
#include "ipc/queue_backing.h"
#include "pack/decode.h"
#include "pack/pack_format.h"
#include "pack/pack_gather.h"
#include "pack/pack_internal.h"
#include "sync/lock_word.h"
#include "base/timeout.h"

#define DEFAULT_CAPACITY ((size_t)64 << 20)
#define MIN_CAPACITY ((size_t)4 << 10)
#define LENGTH_SIZE 8
/* Ring memory kept when the queue empties; beyond it is given back.
 * Taking a page from the OS again costs more than copying into it, so the
 * bound is generous. */
#define KEEP_BYTES ((size_t)32 << 20)
/* An empty ring starts over at its beginning, whose pages are the ones most
 * likely still in the cache, once it is this far in. Before that, small
 * items go on to fresh cache lines, so that the consumer does not read each
 * one from the line the producer is writing the next to. */
#define RESTART_AFTER ((size_t)256 << 10)
/* A put this far into the ring (or half of it, when that is less) may
 * start its item over at the ring's beginning, so that the memory in use
 * follows what waits rather than the ring's size: a producer and a
 * consumer that go round a few MiB find them in their caches. */
#define WRAP_AFTER ((size_t)1 << 20)
/* head is read for a start over once in this many bytes put: it is on
 * the consumer's line. */
#define START_OVER_READS ((uint64_t)64 << 10)
/* The length that tells get to go on at the ring's beginning. */
#define SKIP_TO_START UINT64_MAX
/* A put of an item from this size on that wakes a getter lets it run. */
#define YIELD_AFTER ((size_t)64 << 10)
#define SLEEP_SLICE 0.5
#define SPIN_READS 2000
/* Items up to this size are copied out of the ring and decoded after the
 * get mutex is let go. */
#define COPIED_OUT 1024
/* An item's packed bytes up to this size (its large payloads apart) are
 * packed on put's stack instead of in an allocated buffer. */
#define PACKED_ON_STACK 256

enum { NOT_EMPTY, ROOM, ALL_DONE, PUT_MUTEX, GET_MUTEX, NSEMS };

typedef struct waitq {
    _Atomic uint32_t waiting, posted;
} waitq;

/* A put's publishing or a get's taking of one item, recorded before either
 * moves a position, so that whoever takes over the mutex of a process that
 * died in it can finish it. */
typedef struct step {
    _Atomic uint64_t by;  /* the process taking the step, or 0; STEP_COUNTED */
    uint64_t end, count;  /* the position and the item count once it is done */
} step;

/* In by: the item a put publishes is counted in a JoinableQueue's
 * unfinished already. */
#define STEP_COUNTED (UINT64_C(1) << 32)

/* Positions count bytes since the queue was made; the place of pos in
 * data is (pos - base) % capacity. An empty ring starts over by moving
 * base to its tail. Each side's fields are on lines of their own, written
 * under its mutex; the other side only reads the position it publishes. */
typedef struct ring {
    /* put's, under its mutex */
    mp_lock_word put_lock;
    uint64_t head_seen; /* a head read before: the room is at least what it leaves */
    uint64_t start_over_tried; /* tail when head was last read for a start over */
    step publishing;
    /* what put publishes to get */
    _Alignas(64) _Atomic uint64_t tail;
    _Atomic uint64_t put_count; /* items published */
    /* Bytes of data written to since the last trim: put's, read by a get
     * that empties the ring, here where it has just read tail. */
    _Atomic uint64_t touched;
    /* get's, under its mutex */
    _Alignas(64) mp_lock_word get_lock;
    uint64_t tail_seen; /* a tail read before: the items are at least those before it */
    step taking;
    /* what get publishes to put */
    _Alignas(64) _Atomic uint64_t head;
    _Atomic uint64_t get_count; /* items taken */
    /* set when the queue is made, and base when the ring starts over */
    _Alignas(64) uint64_t capacity;
    int64_t maxsize; /* 0: no limit */
    uint64_t base;
    uint32_t joinable;
    _Alignas(64) waitq getters, putters, joiners;
    _Alignas(64) _Atomic uint64_t unfinished; /* JoinableQueue: puts minus task_done calls */
    _Alignas(64) unsigned char data[];
} ring;

_Static_assert(offsetof(ring, publishing) + sizeof(step) <= 64, "put's fields share its mutex's line");
_Static_assert(offsetof(ring, taking) + sizeof(step) <= offsetof(ring, get_lock) + 64,
               "get's fields share its mutex's line");
_Static_assert(offsetof(ring, data) % 64 == 0, "the items start on a line of their own");

struct mp_queue {
    mp_block_object base;
    atomic_bool closed;
};

static ring *ring_of(const mp_queue *q)
{
    return q->base.block.payload;
}

static int make(mp_queue **out, const mp_queue_options *opts, bool joinable, const char *where)
{
    if (out == NULL)
        return mp_fail(MP_EINVAL, "%s: NULL out", where);
    *out = NULL;
    mp_queue_options o = opts ? *opts : (mp_queue_options){0};
    size_t capacity = o.capacity ? o.capacity : DEFAULT_CAPACITY;
    if (capacity < MIN_CAPACITY || capacity > SIZE_MAX / 2)
        return mp_fail(MP_EINVAL, "%s: capacity %zu bytes is out of range (at least %zu)", where, capacity,
                       MIN_CAPACITY);
    mp_queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return mp_fail(MP_ENOMEM, "Queue: out of memory");
    int rc = mp_block_create(&q->base.block, NSEMS, (unsigned[NSEMS]){0}, sizeof(ring) + capacity);
    if (rc != MP_OK) {
        free(q);
        return rc;
    }
    ring *r = ring_of(q);
    r->capacity = capacity;
    r->maxsize = o.maxsize > 0 ? o.maxsize : 0;
    r->joinable = joinable;
    mp_object_init(&q->base.hdr, MP_KIND_QUEUE);
    atomic_init(&q->closed, false);
    *out = q;
    return MP_OK;
}

int mp_queue_new(mp_queue **out, const mp_queue_options *opts)
{
    return make(out, opts, false, "mp_queue_new");
}

int mp_simple_queue_new(mp_queue **out, const mp_queue_options *opts)
{
    return make(out, opts, false, "mp_simple_queue_new");
}

int mp_joinable_queue_new(mp_queue **out, const mp_queue_options *opts)
{
    return make(out, opts, true, "mp_joinable_queue_new");
}

static int check(mp_queue *q, const char *where)
{
    int rc = mp_object_check(q, MP_KIND_QUEUE, where);
    if (rc == MP_OK && atomic_load(&q->closed))
        rc = mp_fail(MP_ESTATE, "%s: the queue is closed", where);
    return rc;
}

/* ---- the ring ----------------------------------------------------------- */

/* The place of pos in data. Most positions are less than a capacity past
 * base and need no division. */
static size_t ring_at(const ring *r, uint64_t pos)
{
    uint64_t off = pos - r->base;
    return (size_t)(off < r->capacity ? off : off % r->capacity);
}

static void ring_write(ring *r, uint64_t pos, const void *src, size_t n)
{
    size_t at = ring_at(r, pos);
    if (n <= r->capacity - at) {
        memcpy(r->data + at, src, n);
        return;
    }
    size_t first = (size_t)(r->capacity - at);
    memcpy(r->data + at, src, first);
    memcpy(r->data, (const unsigned char *)src + first, n - first);
}

static void ring_read(const ring *r, uint64_t pos, void *dst, size_t n)
{
    size_t at = ring_at(r, pos);
    if (n <= r->capacity - at) {
        memcpy(dst, r->data + at, n);
        return;
    }
    size_t first = (size_t)(r->capacity - at);
    memcpy(dst, r->data + at, first);
    memcpy((unsigned char *)dst + first, r->data, n - first);
}

static uint64_t item_length(const ring *r, uint64_t pos)
{
    unsigned char b[LENGTH_SIZE];
    ring_read(r, pos, b, sizeof b);
    return mp_be_field(b, LENGTH_SIZE);
}

/* Bytes from..to of g's packed part at pos; where the next ones go. */
static uint64_t ring_put_packed(ring *r, uint64_t pos, const mp_gather *g, size_t from, size_t to)
{
    if (to > from)
        ring_write(r, pos, g->packed.data + from, to - from);
    return pos + (to - from);
}

static void put_length(ring *r, uint64_t pos, uint64_t len)
{
    unsigned char b[LENGTH_SIZE];
    for (int i = 0; i < LENGTH_SIZE; i++)
        b[i] = (unsigned char)(len >> (8 * (LENGTH_SIZE - 1 - i)));
    ring_write(r, pos, b, sizeof b);
}

/* The item g as it lies in the ring from pos: its length, then its bytes,
 * the packed ones and the referenced payloads in their order. */
static void ring_put(ring *r, uint64_t pos, const mp_gather *g)
{
    put_length(r, pos, g->total);
    pos += LENGTH_SIZE;
    size_t done = 0;
    for (size_t i = 0; i < g->npieces; i++) {
        const mp_gather_piece *p = &g->pieces[i];
        pos = ring_put_packed(r, pos, g, done, p->at);
        ring_write(r, pos, p->data, p->len);
        pos += p->len;
        done = p->at;
    }
    ring_put_packed(r, pos, g, done, g->packed.len);
}


/* ---- waking and sleeping ------------------------------------------------ */

/* After the position a sleeper waits on has moved: wake up to n sleepers
 * that no post covers yet; true if it woke any. */
static bool wake(mp_queue *q, waitq *w, unsigned sem, uint32_t n)
{
    bool woke = false;
    while (n > 0) {
        uint32_t posted = atomic_load(&w->posted);
        if (atomic_load(&w->waiting) <= posted)
            break;
        if (!atomic_compare_exchange_weak(&w->posted, &posted, posted + 1))
            continue;
        mp_os_sem_post(q->base.block.sems[sem]);
        woke = true;
        n--;
    }
    return woke;
}

/* A sleeper that counted itself in w and has stopped sleeping: woke says
 * whether it took a token. */
static void leave(waitq *w, bool woke)
{
    atomic_fetch_sub(&w->waiting, 1);
    uint32_t posted = atomic_load(&w->posted);
    while (woke && posted > 0 && !atomic_compare_exchange_weak(&w->posted, &posted, posted - 1))
        ;
}

/* With the deadline not passed: how long the next sleep may be. */
static int time_left(double deadline, double *slice)
{
    double left = mp_time_left(deadline);
    if (left <= 0)
        return MP_ETIMEDOUT;
    *slice = left < SLEEP_SLICE ? left : SLEEP_SLICE;
    return MP_OK;
}

/* ---- steps and the two mutexes -------------------------------------------- */

static void step_begin(step *s, uint64_t end, uint64_t count)
{
    s->end = end;
    s->count = count;
    atomic_store_explicit(&s->by, (uint64_t)(uint32_t)mp_os_getpid(), memory_order_release);
}

/* The count moves before the position, so that an item is counted as put
 * before any get can take it; the position's store is sequentially
 * consistent for the sleepers waiting on it. */
static void step_finish(step *s, _Atomic uint64_t *count, _Atomic uint64_t *position)
{
    atomic_store_explicit(count, s->count, memory_order_release);
    atomic_store(position, s->end);
    atomic_store_explicit(&s->by, 0, memory_order_release);
}

/* The put in progress when its process died is finished: its bytes were
 * all in before it recorded what it publishes. */
static void put_repair(mp_queue *q)
{
    ring *r = ring_of(q);
    uint64_t by = atomic_load_explicit(&r->publishing.by, memory_order_acquire);
    if (by == 0)
        return;
    if (r->joinable && !(by & STEP_COUNTED))
        atomic_fetch_add(&r->unfinished, 1);
    step_finish(&r->publishing, &r->put_count, &r->tail);
    wake(q, &r->getters, NOT_EMPTY, UINT32_MAX);
}

/* The item being taken when its getter died is gone as gotten. */
static void get_repair(mp_queue *q)
{
    ring *r = ring_of(q);
    if (atomic_load_explicit(&r->taking.by, memory_order_acquire) == 0)
        return;
    step_finish(&r->taking, &r->get_count, &r->head);
    wake(q, &r->putters, ROOM, UINT32_MAX);
}

/* Take a side's mutex within timeout; a holder that died is taken over
 * from, and what it left half done finished. */
static int lock_side(mp_queue *q, bool put, double timeout)
{
    ring *r = ring_of(q);
    mp_lock_word *w = put ? &r->put_lock : &r->get_lock;
    int rc = mp_lock_word_acquire(w, q->base.block.sems[put ? PUT_MUTEX : GET_MUTEX], timeout, MP_LOCK_PROCESS);
    if (rc == MP_EOWNERDEAD) {
        if (put)
            put_repair(q);
        else
            get_repair(q);
        rc = MP_OK;
    }
    return rc;
}

static void unlock_side(mp_queue *q, bool put)
{
    ring *r = ring_of(q);
    mp_lock_word_release(put ? &r->put_lock : &r->get_lock, q->base.block.sems[put ? PUT_MUTEX : GET_MUTEX],
                         mp_lock_word_me());
}

/* With both mutexes held: if the ring is empty, start it over at its
 * beginning and give back the memory beyond KEEP_BYTES. */
static void ring_restart(mp_queue *q)
{
    ring *r = ring_of(q);
    uint64_t tail = atomic_load(&r->tail);
    if (atomic_load(&r->head) != tail)
        return;
    r->base = r->head_seen = r->tail_seen = tail;
    uint64_t touched = atomic_load_explicit(&r->touched, memory_order_relaxed);
    if (touched > KEEP_BYTES) {
        size_t data_off = (size_t)(r->data - (unsigned char *)q->base.block.shm.addr);
        mp_os_shm_discard(&q->base.block.shm, data_off + KEEP_BYTES, (size_t)touched - KEEP_BYTES);
        atomic_store_explicit(&r->touched, KEEP_BYTES, memory_order_relaxed);
    }
}

/* With the get mutex held, after a get that may have emptied the ring.
 * The get mutex is taken before the put mutex, never the other way round:
 * put only tries it. Memory to give back is waited for; a mere restart
 * is skipped when a put is under way. */
static void ring_emptied(mp_queue *q)
{
    ring *r = ring_of(q);
    uint64_t tail = atomic_load(&r->tail);
    if (atomic_load(&r->head) != tail)
        return;
    bool give_back = atomic_load_explicit(&r->touched, memory_order_relaxed) > KEEP_BYTES;
    if (!give_back && tail - r->base < RESTART_AFTER)
        return;
    if (lock_side(q, true, give_back ? MP_FOREVER : 0) != MP_OK)
        return;
    ring_restart(q);
    unlock_side(q, true);
}

/* ---- put ---------------------------------------------------------------- */

/* With the put mutex held: room for one more item of need bytes, length
 * included. head is read again only when the one seen before leaves too
 * little; again, fresh, when fresh is true. */
static bool has_room(ring *r, size_t need, bool fresh)
{
    if (r->maxsize != 0 &&
        atomic_load(&r->put_count) - atomic_load(&r->get_count) >= (uint64_t)r->maxsize)
        return false;
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (!fresh && r->capacity - (tail - r->head_seen) >= need)
        return true;
    r->head_seen = atomic_load(&r->head);
    return r->capacity - (tail - r->head_seen) >= need;
}

/* The room a getter that died mid-get holds is a putter's to take back:
 * the get mutex is only tried, as the put mutex is held. */
static void take_back_from_dead_getter(mp_queue *q)
{
    if (lock_side(q, false, 0) == MP_OK)
        unlock_side(q, false);
}

/* Called and returns with the put mutex held, unless it fails to take it
 * again after a sleep (*locked false then). */
static int wait_for_room(mp_queue *q, double timeout, size_t need, bool *locked)
{
    ring *r = ring_of(q);
    double deadline = mp_deadline(timeout), slice = SLEEP_SLICE;
    bool took_back = false;
    while (!has_room(r, need, false)) {
        if (time_left(deadline, &slice) != MP_OK) {
            if (!took_back) {
                took_back = true;
                take_back_from_dead_getter(q);
                continue;
            }
            return mp_fail(MP_EFULL, "Queue.put: the queue is full");
        }
        atomic_fetch_add(&r->putters.waiting, 1);
        if (has_room(r, need, true)) {
            leave(&r->putters, false);
            break;
        }
        unlock_side(q, true);
        int woke = mp_os_sem_wait(q->base.block.sems[ROOM], slice);
        leave(&r->putters, woke == MP_OK);
        int rc = lock_side(q, true, MP_FOREVER);
        if (rc != MP_OK) {
            *locked = false;
            return rc;
        }
    }
    return MP_OK;
}

static bool may_start_over(uint64_t waiting, size_t at, size_t need)
{
    return waiting <= at && at - waiting >= waiting + 2 * (uint64_t)need;
}

/* With the put mutex held and room for need bytes at tail: where the item
 * goes. Past WRAP_AFTER, when the room before head would hold what waits
 * and twice the item, the rest of the ring is skipped (a length of
 * SKIP_TO_START says so) and the item goes at the beginning. The skipped
 * bytes count as used until get passes them; what is left leaves a
 * producer that keeps ahead of its consumer room to go on putting. */
static uint64_t place(ring *r, uint64_t tail, size_t need)
{
    size_t at = ring_at(r, tail), rest = r->capacity - at;
    size_t after = r->capacity / 2 < WRAP_AFTER ? r->capacity / 2 : WRAP_AFTER;
    if (at < after || rest < LENGTH_SIZE)
        return tail;
    if (!may_start_over(tail - r->head_seen, at, need)) {
        if (tail - r->start_over_tried < START_OVER_READS)
            return tail;
        r->start_over_tried = tail;
        r->head_seen = atomic_load(&r->head);
        if (!may_start_over(tail - r->head_seen, at, need))
            return tail;
    }
    put_length(r, tail, SKIP_TO_START);
    return tail + rest;
}

/* With the put mutex held and room there: write the item and publish it,
 * recording first what a put mutex taken over from this process must
 * finish. */
static void publish(ring *r, const mp_gather *g, size_t need)
{
    uint64_t pos = place(r, atomic_load_explicit(&r->tail, memory_order_relaxed), need), end = pos + need;
    size_t at = ring_at(r, pos);
    uint64_t used = need <= r->capacity - at ? at + need : r->capacity;
    if (used > atomic_load_explicit(&r->touched, memory_order_relaxed))
        atomic_store_explicit(&r->touched, used, memory_order_relaxed);
    ring_put(r, pos, g);
    step_begin(&r->publishing, end, atomic_load_explicit(&r->put_count, memory_order_relaxed) + 1);
    /* Counted unfinished before a get can take it, so that its task_done
     * finds it; marked first, so that a death in between undercounts by
     * one rather than leaving join a task_done that never comes. */
    if (r->joinable) {
        atomic_fetch_or(&r->publishing.by, STEP_COUNTED);
        atomic_fetch_add(&r->unfinished, 1);
    }
    step_finish(&r->publishing, &r->put_count, &r->tail);
}

static int put_item(mp_queue *q, double timeout, const mp_gather *g)
{
    ring *r = ring_of(q);
    if (g->total > r->capacity - LENGTH_SIZE)
        return mp_fail(MP_ETOOBIG, "Queue.put: an item of %zu bytes does not fit the queue's %llu-byte ring "
                                   "(mp_queue_options.capacity)",
                       g->total, (unsigned long long)r->capacity);
    int rc = lock_side(q, true, MP_FOREVER);
    if (rc != MP_OK)
        return rc;
    size_t need = LENGTH_SIZE + g->total;
    bool locked = true;
    rc = wait_for_room(q, timeout, need, &locked);
    if (rc == MP_OK)
        publish(r, g, need);
    if (locked)
        unlock_side(q, true);
    /* A getter that waited for this large item reads it best while it is
     * still in this CPU's cache: on a shared CPU, it goes first. */
    if (rc == MP_OK && wake(q, &r->getters, NOT_EMPTY, 1) && need >= YIELD_AFTER)
        mp_os_yield();
    return rc;
}

int mp_queue_put_packed(mp_queue *q, double timeout, const void *data, size_t len)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL)
        return data == NULL && len > 0 ? mp_fail(MP_EINVAL, "mp_queue_put: NULL data")
                                       : elsewhere->put_packed(q, timeout, data, len);
    int rc = check(q, "mp_queue_put");
    if (rc == MP_OK && data == NULL && len > 0)
        rc = mp_fail(MP_EINVAL, "mp_queue_put: NULL data");
    if (rc != MP_OK)
        return rc;
    mp_gather g = {.pieces = {{.at = 0, .data = data, .len = len}}, .npieces = len > 0, .total = len};
    return put_item(q, timeout, &g);
}

int mp_queue_vput(mp_queue *q, double timeout, const char *fmt, va_list ap)
{
    mp_gather g = {0};
    unsigned char small[PACKED_ON_STACK];
    mp_buf_borrow(&g.packed, small, sizeof small);
    int rc;
    if (mp_queue_backing_of(q) != NULL) {
        rc = mp_pack_message(&g.packed, fmt, ap);
        if (rc == MP_OK)
            rc = mp_queue_put_packed(q, timeout, g.packed.data, g.packed.len);
        else
            rc = mp_fail(rc, "Queue.put: the item cannot be packed: %s", mp_last_error());
    } else if ((rc = check(q, "mp_queue_put")) == MP_OK) {
        rc = mp_pack_message_gather(&g, fmt, ap);
        if (rc == MP_OK)
            rc = put_item(q, timeout, &g);
        else
            rc = mp_fail(rc, "Queue.put: the item cannot be packed: %s", mp_last_error());
    }
    mp_buf_free(&g.packed);
    return rc;
}

int mp_queue_put(mp_queue *q, double timeout, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_queue_vput(q, timeout, fmt, ap);
    va_end(ap);
    return rc;
}

int mp_queue_put_nowait(mp_queue *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_queue_vput(q, 0, fmt, ap);
    va_end(ap);
    return rc;
}


/* ---- get ---------------------------------------------------------------- */

/* The len bytes from pos, decoded where they lie unless they wrap around
 * the ring's end. */
static int decode_at(const ring *r, uint64_t pos, uint64_t len, mp_value **out)
{
    size_t at = ring_at(r, pos);
    if (len <= r->capacity - at)
        return mp_decode(r->data + at, (size_t)len, NULL, out);
    unsigned char *copy = malloc((size_t)len);
    if (copy == NULL)
        return mp_fail(MP_ENOMEM, "Queue.get: out of memory for an item of %llu bytes", (unsigned long long)len);
    ring_read(r, pos, copy, (size_t)len);
    int rc = mp_decode(copy, (size_t)len, NULL, out);
    free(copy);
    return rc;
}

/* With the get mutex held: whether an item is there. tail is read again
 * only when the one seen before says the ring is empty. */
static bool has_item(ring *r)
{
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head != r->tail_seen)
        return true;
    r->tail_seen = atomic_load(&r->tail);
    return head != r->tail_seen;
}

/* The item the get in progress takes is taken. */
static void taken(mp_queue *q)
{
    ring *r = ring_of(q);
    uint64_t end = r->taking.end;
    step_finish(&r->taking, &r->get_count, &r->head);
    wake(q, &r->putters, ROOM, UINT32_MAX);
    if (end == r->tail_seen)
        ring_emptied(q);
}

/* With the get mutex held and an item there: take it out and decode it.
 * Returns with the mutex held unless *locked is false. A small item is
 * copied out and decoded after the mutex is let go, so that the decoder's
 * allocation does not keep the next getter waiting; a large one is decoded
 * where it lies. */
static int pop(mp_queue *q, mp_value **out, bool *locked)
{
    ring *r = ring_of(q);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed), left = r->tail_seen - head;
    uint64_t len = item_length(r, head);
    if (len == SKIP_TO_START) {
        uint64_t rest = r->capacity - ring_at(r, head);
        head += rest;
        left = rest < left ? left - rest : 0;
        len = left >= LENGTH_SIZE ? item_length(r, head) : UINT64_MAX;
    }
    if (left < LENGTH_SIZE || len > left - LENGTH_SIZE) {
        atomic_store(&r->get_count, atomic_load(&r->put_count));
        atomic_store(&r->head, r->tail_seen);
        wake(q, &r->putters, ROOM, UINT32_MAX);
        return mp_fail(MP_EPROTO, "Queue.get: the queue's memory is corrupt; its items were dropped");
    }
    uint64_t end = head + LENGTH_SIZE + len;
    step_begin(&r->taking, end, atomic_load_explicit(&r->get_count, memory_order_relaxed) + 1);
    if (len <= COPIED_OUT) {
        unsigned char item[COPIED_OUT];
        ring_read(r, head + LENGTH_SIZE, item, (size_t)len);
        taken(q);
        unlock_side(q, false);
        *locked = false;
        int rc = mp_decode(item, (size_t)len, NULL, out);
        return rc == MP_OK || rc == MP_ENOMEM ? rc
                                              : mp_fail(rc, "Queue.get: a malformed item was dropped: %s", mp_last_error());
    }
    int rc = decode_at(r, head + LENGTH_SIZE, len, out);
    if (rc == MP_ENOMEM) {
        atomic_store_explicit(&r->taking.by, 0, memory_order_release);
        return rc; /* the item stays for a later get */
    }
    taken(q);
    return rc == MP_OK ? rc : mp_fail(rc, "Queue.get: a malformed item was dropped: %s", mp_last_error());
}

/* A producer on another CPU usually puts the next item within
 * microseconds: watching for it costs less than sleeping and being woken. */
static void watch_for_item(const mp_queue *q)
{
    const ring *r = ring_of(q);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    for (int i = 0; i < SPIN_READS && atomic_load_explicit(&r->tail, memory_order_relaxed) == head; i++)
        ;
}

/* Called with the get mutex held; returns with it held unless *locked is
 * false. The mutex is waited for whatever the timeout: the getter that
 * holds it is taking the item before. watched: the caller has just watched
 * the queue for an item, so the first wait sleeps at once. */
static int get_locked(mp_queue *q, double timeout, mp_value **out, bool *locked, bool watched)
{
    ring *r = ring_of(q);
    double deadline = mp_deadline(timeout), slice = SLEEP_SLICE;
    bool spun = watched;
    for (;;) {
        if (has_item(r))
            return pop(q, out, locked);
        if (time_left(deadline, &slice) != MP_OK)
            return mp_fail(MP_EEMPTY, "Queue.get: the queue is empty");
        int woke = MP_ETIMEDOUT;
        if (!spun) {
            unlock_side(q, false);
            watch_for_item(q);
        } else {
            atomic_fetch_add(&r->getters.waiting, 1);
            if (atomic_load(&r->tail) != atomic_load_explicit(&r->head, memory_order_relaxed)) {
                leave(&r->getters, false);
                continue;
            }
            unlock_side(q, false);
            woke = mp_os_sem_wait(q->base.block.sems[NOT_EMPTY], slice);
            leave(&r->getters, woke == MP_OK);
        }
        spun = !spun;
        int rc = lock_side(q, false, MP_FOREVER);
        if (rc != MP_OK) {
            *locked = false;
            return rc;
        }
    }
}

int mp_queue_get(mp_queue *q, double timeout, mp_value **out)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL) {
        if (out == NULL)
            return mp_fail(MP_EINVAL, "mp_queue_get: NULL out");
        *out = NULL;
        return elsewhere->get(q, timeout, out);
    }
    int rc = check(q, "mp_queue_get");
    if (rc == MP_OK && out == NULL)
        rc = mp_fail(MP_EINVAL, "mp_queue_get: NULL out");
    if (rc != MP_OK)
        return rc;
    *out = NULL;
    /* An empty queue is watched before the get mutex is taken: taking it
     * only to find nothing keeps another getter waiting for it. */
    bool watched = !mp_timeout_polls(timeout);
    if (watched)
        watch_for_item(q);
    if ((rc = lock_side(q, false, MP_FOREVER)) != MP_OK)
        return rc;
    bool locked = true;
    rc = get_locked(q, timeout, out, &locked, watched);
    if (locked)
        unlock_side(q, false);
    return rc;
}

int mp_queue_get_nowait(mp_queue *q, mp_value **out)
{
    return mp_queue_get(q, 0, out);
}

/* ---- state -------------------------------------------------------------- */

/* The count, or a negative MP_E* code. An item is counted as put before it
 * can be taken, and the gets are read first, so the count is never below
 * 0; it may be one ahead of what get finds while a put is between its
 * count and its tail. */
static int64_t count_of(mp_queue *q, const char *where, int64_t *maxsize)
{
    *maxsize = 0;
    int rc = check(q, where);
    if (rc != MP_OK)
        return rc;
    ring *r = ring_of(q);
    uint64_t got = atomic_load(&r->get_count), put = atomic_load(&r->put_count);
    *maxsize = r->maxsize;
    return put > got ? (int64_t)(put - got) : 0;
}

int mp_queue_qsize(mp_queue *q)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL)
        return elsewhere->qsize(q);
    int64_t maxsize, n = count_of(q, "mp_queue_qsize", &maxsize);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int mp_queue_empty(mp_queue *q)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL)
        return elsewhere->empty(q);
    int64_t maxsize, n = count_of(q, "mp_queue_empty", &maxsize);
    return n < 0 ? (int)n : n == 0;
}

int mp_queue_full(mp_queue *q)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL)
        return elsewhere->full(q);
    int64_t maxsize, n = count_of(q, "mp_queue_full", &maxsize);
    return n < 0 ? (int)n : maxsize > 0 && n >= maxsize;
}

int mp_queue_close(mp_queue *q)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL)
        return elsewhere->close(q);
    int rc = mp_object_check(q, MP_KIND_QUEUE, "mp_queue_close");
    if (rc == MP_OK)
        atomic_store(&q->closed, true);
    return rc;
}

int mp_queue_join_thread(mp_queue *q)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL)
        return elsewhere->join_thread(q);
    int rc = mp_object_check(q, MP_KIND_QUEUE, "mp_queue_join_thread");
    if (rc == MP_OK && !atomic_load(&q->closed))
        rc = mp_fail(MP_ESTATE, "mp_queue_join_thread: the queue is not closed");
    return rc;
}

int mp_queue_cancel_join_thread(mp_queue *q)
{
    if (mp_queue_backing_of(q) != NULL)
        return MP_OK;
    return mp_object_check(q, MP_KIND_QUEUE, "mp_queue_cancel_join_thread");
}

/* ---- JoinableQueue ------------------------------------------------------ */

static int check_joinable(mp_queue *q, const char *where)
{
    int rc = check(q, where);
    if (rc == MP_OK && !ring_of(q)->joinable)
        rc = mp_fail(MP_ETYPE, "%s: not a JoinableQueue", where);
    return rc;
}

int mp_queue_task_done(mp_queue *q)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL)
        return elsewhere->task_done(q);
    int rc = check_joinable(q, "mp_queue_task_done");
    if (rc != MP_OK)
        return rc;
    ring *r = ring_of(q);
    uint64_t left = atomic_load(&r->unfinished);
    do {
        if (left == 0)
            return mp_fail(MP_ERANGE, "JoinableQueue.task_done: called too many times");
    } while (!atomic_compare_exchange_weak(&r->unfinished, &left, left - 1));
    if (left == 1)
        wake(q, &r->joiners, ALL_DONE, UINT32_MAX);
    return MP_OK;
}

int mp_queue_join(mp_queue *q, double timeout)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL)
        return elsewhere->join(q, timeout);
    int rc = check_joinable(q, "mp_queue_join");
    if (rc != MP_OK)
        return rc;
    ring *r = ring_of(q);
    double deadline = mp_deadline(timeout), slice;
    while (atomic_load(&r->unfinished) > 0) {
        if (time_left(deadline, &slice) != MP_OK)
            return mp_fail(MP_ETIMEDOUT, "JoinableQueue.join: %llu items are still unfinished",
                           (unsigned long long)atomic_load(&r->unfinished));
        atomic_fetch_add(&r->joiners.waiting, 1);
        if (atomic_load(&r->unfinished) == 0) {
            leave(&r->joiners, false);
            break;
        }
        int woke = mp_os_sem_wait(q->base.block.sems[ALL_DONE], slice);
        leave(&r->joiners, woke == MP_OK);
    }
    return MP_OK;
}

/* ---- lifetime and travel ------------------------------------------------ */

void mp_queue_free(mp_queue *q)
{
    if (mp_queue_backing_of(q) != NULL) {
        mp_object_free((mp_object *)(void *)q);
        return;
    }
    mp_object_free_checked(q, MP_KIND_QUEUE, "mp_queue_free");
}

static int check_import(const mp_block_object *o)
{
    const mp_block *b = &o->block;
    size_t room = b->nsems == NSEMS ? mp_block_payload_size(b) : 0;
    const ring *r = b->payload;
    bool fits = room >= sizeof(ring) && r->capacity >= MIN_CAPACITY && r->capacity <= room - sizeof(ring);
    return fits ? MP_OK : mp_fail(MP_EPROTO, "Queue argument: malformed");
}

static int queue_import(mp_kind kind, const mp_value *fields, const mp_os_handle *h, size_t n,
                        mp_object *nested, mp_object **out)
{
    (void)nested;
    int rc = mp_block_object_import(kind, sizeof(mp_queue), fields, h, n, NULL, check_import, out);
    if (rc == MP_OK)
        atomic_init(&((mp_queue *)(void *)*out)->closed, false);
    return rc;
}

const mp_object_ops mp_queue_ops = {.name = "Queue",
                                    .export_ = mp_block_object_export,
                                    .import_ = queue_import,
                                    .free_ = mp_block_object_free};
