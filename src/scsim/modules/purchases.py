"""Purchases and lifestyle (mission rows 3, 4): categories of acts, each with a score effect.

Seed 003: "buying things that the regime appreciates, like dishwashers and baby supplies, your
credit score increases. If you're buying videogames, your score takes a negative hit"; seed
001: "information about hobbies, lifestyle, and shopping" enters the score. A category's daily
probability is its ``rate``, optionally shaped by a trait of the citizen (mean kept at ``rate``
when the trait averages 0.5) and restricted to a life stage (an age band); both need the
population module. ``LIFESTYLE`` is a documented default catalogue for presets.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field, field_validator

from scsim.modules.catalogue import CATALOGUE, CatalogueRates, Entry, check_catalogue, pick
from scsim.params import ModuleParams
from scsim.protocol import Module, Record, Scalar, Table, emit
from scsim.rng import agent_hash, u_hi


class Category(Entry):
    fixed = {"name": "a category's name names its record column"}

    effect: float = Field(ge=-1000, le=1000, description="score change when it happens")


class PurchasesParams(ModuleParams):
    categories: list[Category] = Field(min_length=1, max_length=64)

    @field_validator("categories")
    @classmethod
    def _catalogue(cls, categories: list[Category]) -> list[Category]:
        check_catalogue(categories)
        return categories

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


@njit(inline="always", cache=True)
def purchases_delta(
    a, rec, ev, dkey, effects, total, totals, shaped, rates, traits, trait_of, slope, ages, age,
    col_purchase, kind_purchase,
):  # fmt: skip
    u = u_hi(agent_hash(dkey, a.i))
    if u >= (totals[a.i] if shaped else total):
        return np.float32(0.0)
    c = pick(u, a.i, rates, traits, trait_of, slope, ages, age) if rates.size > 1 else 0
    rec[a.region, col_purchase + c] += 1.0
    emit(ev, a, kind_purchase, c, effects[c], -1)
    return effects[c]


class Purchases(Module):
    """One draw per citizen-day decides the whole catalogue (``scsim.modules.catalogue``), from
    the stream named after the first category (a one-category catalogue keeps its stream)."""
    reach = "own"

    name = "purchases"
    phase = "behaviour"
    delta = purchases_delta
    events = ("purchase",)
    fields = (
        Scalar("dkey", np.uint64, doc="the day's key of the catalogue's stream"),
        Table("effects", np.float32, doc="each category's weighted score effect"),
        *CATALOGUE,
    )

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(
            Record(
                f"purchases_{c.name}",
                f"purchases and lifestyle: {c.name.replace('_', ' ')}",
                "acts",
                "flow",
                group="purchase",
                section="behaviour",
                meta={"category": c.name},
            )
            for c in self.params.categories
        )

    @property
    def causes(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.params.categories)

    def init(self) -> None:
        cats = self.params.categories
        self.catalogue = CatalogueRates(cats, self.sim.people)
        self.effects = np.array([c.effect * self.weight for c in cats], dtype=np.float32)

    def refresh(self) -> None:
        """Rates, weighted effects, traits and ages from the parameters in force."""
        self.catalogue = None  # freed before the new one is built (a large run's peak)
        self.init()

    def kernel_values(self, day: int) -> dict:
        return {
            "dkey": self.day_key(self.params.categories[0].name, day), "effects": self.effects,
            **self.catalogue.values(),
        }  # fmt: skip
