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

import numpy as np
from numba import njit
from pydantic import Field

from scsim.params import ModuleParams, Probability
from scsim.protocol import Module, PerAgent, Record, Scalar, Table, emit

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


@njit(inline="always", cache=True)
def chilling_delta(
    a, rec, ev, perceived_risk, keep, sanction_weight, disclosure_weight, news,
    col_chilling_risk, col_chilling_exposed, col_chilling_afraid, kind_afraid, kind_calm,
):  # fmt: skip
    """Update the citizen's perceived risk from yesterday's visible facts; no score change."""
    before = perceived_risk[a.i]
    r = before * keep
    exposure = sanction_weight * a.nb_sanctioned + disclosure_weight * a.nb_listed + news[a.region]
    if exposure > 0:
        r = np.float32(1.0 - (1.0 - r) * np.exp(-exposure))
        rec[a.region, col_chilling_exposed] += 1.0
    perceived_risk[a.i] = r
    rec[a.region, col_chilling_risk] += r
    if r >= AFRAID:
        rec[a.region, col_chilling_afraid] += 1.0
        if before < AFRAID:
            emit(ev, a, kind_afraid, -1, r, -1)
    elif before >= AFRAID:
        emit(ev, a, kind_calm, -1, r, -1)
    return np.float32(0.0)


class Chilling(Module):
    """Perceived risk from friends' sanctions and public disclosures; see the docstring."""
    reach = "ties"  # neighbours' published state

    name = "chilling"
    phase = "behaviour"
    delta = chilling_delta
    fields = (
        PerAgent("perceived_risk", np.float32, fill=0, doc="perceived risk, in [0, 1]"),
        Scalar("keep", np.float32, doc="share of the risk kept from one day to the next"),
        Scalar("sanction_weight", np.float32, doc="exposure per friend visibly sanctioned"),
        Scalar("disclosure_weight", np.float32, doc="exposure per friend disclosed (0: none)"),
        Table("news", np.float32, doc="exposure from yesterday's new listings, per region"),
    )
    records = (
        Record(
            "chilling_risk", "perceived risk of sanction, summed over citizens", unit="risk",
            kind="measure", section="speech",
        ),
        Record(
            "chilling_exposed", "citizens who saw friends sanctioned or listed, or news of "
            "listings", section="speech",
        ),
        Record("chilling_afraid", "citizens afraid of sanction", section="speech"),
    )  # fmt: skip
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
        self.risk = self.state["perceived_risk"]
        self.residents = self.sim.region_sizes().astype(np.float64)
        self.news = np.zeros(self.residents.size, dtype=np.float32)

    def _news(self, day: int) -> np.ndarray:
        """Exposure from yesterday's new public listings, per region."""
        self.news.fill(0.0)
        if day > 0 and self._disclosed and self.params.news_weight > 0:
            fresh = self.sim.record_by_region("newly_listed")[day - 1]
            self.news[:] = self.params.news_weight * 1000.0 * fresh / self.residents
        return self.news

    def kernel_values(self, day: int) -> dict:
        p = self.params
        return {
            "keep": np.float32(1.0 - p.decay), "sanction_weight": p.sanction_weight,
            "disclosure_weight": p.disclosure_weight if self._disclosed else 0.0,
            "news": self._news(day),
        }  # fmt: skip


CHILL = (
    PerAgent("ch_risk", np.float32, optional=True, doc="perceived risk (chilling module)"),
    Scalar("ch_effect", np.float64, doc="how much the risk holds back the act (0: chilling off)"),
)
"""Fields a chilled behaviour module declares (``chill_values`` gives them)."""


def chill_values(module: Module, effect: str) -> dict:
    """The ``CHILL`` fields' values for a chilled module: chilling's risk and its ``effect``
    parameter, or effect 0 (the risk, a stand-in, never read) when chilling is off."""
    for m in module.sim.modules:
        if m.name == "chilling":
            return {"ch_risk": m.risk, "ch_effect": np.float64(getattr(m.params, effect))}
    return {"ch_effect": np.float64(0.0)}
