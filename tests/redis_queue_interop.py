#!/usr/bin/env python3
"""A Queue on Redis shared with a Python program: items put by mproc are
read by Python with nothing but RESP and msgpack, and the other way round,
through the key layout docs/redis.md gives. Python speaks RESP over a
plain socket here so that the test needs no redis package.

Usage: redis_queue_interop.py EMULATOR PEER   (EMULATOR "" when native)"""
import os
import socket
import subprocess
import sys

import msgpack

STATE = "redis_supervisor.state"  # tests/redis_server.h: MPT_REDIS_STATE_FILE


def supervisor(line):
    with open(STATE) as f:
        port = int(f.read().split()[0])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall((line + "\n").encode())
        reply = b""
        while not reply.endswith(b"\n"):
            reply += s.recv(256)
    reply = reply.decode().strip()
    if not reply.startswith("ok"):
        sys.exit(f"supervisor: {line!r} -> {reply!r}")
    return reply


class Resp:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(65536)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b":"):
            return int(rest) if kind == b":" else rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RuntimeError(f"bad reply {line!r}")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self._reply()


def run(emulator, peer, *args):
    cmd = ([emulator] if emulator else []) + [peer] + list(args)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr}")
    return done.stdout


def main():
    emulator, peer = sys.argv[1], sys.argv[2]
    port = int(supervisor("new").split()[1])
    try:
        r = Resp(port)
        base = f"redis://127.0.0.1:{port}/0/"
        n = 50

        # mproc puts, Python gets: oldest first from the right of the list
        run(emulator, peer, "put", base + "from-c", str(n))
        for i in range(n):
            _, item = r.call("BRPOP", "mproc:q:{from-c}:items", "5")
            if msgpack.unpackb(item) != [i, f"item {i}"]:
                sys.exit(f"item {i}: {msgpack.unpackb(item)!r}")

        # Python puts, mproc gets
        for i in range(n):
            r.call("LPUSH", "mproc:q:{from-py}:items", msgpack.packb([i, f"py {i}"]))
        got = run(emulator, peer, "get", base + "from-py", str(n)).splitlines()
        if got != [f"{i} py {i}" for i in range(n)]:
            sys.exit(f"mproc got {got!r}")

        # a joinable queue: Python puts and counts, mproc works and marks done
        r.call("SET", "mproc:q:{jobs}:mode", "joinable")
        for i in range(n):
            r.call("LPUSH", "mproc:q:{jobs}:items", msgpack.packb([i, f"job {i}"]))
            r.call("INCR", "mproc:q:{jobs}:unfinished")
        run(emulator, peer, "work", base + "jobs", str(n))
        unfinished = int(r.call("GET", "mproc:q:{jobs}:unfinished"))
        if unfinished != 0:
            sys.exit(f"unfinished is {unfinished} after the work, not 0")
    finally:
        supervisor(f"close {port}")
    print("redis_queue_interop: ok")


if __name__ == "__main__":
    main()
