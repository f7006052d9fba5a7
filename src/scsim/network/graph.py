"""The CSR graph every module reads, and the far-neighbour table that feeds prefetching."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

FAR_SLOTS = 4
"""Far neighbours kept per agent for prefetching; more are still read, just not prefetched."""

FAR_WINDOW = 1024
"""A neighbour whose id is within this many ids of the agent is near (already in cache)."""


@dataclass(frozen=True)
class Graph:
    """An undirected graph in CSR form: neighbours of ``i`` are ``indices[indptr[i]:indptr[i+1]]``.

    ``indptr`` is uint32 while the edge count allows, else uint64; ``indices`` is uint32
    (unsigned indices keep numba from emitting negative-index wraparound in inner loops).
    ``far`` holds up to ``FAR_SLOTS`` neighbours per agent that lie outside ``FAR_WINDOW``,
    padded with the agent itself.
    """

    indptr: np.ndarray
    indices: np.ndarray
    far: np.ndarray

    @property
    def n(self) -> int:
        return self.indptr.size - 1

    @property
    def n_edges(self) -> int:
        """Undirected edges (each stored twice)."""
        return int(self.indptr[-1]) // 2

    def degree(self) -> np.ndarray:
        return np.diff(self.indptr.astype(np.int64))

    def neighbours(self, i: int) -> np.ndarray:
        return self.indices[int(self.indptr[i]) : int(self.indptr[i + 1])]

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.indices.nbytes + self.far.nbytes


def indptr_from_degree(degree: np.ndarray) -> np.ndarray:
    """Row pointers from degrees, in the smallest unsigned dtype that holds the edge count."""
    total = int(degree.sum(dtype=np.uint64))
    dtype = np.uint32 if total < 2**32 else np.uint64
    indptr = np.empty(degree.size + 1, dtype=dtype)
    indptr[0] = 0
    np.cumsum(degree, dtype=dtype, out=indptr[1:])
    return indptr


@njit(parallel=True, cache=True)
def _fill_far(indptr, indices, far):
    n = indptr.size - 1
    for i in prange(n):
        slot = 0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if abs(np.int64(j) - i) > FAR_WINDOW and slot < FAR_SLOTS:
                far[i, slot] = j
                slot += 1
        for s in range(slot, FAR_SLOTS):
            far[i, s] = i


def far_neighbours(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The (n, FAR_SLOTS) uint32 table of far neighbours used to prefetch their state."""
    far = np.empty((indptr.size - 1, FAR_SLOTS), dtype=np.uint32)
    _fill_far(indptr, indices, far)
    return far


@njit(inline="always", cache=True)
def sort_row(indices, start, stop):
    """Insertion sort of one short CSR row in place."""
    for a in range(start + 1, stop):
        v = indices[a]
        b = a - 1
        while b >= start and indices[b] > v:
            indices[b + 1] = indices[b]
            b -= 1
        indices[b + 1] = v
