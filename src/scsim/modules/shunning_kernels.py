"""Numba kernels of the shunning module: spare slots, cutting and forming ties, daily records.

Edges live in slots of the CSR rows. With shunning on, every row ends with ``spare`` extra
slots (padded with the agent itself, inactive) where new ties go, so the graph never
reallocates. ``rev[e]`` is the slot of the same tie in the other endpoint's row; ``active`` is
the per-slot mask the day's gather reads (1: a tie, 0: cut or unused). During ``finish`` bit
``MARK`` of ``active`` flags a tie an agent chose to cut; marks are set by each agent in its
own row only (in parallel), then applied to both slots of the tie in agent order, so the result
is the same for any thread count.

The daily kernels count into the day's record table (regions x columns) at the columns they are
given (``Shunning.column`` of each record).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from scsim.fusion import BLOCK
from scsim.protocol import SANCTIONED
from scsim.rng import agent_hash, agent_hash_k, below, u_hi, u_lo

MARK = np.uint8(2)
"""Bit of an ``active`` byte: the tie was chosen to be cut today (set and cleared in finish)."""


@njit(parallel=True, cache=True)
def widen_rows(indptr, indices, layer, new_indptr, new_indices, new_layer, active, spare):
    """Copy each row into the wider graph; its ``spare`` last slots point to the agent itself,
    inactive, with no layer."""
    n = indptr.size - 1
    for i in prange(n):
        src = np.int64(indptr[i])
        dst = np.int64(new_indptr[i])
        d = np.int64(indptr[i + 1]) - src
        for k in range(d):
            new_indices[dst + k] = indices[src + k]
            active[dst + k] = 1
            if layer.size:
                new_layer[dst + k] = layer[src + k]
        for k in range(d, d + spare):
            new_indices[dst + k] = i
            active[dst + k] = 0
            if layer.size:
                new_layer[dst + k] = 0


@njit(parallel=True, cache=True)
def reverse_slots(indptr, indices, spare, rev):
    """``rev[e]``: the slot of tie ``e`` in the other endpoint's row (rows' original parts are
    sorted: binary search); spare slots point to themselves."""
    n = indptr.size - 1
    for i in prange(n):
        start = np.int64(indptr[i])
        stop = np.int64(indptr[i + 1]) - spare
        for e in range(start, stop):
            j = np.int64(indices[e])
            lo = np.int64(indptr[j])
            hi = np.int64(indptr[j + 1]) - spare
            while lo < hi:
                mid = (lo + hi) >> 1
                if np.int64(indices[mid]) < i:
                    lo = mid + 1
                else:
                    hi = mid
            rev[e] = lo
        for e in range(stop, stop + spare):
            rev[e] = e


@njit(inline="always", cache=True)
def offends(j, packed, public, trigger):
    """Whether agent ``j``'s published state carries a flag in ``trigger``."""
    flags = public[j] if public.size > 1 else np.uint8(0)
    if np.signbit(packed[j]):
        flags |= SANCTIONED
    return (flags & trigger) != 0


@njit(parallel=True, cache=True)
def mark_cuts(key, indptr, indices, active, hurt, packed, public, trigger, cut_prob):
    """Each hurt agent marks, in its own row, the active ties to offending neighbours it cuts
    (one draw keyed by (day, agent, slot) each)."""
    n = indptr.size - 1
    for i in prange(n):
        if hurt[i] == 0:
            continue
        start = np.int64(indptr[i])
        for e in range(start, np.int64(indptr[i + 1])):
            if active[e] and offends(indices[e], packed, public, trigger):
                if u_hi(agent_hash_k(key, i, e - start)) < cut_prob:
                    active[e] |= MARK


@njit(cache=True)
def apply_cuts(indptr, indices, active, rev, hurt, degree, region, rec, col_cut):
    """Cut every marked tie on both sides, in agent order; count cuts by the cutter's region
    (column ``col_cut``)."""
    n = indptr.size - 1
    for i in range(n):
        if hurt[i] == 0:
            continue
        for e in range(np.int64(indptr[i]), np.int64(indptr[i + 1])):
            if active[e] & MARK:
                active[e] = 0
                r = rev[e]
                if active[r]:  # the other side may have marked it too
                    active[r] = 0
                    degree[i] -= 1
                    degree[indices[e]] -= 1
                    rec[region[i] if region.size > 1 else 0, col_cut] += 1.0


@njit(inline="always", cache=True)
def free_slot(indptr, active, i, spare):
    """First unused spare slot of agent ``i``, or -1."""
    stop = np.int64(indptr[i + 1])
    for e in range(stop - spare, stop):
        if active[e] == 0:
            return e
    return np.int64(-1)


@njit(inline="always", cache=True)
def tied(indptr, indices, active, i, j):
    """Whether ``i`` and ``j`` share an active tie (scan of i's row)."""
    for e in range(np.int64(indptr[i]), np.int64(indptr[i + 1])):
        if active[e] and indices[e] == j:
            return True
    return False


@njit(inline="always", cache=True)
def _eligible(i, c, indptr, indices, active, spare, packed, public, trigger):
    return (
        c != i
        and not offends(c, packed, public, trigger)
        and free_slot(indptr, active, c, spare) >= 0
        and not tied(indptr, indices, active, i, c)
    )


@njit(parallel=True, cache=True)
def propose(keys, knobs, indptr, indices, active, degree, spare, packed, public, trigger,
            region, region_start, proposal, pool, candidates):  # fmt: skip
    """Each agent that lost ties (fewer active than its original row) and has a free spare slot
    seeks a friend with daily chance ``form_rate``: it draws ``candidates`` citizens of its
    region and picks one among the eligible (not itself, not offending, not already a friend,
    with a free slot) with weight ``exp(seeking * (score - hi) / (hi - lo))`` (``seeking`` is 0
    when scores are not visible: a uniform pick). ``candidates[block, region]`` counts the
    eligible candidates."""
    form_rate, n_cand, seeking = knobs[0], np.int64(knobs[1]), knobs[2]
    lo, hi = knobs[3], knobs[4]
    n = indptr.size - 1
    inv = 1.0 / (hi - lo)
    for b in prange(candidates.shape[0]):
        for i in range(b * BLOCK, min((b + 1) * BLOCK, n)):
            proposal[i] = -1
            base = np.int64(indptr[i + 1]) - np.int64(indptr[i]) - spare
            if degree[i] >= base or free_slot(indptr, active, i, spare) < 0:
                continue
            h = agent_hash(keys[0], i)
            if u_hi(h) >= form_rate:
                continue
            g = np.int64(region[i]) if region.size > 1 else 0
            r0 = region_start[g]
            size = region_start[g + 1] - r0
            total = 0.0
            score_sum = 0.0
            count = 0
            for k in range(n_cand):
                c = r0 + below(agent_hash_k(keys[1], i, k), size)
                if _eligible(i, c, indptr, indices, active, spare, packed, public, trigger):
                    s = abs(packed[c])
                    total += math.exp(seeking * (s - hi) * inv)
                    score_sum += s
                    count += 1
            if count == 0 or total <= 0.0:
                continue
            candidates[b, g] += count
            pool[i] = score_sum / count
            target = u_lo(h) * total
            acc = 0.0
            for k in range(n_cand):
                c = r0 + below(agent_hash_k(keys[1], i, k), size)
                if _eligible(i, c, indptr, indices, active, spare, packed, public, trigger):
                    acc += math.exp(seeking * (abs(packed[c]) - hi) * inv)
                    proposal[i] = c
                    if acc > target:
                        break


@njit(cache=True)
def form_ties(proposal, pool, indptr, indices, active, rev, layer, friends_bit, degree, spare,
              packed, region, rec, col_formed, col_friend_score, col_pool_score):  # fmt: skip
    """Link proposers to their picks in agent order, while both still have a free slot and are
    not yet tied; by the proposer's region, count ties formed (``col_formed``) and sum the new
    friends' scores (``col_friend_score``) and the proposers' pool means (``col_pool_score``)."""
    for i in range(proposal.size):
        j = proposal[i]
        if j < 0:
            continue
        a = free_slot(indptr, active, i, spare)
        b = free_slot(indptr, active, j, spare)
        if a < 0 or b < 0 or tied(indptr, indices, active, i, j):
            continue
        indices[a] = j
        indices[b] = i
        active[a] = 1
        active[b] = 1
        rev[a] = b
        rev[b] = a
        if layer.size:
            layer[a] = friends_bit
            layer[b] = friends_bit
        degree[i] += 1
        degree[j] += 1
        g = region[i] if region.size > 1 else 0
        rec[g, col_formed] += 1.0
        rec[g, col_friend_score] += abs(packed[j])
        rec[g, col_pool_score] += pool[i]


@njit(cache=True)
def degree_records(degree, listed, region, rec, col_tie_ends, col_isolated, col_listed_ties,
                   col_listed, col_unlisted_ties, col_unlisted):  # fmt: skip
    """Tie ends (active degrees), isolated citizens, and the degrees (sums of active ties) and
    counts of listed and unlisted citizens, by region, in the columns named."""
    for i in range(degree.size):
        g = region[i] if region.size > 1 else 0
        d = degree[i]
        rec[g, col_tie_ends] += d
        if d == 0:
            rec[g, col_isolated] += 1.0
        if listed.size > 1 and listed[i]:
            rec[g, col_listed_ties] += d
            rec[g, col_listed] += 1.0
        else:
            rec[g, col_unlisted_ties] += d
            rec[g, col_unlisted] += 1.0


@njit(parallel=True, cache=True)
def active_degrees(indptr, active, degree):
    """Active slots of each row."""
    for i in prange(indptr.size - 1):
        d = 0
        for e in range(np.int64(indptr[i]), np.int64(indptr[i + 1])):
            d += active[e]
        degree[i] = d
