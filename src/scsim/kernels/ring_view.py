"""The engine's per-agent view over a network held by its ring (``scsim.network.ring``).

``ring_view`` gives what ``agent_view`` gives over the CSR form, bit for bit: it reads the
neighbours in the CSR row's order (ascending id) and adds their scores to two float32
accumulators alternating by position. For an interior row (``h <= v < n - h``) the order is the
ties off the ring below ``v``, the ring's set bits (two at a time, by ``cttz``), the rest; the
first and last ``h`` rows, whose ring wraps around the ids, take the general merge
(``scsim.network.ring.ring_row``'s). The accumulator of the next position is swapped in after a
single add, so no branch depends on a position's parity. The fused kernel calls it when the
network is held by its ring (``Sim.holds_ring``); ``bench/ring_gather.py`` times it against
``agent_view`` (docs/design/ring-network.md).
"""

import numpy as np
from numba import njit

from scsim.kernels.agent import COUNTS, PREFETCH_FAR, PREFETCH_META, PREFETCH_ROW
from scsim.kernels.bits import ctpop, cttz
from scsim.kernels.prefetch import prefetch
from scsim.network.ring import offset, rotation
from scsim.protocol import SANCTIONED, Agent

_LOW_LANE = np.uint64(0xFFFFFFFF)
_LANE = np.uint64(32)


@njit(inline="always", cache=True)
def _one(j, packed, public, with_public, sums):
    """Add neighbour ``j`` at the next position: ``sums`` is (acc, other, n_acc, n_other,
    counts), ``acc`` the next position's sum; swap after, so that it is again."""
    acc, other, n_acc, n_other, counts = sums
    x = packed[j]
    counts += COUNTS[public[j]] if with_public else np.uint64(0)
    return other, acc + abs(x), n_other, n_acc + np.uint64(np.signbit(x)), counts


@njit(inline="always", cache=True)
def ring_view(
    i, day, block, region, audit, xptr, xind, ring, half, packed, public, with_public
):  # fmt: skip
    """Agent ``i`` (uint64) over the ring form (``ring``: the ring bits, ``xptr``/``xind``: the
    ties off the ring, ``half``: k / 2); ``agent_view``'s Agent, with no tie mask."""
    zero = np.uint64(0)
    sums = (np.float32(0.0), np.float32(0.0), zero, zero, zero)
    flip = False  # whether the next position is odd (sums[0] holds the odd ones)
    n = np.int64(packed.size)
    v = np.int64(i)
    bits = np.int64(ring[i])
    e, stop = np.int64(xptr[i]), np.int64(xptr[i + np.uint64(1)])
    r = rotation(v, n, half)
    if r == 0:  # ids v - h .. v + h ascending: ties off the ring below, the ring, the rest
        while e < stop and np.int64(xind[e]) < v:
            sums = _one(xind[e], packed, public, with_public, sums)
            flip = not flip
            e += 1
        acc, other, n_acc, n_other, counts = sums
        m = (bits & ((np.int64(1) << half) - 1)) | ((bits >> half) << (half + 1))
        base = np.uint64(v - half)  # bit q of m: the tie to v - h + q
        while m & (m - 1):
            j = base + np.uint64(cttz(m))
            m &= m - 1
            k = base + np.uint64(cttz(m))
            m &= m - 1
            x = packed[j]
            y = packed[k]
            acc += abs(x)
            other += abs(y)
            n_acc += np.uint64(np.signbit(x))
            n_other += np.uint64(np.signbit(y))
            if with_public:
                counts += COUNTS[public[j]] + COUNTS[public[k]]
        sums = (acc, other, n_acc, n_other, counts)
        if m:
            sums = _one(base + np.uint64(cttz(m)), packed, public, with_public, sums)
            flip = not flip
    else:  # a wrap row: the general merge
        width = 2 * half
        for step in range(width):
            b = (r + step) % width
            if (bits >> b) & 1:
                t = (v + offset(b, half)) % n
                while e < stop and np.int64(xind[e]) < t:
                    sums = _one(xind[e], packed, public, with_public, sums)
                    flip = not flip
                    e += 1
                sums = _one(t, packed, public, with_public, sums)
                flip = not flip
    while e < stop:
        sums = _one(xind[e], packed, public, with_public, sums)
        flip = not flip
        e += 1
    acc, other, n_acc, n_other, counts = sums
    even, odd = (other, acc) if flip else (acc, other)
    total = even + odd
    own = packed[i]
    score = abs(own)
    degree = stop - np.int64(xptr[i]) + ctpop(bits)
    nb_mean = total / np.float32(degree) if degree > 0 else score
    flags = np.uint8(public[i]) if with_public else np.uint8(0)
    if np.signbit(own):
        flags |= SANCTIONED
    return Agent(
        i, day, block, region, audit, score, flags, nb_mean, np.int64(n_acc + n_other),
        np.int64(counts & _LOW_LANE), np.int64(counts >> _LANE), degree, np.float32(0.0),
    )  # fmt: skip


@njit(inline="always", cache=True)
def ring_prefetch_ahead(i, xptr, xind, ring, packed, public, with_public):
    """Prefetch what agents ahead of ``i`` (uint64) read over the ring form: the scores (and
    flags) of their ties off the ring (the far gathers: two unconditionally, the mean at
    p = 0.1, any further ones in a loop), those ties' lists, their row starts and ring bits."""
    n = np.uint64(ring.size)
    j = i + np.uint64(PREFETCH_FAR)
    if j < n:
        e = np.uint64(xptr[j])
        stop = np.uint64(xptr[j + np.uint64(1)])
        if xind.size > 0:
            last = np.uint64(xind.size - 1)
            for s in range(2):
                t = xind[min(e + np.uint64(s), last)]
                prefetch(packed, t)
                if with_public:
                    prefetch(public, t)
        e += np.uint64(2)
        while e < stop:
            prefetch(packed, xind[e])
            if with_public:
                prefetch(public, xind[e])
            e += np.uint64(1)
    j = i + np.uint64(PREFETCH_ROW)
    if j < n:
        prefetch(xind, np.uint64(xptr[j]))
    j = i + np.uint64(PREFETCH_META)
    if j < n:
        prefetch(xptr, j)
        prefetch(ring, j)
