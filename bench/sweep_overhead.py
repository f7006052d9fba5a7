"""What the sweep executor costs: a sweep on the default local Dask cluster against the same runs
back to back in one process, and the memory of a long sweep.

    .venv/bin/python bench/sweep_overhead.py throughput --tasks 200 --n 20000 --days 365
    .venv/bin/python bench/sweep_overhead.py memory --tasks 1000

``throughput`` runs ``--tasks`` runs of beijing-2020 (100 points of a Latin hypercube over the
penalty for a listed friend, -0.2 to 0, x 2 replicates) three ways, in this order: on the local
cluster (one single-threaded worker per core), back to back in this process on every core, and
back to back on one thread. Each way runs the same task function (build, run, write the tables,
measure the outcomes). It prints agent-steps per second of each, their ratio, and the per-task
overhead of the cluster: wall time x workers / tasks minus the mean time a task took inside its
worker. ``memory`` runs ``--tasks`` small sc-core runs and prints the client's resident memory
after every tenth of them, and the workers' at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numba
import yaml

from scsim.experiments.executor import dask_client
from scsim.experiments.spec import load_sweep
from scsim.experiments.sweep import check_outcomes, execute, plan
from scsim.experiments.tasks import run_task

END = "SELECT {col} FROM timeseries t, manifest m WHERE t.day = m.days - 1"


def spec(base: str, n: int, days: int, tasks: int, folder: Path) -> Path:
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump({
        "base": base, "n": n, "days": days, "seed": 1, "replicates": 2,
        "design": {"kind": "latin", "samples": tasks // 2},
        "parameters": {"modules.scoring.friend_listed_penalty": {"low": -0.2, "high": 0.0}},
        "outcomes": {"listed": END.format(col="listed"), "mean": END.format(col="mean_score")},
    }, sort_keys=False))  # fmt: skip
    return path


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def throughput(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="scsim-bench-"))
    sweep = load_sweep(spec("beijing-2020", args.n, args.days, args.tasks, folder))
    check_outcomes(sweep.base, sweep.outcomes)  # compiles the kernel once, into the cache
    p = plan(sweep, folder / "out")
    steps = len(p.tasks) * args.n * args.days
    t0 = time.perf_counter()
    with dask_client() as client:
        workers = len(client.scheduler_info()["workers"])
        t1 = time.perf_counter()
        failures = execute(p, client)
        t_sweep = time.perf_counter() - t1
    wall_with_start = time.perf_counter() - t0
    assert not failures, failures
    inside = [json.loads(p.path(t).read_text())["total_s"] for t in p.tasks]
    serial = {}
    for threads in (numba.config.NUMBA_NUM_THREADS, 1):
        t1 = time.perf_counter()
        for task in p.tasks:
            run_task(task.scenario, sweep.outcomes, threads=threads)
        serial[threads] = time.perf_counter() - t1
    most = numba.config.NUMBA_NUM_THREADS
    mean_inside = sum(inside) / len(inside)
    return {
        "tasks": len(p.tasks), "n": args.n, "days": args.days, "workers": workers,
        "sweep_s": round(t_sweep, 1), "sweep_with_cluster_start_s": round(wall_with_start, 1),
        "sweep_agent_steps_per_s": round(steps / t_sweep),
        f"serial_{most}_threads_s": round(serial[most], 1),
        f"serial_{most}_threads_agent_steps_per_s": round(steps / serial[most]),
        "serial_1_thread_s": round(serial[1], 1),
        "serial_1_thread_agent_steps_per_s": round(steps / serial[1]),
        "ratio_sweep_to_serial_all_threads": round(serial[most] / t_sweep, 3),
        "ratio_sweep_to_serial_1_thread_x_workers": round(serial[1] / t_sweep / workers, 3),
        "mean_task_s_in_worker": round(mean_inside, 3),
        "overhead_per_task_s": round(t_sweep * workers / len(p.tasks) - mean_inside, 3),
    }  # fmt: skip


def memory(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="scsim-bench-"))
    sweep = load_sweep(spec("sc-core", 2000, 30, args.tasks, folder))
    p = plan(sweep, folder / "out")
    samples: list[tuple[int, float]] = []
    done = 0

    def on_done(task, result) -> None:
        nonlocal done
        done += 1
        if done % max(1, args.tasks // 10) == 0:
            samples.append((done, round(rss_mb(), 1)))

    with dask_client() as client:
        execute(p, client, on_done)
        workers = client.run(rss_mb)
    return {
        "tasks": len(p.tasks), "client_rss_mb_by_tasks_done": samples,
        "worker_rss_mb_at_end": {k: round(v, 1) for k, v in workers.items()},
        "client_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("throughput", "memory"))
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    row = throughput(args) if args.what == "throughput" else memory(args)
    row |= {"what": args.what, "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    json.dump(row, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
