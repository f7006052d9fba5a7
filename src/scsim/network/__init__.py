"""Contact networks as CSR graphs, built by deterministic numba kernels."""

import numpy as np

from scsim.network.graph import Graph, far_neighbours
from scsim.network.layered import layered_fields, layered_graph
from scsim.network.regional import regional_households
from scsim.network.ring import RingGraph
from scsim.network.watts_strogatz import watts_strogatz, watts_strogatz_ring

__all__ = [
    "Graph", "RingGraph", "build_network", "complete_network", "far_neighbours", "layered_graph",
    "regional_households", "watts_strogatz", "watts_strogatz_ring",
]  # fmt: skip


def build_network(
    spec, n: int, seed: int, ring: bool = False, keep: tuple[int, int] | None = None
) -> tuple[Graph | RingGraph | None, dict[str, np.ndarray]]:
    """The graph a scenario's ``network:`` block describes, and the per-agent fields it
    assigns (``region`` and ``household`` for the regional and layered generators). The
    layered graph is ``None`` here: its work layer reads the population, so the engine builds
    it with ``complete_network`` once the population is drawn. With ``ring``, a Watts-Strogatz
    graph is held by its ring (``RingGraph``: the same graph, a sixth of the memory). With
    ``keep`` = (lo, hi), only those agents' rows (an MPI rank's own; Watts-Strogatz only)."""
    if spec.kind == "watts-strogatz":
        build = watts_strogatz_ring if ring else watts_strogatz
        return build(n, spec.k, spec.rewire_prob, seed, keep), {}
    if keep is not None:
        raise ValueError(f"network.kind: {spec.kind!r} builds every row, not a rank's own")
    if spec.kind == "regional":
        return regional_households(
            n, spec.region_shares, spec.household_mean, spec.friends_k, spec.long_tie_prob, seed
        )
    if spec.kind == "layered":
        return None, layered_fields(spec, n, seed)
    raise ValueError(f"network.kind: {spec.kind!r} is not implemented")


def complete_network(spec, graph: Graph | None, people, seed: int) -> Graph:
    """The finished graph: ``graph`` itself, or the layered graph on the drawn population."""
    if graph is not None:
        return graph
    occupation = people.fields.get("occupation")
    return layered_graph(spec, people.n, seed, people.region, people.household, occupation)
