"""The engine as a module reaches it (``scsim.protocol.Host``): the accessors ``Sim`` offers
over its own arrays, so modules never touch the kernel's buffers."""

from __future__ import annotations

from typing import Any

import numpy as np

from scsim import order_stats
from scsim.protocol import Module


class HostAccessors:
    """``scsim.engine.Sim``'s side of ``scsim.protocol.Host``: the published state, records,
    score components, the ranks' sums and the network swap, over the Sim's attributes."""

    packed: np.ndarray
    public: np.ndarray | None
    current: int
    records: np.ndarray
    record_names: list[str]
    parts: np.ndarray
    components: list[str]
    modules: list[Module]
    people: Any
    ranks: Any
    graph: Any
    built: bool
    n: int

    def published_scores(self, yesterday: bool = False) -> np.ndarray:
        """Scores as neighbours read them (magnitude = score, sign bit = visibly sanctioned):
        after the day's pass (in ``finish``), or before it with ``yesterday``. Read-only."""
        return self.packed[1 - self.current if yesterday else self.current]

    def published_flags(self, yesterday: bool = False) -> np.ndarray | None:
        """Public flag bytes (``scsim.protocol.flags``) as published, like
        ``published_scores``; None when no module reads them."""
        if self.public is None:
            return None
        return self.public[1 - self.current if yesterday else self.current]

    def day_records(self, day: int) -> np.ndarray:
        """The records of ``day`` (regions x columns), for a module's serial ``finish`` to
        complete its own columns (``Module.column``)."""
        return self.records[day]

    def add_over_ranks(self, counts: np.ndarray) -> np.ndarray:
        """Integer-valued counts of a module's citizens added over the MPI ranks when each
        keeps only its own citizens (``keep_own``); else they are every citizen's already."""
        return counts if self.people.kept is None else self.ranks.add_counts(counts)

    def region_sizes(self) -> np.ndarray:
        """Citizens of each region (``people.region``; one region of everyone without it),
        every rank's counted (a rank that keeps its own citizens knows only their regions)."""
        sizes = getattr(self, "_region_sizes", None)
        if sizes is None:
            region = self.people.fields.get("region")
            if region is None:
                sizes = np.array([self.n], dtype=np.int64)
            else:
                lo, hi = self.people.own
                top = int(region[lo:hi].max()) if hi > lo else 0
                top = top if self.people.kept is None else self.ranks.largest(top)
                sizes = self.add_over_ranks(np.bincount(region[lo:hi], minlength=top + 1))
            self._region_sizes = sizes
        return sizes

    def median_over_ranks(
        self, values: np.ndarray, fewest: int = 1, otherwise: float = 1.0
    ) -> float:
        """``np.median`` of a module's citizens' ``values``, over the MPI ranks when each keeps
        only its own citizens (``scsim.order_stats``: exact); ``otherwise`` when there are
        fewer than ``fewest``."""
        if self.people.kept is None:
            return float(np.median(values)) if values.size >= fewest else otherwise
        add = self.ranks.add_counts
        if add(np.array([values.size], dtype=np.int64))[0] < fewest:
            return otherwise
        return order_stats.median(values, add)

    def quantiles_over_ranks(self, values: np.ndarray, qs: np.ndarray) -> np.ndarray:
        """``np.quantile`` of a module's citizens' float64 ``values`` at ``qs``, over the MPI
        ranks like ``median_over_ranks``."""
        if self.people.kept is None:
            return np.quantile(values, qs)
        return order_stats.quantiles(values, qs, self.ranks.add_counts)

    def block_rows(self, buffer: np.ndarray) -> np.ndarray:
        """The rows every block of the day's pass wrote to a module's per-block ``buffer``
        (``scsim.kernels.blocks.block_rows``), in block order, over every MPI rank."""
        return self.ranks.rows(buffer)

    def replace_graph(self, graph: object) -> None:
        """Swap in an edited graph of the same citizens (before the kernel is built)."""
        if self.built:
            raise RuntimeError("the graph can only be replaced before the kernel is built")
        if graph.indptr.size != self.n + 1:
            raise ValueError(f"the new graph has {graph.indptr.size - 1} citizens, not {self.n}")
        self.graph = graph
        self.graph_from_seed = False

    def record(self, name: str) -> np.ndarray:
        """One record column over the days run so far, summed over regions."""
        return self.records[:, :, self.record_names.index(name)].sum(axis=1)

    def record_by_region(self, name: str) -> np.ndarray:
        """One record column, days x regions."""
        return self.records[:, :, self.record_names.index(name)]

    def component(self, name: str) -> np.ndarray:
        """Every agent's score component ``name`` (a view)."""
        return self.parts[self.components.index(name)]

    def module(self, name: str) -> Module:
        """The enabled module called ``name``."""
        for m in self.modules:
            if m.name == name:
                return m
        raise KeyError(f"module {name!r} is not enabled in this scenario")
