"""The module protocol: what every mechanic provides to the engine.

A module is a Python class holding its parameters and state arrays, plus up to two numba hooks
that the engine fuses into one parallel pass over agents per day (see ``scsim.fusion``):

- ``delta(agent, rec, *fields) -> float32``: the module's contribution to today's score change.
- ``after(agent, score, rec, *fields) -> bool``: react to the agent's new score (list,
  sanction, ...); return True if the agent is visibly sanctioned to neighbours tomorrow.

``fields`` are the module's ``Args`` namedtuple fields, in order and with the same names (the
engine checks): its arrays and parameters for the day, ending with ``col``, the module's first
column in ``rec``, the record row of the agent's block (hooks add to it; the engine sums blocks
in order). ``agent`` is an ``Agent``: the engine's view of one agent on one day, read from
yesterday's state (synchronous update).

Hooks are ``@njit(inline="always")``. The engine passes fields as separate kernel arguments,
never as tuples: numba drops writes through a namedtuple's arrays inside ``prange``
(numba#7135) and reference-counts arrays in tuples passed to calls, once per agent.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from scsim.rng import stream_day_key

if TYPE_CHECKING:
    from scsim.engine import Sim

Agent = namedtuple(
    "Agent",
    ["i", "day", "score", "sanctioned", "nb_mean", "nb_sanctioned", "degree"],
)
Agent.__doc__ = """One agent on one day, as the fused kernel sees it.

i: agent id; day: today; score: score at the end of yesterday; sanctioned: visibly sanctioned
today; nb_mean: mean of neighbours' scores yesterday (own score when isolated); nb_sanctioned:
neighbours visibly sanctioned today; degree: number of neighbours. Only scalars: an array in
a tuple built per agent would cost a reference-count update per agent.
"""

PHASES = ("behaviour", "scoring", "lists", "sanctions")
"""Order in which modules' hooks run within an agent's day (the DESIGN.md day loop)."""


class Module:
    """Base class of a mechanic. Subclasses set the class attributes and override the verbs."""

    name: ClassVar[str]
    phase: ClassVar[str]
    Args: ClassVar[type]
    requires: ClassVar[tuple[str, ...]] = ()
    """Modules whose state this one reads; the scenario is refused without them."""
    records: ClassVar[tuple[str, ...]] = ()
    delta: ClassVar[Any] = None
    after: ClassVar[Any] = None

    def __init__(self, params: Any, sim: Sim) -> None:
        self.params = params
        self.sim = sim
        self.col = -1  # first record column, assigned by the engine

    def init(self) -> None:
        """Allocate and initialise state arrays (on ``sim.people``) before day 0."""

    def args(self, day: int) -> tuple:
        """The ``Args`` namedtuple of arrays and scalars the hooks read on ``day``."""
        raise NotImplementedError

    def day_key(self, stream: str, day: int) -> np.uint64:
        """Key of this module's named sub-stream on ``day`` (common random numbers)."""
        return stream_day_key(self.sim.seed, f"{self.name}.{stream}", day)

    def day_keys(self, streams: list[str], day: int) -> np.ndarray:
        """Day keys of several sub-streams (one per catalogue entry), as a uint64 array."""
        return np.array([self.day_key(s, day) for s in streams], dtype=np.uint64)
