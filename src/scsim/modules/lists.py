"""Blacklists (mission row 14): citizens whose score falls below a threshold are listed."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from pydantic import Field

from scsim.modules.base import LISTED, Module, emit
from scsim.params import ModuleParams


class ListsParams(ModuleParams):
    blacklist_below: float = Field(default=500.0, description="listed while the score is below")
    disclose: bool = Field(
        default=True,
        description="the blacklist is public: neighbours see who is on it (seed 002)",
    )


ListsArgs = namedtuple("ListsArgs", ["listed", "threshold", "disclose", "col", "evk"])


@njit(inline="always", cache=True)
def lists_after(a, score, rec, ev, listed, threshold, disclose, col, evk):
    now = score < threshold
    if now:
        rec[a.region, col] += 1.0
        if not listed[a.i]:
            rec[a.region, col + 1] += 1.0
    if now != listed[a.i]:  # write only on change: no dirtied cache lines
        listed[a.i] = now
        emit(ev, a, evk if now else evk + 1, -1, 0.0, -1)
    return LISTED if now and disclose else np.uint8(0)


class Lists(Module):
    """The blacklist is recomputed from each day's new score."""

    name = "lists"
    Args = ListsArgs
    phase = "lists"
    records = ("listed", "newly_listed")
    after = lists_after
    events = ("listed", "delisted")

    def init(self) -> None:
        self.sim.people.add("listed", np.zeros(self.sim.n, dtype=np.bool_))

    def args(self, day: int) -> tuple:
        p = self.params
        return ListsArgs(
            self.sim.people.listed, np.float32(p.blacklist_below), p.disclose, self.col, self.evk
        )
