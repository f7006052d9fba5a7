"""Exact medians and quantiles over ranks (``scsim.order_stats``): each rank's values apart,
their counts added as ``Ranks.add_counts`` adds them, give numpy's figure of all the values
together, bit for bit."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from scsim import order_stats as S


def _over_parts(parts: list[np.ndarray], ks: np.ndarray) -> np.ndarray:
    """``S.smallest`` as R ranks run it, one part each, with their counts added."""
    keys = [S.sortable(p) for p in parts]
    selection = S.Selection(ks)
    while not selection.done:
        selection.take(sum(selection.counts(k) for k in keys))
    return selection.values()


def _samples(rng: np.random.Generator) -> list[np.ndarray]:
    incomes = (4000 * np.exp(0.6 * rng.standard_normal(50_001))).astype(np.float32)
    return [
        incomes,
        rng.standard_normal(10_000) * 1e-300,  # subnormal and negative values
        np.concatenate([np.zeros(500), -np.zeros(500), np.full(3, np.inf), [-np.inf]]),
        rng.integers(0, 5, 2_000).astype(np.float64),  # many ties
        np.array([7.5]),
    ]


def test_sortable_keys_keep_the_order_of_the_values_and_come_back_to_them():
    values = np.array([-np.inf, -3.5, -1e-310, 0.0, 1e-310, 2.0, np.inf])
    keys = S.sortable(values)
    assert np.all(np.diff(keys.astype(np.float64)) >= 0) and np.all(keys[1:] > keys[:-1])
    assert np.array_equal(S.unsortable(keys), values)


@pytest.mark.parametrize("ranks", [1, 2, 3, 7])
def test_the_kth_smallest_over_ranks_is_the_sorted_values_kth(ranks):
    rng = np.random.default_rng(5)
    for values in _samples(rng):
        flat = np.sort(values.astype(np.float64))
        ks = np.unique(rng.integers(0, flat.size, 12))
        parts = np.array_split(rng.permutation(values), ranks)
        assert np.array_equal(_over_parts(parts, ks), flat[ks])


def _on_each_rank(parts: list[np.ndarray], fn) -> list:
    """``fn(part, add_counts)`` on one thread per part, ``add_counts`` a collective sum."""
    barrier, slots = threading.Barrier(len(parts)), [None] * len(parts)

    def adder(r: int):
        def add_counts(counts: np.ndarray) -> np.ndarray:
            slots[r] = counts
            barrier.wait()
            total = sum(slots)
            barrier.wait()
            return total

        return add_counts

    out = [None] * len(parts)
    threads = [
        threading.Thread(target=lambda r=r: out.__setitem__(r, fn(parts[r], adder(r))))
        for r in range(len(parts))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.mark.parametrize("ranks", [1, 2, 4])
def test_median_and_quantiles_over_ranks_are_numpys_bit_for_bit(ranks):
    rng = np.random.default_rng(11)
    qs = np.arange(1, 10) / 10
    for values in _samples(rng):
        for whole in (values, values[:-1]):  # an odd count and an even one
            if not whole.size:
                continue
            parts = np.array_split(rng.permutation(whole), ranks)
            medians = _on_each_rank(parts, S.median)
            assert medians == [float(np.median(whole))] * ranks
            if whole.dtype == np.float64:
                expected = np.quantile(whole, qs)
                for got in _on_each_rank(parts, lambda p, add: S.quantiles(p, qs, add)):
                    assert np.array_equal(got, expected)


def test_no_values_have_no_median():
    assert np.isnan(S.median(np.zeros(0, dtype=np.float32), lambda c: c))
