"""Scoring (mission rows 1, 8): the bounded score, its component weights and the friends terms.

The score is engine state (neighbours read it); this module owns its range, its initial value,
the weight of each score component and the terms that depend on friends, which form the
``friends`` component: a pull towards the neighbours' mean score, and penalties per neighbour
visibly sanctioned, disclosed on a blacklist, or with a fresh record of misconduct. For audited
citizens each friend's share is logged as a ``scoring.friend`` event with the friend as its
``source`` (``scsim.modules.attribution``): look-ups show which friends pulled a score down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from scsim.modules.attribution import FRIEND_CAUSES, attribute_friends, attribution_stride
from scsim.modules.neighbours import graph_fields, graph_values
from scsim.params import ModuleParams, Name
from scsim.protocol import Module, PerAgent, Scalar
from scsim.protocol.declare import Field as Declared

if TYPE_CHECKING:
    pass

Penalty = Field(le=0, ge=-1000)


FIELDS = (
    Scalar("pull", np.float32, doc="daily pull towards the neighbours' mean (weighted)"),
    Scalar("per_sanctioned", np.float32, doc="per neighbour visibly sanctioned (weighted)"),
    Scalar("per_listed", np.float32, doc="per neighbour disclosed on a blacklist (weighted)"),
    Scalar("per_offended", np.float32, doc="per neighbour with a fresh record (weighted)"),
    PerAgent("public", np.uint8, optional=True, doc="published flags (when kept)"),
    Scalar("attribute", np.uint64, doc="attribute every k-th citizen's friends (0: none)"),
)
"""The fields of the friends terms, beside ``graph_fields``."""


class ScoringParams(ModuleParams):
    fixed = {
        "range": "the score range shapes the engine's buffers and histogram, set before day 0",
        "initial": "every score starts there on day 0",
        "half_life": "the score's memory is part of the fused kernel, set before day 0",
        "half_lives": "the score's memory is part of the fused kernel, set before day 0",
    }

    range: tuple[float, float] = Field(
        default=(350.0, 950.0), description="lowest and highest score (Sesame Credit: 350-950)"
    )
    initial: float = Field(default=650.0, description="every citizen's score on day 0")
    weights: dict[Name, float] = Field(
        default_factory=dict,
        description="multiplier of each score component by module name (default 1)",
    )
    half_life: float | None = Field(
        default=None,
        gt=0,
        le=36500,
        description="days after which a score change counts half: every score component "
        "fades by 0.5 ** (1 / half_life) a day, so the score is the initial value plus the "
        "record's changes weighted by their age (none: never forgotten, lifetime sums)",
    )
    half_lives: dict[Name, float | None] = Field(
        default_factory=dict,
        description="half-life of one score component by name (module, friends or bound), "
        "overriding half_life; none: that component is never forgotten",
    )
    friend_pull: float = Field(
        default=0.05, ge=0, le=1, description="daily pull towards the neighbours' mean score"
    )
    friend_sanction_penalty: float = Field(
        default=-3.0, le=0, ge=-1000, description="score change per neighbour sanctioned today"
    )
    friend_listed_penalty: float = Field(
        default=0.0, le=0, ge=-1000, description="per neighbour disclosed on a blacklist"
    )
    friend_offence_penalty: float = Field(
        default=0.0, le=0, ge=-1000, description="per neighbour with a record made yesterday"
    )
    attribute_sample: int = Field(
        default=200,
        ge=0,
        le=1_000_000,
        description="audited citizens whose friends' shares are logged, one event per friend "
        "and day (every k-th audited citizen; 0: none)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ScoringParams:
        lo, hi = self.range
        if not 0 <= lo < hi:
            raise ValueError(f"range must satisfy 0 <= min < max, got [{lo}, {hi}]")
        if not lo <= self.initial <= hi:
            raise ValueError(f"initial ({self.initial}) must lie within range [{lo}, {hi}]")
        for name, w in self.weights.items():
            if not 0 <= w <= 100:
                raise ValueError(f"weights.{name} ({w}) must lie within [0, 100]")
        for name, days in self.half_lives.items():
            if days is not None and not 0 < days <= 36500:
                raise ValueError(f"half_lives.{name} ({days}) must lie within (0, 36500] days")
        return self

    def keep_of(self, component: str | None = None) -> np.float32:
        """A component's daily memory factor, 0.5 ** (1 / half-life) (1: never forgotten);
        ``None``: the default half-life's."""
        days = self.half_lives.get(component, self.half_life) if component else self.half_life
        return np.float32(1.0 if days is None else 0.5 ** (1.0 / days))

    def keep(self, components: list[str]) -> np.ndarray:
        """Each component's daily memory factor (``keep_of``), in the order given."""
        return np.array([self.keep_of(c) for c in components], dtype=np.float32)


@njit(inline="always", cache=True)
def scoring_delta(
    a, rec, ev, pull, per_sanctioned, per_listed, per_offended, indptr, indices, active, ring,
    ring_half, packed, public, attribute, kind_friend,
):  # fmt: skip
    delta = pull * (a.nb_mean - a.score) + per_sanctioned * np.float32(a.nb_sanctioned)
    if a.audit and attribute > 0 and a.i % attribute == 0:
        attribute_friends(
            a, ev, kind_friend, indptr, indices, active, ring, ring_half, packed, public, pull,
            per_sanctioned, per_listed, per_offended,
        )  # fmt: skip
    return delta + per_listed * np.float32(a.nb_listed) + per_offended * np.float32(a.nb_offended)


class Scoring(Module):
    """Friends terms of the daily score change; the engine clips the result to ``range``."""
    reach = "ties"  # neighbours' published state

    name = "scoring"
    phase = "scoring"
    delta = scoring_delta
    events = ("friend",)

    @property
    def fields(self) -> tuple[Declared, ...]:
        return (*FIELDS, *graph_fields(self.sim))

    @property
    def component(self) -> str:
        return "friends"

    @property
    def weight(self) -> float:
        return self.params.weights.get("friends", 1.0)

    @property
    def causes(self) -> tuple[str, ...]:
        return FRIEND_CAUSES

    @property
    def reads_public(self) -> bool:
        p = self.params
        return p.friend_listed_penalty != 0 or p.friend_offence_penalty != 0

    def kernel_values(self, day: int) -> dict:
        p, w, sim = self.params, np.float32(self.weight), self.sim
        public = sim.published_flags()
        return {
            "pull": np.float32(p.friend_pull) * w,
            "per_sanctioned": np.float32(p.friend_sanction_penalty) * w,
            "per_listed": np.float32(p.friend_listed_penalty) * w,
            "per_offended": np.float32(p.friend_offence_penalty) * w,
            **graph_values(sim),
            **({"public": public} if public is not None else {}),
            "attribute": attribution_stride(sim.events.stride, sim.events.size, p.attribute_sample),
        }
