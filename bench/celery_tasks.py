"""The Celery app and task of redis_peers.py: a Redis broker and result
backend, whose addresses come from the environment (the worker imports this
module by name, -A celery_tasks)."""
import os

from celery import Celery

app = Celery("mproc_bench",
             broker=os.environ["MPROC_BENCH_CELERY_BROKER"],
             backend=os.environ["MPROC_BENCH_CELERY_BACKEND"])


@app.task
def inc(x):
    return x + 1
