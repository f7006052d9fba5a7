"""Chilling (mission row 11): fear of what happened to others makes citizens hold back.

Seeds 000 and 001: friends' behaviour hurts one's score, and the listed are shamed in public;
seed 002: blacklisted people are "unable to move a single step". Each citizen keeps a
*perceived risk* in [0, 1]. Every day it decays by ``decay`` and rises with what the citizen
sees: friends under a visible sanction (``sanction_weight`` each), friends disclosed on a
blacklist (``disclosure_weight`` each) and the public disclosures of new listings in the
citizen's region yesterday (``news_weight`` per new listing per 1 000 residents). The exposure
``x`` closes a share ``1 - exp(-x)`` of the gap to 1, so risk never leaves [0, 1].

Risk lowers the propensity to act: a speech act that would have happened is held back with
probability ``speech_effect x risk``, an infraction with ``infraction_effect x risk``. Speech
and infractions draw that from their own streams, on the path of an act only, so the acts
that happened *and* the acts held back are counted against the same counterfactual: what the
citizen would have done without the chill (``speech_silenced``, ``infractions_deterred``).
Chilling draws nothing itself and changes no score. Model and assumptions:
``docs/odd_chilling.md``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from pydantic import Field

from scsim.params import ModuleParams, Probability
from scsim.protocol import Module, PerAgent, Scalar, emit

R_RISK, R_EXPOSED, R_AFRAID = range(3)
E_AFRAID, E_CALM = range(2)
AFRAID = 0.5
"""Risk at and above which a citizen counts as afraid (a record and an event on crossing)."""


class ChillingParams(ModuleParams):
    sanction_weight: float = Field(
        default=0.05, ge=0, le=10,
        description="exposure per friend under a visible sanction, per day",
    )  # fmt: skip
    disclosure_weight: float = Field(
        default=0.02, ge=0, le=10,
        description="exposure per friend disclosed on a blacklist, per day",
    )  # fmt: skip
    news_weight: float = Field(
        default=0.1, ge=0, le=100,
        description="exposure per new public listing per 1 000 residents of one's region",
    )  # fmt: skip
    decay: Probability = Field(
        default=0.02, description="share of perceived risk forgotten each day (half-life ~34 d)"
    )
    speech_effect: Probability = Field(
        default=0.8, description="at risk 1, this share of speech acts is held back"
    )
    infraction_effect: Probability = Field(
        default=0.5, description="at risk 1, this share of infractions is held back"
    )

    def clashes(self, enabled: set[str]) -> str | None:
        """Chilling lowers speech and infractions, and feeds on sanctions and disclosures."""
        if not enabled & {"speech", "infractions"}:
            return (
                "modules.chilling lowers the propensity of speech and infractions: enable "
                "modules.speech or modules.infractions, or switch chilling off"
            )
        if not enabled & {"sanctions", "lists"}:
            return (
                "modules.chilling feeds on sanctions and disclosed listings: enable "
                "modules.sanctions or modules.lists, or switch chilling off"
            )
        return None


ChillingArgs = namedtuple(
    "ChillingArgs",
    ["risk", "keep", "sanction_weight", "disclosure_weight", "news", "col", "evk"],
)


@njit(inline="always", cache=True)
def chilling_delta(a, rec, ev, risk, keep, sanction_weight, disclosure_weight, news, col, evk):
    """Update the citizen's perceived risk from yesterday's visible facts; no score change."""
    before = risk[a.i]
    r = before * keep
    exposure = sanction_weight * a.nb_sanctioned + disclosure_weight * a.nb_listed + news[a.region]
    if exposure > 0:
        r = np.float32(1.0 - (1.0 - r) * np.exp(-exposure))
        rec[a.region, col + R_EXPOSED] += 1.0
    risk[a.i] = r
    rec[a.region, col + R_RISK] += r
    if r >= AFRAID:
        rec[a.region, col + R_AFRAID] += 1.0
        if before < AFRAID:
            emit(ev, a, evk + E_AFRAID, -1, r, -1)
    elif before >= AFRAID:
        emit(ev, a, evk + E_CALM, -1, r, -1)
    return np.float32(0.0)


class Chilling(Module):
    """Perceived risk from friends' sanctions and public disclosures; see the docstring."""

    name = "chilling"
    Args = ChillingArgs
    phase = "behaviour"
    delta = chilling_delta
    records = ("chilling_risk", "chilling_exposed", "chilling_afraid")
    measures = ("chilling_risk",)
    events = ("afraid", "calm")

    @property
    def reads_public(self) -> bool:
        """Friends on a disclosed list are counted only when they matter."""
        return self.params.disclosure_weight > 0 and self._disclosed

    @property
    def _disclosed(self) -> bool:
        lists = self.sim.scenario.modules.lists
        return bool(lists is not None and lists.enabled and lists.disclose)

    @classmethod
    def has_delta(cls, params: ChillingParams) -> bool:
        return False  # the hook only updates risk: chilling is no score component

    @property
    def component(self) -> str | None:
        return None

    def init(self) -> None:
        self.risk = self.sim.people.add("perceived_risk", np.zeros(self.sim.n, np.float32))
        region = self.sim.people.fields.get("region")
        self.residents = (
            np.bincount(region).astype(np.float64) if region is not None else np.full(1, self.sim.n)
        )
        self.news = np.zeros(self.residents.size, dtype=np.float32)

    def _news(self, day: int) -> np.ndarray:
        """Exposure from yesterday's new public listings, per region."""
        self.news.fill(0.0)
        if day > 0 and self._disclosed and self.params.news_weight > 0:
            fresh = self.sim.record_by_region("newly_listed")[day - 1]
            self.news[:] = self.params.news_weight * 1000.0 * fresh / self.residents
        return self.news

    def args(self, day: int) -> tuple:
        p = self.params
        return ChillingArgs(
            self.risk, np.float32(1.0 - p.decay), np.float32(p.sanction_weight),
            np.float32(p.disclosure_weight if self._disclosed else 0.0), self._news(day),
            self.col, self.evk,
        )  # fmt: skip


def chill_args(module: Module, effect: str) -> tuple:
    """``(ch_risk, ch_effect)`` for a chilled behaviour module: chilling's risk and its
    ``effect`` parameter, or a stand-in with effect 0 (risk never read) when chilling is off."""
    for m in module.sim.modules:
        if m.name == "chilling":
            return m.risk, np.float64(getattr(m.params, effect))
    return _OFF


_OFF = (np.zeros(1, dtype=np.float32), np.float64(0.0))


CHILL = (
    PerAgent("ch_risk", np.float32, optional=True, doc="perceived risk (chilling module)"),
    Scalar("ch_effect", np.float64, doc="how much the risk holds back the act (0: chilling off)"),
)
"""Fields a chilled behaviour module declares (``chill_values`` gives them)."""


def chill_values(module: Module, effect: str) -> dict:
    """The ``CHILL`` fields' values for a chilled module (``effect``: chilling's parameter)."""
    return dict(zip(("ch_risk", "ch_effect"), chill_args(module, effect), strict=True))
