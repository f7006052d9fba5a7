"""Watts-Strogatz small-world graphs built straight into CSR by parallel numba kernels.

Agent ``u`` owns the ring edges ``(u, u+j)`` for ``j = 1..k/2``; each is rewired with
probability ``p`` to a uniform target at ring distance > k/2 (so never a self-loop and never a
ring neighbour). Draws come from the counter-based streams ``network.rewire`` and
``network.target`` keyed by (owner, j), so the graph is a pure function of (seed, n, k, p),
whatever the thread count. Duplicate rewired edges collapse to one tie.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from scsim.network.graph import (
    Graph,
    far_neighbours,
    indptr_from_degree,
    is_rewired,
    mask_of,
    rewire_masks,
    sort_row,
    sources_by_target,
)
from scsim.network.ring import RingGraph
from scsim.rng import agent_hash_k, below, stream_day_key

_MAX_ATTEMPTS = 64
_CHUNKS = 1024
"""Ranges of owners drawn in parallel when a rank finds the rewired ties into its rows."""


@njit(inline="always", cache=True)
def _ring_distance(a, b, n):
    d = abs(np.int64(a) - np.int64(b))
    return min(d, n - d)


@njit(cache=True)
def _target(tkey, u, j, n, half):
    for attempt in range(_MAX_ATTEMPTS):
        t = below(agent_hash_k(tkey, u, j * _MAX_ATTEMPTS + attempt), n)
        if _ring_distance(u, t, n) > half:
            return t
    return (u + half + 1) % n  # unreachable in practice: each attempt fails w.p. ~k/n


@njit(parallel=True, cache=True)
def _rewired_targets(tkey, lo, hi, n, half, mask, out_ptr, out_dst):
    for u in prange(lo, hi):
        pos = out_ptr[u]
        for j in range(1, half + 1):
            if is_rewired(mask, u, j):
                out_dst[pos] = _target(tkey, u, j, n, half)
                pos += 1


@njit(inline="always", cache=True)
def _owns(out_dst, start, stop, x):
    for e in range(start, stop):
        if out_dst[e] == x:
            return True
    return False


@njit(cache=True)
def _row(v, n, half, mask, out_ptr, out_dst, in_ptr, in_src, indices, pos):
    """Write row ``v`` at ``pos`` (or only count it when ``indices`` is empty); return its end."""
    write = indices.size > 0
    for j in range(1, half + 1):  # ring edges owned by v - j
        u = (v - j) % n
        if not is_rewired(mask, u, j):
            if write:
                indices[pos] = u
            pos += 1
    for j in range(1, half + 1):  # v's own edges, ring or rewired
        if not is_rewired(mask, v, j):
            if write:
                indices[pos] = (v + j) % n
            pos += 1
    return _others(v, out_ptr, out_dst, in_ptr, in_src, indices, pos)


@njit(cache=True)
def _others(v, out_ptr, out_dst, in_ptr, in_src, indices, pos):
    """Write ``v``'s ties off the ring at ``pos`` (or only count them when ``indices`` is
    empty): its rewired ties' targets, once each, then the owners of rewired ties to ``v`` that
    are not among them; return the end."""
    write = indices.size > 0
    o0, o1 = out_ptr[v], out_ptr[v + 1]
    for e in range(o0, o1):
        if not _owns(out_dst, o0, e, out_dst[e]):
            if write:
                indices[pos] = out_dst[e]
            pos += 1
    prev = np.int64(-1)
    for e in range(in_ptr[v], in_ptr[v + 1]):  # rewired edges pointing at v
        s = np.int64(in_src[e])
        if s != prev and not _owns(out_dst, o0, o1, s):
            if write:
                indices[pos] = s
            pos += 1
        prev = s
    return pos


@njit(parallel=True, cache=True)
def _degrees(lo, hi, n, half, mask, out_ptr, out_dst, in_ptr, in_src, degree):
    empty = np.empty(0, dtype=np.uint32)
    for v in prange(lo, hi):
        degree[v] = _row(v, n, half, mask, out_ptr, out_dst, in_ptr, in_src, empty, 0)


@njit(parallel=True, cache=True)
def _fill(lo, hi, n, half, mask, out_ptr, out_dst, in_ptr, in_src, indptr, indices):
    for v in prange(lo, hi):
        start = np.int64(indptr[v])
        stop = _row(v, n, half, mask, out_ptr, out_dst, in_ptr, in_src, indices, start)
        sort_row(indices, start, stop)


@njit(parallel=True, cache=True)
def _ring_bits(lo, hi, n, half, mask, ring):
    """Each citizen's ring ties that were not rewired away, as ``scsim.network.ring`` bits."""
    for v in prange(lo, hi):
        bits = np.int64(0)
        for b in range(half):  # offsets -half .. -1: ties owned by v - j
            j = half - b
            if not is_rewired(mask, (v - j) % n, j):
                bits |= np.int64(1) << b
        for j in range(1, half + 1):  # offsets 1 .. half: v's own ties
            if not is_rewired(mask, v, j):
                bits |= np.int64(1) << (half + j - 1)
        ring[v] = bits


@njit(parallel=True, cache=True)
def _count_others(lo, hi, out_ptr, out_dst, in_ptr, in_src, counts):
    empty = np.empty(0, dtype=np.uint32)
    for v in prange(lo, hi):
        counts[v] = _others(v, out_ptr, out_dst, in_ptr, in_src, empty, 0)


@njit(parallel=True, cache=True)
def _fill_others(lo, hi, out_ptr, out_dst, in_ptr, in_src, xptr, xind):
    for v in prange(lo, hi):
        start = np.int64(xptr[v])
        stop = _others(v, out_ptr, out_dst, in_ptr, in_src, xind, start)
        sort_row(xind, start, stop)


def _rewiring(n: int, k: int, p: float, seed: int, keep: tuple[int, int] | None = None) -> tuple:
    """The ring's rewired ties: ``(half, mask, out_ptr, out_dst, in_ptr, in_src)``; with
    ``keep``, as the rows ``lo..hi-1`` read them (``_own_rewiring``)."""
    if k % 2 or not 2 <= k <= 32:
        raise ValueError(f"network.k: {k} is not allowed; expected an even integer in [2, 32]")
    if n < k + 2:
        raise ValueError(f"population.n: {n} is too small for network.k={k}; expected n >= k + 2")
    if n >= 2**32:
        raise ValueError(f"population.n: {n} is not allowed; expected n < 2**32")
    half = k // 2
    rkey = stream_day_key(seed, "network.rewire", 0)
    tkey = stream_day_key(seed, "network.target", 0)
    if keep is not None:
        return _own_rewiring(n, half, p, rkey, tkey, *keep)
    mask = np.empty(n, dtype=np.uint16)
    rewire_masks(rkey, n, half, float(p), mask)
    counts = np.bitwise_count(mask)
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=out_ptr[1:])
    out_dst = np.empty(int(out_ptr[-1]), dtype=np.uint32)
    _rewired_targets(tkey, 0, n, n, half, mask, out_ptr, out_dst)
    in_ptr, in_src = sources_by_target(n, out_ptr, out_dst)
    return half, mask, out_ptr, out_dst, in_ptr, in_src


# A rank's own rows (``keep``) need the rewiring of its own citizens and of the ``half`` before
# them (the ring ties they own into the range), and the owners of every rewired tie into the
# range, which it finds by drawing every citizen's rewiring without keeping it: the arrays are
# the whole-graph ones indexed by national ID, written only there (the rest zero pages).


@njit(parallel=True, cache=True)
def _masks_from(rkey, first, count, n, half, p, mask):
    """``mask[u]`` for the ``count`` citizens from ``first`` on (ids modulo ``n``)."""
    for t in prange(count):
        u = (first + t) % n
        mask[u] = mask_of(rkey, u, half, p)


@njit(cache=True)
def _ties_into(rkey, tkey, first, stop, n, half, p, lo, hi, target, owner):
    """The rewired ties of owners ``first..stop-1`` whose target is in ``[lo, hi)``, by owner
    then tie: written to ``target``/``owner`` unless they are empty; return their count."""
    count = 0
    for u in range(first, stop):
        m = mask_of(rkey, u, half, p)
        for j in range(1, half + 1):
            if (m >> (j - 1)) & 1:
                t = _target(tkey, u, j, n, half)
                if lo <= t < hi:
                    if target.size:
                        target[count], owner[count] = t, u
                    count += 1
    return count


@njit(parallel=True, cache=True)
def _count_ties_into(rkey, tkey, bounds, n, half, p, lo, hi, counts):
    empty = np.empty(0, dtype=np.int64)
    for c in prange(bounds.size - 1):
        counts[c] = _ties_into(rkey, tkey, bounds[c], bounds[c + 1], n, half, p, lo, hi,
                               empty, empty)  # fmt: skip


@njit(parallel=True, cache=True)
def _write_ties_into(rkey, tkey, bounds, n, half, p, lo, hi, at, target, owner):
    for c in prange(bounds.size - 1):
        a, b = at[c], at[c + 1]
        _ties_into(rkey, tkey, bounds[c], bounds[c + 1], n, half, p, lo, hi,
                   target[a:b], owner[a:b])  # fmt: skip


@njit(cache=True)
def _by_target(target, owner, lo, hi, in_ptr, in_src):
    """``sources_by_target`` of the targets in ``[lo, hi)`` (owners ascending per target)."""
    for e in range(target.size):
        in_ptr[target[e] + 1] += 1
    for v in range(lo, hi):
        in_ptr[v + 1] += in_ptr[v]
    fill = in_ptr[lo:hi].copy()
    for e in range(target.size):
        t = target[e] - lo
        in_src[fill[t]] = owner[e]
        fill[t] += 1


def _own_rewiring(n: int, half: int, p: float, rkey, tkey, lo: int, hi: int) -> tuple:
    """``_rewiring``'s arrays as the rows ``lo..hi-1`` read them (the rest zero pages)."""
    mask = np.zeros(n, dtype=np.uint16)
    _masks_from(rkey, (lo - half) % n, min(hi - lo + half, n), n, half, float(p), mask)
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bitwise_count(mask[lo:hi]), out=out_ptr[lo + 1 : hi + 1])
    out_dst = np.empty(int(out_ptr[hi]), dtype=np.uint32)
    _rewired_targets(tkey, lo, hi, n, half, mask, out_ptr, out_dst)
    bounds = np.linspace(0, n, min(_CHUNKS, n) + 1).astype(np.int64)
    counts = np.zeros(bounds.size - 1, dtype=np.int64)
    _count_ties_into(rkey, tkey, bounds, n, half, float(p), lo, hi, counts)
    at = np.concatenate([[0], np.cumsum(counts)])
    target, owner = np.empty(int(at[-1]), dtype=np.int64), np.empty(int(at[-1]), dtype=np.int64)
    _write_ties_into(rkey, tkey, bounds, n, half, float(p), lo, hi, at, target, owner)
    in_ptr = np.zeros(n + 1, dtype=np.int64)
    in_src = np.empty(target.size, dtype=np.uint32)
    _by_target(target, owner, lo, hi, in_ptr, in_src)
    return half, mask, out_ptr, out_dst, in_ptr, in_src


def watts_strogatz(
    n: int, k: int, p: float, seed: int, keep: tuple[int, int] | None = None
) -> Graph:
    """A Watts-Strogatz graph on ``n`` agents, mean degree ``k`` (even), rewiring prob ``p``;
    with ``keep`` = (lo, hi), only the rows of the agents ``lo..hi-1`` (an MPI rank's own:
    the others empty; every agent's rewiring is drawn, for the ties into the range, not kept)."""
    lo, hi = keep if keep is not None else (0, n)
    half, mask, out_ptr, out_dst, in_ptr, in_src = _rewiring(n, k, p, seed, keep)
    degree = np.zeros(n, dtype=np.uint32)
    _degrees(lo, hi, n, half, mask, out_ptr, out_dst, in_ptr, in_src, degree)
    indptr = indptr_from_degree(degree, keep)
    del degree
    indices = np.empty(int(indptr[hi]), dtype=np.uint32)  # the pointers after hi are 0
    _fill(lo, hi, n, half, mask, out_ptr, out_dst, in_ptr, in_src, indptr, indices)
    del mask, out_ptr, out_dst, in_ptr, in_src
    return Graph(indptr=indptr, indices=indices, far=far_neighbours(indptr, indices, keep))


def watts_strogatz_ring(
    n: int, k: int, p: float, seed: int, keep: tuple[int, int] | None = None
) -> RingGraph:
    """``watts_strogatz``'s graph as ring bits and the ties off the ring (``RingGraph``);
    ``keep`` as there."""
    lo, hi = keep if keep is not None else (0, n)
    half, mask, out_ptr, out_dst, in_ptr, in_src = _rewiring(n, k, p, seed, keep)
    ring = np.zeros(n, dtype=np.uint32)
    _ring_bits(lo, hi, n, half, mask, ring)
    del mask
    counts = np.zeros(n, dtype=np.uint32)
    _count_others(lo, hi, out_ptr, out_dst, in_ptr, in_src, counts)
    xptr = indptr_from_degree(counts, keep)
    del counts
    xind = np.empty(int(xptr[hi]), dtype=np.uint32)  # the pointers after hi are 0
    _fill_others(lo, hi, out_ptr, out_dst, in_ptr, in_src, xptr, xind)
    return RingGraph(ring=ring, xptr=xptr, xind=xind, half=half)
