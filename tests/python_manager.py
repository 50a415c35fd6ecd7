"""python/mproc_manager.py against our manager's server.

usage: python_manager.py "<command prefix, e.g. wine64, or empty>" <manager_serve>

1. manager_serve start: our server in a child of manager_serve, which is
   also a C client obeying commands on its stdin. Python connects with
   mproc_manager and uses queues (put/get, block and timeout, Empty and
   Full, qsize/empty/full, task_done/join), a dict, a list, a Namespace, a
   Value, a Lock, an Event, seed 003's get_task_queue and a typeid of the
   C program's own (get_counter), proxies nested in values both ways,
   references (an object nobody references is gone), the server's errors,
   several threads on one connection and the pings of a long wait. Items
   go from Python to C and back, values and proxies. Then the C side shuts
   the server down, Python's proxies fail with ManagerConnectionError, and
   manager_serve exits 0.
2. manager_serve serve: our server in the foreground
   (mp_manager_serve_forever); Python uses a queue, shuts the server down
   itself, and the server exits 0.
3. A wrong authkey is refused.
Always TCP loopback, port 0: what joins a Linux Python to a Windows .exe
under Wine.
"""
import os
import queue
import shlex
import subprocess
import sys
import threading
import time
from multiprocessing.connection import AuthenticationError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import mproc_manager as mm  # noqa: E402

KEY = b"python interop key"
LINE_TIMEOUT = 120  # Wine's first start may be slow


class Server:
    """manager_serve, its stdout read line by line by a thread (so that a
    hung helper fails the test instead of hanging it)."""

    def __init__(self, mode):
        cmd = shlex.split(sys.argv[1]) + [sys.argv[2], mode, "tcp://127.0.0.1:0", KEY.decode()]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.line()
        assert first.startswith("address tcp://127.0.0.1:"), first
        self.address = first.split()[1]

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\r\n"))
        self.lines.put(None)

    def line(self):
        try:
            line = self.lines.get(timeout=LINE_TIMEOUT)
        except queue.Empty:
            self.p.kill()
            raise AssertionError("manager_serve said nothing for %d s" % LINE_TIMEOUT)
        assert line is not None, "manager_serve ended (exit code %s)" % self.p.poll()
        return line

    def cmd(self, *words):
        """A command for the C client; its "ok" answer's payload."""
        self.p.stdin.write(" ".join(words) + "\n")
        self.p.stdin.flush()
        answer = self.line()
        assert answer.startswith("ok "), (words, answer)
        return answer[3:]

    def cmd_error(self, *words):
        self.p.stdin.write(" ".join(words) + "\n")
        self.p.stdin.flush()
        answer = self.line()
        assert answer.startswith("error "), (words, answer)
        return answer.split()[1]

    def call(self, name, method, *args):
        """name.method(*args) by the C client; the result."""
        value, _ = mm._unpack(bytes.fromhex(self.cmd("call", name, method, mm._pack(list(args)).hex())))
        return value

    def finish(self, timeout=120):
        self.p.stdin.close()
        code = self.p.wait(timeout=timeout)
        assert code == 0, "manager_serve exited with %s" % code


def raises(exc, fn, *args, code=None):
    try:
        fn(*args)
    except exc as e:
        if code is not None:
            assert isinstance(e, mm.ManagerError) and e.code == code, (e, code)
        return e
    raise AssertionError("%s%r did not raise %s" % (getattr(fn, "__name__", fn), args, exc.__name__))


def gone(m, oid):
    """Whether the server has freed object oid (a call on it is MP_ESTATE)."""
    try:
        m._link.request("call", oid, "__len__", [], 0)
    except mm.ManagerError as e:
        if e.code == mm.MP_ESTATE:
            return True
        raise
    return False


def gone_soon(m, oid):
    """gone, after a decref sent on another connection (the C client's),
    which the server handles on another thread: in a while."""
    deadline = time.monotonic() + 30
    while not gone(m, oid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class TaskManager(mm.Manager):
    pass


TaskManager.register("get_task_queue", proxytype=mm.QueueProxy)
TaskManager.register("get_result_queue", proxytype=mm.QueueProxy)
TaskManager.register("get_counter")


VALUES = [None, True, False, 0, -1, 127, 128, -33, 2**32, 2**63 - 1, -2**63, 2**64 - 1, 1.5, -0.0,
          "", "h\u00e9llo \u4e16\u754c", b"", b"\x00\xff" * 40, [], [1, [2, ["three"]]],
          {"k": [1, "x"], "empty": {}}, {1: "int key", "s": None}, "x" * 70000]


def queues(m, s):
    task, result = m.get_task_queue(), m.get_result_queue()
    assert task.empty() and task.qsize() == 0 and not task.full()

    # Python -> C -> Python, every kind of value
    for v in VALUES:
        task.put(v)
    assert task.qsize() == len(VALUES) and not task.empty()
    for v in VALUES:
        got = s.call("task", "get", True, 10.0)
        assert got == v, (got, v)
        s.call("result", "put", got)
    for v in VALUES:
        got = result.get(timeout=10)
        assert got == v and type(got) is type(v), (got, v)
    assert result.empty()

    # block and timeout, Empty
    t0 = time.monotonic()
    e = raises(queue.Empty, task.get, True, 0.3)
    assert isinstance(e, mm.Empty) and e.code == mm.MP_EEMPTY and e.errname == "MP_EEMPTY", repr(e)
    assert time.monotonic() - t0 >= 0.25
    raises(queue.Empty, task.get, False)
    raises(queue.Empty, task.get_nowait)
    raises(queue.Empty, lambda: task.get(block=False, timeout=5))  # Python ignores the timeout then
    assert s.cmd_error("call", "task", "get", mm._pack([True, 0.1]).hex()) == "MP_EEMPTY"

    # a bounded queue: Full
    b = m.Queue(2)
    b.put("a")
    b.put_nowait("b")
    assert b.full() and b.qsize() == 2
    e = raises(queue.Full, b.put, "c", True, 0.2)
    assert isinstance(e, mm.Full) and e.code == mm.MP_EFULL
    raises(queue.Full, b.put_nowait, "c")
    raises(queue.Full, lambda: b.put("c", block=False))
    assert b.get() == "a" and b.get_nowait() == "b" and b.empty()

    # a blocking get in another thread, answered by a put from C; the
    # connection serves this thread's calls meanwhile
    got = []
    th = threading.Thread(target=lambda: got.append(result.get(timeout=30)))
    th.start()
    d = m.dict()
    for i in range(20):
        d[i] = i * i
    assert len(d) == 20 and not got
    s.call("result", "put", {"from": "C"})
    th.join(30)
    assert got == [{"from": "C"}], got

    # JoinableQueue: join waits for every task_done
    j = m.JoinableQueue()
    for i in range(3):
        j.put(i)
    done = threading.Event()
    th = threading.Thread(target=lambda: (j.join(), done.set()))
    th.start()
    for i in range(3):
        assert j.get(timeout=5) == i
        assert not done.wait(0.05)
        j.task_done()
    th.join(30)
    assert done.is_set()
    e = raises(ValueError, j.task_done)
    assert isinstance(e, mm.RemoteValueError) and e.code == mm.MP_ERANGE

    # seed 003: a worker's squares, with C as the master
    for n in (3, 5, 7):
        s.call("task", "put", n)
    for _ in range(3):
        n = task.get(timeout=10)
        result.put("%d * %d = %d" % (n, n, n * n))
    assert [s.call("result", "get", True, 10.0) for _ in range(3)] == ["3 * 3 = 9", "5 * 5 = 25", "7 * 7 = 49"]


def objects(m, s):
    # dict
    d = m.dict()
    d["a"] = 1
    d.update({"b": [2]}, c=3)
    assert d["a"] == 1 and d.get("b") == [2] and d.get("zz", "dflt") == "dflt" and "c" in d and "q" not in d
    assert sorted(d.keys()) == ["a", "b", "c"] and len(d) == 3 and d.copy() == {"a": 1, "b": [2], "c": 3}
    assert sorted(d) == ["a", "b", "c"] and dict(d.items()) == d._getvalue()
    e = raises(KeyError, lambda: d["missing"])
    assert isinstance(e, mm.RemoteKeyError) and e.code == mm.MP_ERANGE and "KeyError" in e.message
    del d["a"]
    assert d.pop("c") == 3 and d.pop("c", None) is None and d.setdefault("n", 5) == 5
    raises(KeyError, d.__delitem__, "a")

    # list
    lst = m.list([1, 2])
    lst.append(3)
    lst.extend([4, 5])
    assert len(lst) == 5 and lst[0] == 1 and lst[-1] == 5 and list(lst) == [1, 2, 3, 4, 5] and 3 in lst
    lst[0] = "one"
    assert lst.pop() == 5 and lst.index(3) == 2 and lst.count(2) == 1
    e = raises(IndexError, lambda: lst[10])
    assert isinstance(e, mm.RemoteIndexError)

    # Namespace, Value, Lock, Event, a typeid of the C program's own
    ns = m.Namespace()
    ns.x = 10
    ns.name = "n"
    assert ns.x == 10 and ns.name == "n" and ns._getvalue() == {"x": 10, "name": "n"}
    del ns.x
    assert not hasattr(ns, "x")
    assert isinstance(raises(AttributeError, lambda: ns.x), mm.RemoteAttributeError)
    v = m.Value("i", 7)
    assert v.value == 7
    v.value = 8
    assert v.get() == 8
    lock = m.Lock()
    assert lock.acquire() and not lock.acquire(timeout=0.1)
    lock.release()
    with lock:
        assert not lock.acquire(False)
    raises(mm.ManagerError, lock.release, code=mm.MP_ESTATE)
    ev = m.Event()
    assert not ev.wait(0.05)
    ev.set()
    assert ev.is_set() and ev.wait()

    c = m.get_counter(10)
    assert type(c) is mm.Proxy and c._typeid == "get_counter"
    assert c.add(5) == 15 and c.call("add", 1) == 16 and c.value() == 16
    assert s.cmd("create", "counter", "get_counter", mm._pack([100]).hex()) == "get_counter"
    assert s.call("counter", "add", -1) == 99
    s.cmd("free", "counter")

    # errors: the server's code and message
    e = raises(mm.ManagerError, c.fail, mm.MP_EPROTO, code=mm.MP_EPROTO)
    assert e.errname == "MP_EPROTO" and "Counter.fail" in e.message and type(e) is mm.ManagerError, repr(e)
    e = raises(mm.ManagerError, c.fail, mm.MP_EEMPTY)
    assert isinstance(e, queue.Empty)
    raises(mm.ManagerError, c.no_such_method, code=mm.MP_EINVAL)
    raises(mm.ManagerError, c.add, "not a number", code=mm.MP_ETYPE)
    raises(mm.ManagerError, m.create, "no_such_typeid", code=mm.MP_ENOTREG)
    raises(AttributeError, lambda: m.no_such_typeid)
    raises(TypeError, lambda: c.add(n=1))  # no keywords on the wire
    raises(TypeError, mm._pack, object())


def references(m, s):
    # a proxy inside a dict: the dict keeps the object; a proxy read back
    # has its own reference
    d = m.dict()
    lst = m.list(["x"])
    oid = lst._oid
    d["l"] = lst
    lst.close()
    raises(mm.ManagerError, lst.append, 1, code=mm.MP_ESTATE)
    assert not gone(m, oid)
    back = d["l"]
    assert isinstance(back, mm.ListProxy) and back._oid == oid and back._getvalue() == ["x"]
    items = d.items()
    assert items == [("l", back)]
    items[0][1].close()  # the incref of each nested proxy has its decref
    del d["l"]
    back.append("y")  # back's own reference keeps it
    assert not gone(m, oid) and back._getvalue() == ["x", "y"]
    back.close()
    assert gone(m, oid)
    copy = m.list([1])
    other = copy._clone()
    copy.close()
    assert len(other) == 1
    oid = other._oid
    del other  # collected: decref
    assert gone(m, oid)

    # C's object through a queue to Python: C keeps its proxy until Python
    # has its own, then drops it
    assert s.cmd("create", "cd", "dict", "90") == "dict"
    s.call("cd", "__setitem__", "made by", "C")
    s.cmd("putproxy", "task", "cd")
    task = m.get_task_queue()
    cd = task.get(timeout=10)
    assert isinstance(cd, mm.DictProxy) and cd._typeid == "dict", cd
    s.cmd("free", "cd")
    assert cd["made by"] == "C"
    cd["seen by"] = "Python"
    assert cd.copy() == {"made by": "C", "seen by": "Python"}
    oid = cd._oid
    cd.close()
    assert gone_soon(m, oid)  # C's decref of cd too

    # Python's object through a queue to C, nested in an item C reads
    lst = m.list([1])
    m.get_result_queue().put(lst)
    assert s.cmd("take", "pl", "result") == "list"
    s.call("pl", "append", "from C")
    assert list(lst) == [1, "from C"]
    oid = lst._oid
    lst.close()
    assert s.call("pl", "__len__") == 2 and not gone(m, oid)
    s.cmd("free", "pl")
    assert gone_soon(m, oid)

    # a proxy inside a list inside a dict value, both ways
    inner = m.Queue()
    outer = m.dict()
    outer["box"] = [1, {"q": inner}]
    box = outer["box"]
    box[1]["q"].put("nested")
    assert inner.get(timeout=5) == "nested"
    box[1]["q"].close()
    m.get_task_queue().put(outer)
    s.cmd("take", "po", "task")
    assert s.call("po", "__contains__", "box") is True
    s.cmd("free", "po")
    # a proxy as a dict key (packed bytes compare)
    keyed = m.dict()
    keyed[inner] = "by proxy"
    assert keyed[inner] == "by proxy"
    k = keyed.keys()[0]
    assert k == inner
    k.close()


def threads_and_pings(address):
    # a short timeout: a long wait pings the server rather than failing
    m = TaskManager(address, KEY, timeout=0.2).connect()
    q = m.Queue()
    t0 = time.monotonic()
    raises(queue.Empty, q.get, True, 1.0)
    assert time.monotonic() - t0 >= 0.9 and m._link.pings >= 3, m._link.pings
    # many threads on one connection, each with its own replies
    errors = []

    def worker(i):
        try:
            d = m.dict()
            for j in range(30):
                d[j] = (i, j)
                assert d[j] == [i, j]
            q.put(i)
        except Exception as e:  # reported below
            errors.append(e)

    ths = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    assert not errors, errors
    assert sorted(q.get(timeout=5) for _ in range(8)) == list(range(8))
    m.close()
    raises(ConnectionError, q.qsize)


def started():
    s = Server("start")
    m = TaskManager(s.address, KEY).connect()
    m.ping()
    queues(m, s)
    objects(m, s)
    references(m, s)
    threads_and_pings(s.address)
    task = m.get_task_queue()
    assert s.cmd("shutdown") == "c0"  # C's mp_manager_shutdown
    e = raises(ConnectionError, task.qsize)
    assert isinstance(e, mm.ManagerConnectionError) and e.code == mm.MP_ECONNRESET
    raises(ConnectionError, task.put, 1)  # and stays failed
    s.finish()


def served():
    s = Server("serve")
    m = mm.Manager(s.address, KEY)
    for _ in range(200):  # serve_forever may not listen yet
        try:
            m.connect()
            break
        except ConnectionRefusedError:
            time.sleep(0.05)
    q = m.create("get_task_queue", proxytype=mm.QueueProxy)
    q.put([1, "two"])
    assert q.get(timeout=5) == [1, "two"]
    m.shutdown()
    assert s.line() == "served MP_OK"
    raises(ConnectionError, q.qsize)
    s.finish()


def wrong_key():
    s = Server("start")
    try:
        mm.Manager(s.address, b"not the key").connect()
    except AuthenticationError:
        pass
    else:
        raise AssertionError("a wrong authkey was accepted")
    assert s.cmd("shutdown") == "c0"
    s.finish()


def codes_match_error_h():
    """The module's MP_E* table is error.h's."""
    import re
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "include", "mproc", "error.h"), encoding="utf-8") as f:
        listed = {int(v): "MP_" + n for n, v in re.findall(r"X\((\w+), (-?\d+),", f.read())}
    assert listed == mm._NAMES, set(listed.items()) ^ set(mm._NAMES.items())


def main():
    codes_match_error_h()
    started()
    served()
    wrong_key()
    print("python manager interop: ok with", sys.version.split()[0], "and msgpack",
          ".".join(map(str, __import__("msgpack").version)))


main()
