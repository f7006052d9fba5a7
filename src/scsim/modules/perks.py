"""Perks (mission row 12): rewards for citizens above score thresholds or on the redlist.

Seeds 000 and 001: "Those who reach 700, for example, get easy access to a Singapore travel
permit, while those who hit 750 get an even more valued visa"; Ant Financial's own account
(seed 000) speaks of "easier access to certain forms of credit, housing, jobs, and even online
dates". Seed 002: "Those with better so-called social credit will get 'green channel'
benefits" (the redlist, kept by the lists module).

A perk is held on a day when the citizen's new score is at least ``min_score`` (or, for a
``redlist`` perk, when the citizen is on the redlist that day), and, with ``deny_listed``, the
citizen is not blacklisted. Perks are counted, not scored: they feed no score component.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Annotated

import numpy as np
from numba import njit
from pydantic import Field, field_validator, model_validator

from scsim.modules.base import Module, emit
from scsim.params import ModuleParams, Name, ScenarioError, Strict, unique_names

MAX_PERKS = 8
"""Perks held by a citizen are a uint8 bit mask."""

MAX_DAYS = np.uint16(65535)
"""Per-perk days held saturate here."""

E_GRANTED, E_LOST = range(2)


class Perk(Strict):
    fixed = {
        "name": "a perk's name names its record column",
        "redlist": "a redlist perk needs the redlist from day 0",
    }

    name: Name = Field(description="the reward")
    min_score: Annotated[float, Field(ge=0, le=100_000)] | None = Field(
        default=None, description="held while the score is at least this"
    )
    redlist: bool = Field(
        default=False, description="held while on the redlist (needs modules.lists.redlist_above)"
    )

    @model_validator(mode="after")
    def _one_rule(self) -> Perk:
        if (self.min_score is None) == (not self.redlist):
            raise ValueError("give either min_score or redlist: true (exactly one)")
        return self


def default_perks() -> list[Perk]:
    """Seeds 000/001 (700: Singapore travel permit, 750: a better visa) and the credit and
    housing benefits of Ant Financial's account (seed 000), at 650 (assumption: Sesame
    Credit's widely reported threshold for deposit-free rentals)."""
    return [
        Perk(name="singapore_permit", min_score=700),
        Perk(name="better_visa", min_score=750),
        Perk(name="easy_credit", min_score=650),
        Perk(name="deposit_free_rental", min_score=650),
    ]


class PerksParams(ModuleParams):
    perks: list[Perk] = Field(
        default_factory=default_perks,
        min_length=1,
        max_length=MAX_PERKS,
        description="the rewards (a redlist perk such as green_channel needs the redlist)",
    )
    deny_listed: bool = Field(
        default=True, description="blacklisted citizens hold no perk, whatever their score"
    )

    @field_validator("perks")
    @classmethod
    def _unique(cls, perks: list[Perk]) -> list[Perk]:
        return unique_names(perks)

    def needs_modules(self) -> tuple[str, ...]:
        """A redlist perk reads the lists module's redlist."""
        return ("lists",) if any(p.redlist for p in self.perks) else ()


PerksArgs = namedtuple(
    "PerksArgs",
    [
        "listed", "redlisted", "held", "days_held", "min_score", "by_red", "lowest",
        "deny", "red_on", "col", "evk",
    ],
)  # fmt: skip


@njit(inline="always", cache=True)
def perks_after(
    a, score, rec, ev, listed, redlisted, held, days_held, min_score, by_red, lowest, deny,
    red_on, col, evk,
):  # fmt: skip
    i = a.i
    mask = np.int64(held[i])
    red = red_on and redlisted[i]
    if score < lowest and not red and mask == 0:
        return np.uint8(0)
    blocked = deny and listed[i]
    new = np.int64(0)
    for p in range(min_score.size):
        bit = np.int64(1) << p
        ok = (red if by_red[p] else score >= min_score[p]) and not blocked
        if ok:
            new |= bit
            rec[a.region, col + p] += 1.0
            d = days_held[p, i]
            if d < MAX_DAYS:
                days_held[p, i] = d + np.uint16(1)
        if ok != ((mask & bit) != 0):
            emit(ev, a, evk + (E_GRANTED if ok else E_LOST), p, 0.0, -1)
    if new != mask:
        held[i] = np.uint8(new)
    return np.uint8(0)


class Perks(Module):
    """Reward tiers by threshold or redlist; see the module docstring and docs/odd_perks.md."""

    name = "perks"
    Args = PerksArgs
    phase = "sanctions"
    after = perks_after
    events = ("granted", "lost")

    @property
    def records(self) -> tuple[str, ...]:
        return tuple(f"perk_{p.name}" for p in self.params.perks)

    @property
    def causes(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params.perks)

    def init(self) -> None:
        perks, people, n = self.params.perks, self.sim.people, self.sim.n
        lists = self.sim.scenario.modules.lists
        lists_on = lists is not None and lists.enabled
        self.red_on = lists_on and lists.redlist_above is not None
        for k, perk in enumerate(perks):
            if perk.redlist and not self.red_on:
                raise ScenarioError(
                    f"modules.perks.perks[{k}].redlist: needs a redlist; set "
                    "modules.lists.redlist_above"
                )
        self.held = people.add("perks_held", np.zeros(n, dtype=np.uint8))
        self.days_held = np.zeros((len(perks), n), dtype=np.uint16)
        for k, perk in enumerate(perks):  # one field per perk (people.parquet columns)
            people.add(f"perk_days_{perk.name}", self.days_held[k])
        self.lists_on = lists_on
        self.refresh()
        one = np.zeros(1, dtype=np.bool_)  # stand-ins the hook never indexes
        self.listed = people.listed if lists_on else one
        self.redlisted = people.redlisted if self.red_on else one

    def refresh(self) -> None:
        """Thresholds and the listed's exclusion from the parameters in force."""
        perks = self.params.perks
        self.min_score = np.array(
            [p.min_score if p.min_score is not None else np.inf for p in perks], dtype=np.float32
        )
        self.by_red = np.array([p.redlist for p in perks], dtype=np.bool_)
        self.lowest = np.float32(self.min_score.min())
        self.deny = bool(self.params.deny_listed and self.lists_on)

    def args(self, day: int) -> tuple:
        return PerksArgs(
            self.listed, self.redlisted, self.held, self.days_held, self.min_score, self.by_red,
            self.lowest, self.deny, self.red_on, self.col, self.evk,
        )  # fmt: skip
