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

from typing import Annotated

import numpy as np
from numba import njit
from pydantic import Field, field_validator, model_validator

from scsim.params import ModuleParams, Name, ScenarioError, Strict, unique_names
from scsim.protocol import Module, PerAgent, Record, Scalar, Table, emit

MAX_PERKS = 8
"""Perks held by a citizen are a uint8 bit mask."""

MAX_DAYS = np.uint16(65535)
"""Per-perk days held saturate here."""


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


@njit(inline="always", cache=True)
def perks_after(
    a, score, rec, ev, listed, redlisted, perks_held, perk_days, min_score, by_red, lowest,
    deny, red_on, col_perk, kind_granted, kind_lost,
):  # fmt: skip
    i = a.i
    mask = np.int64(perks_held[i])
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
            rec[a.region, col_perk + p] += 1.0
            d = perk_days[p, i]
            if d < MAX_DAYS:
                perk_days[p, i] = d + np.uint16(1)
        if ok != ((mask & bit) != 0):
            emit(ev, a, kind_granted if ok else kind_lost, p, 0.0, -1)
    if new != mask:
        perks_held[i] = np.uint8(new)
    return np.uint8(0)


class Perks(Module):
    """Reward tiers by threshold or redlist; see the module docstring and docs/odd_perks.md."""
    reach = "own"

    name = "perks"
    phase = "sanctions"
    after = perks_after
    events = ("granted", "lost")
    fields = (
        PerAgent("listed", np.bool_, optional=True, doc="on the blacklist (lists module)"),
        PerAgent("redlisted", np.bool_, optional=True, doc="on the redlist (lists module)"),
        PerAgent("perks_held", np.uint8, fill=0, doc="bit k: holds perk k today"),
        PerAgent("perk_days", np.uint16, fill=0, rows="perk_names", doc="days each perk held"),
        Table("min_score", np.float32, doc="each perk's score threshold (inf: a redlist perk)"),
        Table("by_red", np.bool_, doc="each perk is held by being on the redlist"),
        Scalar("lowest", np.float32, doc="the lowest threshold"),
        Scalar("deny", np.bool_, doc="the blacklisted hold no perk"),
        Scalar("red_on", np.bool_, doc="a redlist is kept"),
    )

    @property
    def perk_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params.perks)

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(
            Record(
                f"perk_{p.name}", f"citizens holding {p.name.replace('_', ' ')}", group="perk",
                section="perks", meta={"perk": p.name},
            )
            for p in self.params.perks
        )  # fmt: skip

    @property
    def causes(self) -> tuple[str, ...]:
        return self.perk_names

    def init(self) -> None:
        lists = self.sim.scenario.modules.lists
        self.lists_on = lists is not None and lists.enabled
        self.red_on = self.lists_on and lists.redlist_above is not None
        for k, perk in enumerate(self.params.perks):
            if perk.redlist and not self.red_on:
                raise ScenarioError(
                    f"modules.perks.perks[{k}].redlist: needs a redlist; set "
                    "modules.lists.redlist_above"
                )
        self.refresh()

    def refresh(self) -> None:
        """Thresholds and the listed's exclusion from the parameters in force."""
        perks = self.params.perks
        self.min_score = np.array(
            [p.min_score if p.min_score is not None else np.inf for p in perks], dtype=np.float32
        )
        self.by_red = np.array([p.redlist for p in perks], dtype=np.bool_)
        self.lowest = self.min_score.min()
        self.deny = bool(self.params.deny_listed and self.lists_on)

    def kernel_values(self, day: int) -> dict:
        return {
            "min_score": self.min_score, "by_red": self.by_red, "lowest": self.lowest,
            "deny": self.deny, "red_on": self.red_on,
        }  # fmt: skip
