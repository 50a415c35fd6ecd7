"""Our SHA-256, MD5 and HMACs are Python's: checked against hashlib and hmac.

usage: digest_interop.py "<command prefix, e.g. wine64, or empty>" <digest_echo>

Random keys and messages of random lengths 0..300 (either side of the 64-byte
block, for keys and messages both), plus a few long messages, go to
digest_echo in one run; each of its answers must be hashlib's and hmac's.
The seed is printed so that a failure can be replayed (MPROC_DIGEST_SEED).
"""
import hashlib
import hmac
import os
import random
import shlex
import struct
import subprocess
import sys

CASES = 400


def cases(rng):
    for _ in range(CASES):
        yield rng.randbytes(rng.randint(0, 300)), rng.randbytes(rng.randint(0, 300))
    for n in (1000, 4096, 65537, 1 << 20):
        yield rng.randbytes(rng.randint(0, 300)), rng.randbytes(n)


def expected(key, msg):
    return [hashlib.sha256(msg).hexdigest(), hashlib.md5(msg).hexdigest(),
            hmac.new(key, msg, "sha256").hexdigest(), hmac.new(key, msg, "md5").hexdigest()]


def main(prefix, program):
    seed = int(os.environ.get("MPROC_DIGEST_SEED", random.randrange(1 << 32)))
    print(f"seed {seed}")
    pairs = list(cases(random.Random(seed)))
    stream = b"".join(struct.pack(">I", len(k)) + k + struct.pack(">I", len(m)) + m for k, m in pairs)
    cmd = shlex.split(prefix) + [program]
    done = subprocess.run(cmd, input=stream, capture_output=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    lines = done.stdout.decode().splitlines()
    if len(lines) != len(pairs):
        sys.exit(f"{len(lines)} answers for {len(pairs)} inputs")
    names = ("sha256", "md5", "hmac-sha256", "hmac-md5")
    for i, ((key, msg), line) in enumerate(zip(pairs, lines)):
        for name, got, want in zip(names, line.split(), expected(key, msg)):
            if got != want:
                sys.exit(f"case {i} (key {len(key)} bytes, message {len(msg)} bytes): {name} is {got}, "
                         f"Python says {want}")
    print(f"{len(pairs)} keys and messages: every digest is Python's")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
