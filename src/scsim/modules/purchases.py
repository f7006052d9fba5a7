"""Purchases and lifestyle (mission rows 3, 4): categories of acts, each with a score effect.

Seed 003: "buying things that the regime appreciates, like dishwashers and baby supplies, your
credit score increases. If you're buying videogames, your score takes a negative hit"; seed
001: "information about hobbies, lifestyle, and shopping" enters the score. A category's daily
probability is its ``rate``, optionally shaped by a trait of the citizen (mean kept at ``rate``
when the trait averages 0.5) and restricted to a life stage (an age band); both need the
population module. ``LIFESTYLE`` is a documented default catalogue for presets.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from scsim.modules.base import Module, emit
from scsim.params import ModuleParams, Name, Rate, Strict
from scsim.rng import agent_hash, u_hi

Trait = Literal["dissent", "conformity", "risk_aversion", "sociability", "thrift"]


class Category(Strict):
    fixed = {"name": "a category's name names its record column"}

    name: Name
    rate: Rate = Field(description="probability an agent does this on a given day")
    effect: float = Field(ge=-1000, le=1000, description="score change when it happens")
    trait: Trait | None = Field(default=None, description="population trait shaping the rate")
    trait_weight: float = Field(
        default=0.0,
        ge=-1,
        le=1,
        description="rate x (1 + trait_weight x (2 trait - 1)): +1 doubles it at trait 1",
    )
    min_age: int = Field(default=0, ge=0, le=120, description="youngest age doing this")
    max_age: int = Field(default=120, ge=0, le=120, description="oldest age doing this")

    @model_validator(mode="after")
    def _ages(self) -> Category:
        if self.min_age > self.max_age:
            raise ValueError(f"min_age ({self.min_age}) must be <= max_age ({self.max_age})")
        return self

    @property
    def needs_population(self) -> bool:
        return self.trait is not None or self.min_age > 0 or self.max_age < 120


class PurchasesParams(ModuleParams):
    categories: list[Category] = Field(min_length=1)

    def needs_modules(self) -> tuple[str, ...]:
        return ("population",) if any(c.needs_population for c in self.categories) else ()


LIFESTYLE = [
    Category(name="household_appliance", rate=0.002, effect=3.0, trait="thrift", trait_weight=-0.5,
             min_age=22),
    Category(name="baby_goods", rate=0.01, effect=2.0, min_age=20, max_age=45),
    Category(name="video_games", rate=0.02, effect=-3.0, trait="conformity", trait_weight=-0.8,
             max_age=45),
    Category(name="heavy_gaming", rate=0.01, effect=-5.0, trait="conformity", trait_weight=-1.0,
             max_age=35),
    Category(name="volunteering", rate=0.005, effect=5.0, trait="conformity", trait_weight=0.8),
    Category(name="blood_donation", rate=0.0003, effect=10.0, min_age=18, max_age=60),
]  # fmt: skip
"""Default catalogue (seeds 001, 003 name the categories and the signs of their effects; rates
and sizes are assumptions, stated in docs/ODD.md)."""

PurchasesArgs = namedtuple(
    "PurchasesArgs",
    ["dkeys", "rates", "effects", "traits", "trait_of", "slope", "age", "ages", "col", "evk"],
)


@njit(inline="always", cache=True)
def purchases_delta(a, rec, ev, dkeys, rates, effects, traits, trait_of, slope, age, ages, col,
                    evk):  # fmt: skip
    delta = np.float32(0.0)
    for c in range(rates.size):
        rate = rates[c]
        if trait_of[c] >= 0:
            rate *= 1.0 + slope[c] * (2.0 * traits[trait_of[c], a.i] - 1.0)
        if age.size > 1 and not ages[c, 0] <= age[a.i] <= ages[c, 1]:
            continue
        if u_hi(agent_hash(dkeys[c], a.i)) < rate:
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
        cats, people = self.params.categories, self.sim.people
        self.rates = np.array([c.rate for c in cats], dtype=np.float64)
        self.effects = np.array([c.effect * self.weight for c in cats], dtype=np.float32)
        used = sorted({c.trait for c in cats if c.trait})
        self.trait_of = np.array([used.index(c.trait) if c.trait else -1 for c in cats])
        self.slope = np.array([c.trait_weight for c in cats], dtype=np.float64)
        self.traits = (
            np.stack([getattr(people, t) for t in used])
            if used
            else np.zeros((1, 1), dtype=np.float32)
        )
        staged = any(c.min_age > 0 or c.max_age < 120 for c in cats)
        self.age = people.age if staged else np.zeros(1, dtype=np.uint8)
        self.ages = np.array([[c.min_age, c.max_age] for c in cats], dtype=np.int64)

    def refresh(self) -> None:
        """Rates, weighted effects, traits and ages from the parameters in force."""
        self.init()

    def args(self, day: int) -> tuple:
        dkeys = self.day_keys([c.name for c in self.params.categories], day)
        return PurchasesArgs(
            dkeys, self.rates, self.effects, self.traits, self.trait_of, self.slope,
            self.age, self.ages, self.col, self.evk,
        )  # fmt: skip
