"""Memory of each MPI rank, with and without keeping only its own citizens (``Sim.keep_own``).

For each number of ranks R and each way, launches ``mpiexec -n R`` of this file as a worker:
every rank builds the scenario, runs its days, writes the run directory as ``scsim run`` does
(rank 0 writes; with each rank keeping its own citizens, the others send it their rows of the
people file a row group at a time) and reports its resident memory once built, its peak by
then (the build's transients), its resident memory after the last day, its peak by the end of
the run (the end's exchanges included) and its peak once the run directory is written
(``getrusage``). One line per run: the largest of the ranks for each figure, in MB, beside
``scsim plan``'s estimate of the largest rank's peak (``scsim.plan.estimate`` with ``n_ranks``;
with every rank keeping everyone, one process's) and the estimate over the measured peak.

    .venv/bin/python bench/rank_memory.py sc-core --n 2000000 --days 10 --ranks 1 2 4
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def worker(scenario: str, n: int, days: int, keep_own: bool) -> None:
    """One rank's share: build, run, report (rank 0 prints every rank's figures)."""
    import numba

    from scsim import results
    from scsim.engine import Sim
    from scsim.mpi import world
    from scsim.scenario import load_scenario

    numba.set_num_threads(1)
    comm = world()
    sim = Sim(load_scenario(scenario, {"population.n": n, "days": days}), keep_own=keep_own)
    sim.build()
    figures = {"built_mb": _resident_mb(), "build_peak_mb": _peak_mb()}

    def last(day: int) -> None:
        if day == days - 1:
            figures["last_day_mb"] = _resident_mb()

    sim.run(on_day=last)
    figures["run_peak_mb"] = _peak_mb()
    with tempfile.TemporaryDirectory() as tmp:
        sim.release_network()  # as scsim run does
        # every rank takes part (rank 0 alone in code before the people file was streamed,
        # run with PYTHONPATH=<its src> to compare)
        if comm.rank == 0 or hasattr(results, "_stream_people"):
            results.write_run(sim, Path(tmp) / "run", scenario, threads=1)
    figures["peak_mb"] = _peak_mb()
    figures["kept"] = sim.people.kept is not None
    figures["exchange"] = sim.ranks.exchange
    every = comm.gather(figures)
    if comm.rank == 0:
        print(json.dumps(every))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--ways", nargs="+", choices=["whole", "keep"], default=["whole", "keep"])
    parser.add_argument("--worker", choices=["keep", "whole"], help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.worker:
        worker(a.scenario, a.n, a.days, a.worker == "keep")
        return
    from scsim.plan import estimate
    from scsim.scenario import load_scenario

    mpiexec = Path(sys.executable).parent / "mpiexec"
    scenario = load_scenario(a.scenario, {"population.n": a.n, "days": a.days})
    print(f"{a.scenario}, {a.n:,} citizens, {a.days} days; MB, the largest rank's")
    heads = ("ranks", "each rank keeps", "built", "build peak", "last day", "run peak", "peak")
    print(f"{heads[0]:>5} {heads[1]:>16} {heads[2]:>8} {heads[3]:>10} {heads[4]:>9} {heads[5]:>9}"
          f" {heads[6]:>8}  rank 0's peak   plan  plan/peak")  # fmt: skip
    for ranks in a.ranks:
        for way in a.ways:
            if ranks == 1 and way == "keep":
                continue
            cmd = [str(mpiexec), "-n", str(ranks), sys.executable, __file__, a.scenario,
                   "--n", str(a.n), "--days", str(a.days), "--worker", way]  # fmt: skip
            res = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
            rows = json.loads(res.stdout.strip().splitlines()[-1])
            kept = "its own" if rows[0]["kept"] else "everyone"
            plan = estimate(scenario, n_ranks=ranks if rows[0]["kept"] else 1).peak / 1e6
            peak = max(r["peak_mb"] for r in rows)
            print(
                f"{ranks:>5} {kept:>16} {max(r['built_mb'] for r in rows):>8.0f} "
                f"{max(r['build_peak_mb'] for r in rows):>10.0f} "
                f"{max(r['last_day_mb'] for r in rows):>9.0f} "
                f"{max(r['run_peak_mb'] for r in rows):>9.0f} "
                f"{peak:>8.0f}  {rows[0]['peak_mb']:>13.0f} {plan:>6.0f} {plan / peak:>10.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
