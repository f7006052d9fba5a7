"""Per-block outputs combined in block order: equal to numpy's, for any thread count."""

import numba
import numpy as np
import pytest

from scsim.kernels.blocks import CELLS, block_rows, region_spans, sum_blocks


@pytest.mark.parametrize("threads", [1, 2])
def test_sum_blocks_is_numpys_row_after_row_sum_bit_for_bit(threads):
    rng = np.random.default_rng(3)
    # values of very different sizes: a different order of additions would round differently
    shape = (37, 5, 2 * CELLS // 5 + 3)  # more cells than two workers' chunks
    per_block = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 9, size=shape)
    out = np.full(per_block.shape[1:], np.nan)
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        sum_blocks(per_block, out)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(out, per_block.sum(axis=0))
    reordered = per_block[::-1].sum(axis=0)
    assert not np.array_equal(out, reordered)  # the test can tell one order from another


def test_sum_blocks_of_counts_keeps_them_in_a_wider_type():
    per_block = np.full((3, 4), 2**31 - 1, dtype=np.int32)
    out = np.zeros(4, dtype=np.int64)
    sum_blocks(per_block, out)
    assert out.tolist() == [3 * (2**31 - 1)] * 4


def test_block_rows_are_each_blocks_first_count_rows_in_block_order():
    buffer = np.full((4, 6, 2), -1.0)
    counts = [2, 0, 5, 1]
    for b, count in enumerate(counts):
        buffer[b, 0] = (count, 0)
        buffer[b, 1 : count + 1, 0] = b
        buffer[b, 1 : count + 1, 1] = np.arange(count)
    rows = block_rows(buffer)
    assert rows[:, 0].tolist() == [0, 0, 2, 2, 2, 2, 2, 3]
    assert rows[:, 1].tolist() == [0, 1, 0, 1, 2, 3, 4, 0]
    assert block_rows(np.zeros((3, 4, 2))).shape == (0, 2)


def test_region_spans_are_each_blocks_smallest_to_largest_region():
    # 10 citizens in blocks of 4: regions are id ranges, so a block spans one or two
    region = np.array([0, 0, 0, 1, 1, 1, 1, 1, 3, 3], dtype=np.uint16)
    assert region_spans(region, 10, 4).tolist() == [[0, 2], [1, 2], [3, 4]]
    assert region_spans(None, 10, 4).tolist() == [[0, 1]] * 3


@pytest.mark.parametrize("onto", [False, True])
def test_a_sum_over_spans_reads_only_each_blocks_rows_in_block_order(onto):
    # rows outside a block's span hold another day's (or another wave's) records: the sum over
    # spans must equal numpy's row-after-row sum of the blocks with those rows cleared
    rng = np.random.default_rng(5)
    per_block = rng.standard_normal((9, 6, 7)) * 10.0 ** rng.integers(-8, 9, size=(9, 6, 7))
    spans = np.array([[0, 1], [0, 2], [1, 2], [1, 1], [2, 4], [3, 4], [3, 6], [5, 6], [5, 6]])
    cleared = per_block.copy()
    for b, (lo, hi) in enumerate(spans):
        cleared[b, :lo] = 0.0
        cleared[b, hi:] = 0.0
    start = rng.standard_normal((6, 7)) if onto else np.full((6, 7), np.nan)
    out = start.copy()
    sum_blocks(per_block, out, onto=onto, spans=spans)
    expected = start.copy() if onto else np.zeros((6, 7))
    for b in range(9):  # block after block, as _sum_rows adds them
        expected = cleared[b].copy() if b == 0 and not onto else expected + cleared[b]
    assert np.array_equal(out, expected)
    assert not np.array_equal(out, per_block.sum(axis=0))  # the stale rows were left out


def test_a_rank_with_no_block_passes_the_sum_on_unchanged():
    # an MPI rank that owns no block carries the running sum on as it received it
    out = np.arange(12.0).reshape(3, 4)
    sum_blocks(np.zeros((0, 3, 4)), out, onto=True, spans=np.zeros((0, 2), dtype=np.int64))
    assert np.array_equal(out, np.arange(12.0).reshape(3, 4))
