"""Stock records (loans active, citizens in default ...) kept as daily net flows by the hooks.

Counting a stock by touching every holder every day would put a record update on every agent's
common path. Instead a hook adds +1 to the stock's record column when an agent enters the state
and -1 when it leaves; after the day, ``carry`` adds yesterday's level (or the initial level on
day 0), so the column holds the level at the end of each day, per region.
"""

from __future__ import annotations

import numpy as np


def initial_levels(
    region: np.ndarray | None, states: list[np.ndarray], n_regions: int
) -> np.ndarray:
    """Initial level of each stock by region (regions x stocks) from per-agent bool states."""
    out = np.zeros((n_regions, len(states)), dtype=np.float64)
    for k, state in enumerate(states):
        if region is None:
            out[0, k] = np.count_nonzero(state)
        else:
            weights = state.astype(np.float64)
            out[:, k] = np.bincount(region, weights=weights, minlength=n_regions)[:n_regions]
    return out


def carry(records: np.ndarray, day: int, cols: list[int], initial: np.ndarray) -> None:
    """Turn the day's net flows in ``cols`` of ``records`` (days x regions x columns) into
    levels: add the previous day's level, or ``initial`` (regions x stocks) on day 0."""
    before = initial if day == 0 else records[day - 1][:, cols]
    records[day][:, cols] += before
