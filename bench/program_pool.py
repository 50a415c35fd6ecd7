"""Python's side of the program-pool benchmark: seed 000's design, m
Popen'd programs each guarded by a threading.Lock and driven by threads
that write a task line and read the reply line.

The seed starts one thread per task, each taking lock[i % m]; here each
program has one thread that runs its share of the tasks in turn, which is
the same exchange without the cost of 100 000 thread starts, and so faster
than the seed's own.

Usage: program_pool.py ECHO_PROGRAM [quick] [--cpu N]"""
import subprocess
import sys
import threading
import time

import benchlib

PROGRAMS = 2


def main():
    echo = sys.argv[1]
    quick = benchlib.options(sys.argv[2:], "program_pool.py ECHO_PROGRAM")
    ntasks = 20000 if quick else 100000
    reps = 3 if quick else 5
    tasks = [f"task {i}\n".encode() for i in range(ntasks)]
    procs = [subprocess.Popen([echo], stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(PROGRAMS)]
    locks = [threading.Lock() for _ in range(PROGRAMS)]
    results = [None] * ntasks

    def call_method(k):
        proc, lock = procs[k], locks[k]
        for i in range(k, ntasks, PROGRAMS):
            with lock:
                proc.stdin.write(tasks[i])
                proc.stdin.flush()
                results[i] = proc.stdout.readline()

    def run():
        t0 = time.perf_counter()
        threads = [threading.Thread(target=call_method, args=(k,), daemon=True) for k in range(PROGRAMS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        dt = time.perf_counter() - t0
        assert results[-1] == tasks[-1]
        return ntasks / dt

    benchlib.report("python seed design", "tasks/s", benchlib.timed_reps(run, reps))
    for p in procs:
        p.stdin.write(b"quit\n")
        p.stdin.close()
        p.wait()
        p.stdout.close()


if __name__ == "__main__":
    main()
