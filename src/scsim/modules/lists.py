"""Blacklists (mission row 14): citizens whose score falls below a threshold are listed."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from pydantic import Field

from scsim.modules.base import Module
from scsim.params import ModuleParams


class ListsParams(ModuleParams):
    blacklist_below: float = Field(default=500.0, description="listed while the score is below")


ListsArgs = namedtuple("ListsArgs", ["listed", "threshold", "col"])


@njit(inline="always", cache=True)
def lists_after(a, score, rec, listed, threshold, col):
    now = score < threshold
    if now:
        rec[col] += 1.0
        if not listed[a.i]:
            rec[col + 1] += 1.0
    if now != listed[a.i]:  # write only on change: no dirtied cache lines
        listed[a.i] = now
    return False


class Lists(Module):
    """The blacklist is recomputed from each day's new score."""

    name = "lists"
    Args = ListsArgs
    phase = "lists"
    records = ("listed", "newly_listed")
    after = lists_after

    def init(self) -> None:
        self.sim.people.add("listed", np.zeros(self.sim.n, dtype=np.bool_))

    def args(self, day: int) -> tuple:
        return ListsArgs(self.sim.people.listed, np.float32(self.params.blacklist_below), self.col)
