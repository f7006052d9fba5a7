"""Per-block outputs of the fused kernel, brought together after the day in block order.

The fused kernel writes each block's records, histogram counts and audit events to that block's
own slice (``rec[b]``, ``hist[b]``, ``ev[b]``), so no two threads write the same memory. These
kernels combine them, each output adding the blocks in block order: the result is the same for
any thread count (and equal to numpy's ``sum(axis=0)``, which also adds row after row). Done in
numpy they were ~6 % of an all-modules day at 1 M citizens (bench/README.md). They run on one
thread: a ``prange`` here left numba's OpenMP workers spinning after each day's sums, on the
cores the next day's pass needs (sc-core at 100 000: 6.4 s instead of 2.8 s for 1 000 days).
"""

import numpy as np
from numba import njit

CELLS = 512
"""Output cells summed over all blocks at a time (their partial sums stay in L1)."""


@njit(cache=True)
def _sum_rows(per_block, out, onto):
    blocks, cells = per_block.shape
    for chunk in range(-(-cells // CELLS)):
        lo = chunk * CELLS
        hi = min(lo + CELLS, cells)
        if not onto:  # the first block copied, not added to zero (0.0 + -0.0 is +0.0)
            for j in range(lo, hi):
                out[j] = per_block[0, j]
        for b in range(0 if onto else 1, blocks):
            for j in range(lo, hi):
                out[j] += per_block[b, j]


def sum_blocks(per_block: np.ndarray, out: np.ndarray, onto: bool = False) -> None:
    """``out[...] = per_block.sum(axis=0)``, adding the blocks in order (``out``: contiguous, of
    the type the sum is kept in); with ``onto``, the blocks are added to ``out`` as it is (an
    MPI rank carrying on the sum of the ranks before it, ``scsim.mpi``)."""
    flat = out.reshape(-1)
    _sum_rows(per_block.reshape(per_block.shape[0], flat.size), flat, onto)


@njit(cache=True)
def _copy_rows(buffer, offsets, out):
    for b in range(buffer.shape[0]):
        start = offsets[b]
        for k in range(offsets[b + 1] - start):
            for c in range(buffer.shape[2]):  # cell by cell: a row slice compiled for 2 s
                out[start + k, c] = buffer[b, k + 1, c]


def block_rows(buffer: np.ndarray) -> np.ndarray:
    """The rows every block wrote to its buffer, in block order. ``buffer[b, 0, 0]`` is block
    ``b``'s row count and its rows are ``buffer[b, 1 : count + 1]``."""
    offsets = np.zeros(buffer.shape[0] + 1, dtype=np.int64)
    np.cumsum(buffer[:, 0, 0].astype(np.int64), out=offsets[1:])
    out = np.empty((offsets[-1], buffer.shape[2]), dtype=buffer.dtype)
    _copy_rows(buffer, offsets, out)
    return out
