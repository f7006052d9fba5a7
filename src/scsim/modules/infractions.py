"""Minor infractions (mission row 6): a catalogue of acts with rates, detection and penalties."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from pydantic import Field

from scsim.modules.base import Module, emit
from scsim.params import ModuleParams, Name, Probability, Rate, Strict
from scsim.rng import agent_hash, u_hi, u_lo


class Infraction(Strict):
    fixed = {"name": "a kind's name names its events' cause"}

    name: Name
    rate: Rate
    detect_prob: Probability = Field(description="chance the act is seen and recorded")
    penalty: float = Field(le=0, ge=-1000, description="score change when detected")


class InfractionsParams(ModuleParams):
    kinds: list[Infraction] = Field(min_length=1)


InfractionsArgs = namedtuple(
    "InfractionsArgs", ["dkeys", "rates", "detect", "penalties", "col", "evk"]
)


@njit(inline="always", cache=True)
def infractions_delta(a, rec, ev, dkeys, rates, detect, penalties, col, evk):
    delta = np.float32(0.0)
    for c in range(rates.size):
        h = agent_hash(dkeys[c], a.i)
        if u_hi(h) < rates[c]:
            rec[a.region, col] += 1.0
            if u_lo(h) < detect[c]:
                rec[a.region, col + 1] += 1.0
                delta += penalties[c]
                emit(ev, a, evk + 1, c, penalties[c], -1)
            else:
                emit(ev, a, evk, c, 0.0, -1)
    return delta


class Infractions(Module):
    """One hash per kind per agent-day: its high half decides the act, its low half detection."""

    name = "infractions"
    Args = InfractionsArgs
    phase = "behaviour"
    records = ("infractions_committed", "infractions_detected")
    delta = infractions_delta
    events = ("unseen", "recorded")
    offence = True

    @property
    def causes(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.params.kinds)

    def init(self) -> None:
        kinds = self.params.kinds
        self.rates = np.array([k.rate for k in kinds], dtype=np.float64)
        self.detect = np.array([k.detect_prob for k in kinds], dtype=np.float64)
        self.penalties = np.array([k.penalty * self.weight for k in kinds], dtype=np.float32)

    def refresh(self) -> None:
        """Rates, detection and weighted penalties from the parameters in force."""
        self.init()

    def args(self, day: int) -> tuple:
        dkeys = self.day_keys([k.name for k in self.params.kinds], day)
        return InfractionsArgs(dkeys, self.rates, self.detect, self.penalties, self.col, self.evk)
