"""Waiting times of daily hazards: schedule the day an event first happens instead of drawing
every day, so a hook touches an agent only on the days something happens to it.

A daily Bernoulli(h) draw first succeeds after ``T`` days, ``P(T = k) = (1 - h)^(k-1) h``
(geometric). ``T = 1 + floor(log(1 - u) / log(1 - h))`` for one uniform ``u`` has exactly this
law: ``P(T > k) = P(1 - u <= (1 - h)^k) = (1 - h)^k``. Because the geometric law is memoryless,
a hazard that changes (an income shock starts) is handled by drawing a fresh waiting time from
the day of the change.
"""

import math

import numpy as np
from numba import njit

from scsim.days import NEVER


@njit(inline="always", cache=True)
def day_at(day):
    """``day`` as a ``DAY`` field stores it: capped at ``NEVER`` (past every run's end)."""
    return np.int16(min(day, np.int64(NEVER)))


@njit(cache=True)
def next_event_day(day, u, hazard):
    """The day (``DAY``) a daily event of probability ``hazard`` first happens after ``day``,
    from one uniform ``u`` in [0, 1); ``NEVER`` when the hazard is 0."""
    if hazard <= 0.0:
        return NEVER
    if hazard >= 1.0:
        return np.int16(day + 1)
    wait = 1.0 + math.floor(math.log(1.0 - u) / math.log1p(-hazard))
    return np.int16(min(day + wait, float(NEVER)))
