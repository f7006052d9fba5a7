"""Data sources and surveillance (mission rows 16, 17): who sees an act, and whom they blame.

Seed 002: Beijing "will pool data from several departments"; seed 004: surveillance cameras
and facial-recognition glasses. A *source* (a department such as the bank, the courts,
transport, the police, platform companies or the employer, or the cameras) sees a stated share
(``sees``, its coverage) of the acts at each *place*; camera coverage scales with the region's
camera density (population's region table). A source that sees an act makes a record of it,
against the wrong citizen with its ``misidentification`` rate. A record reaches the score only
if the source is pooled (``pooling`` on, the source ``pooled``, from ``pool_from_day``); an
unpooled record stays in its department and is only counted.

How behaviour modules ask "was this act detected, by whom, correctly?": a module that can be
watched declares the ``SIGHT`` fields (its ``kernel_values`` gives them with ``sight_values``)
and, on the rare path of an act, calls the inline ``sight`` with the act's place and penalty.
With surveillance off ``sv_on`` is False and the module keeps its own ``detect_prob``, so its
draws and results are unchanged. Sightings use surveillance's own streams
(``surveillance.sight.<module>``): switching surveillance on or off never moves a behaviour
module's act draws (common random numbers).

The true actor is always kept. A pooled misidentification is buffered per block with the
wrongly accused citizen (a uniformly drawn other citizen of the actor's region), sorted by
citizen in ``finish(day)`` and applied by this module's ``delta`` the next day: the penalty
goes to the accused's ``surveillance`` component and ``false_points`` (read by lists to judge
wrongful listings; a won appeal restores it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
from numba import njit
from pydantic import Field, field_validator

from scsim.fusion import BLOCK
from scsim.params import ModuleParams, Name, Probability, Strict
from scsim.protocol import Module, PerAgent, Record, Scalar, Table, emit
from scsim.rng import agent_hash_k, below, u_hi, u_lo

if TYPE_CHECKING:
    from scsim.protocol.host import Host

Place = Literal[
    "street", "train", "bus_metro", "online", "private_chat", "workplace", "finance", "court"
]
PLACES: tuple[str, ...] = get_args(Place)
"""Where acts happen; a place sets which sources can see an act."""

# ``sight`` is called by other modules with surveillance's first record column (``sv_col``) and
# first event kind (``sv_evk``): its offsets follow the order of ``Surveillance.records`` (acts,
# pooled, unpooled, false_delivered, then (seen, false) per source) and of ``events``
R_ACTS, R_POOLED, R_UNPOOLED, R_SOURCES = 0, 1, 2, 4
E_SEEN, E_MISATTRIBUTED = range(2)
# columns of ``sv_src`` (per source, today) and of a misattribution buffer row
S_MIS, S_POOLED = range(2)
B_TARGET, B_ACTOR, B_PENALTY, B_SOURCE = range(4)


class Source(Strict):
    name: Name
    sees: dict[Place, Probability] = Field(
        description="coverage: share of the acts at each place this source sees"
    )
    camera: bool = Field(
        default=False,
        description="coverage x the region's camera density (capped at 1; density 1 "
        "without population)",
    )
    misidentification: Probability = Field(
        default=0.0, description="chance a record names the wrong citizen"
    )
    pooled: bool = Field(default=True, description="its records go to the shared pool")


def default_sources() -> list[Source]:
    """Departments of seed 002 and the cameras of seed 004; coverages are assumptions."""
    return [
        Source(name="bank", sees={"finance": 0.9}),
        Source(name="courts", sees={"court": 1.0}),
        Source(name="transport", sees={"train": 0.3, "bus_metro": 0.2}),
        Source(name="police", sees={"street": 0.02, "train": 0.05, "bus_metro": 0.05,
                                    "online": 0.02}),
        Source(name="platforms", sees={"online": 0.5, "private_chat": 0.1}),
        Source(name="employer", sees={"workplace": 0.5}),
        Source(name="cameras", sees={"street": 0.3, "train": 0.4, "bus_metro": 0.4},
               camera=True, misidentification=0.01),
        Source(name="glasses", sees={"street": 0.01, "train": 0.05},
               misidentification=0.01),
    ]  # fmt: skip


class SurveillanceParams(ModuleParams):
    fixed = {
        "*": "sources and coverage are fixed before day 0; "
        "to pool from a date use modules.surveillance.pool_from_day"
    }

    sources: list[Source] = Field(default_factory=default_sources, min_length=1, max_length=32)
    pooling: bool = Field(
        default=True, description="pooled sources' records reach the score (seed 002)"
    )
    pool_from_day: int = Field(
        default=0, ge=0, le=36500, description="first day the pool exists (before: unpooled)"
    )

    @field_validator("sources")
    @classmethod
    def _unique(cls, sources: list[Source]) -> list[Source]:
        names = [s.name for s in sources]
        dup = [n for n in names if names.count(n) > 1]
        if dup:
            raise ValueError(f"{dup[0]!r}: expected unique source names")
        return sources


@njit(inline="always", cache=True)
def _blame(a, sv_key, sv_region, s, n_sources):
    """The citizen a misidentification names: another citizen of the actor's region, drawn
    uniformly (-1 when the region has nobody else)."""
    first = sv_region[a.region, 0]
    size = sv_region[a.region, 1]
    if size < 2:
        return np.int64(-1)
    j = first + below(agent_hash_k(sv_key, a.i, n_sources + s), size - 1)
    if j >= np.int64(a.i):
        j += 1
    return j


@njit(cache=True)
def sight(a, rec, ev, place, penalty, sv_key, sv_cover, sv_src, sv_region, sv_buf, sv_col,
          sv_evk):  # fmt: skip
    """Which sources see an act of ``a`` at ``place``; True if a pooled source named the
    actor (the caller applies its ``penalty`` once). Pooled misidentifications are buffered
    for delivery to the wrongly accused tomorrow. Call only on the path of an act."""
    g = a.region
    rec[g, sv_col + R_ACTS] += 1.0
    named = False
    n_sources = sv_cover.shape[0]
    for s in range(n_sources):
        cover = sv_cover[s, place, g]
        if cover <= 0.0:
            continue
        h = agent_hash_k(sv_key, a.i, s)
        if u_hi(h) >= cover:
            continue
        rec[g, sv_col + R_SOURCES + 2 * s] += 1.0
        pooled = sv_src[s, S_POOLED] > 0.0
        rec[g, sv_col + (R_POOLED if pooled else R_UNPOOLED)] += 1.0
        wrong = np.int64(-1)
        if u_lo(h) < sv_src[s, S_MIS]:
            wrong = _blame(a, sv_key, sv_region, s, n_sources)
        if wrong < 0:
            emit(ev, a, sv_evk + E_SEEN, s, 0.0, -1)
            named = named or pooled
            continue
        rec[g, sv_col + R_SOURCES + 2 * s + 1] += 1.0
        emit(ev, a, sv_evk + E_MISATTRIBUTED, s, 0.0, wrong)
        if pooled:
            buf = sv_buf[a.block]
            k = np.int64(buf[0, 0]) + 1
            if k < buf.shape[0]:
                buf[k, B_TARGET] = wrong
                buf[k, B_ACTOR] = a.i
                buf[k, B_PENALTY] = penalty
                buf[k, B_SOURCE] = s
                buf[0, 0] = k
            else:
                buf[0, 1] += 1.0
    return named


@njit(inline="always", cache=True)
def surveillance_delta(
    a, rec, ev, due_target, due_info, cursor, false_points, col_surveillance_false_delivered,
    kind_false_record,
):  # fmt: skip
    """Apply yesterday's false records against this citizen (sorted by citizen; each block
    keeps a cursor, since agents are visited in increasing order within a block)."""
    b = a.block
    k = cursor[b]
    if k >= due_target.size or due_target[k] != a.i:
        return np.float32(0.0)
    total = np.float32(0.0)
    while k < due_target.size and due_target[k] == a.i:
        p = np.float32(due_info[k, 1])
        total += p
        rec[a.region, col_surveillance_false_delivered] += 1.0
        emit(ev, a, kind_false_record, np.int64(due_info[k, 2]), p, np.int64(due_info[k, 0]))
        k += 1
    cursor[b] = k
    false_points[a.i] += total
    return total


class Surveillance(Module):
    """Sources, pooling and misidentification; see the module docstring and
    docs/odd_surveillance.md."""
    reach = "own"

    name = "surveillance"
    phase = "behaviour"
    delta = surveillance_delta
    events = ("seen", "misattributed", "false_record")
    false_events = ("misattributed", "false_record")
    offence = True
    fields = (
        Table("due_target", np.uint64, doc="yesterday's false records: accused, by citizen"),
        Table("due_info", np.float64, ndim=2, doc="their (actor, penalty, source)"),
        Table("cursor", np.int64, doc="each block's next false record to deliver"),
        PerAgent("false_points", np.float32, doc="points of false records (shared; ensured)"),
    )

    @property
    def records(self) -> tuple[Record, ...]:
        def act(name: str, label: str) -> Record:
            return Record(f"surveillance_{name}", label, unit="acts", kind="flow")

        fixed = (  # the order ``sight`` counts in (``R_*``)
            act("acts", "acts under surveillance"),
            act("pooled", "acts recorded by a pooled source"),
            act("unpooled", "acts recorded by a source outside the pool"),
        )
        per_source = []
        for s in self.params.sources:
            meta = {"source": s.name}
            per_source += [
                Record(
                    f"surveillance_seen_{s.name}", f"acts recorded by {s.name}", unit="acts",
                    kind="flow", group="surveillance_sources", meta=meta,
                ),
                Record(
                    f"surveillance_false_{s.name}",
                    f"acts {s.name} recorded against the wrong citizen", unit="records",
                    kind="flow", group="surveillance_sources", false=True, meta=meta,
                ),
            ]  # fmt: skip
        delivered = Record(
            "surveillance_false_delivered", "false records made against citizens",
            unit="records", kind="flow", false=True, headline=True,
        )  # fmt: skip
        return (*fixed, delivered, *per_source)

    @property
    def causes(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.params.sources)

    def init(self) -> None:
        p, sim = self.params, self.sim
        sim.people.ensure("false_points", np.float32, 0.0)
        self.region_span, density = self._regions()
        sources = p.sources
        self.cover = np.zeros((len(sources), len(PLACES), density.size), dtype=np.float64)
        for s, src in enumerate(sources):
            scale = density if src.camera else np.ones_like(density)
            for place, share in src.sees.items():
                self.cover[s, PLACES.index(place)] = np.minimum(1.0, share * scale)
        mis = np.array([src.misidentification for src in sources], dtype=np.float64)
        pooled = np.array([p.pooling and src.pooled for src in sources], dtype=np.float64)
        self.src_before = np.stack([mis, np.zeros_like(pooled)], axis=1)
        self.src_after = np.stack([mis, pooled], axis=1)
        n_blocks = -(-sim.n // BLOCK)
        self.buf = np.zeros((n_blocks, self._capacity(mis) + 1, 4), dtype=np.float64)
        self.cursor = np.zeros(n_blocks, dtype=np.int64)
        self.due_target = np.zeros(0, dtype=np.uint64)
        self.due_info = np.zeros((0, 3), dtype=np.float64)

    def _regions(self) -> tuple[np.ndarray, np.ndarray]:
        """First citizen and size of each region (regions are id ranges), and each region's
        camera density (population's table; 1 without population)."""
        people, sizes = self.sim.people, self.sim.region_sizes()
        region, (lo, hi) = people.fields.get("region"), people.own
        count = sizes.size
        if region is not None and np.any(np.diff(region[lo:hi].astype(np.int64)) < 0):
            raise ValueError("surveillance: regions must be contiguous id ranges")
        starts = np.concatenate([[0], np.cumsum(sizes)])
        span = np.stack([starts[:-1], sizes], axis=1).astype(np.int64)
        density = np.ones(count, dtype=np.float64)
        pop = next((m for m in self.sim.modules if m.name == "population"), None)
        if pop is not None:
            density = pop.camera_density[:count].astype(np.float64)
        return span, density

    def _capacity(self, mis: np.ndarray) -> int:
        """Buffer rows per block: the mean number of misattributions of a block (at most one
        act per agent-day per watching module, each seen by every source at its widest
        coverage) + 12 sd + 64, capped at the worst case; overflow raises in ``finish``."""
        acts = sum(
            getattr(m, "sights_per_day", 1)
            for m in self.sim.modules
            if "sv_buf" in m.kernel_fields()
        )
        if acts == 0 or not np.any(mis > 0):
            return 1
        widest = self.cover.reshape(self.cover.shape[0], -1).max(axis=1)
        mean = BLOCK * acts * float(widest @ mis)
        worst = BLOCK * acts * int(np.count_nonzero(mis > 0))
        return int(min(worst, np.ceil(mean + 12.0 * np.sqrt(mean) + 64.0)))

    def sight(self, caller: str, day: int) -> dict:
        """The ``SIGHT`` values a watched module passes to its hook on ``day``: ``sv_col``
        and ``sv_evk`` are the first record column and event kind, from which ``sight``
        counts in the order of ``records`` and ``events``."""
        p = self.params
        src = self.src_after if day >= p.pool_from_day else self.src_before
        return {
            "sv_on": True, "sv_key": self.day_key(f"sight.{caller}", day), "sv_cover": self.cover,
            "sv_src": src, "sv_region": self.region_span, "sv_buf": self.buf,
            "sv_col": self.column("surveillance_acts"), "sv_evk": self.kinds["kind_seen"],
        }  # fmt: skip

    def kernel_values(self, day: int) -> dict:
        return {"due_target": self.due_target, "due_info": self.due_info, "cursor": self.cursor}

    def finish(self, day: int) -> None:
        """Gather the day's pooled misattributions in block order, sort them by accused
        citizen (stable) for delivery tomorrow, and reset the buffers."""
        lost = int(self.buf[:, 0, 1].sum())
        if lost:
            raise RuntimeError(
                f"surveillance: {lost} misattributed records did not fit the buffer on day "
                f"{day}; this is a bug in the capacity bound (Surveillance._capacity)"
            )
        due = self.sim.block_rows(self.buf)
        order = np.argsort(due[:, B_TARGET], kind="stable")
        self.due_target = due[order, B_TARGET].astype(np.uint64)
        self.due_info = np.ascontiguousarray(due[order][:, [B_ACTOR, B_PENALTY, B_SOURCE]])
        starts = np.arange(self.cursor.size, dtype=np.int64) * BLOCK
        self.cursor[:] = np.searchsorted(self.due_target, starts.astype(np.uint64))
        self.buf[:, 0, :] = 0.0


_OFF = {
    "sv_on": False, "sv_key": np.uint64(0), "sv_cover": np.zeros((1, len(PLACES), 1)),
    "sv_src": np.zeros((1, 2)), "sv_region": np.zeros((1, 2), dtype=np.int64),
    "sv_buf": np.zeros((1, 2, 4)), "sv_col": 0, "sv_evk": 0,
}  # fmt: skip
"""Inert ``SIGHT`` values when surveillance is off (``sv_on`` False: nothing else is read)."""


def _watching(sim: Host) -> Surveillance | None:
    """The enabled surveillance module, if any."""
    return next((m for m in sim.modules if isinstance(m, Surveillance)), None)


SIGHT = (
    Scalar("sv_on", np.bool_, doc="surveillance is on"),
    Scalar("sv_key", np.uint64, doc="the day's key of the caller's sighting stream"),
    Table("sv_cover", np.float64, ndim=3, doc="coverage by source, place and region"),
    Table("sv_src", np.float64, ndim=2, doc="sources' misidentification and pooling"),
    Table("sv_region", np.int64, ndim=2, doc="each region's first and last citizen"),
    Table("sv_buf", np.float64, ndim=3, doc="per-block buffer of pooled misattributions"),
    Scalar("sv_col", np.int64, doc="surveillance's first record column"),
    Scalar("sv_evk", np.int64, doc="surveillance's first event kind"),
)
"""Fields a watched behaviour module declares (``sight_values`` gives them)."""


def sight_values(module: Module, day: int) -> dict:
    """The ``SIGHT`` fields' values for a watched module on ``day`` (inert when
    surveillance is off)."""
    m = _watching(module.sim)
    return m.sight(module.name, day) if m is not None else _OFF


def sight_key(module: Module, act: str, day: int) -> np.uint64:
    """Day key for sighting a second act of the same agent-day (stream
    ``surveillance.sight.<module>.<act>``), so its sightings are independent of the first
    act's; 0 when surveillance is off."""
    m = _watching(module.sim)
    return m.day_key(f"sight.{module.name}.{act}", day) if m is not None else np.uint64(0)
