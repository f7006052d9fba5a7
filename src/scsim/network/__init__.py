"""Contact networks as CSR graphs, built by deterministic numba kernels."""

import numpy as np

from scsim.network.graph import Graph, far_neighbours
from scsim.network.regional import regional_households
from scsim.network.watts_strogatz import watts_strogatz

__all__ = ["Graph", "build_network", "far_neighbours", "regional_households", "watts_strogatz"]


def build_network(spec, n: int, seed: int) -> tuple[Graph, dict[str, np.ndarray]]:
    """The graph a scenario's ``network:`` block describes, and the per-agent fields it
    assigns (``region`` and ``household`` for the regional generator)."""
    if spec.kind == "watts-strogatz":
        return watts_strogatz(n, spec.k, spec.rewire_prob, seed), {}
    if spec.kind == "regional":
        return regional_households(
            n, spec.region_shares, spec.household_mean, spec.friends_k, spec.long_tie_prob, seed
        )
    raise ValueError(f"network.kind: {spec.kind!r} is not implemented")
