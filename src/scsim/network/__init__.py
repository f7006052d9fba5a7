"""Contact networks as CSR graphs, built by deterministic numba kernels."""

from scsim.network.graph import Graph, far_neighbours
from scsim.network.watts_strogatz import watts_strogatz

__all__ = ["Graph", "build_network", "far_neighbours", "watts_strogatz"]


def build_network(spec, n: int, seed: int) -> Graph:
    """The graph a scenario's ``network:`` block describes."""
    if spec.kind == "watts-strogatz":
        return watts_strogatz(n, spec.k, spec.rewire_prob, seed)
    raise ValueError(f"network.kind: {spec.kind!r} is not implemented")
