"""One agent on one day as a hook sees it, and the hooks' way to log an event."""

from collections import namedtuple

import numpy as np
from numba import njit

Agent = namedtuple(
    "Agent",
    [
        "i", "day", "block", "region", "audit", "score", "flags",
        "nb_mean", "nb_sanctioned", "nb_listed", "nb_offended", "degree", "recorded",
    ],
)  # fmt: skip
Agent.__doc__ = """One agent on one day, as the fused kernel sees it (scalars only).

i: agent id (uint64); day: today; block: the agent's block of the parallel pass; region: its
region (0 without regions); audit: in the audit sample (its events are logged); score: score at
the end of yesterday; flags: its public flags published yesterday; nb_mean: mean of neighbours'
scores yesterday (own score when isolated); nb_sanctioned, nb_listed, nb_offended: neighbours
whose published flags carry ``SANCTIONED``, ``LISTED``, ``OFFENDED`` (the last two are counted
only when some module reads them, else 0); degree: number of neighbours; recorded: today's
score change from records of misconduct (negative; 0 before the scoring phase). An array in a
tuple built per agent would cost a reference-count update per agent, hence scalars only.
"""


@njit(cache=True)
def emit(ev, a, kind, cause, delta, source):
    """Log an event of an audited agent: ``kind`` a ``kind_<event>`` code, ``cause`` an index
    into the module's ``causes`` (or -1), ``source`` a citizen or -1."""
    if a.audit:
        k = np.int64(ev[0, 0]) + 1
        if k < ev.shape[0]:
            ev[k, 0] = a.day
            ev[k, 1] = a.i
            ev[k, 2] = kind
            ev[k, 3] = cause
            ev[k, 4] = delta
            ev[k, 5] = source
            ev[0, 0] = k
        else:
            ev[0, 1] += 1.0
