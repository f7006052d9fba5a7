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


@njit(cache=True)
def _sum_spans(per_block, out, spans, onto):
    blocks, _, cells = per_block.shape
    if not onto:
        out[:, :] = 0.0
    for b in range(blocks):
        for g in range(spans[b, 0], spans[b, 1]):
            if b == 0 and not onto:  # the first block copied, as in _sum_rows
                for c in range(cells):
                    out[g, c] = per_block[0, g, c]
            else:
                for c in range(cells):
                    out[g, c] += per_block[b, g, c]


def sum_blocks(
    per_block: np.ndarray, out: np.ndarray, onto: bool = False, spans: np.ndarray | None = None
) -> None:
    """``out[...] = per_block.sum(axis=0)``, adding the blocks in order (``out``: contiguous, of
    the type the sum is kept in); with ``onto``, the blocks are added to ``out`` as it is (an
    MPI rank carrying on the sum of the ranks before it, ``scsim.mpi``). With ``spans`` (a row
    [lo, hi) of each block's first axis, ``region_spans``), only those rows of each block are
    read: the others are not the block's (the kernel does not clear them) and count as 0."""
    if spans is not None:
        rows = out.shape[0]
        cells = out.size // rows  # not -1: a rank may own no block
        blocks = per_block.reshape(per_block.shape[0], rows, cells)
        _sum_spans(blocks, out.reshape(rows, cells), spans, onto)
        return
    flat = out.reshape(-1)
    _sum_rows(per_block.reshape(per_block.shape[0], flat.size), flat, onto)


def region_spans(region: np.ndarray | None, n: int, block: int) -> np.ndarray:
    """For each block of ``block`` citizens, the rows [lo, hi) of the record table its
    citizens' hooks write (``rec[a.region, ...]``): from the smallest to the largest of their
    regions (regions are id ranges, so one or two), or row 0 without regions. The fused kernel
    clears only those rows of a block's records, and the day's sum reads only those: with 31
    regions, adding every row of every block cost all-modules 2.6 of its 55 ms a day at 1 M
    citizens (bench/README.md, session 24)."""
    n_blocks = -(-n // block)
    spans = np.zeros((n_blocks, 2), dtype=np.int64)
    if region is None or n == 0:
        spans[:, 1] = 1
        return spans
    starts = np.arange(n_blocks, dtype=np.int64) * block
    spans[:, 0] = np.minimum.reduceat(region[:n], starts)
    spans[:, 1] = np.maximum.reduceat(region[:n], starts).astype(np.int64) + 1
    return spans


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
