"""Bookings (issue 13, seed 004): citizens book flights and trains; the banned are refused.

Seed 004: blacklisted citizens "will be unable to travel via plane or train for up to a year";
the lawyer it quotes learned of his listing when a ticket purchase was refused. The Supreme
People's Court's restrictions (2015) bar judgment defaulters from flights, soft sleepers and
first class on trains and every seat on G trains, each a sanctions tier of its own.

A mode (flight, rail, ...) has a per-capita daily ``rate`` (the published trips per person and
year / 365), spread over the citizens of its ages (``min_age``..``max_age``) and by household
income (``income_gradient``: the rate of the richest income decile over the poorest), both from
the population module. A citizen holding the mode's ``ban`` tier on the day (``modules.sanctions``)
still tries ``banned_tries`` times the bookings they would make, and every try is refused. One
uniform per citizen and day decides the day's booking, so a citizen books at most one trip a day
(daily rates are a few per thousand). Bookings are counted, not scored.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field, field_validator, model_validator

from scsim.days import DAY
from scsim.modules.catalogue import MAX_AGE
from scsim.modules.population_tables import MAX_HOUSEHOLD
from scsim.params import ModuleParams, Name, Rate, ScenarioError, Strict, unique_names
from scsim.protocol import Module, PerAgent, Record, Scalar, Table, emit
from scsim.rng import agent_hash, u_hi

MAX_MODES = 8
"""Modes a citizen was refused on are a uint8 bit mask."""

MAX_COUNT = np.uint16(65535)
"""Per-mode refusals of a citizen saturate here."""

DECILES = 10
"""Income classes when a mode's rate follows income."""


class Mode(Strict):
    fixed = {
        "name": "a mode's name names its record columns",
        "min_age": "ages and incomes are read once, before day 0",
        "max_age": "ages and incomes are read once, before day 0",
        "income_gradient": "ages and incomes are read once, before day 0",
    }

    name: Name = Field(description="the way of travelling (flight, rail, ...)")
    rate: Rate = Field(
        description="bookings per citizen per day over the whole population (published trips a "
        "year / population / 365)"
    )
    ban: Name | None = Field(
        default=None, description="the sanctions tier under which a booking is refused"
    )
    banned_tries: float = Field(
        default=1.0,
        ge=0,
        le=100,
        description="bookings a banned citizen still tries, relative to their usual rate",
    )
    min_age: int = Field(default=0, ge=0, le=MAX_AGE, description="youngest age booking")
    max_age: int = Field(default=MAX_AGE, ge=0, le=MAX_AGE, description="oldest age booking")
    income_gradient: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="rate of the richest tenth of households over the poorest tenth (1: flat)",
    )

    @model_validator(mode="after")
    def _ages(self) -> Mode:
        if self.min_age > self.max_age:
            raise ValueError(f"min_age ({self.min_age}) must be <= max_age ({self.max_age})")
        return self

    @property
    def needs_population(self) -> bool:
        return self.min_age > 0 or self.max_age < MAX_AGE or self.income_gradient != 1.0


class BookingsParams(ModuleParams):
    modes: list[Mode] = Field(
        min_length=1, max_length=MAX_MODES, description="the ways to travel, each with its own ban"
    )

    @field_validator("modes")
    @classmethod
    def _unique(cls, modes: list[Mode]) -> list[Mode]:
        return unique_names(modes)

    @model_validator(mode="after")
    def _one_a_day(self) -> BookingsParams:
        top = sum(
            m.rate * max(m.income_gradient, 1 / m.income_gradient) * max(m.banned_tries, 1.0)
            for m in self.modes
        )
        if top > 1.0:
            raise ValueError(
                f"rate x income_gradient x max(1, banned_tries), summed over modes, is {top:.4g}; "
                "expected at most 1 (at most one booking per citizen and day)"
            )
        return self

    def needs_modules(self) -> tuple[str, ...]:
        needs = ("sanctions",) if any(m.ban for m in self.modes) else ()
        return needs + (("population",) if any(m.needs_population for m in self.modes) else ())

    def conflicts(self, modules) -> str | None:
        """A mode's ban must name one of the sanctions tiers."""
        sanctions = modules.sanctions
        if sanctions is None or not sanctions.enabled:
            return None
        tiers = [t.name for t in sanctions.tier_list()]
        for k, mode in enumerate(self.modes):
            if mode.ban is not None and mode.ban not in tiers:
                return (
                    f"modules.bookings.modes[{k}].ban: {mode.ban!r} is not a sanctions tier; "
                    f"expected one of {tiers} (modules.sanctions.tiers)"
                )
        return None


@njit(inline="always", cache=True)
def bookings_after(
    a, score, rec, ev, dkey, rates, top, tries, tier, sanction_until, income_class, by_income, age,
    ages, by_age, refused_modes, refusals, col_bookings, col_refused, col_newly_refused,
    kind_refused,
):  # fmt: skip
    i = a.i
    c = np.int64(income_class[i]) if by_income else np.int64(0)
    u = u_hi(agent_hash(dkey, i))
    if u >= top[c]:  # no booking today, banned or not (most citizen-days)
        return np.uint8(0)
    acc = 0.0
    for m in range(tries.size):
        if by_age and (age[i] < ages[m, 0] or age[i] > ages[m, 1]):
            continue
        t = tier[m]
        banned = t >= 0 and sanction_until[t, i] > a.day
        acc += rates[m, c] * tries[m] if banned else rates[m, c]
        if u < acc:
            rec[a.region, col_bookings + m] += 1.0
            if banned:
                rec[a.region, col_refused + m] += 1.0
                bit = np.uint8(1 << m)
                if (refused_modes[i] & bit) == 0:
                    refused_modes[i] |= bit
                    rec[a.region, col_newly_refused + m] += 1.0
                k = refusals[m, i]
                if k < MAX_COUNT:
                    refusals[m, i] = k + np.uint16(1)
                emit(ev, a, kind_refused, m, 0.0, -1)
            break
    return np.uint8(0)


class Bookings(Module):
    """Trips booked by mode, refused under the mode's ban; see the module docstring and
    docs/ODD.md."""
    reach = "own"

    name = "bookings"
    phase = "sanctions"
    gated = False  # citizens outside the system book trips too
    after = bookings_after
    events = ("refused",)
    fields = (
        Scalar("dkey", np.uint64, doc="the day's key of the trips stream"),
        Table("rates", np.float64, ndim=2, doc="daily rate by mode and income class"),
        Table("top", np.float64, doc="chance of any booking (at most) by income class"),
        Table("tries", np.float64, doc="each mode's banned_tries"),
        Table("tier", np.int64, doc="each mode's ban: its sanctions tier (-1: none)"),
        PerAgent("sanction_until", DAY, rows="tier_names", optional=True, doc="ban end days"),
        PerAgent("income_class", np.uint8, optional=True, doc="household income decile"),
        Scalar("by_income", np.bool_, doc="rates follow income"),
        PerAgent("age", np.uint8, optional=True, doc="age (population module)"),
        Table("ages", np.int64, ndim=2, doc="each mode's min_age and max_age"),
        Scalar("by_age", np.bool_, doc="a mode has an age range"),
        PerAgent("refused_modes", np.uint8, fill=0, doc="bit m: ever refused on mode m"),
        PerAgent("refusals", np.uint16, fill=0, rows="mode_names", doc="refusals by mode"),
    )

    @property
    def mode_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.params.modes)

    @property
    def records(self) -> tuple[Record, ...]:
        """A group per kind of count (bookings, refused, newly_refused), each one per mode."""
        kinds = (
            ("bookings", "bookings tried", "bookings"),
            ("refused", "bookings refused", "bookings"),
            ("newly_refused", "citizens refused for the first time", "citizens"),
        )
        records = []
        for group, label, unit in kinds:
            on = dict(kind="flow", group=group, section="travel", headline=group == "refused")
            for m in self.params.modes:
                what, meta = f"{label}: {m.name.replace('_', ' ')}", {"mode": m.name}
                records.append(Record(f"{group}_{m.name}", what, unit, meta=meta, **on))
        return tuple(records)

    @property
    def causes(self) -> tuple[str, ...]:
        return self.mode_names

    def init(self) -> None:
        people, modes = self.sim.people, self.params.modes
        self.by_income = any(m.income_gradient != 1.0 for m in modes)
        self.by_age = any(m.min_age > 0 or m.max_age < MAX_AGE for m in modes)
        self.income_class = household_income_class(self.sim) if self.by_income else None
        self.age = people.fields.get("age")
        sanctions = self.sim.scenario.modules.sanctions
        self.tier_names = (
            [t.name for t in sanctions.tier_list()] if sanctions and sanctions.enabled else []
        )
        self.refresh()

    def refresh(self) -> None:
        """Rates by mode and income class, tries and bans from the parameters in force."""
        modes = self.params.modes
        self.ages = np.array([[m.min_age, m.max_age] for m in modes], dtype=np.int64)
        self.tries = np.array([m.banned_tries for m in modes], dtype=np.float64)
        self.tier = np.array(
            [self.tier_names.index(m.ban) if m.ban else -1 for m in modes], dtype=np.int64
        )
        self.rates = np.stack([self._class_rates(k, m) for k, m in enumerate(modes)])
        self.top = (self.rates * np.maximum(self.tries, 1.0)[:, None]).sum(axis=0)
        worst = int(self.top.argmax())
        if self.top[worst] > 1.0:
            raise ScenarioError(
                f"modules.bookings.modes: the richest citizens' daily booking chances (rate x "
                f"income_gradient x max(1, banned_tries), summed over modes) reach "
                f"{self.top[worst]:.3g}; expected at most 1 (at most one booking a day)"
            )

    def _class_rates(self, k: int, mode: Mode) -> np.ndarray:
        """A mode's daily rate by income class, whose mean over all citizens is ``rate``
        (citizens outside its ages book nothing)."""
        classes = DECILES if self.by_income else 1
        weight = mode.income_gradient ** (np.arange(classes) / max(classes - 1, 1))
        counts = np.bincount(self._eligible_classes(k), minlength=classes)[:classes]
        counts = self.sim.add_over_ranks(counts)
        total = float(weight @ counts)
        if total == 0.0:
            return np.zeros(classes)
        return mode.rate * weight * self.sim.n / total

    def _eligible_classes(self, k: int) -> np.ndarray:
        """Income classes of this process's citizens (``people.own``) of mode ``k``'s ages."""
        lo, hi = self.sim.people.own
        cls = self.income_class[lo:hi] if self.by_income else np.zeros(hi - lo, dtype=np.uint8)
        if not self.by_age:
            return cls
        age, (young, old) = self.age[lo:hi], self.ages[k]
        return cls[(age >= young) & (age <= old)]

    def kernel_values(self, day: int) -> dict:
        values = {
            "dkey": self.day_key("trips", day), "rates": self.rates, "top": self.top,
            "tries": self.tries, "tier": self.tier, "by_income": self.by_income,
            "ages": self.ages, "by_age": self.by_age,
        }  # fmt: skip
        if self.by_income:
            values["income_class"] = self.income_class
        if any(m.ban for m in self.params.modes):
            values["sanction_until"] = self.sim.module("sanctions").state["sanction_until"]
        return values


def household_income_class(sim) -> np.ndarray:
    """Each citizen's income decile (0 poorest .. 9), by the highest income in the household
    (children and retirees travel on the household's means); by own income without households.
    Over MPI ranks that keep their own citizens, each finds its own citizens' (their households
    are id ranges within MAX_HOUSEHOLD of them) and the deciles are every citizen's."""
    people = sim.people
    (lo, hi), income = people.own, people.fields["income"]
    if "household" in people.fields and hi > lo:
        starts = people.own_households(MAX_HOUSEHOLD)
        near = income[starts[0] : starts[-1]].astype(np.float64)
        top = np.maximum.reduceat(near, starts[:-1] - starts[0])
        income = np.repeat(top, np.diff(starts))[lo - starts[0] : hi - starts[0]]
    else:
        income = income[lo:hi].astype(np.float64)
    edges = sim.quantiles_over_ranks(income, np.arange(1, DECILES) / DECILES)
    out = people.empty(np.uint8)
    out[lo:hi] = np.searchsorted(edges, income, side="left")
    return out
