"""How fragmented a graph is: its connected components and clustering, over active ties.

Both are serial numba kernels (deterministic): components by breadth-first search in id order,
the local clustering coefficient of sampled agents by scanning rows (rows may be unsorted once
shunning has filled spare slots). With ``active`` of size 1 (no mask) every slot is a tie.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(inline="always", cache=True)
def _on(active, e):
    return active.size == 1 or active[e] != 0


@njit(cache=True)
def components(indptr, indices, active):
    """(number of connected components, size of the largest) over active ties."""
    n = indptr.size - 1
    seen = np.zeros(n, dtype=np.bool_)
    queue = np.empty(n, dtype=np.uint32)
    count = 0
    largest = 0
    for s in range(n):
        if seen[s]:
            continue
        count += 1
        seen[s] = True
        queue[0] = s
        head, tail = 0, 1
        while head < tail:
            v = np.int64(queue[head])
            head += 1
            for e in range(np.int64(indptr[v]), np.int64(indptr[v + 1])):
                w = indices[e]
                if _on(active, e) and not seen[w]:
                    seen[w] = True
                    queue[tail] = w
                    tail += 1
        largest = max(largest, tail)
    return count, largest


@njit(cache=True)
def local_clustering(indptr, indices, active, v):
    """Ties among ``v``'s neighbours over the possible ``d (d - 1) / 2`` (0 when d < 2)."""
    start, stop = np.int64(indptr[v]), np.int64(indptr[v + 1])
    d = 0
    links = 0
    for e in range(start, stop):
        if not _on(active, e):
            continue
        d += 1
        a = np.int64(indices[e])
        for f in range(e + 1, stop):
            if not _on(active, f):
                continue
            b = indices[f]
            for x in range(np.int64(indptr[a]), np.int64(indptr[a + 1])):
                if indices[x] == b and _on(active, x):
                    links += 1
                    break
    return 2.0 * links / (d * (d - 1)) if d >= 2 else 0.0


@njit(cache=True)
def mean_clustering(indptr, indices, active, stride):
    """Mean local clustering of agents ``0, stride, 2 * stride, ...`` (agents with fewer than
    two ties count as 0, as in networkx's ``average_clustering``)."""
    n = indptr.size - 1
    total = 0.0
    count = 0
    for v in range(0, n, stride):
        total += local_clustering(indptr, indices, active, v)
        count += 1
    return total / count if count else 0.0
