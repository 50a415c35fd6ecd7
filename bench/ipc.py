"""Python's side of the IPC benchmarks: multiprocessing's Pipe, Queue, Lock and
Value between processes, under the "fork" start method.

One line of JSON per variant:
  {"name": ..., "median": ..., "unit": ..., "p10": ..., "p90": ..., "samples": N}
where each sample is one timed batch and the statistics are over batches.
Processes are started before the clock runs and released by a message or an
Event, so process creation is never part of a figure.

Usage: python3 bench/ipc.py [quick] [--cpu N]
  quick    sizes ~10x smaller
  --cpu N  pin this process (and so every child) to CPU N
"""
import multiprocessing as mp
import sys
import time

from benchlib import options, report, timed_reps

MIB = 1 << 20
SMALL = b"p" * 16
SMALL_OBJ = (12345, "pingpong")

ctx = mp.get_context("fork")
QUICK = False
REPS = 11


# ---- 1. ping-pong -----------------------------------------------------------

def echo_bytes(conn, parent_end):
    parent_end.close()  # inherited under fork: would keep EOF from arriving
    try:
        while True:
            conn.send_bytes(conn.recv_bytes())
    except EOFError:
        pass


def echo_obj(conn, parent_end):
    parent_end.close()
    try:
        while True:
            conn.send(conn.recv())
    except EOFError:
        pass


def pingpong(name, objects):
    ours, theirs = ctx.Pipe()
    p = ctx.Process(target=echo_obj if objects else echo_bytes, args=(theirs, ours))
    p.start()
    theirs.close()
    n = 500 if QUICK else 5000

    def run():
        t0 = time.perf_counter()
        if objects:
            for _ in range(n):
                ours.send(SMALL_OBJ)
                ours.recv()
        else:
            for _ in range(n):
                ours.send_bytes(SMALL)
                ours.recv_bytes()
        return (time.perf_counter() - t0) / n * 1e6

    samples = timed_reps(run, REPS)
    ours.close()
    p.join()
    report(name, "us", samples)


# ---- 2. bandwidth ----------------------------------------------------------

def sender(conn, parent_end, size, count):
    parent_end.close()
    payload = b"\xab" * size
    try:
        while True:
            conn.recv_bytes()  # go
            for _ in range(count):
                conn.send_bytes(payload)
    except EOFError:
        pass


def bandwidth(name, size):
    total = (32 if QUICK else 256) * MIB
    count = total // size
    ours, theirs = ctx.Pipe()
    p = ctx.Process(target=sender, args=(theirs, ours, size, count))
    p.start()
    theirs.close()

    def run():
        t0 = time.perf_counter()
        ours.send_bytes(b"g")
        for _ in range(count):
            if len(ours.recv_bytes()) != size:
                sys.exit(f"{name}: short message")
        return size * count / (time.perf_counter() - t0) / 1e6

    samples = timed_reps(run, REPS)
    ours.close()
    p.join()
    report(name, "MB/s", samples)


# ---- 3./4. Queue -----------------------------------------------------------

def producer(q, go, parent_end, make_item, count):
    parent_end.close()
    try:
        while True:
            go.recv_bytes()
            for i in range(count):
                q.put(make_item(i))
    except EOFError:
        pass


def small_item(i):
    return (i, "x")


PAYLOAD_1MIB = b"\xab" * MIB


def big_item(_i):
    return PAYLOAD_1MIB


def queue_bench(name, unit, make_item, count, bytes_per_item=None, reps=None):
    q = ctx.Queue()
    ours, theirs = ctx.Pipe()
    p = ctx.Process(target=producer, args=(q, theirs, ours, make_item, count))
    p.start()
    theirs.close()

    def run():
        t0 = time.perf_counter()
        ours.send_bytes(b"g")
        item = None
        for _ in range(count):
            item = q.get()
        dt = time.perf_counter() - t0
        if bytes_per_item is None and item != (count - 1, "x"):
            sys.exit(f"{name}: last item {item!r}")
        if bytes_per_item is not None and len(item) != bytes_per_item:
            sys.exit(f"{name}: item of {len(item)} bytes")
        if bytes_per_item is None:
            return count / dt
        return count * bytes_per_item / dt / 1e6

    samples = timed_reps(run, reps or REPS)
    ours.close()
    p.join()
    report(name, unit, samples)


# ---- 5./6. Lock and Value --------------------------------------------------

def lock_loop(lock, n):
    acquire, release = lock.acquire, lock.release
    for _ in range(n):
        acquire()
        release()


def value_loop(v, n):
    for _ in range(n):
        with v.get_lock():
            v.value += 1


def contender(fn, shared, n, conn, go):
    conn.send_bytes(b"r")
    go.wait()
    fn(shared, n)
    conn.send_bytes(b"d")


def contended(fn, shared, n, nproc):
    """nproc processes started before the clock, each running fn(shared, n)
    at once when released; returns the wall time from release to the last
    one's done message."""
    go = ctx.Event()
    procs, conns = [], []
    for _ in range(nproc):
        ours, theirs = ctx.Pipe()
        p = ctx.Process(target=contender, args=(fn, shared, n, theirs, go))
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
            sys.exit(f"contender exited with {p.exitcode}")
    return dt


def lock_bench(name, nproc, n):
    lock = ctx.Lock()

    def run():
        if nproc == 1:
            t0 = time.perf_counter()
            lock_loop(lock, n)
            dt = time.perf_counter() - t0
        else:
            dt = contended(lock_loop, lock, n, nproc)
        return n * nproc / dt

    report(name, "ops/s", timed_reps(run, REPS))


def value_bench(name, nproc, n):
    v = ctx.Value("i", 0)

    def run():
        v.value = 0
        if nproc == 1:
            t0 = time.perf_counter()
            value_loop(v, n)
            dt = time.perf_counter() - t0
        else:
            dt = contended(value_loop, v, n, nproc)
        if v.value != n * nproc:
            print(f"{name}: count {v.value}, expected {n * nproc}", file=sys.stderr)
            sys.exit(1)
        return n * nproc / dt

    report(name, "ops/s", timed_reps(run, REPS))


# ---- main ------------------------------------------------------------------

def main(argv):
    global QUICK, REPS
    QUICK = options(argv, "ipc.py")
    if QUICK:
        REPS = 7
    scale = 10 if QUICK else 1

    pingpong("python pipe pingpong bytes", objects=False)
    pingpong("python pipe pingpong obj", objects=True)
    bandwidth("python pipe bw 1MiB", MIB)
    bandwidth("python pipe bw 16MiB", 16 * MIB)
    queue_bench("python queue small", "items/s", small_item, 100000 // scale,
                reps=5 if QUICK else 7)
    queue_bench("python queue 1MiB", "MB/s", big_item, 256 // scale, bytes_per_item=MIB)
    lock_n = 500000 // scale
    lock_bench("python lock 1proc", 1, lock_n)
    lock_bench("python lock 2proc", 2, lock_n // 2)
    value_n = 200000 // scale
    value_bench("python value incr 1proc", 1, value_n)
    value_bench("python value incr 2proc", 2, value_n // 2)


if __name__ == "__main__":
    main(sys.argv[1:])
