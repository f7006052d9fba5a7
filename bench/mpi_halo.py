"""What splitting a population over MPI ranks cuts: for each network and number of ranks, the
share of friendship ties whose two ends live on different ranks, and the bytes a day a halo
exchange would move (each rank receiving the published score and flags, 5 bytes, of every
citizen outside its range that one of its citizens reads), beside the bytes the all-gather of
today's first slice moves (every rank receiving every other rank's citizens).

    .venv/bin/python bench/mpi_halo.py --n 1000000 --ranks 2 3 4 8 16 64

The ranks' ranges are the ones ``scsim run`` under ``mpiexec`` uses (``scsim.ranks.Ranks``:
whole blocks, balanced by citizens plus ties). Builds each network without compiling a kernel.
Prints one JSON line per network and rank count.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from scsim.engine import Sim
from scsim.mpi import SerialComm
from scsim.ranks import Ranks
from scsim.scenario import load_scenario

NETWORKS = {"watts-strogatz": "sc-core", "regional": "beijing-2020"}
"""Each network kind, and a preset that uses it."""
PUBLIC_BYTES = 5
"""A citizen's published state: score (float32, sign bit: visibly sanctioned) and flags."""


class Size(SerialComm):
    """A stand-in for ``size`` ranks, seen from ``rank``."""

    def __init__(self, size: int, rank: int = 0) -> None:
        self.size, self.rank = size, rank


def split(indptr: np.ndarray, indices: np.ndarray, n: int, ranks: int) -> dict[str, float]:
    starts = Ranks(Size(ranks), indptr, n).starts
    cut = ghosts = 0
    for lo, hi in zip(starts[:-1], starts[1:], strict=True):
        friends = indices[indptr[lo] : indptr[hi]]
        outside = friends[(friends < lo) | (friends >= hi)]
        cut += outside.size
        ghosts += np.unique(outside).size
    return {
        "ranks": ranks,
        "cut_tie_share": round(cut / indices.size, 5),
        "ghosts_per_rank": round(ghosts / ranks),
        "halo_mb_per_day": round(ghosts * PUBLIC_BYTES / 1e6, 3),
        "allgather_mb_per_day": round((ranks - 1) * n * PUBLIC_BYTES / 1e6, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--ranks", type=int, nargs="+", default=[2, 3, 4, 8, 16, 64])
    args = ap.parse_args()
    for kind, preset in NETWORKS.items():
        sim = Sim(load_scenario(preset, {"population.n": args.n, "days": 1}))
        sim.build(compile_kernel=False)
        g = sim.graph
        for ranks in args.ranks:
            row = split(g.indptr.astype(np.int64), g.indices, args.n, ranks)
            print(json.dumps({"network": kind, "preset": preset, "n": args.n, **row}), flush=True)


if __name__ == "__main__":
    main()
