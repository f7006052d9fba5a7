"""Sanctions (mission row 13): listed citizens are banned from travel for a set time."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from pydantic import Field

from scsim.modules.base import SANCTIONED, Module, emit
from scsim.params import ModuleParams


class SanctionsParams(ModuleParams):
    ban_days: int = Field(
        default=365, ge=1, le=36500, description="length of a flight and train ban (seed 004)"
    )


SanctionsArgs = namedtuple("SanctionsArgs", ["listed", "ban_until", "ban_days", "col", "evk"])


@njit(inline="always", cache=True)
def sanctions_after(a, score, rec, ev, listed, ban_until, ban_days, col, evk):
    # Banned today (ban_until > day) implies visibly sanctioned today: yesterday this hook
    # returned ban_until > day, which set the sign bit (ban_until starts at -1 and only this
    # hook writes it; keep it so). So an agent neither listed nor sanctioned has nothing to
    # change or count, and its ban_until is not read (SC-core, N = 10 M, 2 threads: 63 -> 68 M/s).
    if not (a.flags & SANCTIONED or listed[a.i]):
        return np.uint8(0)
    until = ban_until[a.i]
    if listed[a.i] and until <= a.day:
        until = np.int32(a.day + ban_days)
        ban_until[a.i] = until
        rec[a.region, col + 1] += 1.0
        emit(ev, a, evk, -1, 0.0, -1)
    if until > a.day:
        rec[a.region, col] += 1.0
    return SANCTIONED if until > a.day + 1 else np.uint8(0)


class Sanctions(Module):
    """A listed citizen not banned today is banned for ``ban_days`` (banned on day t iff
    ``ban_until > t``); the ban is visible to neighbours as a sanction."""

    name = "sanctions"
    Args = SanctionsArgs
    phase = "sanctions"
    records = ("banned", "newly_banned")
    after = sanctions_after
    events = ("banned",)
    requires = ("lists",)

    def init(self) -> None:
        self.sim.people.add("ban_until", np.full(self.sim.n, -1, dtype=np.int32))

    def args(self, day: int) -> tuple:
        people = self.sim.people
        return SanctionsArgs(
            people.listed, people.ban_until, self.params.ban_days, self.col, self.evk
        )
