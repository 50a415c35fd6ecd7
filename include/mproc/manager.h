/* mproc/manager.h - Managers (multiprocessing.managers): objects held by a
 * server process, used from any process, on this machine or another,
 * through proxies.
 *
 * A manager's server holds the objects; a client asks it to create one
 * (Python's manager.Queue(), manager.dict(), or a registered typeid such as
 * seed 003's get_task_queue) and gets a proxy. Calling a method on a proxy
 * (mp_proxy_call, with Python's method names: "put", "get",
 * "__getitem__"...) runs it in the server and brings back its result.
 * Values are MessagePack (mp_value), as everywhere else in mproc.
 *
 * The server speaks over a Listener (net.h) with an authkey: a TCP address
 * for other machines, or a local one. docs/protocol.md §9 has its messages
 * byte by byte.
 *
 * Every server knows the typeids of Python's SyncManager (below), so
 * mp_manager_new is BaseManager and SyncManager at once, plus the typeids
 * registered with mp_manager_register.
 *
 * How it is better than Python's (docs/python-mapping.md):
 *   - one connection per client process and server, shared by its threads
 *     and proxies, each call tagged with a request id; a blocking call
 *     (a get, an acquire) does not hold up the others;
 *   - no call waits on a dead or stopped server: a client that has heard
 *     nothing for the options' timeout while waiting pings the server, and
 *     a server that does not answer within the timeout makes the call fail
 *     with MP_ETIMEDOUT; a server that is gone, with MP_ECONNRESET. A call
 *     otherwise waits as long as its method does (get with no timeout
 *     waits for an item, as in Python);
 *   - a client that dies while blocked in a Queue's get loses no item: the
 *     server gives up the get when the connection ends;
 *   - a Lock or RLock held through a proxy by a client that dies is
 *     released, and the next acquirer gets MP_EOWNERDEAD (it holds the
 *     lock), as with mproc's own locks;
 *   - objects are referenced per connection: when a client goes, its
 *     references go with it, and what nobody references is freed. This
 *     holds for a connection that ended on a timeout too: the next call
 *     connects anew, and a proxy whose object went with the old
 *     connection gets MP_ESTATE;
 *   - a server on an address other than loopback refuses an authkey
 *     shorter than MP_MANAGER_MIN_AUTHKEY bytes unless allow_weak_authkey
 *     is set.
 *
 * Thread safety: a manager and its proxies may be used from any thread at
 * once, except that mp_manager_free and mp_proxy_free must not race with
 * other calls on the same object. After fork, a child's proxies open their
 * own connection on first use; the parent's is left alone.
 *
 * Errors (besides each method's own): MP_EINVAL (NULL, a bad option, an
 * unknown method), MP_ENOTREG (a typeid the server does not know),
 * MP_ESTATE (not started or connected, shut down, an object the server no
 * longer has), MP_EAUTH, MP_ETIMEDOUT and MP_ECONNRESET (above), MP_EPROTO
 * (a malformed message), MP_EOS. An error a method raised in the server
 * comes back with its code and message ("manager: ..."): get on an empty
 * Queue is MP_EEMPTY, as a local Queue's.
 */
#ifndef MPROC_MANAGER_H
#define MPROC_MANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "mproc/pack.h"
#include "mproc/process.h"
#include "mproc/queue.h"
#include "mproc/registry.h"
#include "mproc/sync.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mp_manager mp_manager;
typedef struct mp_proxy mp_proxy;

/* The timeout of MP_MANAGER_OPTIONS_INIT and NULL options, in seconds. */
#define MP_MANAGER_DEFAULT_TIMEOUT 30.0
/* The shortest authkey a server on a non-loopback address takes. */
#define MP_MANAGER_MIN_AUTHKEY 16

typedef struct mp_manager_options {
    /* BaseManager(address=...): where the server listens or is, as net.h
     * spells addresses ("tcp://0.0.0.0:5000", "tcp://127.0.0.1:0",
     * "unix:/path"). NULL: for start, a fresh local address (a named pipe
     * on Windows, an abstract AF_UNIX name on Linux, TCP loopback
     * elsewhere); connect needs one. */
    const char *address;
    /* BaseManager(authkey=...). NULL: this process's authkey (mp_authkey),
     * as Python's. authkey_len bytes are used, and copied. */
    const void *authkey;
    size_t authkey_len;
    /* Seconds for connecting and authenticating, for the server to start,
     * and the silence after which a waiting call pings (see above).
     * MP_FOREVER: never give up on a server; 0 or less polls, as every
     * timeout (start from MP_MANAGER_OPTIONS_INIT). */
    double timeout;
    /* Serve on a non-loopback address with an authkey shorter than
     * MP_MANAGER_MIN_AUTHKEY bytes, or none: refused (MP_EINVAL) unless
     * this is true. */
    bool allow_weak_authkey;
    /* The start method of the server started by mp_manager_start (NULL:
     * the default one, which is spawn on Windows). */
    const mp_context *context;
} mp_manager_options;

#define MP_MANAGER_OPTIONS_INIT {NULL, NULL, 0, MP_MANAGER_DEFAULT_TIMEOUT, false, NULL}

/* BaseManager(address, authkey) / SyncManager: a manager neither started
 * nor connected. opts is copied (address and authkey too). */
int mp_manager_new(mp_manager **out, const mp_manager_options *opts);

/* start(): run the server in a child process (an ordinary mproc child,
 * under the options' start method) and connect to it. Returns once the
 * server listens. MP_ESTATE if already started or connected. */
int mp_manager_start(mp_manager *m);

/* connect(): use a server that is already running at the options'
 * address (another program's, or another machine's). MP_ESTATE if already
 * started or connected. */
int mp_manager_connect(mp_manager *m);

/* get_server().serve_forever(): serve in this process, on this thread,
 * until a client calls mp_manager_shutdown. MP_OK when shut down that way. */
int mp_manager_serve_forever(mp_manager *m);

/* address: the server's address as clients reach it ("tcp://127.0.0.1:40513"
 * once started with port 0). NULL before start or connect. Valid until
 * mp_manager_free. */
const char *mp_manager_address(const mp_manager *m);

/* shutdown(): stop the server. For a started manager, also wait for its
 * process (terminating it if it does not end within the timeout). A
 * connected manager asks the server it connected to to stop (Python has
 * shutdown only after start). Proxies of its objects fail from now on
 * (MP_ECONNRESET, or MP_EOS once nothing listens at the address). */
int mp_manager_shutdown(mp_manager *m);

/* Shut down a started manager, close the connection, free. Proxies made
 * from it stay valid (they have their own reference) but their calls fail
 * once the server is gone. NULL is accepted. */
void mp_manager_free(mp_manager *m);

/* ---- creating objects -------------------------------------------------- */

/* manager.<typeid>(*args): create an object of that typeid in the server
 * and return its proxy, the caller's to free. args are packed from fmt as
 * mp_pack packs them (NULL fmt: no arguments) and given to the typeid's
 * callable. The typeids every server knows, with their arguments:
 *   "Queue" (maxsize=0), "JoinableQueue" (maxsize=0), "dict" (),
 *   "list" (), "Namespace" (), "Value" (typecode, value),
 *   "Array" (typecode, sequence), "Lock" (), "RLock" (),
 *   "Semaphore" (value=1), "BoundedSemaphore" (value=1),
 *   "Condition" (), "Event" (),
 *   "Barrier" (parties, action=None (no other), timeout=None).
 * Their methods are Python's, with Python's arguments (docs/python-mapping.md
 * lists them). */
int mp_manager_create(mp_manager *m, const char *typeid, mp_proxy **out, const char *fmt, ...);

/* ---- proxies ----------------------------------------------------------- */

/* proxy._callmethod(method, args): run the method in the server. args are
 * packed from fmt (NULL: none). *result (if result is not NULL) gets the
 * method's return value, the caller's to free with mp_value_free; a
 * method returning None gives nil. A result that is itself a proxy
 * (nested objects) is an MP_EXT_PROXY value: turn it into a proxy with
 * mp_proxy_from_value.
 *
 * A proxy passed to a method (format 'O') travels as MP_EXT_PROXY: a
 * list proxy can be stored in a dict proxy, and whoever reads it back gets
 * a proxy of the same list. */
int mp_proxy_call(mp_proxy *p, const char *method, mp_value **result, const char *fmt, ...);
int mp_proxy_vcall(mp_proxy *p, const char *method, mp_value **result, const char *fmt, va_list ap);

/* A proxy of the object that v (an MP_EXT_PROXY value from a result, an
 * item or a message) refers to, the caller's to free. It connects to the
 * object's server with this process's authkey, or with the key of a
 * manager of this process that is connected to the same address. */
int mp_proxy_from_value(const mp_value *v, mp_proxy **out);

/* The typeid the object was made as ("Queue", "get_task_queue"). Valid
 * until mp_proxy_free; NULL for NULL. */
const char *mp_proxy_typeid(const mp_proxy *p);

/* Drop this process's reference to the object; the server frees it when
 * no reference remains. NULL is accepted. */
void mp_proxy_free(mp_proxy *p);

/* A proxy is also a process argument ('O') under every start method: the
 * child gets its own proxy of the same object (mp_args(args, "O", &p)),
 * which it may free, or leave to be freed when the child exits. */

/* ---- a managed Queue or Lock through the local API -------------------- */

/* One API, two backings: the proxy of a manager's Queue, JoinableQueue,
 * Lock or RLock is also an mp_queue or an mp_lock, and every mp_queue_*
 * call (queue.h) or mp_lock_acquire, mp_lock_release and mp_lock_free
 * (sync.h) works on it as on a local one, with the same timeouts and
 * errors (MP_EEMPTY, MP_EFULL, MP_ETIMEDOUT, MP_EOWNERDEAD...), besides
 * the manager's own (MP_ECONNRESET, MP_ETIMEDOUT when the server is gone
 * or silent). A worker written against mp_queue works unchanged with a
 * queue from a manager on another machine.
 *
 * Where the backings differ:
 *   - the items are in the server: put returns once the server has the
 *     item, and a queue lives as long as the server and a reference;
 *   - a manager's "Queue" is Python's queue.Queue in SyncManager, so
 *     task_done and join work on it too (a local non-joinable queue
 *     refuses them, MP_ETYPE);
 *   - mp_queue_close closes this handle only, as a local queue's (Python's
 *     queue proxy has no close); mp_queue_free drops the reference, as
 *     mp_proxy_free;
 *   - mp_queue_options.capacity has no meaning; the server keeps items in
 *     its own memory;
 *   - a manager's lock cannot be the lock of a local Condition
 *     (mp_condition_new: MP_EUNSUPPORTED); use the manager's "Condition".
 *
 * The mp_queue or mp_lock and the proxy are one object under two names:
 * free it once, by either. It travels as a proxy does: a process argument
 * ('O', taken as an mp_queue or mp_lock by the child), or inside an item
 * or a message. */

/* manager.Queue(maxsize) and manager.JoinableQueue(maxsize): maxsize 0 or
 * less is no limit. The caller's to free (mp_queue_free). */
int mp_manager_queue(mp_manager *m, mp_queue **out, int maxsize);
int mp_manager_joinable_queue(mp_manager *m, mp_queue **out, int maxsize);
/* manager.Lock() and manager.RLock(). The caller's to free (mp_lock_free). */
int mp_manager_lock(mp_manager *m, mp_lock **out);
int mp_manager_rlock(mp_manager *m, mp_lock **out);

/* A proxy as an mp_queue or an mp_lock (seed 003's get_task_queue gives a
 * proxy of a registered typeid): the same object, not a new reference.
 * Calls the object has no method for fail with the server's MP_EINVAL.
 * NULL for anything that is not a live proxy. */
mp_queue *mp_proxy_as_queue(mp_proxy *p);
mp_lock *mp_proxy_as_lock(mp_proxy *p);
/* The other way: the proxy of a manager's queue or lock (for
 * mp_proxy_call and mp_proxy_typeid); NULL for a local one. */
mp_proxy *mp_queue_as_proxy(mp_queue *q);
mp_proxy *mp_lock_as_proxy(mp_lock *l);

/* ---- serving your own objects (BaseManager.register) ------------------- */

/* In the server: one call of a method. A method writes its return value
 * into mp_served_result (one packed value; nothing written means None), or
 * returns a negative MP_E* code with mp_raise's message, which the caller
 * gets back as its error. */
typedef struct mp_served_call mp_served_call;
mp_buf *mp_served_result(mp_served_call *call);
/* True once the client that made the call has gone: a method that waits
 * should check it every so often (say every 50 ms) and give up, returning
 * MP_ECONNRESET, without taking anything (the client will never see it). */
bool mp_served_call_abandoned(const mp_served_call *call);

typedef int (*mp_served_method_fn)(void *self, const mp_value *args, mp_served_call *call);

typedef struct mp_served_method {
    const char *name;
    mp_served_method_fn fn;
    /* The method may wait (a get, an acquire): it runs on a thread of its
     * own, so that the client's other calls go on meanwhile. A method that
     * does not set this runs on the connection's thread: quick, but the
     * client's next call waits for it. */
    bool blocks;
} mp_served_method;

/* A kind of object the server holds: what its proxies may call
 * (Python's exposed), ended by {NULL, NULL, false}, and how it is freed when the
 * last reference goes (NULL: never). Calls on one object are made one at a
 * time unless concurrent is true, in which case the methods do their own
 * locking (a method that blocks, such as a queue's get, needs that). Must
 * outlive every object of the type (static data). */
typedef struct mp_served_type {
    const char *name;
    const mp_served_method *methods;
    void (*free_)(void *self);
    bool concurrent;
} mp_served_type;

/* An object held by a server, with a reference count. */
typedef struct mp_served mp_served;

/* Wrap self (of type) as a served object with one reference, the
 * caller's. MP_EINVAL for a NULL type or one without methods. */
int mp_served_new(mp_served **out, const mp_served_type *type, void *self);
/* One of the built-in objects listed at mp_manager_create, in the server
 * (seed 003's master makes its task Queue with it). */
int mp_served_builtin(mp_served **out, const char *typeid, const char *fmt, ...);
/* Take one more reference; returns o. */
mp_served *mp_served_ref(mp_served *o);
/* Drop one reference; the object is freed with its last one. */
void mp_served_unref(mp_served *o);

/* The callable of a typeid: make the object (or find an existing one) for
 * the arguments a client gave, in the server. *out is a reference that
 * passes to the server: return mp_served_ref(x) to hand out an object you
 * keep (seed 003's get_task_queue returns the same queue to everyone).
 * Callables of one server are called one at a time. */
typedef int (*mp_typeid_fn)(const mp_value *args, mp_served **out);

/* BaseManager.register(typeid, callable): the server of any manager in
 * this program (and of its children started after) knows typeid. A NULL
 * callable registers the name only, as the seed's worker does on its
 * side; a client needs no registration to create a typeid the server
 * knows. Register before mp_main (MP_MANAGED does) so that a server
 * started by spawn knows it too. MP_EEXIST for a name taken by another
 * callable or a built-in typeid (typeids share the registry's names with
 * targets and tasks); MP_EINVAL for a bad name (1 to 255 bytes). */
int mp_manager_register(const char *typeid, mp_typeid_fn callable);

void mp_manager_register_at_load(const char *typeid, mp_typeid_fn callable);
/* MP_MANAGED(typeid, fn): register at file scope, at load time. */
#define MP_MANAGED(typeid, fn) \
    MP_AT_LOAD_(MP_CAT_(mp_reg_managed_, MP_CAT_(fn, __LINE__))) { mp_manager_register_at_load((typeid), (fn)); }

#ifdef __cplusplus
}
#endif

#endif
