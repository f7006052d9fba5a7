"""Regional household graphs: regions, households, family cliques and a rewired friends ring."""

import math

import numba
import numpy as np
import pytest

from scsim.network.regional import regional_households

N, SHARES, MEAN, K, P = 100_003, (0.5, 0.3, 0.2), 2.5, 10, 0.1


@pytest.fixture(scope="module")
def built():
    return regional_households(N, SHARES, MEAN, K, P, seed=3)


def _edges(g):
    rows = np.repeat(np.arange(g.n), g.degree())
    return rows, g.indices.astype(np.int64)


def _capped_poisson_moments(lam, cap):
    """Mean and variance of 1 + min(Poisson(lam), cap - 1)."""
    pmf = [math.exp(-lam) * lam**k / math.factorial(k) for k in range(cap - 1)]
    pmf.append(1 - sum(pmf))
    mean = sum((1 + k) * q for k, q in enumerate(pmf))
    return mean, sum((1 + k - mean) ** 2 * q for k, q in enumerate(pmf))


def test_simple_undirected_graph(built):
    g, _ = built
    rows, cols = _edges(g)
    assert not np.any(rows == cols), "self-loop"
    keys = rows * N + cols
    assert np.unique(keys).size == keys.size, "duplicate edge"
    assert np.array_equal(np.sort(keys), np.sort(cols * N + rows)), "edge without its reverse"
    same_row = rows[1:] == rows[:-1]
    assert np.all(cols[1:][same_row] > cols[:-1][same_row]), "row not strictly ascending"


def test_region_sizes_follow_shares_exactly(built):
    """Quotas 50001.5, 30000.9, 20000.6 floor to 100001; the 2 agents left go to the largest
    remainders (regions 1 and 2). Plain rounding would give 100004 agents."""
    _, fields = built
    region = fields["region"]
    assert region.dtype == np.uint16
    assert np.all(np.diff(region.astype(np.int64)) >= 0), "regions are not contiguous"
    assert np.bincount(region).tolist() == [50001, 30001, 20001]
    _, f = regional_households(10, [7, 7, 7], 1.0, 2, 0.0, seed=1)  # unnormalised, a tie
    assert np.bincount(f["region"]).tolist() == [4, 3, 3]


def test_household_sizes_follow_the_capped_poisson(built):
    """Sizes are 1 + Poisson(mean - 1) capped at 8; only the household cut short by a region's
    end deviates, so those (one per region) are left out. H sizes are i.i.d. with variance v,
    so the sample mean is within 5*sqrt(v/H) (~0.03 here) of the capped mean, which is itself
    within 1e-3 of household_mean = 2.5 (P(Poisson(1.5) >= 8) ~ 2e-4)."""
    _, fields = built
    hh, region = fields["household"].astype(np.int64), fields["region"]
    assert fields["household"].dtype == np.uint32
    assert hh[0] == 0 and set(np.unique(np.diff(hh)).tolist()) <= {0, 1}, "not consecutive"
    sizes = np.bincount(hh)
    assert sizes.min() >= 1 and sizes.max() <= 8
    first = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]])
    assert np.all(region[first] == region[first + sizes - 1]), "household crosses a region"
    truncated = hh[np.flatnonzero(np.diff(region.astype(np.int64))).tolist() + [N - 1]]
    complete = np.delete(sizes, truncated)
    mean, var = _capped_poisson_moments(MEAN - 1, 8)
    assert abs(mean - MEAN) < 1e-3
    assert abs(complete.mean() - mean) < 5 * math.sqrt(var / complete.size)
    _, single = regional_households(1000, [1.0], 1.0, 4, 0.1, seed=2)
    assert np.array_equal(single["household"], np.arange(1000))


def test_all_household_members_are_linked(built):
    """No duplicates, so size - 1 distinct same-household neighbours means all of them."""
    g, fields = built
    hh = fields["household"].astype(np.int64)
    rows, cols = _edges(g)
    same = hh[rows] == hh[cols]
    family = np.bincount(rows[same], minlength=N)
    assert np.array_equal(family, np.bincount(hh)[hh] - 1)


def test_cross_region_edges_match_long_tie_prob(built):
    """Ring and family ties stay in their region; each of the n*K/2 owned friend ties becomes a
    long tie w.p. P to a uniform other agent, so an owner in region r (m_r agents) makes a
    cross-region edge w.p. q_r = P * (N - m_r) / (N - 1), independently. Cross-region edges
    ~ sum of Bernoullis: mean sum m_r*K/2*q_r, var sum m_r*K/2*q_r*(1-q_r); allow 5 sd
    (the O((K/2*P)^2) collapsed duplicate long ties are negligible)."""
    g, fields = built
    region = fields["region"].astype(np.int64)
    rows, cols = _edges(g)
    cross = np.count_nonzero(region[rows] != region[cols]) / 2
    m = np.bincount(region).astype(float)
    q = P * (N - m) / (N - 1)
    mean, var = (m * K / 2 * q).sum(), (m * K / 2 * q * (1 - q)).sum()
    assert abs(cross - mean) < 5 * math.sqrt(var)
    share = cross / (N * K / 2)  # fraction of friend ties that cross: ~ P * sum s(1 - s)
    assert abs(share - P * sum(s * (1 - s) for s in SHARES)) < 0.005


def test_without_long_ties_rows_are_family_plus_ring():
    """With long_tie_prob = 0 every row is exactly the household plus the K/2 ids either side
    within the region (wrapping inside it); nothing crosses a region."""
    n, k = 240, 6
    g, f = regional_households(n, [2, 1, 1], 3.0, k, 0.0, seed=5)
    region, hh = f["region"], f["household"]
    starts = np.flatnonzero(np.r_[True, np.diff(region.astype(np.int64)) != 0]).tolist() + [n]
    for r in range(len(starts) - 1):
        s0, m = starts[r], starts[r + 1] - starts[r]
        for v in range(s0, s0 + m):
            ring = {s0 + (v - s0 + d) % m for d in range(-k // 2, k // 2 + 1) if d}
            family = set(np.flatnonzero(hh == hh[v]).tolist()) - {v}
            assert g.neighbours(v).tolist() == sorted(ring | family), v


def test_deterministic_for_a_seed_thread_count_and_seed_dependent():
    args = (5000, [0.6, 0.4], 3.0, 8, 0.2)
    a_graph, a = regional_households(*args, seed=9)
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        b_graph, b = regional_households(*args, seed=9)
    finally:
        numba.set_num_threads(before)
    c_graph, c = regional_households(*args, seed=10)
    assert np.array_equal(a_graph.indptr, b_graph.indptr)
    assert np.array_equal(a_graph.indices, b_graph.indices)
    assert np.array_equal(a["household"], b["household"])
    assert not np.array_equal(a_graph.indices, c_graph.indices)
    assert not np.array_equal(a["household"], c["household"])


BAD = "is not allowed; expected"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"household_mean": 0.5}, f"network.household_mean: 0.5 {BAD} a number >= 1"),
        ({"household_mean": 9.0}, f"network.household_mean: 9.0 {BAD} a number <= 8"),
        ({"friends_k": 7}, f"network.friends_k: 7 {BAD} an even integer in [0, 64]"),
        ({"friends_k": 66}, f"network.friends_k: 66 {BAD} an even integer in [0, 64]"),
        ({"long_tie_prob": 1.5}, f"network.long_tie_prob: 1.5 {BAD} a number <= 1"),
        ({"long_tie_prob": -0.1}, f"network.long_tie_prob: -0.1 {BAD} a number >= 0"),
        ({"region_shares": []}, f"network.region_shares: [] {BAD} a non-empty list"),
        ({"region_shares": [1.0, 0.0]}, f"network.region_shares: [1.0, 0.0] {BAD} positive"),
        ({"region_shares": [1.0, -2.0]}, f"network.region_shares: [1.0, -2.0] {BAD} positive"),
        (
            {"region_shares": [0.99, 0.01]},
            "network.region_shares: region 1 would hold 10 of population.n=1000 agents, which "
            "is not allowed; expected more than network.friends_k=10 agents in every region",
        ),
        ({"n": 0}, f"population.n: 0 {BAD} an integer in [1, 2**32 - 1]"),
    ],
)
def test_bad_parameters_are_refused(kwargs, message):
    args = {"n": 1000, "region_shares": [0.5, 0.5], "household_mean": 2.0, "friends_k": 10,
            "long_tie_prob": 0.1, "seed": 1, **kwargs}  # fmt: skip
    with pytest.raises(ValueError) as err:
        regional_households(**args)
    assert str(err.value).startswith(message)
