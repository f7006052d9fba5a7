"""A halo's gathers and scatters by citizen ids of any integer type (``scsim.ranks``): numpy's
fancy indexing would first copy uint32 ids to int64, the size of the saving."""

from numba import njit


@njit(cache=True, nogil=True)
def gather(row, ids, out):
    """``out[k] = row[ids[k]]``."""
    for k in range(ids.size):
        out[k] = row[ids[k]]


@njit(cache=True, nogil=True)
def scatter(row, ids, values):
    """``row[ids[k]] = values[k]``."""
    for k in range(ids.size):
        row[ids[k]] = values[k]
