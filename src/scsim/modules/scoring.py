"""Scoring (mission rows 1, 8): the bounded score and its friends terms.

The score itself is engine state (it is what neighbours read); this module owns its range, its
initial value and the terms that depend on friends: a pull towards the neighbours' mean score
and a penalty per neighbour visibly sanctioned today.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from pydantic import Field, model_validator

from scsim.modules.base import Module
from scsim.params import ModuleParams


class ScoringParams(ModuleParams):
    range: tuple[float, float] = Field(
        default=(350.0, 950.0), description="lowest and highest score (Sesame Credit: 350-950)"
    )
    initial: float = Field(default=650.0, description="every citizen's score on day 0")
    friend_pull: float = Field(
        default=0.05, ge=0, le=1, description="daily pull towards the neighbours' mean score"
    )
    friend_sanction_penalty: float = Field(
        default=-3.0, le=0, ge=-1000, description="score change per neighbour sanctioned today"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ScoringParams:
        lo, hi = self.range
        if not 0 <= lo < hi:
            raise ValueError(f"range must satisfy 0 <= min < max, got [{lo}, {hi}]")
        if not lo <= self.initial <= hi:
            raise ValueError(f"initial ({self.initial}) must lie within range [{lo}, {hi}]")
        return self


ScoringArgs = namedtuple("ScoringArgs", ["friend_pull", "friend_sanction_penalty", "col"])


@njit(inline="always", cache=True)
def scoring_delta(a, rec, friend_pull, friend_sanction_penalty, col):
    pull = friend_pull * (a.nb_mean - a.score)
    return pull + friend_sanction_penalty * np.float32(a.nb_sanctioned)


class Scoring(Module):
    """Friends terms of the daily score change; the engine clips the result to ``range``."""

    name = "scoring"
    Args = ScoringArgs
    phase = "scoring"
    delta = scoring_delta

    def args(self, day: int) -> tuple:
        p = self.params
        return ScoringArgs(
            np.float32(p.friend_pull), np.float32(p.friend_sanction_penalty), self.col
        )
