"""The engine's per-agent view: one gather over neighbours yields mean score and sanctions.

Neighbours read a packed float32 per agent: its magnitude is yesterday's score and its sign bit
says "visibly sanctioned today", so one gather gives both facts (scores are never negative).
"""

import numpy as np
from numba import njit

from scsim.kernels.prefetch import prefetch
from scsim.modules.base import Agent
from scsim.network.graph import FAR_SLOTS

PREFETCH_AHEAD = 32
"""Agents ahead whose far neighbours are prefetched (hides ~100 ns DRAM latency)."""


@njit(inline="always", cache=True)
def prefetch_far(far, packed, i):
    j = i + np.uint64(PREFETCH_AHEAD)
    if j < far.shape[0]:
        for s in range(FAR_SLOTS):
            prefetch(packed, far[j, s])


@njit(inline="always", cache=True)
def agent_view(i, day, indptr, indices, packed):
    """Agent ``i`` (uint64: unsigned indices spare numba's negative-index wraparound)."""
    even = np.float32(0.0)  # two accumulators: a miss stalls half the chain, not all of it
    odd = np.float32(0.0)
    sanctioned = 0
    one = np.uint64(1)
    start = np.uint64(indptr[i])
    stop = np.uint64(indptr[i + one])
    e = start
    while e + one < stop:
        x = packed[indices[e]]
        y = packed[indices[e + one]]
        even += abs(x)
        odd += abs(y)
        sanctioned += np.signbit(x) + np.signbit(y)
        e += np.uint64(2)
    if e < stop:
        x = packed[indices[e]]
        even += abs(x)
        sanctioned += np.signbit(x)
    total = even + odd
    own = packed[i]
    score = abs(own)
    degree = np.int64(stop - start)
    nb_mean = total / np.float32(degree) if degree > 0 else score
    return Agent(i, day, score, np.signbit(own), nb_mean, sanctioned, degree)


@njit(inline="always", cache=True)
def score_bin(score, lo, inv_bin_width, bins):
    """Histogram bin of a score; the top edge falls in the last bin."""
    return min(np.int64((score - lo) * inv_bin_width), bins - 1)
