"""The CSR graph every module reads, and the far-neighbour table that feeds prefetching."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from scsim.rng import agent_hash_k, u_hi

FAR_SLOTS = 4
"""Far neighbours kept per agent for prefetching; more are still read, just not prefetched."""

FAR_WINDOW = 1024
"""A neighbour whose id is within this many ids of the agent is near (already in cache)."""

HOUSEHOLD, FRIENDS, WORK = np.uint8(1), np.uint8(2), np.uint8(4)
"""Bits of an edge's layer code (``Graph.layer``): a tie can belong to several layers."""
LAYERS = {"household": HOUSEHOLD, "friends": FRIENDS, "work": WORK}


_NO_MASK = np.ones(1, dtype=np.uint8)
NO_RING = np.zeros(1, dtype=np.uint32)
"""What kernels get as the ring bits of a CSR graph (``scsim.network.ring``): never indexed."""


@dataclass(frozen=True)
class Graph:
    """An undirected graph in CSR form: neighbours of ``i`` are ``indices[indptr[i]:indptr[i+1]]``.

    ``indptr`` is uint32 while the edge count allows, else uint64; ``indices`` is uint32
    (unsigned indices keep numba from emitting negative-index wraparound in inner loops).
    ``far`` holds up to ``FAR_SLOTS`` neighbours per agent that lie outside ``FAR_WINDOW``,
    padded with the agent itself. ``layer`` (optional, uint8, parallel to ``indices``) holds
    each edge's layer bits (``HOUSEHOLD | FRIENDS | WORK``). ``active`` (optional, uint8 0/1,
    parallel to ``indices``) is the shunning mask: the day's gather skips slots that are 0
    (cut ties, and spare slots not yet filled).
    """

    indptr: np.ndarray
    indices: np.ndarray
    far: np.ndarray
    layer: np.ndarray | None = None
    active: np.ndarray | None = None

    @property
    def mask(self) -> np.ndarray:
        """``active``, or a one-element stand-in that kernels read as "every slot is a tie"."""
        return self.active if self.active is not None else _NO_MASK

    @property
    def n(self) -> int:
        return self.indptr.size - 1

    def ties_before(self, starts: np.ndarray) -> np.ndarray:
        """Row slots before each citizen of ``starts`` (ascending), as int64."""
        return np.asarray(self.indptr, dtype=np.int64)[starts]

    def kernel_arrays(self) -> tuple:
        """What the fused kernel and the hooks that walk rows read: ``(indptr, indices, far,
        active, ring, ring_half)``, the ring a stand-in (``scsim.network.ring``)."""
        return self.indptr, self.indices, self.far, self.mask, NO_RING, np.int64(0)

    @property
    def n_edges(self) -> int:
        """Undirected edges (each stored twice; those of the rows held, ``indptr_from_degree``)."""
        return int(self.indptr.max()) // 2

    def degree(self) -> np.ndarray:
        """Ties of each citizen (0 for rows not held, ``indptr_from_degree``)."""
        out = np.diff(self.indptr.astype(np.int64))
        return np.maximum(out, 0, out=out)

    def ghosts(self, lo: int, hi: int) -> np.ndarray:
        """The citizens outside ``[lo, hi)`` in the rows of those inside (every slot, active
        or not), ascending, as int64: whose published state the rows read (``scsim.ranks``)."""
        tied = np.zeros(self.n, dtype=np.bool_)
        _mark_outside(self.indices, int(self.indptr[lo]), int(self.indptr[hi]), lo, hi, tied)
        return np.flatnonzero(tied).astype(np.int64, copy=False)

    def neighbours(self, i: int) -> np.ndarray:
        """Neighbours of ``i`` over active slots (every slot when there is no mask)."""
        start, stop = int(self.indptr[i]), int(self.indptr[i + 1])
        row = self.indices[start:stop]
        return row if self.active is None else row[self.active[start:stop] != 0]

    def active_degree(self) -> np.ndarray:
        """Active ties per agent (``degree()`` when there is no mask)."""
        if self.active is None:
            return self.degree()
        ends = np.zeros(self.active.size + 1, dtype=np.int64)
        np.cumsum(self.active, out=ends[1:])
        ptr = self.indptr.astype(np.int64)
        return ends[ptr[1:]] - ends[ptr[:-1]]

    @property
    def max_degree(self) -> int:
        return int(_max_step(self.indptr)) if self.n else 0

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.far.nbytes + self.tie_bytes

    @property
    def tie_bytes(self) -> int:
        """Bytes of the arrays with an entry per tie slot (the rest has one per citizen)."""
        extra = sum(a.nbytes for a in (self.layer, self.active) if a is not None)
        return self.indices.nbytes + extra


@njit(cache=True)
def _mark_outside(indices, start, stop, lo, hi, out):
    """``out[j] = True`` for each ``j = indices[start:stop]`` outside ``[lo, hi)``."""
    for e in range(start, stop):
        j = indices[e]
        if j < lo or j >= hi:
            out[j] = True


@njit(cache=True)
def _max_step(indptr):
    """Largest ``indptr[i + 1] - indptr[i]`` (signed: the row at the end of a range held is
    negative, ``indptr_from_degree``), without a temporary array."""
    best = np.int64(0)
    for i in range(indptr.size - 1):
        best = max(best, np.int64(indptr[i + 1]) - np.int64(indptr[i]))
    return best


def indptr_from_degree(degree: np.ndarray, keep: tuple[int, int] | None = None) -> np.ndarray:
    """Row pointers from degrees, in the smallest unsigned dtype that holds the edge count;
    with ``keep`` = (lo, hi), of the rows ``lo..hi-1`` only (an MPI rank's own rows,
    ``People.keep``): the pointers before ``lo`` and after ``hi`` stay untouched zero pages, 4
    or 8 bytes of every other citizen the rank does not hold. Rows outside the range are then
    empty, but for the row at ``hi``, whose end falls back to 0: read as signed, its length is
    negative (``degree`` and ``max_degree`` count it as 0)."""
    lo, hi = keep if keep is not None else (0, degree.size)
    total = int(degree[lo:hi].sum(dtype=np.uint64))
    dtype = np.uint32 if total < 2**32 else np.uint64
    indptr = np.zeros(degree.size + 1, dtype=dtype)
    np.cumsum(degree[lo:hi], dtype=dtype, out=indptr[lo + 1 : hi + 1])
    return indptr


@njit(parallel=True, cache=True)
def _fill_far(indptr, indices, far, lo, hi):
    for i in prange(lo, hi):
        slot = 0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if abs(np.int64(j) - i) > FAR_WINDOW and slot < FAR_SLOTS:
                far[i, slot] = j
                slot += 1
        for s in range(slot, FAR_SLOTS):
            far[i, s] = i


def far_neighbours(
    indptr: np.ndarray, indices: np.ndarray, keep: tuple[int, int] | None = None
) -> np.ndarray:
    """The (n, FAR_SLOTS) uint32 table of far neighbours used to prefetch their state (with
    ``keep`` = (lo, hi), of those rows only; the others 0, never touched)."""
    n = indptr.size - 1
    if keep is None:
        far = np.empty((n, FAR_SLOTS), dtype=np.uint32)
        _fill_far(indptr, indices, far, 0, n)
    else:
        far = np.zeros((n, FAR_SLOTS), dtype=np.uint32)
        _fill_far(indptr, indices, far, *keep)
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


@njit(inline="always", cache=True)
def mask_of(rkey, u, half, p):
    """Bit ``j - 1`` set when u's owned tie ``j`` (1..half) is rewired, drawn from the stream
    key ``rkey`` keyed by (u, j)."""
    m = np.int64(0)
    for j in range(1, half + 1):
        if u_hi(agent_hash_k(rkey, u, j)) < p:
            m |= np.int64(1) << (j - 1)
    return m


@njit(parallel=True, cache=True)
def rewire_masks(rkey, n, half, p, mask):
    """``mask[u] = mask_of(rkey, u, half, p)`` for every u; ``mask`` may be any unsigned
    dtype."""
    for u in prange(n):
        mask[u] = mask_of(rkey, u, half, p)


@njit(inline="always", cache=True)
def is_rewired(mask, u, j):
    """Whether u's owned tie ``j`` (1..half) was rewired, per ``rewire_masks``."""
    return (np.int64(mask[u]) >> (j - 1)) & 1


@njit(cache=True)
def sources_by_target(n, out_ptr, out_dst):
    """Owners of rewired ties grouped by target (counting sort; owners ascending per target).

    ``out_dst[out_ptr[u]:out_ptr[u + 1]]`` are u's targets; returns ``(in_ptr, in_src)``."""
    in_ptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(out_dst.size):
        in_ptr[out_dst[e] + 1] += 1
    for v in range(n):
        in_ptr[v + 1] += in_ptr[v]
    fill = in_ptr[:-1].copy()
    in_src = np.empty(out_dst.size, dtype=np.uint32)
    for u in range(n):
        for e in range(out_ptr[u], out_ptr[u + 1]):
            t = out_dst[e]
            in_src[fill[t]] = u
            fill[t] += 1
    return in_ptr, in_src
