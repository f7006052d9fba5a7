"""A Dask worker's memory over many tasks: run one preset's task (build, run, write, measure)
again and again in one process, as a worker does, and print the resident memory after each.

    .venv/bin/python bench/worker_memory.py china-court-list --n 140000 --days 1918 --tasks 6
"""

from __future__ import annotations

import argparse

import psutil

from scsim.experiments.spec import Outcome
from scsim.experiments.tasks import run_task
from scsim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--n", type=int, default=140_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--tasks", type=int, default=6)
    args = parser.parse_args()
    scenario = load_scenario(args.preset, {"population.n": args.n, "days": args.days})
    data = scenario.model_dump(mode="json")
    outcome = {"listed": Outcome(sql="SELECT max(listed) FROM timeseries")}
    process = psutil.Process()
    for task in range(args.tasks):
        run_task(data | {"seed": task + 1}, outcome)
        print(f"after task {task + 1}: {process.memory_info().rss / 1e6:,.0f} MB resident")


if __name__ == "__main__":
    main()
