"""Minor infractions (mission row 6): a catalogue of acts, each at a place, with rates,
detection and penalties.

Seed 004 names the first acts punished: "spreading false information, causing agitation on
public transportation, using fake travel tickets, declining to pay social insurance, or smoking
on trains"; seed 002 adds jaywalking. Each kind happens at a place (street, train, bus_metro,
online, workplace, ...) which sets who can see it when surveillance is on; otherwise a kind is
detected with its own ``detect_prob``. A kind's rate can be shaped by a population trait
(``rate x (1 + trait_weight x (2 trait - 1))``, as in purchases). ``CATALOGUE`` is the default
catalogue for presets.

One hash per agent-day decides the whole catalogue: an act happens if its high uniform is below
the total rate, and the kind is the first whose cumulative rate exceeds it, so an agent commits
at most one infraction a day (rates must sum to at most 1). Its low uniform decides detection
without surveillance. The stream is ``infractions.infraction`` whatever the catalogue, so
SC-core's single ``infraction`` kind keeps its draws, and changing one rate keeps everyone's
uniforms (common random numbers). With chilling on, an act that would have happened is held
back with chilling's probability (a second hash, on the path of an act only) and counted as
``infractions_deterred`` instead of ``infractions_committed``.

A kind marked ``lists`` is an act that blacklists (seed 002's act rule): a recorded act of it
writes today's day into the shared ``listing_record`` field, which the lists module reads with
``act_days``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field, field_validator

from scsim.days import DAY
from scsim.modules import catalogue
from scsim.modules.catalogue import CatalogueRates, Entry, check_catalogue, pick
from scsim.modules.chilling import CHILL, chill_values
from scsim.modules.surveillance import PLACES, SIGHT, Place, sight, sight_values
from scsim.params import ModuleParams, Probability
from scsim.protocol import Module, PerAgent, Record, Scalar, Table, emit
from scsim.rng import agent_hash, agent_hash_k, u_hi, u_lo

STREAM = "infraction"
"""The catalogue's one stream (named after SC-core's single kind, whose draws it keeps)."""


class Infraction(Entry):
    fixed = {"name": "a kind's name names its events' cause"}

    detect_prob: Probability = Field(
        description="chance the act is seen and recorded (without surveillance)"
    )
    penalty: float = Field(le=0, ge=-1000, description="score change when detected")
    place: Place = Field(default="street", description="where it happens (who can see it)")
    lists: bool = Field(
        default=False,
        description="a recorded act lists the citizen for lists.act_days days (seed 002)",
    )


class InfractionsParams(ModuleParams):
    kinds: list[Infraction] = Field(min_length=1, max_length=64)

    @field_validator("kinds")
    @classmethod
    def _catalogue(cls, kinds: list[Infraction]) -> list[Infraction]:
        check_catalogue(kinds, reserved=("committed", "detected", "deterred"))
        return kinds

    def needs_modules(self) -> tuple[str, ...]:
        return ("population",) if any(k.needs_population for k in self.kinds) else ()


CATALOGUE = [
    Infraction(name="jaywalking", rate=0.004, detect_prob=0.05, penalty=-5, place="street",
               trait="conformity", trait_weight=-0.5),
    Infraction(name="smoking_on_train", rate=0.0005, detect_prob=0.3, penalty=-10,
               place="train", trait="conformity", trait_weight=-0.5),
    Infraction(name="fare_evasion", rate=0.001, detect_prob=0.2, penalty=-15,
               place="bus_metro", trait="risk_aversion", trait_weight=-0.5),
    Infraction(name="transport_disturbance", rate=0.0002, detect_prob=0.3, penalty=-20,
               place="bus_metro", trait="conformity", trait_weight=-0.5),
    Infraction(name="false_information", rate=0.0003, detect_prob=0.2, penalty=-30,
               place="online", trait="conformity", trait_weight=-0.5),
    Infraction(name="unpaid_social_insurance", rate=0.0001, detect_prob=0.5, penalty=-50,
               place="workplace", trait="risk_aversion", trait_weight=-0.5),
]  # fmt: skip
"""Default catalogue (seeds 002, 004 name the acts; rates, detection, penalties and trait
weights are assumptions, stated in docs/odd_infractions.md)."""

K_CHILL = 0  # second draw of an agent-day (``agent_hash_k``): held back by fear


@njit(inline="always", cache=True)
def infractions_delta(
    a, rec, ev, dkey, total, totals, shaped, rates, traits, trait_of, slope, ages, age, detect,
    penalties, places, listing, listing_record, sv_on, sv_key, sv_cover, sv_src, sv_region,
    sv_buf, sv_col, sv_evk, ch_risk, ch_effect, col_infractions_committed,
    col_infractions_detected, col_infractions_deterred, col_infraction_kind, kind_unseen,
    kind_recorded, kind_deterred,
):  # fmt: skip
    h = agent_hash(dkey, a.i)
    u = u_hi(h)
    if u >= (totals[a.i] if shaped else total):
        return np.float32(0.0)
    c = pick(u, a.i, rates, traits, trait_of, slope, ages, age) if rates.size > 1 else 0
    if ch_effect > 0 and u_hi(agent_hash_k(dkey, a.i, K_CHILL)) < ch_effect * ch_risk[a.i]:
        rec[a.region, col_infractions_deterred] += 1.0
        emit(ev, a, kind_deterred, c, 0.0, -1)
        return np.float32(0.0)
    rec[a.region, col_infractions_committed] += 1.0
    rec[a.region, col_infraction_kind + c] += 1.0
    if sv_on:
        seen = sight(
            a, rec, ev, places[c], penalties[c], sv_key, sv_cover, sv_src, sv_region, sv_buf,
            sv_col, sv_evk,
        )  # fmt: skip
    else:
        seen = u_lo(h) < detect[c]
    if seen:
        rec[a.region, col_infractions_detected] += 1.0
        if listing[c]:
            listing_record[a.i] = a.day
        emit(ev, a, kind_recorded, c, penalties[c], -1)
        return penalties[c]
    emit(ev, a, kind_unseen, c, 0.0, -1)
    return np.float32(0.0)


class Infractions(Module):
    """One hash per agent-day for the whole catalogue; see the module docstring."""
    reach = "own"

    name = "infractions"
    phase = "behaviour"
    delta = infractions_delta
    events = ("unseen", "recorded", "deterred")
    offence = True
    fields = (
        Scalar("dkey", np.uint64, doc="the day's key of the catalogue's stream"),
        *catalogue.CATALOGUE,
        Table("detect", np.float64, doc="each kind's chance to be recorded (no surveillance)"),
        Table("penalties", np.float32, doc="each kind's weighted score change"),
        Table("places", np.int64, doc="each kind's place (index into PLACES)"),
        Table("listing", np.bool_, doc="each kind's recorded act lists the citizen"),
        PerAgent("listing_record", DAY, optional=True, doc="day of the last listing act"),
        *SIGHT,
        *CHILL,
    )

    @property
    def records(self) -> tuple[Record, ...]:
        totals = (
            ("committed", "infractions committed", False),
            ("detected", "infractions recorded", True),
            ("deterred", "infractions held back by fear", False),
        )
        return (
            *(
                Record(f"infractions_{r}", label, "acts", "flow", section="behaviour", headline=h)
                for r, label, h in totals
            ),
            *(
                Record(
                    f"infractions_{k.name}",
                    f"infractions committed: {k.name.replace('_', ' ')}",
                    "acts",
                    "flow",
                    group="infraction_kind",
                    section="behaviour",
                    meta={"infraction": k.name},
                )
                for k in self.params.kinds
            ),
        )

    @property
    def causes(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.params.kinds)

    def init(self) -> None:
        kinds, people = self.params.kinds, self.sim.people
        self.catalogue = CatalogueRates(kinds, people)
        self.detect = np.array([k.detect_prob for k in kinds], dtype=np.float64)
        self.penalties = np.array([k.penalty * self.weight for k in kinds], dtype=np.float32)
        self.places = np.array([PLACES.index(k.place) for k in kinds], dtype=np.int64)
        self.listing = np.array([k.lists for k in kinds], dtype=np.bool_)
        if self.listing.any():
            people.ensure("listing_record", DAY, -1)

    def refresh(self) -> None:
        """Rates, detection and weighted penalties from the parameters in force."""
        self.catalogue = None  # freed before the new one is built (a large run's peak)
        self.init()

    def kernel_values(self, day: int) -> dict:
        return {
            "dkey": self.day_key(STREAM, day), **self.catalogue.values(), "detect": self.detect,
            "penalties": self.penalties, "places": self.places, "listing": self.listing,
            **sight_values(self, day), **chill_values(self, "infraction_effect"),
        }  # fmt: skip
