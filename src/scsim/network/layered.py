"""Household, friends and work layers in one CSR graph, with a layer code per edge.

Regions and households are exactly those of ``scsim.network.regional`` (same streams):
regions are id ranges, households consecutive id blocks of at most ``MAX_HOUSEHOLD`` (family
cliques). Friends are a Watts-Strogatz ring inside each region, as in the regional graph, but
*strided*: the ring visits the region's ids in steps of ``stride`` (the smallest integer
>= ``MAX_HOUSEHOLD`` coprime with the region's size), so citizen ``x`` owns ties to
``x + j * stride`` (mod the region), j = 1..friends_k/2, and a friend is never a housemate
(except where the ring wraps in a tiny region), while friends stay within a few hundred ids
(cache-near). Each owned tie becomes a long tie with ``long_tie_prob`` (the regional graph's
draws). The work layer links the members of teams (cliques):
citizens who work (occupation code >= the catalogue's first) are grouped by region and
occupation when the population module drew occupations, else every citizen is grouped by
region; each group is put in a random order (a hash of the citizen's id) and cut into teams of
``1 + Poisson(work_team_mean - 1)`` consecutive members, capped at ``MAX_TEAM``. A tie in
several layers is one edge whose layer code holds every layer's bit (``HOUSEHOLD``,
``FRIENDS``, ``WORK``). Every draw is keyed by (owner, slot), household or team number, so the
graph is a pure function of the parameters, the population and the seed.

The graph is built in two steps: ``layered_fields`` (regions and households, before the
population module draws who the citizens are) and ``layered_graph`` (after it, reading the
occupations).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from scsim.network.graph import (
    FRIENDS,
    HOUSEHOLD,
    WORK,
    Graph,
    far_neighbours,
    indptr_from_degree,
    is_rewired,
)
from scsim.network.regional import (
    MAX_HOUSEHOLD,
    long_ties,
    regions_and_households,
    validate_regional,
)
from scsim.rng import agent_hash, poisson_capped, stream_day_key, u_hi

MAX_TEAM = 16
"""Largest work team: a citizen has at most ``MAX_TEAM - 1`` work ties."""

FIRST_OCCUPATION = 3
"""Occupation codes below this (none, student, retired) do not work (population module)."""

NO_TEAM = np.uint32(0xFFFFFFFF)

_CHUNKS = 1024


def layered_fields(spec, n: int, seed: int) -> dict[str, np.ndarray]:
    """The ``region`` (uint16) and ``household`` (uint32) fields of a layered network."""
    n, sizes, mean, _, _ = _validated(spec, n)
    _, region, household, _ = regions_and_households(n, sizes, mean, seed)
    return {"region": region, "household": household}


def friend_strides(sizes: np.ndarray) -> np.ndarray:
    """Per region, the smallest step >= MAX_HOUSEHOLD coprime with its size (int64)."""
    out = np.empty(sizes.size, dtype=np.int64)
    for r, m in enumerate(sizes.tolist()):
        step = MAX_HOUSEHOLD
        while math.gcd(step, m) != 1:
            step += 1
        out[r] = step
    return out


def _validated(spec, n):
    return validate_regional(
        n, spec.region_shares, spec.household_mean, spec.friends_k, spec.long_tie_prob
    )


@njit(cache=True)
def _cut_teams(key, lam, order, group, team_of, team_start):
    """Cut ``order`` (members sorted by group) into teams; return the team count."""
    exp_lam = np.exp(-lam)
    t = 0
    pos = 0
    m = order.size
    while pos < m:
        k = poisson_capped(u_hi(agent_hash(key, t)), lam, exp_lam, MAX_TEAM - 1)
        g = group[pos]
        team_start[t] = pos
        end = pos
        while end < m and end - pos <= k and group[end] == g:
            team_of[order[end]] = t
            end += 1
        pos = end
        t += 1
    team_start[t] = m
    return t


def work_teams(
    region: np.ndarray, occupation: np.ndarray | None, team_mean: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``team_of`` (uint32 per citizen, ``NO_TEAM`` for those who do not work), ``team_start``
    (int64) and ``members`` (uint32: team ``t`` is ``members[team_start[t]:team_start[t+1]]``)."""
    n = region.size
    mix = np.empty(n, dtype=np.float64)
    key = stream_day_key(seed, "network.work_order", 0)
    _order_keys(key, mix)
    if occupation is None:
        who = np.arange(n, dtype=np.int64)
        group = region.astype(np.int64)
    else:
        who = np.flatnonzero(occupation >= FIRST_OCCUPATION)
        group = region[who].astype(np.int64) * 256 + occupation[who]
    sort = np.lexsort((mix[who], group))
    members = who[sort].astype(np.uint32)
    group = group[sort]
    team_of = np.full(n, NO_TEAM, dtype=np.uint32)
    team_start = np.empty(members.size + 1, dtype=np.int64)
    skey = stream_day_key(seed, "network.work_size", 0)
    teams = _cut_teams(skey, team_mean - 1.0, members, group, team_of, team_start)
    return team_of, team_start[: teams + 1].copy(), members


@njit(parallel=True, cache=True)
def _order_keys(key, out):
    for i in prange(out.size):
        out[i] = u_hi(agent_hash(key, i))


@njit(cache=True)
def _gather(v, ctx, buf, bits):
    """Row ``v`` sorted by neighbour, ties in several layers merged; return its length."""
    (region, region_start, stride, household, hh_start, half, mask, out_ptr, out_dst, in_ptr,
     in_src, team_of, team_start, members) = ctx  # fmt: skip
    r = np.int64(region[v])
    s0 = region_start[r]
    m = region_start[r + 1] - s0
    a = v - s0
    step = stride[r]
    c = 0
    h = np.int64(household[v])
    for w in range(hh_start[h], hh_start[h + 1]):
        if w != v:
            buf[c] = w
            bits[c] = HOUSEHOLD
            c += 1
    for j in range(1, half + 1):
        u = s0 + (a - j * step) % m
        if not is_rewired(mask, u, j):
            buf[c] = u
            bits[c] = FRIENDS
            c += 1
        if not is_rewired(mask, v, j):
            buf[c] = s0 + (a + j * step) % m
            bits[c] = FRIENDS
            c += 1
    for e in range(out_ptr[v], out_ptr[v + 1]):
        buf[c] = out_dst[e]
        bits[c] = FRIENDS
        c += 1
    for e in range(in_ptr[v], in_ptr[v + 1]):
        buf[c] = in_src[e]
        bits[c] = FRIENDS
        c += 1
    t = team_of[v]
    if t != NO_TEAM:
        for e in range(team_start[t], team_start[t + 1]):
            w = members[e]
            if w != v:
                buf[c] = w
                bits[c] = WORK
                c += 1
    for x in range(1, c):  # insertion sort of (neighbour, bits) by neighbour
        nb, bt = buf[x], bits[x]
        y = x - 1
        while y >= 0 and buf[y] > nb:
            buf[y + 1] = buf[y]
            bits[y + 1] = bits[y]
            y -= 1
        buf[y + 1] = nb
        bits[y + 1] = bt
    k = 0
    for x in range(c):
        if k > 0 and buf[x] == buf[k - 1]:
            bits[k - 1] |= bits[x]
        else:
            buf[k] = buf[x]
            bits[k] = bits[x]
            k += 1
    return k


@njit(parallel=True, cache=True)
def _degrees(n, cap, ctx, degree):
    for c in prange(_CHUNKS):
        buf = np.empty(cap, dtype=np.uint32)
        bits = np.empty(cap, dtype=np.uint8)
        for v in range(c * n // _CHUNKS, (c + 1) * n // _CHUNKS):
            degree[v] = _gather(v, ctx, buf, bits)


@njit(parallel=True, cache=True)
def _fill(n, cap, ctx, indptr, indices, layer):
    for c in prange(_CHUNKS):
        buf = np.empty(cap, dtype=np.uint32)
        bits = np.empty(cap, dtype=np.uint8)
        for v in range(c * n // _CHUNKS, (c + 1) * n // _CHUNKS):
            k = _gather(v, ctx, buf, bits)
            start = np.int64(indptr[v])
            for x in range(k):
                indices[start + x] = buf[x]
                layer[start + x] = bits[x]


def layered_graph(
    spec,
    n: int,
    seed: int,
    region: np.ndarray,
    household: np.ndarray,
    occupation: np.ndarray | None,
) -> Graph:
    """The three-layer graph (``layer`` set) on the given regions, households and occupations
    (``None``: the population module is off, so every citizen is grouped by region only)."""
    n, sizes, _, friends_k, p = _validated(spec, n)
    half = friends_k // 2
    region_start = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=region_start[1:])
    stride = friend_strides(sizes)
    counts = np.bincount(household, minlength=int(household.max()) + 1 if n else 0)
    hh_start = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=hh_start[1:])
    if spec.work:
        team_of, team_start, members = work_teams(region, occupation, spec.work_team_mean, seed)
    else:
        team_of = np.full(n, NO_TEAM, dtype=np.uint32)
        team_start, members = np.zeros(1, dtype=np.int64), np.empty(0, dtype=np.uint32)
    mask, out_ptr, out_dst, in_ptr, in_src = long_ties(n, half, p, seed)
    max_in = int(np.diff(in_ptr).max()) if n else 0
    max_hh = int(counts.max()) if counts.size else 1
    cap = max(max_hh, MAX_HOUSEHOLD) + 2 * half + max_in + MAX_TEAM + 1
    ctx = (region, region_start, stride, household, hh_start, half, mask, out_ptr, out_dst, in_ptr,
           in_src, team_of, team_start, members)  # fmt: skip
    degree = np.empty(n, dtype=np.uint32)
    _degrees(n, cap, ctx, degree)
    indptr = indptr_from_degree(degree)
    del degree
    indices = np.empty(int(indptr[-1]), dtype=np.uint32)
    layer = np.empty(indices.size, dtype=np.uint8)
    _fill(n, cap, ctx, indptr, indices, layer)
    far = far_neighbours(indptr, indices)
    return Graph(indptr=indptr, indices=indices, far=far, layer=layer)
