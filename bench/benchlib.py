"""What the Python benchmarks share: one JSON line of statistics per variant,
repeated timed batches, and the command line "[quick] [--cpu N]"."""
import json
import os
import statistics
import sys


def report(name, unit, samples):
    samples = sorted(samples)
    n = len(samples)
    print(json.dumps({
        "name": name,
        "median": round(statistics.median(samples), 3),
        "unit": unit,
        "p10": round(samples[n // 10], 3),
        "p90": round(samples[n * 9 // 10], 3),
        "samples": n,
    }), flush=True)


def timed_reps(run, reps):
    """Calls run() once untimed (warm-up), then reps times; run returns the
    figure of its batch."""
    run()
    return [run() for _ in range(reps)]


def options(argv, program):
    """Pins this process (and the children it forks) to CPU N for --cpu N;
    returns whether "quick" was given."""
    quick, cpu = False, None
    args = iter(argv)
    for a in args:
        if a == "quick":
            quick = True
        elif a == "--cpu":
            cpu = int(next(args))
        else:
            sys.exit(f"usage: {program} [quick] [--cpu N]")
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    return quick
