"""Look-ups (mission row 9): anyone can look anyone up, friends and strangers alike.

Seeds 000 and 001: scores are public; anyone can check anyone's score and see who is on the
blacklist. Each day a citizen looks up one friend (a neighbour drawn uniformly) with chance
``friend_rate`` and one stranger (any other citizen, drawn uniformly) with chance
``stranger_rate``; one hash per citizen-day decides both, and a second hash per look-up picks
the target. A look-up *finds a listed citizen* when the target was on the blacklist at the end
of yesterday and the lists module discloses it (``modules.lists.disclose``): that citizen has
been *seen* (the social cost of disclosure). Look-ups change no score. Model, parameters and
assumptions: ``docs/odd_lookups.md``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from pydantic import Field

from scsim.kernels.row import nth_neighbour
from scsim.modules.neighbours import graph_fields, graph_values
from scsim.params import ModuleParams, Rate
from scsim.protocol import Module, PerAgent, Record, Scalar, emit
from scsim.rng import agent_hash, agent_hash_k, below, u_hi, u_lo

C_CLEAN, C_LISTED = range(2)


class LookupsParams(ModuleParams):
    friend_rate: Rate = Field(
        default=0.02, description="chance a citizen looks up one friend's score on a day"
    )
    stranger_rate: Rate = Field(
        default=0.005, description="chance a citizen looks up one stranger's score on a day"
    )


@njit(inline="always", cache=True)
def _found(rec, ev, a, kind, seen, disclosed, target, col_found):
    """Count a look-up of ``target``; log it for an audited looker, naming the target."""
    listed = disclosed and seen[target]
    if listed:
        rec[a.region, col_found] += 1.0
    emit(ev, a, kind, C_LISTED if listed else C_CLEAN, 0.0, np.float64(target))


@njit(inline="always", cache=True)
def lookups_after(
    a, score, rec, ev, dkey, friend_rate, stranger_rate, indptr, indices, active, ring,
    ring_half, n, seen, disclosed, col_lookups_friends, col_lookups_strangers,
    col_lookups_listed_found, kind_friend, kind_stranger,
):  # fmt: skip
    h = agent_hash(dkey, a.i)
    if u_hi(h) < friend_rate and a.degree > 0:
        rec[a.region, col_lookups_friends] += 1.0
        k = below(agent_hash_k(dkey, a.i, 0), a.degree)
        friend = nth_neighbour(a.i, k, indptr, indices, active, ring, ring_half)
        _found(rec, ev, a, kind_friend, seen, disclosed, friend, col_lookups_listed_found)
    if u_lo(h) < stranger_rate and n > np.uint64(1):
        rec[a.region, col_lookups_strangers] += 1.0
        other = np.uint64(below(agent_hash_k(dkey, a.i, 1), n - np.uint64(1)))
        if other >= a.i:
            other += np.uint64(1)
        _found(rec, ev, a, kind_stranger, seen, disclosed, other, col_lookups_listed_found)
    return np.uint8(0)


class Lookups(Module):
    """Daily look-ups of a friend and of a stranger; see the module docstring."""

    name = "lookups"
    phase = "behaviour"
    records = (
        Record(
            "lookups_friends", "look-ups of a friend's score", unit="look-ups", kind="flow",
            section="other",
        ),
        Record(
            "lookups_strangers", "look-ups of a stranger's score", unit="look-ups", kind="flow",
            section="other",
        ),
        Record(
            "lookups_listed_found", "look-ups that found a blacklisted citizen",
            unit="look-ups", kind="flow", section="lists",
        ),
    )  # fmt: skip
    after = lookups_after
    events = ("friend", "stranger")

    @property
    def fields(self) -> tuple:
        """The hook's fields; the graph's ``indptr`` is uint32 or uint64 (by its size)."""
        return (
            Scalar("dkey", np.uint64, doc="the day's key of the look-up stream"),
            Scalar("friend_rate", np.float64, doc="daily chance of looking up a friend"),
            Scalar("stranger_rate", np.float64, doc="daily chance of looking up a stranger"),
            *graph_fields(self.sim, scores=False),
            Scalar("n", np.uint64, doc="citizens"),
            PerAgent(
                "seen", np.bool_, optional=True,
                doc="yesterday's blacklist as the public sees it (when disclosed)",
            ),
            Scalar("disclosed", np.bool_, doc="the lists module discloses the blacklist"),
        )  # fmt: skip

    @property
    def causes(self) -> tuple[str, ...]:
        return ("clean", "listed")

    @property
    def reach(self) -> str:  # type: ignore[override]
        """A disclosed blacklist is read at strangers too; else only the looker's own draws."""
        return "anyone" if self._disclosed() else "own"

    def _disclosed(self) -> bool:
        lists = self.sim.scenario.modules.lists
        return bool(lists is not None and lists.enabled and lists.disclose)

    def init(self) -> None:
        self.disclosed = self._disclosed()
        # yesterday's blacklist as the public sees it (a copy: today's pass rewrites ``listed``)
        self.seen = np.zeros(self.sim.n if self.disclosed else 1, dtype=np.bool_)

    def kernel_values(self, day: int) -> dict:
        if self.disclosed:
            np.copyto(self.seen, self.sim.people.listed)
        return {
            "dkey": self.day_key("look", day), "friend_rate": self.params.friend_rate,
            "stranger_rate": self.params.stranger_rate, **graph_values(self.sim, scores=False),
            "n": np.uint64(self.sim.n), "seen": self.seen, "disclosed": self.disclosed,
        }  # fmt: skip
