"""Python's side of the Redis pool benchmarks: RQ and Celery, each with 2
worker processes, on the Redis server bench/run started (bench_redis_pool.c
times mproc's pool on the same server). Run with Debian's /usr/bin/python3,
for which bench/setup installs python3-rq, python3-celery and python3-redis.

  - RQ, its default Worker, which forks a work horse per job (RQ's design,
    what its users get), and SimpleWorker, which runs jobs in the worker
    process itself: RQ_N jobs enqueued (enqueue_many, one pipeline), timed
    until the last is in the finished registry; tasks/s;
  - Celery, a prefork worker with --concurrency 2, Redis as broker and
    result backend: a group of CELERY_N tasks sent, timed until all results
    are got; tasks/s.

Each peer's workers are started before the clock, warmed up with a small
batch, and stopped (their whole process group) at the end, also on failure.
Each uses a Redis database of its own, flushed first.

One line of JSON per variant (benchlib.report) over REPS timed batches.

Usage: /usr/bin/python3 bench/redis_peers.py PORT RQ_N CELERY_N REPS
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

import redis

from benchlib import report

HERE = os.path.dirname(os.path.abspath(__file__))
WORKERS = 2
RQ_DB, CELERY_BROKER_DB, CELERY_BACKEND_DB = 1, 2, 3
POLL = 0.01
# The workers' stderr: shown only when the run fails (Celery warns there
# about running as root, every time).
LOG = tempfile.TemporaryFile()


def stop(procs):
    """Ask for a warm shutdown (SIGTERM), then kill what is left, each
    worker with its process group (RQ's work horses, Celery's pool)."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def start(cmd, env=None):
    return subprocess.Popen(cmd, cwd=HERE, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=LOG)


def wait_for(what, cond, timeout=60):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            sys.exit(f"redis_peers.py: {what} within {timeout} s")
        time.sleep(POLL)


# ---- RQ ---------------------------------------------------------------------------------

def rq_worker(url, kind):
    """A worker process (this script re-entered): RQ's Worker or SimpleWorker."""
    from rq import Queue, SimpleWorker, Worker
    conn = redis.Redis.from_url(url)
    cls = SimpleWorker if kind == "simple" else Worker
    cls([Queue("bench", connection=conn)], connection=conn).work(logging_level="WARNING")


def rq(port, kind, n, reps):
    from rq import Queue, Worker
    from rq.registry import FinishedJobRegistry
    import rq_tasks
    url = f"redis://127.0.0.1:{port}/{RQ_DB}"
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    q = Queue("bench", connection=conn)
    done = FinishedJobRegistry(queue=q)
    procs = [start([sys.executable, __file__, "rq-worker", url, kind]) for _ in range(WORKERS)]
    try:
        wait_for("RQ's workers up", lambda: Worker.count(queue=q) == WORKERS)

        def batch(size):
            base = done.count
            t0 = time.monotonic()
            jobs = q.enqueue_many([Queue.prepare_data(rq_tasks.inc, (i,)) for i in range(size)])
            wait_for("RQ's batch done", lambda: done.count >= base + size, timeout=600)
            dt = time.monotonic() - t0
            for i in (0, size - 1):
                if jobs[i].return_value() != i + 1:
                    sys.exit("redis_peers.py: RQ: wrong result")
            return size / dt

        batch(50)
        samples = [batch(n) for _ in range(reps)]
    finally:
        stop(procs)
    report(f"rq {kind} worker", "tasks/s", samples)


# ---- Celery -------------------------------------------------------------------------------

def celery(port, n, reps):
    env = dict(os.environ,
               MPROC_BENCH_CELERY_BROKER=f"redis://127.0.0.1:{port}/{CELERY_BROKER_DB}",
               MPROC_BENCH_CELERY_BACKEND=f"redis://127.0.0.1:{port}/{CELERY_BACKEND_DB}")
    os.environ.update(env)
    for db in (CELERY_BROKER_DB, CELERY_BACKEND_DB):
        redis.Redis(port=port, db=db).flushdb()
    from celery import group
    import celery_tasks
    procs = [start([sys.executable, "-m", "celery", "-A", "celery_tasks", "worker", "--concurrency",
                    str(WORKERS), "-P", "prefork", "--loglevel", "WARNING"], env=env)]
    try:
        if celery_tasks.inc.delay(1).get(timeout=60) != 2:
            sys.exit("redis_peers.py: Celery: wrong result")

        def batch(size):
            t0 = time.monotonic()
            results = group(celery_tasks.inc.s(i) for i in range(size)).apply_async().get(timeout=600)
            dt = time.monotonic() - t0
            if results != [i + 1 for i in range(size)]:
                sys.exit("redis_peers.py: Celery: wrong result")
            return size / dt

        batch(50)
        samples = [batch(n) for _ in range(reps)]
    finally:
        stop(procs)
    report("celery prefork", "tasks/s", samples)


def main(argv):
    if len(argv) == 3 and argv[0] == "rq-worker":
        return rq_worker(argv[1], argv[2])
    if len(argv) != 4:
        sys.exit("usage: redis_peers.py PORT RQ_N CELERY_N REPS")
    port, rq_n, celery_n, reps = map(int, argv)
    try:
        rq(port, "fork", rq_n, reps)
        rq(port, "simple", rq_n, reps)
        celery(port, celery_n, reps)
    except BaseException:
        LOG.seek(0)
        sys.stderr.write("redis_peers.py: the workers said:\n" + LOG.read().decode(errors="replace"))
        raise


if __name__ == "__main__":
    main(sys.argv[1:])
