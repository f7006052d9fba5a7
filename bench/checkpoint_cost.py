"""What checkpoints cost: ``scsim run SCENARIO --n N --days D`` with and without
``--checkpoint-every EVERY``, alternating, each in a fresh process (the kernel compiled and
cached before the first timed round), then one checkpoint written in the foreground
(``Sim.save_checkpoint``: pickle, write, fsync) and read back, to give its bytes and seconds.

    .venv/bin/python bench/checkpoint_cost.py sc-core --n 200000 --days 60 --rounds 3

Prints one JSON line: each run's wall and step seconds (the manifest's ``step_s``, which
includes the parent's share of checkpointing, ``checkpoint_s``), the median ratios with/without,
and the foreground checkpoint's bytes, write and read seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FOREGROUND = """
import json, sys, time
from pathlib import Path
from scsim.engine import Sim
from scsim.scenario import load_scenario
sc = load_scenario({scenario!r}, {{"population.n": {n}, "days": {days}}})
sim = Sim(sc).build()
for day in range({every}):
    sim.step(day)
path = Path({path!r})
t0 = time.perf_counter(); size = sim.save_checkpoint(path); write = time.perf_counter() - t0
t0 = time.perf_counter(); Sim.load_checkpoint(path); read = time.perf_counter() - t0
print(json.dumps({{"bytes": size, "write_s": write, "read_s": read,
                  "state_bytes": sim.state_bytes}}))
"""


def run(args: argparse.Namespace, every: int | None) -> dict:
    """One ``scsim run`` in a fresh process: wall seconds and its manifest's timings."""
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        out = Path(tmp) / "run"
        command = [sys.executable, "-m", "scsim", "run", args.scenario, "--n", str(args.n),
                   "--days", str(args.days), "--out", str(out)]  # fmt: skip
        if every is not None:
            command += ["--checkpoint-every", str(every)]
        t0 = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        wall = time.perf_counter() - t0
        timings = json.loads((out / "manifest.json").read_text())["timings"]
    return {"wall_s": round(wall, 2), **{k: round(v, 3) for k, v in timings.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--every", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tmp", default=None, help="where run and checkpoint files go")
    args = parser.parse_args()
    run(args, None)  # compile and cache the kernel
    rows: dict[str, list[dict]] = {"plain": [], "checkpoint": []}
    for _ in range(args.rounds):
        rows["plain"].append(run(args, None))
        rows["checkpoint"].append(run(args, args.every))

    def ratio(key: str) -> float:
        with_ = statistics.median(r[key] for r in rows["checkpoint"])
        return round(with_ / statistics.median(r[key] for r in rows["plain"]), 3)

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        code = FOREGROUND.format(
            scenario=args.scenario, n=args.n, days=args.days, every=args.every,
            path=os.path.join(tmp, "state.bin"),
        )  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        foreground = json.loads(done.stdout.decode().strip().splitlines()[-1])
    foreground["write_mb_per_s"] = round(foreground["bytes"] / foreground["write_s"] / 1e6, 1)
    print(json.dumps({
        "scenario": args.scenario, "n": args.n, "days": args.days, "every": args.every,
        "runs": rows, "step_ratio": ratio("step_s"), "wall_ratio": ratio("wall_s"),
        "foreground_checkpoint": foreground,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
