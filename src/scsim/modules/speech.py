"""Political speech (mission rows 5, 11): acts from each agent's dissent, chilled by low scores."""

from __future__ import annotations

from collections import namedtuple
from typing import Literal

import numpy as np
from numba import njit
from pydantic import Field

from scsim.modules.base import Module, emit
from scsim.params import ModuleParams, Probability, Uniform
from scsim.rng import agent_hash, u_hi, u_lo


class SpeechParams(ModuleParams):
    fixed = {"dissent": "traits are drawn once, before day 0"}

    dissent: Uniform = Field(
        default_factory=lambda: Uniform(low=0.0, high=0.02),
        description="daily propensity to speak out, drawn once per agent",
    )
    detect_prob: Probability = 0.6
    penalty: float = Field(default=-25.0, le=0, ge=-1000)
    chill: Literal["linear", "none"] = Field(
        default="linear",
        description="linear: propensity x (score - min) / (max - min); none: no chilling",
    )


SpeechArgs = namedtuple(
    "SpeechArgs",
    ["dkey", "dissent", "detect_prob", "penalty", "lo", "inv_span", "chill", "col", "evk"],
)


@njit(inline="always", cache=True)
def speech_delta(a, rec, ev, dkey, dissent, detect_prob, penalty, lo, inv_span, chill, col, evk):
    h = agent_hash(dkey, a.i)
    propensity = np.float64(dissent[a.i])
    if chill:
        propensity *= (a.score - lo) * inv_span
    if u_hi(h) < propensity:
        rec[a.region, col] += 1.0
        if u_lo(h) < detect_prob:
            rec[a.region, col + 1] += 1.0
            emit(ev, a, evk + 1, -1, penalty, -1)
            return penalty
        emit(ev, a, evk, -1, 0.0, -1)
    return np.float32(0.0)


class Speech(Module):
    """Speech acts happen with probability dissent x chill; a detected act costs ``penalty``."""

    name = "speech"
    Args = SpeechArgs
    phase = "behaviour"
    records = ("speech_attempted", "speech_detected")
    delta = speech_delta
    events = ("unseen", "recorded")
    offence = True

    def init(self) -> None:
        d = self.params.dissent
        self.sim.people.add(
            "dissent", self.sim.people.uniform_trait("speech.dissent", d.low, d.high)
        )

    def args(self, day: int) -> tuple:
        lo, hi = self.sim.score_range
        return SpeechArgs(
            self.day_key("act", day),
            self.sim.people.dissent,
            self.params.detect_prob,
            np.float32(self.params.penalty * self.weight),
            np.float32(lo),
            1.0 / (hi - lo),
            self.params.chill == "linear",
            self.col,
            self.evk,
        )
