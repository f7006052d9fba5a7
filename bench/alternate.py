"""Time two commands side by side: A and B run in turn (A B A B ...) after warm-up runs, and the
ratio A/B is taken pair by pair, so a machine whose speed drifts during the call (this one
varies by ±20 %) moves both commands of a pair alike.

    .venv/bin/python bench/alternate.py -n 3 --warmup 1 \\
        --vs "sh -c 'PYTHONPATH=/tmp/old/src exec .venv/bin/scsim bench sc-core --n 10000000'" \\
        -- .venv/bin/scsim bench sc-core --n 10000000

Each run is timed from outside, its start-up included (wall: a monotonic clock around the
process; peak: the largest resident set of the process and those it waited for, as the kernel
accounts them). Prints min, median and max of each, and of the pairs' ratios. A command's
output is discarded: to keep it, write the command as ``sh -c 'exec CMD >>FILE 2>&1'``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time


def once(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one run of ``command``."""
    t0 = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(command)} exited with {proc.returncode}")
    return wall, usage.ru_maxrss / 1024


def spread(values: list[float]) -> str:
    return f"{min(values):10.3f} {statistics.median(values):10.3f} {max(values):10.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--runs", type=int, default=5, help="timed runs of each command")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs of each command first")
    ap.add_argument("--vs", required=True, help="command B, one string split as a shell would")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- command A and its arguments")
    args = ap.parse_args()
    a = args.command[1:] if args.command[:1] == ["--"] else args.command
    b = shlex.split(args.vs)
    if not a:
        ap.error("command A is missing (after --)")
    for _ in range(args.warmup):
        once(a), once(b)
    runs = [(once(a), once(b)) for _ in range(args.runs)]
    print(f"{'':16} {'min':>10} {'median':>10} {'max':>10}   ({args.runs} pairs, A then B)")
    for label, k in (("A", 0), ("B", 1)):
        print(f"{label + ' wall s':16} {spread([r[k][0] for r in runs])}")
        print(f"{label + ' peak MiB':16} {spread([r[k][1] for r in runs])}")
    print(f"{'A/B wall':16} {spread([ra[0] / rb[0] for ra, rb in runs])}")


if __name__ == "__main__":
    main()
