"""Catalogues of acts decided by one uniform per citizen and day (purchases, infractions).

An entry has a daily ``rate``, optionally shaped by a population trait (``rate x (1 +
trait_weight x (2 trait - 1))``: the mean stays ``rate`` when the trait averages 0.5) and
restricted to an age band. One uniform ``u`` per citizen-day decides the whole catalogue: no
act if ``u`` is at or above the citizen's total rate, else the entry whose cumulative rate first
exceeds ``u``. Each entry's daily probability is exactly its (shaped) rate, and a citizen does
at most one act of a catalogue a day, so the rates x (1 + |trait_weight|) must sum to at most 1.
The citizen's total rate is precomputed once (traits and ages do not change during a run), so
the common path of a hook is one hash and one comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from scsim.params import Name, Rate, Strict
from scsim.protocol import PerAgent, Scalar, Table

Trait = Literal["dissent", "conformity", "risk_aversion", "sociability", "thrift"]
MAX_AGE = 120


class Entry(Strict):
    """One act of a catalogue: its rate, the trait shaping it, the ages doing it."""

    name: Name
    rate: Rate = Field(description="probability a citizen does this on a given day")
    trait: Trait | None = Field(default=None, description="population trait shaping the rate")
    trait_weight: float = Field(
        default=0.0,
        ge=-1,
        le=1,
        description="rate x (1 + trait_weight x (2 trait - 1)): +1 doubles it at trait 1",
    )
    min_age: int = Field(default=0, ge=0, le=MAX_AGE, description="youngest age doing this")
    max_age: int = Field(default=MAX_AGE, ge=0, le=MAX_AGE, description="oldest age doing this")

    @model_validator(mode="after")
    def _ages(self) -> Entry:
        if self.min_age > self.max_age:
            raise ValueError(f"min_age ({self.min_age}) must be <= max_age ({self.max_age})")
        return self

    @property
    def needs_population(self) -> bool:
        return self.trait is not None or self.min_age > 0 or self.max_age < MAX_AGE


def check_catalogue(entries: Sequence[Entry], reserved: Sequence[str] = ()) -> None:
    """Unique names (none of ``reserved``) and shaped rates that sum to at most 1."""
    names = [e.name for e in entries]
    clash = [n for n in names if n in reserved or names.count(n) > 1]
    if clash:
        others = f" other than {'/'.join(reserved)}" if reserved else ""
        raise ValueError(f"{clash[0]!r}: expected unique names{others}")
    top = sum(e.rate * (1.0 + abs(e.trait_weight)) for e in entries)
    if top > 1.0:
        raise ValueError(
            f"rates x (1 + |trait_weight|) sum to {top:.4g}; expected at most 1 "
            "(at most one act of a catalogue per citizen and day)"
        )


class CatalogueRates:
    """Arrays the hooks read: per-entry rates, trait shaping and age bands, and each citizen's
    total rate (``totals``; a scalar ``total`` when no entry is shaped or age-bound)."""

    def __init__(self, entries: Sequence[Entry], people) -> None:
        self.rates = np.array([e.rate for e in entries], dtype=np.float64)
        used = sorted({e.trait for e in entries if e.trait})
        self.trait_of = np.array([used.index(e.trait) if e.trait else -1 for e in entries])
        self.slope = np.array([e.trait_weight for e in entries], dtype=np.float64)
        self.ages = np.array([[e.min_age, e.max_age] for e in entries], dtype=np.int64)
        staged = any(e.min_age > 0 or e.max_age < MAX_AGE for e in entries)
        lo, hi = people.own  # an MPI rank's own citizens, or everyone
        self.traits = np.zeros((1, 1), np.float32)
        if used:
            self.traits = people.full(0, np.float32, rows=len(used))
            for k, t in enumerate(used):
                self.traits[k, lo:hi] = getattr(people, t)[lo:hi]
        self.age = people.age if staged else np.zeros(1, dtype=np.uint8)
        self.total = float(self.rates.sum())
        self.shaped = bool(used) or staged
        self.totals = np.zeros(1, dtype=np.float32)
        if self.shaped:
            self.totals = people.empty(np.float32)
            _totals(self.rates, self.traits, self.trait_of, self.slope, self.ages, self.age,
                    lo, hi, self.totals)  # fmt: skip

    def values(self) -> dict:
        """The ``CATALOGUE`` fields' values."""
        return {f.name: getattr(self, f.name) for f in CATALOGUE}


CATALOGUE = (
    Scalar("total", np.float64, doc="total daily rate of the catalogue (unshaped)"),
    PerAgent("totals", np.float32, optional=True, doc="each citizen's total rate (shaped)"),
    Scalar("shaped", np.bool_, doc="rates depend on traits or age"),
    Table("rates", np.float64, doc="each entry's daily rate"),
    Table("traits", np.float32, ndim=2, doc="the traits that shape rates, per citizen"),
    Table("trait_of", np.int64, doc="each entry's trait row (-1: none)"),
    Table("slope", np.float64, doc="each entry's trait weight"),
    Table("ages", np.int64, ndim=2, doc="each entry's age band"),
    PerAgent("age", np.uint8, optional=True, doc="citizens' ages (when an entry has a band)"),
)
"""Fields of a module that draws acts from a catalogue (``CatalogueRates.values``)."""


@njit(inline="always", cache=True)
def entry_rate(c, i, rates, traits, trait_of, slope, ages, age):
    """Citizen ``i``'s daily rate of entry ``c``."""
    if age.size > 1 and not ages[c, 0] <= age[i] <= ages[c, 1]:
        return 0.0
    r = rates[c]
    if trait_of[c] >= 0:
        r *= 1.0 + slope[c] * (2.0 * traits[trait_of[c], i] - 1.0)
    return r


@njit(inline="always", cache=True)
def pick(u, i, rates, traits, trait_of, slope, ages, age):
    """The entry whose cumulative rate first exceeds ``u`` (the last entry with a rate if
    float32 rounding of the total leaves ``u`` above the float64 sum)."""
    acc = 0.0
    last = 0
    for c in range(rates.size):
        r = entry_rate(c, i, rates, traits, trait_of, slope, ages, age)
        if r > 0.0:
            last = c
            acc += r
            if u < acc:
                return c
    return last


@njit(cache=True)
def _totals(rates, traits, trait_of, slope, ages, age, lo, hi, out):
    """``out[i]``: citizen i's total daily rate, for the citizens ``lo..hi-1``."""
    for i in range(lo, hi):
        total = 0.0
        for c in range(rates.size):
            total += entry_rate(c, i, rates, traits, trait_of, slope, ages, age)
        out[i] = total
