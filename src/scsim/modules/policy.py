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

import numpy as np
from numba import njit
from pydantic import Field

from scsim.days import DAY
from scsim.modules.lists import NO_APPEAL
from scsim.params import ModuleParams, Probability, Rate, Strict
from scsim.protocol import Module, PerAgent, Record, Scalar, Table, emit
from scsim.protocol.flags import AMNESTY_LISTINGS, AMNESTY_RECORDS
from scsim.rng import agent_hash, u_hi, uniform_array

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


@njit(inline="always", cache=True)
def policy_delta(
    a, rec, ev, enrolled, ekey, rates, perk_at, mandatory, amnesty, listed, wrongful, appeals,
    appeal_due, record_points, col_enrolled, col_newly_enrolled, col_amnestied_listings,
    col_amnestied_records, kind_enrolled, kind_amnestied,
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
            rec[a.region, col_newly_enrolled] += 1.0
            emit(ev, a, kind_enrolled, cause, 0.0, -1)
    if enrolled[i]:
        rec[a.region, col_enrolled] += 1.0
    restored = np.float32(0.0)
    if amnesty == 0:
        return restored
    if (amnesty & AMNESTY_LISTINGS) != 0 and listed[i]:
        listed[i] = False
        if wrongful[i]:
            wrongful[i] = False
        if appeals:
            appeal_due[i] = NO_APPEAL
        rec[a.region, col_amnestied_listings] += 1.0
        emit(ev, a, kind_amnestied, C_LISTING, 0.0, -1)
    if (amnesty & AMNESTY_RECORDS) != 0 and record_points[i] < 0:
        restored = -record_points[i]
        record_points[i] = np.float32(0.0)
        rec[a.region, col_amnestied_records] += 1.0
        emit(ev, a, kind_amnestied, C_RECORDS, restored, -1)
    return restored


class Policy(Module):
    """Enrolment (voluntary uptake by perks, mandate) and amnesties; see the module docstring
    and docs/odd_policy.md."""
    reach = "own"

    name = "policy"
    phase = "scoring"
    fields = (
        PerAgent("enrolled", np.bool_, doc="enrolled in the system (drawn on day 0)"),
        Scalar("ekey", np.uint64, doc="the day's key of the enrolment stream"),
        Table("rates", np.float64, doc="daily chance of enrolling: base rate, per perk"),
        Table("perk_at", np.float32, doc="the score at which each perk would be held"),
        Scalar("mandatory", np.bool_, doc="enrolment is mandatory"),
        Scalar("amnesty", np.int64, doc="the day's amnesty (AMNESTY_* bits; 0: none)"),
        PerAgent("listed", np.bool_, optional=True, doc="on the blacklist (lists module)"),
        PerAgent("wrongful", np.bool_, optional=True, doc="listed wrongly (lists module)"),
        Scalar("appeals", np.bool_, doc="listings can be appealed (an appeal_due field)"),
        PerAgent("appeal_due", DAY, optional=True, doc="day an appeal is decided (lists)"),
        PerAgent("record_points", np.float32, optional=True, doc="points on file (expiry)"),
    )
    records = (
        Record("enrolled", "citizens enrolled in the system", section="other"),
        Record(
            "newly_enrolled", "citizens newly enrolled in the system", kind="flow",
            section="other",
        ),
        Record(
            "amnestied_listings", "citizens taken off the blacklist by amnesty", kind="flow",
            section="lists",
        ),
        Record(
            "amnestied_records", "records wiped by amnesty", unit="citizens", kind="flow",
            section="lists",
        ),
    )  # fmt: skip
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

    def perk_thresholds(self) -> np.ndarray:
        """The score at which each perk in force would be held (a redlist perk: the redlist
        threshold; without one, never)."""
        perks, lists = self.sim.config.perks, self.sim.config.lists
        if perks is None or not perks.enabled:
            return np.zeros(0, dtype=np.float32)
        red = lists.redlist_above if lists is not None and lists.enabled else None
        at = [p.min_score if p.min_score is not None else red for p in perks.perks]
        return np.array([np.inf if x is None else x for x in at], dtype=np.float32)

    def kernel_values(self, day: int) -> dict:
        e = self.params.enrolment
        return {
            "ekey": self.day_key("enrol", day),
            "rates": np.array([e.base_rate, e.per_perk], dtype=np.float64),
            "perk_at": self.perk_thresholds(), "mandatory": e.mandatory,
            "amnesty": self.sim.timeline.amnesty(day),
            "appeals": "appeal_due" in self.sim.people.fields,
        }  # fmt: skip
