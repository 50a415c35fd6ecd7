"""Draw bench/results.json (written by bench/run) as one chart: for each
benchmark that has a raw baseline, a group of bars, one per side (mproc,
Python, the C peers), each the side's speed as a multiple of raw's, on a
log scale; 1 is the raw limit.

Usage: /usr/bin/python3 bench/chart.py RESULTS_JSON OUT_SVG

Runs under Debian's python3 with python3-matplotlib (bench/setup installs
it); exits 3 when matplotlib is missing, so bench/run can say so.
"""
import json
import sys

try:
    import matplotlib
    matplotlib.use("svg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit(3)

TIME_UNITS = {"s", "ms", "us"}
SIDE_ORDER = ["mproc", "python"]


def speed(value, raw, unit):
    """How many times as fast as raw: rates divide, times the other way."""
    return raw / value if unit in TIME_UNITS else value / raw


def bar_groups(results):
    groups = []
    for section in results.values():
        for label, unit, figures in section:
            raw = figures.get("raw")
            if not raw:
                continue
            groups.append((label, {side: speed(v, raw, unit) for side, v in figures.items()
                                   if side != "raw" and v}))
    return groups


def main(json_path, svg_path):
    with open(json_path) as f:
        groups = bar_groups(json.load(f))
    sides = SIDE_ORDER + sorted({s for _, bars in groups for s in bars} - set(SIDE_ORDER))
    width = 0.8 / len(sides)
    fig, ax = plt.subplots(figsize=(12, 0.45 * len(groups) + 1.5))
    for i, side in enumerate(sides):
        ys = [row for row, (_, bars) in enumerate(groups) if side in bars]
        xs = [groups[row][1][side] for row in ys]
        ax.barh([y + (i - (len(sides) - 1) / 2) * width for y in ys], xs, height=width, label=side)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(range(len(groups)))
    ax.set_yticklabels([label for label, _ in groups], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("speed as a multiple of the raw baseline (1 = raw; log scale; higher is faster)")
    ax.legend(loc="lower right")
    ax.set_title("mproc, Python and C peers against the raw limit (bench/RESULTS.md)")
    fig.tight_layout()
    fig.savefig(svg_path)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: chart.py RESULTS_JSON OUT_SVG")
    sys.exit(main(sys.argv[1], sys.argv[2]))
