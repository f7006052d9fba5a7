"""What each part of an MPI rank's memory holds beyond the rank's own citizens.

Launches ``mpiexec -n R`` of this file as a worker: every rank builds the scenario keeping only
its own citizens where it can (``Sim.keep_own``, as ``scsim run`` does), runs its days, and
counts, for every array of each part (``scsim.footprint.arrays_by_part``: the scores, the network,
each module's fields), the pages the rank has written (``/proc/self/pagemap``: present and
mapped by this process alone; a page only read is the shared zero page and holds nothing). Rank
0 prints, for each part, the largest rank's written MB and its own share (its citizens' entries
of each per-citizen array, and the whole of arrays already its own, such as its network rows'
ties), and rank 0's arrays (over 64 kB) written beyond 1.3 times their share, each with its
ratio (about R: the whole of a per-citizen array; transparent huge pages round a share up to 2
MB, unless ``--small-pages``). ``--json`` prints every rank's figures (``tests/test_mpi_run.py``
reads them, with the arrays ``scsim.ranks.whole_arrays`` names, which the memory plan counts
whole on every rank). A part far above its share holds more than its own citizens': the whole
population's published scores, say, or fields built for everyone.

    .venv/bin/python bench/rank_pages.py china-2020 --n 4000000 --days 5 --ranks 2
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
MMAP_THRESHOLD = 1 << 17
"""glibc's malloc serves arrays up to 32 MB from its heap once larger ones have been freed, and
zeroes them there (every page written); the workers map every array over 128 kB of their own,
as glibc does for the large arrays of a large population, so a small one shows what a large
one writes."""
PRESENT, EXCLUSIVE = np.uint64(1 << 63), np.uint64(1 << 56)
PR_SET_THP_DISABLE = 41
"""prctl option: no transparent huge pages for this process (``--small-pages``)."""


def written_bytes(a: np.ndarray, pagemap) -> int:
    """Bytes of the pages under ``a``'s buffer that this process has written."""
    if a.nbytes == 0:
        return 0
    first = a.ctypes.data // PAGE
    last = (a.ctypes.data + a.nbytes - 1) // PAGE
    pagemap.seek(first * 8)
    entries = np.frombuffer(pagemap.read((last - first + 1) * 8), dtype=np.uint64)
    mine = (entries & PRESENT != 0) & (entries & EXCLUSIVE != 0)
    return int(mine.sum()) * PAGE


def worker(scenario: str, n: int, days: int, small_pages: bool, form: str = "auto") -> None:
    """One rank: build (the network held in ``form``), run, count its written pages by part
    (rank 0 prints every rank's)."""
    if small_pages:  # no transparent huge pages: a share is not rounded up to 2 MB
        ctypes.CDLL(None).prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)
    import numba

    from scsim.engine import Sim
    from scsim.mpi import world
    from scsim.footprint import arrays_by_part, root_of
    from scsim.ranks import whole_arrays
    from scsim.scenario import load_scenario

    numba.set_num_threads(1)
    comm = world()
    over = {"population.n": n, "days": days}
    sim = Sim(load_scenario(scenario, over), keep_own=True, network_form=form)
    sim.build()
    sim.run()
    parts = {  # the per-citizen parts, not the records' or the audit sample's
        part: arrays
        for part, arrays in arrays_by_part(sim).items()
        if part not in ("records", "wave", "audit")
    }
    own = (sim.ranks.hi - sim.ranks.lo) / sim.n

    def share(a: np.ndarray) -> float:
        """The rank's share of an array: its own citizens' entries of a per-citizen array;
        the whole of any other (a network's ties, already the rank's own rows)."""
        return own * a.nbytes if {sim.n, sim.n + 1} & set(a.shape) else a.nbytes

    with open("/proc/self/pagemap", "rb") as pagemap:
        figures = {
            part: {
                "written": sum(written_bytes(a, pagemap) for a in arrays.values()),
                "share": sum(share(a) for a in arrays.values()),
                "beyond": {  # arrays written well beyond the rank's share of them
                    name: round(written_bytes(a, pagemap) / share(a), 2)
                    for name, a in arrays.items()
                    if a.nbytes > 1 << 16 and written_bytes(a, pagemap) > 1.3 * share(a)
                },
            }
            for part, arrays in parts.items()
        }
    whole = {id(root_of(a)) for a in whole_arrays(sim)}
    declared = [  # the arrays the plan counts whole on every rank, as "beyond" would show them
        [part, name]
        for part, arrays in parts.items()
        for name, a in arrays.items()
        if id(a) in whole and a.nbytes > 1 << 16
    ]
    every = comm.gather(
        {"kept": sim.people.kept is not None, "parts": figures, "declared_whole": declared}
    )
    if comm.rank == 0:
        print(json.dumps(every))


def warm_caches(command: list[str], n: int, env: dict[str, str]) -> None:
    """Run the ranks first at up to 50 000 citizens for two days, their network in the form the
    real run's will hold, so that they compile (or load) every numba function a rank calls: the
    fused kernel, and those only ranks call (a rank's own ties, the halo's gathers). A rank that
    compiles while it builds leaves free chunks in glibc's heap, which later arrays reuse and
    calloc zeroes: on a fresh clone courts' and perks' fields read as written whole. (Warming in
    one process was not enough: the ranks still compiled their own functions.)"""
    from scsim.engine import RING_FROM

    form = "ring" if n >= RING_FROM else "csr"
    small = [*command, "--n", str(min(n, 50_000)), "--days", "2", "--form", form]
    subprocess.run(small, capture_output=True, text=True, check=True, cwd=ROOT, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--n", type=int, default=4_000_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--small-pages", action="store_true",
                        help="no transparent huge pages (exact shares of small arrays)")
    parser.add_argument("--json", action="store_true", help="print every rank's figures")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--form", default="auto", help=argparse.SUPPRESS)
    a = parser.parse_args()
    if a.worker:
        worker(a.scenario, a.n, a.days, a.small_pages, a.form)
        return
    mpiexec = Path(sys.executable).parent / "mpiexec"
    ranks = [str(mpiexec), "-n", str(a.ranks), sys.executable, __file__, a.scenario, "--worker"]
    ranks += ["--small-pages"] if a.small_pages else []
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD)}
    warm_caches(ranks, a.n, env)
    cmd = [*ranks, "--n", str(a.n), "--days", str(a.days)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT, env=env)
    ranks = json.loads(res.stdout.strip().splitlines()[-1])
    if a.json:
        print(json.dumps(ranks))
        return
    kept = "its own citizens" if ranks[0]["kept"] else "every citizen"
    print(f"{a.scenario}, {a.n:,} citizens, {a.days} days, {a.ranks} ranks, each keeping {kept}")
    print(f"{'part':>14} {'written MB':>11} {'own share MB':>13} {'ratio':>6}")
    total = [0.0, 0.0]
    for part in ranks[0]["parts"]:
        largest = max(ranks, key=lambda r: r["parts"][part]["written"])["parts"][part]
        written, share = largest["written"] / 1e6, largest["share"] / 1e6
        total[0] += written
        total[1] += share
        ratio = f"{written / share:6.2f}" if share > 0.1 else "      "
        beyond = ", ".join(f"{k} {v}" for k, v in ranks[0]["parts"][part]["beyond"].items())
        print(f"{part:>14} {written:>11.1f} {share:>13.1f} {ratio}  {beyond}")
    print(f"{'all':>14} {total[0]:>11.1f} {total[1]:>13.1f} {total[0] / total[1]:6.2f}")


if __name__ == "__main__":
    main()
