"""Sim: builds a population, its network and modules, then runs the synchronous day loop.

Day loop (one fused parallel pass per day, see ``scsim.fusion``). First the scenario's timeline
puts the day's parameter changes in force (``scsim.timeline``; modules' ``update``, never a new
kernel). Then, for every agent, reading only yesterday's state:

1. behaviour modules draw today's acts (finance, purchases, infractions, speech, courts) and
   return score deltas; negative deltas of offence modules are today's records of misconduct
   (before them, with a memory, every score component fades by its daily factor)
2. scoring adds the friends terms (pull towards neighbours' mean, penalties per sanctioned,
   listed or offending neighbour) and handles expiry of records
3. the engine clips score + deltas to the score range; every delta, and what the clip removed,
   is added to its score component (one array per component)
4. lists react to the new score and records, then sanctions and perks react to the lists;
   with citizens outside the system (``enrolled`` false), these hooks skip them
5. the new score and the public flags (sanctioned, listed, offended) go to the other buffer;
   an audited citizen's score and components go to the audit log

The pass runs in waves of blocks (``Ranks.passes``); after each, its per-block records are added
in block order to the day's (bit-identical for any thread count or wave size). Then the buffers
swap, the audit sample's events are collected, and each module
finishes its day (e.g. delivering misattributed records). Under ``mpiexec`` each rank runs its
own blocks, and ``scsim.ranks`` makes every rank's state and records those of one process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from scsim.day_runner import check_signature, signature_of
from scsim.events import EventLog
from scsim.extensions import module_class
from scsim.fusion import BLOCK, Hooks, fused_kernel, kernel_source, per_agent_arrays
from scsim.host_accessors import HostAccessors
from scsim.kernels.blocks import region_spans
from scsim.kernels.debug import trace_citizen
from scsim.modules import REGISTRY
from scsim.mpi import SerialComm, world
from scsim.network import RingGraph, build_network, complete_network
from scsim.population import People
from scsim.protocol import PHASES, Module, Record
from scsim.protocol.declare import place_events, place_records
from scsim.ranks import Ranks, keeping_ranks
from scsim.scenario import Scenario
from scsim.timeline import Timeline

ENGINE_RECORDS = (Record("score_sum", "sum of citizens' scores", "points", "measure"),)
BOUND = "bound"
"""The score component holding what the score range clipped off."""
NETWORK_FORMS = ("auto", "csr", "ring")
RING_FROM = 20_000_000
"""Citizens from which "auto" holds a Watts-Strogatz network by its ring: its CSR form is then
2 GB or more (k = 20), and the ring's slower gather (1.1-1.5 times the CSR's at 10 M citizens,
bench/ring_gather.py) buys a sixth of the memory."""
GATED_PHASES = ("lists", "sanctions")
"""Phases whose hooks (the system's reactions: lists, sanctions, perks) skip unenrolled
citizens."""


class Sim(HostAccessors):
    """One simulation of a scenario. ``build()`` then ``run()``; results stay in arrays (the
    accessors modules use: ``HostAccessors``)."""

    def __init__(
        self,
        scenario: Scenario,
        python: bool = False,
        comm: SerialComm | None = None,
        network_form: str = "auto",
        keep_own: bool = False,
    ) -> None:
        if network_form not in NETWORK_FORMS:
            raise ValueError(f"network_form: {network_form!r}; expected one of {NETWORK_FORMS}")
        self.network_form = network_form
        """How a Watts-Strogatz network is held: "csr", "ring" (``scsim.network.ring``: the same
        graph and results, a sixth of the memory) or "auto" (the ring from ``RING_FROM``
        citizens); a module that edits ties keeps the CSR form."""
        self.scenario = scenario
        self.python = python
        """Run the day in plain Python (``scsim.kernels.debug``): slow, for a debugger."""
        self.comm = comm
        """The MPI ranks sharing the run (``scsim.mpi.world()`` when not given)."""
        self.keep_own = keep_own
        """Over several MPI ranks, build and keep only this rank's citizens and their ties
        when the day's exchange is a halo (``Ranks.keeps_own``); it cannot then be saved."""
        self.n = scenario.population.n
        self.days = scenario.days
        self.seed = scenario.seed
        self.score_range = tuple(scenario.modules.scoring.range)
        self.config = scenario.modules
        """The modules block in force today (the timeline changes it)."""
        self.timings: dict[str, float] = {}
        self.day = 0
        """Days run so far (the next day to run)."""
        self.built = False

    def build(self, compile_kernel: bool = True) -> Sim:
        """Generate people and network, initialise modules, load or compile the fused kernel
        (without ``compile_kernel``, only decide what it is: ``kernel_source``)."""
        t0 = time.perf_counter()
        self.people_and_network()
        for m in self.modules:  # may widen the graph (shunning's spare slots)
            if not m.makes_people:
                self._init_module(m)
        self.split_over_ranks()
        enrolled = self.people.fields.get("enrolled")
        self.gated = enrolled is not None and not enrolled.all()
        self.record_specs = place_records(self.modules, ENGINE_RECORDS)
        self.record_names = [r.name for r in self.record_specs]
        self.event_kinds = place_events(self.modules)
        self.components = [m.component for m in self.modules if m.component] + [BOUND]
        self._allocate()
        if self.people.kept is not None:
            self.ranks.share_start(self)  # the halo's initial published state and fields
            self.network_bytes = self.ranks.network_bytes(self.graph)
        self.timings["build_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # arrays the kernel reads or prefetches itself, then each module's per-agent fields once
        own = [*self.packed, self.parts, *(self.public if self.public is not None else ())]
        own += [self.region] if self.region is not None else []
        own += [self.people.enrolled] if self.gated else []
        seen = {a.ctypes.data for a in own}
        streams = [
            per_agent_arrays(m.kernel_fields(), m.kernel_args(0, check=True), self.n, seen)
            for m in self.modules
        ]
        self.kernel_flags = (
            self.n_regions > 1, self.public is not None, self.gated,
            self.graph.active is not None, bool((self.keep < 1).any()),
            isinstance(self.graph, RingGraph),
        )  # fmt: skip
        self._link(streams, compile_kernel)
        if compile_kernel:
            self.timings["jit_s"] = time.perf_counter() - t0
        return self

    def people_and_network(self) -> Sim:
        """The first part of ``build`` (a checkpoint that left the network out calls it)."""
        self.people = People(self.n, self.seed)
        self.timeline = Timeline(self.scenario)
        self.modules = self._make_modules()
        spec, keep = self.scenario.network, None
        if getattr(self, "keep_own", False):
            self.ranks = keeping_ranks(self.comm or world(), self.n, spec.kind, self.modules)
            if self.ranks is not None:
                keep = (self.ranks.lo, self.ranks.hi)
                self.people.keep(*keep)
        graph, fields = build_network(spec, self.n, self.seed, self.holds_ring(), keep)
        for name, values in fields.items():
            self.people.add(name, values)
        self.field_owner = dict.fromkeys(fields, "network")
        """Who added each people field (a module's name, or "network")."""
        for m in self.modules:  # who the citizens are, before a network that reads it
            if m.makes_people:
                self._init_module(m)
        self.graph = complete_network(self.scenario.network, graph, self.people, self.seed)
        self.graph_from_seed = True
        """Whether ``graph`` is the network the seed makes (no module replaced it)."""
        return self

    def holds_ring(self) -> bool:
        """Whether the network is, or will be, held by its ring (``network_form``)."""
        if self.scenario.network.kind != "watts-strogatz":
            return False
        modules = getattr(self, "modules", None) or self._make_modules()
        if any(m.edits_ties for m in modules):
            return False
        return self.network_form == "ring" or (self.network_form == "auto" and self.n >= RING_FROM)

    def split_over_ranks(self) -> None:
        """Give each MPI rank its blocks of citizens; ``ValueError`` names what cannot split."""
        if self.people.kept is None:  # else split before the build (``keeping_ranks``)
            self.ranks = Ranks(self.comm or world(), self.graph, self.n)
        self.ranks.refuse(self.modules)
        self.ranks.plan_halo(self.graph, self.modules)

    def _init_module(self, m: Module) -> None:
        before = set(self.people.fields)
        m.allocate()
        m.init()
        self.field_owner.update({k: m.name for k in self.people.fields if k not in before})

    def _link(self, streams: list[tuple], compile_kernel: bool = True) -> None:
        """Make the hooks of the modules (``streams``: each one's prefetched per-agent arrays)
        and load or compile the fused kernel for the arguments of the day to run next (after
        ``build``, or after a checkpoint is loaded: ``scsim.checkpoint``)."""
        self.hooks = [
            Hooks(
                m.name, m.kernel_fields(), m.delta, m.after,
                self.components.index(m.component) if m.component else -1,
                m.offence, m.phase == "scoring", m.phase in GATED_PHASES and m.gated, s,
            )
            for m, s in zip(self.modules, streams, strict=True)
        ]  # fmt: skip
        if not compile_kernel:
            return
        self.kernel = fused_kernel(self.hooks, *self.kernel_flags, python=self.python)
        args = self._kernel_args(min(self.day, self.days - 1), check=True)
        self.signature = signature_of(args)
        self.kernel.compile(self.signature)
        self.built = True

    def __getstate__(self) -> dict:
        """The state a checkpoint keeps: all but the kernel and the hooks, which ``_link``
        makes again (``scsim.checkpoint``)."""
        state = dict(self.__dict__)
        for name in ("kernel", "hooks", "signature", "ranks", "comm", "rec"):
            state.pop(name, None)
        state["_streams"] = [h.streams for h in self.__dict__.get("hooks", ())]
        state["_kernel"] = getattr(self.__dict__.get("kernel"), "name", None)
        return state

    def _allocate(self) -> None:
        lo, hi = self.score_range
        n_blocks = -(-self.n // BLOCK)
        bins = self.scenario.output.histogram_bins
        self.region = self.people.fields.get("region")
        self.n_regions = self.region_sizes().size
        own = self.people.own
        self.packed = np.zeros((2, self.n), dtype=np.float32)  # pages beyond ``own`` untouched
        self.packed[0, own[0] : own[1]] = self.scenario.modules.scoring.initial
        self.public = (
            np.zeros((2, self.n), dtype=np.uint8)
            if any(m.reads_public for m in self.modules)
            else None
        )
        self.current = 0
        self.parts = np.zeros((len(self.components), self.n), dtype=np.float32)
        self.keep = self.scenario.modules.scoring.keep(self.components)
        self.bin_edges = np.linspace(lo, hi, bins + 1)
        self.records = np.zeros((self.days, self.n_regions, len(self.record_names)))
        self.spans = region_spans(self.region, self.n, BLOCK)
        self.make_record_buffer()
        self.hist = np.zeros((n_blocks, bins), dtype=np.int32)
        self.histograms = np.zeros((self.days, bins), dtype=np.int64)
        self.events = EventLog(self.n, self.scenario.output.audit_sample, n_blocks, self.days)
        self.events.allocate(self.ranks.largest(self.graph.max_degree), len(self.components))

    def make_record_buffer(self) -> None:
        """The records of the blocks of one pass (``Ranks.passes``), folded after it: made
        again after a checkpoint is loaded, since the passes depend on the ranks."""
        rows = max(end - first for first, end in self.ranks.passes)
        self.rec = np.zeros((rows, *self.records.shape[1:]))

    def _make_modules(self) -> list[Module]:
        extensions = self.scenario.extensions
        chosen = [
            module_class(name, extensions)(params, self)
            for name, params in self.scenario.modules
            if params is not None and params.enabled
        ]
        order = {name: k for k, name in enumerate(REGISTRY)}  # modules of one's own last
        return sorted(
            chosen, key=lambda m: (PHASES.index(m.phase), order.get(m.name, len(order)), m.name)
        )

    def _kernel_args(self, day: int, check: bool = False) -> tuple:
        lo, hi = self.score_range
        g = self.graph
        inv_bin_width = (len(self.bin_edges) - 1) / (hi - lo)
        public = self.public if self.public is not None else np.zeros((2, 1), dtype=np.uint8)
        region = self.region if self.region is not None else np.zeros(1, dtype=np.uint16)
        return (
            day, *g.kernel_arrays(),
            self.packed[self.current], self.packed[1 - self.current],
            public[self.current], public[1 - self.current], region, self.events.stride,
            self.parts, np.float32(lo), np.float32(hi), np.float32(inv_bin_width),
            self.rec, np.int64(0), self.spans, self.hist, self.events.buffer,
            self.events.score_by_day, self.events.parts_by_day, self.keep,
            *((self.people.enrolled,) if self.gated else ()),
            *chain.from_iterable(m.kernel_args(day, check) for m in self.modules),
        )  # fmt: skip

    def step(self, day: int) -> None:
        """Advance every agent by one day."""
        changed = self.timeline.apply(self, day)
        args = self._kernel_args(day, check=changed)
        if changed:
            check_signature(self.signature, args, day)
        for first, end in self.ranks.passes:
            self.kernel(*args, blocks=(first, end), rec_first=first)
            self.ranks.fold(self.rec[: end - first], self.records[day], first, self.spans)
        self.current = 1 - self.current
        self.ranks.share_day(self)
        self.ranks.add_histograms(self.hist, self.histograms[day])
        self.events.collect(self.ranks.blocks)
        for m in self.modules:
            m.finish(day)
        self.day = day + 1

    def run(self, on_day: Callable[[int], None] | None = None) -> Sim:
        """Run the days of the scenario not run yet; ``on_day(day)`` is called after each."""
        if not self.built:
            self.build()
        t0 = time.perf_counter() - self.timings.get("step_s", 0.0)  # a resumed run's too
        first = self.day
        for day in range(self.day, self.days):
            self.step(day)
            self.timings["step_s"] = time.perf_counter() - t0
            if on_day is not None:
                on_day(day)
        if self.day == self.days > first:
            self.ranks.share_end(self)
        self.timings["step_s"] = time.perf_counter() - t0
        return self

    def save_checkpoint(self, path: str | Path) -> int:
        """Write the complete state of this run after the days run so far to the file
        ``path``, atomically (``scsim.checkpoint``); return its size in bytes. Over several
        MPI ranks every rank calls it and rank 0 writes one process's state (0 elsewhere)."""
        from scsim.checkpoint import capture, write_state

        if self.people.kept is not None:
            raise RuntimeError("a run whose ranks keep only their own citizens cannot be saved")
        with self.ranks.whole(self):
            return write_state(capture(self), Path(path)) if self.ranks.comm.rank == 0 else 0

    @staticmethod
    def load_checkpoint(path: str | Path) -> Sim:
        """The run saved by ``save_checkpoint``, ready to ``run`` its remaining days."""
        from scsim.checkpoint import read_state

        return read_state(Path(path), Sim._people_and_network_of)

    @staticmethod
    def _people_and_network_of(scenario: Scenario, form: str) -> Sim:
        """A Sim of ``scenario`` with only its people and its network (held in ``form``)."""
        return Sim(scenario, network_form=form).people_and_network()

    def release_network(self) -> None:
        """After the last day: free the network and what modules keep of it for the pass (the
        results never read them), so that writing the results reuses its memory (``scsim run``
        at scale; ``scsim.plan``). The Sim cannot step or be traced after this."""
        self.network_bytes = self.network_nbytes()
        self.graph = None
        for m in self.modules:
            m.release()

    def network_nbytes(self) -> int:
        """Bytes of the network as one process holds it (ranks that built only their own rows
        added up their ties in ``build``; ``release_network`` keeps the figure)."""
        whole = self.graph is not None and self.people.kept is None
        return self.graph.nbytes if whole else self.network_bytes

    @property
    def state_bytes(self) -> int:
        """Bytes of per-agent state: people's fields, graph, score buffers, components, flags."""
        public = self.public.nbytes if self.public is not None else 0
        network = self.network_nbytes()
        return self.people.nbytes + network + self.packed.nbytes + self.parts.nbytes + public

    @property
    def score(self) -> np.ndarray:
        """Every agent's current score (float32 copy)."""
        return np.abs(self.packed[self.current])

    @property
    def sanctioned(self) -> np.ndarray:
        """Agents visibly sanctioned on the coming day."""
        return np.signbit(self.packed[self.current])

    def kernel_source(self, python: bool = False) -> str:
        """The source of this Sim's fused kernel (``python``: of its plain-Python twin)."""
        return kernel_source(self.hooks, *self.kernel_flags, python=python)

    def trace(self, citizen: int, day: int) -> dict[str, Any]:
        """What each module did to ``citizen`` on ``day``: the scenario run afresh to the
        evening of ``day - 1`` (compiled), then ``day`` in plain Python for ``citizen`` alone
        (``scsim.kernels.debug``). Returns ``{"citizen", "day", "score_before", "score",
        "view", "steps": [{"module", "hook", "value", "records"}]}`` (``view``: the agent view
        the hooks read; ``value``: a delta's score change or an after hook's public flags;
        ``records``: name -> what the hook added)."""
        return trace_citizen(self, citizen, day)
