"""Sim: builds a population, its network and modules, then runs the synchronous day loop.

Day loop (one fused parallel pass per day, see ``scsim.fusion``). For every agent, reading only
yesterday's state:

1. behaviour modules draw today's acts (purchases, infractions, speech) -> score deltas
2. scoring adds the friends terms (pull towards neighbours' mean, penalty per sanctioned one)
3. the engine clips score + deltas to the score range
4. lists react to the new score, then sanctions (bans) react to the lists
5. the new score and "visibly sanctioned tomorrow" are written to the other buffer

After the pass the two score buffers swap, and the day's per-block records are summed in block
order (bit-identical for any thread count).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numba
import numpy as np

from scsim.fusion import BLOCK, fused_kernel
from scsim.modules import REGISTRY
from scsim.modules.base import PHASES, Module
from scsim.network import build_network
from scsim.population import People
from scsim.scenario import Scenario

ENGINE_RECORDS = ("score_sum",)


class Sim:
    """One simulation of a scenario. ``build()`` then ``run()``; results stay in arrays."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.n = scenario.population.n
        self.days = scenario.days
        self.seed = scenario.seed
        self.score_range = tuple(scenario.modules.scoring.range)
        self.timings: dict[str, float] = {}
        self.built = False

    def build(self) -> Sim:
        """Generate people and network, initialise modules, load or compile the fused kernel."""
        t0 = time.perf_counter()
        self.people = People(self.n, self.seed)
        self.graph, fields = build_network(self.scenario.network, self.n, self.seed)
        for name, values in fields.items():
            self.people.add(name, values)
        self.modules = self._make_modules()
        for m in self.modules:
            m.init()
        self.record_names = self._assign_records()
        lo, hi = self.score_range
        self.packed = np.empty((2, self.n), dtype=np.float32)
        self.packed[0] = self.scenario.modules.scoring.initial
        self.current = 0
        n_blocks = -(-self.n // BLOCK)
        bins = self.scenario.output.histogram_bins
        self.bin_edges = np.linspace(lo, hi, bins + 1)
        self.rec = np.zeros((n_blocks, len(self.record_names)), dtype=np.float64)
        self.hist = np.zeros((n_blocks, bins), dtype=np.int32)
        self.records = np.zeros((self.days, len(self.record_names)), dtype=np.float64)
        self.histograms = np.zeros((self.days, bins), dtype=np.int64)
        self.timings["build_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        self.kernel = fused_kernel(
            [(m.name, m.Args._fields, m.delta, m.after) for m in self.modules]
        )
        self.kernel.compile(tuple(numba.typeof(x) for x in self._kernel_args(0)))
        self.timings["jit_s"] = time.perf_counter() - t0
        self.built = True
        return self

    def _make_modules(self) -> list[Module]:
        chosen = [
            REGISTRY[name](params, self)
            for name, params in self.scenario.modules
            if params is not None and params.enabled
        ]
        order = {name: k for k, name in enumerate(REGISTRY)}
        return sorted(chosen, key=lambda m: (PHASES.index(m.phase), order[m.name]))

    def _assign_records(self) -> list[str]:
        names = list(ENGINE_RECORDS)
        for m in self.modules:
            m.col = len(names)
            names.extend(m.records)
        return names

    def _kernel_args(self, day: int) -> tuple:
        lo, hi = self.score_range
        g = self.graph
        inv_bin_width = (len(self.bin_edges) - 1) / (hi - lo)
        return (
            day, g.indptr, g.indices, g.far,
            self.packed[self.current], self.packed[1 - self.current],
            np.float32(lo), np.float32(hi), np.float32(inv_bin_width),
            self.rec, self.hist,
            *(field for m in self.modules for field in m.args(day)),
        )  # fmt: skip

    def step(self, day: int) -> None:
        """Advance every agent by one day."""
        self.rec.fill(0.0)
        self.hist.fill(0)
        self.kernel(*self._kernel_args(day))
        self.current = 1 - self.current
        self.records[day] = self.rec.sum(axis=0)
        self.histograms[day] = self.hist.sum(axis=0)

    def run(self, on_day: Callable[[int], None] | None = None) -> Sim:
        """Run every day of the scenario; ``on_day(day)`` is called after each day."""
        if not self.built:
            self.build()
        t0 = time.perf_counter()
        for day in range(self.days):
            self.step(day)
            if on_day is not None:
                on_day(day)
        self.timings["step_s"] = time.perf_counter() - t0
        return self

    @property
    def score(self) -> np.ndarray:
        """Every agent's current score (float32 copy)."""
        return np.abs(self.packed[self.current])

    @property
    def sanctioned(self) -> np.ndarray:
        """Agents visibly sanctioned on the coming day."""
        return np.signbit(self.packed[self.current])

    def record(self, name: str) -> np.ndarray:
        """One record column over the days run so far."""
        return self.records[:, self.record_names.index(name)]
