/* mproc/queue.h - Queue, SimpleQueue and JoinableQueue (multiprocessing's
 * queues), shared between processes and threads.
 *
 * An item is one MessagePack value, packed from a format as mp_conn_send
 * packs a message (several values make an array of them). Items are FIFO:
 * two items put by one thread come out in the order they were put.
 *
 * How it differs from Python, on purpose (docs/python-mapping.md):
 *   - put is synchronous. The item is in shared memory when put returns;
 *     there is no feeder thread. A process may put a large item and exit
 *     (and be joined) before anyone gets it, and the item is still there:
 *     Python's "join before get" deadlock cannot happen.
 *   - An item that cannot be packed is an error from put (Python's feeder
 *     thread drops it with a traceback).
 *   - Items wait in a shared ring of `capacity` bytes (default 64 MiB,
 *     taken from the OS only as it is used). Memory the ring has used is
 *     kept for the next items, up to 32 MiB, while the queue lives; what
 *     it used beyond 32 MiB goes back to the OS whenever the queue is
 *     empty. An item larger than the ring is MP_ETOOBIG. put also blocks,
 *     like a full Queue, while the ring has no room for the item.
 *   - The memory in use follows the items waiting, not `capacity`: once a
 *     put is 1 MiB (or half the ring) in, and the room at the ring's
 *     beginning would hold the items waiting and twice the new one, the
 *     item goes there, so that a producer and a consumer that keep
 *     pace go round the same few MiB, which stay in the CPUs' caches. The
 *     end of the ring it passes over counts as used until get reaches it,
 *     so the room there is not all the room the ring has left.
 *   - A large item is copied once on each side: put copies its bytes and
 *     strings from the caller's memory straight into the ring, get
 *     decodes it straight from there.
 *   - qsize works on every system.
 *   - Python's get(timeout) raises Empty and put(timeout) raises Full; here
 *     the same: MP_EEMPTY and MP_EFULL, also after a timeout.
 *
 * A queue travels to a child as a process argument ('O') under every start
 * method. Its state dies with its last user; nothing is named.
 *
 * Every call here also takes a manager's Queue or JoinableQueue
 * (mp_manager_queue, mp_proxy_as_queue): manager.h says where the two
 * backings differ; and a Queue on Redis (mp_queue_open, at the end).
 *
 * Thread safety: every function may be called from any thread at once,
 * except mp_queue_free, which must not race with other calls on the same
 * object. Puts take one lock and gets another, so a producer and a
 * consumer never wait for each other; puts are in one order, as are gets.
 * qsize, empty and full take no lock. A process that dies inside put or
 * get (killed while holding its side's lock) leaves the queue usable: the
 * lock records its holder's pid, and a caller waiting for it takes it over
 * within 0.1 s of the holder's death and finishes what the holder left
 * half done: an item is published whole or not at all, and the item a
 * dying get was taking is gone, as if gotten.
 *
 * Errors: MP_EINVAL (NULL, bad option), MP_ETYPE (not a queue, or task_done
 * and join on a queue that is not joinable), MP_ESTATE (closed), MP_EEMPTY,
 * MP_EFULL, MP_ETOOBIG (item larger than the ring), MP_ERANGE (task_done
 * called more times than items were put), MP_ETIMEDOUT (join), packing
 * errors from put (MP_EFORMAT, MP_EUNSUPPORTED), decoding errors from get
 * (MP_EPROTO), MP_ENOMEM, MP_EOS. get's MP_ENOMEM leaves an item of more
 * than 1 KiB in the queue; a smaller one, decoded after it left the ring
 * as Python unpickles after the item left the pipe, is lost with it.
 */
#ifndef MPROC_QUEUE_H
#define MPROC_QUEUE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "mproc/pack.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mp_queue mp_queue;

typedef struct mp_queue_options {
    /* Queue(maxsize): at most this many items; 0 or less is no limit. */
    int maxsize;
    /* Bytes of the shared ring that holds the items waiting, each item
     * taking its packed size plus 8 bytes. 0: 64 MiB. At least 4 KiB. */
    size_t capacity;
} mp_queue_options;

/* Queue(maxsize). NULL opts: unbounded, 64 MiB ring. */
int mp_queue_new(mp_queue **out, const mp_queue_options *opts);
/* SimpleQueue(): the same queue (every operation below works on it;
 * Python's SimpleQueue has only get, put, empty and close). */
int mp_simple_queue_new(mp_queue **out, const mp_queue_options *opts);
/* JoinableQueue(maxsize): adds task_done and join. */
int mp_joinable_queue_new(mp_queue **out, const mp_queue_options *opts);

/* put(obj, block=True, timeout): timeout MP_FOREVER blocks until there is
 * room; 0 or any negative value (and NaN) is put_nowait; t > 0 waits up to
 * t seconds. MP_EFULL when there is still no room. */
int mp_queue_put(mp_queue *q, double timeout, const char *fmt, ...);
int mp_queue_vput(mp_queue *q, double timeout, const char *fmt, va_list ap);
/* put_nowait(obj) = put(obj, 0). */
int mp_queue_put_nowait(mp_queue *q, const char *fmt, ...);
/* put of an item already packed: data must be exactly one MessagePack
 * value (not checked here; get reports a malformed item as MP_EPROTO). */
int mp_queue_put_packed(mp_queue *q, double timeout, const void *data, size_t len);

/* get(block=True, timeout): the next item, decoded; *out is the caller's
 * to free with mp_value_free. timeout as put's; MP_EEMPTY when nothing
 * came in time. */
int mp_queue_get(mp_queue *q, double timeout, mp_value **out);
/* get_nowait() = get(0). */
int mp_queue_get_nowait(mp_queue *q, mp_value **out);

/* qsize(): the number of items in the queue (a snapshot), or a negative
 * MP_E* code. */
int mp_queue_qsize(mp_queue *q);
/* empty() and full(): 1 or 0 (snapshots), or a negative MP_E* code. All
 * three are MP_ESTATE on a handle this process closed (Python's empty()
 * raises OSError there). */
int mp_queue_empty(mp_queue *q);
int mp_queue_full(mp_queue *q);

/* close(): this handle puts and gets no more (both become MP_ESTATE). Items
 * already put stay in the queue for other handles, as in Python; nothing
 * is flushed because put is synchronous. Like Python's, close does not end
 * the object: mp_queue_free does (docs/ARCHITECTURE.md, "Ending objects"). */
int mp_queue_close(mp_queue *q);
/* join_thread(): Python waits for the feeder thread to flush; put here
 * has already flushed, so this returns at once. MP_ESTATE unless closed,
 * as Python asserts. */
int mp_queue_join_thread(mp_queue *q);
/* cancel_join_thread(): nothing to cancel; MP_OK. Items are never lost by
 * exiting, with or without it. */
int mp_queue_cancel_join_thread(mp_queue *q);

/* JoinableQueue.task_done(): one item put earlier is done. MP_ERANGE when
 * called more times than items were put. */
int mp_queue_task_done(mp_queue *q);
/* JoinableQueue.join(): wait until every item put has been marked done.
 * timeout as put's (Python has none); MP_ETIMEDOUT if items are still
 * unfinished at the deadline. */
int mp_queue_join(mp_queue *q, double timeout);

/* Free this handle. The queue lives on in every other process using it.
 * NULL is accepted. */
void mp_queue_free(mp_queue *q);

/* ---- a queue on Redis, by address ----------------------------------------- */

/* mp_queue_open(&q, "redis://[user:password@]host:port/db/name", &opts):
 * a Queue or JoinableQueue kept in a Redis server under name, shared by
 * every process on every host that opens the same address. Every
 * mp_queue_* call above works on it, with these differences:
 *   - maxsize is this handle's: its puts find the queue full once it holds
 *     maxsize items, whoever put them;
 *   - a queue is joinable or not for all its users: the first open decides
 *     and a later one that asks for the other is MP_ETYPE;
 *   - delivery: a plain queue's get takes the item for good (at most once,
 *     as Python's Queue). A joinable queue's get leases the item to this
 *     handle until its task_done: if the handle's process dies first (or
 *     its host, or it stops renewing for lease seconds), the item goes
 *     back to the front of the queue for another getter (at least once),
 *     so join never waits for a dead worker's items. task_done ends this
 *     handle's oldest lease (any handle may call it, as in Python);
 *   - calls may fail with the connection's errors: MP_ETIMEDOUT when Redis
 *     does not answer within timeout (stopped, overloaded), MP_ECONNRESET
 *     when it is gone or restarted, MP_EAUTH for a wrong user or password,
 *     MP_EREMOTE for an error of Redis's; the next call connects again;
 *   - items are the same MessagePack values, so a Python program with the
 *     redis and msgpack packages reads and writes them (docs/redis.md says
 *     the key layout);
 *   - the handle travels to a child as a process argument ('O'); the child
 *     opens the address anew, as its own handle.
 * The capacity option of local queues has no meaning here; Redis's memory
 * is the bound. Thread safety: as for every queue. TLS is not spoken
 * (docs/redis.md: tunnel it). */
typedef struct mp_queue_open_options {
    /* Queue(maxsize) for this handle's puts; 0 or less is no limit. */
    int maxsize;
    /* JoinableQueue: task_done, join, and leased gets. */
    bool joinable;
    /* Seconds for connecting and for each exchange with Redis; 0 is 10. */
    double timeout;
    /* Joinable: seconds an item stays leased to a getter that stopped
     * renewing it (renewed every lease / 3 while the process lives); 0 is
     * 5. */
    double lease;
} mp_queue_open_options;

/* Errors: MP_EINVAL (NULL, no name, a bad address or option),
 * MP_EUNSUPPORTED (rediss://), MP_ETYPE (joinable or not, against the
 * queue's), and the connection's (MP_ETIMEDOUT, MP_ECONNRESET, MP_EAUTH,
 * MP_EREMOTE, MP_EOS). */
int mp_queue_open(mp_queue **out, const char *address, const mp_queue_open_options *opts);

#ifdef __cplusplus
}
#endif

#endif
