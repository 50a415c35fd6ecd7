/* queue.c - Queue, SimpleQueue and JoinableQueue (queue.h).
 *
 * The items live in a byte ring in the queue's shared block, each one as
 * an 8-byte length and its packed bytes, guarded by a mutex that is a
 * lock word in the block: a process that dies holding it is taken over
 * from. put copies the item in before it returns, so nothing depends on
 * the putting process staying alive.
 *
 * Each large item is copied once on each side: put packs around its large
 * payloads and writes them straight from the caller's memory into the ring
 * (pack_gather.h), and get decodes straight from the ring. Those copies run
 * outside the mutex, so that a producer writing one item and a consumer
 * reading the one before run at once, and nobody waits behind a 1 MiB copy
 * for the mutex: the copying side holds the ring's one writer (or reader)
 * slot, which names its process. A slot whose process has died is taken
 * back by the next caller that waits for it: a writer's item was never
 * published, a reader's is dropped as gotten.
 *
 * Sleeping uses semaphores as condition variables. A sleeper counts itself
 * in `waiting` under the mutex, sleeps on its semaphore, and on waking
 * takes itself out again. A waker posts only for sleepers not yet covered
 * by an earlier post (waiting > posted), so the semaphore's tokens match
 * `posted`, a token nobody took merely wakes the next sleeper early, and
 * every sleeper re-checks its condition under the mutex. Sleeps are cut
 * into slices so that bookkeeping spoiled by a process killed mid-sleep
 * costs latency, never a hang. */
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
#define RESTART_AFTER ((size_t)256 << 10)
/* Items from this size on (length included) are copied outside the mutex;
 * below it the second round of the mutex costs more than it saves. */
#define UNLOCKED_COPY ((size_t)64 << 10)
#define SLEEP_SLICE 0.5
#define SPIN_READS 2000
/* Items up to this size are copied out of the ring and decoded after the
 * mutex is let go. */
#define COPIED_OUT 1024
/* An item's packed bytes up to this size (its large payloads apart) are
 * packed on put's stack instead of in an allocated buffer. */
#define PACKED_ON_STACK 256

enum { NOT_EMPTY, ROOM, ALL_DONE, MUTEX, NSEMS };

typedef struct waitq {
    uint32_t waiting, posted;
} waitq;

/* The first cache line holds the mutex and what every put and get reads
 * and writes under it, so that taking the mutex brings them along: one
 * line crosses between the producer's and the consumer's CPUs per call,
 * not three. The items start on a line of their own. */
typedef struct ring {
    mp_lock_word mutex;
    /* Byte positions counted from the last time the ring was empty; the
     * place in data is position % capacity. */
    uint64_t head, tail;
    uint64_t count;
    /* The process copying an item outside the mutex, or 0. The writer's
     * item is at tail and not counted yet; the reader's is at head and
     * counted out already. */
    int64_t writer, reader;
    uint64_t capacity;
    uint64_t unfinished; /* JoinableQueue: puts minus task_done calls */
    uint64_t touched;    /* bytes of data written to since the last trim */
    int64_t maxsize;     /* 0: no limit */
    uint64_t read_end;   /* where the reader's item ends */
    uint32_t joinable;
    uint32_t pad_;
    waitq getters, putters, joiners;
    _Alignas(64) unsigned char data[];
} ring;

_Static_assert(offsetof(ring, reader) + sizeof(int64_t) <= 64, "the hot fields share the mutex's line");
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

/* The place of pos in data. Positions restart at 0 whenever the ring
 * empties, so most are below the capacity and need no division. */
static size_t ring_at(const ring *r, uint64_t pos)
{
    return (size_t)(pos < r->capacity ? pos : pos % r->capacity);
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

/* Room for one more item of need bytes, length included. */
static bool has_room(const ring *r, size_t need)
{
    return (r->maxsize == 0 || r->count < (uint64_t)r->maxsize) && r->capacity - (r->tail - r->head) >= need;
}

/* Whether an empty ring starts over at its beginning, whose pages are the
 * ones most likely still in the cache: once it is RESTART_AFTER in. Before
 * that, small items go on to fresh cache lines, so that the consumer does
 * not read each one from the line the producer is writing the next to. */
static bool ring_restarts(const ring *r)
{
    return r->head == r->tail && r->reader == 0 && r->tail >= RESTART_AFTER;
}

/* With the mutex held and room there: the place of the next item, which
 * the caller writes and publishes. */
static uint64_t ring_reserve(ring *r, size_t need)
{
    if (ring_restarts(r))
        r->head = r->tail = 0;
    uint64_t end = r->tail + need;
    if (end > r->touched)
        r->touched = end < r->capacity ? end : r->capacity;
    return r->tail;
}

/* Bytes from..to of g's packed part at pos; where the next ones go. */
static uint64_t ring_put_packed(ring *r, uint64_t pos, const mp_gather *g, size_t from, size_t to)
{
    if (to > from)
        ring_write(r, pos, g->packed.data + from, to - from);
    return pos + (to - from);
}

/* The item g as it lies in the ring from pos: its length, then its bytes,
 * the packed ones and the referenced payloads in their order. */
static void ring_put(ring *r, uint64_t pos, const mp_gather *g)
{
    unsigned char b[LENGTH_SIZE];
    for (int i = 0; i < LENGTH_SIZE; i++)
        b[i] = (unsigned char)((uint64_t)g->total >> (8 * (LENGTH_SIZE - 1 - i)));
    ring_write(r, pos, b, sizeof b);
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

/* The item written up to end counts from here on: a process that dies
 * before this leaves it unwritten, not half-written. */
static void ring_publish(ring *r, uint64_t end)
{
    r->tail = end;
    r->count++;
    if (r->joinable)
        r->unfinished++;
}

/* Count the items again after a process died holding the mutex; drop a
 * torn tail. A reader's item is counted out already. */
static void ring_repair(ring *r)
{
    uint64_t pos = r->reader != 0 ? r->read_end : r->head, count = 0;
    while (r->tail - pos >= LENGTH_SIZE) {
        uint64_t len = item_length(r, pos);
        if (len > r->tail - pos - LENGTH_SIZE)
            break;
        pos += LENGTH_SIZE + len;
        count++;
    }
    r->tail = pos;
    r->count = count;
}

/* With the mutex held, once the ring may be empty: if it is, nobody
 * copies and it is far enough in, start over at the beginning and give
 * back the memory beyond KEEP_BYTES. */
static void ring_emptied(mp_queue *q)
{
    ring *r = ring_of(q);
    if (!ring_restarts(r) || r->writer != 0)
        return;
    r->head = r->tail = 0;
    if (r->touched > KEEP_BYTES) {
        size_t data_off = (size_t)(r->data - (unsigned char *)q->base.block.shm.addr);
        mp_os_shm_discard(&q->base.block.shm, data_off + KEEP_BYTES, (size_t)r->touched - KEEP_BYTES);
        r->touched = KEEP_BYTES;
    }
}

/* With the mutex held: take back the slots of processes that died copying.
 * A writer's item was never published; a reader's is gone as gotten. */
static void reap_slots(mp_queue *q)
{
    ring *r = ring_of(q);
    long me = mp_os_getpid();
    if (r->writer != 0 && r->writer != me && !mp_os_pid_alive((long)r->writer))
        r->writer = 0;
    if (r->reader != 0 && r->reader != me && !mp_os_pid_alive((long)r->reader)) {
        r->head = r->read_end;
        r->reader = 0;
        ring_emptied(q);
    }
}

/* ---- locking and sleeping ----------------------------------------------- */

/* The mutex is a lock word (lock_word.h) at the ring's head, with a
 * semaphore of the block to sleep on. A robust mutex cost a trylock and a
 * full unlock of its robust list per put and per get, and on Windows a
 * system call for each. */
static mp_lock_word *mutex_word(const mp_queue *q)
{
    return &ring_of(q)->mutex;
}

/* A holder that died is taken over from, and what it left half done in
 * the ring repaired. */
static int lock(mp_queue *q)
{
    int rc = mp_lock_word_acquire(mutex_word(q), q->base.block.sems[MUTEX], MP_FOREVER, MP_LOCK_PROCESS);
    if (rc == MP_EOWNERDEAD) {
        ring_repair(ring_of(q));
        rc = MP_OK;
    }
    return rc;
}

static void unlock(mp_queue *q)
{
    mp_lock_word_release(mutex_word(q), q->base.block.sems[MUTEX], mp_lock_word_me());
}

/* With the mutex held: MP_OK if the deadline has not passed. */
static int time_left(double deadline, double *slice)
{
    double left = mp_time_left(deadline);
    if (left <= 0)
        return MP_ETIMEDOUT;
    *slice = left < SLEEP_SLICE ? left : SLEEP_SLICE;
    return MP_OK;
}

/* Called and returns with the mutex held. A slice that ends with no post
 * may mean that a process died in a slot the sleeper waits for: the slots
 * are looked at then. */
static int sleep_on(mp_queue *q, waitq *w, unsigned sem, double slice)
{
    w->waiting++;
    unlock(q);
    int woke = mp_os_sem_wait(q->base.block.sems[sem], slice);
    int rc = lock(q);
    if (w->waiting > 0)
        w->waiting--;
    if (woke == MP_OK && w->posted > 0)
        w->posted--;
    if (rc == MP_OK && woke != MP_OK)
        reap_slots(q);
    return rc;
}

/* With the mutex held: wake up to n sleepers that no post covers yet;
 * true if it woke any. */
static bool wake(mp_queue *q, waitq *w, unsigned sem, uint32_t n)
{
    bool woke = false;
    for (; n > 0 && w->waiting > w->posted; n--) {
        w->posted++;
        mp_os_sem_post(q->base.block.sems[sem]);
        woke = true;
    }
    return woke;
}

/* ---- put and get -------------------------------------------------------- */

/* Called with the mutex held; returns with it held unless *locked is false. A
 * busy writer slot is waited for whatever the timeout, as the mutex is:
 * the item before is being written. */
static int put_locked(mp_queue *q, double timeout, const mp_gather *g, bool *locked, bool *woke_getter)
{
    ring *r = ring_of(q);
    size_t need = LENGTH_SIZE + g->total;
    double deadline = mp_deadline(timeout), slice = SLEEP_SLICE;
    bool reaped = false;
    while (r->writer != 0 || !has_room(r, need)) {
        if (r->writer == 0 && time_left(deadline, &slice) != MP_OK) {
            /* The room a dead reader holds is the putter's to take back. */
            if (r->reader != 0 && !reaped) {
                reap_slots(q);
                reaped = true;
                continue;
            }
            return mp_fail(MP_EFULL, "Queue.put: the queue is full");
        }
        int rc = sleep_on(q, &r->putters, ROOM, r->writer != 0 ? SLEEP_SLICE : slice);
        if (rc != MP_OK)
            return rc;
    }
    uint64_t pos = ring_reserve(r, need);
    bool unlocked = need >= UNLOCKED_COPY;
    if (unlocked) {
        r->writer = mp_os_getpid();
        unlock(q);
    }
    ring_put(r, pos, g);
    if (unlocked) {
        int rc = lock(q);
        if (rc != MP_OK) {
            *locked = false;
            return rc;
        }
    }
    ring_publish(r, pos + need);
    if (unlocked) {
        r->writer = 0;
        wake(q, &r->putters, ROOM, 1);
    }
    *woke_getter = wake(q, &r->getters, NOT_EMPTY, 1) && unlocked;
    return MP_OK;
}

static int put_item(mp_queue *q, double timeout, const mp_gather *g)
{
    ring *r = ring_of(q);
    if (g->total > r->capacity - LENGTH_SIZE)
        return mp_fail(MP_ETOOBIG, "Queue.put: an item of %zu bytes does not fit the queue's %llu-byte ring "
                                   "(mp_queue_options.capacity)",
                       g->total, (unsigned long long)r->capacity);
    int rc = lock(q);
    if (rc != MP_OK)
        return rc;
    bool locked = true, woke_getter = false;
    rc = put_locked(q, timeout, g, &locked, &woke_getter);
    if (locked)
        unlock(q);
    /* A getter that waited for this large item reads it best while it is
     * still in this CPU's cache: on a shared CPU, it goes first. */
    if (woke_getter)
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

/* With the mutex held, an item there and the reader slot free: take it out
 * and decode it. Returns with the mutex held unless *locked is false. A
 * small item is copied out and decoded after the mutex is let go, so that
 * the decoder's allocation does not keep a producer waiting; a large one
 * is decoded where it lies, in the reader slot beyond some size. */
static int pop(mp_queue *q, mp_value **out, bool *locked)
{
    ring *r = ring_of(q);
    uint64_t len = item_length(r, r->head);
    if (len > r->tail - r->head - LENGTH_SIZE) {
        r->head = r->tail;
        r->count = 0;
        ring_emptied(q);
        return mp_fail(MP_EPROTO, "Queue.get: the queue's memory is corrupt; its items were dropped");
    }
    uint64_t end = r->head + LENGTH_SIZE + len;
    if (len <= COPIED_OUT) {
        unsigned char item[COPIED_OUT];
        ring_read(r, r->head + LENGTH_SIZE, item, (size_t)len);
        r->head = end;
        if (--r->count == 0)
            ring_emptied(q);
        wake(q, &r->putters, ROOM, UINT32_MAX);
        unlock(q);
        *locked = false;
        int rc = mp_decode(item, (size_t)len, NULL, out);
        return rc == MP_OK || rc == MP_ENOMEM ? rc
                                              : mp_fail(rc, "Queue.get: a malformed item was dropped: %s", mp_last_error());
    }
    bool unlocked = LENGTH_SIZE + len >= UNLOCKED_COPY;
    if (unlocked) {
        r->reader = mp_os_getpid();
        r->read_end = end;
        r->count--;
        unlock(q);
    }
    int rc = decode_at(r, r->head + LENGTH_SIZE, len, out);
    if (unlocked) {
        int lrc = lock(q);
        if (lrc != MP_OK) {
            mp_value_free(*out);
            *out = NULL;
            *locked = false;
            return lrc;
        }
        /* The slot is given up last, as the item is published last. */
        if (rc == MP_ENOMEM)
            r->count++;
        else
            r->head = end;
        r->reader = 0;
        wake(q, &r->getters, NOT_EMPTY, 1);
    } else if (rc != MP_ENOMEM) {
        r->head = end;
        r->count--;
    }
    if (rc == MP_ENOMEM)
        return rc; /* the item stays for a later get */
    if (r->count == 0)
        ring_emptied(q);
    wake(q, &r->putters, ROOM, UINT32_MAX);
    return rc == MP_OK ? rc : mp_fail(rc, "Queue.get: a malformed item was dropped: %s", mp_last_error());
}

/* Called and returns with the mutex held. A producer on another CPU
 * usually puts the next item within microseconds: watching for it costs
 * less than sleeping and being woken. */
static void watch_for_item(const mp_queue *q)
{
    const volatile uint64_t *count = &ring_of(q)->count;
    for (int i = 0; i < SPIN_READS && *count == 0; i++)
        ;
}

static int spin_for_item(mp_queue *q)
{
    unlock(q);
    watch_for_item(q);
    return lock(q);
}

/* Called with the mutex held; returns with it held unless *locked is false.
 * A busy reader slot is waited for whatever the timeout, as the mutex is:
 * the item before is being read. watched: the caller has just watched the
 * queue for an item, so the first wait sleeps at once. */
static int get_locked(mp_queue *q, double timeout, mp_value **out, bool *locked, bool watched)
{
    ring *r = ring_of(q);
    double deadline = mp_deadline(timeout), slice = SLEEP_SLICE;
    bool spun = watched;
    for (;;) {
        if (r->reader == 0) {
            if (r->count > 0)
                return pop(q, out, locked);
            if (time_left(deadline, &slice) != MP_OK)
                return mp_fail(MP_EEMPTY, "Queue.get: the queue is empty");
            if (!spun) {
                spun = true;
                int rc = spin_for_item(q);
                if (rc != MP_OK) {
                    *locked = false;
                    return rc;
                }
                continue;
            }
            spun = false;
        }
        int rc = sleep_on(q, &r->getters, NOT_EMPTY, r->reader != 0 ? SLEEP_SLICE : slice);
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
    /* An empty queue is watched before its mutex is taken: taking it only
     * to find nothing keeps the producer waiting for it. */
    bool watched = !mp_timeout_polls(timeout);
    if (watched)
        watch_for_item(q);
    if ((rc = lock(q)) != MP_OK)
        return rc;
    bool locked = true;
    rc = get_locked(q, timeout, out, &locked, watched);
    if (locked)
        unlock(q);
    return rc;
}

int mp_queue_get_nowait(mp_queue *q, mp_value **out)
{
    return mp_queue_get(q, 0, out);
}

/* ---- state -------------------------------------------------------------- */

/* The count, or a negative MP_E* code. */
static int64_t count_of(mp_queue *q, const char *where, int64_t *maxsize)
{
    *maxsize = 0;
    int rc = check(q, where);
    if (rc != MP_OK || (rc = lock(q)) != MP_OK)
        return rc;
    ring *r = ring_of(q);
    int64_t n = (int64_t)r->count;
    *maxsize = r->maxsize;
    unlock(q);
    return n;
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
    if (rc != MP_OK || (rc = lock(q)) != MP_OK)
        return rc;
    ring *r = ring_of(q);
    if (r->unfinished == 0) {
        rc = mp_fail(MP_ERANGE, "JoinableQueue.task_done: called too many times");
    } else if (--r->unfinished == 0) {
        wake(q, &r->joiners, ALL_DONE, UINT32_MAX);
    }
    unlock(q);
    return rc;
}

int mp_queue_join(mp_queue *q, double timeout)
{
    const mp_queue_backing *elsewhere = mp_queue_backing_of(q);
    if (elsewhere != NULL)
        return elsewhere->join(q, timeout);
    int rc = check_joinable(q, "mp_queue_join");
    if (rc != MP_OK || (rc = lock(q)) != MP_OK)
        return rc;
    ring *r = ring_of(q);
    double deadline = mp_deadline(timeout), slice;
    while (r->unfinished > 0) {
        if (time_left(deadline, &slice) != MP_OK) {
            rc = mp_fail(MP_ETIMEDOUT, "JoinableQueue.join: %llu items are still unfinished",
                         (unsigned long long)r->unfinished);
            break;
        }
        if ((rc = sleep_on(q, &r->joiners, ALL_DONE, slice)) != MP_OK)
            return rc;
    }
    unlock(q);
    return rc;
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
