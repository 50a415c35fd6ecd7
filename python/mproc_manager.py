"""mproc_manager - use an mproc manager's objects from Python.

An mproc manager (mproc/manager.h) is a server, written in C, holding
queues, dicts, locks and objects of the program's own types. This module
is a client for it in pure Python: multiprocessing.connection does the
framing and the authkey handshake, msgpack the values, and the messages
are those of docs/protocol.md, section 9.

    from mproc_manager import Manager, QueueProxy

    class QueueManager(Manager):
        pass

    QueueManager.register("get_task_queue", proxytype=QueueProxy)

    m = QueueManager(address="tcp://127.0.0.1:5000", authkey=b"abc")
    m.connect()
    task = m.get_task_queue()
    n = task.get(timeout=1)        # queue.Empty after a second
    d = m.dict()                   # the built-in typeids of SyncManager
    d["answer"] = 42

Values are MessagePack, not pickles: None, bools, ints, floats, str, bytes,
lists, tuples (they come back as lists) and dicts of those, and proxies,
which travel as mproc's proxy reference (ext 77) and come back as proxies.
See python/README.md for what is supported and what is not.

Needs Python 3.8 or later and msgpack 1.0 or later.
"""

import itertools
import multiprocessing
import queue
import threading
import weakref
from multiprocessing.connection import Client

import msgpack

__all__ = [
    "Manager", "Proxy", "ProxyRef", "QueueProxy", "DictProxy", "ListProxy", "NamespaceProxy", "ValueProxy",
    "ArrayProxy", "AcquirerProxy", "ConditionProxy", "EventProxy", "BarrierProxy", "ManagerError", "Empty",
    "Full", "RemoteKeyError", "RemoteIndexError", "RemoteValueError", "RemoteAttributeError", "RemoteTypeError",
    "ManagerTimeoutError", "ManagerConnectionError", "BrokenBarrierError", "error_name", "mproc_address",
    "proxy_from_ref",
]

# ---- the wire (docs/protocol.md §9) -------------------------------------------

EXT_OBJECT = 77   # mproc's objects as values (protocol.md §5)
KIND_PROXY = 11   # ... of which a proxy: [11, [address, typeid, oid, authkey], [], nil]
PING_ID = 1       # the id of the pings a waiting client sends; calls count from 2
MAX_MESSAGE = 1 << 30
DEFAULT_TIMEOUT = 30.0

# mproc's error codes (include/mproc/error.h's MP_ERROR_LIST), which are stable.
MP_OK = 0
MP_EINVAL = -1
MP_ENOMEM = -2
MP_ESTATE = -3
MP_ETIMEDOUT = -4
MP_EUNSUPPORTED = -5
MP_ENOTREG = -6
MP_EEXIST = -7
MP_EPROTO = -8
MP_ETOOBIG = -9
MP_EFORMAT = -10
MP_ETYPE = -11
MP_ERANGE = -12
MP_EOS = -13
MP_ERUNNING = -14
MP_EBOOTSTRAP = -15
MP_ECHILD = -16
MP_EEOF = -17
MP_EOWNERDEAD = -18
MP_EEMPTY = -19
MP_EFULL = -20
MP_EBROKEN = -21
MP_EREMOTE = -22
MP_EWORKERDIED = -23
MP_EINITIALIZER = -24
MP_EAUTH = -25
MP_ECONNRESET = -26
MP_ENOENT = -27
MP_EPERM = -28
MP_ECALLEDPROCESS = -29

_NAMES = {code: name for name, code in globals().items() if name.startswith("MP_") and type(code) is int}
__all__ += sorted(_NAMES.values())


def error_name(code):
    """The C name of an mproc error code ("MP_EEMPTY"), "MP_E?" if unknown."""
    return _NAMES.get(code, "MP_E?")


# ---- errors -----------------------------------------------------------------------

class ManagerError(Exception):
    """An error from the server (or about talking to it): code is the
    negative MP_E* code, errname its C name ("MP_EEMPTY"), message the
    server's words. (Not "name": AttributeError has one of its own.)"""

    def __init__(self, code, message):
        super().__init__(code, message)
        self.code = code
        self.message = message

    @property
    def errname(self):
        return error_name(self.code)

    def __str__(self):
        return "%s: %s" % (self.errname, self.message)


class Empty(ManagerError, queue.Empty):
    """MP_EEMPTY: a get found nothing within its timeout (queue.Empty)."""


class Full(ManagerError, queue.Full):
    """MP_EFULL: a put found no room within its timeout (queue.Full)."""


class RemoteKeyError(ManagerError, KeyError):
    """The server's KeyError (MP_ERANGE): a missing dict key."""


class RemoteIndexError(ManagerError, IndexError):
    """The server's IndexError (MP_ERANGE): an index out of range."""


class RemoteValueError(ManagerError, ValueError):
    """The server's ValueError (list.remove of a missing value, task_done
    called too many times)."""


class RemoteAttributeError(ManagerError, AttributeError):
    """The server's AttributeError: a Namespace has no such attribute."""


class RemoteTypeError(ManagerError, TypeError):
    """The server's TypeError (an argument of the wrong type)."""


class ManagerTimeoutError(ManagerError, TimeoutError):
    """MP_ETIMEDOUT: the server did not answer within the timeout."""


class ManagerConnectionError(ManagerError, ConnectionError):
    """MP_ECONNRESET: the connection to the server is gone (or closed)."""


class BrokenBarrierError(ManagerError, threading.BrokenBarrierError):
    """MP_EBROKEN: a Barrier was broken (threading.BrokenBarrierError)."""


_BY_CODE = {MP_EEMPTY: Empty, MP_EFULL: Full, MP_ETIMEDOUT: ManagerTimeoutError,
            MP_ECONNRESET: ManagerConnectionError, MP_EBROKEN: BrokenBarrierError}
# The built-in objects name Python's exception in the message:
# "manager: KeyError: dict.__getitem__: no such key".
_BY_PYTHON_NAME = {"KeyError": RemoteKeyError, "IndexError": RemoteIndexError, "ValueError": RemoteValueError,
                   "AttributeError": RemoteAttributeError, "TypeError": RemoteTypeError}


def _error(code, message):
    """The exception for an error reply."""
    cls = _BY_CODE.get(code)
    if cls is None:
        text = message[len("manager: "):] if message.startswith("manager: ") else message
        cls = _BY_PYTHON_NAME.get(text.split(":", 1)[0], ManagerError) if ":" in text else ManagerError
    return cls(code, message)


# ---- values ---------------------------------------------------------------------

class ProxyRef:
    """A proxy reference as it travels (ext 77 of kind proxy): the server's
    address, the object's typeid and oid, and the server's authkey. Not a
    tuple, so that msgpack hands it to us instead of packing an array."""

    __slots__ = ("address", "typeid", "oid", "authkey")

    def __init__(self, address, typeid, oid, authkey):
        self.address = address
        self.typeid = typeid
        self.oid = oid
        self.authkey = bytes(authkey)

    def _key(self):
        return (self.address, self.typeid, self.oid, self.authkey)

    def __eq__(self, other):
        return isinstance(other, ProxyRef) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "ProxyRef(%r, %r, %#x)" % (self.address, self.typeid, self.oid)

    def ext(self):
        body = msgpack.packb([KIND_PROXY, [self.address, self.typeid, self.oid, self.authkey], [], None],
                             use_bin_type=True)
        return msgpack.ExtType(EXT_OBJECT, body)


def _pack_default(obj):
    if isinstance(obj, Proxy):
        return obj._ref().ext()
    if isinstance(obj, ProxyRef):
        return obj.ext()
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    raise TypeError("mproc_manager: cannot send a %s (MessagePack values and proxies only)" % type(obj).__name__)


def _pack(obj):
    return msgpack.packb(obj, default=_pack_default, use_bin_type=True, strict_types=False)


def _parse_ref(data):
    """The ProxyRef of an ext 77 body, or None if it is another object."""
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as e:
        raise ManagerError(MP_EPROTO, "a malformed object value: %s" % e) from None
    if not (isinstance(body, list) and len(body) == 4 and body[0] == KIND_PROXY and type(body[0]) is int):
        return None
    f = body[1]
    if not (isinstance(f, list) and len(f) == 4 and isinstance(f[0], str) and isinstance(f[1], str) and
            type(f[2]) is int and f[2] >= 0 and isinstance(f[3], bytes)):
        raise ManagerError(MP_EPROTO, "a malformed proxy (want [address, typeid, oid, authkey])")
    return ProxyRef(f[0], f[1], f[2], f[3])


def _unpack(data):
    """One message: its value, and whether it holds a proxy reference."""
    found = []

    def ext_hook(code, body):
        if code == EXT_OBJECT:
            ref = _parse_ref(body)
            if ref is not None:
                found.append(ref)
                return ref
        return msgpack.ExtType(code, body)

    try:
        v = msgpack.unpackb(data, raw=False, strict_map_key=False, ext_hook=ext_hook)
    except TypeError:
        # an array as a map key: unhashable as a list, so arrays are tuples here
        found.clear()
        v = msgpack.unpackb(data, raw=False, strict_map_key=False, ext_hook=ext_hook, use_list=False)
    return v, bool(found)


def _reply_id(data):
    """The id of a reply, read from its first bytes (fixarray 3 or 4, then a
    positive fixint or uint 8/16/32/64), so that the reader can hand it on
    undecoded."""
    if len(data) < 2 or data[0] not in (0x93, 0x94):
        raise ManagerError(MP_EPROTO, "a malformed reply (not a 3- or 4-item array)")
    t = data[1]
    if t <= 0x7F:
        return t
    n = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}.get(t)
    if n is None or len(data) < 2 + n:
        raise ManagerError(MP_EPROTO, "a malformed reply (the id is not an unsigned integer)")
    return int.from_bytes(data[2:2 + n], "big")


# ---- addresses ------------------------------------------------------------------

def mproc_address(address):
    """An address as mproc spells it: "tcp://host:port" for a (host, port)
    tuple; an mproc address string is returned as it is."""
    if isinstance(address, tuple) and len(address) == 2:
        host, port = address
        host = host or "127.0.0.1"
        return "tcp://[%s]:%d" % (host, port) if ":" in host else "tcp://%s:%d" % (host, port)
    if isinstance(address, str) and address.startswith(("tcp://", "unix:", "pipe:")):
        return address
    raise ValueError("mproc_manager: %r is no address (want (host, port), \"tcp://host:port\" or "
                     "\"unix:/path\")" % (address,))


def _python_address(address):
    """What multiprocessing.connection.Client takes for an mproc address."""
    if address.startswith("tcp://"):
        rest = address[len("tcp://"):]
        host, sep, port = rest.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError("mproc_manager: %r has no port" % address)
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        return (host, int(port))
    if address.startswith("unix:@"):
        return "\0" + address[len("unix:@"):]
    if address.startswith("unix:"):
        return address[len("unix:"):]
    if address.startswith("pipe:"):
        raise ValueError("mproc_manager: mproc's named pipes are framed unlike Python's; serve on tcp://")
    raise ValueError("mproc_manager: %r is no address" % (address,))


# ---- the connection -------------------------------------------------------------

_links = weakref.WeakValueDictionary()  # (address, authkey) -> _Link, for nested proxies
_links_lock = threading.Lock()


class _Link:
    """One connection to one server, shared by the threads and proxies that
    use it. Requests carry ids; whichever waiting thread finds nobody
    reading reads replies for all (so a blocking get does not hold up the
    others), and a silence of `timeout` seconds while waiting is answered
    with a ping: a server that does not answer that either is taken for
    dead."""

    def __init__(self, address, authkey, timeout, registry):
        self.address = address
        self.authkey = authkey
        self.timeout = timeout
        self.registry = registry  # typeid -> proxy class
        self.pid = multiprocessing.current_process().pid
        self._conn = Client(_python_address(address), authkey=authkey)
        self._send_lock = threading.Lock()
        # reentrant: a proxy's __del__ may run, and fail a send, while this
        # thread holds it
        self._cv = threading.Condition(threading.RLock())
        self._ids = itertools.count(PING_ID + 1)
        self._replies = {}       # id -> undecoded reply, for their waiters
        self._abandoned = set()  # ids whose waiter gave up (interrupted)
        self._reading = False
        self._dead = None        # why the connection ended: (exception class, code, message)
        self._pending_decrefs = []
        self.pings = 0           # pings sent, for diagnostics

    # -- sending --

    def _die(self, cls, code, message):
        with self._cv:
            if self._dead is None:
                self._dead = (cls, code, message)
            self._cv.notify_all()

    def _dead_error(self):
        cls, code, message = self._dead
        return cls(code, message)

    def _send_locked(self, msg):
        try:
            self._conn.send_bytes(_pack(msg))
        except (OSError, ValueError) as e:  # ValueError: our own end was closed
            self._die(ManagerConnectionError, MP_ECONNRESET,
                      "lost the connection to the server at %s: %s" % (self.address, e))
            raise self._dead_error() from None

    def send(self, op, *fields, want_reply=True):
        """Send a request; its id (0 when no reply is wanted)."""
        if self._dead is not None:
            raise self._dead_error()
        if multiprocessing.current_process().pid != self.pid:
            raise ManagerError(MP_ESTATE, "mproc_manager: a connection inherited through fork; "
                                          "connect anew in the child")
        with self._send_lock:
            while self._pending_decrefs:
                self._send_locked([0, "decref", self._pending_decrefs.pop()])
            rid = next(self._ids) if want_reply else 0
            self._send_locked([rid, op, *fields])
        return rid

    def decref_soon(self, oid):
        """Drop one reference: at once if nobody is sending, else with the
        next request (this runs from __del__, which may come in the middle
        of a send on this very thread)."""
        if self._dead is not None or multiprocessing.current_process().pid != self.pid:
            return
        if self._send_lock.acquire(blocking=False):
            try:
                self._send_locked([0, "decref", oid])
            except ManagerError:
                pass
            finally:
                self._send_lock.release()
        else:
            self._pending_decrefs.append(oid)

    # -- receiving --

    def _read_one(self):
        """The next reply other than a ping's, undecoded; pings the server
        after a silence of self.timeout."""
        pinged = False
        while True:
            if not self._conn.poll(self.timeout):
                if pinged:
                    raise ManagerTimeoutError(MP_ETIMEDOUT, "the server at %s did not answer within %g s" %
                                              (self.address, self.timeout))
                with self._send_lock:
                    self._send_locked([PING_ID, "ping"])
                self.pings += 1
                pinged = True
                continue
            data = self._conn.recv_bytes(MAX_MESSAGE)
            rid = _reply_id(data)
            if rid != PING_ID:
                return rid, data
            pinged = False

    def wait(self, rid):
        """The reply to request rid, undecoded."""
        with self._cv:
            while True:
                if rid in self._replies:
                    return self._replies.pop(rid)
                if self._dead is not None:
                    raise self._dead_error()
                if not self._reading:
                    self._reading = True
                    break
                try:
                    self._cv.wait()
                except BaseException:
                    self._abandoned.add(rid)
                    raise
        try:
            while True:
                try:
                    got, data = self._read_one()
                except ManagerError as e:
                    self._die(type(e), e.code, e.message)
                    raise
                except (OSError, EOFError, ValueError) as e:
                    self._die(ManagerConnectionError, MP_ECONNRESET,
                              "lost the connection to the server at %s: %s" % (self.address, e or "closed"))
                    raise self._dead_error() from None
                if got == rid:
                    return data
                if got == 0:
                    continue  # an error about a request that could not be read: nobody's
                with self._cv:
                    if got in self._abandoned:
                        self._abandoned.discard(got)
                    else:
                        self._replies[got] = data
                        self._cv.notify_all()
        except BaseException:
            with self._cv:
                if self._dead is None:
                    self._abandoned.add(rid)
            raise
        finally:
            with self._cv:
                self._reading = False
                self._cv.notify_all()

    def request(self, op, *fields):
        """Send a request and return its reply's value, with the proxies in
        it turned into proxies of this process (each with its reference)."""
        data = self.wait(self.send(op, *fields))
        reply, has_refs = _unpack(data)
        if isinstance(reply, (list, tuple)) and len(reply) == 3 and reply[1] == 0:
            return self.bind(reply[2]) if has_refs else reply[2]
        if (isinstance(reply, (list, tuple)) and len(reply) == 4 and reply[1] == 1 and type(reply[2]) is int and
                isinstance(reply[3], str)):
            raise _error(reply[2], reply[3])
        raise ManagerError(MP_EPROTO, "a malformed reply (want [id, 0, value] or [id, 1, code, message])")

    # -- proxies in values --

    def bind(self, value):
        """value with each ProxyRef in it replaced by a Proxy, which takes a
        reference of its own (incref) first, as protocol.md §9 asks."""
        made = []
        try:
            return self._bind(value, made)
        except BaseException:
            for p in made:
                p.close()
            raise

    def _bind(self, v, made):
        if isinstance(v, ProxyRef):
            p = proxy_from_ref(v, self)
            made.append(p)
            return p
        if isinstance(v, list):
            return [self._bind(x, made) for x in v]
        if isinstance(v, tuple):
            return tuple(self._bind(x, made) for x in v)
        if isinstance(v, dict):
            return {self._bind(k, made): self._bind(x, made) for k, x in v.items()}
        return v

    # -- ending --

    def close(self):
        with self._send_lock:
            if self._dead is None:
                try:
                    while self._pending_decrefs:
                        self._conn.send_bytes(_pack([0, "decref", self._pending_decrefs.pop()]))
                except (OSError, ValueError):
                    pass
        self._die(ManagerConnectionError, MP_ECONNRESET, "the connection to %s was closed" % self.address)
        try:
            self._conn.close()
        except OSError:
            pass

    def __del__(self):
        try:
            if multiprocessing.current_process().pid == self.pid:
                self._conn.close()
        except Exception:
            pass


def _link_for(address, authkey, timeout, registry):
    """This process's connection to the server at address with authkey,
    made if there is none."""
    key = (address, bytes(authkey))
    with _links_lock:
        link = _links.get(key)
        if link is not None and link._dead is None and link.pid == multiprocessing.current_process().pid:
            return link
        link = _Link(address, key[1], timeout, registry)
        _links[key] = link
        return link


def proxy_from_ref(ref, via=None):
    """A proxy of the object ref names, with a reference of its own: it
    connects (or uses this process's connection) to ref.address with
    ref.authkey and sends incref. via: the connection the reference came
    on, whose timeout and proxy types are used."""
    timeout = via.timeout if via is not None else DEFAULT_TIMEOUT
    registry = via.registry if via is not None else Manager._registry
    if via is not None and via.address == ref.address and via.authkey == ref.authkey and via._dead is None:
        link = via
    else:
        link = _link_for(ref.address, ref.authkey, timeout, registry)
    link.request("incref", ref.oid)
    return _make_proxy(link, ref.oid, ref.typeid)


def _make_proxy(link, oid, typeid, proxytype=None):
    cls = proxytype or link.registry.get(typeid) or Proxy
    return cls(link, oid, typeid)


# ---- proxies ----------------------------------------------------------------------

class Proxy:
    """A reference to an object held by the server. call(method, *args)
    runs the method there (Python's _callmethod); any other attribute that
    does not start with "_" is a method of that name (p.append(1) is
    p.call("append", 1)). Arguments are positional only: the messages have
    no keywords (the typed proxies below take Python's keywords and place
    them). The proxy holds one reference to the object, dropped by close()
    or when the proxy is collected."""

    def __init__(self, link, oid, typeid):
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_oid", oid)
        object.__setattr__(self, "_typeid", typeid)
        object.__setattr__(self, "_closed", False)

    @property
    def _token(self):
        return (self._typeid, self._link.address, self._oid)

    def _ref(self):
        if self._closed:
            raise ManagerError(MP_ESTATE, "mproc_manager: the proxy was closed")
        return ProxyRef(self._link.address, self._typeid, self._oid, self._link.authkey)

    def call(self, method, *args):
        """Run method(*args) on the object in the server; its result."""
        if self._closed:
            raise ManagerError(MP_ESTATE, "mproc_manager: the proxy was closed")
        return self._link.request("call", self._oid, method, list(args), threading.get_ident())

    def _callmethod(self, methodname, args=(), kwds=None):
        if kwds:
            raise TypeError("mproc_manager: an mproc server takes no keyword arguments")
        return self.call(methodname, *args)

    def _getvalue(self):
        """A copy of the object's value (dict, list, Namespace, Array)."""
        return self.call("_getvalue")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def method(*args, **kwargs):
            if kwargs:
                raise TypeError("mproc_manager: %s(): the server takes positional arguments only; register "
                                "typeid %r with a proxytype that knows this method's keywords" %
                                (name, self._typeid))
            return self.call(name, *args)

        method.__name__ = name
        return method

    # the dunder methods Python looks up on the type
    def __getitem__(self, key):
        return self.call("__getitem__", key)

    def __setitem__(self, key, value):
        self.call("__setitem__", key, value)

    def __delitem__(self, key):
        self.call("__delitem__", key)

    def __len__(self):
        return self.call("__len__")

    def __contains__(self, value):
        return self.call("__contains__", value)

    def __bool__(self):
        return True

    def __iter__(self):
        raise TypeError("mproc_manager: a %r proxy is not iterable (iterate over its _getvalue())" % self._typeid)

    def __eq__(self, other):
        return isinstance(other, Proxy) and self._token == other._token

    def __hash__(self):
        return hash(self._token)

    def __repr__(self):
        state = " closed" if self._closed else ""
        return "<%s %r oid=%#x at %s%s>" % (type(self).__name__, self._typeid, self._oid, self._link.address,
                                            state)

    # references

    def _clone(self):
        """Another proxy of the same object, with its own reference."""
        self._link.request("incref", self._oid)
        return type(self)(self._link, self._oid, self._typeid)

    __copy__ = _clone

    def __deepcopy__(self, memo):
        return self._clone()

    def __reduce__(self):
        raise TypeError("mproc_manager: a proxy is not pickled; pass it in a manager's object (a Queue, a dict) "
                        "or as a value: it travels as mproc's proxy reference")

    def close(self):
        """Drop this proxy's reference; the server frees the object once
        nobody references it. Calls fail afterwards."""
        if not self._closed:
            object.__setattr__(self, "_closed", True)
            self._link.decref_soon(self._oid)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class QueueProxy(Proxy):
    """Queue and JoinableQueue: queue.Queue's methods."""

    def put(self, item, block=True, timeout=None):
        self.call("put", item, block, timeout)

    def get(self, block=True, timeout=None):
        return self.call("get", block, timeout)

    def put_nowait(self, item):
        self.call("put_nowait", item)

    def get_nowait(self):
        return self.call("get_nowait")

    def qsize(self):
        return self.call("qsize")

    def empty(self):
        return self.call("empty")

    def full(self):
        return self.call("full")

    def task_done(self):
        self.call("task_done")

    def join(self):
        self.call("join")


class DictProxy(Proxy):
    """dict: Python's DictProxy methods; items() and the like are lists."""

    def get(self, key, default=None):
        return self.call("get", key, default)

    def setdefault(self, key, default=None):
        return self.call("setdefault", key, default)

    def pop(self, key, *default):
        return self.call("pop", key, *default)

    def popitem(self):
        return tuple(self.call("popitem"))

    def update(self, other=(), **kwargs):
        entries = dict(other)
        entries.update(kwargs)
        self.call("update", entries)

    def keys(self):
        return self.call("keys")

    def values(self):
        return self.call("values")

    def items(self):
        return [tuple(kv) for kv in self.call("items")]

    def copy(self):
        return self.call("copy")

    def clear(self):
        self.call("clear")

    def __iter__(self):
        return iter(self.keys())

    def __bool__(self):
        return len(self) != 0


class ListProxy(Proxy):
    """list: Python's ListProxy methods less sort, slices and operators."""

    def pop(self, *index):
        return self.call("pop", *index)

    def __iter__(self):
        return iter(self._getvalue())

    def __bool__(self):
        return len(self) != 0


class ArrayProxy(ListProxy):
    """Array: len, items, _getvalue."""


class NamespaceProxy(Proxy):
    """Namespace: its attributes are the server's (ns.x, ns.x = 1, del ns.x)."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.call("__getattribute__", name)

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self.call("__setattr__", name, value)

    def __delattr__(self, name):
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            self.call("__delattr__", name)


class ValueProxy(Proxy):
    """Value: get(), set(v) and the value property."""

    def get(self):
        return self.call("get")

    def set(self, value):
        self.call("set", value)

    value = property(get, set)


class AcquirerProxy(Proxy):
    """Lock, RLock, Semaphore, BoundedSemaphore: acquire, release, with."""

    def acquire(self, blocking=True, timeout=None):
        return self.call("acquire", blocking, timeout)

    def release(self, *n):
        self.call("release", *n)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


class ConditionProxy(AcquirerProxy):
    """Condition: Python's methods; wait_for runs its predicate here."""

    def wait(self, timeout=None):
        return self.call("wait", timeout)

    def notify(self, n=1):
        self.call("notify", n)

    def notify_all(self):
        self.call("notify_all")

    def wait_for(self, predicate, timeout=None):
        import time
        result = predicate()
        if result:
            return result
        end = None if timeout is None else time.monotonic() + timeout
        while not result:
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                break
            self.wait(left)
            result = predicate()
        return result


class EventProxy(Proxy):
    """Event: is_set, set, clear, wait."""

    def is_set(self):
        return self.call("is_set")

    def set(self):
        self.call("set")

    def clear(self):
        self.call("clear")

    def wait(self, timeout=None):
        return self.call("wait", timeout)


class BarrierProxy(Proxy):
    """Barrier: wait, abort, reset; parties, n_waiting, broken."""

    def wait(self, timeout=None):
        return self.call("wait", timeout)

    def abort(self):
        self.call("abort")

    def reset(self):
        self.call("reset")

    parties = property(lambda self: self.call("parties"))
    n_waiting = property(lambda self: self.call("n_waiting"))
    broken = property(lambda self: self.call("broken"))


# ---- the manager ------------------------------------------------------------------

_BUILTIN_TYPEIDS = {
    "Queue": QueueProxy, "JoinableQueue": QueueProxy, "dict": DictProxy, "list": ListProxy,
    "Namespace": NamespaceProxy, "Value": ValueProxy, "Array": ArrayProxy, "Lock": AcquirerProxy,
    "RLock": AcquirerProxy, "Semaphore": AcquirerProxy, "BoundedSemaphore": AcquirerProxy,
    "Condition": ConditionProxy, "Event": EventProxy, "Barrier": BarrierProxy,
}


class Manager:
    """A client of an mproc manager's server (BaseManager(address, authkey)
    followed by connect(); the server is a C program's).

    address: "tcp://host:port", "unix:/path", "unix:@name" (Linux), or a
    (host, port) tuple. authkey: bytes (a str is encoded as UTF-8); None is
    this process's authkey, as in Python. timeout: the seconds of silence
    while waiting for a reply after which the server is pinged, and then
    taken for dead (ManagerTimeoutError); None never gives up.

    m.<typeid>(*args) creates an object of a built-in typeid (Queue, dict,
    ...) or of one registered with register(); create(typeid, *args) of
    any typeid the server knows."""

    _registry = dict(_BUILTIN_TYPEIDS)

    def __init__(self, address, authkey=None, timeout=DEFAULT_TIMEOUT):
        if authkey is None:
            authkey = bytes(multiprocessing.current_process().authkey)
        elif isinstance(authkey, str):
            authkey = authkey.encode("utf-8")
        if timeout is not None and not timeout > 0:
            raise ValueError("mproc_manager: the timeout must be positive or None")
        self._address = mproc_address(address)
        _python_address(self._address)  # refuse what Client cannot reach, now
        self._authkey = bytes(authkey)
        self._timeout = timeout
        self._link = None

    @classmethod
    def register(cls, typeid, proxytype=None):
        """BaseManager.register(typeid, proxytype=...): m.<typeid>(*args)
        creates one, and its proxies (also those that come inside values)
        are of proxytype (QueueProxy for a queue, so that get(timeout=1)
        works; default the generic Proxy). The callable is the C server's
        business (mp_manager_register)."""
        if "_registry" not in cls.__dict__:
            cls._registry = dict(cls._registry)
        cls._registry[typeid] = proxytype or Proxy

    @property
    def address(self):
        return self._address

    def connect(self):
        """Connect to the server and authenticate (multiprocessing's
        AuthenticationError for a wrong key). Returns the manager."""
        if self._link is not None:
            raise ManagerError(MP_ESTATE, "mproc_manager: connected already")
        link = _Link(self._address, self._authkey, self._timeout, self._registry)
        with _links_lock:
            _links.setdefault((self._address, self._authkey), link)
        self._link = link
        return self

    def _connected(self):
        if self._link is None:
            raise ManagerError(MP_ESTATE, "mproc_manager: not connected (call connect())")
        return self._link

    def create(self, typeid, *args, proxytype=None):
        """manager.<typeid>(*args): an object made by the typeid's callable
        in the server, and a proxy of it (with the connection's reference)."""
        link = self._connected()
        made = link.request("create", typeid, list(args))
        if not (isinstance(made, list) and len(made) == 2 and type(made[0]) is int and isinstance(made[1], str)):
            raise ManagerError(MP_EPROTO, "a malformed reply to create (want [oid, typeid])")
        return _make_proxy(link, made[0], made[1], proxytype or self._registry.get(typeid))

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._registry:
            raise AttributeError("%r has no attribute %r (register the typeid, or use create(%r))" %
                                 (type(self).__name__, name, name))

        def creator(*args):
            return self.create(name, *args)

        creator.__name__ = name
        return creator

    def proxy(self, ref):
        """A proxy of what a ProxyRef names (incref first)."""
        return proxy_from_ref(ref, self._connected())

    def ping(self):
        """Ask the server to answer at once."""
        self._connected().request("ping")

    def shutdown(self):
        """Stop the server (every client's connection ends with it, and
        every proxy fails from now on)."""
        link = self._connected()
        link.request("shutdown")
        link.close()

    def close(self):
        """End this manager's connection: the server drops every reference
        it held, so proxies made through it fail from now on. Do not close
        while other threads are in calls."""
        if self._link is not None:
            self._link.close()

    def __enter__(self):
        if self._link is None:
            self.connect()
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        state = "connected" if self._link is not None and self._link._dead is None else "not connected"
        return "<%s %s %s>" % (type(self).__name__, self._address, state)
