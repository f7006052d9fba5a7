"""How long the population module takes to draw its citizens (its ``init``), in a process whose
kernels are compiled already (run it once first to fill the caches):

    .venv/bin/python bench/population_time.py --n 10000000 --threads 2
    PYTHONPATH=/tmp/old/src .venv/bin/python bench/population_time.py --n 10000000 --threads 2

Prints the seconds of the module's ``init`` alone (households, roles, ages and sexes, work and
income, schooling, traits), not the rest of the build (the network, the other modules).
"""

from __future__ import annotations

import argparse
import time

import numba


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="china-2020")
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    numba.set_num_threads(args.threads)

    from scsim.engine import Sim
    from scsim.modules.population import Population
    from scsim.scenario import load_scenario

    took = []
    init = Population.init

    def timed(self) -> None:
        t = time.perf_counter()
        init(self)
        took.append(time.perf_counter() - t)

    Population.init = timed
    over = {"population.n": args.n, "days": 1, "output.audit_sample": 0}
    Sim(load_scenario(args.preset, over)).build()
    print(f"{args.preset} population of {args.n:,}, {args.threads} threads: {took[0]:.3f} s")


if __name__ == "__main__":
    main()
