"""Watts-Strogatz graphs held by their ring: each citizen's ring ties as bits, the others listed.

A Watts-Strogatz citizen ``v`` is tied to its ring neighbours ``v - h .. v + h`` (``h = k / 2``)
but for the ties rewired away, and to the citizens its own rewired ties or others' reach (at ring
distance > h, ``scsim.network.watts_strogatz``): ~``k p`` of them. The CSR form (``Graph``)
lists every tie, 4 bytes each at both ends (80 bytes a citizen at k = 20) and a far-neighbour
table (16 bytes); ``RingGraph`` keeps one uint32 of ring bits a citizen and lists only the other
ties (``xptr``, ``xind``): 16 bytes a citizen at k = 20, p = 0.1, so 100 M citizens' network
is 1.6 GB, not 10 GB.

Bit ``b`` of ``ring[v]`` is the tie at ring offset ``offset(b, h)``: ``b - h`` for ``b < h``
(the ties ``v - h .. v - 1``), ``b - h + 1`` above (``v + 1 .. v + h``). A row of the CSR form
is sorted by id; ``ring_row`` gives the same order, merging the ring ids (ascending bit by bit,
from the bit where the ids wrap past ``n - 1`` to 0 in the first and last ``h`` rows) with the
listed ties (sorted), so a kernel reading either form sums a citizen's neighbours in the same
order, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from scsim.network.graph import (
    FAR_SLOTS, _NO_MASK, Graph, _mark_outside, far_neighbours, indptr_from_degree,
)  # fmt: skip

_NO_FAR = np.zeros((1, FAR_SLOTS), dtype=np.uint32)


@njit(inline="always", cache=True)
def offset(b, half):
    """Ring offset of bit ``b``: -half .. -1 for the low bits, 1 .. half for the high ones."""
    return b - half if b < half else b - half + 1


@njit(inline="always", cache=True)
def rotation(v, n, half):
    """The bit whose id is the row's smallest ring id (0 but in the first and last ``half``
    rows, whose ring wraps around the ids)."""
    if v < half:
        return half - v
    if v >= n - half:
        return half + n - v - 1
    return 0


@njit(inline="always", cache=True)
def ring_row(v, n, half, ring, xptr, xind, out):
    """Write citizen ``v``'s neighbours to ``out`` in ascending id order (as a CSR row) and
    return how many; ``out`` holds at least the row."""
    bits = np.int64(ring[v])
    r = rotation(v, n, half)
    width = 2 * half
    e, stop = np.int64(xptr[v]), np.int64(xptr[v + 1])
    size = 0
    for step in range(width):
        b = (r + step) % width
        if (bits >> b) & 1:
            j = (np.int64(v) + offset(b, half)) % n
            while e < stop and np.int64(xind[e]) < j:
                out[size] = xind[e]
                size += 1
                e += 1
            out[size] = j
            size += 1
    while e < stop:
        out[size] = xind[e]
        size += 1
        e += 1
    return size


@njit(cache=True)
def ring_nth(v, k, n, half, ring, xptr, xind):
    """Citizen ``v``'s ``k``-th neighbour (0 <= k < degree) in ascending id order, as
    ``ring_row`` would write it, without writing the row."""
    bits = np.int64(ring[v])
    r = rotation(v, n, half)
    width = 2 * half
    e, stop = np.int64(xptr[v]), np.int64(xptr[v + 1])
    k = np.int64(k)
    seen = np.int64(0)
    for step in range(width):
        b = (r + step) % width
        if (bits >> b) & 1:
            j = (np.int64(v) + offset(b, half)) % n
            while e < stop and np.int64(xind[e]) < j:
                if seen == k:
                    return np.int64(xind[e])
                seen += 1
                e += 1
            if seen == k:
                return j
            seen += 1
    return np.int64(xind[e + k - seen])


@njit(inline="always", cache=True)
def ring_degree(v, ring, xptr):
    """Citizen ``v``'s ties."""
    bits = np.uint64(ring[v])
    count = np.int64(0)
    while bits:
        bits &= bits - np.uint64(1)
        count += 1
    return count + np.int64(xptr[v + 1]) - np.int64(xptr[v])


@njit(parallel=True, cache=True)
def _degrees(ring, xptr, out):
    for v in prange(ring.size):
        out[v] = ring_degree(v, ring, xptr)


@njit(cache=True)
def _ties_before(ring, xptr, starts, out):
    total = np.int64(0)
    v = 0
    for s in range(starts.size):
        while v < starts[s]:
            total += ring_degree(v, ring, xptr)
            v += 1
        out[s] = total


@njit(cache=True)
def _max_degree(ring, xptr):
    best = np.int64(0)
    for v in range(ring.size):
        best = max(best, ring_degree(v, ring, xptr))
    return best


@njit(parallel=True, cache=True)
def _fill(n, half, ring, xptr, xind, indptr, indices):
    for v in prange(n):
        start = np.int64(indptr[v])
        ring_row(v, n, half, ring, xptr, xind, indices[start:])


@dataclass(frozen=True)
class RingGraph:
    """A Watts-Strogatz graph as ring bits and listed ties (module docstring); the ``Graph``
    API for what reads it whole (``csr``), with no tie mask."""

    ring: np.ndarray
    xptr: np.ndarray
    xind: np.ndarray
    half: int
    active: None = None
    layer: None = None

    @property
    def mask(self) -> np.ndarray:
        """A one-element stand-in: every tie is active."""
        return _NO_MASK

    @property
    def n(self) -> int:
        return self.ring.size

    def ties_before(self, starts: np.ndarray) -> np.ndarray:
        """Ties of the citizens before each of ``starts`` (ascending), as int64."""
        out = np.empty(starts.size, dtype=np.int64)
        _ties_before(self.ring, self.xptr, starts, out)
        return out

    def kernel_arrays(self) -> tuple:
        """``Graph.kernel_arrays``: the ties off the ring as ``indptr`` and ``indices``, no far
        table (``ring_prefetch_ahead`` reads the ties off the ring), no mask."""
        return self.xptr, self.xind, _NO_FAR, _NO_MASK, self.ring, np.int64(self.half)

    def degree(self) -> np.ndarray:
        """Ties of each citizen (0 for rows not held, ``indptr_from_degree``)."""
        out = np.empty(self.n, dtype=np.int64)
        _degrees(self.ring, self.xptr, out)
        return np.maximum(out, 0, out=out)

    active_degree = degree

    @property
    def n_edges(self) -> int:
        """Undirected edges."""
        return int(self.degree().sum()) // 2

    @property
    def max_degree(self) -> int:
        return int(_max_degree(self.ring, self.xptr))

    @property
    def nbytes(self) -> int:
        return self.ring.nbytes + self.xptr.nbytes + self.xind.nbytes

    @property
    def tie_bytes(self) -> int:
        """``Graph.tie_bytes``: the ties off the ring."""
        return self.xind.nbytes

    def ghosts(self, lo: int, hi: int) -> np.ndarray:
        """``Graph.ghosts``, or a few more: the ``half`` ids beyond each end of the range (the
        ring ties that reach out of it, rewired or not) and the far ends of the listed ties."""
        n, h = self.n, self.half
        tied = np.zeros(n, dtype=np.bool_)  # marked, not sorted: a sort of the listed ties as
        tied[np.r_[lo - h : lo, hi : hi + h] % n] = True  # int64 was the peak of a rank's build
        _mark_outside(self.xind, int(self.xptr[lo]), int(self.xptr[hi]), lo, hi, tied)
        tied[lo:hi] = False  # a window's ids that fall inside a small range
        return np.flatnonzero(tied).astype(np.int64, copy=False)

    def neighbours(self, i: int) -> np.ndarray:
        """Neighbours of ``i``, ascending."""
        out = np.empty(2 * self.half + int(self.xptr[i + 1] - self.xptr[i]), dtype=np.uint32)
        size = ring_row(i, self.n, self.half, self.ring, self.xptr, self.xind, out)
        return out[:size]

    def csr(self) -> Graph:
        """The same graph in CSR form, as ``watts_strogatz`` builds it."""
        indptr = indptr_from_degree(self.degree().astype(np.uint32))
        indices = np.empty(int(indptr[-1]), dtype=np.uint32)
        _fill(self.n, self.half, self.ring, self.xptr, self.xind, indptr, indices)
        return Graph(indptr=indptr, indices=indices, far=far_neighbours(indptr, indices))
