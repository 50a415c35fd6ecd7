"""The task RQ's workers run for redis_peers.py (a module of its own: RQ's
workers import the function by name, in the process that runs the job)."""


def inc(x):
    return x + 1
