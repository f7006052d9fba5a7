"""Waiting times of daily hazards: the geometric law of daily Bernoulli draws."""

import numpy as np

from scsim.kernels.waiting import NEVER, next_event_day


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
    assert next_event_day(2**31 - 10, 0.999999, 1e-9) == NEVER  # capped, never wraps
