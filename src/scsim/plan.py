"""Memory planned up front: how much a run will need, by part, before it is built.

``estimate(scenario)`` builds the scenario twice at a small size (``PROBE_N``, kernel not
compiled) and counts the bytes every part holds (each buffer once: a people field that is a row
of a module's table is counted with the table): the people fields of each module, the network,
the scores and their components, the daily records and the audit sample. Two sizes give each
part a fixed and a per-citizen share, so the part at N citizens is ``fixed + N x per citizen``.
A short pilot run of the smaller probe (``PILOT_DAYS`` days, the kernel compiled or loaded from
the cache as the real run would) measures the audit's events per audited citizen and day and
what the process itself holds (interpreter, libraries, the compiled kernel). Writing the results
adds, for a while, the report's figures, two columns of the people table and a sorted copy of
the event log (``WRITE_*``, measured by ``bench/plan_accuracy.py``).

One population split over R MPI ranks (``n_ranks``): a rank that keeps only its own citizens
(``scsim.ranks.keeps_own_possible``) holds a part's per-citizen bytes for its own citizens,
except the arrays every rank fills for everyone (``scsim.ranks.whole_arrays``: the published
scores and flags and the fields modules share), which it holds whole; a module's arrays by
block or by household it holds for its own blocks and households. The plan of a run over
ranks is that of its largest rank; where the ranks cannot keep only their own citizens, every
rank holds what one process would.

What this process may use is ``scsim.memory.available_memory()``.
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from scsim.footprint import measure, share_rows, whole_bytes
from scsim.fusion import BLOCK
from scsim.memory import HUGE_FROM, HUGE_PAGE, available_memory, gib, huge_pages, resident
from scsim.mpi import SerialComm
from scsim.scenario import Scenario

PROBE_N = (10_000, 20_000)
"""Citizens of the two probe builds (their difference gives each part's bytes per citizen)."""
PILOT_DAYS = 20
"""Days of the pilot run that measures events per audited citizen-day."""
WRITE_FIXED = 140e6
"""Bytes the writing of results adds whatever the size: the report's figures (plotly) and
Arrow's memory pool. Measured, bench/plan_accuracy.py."""
WRITE_PER_CITIZEN = 4
"""Bytes per citizen the people file adds: its score column (the other columns are the people
fields themselves, not copied; the citizen ids and the int32 days are made a row group at a
time, ``scsim.results._write_people``)."""
WRITE_EVENTS = 1.6
"""Extra bytes per byte of kept events while the event log is sorted by citizen and written."""
RANK_FIXED = 80e6
"""Bytes a rank of several holds beyond one process's parts: the MPI runtime (17 MB), the
numba functions a rank loads while it builds and the exchanges' buffers. Measured,
``bench/plan_accuracy.py --ranks``."""
HEADROOM = 0.9
"""Share of the available memory a run may plan for. The estimate was 8 % below the measured
peak of china-2020 at 4 M citizens and 11 % below at 70 M (20.8 GB planned, 23.4 GB measured;
bench/README.md, session 17), most of it a catalogue rebuilt beside the old one on the mandate's
day (since fixed: 3 % below at 4 M); without the margin, a run planned near the limit would not
fit."""


@dataclass(frozen=True)
class Part:
    """One part of a run's memory: ``fixed + n x per_citizen`` bytes."""

    name: str
    label: str
    fixed: float
    per_citizen: float
    kind: str = "state"
    """state (held for the whole run), process (interpreter, libraries, kernel) or transient
    (while the results are written)."""
    whole: float | None = None
    """Of ``per_citizen``, the bytes a rank that keeps only its own citizens still holds for
    every citizen (None: all of them)."""

    def at(self, n: int, own: int | None = None) -> float:
        """Bytes at ``n`` citizens, on a rank that keeps ``own`` of them (None: all)."""
        if own is None or self.whole is None:
            return self.fixed + n * self.per_citizen
        return self.fixed + n * self.whole + own * (self.per_citizen - self.whole)


@dataclass
class Plan:
    """A run's memory estimate by part, for ``n`` citizens over ``days`` days, on the largest
    of ``n_ranks`` MPI ranks (each with ``available`` bytes)."""

    scenario: str
    n: int
    days: int
    parts: list[Part]
    available: int
    bound: bool = False
    """Only a lower bound (``lower_bound``): what any run of this size must hold."""
    n_ranks: int = 1
    keeps_own: bool = False
    """Over several ranks, each keeps only its own citizens (else every rank holds all)."""

    def own_at(self, n: int) -> int | None:
        """Citizens of the largest rank at ``n`` (whole blocks; None: it holds everyone)."""
        if self.n_ranks == 1 or not self.keeps_own:
            return None
        blocks = -(-n // BLOCK)
        return min(n, -(-blocks // self.n_ranks) * BLOCK)

    def total(self, kind: str, n: int | None = None) -> float:
        return sum(self.added(p, n) for p in self.parts if p.kind == kind)

    def added(self, part: Part, n: int | None = None) -> float:
        """Bytes ``part`` adds to the peak at ``n`` citizens (default: the plan's): the writing
        of results only what the network, freed before it (``Sim.release_network``), does not
        give back."""
        n = self.n if n is None else n
        own = self.own_at(n)
        if part.name != "write":
            return part.at(n, own)
        network = sum(p.at(n, own) for p in self.parts if p.name == "network")
        return max(0.0, part.at(n, own) - network)

    def peak_at(self, n: int) -> float:
        """Process + state + the largest transient (the checkpoints' copy is freed before the
        results are written), at ``n`` citizens."""
        transient = [self.added(p, n) for p in self.parts if p.kind == "transient"]
        return self.total("process", n) + self.total("state", n) + max(transient, default=0.0)

    @property
    def peak(self) -> float:
        return self.peak_at(self.n)

    @property
    def usable(self) -> float:
        """The memory the run may plan for: ``HEADROOM`` of the available."""
        return self.available * HEADROOM

    @property
    def fits(self) -> bool:
        return self.peak <= self.usable

    def ranks_needed(self) -> float:
        """The fewest MPI ranks of this size that would hold the run (inf: none would, when
        every rank holds every citizen or what it holds for everyone is already too much)."""
        if not self.keeps_own:
            return 1 if replace(self, n_ranks=1).fits else math.inf
        most = -(-self.n // BLOCK)  # a rank holds whole blocks
        if not replace(self, n_ranks=most).fits:
            return math.inf
        lo, hi = 0, most  # the peak falls as the ranks grow: bisect
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if replace(self, n_ranks=mid).fits else (mid, hi)
        return hi

    def refusal(self) -> str:
        """Why the run is refused, with the estimate and what would hold it."""
        ranks = self.ranks_needed()
        need = "at least" if self.bound else "about"
        if ranks == math.inf:
            why = "" if self.keeps_own else " (each rank would hold every citizen)"
            hold = f"no number of MPI ranks of this size would hold it{why}"
        else:
            hold = f"{ranks} MPI ranks of this size would hold it"
        fit = "at most" if self.bound else "about"
        largest = self.largest_n()
        smaller = (
            f"or choose a smaller --n ({fit} {largest:,} citizens fit)"
            if largest
            else f"and no smaller --n fits either ({gib(self.peak_at(0))} before any citizen)"
        )
        needs = f"need {need} {gib(self.peak)} of memory" + (
            f" on the largest of {self.n_ranks} ranks" if self.n_ranks > 1 else ""
        )
        ranks_flag = f" --ranks {self.n_ranks}" if self.n_ranks > 1 else ""
        return (
            f"population.n: {self.n:,} citizens of {self.scenario} over {self.days} days "
            f"{needs} (scsim plan {self.scenario} --n {self.n}{ranks_flag} shows the parts); "
            f"{'this machine has' if self.n_ranks == 1 else 'each rank has'} "
            f"{gib(self.available)} available, of which a run plans for "
            f"{HEADROOM * 100:.0f} % (the estimate's margin); {hold}, {smaller}"
        )

    def largest_n(self) -> int:
        """The most citizens that fit in the usable memory (each part grows linearly with the
        citizens, so the peak does too: found by bisection)."""
        if self.peak_at(0) > self.usable:
            return 0
        lo, hi = 0, max(self.n, 1)
        while self.peak_at(hi) <= self.usable:  # the peak grows with n: bracket, then halve
            lo, hi = hi, hi * 2
            if hi > 2**40:
                return lo
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if self.peak_at(mid) <= self.usable else (lo, mid)
        return lo

    def rows(self) -> list[dict[str, Any]]:
        own = self.own_at(self.n)
        return [
            {
                "part": p.label,
                "kind": p.kind,
                "bytes_per_citizen": p.per_citizen,
                "bytes_per_own_citizen": (
                    None if own is None or p.whole is None else p.per_citizen - p.whole
                ),
                "bytes": self.added(p),
            }
            for p in self.parts
        ]


LABELS = {
    "network": "network (ties)",
    "scores": "scores and score components",
    "records": "daily records and score histograms",
    "audit": "audit sample: daily scores and event buffers",
    "wave": "records of the blocks of a wave, before they are added to the day's",
    "events": "audit sample: events kept",
    "process": "interpreter, libraries and the compiled kernel",
    "write": "writing the results (people table, event log)",
    "checkpoint": "checkpoints: a copy of the state without the network",
    "halo": "the citizens of other ranks read each day (MPI halo)",
    "rank": "an MPI rank's runtime and exchange buffers",
    "edges": "the huge memory pages at both ends of a rank's share of each array",
}


def _resized(scenario: Scenario, n: int, days: int | None = None) -> Scenario:
    from scsim.scenario import validate

    data = scenario.model_dump(mode="json")
    data["population"]["n"] = n
    if days is not None:
        data["days"] = days
        data["timeline"] = [e for e in data.get("timeline", []) if e["day"] < days]
    return validate(data)


def estimate(
    scenario: Scenario,
    available: int | None = None,
    pilot: bool = True,
    checkpoints: bool = False,
    n_ranks: int = 1,
) -> Plan:
    """The memory a run of ``scenario`` will need, by part (see the module's docstring), on
    the largest of ``n_ranks`` MPI ranks; without ``pilot``, no events are counted (the parts
    that need no kernel); with ``checkpoints``, the copy of the state a checkpoint is written
    from is counted (and over several ranks every rank holds every citizen, as ``scsim run
    --checkpoint-every`` does)."""
    from scsim.engine import Sim
    from scsim.ranks import keeps_own_possible

    n, days = scenario.population.n, scenario.days
    form = "ring" if Sim(scenario).holds_ring() else "csr"  # the probes hold the run's form
    small, large = (  # in this process alone, under mpiexec too
        Sim(_resized(scenario, size), comm=SerialComm(), network_form=form).build(
            compile_kernel=False
        )
        for size in PROBE_N
    )
    a, b = measure(small), measure(large)
    whole_a, whole_b = whole_bytes(small), whole_bytes(large)
    step = PROBE_N[1] - PROBE_N[0]
    parts = []
    for name in dict.fromkeys([*b, *a]):
        if name in ("audit", "wave"):  # sized at n below (a stride, a wave's cap)
            continue
        per = max(0.0, (b.get(name, 0) - a.get(name, 0)) / step)
        fixed = max(0.0, a.get(name, 0) - per * PROBE_N[0])
        whole = min(per, max(0.0, (whole_b.get(name, 0) - whole_a.get(name, 0)) / step))
        parts.append(Part(name, LABELS.get(name, f"{name} module"), fixed, per, whole=whole))
    log = _audit_log(scenario, n)
    audit = _buffer_bytes(log, large.graph.max_degree, len(large.components))
    parts.append(Part("audit", LABELS["audit"], audit, 0.0))
    parts.append(Part("wave", LABELS["wave"], _wave_bytes(n, large.rec), 0.0))
    keeps_own = not checkpoints and keeps_own_possible(scenario.network.kind, large.modules)
    if keeps_own and n_ranks > 1:
        parts.append(_halo(scenario, n_ranks))
        if huge_pages():  # about one more page for the two ends of each array's share
            edges = share_rows(large, n, HUGE_FROM) * HUGE_PAGE
            parts.append(Part("edges", LABELS["edges"], edges, 0.0))
    del small, large
    event_bytes = _pilot_events(scenario) if pilot else 0.0  # per audited citizen and day
    kept = event_bytes * log.size * days  # over ranks, all gathered to rank 0 at the end
    parts.append(Part("events", LABELS["events"], kept, 0.0))
    gc.collect()
    parts.append(Part("process", LABELS["process"], resident(), 0.0, "process"))
    if n_ranks > 1:
        parts.append(Part("rank", LABELS["rank"], RANK_FIXED, 0.0, "process"))
    fixed = WRITE_FIXED + WRITE_EVENTS * kept
    write = Part("write", LABELS["write"], fixed, WRITE_PER_CITIZEN, "transient")
    parts.append(write)
    if checkpoints:  # scsim.checkpoint_writer: the state's blocks, but the network's
        copied = [p for p in parts if p.kind == "state" and p.name != "network"]
        fixed, per = sum(p.fixed for p in copied), sum(p.per_citizen for p in copied)
        parts.append(Part("checkpoint", LABELS["checkpoint"], fixed, per, "transient"))
    memory = available_memory() if available is None else available
    return Plan(scenario.name, n, days, parts, memory, n_ranks=n_ranks, keeps_own=keeps_own)


HALO_BYTES = 16
"""Bytes a rank holds per citizen of its halo: its id among those it takes and among those
another rank asks of it (uint32 each, ``scsim.ranks.Halo``) and the day's send and receive
buffers of a 4-byte row (``Ranks._halo_row``)."""


def _halo(scenario: Scenario, n_ranks: int) -> Part:
    """The halo of the largest of ``n_ranks`` ranks on a Watts-Strogatz network: each citizen
    has about k x p ties off the ring to uniformly random citizens, so a rank of n / R citizens
    is tied to a share 1 - exp(-k p / R) of the others (and to k / 2 ring neighbours at each
    end of its range)."""
    net = scenario.network
    reached = (1 - 1 / n_ranks) * (1 - math.exp(-net.k * net.rewire_prob / n_ranks))
    per = HALO_BYTES * reached
    return Part("halo", LABELS["halo"], HALO_BYTES * net.k, per, whole=per)


def _wave_bytes(n: int, rec: np.ndarray) -> float:
    """Bytes of the block records one process holds for ``n`` citizens (``Ranks.passes``:
    those of a wave of blocks, at most ``WAVE_BLOCKS``), from a build's (``rec``)."""
    from scsim.ranks import WAVE_BLOCKS

    return min(-(-n // BLOCK), WAVE_BLOCKS) * rec[0].nbytes


def _audit_log(scenario: Scenario, n: int) -> Any:
    """The audit sample's ``EventLog`` of a run of ``n`` citizens, not allocated."""
    from scsim.events import EventLog

    return EventLog(n, scenario.output.audit_sample, -(-n // BLOCK), scenario.days)


def _buffer_bytes(log: Any, max_degree: int, n_components: int) -> float:
    """Bytes of the audit sample's buffers (``EventLog.shapes``), without allocating them."""
    shapes = log.shapes(max_degree, n_components).values()
    return float(sum(math.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in shapes))


def _pilot_events(scenario: Scenario) -> float:
    """Bytes of kept events per audited citizen and day, from a short run of the small probe
    (its kernel compiled, or loaded from the cache, as the real run's will be)."""
    from scsim.engine import Sim

    if scenario.output.audit_sample <= 0:
        return 0.0
    days = min(PILOT_DAYS, scenario.days)
    sim = Sim(_resized(scenario, PROBE_N[0], days), comm=SerialComm()).run()
    kept = sum(c.nbytes for c in sim.events._chunks)
    return kept / max(1, sim.events.size * days)


def lower_bound(
    scenario: Scenario, n: int, available: int | None = None, n_ranks: int = 1
) -> Plan:
    """A plan with only what any run of ``n`` citizens must hold (score buffers, one score
    component, the network's offsets and mean ties, the audit sample), built from the scenario
    alone: instant, for refusing a size far beyond the machine before anything is built. Over
    ``n_ranks`` ranks, the largest's: on a Watts-Strogatz network each may keep only its own
    citizens but the published scores."""
    network = scenario.network
    ties = getattr(network, "k", 0) or getattr(network, "friends_k", 0)
    if network.kind == "watts-strogatz":  # held by its ring at scale: only rewired ties listed
        ties *= network.rewire_prob
    audit = _buffer_bytes(_audit_log(scenario, n), 0, 1)
    parts = [
        Part("scores", LABELS["scores"], 0.0, 8 + 4, whole=8),
        Part("network", LABELS["network"], 0.0, 8 + 4 * ties, whole=0),
        Part("audit", LABELS["audit"], audit, 0.0),
    ]
    memory = available_memory() if available is None else available
    keeps_own = network.kind == "watts-strogatz"
    return Plan(scenario.name, n, scenario.days, parts, memory, True, n_ranks, keeps_own)
