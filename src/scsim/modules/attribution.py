"""Attribution of the friends terms (mission row 9): which friends moved an audited score.

The fused kernel computes the friends terms from one gather over all neighbours at once (the
hot loop, ``scsim.kernels.agent``). For audited citizens only, ``attribute_friends`` walks the
neighbour list a second time and logs one ``scoring.friend`` event per neighbour whose share
is not zero: ``source`` is the neighbour, ``delta`` its share, ``pull * (its score - own score)
/ degree`` plus the penalty for each public fact about it (sanctioned, disclosed on a
blacklist, a fresh record). The shares sum to the day's change of the ``friends`` component up
to float32 rounding of the kernel's neighbour sum (see ``tests/modules/test_attribution.py``).
The event's cause names the penalties it includes (its pull share is always included). A
citizen-day yields about ``degree`` events, so only a sub-sample of the audit sample is
attributed (``modules.scoring.attribute_sample``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scsim.network.ring import ring_nth
from scsim.protocol import LISTED, OFFENDED, emit

PENALTY_NAMES = ("sanctioned", "listed", "offended")
"""Penalties of the friends terms, by bit of an attribution event's cause."""

FRIEND_CAUSES = tuple(
    "+".join(name for b, name in enumerate(PENALTY_NAMES) if bits >> b & 1) or "pull"
    for bits in range(1 << len(PENALTY_NAMES))
)
"""Cause names by bit mask: ``pull`` (no penalty), ``sanctioned``, ``listed``,
``sanctioned+listed``, ... (every cause's delta includes the pull share)."""

_C_SANCTIONED, _C_LISTED, _C_OFFENDED = 1, 2, 4


def attribution_stride(audit_stride: int, audit_size: int, sample: int) -> int:
    """Citizens ``0, k, 2k, ...`` have their friends attributed: every ``ceil(audit_size /
    sample)``-th audited citizen (all of them when ``sample >= audit_size``); 0: nobody."""
    if sample <= 0 or audit_stride <= 0:
        return 0
    return audit_stride * max(1, -(-audit_size // sample))


@njit(inline="always", cache=True)
def attribute_friends(
    a, ev, kind, indptr, indices, active, ring, ring_half, packed, public, pull, per_sanctioned,
    per_listed, per_offended,
):  # fmt: skip
    """Log each neighbour's share of agent ``a``'s friends terms (audited agents only), in
    ascending id order; with a mask (``active.size > 1``, shunning) cut ties and spare slots
    are skipped; over a ring (``ring.size > 1``) the row is walked tie by tie (``ring_nth``)."""
    one = np.uint64(1)
    on_ring = ring.size > 1
    start = np.uint64(0) if on_ring else np.uint64(indptr[a.i])
    stop = np.uint64(a.degree) if on_ring else np.uint64(indptr[a.i + one])
    if a.degree == 0:
        return
    masked = active.size > 1
    inv_degree = 1.0 / np.float64(a.degree)
    gap_pull = np.float64(pull) * inv_degree
    own = np.float64(a.score)
    flags = per_listed != 0 or per_offended != 0
    e = start
    while e < stop:
        if masked and active[e] == 0:
            e += one
            continue
        if on_ring:
            j = np.uint32(ring_nth(np.int64(a.i), e, ring.size, ring_half, ring, indptr, indices))
        else:
            j = indices[e]
        x = packed[j]
        share = gap_pull * (np.float64(abs(x)) - own)
        cause = 0
        if per_sanctioned != 0 and np.signbit(x):
            share += np.float64(per_sanctioned)
            cause |= _C_SANCTIONED
        if flags:
            f = public[j]
            if per_listed != 0 and f & LISTED:
                share += np.float64(per_listed)
                cause |= _C_LISTED
            if per_offended != 0 and f & OFFENDED:
                share += np.float64(per_offended)
                cause |= _C_OFFENDED
        if share != 0:
            emit(ev, a, kind, cause, share, np.float64(j))
        e += one
