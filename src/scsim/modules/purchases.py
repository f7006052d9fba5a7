"""Purchases and lifestyle (mission rows 3, 4): categories of acts, each with a score effect."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from pydantic import Field

from scsim.modules.base import Module, emit
from scsim.params import ModuleParams, Name, Rate, Strict
from scsim.rng import agent_hash, u_hi


class Category(Strict):
    name: Name
    rate: Rate = Field(description="probability an agent does this on a given day")
    effect: float = Field(ge=-1000, le=1000, description="score change when it happens")


class PurchasesParams(ModuleParams):
    categories: list[Category] = Field(min_length=1)


PurchasesArgs = namedtuple("PurchasesArgs", ["dkeys", "rates", "effects", "col", "evk"])


@njit(inline="always", cache=True)
def purchases_delta(a, rec, ev, dkeys, rates, effects, col, evk):
    delta = np.float32(0.0)
    for c in range(rates.size):
        if u_hi(agent_hash(dkeys[c], a.i)) < rates[c]:
            rec[a.region, col + c] += 1.0
            delta += effects[c]
            emit(ev, a, evk, c, effects[c], -1)
    return delta


class Purchases(Module):
    """Each category is one Bernoulli draw per agent per day from its own stream."""

    name = "purchases"
    Args = PurchasesArgs
    phase = "behaviour"
    delta = purchases_delta
    events = ("purchase",)

    @property
    def records(self) -> tuple[str, ...]:
        return tuple(f"purchases_{c.name}" for c in self.params.categories)

    @property
    def causes(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.params.categories)

    def init(self) -> None:
        cats = self.params.categories
        self.rates = np.array([c.rate for c in cats], dtype=np.float64)
        self.effects = np.array([c.effect * self.weight for c in cats], dtype=np.float32)

    def args(self, day: int) -> tuple:
        dkeys = self.day_keys([c.name for c in self.params.categories], day)
        return PurchasesArgs(dkeys, self.rates, self.effects, self.col, self.evk)
