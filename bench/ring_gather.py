"""The day's neighbour gather over a Watts-Strogatz graph in its two forms, side by side.

The fused kernel's ``agent_view`` sums every citizen's neighbours' published scores (two float32
accumulators, alternating by position in the row) and counts the sanctioned ones, reading the
CSR form (``Graph``: 100 bytes a citizen at k = 20) with the far-neighbour table's prefetching.
``RingGraph`` holds the same graph in 16 bytes a citizen. This times a pass of ``agent_view`` and
``prefetch_ahead`` over the CSR form against ``ring_view`` and ``ring_prefetch_ahead`` over the
ring form (``scsim.kernels.ring_view``: the same sums bit for bit, which the script checks),
alternating, each pass over every citizen on the threads asked for.

    .venv/bin/python bench/ring_gather.py --n 10000000 --rounds 5 --threads 2
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from numba import njit, prange

from scsim.kernels.agent import agent_view, prefetch_ahead
from scsim.kernels.ring_view import ring_prefetch_ahead, ring_view
from scsim.network import watts_strogatz, watts_strogatz_ring

BLOCK = 2048


@njit(parallel=True, cache=True)
def csr_pass(indptr, indices, far, packed, mean, sanctioned):
    n = packed.size
    stand_in = np.zeros(1, dtype=np.uint8)
    for b in prange(-(-n // BLOCK)):
        for agent in range(b * BLOCK, min((b + 1) * BLOCK, n)):
            i = np.uint64(agent)
            prefetch_ahead(i, indptr, indices, far, packed, stand_in, False)
            a = agent_view(
                i, 0, b, 0, False, indptr, indices, packed, stand_in, False, stand_in, False
            )
            mean[agent] = a.nb_mean
            sanctioned[agent] = a.nb_sanctioned


@njit(parallel=True, cache=True)
def ring_pass(half, ring, xptr, xind, packed, mean, sanctioned):
    n = packed.size
    stand_in = np.zeros(1, dtype=np.uint8)
    for b in prange(-(-n // BLOCK)):
        for agent in range(b * BLOCK, min((b + 1) * BLOCK, n)):
            i = np.uint64(agent)
            ring_prefetch_ahead(i, xptr, xind, ring, packed, stand_in, False)
            a = ring_view(i, 0, b, 0, False, xptr, xind, ring, half, packed, stand_in, False)
            mean[agent] = a.nb_mean
            sanctioned[agent] = a.nb_sanctioned


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--p", type=float, default=0.1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    numba.set_num_threads(args.threads)
    n = args.n
    csr = watts_strogatz(n, args.k, args.p, seed=1)
    ring = watts_strogatz_ring(n, args.k, args.p, seed=1)
    rng = np.random.default_rng(1)
    packed = rng.uniform(350, 950, n).astype(np.float32)
    packed[rng.random(n) < 0.01] *= -1  # 1 % visibly sanctioned (the sign bit)
    outs = {name: (np.empty(n, np.float32), np.empty(n, np.int64)) for name in ("csr", "ring")}
    passes = {
        "csr": lambda m, s: csr_pass(csr.indptr, csr.indices, csr.far, packed, m, s),
        "ring": lambda m, s: ring_pass(ring.half, ring.ring, ring.xptr, ring.xind, packed, m, s),
    }
    for name, run in passes.items():  # compile (or load) and warm up
        run(*outs[name])
    same = all(np.array_equal(outs["csr"][k], outs["ring"][k]) for k in (0, 1))
    print(f"n = {n:,}, k = {args.k}, p = {args.p}, {args.threads} threads; "
          f"network bytes a citizen: CSR {csr.nbytes / n:.1f}, ring {ring.nbytes / n:.1f}; "
          f"same means and counts bit for bit: {same}")  # fmt: skip
    times: dict[str, list[float]] = {"csr": [], "ring": []}
    for _ in range(args.rounds):
        for name, run in passes.items():
            t = time.perf_counter()
            run(*outs[name])
            times[name].append(time.perf_counter() - t)
    for name, ts in times.items():
        ts = sorted(ts)
        mid = ts[len(ts) // 2]
        print(f"{name:5s} pass min {ts[0]:.3f} s, median {mid:.3f} s, max {ts[-1]:.3f} s "
              f"({n / mid / 1e6:.0f} M citizens/s at the median)")  # fmt: skip
    ratio = sorted(r / c for r, c in zip(times["ring"], times["csr"], strict=True))
    print(f"ring / csr, round by round: {', '.join(f'{x:.2f}' for x in ratio)}")


if __name__ == "__main__":
    main()
