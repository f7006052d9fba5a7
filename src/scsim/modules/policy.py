"""Policy (mission row 18): enrolment in the system, voluntary or mandatory, and amnesties.

Seeds 000 and 001: the system is "voluntary now, mandatory by 2020". A citizen is enrolled or
not (``enrolled``, drawn on day 0 by the population module's ``enrolled_share``, or here by
``enrolment.initial_share`` when the population module is off). The system ignores the
unenrolled: their score is kept as a shadow score (the data exists; it is what they would score
if enrolled), but the hooks of the lists and sanctions phases (listing, sanctions, perks) skip
them, so they are never listed, sanctioned or rewarded (the engine's enrolment gate).

Voluntary uptake: each day an unenrolled citizen enrols with probability ``base_rate +
per_perk x k``, where k is the number of perks they would hold at yesterday's score (the perks
module's thresholds; a redlist perk counts at the redlist threshold). Enrolment is mandatory
while ``mandatory`` is true: everyone not yet enrolled enrols that day (set it through the
scenario's ``timeline`` on the day the mandate starts). Enrolment is never withdrawn.

Amnesty (a ``timeline`` event, ``amnesty: {listings, records}``) on day D, in the scoring phase
of D's pass (before the lists phase): ``listings`` clears every blacklist listing held at the
start of D (a citizen for whom a listing rule still holds that day is listed anew);
``records`` restores the penalty points of records on file (expiry's ``record_points``): the
points form this module's score component ``policy``. Sanctions in force run their course.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit
from pydantic import Field

from scsim.modules.lists import NO_APPEAL
from scsim.params import ModuleParams, Probability, Rate, Strict
from scsim.protocol import Module, emit
from scsim.rng import agent_hash, u_hi, uniform_array
from scsim.timeline import LISTINGS, RECORDS

R_ENROLLED, R_NEW, R_AMNESTIED_LISTINGS, R_AMNESTIED_RECORDS = range(4)
E_ENROLLED, E_AMNESTIED = range(2)
C_VOLUNTARY, C_MANDATORY, C_LISTING, C_RECORDS = range(4)


class Enrolment(Strict):
    fixed = {"initial_share": "enrolment on day 0 is drawn once, before day 0"}

    initial_share: Probability | None = Field(
        default=None,
        description="share enrolled on day 0 when the population module is off (its "
        "enrolled_share applies otherwise); none: everyone",
    )
    mandatory: bool = Field(
        default=False,
        description="everyone is enrolled (set it on the day enrolment becomes mandatory; "
        "seeds 000/001: mandatory by 2020)",
    )
    base_rate: Rate = Field(
        default=0.0005,
        description="daily chance an unenrolled citizen enrols whatever their score "
        "(assumption: about 17 % a year)",
    )
    per_perk: Rate = Field(
        default=0.001,
        description="added daily chance per perk the citizen would hold at their score "
        "(assumption: with the four default perks, about 80 % a year)",
    )


class PolicyParams(ModuleParams):
    enrolment: Enrolment = Field(default_factory=Enrolment)

    def clashes(self, enabled: set[str]) -> str | None:
        """Enrolment on day 0 is drawn in one place."""
        if "population" in enabled and self.enrolment.initial_share is not None:
            return (
                "modules.policy.enrolment.initial_share: the population module draws "
                "enrolment (modules.population.enrolled_share); remove initial_share"
            )
        return None


PolicyArgs = namedtuple(
    "PolicyArgs",
    [
        "enrolled", "ekey", "rates", "perk_at", "mandatory", "amnesty", "listed", "wrongful",
        "appeals", "appeal_due", "record_points", "col", "evk",
    ],
)  # fmt: skip


@njit(inline="always", cache=True)
def policy_delta(
    a, rec, ev, enrolled, ekey, rates, perk_at, mandatory, amnesty, listed, wrongful, appeals,
    appeal_due, record_points, col, evk,
):  # fmt: skip
    """Enrol (voluntarily by perks, or by mandate); carry out the day's amnesty; return the
    record points an amnesty restores."""
    i = a.i
    if not enrolled[i]:
        join = mandatory
        cause = C_MANDATORY
        if not join:
            p = rates[0]
            for k in range(perk_at.size):
                if a.score >= perk_at[k]:
                    p += rates[1]
            join = u_hi(agent_hash(ekey, i)) < p
            cause = C_VOLUNTARY
        if join:
            enrolled[i] = True
            rec[a.region, col + R_NEW] += 1.0
            emit(ev, a, evk + E_ENROLLED, cause, 0.0, -1)
    if enrolled[i]:
        rec[a.region, col + R_ENROLLED] += 1.0
    restored = np.float32(0.0)
    if amnesty == 0:
        return restored
    if (amnesty & LISTINGS) != 0 and listed[i]:
        listed[i] = False
        if wrongful[i]:
            wrongful[i] = False
        if appeals:
            appeal_due[i] = NO_APPEAL
        rec[a.region, col + R_AMNESTIED_LISTINGS] += 1.0
        emit(ev, a, evk + E_AMNESTIED, C_LISTING, 0.0, -1)
    if (amnesty & RECORDS) != 0 and record_points[i] < 0:
        restored = -record_points[i]
        record_points[i] = np.float32(0.0)
        rec[a.region, col + R_AMNESTIED_RECORDS] += 1.0
        emit(ev, a, evk + E_AMNESTIED, C_RECORDS, restored, -1)
    return restored


class Policy(Module):
    """Enrolment (voluntary uptake by perks, mandate) and amnesties; see the module docstring
    and docs/odd_policy.md."""

    name = "policy"
    Args = PolicyArgs
    phase = "scoring"
    records = ("enrolled", "newly_enrolled", "amnestied_listings", "amnestied_records")
    events = ("enrolled", "amnestied")
    delta = policy_delta

    @property
    def causes(self) -> tuple[str, ...]:
        return ("voluntary", "mandatory", "listing", "records")

    def init(self) -> None:
        people, n = self.sim.people, self.sim.n
        if "enrolled" not in people.fields:
            share = self.params.enrolment.initial_share
            share = 1.0 if share is None else share
            people.add("enrolled", uniform_array(self.sim.seed, "policy.enrolled", n) < share)
        self.enrolled = people.enrolled

    def perk_thresholds(self) -> np.ndarray:
        """The score at which each perk in force would be held (a redlist perk: the redlist
        threshold; without one, never)."""
        perks, lists = self.sim.config.perks, self.sim.config.lists
        if perks is None or not perks.enabled:
            return np.zeros(0, dtype=np.float32)
        red = lists.redlist_above if lists is not None and lists.enabled else None
        at = [p.min_score if p.min_score is not None else red for p in perks.perks]
        return np.array([np.inf if x is None else x for x in at], dtype=np.float32)

    def _field(self, name: str, dtype) -> np.ndarray:
        values = self.sim.people.fields.get(name)
        return values if values is not None else np.zeros(1, dtype=dtype)

    def args(self, day: int) -> tuple:
        e = self.params.enrolment
        return PolicyArgs(
            self.enrolled, self.day_key("enrol", day),
            np.array([e.base_rate, e.per_perk], dtype=np.float64), self.perk_thresholds(),
            e.mandatory, np.int64(self.sim.timeline.amnesty(day)),
            self._field("listed", np.bool_), self._field("wrongful", np.bool_),
            "appeal_due" in self.sim.people.fields, self._field("appeal_due", np.int32),
            self._field("record_points", np.float32), self.col, self.evk,
        )  # fmt: skip
