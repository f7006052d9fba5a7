"""What a module sees of the engine: ``Host``, the accessors a module, the timeline and the
tools around them may use (``scsim.engine.Sim`` provides them). Modules type their ``sim``
with it, so the protocol does not depend on the engine that implements it."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Host(Protocol):
    """The engine as a module reaches it: sizes, the scenario in force, the people and the
    network, and the published state, never the kernel's own buffers."""

    n: int
    seed: int
    days: int
    scenario: Any
    config: Any
    """The modules block in force today (the timeline changes it)."""
    people: Any
    graph: Any
    score_range: tuple[float, float]
    region: np.ndarray | None
    n_regions: int
    events: Any
    timeline: Any

    def published_scores(self, yesterday: bool = False) -> np.ndarray: ...

    def published_flags(self, yesterday: bool = False) -> np.ndarray | None: ...

    def day_records(self, day: int) -> np.ndarray: ...

    def block_rows(self, buffer: np.ndarray) -> np.ndarray: ...

    def add_over_ranks(self, counts: np.ndarray) -> np.ndarray: ...

    def median_over_ranks(
        self, values: np.ndarray, fewest: int = 1, otherwise: float = 1.0
    ) -> float: ...

    def region_sizes(self) -> np.ndarray: ...

    def quantiles_over_ranks(self, values: np.ndarray, qs: np.ndarray) -> np.ndarray: ...

    def replace_graph(self, graph: Any) -> None: ...

    def record(self, name: str) -> np.ndarray: ...

    def record_by_region(self, name: str) -> np.ndarray: ...

    def module(self, name: str) -> Any: ...
