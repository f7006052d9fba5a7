"""Stock records (loans active, citizens in default ...) kept as daily net flows by the hooks.

Counting a stock by touching every holder every day would put a record update on every agent's
common path. Instead a hook adds +1 to the stock's record column when an agent enters the state
and -1 when it leaves; after the day, ``carry`` adds yesterday's level (or the initial level on
day 0), so the column holds the level at the end of each day, per region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scsim.protocol import Module


def initial_levels(
    region: np.ndarray | None, states: list[np.ndarray], n_regions: int, own: tuple[int, int]
) -> np.ndarray:
    """Initial level of each stock by region (regions x stocks) from per-agent bool states,
    counted over the citizens ``own`` = (lo, hi) (an MPI rank's, ``Host.add_over_ranks`` adds
    up the ranks')."""
    lo, hi = own
    out = np.zeros((n_regions, len(states)), dtype=np.float64)
    for k, state in enumerate(states):
        if region is None:
            out[0, k] = np.count_nonzero(state[lo:hi])
        else:
            weights = state[lo:hi].astype(np.float64)
            out[:, k] = np.bincount(region[lo:hi], weights=weights, minlength=n_regions)[:n_regions]
    return out


def carry(module: Module, day: int, stocks: str, initial: np.ndarray) -> None:
    """Turn the day's net flows in the module's record (or contiguous record group) ``stocks``,
    one column per column of ``initial`` (regions x stocks), into levels: add the previous
    day's level, or ``initial`` on day 0."""
    first = module.column(stocks)
    cols = slice(first, first + initial.shape[1])
    before = initial if day == 0 else module.sim.day_records(day - 1)[:, cols]
    module.sim.day_records(day)[:, cols] += before
