#!/usr/bin/env python3
"""Real Redis servers for the tests: the redis CTest fixture (tests/redis.cmake).

    redis_supervisor.py start STATE   start the supervisor, write STATE, check
                                      that a redis-server starts and answers
    redis_supervisor.py stop STATE    stop it and every server it started

The supervisor is a small native process that starts Debian's redis-server on
demand, each on a free loopback port with persistence off and a temporary
directory of its own. Test programs, native or .exe files under Wine (whose
sockets are the host's), read the control port from STATE in their working
directory and ask over TCP on 127.0.0.1, one line per connection:

    new            -> "ok PORT"   a fresh server
    stop PORT      -> "ok"        SIGSTOP: it hangs, connections stay open
    cont PORT      -> "ok"        SIGCONT
    kill PORT      -> "ok"        SIGKILL: its connections drop
    restart PORT   -> "ok"        kill it if it runs, start it on the same port
    close PORT     -> "ok"        end it and remove its directory
    quit           -> "ok"        end every server, then the supervisor

Anything else gets "err MESSAGE". Nothing outlives the test run: servers die
with the supervisor (PR_SET_PDEATHSIG), and the supervisor ends when the
process that started it (ctest) is gone, even if the cleanup never runs.
"""
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

START_TIMEOUT = 10.0
PDEATHSIG = 1  # prctl's PR_SET_PDEATHSIG


def log(msg):
    print(f"redis_supervisor: {msg}", flush=True)


def die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(PDEATHSIG, signal.SIGKILL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Server:
    def __init__(self, port, directory):
        self.port, self.dir, self.proc = port, directory, None

    def start(self):
        """Run redis-server on self.port until it answers PING; False if it
        exits first (the port was taken)."""
        logfile = os.path.join(self.dir, "redis.log")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no", "--logfile", logfile],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=self.dir, preexec_fn=die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if answers_ping(self.port):
                return True
            time.sleep(0.02)
        self.end()
        raise RuntimeError(f"redis-server on port {self.port} gave no PONG in {START_TIMEOUT}s")

    def signal(self, sig):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def end(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()
        self.proc = None

    def log_tail(self):
        try:
            with open(os.path.join(self.dir, "redis.log")) as f:
                return " | ".join(f.read().splitlines()[-3:])
        except OSError:
            return "no log"


class Supervisor:
    def __init__(self, watch_pid):
        self.watch_pid = watch_pid
        self.servers = {}

    def new(self):
        for _ in range(5):
            server = Server(free_port(), tempfile.mkdtemp(prefix="mproc-redis-"))
            if server.start():
                self.servers[server.port] = server
                return f"ok {server.port}"
            tail = server.log_tail()
            shutil.rmtree(server.dir, ignore_errors=True)
        return f"err redis-server did not start: {tail}"

    def server(self, port):
        server = self.servers.get(int(port))
        if server is None:
            raise ValueError(f"no server of mine on port {port}")
        return server

    def handle(self, line):
        words = line.split()
        verb = words[0] if words else ""
        if verb == "new" and len(words) == 1:
            return self.new()
        if verb == "quit" and len(words) == 1:
            return "ok"
        if len(words) != 2:
            return f"err bad request {line!r}"
        server = self.server(words[1])
        if verb == "stop":
            server.signal(signal.SIGSTOP)
        elif verb == "cont":
            server.signal(signal.SIGCONT)
        elif verb == "kill":
            server.end()
        elif verb == "restart":
            server.end()
            if not server.start():
                return f"err redis-server did not start again: {server.log_tail()}"
        elif verb == "close":
            server.end()
            shutil.rmtree(server.dir, ignore_errors=True)
            del self.servers[server.port]
        else:
            return f"err unknown request {verb!r}"
        return "ok"

    def serve(self, state):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.settimeout(1.0)
        tmp = state + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{listener.getsockname()[1]} {os.getpid()}\n")
        os.replace(tmp, state)
        log(f"serving on port {listener.getsockname()[1]}")
        try:
            while running(self.watch_pid):
                try:
                    conn, _ = listener.accept()
                except socket.timeout:
                    continue
                with conn:
                    if self.answer(conn) == "quit":
                        break
        finally:
            for server in list(self.servers.values()):
                server.end()
                shutil.rmtree(server.dir, ignore_errors=True)
            listener.close()
            log("stopped")

    def answer(self, conn):
        conn.settimeout(30.0)
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = conn.recv(256)
                if not chunk:
                    return None
                data += chunk
        except OSError:
            return None
        line = data.decode("ascii", "replace").strip()
        try:
            reply = self.handle(line)
        except (ValueError, RuntimeError, OSError) as e:
            reply = f"err {e}"
        log(f"{line} -> {reply}")
        try:
            conn.sendall(reply.encode() + b"\n")
        except OSError:
            pass
        return line


def request(port, line):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(line.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
    return data.decode().strip()


def read_state(state):
    with open(state) as f:
        port, pid = f.read().split()
    return int(port), int(pid)


def start(state):
    if shutil.which("redis-server") is None:
        log("redis-server is not on PATH: install Debian's redis-server (ci/setup does)")
        return 1
    if os.path.exists(state):
        os.remove(state)
    with open(state + ".log", "w") as out:
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve", state, str(os.getppid())],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(state):
        if proc.poll() is not None or time.monotonic() > deadline:
            log(f"the supervisor did not start (see {state}.log)")
            proc.kill()
            return 1
        time.sleep(0.02)
    port, _ = read_state(state)
    reply = request(port, "new")
    if not reply.startswith("ok "):
        log(f"no redis-server could start: {reply}")
        request(port, "quit")
        return 1
    request(port, f"close {reply.split()[1]}")
    log(f"supervisor on port {port}; {shutil.which('redis-server')} starts and answers PING")
    return 0


def running(pid):
    """True while pid runs; a zombie (an init that reaps late) has ended."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop(state):
    if not os.path.exists(state):
        log("no supervisor to stop")
        return 0
    port, pid = read_state(state)
    try:
        request(port, "quit")
    except OSError as e:
        log(f"quit: {e}")
    deadline = time.monotonic() + START_TIMEOUT
    while running(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    os.remove(state)
    log("stopped")
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "start":
        return start(argv[2])
    if len(argv) == 3 and argv[1] == "stop":
        return stop(argv[2])
    if len(argv) == 4 and argv[1] == "serve":
        Supervisor(int(argv[3])).serve(argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
