"""Waiting times of daily hazards: the geometric law of daily Bernoulli draws."""

import numpy as np

from scsim.days import MAX_DAYS
from scsim.kernels.waiting import NEVER, day_at, next_event_day


def test_waits_follow_the_geometric_law():
    """P(T > k) = (1 - h)^k for every k; 200 000 uniforms on a grid (no sampling noise beyond
    the grid spacing 5e-6, far below the 1e-4 tolerance)."""
    h = 0.03
    u = (np.arange(200_000) + 0.5) / 200_000
    waits = np.array([next_event_day(-1, x, h) + 1 for x in u])
    assert waits.min() == 1
    for k in (1, 5, 30, 100):
        assert abs(np.mean(waits > k) - (1 - h) ** k) < 1e-4, k


def test_zero_and_certain_hazards():
    assert next_event_day(10, 0.5, 0.0) == NEVER
    assert next_event_day(10, 0.99, 1.0) == 11
    assert next_event_day(MAX_DAYS - 10, 0.999999, 1e-9) == NEVER  # capped, never wraps


def test_a_day_past_every_run_is_stored_as_never():
    """A day field is int16: a day beyond the longest run (a ban of 100 years set late in a
    long run) is capped at NEVER instead of wrapping to a negative day, which would lift it."""
    last = MAX_DAYS - 1  # the last day of the longest run
    assert day_at(np.int64(last)) == last < NEVER
    assert day_at(np.int64(last) + 36500) == NEVER
    assert day_at(np.int64(2**40)) == NEVER
    assert day_at(np.int64(-1)) == -1
    assert next_event_day(last, 0.5, 1.0) == MAX_DAYS < NEVER
    assert next_event_day(last, 0.5, 0.01) == NEVER
