"""Appeals against a listing (the lists module's ``appeals``; docs/odd_lists.md, step 5).

A listed citizen files one appeal per listing with a daily ``appeal_rate`` (``lists_after``);
it is decided ``appeal_delay`` days later (``lists_delta``, fused only with ``appeals`` on) and
won with ``success_if_wrongful`` or ``success_if_rightful``. A won appeal restores the false
points on file (the ``lists`` score component) and quashes a wrong court listing; the after hook
lifts the listing the same day. Off by default: no recourse (seed 004).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scsim.protocol import emit
from scsim.rng import agent_hash, u_hi

NO_APPEAL, APPEAL_LOST, APPEAL_WON = -1, -2, -3
"""``appeal_due`` values besides a decision day: none filed during this listing; filed and
lost (no second appeal during the same listing); won today (the listing is lifted today)."""

STREAMS = ("appeal_file", "appeal_decide", "aggravate")
K_FILE, K_DECIDE, K_AGGRAVATE = range(3)
"""Rows of the lists module's day keys (``keys``): filing and deciding appeals, and drawing
aggravated terms."""

P_FILE, P_WIN_WRONGFUL, P_WIN_RIGHTFUL = range(3)
"""Rows of ``probs``: the daily chance of filing, of winning against a wrongful listing and
against a rightful one."""


def appeal_probs(params) -> np.ndarray:
    """``probs`` from the lists parameters in force."""
    p = params
    return np.array([p.appeal_rate, p.success_if_wrongful, p.success_if_rightful], np.float64)


@njit(inline="always", cache=True)
def lists_delta(
    a, rec, ev, appeal_due, wrongful, false_points, court_listed, court_wrongful, fp_on, court,
    keys, probs, col_appeals_won, col_appeals_lost, kind_appeal_won, kind_appeal_lost,
):  # fmt: skip
    """Decide an appeal due today (only fused when appeals are on). A won appeal restores the
    false points on file; the after hook lifts the listing the same day."""
    i = a.i
    if appeal_due[i] != a.day:
        return np.float32(0.0)
    p = probs[P_WIN_WRONGFUL] if wrongful[i] else probs[P_WIN_RIGHTFUL]
    if u_hi(agent_hash(keys[K_DECIDE], i)) < p:
        appeal_due[i] = APPEAL_WON
        restored = np.float32(0.0)
        if fp_on and false_points[i] < 0:
            restored = -false_points[i]
            false_points[i] = np.float32(0.0)
        if court and court_wrongful[i]:  # the wrong judgement is quashed
            court_listed[i] = False
            court_wrongful[i] = False
        rec[a.region, col_appeals_won] += 1.0
        emit(ev, a, kind_appeal_won, -1, restored, -1)
        return restored
    appeal_due[i] = APPEAL_LOST
    rec[a.region, col_appeals_lost] += 1.0
    emit(ev, a, kind_appeal_lost, -1, 0.0, -1)
    return np.float32(0.0)
