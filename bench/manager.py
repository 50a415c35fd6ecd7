"""Python's side of the manager benchmarks: multiprocessing.managers
(SyncManager for dict and Queue, a BaseManager with a registered
get_task_queue over TCP with an authkey, as in seed 003), the same
operations that bench_manager.c times with mproc.

One line of JSON per variant:
  {"name": ..., "median": ..., "unit": ..., "p10": ..., "p90": ..., "samples": N}
where each sample is one timed batch and the statistics are over batches.
The server (manager.start() under the "fork" context) and every client
process are started before the clock runs, and the clients have made one
call (so hold their own connection) before they are released.

Usage: python3 bench/manager.py [quick] [--cpu N]
  quick    sizes ~10x smaller
  --cpu N  pin this process (and so the server and every child) to CPU N
"""
import multiprocessing as mp
import queue
import sys
import time
from multiprocessing.managers import BaseManager, SyncManager

from benchlib import options, report, timed_reps

ctx = mp.get_context("fork")
KEY = b"abc"  # seed 003's authkey
CLIENTS = 8
QUICK = False
REPS = 11


def started_sync(address=None, authkey=None):
    m = SyncManager(address=address, authkey=authkey, ctx=ctx)
    m.start()
    return m


def dict_with_key(m):
    d = m.dict()
    d["key"] = 1
    return d


# ---- 1. proxy method round trip -------------------------------------------

def roundtrip(name, address):
    m = started_sync(address)
    d = dict_with_key(m)
    n = 500 if QUICK else 5000

    def run():
        get = d.get
        t0 = time.perf_counter()
        for _ in range(n):
            if get("key") != 1:
                sys.exit(f"{name}: d.get('key') is not 1")
        return (time.perf_counter() - t0) / n * 1e6

    samples = timed_reps(run, REPS)
    del d
    m.shutdown()
    report(name, "us", samples)


# ---- 2. getting a proxy ---------------------------------------------------

# Seed 003's master: every client gets the same queue.
task_queue = None


def get_task_queue():
    global task_queue
    if task_queue is None:
        task_queue = queue.Queue()
    return task_queue


class MasterManager(BaseManager):
    pass


MasterManager.register("get_task_queue", callable=get_task_queue)


class WorkerManager(BaseManager):
    pass


WorkerManager.register("get_task_queue")


def get_proxy_loop(name, make):
    # Few: each proxy costs Python four connections (create, the proxy's
    # incref, the creator's decref, the finalizer's decref), and on TCP each
    # waits out a delayed ACK (~40 ms) after its handshake (no TCP_NODELAY).
    n = 5 if QUICK else 20

    def run():
        t0 = time.perf_counter()
        for _ in range(n):
            p = make()
            del p  # its finalizer sends the decref now
        return (time.perf_counter() - t0) / n * 1e6

    report(name, "us", timed_reps(run, REPS))


def get_proxy():
    m = started_sync(("127.0.0.1", 0), KEY)
    get_proxy_loop("python get proxy dict tcp", m.dict)
    m.shutdown()

    master = MasterManager(address=("127.0.0.1", 0), authkey=KEY, ctx=ctx)
    master.start()
    worker = WorkerManager(address=master.address, authkey=KEY)
    worker.connect()
    get_proxy_loop("python get proxy get_task_queue tcp", worker.get_task_queue)
    master.shutdown()


# ---- 3. managed Queue, one producer to one consumer ------------------------

def producer(q, go, parent_end, count):
    parent_end.close()  # inherited under fork: would keep EOF from arriving
    try:
        while True:
            go.recv_bytes()
            for i in range(count):
                q.put((i, "x"))
    except EOFError:
        pass


def managed_queue(name):
    count = 10000 if QUICK else 100000
    m = started_sync()
    q = m.Queue()
    ours, theirs = ctx.Pipe()
    p = ctx.Process(target=producer, args=(q, theirs, ours, count))
    p.start()
    theirs.close()

    def run():
        get = q.get
        t0 = time.perf_counter()
        ours.send_bytes(b"g")
        item = None
        for _ in range(count):
            item = get()
        dt = time.perf_counter() - t0
        if item != (count - 1, "x"):
            sys.exit(f"{name}: last item {item!r}")
        return count / dt

    samples = timed_reps(run, 5)
    ours.close()
    p.join()
    del q
    m.shutdown()
    report(name, "items/s", samples)


# ---- 4. 8 clients against one server ---------------------------------------

def client(d, n, conn, go):
    get = d.get
    get("key")  # the child's own connection is made here
    conn.send_bytes(b"r")
    go.wait()
    for _ in range(n):
        if get("key") != 1:
            sys.exit("client: d.get('key') is not 1")
    conn.send_bytes(b"d")


def many_clients(name):
    n = 1000 if QUICK else 10000
    m = started_sync()
    d = dict_with_key(m)

    def run():
        go = ctx.Event()
        procs, conns = [], []
        for _ in range(CLIENTS):
            ours, theirs = ctx.Pipe()
            p = ctx.Process(target=client, args=(d, n, theirs, go))
            p.start()
            theirs.close()
            procs.append(p)
            conns.append(ours)
        for c in conns:
            c.recv_bytes()
        t0 = time.perf_counter()
        go.set()
        for c in conns:
            c.recv_bytes()
        dt = time.perf_counter() - t0
        for p, c in zip(procs, conns):
            p.join()
            c.close()
            if p.exitcode != 0:
                sys.exit(f"client exited with {p.exitcode}")
        return n * CLIENTS / dt

    samples = timed_reps(run, 5)
    del d
    m.shutdown()
    report(name, "calls/s", samples)


# ---- main ------------------------------------------------------------------

def main(argv):
    global QUICK, REPS
    QUICK = options(argv, "manager.py")
    if QUICK:
        REPS = 7

    roundtrip("python dict get unix", None)  # SyncManager's default: AF_UNIX
    roundtrip("python dict get tcp", ("127.0.0.1", 0))
    get_proxy()
    managed_queue("python managed queue small")
    many_clients("python 8 clients dict get")


if __name__ == "__main__":
    main(sys.argv[1:])
