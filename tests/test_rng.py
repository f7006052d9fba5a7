"""Counter-based draws: pure functions of (seed, stream, day, agent), well distributed."""

import numpy as np
from numba import njit

from scsim import rng


def test_same_inputs_same_draws_and_partition_invariance():
    a_hi, a_lo = _draws(7, "speech.act", 3, 10_000)
    b_hi, b_lo = _draws(7, "speech.act", 3, 10_000)
    assert np.array_equal(a_hi, b_hi) and np.array_equal(a_lo, b_lo)
    # any subset of agents, in any order, gets the same values: no generator state
    dkey = rng.stream_day_key(7, "speech.act", 3)
    for i in (0, 17, 9_999, 4_321):
        assert rng.u_hi(np.uint64(rng.agent_hash(dkey, i))) == a_hi[i]


def test_streams_days_and_seeds_are_distinct():
    base, _ = _draws(1, "x", 0, 1000)
    for seed, stream, day in ((2, "x", 0), (1, "y", 0), (1, "x", 1)):
        other, _ = _draws(seed, stream, day, 1000)
        assert not np.array_equal(base, other)
        # independent uniforms: correlation ~ N(0, 1/1000); 5 sd
        assert abs(np.corrcoef(base, other)[0, 1]) < 5 / np.sqrt(1000)


def test_signed_key_gives_same_hash_as_unsigned():
    """Regression: numba turns int64 (+) uint64 into float64; a key passed as a Python int
    below 2**63 is typed int64. The hash must not depend on how the key was typed."""
    key = 12345  # a small key, typed int64 by numba

    @njit
    def signed(i):
        return rng.agent_hash(key, i)

    assert signed(5) == rng.agent_hash(np.uint64(key), 5)


def test_uniformity_chi_square():
    """200 000 draws in 100 bins: chi-square with 99 dof has mean 99, sd 14; allow 5 sd."""
    hi, lo = _draws(11, "uniformity", 0, 200_000)
    for u in (hi, lo):
        assert 0.0 <= u.min() and u.max() < 1.0
        counts = np.bincount((u * 100).astype(int), minlength=100)
        expected = u.size / 100
        chi2 = ((counts - expected) ** 2 / expected).sum()
        assert chi2 < 99 + 5 * 14
    assert abs(np.corrcoef(hi, lo)[0, 1]) < 5 / np.sqrt(hi.size)


def test_below_is_uniform_integer():
    dkey = rng.stream_day_key(3, "below", 0)
    xs = np.array([rng.below(np.uint64(rng.agent_hash(dkey, i)), 10) for i in range(20_000)])
    assert xs.min() == 0 and xs.max() == 9
    counts = np.bincount(xs, minlength=10)
    # each count ~ Binomial(20000, 0.1): sd = 42.4; allow 5 sd
    assert np.all(np.abs(counts - 2000) < 5 * 42.4)


def test_uniform_array_range_and_dtype():
    x = rng.uniform_array(5, "trait", 50_000, 0.0, 0.02, dtype=np.float32)
    assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() < 0.02
    # mean of U(0, 0.02) is 0.01, sd of the mean 0.02/sqrt(12 * 50000); allow 5 sd
    assert abs(x.mean() - 0.01) < 5 * 0.02 / np.sqrt(12 * 50_000)


def _draws(seed, stream, day, n):
    dkey = rng.stream_day_key(seed, stream, day)
    hi = np.empty(n)
    lo = np.empty(n)
    rng._uniforms_into(dkey, hi, lo)
    return hi, lo
