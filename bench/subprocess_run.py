"""Python's side of the subprocess benchmarks: subprocess.run of a program
that exits 0 at once, and Popen.communicate of 100 MB through cat;
bench_subprocess.c times the same with mproc and with raw system calls.
(Not named subprocess.py: run from bench/, it would shadow the stdlib's.)

One line of JSON per variant:
  {"name": ..., "median": ..., "unit": ..., "p10": ..., "p90": ..., "samples": N}

  python run tiny, python run true  subprocess.run([program]) start to
                                    reaped, ms per run
  python communicate                Popen([cat], stdin=PIPE, stdout=PIPE)
                                    .communicate(100 MB), MB/s of input

Usage: python3 bench/subprocess_run.py [quick] [--cpu N] -- TINY TRUE CAT
  quick    fewer samples, 20 MB through cat
  --cpu N  pin this process (and so every program it starts) to CPU N
"""
import subprocess
import sys
import time

from benchlib import options, report

MB = 1e6


def run_bench(label, program, n):
    subprocess.run([program], check=True)  # warm-up
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([program], check=True)
        samples.append((time.perf_counter() - t0) * 1e3)
    report(f"python run {label}", "ms", samples)


def communicate_once(cat, data):
    p = subprocess.Popen([cat], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(data)
    if p.returncode != 0:
        sys.exit(f"subprocess_run.py: {cat} exited with {p.returncode}")
    return out


def communicate_bench(cat, size, n):
    data = bytes((i * 7 + (i >> 13)) & 0xFF for i in range(65536)) * (size // 65536 + 1)
    data = data[:size]
    if communicate_once(cat, data) != data:  # warm-up, checked
        sys.exit("subprocess_run.py: communicate: the output is not the input")
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = communicate_once(cat, data)
        dt = time.perf_counter() - t0
        if len(out) != size:
            sys.exit(f"subprocess_run.py: communicate: {len(out)} bytes back of {size}")
        del out
        samples.append(size / MB / dt)
    report("python communicate", "MB/s", samples)


def main(argv):
    if "--" not in argv or len(argv) - argv.index("--") != 4:
        sys.exit("usage: subprocess_run.py [quick] [--cpu N] -- TINY TRUE CAT")
    sep = argv.index("--")
    quick = options(argv[:sep], "subprocess_run.py")
    tiny, true, cat = argv[sep + 1:]
    n_run = 50 if quick else 200
    run_bench("tiny", tiny, n_run)
    run_bench("true", true, n_run)
    communicate_bench(cat, (20 if quick else 100) * 1000 * 1000, 5 if quick else 11)


if __name__ == "__main__":
    main(sys.argv[1:])
