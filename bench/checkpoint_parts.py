"""The parts of one checkpoint a run pays for, at a given size: the copy of the state in the run
(``capture`` into kept buffers: the first, then the next), and each save by the writer (wall and
the writing thread's CPU seconds), for old-against-new comparisons (``PYTHONPATH=<its src>``).

    .venv/bin/python bench/checkpoint_parts.py sc-core --n 10000000 --saves 4

Prints one JSON line. The state is saved under a temporary directory beside ``runs/``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from scsim import checkpoint
from scsim.checkpoint_writer import save
from scsim.engine import Sim
from scsim.scenario import load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("preset", help="preset name or scenario YAML")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--saves", type=int, default=4)
    args = ap.parse_args()
    sim = Sim(load_scenario(args.preset, {"population.n": args.n, "days": 2})).build()
    into: list = []
    copies, saves = [], []
    Path("runs").mkdir(exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="checkpoint-parts-", dir="runs"))
    try:
        for k in range(args.saves):
            t0 = time.perf_counter()
            state = checkpoint.capture(sim, into=into)
            copies.append(round(time.perf_counter() - t0, 3))
            state.day = k
            t0, c0 = time.perf_counter(), time.thread_time()
            size = save(state, directory, {})
            saves.append([round(time.perf_counter() - t0, 3), round(time.thread_time() - c0, 3)])
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps({
        "preset": args.preset, "n": args.n, "bytes": size, "capture_s": copies,
        "save_wall_cpu_s": saves,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
