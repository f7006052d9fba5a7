"""The module protocol: what every mechanic provides to the engine.

A module is a Python class holding its parameters and state arrays, plus up to two numba hooks
that the engine fuses into one parallel pass over agents per day (see ``scsim.fusion``):

- ``delta(a, rec, ev, *fields) -> float32``: the module's contribution to today's score change.
  The engine adds it to the module's score component (``component``, one array per component).
- ``after(a, score, rec, ev, *fields) -> uint8``: react to the agent's new score (list,
  sanction, reward, ...); return the public flag bits (``SANCTIONED``, ``LISTED``, ...) that
  neighbours see tomorrow.

``fields`` are the module's ``Args`` namedtuple fields, in order and with the same names (the
engine checks), ending with ``col`` (the module's first record column) and ``evk`` (its first
event-kind code). ``a`` is an ``Agent``: the engine's view of one agent on one day, read from
yesterday's state (synchronous update). ``rec`` is the record table of the agent's block, one
row per region: hooks count with ``rec[a.region, col + k] += 1``; the engine sums blocks in
order, so records are bit-identical for any thread count. ``ev`` is the block's event buffer:
hooks log what happens to audited agents with ``emit``.

Verbs called by the engine, in order: ``init()`` once before day 0 (allocate state on
``sim.people``), ``args(day)`` before each day's pass, ``finish(day)`` after it (serial
follow-up such as delivering records to other citizens). On a day the scenario's ``timeline``
changes parameters, ``update(params)`` runs before ``args(day)``: it takes the new values and
calls ``refresh()``, which a module that caches parameter-derived values in ``init`` overrides
to recompute them (same shapes and dtypes: the fused kernel is never recompiled mid-run).

Hooks are ``@njit(inline="always")``; the fused kernel compiles each one on its own with
``scsim.fusion.HOOK_OPTIONS`` (LLVM inlines it; no reference counting, so a hook allocates no
array). The engine passes fields as separate kernel arguments, never as tuples.
"""

from __future__ import annotations

from collections import namedtuple
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numba import njit

from scsim.rng import stream_day_key

if TYPE_CHECKING:
    from scsim.engine import Sim

Agent = namedtuple(
    "Agent",
    [
        "i", "day", "block", "region", "audit", "score", "flags",
        "nb_mean", "nb_sanctioned", "nb_listed", "nb_offended", "degree", "recorded",
    ],
)  # fmt: skip
Agent.__doc__ = """One agent on one day, as the fused kernel sees it (scalars only).

i: agent id (uint64); day: today; block: the agent's block of the parallel pass; region: its
region (0 without regions); audit: in the audit sample (its events are logged); score: score at
the end of yesterday; flags: its public flags published yesterday; nb_mean: mean of neighbours'
scores yesterday (own score when isolated); nb_sanctioned, nb_listed, nb_offended: neighbours
whose published flags carry ``SANCTIONED``, ``LISTED``, ``OFFENDED`` (the last two are counted
only when some module reads them, else 0); degree: number of neighbours; recorded: today's
score change from records of misconduct (negative; 0 before the scoring phase). An array in a
tuple built per agent would cost a reference-count update per agent, hence scalars only.
"""

SANCTIONED = np.uint8(1)
"""Public flag: under a sanction neighbours can see (a travel ban ...)."""
LISTED = np.uint8(2)
"""Public flag: on a blacklist that is disclosed to the public."""
REDLISTED = np.uint8(4)
"""Public flag: on a redlist (of the trustworthy)."""
OFFENDED = np.uint8(8)
"""Public flag: a record of misconduct was made against the citizen that day."""

PHASES = ("behaviour", "scoring", "lists", "sanctions")
"""Order in which modules' hooks run within an agent's day (the DESIGN.md day loop)."""

EVENT_FIELDS = ("day", "citizen", "kind", "cause", "delta", "source")
"""Columns of an event-buffer row (row 0 of a block's buffer holds [count, dropped])."""


@njit(inline="always", cache=True)
def emit(ev, a, kind, cause, delta, source):
    """Log an event of an audited agent: ``kind`` = the module's ``evk`` + a local index,
    ``cause`` an index into the module's ``causes`` (or -1), ``source`` a citizen or -1."""
    if a.audit:
        k = np.int64(ev[0, 0]) + 1
        if k < ev.shape[0]:
            ev[k, 0] = a.day
            ev[k, 1] = a.i
            ev[k, 2] = kind
            ev[k, 3] = cause
            ev[k, 4] = delta
            ev[k, 5] = source
            ev[0, 0] = k
        else:
            ev[0, 1] += 1.0


class Module:
    """Base class of a mechanic. Subclasses set the class attributes and override the verbs."""

    name: ClassVar[str]
    phase: ClassVar[str]
    Args: ClassVar[type]
    requires: ClassVar[tuple[str, ...]] = ()
    """Modules whose state this one reads; the scenario is refused without them."""
    records: ClassVar[tuple[str, ...]] = ()
    """Names of the module's record columns (per day and region in the timeseries)."""
    measures: ClassVar[tuple[str, ...]] = ()
    """Records that are decimal sums (written as float64; the others are counts, int64)."""
    events: ClassVar[tuple[str, ...]] = ()
    """Names of the module's event kinds, in the order of their local index."""
    offence: ClassVar[bool] = False
    """True if the module's negative deltas are records of misconduct (``Agent.recorded``)."""
    makes_people: ClassVar[bool] = False
    """True if ``init`` draws who the citizens are (the engine runs it before the network's
    last step, which may read the people, and before every other module's ``init``)."""
    gated: ClassVar[bool] = True
    """False if the hooks of a lists- or sanctions-phase module run for every citizen, not only
    those enrolled in the system (bookings: everyone travels)."""
    reads_public: ClassVar[bool] = False
    """True if a hook reads ``nb_listed`` or ``nb_offended`` (costs one more gather)."""
    delta: ClassVar[Any] = None
    after: ClassVar[Any] = None

    def __init__(self, params: Any, sim: Sim) -> None:
        self.params = params
        self.sim = sim
        self.col = -1  # first record column, assigned by the engine
        self.evk = -1  # first event kind, assigned by the engine

    @classmethod
    def has_delta(cls, params: Any) -> bool:
        """Whether a module with these parameters fuses a ``delta`` hook (a score component)."""
        return cls.delta is not None

    @property
    def component(self) -> str | None:
        """The score component the ``delta`` hook feeds (the module's name)."""
        return self.name if self.delta is not None else None

    @property
    def causes(self) -> tuple[str, ...]:
        """Names of event causes (catalogue entries, departments ...) by index."""
        return ()

    @property
    def weight(self) -> float:
        """The scenario's weight of this module's score component (scoring.weights)."""
        return self.sim.config.scoring.weights.get(self.name, 1.0)

    def init(self) -> None:
        """Allocate and initialise state arrays (on ``sim.people``) before day 0."""

    def args(self, day: int) -> tuple:
        """The ``Args`` namedtuple of arrays and scalars the hooks read on ``day``."""
        raise NotImplementedError

    def finish(self, day: int) -> None:
        """Serial work after the day's pass (default: nothing)."""

    def update(self, params: Any) -> None:
        """Take parameter values changed mid-run by the timeline (before ``args(day)``)."""
        self.params = params
        self.refresh()

    def refresh(self) -> None:
        """Recompute values derived from the parameters in ``init`` (default: none cached)."""

    def day_key(self, stream: str, day: int) -> np.uint64:
        """Key of this module's named sub-stream on ``day`` (common random numbers)."""
        return stream_day_key(self.sim.seed, f"{self.name}.{stream}", day)

    def day_keys(self, streams: list[str], day: int) -> np.ndarray:
        """Day keys of several sub-streams (one per catalogue entry), as a uint64 array."""
        return np.array([self.day_key(s, day) for s in streams], dtype=np.uint64)
