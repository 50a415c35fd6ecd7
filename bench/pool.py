"""Python's side of the Pool benchmarks: multiprocessing.Pool(2) under the
"fork" start method (and "spawn" for create + teardown), and
multiprocessing.pool.ThreadPool(2); bench_pool.c times the same with mproc.

One line of JSON per variant:
  {"name": ..., "median": ..., "unit": ..., "p10": ..., "p90": ..., "samples": N}
where each sample is one timed batch and the statistics are over batches.
Pools are started before the clock runs, except in the create + teardown row.

Usage: python3 bench/pool.py [quick] [--cpu N]
  quick    sizes smaller, fewer samples
  --cpu N  pin this process (and so every child) to CPU N
"""
import multiprocessing as mp
import multiprocessing.pool
import sys
import time

from benchlib import options, report, timed_reps

WORKERS = 2
QUICK = False
REPS = 11


def sq(x):
    return x * x


def burn_loop(iters):
    """About 100 us of arithmetic for the calibrated iteration count (the
    same dependent multiply-add chain as bench_pool.c, in Python)."""
    x = iters | 1
    m = (1 << 64) - 1
    for _ in range(iters):
        x = (x * 6364136223846793005 + 1442695040888963407 + (x >> 29)) & m
    return x >> 1


def calibrate():
    iters = 16
    while True:
        t0 = time.perf_counter()
        for _ in range(20):
            burn_loop(iters)
        per = (time.perf_counter() - t0) / 20
        if per >= 20e-6:
            return max(1, int(iters * 100e-6 / per))
        iters *= 4


# ---- 1./2. map over integers -----------------------------------------------

def map_bench(pool, name, n, chunksize=None):
    def run():
        t0 = time.perf_counter()
        out = pool.map(sq, range(n), chunksize)
        dt = time.perf_counter() - t0
        if len(out) != n or out[-1] != (n - 1) ** 2:
            sys.exit(f"{name}: wrong result")
        return n / dt

    report(name, "tasks/s", timed_reps(run, REPS))


# ---- 3. apply_async + get round trip -----------------------------------------

def roundtrip(pool, name):
    n = 300 if QUICK else 2000

    def run():
        t0 = time.perf_counter()
        for _ in range(n):
            if pool.apply_async(sq, (7,)).get() != 49:
                sys.exit(f"{name}: wrong result")
        return (time.perf_counter() - t0) / n * 1e6

    report(name, "us", timed_reps(run, REPS))


# ---- 4. Pool(2) create + teardown under spawn --------------------------------

def spawn_pool_lifecycle(name):
    spawn = mp.get_context("spawn")

    def run():
        t0 = time.perf_counter()
        pool = spawn.Pool(WORKERS)
        pool.close()
        pool.join()
        return (time.perf_counter() - t0) * 1e3

    report(name, "ms", timed_reps(run, 5 if QUICK else 7))


# ---- 5. CPU-bound map against the serial loop --------------------------------

def cpu_bound(pool, n, reps):
    iters = calibrate()
    items = [iters] * n
    serial, pooled = [], []
    for r in range(-1, reps):
        t0 = time.perf_counter()
        for it in items:
            burn_loop(it)
        ts = time.perf_counter() - t0
        t0 = time.perf_counter()
        pool.map(burn_loop, items)
        tp = time.perf_counter() - t0
        if r >= 0:
            serial.append(ts)
            pooled.append(tp)
    report("python cpu map serial", "s", serial)
    report("python cpu map pool", "s", pooled)


# ---- main ------------------------------------------------------------------

def main(argv):
    global QUICK, REPS
    QUICK = options(argv, "pool.py")
    if QUICK:
        REPS = 5

    with mp.get_context("fork").Pool(WORKERS) as pool:
        map_bench(pool, "python map 1M", 1000000)
        map_bench(pool, "python map chunksize 1", 20000 if QUICK else 100000, 1)
        roundtrip(pool, "python apply_async roundtrip")
        cpu_bound(pool, 5000 if QUICK else 20000, 3 if QUICK else 5)
    spawn_pool_lifecycle("python spawn pool create+teardown")
    with multiprocessing.pool.ThreadPool(WORKERS) as pool:
        map_bench(pool, "python threadpool map", 100000)


if __name__ == "__main__":
    main(sys.argv[1:])
