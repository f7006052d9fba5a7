"""A halo's gather and scatter of one per-citizen row, as ``scsim.ranks`` did them (numpy's
fancy indexing by int64 ids) and as it does them (numba loops over uint32 ids, half the memory).

    .venv/bin/python bench/halo_ids.py --n 4000000 --takes 1300000

The ids are those of citizens of the other half of the population (a rank of two), sorted, as
a halo's are. Prints milliseconds per gather and scatter, three rounds, both ways alternating.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from scsim.kernels.halo import gather, scatter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4_000_000)
    parser.add_argument("--takes", type=int, default=1_300_000)
    parser.add_argument("--repeat", type=int, default=20)
    a = parser.parse_args()
    rng = np.random.default_rng(1)
    row = rng.random(a.n).astype(np.float32)
    wide = np.sort(rng.choice(np.arange(a.n // 2, a.n), a.takes, replace=False))
    narrow = wide.astype(np.uint32)
    sent = np.empty(narrow.size, np.float32)
    gather(row, narrow, sent)  # compile or load before timing
    scatter(row, narrow, sent)
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(a.repeat):
            sent = np.ascontiguousarray(row[wide])
            row[wide] = sent
        numpy_ms = (time.perf_counter() - t) / a.repeat * 1e3
        t = time.perf_counter()
        for _ in range(a.repeat):
            sent = np.empty(narrow.size, np.float32)
            gather(row, narrow, sent)
            scatter(row, narrow, sent)
        numba_ms = (time.perf_counter() - t) / a.repeat * 1e3
        print(f"numpy, int64 ids: {numpy_ms:.2f} ms   numba, uint32 ids: {numba_ms:.2f} ms")


if __name__ == "__main__":
    main()
