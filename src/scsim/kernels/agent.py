"""The engine's per-agent view: one gather over neighbours yields mean score and sanctions.

Neighbours read a packed float32 per agent: its magnitude is yesterday's score and its sign bit
says "visibly sanctioned today", so one gather gives both facts (scores are never negative).
When a module reads more public facts (a neighbour disclosed on a list, a neighbour with a
fresh record), the view also gathers the neighbours' ``public`` flag bytes and counts both
facts at once in the two 32-bit lanes of one counter (``COUNTS``).
"""

import numpy as np
from numba import njit

from scsim.kernels.prefetch import prefetch, prefetch_row
from scsim.network.graph import FAR_SLOTS
from scsim.protocol import LISTED, OFFENDED, SANCTIONED, Agent

# Every stream the gather reads is prefetched by software: at N = 10 M the hardware prefetchers
# of the 2-vCPU Zen 3 VM do not keep up with them (fused SC-core kernel, 2 threads, one change
# at a time: far neighbours only, 40 M agent-steps/s; + `indices` rows, 59 M; + `indptr` and
# `far` rows, 66 M). Each stage is prefetched ahead of the stage that reads it; distances of
# 12..32 / 24..64 / 64..128 measured alike.
PREFETCH_FAR = 16
"""Agents ahead whose far neighbours' scores are prefetched (each a DRAM miss of ~100 ns)."""

PREFETCH_ROW = 32
"""Agents ahead whose neighbour list (their ``indices`` row) is prefetched."""

PREFETCH_META = 64
"""Agents ahead whose ``indptr`` and ``far`` entries are prefetched (they feed the two above)."""

PREFETCH_STREAM = 64
"""Agents ahead whose entries of every per-agent array (the modules' fields, the engine's
region, score and flag buffers) are prefetched, once every 8 agents. With every module on, the
hooks read dozens of such arrays in step, more sequential streams than the hardware
prefetchers track: each of their cache lines was a miss."""

_LINE = np.uint64(16)  # uint32 entries of `indices` per 64-byte cache line
_LOW_LANE = np.uint64(0xFFFFFFFF)
_LANE = np.uint64(32)

COUNTS = np.array(
    [((f & LISTED) != 0) | (((f & OFFENDED) != 0) << 32) for f in range(256)], dtype=np.uint64
)
"""What one neighbour's public flag byte adds to the neighbour loop's counter: 1 in the low
32-bit lane when ``LISTED``, 1 in the high lane when ``OFFENDED``. One table load and add per
neighbour count both (shifting and masking the flags took 4-5 instructions per neighbour)."""


@njit(inline="always", cache=True)
def prefetch_ahead(i, indptr, indices, far, packed, public, with_public):
    """Prefetch what agents ahead of ``i`` (uint64) will read (``public`` flags too when the
    kernel gathers them). Bounds are compared as uint64: a signed length would make numba
    compare through float64."""
    n = np.uint64(far.shape[0])
    j = i + np.uint64(PREFETCH_FAR)
    if j < n:
        for s in range(FAR_SLOTS):
            prefetch(packed, far[j, s])
            if with_public:
                prefetch(public, far[j, s])
    j = i + np.uint64(PREFETCH_ROW)
    if j < n:
        e = np.uint64(indptr[j])
        stop = np.uint64(indptr[j + np.uint64(1)])
        # Two lines unconditionally (a row of degree <= 32; the next row's start covers its
        # tail), then any further lines of a longer row. Prefetches past the end never fault.
        prefetch(indices, e)
        prefetch(indices, e + _LINE)
        e += _LINE + _LINE
        while e < stop:
            prefetch(indices, e)
            e += _LINE
    j = i + np.uint64(PREFETCH_META)
    if j < n:
        prefetch(indptr, j)
        prefetch_row(far, j)


@njit(inline="always", cache=True)
def agent_view(
    i, day, block, region, audit, indptr, indices, packed, public, with_public, active, with_active
):
    """Agent ``i`` (uint64: unsigned indices spare numba's negative-index wraparound).

    ``with_public`` and ``with_active`` are constants of the generated kernel: when False the
    ``public`` flags (resp. the ``active`` edge mask) are neither gathered nor read, and LLVM
    drops that code from the neighbour loop. With the mask, a slot whose ``active`` byte is 0
    (a cut tie, an unused spare slot) adds nothing: its score is replaced by +0.0 (no sign bit),
    its flags by 0, and it is not counted in the degree.
    """
    even = np.float32(0.0)  # two accumulators: a miss stalls half the chain, not all of it
    odd = np.float32(0.0)
    one = np.uint64(1)
    start = np.uint64(indptr[i])
    stop = np.uint64(indptr[i + one])
    # Loop to a precomputed even bound with one uint64 counter per chain: numba's cached
    # object code then keeps the loop at 17 instructions per two neighbours (`e + 1 < stop`
    # with a shared int counter compiled to 20; 59 -> 63 M agent-steps/s at N = 10 M).
    pairs_end = stop - ((stop - start) & one)
    n_even = np.uint64(0)
    n_odd = np.uint64(0)
    counts = np.uint64(0)  # listed neighbours in the low lane, offended in the high (COUNTS)
    n_active = np.uint64(0)
    ma = np.uint8(1)  # the mask bytes of the current pair (typed here for both kernel kinds)
    mb = np.uint8(1)
    e = start
    while e < pairs_end:
        j = indices[e]
        k = indices[e + one]
        x = packed[j]
        y = packed[k]
        if with_active:
            ma = active[e]
            mb = active[e + one]
            x = x if ma else np.float32(0.0)
            y = y if mb else np.float32(0.0)
            n_active += np.uint64(ma) + np.uint64(mb)
        even += abs(x)
        odd += abs(y)
        n_even += np.uint64(np.signbit(x))
        n_odd += np.uint64(np.signbit(y))
        if with_public:
            if with_active:
                counts += COUNTS[public[j]] * np.uint64(ma) + COUNTS[public[k]] * np.uint64(mb)
            else:
                counts += COUNTS[public[j]] + COUNTS[public[k]]
        e += np.uint64(2)
    if e < stop:
        j = indices[e]
        x = packed[j]
        if with_active:
            ma = active[e]
            x = x if ma else np.float32(0.0)
            n_active += np.uint64(ma)
        even += abs(x)
        n_even += np.uint64(np.signbit(x))
        if with_public:
            counts += COUNTS[public[j]] * np.uint64(ma) if with_active else COUNTS[public[j]]
    total = even + odd
    own = packed[i]
    score = abs(own)
    degree = np.int64(n_active) if with_active else np.int64(stop - start)
    nb_mean = total / np.float32(degree) if degree > 0 else score
    flags = np.uint8(public[i]) if with_public else np.uint8(0)
    if np.signbit(own):
        flags |= SANCTIONED
    return Agent(
        i, day, block, region, audit, score, flags, nb_mean, np.int64(n_even + n_odd),
        np.int64(counts & _LOW_LANE), np.int64(counts >> _LANE), degree, np.float32(0.0),
    )  # fmt: skip


@njit(inline="always", cache=True)
def with_recorded(a, recorded):
    """The same agent, knowing today's score change from records of misconduct."""
    return Agent(
        a.i, a.day, a.block, a.region, a.audit, a.score, a.flags, a.nb_mean, a.nb_sanctioned,
        a.nb_listed, a.nb_offended, a.degree, recorded,
    )  # fmt: skip


@njit(inline="always", cache=True)
def score_bin(score, lo, inv_bin_width, bins):
    """Histogram bin of a score; the top edge falls in the last bin."""
    return min(np.int64((score - lo) * inv_bin_width), bins - 1)
