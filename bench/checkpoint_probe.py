"""Where a checkpoint's cost goes: one in-process run of sc-core with ``Checkpoints`` every 30
days, the writer's work replaced by nothing, a sleep, or the full write without fsync.

    .venv/bin/python bench/checkpoint_probe.py VARIANT [--n 10000000] [--days 100]

VARIANT: ``none`` (no checkpoints), ``full``, ``noop`` (the writer returns at once), ``sleep``
(the writer sleeps two seconds), ``nofsync`` (the full writer, fsync skipped), ``timed`` (the
full writer, printing each capture's and each write's seconds). Prints the run's seconds and
the time the run itself spent on checkpoints. Run the variants alternately, one process each;
with ``PYTHONPATH=<checkout>/src`` it measures another commit (the forked writer of c99e26d).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import scsim.checkpoint_writer as writer
from scsim.engine import Sim
from scsim.scenario import load_scenario


def _timed(name: str, work):
    def run(*args, **kwargs):
        t0 = time.perf_counter()
        result = work(*args, **kwargs)
        print(name, round(time.perf_counter() - t0, 3), flush=True)
        return result

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=["none", "full", "noop", "sleep", "nofsync", "timed"])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=100)
    args = parser.parse_args()
    if args.variant == "noop":
        writer.save = lambda *a, **k: 0
    elif args.variant == "sleep":
        writer.save = lambda *a, **k: time.sleep(2)
    elif args.variant == "nofsync":
        os.fsync = lambda fd: None
    elif args.variant == "timed":
        writer.save = _timed("write", writer.save)
        if hasattr(writer, "capture"):
            writer.capture = _timed("capture", writer.capture)
    sim = Sim(load_scenario("sc-core", {"population.n": args.n, "days": args.days})).build()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if args.variant == "none":
            sim.run()
        else:
            with writer.Checkpoints(sim, Path(tmp) / "c", 30, {}) as saver:
                sim.run(on_day=saver)
        seconds = time.perf_counter() - t0
    spent = sim.timings.get("checkpoint_s", 0.0)
    print(f"{args.variant}: {seconds:.2f} s, of which the run spent {spent:.2f} s on checkpoints")


if __name__ == "__main__":
    main()
