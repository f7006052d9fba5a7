"""The day's neighbour gather over a Watts-Strogatz graph in its two forms, side by side.

The fused kernel's ``agent_view`` sums every citizen's neighbours' published scores (two float32
accumulators, alternating by position in the row) and counts the sanctioned ones, reading the
CSR form (``Graph``: 100 bytes a citizen at k = 20) with the far-neighbour table's prefetching.
``RingGraph`` holds the same graph in 16 bytes a citizen. This times a pass of the real
``agent_view`` and ``prefetch_ahead`` over the CSR form against a prototype of the same view over
the ring form (``_ring_view``: the ring's bits and the ties off the ring merged in the CSR's
order, so the sums are the same bit for bit, which the script checks), alternating, each pass
over every citizen on the threads asked for.

    .venv/bin/python bench/ring_gather.py --n 10000000 --rounds 5 --threads 2
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange
from numba.core import cgutils, types
from numba.extending import intrinsic

from scsim.kernels.agent import (
    PREFETCH_FAR, PREFETCH_META, PREFETCH_ROW, agent_view, prefetch_ahead,
)  # fmt: skip
from scsim.kernels.prefetch import prefetch
from scsim.network import watts_strogatz, watts_strogatz_ring
from scsim.network.ring import _rotation, offset

BLOCK = 2048


@intrinsic
def cttz(typingctx, x):
    """Trailing zero bits of a nonzero int64 (``llvm.cttz``)."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        value = context.cast(builder, args[0], signature.args[0], types.int64)
        fnty = ir.FunctionType(i64, [i64, ir.IntType(1)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.cttz.i64")
        return builder.call(fn, [value, ir.Constant(ir.IntType(1), 1)])

    return types.int64(x), codegen


@intrinsic
def ctpop(typingctx, x):
    """Set bits of an int64 (``llvm.ctpop``)."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        value = context.cast(builder, args[0], signature.args[0], types.int64)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i64, [i64]), "llvm.ctpop.i64"
        )
        return builder.call(fn, [value])

    return types.int64(x), codegen


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


@njit(inline="always", cache=True)
def _one(x, acc, other, n_acc, n_other):
    """Add a neighbour's published score to the accumulator of the next position (``acc``),
    then swap, so that ``acc`` is again the next position's: no branch on the parity."""
    return other, acc + abs(x), n_other, n_acc + np.uint64(np.signbit(x))


@njit(inline="always", cache=True)
def _ring_view(v, n, half, ring, xptr, xind, packed):
    """``agent_view``'s mean and sanctioned count over the ring form, in the CSR row's order:
    ``acc`` sums the positions of the next one's parity, ``other`` the rest (``flip``: whether
    ``acc`` holds the odd positions)."""
    acc = np.float32(0.0)
    other = np.float32(0.0)
    n_acc = np.uint64(0)
    n_other = np.uint64(0)
    flip = False
    bits = np.int64(ring[v])
    e, stop = np.int64(xptr[v]), np.int64(xptr[v + 1])
    r = _rotation(v, n, half)
    width = 2 * half
    if r == 0:  # ids v - h .. v + h ascending: ties off the ring below, the ring, the rest
        while e < stop and np.int64(xind[e]) < v:
            acc, other, n_acc, n_other = _one(packed[xind[e]], acc, other, n_acc, n_other)
            flip = not flip
            e += 1
        # the ring's set bits, two at a time (cttz): bit q of m is the id v - h + q
        m = (bits & ((np.int64(1) << half) - 1)) | ((bits >> half) << (half + 1))
        base = np.uint64(v - half)
        while m & (m - 1):
            q0 = cttz(m)
            m &= m - 1
            q1 = cttz(m)
            m &= m - 1
            x = packed[base + np.uint64(q0)]
            y = packed[base + np.uint64(q1)]
            acc += abs(x)
            other += abs(y)
            n_acc += np.uint64(np.signbit(x))
            n_other += np.uint64(np.signbit(y))
        if m:
            x = packed[base + np.uint64(cttz(m))]
            acc, other, n_acc, n_other = _one(x, acc, other, n_acc, n_other)
            flip = not flip
    else:  # a wrap row: the general merge
        for step in range(width):
            b = (r + step) % width
            if (bits >> b) & 1:
                j = (np.int64(v) + offset(b, half)) % n
                while e < stop and np.int64(xind[e]) < j:
                    acc, other, n_acc, n_other = _one(packed[xind[e]], acc, other, n_acc, n_other)
                    flip = not flip
                    e += 1
                acc, other, n_acc, n_other = _one(packed[j], acc, other, n_acc, n_other)
                flip = not flip
    while e < stop:
        acc, other, n_acc, n_other = _one(packed[xind[e]], acc, other, n_acc, n_other)
        flip = not flip
        e += 1
    even, odd = (other, acc) if flip else (acc, other)
    degree = np.int64(xptr[v + 1] - xptr[v]) + ctpop(bits)
    total = even + odd
    mean = total / np.float32(degree) if degree > 0 else abs(packed[v])
    return mean, np.int64(n_acc + n_other)


@njit(inline="always", cache=True)
def _ring_prefetch(v, n, ring, xptr, xind, packed):
    """What the ring form's agents ahead of ``v`` read: ties off the ring's scores (the far
    gathers), their lists, and the row starts and ring bits."""
    j = v + np.uint64(PREFETCH_FAR)
    if j < n:  # two unconditionally (the mean at p = 0.1), any further ones in a loop
        e = np.uint64(xptr[j])
        stop = np.uint64(xptr[j + np.uint64(1)])
        last = np.uint64(xind.size - 1)
        prefetch(packed, xind[min(e, last)])
        prefetch(packed, xind[min(e + np.uint64(1), last)])
        e += np.uint64(2)
        while e < stop:
            prefetch(packed, xind[e])
            e += np.uint64(1)
    j = v + np.uint64(PREFETCH_ROW)
    if j < n:
        prefetch(xind, np.uint64(xptr[j]))
    j = v + np.uint64(PREFETCH_META)
    if j < n:
        prefetch(xptr, j)
        prefetch(ring, j)


@njit(parallel=True, cache=True)
def ring_pass(half, ring, xptr, xind, packed, mean, sanctioned):
    n = packed.size
    for b in prange(-(-n // BLOCK)):
        for agent in range(b * BLOCK, min((b + 1) * BLOCK, n)):
            _ring_prefetch(np.uint64(agent), np.uint64(n), ring, xptr, xind, packed)
            m, s = _ring_view(agent, n, half, ring, xptr, xind, packed)
            mean[agent] = m
            sanctioned[agent] = s


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
