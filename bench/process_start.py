"""Python's side of bench/run: multiprocessing start+join latency per start
method, with the same trivial target, one line of JSON per method."""
import json
import multiprocessing as mp
import statistics
import sys
import time


def trivial():
    pass


def measure(method, n):
    ctx = mp.get_context(method)
    ctx.Process(target=trivial).start()  # warm-up: starts the forkserver
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        p = ctx.Process(target=trivial)
        p.start()
        p.join()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return {
        "name": "python " + method,
        "n": n,
        "median_ms": statistics.median(samples) * 1e3,
        "p10_ms": samples[n // 10] * 1e3,
        "p90_ms": samples[n * 9 // 10] * 1e3,
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    for method in ("fork", "spawn", "forkserver"):
        print(json.dumps(measure(method, n)), flush=True)
