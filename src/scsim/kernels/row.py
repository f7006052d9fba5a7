"""A citizen's neighbours over the graph's active slots (a mask exists only with shunning), in
a CSR graph or a network held by its ring (``scsim.network.ring``: ``Graph.kernel_arrays``)."""

import numpy as np
from numba import njit

from scsim.network.ring import ring_nth


@njit(inline="always", cache=True)
def nth_neighbour(i, k, indptr, indices, active, ring, ring_half):
    """The ``k``-th neighbour of ``i`` (0 <= k < active degree) over active slots, in ascending
    id order; every slot counts when ``active`` is a one-element stand-in (no mask). Over a ring
    (``ring.size > 1``) and with a mask, walks the row, only on the path of a pick (a contact, a
    look-up)."""
    if ring.size > 1:
        return np.uint32(ring_nth(np.int64(i), k, ring.size, ring_half, ring, indptr, indices))
    start = np.uint64(indptr[i])
    if active.size <= 1:
        return indices[start + np.uint64(k)]
    e = start
    left = np.int64(k)
    while active[e] == 0 or left > 0:
        if active[e] != 0:
            left -= 1
        e += np.uint64(1)
    return indices[e]
