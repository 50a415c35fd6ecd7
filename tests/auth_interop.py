"""Our authkey handshake against Python's multiprocessing.connection.

usage: auth_interop.py "<command prefix, e.g. wine64, or empty>" <auth_peer>

Python's Client against our Listener and Python's Listener against our
Client, with the same key (a message each way) and with different keys
(both sides fail). Whatever this python3's version, its form is the one
exercised: 3.11's legacy answers to our challenges, or 3.12's.
"""
import shlex
import socket
import subprocess
import sys
from multiprocessing.connection import AuthenticationError, Client, Listener

KEY = b"interop key"
socket.setdefaulttimeout(60)  # a helper that died must not hang accept


def peer(args):
    return subprocess.Popen(shlex.split(sys.argv[1]) + [sys.argv[2]] + args,
                            stdout=subprocess.PIPE, text=True)


def finish(p):
    out, _ = p.communicate(timeout=120)
    assert p.returncode == 0, p.returncode
    return out.strip()


def python_client(key):
    p = peer(["listen", KEY.decode()])
    address = p.stdout.readline().strip()
    host, port = address[len("tcp://"):].rsplit(":", 1)
    try:
        c = Client((host, int(port)), authkey=key)
    except AuthenticationError:
        return None, finish(p)
    got = c.recv_bytes()
    c.send_bytes(b"from Python")
    c.close()
    return got, finish(p)


def python_listener(key):
    with Listener(("127.0.0.1", 0), authkey=key) as l:
        host, port = l.address
        p = peer(["connect", f"tcp://{host}:{port}", KEY.decode()])
        try:
            c = l.accept()
        except AuthenticationError:
            return None, finish(p)
        got = c.recv_bytes()
        c.send_bytes(b"from Python")
        c.close()
        return got, finish(p)


def main():
    for side in (python_client, python_listener):
        got, out = side(KEY)
        assert (got, out) == (b"from C", "MP_OK from Python"), (side.__name__, got, out)
        got, out = side(b"another key")
        assert (got, out) == (None, "MP_EAUTH"), (side.__name__, got, out)
    print("auth interop: ok with", sys.version.split()[0])


main()
