"""Our MessagePack is standard MessagePack: checked against Python's msgpack.

usage: pack_interop.py "<command prefix, e.g. wine64, or empty>" <pack_echo>

1. What pack_echo emits (packed by our format strings) unpacks with
   msgpack to exactly the expected Python values.
2. What msgpack packs, for values of every type and size class, goes through
   our decoder and encoder unchanged, byte for byte.
"""
import math
import shlex
import struct
import subprocess
import sys

import msgpack

ExtType = msgpack.ExtType

# Keep in step with emit() in pack_echo.c.
EXPECTED = (
    [None, True, False]
    + [0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1,
       -1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**63]
    + [2**64 - 1, 1.5, -0.0, 0.25, "", "h\u00e9llo \u4e16\u754c \U0001F600"]
    + ["a" * n for n in (31, 32, 255, 256, 65535, 65536)]
    + [b"b" * n for n in (0, 255, 256, 65535, 65536)]
    + [ExtType(5, b"c" * n) for n in (1, 2, 4, 8, 16, 0, 3, 256, 65536)]
    + [[None] * n for n in (0, 15, 16, 65535, 65536)]
    + [{i: None for i in range(n)} for n in (0, 15, 16, 65535, 65536)]
    + [[1, [2, ["three"]]], {"k": [1, "x"], "empty": {}}]
)

ROUND_TRIP = EXPECTED + [
    3.141592653589793, float("inf"), -float("inf"),
    {"nested": {"deeper": [1, 2.5, b"\x00", None, True, {"x": []}]}},
    [ExtType(0, b""), ExtType(127, b"\xff" * 17)],
    "x" * 70000, b"\x01" * 70000, list(range(-40, 300)),
]


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


# pack_echo's exit code when its stdin was empty although we sent data.
NO_INPUT = 3


def run(prefix, program, mode, data=b""):
    cmd = shlex.split(prefix) + [program, mode]
    done = subprocess.run(cmd, input=data, capture_output=True, timeout=300)
    if data and done.returncode == NO_INPUT and prefix:
        # Once in many runs Wine handed the program an empty stdin; the
        # program said so, which is not what this test checks: run again.
        print(f"{program} saw an empty stdin under {prefix}: run again")
        done = subprocess.run(cmd, input=data, capture_output=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
    return done.stdout


def check_emit(prefix, program):
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=0)
    unpacker.feed(run(prefix, program, "emit"))
    got = list(unpacker)
    if len(got) != len(EXPECTED):
        sys.exit(f"emit: {len(got)} values, expected {len(EXPECTED)}")
    for i, (g, e) in enumerate(zip(got, EXPECTED)):
        if not same(g, e):
            sys.exit(f"emit: value {i} is {g!r:.80}, expected {e!r:.80}")
    print(f"emit: {len(got)} values as expected")


def check_echo(prefix, program):
    packed = [msgpack.packb(v) for v in ROUND_TRIP]
    stream = b"".join(struct.pack(">I", len(p)) + p for p in packed)
    out = run(prefix, program, "echo", stream)
    at = 0
    for i, p in enumerate(packed):
        (n,) = struct.unpack_from(">I", out, at)
        got = out[at + 4:at + 4 + n]
        at += 4 + n
        if got != p:
            sys.exit(f"echo: value {i} came back as {got[:40]!r}..., sent {p[:40]!r}...")
    if at != len(out):
        sys.exit("echo: trailing output")
    print(f"echo: {len(packed)} values came back byte for byte")


if __name__ == "__main__":
    check_emit(sys.argv[1], sys.argv[2])
    check_echo(sys.argv[1], sys.argv[2])
