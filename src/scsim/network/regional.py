"""Regions, households and friends, built straight into CSR by parallel numba kernels.

Agents ``0..n-1`` are split into regions: contiguous id ranges sized by ``region_shares``
(normalised, largest-remainder rounding). Each region is cut into households: contiguous id
blocks of size ``1 + Poisson(household_mean - 1)`` capped at 8 (the household straddling a
region's end is cut short); every pair within a household is linked (the family layer).
Friends are a Watts-Strogatz ring inside each region: agent ``u`` owns the ties to the
``friends_k / 2`` next ids of its region (wrapping inside the region), and each owned tie is
rewired with probability ``long_tie_prob`` to a uniform agent anywhere but ``u`` (a long tie,
possibly into another region). Ties that coincide (family and friend, or two long ties) collapse
to one edge, so the graph is simple. Every draw comes from a counter-based stream keyed by
household number or by (owner, slot), so the graph is a pure function of the parameters and
the seed, whatever the thread count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from numba import njit, prange

from scsim.network.graph import (
    Graph,
    far_neighbours,
    indptr_from_degree,
    is_rewired,
    rewire_masks,
    sort_row,
    sources_by_target,
)
from scsim.rng import agent_hash, agent_hash_k, below, poisson_capped, stream_day_key, u_hi

MAX_HOUSEHOLD = 8
"""Largest household; the Poisson draw is capped so a household never exceeds this."""

MAX_FRIENDS_K = 64
"""Largest ``friends_k``: the owned ties of an agent fit one 32-bit rewiring mask."""

_CHUNKS = 1024
"""Fixed agent chunks of the row kernels (one scratch buffer each); not tied to threads."""


def _fail(param: str, value: object, expected: str) -> ValueError:
    if isinstance(value, np.generic):  # show 0.5, not np.float64(0.5)
        value = value.item()
    elif isinstance(value, list):
        value = [v.item() if isinstance(v, np.generic) else v for v in value]
    return ValueError(f"{param}: {value!r} is not allowed; expected {expected}")


def _check_number(param: str, value: float, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _fail(param, value, f"a number in [{lo:g}, {hi:g}]")
    value = float(value)
    if math.isnan(value):
        raise _fail(param, value, f"a number in [{lo:g}, {hi:g}]")
    if value < lo:
        raise _fail(param, value, f"a number >= {lo:g}")
    if value > hi:
        raise _fail(param, value, f"a number <= {hi:g}")
    return value


def region_sizes(n: int, region_shares: Sequence[float]) -> np.ndarray:
    """Sizes of the regions: ``n * share / sum(shares)`` rounded by largest remainder.

    Each region gets the floor of its exact quota; the agents left over go one each to the
    regions with the largest fractional parts (ties to the lower region index). Exact rational
    arithmetic, so the sizes always sum to ``n``.
    """
    shares = [Fraction(float(s)) for s in region_shares]
    total = sum(shares)
    quotas = [n * s / total for s in shares]
    sizes = [math.floor(q) for q in quotas]
    order = sorted(range(len(quotas)), key=lambda r: (-(quotas[r] - sizes[r]), r))
    for r in order[: n - sum(sizes)]:
        sizes[r] += 1
    return np.array(sizes, dtype=np.int64)


@njit(cache=True)
def _households(hkey, lam, region_start, household, hh_start):
    """Cut each region into households in order; return the household count."""
    exp_lam = np.exp(-lam)
    h = 0
    for r in range(region_start.size - 1):
        pos, end = region_start[r], region_start[r + 1]
        while pos < end:
            k = poisson_capped(u_hi(agent_hash(hkey, h)), lam, exp_lam, MAX_HOUSEHOLD - 1)
            size = min(1 + k, end - pos)
            hh_start[h] = pos
            for i in range(pos, pos + size):
                household[i] = h
            pos += size
            h += 1
    hh_start[h] = region_start[-1]
    return h


@njit(parallel=True, cache=True)
def _long_targets(tkey, n, half, mask, out_ptr, out_dst):
    """Targets of the long ties: uniform over the ``n - 1`` agents other than the owner."""
    for u in prange(n):
        pos = out_ptr[u]
        for j in range(1, half + 1):
            if is_rewired(mask, u, j):
                t = below(agent_hash_k(tkey, u, j), n - 1)
                out_dst[pos] = t + 1 if t >= u else t
                pos += 1


@njit(cache=True)
def _gather(v, ctx, buf):
    """Row ``v`` sorted and deduplicated into ``buf``; return its length."""
    region, region_start, household, hh_start, half, mask, out_ptr, out_dst, in_ptr, in_src = ctx
    r = np.int64(region[v])
    s0 = region_start[r]
    m = region_start[r + 1] - s0
    a = v - s0
    c = 0
    for j in range(half, 0, -1):  # ring ties owned by the j-th previous agent of the region
        u = s0 + (a - j) % m
        if not is_rewired(mask, u, j):
            buf[c] = u
            c += 1
    h = np.int64(household[v])
    for w in range(hh_start[h], hh_start[h + 1]):  # family
        if w != v:
            buf[c] = w
            c += 1
    for j in range(1, half + 1):  # own ring ties that were kept
        if not is_rewired(mask, v, j):
            buf[c] = s0 + (a + j) % m
            c += 1
    for e in range(out_ptr[v], out_ptr[v + 1]):  # own long ties
        buf[c] = out_dst[e]
        c += 1
    for e in range(in_ptr[v], in_ptr[v + 1]):  # long ties pointing at v
        buf[c] = in_src[e]
        c += 1
    sort_row(buf, 0, c)
    k = 0
    for i in range(c):
        if k == 0 or buf[i] != buf[k - 1]:
            buf[k] = buf[i]
            k += 1
    return k


@njit(parallel=True, cache=True)
def _degrees(n, cap, ctx, degree):
    for c in prange(_CHUNKS):
        buf = np.empty(cap, dtype=np.uint32)
        for v in range(c * n // _CHUNKS, (c + 1) * n // _CHUNKS):
            degree[v] = _gather(v, ctx, buf)


@njit(parallel=True, cache=True)
def _fill(n, cap, ctx, indptr, indices):
    for c in prange(_CHUNKS):
        buf = np.empty(cap, dtype=np.uint32)
        for v in range(c * n // _CHUNKS, (c + 1) * n // _CHUNKS):
            k = _gather(v, ctx, buf)
            start = np.int64(indptr[v])
            for i in range(k):
                indices[start + i] = buf[i]


def validate_regional(n, region_shares, household_mean, friends_k, long_tie_prob):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n < 2**32:
        raise _fail("population.n", n, "an integer in [1, 2**32 - 1]")
    shares = list(region_shares) if isinstance(region_shares, Sequence | np.ndarray) else None
    if not shares:
        raise _fail("network.region_shares", region_shares, "a non-empty list of numbers > 0")
    if len(shares) > 2**16:
        raise _fail("network.region_shares", f"{len(shares)} regions", "at most 65536 regions")
    for s in shares:
        ok = isinstance(s, (int, float, np.integer, np.floating)) and not isinstance(s, bool)
        if not ok or not math.isfinite(s) or s <= 0:
            raise _fail("network.region_shares", shares, "positive finite numbers (shares > 0)")
    household_mean = _check_number("network.household_mean", household_mean, 1, MAX_HOUSEHOLD)
    if (
        isinstance(friends_k, bool)
        or not isinstance(friends_k, (int, np.integer))
        or (friends_k % 2 or not 0 <= friends_k <= MAX_FRIENDS_K)
    ):
        raise _fail("network.friends_k", friends_k, f"an even integer in [0, {MAX_FRIENDS_K}]")
    long_tie_prob = _check_number("network.long_tie_prob", long_tie_prob, 0, 1)
    sizes = region_sizes(int(n), shares)
    small = np.flatnonzero(sizes <= friends_k)
    if small.size:
        r = int(small[0])
        raise ValueError(
            f"network.region_shares: region {r} would hold {int(sizes[r])} of population.n={n} "
            f"agents, which is not allowed; expected more than network.friends_k={friends_k} "
            f"agents in every region"
        )
    return int(n), sizes, household_mean, int(friends_k), long_tie_prob


def regions_and_households(
    n: int, sizes: np.ndarray, mean: float, seed: int
) -> tuple[np.ndarray, ...]:
    """``region_start`` (int64), ``region`` (uint16), ``household`` (uint32) and ``hh_start``
    (int64): regions as id ranges of ``sizes``, each cut into households in id order."""
    region_start = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=region_start[1:])
    region = np.repeat(np.arange(sizes.size, dtype=np.uint16), sizes)
    household = np.empty(n, dtype=np.uint32)
    hh_start = np.empty(n + 1, dtype=np.int64)
    hkey = stream_day_key(seed, "network.household_size", 0)
    n_households = _households(hkey, mean - 1.0, region_start, household, hh_start)
    return region_start, region, household, hh_start[: n_households + 1].copy()


def long_ties(n: int, half: int, p: float, seed: int) -> tuple[np.ndarray, ...]:
    """The friends ring's rewiring: ``mask`` (bit ``j - 1`` of ``mask[u]``: u's owned tie j is
    long), owners' targets (``out_ptr``, ``out_dst``) and owners by target (``in_ptr``,
    ``in_src``)."""
    mask = np.empty(n, dtype=np.uint32)
    rewire_masks(stream_day_key(seed, "network.long_tie", 0), n, half, p, mask)
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bitwise_count(mask), out=out_ptr[1:])
    out_dst = np.empty(int(out_ptr[-1]), dtype=np.uint32)
    tkey = stream_day_key(seed, "network.long_tie_target", 0)
    _long_targets(tkey, n, half, mask, out_ptr, out_dst)
    in_ptr, in_src = sources_by_target(n, out_ptr, out_dst)
    return mask, out_ptr, out_dst, in_ptr, in_src


def regional_households(
    n: int,
    region_shares: Sequence[float],
    household_mean: float,
    friends_k: int,
    long_tie_prob: float,
    seed: int,
) -> tuple[Graph, dict[str, np.ndarray]]:
    """The regional household graph and the agents' ``region`` (uint16) and ``household``
    (uint32, numbered consecutively from 0) fields. See the module docstring for the model."""
    n, sizes, mean, friends_k, p = validate_regional(
        n, region_shares, household_mean, friends_k, long_tie_prob
    )
    half = friends_k // 2
    region_start, region, household, hh_start = regions_and_households(n, sizes, mean, seed)
    mask, out_ptr, out_dst, in_ptr, in_src = long_ties(n, half, p, seed)

    max_in = int(np.diff(in_ptr).max()) if n else 0
    cap = (MAX_HOUSEHOLD - 1) + 2 * half + max_in + 1
    ctx = (region, region_start, household, hh_start, half, mask, out_ptr, out_dst, in_ptr, in_src)
    degree = np.empty(n, dtype=np.uint32)
    _degrees(n, cap, ctx, degree)
    indptr = indptr_from_degree(degree)
    del degree
    indices = np.empty(int(indptr[-1]), dtype=np.uint32)
    _fill(n, cap, ctx, indptr, indices)
    del ctx, mask, out_ptr, out_dst, in_ptr, in_src
    graph = Graph(indptr=indptr, indices=indices, far=far_neighbours(indptr, indices))
    return graph, {"region": region, "household": household}
