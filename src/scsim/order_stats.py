"""Exact medians and quantiles of values spread over MPI ranks, without gathering them.

Each rank holds some of the values (its own citizens' incomes, say). ``median`` and
``quantiles`` return, bit for bit, what ``np.median`` and ``np.quantile`` (method "linear") give
of every rank's values together. The order statistics they need are found by a radix select on
the values' sortable 64-bit keys (``sortable``), 16 bits a round: each rank counts its keys by
the next 16 bits among those that share the digits found so far, the ranks add the counts, and
every rank picks the same digit (``Selection``). Four rounds, each one collective of at most
65 536 integers per wanted statistic, find any statistic exactly; the work is a few passes over
a rank's own values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

AddCounts = Callable[[np.ndarray], np.ndarray]
"""Integer counts added over the ranks (``scsim.ranks.Ranks.add_counts``)."""

DIGIT_BITS = 16
DIGITS = 1 << DIGIT_BITS
SIGN = np.uint64(1 << 63)


def sortable(values: np.ndarray) -> np.ndarray:
    """Unsigned keys in the order of the float ``values`` (as float64): the sign bit flipped
    for positive values, every bit for negative ones."""
    bits = np.asarray(values, dtype=np.float64).view(np.uint64)
    return np.where(bits & SIGN, ~bits, bits | SIGN)


def unsortable(keys: np.ndarray) -> np.ndarray:
    """The float64 values of ``sortable`` keys."""
    keys = np.asarray(keys, dtype=np.uint64)
    return np.where(keys & SIGN, keys & ~SIGN, ~keys).view(np.float64)


class Selection:
    """The ``ks``-th smallest keys (0-based) of keys spread over ranks, found a digit a round:
    every rank calls ``counts`` on its keys, adds the counts over the ranks, and calls
    ``take`` with the sum, until ``done``."""

    def __init__(self, ks: np.ndarray) -> None:
        self.ks = np.asarray(ks, dtype=np.int64)
        self.prefix = np.zeros(self.ks.size, dtype=np.uint64)
        """The digits found so far of each wanted key, in place."""
        self.left = self.ks.copy()
        """Each wanted key's rank among the keys that share its prefix."""
        self.shift = 64 - DIGIT_BITS

    @property
    def done(self) -> bool:
        return self.shift < 0

    def _groups(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct prefixes of this round and each wanted key's group."""
        top = self.prefix >> np.uint64(self.shift + DIGIT_BITS) if self.shift < 48 else (
            np.zeros_like(self.prefix)
        )  # fmt: skip
        return np.unique(top, return_inverse=True)

    def counts(self, keys: np.ndarray) -> np.ndarray:
        """This rank's counts of its ``keys`` by this round's digit, one row per prefix."""
        prefixes, _ = self._groups()
        out = np.zeros((prefixes.size, DIGITS), dtype=np.int64)
        digit = (keys >> np.uint64(self.shift)) & np.uint64(DIGITS - 1)
        if self.shift == 64 - DIGIT_BITS:
            out[0] = np.bincount(digit.astype(np.int64), minlength=DIGITS)
            return out
        top = keys >> np.uint64(self.shift + DIGIT_BITS)
        for g, prefix in enumerate(prefixes):
            out[g] = np.bincount(digit[top == prefix].astype(np.int64), minlength=DIGITS)
        return out

    def take(self, total: np.ndarray) -> None:
        """Pick each wanted key's digit from the counts added over every rank."""
        _, group = self._groups()
        cumulative = np.cumsum(total, axis=1)
        for j, g in enumerate(group):
            d = int(np.searchsorted(cumulative[g], self.left[j], side="right"))
            self.left[j] -= cumulative[g, d - 1] if d > 0 else 0
            self.prefix[j] |= np.uint64(d) << np.uint64(self.shift)
        self.shift -= DIGIT_BITS

    def values(self) -> np.ndarray:
        """The wanted keys' values (float64), once ``done``."""
        return unsortable(self.prefix)


def smallest(values: np.ndarray, ks: np.ndarray, add_counts: AddCounts) -> np.ndarray:
    """The ``ks``-th smallest (0-based, float64) of every rank's ``values``."""
    keys = sortable(values)
    selection = Selection(ks)
    while not selection.done:
        selection.take(add_counts(selection.counts(keys)))
    return selection.values()


def median(values: np.ndarray, add_counts: AddCounts) -> float:
    """``np.median`` of every rank's ``values`` together (NaN if there are none)."""
    n = int(add_counts(np.array([values.size], dtype=np.int64))[0])
    if n == 0:
        return float("nan")
    middle = smallest(values, np.array([(n - 1) // 2, n // 2]), add_counts)
    # numpy takes the mean of the one or two middle values, in the values' own type
    pair = middle.astype(values.dtype)[: 2 - n % 2]
    return float(np.median(pair))


def quantiles(values: np.ndarray, qs: np.ndarray, add_counts: AddCounts) -> np.ndarray:
    """``np.quantile(values, qs)`` (method "linear") of every rank's float64 ``values``."""
    qs = np.asarray(qs, dtype=np.float64)
    n = int(add_counts(np.array([values.size], dtype=np.int64))[0])
    virtual = (n - 1) * qs
    below = np.floor(virtual)
    lo = below.astype(np.int64).clip(0, n - 1)
    hi = (lo + 1).clip(0, n - 1)
    found = smallest(values, np.concatenate([lo, hi]), add_counts)
    a, b = found[: qs.size], found[qs.size :]
    t = virtual - below
    # numpy's _lerp: from the lower value below t = 0.5, from the upper one from there
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)
