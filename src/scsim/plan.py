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

``available_memory()`` is what this process may use: the smaller of the container's limit
(cgroup) and the memory the kernel reports available.
"""

from __future__ import annotations

import gc
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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
HEADROOM = 0.9
"""Share of the available memory a run may plan for. The estimate was 8 % below the measured
peak of china-2020 at 4 M citizens and 11 % below at 70 M (20.8 GB planned, 23.4 GB measured;
bench/README.md, session 17), most of it a catalogue rebuilt beside the old one on the mandate's
day (since fixed: 3 % below at 4 M); without the margin, a run planned near the limit would not
fit."""
MEMORY_ENV = "SCSIM_MEMORY"
"""Environment variable: the memory scsim may plan for, instead of what the machine has."""


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

    def at(self, n: int) -> float:
        return self.fixed + n * self.per_citizen


@dataclass
class Plan:
    """A run's memory estimate by part, for ``n`` citizens over ``days`` days."""

    scenario: str
    n: int
    days: int
    parts: list[Part]
    available: int
    bound: bool = False
    """Only a lower bound (``lower_bound``): what any run of this size must hold."""

    def total(self, kind: str, n: int | None = None) -> float:
        return sum(self.added(p, n) for p in self.parts if p.kind == kind)

    def added(self, part: Part, n: int | None = None) -> float:
        """Bytes ``part`` adds to the peak at ``n`` citizens (default: the plan's): the writing
        of results only what the network, freed before it (``Sim.release_network``), does not
        give back."""
        n = self.n if n is None else n
        if part.name != "write":
            return part.at(n)
        network = sum(p.at(n) for p in self.parts if p.name == "network")
        return max(0.0, part.at(n) - network)

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

    def ranks(self) -> float:
        """Processes of this machine's size that would hold the run (each holds the process
        part and its share of the rest), as one population split over MPI ranks would."""
        own = self.total("process")
        room = self.usable - own
        if room <= 0:
            return math.inf
        return max(1, math.ceil((self.peak - own) / room))

    def refusal(self) -> str:
        """Why the run is refused, with the estimate and what would hold it."""
        ranks = self.ranks()
        need = "at least" if self.bound else "about"
        hold = (
            f"{ranks} processes with this much memory each (MPI ranks) would hold it"
            if ranks != math.inf
            else "no number of processes of this size would hold it"
        )
        fit = "at most" if self.bound else "about"
        return (
            f"population.n: {self.n:,} citizens of {self.scenario} over {self.days} days need "
            f"{need} {gib(self.peak)} of memory (scsim plan {self.scenario} --n {self.n} shows "
            f"the parts); this machine has {gib(self.available)} available, of which a run "
            f"plans for {HEADROOM * 100:.0f} % (the estimate's margin); {hold}, or choose a "
            f"smaller --n ({fit} {self.largest_n():,} citizens fit)"
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
        return [
            {
                "part": p.label,
                "kind": p.kind,
                "bytes_per_citizen": p.per_citizen,
                "bytes": self.added(p),
            }
            for p in self.parts
        ]


def gib(nbytes: float) -> str:
    """Bytes as people read them: 812 MB, 6.4 GB, 1.2 TB (powers of 1 000)."""
    for size, unit in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB")):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{nbytes / 1e3:.3g} kB"


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def available_memory() -> int:
    """Bytes this process may use: ``SCSIM_MEMORY`` when set (plan for a share of a shared
    machine), else the smaller of the cgroup limit and MemAvailable."""
    if os.environ.get(MEMORY_ENV):
        try:
            return parse_bytes(os.environ[MEMORY_ENV])
        except ValueError:
            raise ValueError(
                f"{MEMORY_ENV}: {os.environ[MEMORY_ENV]!r} is not a size; expected a number of "
                "bytes with a unit, such as 24GB, 512MiB or 1.5TB"
            ) from None
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except OSError:
        candidates.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    limit = _cgroup_limit()
    if limit is not None:
        candidates.append(limit)
    return min(candidates)


def resident() -> int:
    """This process's resident memory now, in bytes."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak so far
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _arrays(value: Any) -> list[np.ndarray]:
    """The arrays a module attribute holds (an array, or a dict, list or tuple of them)."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, np.ndarray)]
    return []


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
}


def arrays_by_part(sim: Any) -> dict[str, dict[str, np.ndarray]]:
    """Every buffer a built Sim holds, once (a view as the array it views), by part ("scores",
    "network", each module's name, "records", "wave", "audit") and name (a module attribute
    holding several: ``name[k]``)."""
    seen: set[int] = set()
    parts: dict[str, dict[str, np.ndarray]] = {}

    def take(part: str, named: dict[str, np.ndarray]) -> None:
        for name, a in named.items():
            root = _root(a)
            if id(root) not in seen:
                seen.add(id(root))
                parts.setdefault(part, {})[name] = root

    scores = {"packed": sim.packed, "parts": sim.parts, "public": sim.public}
    take("scores", {k: a for k, a in scores.items() if a is not None})
    take("network", {k: a for k, a in vars(sim.graph).items() if isinstance(a, np.ndarray)})
    for name, a in sim.people.fields.items():
        take(sim.field_owner.get(name, "population"), {name: a})
    for m in sim.modules:
        for key, value in vars(m).items():
            if key not in ("sim", "params"):
                take(m.name, {f"{key}[{k}]": a for k, a in enumerate(_arrays(value))})
    take("records", {"records": sim.records, "histograms": sim.histograms, "hist": sim.hist})
    take("wave", {"rec": sim.rec})
    ev = sim.events
    take("audit", {"buffer": ev.buffer, "score_by_day": ev.score_by_day,
                   "parts_by_day": ev.parts_by_day})  # fmt: skip
    return parts


def measure(sim: Any) -> dict[str, int]:
    """Bytes each part of a built Sim holds, every buffer counted once (``arrays_by_part``)."""
    parts = arrays_by_part(sim)
    return {part: sum(a.nbytes for a in arrays.values()) for part, arrays in parts.items()}


def _resized(scenario: Scenario, n: int, days: int | None = None) -> Scenario:
    from scsim.scenario import validate

    data = scenario.model_dump(mode="json")
    data["population"]["n"] = n
    if days is not None:
        data["days"] = days
        data["timeline"] = [e for e in data.get("timeline", []) if e["day"] < days]
    return validate(data)


def estimate(
    scenario: Scenario, available: int | None = None, pilot: bool = True, checkpoints: bool = False
) -> Plan:
    """The memory a run of ``scenario`` will need, by part (see the module's docstring);
    without ``pilot``, no events are counted (the parts that need no kernel); with
    ``checkpoints``, the copy of the state a checkpoint is written from is counted."""
    from scsim.engine import Sim

    n, days = scenario.population.n, scenario.days
    form = "ring" if Sim(scenario).holds_ring() else "csr"  # the probes hold the run's form
    small, large = (
        Sim(_resized(scenario, size), network_form=form).build(compile_kernel=False)
        for size in PROBE_N
    )
    a, b = measure(small), measure(large)
    step = PROBE_N[1] - PROBE_N[0]
    parts = []
    for name in dict.fromkeys([*b, *a]):
        if name in ("audit", "wave"):  # sized at n below (a stride, a wave's cap)
            continue
        per = max(0.0, (b.get(name, 0) - a.get(name, 0)) / step)
        fixed = max(0.0, a.get(name, 0) - per * PROBE_N[0])
        parts.append(Part(name, LABELS.get(name, f"{name} module"), fixed, per))
    log = _audit_log(scenario, n)
    audit = _buffer_bytes(log, large.graph.max_degree, len(large.components))
    parts.append(Part("audit", LABELS["audit"], audit, 0.0))
    parts.append(Part("wave", LABELS["wave"], _wave_bytes(n, large.rec), 0.0))
    del small, large
    event_bytes = _pilot_events(scenario) if pilot else 0.0  # per audited citizen and day
    kept = event_bytes * log.size * days
    parts.append(Part("events", LABELS["events"], kept, 0.0))
    gc.collect()
    parts.append(Part("process", LABELS["process"], resident(), 0.0, "process"))
    fixed = WRITE_FIXED + WRITE_EVENTS * kept
    write = Part("write", LABELS["write"], fixed, WRITE_PER_CITIZEN, "transient")
    parts.append(write)
    if checkpoints:  # scsim.checkpoint_writer: the state's blocks, but the network's
        copied = [p for p in parts if p.kind == "state" and p.name != "network"]
        fixed, per = sum(p.fixed for p in copied), sum(p.per_citizen for p in copied)
        parts.append(Part("checkpoint", LABELS["checkpoint"], fixed, per, "transient"))
    memory = available_memory() if available is None else available
    return Plan(scenario.name, n, days, parts, memory)


def _wave_bytes(n: int, rec: np.ndarray) -> float:
    """Bytes of the block records one process holds for ``n`` citizens (``Ranks.passes``:
    those of a wave of blocks, at most ``WAVE_BLOCKS``), from a build's (``rec``)."""
    from scsim.fusion import BLOCK
    from scsim.ranks import WAVE_BLOCKS

    return min(-(-n // BLOCK), WAVE_BLOCKS) * rec[0].nbytes


def _audit_log(scenario: Scenario, n: int) -> Any:
    """The audit sample's ``EventLog`` of a run of ``n`` citizens, not allocated."""
    from scsim.events import EventLog
    from scsim.fusion import BLOCK

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
    sim = Sim(_resized(scenario, PROBE_N[0], days)).run()
    kept = sum(c.nbytes for c in sim.events._chunks)
    return kept / max(1, sim.events.size * days)


def lower_bound(scenario: Scenario, n: int, available: int | None = None) -> Plan:
    """A plan with only what any run of ``n`` citizens must hold (score buffers, one score
    component, the network's offsets and mean ties, the audit sample), built from the scenario
    alone: instant, for refusing a size far beyond the machine before anything is built."""
    network = scenario.network
    ties = getattr(network, "k", 0) or getattr(network, "friends_k", 0)
    if network.kind == "watts-strogatz":  # held by its ring at scale: only rewired ties listed
        ties *= network.rewire_prob
    audit = _buffer_bytes(_audit_log(scenario, n), 0, 1)
    parts = [
        Part("scores", LABELS["scores"], 0.0, 8 + 4),
        Part("network", LABELS["network"], 0.0, 8 + 4 * ties),
        Part("audit", LABELS["audit"], audit, 0.0),
    ]
    memory = available_memory() if available is None else available
    return Plan(scenario.name, n, scenario.days, parts, memory, bound=True)


def parse_bytes(text: str) -> int:
    """``24GB``, ``24 GiB``, ``512MB``, ``1.5TB`` or a number of bytes; ValueError otherwise."""
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?)b?", text.strip().lower())
    if match is None:
        raise ValueError(text)
    number, prefix, binary = match.groups()
    power = "kmgt".index(prefix) + 1 if prefix else 0
    value = float(number) * (1024 if binary else 1000) ** power
    if not value >= 1:
        raise ValueError(text)
    return int(value)
