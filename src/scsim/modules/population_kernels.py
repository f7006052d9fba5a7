"""Numba kernels of the Population module.

Every draw is a pure function of (seed, stream, id): per-household draws are keyed by the
household id, per-citizen draws by the citizen id (``scsim.rng``), so the arrays do not depend
on the thread count or on the order in which citizens are visited. A household is a run of
consecutive *slots*: slot ``j`` holds citizen ``j`` when the household ids are non-decreasing
(the convention of the ``regional`` network and of ``cut_households``), else citizen
``order[j]`` with ``order`` the stable argsort of the household ids. Members are ranked by
slot (lowest id first); finding a member's household scans its neighbouring slots, so a
household of ``s`` members costs ``O(s^2)``; households here hold at most a few dozen.

The helpers are compiled once each and inlined by LLVM (``forceinline``), not by numba's IR
inliner (``inline="always"``), which typed and lowered each copy inside every ``prange`` body
again: a cold build compiles the three largest of these kernels in 7.5 s instead of 13.4 s
(``bench/compile_cost.py``). The population of 10 M citizens is drawn in 2.0-2.5 s instead of
1.7-2.0 s (``bench/population_time.py``, 2 threads); keeping numba's inliner for the hottest
helpers (``_span``, ``_agent``) recovered none of that and compiled longer.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from scsim.modules.population_tables import (
    EDU_JUNIOR,
    EDU_PRIMARY,
    EDU_SENIOR,
    EDU_TERTIARY,
    HEAD_MIN_AGE,
    MAX_AGE,
    MAX_HOUSEHOLD,
    OCC_NONE,
    OCC_RETIRED,
    OCC_STUDENT,
    ROLE_CHILD,
    ROLE_GRANDCHILD,
    ROLE_HEAD,
    ROLE_OTHER,
    ROLE_PARENT,
    ROLE_SPOUSE,
    SEX_MALE,
)
from scsim.rng import agent_hash, agent_hash_k, poisson_capped, u_hi, u_lo

TWO_PI = 2.0 * math.pi
MAX_EXACT_SHAPE = 16
"""Gamma shapes that are whole numbers up to this are drawn exactly from uniforms."""
GENERATION_GAP_MIN = 20
"""Age gap between a parent and a child: 20 + two uniform integers in 0..9 (mean 29)."""
SPOUSE_AGE_GAP, SPOUSE_AGE_SD = 2.0, 3.0
"""A husband is on average 2 years older than his wife, sd 3 years (an assumption)."""
GRANDPARENT_MIN_AGE = 50
"""A head this old or older may live with grandchildren (an assumption)."""
HEAD_MAX_AGE_WITH_PARENTS = 60
"""A head living with a parent is younger than this, so the parent (head + gap) stays <= 100."""
FIRST_CODE = 3
"""Occupation code of the catalogue's first entry (after none, student, retired)."""


# ---------------------------------------------------------------- draws


@njit(forceinline=True, cache=True)
def normal(h):
    """Standard normal from both halves of one hash (Box-Muller, cosine branch)."""
    return math.sqrt(-2.0 * math.log(1.0 - u_hi(h))) * math.cos(TWO_PI * u_lo(h))


@njit(forceinline=True, cache=True)
def gamma(key, i, k, shape):
    """Gamma(shape, 1) of citizen ``i`` from its hashes ``k, k+1, ...``; returns the draw and
    the next unused ``k``. An integer shape up to MAX_EXACT_SHAPE is a sum of exponentials,
    minus the log of a product of uniforms (two per hash); any other shape is drawn by
    Marsaglia and Tsang's (2000) method, with the U^(1/shape) boost below shape 1."""
    m = int(shape)
    if m == shape and m <= MAX_EXACT_SHAPE:
        prod = 1.0
        for t in range(0, m, 2):
            h = agent_hash_k(key, i, k)
            k += 1
            prod *= 1.0 - u_hi(h)  # in (0, 1]: never log(0)
            if t + 1 < m:
                prod *= 1.0 - u_lo(h)
        return -math.log(prod), k
    boost = 1.0
    if shape < 1.0:
        boost = u_hi(agent_hash_k(key, i, k)) ** (1.0 / shape)
        k += 1
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = normal(agent_hash_k(key, i, k))
        u = u_hi(agent_hash_k(key, i, k + 1))
        k += 2
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return d * v * boost, k


@njit(parallel=True, cache=True)
def beta_fill(key, a, b, out, lo, hi):
    """Beta(a, b) of the citizens ``lo..hi-1`` as X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b)."""
    for i in prange(lo, hi):
        x, k = gamma(key, i, 0, a)
        y, k = gamma(key, i, k, b)
        out[i] = x / (x + y) if x + y > 0.0 else 0.5


@njit(forceinline=True, cache=True)
def _cdf_at(x, edges, cdf):
    for k in range(edges.size - 1):
        if x < edges[k + 1]:
            return cdf[k] + (cdf[k + 1] - cdf[k]) * (x - edges[k]) / (edges[k + 1] - edges[k])
    return 1.0


@njit(forceinline=True, cache=True)
def age_between(u, lo, hi, edges, cdf):
    """A whole age in ``[lo, hi)`` by inverting the age-band distribution (uniform within a
    band, piecewise-linear CDF ``cdf`` at ``edges``) truncated to ``[lo, hi)``."""
    f0 = _cdf_at(lo, edges, cdf)
    v = f0 + u * (_cdf_at(hi, edges, cdf) - f0)
    x = float(lo)
    for k in range(edges.size - 1):
        if v < cdf[k + 1]:
            x = edges[k] + (edges[k + 1] - edges[k]) * (v - cdf[k]) / (cdf[k + 1] - cdf[k])
            break
    return min(max(int(math.floor(x)), lo), hi - 1)


@njit(forceinline=True, cache=True)
def pick(cdf, u, first):
    """Smallest ``k >= first`` with ``u < cdf[k]`` (the last index if none)."""
    for k in range(first, cdf.size):
        if u < cdf[k]:
            return k
    return cdf.size - 1


# ---------------------------------------------------------------- households


@njit(cache=True)
def nondecreasing(a):
    for i in range(1, a.size):
        if a[i] < a[i - 1]:
            return False
    return True


@njit(cache=True)
def cut_households(key, lam, run_ends, lo, hi, household):
    """Cut each run of equal region (the runs end at the ascending ``run_ends``, the last at
    n) into households of ``1 + Poisson(lam)`` (capped at MAX_HOUSEHOLD) consecutive ids,
    numbered from 0; the household straddling a run's end is cut short. Writes the ids of the
    citizens ``lo..hi-1`` only (the walk from citizen 0 draws one number a household)."""
    exp_lam = math.exp(-lam)
    h = 0
    pos = 0
    r = 0
    while pos < hi:
        k = poisson_capped(u_hi(agent_hash(key, h)), lam, exp_lam, MAX_HOUSEHOLD - 1)
        while run_ends[r] <= pos:
            r += 1
        end = min(pos + k + 1, run_ends[r])
        for i in range(max(pos, lo), min(end, hi)):
            household[i] = h
        pos = end
        h += 1


@njit(forceinline=True, cache=True)
def _agent(order, j):
    j = np.int64(j)  # a prange index can be unsigned; int64 (+) uint64 would be float64
    return j if order.size == 0 else np.int64(order[j])


@njit(forceinline=True, cache=True)
def _span(household, order, j):
    """Household id of slot ``j``, its first slot and one past its last slot."""
    h = household[_agent(order, j)]
    s = j
    while s > 0 and household[_agent(order, s - 1)] == h:
        s -= 1
    e = j + 1
    while e < household.size and household[_agent(order, e)] == h:
        e += 1
    return h, s, e


@njit(forceinline=True, cache=True)
def _household(ckey, h, size, shares, edges, cdf):
    """Household draws: whether the head lives with a spouse, how many of the head's parents
    live there (0-2), the head's age, and the hash that also decides the head's sex."""
    x = agent_hash(ckey, h)
    spouse = size >= 2 and u_hi(x) < shares[0]
    free = size - 1 - (1 if spouse else 0)
    n_par = 0
    if free > 0 and u_lo(x) < shares[1]:
        n_par = 2 if free >= 2 and u_hi(agent_hash_k(ckey, h, 0)) < 0.5 else 1
    y = agent_hash_k(ckey, h, 1)
    top = HEAD_MAX_AGE_WITH_PARENTS if n_par else MAX_AGE + 1
    return spouse, n_par, age_between(u_hi(y), HEAD_MIN_AGE, top, edges, cdf), y


@njit(parallel=True, cache=True)
def roles(household, order, ckey, okey, shares, edges, cdf, role, fill, own):
    """Slot 0 of a household is its head, slot 1 the spouse (if any), the last ``n_par`` slots
    the head's parents; each other member is another member (``shares[2]``), else a grandchild
    (``shares[3]``, heads from GRANDPARENT_MIN_AGE), else a child of the head. Fills the slots
    ``fill[0]..fill[1]-1``; returns the number of citizens in a couple (head and spouse, or two
    parents) in the households whose first slot is in ``own[0]..own[1]-1``."""
    paired = 0
    for j in prange(fill[0], fill[1]):
        i = _agent(order, j)
        h, s, e = _span(household, order, j)
        size, p = e - s, j - s
        spouse, n_par, head_age, _ = _household(ckey, h, size, shares, edges, cdf)
        x = agent_hash(okey, i)
        if p == 0:
            r = ROLE_HEAD
        elif spouse and p == 1:
            r = ROLE_SPOUSE
        elif p >= size - n_par:
            r = ROLE_PARENT
        elif u_hi(x) < shares[2]:
            r = ROLE_OTHER
        elif head_age >= GRANDPARENT_MIN_AGE and u_lo(x) < shares[3]:
            r = ROLE_GRANDCHILD
        else:
            r = ROLE_CHILD
        role[i] = r
        if ((spouse and p <= 1) or (n_par == 2 and p >= size - 2)) and own[0] <= s and s < own[1]:
            paired += 1
    return paired


@njit(forceinline=True, cache=True)
def _generation_gap(h):
    return GENERATION_GAP_MIN + int(10.0 * u_hi(h)) + int(10.0 * u_lo(h))


@njit(parallel=True, cache=True)
def ages_and_sexes(household, order, role, keys, shares, p_male, edges, cdf, age, sex, fill):
    """Heads' ages from the age bands (>= HEAD_MIN_AGE); spouses near the head's age;
    children one generation younger, grandchildren two, parents one older; others from the
    age bands. A spouse has the head's opposite sex, and so do the two parents of a pair.
    Fills the slots ``fill[0]..fill[1]-1``."""
    ckey, akey, skey = keys[0], keys[1], keys[2]
    for j in prange(fill[0], fill[1]):
        i = _agent(order, j)
        h, s, e = _span(household, order, j)
        size, p = e - s, j - s
        spouse, n_par, head_age, y = _household(ckey, h, size, shares, edges, cdf)
        head_male = u_lo(y) < p_male
        male = u_hi(agent_hash(skey, i)) < p_male
        x = agent_hash(akey, i)
        r = role[i]
        if r == ROLE_HEAD:
            a, male = head_age, head_male
        elif r == ROLE_SPOUSE:
            gap = -SPOUSE_AGE_GAP if head_male else SPOUSE_AGE_GAP
            a = int(round(head_age + gap + SPOUSE_AGE_SD * normal(x)))
            a, male = min(max(a, HEAD_MIN_AGE), MAX_AGE), not head_male
        elif r == ROLE_CHILD or r == ROLE_GRANDCHILD:
            gens = 1 if r == ROLE_CHILD else 2
            a = head_age - _generation_gap(x)
            if gens == 2:
                a -= _generation_gap(agent_hash_k(akey, i, 1))
            if a < 0:  # a young head: any age at least ``gens`` generations below
                room = head_age - gens * GENERATION_GAP_MIN + 1
                a = int(u_hi(agent_hash_k(akey, i, 0)) * room)
        elif r == ROLE_PARENT:
            a = min(head_age + _generation_gap(x), MAX_AGE)
            if n_par == 2:
                first_male = u_hi(agent_hash_k(ckey, h, 2)) < p_male
                male = first_male if p == size - 2 else not first_male
        else:
            a = age_between(u_hi(x), 0, MAX_AGE + 1, edges, cdf)
        age[i] = a
        sex[i] = SEX_MALE if male else 1 - SEX_MALE


# ---------------------------------------------------------------- education, work, income


@njit(parallel=True, cache=True)
def work(age, sex, region, keys, tables, knobs, occupation, income, enrolled, fill):
    """Occupation by age: none under 6, student 6-17 and (``tertiary``) 18-22, retired from
    the retirement age, else employed with ``employment`` by the region's catalogue shares.
    Log-normal income of the employed and retired, 0 for the others; enrolment. Fills the
    citizens ``fill[0]..fill[1]-1``."""
    okey, ikey, nkey = keys[0], keys[1], keys[2]
    occ_cdf, occ_mult, level = tables
    tertiary, employment, pension, median, sigma = knobs[0], knobs[1], knobs[2], knobs[3], knobs[4]
    retire_male, retire_female, enrolled_share = knobs[5], knobs[6], knobs[7]
    for i in prange(fill[0], fill[1]):
        a = np.int64(age[i])
        r = np.int64(region[i])
        ho = agent_hash(okey, i)
        occ, mult = OCC_NONE, 0.0
        if a < 6:
            pass
        elif a < 18 or (a <= 22 and u_hi(ho) < tertiary):
            occ = OCC_STUDENT
        elif a >= (retire_male if sex[i] == SEX_MALE else retire_female):
            occ, mult = OCC_RETIRED, pension
        elif u_lo(ho) < employment:
            k = pick(occ_cdf[r], u_hi(agent_hash_k(okey, i, 0)), 0)
            occ, mult = FIRST_CODE + k, occ_mult[k]
        occupation[i] = occ
        if mult > 0.0:
            income[i] = median * level[r] * mult * math.exp(sigma * normal(agent_hash(ikey, i)))
        else:
            income[i] = 0.0
        enrolled[i] = u_hi(agent_hash(nkey, i)) < enrolled_share


@njit(forceinline=True, cache=True)
def _floor(occ, floor_of):
    """Lowest education of an adult: tertiary for students, else the occupation's minimum."""
    return EDU_TERTIARY if occ == OCC_STUDENT else np.int64(floor_of[occ])


@njit(cache=True)
def floor_counts(age, occupation, floor_of, lo, hi):
    """Adults (18+) among the citizens ``lo..hi-1`` by the lowest education their occupation
    allows (serial: exact counts)."""
    counts = np.zeros(EDU_TERTIARY + 1, dtype=np.int64)
    for i in range(lo, hi):
        if age[i] >= 18:
            counts[_floor(occupation[i], floor_of)] += 1
    return counts


@njit(parallel=True, cache=True)
def schooling(age, occupation, floor_of, ekey, edu_cdf, education, fill):
    """Pupils by age (primary 6-11, junior 12-14, senior 15-17); adults from ``edu_cdf``
    truncated to their floor (``_floor``). Fills the citizens ``fill[0]..fill[1]-1``."""
    for i in prange(fill[0], fill[1]):
        a = np.int64(age[i])
        if a < 6:
            edu = 0
        elif a < 18:
            edu = EDU_PRIMARY if a < 12 else (EDU_JUNIOR if a < 15 else EDU_SENIOR)
        else:
            m = _floor(occupation[i], floor_of)
            base = edu_cdf[m - 1] if m > 0 else 0.0
            edu = pick(edu_cdf, base + u_hi(agent_hash(ekey, i)) * (1.0 - base), m)
        education[i] = edu
