"""A Redis server of the benchmark's own, for bench/run's "redis" section:
Debian's redis-server on a free loopback port, nothing saved to disk
(--save '' --appendonly no), in a temporary directory of its own, stopped
and removed when the with block ends, however it ends."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REDIS_SERVER = "/usr/bin/redis-server"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start(tmp):
    """A server on a free port, and the port. The port is free when asked
    for, and may be taken before the server binds it: then another."""
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", tmp, "--daemonize", "no",
                                 "--logfile", os.path.join(tmp, "redis.log")],
                                stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            if answers(port):
                return proc, port
            time.sleep(0.05)
        stop(proc)
    raise RuntimeError("bench: redis-server did not start on a free loopback port")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def redis_server():
    """Yields the port of a running server."""
    tmp = tempfile.mkdtemp(prefix="mproc-bench-redis-")
    proc = None
    try:
        proc, port = start(tmp)
        yield port
    finally:
        if proc is not None:
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
