"""A loyalty bonus: the state adds a few points a day to party members' scores.

An example of a module of one's own (docs/extending.md walks through it): the scenario beside
this file names it under ``extensions:`` and sets it under ``modules.loyalty_bonus``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field

from scsim.params import ModuleParams, Probability
from scsim.protocol import Module, PerAgent, Record, Scalar
from scsim.rng import uniform_array


class LoyaltyParams(ModuleParams):
    member_share: Probability = Field(
        default=0.0704,
        description="share of citizens in the party: 99.19 M members (CCP Organization "
        "Department, end of 2023) of 1 409.7 M people (National Bureau of Statistics, 2023)",
    )
    bonus: float = Field(
        default=0.05, ge=0, le=10, description="points a member gains a day (assumption)"
    )


@njit(inline="always", cache=True)
def loyalty_delta(a, rec, ev, party_member, bonus, col_bonus_paid):
    """Today's bonus: ``bonus`` points to a party member, nothing to anyone else."""
    if not party_member[a.i]:
        return np.float32(0.0)
    rec[a.region, col_bonus_paid] += 1.0
    return bonus


class LoyaltyBonus(Module):
    """Party members, drawn once, gain ``bonus`` points a day (the ``loyalty_bonus``
    component of their score)."""

    name = "loyalty_bonus"
    phase = "behaviour"
    reach = "own"  # reads no other citizen's state
    Params = LoyaltyParams
    fields = (
        PerAgent("party_member", np.bool_, fill=False, doc="a member of the party"),
        Scalar("bonus", np.float32, doc="points a member gains a day"),
    )
    records = (
        Record(
            "bonus_paid", "party members given the loyalty bonus", kind="flow",
            section="scoring", headline=True,
        ),
    )  # fmt: skip
    delta = loyalty_delta

    def init(self) -> None:
        """Draw the party members (the same citizens for a seed, whatever else is on)."""
        draw = uniform_array(self.sim.seed, "loyalty_bonus.member", self.sim.n)
        self.state["party_member"][:] = draw < self.params.member_share

    def kernel_values(self, day: int) -> dict:
        return {"bonus": self.params.bonus}
