"""A citizen's neighbours over the graph's active slots (a mask exists only with shunning)."""

import numpy as np
from numba import njit


@njit(inline="always", cache=True)
def nth_neighbour(i, k, indptr, indices, active):
    """The ``k``-th neighbour of ``i`` (0 <= k < active degree) over active slots; every slot
    counts when ``active`` is a one-element stand-in (no mask). Walks the row only with a mask,
    and only on the path of a pick (a contact, a look-up)."""
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
